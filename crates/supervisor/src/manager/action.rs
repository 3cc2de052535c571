//! What the reconciler asks the shell to do. Each action is plain data; the actor carries
//! them out in order (see `effects.rs`), and the tests read them.

use std::time::Duration;

use crate::definitions::HealthCheck;
use crate::events::EventKind;
use crate::health::Target;
use crate::persist::{Choices, ProcessRecord};

/// One thing for the shell to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Start instance number `instance` of the service with its runtime; report
    /// `Started` with that number.
    Start {
        /// The service.
        name: String,
        /// The instance's number.
        instance: u64,
    },
    /// Ask the live instance to stop (its signal, then its timeout); stop watching its health.
    Stop {
        /// The service.
        name: String,
    },
    /// Watch the health of instance `instance`; report what changes as `Probe` facts.
    WatchHealth {
        /// The service.
        name: String,
        /// The instance's number.
        instance: u64,
        /// The check.
        check: HealthCheck,
        /// Where it is aimed.
        target: Target,
    },
    /// Report a `Timer` fact with `token` after `after` (replacing any pending timer).
    Schedule {
        /// The service.
        name: String,
        /// The token to report.
        token: u64,
        /// The delay.
        after: Duration,
    },
    /// Drop the service's pending timer (its token is stale already).
    CancelTimer {
        /// The service.
        name: String,
    },
    /// Send this event to every subscriber; it gets the next sequence number.
    Emit(EventKind),
    /// Save the user's choices.
    SaveChoices(Choices),
    /// Record the running processes for crash recovery.
    RecordProcesses(Vec<ProcessRecord>),
}
