//! The actor: one task that owns every service's state and reacts to commands and facts.
//!
//! After every command or fact, [`Actor::advance`] walks the services in start order and
//! moves each as far as its dependencies allow — starting what is ready, stopping what is
//! no longer wanted once its dependents are down — until nothing changes. Start-up is thus
//! event-driven: each service starts the moment its own dependencies are ready.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot, watch};

use super::slot::{Live, Slot};
use super::{Command, ManagerConfig, ManagerError, StartNotes};
use crate::definitions::{
    Condition, Definitions, HealthCheck, Probe, Runtime as RuntimeKind, Service,
};
use crate::events::{EventBus, EventKind, Snapshot, StartupPhase};
use crate::graph::DependencyGraph;
use crate::health::{ProbeReport, Prober, Target};
use crate::lock::StateLock;
use crate::output::{LogBuffer, LogFile, OutputSink};
use crate::persist::{Choices, ProcessRecord, StateFiles};
use crate::restart::{Decision, RestartTracker};
use crate::runtime::docker::{ContainerRuntime, DockerEngine, EngineRuntime};
use crate::runtime::guard::Guard;
use crate::runtime::{
    ExitReport, ExternalRuntime, Instance, ProcessRuntime, PullProgress, Runtime, StartError,
    StartRequest, StopRequest, leftovers,
};
use crate::selection::{self, FeatureChoice, Selection};
use crate::state::{Health, ServiceState};
use crate::status::{ExitInfo, FailureCause, ServiceError, ServiceStatus};

/// Something that happened to an instance, reported back to the actor.
enum Fact {
    Started {
        name: String,
        instance: u64,
        result: Result<Instance, StartError>,
    },
    Exited {
        name: String,
        instance: u64,
        report: ExitReport,
    },
    Probe {
        name: String,
        instance: u64,
        report: ProbeReport,
    },
    Timer {
        name: String,
        token: u64,
    },
    Progress {
        name: String,
        instance: u64,
        progress: PullProgress,
    },
}

/// Where the dependencies of a service stand.
enum Readiness {
    Ready,
    Waiting(String),
    Failed(String),
}

/// The start-up in progress.
struct Startup {
    targets: BTreeSet<String>,
}

/// The runtimes, one per kind of service.
struct Runtimes {
    process: ProcessRuntime,
    external: ExternalRuntime,
    container: ContainerRuntime,
    engine: EngineRuntime,
}

impl Runtimes {
    fn for_service(&self, service: &Service) -> &dyn Runtime {
        match service.runtime {
            RuntimeKind::Process { .. } => &self.process,
            RuntimeKind::External { .. } => &self.external,
            RuntimeKind::Container { .. } => &self.container,
            RuntimeKind::Engine => &self.engine,
        }
    }
}

/// The actor's whole state.
pub struct Actor {
    definitions: Definitions,
    graph: DependencyGraph,
    /// Service names in start order (dependencies first).
    order: Vec<String>,
    slots: BTreeMap<String, Slot>,
    features: BTreeSet<String>,
    /// The user (or the caller) chose the features; until then they are the defaults, and
    /// no choice is saved (a first run stays a first run until the user picks).
    features_chosen: bool,
    config: ManagerConfig,
    files: StateFiles,
    events: EventBus,
    runtimes: Arc<Runtimes>,
    prober: Prober,
    facts_in: mpsc::UnboundedSender<Fact>,
    facts: mpsc::UnboundedReceiver<Fact>,
    processes: watch::Sender<Vec<ProcessRecord>>,
    process_writer: Option<tokio::task::JoinHandle<()>>,
    /// The service that is the container engine, if the definitions have one: every
    /// container waits for it.
    engine: Option<String>,
    /// Readiness signals of `log` probes, from the start of an instance to its health watch.
    pending_log_ready: BTreeMap<String, oneshot::Receiver<()>>,
    startup: Option<Startup>,
    /// How the last start-up went, for snapshots.
    startup_phase: StartupPhase,
    stop_waiters: Vec<oneshot::Sender<()>>,
    shutting_down: Option<oneshot::Sender<()>>,
    /// The state directory's lock, held until every service has stopped.
    lock: StateLock,
}

impl Actor {
    /// Prepares the actor: restores the user's choices and cleans up after a crashed run.
    pub fn new(
        definitions: Definitions,
        requested: Option<BTreeSet<String>>,
        config: ManagerConfig,
        guard: Guard,
        lock: StateLock,
    ) -> Result<(Actor, StartNotes), ManagerError> {
        let files = StateFiles::new(&config.state_dir);
        let mut notes = StartNotes::default();
        let mut choices = files.read_choices().unwrap_or_else(|problem| {
            notes
                .warnings
                .push(format!("{problem}; starting with the default choices"));
            Choices::default()
        });
        match files.read_processes() {
            Ok(records) => notes.cleaned_up = leftovers::clean_up(&records),
            Err(problem) => notes.warnings.push(problem),
        }
        let choice = match requested {
            Some(features) => {
                choices.features = Some(features.clone());
                FeatureChoice::Only(features)
            }
            None => match &choices.features {
                Some(saved) => {
                    let known: BTreeSet<String> = saved
                        .iter()
                        .filter(|f| definitions.features.contains_key(*f))
                        .cloned()
                        .collect();
                    for gone in saved.difference(&known) {
                        notes.warnings.push(format!(
                            "the saved feature \"{gone}\" no longer exists; it is left out"
                        ));
                    }
                    FeatureChoice::Only(known)
                }
                None => FeatureChoice::Defaults,
            },
        };
        let features_chosen = choices.features.is_some();
        let selection = selection::select(&definitions, &choice).map_err(ManagerError::Features)?;
        let graph = DependencyGraph::from_services(definitions.services.values());
        let order: Vec<String> = graph
            .waves()
            .map_err(|cycle| {
                ManagerError::Features(vec![crate::diagnostics::Diagnostic::error(
                    crate::diagnostics::Subject::File,
                    format!("dependency cycle: {}", crate::graph::describe_cycle(&cycle)),
                )])
            })?
            .into_iter()
            .flatten()
            .collect();
        let slots = order
            .iter()
            .map(|name| {
                let service = Arc::new(definitions.services[name].clone());
                let selected = selection.services.contains(name);
                let state = if selected {
                    ServiceState::Stopped
                } else {
                    ServiceState::Disabled
                };
                let slot = Slot {
                    status: ServiceStatus::new(
                        name,
                        service.description.clone(),
                        service.critical,
                        state,
                    ),
                    tracker: RestartTracker::new(service.restart.clone()),
                    service,
                    selected,
                    want_up: false,
                    user_stopped: choices.stopped.contains(name),
                    stopped_with: None,
                    instance: 0,
                    live: None,
                    logs: Arc::new(LogBuffer::new(config.log_lines)),
                    completed: false,
                    start_due: false,
                    timer_token: 0,
                    timer: None,
                    blocked_by: None,
                    restart_after_stop: false,
                    failure_on_exit: None,
                    dependents_follow: false,
                    engine_missing: false,
                    missing: false,
                };
                (name.clone(), slot)
            })
            .collect();
        let (facts_in, facts) = mpsc::unbounded_channel();
        let (processes, process_updates) = watch::channel(Vec::new());
        let process_writer = tokio::spawn(write_process_records(files.clone(), process_updates));
        let containers = definitions
            .services
            .values()
            .filter(|s| matches!(s.runtime, RuntimeKind::Container { .. }))
            .map(|s| s.name.clone())
            .collect();
        let docker = DockerEngine::new(config.docker_host.clone(), containers);
        let runtimes = Arc::new(Runtimes {
            process: ProcessRuntime::new(guard),
            external: ExternalRuntime,
            container: ContainerRuntime::new(docker.clone()),
            engine: EngineRuntime::new(docker.clone()),
        });
        let engine = definitions
            .services
            .values()
            .find(|s| s.runtime == RuntimeKind::Engine)
            .map(|s| s.name.clone());
        let actor = Actor {
            definitions,
            graph,
            order,
            slots,
            features: selection.features,
            features_chosen,
            config,
            files,
            events: EventBus::new(4096),
            runtimes,
            prober: Prober::new(Some(docker)),
            engine,
            facts_in,
            facts,
            processes,
            process_writer: Some(process_writer),
            pending_log_ready: BTreeMap::new(),
            startup: None,
            startup_phase: StartupPhase::NotStarted,
            stop_waiters: Vec::new(),
            shutting_down: None,
            lock,
        };
        actor.save_choices();
        Ok((actor, notes))
    }

    /// Runs until shut down (or until every handle is gone, which stops everything too).
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle(command),
                    None => self.begin_shutdown(None),
                },
                Some(fact) = self.facts.recv() => self.on_fact(fact),
            }
            self.advance();
            if self.shutting_down.is_some() && self.nothing_active() {
                break;
            }
        }
        self.processes.send_replace(Vec::new());
        if let Some(writer) = self.process_writer.take() {
            drop(self.processes);
            let _ = writer.await;
        }
        // Every service has stopped: another supervisor may have the directory now, before
        // the one who asked for the shutdown hears that it is done.
        drop(self.lock);
        if let Some(reply) = self.shutting_down.take() {
            let _ = reply.send(());
        }
    }

    // ---- commands ------------------------------------------------------------------

    fn handle(&mut self, command: Command) {
        match command {
            Command::StartAll(reply) => {
                self.start_all();
                let _ = reply.send(());
            }
            Command::StopAll(reply) => {
                self.stop_all();
                self.stop_waiters.push(reply);
            }
            Command::Start(name, reply) => {
                let _ = reply.send(self.start_service(&name));
            }
            Command::Stop(name, reply) => {
                let _ = reply.send(self.stop_service(&name));
            }
            Command::Restart(name, reply) => {
                let _ = reply.send(self.restart_service(&name));
            }
            Command::SetFeatures(features, reply) => {
                let _ = reply.send(self.set_features(features));
            }
            Command::Shutdown(reply) => self.begin_shutdown(Some(reply)),
            Command::Status(reply) => {
                let _ = reply.send(self.statuses());
            }
            Command::Subscribe(reply) => {
                let snapshot = Snapshot {
                    seq: self.events.seq(),
                    services: self.statuses(),
                    startup: self.startup_phase.clone(),
                };
                let _ = reply.send((snapshot, self.events.subscribe()));
            }
            Command::Features(reply) => {
                let _ = reply.send(self.features.clone());
            }
            Command::FollowLogs(name, reply) => {
                let answer = match self.slots.get(&name) {
                    Some(slot) => Ok(slot.logs.follow()),
                    None => Err(ManagerError::unknown(&name, self.slots.keys())),
                };
                let _ = reply.send(answer);
            }
            Command::Logs(name, lines, reply) => {
                let answer = match self.slots.get(&name) {
                    Some(slot) => Ok(slot.logs.recent(lines)),
                    None => Err(ManagerError::unknown(&name, self.slots.keys())),
                };
                let _ = reply.send(answer);
            }
        }
    }

    fn start_all(&mut self) {
        let mut targets = BTreeSet::new();
        let blocked: BTreeSet<String> = self
            .slots
            .iter()
            .filter(|(_, slot)| slot.user_stopped)
            .flat_map(|(name, _)| {
                self.graph
                    .dependents(name)
                    .into_iter()
                    .chain([name.clone()])
            })
            .collect();
        for (name, slot) in &mut self.slots {
            if !slot.selected {
                continue;
            }
            if blocked.contains(name) {
                if !slot.user_stopped && slot.stopped_with.is_none() {
                    slot.stopped_with = self
                        .graph
                        .dependencies(name)
                        .into_iter()
                        .find(|dependency| blocked.contains(dependency));
                }
                continue;
            }
            slot.want_up = true;
            if slot.state() == ServiceState::Error {
                slot.start_due = true;
            }
            targets.insert(name.clone());
        }
        self.startup = Some(Startup { targets });
        self.startup_phase = StartupPhase::Starting;
    }

    fn stop_all(&mut self) {
        self.startup = None;
        for slot in self.slots.values_mut() {
            slot.want_up = false;
            slot.restart_after_stop = false;
        }
    }

    fn begin_shutdown(&mut self, reply: Option<oneshot::Sender<()>>) {
        self.stop_all();
        if self.shutting_down.is_none() {
            self.shutting_down = Some(reply.unwrap_or_else(|| oneshot::channel().0));
        } else if let Some(reply) = reply {
            self.stop_waiters.push(reply);
        }
    }

    fn check_name(&self, name: &str) -> Result<(), ManagerError> {
        let slot = self
            .slots
            .get(name)
            .ok_or_else(|| ManagerError::unknown(name, self.slots.keys()))?;
        if !slot.selected {
            return Err(ManagerError::FeatureOff {
                name: name.to_string(),
                feature: slot.service.feature.clone().unwrap_or_default(),
            });
        }
        Ok(())
    }

    fn start_service(&mut self, name: &str) -> Result<(), ManagerError> {
        self.check_name(name)?;
        let mut wanted = self.graph.dependencies(name);
        wanted.insert(name.to_string());
        for (other, slot) in &mut self.slots {
            let comes_back = slot
                .stopped_with
                .as_ref()
                .is_some_and(|with| wanted.contains(with));
            if wanted.contains(other) || comes_back {
                slot.want_up = true;
                slot.user_stopped = false;
                slot.stopped_with = None;
                if slot.state() == ServiceState::Error && slot.blocked_by.is_none() {
                    slot.tracker.reset();
                    slot.cancel_timer();
                    slot.start_due = true;
                }
                // Asked by name, a service that completed runs again.
                if other == name && slot.completed && slot.state() == ServiceState::Stopped {
                    slot.start_due = true;
                }
            }
        }
        self.save_choices();
        Ok(())
    }

    fn stop_service(&mut self, name: &str) -> Result<Vec<String>, ManagerError> {
        self.check_name(name)?;
        let dependents = self.graph.dependents(name);
        let mut stopping = Vec::new();
        for (other, slot) in &mut self.slots {
            if other == name {
                slot.user_stopped = true;
            } else if !dependents.contains(other) || !slot.want_up {
                continue;
            } else {
                slot.stopped_with = Some(name.to_string());
            }
            slot.want_up = false;
            slot.restart_after_stop = false;
            if slot.state().is_active() {
                stopping.push(other.clone());
            }
        }
        self.save_choices();
        Ok(stopping)
    }

    fn restart_service(&mut self, name: &str) -> Result<(), ManagerError> {
        self.check_name(name)?;
        self.start_service(name)?;
        let slot = self.slot_mut(name);
        slot.tracker.reset();
        slot.dependents_follow = true;
        if slot.state().is_active() {
            if slot.state() != ServiceState::Stopping {
                slot.restart_after_stop = true;
                self.begin_stop(name);
            } else {
                slot.restart_after_stop = true;
            }
        } else {
            slot.cancel_timer();
            slot.start_due = true;
            slot.blocked_by = None;
        }
        Ok(())
    }

    fn set_features(&mut self, features: BTreeSet<String>) -> Result<Selection, ManagerError> {
        let selection = selection::select(&self.definitions, &FeatureChoice::Only(features))
            .map_err(ManagerError::Features)?;
        for (name, slot) in &mut self.slots {
            let selected = selection.services.contains(name);
            if selected && !slot.selected {
                slot.want_up = !slot.user_stopped && slot.stopped_with.is_none();
            } else if !selected {
                slot.want_up = false;
            }
            slot.selected = selected;
        }
        self.features = selection.features.clone();
        self.features_chosen = true;
        self.save_choices();
        Ok(selection)
    }

    // ---- facts -------------------------------------------------------------------

    fn on_fact(&mut self, fact: Fact) {
        match fact {
            Fact::Started {
                name,
                instance,
                result,
            } => self.on_started(&name, instance, result),
            Fact::Exited {
                name,
                instance,
                report,
            } => {
                if self.is_current(&name, instance) {
                    self.on_exited(&name, report);
                }
            }
            Fact::Probe {
                name,
                instance,
                report,
            } => {
                if self.is_current(&name, instance) && self.slot(&name).live.is_some() {
                    self.on_probe(&name, report);
                }
            }
            Fact::Progress {
                name,
                instance,
                progress,
            } => {
                if self.is_current(&name, instance) {
                    let PullProgress { done, total } = progress;
                    self.events
                        .emit(EventKind::PullProgress { name, done, total });
                }
            }
            Fact::Timer { name, token } => {
                if let Some(slot) = self.slots.get_mut(&name)
                    && slot.timer_token == token
                {
                    slot.timer = None;
                    if slot.state() == ServiceState::Error {
                        slot.tracker.reset();
                    }
                    slot.start_due = true;
                }
            }
        }
    }

    fn on_started(&mut self, name: &str, instance: u64, result: Result<Instance, StartError>) {
        let Some(slot) = self.slots.get_mut(name) else {
            return;
        };
        if slot.instance != instance {
            // An instance nobody wants any more: stop it at once.
            if let Ok(stale) = result {
                let _ = stale.stop.send(StopRequest {
                    signal: slot.service.stop_signal,
                    timeout: slot.service.stop_timeout,
                });
            }
            return;
        }
        let instance = match result {
            Ok(instance) => instance,
            Err(error) => {
                let retry = if error.cause == FailureCause::EngineUnavailable {
                    self.config.engine_recheck
                } else {
                    self.config.retry_after_giving_up
                };
                let failure = ServiceError {
                    message: error.message,
                    detail: error.detail,
                    cause: error.cause,
                };
                let reason = format!("{}; trying again in {}", failure.message, short(retry));
                let slot = self.slot_mut(name);
                slot.status.last_error = Some(failure);
                slot.engine_missing = error.cause == FailureCause::EngineUnavailable;
                slot.missing = error.cause.is_missing_here();
                self.set_state(name, ServiceState::Error, Some(reason));
                self.schedule(name, retry);
                return;
            }
        };
        let facts = self.facts_in.clone();
        let exit_name = name.to_string();
        let generation = slot.instance;
        tokio::spawn(async move {
            if let Ok(report) = instance.exited.await {
                let _ = facts.send(Fact::Exited {
                    name: exit_name,
                    instance: generation,
                    report,
                });
            }
        });
        slot.status.pid = instance.pid;
        slot.status.detail = instance.detail;
        slot.engine_missing = false;
        slot.missing = false;
        slot.live = Some(Live {
            pid: instance.pid,
            start_time: instance.start_time,
            process_group: instance.process_group,
            stop: Some(instance.stop),
            probe: None,
            ready_at: None,
        });
        self.publish_processes();
        if !self.slot(name).want_up || self.slot(name).state() == ServiceState::Stopping {
            self.send_stop(name);
            return;
        }
        match self.effective_health(name) {
            Some((check, target)) => self.watch_health(name, check, target),
            None => self.on_ready(name),
        }
    }

    fn watch_health(&mut self, name: &str, check: HealthCheck, target: Target) {
        let facts = self.facts_in.clone();
        let prober = self.prober.clone();
        let log_ready = self.pending_log_ready.remove(name);
        let slot = self.slot_mut(name);
        let instance = slot.instance;
        let service = name.to_string();
        let task = tokio::spawn(async move {
            prober
                .watch(&check, &target, log_ready, |report| {
                    facts
                        .send(Fact::Probe {
                            name: service.clone(),
                            instance,
                            report,
                        })
                        .is_ok()
                })
                .await;
        });
        if let Some(live) = &mut slot.live {
            live.probe = Some(task.abort_handle());
        }
    }

    fn on_ready(&mut self, name: &str) {
        let has_check = self.effective_health(name).is_some();
        let slot = self.slot_mut(name);
        if let Some(live) = &mut slot.live {
            live.ready_at = Some(Instant::now());
        }
        if slot.state() != ServiceState::Starting {
            return;
        }
        if has_check {
            self.set_health(name, Health::Healthy, None);
        }
        self.set_state(name, ServiceState::Running, None);
        let slot = self.slot_mut(name);
        if std::mem::take(&mut slot.dependents_follow) {
            self.restart_followers(name);
        }
    }

    /// Restarts the running dependents that asked to follow `name` (`restart = true`).
    fn restart_followers(&mut self, name: &str) {
        let followers: Vec<String> = self
            .definitions
            .services
            .values()
            .filter(|s| s.depends_on.iter().any(|d| d.service == name && d.restart))
            .map(|s| s.name.clone())
            .filter(|follower| {
                let state = self.slot(follower).state();
                matches!(
                    state,
                    ServiceState::Running | ServiceState::Unhealthy | ServiceState::Starting
                )
            })
            .collect();
        for follower in followers {
            tracing::info!("restarting {follower} because {name} restarted");
            if let Err(error) = self.restart_service(&follower) {
                tracing::warn!("cannot restart {follower}: {error}");
            }
        }
    }

    fn on_probe(&mut self, name: &str, report: ProbeReport) {
        match report {
            ProbeReport::Ready => self.on_ready(name),
            ProbeReport::NotReadyInTime(why) => {
                let period = self
                    .effective_health(name)
                    .map_or(Duration::ZERO, |(c, _)| c.start_period);
                self.fail_instance(
                    name,
                    ServiceError {
                        detail: Some(why),
                        ..ServiceError::new(
                            FailureCause::NotReady,
                            format!("did not become ready within {}", short(period)),
                        )
                    },
                );
            }
            ProbeReport::Unhealthy(why) => {
                self.set_health(name, Health::Unhealthy, Some(why.clone()));
                if self.slot(name).state() == ServiceState::Running {
                    self.set_state(name, ServiceState::Unhealthy, Some(why.clone()));
                }
                let restarts = self.slot(name).service.restart.policy
                    != crate::definitions::RestartMode::Never;
                if restarts {
                    self.fail_instance(
                        name,
                        ServiceError {
                            detail: Some(why),
                            ..ServiceError::new(
                                FailureCause::Unhealthy,
                                "stopped passing its health check",
                            )
                        },
                    );
                }
            }
            ProbeReport::Healthy => {
                self.set_health(name, Health::Healthy, None);
                if self.slot(name).state() == ServiceState::Unhealthy {
                    self.set_state(name, ServiceState::Running, None);
                }
            }
        }
    }

    /// Stops an instance because it failed; the failure is handled when it has ended.
    fn fail_instance(&mut self, name: &str, failure: ServiceError) {
        let slot = self.slot_mut(name);
        if slot.failure_on_exit.is_some() || slot.state() == ServiceState::Stopping {
            return;
        }
        slot.failure_on_exit = Some(failure);
        self.begin_stop(name);
    }

    fn on_exited(&mut self, name: &str, report: ExitReport) {
        let slot = self.slot_mut(name);
        let ran_for = slot
            .live
            .take()
            .and_then(|live| {
                if let Some(probe) = live.probe {
                    probe.abort();
                }
                live.ready_at
            })
            .map(|ready| ready.elapsed());
        if let Some(ran_for) = ran_for {
            slot.tracker.ran_for(ran_for);
        }
        slot.status.pid = None;
        slot.status.uptime_seconds = None;
        slot.status.last_exit = Some(report.exit);
        self.publish_processes();
        if self.slot(name).status.health != Health::Unknown {
            self.set_health(name, Health::Unknown, None);
        }
        let slot = self.slot_mut(name);
        if let Some(failure) = slot.failure_on_exit.take() {
            self.after_failure(name, false, failure);
            return;
        }
        let requested = report.requested || slot.state() == ServiceState::Stopping;
        if requested {
            if std::mem::take(&mut slot.restart_after_stop) && slot.want_up {
                slot.start_due = true;
                slot.status.restarts += 1;
                self.set_state(
                    name,
                    ServiceState::Restarting,
                    Some("restarting on request".into()),
                );
            } else {
                self.settle_stopped(name);
            }
            return;
        }
        slot.completed = report.exit.is_success();
        let info = slot
            .status
            .last_exit
            .map(|e| e.describe())
            .unwrap_or_default();
        if report.exit.is_success()
            && slot.service.restart.policy != crate::definitions::RestartMode::Always
        {
            self.set_state(
                name,
                ServiceState::Stopped,
                Some(format!("completed ({info})")),
            );
            return;
        }
        self.after_failure(
            name,
            report.exit.is_success(),
            ServiceError::new(FailureCause::Exited, format!("{info} — see its logs")),
        );
    }

    /// Restart, give up, or stay down after an instance failed or exited.
    fn after_failure(&mut self, name: &str, clean_exit: bool, failure: ServiceError) {
        let retry = self.config.retry_after_giving_up;
        let slot = self.slot_mut(name);
        let decision = if slot.want_up {
            slot.tracker.decide(clean_exit, Instant::now())
        } else {
            Decision::Stay
        };
        slot.status.last_error = Some(failure.clone());
        match decision {
            Decision::Stay if !slot.want_up => self.settle_stopped(name),
            Decision::Stay => self.set_state(name, ServiceState::Error, Some(failure.message)),
            Decision::RestartAfter(delay) => {
                slot.status.restarts += 1;
                slot.dependents_follow = true;
                let reason = format!("{}; restarting in {}", failure.message, short(delay));
                self.set_state(name, ServiceState::Restarting, Some(reason));
                if delay.is_zero() {
                    self.slot_mut(name).start_due = true;
                } else {
                    self.schedule(name, delay);
                }
            }
            Decision::CrashLoop { restarts, within } => {
                slot.dependents_follow = true;
                let last = match slot.status.last_exit {
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
                slot.status.last_error = Some(ServiceError {
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
    fn settle_stopped(&mut self, name: &str) {
        let slot = self.slot(name);
        let (state, reason) = if !slot.selected {
            (ServiceState::Disabled, None)
        } else if slot.user_stopped {
            (
                ServiceState::Stopped,
                Some("stopped by the user".to_string()),
            )
        } else if let Some(with) = &slot.stopped_with {
            (
                ServiceState::Stopped,
                Some(format!("stopped because {with} was stopped")),
            )
        } else {
            (ServiceState::Stopped, None)
        };
        self.set_state(name, state, reason);
    }

    // ---- moving services along ---------------------------------------------------

    /// Moves every service as far as it can go, until nothing changes.
    fn advance(&mut self) {
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
        self.check_startup();
        if self.nothing_active() {
            for waiter in self.stop_waiters.drain(..) {
                let _ = waiter.send(());
            }
        }
    }

    /// One move for one service; true if it changed anything.
    fn step(&mut self, name: &str) -> bool {
        let slot = self.slot(name);
        let state = slot.state();
        if !slot.want_up {
            return match state {
                ServiceState::Starting | ServiceState::Running | ServiceState::Unhealthy => {
                    if self.has_active_dependents(name) {
                        return false;
                    }
                    self.begin_stop(name);
                    true
                }
                ServiceState::Waiting | ServiceState::Restarting | ServiceState::Error => {
                    self.slot_mut(name).cancel_timer();
                    self.settle_stopped(name);
                    true
                }
                ServiceState::Stopped if !slot.selected => {
                    self.set_state(name, ServiceState::Disabled, None);
                    true
                }
                ServiceState::Disabled if slot.selected => {
                    self.set_state(name, ServiceState::Stopped, None);
                    true
                }
                _ => false,
            };
        }
        let may_start = match state {
            // A service that completed stays done until asked to run again.
            ServiceState::Stopped => !slot.completed || slot.start_due,
            ServiceState::Waiting | ServiceState::Disabled => true,
            ServiceState::Restarting | ServiceState::Error => {
                slot.start_due || slot.blocked_by.is_some()
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
                if state == ServiceState::Waiting
                    && self.slot(name).status.reason.as_deref() == Some(&reason)
                {
                    return false;
                }
                if state == ServiceState::Error && self.slot(name).blocked_by.is_none() {
                    return false;
                }
                self.slot_mut(name).blocked_by = None;
                self.set_state(name, ServiceState::Waiting, Some(reason));
                true
            }
            Readiness::Failed(dependency) => {
                if self.slot(name).blocked_by.as_deref() == Some(&dependency) {
                    return false;
                }
                let message = format!("dependency {dependency} failed");
                let slot = self.slot_mut(name);
                slot.blocked_by = Some(dependency);
                slot.status.last_error = Some(ServiceError::new(
                    FailureCause::DependencyFailed,
                    message.clone(),
                ));
                self.set_state(name, ServiceState::Error, Some(message));
                true
            }
        }
    }

    fn readiness(&self, name: &str) -> Readiness {
        let service = &self.slot(name).service;
        // Every container needs the engine, whether its definition says so or not.
        let implicit = match (&self.engine, &service.runtime) {
            (Some(engine), RuntimeKind::Container { .. })
                if !service.depends_on.iter().any(|d| &d.service == engine) =>
            {
                Some(crate::definitions::Dependency {
                    service: engine.clone(),
                    condition: Condition::Healthy,
                    restart: false,
                    location: None,
                })
            }
            _ => None,
        };
        for dependency in service.depends_on.iter().chain(&implicit) {
            let other = self.slot(&dependency.service);
            if other.service.runtime == RuntimeKind::Engine
                && other.state() != ServiceState::Running
            {
                // A missing engine is something to wait for, not a failure.
                let why = other
                    .status
                    .last_error
                    .as_ref()
                    .map(|e| format!(": {}", e.message))
                    .unwrap_or_default();
                let reason = if other.state() == ServiceState::Error {
                    format!("waiting for Docker{why}")
                } else {
                    "waiting for Docker".to_string()
                };
                return Readiness::Waiting(reason);
            }
            let met = match dependency.condition {
                Condition::Healthy => other.state() == ServiceState::Running,
                Condition::Started => {
                    matches!(
                        other.state(),
                        ServiceState::Running | ServiceState::Unhealthy
                    ) || (other.state() == ServiceState::Starting && other.live.is_some())
                }
                Condition::Completed => other.completed && other.state() == ServiceState::Stopped,
            };
            if met {
                continue;
            }
            if other.state() == ServiceState::Error && other.blocked_by.is_none()
                || other.blocked_by.is_some()
            {
                return Readiness::Failed(dependency.service.clone());
            }
            let reason = if !other.want_up && !other.state().is_active() {
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

    fn has_active_dependents(&self, name: &str) -> bool {
        let is_engine = self.engine.as_deref() == Some(name);
        let dependents = self.graph.dependents(name);
        self.slots.iter().any(|(other, slot)| {
            slot.state().is_active()
                && (dependents.contains(other)
                    || is_engine && matches!(slot.service.runtime, RuntimeKind::Container { .. }))
        })
    }

    fn nothing_active(&self) -> bool {
        self.slots.values().all(|slot| !slot.state().is_active())
    }

    fn begin_start(&mut self, name: &str) {
        let log_dir = self.config.state_dir.join("logs");
        let (max_bytes, kept) = (self.config.log_file_max_bytes, self.config.log_files_kept);
        let slot = self.slot_mut(name);
        slot.cancel_timer();
        slot.start_due = false;
        slot.blocked_by = None;
        slot.completed = false;
        slot.instance += 1;
        let instance = slot.instance;
        let service = Arc::clone(&slot.service);
        let file = match LogFile::open(&log_dir.join(format!("{name}.log")), max_bytes, kept) {
            Ok(file) => Some(file),
            Err(error) => {
                tracing::warn!("cannot open the log file of {name}: {error}");
                None
            }
        };
        let ready_when = match service.health.as_ref().map(|h| &h.probe) {
            Some(Probe::Log { pattern }) => match regex::Regex::new(pattern) {
                Ok(pattern) => {
                    let (sender, receiver) = oneshot::channel();
                    self.pending_log_ready.insert(name.to_string(), receiver);
                    Some((pattern, sender))
                }
                Err(error) => {
                    tracing::error!(
                        "the log pattern of {name} was checked at load and is now invalid: {error}"
                    );
                    None
                }
            },
            _ => None,
        };
        let output = OutputSink {
            buffer: Arc::clone(&self.slot(name).logs),
            file,
            ready_when,
        };
        self.set_state(name, ServiceState::Starting, None);
        let (progress, mut progress_updates) = mpsc::unbounded_channel();
        let facts = self.facts_in.clone();
        let progress_name = name.to_string();
        tokio::spawn(async move {
            while let Some(progress) = progress_updates.recv().await {
                let name = progress_name.clone();
                if facts
                    .send(Fact::Progress {
                        name,
                        instance,
                        progress,
                    })
                    .is_err()
                {
                    return;
                }
            }
        });
        let runtimes = Arc::clone(&self.runtimes);
        let facts = self.facts_in.clone();
        let name = name.to_string();
        tokio::spawn(async move {
            let request = StartRequest {
                service: Arc::clone(&service),
                output,
                progress,
            };
            let result = runtimes.for_service(&service).start(request).await;
            let _ = facts.send(Fact::Started {
                name,
                instance,
                result,
            });
        });
    }

    fn begin_stop(&mut self, name: &str) {
        if self.slot(name).state() == ServiceState::Stopping {
            return;
        }
        self.set_state(name, ServiceState::Stopping, None);
        self.send_stop(name);
    }

    fn send_stop(&mut self, name: &str) {
        let slot = self.slot_mut(name);
        let request = StopRequest {
            signal: slot.service.stop_signal,
            timeout: slot.service.stop_timeout,
        };
        if let Some(live) = &mut slot.live {
            if let Some(probe) = live.probe.take() {
                probe.abort();
            }
            if let Some(stop) = live.stop.take() {
                let _ = stop.send(request);
            }
        }
    }

    fn schedule(&mut self, name: &str, delay: Duration) {
        let slot = self.slot_mut(name);
        slot.cancel_timer();
        let token = slot.timer_token;
        let facts = self.facts_in.clone();
        let service = name.to_string();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = facts.send(Fact::Timer {
                name: service,
                token,
            });
        });
        self.slot_mut(name).timer = Some(timer.abort_handle());
    }

    fn check_startup(&mut self) {
        let Some(startup) = &self.startup else { return };
        let mut degraded = Vec::new();
        let mut settled = true;
        for name in &startup.targets {
            let slot = self.slot(name);
            match slot.state() {
                // Docker, a program or an image missing from this machine is a normal,
                // degraded state, critical service or not: the dashboard says so.
                ServiceState::Error if slot.engine_missing || slot.missing => {
                    degraded.push(name.clone())
                }
                ServiceState::Waiting if self.needs_missing_engine(name) => {
                    degraded.push(name.clone())
                }
                ServiceState::Error if slot.service.critical => {
                    let (why, cause) = slot
                        .status
                        .last_error
                        .as_ref()
                        .map(|e| (e.message.clone(), e.cause))
                        .unwrap_or_default();
                    let message = format!("{name} could not start: {why}");
                    let service = name.clone();
                    self.events.emit(EventKind::StartupFailed {
                        service: service.clone(),
                        message: message.clone(),
                        cause,
                    });
                    self.startup_phase = StartupPhase::Failed {
                        seq: self.events.seq(),
                        service,
                        message,
                        cause,
                    };
                    self.stop_all();
                    self.advance();
                    return;
                }
                ServiceState::Error => degraded.push(name.clone()),
                ServiceState::Running | ServiceState::Unhealthy | ServiceState::Disabled => {}
                ServiceState::Stopped if !slot.want_up || slot.completed => {}
                _ => settled = false,
            }
        }
        if settled {
            self.startup = None;
            self.events.emit(EventKind::StartupComplete {
                degraded: degraded.clone(),
            });
            self.startup_phase = StartupPhase::Complete {
                seq: self.events.seq(),
                degraded,
            };
        }
    }

    /// Whether `name` cannot run because Docker is not reachable: it is a container, or
    /// depends (directly or not) on a container or the engine, and the engine is down.
    fn needs_missing_engine(&self, name: &str) -> bool {
        let engine_down = match &self.engine {
            Some(engine) => self.slot(engine).state() != ServiceState::Running,
            None => self.slots.values().any(|slot| slot.engine_missing),
        };
        let uses_docker = |service: &str| {
            !matches!(
                self.slot(service).service.runtime,
                RuntimeKind::Process { .. } | RuntimeKind::External { .. }
            )
        };
        engine_down
            && (uses_docker(name) || self.graph.dependencies(name).iter().any(|d| uses_docker(d)))
    }

    // ---- bookkeeping -------------------------------------------------------------

    fn set_state(&mut self, name: &str, next: ServiceState, reason: Option<String>) {
        let slot = self
            .slots
            .get_mut(name)
            .expect("the actor only names its own services");
        let previous = slot.status.state;
        if previous == next {
            if slot.status.reason != reason {
                slot.status.reason = reason;
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
        slot.status.state = next;
        slot.status.reason = reason.clone();
        slot.status.since = SystemTime::now();
        self.events.emit(EventKind::ServiceStateChanged {
            name: name.to_string(),
            previous_state: previous,
            current_state: next,
            reason,
        });
    }

    fn set_health(&mut self, name: &str, health: Health, detail: Option<String>) {
        let slot = self.slot_mut(name);
        if slot.status.health == health {
            return;
        }
        slot.status.health = health;
        self.events.emit(EventKind::HealthChanged {
            name: name.to_string(),
            health,
            detail,
        });
    }

    /// Whether `instance` is the current instance of `name` (facts about others are stale).
    fn is_current(&self, name: &str, instance: u64) -> bool {
        self.slots
            .get(name)
            .is_some_and(|slot| slot.instance == instance)
    }

    fn slot(&self, name: &str) -> &Slot {
        &self.slots[name]
    }

    fn slot_mut(&mut self, name: &str) -> &mut Slot {
        self.slots
            .get_mut(name)
            .expect("the actor only names its own services")
    }

    fn statuses(&self) -> Vec<ServiceStatus> {
        self.order
            .iter()
            .map(|name| {
                let slot = self.slot(name);
                let mut status = slot.status.clone();
                status.uptime_seconds = match slot.state() {
                    ServiceState::Running | ServiceState::Unhealthy => slot
                        .live
                        .as_ref()
                        .and_then(|live| live.ready_at)
                        .map(|at| at.elapsed().as_secs()),
                    _ => None,
                };
                status
            })
            .collect()
    }

    /// The health check a service is judged by, and what it is aimed at: its own; for an
    /// external service without one, an HTTP probe of its URL; for the engine, "Docker
    /// answers", asked every `engine_recheck`.
    fn effective_health(&self, name: &str) -> Option<(HealthCheck, Target)> {
        let service = &self.slot(name).service;
        match (&service.health, &service.runtime) {
            (_, RuntimeKind::Engine) => Some((
                HealthCheck {
                    probe: Probe::Docker,
                    interval: self.config.engine_recheck,
                    timeout: Duration::from_secs(3),
                    retries: 1,
                    start_period: Duration::from_secs(10),
                },
                Target::Engine,
            )),
            (Some(check), RuntimeKind::Container { .. }) => Some((
                check.clone(),
                Target::Container(crate::runtime::docker::spec::container_name(name)),
            )),
            (Some(check), _) => Some((check.clone(), Target::Host)),
            (None, RuntimeKind::External { url }) => Some((
                HealthCheck {
                    probe: Probe::Http {
                        url: url.clone(),
                        status: None,
                        body: None,
                    },
                    interval: Duration::from_secs(10),
                    timeout: Duration::from_secs(5),
                    retries: 3,
                    start_period: Duration::from_secs(60),
                },
                Target::Host,
            )),
            (None, _) => None,
        }
    }

    fn save_choices(&self) {
        let choices = Choices {
            features: self.features_chosen.then(|| self.features.clone()),
            stopped: self
                .slots
                .iter()
                .filter(|(_, slot)| slot.user_stopped)
                .map(|(name, _)| name.clone())
                .collect(),
        };
        if let Err(error) = self.files.write_choices(&choices) {
            tracing::warn!(
                "cannot save the user's choices in {}: {error}",
                self.files.dir().display()
            );
        }
    }

    fn publish_processes(&self) {
        let records = self
            .slots
            .iter()
            .filter_map(|(name, slot)| {
                let live = slot.live.as_ref()?;
                Some(ProcessRecord {
                    service: name.clone(),
                    pid: live.pid?,
                    process_group: live.process_group,
                    start_time: live.start_time?,
                })
            })
            .collect();
        self.processes.send_replace(records);
    }
}

/// Writes the running-process records whenever they change, off the actor's path.
async fn write_process_records(
    files: StateFiles,
    mut updates: watch::Receiver<Vec<ProcessRecord>>,
) {
    loop {
        let changed = updates.changed().await;
        let records = updates.borrow_and_update().clone();
        let files = files.clone();
        let written = tokio::task::spawn_blocking(move || files.write_processes(&records)).await;
        if let Ok(Err(error)) = written {
            tracing::warn!("cannot record the running processes: {error}");
        }
        if changed.is_err() {
            return;
        }
    }
}

/// A duration for people: "80ms", "1.5s", "1m 30s".
fn short(duration: Duration) -> String {
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
