//! Scenario 2: SIGKILL a service's process; the time until it runs again.
//!
//! Each round starts the system afresh and kills its one service once, after it has run
//! for a moment, so no system's crash-loop backoff (Docker doubles its delay for a
//! container that ran under 10 s) weighs on the figure.

use std::time::{Duration, Instant};

use super::{Bench, or_failed};
use crate::results::Row;
use crate::systems::{Behaviour, Service, System};

const SCENARIO: &str = "crash-restart";
const MEASURE: &str = "SIGKILL → running again";
/// How long the service runs before it is killed: past s6's one spawn a second.
const SETTLE: Duration = Duration::from_millis(1500);

/// Runs the scenario.
pub fn crash_restart(bench: &Bench) -> Result<Vec<Row>, String> {
    let mut systems = bench.process_systems();
    if let Some(compose) = bench.compose(Duration::from_secs(1)) {
        systems.push(Box::new(compose));
    }
    let rounds = bench.size.rounds * 2;
    let mut rows = Vec::new();
    for system in &systems {
        let note = match system.name() {
            "docker-compose" => {
                "Docker's restart policy (restart: always); the container's main process is killed from the host".to_string()
            }
            _ => system.settings(),
        };
        let result = (0..rounds)
            .map(|_| once(bench, system.as_ref()))
            .collect::<Result<Vec<f64>, String>>()
            .map(|samples| {
                vec![Row::measured(
                    SCENARIO,
                    MEASURE,
                    system.name(),
                    "ms",
                    samples,
                    note,
                )]
            });
        rows.extend(or_failed(result, system.name(), SCENARIO, MEASURE, "ms")?);
    }
    Ok(rows)
}

/// One kill: milliseconds from SIGKILL until the service's next `start`.
fn once(bench: &Bench, system: &dyn System) -> Result<f64, String> {
    let services = [Service {
        name: "victim".to_string(),
        depends_on: Vec::new(),
        level: 0,
        behaviour: Behaviour::Announce,
    }];
    let run = bench.run(&format!("{SCENARIO}-{}", system.name()))?;
    let fail = |error: String| format!("{SCENARIO}, {}: {error}", system.name());
    let mut running = system.start(&run.setup(&services, None)).map_err(fail)?;
    let first = run
        .announcements
        .next(Duration::from_secs(60))
        .map_err(fail)?;
    std::thread::sleep(SETTLE);
    let pid = running.host_pid(&first).map_err(fail)?;
    let killed = Instant::now();
    crate::observe::kill(pid, nix::sys::signal::Signal::SIGKILL);
    let again = run
        .announcements
        .next(Duration::from_secs(60))
        .map_err(fail)?;
    let latency = again.at.duration_since(killed);
    running.stop().map_err(fail)?;
    Ok(latency.as_secs_f64() * 1000.0)
}
