//! `clara-supervisor up` as a user runs it: JSON lines, signals, exit codes, and no
//! orphans when the supervisor is killed.

#![cfg(unix)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use support::{PATIENCE, alive, eventually, read_pid, supervisor_binary};

/// A running `clara-supervisor up --json`, killed at the end of the test whatever happens.
struct Up {
    child: Child,
    lines: mpsc::Receiver<Value>,
    seen: Vec<Value>,
}

impl Up {
    fn start(dir: &Path, definitions: &str) -> Up {
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

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id() as i32)
    }

    /// Waits for the first event matching `wanted`.
    fn wait_for(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
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

    fn wait_event(&mut self, event: &str) -> Value {
        self.wait_for(event, |value| value["event"] == event)
    }

    /// Waits for the process to exit and returns its code and the remaining events.
    fn finish(&mut self) -> Option<i32> {
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

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<Option<i32>> {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status.code());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

const FAMILY: &str = r#"
[services.parent]
command = ["sh", "-c", "sh -c 'sleep 600 & echo $$! > ${DIR}/grandchild-$$$$.pid; wait' & echo $$$$ > ${DIR}/parent.pid; wait"]

[services.web]
command = ["sh", "-c", "sleep 600 & echo $$! > ${DIR}/web-child.pid; echo ready; wait"]
health = { log = "ready" }
depends_on = ["parent"]
"#;

fn grandchildren(dir: &Path) -> Vec<u32> {
    std::fs::read_dir(dir)
        .expect("readable")
        .filter_map(|entry| entry.ok())
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("grandchild-")
        })
        .filter_map(|entry| {
            std::fs::read_to_string(entry.path())
                .ok()?
                .trim()
                .parse()
                .ok()
        })
        .collect()
}

#[test]
fn json_lines_then_a_clean_stop_in_reverse_order_on_sigterm() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut up = Up::start(dir.path(), FAMILY);
    let complete = up.wait_event("startup-complete");
    assert_eq!(complete["degraded"], serde_json::json!([]));
    let first = &up.seen[0];
    for field in [
        "event",
        "seq",
        "name",
        "previousState",
        "currentState",
        "reason",
        "timestamp",
    ] {
        assert!(first.get(field).is_some(), "{field} missing from {first}");
    }
    let seqs: Vec<u64> = up.seen.iter().filter_map(|v| v["seq"].as_u64()).collect();
    assert_eq!(
        seqs,
        (1..=seqs.len() as u64).collect::<Vec<_>>(),
        "numbered without gaps"
    );

    kill(up.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(up.finish(), Some(0));
    let stopped: Vec<&str> = up
        .seen
        .iter()
        .filter(|v| v["currentState"] == "stopped")
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(stopped, ["web", "parent"], "dependents stop first");
    let web_child = std::fs::read_to_string(dir.path().join("web-child.pid")).expect("written");
    assert!(!alive(web_child.trim().parse().expect("a pid")));
}

#[test]
fn a_failed_start_up_stops_cleanly_and_exits_1() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut up = Up::start(
        dir.path(),
        "[services.ok]\ncommand = [\"sleep\", \"600\"]\n\n[services.core]\ncritical = true\ncommand = [\"sh\", \"-c\", \"exit 1\"]\nhealth = { log = \"ready\" }\nrestart = \"never\"\n",
    );
    let failed = up.wait_event("startup-failed");
    assert_eq!(failed["service"], "core");
    assert_eq!(
        failed["message"],
        "core could not start: exited with code 1 — see its logs"
    );
    assert_eq!(up.finish(), Some(1));
    assert!(
        up.seen
            .iter()
            .any(|v| v["name"] == "ok" && v["currentState"] == "stopped")
    );
}

#[tokio::test]
async fn sigkill_of_the_supervisor_leaves_no_process_behind() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut up = Up::start(dir.path(), FAMILY);
    up.wait_event("startup-complete");
    let mut pids = vec![
        read_pid(&dir.path().join("parent.pid")).await,
        read_pid(&dir.path().join("web-child.pid")).await,
    ];
    assert!(eventually(PATIENCE, || !grandchildren(dir.path()).is_empty()).await);
    pids.extend(grandchildren(dir.path()));
    assert!(
        pids.iter().all(|&pid| alive(pid)),
        "all running before the kill"
    );

    kill(up.pid(), Signal::SIGKILL).expect("kills");
    let gone = eventually(Duration::from_secs(2), || {
        pids.iter().all(|&pid| !alive(pid))
    })
    .await;
    let left: Vec<u32> = pids.iter().copied().filter(|&pid| alive(pid)).collect();
    assert!(gone, "left behind 2 s after SIGKILL: {left:?}");
}

#[tokio::test]
async fn the_next_start_cleans_up_after_a_crash_that_took_the_guard_too() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut up = Up::start(dir.path(), FAMILY);
    up.wait_event("startup-complete");
    let parent = read_pid(&dir.path().join("parent.pid")).await;
    let web_child = read_pid(&dir.path().join("web-child.pid")).await;
    // The record of running processes is written just after each start.
    let records = dir.path().join("state/processes.json");
    let recorded = eventually(PATIENCE, || {
        std::fs::read_to_string(&records)
            .is_ok_and(|text| text.contains("\"parent\"") && text.contains("\"web\""))
    })
    .await;
    assert!(recorded, "both services are recorded");
    let guard = guard_of(up.child.id()).expect("the guard runs");
    // A crash that takes the guard with it: the kernel's help is gone, only the state
    // file is left to tell what ran.
    kill(Pid::from_raw(guard as i32), Signal::SIGKILL).expect("kills the guard");
    kill(up.pid(), Signal::SIGKILL).expect("kills the supervisor");
    let _ = up.finish();
    assert!(
        alive(parent) && alive(web_child),
        "without the guard, the services survived the crash"
    );

    let mut again = Up::start(dir.path(), FAMILY);
    again.wait_event("startup-complete");
    assert!(
        !alive(parent),
        "the old parent was cleaned up before the new start"
    );
    assert!(
        !alive(web_child),
        "the old web child was cleaned up before the new start"
    );
    kill(again.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(again.finish(), Some(0));
    let stderr = again.stderr();
    // parent: its sh, the inner sh and the grandchild sleep; web: its sh and its sleep.
    assert!(
        stderr.contains("note: stopped 3 processes of \"parent\" left running by a previous run that ended abruptly\n")
            && stderr.contains("note: stopped 2 processes of \"web\" left running by a previous run that ended abruptly\n"),
        "{stderr}"
    );
}

impl Up {
    /// Everything the supervisor wrote on stderr (call once it has exited).
    fn stderr(&mut self) -> String {
        let mut text = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            use std::io::Read;
            pipe.read_to_string(&mut text).expect("readable");
        }
        text
    }
}

/// The pids of FAMILY's processes once it has started, all alive.
async fn family_pids(dir: &Path) -> Vec<u32> {
    let mut pids = vec![
        read_pid(&dir.join("parent.pid")).await,
        read_pid(&dir.join("web-child.pid")).await,
    ];
    assert!(eventually(PATIENCE, || !grandchildren(dir).is_empty()).await);
    pids.extend(grandchildren(dir));
    assert!(pids.iter().all(|&pid| alive(pid)), "all running");
    pids
}

#[tokio::test]
async fn a_second_supervisor_on_the_same_state_directory_refuses_and_touches_nothing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut first = Up::start(dir.path(), FAMILY);
    first.wait_event("startup-complete");
    let pids = family_pids(dir.path()).await;
    let records = dir.path().join("state/processes.json");
    let recorded = eventually(PATIENCE, || {
        std::fs::read_to_string(&records)
            .is_ok_and(|text| text.contains("\"parent\"") && text.contains("\"web\""))
    })
    .await;
    assert!(recorded, "both services are recorded");
    let before = std::fs::read(&records).expect("readable");

    let mut second = Up::start(dir.path(), FAMILY);
    let code = wait_timeout(&mut second.child, Duration::from_secs(10))
        .expect("the second supervisor exits within seconds");
    assert_eq!(code, Some(2));
    // After the definitions' warnings, the one sentence.
    let stderr = second.stderr();
    assert_eq!(
        stderr.lines().last(),
        Some(
            format!(
                "error: clara-supervisor is already running (pid {}); quit it first, or give this one another state directory than {}",
                first.child.id(),
                dir.path().join("state").display()
            )
            .as_str()
        ),
        "{stderr}"
    );
    let _ = second.finish();
    assert!(second.seen.is_empty(), "no events: {:#?}", second.seen);
    assert!(
        pids.iter().all(|&pid| alive(pid)),
        "the first one's services still run"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("parent.pid")).expect("readable"),
        format!("{}\n", pids[0]),
        "and were not started again"
    );
    assert_eq!(std::fs::read(&records).expect("readable"), before);

    // Once the first has stopped, the directory is free.
    kill(first.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(first.finish(), Some(0));
    let mut third = Up::start(dir.path(), FAMILY);
    third.wait_event("startup-complete");
    kill(third.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(third.finish(), Some(0));
}

#[tokio::test]
async fn the_state_directory_is_free_again_after_a_sigkill() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut first = Up::start(dir.path(), FAMILY);
    first.wait_event("startup-complete");
    let pids = family_pids(dir.path()).await;
    kill(first.pid(), Signal::SIGKILL).expect("kills");
    let _ = first.finish();
    // The guard ends the services; the lock went with the process.
    assert!(eventually(PATIENCE, || pids.iter().all(|&pid| !alive(pid))).await);

    let mut again = Up::start(dir.path(), FAMILY);
    again.wait_event("startup-complete");
    kill(again.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(again.finish(), Some(0));
}

/// The guard process started by the supervisor `pid`.
fn guard_of(pid: u32) -> Option<u32> {
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
