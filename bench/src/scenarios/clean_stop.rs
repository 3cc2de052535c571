//! Scenario 5: 20 services whose main process takes 300 ms to stop after SIGTERM and has a
//! child and a grandchild. The time to stop them all and the processes left behind; then
//! the processes left behind when the supervisor itself is SIGKILLed.

use std::time::{Duration, Instant};

use super::{Bench, or_failed};
use crate::observe;
use crate::results::Row;
use crate::systems::{Behaviour, Service, System};

const SCENARIO: &str = "clean-stop";
const SERVICES: usize = 20;
/// How long after a stop, or a supervisor's death, leftovers are counted.
const GRACE: Duration = Duration::from_secs(3);

/// Runs the scenario.
pub fn clean_stop(bench: &Bench) -> Result<Vec<Row>, String> {
    let systems = bench.process_systems();
    let mut rows = Vec::new();
    for system in &systems {
        let result = rows_for(bench, system.as_ref());
        rows.extend(or_failed(
            result,
            system.name(),
            SCENARIO,
            "stop time",
            "s",
        )?);
    }
    Ok(rows)
}

/// The three rows of one system.
fn rows_for(bench: &Bench, system: &dyn System) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let mut times = Vec::new();
    let mut left_after_stop = Vec::new();
    let mut left_after_kill = Vec::new();
    for _ in 0..bench.size.rounds {
        let (time, left) = stop_round(bench, system)?;
        times.push(time);
        left_after_stop.push(left as f64);
        left_after_kill.push(kill_round(bench, system)? as f64);
    }
    let kill_note = match system.name() {
        "s6" => {
            "by design each s6-supervise outlives s6-svscan and keeps its service running (s6-svscan is meant to run as process 1); they are still controllable with s6-svc"
        }
        "clara-supervisor" => {
            "its guard process sees the supervisor die and kills every service's process group"
        }
        _ => "",
    };
    rows.push(Row::measured(
        SCENARIO,
        "stop time",
        system.name(),
        "s",
        times,
        format!(
            "until the stop returned and every main process exited; {}",
            system.settings()
        ),
    ));
    rows.push(Row::measured(
        SCENARIO,
        "left behind after stop",
        system.name(),
        "processes",
        left_after_stop,
        format!(
            "of {} (a main process, a child, a grandchild per service), counted {} s after",
            SERVICES * 3,
            GRACE.as_secs()
        ),
    ));
    rows.push(Row::measured(
        SCENARIO,
        "left behind after SIGKILL of the supervisor",
        system.name(),
        "processes",
        left_after_kill,
        format!(
            "counted {} s after the SIGKILL of its main process. {kill_note}",
            GRACE.as_secs()
        ),
    ));
    Ok(rows)
}

/// A started round: its run folder, the running system, the services' main pids.
type Started = (super::Run, Box<dyn crate::systems::Running>, Vec<u32>);

/// Starts the services and waits until each has its main process, child and grandchild.
fn start(bench: &Bench, system: &dyn System, label: &str) -> Result<Started, String> {
    let services = Service::many(
        "slow",
        SERVICES,
        Behaviour::SlowStop {
            delay: Duration::from_millis(300),
        },
    );
    let names = Service::names(&services);
    let run = bench.run(&format!("{SCENARIO}-{label}-{}", system.name()))?;
    let fail = |error: String| format!("{SCENARIO}, {}: {error}", system.name());
    let running = system.start(&run.setup(&services, None)).map_err(fail)?;
    let seen = run
        .announcements
        .until_all("start", &names, Duration::from_secs(60))
        .map_err(fail)?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while observe::marked_processes(&run.mark).len() < SERVICES * 3 {
        if Instant::now() > deadline {
            return Err(fail("the services' children did not all start".to_string()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mains = seen.iter().map(|a| a.pid).collect();
    Ok((run, running, mains))
}

/// Seconds to stop, and the processes left behind.
fn stop_round(bench: &Bench, system: &dyn System) -> Result<(f64, usize), String> {
    let (run, mut running, mains) = start(bench, system, "stop")?;
    let began = Instant::now();
    running
        .stop()
        .map_err(|error| format!("{SCENARIO}, {}: {error}", system.name()))?;
    while mains.iter().any(|&pid| observe::alive(pid)) && began.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(2));
    }
    let time = began.elapsed().as_secs_f64();
    std::thread::sleep(GRACE);
    let left = observe::marked_processes(&run.mark).len();
    Ok((time, left))
}

/// The processes left behind after the supervisor is SIGKILLed.
fn kill_round(bench: &Bench, system: &dyn System) -> Result<usize, String> {
    let (run, mut running, _) = start(bench, system, "kill")?;
    running.kill_supervisor();
    std::thread::sleep(GRACE);
    let left = observe::marked_processes(&run.mark).len();
    drop(running);
    Ok(left)
}
