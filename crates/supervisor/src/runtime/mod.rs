//! How services run: native processes, containers (and the container engine itself), and
//! external URLs, behind one interface. Everything that depends on the operating system
//! lives in this module.

pub mod docker;
mod external;
pub mod gpu;
pub mod guard;
pub mod leftovers;
pub mod mark;
mod ports;
mod process;
#[cfg(target_os = "linux")]
mod procfs;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use external::ExternalRuntime;
pub use process::{AllEnded, ProcessRuntime, helper_command};

use crate::definitions::{Service, StopSignal};
use crate::output::OutputSink;
use crate::status::{ExitInfo, FailureCause};

/// A boxed future, for trait methods that return one.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Starts instances of services of one kind.
pub trait Runtime: Send + Sync {
    /// Starts one instance. On success the instance runs until it ends by itself or is
    /// asked to stop through [`Instance::stop`]; either way [`Instance::exited`] reports it.
    fn start(&self, request: StartRequest) -> BoxFuture<'_, Result<Instance, StartError>>;
}

/// What a runtime needs to start an instance.
pub struct StartRequest {
    /// The service's definition.
    pub service: Arc<Service>,
    /// Where its output goes.
    pub output: OutputSink,
    /// Where image download progress goes.
    pub progress: mpsc::UnboundedSender<PullProgress>,
}

/// How far an image download has come, over all its layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PullProgress {
    /// Bytes downloaded.
    pub done: u64,
    /// Bytes in all, as far as known.
    pub total: u64,
}

/// A started instance.
pub struct Instance {
    /// Its main process, when it has one.
    pub pid: Option<u32>,
    /// Its process start stamp ([`leftovers::start_time`]), for identity checks.
    pub start_time: Option<u64>,
    /// Its process group (Unix).
    pub process_group: Option<i32>,
    /// Send once to stop it.
    pub stop: oneshot::Sender<StopRequest>,
    /// Fires once when it has ended, and everything it started with it.
    pub exited: oneshot::Receiver<ExitReport>,
    /// What is worth showing about how it runs (where Docker was found, GPU or CPU…).
    pub detail: Option<String>,
}

impl Instance {
    /// An instance with no process of its own (an external service, the engine): it
    /// "runs" until it is asked to stop, then ends cleanly.
    pub fn until_stopped(detail: Option<String>) -> Instance {
        let (stop, stop_requested) = oneshot::channel();
        let (report, exited) = oneshot::channel();
        tokio::spawn(async move {
            // A dropped sender means the manager is gone: the instance ends either way.
            let _ = stop_requested.await;
            let _ = report.send(ExitReport {
                exit: ExitInfo::code(0),
                requested: true,
                killed: false,
                engine_lost: false,
            });
        });
        Instance {
            pid: None,
            start_time: None,
            process_group: None,
            stop,
            exited,
            detail,
        }
    }
}

/// How to stop an instance.
#[derive(Debug, Clone, Copy)]
pub struct StopRequest {
    /// The polite request.
    pub signal: StopSignal,
    /// How long to wait before killing.
    pub timeout: Duration,
}

/// How an instance ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitReport {
    /// Exit code or signal.
    pub exit: ExitInfo,
    /// It ended because it was asked to stop.
    pub requested: bool,
    /// It had to be killed after the stop timeout.
    pub killed: bool,
    /// Its engine stopped, or stopped answering, and the instance ended with it: not the
    /// service's fault, so no restart is counted.
    pub engine_lost: bool,
}

/// Why an instance could not start: a sentence for people, and the technical detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct StartError {
    /// What failed and what to do.
    pub message: String,
    /// The OS error or similar.
    pub detail: Option<String>,
    /// What kind of failure: a missing engine is worth trying again soon; something
    /// missing from this machine degrades the start-up instead of failing it.
    pub cause: FailureCause,
}

impl StartError {
    /// A failure with this sentence and no detail.
    pub fn new(message: impl Into<String>) -> Self {
        StartError {
            message: message.into(),
            detail: None,
            cause: FailureCause::Other,
        }
    }

    /// The same failure, of this kind.
    pub fn because(mut self, cause: FailureCause) -> Self {
        self.cause = cause;
        self
    }
}
