//! How a start-up ends: complete (with the services it goes on without), or failed because
//! a critical service failed — then everything started is stopped and the user is told why.
//!
//! Something missing from this machine (the container engine, a program, a folder, an
//! image) degrades the start-up even for a critical service: the dashboard says what is
//! missing. A critical service that runs and fails fails it.

use std::time::Instant;

use super::core::Core;
use crate::definitions::RuntimeKind;
use crate::events::{EventKind, StartupPhase};
use crate::state::ServiceState;
use crate::status::FailureCause;

impl Core {
    /// Ends the start-up in progress once every service it waits for has settled.
    pub(super) fn check_startup(&mut self, now: Instant) {
        let Some(targets) = &self.startup else { return };
        let mut degraded = Vec::new();
        let mut settled = true;
        for name in targets {
            let unit = self.unit(name);
            let missing_here = unit.cause().is_some_and(FailureCause::is_missing_here);
            match unit.state() {
                ServiceState::Error if missing_here && !unit.blocked() => {
                    degraded.push(name.clone())
                }
                ServiceState::Waiting
                    if self.needs_missing_engine(name) || self.needs_something_missing(name) =>
                {
                    degraded.push(name.clone())
                }
                ServiceState::Error if unit.service.critical => {
                    let (why, cause) = unit
                        .status
                        .last_error
                        .as_ref()
                        .map(|error| (error.message.clone(), error.cause))
                        .unwrap_or_default();
                    self.fail_startup(name.clone(), why, cause, now);
                    return;
                }
                ServiceState::Error => degraded.push(name.clone()),
                ServiceState::Running | ServiceState::Unhealthy | ServiceState::Disabled => {}
                ServiceState::Stopped if !unit.wants_up() || unit.completed => {}
                _ => settled = false,
            }
        }
        if settled {
            self.startup = None;
            self.emit(EventKind::StartupComplete {
                degraded: degraded.clone(),
            });
            self.startup_phase = StartupPhase::Complete {
                seq: self.seq,
                degraded,
            };
        }
    }

    fn fail_startup(&mut self, service: String, why: String, cause: FailureCause, now: Instant) {
        let message = format!("{service} could not start: {why}");
        self.emit(EventKind::StartupFailed {
            service: service.clone(),
            message: message.clone(),
            cause,
        });
        self.startup_phase = StartupPhase::Failed {
            seq: self.seq,
            service,
            message,
            cause,
        };
        self.stop_all(now);
    }

    /// Whether `name` waits for a service that this machine cannot run yet (its program,
    /// model or image is missing), directly or not.
    fn needs_something_missing(&self, name: &str) -> bool {
        self.plan.dependencies(name).iter().any(|dependency| {
            let unit = self.unit(dependency);
            unit.state() == ServiceState::Error
                && !unit.blocked()
                && unit.cause().is_some_and(FailureCause::is_missing_here)
        })
    }

    /// Whether `name` cannot run because Docker is not reachable: it is a container, or
    /// depends (directly or not) on a container or the engine, and the engine is down.
    fn needs_missing_engine(&self, name: &str) -> bool {
        let engine_down = match &self.engine {
            Some(engine) => self.unit(engine).state() != ServiceState::Running,
            None => self.units.values().any(|unit| {
                unit.cause() == Some(FailureCause::EngineUnavailable)
                    && !matches!(
                        unit.state(),
                        ServiceState::Running | ServiceState::Unhealthy
                    )
            }),
        };
        let uses_docker = |service: &str| {
            !matches!(
                self.unit(service).service.runtime,
                RuntimeKind::Process { .. } | RuntimeKind::External { .. }
            )
        };
        engine_down
            && (uses_docker(name) || self.plan.dependencies(name).iter().any(|d| uses_docker(d)))
    }
}
