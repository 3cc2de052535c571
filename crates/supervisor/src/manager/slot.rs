//! What the actor keeps for one service.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::definitions::Service;
use crate::output::LogBuffer;
use crate::restart::RestartTracker;
use crate::runtime::StopRequest;
use crate::state::ServiceState;
use crate::status::{ServiceError, ServiceStatus};

/// One service's state, owned by the actor alone.
pub struct Slot {
    /// The definition.
    pub service: Arc<Service>,
    /// What is reported.
    pub status: ServiceStatus,
    /// Its feature is on (or something selected needs it).
    pub selected: bool,
    /// It should run.
    pub want_up: bool,
    /// The user stopped it by hand (remembered across restarts).
    pub user_stopped: bool,
    /// It was stopped because the user stopped this dependency; it comes back with it.
    pub stopped_with: Option<String>,
    /// The generation of the current (or last) instance; facts about others are stale.
    pub instance: u64,
    /// The live instance, once started.
    pub live: Option<Live>,
    /// Restart history and backoff.
    pub tracker: RestartTracker,
    /// Recent output.
    pub logs: Arc<LogBuffer>,
    /// The last instance exited with code 0 (the `completed` condition).
    pub completed: bool,
    /// A restart or retry is due: start when the dependencies allow.
    pub start_due: bool,
    /// The token of the pending timer; a timer fact with another token is stale.
    pub timer_token: u64,
    /// The pending timer, if any.
    pub timer: Option<AbortHandle>,
    /// In error only because this dependency failed: it may start once the dependency recovers.
    pub blocked_by: Option<String>,
    /// A stop was asked for as part of a restart: start again once stopped.
    pub restart_after_stop: bool,
    /// The instance was stopped because it failed (not ready in time, unhealthy): the
    /// failure to record once it has ended.
    pub failure_on_exit: Option<ServiceError>,
    /// This start is a restart: dependents with `restart = true` follow once it is ready.
    pub dependents_follow: bool,
    /// Its last start failed because the container engine could not be reached.
    pub engine_missing: bool,
    /// Its last start failed because its program, folder or image is missing here.
    pub missing: bool,
}

/// A started instance.
pub struct Live {
    /// Main process id.
    pub pid: Option<u32>,
    /// Process start time, for the crash-recovery record.
    pub start_time: Option<u64>,
    /// Process group, for the crash-recovery record.
    pub process_group: Option<i32>,
    /// Taken when a stop is requested.
    pub stop: Option<oneshot::Sender<StopRequest>>,
    /// The health watch.
    pub probe: Option<AbortHandle>,
    /// When the instance became ready.
    pub ready_at: Option<Instant>,
}

impl Slot {
    /// The current state.
    pub fn state(&self) -> ServiceState {
        self.status.state
    }

    /// Cancels the pending timer, if any.
    pub fn cancel_timer(&mut self) {
        if let Some(timer) = self.timer.take() {
            timer.abort();
        }
        self.timer_token += 1;
    }
}
