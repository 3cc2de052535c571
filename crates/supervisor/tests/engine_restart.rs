//! The Docker engine stopped under running containers, then started again: the engine
//! service and its containers say so, nothing is counted as a crash, and once the engine
//! answers everything is back within 5 s, the same containers adopted, not recreated.
//!
//! This stops the machine's Docker engine (through `scripts/docker-engine`), so it is in a
//! test binary of its own and runs only when asked: `cargo test -p clara-supervisor --test
//! engine_restart -- --ignored`. `scripts/test` does, after the other tests.

#![cfg(unix)]

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use clara_supervisor::events::{Event, EventKind};
use clara_supervisor::state::ServiceState;
use support::{Harness, PATIENCE, docker, free_port};

/// The promise once the engine answers again. By design the worst case is the engine's
/// recheck (3 s), a container's start, and a second up for one without a health check.
const BACK_WITHIN: Duration = Duration::from_secs(5);

fn engine(action: &str) -> std::process::Child {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/docker-engine");
    Command::new(script)
        .arg(action)
        .spawn()
        .expect("scripts/docker-engine runs")
}

fn engine_answers() -> bool {
    Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|output| output.status.success())
}

fn container_id(service: &str) -> String {
    docker(&[
        "inspect",
        "--format",
        "{{.Id}}",
        &format!("clara_{service}"),
    ])
}

/// Starts the engine again if the test ends without it, so a failure here leaves the
/// machine as it found it.
struct EngineBack;

impl Drop for EngineBack {
    fn drop(&mut self) {
        if !engine_answers() {
            let _ = engine("start").wait();
        }
    }
}

/// Waits until each of `names` has entered `state` since this call, in any order; returns
/// the reason each gave.
async fn wait_states(h: &mut Harness, names: &[&str], state: ServiceState) -> Vec<Option<String>> {
    let mark = h.seen.len();
    let first_reasons = |seen: &[Event]| -> Vec<Option<Option<String>>> {
        names
            .iter()
            .map(|name| {
                seen.iter().find_map(|event| match &event.kind {
                    EventKind::ServiceStateChanged {
                        name: n,
                        current_state,
                        reason,
                        ..
                    } if n == name && *current_state == state => Some(reason.clone()),
                    _ => None,
                })
            })
            .collect()
    };
    let all = tokio::time::timeout(PATIENCE, async {
        loop {
            let reasons = first_reasons(&h.seen[mark..]);
            if reasons.iter().all(Option::is_some) {
                return reasons.into_iter().flatten().collect();
            }
            h.wait_for(&format!("{names:?} to become {state}"), |event| {
                matches!(&event.kind, EventKind::ServiceStateChanged { name, current_state, .. }
                    if names.contains(&name.as_str()) && *current_state == state)
            })
            .await;
        }
    })
    .await;
    all.unwrap_or_else(|_| {
        panic!(
            "timed out waiting for {names:?} to become {state}; events so far:\n{}",
            h.history()
        )
    })
}

#[tokio::test]
#[ignore = "stops this machine's Docker engine: run with --ignored (scripts/test does)"]
async fn the_engine_stopped_and_started_again_under_running_containers() {
    if std::env::var("CLARA_DOCKER_TESTS").is_ok_and(|value| value == "skip") {
        eprintln!(
            "\n*** SKIPPED: no Docker engine on this machine (CLARA_DOCKER_TESTS=skip) ***\n"
        );
        return;
    }
    assert!(
        engine_answers(),
        "the Docker engine must run before this test"
    );
    for name in ["probed", "plain"] {
        docker(&["rm", "-f", &format!("clara_{name}")]);
    }
    let port = free_port();
    let text = format!(
        r#"
[services.docker]
engine = "docker"

[services.probed]
image = "clara-test/busybox:1"
command = ["httpd", "-f", "-p", "80", "-h", "/www"]
ports = ["{port}:80"]
health = {{ http = "http://127.0.0.1:{port}/", interval = "1s", timeout = "1s" }}
restart = {{ policy = "on-failure", max_restarts = 1, window = "10m" }}

[services.plain]
image = "clara-test/busybox:1"
command = ["httpd", "-f", "-p", "80", "-h", "/www"]

[services.native]
command = ["sleep", "600"]
"#
    );
    let mut h = Harness::up(&text).await;
    h.wait_startup().await;
    let before = [container_id("probed"), container_id("plain")];
    let native_pid = h.status_of("native").await.pid.expect("native runs");

    let _restarts_docker_whatever_happens = EngineBack;
    let status = engine("stop").wait().expect("the engine stops");
    assert!(status.success(), "scripts/docker-engine stop failed");
    let reasons = wait_states(&mut h, &["probed", "plain", "docker"], ServiceState::Error).await;
    for reason in &reasons[..2] {
        assert_eq!(
            reason.as_deref(),
            Some("Docker stopped, and its container with it; trying again in 3.0s"),
            "{}",
            h.history()
        );
    }
    assert!(
        reasons[2]
            .as_deref()
            .is_some_and(|r| r.starts_with("Docker is not running.")),
        "{}",
        h.history()
    );
    // Once the engine service knows, the containers wait for it, saying so.
    let reasons = wait_states(&mut h, &["probed", "plain"], ServiceState::Waiting).await;
    for reason in reasons {
        assert!(
            reason
                .as_deref()
                .is_some_and(|r| r.starts_with("waiting for Docker: Docker is not running.")),
            "{reason:?}\n{}",
            h.history()
        );
    }

    let mut starting = engine("start");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !engine_answers() {
        assert!(Instant::now() < deadline, "the Docker engine did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let answered = Instant::now();
    wait_states(
        &mut h,
        &["docker", "probed", "plain"],
        ServiceState::Running,
    )
    .await;
    let back = answered.elapsed();
    assert!(starting.wait().expect("the start script ends").success());
    eprintln!(
        "measured: every service back {} ms after the engine answered",
        back.as_millis()
    );
    assert!(
        back < BACK_WITHIN,
        "back after {back:?}, not within {BACK_WITHIN:?}:\n{}",
        h.history()
    );

    assert_eq!(
        [container_id("probed"), container_id("plain")],
        before,
        "the containers were recreated, not adopted"
    );
    let statuses = h.manager.status().await.expect("status");
    for status in &statuses {
        assert_eq!(status.restarts, 0, "{} counted a restart", status.name);
    }
    let native = statuses
        .iter()
        .find(|s| s.name == "native")
        .expect("native");
    assert_eq!(
        (native.state, native.pid),
        (ServiceState::Running, Some(native_pid)),
        "the native service was disturbed"
    );
    tokio::time::timeout(PATIENCE, h.shutdown())
        .await
        .expect("stops in time");
    for name in ["probed", "plain"] {
        docker(&["rm", "-f", &format!("clara_{name}")]);
    }
}
