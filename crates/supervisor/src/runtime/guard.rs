//! No orphans when the supervisor dies.
//!
//! On Unix every native service leads its own process group, and one small guard process
//! (this same program, started with [`GUARD_ARGUMENT`]) is told each group over a pipe on
//! its standard input. The supervisor holds the only write end: when the supervisor ends
//! in any way — even SIGKILL — the kernel closes it, the guard reads end-of-file and kills
//! every group it was told about, grandchildren included. Unlike a parent-death signal,
//! this does not depend on which thread spawned what, and works the same on macOS.
//! If the guard itself dies, it is started again and told the groups again.
//!
//! On Linux the guard is also given the run's mark (see [`super::mark`]) and then kills
//! every process that carries it: those that left their group (`setsid`), and those of a
//! service whose group it had not been told yet because the supervisor died as it started.
//!
//! On Windows each service runs in a Job Object that kills its processes when its last
//! handle closes, which the supervisor's death does; no guard process is needed there.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use tokio::sync::mpsc;

/// The first argument that turns this program into the guard.
pub const GUARD_ARGUMENT: &str = "__clara-guard";

#[derive(Debug)]
#[cfg_attr(not(unix), allow(dead_code))]
enum Message {
    Watch(i32),
    Forget(i32),
}

/// A handle to the guard: cheap to clone, never blocks.
#[derive(Debug, Clone)]
pub struct Guard {
    messages: Option<mpsc::UnboundedSender<Message>>,
}

impl Message {
    /// The line the guard reads.
    #[cfg(unix)]
    fn line(&self) -> String {
        match self {
            Message::Watch(group) => format!("watch {group}\n"),
            Message::Forget(group) => format!("forget {group}\n"),
        }
    }
}

impl Guard {
    /// Starts the guard process from `program` for the run whose marks start with
    /// `run_prefix` (Unix); a no-op guard elsewhere. Must be called inside a tokio runtime.
    pub fn start(program: &Path, run_prefix: &str) -> std::io::Result<Guard> {
        #[cfg(unix)]
        {
            let (sender, receiver) = mpsc::unbounded_channel();
            let program = unix::GuardProgram {
                path: program.to_path_buf(),
                run_prefix: run_prefix.to_string(),
            };
            let child = program.spawn()?;
            tokio::spawn(unix::keep_guard(program, child, receiver));
            Ok(Guard {
                messages: Some(sender),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = (program, run_prefix);
            Ok(Guard::none())
        }
    }

    /// A guard that guards nothing: for tests of other parts, and platforms without one.
    pub fn none() -> Guard {
        Guard { messages: None }
    }

    /// From now on, kill `process_group` if the supervisor dies.
    pub fn watch(&self, process_group: i32) {
        self.send(Message::Watch(process_group));
    }

    /// `process_group` has ended: forget it.
    pub fn forget(&self, process_group: i32) {
        self.send(Message::Forget(process_group));
    }

    fn send(&self, message: Message) {
        if let Some(messages) = &self.messages
            && messages.send(message).is_err()
        {
            tracing::error!("the orphan guard's keeper has stopped: services may outlive a crash");
        }
    }
}

/// The program to start as the guard: this executable, unless told otherwise.
pub fn default_program() -> PathBuf {
    std::env::current_exe().unwrap_or_else(|_| PathBuf::from("clara-supervisor"))
}

/// Runs the guard when this process was started as one: its first argument is
/// [`GUARD_ARGUMENT`]. Returns the exit code to end the process with then, or `None` for a
/// process started for anything else. Every program that serves as the guard (the CLI and
/// the desktop app) calls this first thing in `main`.
pub fn run_if_requested() -> Option<ExitCode> {
    let requested = std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == GUARD_ARGUMENT);
    requested.then(|| u8::try_from(run()).map_or(ExitCode::FAILURE, ExitCode::from))
}

/// The guard's main loop: read `watch N` / `forget N` lines until end-of-file, then kill
/// every group still watched and (Linux) every process that carries the run's mark, given
/// as the argument after [`GUARD_ARGUMENT`]. Returns the process exit code.
pub fn run() -> i32 {
    #[cfg(unix)]
    {
        unix::run_guard(std::env::args().nth(2))
    }
    #[cfg(not(unix))]
    {
        0
    }
}

#[cfg(unix)]
mod unix {
    use std::collections::BTreeSet;
    use std::io::BufRead;
    use std::path::PathBuf;
    use std::process::Stdio;

    use nix::sys::signal::{SigHandler, Signal, killpg, signal};
    use nix::unistd::Pid;
    use tokio::io::AsyncWriteExt;
    use tokio::process::{Child, ChildStdin, Command};
    use tokio::sync::mpsc;

    use super::{GUARD_ARGUMENT, Message};

    /// How to start the guard: the program, and the run whose marks it kills.
    pub struct GuardProgram {
        pub path: PathBuf,
        pub run_prefix: String,
    }

    impl GuardProgram {
        pub fn spawn(&self) -> std::io::Result<Child> {
            Command::new(&self.path)
                .arg(GUARD_ARGUMENT)
                .arg(&self.run_prefix)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                // Its own group: a Ctrl-C meant for the supervisor does not reach it.
                .process_group(0)
                .kill_on_drop(false)
                .spawn()
        }
    }

    /// A running guard: the process, and the write end of its standard input, kept apart
    /// because tokio closes a child's stdin when waiting on it.
    struct Running {
        child: Child,
        stdin: Option<ChildStdin>,
    }

    impl Running {
        fn new(mut child: Child) -> Running {
            let stdin = child.stdin.take();
            Running { child, stdin }
        }

        async fn send(&mut self, line: &str) -> bool {
            match self.stdin.as_mut() {
                Some(stdin) => stdin.write_all(line.as_bytes()).await.is_ok(),
                None => false,
            }
        }
    }

    /// Owns the guard process: forwards messages, restarts it if it dies.
    pub async fn keep_guard(
        program: GuardProgram,
        child: Child,
        mut messages: mpsc::UnboundedReceiver<Message>,
    ) {
        let mut watched = BTreeSet::new();
        let mut guard = Running::new(child);
        loop {
            let message = tokio::select! {
                message = messages.recv() => message,
                status = guard.child.wait() => {
                    tracing::warn!("the orphan guard ended ({status:?}); starting it again");
                    match restart(&program, &watched).await {
                        Some(restarted) => guard = restarted,
                        None => return,
                    }
                    continue;
                }
            };
            let Some(message) = message else { break };
            match message {
                Message::Watch(group) => watched.insert(group),
                Message::Forget(group) => watched.remove(&group),
            };
            if !guard.send(&message.line()).await {
                match restart(&program, &watched).await {
                    Some(restarted) => guard = restarted,
                    None => return,
                }
            }
        }
        // The manager is gone: closing the pipe tells the guard to clean up and leave.
        drop(guard.stdin.take());
        let _ = guard.child.wait().await;
    }

    async fn restart(program: &GuardProgram, watched: &BTreeSet<i32>) -> Option<Running> {
        // Whatever killed the guard may still be at work: do not spin.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let mut guard = match program.spawn() {
            Ok(child) => Running::new(child),
            Err(error) => {
                tracing::error!(
                    "cannot restart the orphan guard ({error}): services may outlive a crash"
                );
                return None;
            }
        };
        let lines: String = watched
            .iter()
            .map(|group| format!("watch {group}\n"))
            .collect();
        if !guard.send(&lines).await {
            tracing::error!("the restarted orphan guard does not listen");
        }
        Some(guard)
    }

    pub fn run_guard(run_prefix: Option<String>) -> i32 {
        // Only end-of-file on stdin ends the guard: stray signals (a `pkill` by name, a
        // hang-up) must not leave the services unguarded.
        for stray in [
            Signal::SIGTERM,
            Signal::SIGINT,
            Signal::SIGHUP,
            Signal::SIGQUIT,
        ] {
            // SAFETY: installing SIG_IGN runs no code in signal context; this thread has
            // not started any other thread yet.
            if let Err(error) = unsafe { signal(stray, SigHandler::SigIgn) } {
                eprintln!("clara guard: cannot ignore {stray}: {error}");
            }
        }
        let mut watched = BTreeSet::new();
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let parsed = line
                .split_once(' ')
                .and_then(|(verb, group)| Some((verb, group.parse::<i32>().ok()?)));
            match parsed {
                Some(("watch", group)) if group > 1 => {
                    watched.insert(group);
                }
                Some(("forget", group)) => {
                    watched.remove(&group);
                }
                _ => eprintln!("clara guard: ignoring {line:?}"),
            }
        }
        for group in watched {
            // A group that is gone already is what we want.
            let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
        }
        #[cfg(target_os = "linux")]
        match run_prefix {
            Some(prefix) if crate::runtime::mark::is_run_prefix(&prefix) => {
                crate::runtime::leftovers::kill_marked(&prefix);
            }
            _ => eprintln!("clara guard: no run mark given; only the watched groups were ended"),
        }
        #[cfg(not(target_os = "linux"))]
        let _ = run_prefix;
        0
    }
}
