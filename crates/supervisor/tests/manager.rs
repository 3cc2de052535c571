//! The manager with real processes: order, probes, restarts, failures, stops, output.

#![cfg(unix)]

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use clara_supervisor::events::EventKind;
use clara_supervisor::lock::LockError;
use clara_supervisor::manager::{Manager, ManagerConfig, ManagerError};
use clara_supervisor::persist::{Choices, StateFiles};
use clara_supervisor::state::{Health, ServiceState};
use clara_supervisor::status::FailureCause;
use support::{Harness, PATIENCE, alive, eventually, free_port, read_pid};

#[tokio::test]
async fn starts_by_dependencies_in_parallel_and_stops_in_reverse() {
    let mut h = Harness::up(
        r#"
[services.a]
command = ["sh", "-c", "sleep 0.3; echo ready; exec sleep 600"]
health = { log = "^ready$" }

[services.b]
command = ["sh", "-c", "sleep 0.3; echo ready; exec sleep 600"]
health = { log = "^ready$" }

[services.c]
command = ["sleep", "600"]
depends_on = ["a", "b"]
"#,
    )
    .await;
    assert_eq!(
        h.wait_startup().await,
        EventKind::StartupComplete { degraded: vec![] }
    );
    // a and b start together, before either is ready; c waits for both.
    let a_starting = h.position("a", ServiceState::Starting);
    let b_starting = h.position("b", ServiceState::Starting);
    let first_ready = h
        .position("a", ServiceState::Running)
        .min(h.position("b", ServiceState::Running));
    let last_ready = h
        .position("a", ServiceState::Running)
        .max(h.position("b", ServiceState::Running));
    assert!(
        a_starting < first_ready && b_starting < first_ready,
        "{}",
        h.history()
    );
    assert!(h.position("c", ServiceState::Waiting) < first_ready);
    assert!(
        last_ready < h.position("c", ServiceState::Starting),
        "{}",
        h.history()
    );

    h.manager.stop_all().await.expect("stops");
    h.collect();
    let c_stopped = h.position("c", ServiceState::Stopped);
    assert!(
        c_stopped < h.position("a", ServiceState::Stopping),
        "{}",
        h.history()
    );
    assert!(
        c_stopped < h.position("b", ServiceState::Stopping),
        "{}",
        h.history()
    );
    h.shutdown().await;
}

#[tokio::test]
async fn http_tcp_and_exec_probes() {
    let (http_port, tcp_port) = (free_port(), free_port());
    let text = format!(
        r#"
[services.web]
command = ["python3", "-m", "http.server", "{http_port}", "--bind", "127.0.0.1"]
health = {{ http = "http://127.0.0.1:{http_port}/", body = "Directory listing", interval = "1s", timeout = "1s" }}

[services.socket]
command = ["python3", "-m", "http.server", "{tcp_port}", "--bind", "127.0.0.1"]
health = {{ tcp = "127.0.0.1:{tcp_port}", interval = "1s", timeout = "1s" }}

[services.flag]
command = ["sh", "-c", "sleep 0.2; touch ${{DIR}}/flag; exec sleep 600"]
health = {{ exec = ["test", "-f", "${{DIR}}/flag"], interval = "1s", timeout = "1s" }}
"#
    );
    let mut h = Harness::up(&text).await;
    assert_eq!(
        h.wait_startup().await,
        EventKind::StartupComplete { degraded: vec![] }
    );
    let statuses = h.manager.status().await.expect("status");
    for status in &statuses {
        assert_eq!(
            (status.state, status.health),
            (ServiceState::Running, Health::Healthy),
            "{status:?}"
        );
        assert!(status.pid.is_some());
    }
    h.shutdown().await;
}

#[tokio::test]
async fn a_failing_probe_explains_itself() {
    let port = free_port();
    let text = format!(
        r#"
[services.web]
command = ["python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1"]
health = {{ http = "http://127.0.0.1:{port}/missing", interval = "1s", timeout = "500ms", start_period = "1500ms" }}
restart = "never"
"#
    );
    let mut h = Harness::up(&text).await;
    let reason = h.wait_state("web", ServiceState::Error).await;
    assert_eq!(reason.as_deref(), Some("did not become ready within 1.5s"));
    let status = h.manager.status().await.expect("status").remove(0);
    let error = status.last_error.expect("an error");
    assert_eq!(
        error.detail.as_deref(),
        Some(format!("http://127.0.0.1:{port}/missing answered HTTP 404").as_str())
    );
    h.shutdown().await;
}

#[tokio::test]
async fn restarts_with_growing_backoff_then_gives_up_on_a_crash_loop() {
    let mut h = Harness::up(
        r#"
[services.crashy]
command = ["sh", "-c", "echo trying; exit 1"]
restart = { policy = "on-failure", max_restarts = 3, window = "1m", backoff = "50ms", max_backoff = "1s" }
"#,
    )
    .await;
    let reason = h
        .wait_state("crashy", ServiceState::Error)
        .await
        .expect("a reason");
    assert!(
        reason.starts_with("crash loop: 4 exits in ")
            && reason.ends_with(", last exit code 1 — see the logs; trying again in 1h"),
        "{reason}"
    );
    let delays: Vec<String> = h
        .seen
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::ServiceStateChanged {
                current_state: ServiceState::Restarting,
                reason,
                ..
            } => reason.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(delays.len(), 3, "{}", h.history());
    for (delay, range) in delays.iter().zip([(40, 60), (80, 120), (160, 240)]) {
        let ms: u64 = delay
            .strip_prefix("exited with code 1 — see its logs; restarting in ")
            .and_then(|rest| rest.strip_suffix("ms"))
            .and_then(|ms| ms.parse().ok())
            .unwrap_or_else(|| panic!("unexpected reason {delay:?}"));
        assert!(ms >= range.0 && ms <= range.1, "{ms}ms not in {range:?}");
    }
    let status = h.manager.status().await.expect("status").remove(0);
    assert_eq!(status.restarts, 3);
    assert_eq!(status.last_exit.map(|e| e.code), Some(Some(1)));
    let logs = h.manager.logs("crashy", 10).await.expect("logs");
    assert_eq!(logs.len(), 4, "one line per attempt");

    // A manual restart always works, even after giving up.
    h.manager.restart_service("crashy").await.expect("restarts");
    h.wait_state("crashy", ServiceState::Starting).await;
    h.shutdown().await;
}

#[tokio::test]
async fn an_unhealthy_service_is_restarted() {
    let mut h = Harness::up(
        r#"
[services.app]
command = ["sh", "-c", "touch ${DIR}/healthy; exec sleep 600"]
health = { exec = ["test", "-f", "${DIR}/healthy"], interval = "100ms", timeout = "1s", retries = 2 }
restart = { policy = "on-failure", backoff = "10ms" }
"#,
    )
    .await;
    h.wait_state("app", ServiceState::Running).await;
    std::fs::remove_file(h.path("healthy")).expect("the flag exists");
    let reason = h.wait_state("app", ServiceState::Unhealthy).await;
    assert_eq!(reason.as_deref(), Some("test exited with code 1"));
    h.wait_state("app", ServiceState::Stopping).await;
    let reason = h
        .wait_state("app", ServiceState::Restarting)
        .await
        .expect("a reason");
    assert!(
        reason.starts_with("stopped passing its health check; restarting in "),
        "{reason}"
    );
    h.wait_state("app", ServiceState::Running).await;
    let health: Vec<Health> = h
        .seen
        .iter()
        .filter_map(|event| match &event.kind {
            EventKind::HealthChanged { health, .. } => Some(*health),
            _ => None,
        })
        .collect();
    assert_eq!(
        health,
        [
            Health::Healthy,
            Health::Unhealthy,
            Health::Unknown,
            Health::Healthy
        ]
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_dependent_follows_a_restarted_dependency() {
    let mut h = Harness::up(
        r#"
[services.db]
command = ["sh", "-c", "echo $$$$ > ${DIR}/db.pid; exec sleep 600"]
restart = { policy = "always", backoff = "10ms" }

[services.api]
command = ["sleep", "600"]
depends_on = { db = { condition = "started", restart = true } }

[services.other]
command = ["sleep", "600"]
depends_on = { db = "started" }
"#,
    )
    .await;
    h.wait_startup().await;
    let db = read_pid(&h.path("db.pid")).await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(db as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kills");
    let reason = h
        .wait_state("db", ServiceState::Restarting)
        .await
        .expect("a reason");
    assert!(
        reason.starts_with("was killed by signal 9 (SIGKILL) — see its logs; restarting in"),
        "{reason}"
    );
    h.wait_state("db", ServiceState::Running).await;
    h.wait_state("api", ServiceState::Stopping).await;
    h.wait_state("api", ServiceState::Running).await;
    let db_back = h.seen.iter().rposition(|e| matches!(&e.kind,
        EventKind::ServiceStateChanged { name, current_state: ServiceState::Running, .. } if name == "db"));
    let api_stops = h.position("api", ServiceState::Stopping);
    assert!(
        db_back < Some(api_stops),
        "api restarts after db is back:\n{}",
        h.history()
    );
    assert!(
        !h.seen.iter().any(|e| matches!(&e.kind,
            EventKind::ServiceStateChanged { name, current_state: ServiceState::Stopping, .. } if name == "other")),
        "a dependent without restart = true keeps running:\n{}",
        h.history()
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_critical_failure_fails_the_start_up_and_stops_the_rest() {
    let mut h = Harness::up(
        r#"
[services.fine]
command = ["sleep", "600"]

[services.core]
critical = true
command = ["sh", "-c", "echo bad model path >&2; exit 1"]
health = { log = "^ready$" }
restart = "never"
depends_on = ["fine"]
"#,
    )
    .await;
    let outcome = h.wait_startup().await;
    assert_eq!(
        outcome,
        EventKind::StartupFailed {
            service: "core".into(),
            message: "core could not start: exited with code 1 — see its logs".into(),
            cause: FailureCause::Exited,
        }
    );
    h.wait_state("fine", ServiceState::Stopped).await;
    h.shutdown().await;
}

#[tokio::test]
async fn a_program_missing_from_this_machine_degrades_even_a_critical_service() {
    let mut h = Harness::up(
        r#"
[services.fine]
command = ["sleep", "600"]

[services.core]
critical = true
command = ["/nonexistent/llama-swap"]
"#,
    )
    .await;
    assert_eq!(
        h.wait_startup().await,
        EventKind::StartupComplete {
            degraded: vec!["core".into()]
        }
    );
    let statuses = h.manager.status().await.expect("status");
    let core = statuses.iter().find(|s| s.name == "core").expect("core");
    assert_eq!(
        core.last_error.as_ref().map(|e| e.message.as_str()),
        Some("cannot start: the program /nonexistent/llama-swap was not found")
    );
    assert_eq!(
        core.last_error.as_ref().map(|e| e.cause),
        Some(FailureCause::Missing)
    );
    assert_eq!(
        statuses.iter().find(|s| s.name == "fine").map(|s| s.state),
        Some(ServiceState::Running)
    );
    h.shutdown().await;
}

#[tokio::test]
async fn a_non_critical_failure_degrades_gracefully() {
    let mut h = Harness::up(
        r#"
[services.broken]
command = ["sh", "-c", "sleep 0.1; exit 2"]
health = { log = "^ready$" }
restart = "never"

[services.needs-broken]
command = ["sleep", "600"]
depends_on = ["broken"]

[services.independent]
command = ["sleep", "600"]
"#,
    )
    .await;
    assert_eq!(
        h.wait_startup().await,
        EventKind::StartupComplete {
            degraded: vec!["broken".into(), "needs-broken".into()]
        }
    );
    let statuses = h.manager.status().await.expect("status");
    let find = |name: &str| {
        statuses
            .iter()
            .find(|s| s.name == name)
            .expect("known service")
            .clone()
    };
    assert_eq!(
        find("broken").reason.as_deref(),
        Some("exited with code 2 — see its logs")
    );
    assert_eq!(
        find("needs-broken").reason.as_deref(),
        Some("dependency broken failed")
    );
    assert_eq!(find("independent").state, ServiceState::Running);
    // A dependent waits (naming what it waits for) while its dependency is still trying.
    assert!(
        h.history()
            .contains("needs-broken: stopped -> waiting (waiting for broken to be ready)")
    );
    h.shutdown().await;
}

#[tokio::test]
async fn stopping_a_service_stops_its_dependents_first_and_they_come_back_with_it() {
    let mut h = Harness::up(
        r#"
[services.db]
command = ["sleep", "600"]

[services.api]
command = ["sleep", "600"]
depends_on = { db = "started" }
"#,
    )
    .await;
    h.wait_startup().await;
    let stopping = h.manager.stop_service("db").await.expect("stops");
    assert_eq!(stopping, ["api", "db"]);
    assert_eq!(
        h.wait_state("db", ServiceState::Stopped).await.as_deref(),
        Some("stopped by the user")
    );
    assert!(h.position("api", ServiceState::Stopped) < h.position("db", ServiceState::Stopping));
    let reason = h.seen.iter().find_map(|e| match &e.kind {
        EventKind::ServiceStateChanged {
            name,
            current_state: ServiceState::Stopped,
            reason,
            ..
        } if name == "api" => reason.clone(),
        _ => None,
    });
    assert_eq!(reason.as_deref(), Some("stopped because db was stopped"));
    h.manager.start_service("db").await.expect("starts");
    h.wait_state("db", ServiceState::Running).await;
    h.wait_state("api", ServiceState::Running).await;
    h.shutdown().await;
}

#[tokio::test]
async fn the_defaults_are_not_saved_as_a_choice_until_one_is_made() {
    let text = r#"
[features.extra]
label = "Extra"
default = true

[services.bonus]
command = ["sleep", "600"]
feature = "extra"
"#;
    let mut h = Harness::new(text).await;
    let choices = h.path("state/choices.json");
    let saved = |path: &std::path::Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default()).unwrap_or_default()
    };
    // A first start: the defaults apply, but nobody chose them yet.
    assert!(saved(&choices)["features"].is_null(), "{}", saved(&choices));
    h.manager
        .set_features(BTreeSet::from(["extra".to_string()]))
        .await
        .expect("valid features");
    assert_eq!(saved(&choices)["features"], serde_json::json!(["extra"]));
    h.shutdown().await;
}

#[tokio::test]
async fn the_users_choices_survive_a_restart_of_the_supervisor() {
    let text = r#"
[features.extra]
label = "Extra"
default = false

[services.base]
command = ["sleep", "600"]

[services.manual]
command = ["sleep", "600"]

[services.bonus]
command = ["sleep", "600"]
feature = "extra"
"#;
    let mut h = Harness::up(text).await;
    h.wait_startup().await;
    h.manager.stop_service("manual").await.expect("stops");
    h.manager
        .set_features(BTreeSet::from(["extra".to_string()]))
        .await
        .expect("valid features");
    h.wait_state("bonus", ServiceState::Running).await;
    h.shutdown().await;

    let mut again = Harness::in_dir(text, h.dir, None).await;
    again.manager.start_all().await.expect("starts");
    again.wait_startup().await;
    let statuses = again.manager.status().await.expect("status");
    let state = |name: &str| {
        statuses
            .iter()
            .find(|s| s.name == name)
            .map(|s| (s.state, s.reason.clone()))
    };
    assert_eq!(state("base"), Some((ServiceState::Running, None)));
    assert_eq!(
        state("bonus"),
        Some((ServiceState::Running, None)),
        "the feature stayed on"
    );
    assert_eq!(
        state("manual").map(|s| s.0),
        Some(ServiceState::Stopped),
        "stopped by hand stays stopped"
    );

    // Turning the feature off stops its service and disables it.
    again
        .manager
        .set_features(BTreeSet::new())
        .await
        .expect("valid features");
    again.wait_state("bonus", ServiceState::Disabled).await;
    again.shutdown().await;
}

#[tokio::test]
async fn one_manager_per_state_directory_until_the_first_has_shut_down() {
    let text = r#"
[services.a]
command = ["sh", "-c", "echo $$$$ > ${DIR}/a.pid; exec sleep 600"]
"#;
    let mut h = Harness::up(text).await;
    h.wait_startup().await;
    let pid = read_pid(&h.path("a.pid")).await;
    let state = h.path("state");
    let records = state.join("processes.json");
    let recorded = eventually(PATIENCE, || {
        std::fs::read_to_string(&records).is_ok_and(|text| text.contains("\"a\""))
    })
    .await;
    assert!(recorded, "the service is recorded");
    let before = std::fs::read(&records).expect("readable");

    // A second manager on the same directory: refused before it reads, cleans up or
    // starts anything. Its guard program would be this test binary, were it started.
    let mut second = ManagerConfig::new(&state);
    second.holder = "ClaraVerse".to_string();
    let refused = Manager::start(support::definitions(text, h.dir.path()), None, second)
        .expect_err("the directory is taken");
    assert_eq!(
        refused,
        ManagerError::Lock(LockError::Held {
            holder: "clara-supervisor".to_string(),
            pid: Some(std::process::id()),
            dir: state.clone(),
        })
    );
    assert_eq!(
        refused.to_string(),
        format!(
            "clara-supervisor is already running (pid {}); quit it first, or give this one another state directory than {}",
            std::process::id(),
            state.display()
        )
    );
    assert!(alive(pid), "the first manager's service still runs");
    assert_eq!(std::fs::read(&records).expect("readable"), before);
    let statuses = h.manager.status().await.expect("the first still answers");
    assert_eq!(statuses[0].state, ServiceState::Running);

    // Once the first has shut down, the directory is free at once.
    h.shutdown().await;
    assert!(!alive(pid));
    let (manager, _) = Manager::start(
        support::definitions(text, h.dir.path()),
        None,
        support::config(&state),
    )
    .expect("starts after the first shut down");
    tokio::time::timeout(PATIENCE, manager.shutdown())
        .await
        .expect("shuts down in time")
        .expect("shuts down");
}

#[tokio::test]
async fn a_port_held_by_another_program_is_reported_not_cleared() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let port = holder.local_addr().expect("address").port();
    let mut h = Harness::up(&format!(
        "[services.llama]\ncommand = [\"sleep\", \"600\"]\nports = [\"127.0.0.1:{port}\"]\n"
    ))
    .await;
    let reason = h
        .wait_state("llama", ServiceState::Error)
        .await
        .expect("a reason");
    let expected = format!(
        "cannot start: port {port} is in use by pid {} (",
        std::process::id()
    );
    assert!(reason.starts_with(&expected), "{reason}");
    assert!(
        reason.ends_with(
            "); close that program or give this service another port; trying again in 1h"
        ),
        "{reason}"
    );
    assert!(holder.local_addr().is_ok(), "our listener is untouched");
    h.shutdown().await;
}

#[tokio::test]
async fn fifty_megabytes_of_output_never_block_the_service() {
    let mut h = Harness::up(
        r#"
[services.chatty]
command = ["python3", "-c", "import sys\nline = 'x' * 99 + '\\n'\nfor _ in range(524288): sys.stdout.write(line)\nprint('done', file=sys.stderr)"]
restart = "never"
"#,
    )
    .await;
    let reason = h.wait_state("chatty", ServiceState::Stopped).await;
    assert_eq!(reason.as_deref(), Some("completed (exited with code 0)"));
    let logs = h.manager.logs("chatty", 1000).await.expect("logs");
    assert_eq!(logs.len(), 1000, "the ring buffer is bounded");
    assert!(logs.iter().any(|line| line.text == "done"));
    assert!(
        logs.iter()
            .filter(|line| line.text != "done")
            .all(|line| line.text.len() == 99)
    );
    let log_dir = h.path("state/logs");
    let on_disk: u64 = std::fs::read_dir(&log_dir)
        .expect("a log folder")
        .filter_map(|entry| entry.ok()?.metadata().ok())
        .map(|metadata| metadata.len())
        .sum();
    assert!(
        on_disk > 30 * 1024 * 1024 && on_disk <= 40 * 1024 * 1024 + 1024,
        "{on_disk} bytes kept"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn stopping_kills_the_whole_group_after_the_timeout() {
    let mut h = Harness::up(
        r#"
[services.stubborn]
command = ["sh", "-c", "trap '' TERM; sleep 600 & echo $! > ${DIR}/child.pid; while true; do sleep 1; done"]
stop_timeout = "300ms"
"#,
    )
    .await;
    h.wait_startup().await;
    let child = read_pid(&h.path("child.pid")).await;
    assert!(alive(child));
    h.manager.stop_all().await.expect("stops");
    assert!(
        !alive(child),
        "the child of the stubborn service is gone too"
    );
    let status = h.manager.status().await.expect("status").remove(0);
    assert_eq!(
        status.last_exit.and_then(|e| e.signal),
        Some(9),
        "killed after the timeout"
    );
    assert!(eventually(PATIENCE, || !alive(child)).await);
    h.shutdown().await;
}

#[tokio::test]
async fn a_suspended_service_stops_on_its_signal_without_waiting_for_the_timeout() {
    let mut h = Harness::up(
        r#"
[services.paused]
command = ["sh", "-c", "trap 'exit 0' TERM; echo $$$$ > ${DIR}/paused.pid; while true; do sleep 1; done"]
stop_timeout = "1h"
"#,
    )
    .await;
    h.wait_startup().await;
    let group = read_pid(&h.path("paused.pid")).await;
    // A stopped process that handles its stop signal keeps it pending until continued.
    nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(group as i32),
        nix::sys::signal::Signal::SIGSTOP,
    )
    .expect("suspends it");
    // Without a SIGCONT after the SIGTERM, this would wait for the hour.
    tokio::time::timeout(PATIENCE, h.manager.stop_all())
        .await
        .expect("stops long before its stop timeout")
        .expect("stops");
    let status = h.manager.status().await.expect("status").remove(0);
    assert_eq!(
        status.last_exit.and_then(|e| e.code),
        Some(0),
        "ended by its own handler of the stop signal, not killed"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn an_external_service_is_only_probed() {
    let port = free_port();
    let server = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 runs");
    let mut server = scopeguard(server);
    let mut h = Harness::up(&format!(
        "[services.remote]\nurl = \"http://127.0.0.1:{port}/\"\n"
    ))
    .await;
    h.wait_state("remote", ServiceState::Running).await;
    h.shutdown().await;
    assert!(
        server.0.try_wait().expect("waitable").is_none(),
        "the external server is not ours to stop"
    );
}

/// Kills a helper process when the test ends, pass or fail.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scopeguard(child: std::process::Child) -> KillOnDrop {
    KillOnDrop(child)
}

#[tokio::test]
async fn stale_facts_never_double_start_a_service() {
    let mut h = Harness::up("[services.s]\ncommand = [\"sleep\", \"600\"]\n").await;
    h.wait_state("s", ServiceState::Running).await;
    for _ in 0..5 {
        h.manager.restart_service("s").await.expect("restarts");
    }
    h.wait_state("s", ServiceState::Running).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let running = h.manager.status().await.expect("status").remove(0);
    assert_eq!(running.state, ServiceState::Running);
    let pid = running.pid.expect("a pid");
    let output = std::process::Command::new("pgrep")
        .args(["-f", "^sleep 600$"])
        .output()
        .expect("pgrep runs");
    let ours: Vec<u32> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.trim().parse().ok())
        .filter(|&p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .is_ok_and(|s| s.contains(&format!(" {pid} ")))
                || p == pid
        })
        .collect();
    assert_eq!(ours, [pid], "exactly one instance runs");
    h.shutdown().await;
}

#[tokio::test]
async fn a_service_that_completed_is_not_run_again() {
    let mut h = Harness::up(
        r#"
[services.once]
command = ["sh", "-c", "echo ran >> ${DIR}/runs"]
restart = "never"

[services.after]
command = ["sleep", "600"]
depends_on = { once = "completed" }
"#,
    )
    .await;
    assert_eq!(
        h.wait_startup().await,
        EventKind::StartupComplete { degraded: vec![] }
    );
    h.shutdown().await;
    let runs = std::fs::read_to_string(h.path("runs")).expect("it ran");
    assert_eq!(runs, "ran\n", "a one-shot service runs once");
}

/// A service saved as the user's own server runs as an external one at the user's URL,
/// checked at its `own_server` path; ours is never started, and its dependents start.
#[tokio::test]
async fn a_saved_own_server_is_used_instead_of_ours() {
    let (ours, theirs) = (free_port(), free_port());
    let dir = tempfile::tempdir().expect("a temporary folder");
    let _server = users_server(dir.path(), theirs);
    let mut choices = Choices::default();
    choices
        .setup
        .servers
        .insert("backend".into(), format!("http://127.0.0.1:{theirs}/"));
    StateFiles::new(dir.path().join("state"))
        .write_choices(&choices)
        .expect("writes");
    let text = format!(
        r#"
[services.backend]
command = ["sh", "-c", "touch ${{DIR}}/ours-ran; exec sleep 600"]
critical = true
own_server = "/health"
ports = ["127.0.0.1:{ours}"]
health = {{ http = "http://127.0.0.1:{ours}/health", interval = "1s", timeout = "1s" }}

[services.app]
command = ["sleep", "600"]
depends_on = ["backend"]
"#
    );
    let mut h = Harness::in_dir(&text, dir, None).await;
    h.manager.start_all().await.expect("starts");
    let ended = h.wait_startup().await;
    let backend = h.status_of("backend").await;
    let app = h.status_of("app").await;
    let ours_ran = h.path("ours-ran").exists();
    h.shutdown().await;
    assert_eq!(ended, EventKind::StartupComplete { degraded: vec![] });
    assert_eq!(backend.state, ServiceState::Running, "{backend:?}");
    assert_eq!(backend.pid, None, "the user's server is not ours to run");
    assert_eq!(app.state, ServiceState::Running, "{app:?}");
    assert!(
        !ours_ran,
        "our backend started although the user runs his own"
    );
}

/// The user's own server: an HTTP server on 127.0.0.1:`port` whose `/health` answers,
/// serving `dir/www` (which it makes). Ended however the test ends.
fn users_server(dir: &std::path::Path, port: u16) -> KilledOnDrop {
    let served = dir.join("www");
    std::fs::create_dir_all(&served).expect("makes");
    std::fs::write(served.join("health"), "ok").expect("writes");
    KilledOnDrop(
        std::process::Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .current_dir(&served)
            .spawn()
            .expect("the user's server starts"),
    )
}

/// A process of the test's own, ended however the test ends.
struct KilledOnDrop(std::process::Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Switched live: ours stops and the service becomes the user's server (its dependent,
/// with `restart = true`, follows and runs on); switched back, ours runs again. A URL that
/// cannot be used is refused with a sentence, and nothing changes.
#[tokio::test]
async fn a_service_switches_to_the_users_server_and_back_while_running() {
    let (ours, theirs) = (free_port(), free_port());
    let dir = tempfile::tempdir().expect("a temporary folder");
    let _server = users_server(dir.path(), theirs);
    let text = format!(
        r#"
[services.backend]
command = ["python3", "-m", "http.server", "{ours}", "--bind", "127.0.0.1", "--directory", "${{DIR}}/www"]
own_server = "/health"
health = {{ http = "http://127.0.0.1:{ours}/health", interval = "1s", timeout = "1s" }}

[services.app]
command = ["sleep", "600"]
depends_on = {{ backend = {{ condition = "healthy", restart = true }} }}
"#
    );
    let mut h = Harness::in_dir(&text, dir, None).await;
    h.manager.start_all().await.expect("starts");
    assert_eq!(
        h.wait_startup().await,
        EventKind::StartupComplete { degraded: vec![] }
    );
    let our_pid = h.status_of("backend").await.pid.expect("ours runs");

    assert_eq!(
        h.manager
            .use_own_server("backend", Some("ftp://box".into()))
            .await,
        Err(ManagerError::OwnServer(
            "your own server for \"backend\" (ftp://box) is not an http(s) address, so ClaraVerse runs it"
                .into()
        ))
    );
    assert_eq!(
        h.manager
            .use_own_server("app", Some("http://box".into()))
            .await,
        Err(ManagerError::OwnServer(
            "\"app\" cannot use your own server, so ClaraVerse runs it".into()
        ))
    );

    let url = format!("http://127.0.0.1:{theirs}");
    h.manager
        .use_own_server("backend", Some(url.clone()))
        .await
        .expect("switches");
    h.wait_for("the user's server in use", |event| {
        matches!(&event.kind, EventKind::ServiceStateChanged { name, current_state: ServiceState::Running, .. } if name == "backend")
    })
    .await;
    assert!(
        eventually(PATIENCE, || !alive(our_pid)).await,
        "ours still runs"
    );
    let backend = h.status_of("backend").await;
    assert_eq!(backend.pid, None);
    assert_eq!(backend.detail, Some(format!("your server at {url}")));
    h.wait_state("app", ServiceState::Running).await;
    let saved = StateFiles::new(h.path("state"))
        .read_choices()
        .expect("saved");
    assert_eq!(saved.setup.servers.get("backend"), Some(&url));

    h.manager
        .use_own_server("backend", None)
        .await
        .expect("switches back");
    h.wait_for("ours again", |event| {
        matches!(&event.kind, EventKind::ServiceStateChanged { name, current_state: ServiceState::Running, .. } if name == "backend")
    })
    .await;
    let backend = h.status_of("backend").await;
    assert!(backend.pid.is_some(), "{backend:?}");
    assert_eq!(backend.detail, None);
    h.wait_state("app", ServiceState::Running).await;
    let saved = StateFiles::new(h.path("state"))
        .read_choices()
        .expect("saved");
    assert!(saved.setup.servers.is_empty());
    h.shutdown().await;
}

/// A restored backup applies at once: its features, the services stopped by hand, the
/// user's own servers; its folders are saved for the next launch.
#[tokio::test]
async fn restored_choices_apply_at_once() {
    let (ours, theirs) = (free_port(), free_port());
    let dir = tempfile::tempdir().expect("a temporary folder");
    let _server = users_server(dir.path(), theirs);
    let text = format!(
        r#"
[features.extra]
label = "Extra"

[services.core]
command = ["sleep", "600"]

[services.tool]
feature = "extra"
command = ["sleep", "600"]

[services.backend]
command = ["python3", "-m", "http.server", "{ours}", "--bind", "127.0.0.1", "--directory", "${{DIR}}/www"]
own_server = "/health"
health = {{ http = "http://127.0.0.1:{ours}/health", interval = "1s", timeout = "1s" }}
"#
    );
    let mut h = Harness::in_dir(&text, dir, None).await;
    h.manager.start_all().await.expect("starts");
    assert_eq!(
        h.wait_startup().await,
        EventKind::StartupComplete { degraded: vec![] }
    );
    let url = format!("http://127.0.0.1:{theirs}");
    let mut restored = Choices {
        features: Some(BTreeSet::from(["extra".to_string(), "gone".to_string()])),
        stopped: BTreeSet::from(["core".to_string()]),
        ..Choices::default()
    };
    restored.setup.servers.insert("backend".into(), url.clone());
    restored
        .setup
        .folders
        .insert("CLARA_N8N_DATA".into(), "/home/u/.clara/n8n".into());
    let folders_changed = h
        .manager
        .restore_choices(restored.clone())
        .await
        .expect("restores");
    assert!(folders_changed);
    h.wait_state("tool", ServiceState::Running).await;
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let statuses = h.manager.status().await.expect("the statuses");
        let is = |name: &str, state: ServiceState| {
            statuses.iter().any(|s| s.name == name && s.state == state)
        };
        let backend_is_theirs = statuses
            .iter()
            .any(|s| s.name == "backend" && s.own_server.as_deref() == Some(url.as_str()));
        if backend_is_theirs
            && is("backend", ServiceState::Running)
            && is("core", ServiceState::Stopped)
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", h.history());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let saved = StateFiles::new(h.path("state"))
        .read_choices()
        .expect("saved");
    restored.features = Some(BTreeSet::from(["extra".to_string()]));
    assert_eq!(
        saved, restored,
        "the feature that no longer exists is left out"
    );
    h.shutdown().await;
}
