//! The ClaraVerse desktop app: the supervisor engine hosted in a Tauri window.
//!
//! The engine's [`Manager`] is managed state; [`commands`] are what the web UI may call;
//! [`bridge`] forwards the engine's events as Tauri events; [`metrics`] sends CPU and
//! memory per service; [`desktop`] is the tray and notifications. [`builder`] wires it
//! all for any Tauri runtime, so the app and its tests share one wiring.

pub mod bridge;
pub mod commands;
pub mod desktop;
pub mod hints;
pub mod metrics;
pub mod views;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clara_supervisor::definitions::Definitions;
use clara_supervisor::manager::{Manager, ManagerConfig, StartNotes};
use tauri::{AppHandle, Manager as _, RunEvent, Runtime};
use tokio::sync::mpsc;

/// What every command can reach.
pub struct AppState {
    /// The engine.
    pub manager: Manager,
    /// The service definitions it runs.
    pub definitions: Arc<Definitions>,
    /// Requests to follow or stop following a service's output.
    pub follow: mpsc::UnboundedSender<bridge::Follow>,
    /// Set once every service has stopped: the app may exit then.
    stopped: AtomicBool,
}

/// The app's commands on a Tauri builder. Plugins that are global to a process (the log
/// plugin) are added by `main`, not here, so tests can build several apps.
pub fn builder<R: Runtime>() -> tauri::Builder<R> {
    tauri::Builder::<R>::new()
        .on_window_event(|_, event| {
            if let tauri::WindowEvent::Focused(focused) = event {
                desktop::window_focused(*focused);
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::list_services,
            commands::start_service,
            commands::stop_service,
            commands::restart_service,
            commands::retry_startup,
            commands::continue_without,
            commands::get_features,
            commands::preview_features,
            commands::set_features,
            commands::service_logs,
            commands::follow_logs,
            commands::unfollow_logs,
            commands::open_service_url,
        ])
}

/// Starts the engine inside the app: the manager as managed state, the event bridge, the
/// metrics, and every service. `features`: `None` restores the user's saved choice.
pub fn start_engine<R: Runtime>(
    app: &AppHandle<R>,
    definitions: Definitions,
    features: Option<std::collections::BTreeSet<String>>,
    config: ManagerConfig,
) -> Result<StartNotes, String> {
    let definitions = Arc::new(definitions);
    let engine_definitions = (*definitions).clone();
    // The manager spawns tasks and processes: it must start inside the async runtime.
    let (manager, notes) = tauri::async_runtime::block_on(async move {
        Manager::start(engine_definitions, features, config)
    })
    .map_err(|error| error.to_string())?;
    let (follow, follows) = mpsc::unbounded_channel();
    app.manage(AppState {
        manager: manager.clone(),
        definitions: Arc::clone(&definitions),
        follow,
        stopped: AtomicBool::new(false),
    });
    tauri::async_runtime::spawn(bridge::run(
        app.clone(),
        manager.clone(),
        definitions,
        follows,
    ));
    tauri::async_runtime::spawn(metrics::run(app.clone(), manager.clone()));
    tauri::async_runtime::spawn(async move {
        if let Err(error) = manager.start_all().await {
            log::error!("cannot start the services: {error}");
        }
    });
    Ok(notes)
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
