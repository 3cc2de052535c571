//! What the reconciler keeps for one service: plain data, no handles, no tasks.
//!
//! The reasons a service is where it is are enums, not flags: [`Goal`] says whether it
//! should run and, if not, who decided; [`Next`] says what is planned for it (a timer, a
//! start, counting as running once it stayed up, a restart once stopped, a failure to
//! record once stopped, or nothing until a failed dependency recovers). A combination that makes no sense cannot be written down.

use std::sync::Arc;
use std::time::Instant;

use crate::definitions::Service;
use crate::restart::RestartTracker;
use crate::state::ServiceState;
use crate::status::{FailureCause, ServiceError, ServiceStatus};

/// Whether a service should run, and if not, why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goal {
    /// It should run (once its dependencies allow).
    Run,
    /// Nothing asked for it: not started yet, stopped with everything, or its feature is off.
    Rest,
    /// The user stopped it; it stays stopped, across runs, until the user starts it.
    StoppedByUser,
    /// It was stopped because the user stopped this dependency; it comes back with it.
    StoppedWith(String),
}

/// What is planned for a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Nothing: it moves when a fact or a command moves it.
    Nothing,
    /// A start (a restart or a retry) when the timer with the unit's current token fires.
    Timer,
    /// Started without a health check: it counts as running once it has stayed up until the
    /// timer with the unit's current token fires (its `min_uptime`).
    UpWhenTimer,
    /// A start is due: as soon as its dependencies allow.
    Start,
    /// In error because this dependency failed: it starts once the dependency recovers.
    AfterDependency(String),
    /// It is stopping for a restart: it starts again once stopped.
    RestartAfterStop,
    /// It is stopping because it failed (not ready in time, unhealthy): the failure to
    /// record once it has ended.
    FailAfterStop(ServiceError),
}

/// A started instance, as far as decisions need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    /// Main process id.
    pub pid: Option<u32>,
    /// Process start time, for the crash-recovery record.
    pub start_time: Option<u64>,
    /// Process group, for the crash-recovery record.
    pub process_group: Option<i32>,
    /// When the instance became ready.
    pub ready_at: Option<Instant>,
}

/// One service, as the reconciler sees it.
#[derive(Debug, Clone)]
pub struct Unit {
    /// The definition.
    pub service: Arc<Service>,
    /// What is reported.
    pub status: ServiceStatus,
    /// Its feature is on (or something selected needs it).
    pub selected: bool,
    /// Whether it should run.
    pub goal: Goal,
    /// What is planned for it.
    pub next: Next,
    /// The generation of the current (or last) instance; facts about others are stale.
    pub instance: u64,
    /// The live instance, once its runtime reported it started.
    pub live: Option<Live>,
    /// Restart history and backoff.
    pub tracker: RestartTracker,
    /// The last instance exited with code 0 (the `completed` condition).
    pub completed: bool,
    /// The token of the pending timer; a timer fact with another token is stale.
    pub timer_token: u64,
    /// This start is a restart: dependents with `restart = true` follow once it is ready.
    pub dependents_follow: bool,
}

impl Unit {
    /// A service that has not started: stopped, or disabled when not selected.
    pub fn new(service: Arc<Service>, selected: bool, goal: Goal) -> Unit {
        let state = if selected {
            ServiceState::Stopped
        } else {
            ServiceState::Disabled
        };
        let status = ServiceStatus::new(
            &service.name,
            service.description.clone(),
            service.critical,
            state,
        );
        let mut unit = Unit {
            status,
            tracker: RestartTracker::new(service.restart.clone()),
            service: Arc::clone(&service),
            selected,
            goal,
            next: Next::Nothing,
            instance: 0,
            live: None,
            completed: false,
            timer_token: 0,
            dependents_follow: false,
        };
        unit.run_as(service);
        unit
    }

    /// From its next start on, runs `service` (the same service as written, or as the
    /// user's own server); what the status says of it follows at once.
    pub fn run_as(&mut self, service: Arc<Service>) {
        self.status.own_server = service.own_server_url().map(str::to_string);
        self.status.critical = service.critical;
        self.service = service;
    }

    /// The current state.
    pub fn state(&self) -> ServiceState {
        self.status.state
    }

    /// It should run.
    pub fn wants_up(&self) -> bool {
        self.goal == Goal::Run
    }

    /// In error only because a dependency failed.
    pub fn blocked(&self) -> bool {
        matches!(self.next, Next::AfterDependency(_))
    }

    /// It is in error because of something it met itself (not a failed dependency).
    pub fn failed_itself(&self) -> bool {
        self.state() == ServiceState::Error && !self.blocked()
    }

    /// What kind its last failure was, while it is not running.
    pub fn cause(&self) -> Option<FailureCause> {
        self.status.last_error.as_ref().map(|error| error.cause)
    }
}
