//! The earlier ClaraVerse app's containers (`clara_python`, `clara_n8n`, `clara_comfyui`,
//! without labels): found, set aside under a new name (stopped, never removed), and put
//! back. Its data lives in folders and volumes that are left as they are.

use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::{
    RemoveContainerOptionsBuilder, RenameContainerOptionsBuilder, StopContainerOptionsBuilder,
};

use super::spec;

/// How long a container set aside may take to stop before Docker kills it.
const STOP_SECONDS: i32 = 15;

/// One of the earlier app's containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyContainer {
    /// Its name, e.g. `clara_n8n`.
    pub name: String,
    /// The catalog's service that replaces it.
    pub service: String,
    /// Whether it runs now.
    pub running: bool,
}

/// The earlier app's containers on this engine: those with its names that carry no
/// ClaraVerse label.
pub async fn find(client: &Docker) -> Vec<LegacyContainer> {
    let mut found = Vec::new();
    for (name, service) in spec::LEGACY_CONTAINERS {
        let Ok(container) = client.inspect_container(name, None).await else {
            continue;
        };
        let labels = container
            .config
            .as_ref()
            .and_then(|config| config.labels.clone())
            .unwrap_or_default();
        if labels.contains_key(spec::LABEL_MANAGED) {
            continue;
        }
        found.push(LegacyContainer {
            name: name.to_string(),
            service: service.to_string(),
            running: container
                .state
                .and_then(|state| state.running)
                .unwrap_or(false),
        });
    }
    found
}

/// The name `name` is kept under: `NAME-electron`, or `NAME-electron-2`, … when taken.
pub async fn free_name_for(client: &Docker, name: &str) -> String {
    let mut candidate = format!("{name}-electron");
    let mut number = 2;
    while client.inspect_container(&candidate, None).await.is_ok() {
        candidate = format!("{name}-electron-{number}");
        number += 1;
    }
    candidate
}

/// Stops the container `name` and renames it `kept_as`. Nothing is removed.
pub async fn set_aside(client: &Docker, name: &str, kept_as: &str) -> Result<(), String> {
    let stop = StopContainerOptionsBuilder::new().t(STOP_SECONDS).build();
    let wait = Duration::from_secs(STOP_SECONDS.unsigned_abs().into());
    match super::patient(client, wait)
        .stop_container(name, Some(stop))
        .await
    {
        // 304: it was not running.
        Ok(())
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 304, ..
        }) => {}
        Err(error) => return Err(format!("cannot stop the container {name}: {error}")),
    }
    rename(client, name, kept_as).await
}

/// Puts the container kept as `kept_as` back under `name`, first removing ClaraVerse's own
/// container of the same service if it holds the name (its data is in folders and volumes,
/// which stay); starts it again when `start`.
pub async fn put_back(
    client: &Docker,
    kept_as: &str,
    name: &str,
    start: bool,
) -> Result<(), String> {
    let service = spec::LEGACY_CONTAINERS
        .iter()
        .find(|(legacy, _)| *legacy == name)
        .map_or(name, |(_, service)| *service);
    for ours in [spec::container_name(service), name.to_string()] {
        let Ok(container) = client.inspect_container(&ours, None).await else {
            continue;
        };
        let managed = container
            .config
            .and_then(|config| config.labels)
            .is_some_and(|labels| labels.contains_key(spec::LABEL_MANAGED));
        if !managed {
            if ours == name {
                return Err(format!(
                    "a container that ClaraVerse did not make holds the name {name}; rename or \
                     remove it, then undo again"
                ));
            }
            continue;
        }
        let remove = RemoveContainerOptionsBuilder::new().force(true).build();
        client
            .remove_container(&ours, Some(remove))
            .await
            .map_err(|error| format!("cannot remove ClaraVerse's container {ours}: {error}"))?;
    }
    rename(client, kept_as, name).await?;
    if start {
        client
            .start_container(name, None)
            .await
            .map_err(|error| format!("cannot start the container {name} again: {error}"))?;
    }
    Ok(())
}

/// Removes the container kept as `kept_as`, once the user no longer wants it.
pub async fn remove_kept(client: &Docker, kept_as: &str) -> Result<(), String> {
    let remove = RemoveContainerOptionsBuilder::new().force(true).build();
    client
        .remove_container(kept_as, Some(remove))
        .await
        .map_err(|error| format!("cannot remove the container {kept_as}: {error}"))
}

async fn rename(client: &Docker, from: &str, to: &str) -> Result<(), String> {
    let options = RenameContainerOptionsBuilder::new().name(to).build();
    client
        .rename_container(from, options)
        .await
        .map_err(|error| format!("cannot rename the container {from} to {to}: {error}"))
}
