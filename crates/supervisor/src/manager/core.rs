//! The reconciler: every decision about every service, as pure code over plain data.
//!
//! [`Core`] holds the units (one per service), the plan and the start-up in progress. Its
//! entry points are commands (`start_all`, `stop_service`, `set_features`, … here) and facts
//! (`started`, `exited`, `probe`, `timer`, in `lifecycle.rs`); each changes the units, then
//! [`Core::advance`] (in `advance.rs`) moves every service as far as its dependencies allow
//! and checks how the start-up stands (`startup.rs`). What must happen outside — start a
//! process, stop one, schedule a timer, emit an event, save a file — is queued as an
//! [`Action`] for the shell to carry out. Time comes in as an argument; nothing here
//! spawns, sleeps or touches the OS, so the tests drive it from tables.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::action::Action;
use super::unit::{Goal, Next, Unit};
use super::{ManagerError, ProgramsChoice};
use crate::definitions::{self, Definitions, RuntimeKind, Service};
use crate::events::{EventKind, StartupPhase};
use crate::persist::{Choices, ProcessRecord, Setup};
use crate::plan::Plan;
use crate::selection::{self, FeatureChoice, Selection};
use crate::state::{Health, ServiceState};
use crate::status::ServiceStatus;

/// The timings the reconciler decides with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// How long a service that gave up (crash loop, failed start) waits before a new try.
    pub retry_after_giving_up: Duration,
    /// How often an unreachable container engine is asked again.
    pub engine_recheck: Duration,
}

/// All service state, and the decisions over it.
pub struct Core {
    /// The definitions as run: the user's own servers are external services.
    pub(super) definitions: Definitions,
    /// The definitions as written, to run a service again once the user's server is not
    /// wanted any more.
    written: Definitions,
    /// The plan of every defined service (features may change; the graph changes only when
    /// a service becomes, or stops being, the user's own server).
    pub(super) plan: Plan,
    /// Service names in start order (dependencies first).
    pub(super) order: Vec<String>,
    pub(super) units: BTreeMap<String, Unit>,
    pub(super) features: BTreeSet<String>,
    /// The user (or the caller) chose the features; until then they are the defaults, and
    /// no choice is saved (a first run stays a first run until the user picks).
    pub(super) features_chosen: bool,
    /// The saved setup, written back with every other choice.
    setup: Setup,
    /// The service that is the container engine, if the definitions have one: every
    /// container waits for it.
    pub(super) engine: Option<String>,
    /// The services the start-up in progress waits for.
    pub(super) startup: Option<BTreeSet<String>>,
    /// How the last start-up went, for snapshots.
    pub(super) startup_phase: StartupPhase,
    pub(super) timings: Timings,
    /// The number of the last event emitted (the shell's bus numbers them the same way).
    pub(super) seq: u64,
    actions: Vec<Action>,
}

impl Core {
    /// A reconciler for `definitions`, with the services of `selection` selected; `stopped`
    /// are the services the user stopped by hand.
    pub fn new(
        written: Definitions,
        definitions: Definitions,
        plan: Plan,
        selection: Selection,
        choices: &Choices,
        timings: Timings,
    ) -> Core {
        let stopped = &choices.stopped;
        let order: Vec<String> = plan.start_order().map(str::to_string).collect();
        let units = order
            .iter()
            .map(|name| {
                let service = Arc::new(definitions.services[name].clone());
                let goal = if stopped.contains(name) {
                    Goal::StoppedByUser
                } else {
                    Goal::Rest
                };
                let selected = selection.services.contains(name);
                (name.clone(), Unit::new(service, selected, goal))
            })
            .collect();
        let engine = definitions
            .services
            .values()
            .find(|s| s.runtime == RuntimeKind::Engine)
            .map(|s| s.name.clone());
        Core {
            definitions,
            written,
            plan,
            order,
            units,
            features: selection.features,
            features_chosen: choices.features.is_some(),
            setup: choices.setup.clone(),
            engine,
            startup: None,
            startup_phase: StartupPhase::NotStarted,
            timings,
            seq: 0,
            actions: Vec::new(),
        }
    }

    /// The actions decided since the last call, in order.
    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    // ---- commands ------------------------------------------------------------------

    /// Starts every selected service the user has not stopped.
    pub fn start_all(&mut self, now: Instant) {
        let blocked: BTreeSet<String> = self
            .units
            .iter()
            .filter(|(_, unit)| unit.goal == Goal::StoppedByUser)
            .flat_map(|(name, _)| self.plan.dependents(name).into_iter().chain([name.clone()]))
            .collect();
        let mut targets = BTreeSet::new();
        let mut retry = Vec::new();
        for (name, unit) in &mut self.units {
            if !unit.selected {
                continue;
            }
            if blocked.contains(name) {
                if !matches!(unit.goal, Goal::StoppedByUser | Goal::StoppedWith(_)) {
                    let with = self
                        .plan
                        .dependencies(name)
                        .into_iter()
                        .find(|dependency| blocked.contains(dependency));
                    if let Some(with) = with {
                        unit.goal = Goal::StoppedWith(with);
                    }
                }
                continue;
            }
            unit.goal = Goal::Run;
            if unit.state() == ServiceState::Error {
                retry.push(name.clone());
            }
            targets.insert(name.clone());
        }
        for name in retry {
            self.cancel_timer(&name);
            self.unit_mut(&name).next = Next::Start;
        }
        self.startup = Some(targets);
        self.startup_phase = StartupPhase::Starting;
        self.advance(now);
    }

    /// Stops everything (dependents first, as `advance` allows).
    pub fn stop_all(&mut self, now: Instant) {
        self.startup = None;
        for unit in self.units.values_mut() {
            if unit.goal == Goal::Run {
                unit.goal = Goal::Rest;
            }
            if unit.next == Next::RestartAfterStop {
                unit.next = Next::Nothing;
            }
        }
        self.advance(now);
    }

    /// Starts one service and what it needs; brings back what stopped with them.
    pub fn start_service(&mut self, name: &str, now: Instant) -> Result<(), ManagerError> {
        self.check_name(name)?;
        self.want_up_with_dependencies(name);
        self.save_choices();
        self.advance(now);
        Ok(())
    }

    /// Stops one service and, first, what depends on it. Returns the services that stop.
    pub fn stop_service(&mut self, name: &str, now: Instant) -> Result<Vec<String>, ManagerError> {
        self.check_name(name)?;
        let dependents = self.plan.dependents(name);
        let mut stopping = Vec::new();
        for (other, unit) in &mut self.units {
            if other == name {
                unit.goal = Goal::StoppedByUser;
            } else if dependents.contains(other) && unit.wants_up() {
                unit.goal = Goal::StoppedWith(name.to_string());
            } else {
                continue;
            }
            if unit.next == Next::RestartAfterStop {
                unit.next = Next::Nothing;
            }
            if unit.state().is_active() {
                stopping.push(other.clone());
            }
        }
        self.save_choices();
        self.advance(now);
        Ok(stopping)
    }

    /// Restarts one service, whatever its state, and forgets its crash history.
    pub fn restart_service(&mut self, name: &str, now: Instant) -> Result<(), ManagerError> {
        self.restart(name)?;
        self.advance(now);
        Ok(())
    }

    /// [`Core::restart_service`] without moving anything else along yet.
    pub(super) fn restart(&mut self, name: &str) -> Result<(), ManagerError> {
        self.check_name(name)?;
        self.want_up_with_dependencies(name);
        self.save_choices();
        let unit = self.unit_mut(name);
        unit.tracker.reset();
        unit.dependents_follow = true;
        if unit.state().is_active() {
            unit.next = Next::RestartAfterStop;
            self.begin_stop(name);
        } else {
            self.cancel_timer(name);
            self.unit_mut(name).next = Next::Start;
        }
        Ok(())
    }

    /// Turns exactly these features on.
    pub fn set_features(
        &mut self,
        features: BTreeSet<String>,
        now: Instant,
    ) -> Result<Selection, ManagerError> {
        let selection = selection::select(&self.definitions, &FeatureChoice::Only(features))
            .map_err(ManagerError::Features)?;
        self.select(&selection);
        self.features = selection.features.clone();
        self.features_chosen = true;
        self.save_choices();
        self.advance(now);
        Ok(selection)
    }

    /// Runs `name` as the user's own server at `url`, or (`None`) as written again: saved,
    /// and applied at once — what runs now stops, and it starts again the new way, its
    /// dependents following where their edges say `restart = true`.
    pub fn use_own_server(
        &mut self,
        name: &str,
        url: Option<String>,
        now: Instant,
    ) -> Result<(), ManagerError> {
        self.check_name(name)?;
        self.switch_server(name, url)?;
        self.save_choices();
        self.advance(now);
        Ok(())
    }

    /// Runs the new definition `service` from now on (read with `choice` applied: its
    /// programs from a folder or downloaded, or another build of them), restarting it when
    /// it should run, and saves the choice. A service run as the user's own server stays
    /// so; the new definition applies when it runs here again.
    pub fn use_programs(
        &mut self,
        service: Service,
        choice: ProgramsChoice,
        now: Instant,
    ) -> Result<(), ManagerError> {
        let name = service.name.clone();
        self.check_name(&name)?;
        let written = &self.written.services[&name];
        if written.depends_on != service.depends_on || written.feature != service.feature {
            return Err(ManagerError::Programs(format!(
                "the new definition of {name} changes more than its programs"
            )));
        }
        match choice {
            ProgramsChoice::Folder(folder) => {
                let Some(variable) = written
                    .programs
                    .as_ref()
                    .and_then(|programs| programs.variable.clone())
                else {
                    return Err(ManagerError::Programs(format!(
                        "{name} cannot take its programs from a folder"
                    )));
                };
                // An empty folder says "downloaded" on purpose: not the programs the app
                // ships either.
                self.setup
                    .folders
                    .insert(variable, folder.unwrap_or_default());
            }
            ProgramsChoice::Build(accelerator) => self.setup.accelerator = accelerator,
            ProgramsChoice::Models(folder) => {
                let variable = match &written.prepare {
                    Some(definitions::Prepare::LlamaSwapConfig {
                        models_variable: Some(variable),
                        ..
                    }) => variable.clone(),
                    _ => {
                        return Err(ManagerError::Programs(format!(
                            "{name} has no models folder to choose"
                        )));
                    }
                };
                match folder {
                    Some(folder) => self.setup.folders.insert(variable, folder),
                    None => self.setup.folders.remove(&variable),
                };
            }
        }
        self.written.services.insert(name.clone(), service.clone());
        if !self.setup.servers.contains_key(&name) {
            self.definitions
                .services
                .insert(name.clone(), service.clone());
            self.unit_mut(&name).run_as(Arc::new(service));
            if self.unit(&name).wants_up() {
                self.restart(&name)?;
            }
        }
        self.save_choices();
        self.advance(now);
        Ok(())
    }

    /// Puts back saved choices (a restored backup), applied at once: the features (those
    /// still defined), the services stopped by hand, and the user's own servers; the
    /// folders and the build of programs are saved and apply at the next launch (they shape
    /// the definitions). Returns whether they changed.
    pub fn restore(&mut self, choices: Choices, now: Instant) -> Result<bool, ManagerError> {
        if let Some(features) = choices.features {
            let known = features
                .into_iter()
                .filter(|feature| self.definitions.features.contains_key(feature))
                .collect();
            let selection = selection::select(&self.definitions, &FeatureChoice::Only(known))
                .map_err(ManagerError::Features)?;
            self.select(&selection);
            self.features = selection.features;
            self.features_chosen = true;
        }
        let names: BTreeSet<String> = self
            .setup
            .servers
            .keys()
            .chain(choices.setup.servers.keys())
            .filter(|name| self.units.contains_key(*name))
            .cloned()
            .collect();
        for name in names {
            let wanted = choices.setup.servers.get(&name).cloned();
            if self.setup.servers.get(&name) != wanted.as_ref() {
                self.switch_server(&name, wanted)?;
            }
        }
        for (name, unit) in &mut self.units {
            if choices.stopped.contains(name) {
                unit.goal = Goal::StoppedByUser;
            } else if unit.goal == Goal::StoppedByUser {
                unit.goal = if unit.selected { Goal::Run } else { Goal::Rest };
            }
        }
        let folders_changed = self.setup.folders != choices.setup.folders
            || self.setup.accelerator != choices.setup.accelerator;
        self.setup.folders = choices.setup.folders;
        self.setup.accelerator = choices.setup.accelerator;
        self.save_choices();
        self.advance(now);
        Ok(folders_changed)
    }

    /// Runs `name` as the user's server at `url`, or as written (`None`), without saving or
    /// moving anything else along yet.
    fn switch_server(&mut self, name: &str, url: Option<String>) -> Result<(), ManagerError> {
        let written = &self.written.services[name];
        let service = match &url {
            Some(url) => definitions::own_server(written, url).map_err(ManagerError::OwnServer)?,
            None => written.clone(),
        };
        let mut definitions = self.definitions.clone();
        definitions
            .services
            .insert(name.to_string(), service.clone());
        let plan = Plan::of_all(&definitions)
            .map_err(|cycle| ManagerError::OwnServer(cycle.to_string()))?;
        let selection =
            selection::select(&definitions, &FeatureChoice::Only(self.features.clone()))
                .map_err(ManagerError::Features)?;
        self.order = plan.start_order().map(str::to_string).collect();
        self.plan = plan;
        self.definitions = definitions;
        match url {
            Some(url) => self.setup.servers.insert(name.to_string(), url),
            None => self.setup.servers.remove(name),
        };
        self.select(&selection);
        self.unit_mut(name).run_as(Arc::new(service));
        if self.unit(name).wants_up() {
            self.restart(name)?;
        }
        Ok(())
    }

    /// The services run as the user's own servers, with their URLs.
    pub fn own_servers(&self) -> &BTreeMap<String, String> {
        &self.setup.servers
    }

    /// Marks the services of `selection` as selected, wanting up those newly selected and
    /// no longer wanting those left out.
    fn select(&mut self, selection: &Selection) {
        for (name, unit) in &mut self.units {
            let selected = selection.services.contains(name);
            if selected && !unit.selected && unit.goal == Goal::Rest {
                unit.goal = Goal::Run;
            } else if !selected && unit.goal == Goal::Run {
                unit.goal = Goal::Rest;
            }
            unit.selected = selected;
        }
    }

    fn check_name(&self, name: &str) -> Result<(), ManagerError> {
        let unit = self
            .units
            .get(name)
            .ok_or_else(|| ManagerError::unknown(name, self.units.keys()))?;
        if !unit.selected {
            return Err(ManagerError::FeatureOff {
                name: name.to_string(),
                feature: unit.service.feature.clone().unwrap_or_default(),
            });
        }
        Ok(())
    }

    /// `name` and everything it needs should run; so should what stopped with them. A
    /// service in error of its own gets a fresh start.
    fn want_up_with_dependencies(&mut self, name: &str) {
        let mut wanted = self.plan.dependencies(name);
        wanted.insert(name.to_string());
        let mut fresh = Vec::new();
        for (other, unit) in &mut self.units {
            let comes_back = matches!(&unit.goal, Goal::StoppedWith(with) if wanted.contains(with));
            if wanted.contains(other) || comes_back {
                unit.goal = Goal::Run;
                if unit.failed_itself() {
                    unit.tracker.reset();
                    fresh.push(other.clone());
                }
            }
        }
        if self.unit(name).completed && self.unit(name).state() == ServiceState::Stopped {
            // Asked by name, a service that completed runs again.
            fresh.push(name.to_string());
        }
        for other in fresh {
            self.cancel_timer(&other);
            self.unit_mut(&other).next = Next::Start;
        }
    }

    // ---- what the shell asks -------------------------------------------------------

    /// The status of every service at `now`, in start order.
    pub fn statuses(&self, now: Instant) -> Vec<ServiceStatus> {
        self.order
            .iter()
            .map(|name| {
                let unit = self.unit(name);
                let mut status = unit.status.clone();
                status.uptime_seconds = match unit.state() {
                    ServiceState::Running | ServiceState::Unhealthy => unit
                        .live
                        .as_ref()
                        .and_then(|live| live.ready_at)
                        .map(|at| now.saturating_duration_since(at).as_secs()),
                    _ => None,
                };
                status
            })
            .collect()
    }

    /// Whether `instance` is the current instance of `name` (facts about others are stale).
    pub fn is_current(&self, name: &str, instance: u64) -> bool {
        self.units
            .get(name)
            .is_some_and(|unit| unit.instance == instance)
    }

    /// No service has a process or container that may be alive.
    pub fn nothing_active(&self) -> bool {
        self.units.values().all(|unit| !unit.state().is_active())
    }

    /// The service `name` (which must be one of ours).
    pub fn unit(&self, name: &str) -> &Unit {
        &self.units[name]
    }

    /// The names of every service.
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.units.keys()
    }

    /// The features that are on.
    pub fn features(&self) -> &BTreeSet<String> {
        &self.features
    }

    /// How the last start-up went.
    pub fn startup_phase(&self) -> &StartupPhase {
        &self.startup_phase
    }

    /// The number of the last event emitted.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    // ---- bookkeeping ---------------------------------------------------------------

    pub(super) fn unit_mut(&mut self, name: &str) -> &mut Unit {
        self.units
            .get_mut(name)
            .expect("the reconciler only names its own services")
    }

    pub(super) fn act(&mut self, action: Action) {
        self.actions.push(action);
    }

    pub(super) fn emit(&mut self, kind: EventKind) {
        self.seq += 1;
        self.act(Action::Emit(kind));
    }

    pub(super) fn set_state(&mut self, name: &str, next: ServiceState, reason: Option<String>) {
        let unit = self.unit_mut(name);
        let previous = unit.status.state;
        if previous == next {
            // What a waiting service waits for is news (its dependency now starts, say);
            // other states say the same thing again in other words.
            let news = next == ServiceState::Waiting && unit.status.reason != reason;
            unit.status.reason = reason.clone();
            if news {
                self.emit(EventKind::ServiceStateChanged {
                    name: name.to_string(),
                    previous_state: previous,
                    current_state: next,
                    reason,
                });
            }
            return;
        }
        if !previous.can_become(next) {
            tracing::error!("bug: illegal transition of {name} from {previous} to {next}");
            debug_assert!(
                false,
                "illegal transition of {name} from {previous} to {next}"
            );
        }
        unit.status.state = next;
        unit.status.reason = reason.clone();
        unit.status.since = SystemTime::now();
        self.emit(EventKind::ServiceStateChanged {
            name: name.to_string(),
            previous_state: previous,
            current_state: next,
            reason,
        });
    }

    pub(super) fn set_health(&mut self, name: &str, health: Health, detail: Option<String>) {
        let unit = self.unit_mut(name);
        if unit.status.health == health {
            return;
        }
        unit.status.health = health;
        self.emit(EventKind::HealthChanged {
            name: name.to_string(),
            health,
            detail,
        });
    }

    /// Schedules a start of `name` after `delay`.
    pub(super) fn schedule(&mut self, name: &str, delay: Duration) {
        self.set_timer(name, Next::Timer, delay);
    }

    /// Sets the timer of `name` for `delay`, with `next` saying what its firing means.
    pub(super) fn set_timer(&mut self, name: &str, next: Next, delay: Duration) {
        let unit = self.unit_mut(name);
        unit.timer_token += 1;
        unit.next = next;
        let token = unit.timer_token;
        self.act(Action::Schedule {
            name: name.to_string(),
            token,
            after: delay,
        });
    }

    /// Forgets the pending timer of `name`, if any.
    pub(super) fn cancel_timer(&mut self, name: &str) {
        let unit = self.unit_mut(name);
        if unit.next == Next::Timer {
            unit.next = Next::Nothing;
            unit.timer_token += 1;
            self.act(Action::CancelTimer {
                name: name.to_string(),
            });
        }
    }

    pub(super) fn save_choices(&mut self) {
        let choices = Choices {
            features: self.features_chosen.then(|| self.features.clone()),
            stopped: self
                .units
                .iter()
                .filter(|(_, unit)| unit.goal == Goal::StoppedByUser)
                .map(|(name, _)| name.clone())
                .collect(),
            setup: self.setup.clone(),
        };
        self.act(Action::SaveChoices(choices));
    }

    pub(super) fn record_processes(&mut self) {
        let records = self
            .units
            .iter()
            .filter_map(|(name, unit)| {
                let live = unit.live.as_ref()?;
                Some(ProcessRecord {
                    service: name.clone(),
                    pid: live.pid?,
                    process_group: live.process_group,
                    start_time: live.start_time?,
                })
            })
            .collect();
        self.act(Action::RecordProcesses(records));
    }
}
