//! External services: started by someone else; the supervisor only probes them.

use tokio::sync::oneshot;

use super::{BoxFuture, ExitReport, Instance, Runtime, StartError, StartRequest};
use crate::restart::Ending;

/// Starts nothing: an external instance "runs" until it is stopped.
pub struct ExternalRuntime;

impl Runtime for ExternalRuntime {
    fn start(&self, _request: StartRequest) -> BoxFuture<'_, Result<Instance, StartError>> {
        Box::pin(async {
            let (stop, stop_requested) = oneshot::channel();
            let (report, exited) = oneshot::channel();
            tokio::spawn(async move {
                // A dropped sender means the manager is gone: the instance ends either way.
                let _ = stop_requested.await;
                let _ = report.send(ExitReport {
                    ending: Ending::Code(0),
                    requested: true,
                    killed: false,
                });
            });
            Ok(Instance {
                pid: None,
                start_time: None,
                process_group: None,
                stop,
                exited,
                detail: None,
            })
        })
    }
}
