//! An instance's life, fact by fact: it started (or could not), its probes answered, it
//! ended, a timer fired. Each fact about the current instance updates its unit and decides
//! what follows — watch its health, mark it ready, restart it after a backoff, give up,
//! record a failure — then everything moves along.

use std::time::{Duration, Instant};

use super::action::Action;
use super::core::Core;
use super::unit::{Live, Next};
use crate::definitions::{HealthCheck, Probe, RestartMode, RuntimeKind};
use crate::events::EventKind;
use crate::health::{ProbeReport, Target};
use crate::restart::Decision;
use crate::runtime::docker::spec::container_name;
use crate::runtime::{ExitReport, StartError};
use crate::state::{Health, ServiceState};
use crate::status::{ExitInfo, FailureCause, ServiceError};

/// What a runtime reported about an instance that started.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Started {
    /// Its main process, when it has one.
    pub pid: Option<u32>,
    /// Its process start stamp, for identity checks.
    pub start_time: Option<u64>,
    /// Its process group (Unix).
    pub process_group: Option<i32>,
    /// What is worth showing about how it runs.
    pub detail: Option<String>,
}

impl Core {
    /// Instance `instance` of `name` started, or could not. The shell stops a stale
    /// instance itself; this is called for the current one.
    pub fn started(
        &mut self,
        name: &str,
        instance: u64,
        result: Result<Started, StartError>,
        now: Instant,
    ) {
        if !self.is_current(name, instance) {
            return;
        }
        match result {
            Ok(started) => self.on_started(name, started, now),
            Err(error) => self.on_start_failed(name, error),
        }
        self.advance(now);
    }

    /// Instance `instance` of `name` ended.
    pub fn exited(&mut self, name: &str, instance: u64, report: ExitReport, now: Instant) {
        if self.is_current(name, instance) {
            self.on_exited(name, report, now);
            self.advance(now);
        }
    }

    /// A health watch of instance `instance` of `name` reported a change.
    pub fn probe(&mut self, name: &str, instance: u64, report: ProbeReport, now: Instant) {
        if self.is_current(name, instance) && self.unit(name).live.is_some() {
            self.on_probe(name, report, now);
            self.advance(now);
        }
    }

    /// The timer of `name` with `token` fired: a restart or retry is due, or a service
    /// without a health check has stayed up for its `min_uptime`.
    pub fn timer(&mut self, name: &str, token: u64, now: Instant) {
        let Some(unit) = self.units.get_mut(name) else {
            return;
        };
        if unit.timer_token != token {
            return;
        }
        match unit.next {
            Next::Timer => {
                if unit.state() == ServiceState::Error {
                    unit.tracker.reset();
                }
                unit.next = Next::Start;
            }
            Next::UpWhenTimer => {
                unit.next = Next::Nothing;
                self.on_ready(name, now);
            }
            _ => return,
        }
        self.advance(now);
    }

    /// An image download of instance `instance` of `name` advanced.
    pub fn progress(&mut self, name: &str, instance: u64, done: u64, total: u64) {
        if self.is_current(name, instance) {
            self.emit(EventKind::PullProgress {
                name: name.to_string(),
                done,
                total,
            });
        }
    }

    /// Writing the log file of instance `instance` of `name` failed (why), or works again.
    pub fn log_writing(&mut self, name: &str, instance: u64, problem: Option<String>) {
        if self.is_current(name, instance) {
            self.unit_mut(name).status.log_problem = problem.clone();
            self.emit(EventKind::LogWriting {
                name: name.to_string(),
                problem,
            });
        }
    }

    fn on_started(&mut self, name: &str, started: Started, now: Instant) {
        let unit = self.unit_mut(name);
        unit.status.pid = started.pid;
        unit.status.detail = started.detail;
        // A new instance has its own log file; it says so if it cannot write either.
        unit.status.log_problem = None;
        unit.live = Some(Live {
            pid: started.pid,
            start_time: started.start_time,
            process_group: started.process_group,
            ready_at: None,
        });
        self.record_processes();
        let unit = self.unit(name);
        if !unit.wants_up() || unit.state() == ServiceState::Stopping {
            // Stopped (or no longer wanted) while it was starting: stop it now it can be.
            self.act(Action::Stop {
                name: name.to_string(),
            });
            return;
        }
        match self.effective_health(name) {
            Some((check, target)) => {
                let instance = self.unit(name).instance;
                self.act(Action::WatchHealth {
                    name: name.to_string(),
                    instance,
                    check,
                    target,
                });
            }
            None => {
                // Without a health check, staying up for a moment is what proves a start:
                // an exit before that is a failed start, not a service that ran.
                let min_uptime = self.unit(name).service.min_uptime;
                if min_uptime.is_zero() {
                    self.on_ready(name, now);
                } else {
                    self.set_timer(name, Next::UpWhenTimer, min_uptime);
                }
            }
        }
    }

    fn on_start_failed(&mut self, name: &str, error: StartError) {
        self.retry_later(
            name,
            ServiceError {
                message: error.message,
                detail: error.detail,
                cause: error.cause,
            },
        );
    }

    /// In error until a later try: soon when the engine is what is missing, which is not
    /// the service's fault and counts no restart; after a while otherwise.
    fn retry_later(&mut self, name: &str, failure: ServiceError) {
        let retry = if failure.cause == FailureCause::EngineUnavailable {
            self.timings.engine_recheck
        } else {
            self.timings.retry_after_giving_up
        };
        let reason = format!("{}; trying again in {}", failure.message, short(retry));
        self.unit_mut(name).status.last_error = Some(failure);
        self.set_state(name, ServiceState::Error, Some(reason));
        self.schedule(name, retry);
        if self.unit(name).service.runtime == RuntimeKind::Engine {
            self.release_what_waits_for_the_engine();
        }
    }

    fn on_ready(&mut self, name: &str, now: Instant) {
        let has_check = self.effective_health(name).is_some();
        let unit = self.unit_mut(name);
        if let Some(live) = &mut unit.live {
            live.ready_at = Some(now);
        }
        if unit.state() != ServiceState::Starting {
            return;
        }
        if has_check {
            self.set_health(name, Health::Healthy, None);
        }
        self.set_state(name, ServiceState::Running, None);
        if std::mem::take(&mut self.unit_mut(name).dependents_follow) {
            self.restart_followers(name);
        }
        if self.unit(name).service.runtime == RuntimeKind::Engine {
            self.release_what_waits_for_the_engine();
        }
    }

    /// The engine service came or went: what was to try again later because the engine was
    /// missing follows it now, not at its next try. It waits while the engine is down (and
    /// says so), and starts the moment the engine answers.
    fn release_what_waits_for_the_engine(&mut self) {
        let waiting: Vec<String> = self
            .units
            .iter()
            .filter(|(_, unit)| {
                unit.service.runtime != RuntimeKind::Engine
                    && unit.next == Next::Timer
                    && unit.state() == ServiceState::Error
                    && unit
                        .status
                        .last_error
                        .as_ref()
                        .is_some_and(|error| error.cause == FailureCause::EngineUnavailable)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in waiting {
            self.cancel_timer(&name);
            self.unit_mut(&name).next = Next::Start;
        }
    }

    /// Restarts the running dependents that asked to follow `name` (`restart = true`).
    fn restart_followers(&mut self, name: &str) {
        let followers: Vec<String> = self
            .units
            .iter()
            .filter(|(_, unit)| {
                unit.service
                    .depends_on
                    .iter()
                    .any(|d| d.service == name && d.restart)
                    && matches!(
                        unit.state(),
                        ServiceState::Running | ServiceState::Unhealthy | ServiceState::Starting
                    )
            })
            .map(|(follower, _)| follower.clone())
            .collect();
        for follower in followers {
            tracing::info!("restarting {follower} because {name} restarted");
            if let Err(error) = self.restart(&follower) {
                tracing::warn!("cannot restart {follower}: {error}");
            }
        }
    }

    fn on_probe(&mut self, name: &str, report: ProbeReport, now: Instant) {
        match report {
            ProbeReport::Ready => self.on_ready(name, now),
            ProbeReport::NotReadyInTime(why) => {
                let period = self
                    .effective_health(name)
                    .map_or(Duration::ZERO, |(check, _)| check.start_period);
                let message = format!("did not become ready within {}", short(period));
                self.fail_instance(
                    name,
                    ServiceError {
                        detail: Some(why),
                        ..ServiceError::new(FailureCause::NotReady, message)
                    },
                );
            }
            ProbeReport::Unhealthy(why) => {
                self.set_health(name, Health::Unhealthy, Some(why.clone()));
                if self.unit(name).state() == ServiceState::Running {
                    self.set_state(name, ServiceState::Unhealthy, Some(why.clone()));
                }
                if self.unit(name).service.restart.policy != RestartMode::Never {
                    // The engine's check is whether it answers: failing it is the engine gone.
                    let failure = if self.unit(name).service.runtime == RuntimeKind::Engine {
                        ServiceError::new(FailureCause::EngineUnavailable, why)
                    } else {
                        ServiceError {
                            detail: Some(why),
                            ..ServiceError::new(
                                FailureCause::Unhealthy,
                                "stopped passing its health check",
                            )
                        }
                    };
                    self.fail_instance(name, failure);
                }
            }
            ProbeReport::Healthy => {
                self.set_health(name, Health::Healthy, None);
                if self.unit(name).state() == ServiceState::Unhealthy {
                    self.set_state(name, ServiceState::Running, None);
                }
            }
        }
    }

    /// Stops an instance because it failed; the failure is handled when it has ended.
    fn fail_instance(&mut self, name: &str, failure: ServiceError) {
        let unit = self.unit_mut(name);
        if matches!(unit.next, Next::FailAfterStop(_)) || unit.state() == ServiceState::Stopping {
            return;
        }
        unit.next = Next::FailAfterStop(failure);
        self.begin_stop(name);
    }

    fn on_exited(&mut self, name: &str, report: ExitReport, now: Instant) {
        let unit = self.unit_mut(name);
        if let Some(ready_at) = unit.live.take().and_then(|live| live.ready_at) {
            unit.tracker
                .ran_for(now.saturating_duration_since(ready_at));
        }
        unit.status.pid = None;
        unit.status.uptime_seconds = None;
        unit.status.last_exit = Some(report.exit);
        self.record_processes();
        if self.unit(name).status.health != Health::Unknown {
            self.set_health(name, Health::Unknown, None);
        }
        let unit = self.unit_mut(name);
        let next = std::mem::replace(&mut unit.next, Next::Nothing);
        if let Next::FailAfterStop(failure) = next {
            self.after_failure(name, false, failure, now);
            return;
        }
        if report.requested || unit.state() == ServiceState::Stopping {
            if next == Next::RestartAfterStop && unit.wants_up() {
                unit.next = Next::Start;
                unit.status.restarts += 1;
                let reason = Some("restarting on request".to_string());
                self.set_state(name, ServiceState::Restarting, reason);
            } else {
                self.settle_stopped(name);
            }
            return;
        }
        if report.engine_lost {
            let failure = ServiceError::new(
                FailureCause::EngineUnavailable,
                "Docker stopped, and its container with it",
            );
            self.after_failure(name, false, failure, now);
            return;
        }
        let clean = report.exit.is_success();
        unit.completed = clean;
        let info = report.exit.describe();
        if clean && unit.service.restart.policy != RestartMode::Always {
            let reason = Some(format!("completed ({info})"));
            self.set_state(name, ServiceState::Stopped, reason);
            return;
        }
        let failure = ServiceError::new(FailureCause::Exited, format!("{info} — see its logs"));
        self.after_failure(name, clean, failure, now);
    }

    /// Restart, give up, or stay down after an instance failed or exited.
    fn after_failure(&mut self, name: &str, clean: bool, failure: ServiceError, now: Instant) {
        if failure.cause == FailureCause::EngineUnavailable && self.unit(name).wants_up() {
            self.retry_later(name, failure);
            return;
        }
        let retry = self.timings.retry_after_giving_up;
        let unit = self.unit_mut(name);
        let decision = if unit.wants_up() {
            unit.tracker.decide(clean, now)
        } else {
            Decision::Stay
        };
        unit.status.last_error = Some(failure.clone());
        match decision {
            Decision::Stay if !unit.wants_up() => self.settle_stopped(name),
            Decision::Stay => self.set_state(name, ServiceState::Error, Some(failure.message)),
            Decision::RestartAfter(delay) => {
                unit.status.restarts += 1;
                unit.dependents_follow = true;
                let reason = format!("{}; restarting in {}", failure.message, short(delay));
                self.set_state(name, ServiceState::Restarting, Some(reason));
                if delay.is_zero() {
                    self.unit_mut(name).next = Next::Start;
                } else {
                    self.schedule(name, delay);
                }
            }
            Decision::CrashLoop { restarts, within } => {
                unit.dependents_follow = true;
                let last = match unit.status.last_exit {
                    Some(ExitInfo {
                        code: Some(code), ..
                    }) => format!("last exit code {code}"),
                    Some(ExitInfo {
                        signal: Some(signal),
                        ..
                    }) => format!("last killed by signal {signal}"),
                    _ => format!("last: {}", failure.message),
                };
                let message = format!(
                    "crash loop: {} exits in {}, {last} — see the logs",
                    restarts + 1,
                    short(within)
                );
                unit.status.last_error = Some(ServiceError {
                    message: message.clone(),
                    ..failure
                });
                let reason = format!("{message}; trying again in {}", short(retry));
                self.set_state(name, ServiceState::Error, Some(reason));
                self.schedule(name, retry);
            }
        }
    }

    /// A stopped instance that is not coming back: stopped, or disabled if its feature is off.
    pub(super) fn settle_stopped(&mut self, name: &str) {
        let unit = self.unit(name);
        let (state, reason) = if !unit.selected {
            (ServiceState::Disabled, None)
        } else {
            let reason = match &unit.goal {
                super::unit::Goal::StoppedByUser => Some("stopped by the user".to_string()),
                super::unit::Goal::StoppedWith(with) => {
                    Some(format!("stopped because {with} was stopped"))
                }
                _ => None,
            };
            (ServiceState::Stopped, reason)
        };
        self.set_state(name, state, reason);
    }

    /// The health check a service is judged by, and what it is aimed at: its own; for an
    /// external service without one, an HTTP probe of its URL; for the engine, "Docker
    /// answers", asked every `engine_recheck`.
    pub(super) fn effective_health(&self, name: &str) -> Option<(HealthCheck, Target)> {
        let service = &self.unit(name).service;
        match (&service.health, &service.runtime) {
            (_, RuntimeKind::Engine) => Some((
                HealthCheck {
                    probe: Probe::Docker,
                    interval: self.timings.engine_recheck,
                    timeout: Duration::from_secs(3),
                    retries: 1,
                    start_period: Duration::from_secs(10),
                },
                Target::Engine,
            )),
            (Some(check), RuntimeKind::Container { .. }) => {
                Some((check.clone(), Target::Container(container_name(name))))
            }
            (Some(check), _) => Some((check.clone(), Target::Host)),
            (None, RuntimeKind::External { url }) => Some((
                HealthCheck::with_default_timing(Probe::Http {
                    url: url.clone(),
                    status: None,
                    body: None,
                }),
                Target::Host,
            )),
            (None, _) => None,
        }
    }
}

/// A duration for people: "80ms", "1.5s", "1m 30s".
pub(super) fn short(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else if duration < Duration::from_secs(10) {
        format!("{:.1}s", duration.as_secs_f64())
    } else {
        humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_for_people() {
        assert_eq!(short(Duration::from_millis(83)), "83ms");
        assert_eq!(short(Duration::from_millis(1540)), "1.5s");
        assert_eq!(short(Duration::from_secs(90)), "1m 30s");
        assert_eq!(short(Duration::from_secs(300)), "5m");
    }
}
