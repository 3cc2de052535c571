//! The desktop around the window: closing it (hide or quit), showing it again, the tray
//! with Show, the overall status and Quit, and notifications when a service fails or
//! recovers while nobody is looking.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Runtime, Window, WindowEvent};
use tokio::sync::watch;
use ts_rs::TS;

use crate::settings::{SettingsFile, keeps_running};

/// The tray's menu item that shows the overall status.
pub const STATUS_ITEM: &str = "status";

/// The label of the app's one window.
pub const MAIN_WINDOW: &str = "main";

/// `second-launch`: ClaraVerse was opened again, and this window was shown instead.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SecondLaunch {
    /// The arguments of the second launch.
    pub args: Vec<String>,
}

/// Whether the main window is shown: what runs only for people to see (the metrics) waits
/// while it is hidden.
static WINDOW_SHOWN: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::Sender::new(true));

/// Follows whether the main window is shown.
pub fn window_shown() -> watch::Receiver<bool> {
    WINDOW_SHOWN.subscribe()
}

/// Reacts to the main window: focus for notifications; a close either hides the window
/// (the services keep running, the tray brings it back) or quits after a clean stop.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    match event {
        WindowEvent::Focused(focused) => window_focused(*focused),
        WindowEvent::CloseRequested { api, .. } => {
            let app = window.app_handle();
            if keeps_running_when_closed(app) {
                api.prevent_close();
                if let Err(error) = window.hide() {
                    log::warn!("cannot hide the window: {error}");
                }
                WINDOW_SHOWN.send_replace(false);
                log::info!("the window is closed; the services keep running (Quit is in the tray)");
            } else {
                // The last window closing ends the app, through the clean stop.
                log::info!("the window is closed: quitting");
            }
        }
        _ => {}
    }
}

/// Whether closing the window keeps the services running, as the user set it.
pub fn keeps_running_when_closed<R: Runtime>(app: &AppHandle<R>) -> bool {
    let saved = app
        .try_state::<crate::launch::Launcher>()
        .map(|launcher| SettingsFile::new(launcher.state_dir()).read())
        .unwrap_or_default();
    keeps_running(&saved, tray_available(app))
}

/// Whether this desktop shows ClaraVerse's tray icon.
pub fn tray_available<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.try_state::<TrayStatus<R>>().is_some()
}

/// Shows the window at launch, or, with `--hidden` (a start at login) and a tray to bring
/// it back from, leaves it hidden: the services start, the window waits in the tray.
pub fn show_at_launch<R: Runtime>(app: &AppHandle<R>, hidden: bool) {
    if hidden && tray_available(app) {
        log::info!("started hidden: ClaraVerse waits in the tray");
        WINDOW_SHOWN.send_replace(false);
    } else {
        show_window(app);
    }
}

/// Brings the main window to the front, shown and focused.
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else {
        return;
    };
    let shown = window
        .show()
        .and_then(|()| window.unminimize())
        .and_then(|()| window.set_focus());
    if let Err(error) = shown {
        log::warn!("cannot show the window: {error}");
    }
    WINDOW_SHOWN.send_replace(true);
}

/// Builds the tray. A desktop without a tray (or without its library) gets none: the
/// app works the same from its window.
pub fn build_tray<R: Runtime>(app: &AppHandle<R>) {
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> tauri::Result<()> {
        let status = MenuItem::with_id(
            app,
            STATUS_ITEM,
            "ClaraVerse is starting…",
            false,
            None::<&str>,
        )?;
        let show = MenuItem::with_id(app, "show", "Show ClaraVerse", true, None::<&str>)?;
        let quit = MenuItem::with_id(app, "quit", "Quit ClaraVerse", true, None::<&str>)?;
        let menu = Menu::with_items(app, &[&show, &status, &quit])?;
        let mut tray = TrayIconBuilder::with_id("main")
            .menu(&menu)
            .tooltip("ClaraVerse");
        if let Some(icon) = app.default_window_icon() {
            tray = tray.icon(icon.clone());
        }
        tray.on_menu_event(|app, event| match event.id().as_ref() {
            "show" => show_window(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .build(app)?;
        app.manage(TrayStatus(status));
        Ok(())
    }));
    match built {
        Ok(Ok(())) => {}
        Ok(Err(error)) => log::warn!("no tray icon: {error}"),
        Err(_) => log::warn!("no tray icon: this desktop has no tray support"),
    }
}

/// The tray's status line, when there is a tray.
pub struct TrayStatus<R: Runtime>(MenuItem<R>);

/// Shows the overall status in the tray.
pub fn show_status<R: Runtime>(app: &AppHandle<R>, text: &str) {
    if let Some(status) = app.try_state::<TrayStatus<R>>()
        && let Err(error) = status.0.set_text(text)
    {
        log::warn!("cannot update the tray: {error}");
    }
}

/// Whether the main window has the focus, kept up to date from window events (asking the
/// window from another thread would wait on the main thread).
static WINDOW_FOCUSED: AtomicBool = AtomicBool::new(false);

/// Records a focus change of the main window.
pub fn window_focused(focused: bool) {
    WINDOW_FOCUSED.store(focused, Ordering::Relaxed);
}

/// Notifies the desktop, unless the window is in front of the user already.
pub fn notify_if_away<R: Runtime>(_app: &AppHandle<R>, text: &str) {
    if WINDOW_FOCUSED.load(Ordering::Relaxed) {
        return;
    }
    let text = text.to_string();
    // Talking to the notification service may block: keep it off the async threads.
    tauri::async_runtime::spawn_blocking(move || {
        if let Err(error) = notify_rust::Notification::new()
            .summary("ClaraVerse")
            .body(&text)
            .show()
        {
            log::info!("no desktop notification ({error}): {text}");
        }
    });
}
