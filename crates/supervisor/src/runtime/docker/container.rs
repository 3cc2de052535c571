//! Container services: reconciled with what runs (adopted when unchanged, replaced when
//! not), their image pulled with progress, their exit seen on Docker's event stream.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::NetworkCreateRequest;
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, EventsOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};

use super::{DockerEngine, spec};
use crate::definitions::{self, Service, VolumeSource};
use crate::output::{Drainer, OutputSink, Stream};

use crate::runtime::{
    BoxFuture, ExitReport, Instance, PullProgress, Runtime, StartError, StartRequest, StopRequest,
};
use crate::status::{ExitInfo, FailureCause};

/// How long the engine has to answer after a container died before the death counts as the
/// engine's (it answers in milliseconds while it runs).
const ENGINE_LOST_PING: Duration = Duration::from_secs(1);

/// Runs services as Docker containers.
pub struct ContainerRuntime {
    engine: DockerEngine,
}

impl ContainerRuntime {
    /// Containers on `engine`.
    pub fn new(engine: DockerEngine) -> Self {
        ContainerRuntime { engine }
    }
}

impl Runtime for ContainerRuntime {
    fn start(&self, request: StartRequest) -> BoxFuture<'_, Result<Instance, StartError>> {
        Box::pin(start(self.engine.clone(), request))
    }
}

async fn start(engine: DockerEngine, request: StartRequest) -> Result<Instance, StartError> {
    let StartRequest {
        service,
        output,
        progress,
    } = request;
    let connection = engine.connect().await?;
    let client = connection.client;
    let gpu = spec::use_gpu(service.gpu, connection.nvidia).map_err(StartError::new)?;
    let hash = spec::spec_hash(&service, gpu);
    let project = engine.project();
    let name = spec::container_name(&service.name);
    let mut adopted = false;
    match client.inspect_container(&name, None).await {
        Ok(existing) => {
            let labels = existing
                .config
                .as_ref()
                .and_then(|config| config.labels.clone())
                .unwrap_or_default();
            let running = existing
                .state
                .as_ref()
                .and_then(|state| state.running)
                .unwrap_or(false);
            match spec::owner(&name, &labels, project) {
                spec::Owner::Other(why) => {
                    return Err(StartError::new(why).because(FailureCause::NameTaken));
                }
                spec::Owner::Us if labels.get(spec::LABEL_SPEC_HASH) == Some(&hash) => {
                    adopted = running;
                }
                _ => {
                    tracing::info!(
                        "replacing the container of {}: its definition changed",
                        service.name
                    );
                    remove(&client, &name, &service).await?;
                    create(&client, &service, gpu, &hash, project, &progress).await?;
                }
            }
        }
        Err(error) if status_of(&error) == Some(404) => {
            create(&client, &service, gpu, &hash, project, &progress).await?
        }
        Err(error) => return Err(docker_failure("cannot look up its container", &error)),
    }
    // The event stream is asked for events since just before the start, so an exit that
    // comes before the stream is read is replayed, and an older one is not.
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|now| format!("{}.{:09}", now.as_secs(), now.subsec_nanos()))
        .unwrap_or_default();
    let filters = HashMap::from([
        ("container", vec![name.clone()]),
        ("type", vec!["container".to_string()]),
        ("event", vec!["die".to_string()]),
    ]);
    let events = EventsOptionsBuilder::new()
        .since(&since)
        .filters(&filters)
        .build();
    let mut deaths = client.events(Some(events)).boxed();
    if !adopted {
        client
            .start_container(&name, None)
            .await
            .map_err(|error| docker_failure("cannot start its container", &error))?;
    }
    let inspected = client
        .inspect_container(&name, None)
        .await
        .map_err(|error| docker_failure("cannot look up its container", &error))?;
    let pid = inspected
        .state
        .as_ref()
        .and_then(|state| state.pid)
        .and_then(|pid| u32::try_from(pid).ok())
        .filter(|&pid| pid > 0);
    tokio::spawn(follow_logs(client.clone(), name.clone(), adopted, output));
    let (stop, stop_requested) = oneshot::channel();
    let (report, exited) = oneshot::channel();
    tokio::spawn(async move {
        let ending = watch(&client, &name, &mut deaths, stop_requested).await;
        let _ = report.send(ending);
    });
    let mut detail = if gpu {
        "GPU: NVIDIA".to_string()
    } else {
        "CPU".to_string()
    };
    if service.gpu == definitions::GpuMode::Auto && !gpu {
        detail.push_str(" (Docker has no NVIDIA runtime)");
    }
    if adopted {
        detail.push_str("; adopted the running container");
    }
    Ok(Instance {
        pid,
        start_time: None,
        process_group: None,
        stop,
        exited,
        detail: Some(detail),
    })
}

/// Waits for the container's end, stopping it first if asked to. An end that comes with
/// the engine going away is reported as `engine_lost`: Docker closes its API before it stops
/// its containers at shutdown, so a death while the engine does not answer is the engine's;
/// a broken event stream means the engine went away and the container is gone to us.
async fn watch(
    client: &Docker,
    name: &str,
    deaths: &mut (
             impl futures_util::Stream<Item = Result<bollard::models::EventMessage, DockerError>> + Unpin
         ),
    mut stop_requested: oneshot::Receiver<StopRequest>,
) -> ExitReport {
    let died = |event: &Option<Result<bollard::models::EventMessage, DockerError>>| match event {
        Some(Ok(event)) => event
            .actor
            .as_ref()
            .and_then(|actor| actor.attributes.as_ref())
            .and_then(|attributes| {
                attributes
                    .get("exitCode")
                    .and_then(|code| code.parse().ok())
            })
            .map_or(ExitInfo::code(-1), ExitInfo::code),
        _ => ExitInfo::code(-1),
    };
    tokio::select! {
        event = deaths.next() => {
            let engine_lost = match &event {
                Some(Ok(_)) => !super::pings(client, ENGINE_LOST_PING).await,
                _ => true,
            };
            ExitReport { exit: died(&event), requested: false, killed: false, engine_lost }
        }
        Ok(request) = &mut stop_requested => {
            let seconds = i32::try_from(request.timeout.as_secs().max(1)).unwrap_or(i32::MAX);
            let began = Instant::now();
            let options = StopContainerOptionsBuilder::new().t(seconds).build();
            if let Err(error) = super::patient(client, request.timeout)
                .stop_container(name, Some(options))
                .await
                && status_of(&error) != Some(304)
            {
                tracing::warn!("cannot stop the container {name}: {error}");
            }
            let ending = match tokio::time::timeout(Duration::from_secs(5), deaths.next()).await {
                Ok(event) => died(&event),
                Err(_) => ExitInfo::code(0),
            };
            ExitReport {
                exit: ending,
                requested: true,
                killed: began.elapsed() >= request.timeout,
                engine_lost: false,
            }
        }
    }
}

/// Copies the container's output into the service's sink until the container ends.
async fn follow_logs(client: Docker, name: String, adopted: bool, sink: OutputSink) {
    let since_now = i32::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
    )
    .unwrap_or(0);
    let mut options = LogsOptionsBuilder::new()
        .follow(true)
        .stdout(true)
        .stderr(true);
    if adopted {
        options = options.since(since_now);
    }
    let mut logs = client.logs(&name, Some(options.build())).boxed();
    let mut drainer = Drainer::new(sink);
    while let Some(Ok(chunk)) = logs.next().await {
        match chunk {
            bollard::container::LogOutput::StdErr { message } => {
                drainer.feed(Stream::Stderr, &message)
            }
            bollard::container::LogOutput::StdOut { message }
            | bollard::container::LogOutput::Console { message } => {
                drainer.feed(Stream::Stdout, &message)
            }
            bollard::container::LogOutput::StdIn { .. } => {}
        }
    }
    drainer.finish(Stream::Stdout);
    drainer.finish(Stream::Stderr);
}

/// Stops and removes the container of a service.
async fn remove(client: &Docker, name: &str, service: &Service) -> Result<(), StartError> {
    let seconds = i32::try_from(service.stop_timeout.as_secs().max(1)).unwrap_or(i32::MAX);
    let _ = super::patient(client, service.stop_timeout)
        .stop_container(
            name,
            Some(StopContainerOptionsBuilder::new().t(seconds).build()),
        )
        .await;
    match client
        .remove_container(
            name,
            Some(RemoveContainerOptionsBuilder::new().force(true).build()),
        )
        .await
    {
        Err(error) if status_of(&error) != Some(404) => {
            Err(docker_failure("cannot remove its old container", &error))
        }
        _ => Ok(()),
    }
}

/// Creates the service's container: image, network and host folders first.
async fn create(
    client: &Docker,
    service: &Arc<Service>,
    gpu: bool,
    hash: &str,
    project: &str,
    progress: &mpsc::UnboundedSender<PullProgress>,
) -> Result<(), StartError> {
    let definitions::RuntimeKind::Container { image, .. } = &service.runtime else {
        return Err(StartError::new("is not a container"));
    };
    if let Err(error) = client.inspect_image(image).await {
        if status_of(&error) != Some(404) {
            return Err(docker_failure("cannot look up its image", &error));
        }
        pull(client, image, progress).await?;
    }
    ensure_network(client).await?;
    for volume in &service.volumes {
        if let VolumeSource::Bind(path) = &volume.source
            && let Err(error) = std::fs::create_dir_all(path)
        {
            return Err(StartError {
                detail: Some(error.to_string()),
                ..StartError::new(format!(
                    "cannot create the folder {} for its volume",
                    path.display()
                ))
            });
        }
    }
    let name = spec::container_name(&service.name);
    let options = CreateContainerOptionsBuilder::new().name(&name).build();
    client
        .create_container(
            Some(options),
            spec::create_body(service, gpu, hash, project),
        )
        .await
        .map_err(|error| docker_failure("cannot create its container", &error))?;
    Ok(())
}

async fn ensure_network(client: &Docker) -> Result<(), StartError> {
    if client.inspect_network(spec::NETWORK, None).await.is_ok() {
        return Ok(());
    }
    let request = NetworkCreateRequest {
        name: spec::NETWORK.to_string(),
        driver: Some("bridge".into()),
        labels: Some(HashMap::from([(
            spec::LABEL_MANAGED.to_string(),
            "true".to_string(),
        )])),
        ..Default::default()
    };
    match client.create_network(request).await {
        // Another start may have created it meanwhile.
        Err(error) if status_of(&error) != Some(409) => Err(docker_failure(
            "cannot create the network clara_network",
            &error,
        )),
        _ => Ok(()),
    }
}

/// Downloads an image for this machine's platform, reporting progress over all layers.
async fn pull(
    client: &Docker,
    image: &str,
    progress: &mpsc::UnboundedSender<PullProgress>,
) -> Result<(), StartError> {
    let options = CreateImageOptionsBuilder::new()
        .from_image(image)
        .platform(host_platform())
        .build();
    let mut stream = client.create_image(Some(options), None, None).boxed();
    let mut layers: HashMap<String, (u64, u64)> = HashMap::new();
    let mut last_report = Instant::now() - Duration::from_secs(1);
    while let Some(item) = stream.next().await {
        let info = item.map_err(|error| pull_failure(image, &error.to_string()))?;
        if let Some(message) = info.error_detail.and_then(|detail| detail.message) {
            return Err(pull_failure(image, &message));
        }
        if let (Some(id), Some(detail)) = (info.id, info.progress_detail) {
            let current = detail
                .current
                .and_then(|c| u64::try_from(c).ok())
                .unwrap_or(0);
            let total = detail
                .total
                .and_then(|t| u64::try_from(t).ok())
                .unwrap_or(0);
            let layer = layers.entry(id).or_default();
            *layer = (current.max(layer.0), total.max(layer.1));
        }
        if last_report.elapsed() >= Duration::from_millis(100) {
            last_report = Instant::now();
            let _ = progress.send(sum(&layers));
        }
    }
    let mut finished = sum(&layers);
    finished.done = finished.total;
    let _ = progress.send(finished);
    Ok(())
}

fn sum(layers: &HashMap<String, (u64, u64)>) -> PullProgress {
    PullProgress {
        done: layers.values().map(|(done, _)| done).sum(),
        total: layers.values().map(|(_, total)| total).sum(),
    }
}

/// `linux/amd64` or `linux/arm64`: containers run Linux images for this CPU.
fn host_platform() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "linux/arm64",
        "arm" => "linux/arm/v7",
        _ => "linux/amd64",
    }
}

/// A failed download, in words that say what to do.
pub fn pull_failure(image: &str, error: &str) -> StartError {
    let lower = error.to_lowercase();
    let why = if lower.contains("toomanyrequests") || lower.contains("rate limit") {
        "the registry's download limit was reached: log in with `docker login`, or wait a few hours, then choose Retry"
    } else if lower.contains("unauthorized")
        || lower.contains("authentication required")
        || lower.contains("denied")
    {
        "access was denied: log in with `docker login`, or check the image name"
    } else if lower.contains("not found") || lower.contains("manifest unknown") {
        "it does not exist: check the image name and tag"
    } else if [
        "dial tcp",
        "lookup",
        "no such host",
        "timeout",
        "network is unreachable",
        "connection refused",
        "i/o timeout",
    ]
    .iter()
    .any(|sign| lower.contains(sign))
    {
        "the registry cannot be reached: check the internet connection, then choose Retry"
    } else {
        "the registry refused it"
    };
    StartError {
        detail: Some(error.to_string()),
        ..StartError::new(format!("cannot download the image {image}: {why}"))
    }
    .because(FailureCause::ImageDownload)
}

fn status_of(error: &DockerError) -> Option<u16> {
    match error {
        DockerError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

fn docker_failure(what: &str, error: &DockerError) -> StartError {
    let detail = match error {
        DockerError::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    };
    StartError {
        detail: Some(detail),
        cause: if status_of(error).is_none() {
            FailureCause::EngineUnavailable
        } else {
            FailureCause::Other
        },
        ..StartError::new(format!("{what} (Docker said: {})", short_reason(error)))
    }
}

fn short_reason(error: &DockerError) -> String {
    match error {
        DockerError::DockerResponseServerError { message, .. } => {
            message.lines().next().unwrap_or_default().to_string()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_failures_say_what_to_do() {
        let cases = [
            (
                "toomanyrequests: You have reached your pull rate limit",
                "the registry's download limit was reached",
            ),
            (
                "pull access denied for x, repository does not exist or may require 'docker login'",
                "access was denied",
            ),
            (
                "manifest for x:9 not found: manifest unknown",
                "it does not exist",
            ),
            (
                "Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io: no such host",
                "the registry cannot be reached",
            ),
        ];
        for (error, expected) in cases {
            let failure = pull_failure("x", error);
            assert!(
                failure
                    .message
                    .starts_with(&format!("cannot download the image x: {expected}")),
                "{}",
                failure.message
            );
            assert_eq!(failure.detail.as_deref(), Some(error));
        }
    }

    #[test]
    fn progress_sums_every_layer() {
        let layers = HashMap::from([("a".to_string(), (5, 10)), ("b".to_string(), (1, 30))]);
        assert_eq!(sum(&layers), PullProgress { done: 6, total: 40 });
    }
}
