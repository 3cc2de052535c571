//! Probes that ask Docker: does the engine answer, what does a container's image health
//! check say, and does a command run inside a container succeed. The health watch
//! (`crate::health`) calls these for container targets.

use futures_util::StreamExt;

use super::DockerEngine;

impl DockerEngine {
    /// Whether the engine answers.
    pub async fn answers(&self) -> Result<(), String> {
        self.connect()
            .await
            .map(drop)
            .map_err(|error| error.message)
    }

    /// What the HEALTHCHECK of the image of `container` says: `Ok` when healthy.
    pub async fn container_health(&self, container: &str) -> Result<(), String> {
        let connection = self.connect().await.map_err(|error| error.message)?;
        let inspected = connection
            .client
            .inspect_container(container, None)
            .await
            .map_err(|error| format!("cannot look up the container {container}: {error}"))?;
        let health = inspected.state.and_then(|state| state.health);
        let status = health
            .as_ref()
            .and_then(|h| h.status)
            .map(|s| s.to_string())
            .unwrap_or_default();
        match status.as_str() {
            "healthy" => Ok(()),
            "" | "none" => Err("the image has no HEALTHCHECK".into()),
            other => {
                let last = health
                    .and_then(|h| h.log)
                    .and_then(|log| log.last().and_then(|entry| entry.output.clone()))
                    .map(|output| output.trim().to_string())
                    .filter(|output| !output.is_empty());
                Err(match last {
                    Some(output) => format!("the image's health check says {other}: {output}"),
                    None => format!("the image's health check says {other}"),
                })
            }
        }
    }

    /// Runs `command` inside `container`: `Ok` when it exits with code 0, else its exit
    /// code and last words.
    pub async fn exec_in_container(
        &self,
        container: &str,
        command: &[String],
    ) -> Result<(), String> {
        let client = self.connect().await.map_err(|error| error.message)?.client;
        let config = bollard::models::ExecConfig {
            cmd: Some(command.to_vec()),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            ..Default::default()
        };
        let program = command.first().cloned().unwrap_or_default();
        let exec = client
            .create_exec(container, config)
            .await
            .map_err(|error| format!("cannot run {program} in the container: {error}"))?;
        let mut said = String::new();
        if let Ok(bollard::exec::StartExecResults::Attached { mut output, .. }) =
            client.start_exec(&exec.id, None).await
        {
            while let Some(Ok(chunk)) = output.next().await {
                said.push_str(&chunk.to_string());
            }
        }
        let code = client
            .inspect_exec(&exec.id)
            .await
            .ok()
            .and_then(|inspect| inspect.exit_code);
        match code {
            Some(0) => Ok(()),
            Some(code) => {
                let last = said.lines().last().unwrap_or_default().trim().to_string();
                Err(if last.is_empty() {
                    format!("{program} exited with code {code}")
                } else {
                    format!("{program} exited with code {code}: {last}")
                })
            }
            None => Err(format!("{program} did not finish in the container")),
        }
    }
}
