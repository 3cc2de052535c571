//! The ClaraVerse desktop app: the supervisor engine hosted in a Tauri window.
//!
//! [`launch`] reads the definitions, takes the state directory and starts the engine (or
//! keeps the problem for the window); the engine's [`Manager`] is then managed state;
//! [`commands`] are what the web UI may call; [`bridge`] forwards the engine's events as
//! Tauri events; [`metrics`] sends CPU and memory per service while the window shows;
//! [`desktop`] is the window, the tray and notifications; [`settings`] the desktop
//! settings; [`welcome`] the first run's feature picker. [`contract`] lists the events and
//! commands with their types, from which the window's TypeScript view is generated.
//! [`builder`] wires it all for any Tauri runtime, so the app and its tests share one wiring.

pub mod backups;
pub mod bridge;
pub mod commands;
pub mod contract;
pub mod desktop;
pub mod hints;
pub mod launch;
pub mod metrics;
pub mod settings;
pub mod views;
pub mod welcome;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use clara_supervisor::definitions::Definitions;
use clara_supervisor::manager::{Manager, ManagerConfig, ManagerError, StartNotes};
use tauri::{AppHandle, Manager as _, RunEvent, Runtime};
use tokio::sync::{mpsc, watch};

/// When this process started to launch the app (see [`note_launch`]).
static LAUNCHED: OnceLock<Instant> = OnceLock::new();

/// Notes that the app starts launching now: the first thing `main` does.
pub fn note_launch() {
    LAUNCHED.get_or_init(Instant::now);
}

/// How long ago the app started launching.
pub fn since_launch() -> std::time::Duration {
    LAUNCHED.get_or_init(Instant::now).elapsed()
}

/// What every command can reach.
pub struct AppState {
    /// The engine.
    pub manager: Manager,
    /// The service definitions it runs.
    pub definitions: Arc<Definitions>,
    /// Requests to follow or stop following a service's output.
    pub follow: mpsc::UnboundedSender<bridge::Follow>,
    /// True once the bridge listens to the engine: services start only then, so that no
    /// change of theirs happens before the window can hear of it.
    bridge_listening: watch::Receiver<bool>,
    /// Set once every service has stopped: the app may exit then.
    stopped: AtomicBool,
}

/// The app's commands on a Tauri builder. Plugins that are global to a process (the log
/// plugin) are added by `main`, not here, so tests can build several apps.
pub fn builder<R: Runtime>() -> tauri::Builder<R> {
    tauri::Builder::<R>::new()
        .on_window_event(desktop::on_window_event)
        .invoke_handler(contract::handler())
}

/// Starts the engine inside the app: the manager as managed state, the event bridge and
/// the metrics; no service starts before [`start_all`]. `features`: `None` restores the
/// user's saved choice. Must run inside the async runtime (the manager spawns tasks).
pub fn start_engine<R: Runtime>(
    app: &AppHandle<R>,
    definitions: Definitions,
    features: Option<std::collections::BTreeSet<String>>,
    config: ManagerConfig,
) -> Result<StartNotes, ManagerError> {
    let definitions = Arc::new(definitions);
    let (manager, notes) = Manager::start((*definitions).clone(), features, config)?;
    let (follow, follows) = mpsc::unbounded_channel();
    let (listening, bridge_listening) = watch::channel(false);
    app.manage(AppState {
        manager: manager.clone(),
        definitions: Arc::clone(&definitions),
        follow,
        bridge_listening,
        stopped: AtomicBool::new(false),
    });
    tauri::async_runtime::spawn(bridge::run(
        app.clone(),
        manager.clone(),
        definitions,
        follows,
        listening,
    ));
    tauri::async_runtime::spawn(metrics::run(app.clone(), manager));
    Ok(notes)
}

/// Starts every service the user wants, each when its dependencies are ready.
pub fn start_all<R: Runtime>(app: &AppHandle<R>) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let manager = state.manager.clone();
    let mut listening = state.bridge_listening.clone();
    tauri::async_runtime::spawn(async move {
        if listening.wait_for(|listening| *listening).await.is_err() {
            return;
        }
        if let Err(error) = manager.start_all().await {
            log::error!("cannot start the services: {error}");
        }
    });
}

/// Every way out goes through here: the first exit request is held until every service
/// has stopped cleanly, then the app exits for real.
pub fn on_run_event<R: Runtime>(app: &AppHandle<R>, event: &RunEvent) {
    if let RunEvent::ExitRequested { api, code, .. } = event {
        let Some(state) = app.try_state::<AppState>() else {
            return;
        };
        if state.stopped.load(Ordering::SeqCst) {
            return;
        }
        api.prevent_exit();
        let code = code.unwrap_or(0);
        let app = app.clone();
        let manager = state.manager.clone();
        tauri::async_runtime::spawn(async move {
            log::info!("stopping every service before exiting");
            if let Err(error) = manager.shutdown().await {
                log::warn!("while stopping: {error}");
            }
            if let Some(state) = app.try_state::<AppState>() {
                state.stopped.store(true, Ordering::SeqCst);
            }
            app.exit(code);
        });
    }
}
