//! Scenario 4: start many services until every one has started, then stop them all; both
//! times, and the supervisor's peak memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{Bench, or_failed};
use crate::observe::{self, usage};
use crate::results::Row;
use crate::systems::{Behaviour, Service, System};

const SCENARIO: &str = "scale";

/// Runs the scenario for us, supervisord and pm2.
pub fn scale(bench: &Bench) -> Result<Vec<Row>, String> {
    let systems: Vec<Box<dyn System>> = bench
        .process_systems()
        .into_iter()
        .filter(|system| system.name() != "s6")
        .collect();
    let count = bench.size.scale;
    let mut rows = Vec::new();
    for system in &systems {
        let result = rows_for(bench, system.as_ref(), count);
        rows.extend(or_failed(
            result,
            system.name(),
            SCENARIO,
            "all started",
            "s",
        )?);
    }
    Ok(rows)
}

/// The three rows of one system.
fn rows_for(bench: &Bench, system: &dyn System, count: usize) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let mut starts = Vec::new();
    let mut stops = Vec::new();
    let mut peaks = Vec::new();
    for _ in 0..bench.size.rounds {
        let (start, stop, peak) = once(bench, system, count)?;
        starts.push(start);
        stops.push(stop);
        peaks.push(peak);
    }
    let note = format!("{count} services; {}", system.settings());
    rows.push(Row::measured(
        SCENARIO,
        "all started",
        system.name(),
        "s",
        starts,
        note,
    ));
    rows.push(Row::measured(
        SCENARIO,
        "all stopped",
        system.name(),
        "s",
        stops,
        "until the stop command returned and no service process is left",
    ));
    rows.push(Row::measured(
        SCENARIO,
        "peak RSS",
        system.name(),
        "MiB",
        peaks,
        "VmHWM of the supervisor's processes, summed, sampled every 100 ms",
    ));
    Ok(rows)
}

/// Start time, stop time (seconds) and peak RSS (MiB) of one round.
fn once(bench: &Bench, system: &dyn System, count: usize) -> Result<(f64, f64, f64), String> {
    let services = Service::many("s", count, Behaviour::Announce);
    let names = Service::names(&services);
    let run = bench.run(&format!("{SCENARIO}-{}", system.name()))?;
    let fail = |error: String| format!("{SCENARIO}, {}: {error}", system.name());
    let began = Instant::now();
    let mut running = system.start(&run.setup(&services, None)).map_err(fail)?;
    run.announcements
        .until_all("start", &names, Duration::from_secs(600))
        .map_err(fail)?;
    let started = began.elapsed();
    let done = Arc::new(AtomicBool::new(false));
    let peak = {
        let done = Arc::clone(&done);
        let pids = running.supervisor_pids();
        // VmHWM is each process's peak so far: start-up is in it already.
        let mut peak = usage(&pids).peak_rss;
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(usage(&pids).peak_rss);
                std::thread::sleep(Duration::from_millis(100));
            }
            peak
        })
    };
    let stopping = Instant::now();
    running.stop().map_err(fail)?;
    let left = observe::wait_marked_gone(&run.mark, Duration::from_secs(120));
    let stopped = stopping.elapsed();
    done.store(true, Ordering::Relaxed);
    let peak = peak.join().map_err(|_| "the memory sampler panicked")?;
    if left > 0 {
        return Err(fail(format!("{left} service processes outlived the stop")));
    }
    Ok((started.as_secs_f64(), stopped.as_secs_f64(), peak))
}
