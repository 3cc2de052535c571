//! Forwards the manager's events to the web UI as Tauri events, coalescing bursts: state
//! changes that arrive together are sent once per service, with its latest status.

use std::collections::BTreeMap;
use std::time::Duration;

use clara_supervisor::events::{Event, EventKind, Snapshot, StartupPhase};
use clara_supervisor::manager::Manager;
use clara_supervisor::output::{LogLine, Stream};
use clara_supervisor::state::ServiceState;
use clara_supervisor::status::FailureCause;
use serde::Serialize;
use tauri::{AppHandle, Runtime};
use tokio::sync::{broadcast, mpsc, watch};
use ts_rs::TS;

use crate::views::ServiceView;
use crate::{contract, desktop, hints};

/// How long a burst of changes may gather before it is sent.
const COALESCE: Duration = Duration::from_millis(30);

/// A request to start or stop following a service's output.
pub enum Follow {
    /// Send these lines as `service-log` events.
    Start(String, broadcast::Receiver<LogLine>),
    /// Stop sending them.
    Stop(String),
}

/// `service-status-changed`: the service's full view (as in the snapshot), numbered.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StatusChanged {
    /// The number of the last event this status includes.
    pub seq: u64,
    /// Everything the card shows, `service` and `status` included.
    #[serde(flatten)]
    pub view: ServiceView,
}

/// `summary-changed`: the one line about all services, which the tray shows too.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SummaryChanged {
    /// The number of the last event this line includes.
    pub seq: u64,
    /// The line ("All 5 services are running", "Degraded: 1 service failed (n8n)", …).
    pub summary: String,
}

/// `service-log`: one line of a followed service.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServiceLog {
    /// The service.
    pub service: String,
    /// The stream the line came from.
    pub stream: Stream,
    /// The line, without its line ending.
    pub text: String,
}

/// `startup-complete`: every service of the start-up runs, or failed without being critical.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StartupComplete {
    /// The event's number.
    pub seq: u64,
    /// Services that failed or wait (for Docker, say): the app runs without them.
    pub degraded: Vec<String>,
}

/// `startup-failed`: a critical service could not start, with advice for the failure dialog.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StartupFailed {
    /// The event's number.
    pub seq: u64,
    /// The critical service that failed.
    pub service: String,
    /// What failed, in a sentence.
    pub message: String,
    /// What kind of failure it was.
    pub cause: FailureCause,
    /// What to do about it, chosen by its kind.
    pub hint: String,
}

impl StartupFailed {
    /// The payload for a failure of `service`, with advice for its kind.
    pub fn new(seq: u64, service: &str, message: &str, cause: FailureCause) -> Self {
        StartupFailed {
            seq,
            service: service.to_string(),
            message: message.to_string(),
            cause,
            hint: hints::what_to_do(cause),
        }
    }
}

/// `pull-progress`: an image download advanced.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PullProgress {
    /// The event's number.
    pub seq: u64,
    /// The service whose image it is.
    pub service: String,
    /// Bytes downloaded so far.
    pub done: u64,
    /// Bytes in all, as far as known.
    pub total: u64,
}

/// Where the last start-up stands, as the snapshot (`list_services`) tells a window that
/// opened late: a start-up that ended carries its event's payload.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(tag = "phase", rename_all = "kebab-case")]
pub enum Startup {
    /// Nothing was started yet.
    NotStarted,
    /// Services are coming up.
    Starting,
    /// It ended: the `startup-complete` payload.
    Complete(StartupComplete),
    /// A critical service could not start: the `startup-failed` payload.
    Failed(StartupFailed),
}

impl From<&StartupPhase> for Startup {
    fn from(phase: &StartupPhase) -> Self {
        match phase {
            StartupPhase::NotStarted => Startup::NotStarted,
            StartupPhase::Starting => Startup::Starting,
            StartupPhase::Complete { seq, degraded } => Startup::Complete(StartupComplete {
                seq: *seq,
                degraded: degraded.clone(),
            }),
            StartupPhase::Failed {
                seq,
                service,
                message,
                cause,
            } => Startup::Failed(StartupFailed::new(*seq, service, message, *cause)),
        }
    }
}

/// Runs until the manager ends: forwards events, and followed services' output. Says on
/// `listening` once it is subscribed, so that services start only after.
pub async fn run<R: Runtime>(
    app: AppHandle<R>,
    manager: Manager,
    definitions: std::sync::Arc<clara_supervisor::definitions::Definitions>,
    mut follows: mpsc::UnboundedReceiver<Follow>,
    listening: watch::Sender<bool>,
) {
    let Ok((_, mut events)) = manager.subscribe().await else {
        return;
    };
    // Services may start now: every change of theirs reaches the window.
    listening.send_replace(true);
    let mut pending: BTreeMap<String, u64> = BTreeMap::new();
    let mut followed: BTreeMap<String, tokio::task::AbortHandle> = BTreeMap::new();
    loop {
        let deadline = tokio::time::sleep(COALESCE);
        tokio::select! {
            event = events.recv() => match event {
                Ok(event) => {
                    if let Some(name) = changed_service(&event) {
                        notify_on_failure_or_recovery(&app, &event);
                        pending.insert(name, event.seq);
                    } else {
                        flush(&app, &manager, &definitions, &mut pending).await;
                        emit_other(&app, &event);
                        if matches!(
                            event.kind,
                            EventKind::StartupComplete { .. } | EventKind::StartupFailed { .. }
                        ) {
                            // The start-up's end changes what waiting services mean.
                            if let Ok((snapshot, _)) = manager.subscribe().await {
                                send_summary(&app, &snapshot);
                            }
                        }
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    // Missed changes: send every service's status again.
                    if let Ok(statuses) = manager.status().await {
                        for status in statuses {
                            pending.insert(status.name.clone(), 0);
                        }
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            Some(follow) = follows.recv() => match follow {
                Follow::Start(name, lines) => {
                    if let Some(previous) = followed.remove(&name) {
                        previous.abort();
                    }
                    let task = tokio::spawn(forward_logs(app.clone(), name.clone(), lines));
                    followed.insert(name, task.abort_handle());
                }
                Follow::Stop(name) => {
                    if let Some(task) = followed.remove(&name) {
                        task.abort();
                    }
                }
            },
            () = deadline, if !pending.is_empty() => flush(&app, &manager, &definitions, &mut pending).await,
        }
    }
    flush(&app, &manager, &definitions, &mut pending).await;
}

fn changed_service(event: &Event) -> Option<String> {
    match &event.kind {
        EventKind::ServiceStateChanged { name, .. }
        | EventKind::HealthChanged { name, .. }
        | EventKind::LogWriting { name, .. } => Some(name.clone()),
        _ => None,
    }
}

/// Sends the latest status of every service with pending changes.
async fn flush<R: Runtime>(
    app: &AppHandle<R>,
    manager: &Manager,
    definitions: &clara_supervisor::definitions::Definitions,
    pending: &mut BTreeMap<String, u64>,
) {
    if pending.is_empty() {
        return;
    }
    let Ok((snapshot, _)) = manager.subscribe().await else {
        return;
    };
    for status in &snapshot.services {
        if pending.remove(&status.name).is_some() {
            let payload = StatusChanged {
                seq: snapshot.seq,
                view: ServiceView::new(status.clone(), definitions),
            };
            if let Err(error) = contract::emit(app, payload) {
                log::warn!("cannot send a status to the window: {error}");
            }
        }
    }
    pending.clear();
    send_summary(app, &snapshot);
}

/// Shows the summary of `snapshot` in the tray and sends it to the window.
fn send_summary<R: Runtime>(app: &AppHandle<R>, snapshot: &Snapshot) {
    let summary = crate::views::summary(&snapshot.services, &snapshot.startup);
    desktop::show_status(app, &summary);
    let payload = SummaryChanged {
        seq: snapshot.seq,
        summary,
    };
    if let Err(error) = contract::emit(app, payload) {
        log::warn!("cannot send the summary to the window: {error}");
    }
}

fn emit_other<R: Runtime>(app: &AppHandle<R>, event: &Event) {
    let seq = event.seq;
    let result = match &event.kind {
        EventKind::StartupComplete { degraded } => contract::emit(
            app,
            StartupComplete {
                seq,
                degraded: degraded.clone(),
            },
        ),
        EventKind::StartupFailed {
            service,
            message,
            cause,
        } => contract::emit(app, StartupFailed::new(seq, service, message, *cause)),
        EventKind::PullProgress { name, done, total } => contract::emit(
            app,
            PullProgress {
                seq,
                service: name.clone(),
                done: *done,
                total: *total,
            },
        ),
        EventKind::ServiceStateChanged { .. }
        | EventKind::HealthChanged { .. }
        | EventKind::LogWriting { .. } => Ok(()),
    };
    if let Err(error) = result {
        log::warn!("cannot send an event to the window: {error}");
    }
}

fn notify_on_failure_or_recovery<R: Runtime>(app: &AppHandle<R>, event: &Event) {
    if let EventKind::ServiceStateChanged {
        name,
        previous_state,
        current_state,
        reason,
    } = &event.kind
    {
        let text = match (previous_state, current_state) {
            (_, ServiceState::Error) => Some(format!(
                "{name} failed: {}",
                reason.as_deref().unwrap_or("see its logs")
            )),
            (
                ServiceState::Error | ServiceState::Restarting | ServiceState::Unhealthy,
                ServiceState::Running,
            ) => Some(format!("{name} is running again")),
            _ => None,
        };
        if let Some(text) = text {
            desktop::notify_if_away(app, &text);
        }
    }
}

async fn forward_logs<R: Runtime>(
    app: AppHandle<R>,
    service: String,
    mut lines: broadcast::Receiver<LogLine>,
) {
    loop {
        match lines.recv().await {
            Ok(line) => {
                let payload = ServiceLog {
                    service: service.clone(),
                    stream: line.stream,
                    text: line.text,
                };
                if contract::emit(&app, payload).is_err() {
                    return;
                }
            }
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}
