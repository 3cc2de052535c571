//! What is ours is ended wherever it went; what is not ours is never touched. Real
//! processes under `clara-supervisor up`: a process that leaves its group, a supervisor
//! killed in its first milliseconds, and a crash record that names someone else's process.

#![cfg(target_os = "linux")]

mod support;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::up::{Up, guard_of, wait_timeout};
use support::{PATIENCE, alive, eventually, read_pid, tagged};

/// A service whose child leaves the service's process group (`setsid`) and writes its pid
/// to `escaped.pid`; every process carries `CLARA_TEST_TAG=TAG`.
const ESCAPES: &str = r#"
[services.daemon]
command = ["sh", "-c", "setsid sh -c 'echo $$$$ > ${DIR}/escaped.pid; exec sleep 600' & echo ready; wait"]
env = { CLARA_TEST_TAG = "${TAG}" }
health = { log = "ready" }
"#;

/// Two services, one with a child in the background, all tagged.
const PAIR: &str = r#"
[services.one]
command = ["sh", "-c", "sleep 600 & wait"]
env = { CLARA_TEST_TAG = "${TAG}" }

[services.two]
command = ["sleep", "600"]
env = { CLARA_TEST_TAG = "${TAG}" }
"#;

/// A tag no other test uses, for `tagged`.
fn new_tag(dir: &Path) -> String {
    format!("clara-test-{}", dir.display())
}

/// Whether no process carries `tag`, now and a moment later (a process in the middle of
/// its exec shows no environment for an instant).
async fn none_tagged_within(limit: Duration, tag: &str) -> bool {
    eventually(limit, || tagged(tag).is_empty()).await && {
        tokio::time::sleep(Duration::from_millis(100)).await;
        tagged(tag).is_empty()
    }
}

fn start(dir: &Path, definitions: &str, tag: &str) -> Up {
    Up::start(dir, &definitions.replace("${TAG}", tag))
}

/// A program of someone else that leads its own process group, as a daemon does.
struct Stranger(Child);

impl Stranger {
    fn start() -> Stranger {
        Stranger(
            Command::new("sleep")
                .arg("600")
                .process_group(0)
                .spawn()
                .expect("sleep runs"),
        )
    }
}

impl Drop for Stranger {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_recorded_pid_that_is_not_ours_is_never_killed() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut stranger = Stranger::start();
    let pid = stranger.0.id();
    // What a crashed run could have left: its records, whose pids now belong to another
    // program, with a wrong start time and with none at all.
    std::fs::create_dir_all(dir.path().join("state")).expect("makes the state folder");
    std::fs::write(
        dir.path().join("state/processes.json"),
        format!(
            r#"[{{"service":"a","pid":{pid},"processGroup":{pid},"startTime":1}},
               {{"service":"b","pid":{pid},"processGroup":{pid},"startTime":0}}]"#
        ),
    )
    .expect("writes the records");

    let tag = new_tag(dir.path());
    let mut up = start(dir.path(), PAIR, &tag);
    up.wait_event("startup-complete");
    kill(up.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(up.finish(), Some(0));
    assert_eq!(
        stranger.0.try_wait().ok(),
        Some(None),
        "the other program still runs"
    );
    let stderr = up.stderr();
    assert!(!stderr.contains("stopped"), "{stderr}");
}

#[tokio::test]
async fn a_process_that_left_its_group_is_stopped_with_its_service() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tag = new_tag(dir.path());
    let mut up = start(dir.path(), ESCAPES, &tag);
    up.wait_event("startup-complete");
    let escaped = read_pid(&dir.path().join("escaped.pid")).await;
    assert!(alive(escaped));

    kill(up.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(up.finish(), Some(0));
    assert!(!alive(escaped), "ended before the supervisor exits");
    assert!(
        none_tagged_within(PATIENCE, &tag).await,
        "{:?}",
        tagged(&tag)
    );
}

#[tokio::test]
async fn the_guard_ends_a_process_that_left_its_group() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tag = new_tag(dir.path());
    let mut up = start(dir.path(), ESCAPES, &tag);
    up.wait_event("startup-complete");
    let escaped = read_pid(&dir.path().join("escaped.pid")).await;

    kill(up.pid(), Signal::SIGKILL).expect("kills");
    let _ = up.finish();
    assert!(
        none_tagged_within(PATIENCE, &tag).await,
        "left behind: {:?}",
        tagged(&tag)
    );
    assert!(!alive(escaped));
}

#[tokio::test]
async fn the_next_start_ends_a_process_that_left_its_group_when_the_guard_died_too() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tag = new_tag(dir.path());
    let mut up = start(dir.path(), ESCAPES, &tag);
    up.wait_event("startup-complete");
    let escaped = read_pid(&dir.path().join("escaped.pid")).await;
    let guard = guard_of(up.child.id()).expect("the guard runs");
    kill(Pid::from_raw(guard as i32), Signal::SIGKILL).expect("kills the guard");
    kill(up.pid(), Signal::SIGKILL).expect("kills the supervisor");
    let _ = up.finish();
    assert!(alive(escaped), "without the guard, it survived the crash");

    std::fs::remove_file(dir.path().join("escaped.pid")).expect("removes");
    let mut again = start(dir.path(), ESCAPES, &tag);
    again.wait_event("startup-complete");
    assert!(!alive(escaped), "ended before the new start");
    kill(again.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(again.finish(), Some(0));
    // Its sh, and the sleep that had left the group.
    let stderr = again.stderr();
    assert!(
        stderr.contains("note: stopped 2 processes of \"daemon\" left running by a previous run that ended abruptly\n"),
        "{stderr}"
    );
}

/// SIGKILL of `up` at every moment of its first milliseconds: what the guard does not
/// end, the next start does.
#[tokio::test]
async fn a_supervisor_killed_as_it_starts_leaves_nothing_behind_the_next_start() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tag = new_tag(dir.path());
    let mut after_guard = Vec::new();
    for trial in 0..30u64 {
        let mut up = start(dir.path(), PAIR, &tag);
        std::thread::sleep(Duration::from_micros(trial * 300));
        kill(up.pid(), Signal::SIGKILL).expect("kills");
        let _ = wait_timeout(&mut up.child, PATIENCE);
        tokio::time::sleep(Duration::from_millis(50)).await;
        after_guard.push(tagged(&tag).len());
    }
    let mut last = start(dir.path(), PAIR, &tag);
    last.wait_event("startup-complete");
    kill(last.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(last.finish(), Some(0));
    assert!(
        none_tagged_within(PATIENCE, &tag).await,
        "left behind after the next start: {:?} (after each kill and its guard: {after_guard:?})",
        tagged(&tag)
    );
}
