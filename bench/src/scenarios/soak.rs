//! Scenario 7: a chaos soak. For minutes, random KILL, TERM and STOP+CONT signals hit four
//! services and their children while `clara-supervisor up` restarts them. Every few
//! seconds the signals pause, the restarts settle, and what the event stream says is
//! compared with /proc: one live instance for each service it calls running, none for the
//! others. After SIGTERM, nothing may be left.
//!
//! Ours only: the comparison needs a system's own account of each service, and the peers
//! offer none in a common form (their "left behind" figures are in clean-stop).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use clara_supervisor::runtime::mark;
use nix::sys::signal::Signal;

use super::Bench;
use crate::observe::{self, MARK_VARIABLE};
use crate::results::{OURS, Row};
use crate::systems::{EVENTS_FILE, Running, read_events, start_definitions};

const SCENARIO: &str = "soak";
/// How long signals are sent between two comparisons.
const CHECK_EVERY: Duration = Duration::from_secs(15);
/// No event for this long means the restarts have settled (backoff is at most 100 ms).
const QUIET: Duration = Duration::from_millis(1500);
const SERVICES: [&str; 4] = ["s1", "s2", "s3", "s4"];

/// What one soak counted.
#[derive(Debug, Default)]
struct Counts {
    injected: BTreeMap<&'static str, usize>,
    comparisons: usize,
    mismatches: usize,
    restarts: usize,
    left: usize,
}

/// Runs the scenario for `bench.size.soak`.
pub fn soak(bench: &Bench) -> Result<Vec<Row>, String> {
    let run = bench.run(SCENARIO)?;
    let fail = |error: String| format!("{SCENARIO}: {error}");
    let file = run.dir.join("services.toml");
    std::fs::write(&file, definitions(&run.mark))
        .map_err(|error| fail(format!("cannot write {}: {error}", file.display())))?;
    let mut running = start_definitions(&bench.installed.clara, &run.dir, &file).map_err(fail)?;
    running
        .reported_ready(Duration::from_secs(60))
        .map_err(fail)?;
    let counts = inject(bench.size.soak, &run, running.as_mut()).map_err(fail)?;
    let injected: usize = counts.injected.values().sum();
    let detail = counts
        .injected
        .iter()
        .map(|(signal, count)| format!("{count} {signal}"))
        .collect::<Vec<_>>()
        .join(", ");
    let note = format!(
        "{} s of random signals every 20–200 ms on 4 services (a shell and 2 children each, \
         restart always); {detail}; the event stream compared with /proc {} times",
        bench.size.soak.as_secs(),
        counts.comparisons
    );
    let row = |measure: &'static str, unit: &'static str, value: usize| {
        Row::measured(
            SCENARIO,
            measure,
            OURS,
            unit,
            vec![value as f64],
            note.clone(),
        )
    };
    Ok(vec![
        row("signals sent", "signals", injected),
        row("restarts", "restarts", counts.restarts),
        row(
            "services whose state differs from /proc",
            "mismatches",
            counts.mismatches,
        ),
        row("left behind after stop", "processes", counts.left),
    ])
}

/// Four services, each a shell with two children, restarted at once whatever happens.
fn definitions(mark: &str) -> String {
    let mut text = String::new();
    for service in SERVICES {
        let _ = write!(
            text,
            r#"
[services.{service}]
command = ["sh", "-c", "sleep 1000 & sleep 1000 & wait"]
env = {{ {MARK_VARIABLE} = "{mark}" }}
restart = {{ policy = "always", backoff = "10ms", max_backoff = "100ms", max_restarts = 1000000, window = "1s" }}
min_uptime = "0s"
"#
        );
    }
    text
}

/// Signals for `duration`, comparing every [`CHECK_EVERY`]; then stops the supervisor.
fn inject(
    duration: Duration,
    run: &super::Run,
    running: &mut dyn Running,
) -> Result<Counts, String> {
    let signals = [Signal::SIGKILL, Signal::SIGTERM, Signal::SIGSTOP];
    let mut counts = Counts::default();
    let until = Instant::now() + duration;
    while Instant::now() < until {
        let round_end = (Instant::now() + CHECK_EVERY).min(until);
        while Instant::now() < round_end {
            let victims = observe::marked_processes(&run.mark);
            if !victims.is_empty() {
                let pid = victims[fastrand::usize(..victims.len())];
                let signal = signals[fastrand::usize(..signals.len())];
                observe::kill(pid, signal);
                *counts.injected.entry(signal.as_str()).or_default() += 1;
                if signal == Signal::SIGSTOP {
                    std::thread::sleep(Duration::from_millis(fastrand::u64(5..50)));
                    observe::kill(pid, Signal::SIGCONT);
                }
            }
            std::thread::sleep(Duration::from_millis(fastrand::u64(20..200)));
        }
        let events = settled_events(&run.dir)?;
        counts.comparisons += 1;
        counts.mismatches += mismatches(&events, &run.mark);
    }
    let events = settled_events(&run.dir)?;
    counts.restarts = events
        .iter()
        .filter(|event| event["currentState"] == "restarting")
        .count();
    running.stop()?;
    counts.left = observe::wait_marked_gone(&run.mark, Duration::from_secs(10));
    Ok(counts)
}

/// The events once none has come for [`QUIET`] (the events file stopped growing).
fn settled_events(dir: &std::path::Path) -> Result<Vec<serde_json::Value>, String> {
    let path = dir.join(EVENTS_FILE);
    let size = || std::fs::metadata(&path).map_or(0, |metadata| metadata.len());
    let mut last = size();
    let mut quiet_since = Instant::now();
    while quiet_since.elapsed() < QUIET {
        std::thread::sleep(Duration::from_millis(100));
        let now = size();
        if now != last {
            last = now;
            quiet_since = Instant::now();
        }
    }
    read_events(dir)
}

/// The services whose last reported state disagrees with the instances alive in /proc.
fn mismatches(events: &[serde_json::Value], mark: &str) -> usize {
    let mut said: BTreeMap<&str, &str> = BTreeMap::new();
    for event in events {
        if event["event"] == "service-state-changed"
            && let (Some(name), Some(state)) =
                (event["name"].as_str(), event["currentState"].as_str())
        {
            said.insert(name, state);
        }
    }
    let live = instances(mark);
    SERVICES
        .iter()
        .filter(|service| {
            let alive = live.get(**service).map_or(0, BTreeSet::len);
            let expected = match said.get(**service) {
                Some(&"running") | Some(&"starting") => 1,
                _ => 0,
            };
            if alive != expected {
                eprintln!(
                    "    {service} is {:?} but {alive} instances are alive",
                    said.get(**service)
                );
            }
            alive != expected
        })
        .count()
}

/// The instances alive per service: the distinct instance marks our supervisor gave the
/// processes that carry the run's `bench_mark`.
fn instances(bench_mark: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut instances: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for pid in observe::marked_processes(bench_mark) {
        let Some(instance) = observe::environ_value(pid, mark::VARIABLE) else {
            continue;
        };
        if let Some(service) = mark::service_of(&instance) {
            instances
                .entry(service.to_string())
                .or_default()
                .insert(instance);
        }
    }
    instances
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_said_running_needs_one_instance_and_a_stopped_one_none() {
        let events: Vec<serde_json::Value> = [
            ("s1", "running"),
            ("s2", "restarting"),
            ("s3", "starting"),
            ("s4", "error"),
        ]
        .iter()
        .map(|(name, state)| {
            serde_json::json!({"event": "service-state-changed", "name": name, "currentState": state})
        })
        .collect();
        // No process carries this mark: the two services said to run are mismatches.
        assert_eq!(mismatches(&events, "no-process-has-this-mark"), 2);
    }
}
