//! What the manager reports about each service.

use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::state::{Health, ServiceState};

/// How the last instance of a service ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct ExitInfo {
    /// The exit code, when it exited by itself.
    pub code: Option<i32>,
    /// The signal that killed it (Unix).
    pub signal: Option<i32>,
}

impl ExitInfo {
    /// It exited by itself with this code.
    pub fn code(code: i32) -> Self {
        ExitInfo {
            code: Some(code),
            signal: None,
        }
    }

    /// It was killed by this signal (Unix).
    pub fn signal(signal: i32) -> Self {
        ExitInfo {
            code: None,
            signal: Some(signal),
        }
    }

    /// A clean exit: code 0.
    pub fn is_success(&self) -> bool {
        self.code == Some(0)
    }

    /// "exited with code 1" / "was killed by signal 9".
    pub fn describe(&self) -> String {
        match (self.code, self.signal) {
            (Some(code), _) => format!("exited with code {code}"),
            (None, Some(signal)) => format!("was killed by signal {signal}{}", signal_name(signal)),
            (None, None) => "ended".to_string(),
        }
    }
}

fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        3 => " (SIGQUIT)",
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        15 => " (SIGTERM)",
        _ => "",
    }
}

/// A failure, for people and for bug reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
pub struct ServiceError {
    /// One plain sentence: what failed and what to do.
    pub message: String,
    /// Technical detail (an OS error, a probe's last answer), when there is one.
    pub detail: Option<String>,
    /// What kind of failure it is, for advice chosen without reading the sentence.
    pub cause: FailureCause,
}

impl ServiceError {
    /// A failure of this kind, with this sentence and no detail.
    pub fn new(cause: FailureCause, message: impl Into<String>) -> Self {
        ServiceError {
            message: message.into(),
            detail: None,
            cause,
        }
    }
}

/// What kind of failure a service met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum FailureCause {
    /// Its program, working folder or image is absent from this machine.
    Missing,
    /// The container engine could not be reached.
    EngineUnavailable,
    /// Another program holds one of its ports.
    PortInUse,
    /// Its image could not be downloaded.
    ImageDownload,
    /// Its program could not be downloaded and installed.
    ProgramDownload,
    /// It needs something only the user can give before it can start (a model): the
    /// message says what and where.
    NotSetUp,
    /// A container that is not ours holds its container's name (the message says whose).
    NameTaken,
    /// It started but did not become ready in time.
    NotReady,
    /// It ran, then stopped passing its health check.
    Unhealthy,
    /// Its process ended while it should have been running.
    Exited,
    /// A service it depends on failed.
    DependencyFailed,
    /// Anything else.
    #[default]
    Other,
}

impl FailureCause {
    /// Something this machine lacks (the engine, a program, a folder, an image, or what a
    /// download would have brought, or the user has yet to add) or holds in
    /// the way (someone else's container with its name): a start-up goes on without the
    /// service, critical or not, and the dashboard says what to do.
    pub fn is_missing_here(self) -> bool {
        matches!(
            self,
            FailureCause::Missing
                | FailureCause::EngineUnavailable
                | FailureCause::ImageDownload
                | FailureCause::ProgramDownload
                | FailureCause::NotSetUp
                | FailureCause::NameTaken
        )
    }
}

/// Everything the manager knows about one service, at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceStatus {
    /// The service's name.
    pub name: String,
    /// What it does, from its definition.
    pub description: Option<String>,
    /// Where it is in its life.
    pub state: ServiceState,
    /// What its health check says.
    pub health: Health,
    /// Why it is in this state, when that needs saying.
    pub reason: Option<String>,
    /// The main process id, while one runs.
    pub pid: Option<u32>,
    /// How often it was restarted since the supervisor started.
    pub restarts: u32,
    /// How its last instance ended.
    pub last_exit: Option<ExitInfo>,
    /// Its last failure.
    pub last_error: Option<ServiceError>,
    /// When it entered the current state (RFC 3339).
    #[serde(serialize_with = "rfc3339")]
    pub since: SystemTime,
    /// How long it has been running, in seconds, when running.
    pub uptime_seconds: Option<u64>,
    /// Whether its failure fails the start-up.
    pub critical: bool,
    /// How it runs, when worth saying: where Docker was found, GPU or CPU, adopted…
    pub detail: Option<String>,
    /// Why its log file cannot be written (a full disk…), while that lasts.
    pub log_problem: Option<String>,
    /// The URL of the user's own server, when the user runs this service himself.
    pub own_server: Option<String>,
}

impl ServiceStatus {
    /// A new status for a service that has not started.
    pub fn new(
        name: &str,
        description: Option<String>,
        critical: bool,
        state: ServiceState,
    ) -> Self {
        ServiceStatus {
            name: name.to_string(),
            description,
            state,
            health: Health::Unknown,
            reason: None,
            pid: None,
            restarts: 0,
            last_exit: None,
            last_error: None,
            since: SystemTime::now(),
            uptime_seconds: None,
            critical,
            detail: None,
            log_problem: None,
            own_server: None,
        }
    }

    /// How long it has been in its current state.
    pub fn in_state_for(&self) -> Duration {
        self.since.elapsed().unwrap_or_default()
    }
}

/// Serializes a time as RFC 3339 with milliseconds, e.g. `2026-11-27T20:01:02.345Z`.
pub fn rfc3339<S: serde::Serializer>(time: &SystemTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&humantime::format_rfc3339_millis(*time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_are_described_in_words() {
        assert_eq!(
            ExitInfo {
                code: Some(1),
                signal: None
            }
            .describe(),
            "exited with code 1"
        );
        assert_eq!(
            ExitInfo {
                code: None,
                signal: Some(9)
            }
            .describe(),
            "was killed by signal 9 (SIGKILL)"
        );
        assert_eq!(
            ExitInfo {
                code: None,
                signal: Some(42)
            }
            .describe(),
            "was killed by signal 42"
        );
    }
}
