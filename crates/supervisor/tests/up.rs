//! `clara-supervisor up` as a user runs it: JSON lines, signals, exit codes, and no
//! orphans when the supervisor is killed.

#![cfg(unix)]

mod support;

use std::path::Path;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::up::{Up, guard_of, wait_timeout};
use support::{PATIENCE, alive, eventually, free_port, read_pid};

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

#[tokio::test]
async fn a_damaged_choices_file_is_kept_aside_and_said_so() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).expect("makes the state folder");
    std::fs::write(state.join("choices.json"), "{ not json").expect("writes");
    let mut up = Up::start(dir.path(), FAMILY);
    up.wait_event("startup-complete");
    kill(up.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(up.finish(), Some(0));

    let kept: Vec<_> = std::fs::read_dir(&state)
        .expect("readable")
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("choices.json.damaged-"))
        })
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        std::fs::read_to_string(&kept[0]).expect("readable"),
        "{ not json",
        "kept as it was"
    );
    let stderr = up.stderr();
    assert!(
        stderr.contains(&format!(
            "note: {} is damaged (key must be a string at line 1 column 3) (kept as {}); starting with the default choices\n",
            state.join("choices.json").display(),
            kept[0].display()
        )),
        "{stderr}"
    );
}

/// SIGTERM at moments spread over the start, from the clean-up of a crashed run that
/// recorded a thousand processes (long gone) to the first services: always a clean stop.
#[tokio::test]
async fn a_sigterm_at_any_moment_of_the_start_is_a_clean_stop() {
    // Pids above the largest pid_max: none can be running.
    let records: Vec<String> = (0..1000)
        .map(|i| {
            let pid = 4_194_305 + i;
            format!(r#"{{"service":"parent","pid":{pid},"processGroup":{pid},"startTime":{pid}}}"#)
        })
        .collect();
    for trial in 0..12u64 {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let state = dir.path().join("state");
        std::fs::create_dir_all(&state).expect("makes the state folder");
        std::fs::write(
            state.join("processes.json"),
            format!("[{}]", records.join(",")),
        )
        .expect("writes the records");
        let mut up = Up::start(dir.path(), FAMILY);
        // The state directory's mark is made just before the clean-up.
        assert!(eventually(PATIENCE, || state.join("mark").exists()).await);
        std::thread::sleep(Duration::from_micros(trial * 500));
        kill(up.pid(), Signal::SIGTERM).expect("signals");
        assert_eq!(up.finish(), Some(0), "trial {trial}: {}", up.stderr());
        let parent = std::fs::read_to_string(dir.path().join("parent.pid"))
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok());
        assert!(
            parent.is_none_or(|pid| !alive(pid)),
            "trial {trial}: the parent service is stopped"
        );
    }
}

/// A critical service without a health check that dies at once: before, it counted as
/// running the moment it started, and the start-up completed with nothing degraded.
#[test]
fn a_critical_service_that_dies_at_once_fails_the_start_up() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut up = Up::start(
        dir.path(),
        r#"
[services.db]
command = ["sh", "-c", "exit 3"]
critical = true
restart = "never"

[services.api]
command = ["sleep", "600"]
depends_on = ["db"]

[services.logger]
command = ["sleep", "600"]
depends_on = { db = "started" }
"#,
    );
    let failed = up.wait_for("the outcome", |value| {
        value["event"] == "startup-failed" || value["event"] == "startup-complete"
    });
    assert_eq!(failed["event"], "startup-failed", "{:#?}", up.seen);
    assert_eq!(
        failed["message"],
        "db could not start: exited with code 3 — see its logs"
    );
    assert_eq!(up.finish(), Some(1));
    let started = |name: &str| {
        up.seen.iter().any(|value| {
            value["event"] == "service-state-changed"
                && value["name"] == name
                && value["currentState"] == "starting"
        })
    };
    assert!(
        started("logger"),
        "a dependent that waits for a start starts"
    );
    assert!(
        !started("api"),
        "a dependent that waits for it to run does not"
    );
}

/// A system without certificate authorities (a minimal install, no ca-certificates): the
/// supervisor still starts and checks its services over HTTP; its HTTPS clients use the
/// list of authorities built into it.
#[test]
fn a_system_without_certificate_authorities_still_starts_and_checks_over_http() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let port = free_port();
    let definitions = format!(
        r#"
[services.web]
command = ["python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]
health = {{ http = "http://127.0.0.1:{port}/", interval = "1s", timeout = "1s" }}
"#
    );
    let nowhere = dir.path().join("no-certificates");
    let nowhere = nowhere.to_str().expect("a UTF-8 path");
    let mut up = Up::start_with(
        dir.path(),
        &definitions,
        &[("SSL_CERT_FILE", nowhere), ("SSL_CERT_DIR", nowhere)],
    );
    let complete = up.wait_event("startup-complete");
    assert_eq!(complete["degraded"], serde_json::json!([]));
    kill(up.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(up.finish(), Some(0), "{}", up.stderr());
}
