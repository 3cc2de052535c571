//! External services: started by someone else; the supervisor only probes them.

use super::{BoxFuture, Instance, Runtime, StartError, StartRequest};

/// Starts nothing: an external instance "runs" until it is stopped. The user's own server
/// (a service that may be one, run as external) says so: "your server at URL".
pub struct ExternalRuntime;

impl Runtime for ExternalRuntime {
    fn start(&self, request: StartRequest) -> BoxFuture<'_, Result<Instance, StartError>> {
        let detail = request
            .service
            .own_server_url()
            .map(|url| format!("your server at {url}"));
        Box::pin(async { Ok(Instance::until_stopped(detail)) })
    }
}
