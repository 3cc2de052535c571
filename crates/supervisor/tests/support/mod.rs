//! Shared by the integration tests: a manager on a definitions text, and waiting for
//! events with generous timeouts (never fixed sleeps).

#![allow(dead_code)]

#[cfg(unix)]
pub mod up;

pub mod release;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clara_supervisor::definitions::Variables;
use clara_supervisor::diagnostics::SourceFile;
use clara_supervisor::events::{Event, EventKind};
use clara_supervisor::load::{self, LoadOptions};
use clara_supervisor::manager::{Manager, ManagerConfig, definitions_name};
use clara_supervisor::platform::Platform;
use clara_supervisor::selection::FeatureChoice;
use clara_supervisor::state::ServiceState;
use clara_supervisor::status::ServiceStatus;
use tokio::sync::broadcast;

/// How long any one expected event may take: generous, for slow CI machines.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// The CLI binary, which also serves as the orphan guard.
pub fn supervisor_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_clara-supervisor"))
}

/// The tests' manager configuration: state in `state_dir`, the CLI binary as the guard.
/// The definitions count as the file `services.toml` beside the state folder, which is
/// where the tests that run the CLI on the same folder write them.
pub fn config(state_dir: &Path) -> ManagerConfig {
    let mut config = ManagerConfig::new(state_dir);
    config.guard_program = Some(supervisor_binary());
    config.retry_after_giving_up = Duration::from_secs(3600);
    config.definitions_name = definitions_name(&definitions_file(state_dir));
    config
}

fn definitions_file(state_dir: &Path) -> PathBuf {
    state_dir
        .parent()
        .unwrap_or(state_dir)
        .join("services.toml")
}

/// The project (`claraverse.project` label) of the containers a harness on `state_dir`
/// makes.
pub fn project_of(state_dir: &Path) -> String {
    let token = clara_supervisor::runtime::mark::state_token(state_dir).expect("a state token");
    clara_supervisor::runtime::docker::spec::project(
        &token,
        &definitions_name(&definitions_file(state_dir)),
    )
}

/// A manager running `definitions`, with everything it writes in a temporary folder.
pub struct Harness {
    pub manager: Manager,
    pub dir: tempfile::TempDir,
    events: broadcast::Receiver<Event>,
    /// Every event received so far.
    pub seen: Vec<Event>,
}

/// `${DIR}` in a definitions text becomes the harness's temporary folder.
pub fn definitions(text: &str, dir: &Path) -> clara_supervisor::definitions::Definitions {
    let options = LoadOptions {
        platform: Platform::current(),
        variables: Variables::new(
            [
                ("DIR".to_string(), dir.display().to_string()),
                (
                    "PATH".to_string(),
                    std::env::var("PATH").unwrap_or_default(),
                ),
            ],
            dir.join("home"),
        ),
        features: FeatureChoice::Defaults,
    };
    match load::load(&SourceFile::new("test.toml", text), &options) {
        Ok(loaded) => loaded.definitions,
        Err(error) => panic!("test definitions are invalid: {:#?}", error.errors),
    }
}

impl Harness {
    /// Starts a manager (not the services) on `text`.
    pub async fn new(text: &str) -> Harness {
        let dir = tempfile::tempdir().expect("a temporary folder");
        Harness::in_dir(text, dir, None).await
    }

    /// Starts a manager on `text` in `dir`, with `features` if given.
    pub async fn in_dir(
        text: &str,
        dir: tempfile::TempDir,
        features: Option<BTreeSet<String>>,
    ) -> Harness {
        let definitions = definitions(text, dir.path());
        let config = config(&dir.path().join("state"));
        let (manager, _notes) =
            Manager::start(definitions, features, config).expect("the manager starts");
        let (_, events) = manager.subscribe().await.expect("subscribes");
        Harness {
            manager,
            dir,
            events,
            seen: Vec::new(),
        }
    }

    /// Starts the manager and all services.
    pub async fn up(text: &str) -> Harness {
        let harness = Harness::new(text).await;
        harness.manager.start_all().await.expect("starts");
        harness
    }

    /// A path inside the temporary folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Waits for the first new event matching `wanted`, and returns it.
    pub async fn wait_for(&mut self, what: &str, wanted: impl Fn(&Event) -> bool) -> Event {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let event = match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Ok(Ok(event)) => event,
                Ok(Err(error)) => {
                    panic!("the event stream failed ({error}) while waiting for {what}")
                }
                Err(_) => panic!(
                    "timed out waiting for {what}; events so far:\n{}",
                    self.history()
                ),
            };
            self.seen.push(event.clone());
            if wanted(&event) {
                return event;
            }
        }
    }

    /// Waits until `name` enters `state`; returns the reason given.
    pub async fn wait_state(&mut self, name: &str, state: ServiceState) -> Option<String> {
        let event = self
            .wait_for(&format!("{name} to become {state}"), |event| {
                matches!(&event.kind, EventKind::ServiceStateChanged { name: n, current_state, .. }
                    if n == name && *current_state == state)
            })
            .await;
        match event.kind {
            EventKind::ServiceStateChanged { reason, .. } => reason,
            _ => None,
        }
    }

    /// Waits for the end of the start-up; returns the event.
    pub async fn wait_startup(&mut self) -> EventKind {
        self.wait_for("the start-up to end", |event| {
            matches!(
                event.kind,
                EventKind::StartupComplete { .. } | EventKind::StartupFailed { .. }
            )
        })
        .await
        .kind
    }

    /// The events seen so far, one per line.
    pub fn history(&self) -> String {
        self.seen
            .iter()
            .map(|event| format!("  {}\n", event.kind))
            .collect()
    }

    /// The position in `seen` of the first change of `name` into `state`.
    pub fn position(&self, name: &str, state: ServiceState) -> usize {
        self.seen
            .iter()
            .position(|event| {
                matches!(&event.kind, EventKind::ServiceStateChanged { name: n, current_state, .. }
                    if n == name && *current_state == state)
            })
            .unwrap_or_else(|| panic!("{name} never became {state}:\n{}", self.history()))
    }

    /// Takes every event already delivered into `seen`.
    pub fn collect(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.seen.push(event);
        }
    }

    /// The status of `name` now.
    pub async fn status_of(&self, name: &str) -> ServiceStatus {
        self.manager
            .status()
            .await
            .expect("status")
            .into_iter()
            .find(|status| status.name == name)
            .unwrap_or_else(|| panic!("{name} is not a service"))
    }

    /// Stops everything and ends the manager.
    pub async fn shutdown(&mut self) {
        tokio::time::timeout(PATIENCE, self.manager.shutdown())
            .await
            .expect("shuts down in time")
            .expect("shuts down");
        self.collect();
    }
}

/// Runs the docker CLI with `args`; its output, trimmed.
pub fn docker(args: &[&str]) -> String {
    let output = std::process::Command::new("docker")
        .args(args)
        .output()
        .expect("the docker CLI runs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Whether a process with this pid exists (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits until `condition` holds, checking every 10 ms, for at most `limit`.
pub async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    condition()
}

/// Reads a pid written by a test service into a file, waiting for it to appear.
pub async fn read_pid(path: &Path) -> u32 {
    let mut pid = None;
    let found = eventually(PATIENCE, || {
        pid = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse().ok());
        pid.is_some()
    })
    .await;
    assert!(found, "{} never held a pid", path.display());
    pid.unwrap_or_default()
}

/// The live processes whose environment has `CLARA_TEST_TAG=tag`, each with its supervisor
/// mark (`CLARA_SUPERVISOR_MARK`) when it has one.
#[cfg(target_os = "linux")]
pub fn tagged(tag: &str) -> Vec<(u32, Option<String>)> {
    let wanted = format!("CLARA_TEST_TAG={tag}");
    std::fs::read_dir("/proc")
        .expect("/proc is readable")
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let environment = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
            let mut entries = environment.split(|&byte| byte == 0);
            if !entries.clone().any(|entry| entry == wanted.as_bytes()) {
                return None;
            }
            let mark = entries
                .find_map(|entry| entry.strip_prefix(b"CLARA_SUPERVISOR_MARK="))
                .map(|mark| String::from_utf8_lossy(mark).into_owned());
            Some((pid, mark))
        })
        .collect()
}
