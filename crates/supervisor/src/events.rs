//! The event stream: every change, in order, with a sequence number.
//!
//! A subscriber first gets a [`Snapshot`] (the state of every service and the sequence
//! number it reflects), then every [`Event`] after it, so it never misses or double-counts
//! a change.

use std::time::SystemTime;

use serde::Serialize;
use tokio::sync::broadcast;

use crate::state::{Health, ServiceState};
use crate::status::{FailureCause, ServiceStatus, rfc3339};

/// One change, numbered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
    /// Position in the stream, from 1, without gaps.
    pub seq: u64,
    /// When it happened (RFC 3339 with milliseconds).
    #[serde(serialize_with = "rfc3339")]
    pub timestamp: SystemTime,
}

/// The kinds of event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "event",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum EventKind {
    /// A service moved from one state to another.
    ServiceStateChanged {
        /// The service.
        name: String,
        /// The state it left.
        previous_state: ServiceState,
        /// The state it entered.
        current_state: ServiceState,
        /// Why, when that needs saying.
        reason: Option<String>,
    },
    /// A service's health check result changed.
    HealthChanged {
        /// The service.
        name: String,
        /// The new health.
        health: Health,
        /// The probe's last word, when it failed.
        detail: Option<String>,
    },
    /// Every service of the start-up is running, or failed without being critical.
    StartupComplete {
        /// Services that failed (not critical): the app runs without them.
        degraded: Vec<String>,
    },
    /// A download advanced: a container's image, or a native service's program.
    PullProgress {
        /// The service it is for.
        name: String,
        /// Bytes downloaded so far.
        done: u64,
        /// Bytes in all, as far as known.
        total: u64,
    },
    /// A service's log file cannot be written (a full disk…), or can again.
    LogWriting {
        /// The service.
        name: String,
        /// Why it cannot be written, in a sentence; `None` once it can again.
        problem: Option<String>,
    },
    /// A critical service could not start: everything started is being stopped.
    StartupFailed {
        /// The critical service that failed.
        service: String,
        /// What failed and what to do, in plain words.
        message: String,
        /// What kind of failure it was.
        cause: FailureCause,
    },
}

/// One line for people: `comfyui: starting -> running (reason)`.
impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parenthesised =
            |text: &Option<String>| text.as_ref().map(|t| format!(" ({t})")).unwrap_or_default();
        match self {
            EventKind::ServiceStateChanged {
                name,
                previous_state,
                current_state,
                reason,
            } => {
                write!(
                    f,
                    "{name}: {previous_state} -> {current_state}{}",
                    parenthesised(reason)
                )
            }
            EventKind::HealthChanged {
                name,
                health,
                detail,
            } => {
                write!(f, "{name}: health {health}{}", parenthesised(detail))
            }
            EventKind::StartupComplete { degraded } if degraded.is_empty() => {
                f.write_str("start-up complete: every service is running")
            }
            EventKind::StartupComplete { degraded } => {
                write!(
                    f,
                    "start-up complete, degraded: {} failed",
                    degraded.join(", ")
                )
            }
            EventKind::PullProgress { name, done, total } => {
                write!(
                    f,
                    "{name}: downloading, {} of {} MB",
                    done / 1_000_000,
                    total / 1_000_000
                )
            }
            EventKind::LogWriting {
                name,
                problem: Some(problem),
            } => write!(f, "{name}: {problem}"),
            EventKind::LogWriting {
                name,
                problem: None,
            } => write!(f, "{name}: writing logs again"),
            EventKind::StartupFailed { message, .. } => write!(f, "start-up failed: {message}"),
        }
    }
}

/// The state of every service at one point of the stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The sequence number of the last event this snapshot includes.
    pub seq: u64,
    /// Every service, in start order.
    pub services: Vec<ServiceStatus>,
    /// Where the last start-up stands, so a late subscriber learns how it ended.
    pub startup: StartupPhase,
}

/// Where the last start-up stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "phase",
    rename_all = "kebab-case",
    rename_all_fields = "camelCase"
)]
pub enum StartupPhase {
    /// Nothing was started yet.
    NotStarted,
    /// Services are coming up.
    Starting,
    /// It ended with everything running but the `degraded` services.
    Complete {
        /// The number of the `startup-complete` event.
        seq: u64,
        /// Services that failed or wait for Docker.
        degraded: Vec<String>,
    },
    /// A critical service could not start.
    Failed {
        /// The number of the `startup-failed` event.
        seq: u64,
        /// The service.
        service: String,
        /// What failed, in a sentence.
        message: String,
        /// What kind of failure it was.
        cause: FailureCause,
    },
}

/// Numbers events and sends them to every subscriber.
#[derive(Debug)]
pub struct EventBus {
    sender: broadcast::Sender<Event>,
    seq: u64,
}

impl EventBus {
    /// A bus that keeps up to `capacity` events for slow subscribers.
    pub fn new(capacity: usize) -> Self {
        EventBus {
            sender: broadcast::channel(capacity).0,
            seq: 0,
        }
    }

    /// Numbers and sends an event.
    pub fn emit(&mut self, kind: EventKind) {
        self.seq += 1;
        // No subscriber is a normal situation.
        let _ = self.sender.send(Event {
            kind,
            seq: self.seq,
            timestamp: SystemTime::now(),
        });
    }

    /// The sequence number of the last event sent.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_changes_serialize_with_the_documented_field_names() {
        let event = Event {
            kind: EventKind::ServiceStateChanged {
                name: "comfyui".into(),
                previous_state: ServiceState::Starting,
                current_state: ServiceState::Running,
                reason: None,
            },
            seq: 17,
            timestamp: SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_795_809_662_345),
        };
        let json = serde_json::to_value(&event).expect("serializes");
        assert_eq!(
            json,
            serde_json::json!({
                "event": "service-state-changed",
                "seq": 17,
                "name": "comfyui",
                "previousState": "starting",
                "currentState": "running",
                "reason": null,
                "timestamp": "2026-11-27T20:01:02.345Z"
            })
        );
    }

    #[test]
    fn events_read_as_sentences() {
        let change = EventKind::ServiceStateChanged {
            name: "db".into(),
            previous_state: ServiceState::Running,
            current_state: ServiceState::Restarting,
            reason: Some("exited with code 1".into()),
        };
        assert_eq!(
            change.to_string(),
            "db: running -> restarting (exited with code 1)"
        );
        let degraded = EventKind::StartupComplete {
            degraded: vec!["n8n".into()],
        };
        assert_eq!(
            degraded.to_string(),
            "start-up complete, degraded: n8n failed"
        );
    }

    #[test]
    fn sequence_numbers_have_no_gaps() {
        let mut bus = EventBus::new(8);
        let mut receiver = bus.subscribe();
        for _ in 0..3 {
            bus.emit(EventKind::StartupComplete { degraded: vec![] });
        }
        let seqs: Vec<u64> = (0..3)
            .map(|_| receiver.try_recv().expect("an event").seq)
            .collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert_eq!(bus.seq(), 3);
    }
}
