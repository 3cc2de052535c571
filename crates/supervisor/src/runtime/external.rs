//! External services: started by someone else; the supervisor only probes them.

use super::{BoxFuture, Instance, Runtime, StartError, StartRequest};

/// Starts nothing: an external instance "runs" until it is stopped.
pub struct ExternalRuntime;

impl Runtime for ExternalRuntime {
    fn start(&self, _request: StartRequest) -> BoxFuture<'_, Result<Instance, StartError>> {
        Box::pin(async { Ok(Instance::until_stopped(None)) })
    }
}
