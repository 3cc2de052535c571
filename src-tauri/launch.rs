//! Launching: read and check the service definitions, take the state directory, start the
//! engine — and, when any of that fails, keep the problem in words for the window (with
//! Try again and Quit) instead of exiting where nobody sees it. On a first run (no saved
//! choice of features) nothing starts until the user presses Start in the welcome view;
//! when the earlier Electron app left its settings or data, the window first offers to
//! carry them over (Continue) or not (Start fresh), before the engine takes the state
//! directory.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use clara_supervisor::definitions::{self, Definitions, Service};
use clara_supervisor::load::{self, LoadOptions};
use clara_supervisor::lock::LockError;
use clara_supervisor::manager::{ManagerConfig, ManagerError, definitions_name};
use clara_supervisor::migration::{self, LegacyPaths, MovePlan};
use clara_supervisor::persist::{Setup, StateFiles};
use clara_supervisor::platform::Accelerator;
use serde::Serialize;
use tauri::{AppHandle, Manager as _, Runtime};
use ts_rs::TS;

use crate::welcome::Welcome;

/// The name the app gives itself in the state directory's lock.
pub const HOLDER: &str = "ClaraVerse";

/// What to launch: where the definitions and the state are.
#[derive(Debug, Clone)]
pub struct LaunchPlan {
    /// The definitions file; `None` is the built-in catalog.
    pub config_file: Option<PathBuf>,
    /// Where the state files and service logs live.
    pub state_dir: PathBuf,
    /// How the definitions are read (platform, variables); the folders saved in the
    /// state directory's choices are added at each launch.
    pub options: LoadOptions,
    /// Where the earlier Electron app kept its settings and data; `None`: not looked for.
    pub earlier_app: Option<LegacyPaths>,
    /// The folder of the programs the installer carries, when it carries some.
    pub shipped_programs: Option<PathBuf>,
}

/// The folder variable that the programs the installers carry stand for: Clara Core's
/// (`folder_variable` in the catalog).
pub const SHIPPED_PROGRAMS_VARIABLE: &str = "CLARA_BINARIES";

/// The file beside shipped programs that names their build (`cpu`, `metal`…), written by
/// the release workflow.
pub const SHIPPED_BUILD_FILE: &str = "build";

impl LaunchPlan {
    /// This plan with the programs shipped in `folder` (see [`SHIPPED_BUILD_FILE`]), when
    /// there are any: the definitions use them where the user chose nothing else and the
    /// machine would download that build anyway. A folder without a readable build file
    /// ships nothing.
    pub fn with_shipped_programs(mut self, folder: PathBuf) -> LaunchPlan {
        let build = std::fs::read_to_string(folder.join(SHIPPED_BUILD_FILE))
            .ok()
            .and_then(|text| text.trim().parse::<Accelerator>().ok());
        if let Some(build) = build {
            self.options.variables = self.options.variables.clone().with_shipped(
                SHIPPED_PROGRAMS_VARIABLE,
                folder.clone(),
                build,
            );
            self.shipped_programs = Some(folder);
        }
        self
    }
}

/// A problem that stops the launch, for the window.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// What went wrong, in a few words.
    pub title: String,
    /// What went wrong and what to do, in a sentence.
    pub message: String,
    /// Every diagnostic, with its file, line and column.
    pub details: Vec<String>,
    /// The exit code of a Quit from this problem: 2 when another supervisor holds the
    /// state directory (as `clara-supervisor up` exits then), else 1.
    #[serde(skip)]
    pub exit_code: i32,
}

/// Where the launch stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// The engine runs and the services start (or have started).
    Running,
    /// The engine runs, but nothing starts until the user chose the features.
    Welcome,
    /// The earlier app's settings or data were found on a first run: the engine waits
    /// until the user chose to carry them over or to start fresh.
    Move,
    /// The engine could not start.
    Problem(Problem),
}

/// The launch state as the UI receives it (`launch_state`, `retry_launch`,
/// `move_earlier_app`, `start_fresh`).
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(tag = "phase", rename_all = "camelCase")]
pub enum LaunchState {
    /// As today: services, start-up view, dashboard.
    Running,
    /// The first run's feature picker.
    Welcome {
        /// Features with what they need, and what the machine has.
        welcome: Welcome,
    },
    /// The offer to carry over what the earlier app left (Continue, Start fresh).
    Move {
        /// What was found and what Continue does, one sentence each.
        plan: Vec<String>,
    },
    /// The problem, with Try again and Quit.
    Problem {
        /// What went wrong.
        problem: Problem,
    },
}

/// The launch, as managed state: what to launch and where it stands.
pub struct Launcher {
    plan: LaunchPlan,
    phase: Mutex<Phase>,
    /// The user answered the offer to carry over the earlier app (Continue or Start
    /// fresh): it is not made again in this run.
    answered: AtomicBool,
}

impl Launcher {
    /// A launcher for `plan` that has not tried yet.
    pub fn new(plan: LaunchPlan) -> Self {
        Launcher {
            plan,
            phase: Mutex::new(Phase::Problem(Problem {
                title: "ClaraVerse is starting".into(),
                message: "ClaraVerse is still starting.".into(),
                details: Vec::new(),
                exit_code: 1,
            })),
            answered: AtomicBool::new(false),
        }
    }

    /// Where the launch stands.
    pub fn phase(&self) -> Phase {
        self.phase
            .lock()
            .map(|phase| phase.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Records where the launch stands.
    pub fn set_phase(&self, phase: Phase) {
        match self.phase.lock() {
            Ok(mut current) => *current = phase,
            Err(poisoned) => *poisoned.into_inner() = phase,
        }
    }

    /// Where the state lives.
    pub fn state_dir(&self) -> &std::path::Path {
        &self.plan.state_dir
    }

    /// What carrying over the earlier app would do now (files and Docker asked).
    pub async fn move_plan(&self) -> Option<MovePlan> {
        let paths = self.plan.earlier_app.as_ref()?;
        Some(MovePlan::make(paths, None).await)
    }

    /// Carries over what the earlier app left (before the engine takes the state
    /// directory); every problem in a sentence.
    pub async fn carry_over(&self) -> Result<migration::Moved, String> {
        let plan = self
            .move_plan()
            .await
            .ok_or("the earlier ClaraVerse app was not looked for")?;
        let moved = migration::carry_out(&plan, &self.plan.state_dir, HOLDER, None)
            .await
            .map_err(|error| {
                format!("The move from the earlier ClaraVerse app did not happen: {error}.")
            })?;
        self.answered.store(true, Ordering::Relaxed);
        Ok(moved)
    }

    /// The user chose Start fresh: the earlier app is not offered again in this run.
    pub fn start_fresh(&self) {
        self.answered.store(true, Ordering::Relaxed);
    }

    /// Whether the earlier app's settings or data are here, to be offered.
    fn offers_move(&self) -> bool {
        !self.answered.load(Ordering::Relaxed)
            && self
                .plan
                .earlier_app
                .as_ref()
                .is_some_and(|paths| migration::legacy::find(paths).anything())
    }
}

/// Tries to launch: once at start, and again on Try again. Must run inside the async
/// runtime (the engine spawns tasks). Does nothing once the engine runs.
pub fn attempt<R: Runtime>(app: &AppHandle<R>) -> Phase {
    let Some(launcher) = app.try_state::<Launcher>() else {
        return Phase::Problem(Problem {
            title: "ClaraVerse cannot start".into(),
            message: "The app was built without its launcher.".into(),
            details: Vec::new(),
            exit_code: 1,
        });
    };
    if app.try_state::<crate::AppState>().is_some() {
        return launcher.phase();
    }
    let phase = match launch(app, &launcher) {
        Ok(phase) => phase,
        Err(problem) => {
            log::error!("{}: {}", problem.title, problem.message);
            for detail in &problem.details {
                log::error!("{detail}");
            }
            Phase::Problem(problem)
        }
    };
    launcher.set_phase(phase.clone());
    phase
}

fn launch<R: Runtime>(app: &AppHandle<R>, launcher: &Launcher) -> Result<Phase, Problem> {
    let plan = &launcher.plan;
    let definitions = read_definitions(plan)?;
    let first_run = StateFiles::new(&plan.state_dir)
        .read_choices()
        .map(|choices| choices.features.is_none())
        .unwrap_or(true);
    if first_run && launcher.offers_move() {
        log::info!("first run: the earlier ClaraVerse app left settings or data; asking the user");
        return Ok(Phase::Move);
    }
    let mut config = ManagerConfig::new(&plan.state_dir);
    config.holder = HOLDER.to_string();
    if let Some(file) = &plan.config_file {
        config.definitions_name = definitions_name(file);
    }
    let notes = crate::start_engine(app, definitions, None, config).map_err(|error| {
        let (title, exit_code) = match &error {
            ManagerError::Lock(LockError::Held { holder, .. }) => {
                (format!("{holder} is already running"), 2)
            }
            ManagerError::Lock(LockError::Unusable { .. }) => {
                ("ClaraVerse cannot use its state directory".to_string(), 1)
            }
            _ => ("ClaraVerse cannot start its services".to_string(), 1),
        };
        Problem {
            title,
            message: error.to_string(),
            details: Vec::new(),
            exit_code,
        }
    })?;
    for note in notes.cleaned_up.iter().chain(&notes.warnings) {
        log::warn!("{note}");
    }
    if first_run {
        log::info!("first run: waiting for the user to choose the features");
        return Ok(Phase::Welcome);
    }
    crate::start_all(app);
    Ok(Phase::Running)
}

impl Launcher {
    /// The definition of `name` read anew from the definitions, with the saved setup
    /// changed by `change` first (a folder of programs, a build of them): how a service
    /// runs once the user chose where its programs come from.
    pub fn read_service(
        &self,
        name: &str,
        change: impl FnOnce(&mut Setup),
    ) -> Result<Service, String> {
        let source = definitions::read(self.plan.config_file.as_deref())
            .map_err(|error| error.to_string())?;
        let mut setup = StateFiles::new(&self.plan.state_dir)
            .read_choices()
            .map(|choices| choices.setup)
            .unwrap_or_default();
        change(&mut setup);
        let options = self.plan.options.clone().with_setup(&setup);
        let loaded =
            load::load(&source, &options).map_err(|error| format!("{}: {error}", source.name()))?;
        loaded
            .definitions
            .services
            .get(name)
            .cloned()
            .ok_or_else(|| format!("there is no service \"{name}\""))
    }

    /// The folder of the programs the installer carries, when it carries some.
    pub fn shipped_programs(&self) -> Option<&Path> {
        self.plan.shipped_programs.as_deref()
    }

    /// The build of programs the user chose, if any (see [`Setup::accelerator`]).
    pub fn chosen_build(&self) -> Option<Accelerator> {
        StateFiles::new(&self.plan.state_dir)
            .read_choices()
            .ok()
            .and_then(|choices| choices.setup.accelerator)
    }
}

/// The definitions of `plan`, checked; every problem with its position otherwise.
fn read_definitions(plan: &LaunchPlan) -> Result<Definitions, Problem> {
    let source = definitions::read(plan.config_file.as_deref()).map_err(|error| Problem {
        title: "ClaraVerse cannot read its service definitions".into(),
        message: format!("{error}. Check the path given with --config or CLARAVERSE_CONFIG."),
        details: Vec::new(),
        exit_code: 1,
    })?;
    let options = plan.options.clone().with_saved_setup(&plan.state_dir);
    load::load(&source, &options)
        .map(|loaded| {
            for warning in &loaded.warnings {
                log::warn!("{warning}");
            }
            loaded.definitions
        })
        .map_err(|error| Problem {
            title: "The service definitions have errors".into(),
            message: format!(
                "{}: {error}. Correct them, then choose Try again.",
                source.name()
            ),
            details: error.errors.iter().map(ToString::to_string).collect(),
            exit_code: 1,
        })
}

/// The launch state for the UI (the welcome view asks Docker what this machine has).
pub async fn state<R: Runtime>(app: &AppHandle<R>, phase: Phase) -> LaunchState {
    match phase {
        Phase::Running => LaunchState::Running,
        Phase::Problem(problem) => LaunchState::Problem { problem },
        Phase::Move => match app.try_state::<Launcher>() {
            Some(launcher) => LaunchState::Move {
                plan: match launcher.move_plan().await {
                    Some(plan) => plan.describe(),
                    None => Vec::new(),
                },
            },
            None => LaunchState::Running,
        },
        Phase::Welcome => match app.try_state::<crate::AppState>() {
            Some(state) => {
                let enabled = state.manager.features().await.unwrap_or_default();
                LaunchState::Welcome {
                    welcome: crate::welcome::welcome(&state.definitions, &enabled).await,
                }
            }
            None => LaunchState::Running,
        },
    }
}

#[cfg(test)]
mod tests {
    use clara_supervisor::definitions::Variables;

    use super::*;

    fn plan() -> LaunchPlan {
        LaunchPlan {
            config_file: None,
            state_dir: PathBuf::from("/nonexistent/state"),
            options: LoadOptions::for_this_machine(),
            earlier_app: None,
            shipped_programs: None,
        }
    }

    #[test]
    fn programs_carried_by_the_installer_are_found_by_their_build_file() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let folder = dir.path().join("programs");
        // Without a build file, nothing is shipped.
        std::fs::create_dir_all(&folder).expect("a folder");
        assert_eq!(
            plan()
                .with_shipped_programs(folder.clone())
                .shipped_programs,
            None
        );
        std::fs::write(folder.join(SHIPPED_BUILD_FILE), "cpu\n").expect("a build file");
        let mut with = plan();
        with.options.variables = Variables::new([], "/home/u").with_accelerator(Accelerator::Cpu);
        let with = with.with_shipped_programs(folder.clone());
        assert_eq!(with.shipped_programs.as_deref(), Some(folder.as_path()));
        assert_eq!(
            with.options.variables.get(SHIPPED_PROGRAMS_VARIABLE),
            folder.to_str()
        );
    }
}
