//! Docker through its API (bollard): finding the engine, containers, and the engine itself
//! as a service.

mod container;
mod engine;
pub mod legacy;
mod probe;
pub mod spec;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};
use tokio::sync::Mutex;

pub use container::ContainerRuntime;
pub use engine::EngineRuntime;

/// How long one attempt to reach an engine may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A client for a request the engine answers only after `wait` (a stop waits up to the
/// stop timeout): the connection's own timeout, a few seconds, would give up first and
/// leave the container running.
pub(crate) fn patient(client: &Docker, wait: Duration) -> Docker {
    client.clone().with_timeout(wait + Duration::from_secs(10))
}

/// An engine that answered: the client and where it was found.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The API client, version-negotiated.
    pub client: Docker,
    /// Where the engine was found, e.g. `unix:///var/run/docker.sock`.
    pub address: String,
    /// The engine's version, as it reports it.
    pub version: String,
    /// Whether the engine offers the NVIDIA runtime.
    pub nvidia: bool,
}

/// Why no engine answered: a sentence for people, and what was tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct EngineError {
    /// What is wrong and what to do.
    pub message: String,
    /// The places tried and what each said.
    pub detail: String,
}

impl From<EngineError> for crate::runtime::StartError {
    /// A service that needs the engine waits for it: worth trying again soon.
    fn from(error: EngineError) -> Self {
        crate::runtime::StartError {
            message: error.message,
            detail: Some(error.detail),
            cause: crate::status::FailureCause::EngineUnavailable,
        }
    }
}

/// The Docker engine, found once and shared by every container service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DockerEngine {
    explicit_host: Option<String>,
    /// The project whose containers are ours (see [`spec::project`]); no other is touched.
    project: Arc<str>,
    /// Container services of the definitions: our project's containers of other services
    /// are strays, removed whenever a connection is made.
    services: Arc<BTreeSet<String>>,
    /// The connection, once made (a cache, not service state).
    connection: Arc<Mutex<Option<Connection>>>,
}

impl DockerEngine {
    /// An engine at `explicit_host` (else `DOCKER_HOST`, else the usual places), for the
    /// container services named in `services` of `project`.
    pub fn new(explicit_host: Option<String>, project: &str, services: BTreeSet<String>) -> Self {
        DockerEngine {
            explicit_host: explicit_host
                .or_else(|| std::env::var("DOCKER_HOST").ok().filter(|h| !h.is_empty())),
            project: Arc::from(project),
            services: Arc::new(services),
            connection: Arc::new(Mutex::new(None)),
        }
    }

    /// The project whose containers are ours.
    pub fn project(&self) -> &str {
        &self.project
    }

    /// A connection that answers now: the cached one after a ping, or a new one.
    pub async fn connect(&self) -> Result<Connection, EngineError> {
        let mut cached = self.connection.lock().await;
        if let Some(connection) = cached.as_ref() {
            if pings(&connection.client, CONNECT_TIMEOUT).await {
                return Ok(connection.clone());
            }
            *cached = None;
        }
        let connection = self.find().await?;
        remove_strays(&connection.client, &self.project, &self.services).await;
        *cached = Some(connection.clone());
        Ok(connection)
    }

    /// Whether an engine answers, and where, without touching any container: for telling
    /// people what this machine has before anything runs.
    pub async fn probe(&self) -> Result<Connection, EngineError> {
        self.find().await
    }

    /// Tries each place an engine may be, in order; the first that answers wins.
    async fn find(&self) -> Result<Connection, EngineError> {
        let candidates = match &self.explicit_host {
            Some(host) => vec![host.clone()],
            None => candidate_addresses(),
        };
        let mut tried = Vec::new();
        let mut denied = None;
        let mut present = None;
        for address in &candidates {
            if let Some(path) = address.strip_prefix("unix://") {
                match std::fs::metadata(path) {
                    Err(_) => continue,
                    Ok(_) => present = present.or_else(|| Some(path.to_string())),
                }
            }
            match try_connect(address).await {
                Ok(connection) => return Ok(connection),
                Err(error) => {
                    if error.contains("ermission denied") {
                        denied =
                            denied.or_else(|| address.strip_prefix("unix://").map(str::to_string));
                    }
                    tried.push(format!("{address}: {error}"));
                }
            }
        }
        let detail = if tried.is_empty() {
            format!(
                "no engine socket exists; looked at {}",
                candidates.join(", ")
            )
        } else {
            tried.join("; ")
        };
        let message = match (&self.explicit_host, denied, present) {
            (Some(host), _, _) => format!(
                "Docker does not answer at {host}: start it, or correct DOCKER_HOST, then choose Retry."
            ),
            (None, Some(path), _) => format!(
                "Your user cannot reach {path}: add it to the docker group (sudo usermod -aG docker $USER), log out and in again, then choose Retry."
            ),
            (None, None, _) => not_running_sentence(),
        };
        Err(EngineError { message, detail })
    }
}

/// Whether the engine behind `client` answers a ping within `within`.
async fn pings(client: &Docker, within: Duration) -> bool {
    tokio::time::timeout(within, client.ping())
        .await
        .is_ok_and(|answer| answer.is_ok())
}

/// "Docker is not running", in the words that fit this OS.
fn not_running_sentence() -> String {
    if cfg!(target_os = "linux") {
        "Docker is not running. Start it (sudo systemctl start docker), then choose Retry."
            .to_string()
    } else {
        "Docker is not running. Start Docker Desktop, then choose Retry.".to_string()
    }
}

/// Where engines live: the platform default, then Docker Desktop, Colima, Rancher Desktop,
/// OrbStack, rootless Docker and Podman.
fn candidate_addresses() -> Vec<String> {
    if cfg!(windows) {
        return vec![
            "npipe:////./pipe/docker_engine".into(),
            "npipe:////./pipe/dockerDesktopLinuxEngine".into(),
            "npipe:////./pipe/podman-machine-default".into(),
        ];
    }
    let home = dirs::home_dir().unwrap_or_default();
    let runtime_dir = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
    let mut paths = vec![PathBuf::from("/var/run/docker.sock")];
    for relative in [
        ".docker/run/docker.sock",
        ".docker/desktop/docker.sock",
        ".colima/default/docker.sock",
        ".colima/docker.sock",
        ".rd/docker.sock",
        ".orbstack/run/docker.sock",
    ] {
        paths.push(home.join(relative));
    }
    if let Some(runtime_dir) = &runtime_dir {
        paths.push(runtime_dir.join("docker.sock"));
        paths.push(runtime_dir.join("podman/podman.sock"));
    }
    paths.push(PathBuf::from("/run/podman/podman.sock"));
    paths
        .into_iter()
        .map(|path| format!("unix://{}", path.display()))
        .collect()
}

async fn try_connect(address: &str) -> Result<Connection, String> {
    let timeout = CONNECT_TIMEOUT.as_secs();
    let client = match address.split_once("://").map(|(scheme, _)| scheme) {
        #[cfg(unix)]
        Some("unix") => Docker::connect_with_unix(address, timeout, bollard::API_DEFAULT_VERSION),
        #[cfg(windows)]
        Some("npipe") => {
            Docker::connect_with_named_pipe(address, timeout, bollard::API_DEFAULT_VERSION)
        }
        _ => Docker::connect_with_http(address, timeout, bollard::API_DEFAULT_VERSION),
    }
    .map_err(|error| error.to_string())?;
    let attempt = async {
        let client = client
            .negotiate_version()
            .await
            .map_err(|error| error.to_string())?;
        let info = client.info().await.map_err(|error| error.to_string())?;
        Ok::<_, String>((client, info))
    };
    let (client, info) = tokio::time::timeout(CONNECT_TIMEOUT, attempt)
        .await
        .map_err(|_| "no answer within 3 s".to_string())??;
    Ok(Connection {
        client,
        address: address.to_string(),
        version: info
            .server_version
            .unwrap_or_else(|| "unknown version".into()),
        nvidia: info
            .runtimes
            .is_some_and(|runtimes| runtimes.contains_key("nvidia")),
    })
}

/// Removes the containers of `project` whose service is no longer defined; no other.
async fn remove_strays(client: &Docker, project: &str, services: &BTreeSet<String>) {
    let filters = HashMap::from([(
        "label",
        vec![
            format!("{}=true", spec::LABEL_MANAGED),
            format!("{}={project}", spec::LABEL_PROJECT),
        ],
    )]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let Ok(containers) = client.list_containers(Some(options)).await else {
        return;
    };
    for container in containers {
        let service = container
            .labels
            .as_ref()
            .and_then(|labels| labels.get(spec::LABEL_SERVICE))
            .cloned();
        if service.as_ref().is_some_and(|name| services.contains(name)) {
            continue;
        }
        let Some(id) = container.id else { continue };
        let name = service.unwrap_or_else(|| "?".into());
        tracing::info!("removing the container of {name}, which is no longer defined");
        let remove = RemoveContainerOptionsBuilder::new().force(true).build();
        if let Err(error) = client.remove_container(&id, Some(remove)).await {
            tracing::warn!("cannot remove the stray container {id} of {name}: {error}");
        }
    }
}
