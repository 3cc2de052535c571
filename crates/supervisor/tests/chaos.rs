//! A chaos soak: for a minute (`CLARA_CHAOS_SECONDS`), random KILL, TERM and STOP+CONT
//! signals hit services and their children while `clara-supervisor up` restarts them.
//! Then what the event stream says is compared with /proc: one live instance for each
//! service it calls running, none for the others; and after SIGTERM nothing is left.

#![cfg(target_os = "linux")]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use clara_supervisor::runtime::mark;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use support::up::Up;
use support::{PATIENCE, eventually, tagged};

/// Four services, each a shell with two children, restarted at once whatever happens.
fn definitions(tag: &str) -> String {
    (1..=4)
        .map(|i| {
            format!(
                r#"
[services.s{i}]
command = ["sh", "-c", "sleep 1000 & sleep 1000 & wait"]
env = {{ CLARA_TEST_TAG = "{tag}" }}
restart = {{ policy = "always", backoff = "10ms", max_backoff = "100ms", max_restarts = 1000000, window = "1s" }}
min_uptime = "0s"
"#
            )
        })
        .collect()
}

/// The instances alive per service: the distinct instance marks of the tagged processes.
fn live_instances(tag: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut instances: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for instance in tagged(tag).into_iter().filter_map(|(_, mark)| mark) {
        if let Some(service) = mark::service_of(&instance) {
            instances
                .entry(service.to_string())
                .or_default()
                .insert(instance);
        }
    }
    instances
}

#[tokio::test]
async fn random_signals_leave_one_instance_per_running_service_and_nothing_after_a_stop() {
    let seconds: u64 = std::env::var("CLARA_CHAOS_SECONDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tag = format!("clara-chaos-{}", dir.path().display());
    let mut up = Up::start(dir.path(), &definitions(&tag));
    up.wait_event("startup-complete");

    let signals = [Signal::SIGKILL, Signal::SIGTERM, Signal::SIGSTOP];
    let mut injected: BTreeMap<&str, usize> = BTreeMap::new();
    let until = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < until {
        let victims = tagged(&tag);
        if let Some(&(pid, _)) = victims.get(fastrand::usize(..victims.len().max(1))) {
            let signal = signals[fastrand::usize(..signals.len())];
            let target = Pid::from_raw(pid as i32);
            if kill(target, signal).is_ok() {
                *injected.entry(signal.as_str()).or_default() += 1;
            }
            if signal == Signal::SIGSTOP {
                std::thread::sleep(Duration::from_millis(fastrand::u64(5..50)));
                let _ = kill(target, Signal::SIGCONT);
            }
        }
        up.read_until_quiet(Duration::from_millis(fastrand::u64(20..200)));
    }

    // Let the restarts settle: no event for a second and a half (backoff is at most 100ms).
    up.read_until_quiet(Duration::from_millis(1500));
    let mut said: BTreeMap<String, String> = BTreeMap::new();
    for event in &up.seen {
        if event["event"] == "service-state-changed"
            && let (Some(name), Some(state)) =
                (event["name"].as_str(), event["currentState"].as_str())
        {
            said.insert(name.to_string(), state.to_string());
        }
    }
    let live = live_instances(&tag);
    let restarts = up
        .seen
        .iter()
        .filter(|event| event["currentState"] == "restarting")
        .count();
    eprintln!("chaos: {seconds} s, injected {injected:?}, {restarts} restarts");
    for service in ["s1", "s2", "s3", "s4"] {
        let state = said.get(service).map(String::as_str).unwrap_or("none");
        let instances = live.get(service).map_or(0, BTreeSet::len);
        match state {
            "running" | "starting" => assert_eq!(
                instances, 1,
                "{service} is {state}: exactly one instance alive ({live:?})"
            ),
            _ => assert_eq!(
                instances, 0,
                "{service} is {state}: nothing alive ({live:?})"
            ),
        }
    }

    kill(up.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(up.finish(), Some(0));
    assert!(
        eventually(PATIENCE, || tagged(&tag).is_empty()).await,
        "left after the stop: {:?}",
        tagged(&tag)
    );
}
