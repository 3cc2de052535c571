//! `clara-supervisor up --json` run as a user runs it, for the tests of the CLI under
//! signals: its JSON lines as they come, its exit code and its stderr.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::unistd::Pid;
use serde_json::Value;

use super::{PATIENCE, supervisor_binary};

/// A running `clara-supervisor up --json`, killed at the end of the test whatever happens.
pub struct Up {
    /// The supervisor process.
    pub child: Child,
    lines: mpsc::Receiver<Value>,
    /// The events read so far.
    pub seen: Vec<Value>,
}

impl Up {
    /// Writes `definitions` (with `${DIR}` replaced by `dir`) to `dir/services.toml` and
    /// runs `up` on it, with its state in `dir/state`.
    pub fn start(dir: &Path, definitions: &str) -> Up {
        Up::start_with(dir, definitions, &[])
    }

    /// As [`Up::start`], with these environment variables set for the supervisor.
    pub fn start_with(dir: &Path, definitions: &str, environment: &[(&str, &str)]) -> Up {
        let file = dir.join("services.toml");
        std::fs::write(
            &file,
            definitions.replace("${DIR}", &dir.display().to_string()),
        )
        .expect("writes");
        let mut child = Command::new(supervisor_binary())
            .arg("up")
            .arg(&file)
            .arg("--json")
            .arg("--state-dir")
            .arg(dir.join("state"))
            .envs(environment.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the supervisor starts");
        let stdout = child.stdout.take().expect("piped");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || read_json_lines(stdout, sender));
        Up {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The supervisor's pid.
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Waits for the first event matching `wanted`.
    pub fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        loop {
            match self.lines.recv_timeout(PATIENCE) {
                Ok(value) => {
                    self.seen.push(value.clone());
                    if wanted(&value) {
                        return value;
                    }
                }
                Err(_) => panic!("no {what}; seen: {:#?}", self.seen),
            }
        }
    }

    /// Reads the events that arrive until none has for `quiet`; returns how many came.
    pub fn read_until_quiet(&mut self, quiet: Duration) -> usize {
        let mut count = 0;
        while let Ok(value) = self.lines.recv_timeout(quiet) {
            self.seen.push(value);
            count += 1;
        }
        count
    }

    /// Waits for the first event named `event`.
    pub fn wait_event(&mut self, event: &str) -> Value {
        self.wait_for(event, |value| value["event"] == event)
    }

    /// Waits for the process to exit and returns its code and the remaining events.
    pub fn finish(&mut self) -> Option<i32> {
        let status = wait_timeout(&mut self.child, PATIENCE).expect("the supervisor exits in time");
        while let Ok(value) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(value);
        }
        status
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_json_lines(stdout: ChildStdout, sender: mpsc::Sender<Value>) {
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { return };
        let value: Value = serde_json::from_str(&line)
            .unwrap_or_else(|error| panic!("not one JSON object per line: {line:?}: {error}"));
        if sender.send(value).is_err() {
            return;
        }
    }
}

/// Waits up to `limit` for `child` to exit; its exit code (`None`: killed by a signal).
pub fn wait_timeout(child: &mut Child, limit: Duration) -> Option<Option<i32>> {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status.code());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

impl Up {
    /// Everything the supervisor wrote on stderr (call once it has exited).
    pub fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            pipe.read_to_string(&mut text).expect("readable");
        }
        text
    }
}

/// The guard process started by the supervisor `pid`.
pub fn guard_of(pid: u32) -> Option<u32> {
    let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut all: Vec<u32> = children
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    for task in tasks.filter_map(|t| t.ok()) {
        let path = task.path().join("children");
        if let Ok(text) = std::fs::read_to_string(path) {
            all.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    all.into_iter().find(|child| {
        std::fs::read_to_string(format!("/proc/{child}/cmdline"))
            .is_ok_and(|cmdline| cmdline.contains("__clara-guard"))
    })
}
