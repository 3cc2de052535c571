//! Moving services along: after every command or fact, each service goes as far as its
//! dependencies allow — it starts the moment they are ready, waits (saying for what) while
//! they are not, fails when one failed, and stops only once its own dependents are down.

use std::time::Instant;

use super::action::Action;
use super::core::Core;
use super::unit::Next;
use crate::definitions::{Condition, Dependency, RuntimeKind};
use crate::state::ServiceState;
use crate::status::{FailureCause, ServiceError};

/// Where the dependencies of a service stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Every dependency meets its condition.
    Ready,
    /// Not yet; the reason says for what.
    Waiting(String),
    /// This dependency failed.
    Failed(String),
}

impl Core {
    /// Moves every service as far as it can go, until nothing changes; then checks how the
    /// start-up stands.
    pub fn advance(&mut self, now: Instant) {
        loop {
            let mut changed = false;
            for index in 0..self.order.len() {
                let name = self.order[index].clone();
                changed |= self.step(&name);
            }
            if !changed {
                break;
            }
        }
        self.check_startup(now);
    }

    /// One move for one service; true if it changed anything.
    fn step(&mut self, name: &str) -> bool {
        let unit = self.unit(name);
        let state = unit.state();
        if !unit.wants_up() {
            return match state {
                ServiceState::Starting | ServiceState::Running | ServiceState::Unhealthy => {
                    if self.has_active_dependents(name) {
                        return false;
                    }
                    self.begin_stop(name);
                    true
                }
                ServiceState::Waiting | ServiceState::Restarting | ServiceState::Error => {
                    self.cancel_timer(name);
                    self.unit_mut(name).next = Next::Nothing;
                    self.settle_stopped(name);
                    true
                }
                ServiceState::Stopped if !unit.selected => {
                    self.set_state(name, ServiceState::Disabled, None);
                    true
                }
                ServiceState::Disabled if unit.selected => {
                    self.set_state(name, ServiceState::Stopped, None);
                    true
                }
                _ => false,
            };
        }
        let may_start = match state {
            // A service that completed stays done until asked to run again.
            ServiceState::Stopped => !unit.completed || unit.next == Next::Start,
            ServiceState::Waiting | ServiceState::Disabled => true,
            ServiceState::Restarting | ServiceState::Error => {
                matches!(unit.next, Next::Start | Next::AfterDependency(_))
            }
            _ => false,
        };
        if !may_start {
            return false;
        }
        match self.readiness(name) {
            Readiness::Ready => {
                self.begin_start(name);
                true
            }
            Readiness::Waiting(reason) => {
                let unit = self.unit(name);
                if state == ServiceState::Waiting && unit.status.reason.as_deref() == Some(&reason)
                {
                    return false;
                }
                // A retry that is due waits in error until its dependencies are back; but a
                // missing engine is no failure of the service's own: it waits, saying so.
                if state == ServiceState::Error
                    && !unit.blocked()
                    && unit.cause() != Some(FailureCause::EngineUnavailable)
                {
                    return false;
                }
                self.unit_mut(name).next = Next::Nothing;
                self.set_state(name, ServiceState::Waiting, Some(reason));
                true
            }
            Readiness::Failed(dependency) => {
                let unit = self.unit_mut(name);
                if unit.next == Next::AfterDependency(dependency.clone()) {
                    return false;
                }
                let message = format!("dependency {dependency} failed");
                unit.next = Next::AfterDependency(dependency);
                unit.status.last_error = Some(ServiceError::new(
                    FailureCause::DependencyFailed,
                    message.clone(),
                ));
                self.set_state(name, ServiceState::Error, Some(message));
                true
            }
        }
    }

    /// The dependencies of `name`, with the engine for a container that does not name it.
    pub(super) fn dependencies_of(&self, name: &str) -> Vec<Dependency> {
        let service = &self.unit(name).service;
        let mut dependencies = service.depends_on.clone();
        if let (Some(engine), RuntimeKind::Container { .. }) = (&self.engine, &service.runtime)
            && !dependencies.iter().any(|d| &d.service == engine)
        {
            dependencies.push(Dependency {
                service: engine.clone(),
                condition: Condition::Healthy,
                restart: false,
                location: None,
            });
        }
        dependencies
    }

    /// Whether the dependencies of `name` let it start.
    pub fn readiness(&self, name: &str) -> Readiness {
        for dependency in self.dependencies_of(name) {
            let other = self.unit(&dependency.service);
            if other.service.runtime == RuntimeKind::Engine
                && other.state() != ServiceState::Running
            {
                // A missing engine is something to wait for, not a failure.
                let why = match (other.state(), &other.status.last_error) {
                    (ServiceState::Error, Some(error)) => format!(": {}", error.message),
                    _ => String::new(),
                };
                return Readiness::Waiting(format!("waiting for Docker{why}"));
            }
            if meets(other, dependency.condition) {
                continue;
            }
            if other.state() == ServiceState::Error
                && !other.blocked()
                && let Some(error) = other
                    .status
                    .last_error
                    .as_ref()
                    .filter(|error| error.cause.is_missing_here())
            {
                // Something this machine lacks (a program, a model, an image): no failure
                // of this service's, which starts once it is there.
                return Readiness::Waiting(format!(
                    "waiting for {}, which cannot start yet: {}",
                    dependency.service, error.message
                ));
            }
            if other.state() == ServiceState::Error || other.blocked() {
                return Readiness::Failed(dependency.service.clone());
            }
            let reason = if !other.wants_up() && !other.state().is_active() {
                format!("waiting for {}, which is stopped", dependency.service)
            } else {
                let goal = match dependency.condition {
                    Condition::Healthy => "be ready",
                    Condition::Started => "start",
                    Condition::Completed => "complete",
                };
                format!("waiting for {} to {goal}", dependency.service)
            };
            return Readiness::Waiting(reason);
        }
        Readiness::Ready
    }

    /// Whether something that needs `name` may still be running.
    fn has_active_dependents(&self, name: &str) -> bool {
        let is_engine = self.engine.as_deref() == Some(name);
        let dependents = self.plan.dependents(name);
        self.units.iter().any(|(other, unit)| {
            unit.state().is_active()
                && (dependents.contains(other)
                    || is_engine && matches!(unit.service.runtime, RuntimeKind::Container { .. }))
        })
    }

    /// A new instance of `name`.
    fn begin_start(&mut self, name: &str) {
        self.cancel_timer(name);
        let unit = self.unit_mut(name);
        unit.next = Next::Nothing;
        unit.completed = false;
        unit.instance += 1;
        let instance = unit.instance;
        self.set_state(name, ServiceState::Starting, None);
        self.act(Action::Start {
            name: name.to_string(),
            instance,
        });
    }

    /// Asks the instance of `name` to stop (once).
    pub(super) fn begin_stop(&mut self, name: &str) {
        if self.unit(name).state() == ServiceState::Stopping {
            return;
        }
        self.set_state(name, ServiceState::Stopping, None);
        self.act(Action::Stop {
            name: name.to_string(),
        });
    }
}

/// Whether `unit` meets a dependency's `condition`.
fn meets(unit: &super::unit::Unit, condition: Condition) -> bool {
    match condition {
        Condition::Healthy => unit.state() == ServiceState::Running,
        Condition::Started => {
            matches!(
                unit.state(),
                ServiceState::Running | ServiceState::Unhealthy
            ) || (unit.state() == ServiceState::Starting && unit.live.is_some())
        }
        Condition::Completed => unit.completed && unit.state() == ServiceState::Stopped,
    }
}
