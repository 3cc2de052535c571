//! The actor: the thin shell around the reconciler. One task owns the [`Core`] (all service
//! state), the runtimes, the channels and the timers. It turns each command and each fact
//! into a call on the core, then carries out the actions the core decided (`effects.rs`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot, watch};

use super::core::Core;
use super::effects::{Handles, stop_request};
use super::lifecycle::Started;
use super::{Command, ManagerConfig, ManagerError};
use crate::definitions::{RuntimeKind, Service};
use crate::events::{EventBus, Snapshot};
use crate::health::{ProbeReport, Prober};
use crate::lock::StateLock;
use crate::persist::{ProcessRecord, StateFiles};
use crate::runtime::docker::{ContainerRuntime, EngineRuntime};
use crate::runtime::{
    ExitReport, ExternalRuntime, Instance, ProcessRuntime, PullProgress, Runtime, StartError,
};

/// Something that happened to an instance, reported back to the actor.
pub enum Fact {
    /// The runtime started an instance, or could not.
    Started {
        /// The service.
        name: String,
        /// The instance's number.
        instance: u64,
        /// The instance, or why not.
        result: Result<Instance, StartError>,
    },
    /// An instance ended.
    Exited {
        /// The service.
        name: String,
        /// The instance's number.
        instance: u64,
        /// How.
        report: ExitReport,
    },
    /// A health watch reported a change.
    Probe {
        /// The service.
        name: String,
        /// The instance's number.
        instance: u64,
        /// What changed.
        report: ProbeReport,
    },
    /// A timer fired.
    Timer {
        /// The service.
        name: String,
        /// The timer's token.
        token: u64,
    },
    /// An image download advanced.
    Progress {
        /// The service.
        name: String,
        /// The instance's number.
        instance: u64,
        /// How far.
        progress: PullProgress,
    },
    /// Writing an instance's log file failed (why), or works again (`None`).
    LogWriting {
        /// The service.
        name: String,
        /// The instance's number.
        instance: u64,
        /// Why it cannot be written, or `None` once it can.
        problem: Option<String>,
    },
}

/// The runtimes, one per kind of service.
pub struct Runtimes {
    /// Native processes.
    pub process: ProcessRuntime,
    /// URLs started by someone else.
    pub external: ExternalRuntime,
    /// Containers.
    pub container: ContainerRuntime,
    /// The container engine as a service.
    pub engine: EngineRuntime,
}

impl Runtimes {
    /// The runtime that runs `service`.
    pub fn for_service(&self, service: &Service) -> &dyn Runtime {
        match service.runtime {
            RuntimeKind::Process { .. } => &self.process,
            RuntimeKind::External { .. } => &self.external,
            RuntimeKind::Container { .. } => &self.container,
            RuntimeKind::Engine => &self.engine,
        }
    }
}

/// The shell's whole state.
pub struct Actor {
    pub(super) core: Core,
    pub(super) config: ManagerConfig,
    pub(super) files: StateFiles,
    pub(super) events: EventBus,
    pub(super) runtimes: Arc<Runtimes>,
    pub(super) prober: Prober,
    pub(super) handles: BTreeMap<String, Handles>,
    pub(super) facts_in: mpsc::UnboundedSender<Fact>,
    pub(super) facts: mpsc::UnboundedReceiver<Fact>,
    pub(super) processes: watch::Sender<Vec<ProcessRecord>>,
    pub(super) process_writer: Option<tokio::task::JoinHandle<()>>,
    pub(super) stop_waiters: Vec<oneshot::Sender<()>>,
    pub(super) shutting_down: Option<oneshot::Sender<()>>,
    /// The state directory's lock, held until every service has stopped.
    pub(super) lock: StateLock,
}

impl Actor {
    /// Runs until shut down (or until every handle is gone, which stops everything too).
    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        self.carry_out();
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle(command),
                    None => self.begin_shutdown(None),
                },
                Some(fact) = self.facts.recv() => self.on_fact(fact),
            }
            self.carry_out();
            if self.core.nothing_active() {
                for waiter in self.stop_waiters.drain(..) {
                    let _ = waiter.send(());
                }
                if self.shutting_down.is_some() {
                    break;
                }
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

    fn handle(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::StartAll(reply) => {
                self.core.start_all(now);
                let _ = reply.send(());
            }
            Command::StopAll(reply) => {
                self.core.stop_all(now);
                self.stop_waiters.push(reply);
            }
            Command::Start(name, reply) => {
                let _ = reply.send(self.core.start_service(&name, now));
            }
            Command::Stop(name, reply) => {
                let _ = reply.send(self.core.stop_service(&name, now));
            }
            Command::Restart(name, reply) => {
                let _ = reply.send(self.core.restart_service(&name, now));
            }
            Command::SetFeatures(features, reply) => {
                let _ = reply.send(self.core.set_features(features, now));
            }
            Command::Restore(choices, reply) => {
                let _ = reply.send(self.core.restore(*choices, now));
            }
            Command::UseOwnServer(name, url, reply) => {
                let _ = reply.send(self.core.use_own_server(&name, url, now));
            }
            Command::UsePrograms(service, choice, reply) => {
                let _ = reply.send(self.core.use_programs(*service, choice, now));
            }
            Command::Shutdown(reply) => self.begin_shutdown(Some(reply)),
            Command::Status(reply) => {
                let _ = reply.send(self.core.statuses(now));
            }
            Command::Subscribe(reply) => {
                let snapshot = Snapshot {
                    seq: self.events.seq(),
                    services: self.core.statuses(now),
                    startup: self.core.startup_phase().clone(),
                };
                let _ = reply.send((snapshot, self.events.subscribe()));
            }
            Command::Features(reply) => {
                let _ = reply.send(self.core.features().clone());
            }
            Command::OwnServers(reply) => {
                let _ = reply.send(self.core.own_servers().clone());
            }
            Command::FollowLogs(name, reply) => {
                let _ = reply.send(self.logs_of(&name).map(|logs| logs.follow()));
            }
            Command::Logs(name, lines, reply) => {
                let _ = reply.send(self.logs_of(&name).map(|logs| logs.recent(lines)));
            }
        }
    }

    fn begin_shutdown(&mut self, reply: Option<oneshot::Sender<()>>) {
        self.core.stop_all(Instant::now());
        if self.shutting_down.is_none() {
            self.shutting_down = Some(reply.unwrap_or_else(|| oneshot::channel().0));
        } else if let Some(reply) = reply {
            self.stop_waiters.push(reply);
        }
    }

    fn on_fact(&mut self, fact: Fact) {
        let now = Instant::now();
        match fact {
            Fact::Started {
                name,
                instance,
                result,
            } => self.on_started(&name, instance, result, now),
            Fact::Exited {
                name,
                instance,
                report,
            } => {
                if self.core.is_current(&name, instance) {
                    self.handles_mut(&name).instance_ended();
                }
                self.core.exited(&name, instance, report, now);
            }
            Fact::Probe {
                name,
                instance,
                report,
            } => self.core.probe(&name, instance, report, now),
            Fact::Timer { name, token } => self.core.timer(&name, token, now),
            Fact::Progress {
                name,
                instance,
                progress,
            } => self
                .core
                .progress(&name, instance, progress.done, progress.total),
            Fact::LogWriting {
                name,
                instance,
                problem,
            } => self.core.log_writing(&name, instance, problem),
        }
    }

    fn on_started(
        &mut self,
        name: &str,
        instance: u64,
        result: Result<Instance, StartError>,
        now: Instant,
    ) {
        if !self.core.is_current(name, instance) {
            // An instance nobody wants any more: stop it at once.
            if let (Ok(stale), Some(unit)) = (result, self.core.units.get(name)) {
                let _ = stale.stop.send(stop_request(&unit.service));
            }
            return;
        }
        let result = result.map(|live| {
            let facts = self.facts_in.clone();
            let exit_name = name.to_string();
            let exited = live.exited;
            tokio::spawn(async move {
                if let Ok(report) = exited.await {
                    let _ = facts.send(Fact::Exited {
                        name: exit_name,
                        instance,
                        report,
                    });
                }
            });
            self.handles_mut(name).stop = Some(live.stop);
            Started {
                pid: live.pid,
                start_time: live.start_time,
                process_group: live.process_group,
                detail: live.detail,
            }
        });
        self.core.started(name, instance, result, now);
    }

    fn logs_of(&self, name: &str) -> Result<&Arc<crate::output::LogBuffer>, ManagerError> {
        self.handles
            .get(name)
            .map(|handles| &handles.logs)
            .ok_or_else(|| ManagerError::unknown(name, self.core.names()))
    }

    pub(super) fn handles_mut(&mut self, name: &str) -> &mut Handles {
        self.handles
            .entry(name.to_string())
            .or_insert_with(|| Handles::new(self.config.log_lines))
    }
}
