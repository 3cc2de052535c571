//! The checked, platform-resolved service definitions that the rest of the engine uses.
//!
//! Values here are final: variables are expanded, the platform override is merged,
//! durations are parsed and every reference points at something that exists.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::diagnostics::Location;
use crate::graph::DependencyGraph;

/// Every feature and service of one definitions file, for one platform.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Definitions {
    /// Features by name.
    pub features: BTreeMap<String, Feature>,
    /// Services by name.
    pub services: BTreeMap<String, Service>,
}

/// A user-facing switch that turns a group of services on or off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Feature {
    /// The feature's name, as written in the file.
    pub name: String,
    /// A short human label, shown in the feature picker.
    pub label: String,
    /// A longer explanation, when the file gives one.
    pub description: Option<String>,
    /// Whether the feature is on when the user has not chosen.
    pub default: bool,
}

/// One service: what runs, what it needs, how its health is judged and how it restarts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Service {
    /// The service's name, unique in the file.
    pub name: String,
    /// What the service does, for people.
    pub description: Option<String>,
    /// The feature that switches it on; `None` means it always runs.
    pub feature: Option<String>,
    /// A critical service that cannot start fails the whole start-up.
    pub critical: bool,
    /// How it is run.
    pub runtime: RuntimeKind,
    /// Working directory of a native process.
    pub cwd: Option<PathBuf>,
    /// Environment variables given to the process or container.
    pub env: BTreeMap<String, String>,
    /// Ports it publishes (containers) or listens on (native processes).
    pub ports: Vec<PortMapping>,
    /// Volumes mounted into a container.
    pub volumes: Vec<Volume>,
    /// Whether a container gets the GPU.
    pub gpu: GpuMode,
    /// Extra environment for a container that runs without a GPU.
    pub cpu_env: BTreeMap<String, String>,
    /// What must be true of other services before this one starts.
    pub depends_on: Vec<Dependency>,
    /// How readiness and liveness are probed; `None` means "running once started".
    pub health: Option<HealthCheck>,
    /// When and how fast it is restarted.
    pub restart: RestartPolicy,
    /// The signal asking it to stop.
    pub stop_signal: StopSignal,
    /// How long it may take to stop before it is killed.
    #[serde(with = "duration_text")]
    pub stop_timeout: Duration,
    /// Without a health check: how long it must stay up to count as running; an exit
    /// before that is a failed start. Not part of its identity: it changes no container.
    #[serde(skip)]
    pub min_uptime: Duration,
    /// Roughly how much its first start downloads (an image, programs), in bytes, from
    /// `download = "4.5 GB"`: for people choosing features. Not part of its identity, so a
    /// new estimate replaces no container.
    #[serde(skip)]
    pub download_bytes: Option<u64>,
    /// The health path checked at the user's own server when the user runs this service
    /// himself (`own_server = "/healthz"`); `None`: ClaraVerse always runs it. Not part of
    /// its identity.
    #[serde(skip)]
    pub own_server: Option<String>,
    /// Where its program is downloaded from when this machine lacks it; `None` when it
    /// has no `install` table, or when the program is in a folder the app ships or the
    /// user chose. Not part of its identity.
    #[serde(skip)]
    pub install: Option<Install>,
    /// Where its programs are (`${PROGRAM_DIR}`), for a service with an `install` table.
    /// Not part of its identity.
    #[serde(skip)]
    pub programs: Option<Programs>,
    /// What is made ready before each start of a native program (its config written…).
    /// Not part of its identity.
    #[serde(skip)]
    pub prepare: Option<Prepare>,
    /// Where the service is defined, for messages (not part of its identity).
    #[serde(skip)]
    pub location: Option<Location>,
}

impl Service {
    /// The URL of the user's own server this service is, when the user runs it himself (an
    /// external service that may be the user's: see [`crate::definitions::own_server`]).
    pub fn own_server_url(&self) -> Option<&str> {
        match (&self.runtime, &self.own_server) {
            (RuntimeKind::External { url }, Some(_)) => Some(url),
            _ => None,
        }
    }
}

/// How a service runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum RuntimeKind {
    /// A Docker container from `image`; `command` overrides the image's command.
    Container {
        /// Image reference, e.g. `clara17verse/clara-backend:latest`.
        image: String,
        /// Replacement for the image's command.
        command: Option<Vec<String>>,
    },
    /// A native process started from an argument vector (never through a shell).
    Process {
        /// Program and arguments.
        command: Vec<String>,
    },
    /// A service started by someone else, only health-checked at `url`.
    External {
        /// Where the service answers.
        url: String,
    },
    /// The container engine itself: nothing is started, it is healthy when it answers a ping.
    Engine,
}

impl RuntimeKind {
    /// A short name for messages: `container`, `process`, `external` or `engine`.
    pub fn kind(&self) -> &'static str {
        match self {
            RuntimeKind::Container { .. } => "container",
            RuntimeKind::Process { .. } => "process",
            RuntimeKind::External { .. } => "external",
            RuntimeKind::Engine => "engine",
        }
    }
}

/// Where a native service's programs come from when this machine lacks them
/// (`[services.NAME.install]`, or several `[[services.NAME.install]]`): pinned releases,
/// downloaded, verified and unpacked together into one folder before the service's first
/// start. The folder is complete or absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Install {
    /// What is downloaded, in order.
    pub parts: Vec<Download>,
    /// Where all of it is installed, the value of `${PROGRAM_DIR}`:
    /// `${CLARA_HOME}/programs/SERVICE/VERSION`, with the versions of several parts joined
    /// by `+`, and each chosen build after its version (`250+b11195-vulkan`).
    pub folder: PathBuf,
}

/// The folder of a service's programs: `${PROGRAM_DIR}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programs {
    /// The folder now: where they are downloaded to, or a folder the app ships or the
    /// user chose.
    pub folder: PathBuf,
    /// The variable that names a folder to use instead of downloading (`folder_variable`).
    pub variable: Option<String>,
}

/// One release download of an [`Install`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The program's name for people, e.g. `llama-swap` (the service's name by default).
    pub program: String,
    /// The pinned version.
    pub version: String,
    /// Where the release is downloaded from, with `{version}` and `{variant}` replaced.
    pub url: String,
    /// How the download is verified.
    pub checksum: Checksum,
    /// What the download is.
    pub archive: Archive,
    /// The subfolder of the program folder it is unpacked into; `None`: the folder itself.
    pub into: Option<String>,
    /// The build chosen for this machine, when the release offers several (`variants`).
    pub variant: Option<String>,
    /// Every build the release offers, by name (empty: it has one).
    pub variants: Vec<String>,
}

/// How a download is verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// Its SHA-256, pinned in the definitions (lowercase hex).
    Sha256(String),
    /// The release's own list of sums at this URL, where the entry for the download's
    /// file name gives its SHA-256: `HASH  FILE` lines, or a GitHub release's JSON (each
    /// asset's `digest`).
    List(String),
}

/// What a download is, and how it is unpacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    /// A gzip-compressed tar archive.
    TarGz,
    /// A zip archive.
    Zip,
    /// The program itself, saved under the download's file name.
    File,
}

impl Archive {
    /// Every kind, in the order used in messages.
    pub const ALL: [Archive; 3] = [Archive::TarGz, Archive::Zip, Archive::File];

    /// The name used in definitions files.
    pub fn name(self) -> &'static str {
        match self {
            Archive::TarGz => "tar.gz",
            Archive::Zip => "zip",
            Archive::File => "file",
        }
    }

    /// The kind a download's URL suggests by its ending: `.tar.gz` or `.tgz`, `.zip`, or
    /// else a plain file.
    pub fn from_url(url: &str) -> Archive {
        let path = url.split(['?', '#']).next().unwrap_or_default();
        if path.ends_with(".tar.gz") || path.ends_with(".tgz") {
            Archive::TarGz
        } else if path.ends_with(".zip") {
            Archive::Zip
        } else {
            Archive::File
        }
    }
}

impl Install {
    /// The build downloaded, when a part offers several (`variants`).
    pub fn build(&self) -> Option<&str> {
        self.parts.iter().find_map(|part| part.variant.as_deref())
    }

    /// Every build its parts offer, by name, without repeats.
    pub fn builds(&self) -> std::collections::BTreeSet<&str> {
        self.parts
            .iter()
            .flat_map(|part| part.variants.iter().map(String::as_str))
            .collect()
    }
}

impl Download {
    /// The name of the downloaded file: the last part of the URL's path.
    pub fn file_name(&self) -> &str {
        let path = self.url.split(['?', '#']).next().unwrap_or_default();
        path.rsplit('/').next().unwrap_or_default()
    }
}

/// What is made ready before each start of a native service (`[services.NAME.prepare]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepare {
    /// `kind = "llama-swap-config"`: llama-swap's config, written from the GGUF models
    /// found in `models`, each run by the llama.cpp server `server`.
    LlamaSwapConfig {
        /// The config file written.
        config: PathBuf,
        /// The folders searched for models, in order; absent ones are skipped.
        models: Vec<PathBuf>,
        /// The folder variable the first of them comes from (`models_variable`), which the
        /// user may set to another folder.
        models_variable: Option<String>,
        /// The llama.cpp server program (`llama-server`), a path or a name on the PATH.
        server: String,
    },
}

impl Prepare {
    /// Every kind, by the name used in definitions files.
    pub const KINDS: [&'static str; 1] = ["llama-swap-config"];
}

/// Whether a container asks for the GPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GpuMode {
    /// NVIDIA GPUs when Docker has the NVIDIA runtime, else the CPU (with `cpu_env`).
    Auto,
    /// NVIDIA GPUs, or the service cannot start.
    Required,
    /// The CPU only (the default).
    #[default]
    Off,
}

impl GpuMode {
    /// Every mode, in the order used in messages.
    pub const ALL: [GpuMode; 3] = [GpuMode::Auto, GpuMode::Required, GpuMode::Off];

    /// The name used in definitions files.
    pub fn name(self) -> &'static str {
        match self {
            GpuMode::Auto => "auto",
            GpuMode::Required => "required",
            GpuMode::Off => "off",
        }
    }
}

/// The transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP, the default.
    Tcp,
    /// UDP.
    Udp,
}

/// A port: `[HOST_IP:]HOST_PORT:CONTAINER_PORT[/udp]`, or one port for both sides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortMapping {
    /// The host address it is bound to; 127.0.0.1 unless the file names another.
    pub host_ip: IpAddr,
    /// The port on the host.
    pub host_port: u16,
    /// The port inside the container (equal to `host_port` for native processes).
    pub container_port: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
    /// Where the port is written, for messages (not part of its identity).
    #[serde(skip)]
    pub location: Option<Location>,
}

/// A volume mounted into a container: `SOURCE:TARGET[:ro]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Volume {
    /// A host path (bind mount) or a named volume.
    pub source: VolumeSource,
    /// Where it appears inside the container.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// Where a volume's data lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "lowercase")]
pub enum VolumeSource {
    /// A directory or file of the host, by absolute path.
    Bind(PathBuf),
    /// A Docker named volume.
    Named(String),
}

/// What "ready" means for a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Condition {
    /// Started and passing its health check (the default).
    Healthy,
    /// Started; health not awaited.
    Started,
    /// Ran to completion with exit code 0 (one-shot jobs such as migrations).
    Completed,
}

impl Condition {
    /// Every condition, in the order used in messages.
    pub const ALL: [Condition; 3] = [Condition::Healthy, Condition::Started, Condition::Completed];

    /// The name used in definitions files.
    pub fn name(self) -> &'static str {
        match self {
            Condition::Healthy => "healthy",
            Condition::Started => "started",
            Condition::Completed => "completed",
        }
    }
}

/// One edge of the dependency graph: this service needs `service` to meet `condition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// The service depended on.
    pub service: String,
    /// What it must reach before the dependent starts.
    pub condition: Condition,
    /// Restart the dependent whenever the dependency restarts.
    pub restart: bool,
    /// Where the dependency is written, for messages (not part of its identity).
    #[serde(skip)]
    pub location: Option<Location>,
}

/// A readiness and liveness probe with its timing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthCheck {
    /// What is probed.
    pub probe: Probe,
    /// Time between liveness probes once the service is ready.
    #[serde(with = "duration_text")]
    pub interval: Duration,
    /// How long one probe may take.
    #[serde(with = "duration_text")]
    pub timeout: Duration,
    /// Consecutive failures before the service counts as unhealthy.
    pub retries: u32,
    /// How long the service has to become ready after it starts.
    #[serde(with = "duration_text")]
    pub start_period: Duration,
}

impl HealthCheck {
    /// [`interval`](Self::interval) when the definitions do not give one.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);
    /// The shortest [`interval`](Self::interval) a definition may give.
    pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
    /// [`timeout`](Self::timeout) when the definitions do not give one.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
    /// [`retries`](Self::retries) when the definitions do not give them.
    pub const DEFAULT_RETRIES: u32 = 3;
    /// [`start_period`](Self::start_period) when the definitions do not give one.
    pub const DEFAULT_START_PERIOD: Duration = Duration::from_secs(60);

    /// A check of `probe` with the default timing: what a service gets that names only a
    /// probe, and what an external service without a health check is probed with.
    pub fn with_default_timing(probe: Probe) -> HealthCheck {
        HealthCheck {
            probe,
            interval: HealthCheck::DEFAULT_INTERVAL,
            timeout: HealthCheck::DEFAULT_TIMEOUT,
            retries: HealthCheck::DEFAULT_RETRIES,
            start_period: HealthCheck::DEFAULT_START_PERIOD,
        }
    }
}

/// The kinds of health probe.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Probe {
    /// An HTTP GET; healthy on 2xx/3xx, or on `status` when given, and when the body
    /// contains `body` when given.
    Http {
        /// The URL to fetch.
        url: String,
        /// The exact status expected, if not any 2xx/3xx.
        status: Option<u16>,
        /// Text the response body must contain.
        body: Option<String>,
    },
    /// A TCP connection to `address` (`host:port`).
    Tcp {
        /// `host:port` to connect to.
        address: String,
    },
    /// A command that exits 0 when healthy (inside the container, for a container).
    Exec {
        /// Program and arguments.
        command: Vec<String>,
    },
    /// A line of the service's output matching a regular expression.
    Log {
        /// The regular expression (checked when the file is loaded).
        pattern: String,
    },
    /// The container image's own HEALTHCHECK, as Docker reports it.
    Docker,
}

impl Probe {
    /// The probe's key in the file: `http`, `tcp`, `exec` or `log`.
    pub fn kind(&self) -> &'static str {
        match self {
            Probe::Http { .. } => "http",
            Probe::Tcp { .. } => "tcp",
            Probe::Exec { .. } => "exec",
            Probe::Log { .. } => "log",
            Probe::Docker => "docker",
        }
    }
}

/// When a service is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartMode {
    /// Never restarted automatically.
    Never,
    /// Restarted when it exits with an error or becomes unhealthy.
    OnFailure,
    /// Restarted whenever it exits.
    Always,
}

impl RestartMode {
    /// Every mode, in the order used in messages.
    pub const ALL: [RestartMode; 3] = [
        RestartMode::Never,
        RestartMode::OnFailure,
        RestartMode::Always,
    ];

    /// The name used in definitions files.
    pub fn name(self) -> &'static str {
        match self {
            RestartMode::Never => "never",
            RestartMode::OnFailure => "on-failure",
            RestartMode::Always => "always",
        }
    }
}

/// Restart policy with exponential backoff and a crash-loop limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RestartPolicy {
    /// When to restart.
    pub policy: RestartMode,
    /// More restarts than this within `window` means a crash loop: give up for a while.
    pub max_restarts: u32,
    /// The window in which restarts are counted.
    #[serde(with = "duration_text")]
    pub window: Duration,
    /// Delay before the first restart; doubles each time.
    #[serde(with = "duration_text")]
    pub backoff: Duration,
    /// The longest delay between restarts.
    #[serde(with = "duration_text")]
    pub max_backoff: Duration,
}

impl Default for RestartPolicy {
    fn default() -> Self {
        RestartPolicy {
            policy: RestartMode::OnFailure,
            max_restarts: 5,
            window: Duration::from_secs(600),
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// The signal that asks a native service to stop (containers get the same request
/// through the Docker API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StopSignal {
    /// SIGTERM, the default.
    Term,
    /// SIGINT, as Ctrl-C.
    Int,
    /// SIGQUIT.
    Quit,
    /// SIGHUP.
    Hup,
    /// SIGUSR1.
    Usr1,
    /// SIGUSR2.
    Usr2,
    /// SIGKILL: no graceful stop at all.
    Kill,
}

impl StopSignal {
    /// Every signal, in the order used in messages.
    pub const ALL: [StopSignal; 7] = [
        StopSignal::Term,
        StopSignal::Int,
        StopSignal::Quit,
        StopSignal::Hup,
        StopSignal::Usr1,
        StopSignal::Usr2,
        StopSignal::Kill,
    ];

    /// The conventional name, e.g. `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Term => "SIGTERM",
            StopSignal::Int => "SIGINT",
            StopSignal::Quit => "SIGQUIT",
            StopSignal::Hup => "SIGHUP",
            StopSignal::Usr1 => "SIGUSR1",
            StopSignal::Usr2 => "SIGUSR2",
            StopSignal::Kill => "SIGKILL",
        }
    }
}

/// Durations serialize as the same text the file uses, e.g. `"1m 30s"`.
mod duration_text {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(
        value: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&humantime::format_duration(*value))
    }
}

/// The dependency graph of `services`: their names and their `depends_on` edges.
pub fn dependency_graph<'a, I>(services: I) -> DependencyGraph
where
    I: IntoIterator<Item = &'a Service>,
    I::IntoIter: Clone,
{
    let services = services.into_iter();
    DependencyGraph::new(
        services.clone().map(|s| s.name.as_str()),
        services.flat_map(|s| {
            s.depends_on
                .iter()
                .map(|d| (s.name.as_str(), d.service.as_str()))
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README states the health-check defaults in words; they must be the code's.
    #[test]
    fn the_readme_states_the_health_check_defaults() {
        let readme = include_str!("../../../../README.md");
        let words = readme.split_whitespace().collect::<Vec<_>>().join(" ");
        let stated = format!(
            "Defaults: health interval {}s, timeout {}s, retries {}, start_period {}s;",
            HealthCheck::DEFAULT_INTERVAL.as_secs(),
            HealthCheck::DEFAULT_TIMEOUT.as_secs(),
            HealthCheck::DEFAULT_RETRIES,
            HealthCheck::DEFAULT_START_PERIOD.as_secs(),
        );
        assert!(words.contains(&stated), "README.md should say: {stated}");
    }
}
