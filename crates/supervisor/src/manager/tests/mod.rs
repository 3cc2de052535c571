//! The reconciler driven without processes or timers: [`Sim`] plays the shell's part — it
//! reads the actions, keeps which instances are starting, alive or asked to stop and which
//! timers are pending, and feeds facts back — and checks two rules at every action: a
//! service starts only when its dependencies meet their conditions, and never while an
//! instance of it is still starting or alive.

mod properties;
mod script;
mod tables;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use super::action::Action;
use super::core::{Core, Timings};
use super::lifecycle::Started;
use super::unit::Next;
use crate::definitions::{Condition, Variables};
use crate::diagnostics::SourceFile;
use crate::events::EventKind;
use crate::health::ProbeReport;
use crate::load::{self, LoadOptions};
use crate::persist::Choices;
use crate::plan::Plan;
use crate::platform::Platform;
use crate::runtime::{ExitReport, StartError};
use crate::selection::FeatureChoice;
use crate::state::ServiceState;
use crate::status::{ExitInfo, FailureCause};

/// The timings of every simulation: a retry after giving up in 5 minutes, Docker asked
/// again every 3 s.
const TIMINGS: Timings = Timings {
    retry_after_giving_up: Duration::from_secs(300),
    engine_recheck: Duration::from_secs(3),
};

/// A reconciler and a model of the world around it.
pub struct Sim {
    pub core: Core,
    pub now: Instant,
    /// The actions of the last command or fact.
    pub last: Vec<Action>,
    /// Every event so far.
    pub events: Vec<EventKind>,
    /// Instances asked for whose runtime has not answered yet.
    pub starting: BTreeMap<String, u64>,
    /// Instances that run (started, not yet ended).
    pub alive: BTreeMap<String, u64>,
    /// Alive instances asked to stop.
    pub stop_asked: BTreeSet<String>,
    /// Instances whose health is watched.
    pub watched: BTreeMap<String, u64>,
    /// Pending timers: token and delay.
    pub timers: BTreeMap<String, (u64, Duration)>,
}

impl Sim {
    /// A simulation of these definitions (Linux, default features, nothing saved).
    pub fn new(toml: &str) -> Sim {
        let options = LoadOptions {
            platform: Platform::Linux,
            variables: Variables::new([], "/clara"),
            features: FeatureChoice::Defaults,
        };
        let loaded = load::load(&SourceFile::new("sim.toml", toml), &options)
            .unwrap_or_else(|error| panic!("{error}: {:?}", error.errors));
        let plan = Plan::of_all(&loaded.definitions).expect("acyclic");
        let core = Core::new(
            loaded.definitions.clone(),
            loaded.definitions,
            plan,
            loaded.selection,
            &Choices::default(),
            TIMINGS,
        );
        let mut sim = Sim {
            core,
            now: Instant::now(),
            last: Vec::new(),
            events: Vec::new(),
            starting: BTreeMap::new(),
            alive: BTreeMap::new(),
            stop_asked: BTreeSet::new(),
            watched: BTreeMap::new(),
            timers: BTreeMap::new(),
        };
        sim.absorb();
        sim
    }

    /// Reads the actions the core decided, applies them to the model and checks the rules.
    pub fn absorb(&mut self) {
        self.last = self.core.take_actions();
        for action in self.last.clone() {
            match action {
                Action::Start { name, instance } => {
                    self.check_may_start(&name);
                    assert!(
                        !self.starting.contains_key(&name) && !self.alive.contains_key(&name),
                        "a second instance of {name} was started"
                    );
                    self.starting.insert(name, instance);
                }
                Action::Stop { name } => {
                    self.watched.remove(&name);
                    if self.alive.contains_key(&name) {
                        self.stop_asked.insert(name);
                    }
                }
                Action::WatchHealth { name, instance, .. } => {
                    self.watched.insert(name, instance);
                }
                Action::Schedule { name, token, after } => {
                    self.timers.insert(name, (token, after));
                }
                Action::CancelTimer { name } => {
                    self.timers.remove(&name);
                }
                Action::Emit(kind) => self.events.push(kind),
                Action::SaveChoices(_) | Action::RecordProcesses(_) => {}
            }
        }
    }

    /// Every dependency of `name` meets its condition.
    fn check_may_start(&self, name: &str) {
        for dependency in self.core.dependencies_of(name) {
            let other = self.core.unit(&dependency.service);
            let met = match dependency.condition {
                Condition::Healthy => other.state() == ServiceState::Running,
                Condition::Started => {
                    matches!(
                        other.state(),
                        ServiceState::Running | ServiceState::Unhealthy
                    ) || other.state() == ServiceState::Starting
                        && self.alive.contains_key(&dependency.service)
                }
                Condition::Completed => other.state() == ServiceState::Stopped && other.completed,
            };
            assert!(
                met,
                "{name} was started while {} is {} ({:?} needed)",
                dependency.service,
                other.state(),
                dependency.condition
            );
        }
    }

    /// The names of the services the last step asked to start, in order.
    pub fn starts(&self) -> Vec<String> {
        self.named(|action| match action {
            Action::Start { name, .. } => Some(name),
            _ => None,
        })
    }

    /// The names of the services the last step asked to stop, in order.
    pub fn stops(&self) -> Vec<String> {
        self.named(|action| match action {
            Action::Stop { name } => Some(name),
            _ => None,
        })
    }

    fn named(&self, pick: impl Fn(&Action) -> Option<&String>) -> Vec<String> {
        self.last.iter().filter_map(pick).cloned().collect()
    }

    /// The state of `name`.
    pub fn state(&self, name: &str) -> ServiceState {
        self.core.unit(name).state()
    }

    // ---- commands ----------------------------------------------------------------

    pub fn start_all(&mut self) {
        self.core.start_all(self.now);
        self.absorb();
    }

    pub fn stop_all(&mut self) {
        self.core.stop_all(self.now);
        self.absorb();
    }

    // ---- facts -------------------------------------------------------------------

    /// The runtime started the pending instance of `name`, and, when it has no health
    /// check, it stays up for its `min_uptime` (time moves on by it): the actions of both
    /// count as this fact's.
    pub fn started(&mut self, name: &str) {
        self.launched(name);
        if self.core.unit(name).next == Next::UpWhenTimer {
            let launched = std::mem::take(&mut self.last);
            self.fire(name);
            self.last.splice(0..0, launched);
        }
    }

    /// The runtime started the pending instance of `name`; nothing more has happened yet.
    pub fn launched(&mut self, name: &str) {
        let instance = self.take_starting(name);
        self.alive.insert(name.to_string(), instance);
        let started = Started {
            pid: Some(1000 + instance as u32),
            start_time: Some(instance),
            process_group: Some(1000 + instance as i32),
            detail: None,
        };
        self.core.started(name, instance, Ok(started), self.now);
        self.absorb();
    }

    /// The runtime could not start the pending instance of `name`.
    pub fn start_fails(&mut self, name: &str, cause: FailureCause) {
        let instance = self.take_starting(name);
        let error = StartError::new(format!("cannot start {name}")).because(cause);
        self.core.started(name, instance, Err(error), self.now);
        self.absorb();
    }

    fn take_starting(&mut self, name: &str) -> u64 {
        self.starting
            .remove(name)
            .unwrap_or_else(|| panic!("{name} has no start pending"))
    }

    /// The health watch of `name` reports.
    pub fn probe(&mut self, name: &str, report: ProbeReport) {
        let instance = self.watched[name];
        self.core.probe(name, instance, report, self.now);
        self.absorb();
    }

    /// The alive instance of `name` ends: by itself with `code`, as asked, or with its engine.
    fn end(&mut self, name: &str, exit: ExitInfo, requested: bool, engine_lost: bool) {
        let instance = self
            .alive
            .remove(name)
            .unwrap_or_else(|| panic!("{name} has no instance alive"));
        self.stop_asked.remove(name);
        self.watched.remove(name);
        let report = ExitReport {
            exit,
            requested,
            killed: false,
            engine_lost,
        };
        self.core.exited(name, instance, report, self.now);
        self.absorb();
    }

    /// The instance of `name` exits by itself with `code`.
    pub fn exits(&mut self, name: &str, code: i32) {
        self.end(name, ExitInfo::code(code), false, false);
    }

    /// The instance of `name` ends because its engine stopped.
    pub fn engine_lost(&mut self, name: &str) {
        self.end(name, ExitInfo::code(143), false, true);
    }

    /// The instance of `name`, asked to stop, has stopped.
    pub fn stopped(&mut self, name: &str) {
        assert!(
            self.stop_asked.contains(name),
            "{name} was not asked to stop"
        );
        self.end(name, ExitInfo::signal(15), true, false);
    }

    /// The pending timer of `name` fires (time moves on by its delay).
    pub fn fire(&mut self, name: &str) {
        let (token, after) = self
            .timers
            .remove(name)
            .unwrap_or_else(|| panic!("{name} has no timer pending"));
        self.now += after;
        self.core.timer(name, token, self.now);
        self.absorb();
    }

    /// Lets every pending start succeed and every asked stop happen, until nothing is
    /// left but timers.
    pub fn settle(&mut self) {
        for _ in 0..1000 {
            if let Some(name) = self.starting.keys().next().cloned() {
                self.started(&name);
            } else if let Some(name) = self.stop_asked.iter().next().cloned() {
                self.stopped(&name);
            } else {
                return;
            }
        }
        panic!("the simulation did not settle");
    }
}
