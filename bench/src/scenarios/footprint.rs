//! Scenario 3: the supervisor's own memory and CPU while it manages 50 idle services,
//! without and with a 5 s health probe on each.
//!
//! Memory is sampled every second through the window and the median reported, as RSS
//! (what `top` shows) and PSS (shared pages split among the processes sharing them, the
//! fair sum for a supervisor made of many processes, like s6). CPU is user plus system
//! time over the window.

use std::time::{Duration, Instant};

use super::{Bench, or_failed};
use crate::observe::usage;
use crate::results::Row;
use crate::systems::{Behaviour, Service, System};

const SCENARIO: &str = "footprint";
const SERVICES: usize = 50;
const PROBE_INTERVAL: Duration = Duration::from_secs(5);

/// Runs the scenario, without and then with probes.
pub fn footprint(bench: &Bench) -> Result<Vec<Row>, String> {
    let systems = bench.process_systems();
    let mut rows = Vec::new();
    for probed in [false, true] {
        let scenario = if probed {
            "footprint, 5 s probes"
        } else {
            SCENARIO
        };
        for system in &systems {
            if probed && !system.has_probes() {
                for measure in ["RSS", "PSS", "CPU"] {
                    rows.push(Row::unsupported(
                        scenario,
                        measure,
                        system.name(),
                        unit(measure),
                        "UNSUPPORTED: no health checks",
                    ));
                }
                continue;
            }
            let result = measure(bench, system.as_ref(), scenario, probed);
            rows.extend(or_failed(result, system.name(), scenario, "RSS", "MiB")?);
        }
    }
    Ok(rows)
}

fn unit(measure: &str) -> &'static str {
    if measure == "CPU" { "s" } else { "MiB" }
}

fn measure(
    bench: &Bench,
    system: &dyn System,
    scenario: &'static str,
    probed: bool,
) -> Result<Vec<Row>, String> {
    let services = Service::many("idle", SERVICES, Behaviour::Announce);
    let names = Service::names(&services);
    let run = bench.run(&format!("footprint-{}", system.name()))?;
    let fail = |error: String| format!("{scenario}, {}: {error}", system.name());
    let mut running = system
        .start(&run.setup(&services, probed.then_some(PROBE_INTERVAL)))
        .map_err(fail)?;
    run.announcements
        .until_all("start", &names, Duration::from_secs(120))
        .map_err(fail)?;
    // Let start-up work settle before the window opens.
    std::thread::sleep(Duration::from_secs(2));
    let pids = running.supervisor_pids();
    let before = usage(&pids);
    let began = Instant::now();
    let mut rss = Vec::new();
    let mut pss = Vec::new();
    while began.elapsed() < bench.size.idle {
        std::thread::sleep(Duration::from_secs(1).min(bench.size.idle));
        let now = usage(&pids);
        rss.push(now.rss);
        pss.push(now.pss);
    }
    let after = usage(&pids);
    running.stop().map_err(fail)?;
    let window = bench.size.idle.as_secs();
    let processes = format!(
        "{} process{} ({} services); samples every second over {window} s",
        pids.len(),
        if pids.len() == 1 { "" } else { "es" },
        SERVICES
    );
    Ok(vec![
        Row::measured(
            scenario,
            "RSS",
            system.name(),
            "MiB",
            rss,
            processes.clone(),
        ),
        Row::measured(scenario, "PSS", system.name(), "MiB", pss, processes),
        Row::measured(
            scenario,
            "CPU",
            system.name(),
            "s",
            vec![after.cpu - before.cpu],
            format!("user + system CPU over {window} s, one window"),
        ),
    ])
}
