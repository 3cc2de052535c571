//! `claraverse`: the desktop app. Runs the built-in catalog, or the definitions file given
//! by `--config FILE` or the environment variable `CLARAVERSE_CONFIG`; `--hidden` starts it
//! in the tray (as a start at login does).

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;
use std::process::ExitCode;

use clara_supervisor::load::LoadOptions;
use clara_supervisor::migration::LegacyPaths;
use clara_supervisor::runtime::guard;
use claraverse_app::launch::{self, LaunchPlan, Launcher};
use tauri::Manager as _;
use tauri_plugin_window_state::StateFlags;

fn main() -> ExitCode {
    claraverse_app::note_launch();
    // This program doubles as the orphan guard of the services it starts.
    if let Some(code) = guard::run_if_requested() {
        return code;
    }
    if cfg!(target_os = "linux") {
        // Blank windows on some graphics stacks otherwise.
        for variable in [
            "WEBKIT_DISABLE_DMABUF_RENDERER",
            "WEBKIT_DISABLE_COMPOSITING_MODE",
        ] {
            if std::env::var_os(variable).is_none() {
                // SAFETY: no other thread runs yet.
                unsafe { std::env::set_var(variable, "1") };
            }
        }
    }
    let options = LoadOptions::for_this_machine();
    let state_dir = std::env::var_os("CLARAVERSE_STATE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| options.variables.default_state_dir());
    let hidden = std::env::args_os().any(|arg| arg == HIDDEN);
    let plan = LaunchPlan {
        config_file: config_file(),
        state_dir,
        options,
        earlier_app: LegacyPaths::of_this_user(),
        shipped_programs: None,
    };
    let level = std::env::var("CLARAVERSE_LOG")
        .ok()
        .and_then(|level| level.parse().ok())
        .unwrap_or(log::LevelFilter::Info);
    let log_plugin = tauri_plugin_log::Builder::new()
        .level(level)
        // The D-Bus library is chatty at info level.
        .level_for("zbus", log::LevelFilter::Warn)
        .level_for("tracing::span", log::LevelFilter::Warn)
        .targets([
            tauri_plugin_log::Target::new(tauri_plugin_log::TargetKind::LogDir { file_name: None }),
            tauri_plugin_log::Target::new(tauri_plugin_log::TargetKind::Stderr),
        ])
        .max_file_size(5 * 1024 * 1024)
        .rotation_strategy(tauri_plugin_log::RotationStrategy::KeepSome(5))
        .build();
    // The window's size and place are remembered; whether it was hidden is not (a quit
    // from the tray must not hide the next launch's window).
    let window_state = tauri_plugin_window_state::Builder::default()
        .with_state_flags(StateFlags::all() & !StateFlags::VISIBLE)
        .build();
    let app = claraverse_app::builder::<tauri::Wry>()
        // First: a second launch hands its arguments over and exits before anything else.
        .plugin(tauri_plugin_single_instance::init(|app, args, _cwd| {
            log::info!("another launch asked for the window (arguments: {args:?})");
            claraverse_app::desktop::show_window(app);
            let payload = claraverse_app::desktop::SecondLaunch { args };
            if let Err(error) = claraverse_app::contract::emit(app, payload) {
                log::warn!("cannot tell the window about the second launch: {error}");
            }
        }))
        .plugin(log_plugin)
        .plugin(window_state)
        // A start at login waits in the tray.
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![HIDDEN]),
        ))
        .setup(move |app| {
            let handle = app.handle().clone();
            // The programs the installer carries, beside the app's other resources.
            let plan = match app.path().resource_dir() {
                Ok(resources) => plan.with_shipped_programs(resources.join("programs")),
                Err(_) => plan,
            };
            app.manage(Launcher::new(plan));
            // Listen before anything starts: a signal must always mean a clean stop.
            listen_for_signals(handle.clone());
            claraverse_app::desktop::build_tray(&handle);
            claraverse_app::desktop::show_at_launch(&handle, hidden);
            // The engine spawns tasks: it starts inside the async runtime. A problem is
            // kept for the window, which shows it with Try again and Quit.
            tauri::async_runtime::block_on(async { launch::attempt(&handle) });
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(error) => {
            eprintln!("error: the window could not be created: {error}");
            return ExitCode::FAILURE;
        }
    };
    app.run(|handle, event| claraverse_app::on_run_event(handle, &event));
    ExitCode::SUCCESS
}

/// The argument that starts the app with its window hidden in the tray.
const HIDDEN: &str = "--hidden";

/// `--config FILE`, else `CLARAVERSE_CONFIG`, else none (the built-in catalog).
fn config_file() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.to_str().and_then(|a| a.strip_prefix("--config=")) {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("CLARAVERSE_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Tauri does not handle SIGTERM/SIGINT: they become a normal, clean exit here.
fn listen_for_signals(app: tauri::AppHandle) {
    // The handlers are installed here and now, not when the task first runs.
    #[cfg(unix)]
    let signals = tauri::async_runtime::block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        )
    });
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        {
            let (Ok(mut terminate), Ok(mut interrupt), Ok(mut hangup)) = signals else {
                log::warn!("cannot listen for signals: SIGTERM would skip the clean stop");
                return;
            };
            tokio::select! {
                _ = terminate.recv() => {}
                _ = interrupt.recv() => {}
                _ = hangup.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        log::info!("asked to quit by a signal");
        if let Some(window) = app.get_webview_window("main") {
            let _ = window.hide();
        }
        app.exit(0);
    });
}
