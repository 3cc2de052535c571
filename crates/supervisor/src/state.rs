//! The states of a service and the transitions allowed between them.
//!
//! Transitions are data: [`ServiceState::can_become`] is the one table. The manager asks it
//! before every change, so an illegal transition is a bug that tests catch, never a silent
//! overwrite.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a service is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ServiceState {
    /// Not running, and not asked to run (or ran to completion).
    Stopped,
    /// Asked to run; its dependencies are not ready yet.
    Waiting,
    /// Started; not ready yet.
    Starting,
    /// Started and ready.
    Running,
    /// Running, but its health check fails.
    Unhealthy,
    /// Exited or unhealthy; starts again after a delay.
    Restarting,
    /// Being stopped.
    Stopping,
    /// Gave up, with a reason; retried later or by hand.
    Error,
    /// Its feature is off.
    Disabled,
}

impl ServiceState {
    /// Every state.
    pub const ALL: [ServiceState; 9] = [
        ServiceState::Stopped,
        ServiceState::Waiting,
        ServiceState::Starting,
        ServiceState::Running,
        ServiceState::Unhealthy,
        ServiceState::Restarting,
        ServiceState::Stopping,
        ServiceState::Error,
        ServiceState::Disabled,
    ];

    /// The name used in events and on screen.
    pub fn name(self) -> &'static str {
        match self {
            ServiceState::Stopped => "stopped",
            ServiceState::Waiting => "waiting",
            ServiceState::Starting => "starting",
            ServiceState::Running => "running",
            ServiceState::Unhealthy => "unhealthy",
            ServiceState::Restarting => "restarting",
            ServiceState::Stopping => "stopping",
            ServiceState::Error => "error",
            ServiceState::Disabled => "disabled",
        }
    }

    /// Whether a service may go from this state to `next`.
    pub fn can_become(self, next: ServiceState) -> bool {
        use ServiceState::*;
        match self {
            // Error: asked to start while a dependency had failed.
            Stopped => matches!(next, Waiting | Starting | Disabled | Error),
            Waiting => matches!(next, Starting | Stopped | Error | Disabled),
            Starting => matches!(next, Running | Restarting | Stopping | Error | Stopped),
            Running => matches!(next, Unhealthy | Restarting | Stopping | Error | Stopped),
            Unhealthy => matches!(next, Running | Restarting | Stopping | Error | Stopped),
            Restarting => matches!(next, Waiting | Starting | Stopped | Error | Disabled),
            Stopping => matches!(next, Stopped | Waiting | Error | Disabled | Restarting),
            Error => matches!(next, Waiting | Starting | Stopped | Disabled),
            Disabled => matches!(next, Stopped | Waiting | Starting | Error),
        }
    }

    /// True while a process or container of the service may be alive.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            ServiceState::Starting
                | ServiceState::Running
                | ServiceState::Unhealthy
                | ServiceState::Stopping
        )
    }
}

impl fmt::Display for ServiceState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the health check says, reported beside the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Not probed yet, or no health check.
    Unknown,
    /// The last probes passed.
    Healthy,
    /// `retries` probes in a row failed.
    Unhealthy,
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Health::Unknown => "unknown",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ServiceState::*;
    use super::*;

    #[test]
    fn the_normal_life_of_a_service_is_allowed() {
        let life = [
            Stopped, Waiting, Starting, Running, Unhealthy, Restarting, Starting, Running,
            Stopping, Stopped,
        ];
        for pair in life.windows(2) {
            assert!(pair[0].can_become(pair[1]), "{} -> {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn illegal_transitions_are_rejected() {
        for (from, to) in [
            (Stopped, Running),
            (Stopped, Stopping),
            (Waiting, Running),
            (Disabled, Running),
            (Error, Running),
            (Stopping, Starting),
            (Stopping, Running),
            (Restarting, Running),
        ] {
            assert!(!from.can_become(to), "{from} -> {to} must be illegal");
        }
    }

    #[test]
    fn no_state_becomes_itself() {
        for state in ServiceState::ALL {
            assert!(!state.can_become(state), "{state} -> {state}");
        }
    }

    #[test]
    fn every_state_can_be_left_and_reached() {
        for state in ServiceState::ALL {
            assert!(
                ServiceState::ALL.iter().any(|&next| state.can_become(next)),
                "{state} is a dead end"
            );
            assert!(
                ServiceState::ALL.iter().any(|&prev| prev.can_become(state)),
                "{state} is unreachable"
            );
        }
    }

    #[test]
    fn a_running_service_can_always_be_stopped() {
        for state in [Starting, Running, Unhealthy] {
            assert!(state.can_become(Stopping));
        }
        for state in [Waiting, Restarting, Error] {
            assert!(state.can_become(Stopped));
        }
    }

    #[test]
    fn a_state_round_trips_through_its_json_name() {
        assert_eq!(
            serde_json::from_str::<ServiceState>("\"waiting\"").unwrap(),
            Waiting
        );
        for state in ServiceState::ALL {
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.name()));
            assert_eq!(serde_json::from_str::<ServiceState>(&json).unwrap(), state);
        }
        assert!(serde_json::from_str::<ServiceState>("\"Waiting\"").is_err());
    }
}
