//! The mark that proves a process is ours.
//!
//! Every native service process is started with `CLARA_SUPERVISOR_MARK=STATE.RUN.N.SERVICE`
//! in its environment, and everything it starts inherits it, even a process that leaves its
//! process group (`setsid`). STATE is a random token kept in the state directory, RUN one run
//! of the supervisor, N one start of a service in that run. A recorded pid alone proves
//! nothing (by the time it is read, it may belong to another program); a mark does. So
//! every clean-up kills by mark: the next start kills what carries its state directory's
//! token (a crashed run's leftovers), the guard what carries its run's, and the end of an
//! instance what carries that instance's (a daemon it left behind). On Linux marks are read
//! from `/proc/PID/environ` (see `leftovers::kill_marked`).

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::persist;

/// The environment variable that carries the mark.
pub const VARIABLE: &str = "CLARA_SUPERVISOR_MARK";

/// The marks of one run of the supervisor on one state directory.
#[derive(Debug)]
pub struct RunMark {
    /// `STATE.RUN.`: what every mark of this run starts with.
    prefix: String,
    /// The number of the next instance.
    instances: AtomicU64,
}

/// The mark of one instance of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceMark {
    /// The variable's value: `STATE.RUN.N.SERVICE`.
    pub value: String,
    /// What this instance's marks (and no other's) start with: `STATE.RUN.N.`.
    pub prefix: String,
}

impl RunMark {
    /// A new run of the state directory whose token is `state`.
    pub fn new(state: &str) -> RunMark {
        RunMark {
            prefix: format!("{}{:016x}.", state_prefix(state), fastrand::u64(..)),
            instances: AtomicU64::new(1),
        }
    }

    /// What every mark of this run starts with.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The mark of a new instance of `service`.
    pub fn instance(&self, service: &str) -> InstanceMark {
        let number = self.instances.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("{}{number}.", self.prefix);
        InstanceMark {
            value: format!("{prefix}{service}"),
            prefix,
        }
    }
}

/// What every mark of every run on the state directory whose token is `state` starts with.
pub fn state_prefix(state: &str) -> String {
    format!("{state}.")
}

/// The name of the file in the state directory that keeps its token.
pub const TOKEN_FILE: &str = "mark";

/// The token of the state directory `dir`, kept in its file [`TOKEN_FILE`] (private to the
/// user); made on first use, and made again if the file does not hold one.
pub fn state_token(dir: &Path) -> io::Result<String> {
    let path = dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if is_state_token(text.trim()) => return Ok(text.trim().to_string()),
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let token = new_state_token();
    persist::write_atomically(&path, token.as_bytes())?;
    Ok(token)
}

/// A new state directory token: 16 hex digits.
pub fn new_state_token() -> String {
    format!("{:016x}", fastrand::u64(..))
}

/// Whether `token` has the form of a state directory token (so that it cannot make a
/// prefix that matches more than its own marks).
pub fn is_state_token(token: &str) -> bool {
    token.len() == 16 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `prefix` is a whole run's prefix, `STATE.RUN.` (what the guard is given): never
/// empty, never shorter, so that it cannot match another run's marks.
pub fn is_run_prefix(prefix: &str) -> bool {
    let mut parts = prefix.split('.');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(state), Some(run), Some(""), None) if is_state_token(state) && is_state_token(run)
    )
}

/// The service named by `mark`, when it is a well-formed mark.
pub fn service_of(mark: &str) -> Option<&str> {
    let mut parts = mark.splitn(4, '.');
    let (_state, _run, _number) = (parts.next()?, parts.next()?, parts.next()?);
    parts.next().filter(|service| !service.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_nest_state_run_and_instance() {
        let token = new_state_token();
        assert!(is_state_token(&token), "{token}");
        let run = RunMark::new(&token);
        assert!(run.prefix().starts_with(&state_prefix(&token)));
        let first = run.instance("llama-swap");
        let second = run.instance("llama-swap");
        assert!(first.prefix.starts_with(run.prefix()));
        assert!(first.value.starts_with(&first.prefix));
        assert!(!second.value.starts_with(&first.prefix), "instances differ");
        assert_eq!(service_of(&first.value), Some("llama-swap"));
        assert_eq!(
            service_of("0123456789abcdef.1.2.a.b"),
            Some("a.b"),
            "the service is the rest"
        );
        assert_eq!(service_of("0123456789abcdef.1.2."), None);
        assert_eq!(service_of("nonsense"), None);
    }

    #[test]
    fn two_runs_never_share_a_prefix() {
        let token = new_state_token();
        let (one, two) = (RunMark::new(&token), RunMark::new(&token));
        assert_ne!(one.prefix(), two.prefix());
        assert!(!is_state_token("0123"));
        assert!(!is_state_token("0123456789abcdeg"));
        assert!(is_run_prefix(one.prefix()));
        assert!(!is_run_prefix(&state_prefix(&token)));
        assert!(!is_run_prefix(""));
        assert!(!is_run_prefix(&one.instance("a").prefix));
    }

    #[test]
    fn the_state_token_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let token = state_token(dir.path()).expect("made");
        assert!(is_state_token(&token));
        assert_eq!(state_token(dir.path()).expect("read"), token);
        std::fs::write(dir.path().join(TOKEN_FILE), "damaged").expect("writes");
        let remade = state_token(dir.path()).expect("made again");
        assert!(is_state_token(&remade) && remade != token);
    }
}
