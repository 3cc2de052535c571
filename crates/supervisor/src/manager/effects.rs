//! Carrying out the reconciler's actions: the only place that starts runtimes, sends stop
//! requests, spawns health watches and timers, and writes events and files. Every task
//! spawned here reports back to the actor as a [`Fact`] tagged with the instance (or timer
//! token) it concerns.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use super::action::Action;
use super::actor::{Actor, Fact};
use crate::definitions::{HealthCheck, Probe, Service};
use crate::health::Target;
use crate::output::{LogBuffer, LogFile, OutputSink};
use crate::runtime::{StartRequest, StopRequest};

/// What the shell holds for one service: the handles the reconciler's data cannot hold.
pub struct Handles {
    /// Recent output.
    pub logs: Arc<LogBuffer>,
    /// Stops the live instance; taken when a stop is sent.
    pub stop: Option<oneshot::Sender<StopRequest>>,
    /// The health watch of the live instance.
    pub probe: Option<AbortHandle>,
    /// The pending timer.
    pub timer: Option<AbortHandle>,
    /// The readiness signal of a `log` probe, from the start of an instance to its watch.
    pub log_ready: Option<oneshot::Receiver<()>>,
}

impl Handles {
    /// Handles of a service that has not started, keeping `log_lines` lines of output.
    pub fn new(log_lines: usize) -> Handles {
        Handles {
            logs: Arc::new(LogBuffer::new(log_lines)),
            stop: None,
            probe: None,
            timer: None,
            log_ready: None,
        }
    }

    /// The instance has ended: its stop handle and health watch are done with.
    pub fn instance_ended(&mut self) {
        self.stop = None;
        if let Some(probe) = self.probe.take() {
            probe.abort();
        }
    }
}

impl Actor {
    /// Carries out every action the reconciler decided, in order.
    pub(super) fn carry_out(&mut self) {
        for action in self.core.take_actions() {
            match action {
                Action::Start { name, instance } => self.start_instance(&name, instance),
                Action::Stop { name } => self.send_stop(&name),
                Action::WatchHealth {
                    name,
                    instance,
                    check,
                    target,
                } => self.watch_health(&name, instance, check, target),
                Action::Schedule { name, token, after } => self.schedule(&name, token, after),
                Action::CancelTimer { name } => {
                    if let Some(timer) = self.handles_mut(&name).timer.take() {
                        timer.abort();
                    }
                }
                Action::Emit(kind) => self.events.emit(kind),
                Action::SaveChoices(choices) => {
                    if let Err(error) = self.files.write_choices(&choices) {
                        tracing::warn!(
                            "cannot save the user's choices in {}: {error}",
                            self.files.dir().display()
                        );
                    }
                }
                Action::RecordProcesses(records) => {
                    self.processes.send_replace(records);
                }
            }
        }
        // The core numbers the events it decides; the bus numbers them as it sends them.
        debug_assert_eq!(self.events.seq(), self.core.seq());
    }

    fn start_instance(&mut self, name: &str, instance: u64) {
        let service = Arc::clone(&self.core.unit(name).service);
        let log_path = self
            .config
            .state_dir
            .join("logs")
            .join(format!("{name}.log"));
        let file = LogFile::open(
            &log_path,
            self.config.log_file_max_bytes,
            self.config.log_files_kept,
        )
        .map_err(|error| tracing::warn!("cannot open the log file of {name}: {error}"))
        .ok();
        let ready_when = self.log_readiness(name, &service);
        let (log_writing, log_writing_updates) = mpsc::unbounded_channel();
        let output = OutputSink {
            buffer: Arc::clone(&self.handles_mut(name).logs),
            file,
            ready_when,
            log_writing: Some(log_writing),
        };
        let log_name = name.to_string();
        self.forward(log_writing_updates, move |problem| Fact::LogWriting {
            name: log_name.clone(),
            instance,
            problem,
        });
        let (progress, progress_updates) = mpsc::unbounded_channel();
        let progress_name = name.to_string();
        self.forward(progress_updates, move |progress| Fact::Progress {
            name: progress_name.clone(),
            instance,
            progress,
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

    /// Sends each of `updates` to the actor as the fact `fact` makes of it, until either
    /// side is gone.
    fn forward<T: Send + 'static>(
        &self,
        mut updates: mpsc::UnboundedReceiver<T>,
        fact: impl Fn(T) -> Fact + Send + 'static,
    ) {
        let facts = self.facts_in.clone();
        tokio::spawn(async move {
            while let Some(update) = updates.recv().await {
                if facts.send(fact(update)).is_err() {
                    return;
                }
            }
        });
    }

    /// For a `log` probe: the pattern the output is matched against, and the sender that
    /// tells the health watch (kept until it starts) that the line appeared.
    fn log_readiness(
        &mut self,
        name: &str,
        service: &Service,
    ) -> Option<(regex::Regex, oneshot::Sender<()>)> {
        let Some(Probe::Log { pattern }) = service.health.as_ref().map(|h| &h.probe) else {
            return None;
        };
        match regex::Regex::new(pattern) {
            Ok(pattern) => {
                let (sender, receiver) = oneshot::channel();
                self.handles_mut(name).log_ready = Some(receiver);
                Some((pattern, sender))
            }
            Err(error) => {
                tracing::error!(
                    "the log pattern of {name} was checked at load and is now invalid: {error}"
                );
                None
            }
        }
    }

    fn send_stop(&mut self, name: &str) {
        let service = Arc::clone(&self.core.unit(name).service);
        let handles = self.handles_mut(name);
        if let Some(probe) = handles.probe.take() {
            probe.abort();
        }
        if let Some(stop) = handles.stop.take() {
            let _ = stop.send(stop_request(&service));
        }
    }

    fn watch_health(&mut self, name: &str, instance: u64, check: HealthCheck, target: Target) {
        let facts = self.facts_in.clone();
        let prober = self.prober.clone();
        let handles = self.handles_mut(name);
        let log_ready = handles.log_ready.take();
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
        handles.probe = Some(task.abort_handle());
    }

    fn schedule(&mut self, name: &str, token: u64, delay: Duration) {
        let facts = self.facts_in.clone();
        let service = name.to_string();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = facts.send(Fact::Timer {
                name: service,
                token,
            });
        });
        let handles = self.handles_mut(name);
        if let Some(previous) = handles.timer.replace(timer.abort_handle()) {
            previous.abort();
        }
    }
}

/// How to stop an instance of `service`: its signal, then its timeout.
pub fn stop_request(service: &Service) -> StopRequest {
    StopRequest {
        signal: service.stop_signal,
        timeout: service.stop_timeout,
    }
}
