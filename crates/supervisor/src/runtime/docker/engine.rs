//! The container engine as a service: nothing to start, running while Docker answers.

use super::DockerEngine;
use crate::runtime::{BoxFuture, Instance, Runtime, StartError, StartRequest};

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
            let connection = self.engine.connect().await?;
            let gpu = if connection.nvidia {
                ", NVIDIA runtime available"
            } else {
                ""
            };
            let detail = format!(
                "Docker {} at {}{gpu}",
                connection.version, connection.address
            );
            Ok(Instance::until_stopped(Some(detail)))
        })
    }
}
