//! The commands the web UI may call. Each answers with data or a sentence for people.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clara_supervisor::definitions::Prepare;
use clara_supervisor::install;
use clara_supervisor::manager::ProgramsChoice;
use clara_supervisor::platform::Accelerator;
use clara_supervisor::prepare::llama_swap;

use clara_supervisor::migration;
use clara_supervisor::output::LogLine;
use serde::Serialize;
use tauri::{AppHandle, Manager as _, Runtime, State};
use ts_rs::TS;

use crate::backups::{self, BackupFile};
use crate::bridge::{Follow, Startup};
use crate::launch::{self, LaunchState, Launcher, Phase};
use crate::settings::{Settings, SettingsFile};
use crate::views::{
    EarlierAppView, FeatureChange, FeatureView, KeptContainerView, OwnServerView, ProgramsView,
    ServerTest, ServiceView, feature_change, features, own_servers,
};
use crate::welcome::{self, Welcome};
use crate::{AppState, desktop};

/// The answer to `list_services`: every service, and the event number it reflects.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServiceList {
    /// Events with a number up to this one are already in `services`.
    pub seq: u64,
    /// Every service, in start order.
    pub services: Vec<ServiceView>,
    /// How the last start-up went (with advice, when it failed).
    pub startup: Startup,
    /// The one line about all services (as `summary-changed` sends it).
    pub summary: String,
}

type Answer<T> = Result<T, String>;

fn sentence(error: impl ToString) -> String {
    error.to_string()
}

/// Every service with its status.
#[tauri::command]
pub async fn list_services(state: State<'_, AppState>) -> Answer<ServiceList> {
    let (snapshot, _) = state.manager.subscribe().await.map_err(sentence)?;
    let startup = Startup::from(&snapshot.startup);
    Ok(ServiceList {
        seq: snapshot.seq,
        summary: crate::views::summary(&snapshot.services, &snapshot.startup),
        services: snapshot
            .services
            .into_iter()
            .map(|s| ServiceView::new(s, &state.definitions))
            .collect(),
        startup,
    })
}

/// Starts a service and what it needs.
#[tauri::command]
pub async fn start_service(state: State<'_, AppState>, name: String) -> Answer<()> {
    state.manager.start_service(&name).await.map_err(sentence)
}

/// Stops a service and, first, what depends on it; returns every service that stops.
#[tauri::command]
pub async fn stop_service(state: State<'_, AppState>, name: String) -> Answer<Vec<String>> {
    state.manager.stop_service(&name).await.map_err(sentence)
}

/// Restarts a service, whatever its state.
#[tauri::command]
pub async fn restart_service(state: State<'_, AppState>, name: String) -> Answer<()> {
    state.manager.restart_service(&name).await.map_err(sentence)
}

/// Starts everything again, after a failed start-up.
#[tauri::command]
pub async fn retry_startup(state: State<'_, AppState>) -> Answer<()> {
    state.manager.start_all().await.map_err(sentence)
}

/// Starts everything except `name`, which stays stopped until started by hand.
#[tauri::command]
pub async fn continue_without(state: State<'_, AppState>, name: String) -> Answer<()> {
    state.manager.stop_service(&name).await.map_err(sentence)?;
    state.manager.start_all().await.map_err(sentence)
}

/// Every feature, with which are on.
#[tauri::command]
pub async fn get_features(state: State<'_, AppState>) -> Answer<Vec<FeatureView>> {
    let enabled = state.manager.features().await.map_err(sentence)?;
    Ok(features(&state.definitions, &enabled))
}

/// What turning on exactly `features` would start and stop.
#[tauri::command]
pub async fn preview_features(
    state: State<'_, AppState>,
    features: Vec<String>,
) -> Answer<FeatureChange> {
    let now = state.manager.features().await.map_err(sentence)?;
    feature_change(&state.definitions, &now, &features.into_iter().collect())
}

/// Turns on exactly `features`; returns what starts and stops.
#[tauri::command]
pub async fn set_features(
    state: State<'_, AppState>,
    features: Vec<String>,
) -> Answer<FeatureChange> {
    let wanted: BTreeSet<String> = features.into_iter().collect();
    let now = state.manager.features().await.map_err(sentence)?;
    let change = feature_change(&state.definitions, &now, &wanted)?;
    state.manager.set_features(wanted).await.map_err(sentence)?;
    Ok(change)
}

/// The last `lines` lines of a service's output.
#[tauri::command]
pub async fn service_logs(
    state: State<'_, AppState>,
    name: String,
    lines: usize,
) -> Answer<Vec<LogLine>> {
    state
        .manager
        .logs(&name, lines.min(10_000))
        .await
        .map_err(sentence)
}

/// From now on, send every new line of a service's output as a `service-log` event.
#[tauri::command]
pub async fn follow_logs(state: State<'_, AppState>, name: String) -> Answer<()> {
    let lines = state.manager.follow_logs(&name).await.map_err(sentence)?;
    state
        .follow
        .send(Follow::Start(name, lines))
        .map_err(|_| "the app is shutting down".to_string())
}

/// Stops sending a service's output.
#[tauri::command]
pub async fn unfollow_logs(state: State<'_, AppState>, name: String) -> Answer<()> {
    state
        .follow
        .send(Follow::Stop(name))
        .map_err(|_| "the app is shutting down".to_string())
}

/// Opens a service's page in the system browser.
#[tauri::command]
pub async fn open_service_url(state: State<'_, AppState>, name: String) -> Answer<()> {
    let service = state
        .definitions
        .services
        .get(&name)
        .ok_or_else(|| format!("there is no service \"{name}\""))?;
    let url = crate::views::url_of(service).ok_or_else(|| format!("{name} has no page to open"))?;
    tauri_plugin_opener::open_url(&url, None::<&str>)
        .map_err(|error| format!("cannot open {url}: {error}"))
}

/// The window shows the services for the first time: the launch took this long.
#[tauri::command]
pub fn services_painted() {
    log::info!(
        "the window showed the services {} ms after launch",
        crate::since_launch().as_millis()
    );
}

/// Where the launch stands: running, the first run's welcome, or a problem in words.
#[tauri::command]
pub async fn launch_state<R: Runtime>(
    app: AppHandle<R>,
    launcher: State<'_, Launcher>,
) -> Answer<LaunchState> {
    Ok(launch::state(&app, launcher.phase()).await)
}

/// Tries the launch again (after a problem); answers where it stands now.
#[tauri::command]
pub async fn retry_launch<R: Runtime>(app: AppHandle<R>) -> Answer<LaunchState> {
    let phase = launch::attempt(&app);
    Ok(launch::state(&app, phase).await)
}

/// Continue: carries over what the earlier app left (backed up first), then launches;
/// answers where the launch stands now.
#[tauri::command]
pub async fn move_earlier_app<R: Runtime>(
    app: AppHandle<R>,
    launcher: State<'_, Launcher>,
) -> Answer<LaunchState> {
    let moved = launcher.carry_over().await?;
    log::info!(
        "carried over the earlier ClaraVerse app; its backup is in {}",
        moved.backup.display()
    );
    for (name, kept_as) in &moved.kept {
        log::info!("the container {name} is stopped and kept as {kept_as}");
    }
    for problem in &moved.problems {
        log::warn!("not done in the move: {problem}");
    }
    let phase = launch::attempt(&app);
    Ok(launch::state(&app, phase).await)
}

/// Start fresh: the earlier app's settings and data are left as they are, and the launch
/// goes on to the welcome view; answers where it stands now.
#[tauri::command]
pub async fn start_fresh<R: Runtime>(
    app: AppHandle<R>,
    launcher: State<'_, Launcher>,
) -> Answer<LaunchState> {
    log::info!("the user starts fresh: the earlier ClaraVerse app is left as it is");
    launcher.start_fresh();
    let phase = launch::attempt(&app);
    Ok(launch::state(&app, phase).await)
}

/// Quits: every service is stopped first. A launch that failed exits with its problem's
/// code (2 when another supervisor holds the state directory, else 1).
#[tauri::command]
pub fn quit_app<R: Runtime>(app: AppHandle<R>, launcher: State<'_, Launcher>) {
    let code = match launcher.phase() {
        Phase::Problem(problem) => problem.exit_code,
        Phase::Running | Phase::Welcome | Phase::Move => 0,
    };
    app.exit(code);
}

/// The feature picker of the welcome view, with the features that are on now.
#[tauri::command]
pub async fn welcome_info(state: State<'_, AppState>) -> Answer<Welcome> {
    let enabled = state.manager.features().await.map_err(sentence)?;
    Ok(welcome::welcome(&state.definitions, &enabled).await)
}

/// Turns on exactly `features` (remembered from now on); on the first run, this is the
/// Start that starts everything.
#[tauri::command]
pub async fn begin<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    launcher: State<'_, Launcher>,
    features: Vec<String>,
) -> Answer<()> {
    state
        .manager
        .set_features(features.into_iter().collect())
        .await
        .map_err(sentence)?;
    if launcher.phase() == Phase::Welcome {
        log::info!("the user chose the features: starting");
        launcher.set_phase(Phase::Running);
        crate::start_all(&app);
    }
    Ok(())
}

/// The services the user may run himself, with the URLs of those he does.
#[tauri::command]
pub async fn list_own_servers(state: State<'_, AppState>) -> Answer<Vec<OwnServerView>> {
    let servers = state.manager.own_servers().await.map_err(sentence)?;
    Ok(own_servers(&state.definitions, &servers))
}

/// Test: runs the service's health check once against the user's server at `url`.
#[tauri::command]
pub async fn test_own_server(
    state: State<'_, AppState>,
    name: String,
    url: String,
) -> Answer<ServerTest> {
    let service = state
        .definitions
        .services
        .get(&name)
        .ok_or_else(|| format!("there is no service \"{name}\""))?;
    let own = clara_supervisor::definitions::own_server(service, url.trim())?;
    let Some(check) = own.health else {
        return Err(format!("\"{name}\" has no health check to test"));
    };
    let asked = match &check.probe {
        clara_supervisor::definitions::Probe::Http { url, .. } => url.clone(),
        _ => url.trim().to_string(),
    };
    Ok(match clara_supervisor::health::check_once(&check).await {
        Ok(took) => ServerTest {
            ok: true,
            message: format!("{asked} answered in {} ms.", took.as_millis()),
        },
        Err(why) => ServerTest {
            ok: false,
            message: format!("{why}."),
        },
    })
}

/// Runs `name` as the user's own server at `url`, or (`url` null) on this computer again;
/// applied at once, and remembered.
#[tauri::command]
pub async fn use_own_server(
    state: State<'_, AppState>,
    name: String,
    url: Option<String>,
) -> Answer<()> {
    let url = url.map(|url| url.trim().to_string());
    state
        .manager
        .use_own_server(&name, url)
        .await
        .map_err(sentence)
}

/// The services whose programs may come from a folder the user has, where theirs are, and
/// which build of them is downloaded.
#[tauri::command]
pub fn list_programs(
    state: State<'_, AppState>,
    launcher: State<'_, Launcher>,
) -> Answer<Vec<ProgramsView>> {
    let chosen_build = launcher
        .chosen_build()
        .map(|build| build.name().to_string());
    state
        .definitions
        .services
        .values()
        .filter(|service| {
            service
                .programs
                .as_ref()
                .is_some_and(|programs| programs.variable.is_some())
        })
        .map(|written| {
            let now = launcher.read_service(&written.name, |_| {})?;
            let folder = now
                .programs
                .as_ref()
                .map(|programs| programs.folder.display().to_string())
                .unwrap_or_default();
            // What would be downloaded, even while a folder of the user's is used.
            let variable = folder_variable(&state, &written.name)?;
            let downloadable = launcher.read_service(&written.name, |setup| {
                setup.folders.insert(variable.clone(), PathBuf::new());
            })?;
            let install = downloadable.install.as_ref();
            let builds = install.map(|install| install.builds()).unwrap_or_default();
            let build = install
                .and_then(|install| install.build())
                .map(str::to_string);
            Ok(ProgramsView {
                service: now.name.clone(),
                description: now.description.clone(),
                shipped: launcher
                    .shipped_programs()
                    .is_some_and(|shipped| folder == shipped.display().to_string()),
                folder,
                downloaded: now.install.is_some(),
                builds: builds.into_iter().map(str::to_string).collect(),
                build,
                chosen_build: chosen_build.clone(),
                models: match &now.prepare {
                    Some(Prepare::LlamaSwapConfig {
                        models,
                        models_variable: Some(_),
                        ..
                    }) => models.first().map(|folder| folder.display().to_string()),
                    _ => None,
                },
            })
        })
        .collect()
}

/// The folder variable of `name`'s programs: the service may take them from a folder.
fn folder_variable(state: &AppState, name: &str) -> Answer<String> {
    state
        .definitions
        .services
        .get(name)
        .ok_or_else(|| format!("there is no service \"{name}\""))?
        .programs
        .as_ref()
        .and_then(|programs| programs.variable.clone())
        .ok_or_else(|| format!("{name} cannot take its programs from a folder"))
}

/// Runs `name` from the programs in `folder` (checked first: each is there and answers
/// `--version`), or (`folder` null) from those ClaraVerse downloads; at once, and saved.
/// Answers what was found.
#[tauri::command]
pub async fn use_programs_folder(
    state: State<'_, AppState>,
    launcher: State<'_, Launcher>,
    name: String,
    folder: Option<String>,
) -> Answer<String> {
    let variable = folder_variable(&state, &name)?;
    let folder = folder
        .map(|folder| PathBuf::from(folder.trim()))
        .filter(|folder| !folder.as_os_str().is_empty());
    if let Some(folder) = &folder
        && !folder.is_absolute()
    {
        return Err(format!(
            "\"{}\" is not a full path: write the whole path of the folder, from its start",
            folder.display()
        ));
    }
    // No folder is saved as an empty one: downloaded, not the programs the app ships.
    let service = launcher.read_service(&name, |setup| {
        setup
            .folders
            .insert(variable.clone(), folder.clone().unwrap_or_default());
    })?;
    let found = match &folder {
        Some(folder) => install::check_folder(&service, folder).await?,
        None => Vec::new(),
    };
    state
        .manager
        .use_programs(service, ProgramsChoice::Folder(folder.clone()))
        .await
        .map_err(sentence)?;
    Ok(match folder {
        Some(folder) => format!(
            "{name} runs the programs in {} now ({}).",
            folder.display(),
            found.join("; ")
        ),
        None => format!("{name} runs the programs ClaraVerse downloads now."),
    })
}

/// Reads `name`'s models from `folder` (it must exist), or (`folder` null) from the default
/// folder again; at once, and saved. Answers how many models are there.
#[tauri::command]
pub async fn use_models_folder(
    state: State<'_, AppState>,
    launcher: State<'_, Launcher>,
    name: String,
    folder: Option<String>,
) -> Answer<String> {
    let variable = match state
        .definitions
        .services
        .get(&name)
        .and_then(|s| s.prepare.as_ref())
    {
        Some(Prepare::LlamaSwapConfig {
            models_variable: Some(variable),
            ..
        }) => variable.clone(),
        _ => return Err(format!("{name} has no models folder to choose")),
    };
    let folder = folder
        .map(|folder| PathBuf::from(folder.trim()))
        .filter(|folder| !folder.as_os_str().is_empty());
    if let Some(folder) = &folder
        && !folder.is_dir()
    {
        return Err(format!(
            "{} is not a folder: write the whole path of the folder that holds the GGUF models",
            folder.display()
        ));
    }
    let service = launcher.read_service(&name, |setup| match &folder {
        Some(folder) => {
            setup.folders.insert(variable.clone(), folder.clone());
        }
        None => {
            setup.folders.remove(&variable);
        }
    })?;
    let read_from = match &service.prepare {
        Some(Prepare::LlamaSwapConfig { models, .. }) => models.clone(),
        None => Vec::new(),
    };
    let found = llama_swap::find_models(&read_from).len();
    state
        .manager
        .use_programs(service, ProgramsChoice::Models(folder))
        .await
        .map_err(sentence)?;
    let first = read_from
        .first()
        .map(|folder| folder.display().to_string())
        .unwrap_or_default();
    Ok(match found {
        0 => format!(
            "{name} reads its models from {first} now; it has none yet: add a GGUF model there."
        ),
        1 => format!("{name} reads its models from {first} now: 1 model found."),
        _ => format!("{name} reads its models from {first} now: {found} models found."),
    })
}

/// Downloads and runs `build` of `name`'s programs (`cuda`, `vulkan`, `cpu`…), or (`build`
/// null) the best this computer can run; at once, and saved. Answers what it runs.
#[tauri::command]
pub async fn use_programs_build(
    state: State<'_, AppState>,
    launcher: State<'_, Launcher>,
    name: String,
    build: Option<String>,
) -> Answer<String> {
    let accelerator = build
        .map(|build| build.parse::<Accelerator>())
        .transpose()?;
    let service = launcher.read_service(&name, |setup| setup.accelerator = accelerator)?;
    let runs = service
        .install
        .as_ref()
        .and_then(|install| install.build())
        .map(str::to_string)
        .ok_or_else(|| format!("{name} has only one build of its programs"))?;
    state
        .manager
        .use_programs(service, ProgramsChoice::Build(accelerator))
        .await
        .map_err(sentence)?;
    Ok(match accelerator {
        Some(_) => format!("{name} runs the {runs} build now, downloaded first if need be."),
        None => format!(
            "{name} runs the build that suits this computer best now: {runs}, downloaded first if need be."
        ),
    })
}

/// The move from the earlier app that can still be undone, with the containers it kept;
/// `None` when there is none.
#[tauri::command]
pub fn earlier_app(launcher: State<'_, Launcher>) -> Answer<Option<EarlierAppView>> {
    let last = migration::last_move(launcher.state_dir()).map_err(sentence)?;
    Ok(last.map(|last| EarlierAppView {
        moved: last.created,
        backup: last.backup.display().to_string(),
        kept: last
            .kept
            .into_iter()
            .map(|(name, kept_as)| KeptContainerView { name, kept_as })
            .collect(),
    }))
}

/// Removes the earlier app's container the move kept as `kept_as`.
#[tauri::command]
pub async fn remove_kept_container(launcher: State<'_, Launcher>, kept_as: String) -> Answer<()> {
    migration::remove_kept(launcher.state_dir(), &kept_as, None)
        .await
        .map_err(sentence)
}

/// Undoes the move from the earlier app: once its backup is checked, every service stops,
/// the earlier app's settings and containers are put back, and ClaraVerse quits a few
/// seconds after answering what was done (the earlier app is the one to open next).
#[tauri::command]
pub async fn undo_move<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    launcher: State<'_, Launcher>,
) -> Answer<String> {
    let state_dir = launcher.state_dir().to_path_buf();
    migration::check_undo(&state_dir).map_err(sentence)?;
    log::info!("undoing the move from the earlier ClaraVerse app: stopping every service");
    state.manager.shutdown().await.map_err(sentence)?;
    // Every service has stopped: the exit below need not wait for them again.
    state
        .stopped
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let outcome = migration::undo(&state_dir, launch::HOLDER, None).await;
    let quit = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(4)).await;
        quit.exit(0);
    });
    let undone = outcome
        .map_err(|error| format!("{error}. Every service has stopped; ClaraVerse quits now."))?;
    for problem in &undone.problems {
        log::warn!("not undone: {problem}");
    }
    let mut said = match undone.containers.as_slice() {
        [] => "The move is undone: the earlier app's settings are back.".to_string(),
        names => format!(
            "The move is undone: the earlier app's settings and its containers {} are back.",
            names.join(", ")
        ),
    };
    if !undone.problems.is_empty() {
        said.push_str(&format!(" Not done: {}.", undone.problems.join("; ")));
    }
    said.push_str(" ClaraVerse quits now; open the earlier app to go on.");
    log::info!("{said}");
    Ok(said)
}

/// Saves the user's choices to a new file in the backups folder; answers where.
#[tauri::command]
pub fn backup_choices(launcher: State<'_, Launcher>) -> Answer<String> {
    backups::save(launcher.state_dir())
}

/// The backup files in the backups folder, newest first.
#[tauri::command]
pub fn list_backups() -> Vec<BackupFile> {
    backups::list()
}

/// Restores the backup in `path` (checked whole first) and applies it at once; answers
/// what was restored.
#[tauri::command]
pub async fn restore_backup(
    state: State<'_, AppState>,
    launcher: State<'_, Launcher>,
    path: String,
) -> Answer<String> {
    backups::restore(
        &state.manager,
        launcher.state_dir(),
        std::path::Path::new(&path),
    )
    .await
}

/// The desktop settings.
#[tauri::command]
pub fn get_settings<R: Runtime>(app: AppHandle<R>) -> Settings {
    settings_of(&app)
}

/// Changes one desktop setting; answers all of them.
#[tauri::command]
pub fn set_setting<R: Runtime>(
    app: AppHandle<R>,
    launcher: State<'_, Launcher>,
    name: String,
    value: bool,
) -> Answer<Settings> {
    match name.as_str() {
        "keepRunningInBackground" => {
            let file = SettingsFile::new(launcher.state_dir());
            let mut saved = file.read();
            saved.keep_running_in_background = Some(value);
            file.write(&saved)?;
        }
        "startAtLogin" => {
            let autostart = app
                .try_state::<tauri_plugin_autostart::AutoLaunchManager>()
                .ok_or("Starting at login is not available on this desktop")?;
            let changed = if value {
                autostart.enable()
            } else {
                autostart.disable()
            };
            changed.map_err(|error| format!("cannot change starting at login: {error}"))?;
        }
        _ => return Err(format!("there is no setting \"{name}\"")),
    }
    Ok(settings_of(&app))
}

fn settings_of<R: Runtime>(app: &AppHandle<R>) -> Settings {
    Settings {
        keep_running_in_background: desktop::keeps_running_when_closed(app),
        start_at_login: app
            .try_state::<tauri_plugin_autostart::AutoLaunchManager>()
            .and_then(|autostart| autostart.is_enabled().ok())
            .unwrap_or(false),
        tray_available: desktop::tray_available(app),
    }
}
