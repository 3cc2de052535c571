//! The container engine as a service: nothing to start, running while Docker answers.

use tokio::sync::oneshot;

use super::DockerEngine;
use crate::restart::Ending;
use crate::runtime::{BoxFuture, ExitReport, Instance, Runtime, StartError, StartRequest};

/// "Starts" the engine service by reaching Docker; its liveness probe keeps asking.
pub struct EngineRuntime {
    engine: DockerEngine,
}

impl EngineRuntime {
    /// The engine service of `engine`.
    pub fn new(engine: DockerEngine) -> Self {
        EngineRuntime { engine }
    }
}

impl Runtime for EngineRuntime {
    fn start(&self, _request: StartRequest) -> BoxFuture<'_, Result<Instance, StartError>> {
        Box::pin(async move {
            let connection = self.engine.connect().await.map_err(|error| StartError {
                message: error.message,
                detail: Some(error.detail),
                retry_soon: true,
            })?;
            let (stop, stop_requested) = oneshot::channel();
            let (report, exited) = oneshot::channel();
            tokio::spawn(async move {
                let _ = stop_requested.await;
                let _ = report.send(ExitReport {
                    ending: Ending::Code(0),
                    requested: true,
                    killed: false,
                });
            });
            let gpu = if connection.nvidia {
                ", NVIDIA runtime available"
            } else {
                ""
            };
            Ok(Instance {
                pid: None,
                start_time: None,
                process_group: None,
                stop,
                exited,
                detail: Some(format!(
                    "Docker {} at {}{gpu}",
                    connection.version, connection.address
                )),
            })
        })
    }
}
