//! The manager: the one place that owns all service state.
//!
//! Decisions and effects are apart. The reconciler (`core.rs` and the files beside
//! it) decides, as pure code over plain data, what every service does next; the actor
//! task is a thin shell that carries those decisions out. [`Manager`] is a cheap,
//! cloneable handle that sends the actor commands and awaits the replies.
//!
//! - `core.rs` — `Core`: the units, the plan, the commands (start, stop, restart,
//!   features) and the bookkeeping (state changes become events).
//! - `unit.rs` — what is kept per service: `Goal` (should it run, and if not, who
//!   said so) and `Next` (what is planned: a timer, a start, a restart once stopped…).
//! - `advance.rs` — moving every service as far as its dependencies allow.
//! - `lifecycle.rs` — the facts of an instance's life: started, probed, exited, timer.
//! - `startup.rs` — how a start-up ends: complete, degraded, or failed.
//! - `action.rs` — `Action`: what the reconciler asks the shell to do.
//! - `actor.rs` — the shell: the task, commands and facts in, actions out.
//! - `effects.rs` — carrying actions out: runtimes, stop requests, probes, timers, files.
//! - `boot.rs` — saved choices restored, crash leftovers cleaned, the actor assembled.
//!
//! Runtimes, probes and timers report back as facts tagged with the instance (or timer
//! token) they concern; a fact about an older instance is ignored, so a restart can never
//! double-start a service.
//!
//! A manager first takes its state directory's lock ([`crate::lock`]), before it reads,
//! cleans up or starts anything, and holds it until every service has stopped: one
//! supervisor per state directory.

mod action;
mod actor;
mod advance;
mod boot;
mod core;
mod effects;
mod failure;
mod lifecycle;
mod startup;
#[cfg(test)]
mod tests;
mod unit;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::definitions::{Definitions, Service};
use crate::diagnostics::Diagnostic;
use crate::events::{Event, Snapshot};
use crate::lock::{LockError, StateLock};
use crate::output::LogLine;
use crate::persist::Choices;
use crate::platform::Accelerator;
use crate::runtime::ProcessRuntime;
use crate::runtime::guard::{self, Guard};
use crate::runtime::mark::{self, RunMark};
use crate::selection::Selection;
use crate::status::ServiceStatus;
use crate::suggest;
use failure::Ended;

/// The [`ManagerConfig::definitions_name`] of the built-in catalog.
pub const CATALOG: &str = "catalog";

/// The [`ManagerConfig::definitions_name`] of the definitions file `file`: its full path,
/// so the same file names the same definitions from any working folder.
pub fn definitions_name(file: &std::path::Path) -> String {
    std::fs::canonicalize(file)
        .unwrap_or_else(|_| file.to_path_buf())
        .display()
        .to_string()
}

/// How the manager runs.
#[derive(Debug, Clone)]
pub struct ManagerConfig {
    /// Where the state files and service logs live. One manager runs per directory: it
    /// holds the directory's lock (see [`crate::lock`]) while it runs.
    pub state_dir: PathBuf,
    /// The name a second supervisor on the same state directory is told is running
    /// ("clara-supervisor" by default; the desktop app says "ClaraVerse").
    pub holder: String,
    /// The program started as the orphan guard (with `__clara-guard`); `None` runs without
    /// one (services may then outlive a crash of the supervisor).
    pub guard_program: Option<PathBuf>,
    /// How long a service that gave up (crash loop, failed start) waits before a new try.
    pub retry_after_giving_up: Duration,
    /// Lines of output kept in memory per service.
    pub log_lines: usize,
    /// Size at which a service's log file is rotated.
    pub log_file_max_bytes: u64,
    /// Rotated log files kept per service.
    pub log_files_kept: usize,
    /// Where the Docker engine is (`unix:///…`, `npipe://…`, `tcp://…`); `None` looks in
    /// DOCKER_HOST and then the usual places.
    pub docker_host: Option<String>,
    /// How often an unreachable Docker engine is asked again.
    pub engine_recheck: Duration,
    /// What names the definitions among those run on this state directory: the file's
    /// path, or `catalog` for the built-in one. With the directory, it makes the project
    /// whose containers are ours (see [`crate::runtime::docker::spec::project`]).
    pub definitions_name: String,
}

impl ManagerConfig {
    /// Defaults, with state in `state_dir` and this executable as the guard.
    pub fn new(state_dir: impl Into<PathBuf>) -> Self {
        ManagerConfig {
            state_dir: state_dir.into(),
            holder: "clara-supervisor".to_string(),
            guard_program: Some(guard::default_program()),
            retry_after_giving_up: Duration::from_secs(300),
            log_lines: 1000,
            log_file_max_bytes: 10 * 1024 * 1024,
            log_files_kept: 3,
            docker_host: None,
            engine_recheck: Duration::from_secs(3),
            definitions_name: CATALOG.to_string(),
        }
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManagerError {
    /// No service has this name.
    #[error("there is no service \"{name}\"{}", .suggestion.as_ref().map(|s| format!(" ({s})")).unwrap_or_default())]
    UnknownService {
        /// The name asked for.
        name: String,
        /// A did-you-mean hint.
        suggestion: Option<String>,
    },
    /// The service belongs to a feature that is off.
    #[error(
        "service \"{name}\" belongs to feature \"{feature}\", which is off: turn the feature on first"
    )]
    FeatureOff {
        /// The service.
        name: String,
        /// Its feature.
        feature: String,
    },
    /// The features asked for are not valid.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Features(Vec<Diagnostic>),
    /// The service cannot be the user's own server at that URL (a sentence why).
    #[error("{0}")]
    OwnServer(String),
    /// The service cannot take its programs from a folder (a sentence why).
    #[error("{0}")]
    Programs(String),
    /// The manager has shut down.
    #[error("the supervisor has shut down")]
    ShutDown,
    /// The manager failed on an internal error (a bug); its services were stopped.
    #[error("{0}")]
    Failed(String),
    /// The state directory is held by another supervisor, or cannot be used: nothing was
    /// started, read or killed.
    #[error("{0}")]
    Lock(LockError),
}

impl ManagerError {
    fn unknown(name: &str, known: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        let known: Vec<String> = known.into_iter().map(|k| k.as_ref().to_string()).collect();
        ManagerError::UnknownService {
            name: name.to_string(),
            suggestion: suggest::did_you_mean(name, known.iter().map(String::as_str)),
        }
    }
}

type Reply<T> = oneshot::Sender<T>;

/// Where a service's programs come from, as the user chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgramsChoice {
    /// From this folder the user has; `None`: downloaded (saved as an empty folder, which
    /// the programs the app ships do not replace).
    Folder(Option<PathBuf>),
    /// This build of them (`install.variants`); `None`: the best this machine can run.
    Build(Option<Accelerator>),
    /// Its models from this folder (the prepare step's `models_variable`); `None`: the
    /// default folder.
    Models(Option<PathBuf>),
}

/// A request to the actor.
enum Command {
    StartAll(Reply<()>),
    StopAll(Reply<()>),
    Start(String, Reply<Result<(), ManagerError>>),
    Stop(String, Reply<Result<Vec<String>, ManagerError>>),
    Restart(String, Reply<Result<(), ManagerError>>),
    SetFeatures(BTreeSet<String>, Reply<Result<Selection, ManagerError>>),
    UseOwnServer(String, Option<String>, Reply<Result<(), ManagerError>>),
    UsePrograms(
        Box<Service>,
        ProgramsChoice,
        Reply<Result<(), ManagerError>>,
    ),
    Restore(Box<Choices>, Reply<Result<bool, ManagerError>>),
    Shutdown(Reply<()>),
    Status(Reply<Vec<ServiceStatus>>),
    Subscribe(Reply<(Snapshot, broadcast::Receiver<Event>)>),
    Logs(String, usize, Reply<Result<Vec<LogLine>, ManagerError>>),
    FollowLogs(
        String,
        Reply<Result<broadcast::Receiver<LogLine>, ManagerError>>,
    ),
    Features(Reply<BTreeSet<String>>),
    OwnServers(Reply<BTreeMap<String, String>>),
}

/// A handle to the manager. Clone it freely; every clone talks to the same actor.
#[derive(Debug, Clone)]
pub struct Manager {
    commands: mpsc::Sender<Command>,
    /// How the actor ended, once it has.
    ended: watch::Receiver<Option<Ended>>,
}

/// What the manager found and did when it started, worth telling the user.
#[derive(Debug, Clone, Default)]
pub struct StartNotes {
    /// Leftovers of a crashed previous run that were cleaned up.
    pub cleaned_up: Vec<String>,
    /// Problems with the saved state that were worked around.
    pub warnings: Vec<String>,
}

impl Manager {
    /// Starts the manager for `definitions` (no service starts until [`Manager::start_all`]).
    ///
    /// `features`: the features to turn on, remembered for next time; `None` restores the
    /// user's saved choice, or the defaults. Must be called inside a tokio runtime.
    ///
    /// The state directory's lock is taken first: when another supervisor holds it, this
    /// returns [`ManagerError::Lock`] having started, read and killed nothing. The manager
    /// keeps the lock until [`Manager::shutdown`] has stopped every service.
    pub fn start(
        definitions: Definitions,
        features: Option<BTreeSet<String>>,
        config: ManagerConfig,
    ) -> Result<(Manager, StartNotes), ManagerError> {
        let lock =
            StateLock::acquire(&config.state_dir, &config.holder).map_err(ManagerError::Lock)?;
        let state_token = mark::state_token(&config.state_dir).unwrap_or_else(|error| {
            tracing::warn!(
                "cannot keep the state directory's mark in {}: {error}; the leftovers of an earlier crash may not be found",
                config.state_dir.display()
            );
            mark::new_state_token()
        });
        let run_mark = Arc::new(RunMark::new(&state_token));
        let guard = match &config.guard_program {
            Some(program) => Guard::start(program, run_mark.prefix()).unwrap_or_else(|error| {
                tracing::error!(
                    "cannot start the orphan guard {}: {error}",
                    program.display()
                );
                Guard::none()
            }),
            None => Guard::none(),
        };
        let (process, instances) = ProcessRuntime::new(guard, run_mark);
        let (actor, notes) =
            boot::boot(definitions, features, config, process, &state_token, lock)?;
        let (commands, receiver) = mpsc::channel(64);
        let (ended_in, ended) = watch::channel(None);
        tokio::spawn(failure::watch_actor(
            tokio::spawn(actor.run(receiver)),
            instances,
            ended_in,
        ));
        Ok((Manager { commands, ended }, notes))
    }

    async fn ask<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T, ManagerError> {
        let (reply, answer) = oneshot::channel();
        if self.commands.send(command(reply)).await.is_err() {
            return Err(self.why_gone().await);
        }
        match answer.await {
            Ok(answer) => Ok(answer),
            Err(_) => Err(self.why_gone().await),
        }
    }

    /// Why the actor no longer answers: it shut down, or it failed (once its services have
    /// been stopped).
    async fn why_gone(&self) -> ManagerError {
        let mut ended = self.ended.clone();
        match ended.wait_for(Option::is_some).await.as_deref() {
            Ok(Some(Ended::Failed(sentence))) => ManagerError::Failed(sentence.clone()),
            _ => ManagerError::ShutDown,
        }
    }

    /// Starts every selected service that the user has not stopped, each as soon as its
    /// dependencies are ready. Returns at once; events tell the progress.
    pub async fn start_all(&self) -> Result<(), ManagerError> {
        self.ask(Command::StartAll).await
    }

    /// Stops every service, dependents first; returns when all have stopped.
    pub async fn stop_all(&self) -> Result<(), ManagerError> {
        self.ask(Command::StopAll).await
    }

    /// Starts one service (and what it needs); it stays wanted until stopped.
    pub async fn start_service(&self, name: &str) -> Result<(), ManagerError> {
        self.ask(|reply| Command::Start(name.to_string(), reply))
            .await?
    }

    /// Stops one service and, first, what depends on it; the user's choice is remembered.
    /// Returns the services that stop.
    pub async fn stop_service(&self, name: &str) -> Result<Vec<String>, ManagerError> {
        self.ask(|reply| Command::Stop(name.to_string(), reply))
            .await?
    }

    /// Restarts one service, whatever its state; forgets its crash history.
    pub async fn restart_service(&self, name: &str) -> Result<(), ManagerError> {
        self.ask(|reply| Command::Restart(name.to_string(), reply))
            .await?
    }

    /// Runs `name` as the user's own server at `url` (only checked there), or with `None`
    /// as its definition says again; saved, and applied at once.
    pub async fn use_own_server(
        &self,
        name: &str,
        url: Option<String>,
    ) -> Result<(), ManagerError> {
        self.ask(|reply| Command::UseOwnServer(name.to_string(), url, reply))
            .await?
    }

    /// Runs `service` (a new definition of a service, read with `choice` applied) from now
    /// on, restarting it if it runs, and saves the choice. A folder is checked by the
    /// caller first (see [`crate::install::check_folder`]).
    pub async fn use_programs(
        &self,
        service: Service,
        choice: ProgramsChoice,
    ) -> Result<(), ManagerError> {
        self.ask(|reply| Command::UsePrograms(Box::new(service), choice, reply))
            .await?
    }

    /// Puts back saved choices (a restored backup) at once: features, services stopped by
    /// hand, the user's own servers. Folders are saved and apply at the next launch; the
    /// answer says whether they changed.
    pub async fn restore_choices(&self, choices: Choices) -> Result<bool, ManagerError> {
        self.ask(|reply| Command::Restore(Box::new(choices), reply))
            .await?
    }

    /// Turns exactly these features on, starting and stopping services to match.
    pub async fn set_features(
        &self,
        features: BTreeSet<String>,
    ) -> Result<Selection, ManagerError> {
        self.ask(|reply| Command::SetFeatures(features, reply))
            .await?
    }

    /// Stops everything, dependents first, and ends the manager.
    pub async fn shutdown(&self) -> Result<(), ManagerError> {
        self.ask(Command::Shutdown).await
    }

    /// The status of every service, in start order.
    pub async fn status(&self) -> Result<Vec<ServiceStatus>, ManagerError> {
        self.ask(Command::Status).await
    }

    /// A snapshot of every service, then every event after it.
    pub async fn subscribe(&self) -> Result<(Snapshot, broadcast::Receiver<Event>), ManagerError> {
        self.ask(Command::Subscribe).await
    }

    /// The features that are on.
    pub async fn features(&self) -> Result<BTreeSet<String>, ManagerError> {
        self.ask(Command::Features).await
    }

    /// The services run as the user's own servers, with their URLs.
    pub async fn own_servers(&self) -> Result<BTreeMap<String, String>, ManagerError> {
        self.ask(Command::OwnServers).await
    }

    /// Every new line of a service's output, from now on.
    pub async fn follow_logs(
        &self,
        name: &str,
    ) -> Result<broadcast::Receiver<LogLine>, ManagerError> {
        self.ask(|reply| Command::FollowLogs(name.to_string(), reply))
            .await?
    }

    /// The last `lines` lines of a service's output.
    pub async fn logs(&self, name: &str, lines: usize) -> Result<Vec<LogLine>, ManagerError> {
        self.ask(|reply| Command::Logs(name.to_string(), lines, reply))
            .await?
    }
}
