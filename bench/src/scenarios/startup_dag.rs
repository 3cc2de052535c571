//! Scenario 1: 12 services in 4 dependency levels, each ready 200 ms after it starts; the
//! time until all are ready, and that ÷ the graph's critical path (4 × 200 ms).

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use clara_supervisor::state::ServiceState;

use super::{Bench, or_failed};
use crate::observe::Announcement;
use crate::results::{OURS, Row};
use crate::systems::{Behaviour, Service, System, read_events};
use crate::timeline::Timeline;

const SCENARIO: &str = "startup-dag";
const LEVELS: usize = 4;
const PER_LEVEL: usize = 3;
const READY_AFTER: Duration = Duration::from_millis(200);

/// The graph: level n's three services each depend on all three of level n-1.
pub fn services() -> Vec<Service> {
    (0..LEVELS)
        .flat_map(|level| {
            (0..PER_LEVEL).map(move |index| Service {
                name: format!("l{level}-{index}"),
                depends_on: match level {
                    0 => Vec::new(),
                    _ => (0..PER_LEVEL)
                        .map(|i| format!("l{}-{i}", level - 1))
                        .collect(),
                },
                level,
                behaviour: Behaviour::ReadyAfter(READY_AFTER),
            })
        })
        .collect()
}

/// The critical path: one readiness delay per level.
pub fn critical_path() -> Duration {
    READY_AFTER * LEVELS as u32
}

/// One round's figures.
struct Round {
    all_ready: Duration,
    early: usize,
}

/// Runs the scenario; returns the rows and the timeline picture of our median round.
pub fn startup_dag(bench: &Bench) -> Result<(Vec<Row>, String), String> {
    let services = services();
    let mut rows = Vec::new();
    let (ours, svg) = run_ours(bench, &services)?;
    rows.extend(rows_for(OURS, &ours, bench.clara().settings()));
    // Docker's fastest check interval is 1 ms; checks that often crowd two cores, so a
    // 100 ms interval is timed too, and the reader sees both.
    for interval in [Duration::from_millis(1), Duration::from_millis(100)] {
        if let Some(compose) = bench.compose(interval) {
            let label = format!("{}, {} ms checks", compose.name(), interval.as_millis());
            let result = run_system(bench, &compose, &services)
                .map(|rounds| rows_for(&label, &rounds, compose.settings()));
            rows.extend(or_failed(result, &label, SCENARIO, "all ready", "s")?);
        }
    }
    for peer in bench.process_peers() {
        let rounds = match run_system(bench, peer.as_ref(), &services) {
            Ok(rounds) => rounds,
            Err(error) => {
                rows.extend(or_failed(
                    Err(error),
                    peer.name(),
                    SCENARIO,
                    "all ready",
                    "s",
                )?);
                continue;
            }
        };
        let note = format!(
            "UNSUPPORTED: no dependencies. Timed: its closest equivalent, {}; the start order \
             is not guaranteed (see the next measure). Settings: {}",
            if peer.name() == "s6" {
                "every service at once (s6-rc, which orders services, is not packaged here)"
            } else {
                "priority order"
            },
            peer.settings()
        );
        rows.extend(rows_for(peer.name(), &rounds, note));
    }
    rows.push(Row::unsupported(
        SCENARIO,
        "all ready",
        "process-compose",
        "s",
        "not installed: in none of the package registries this machine reaches",
    ));
    Ok((rows, svg))
}

fn rows_for(system: &str, rounds: &[Round], note: String) -> Vec<Row> {
    let path = critical_path().as_secs_f64();
    vec![
        Row::measured(
            SCENARIO,
            "all ready",
            system,
            "s",
            rounds.iter().map(|r| r.all_ready.as_secs_f64()).collect(),
            note,
        ),
        Row::measured(
            SCENARIO,
            "÷ critical path",
            system,
            "×",
            rounds
                .iter()
                .map(|r| r.all_ready.as_secs_f64() / path)
                .collect(),
            format!(
                "critical path: {LEVELS} levels × {} ms",
                READY_AFTER.as_millis()
            ),
        ),
        Row::measured(
            SCENARIO,
            "started before its dependencies were ready",
            system,
            "services",
            rounds.iter().map(|r| r.early as f64).collect(),
            "of 9 dependents",
        ),
    ]
}

fn run_system(
    bench: &Bench,
    system: &dyn System,
    services: &[Service],
) -> Result<Vec<Round>, String> {
    (0..bench.size.rounds)
        .map(|_| run_once(bench, system, services).map(|(round, _)| round))
        .collect()
}

/// Our rounds, and the timeline of the median one.
fn run_ours(bench: &Bench, services: &[Service]) -> Result<(Vec<Round>, String), String> {
    let clara = bench.clara();
    let mut rounds = Vec::new();
    let mut pictures = Vec::new();
    for _ in 0..bench.size.rounds {
        let (round, dir) = run_once(bench, &clara, services)?;
        pictures.push((round.all_ready, timeline(&dir, services)?));
        rounds.push(round);
    }
    pictures.sort_by_key(|(all_ready, _)| *all_ready);
    let svg = pictures
        .get(pictures.len() / 2)
        .map(|(_, svg)| svg.clone())
        .unwrap_or_default();
    Ok((rounds, svg))
}

fn run_once(
    bench: &Bench,
    system: &dyn System,
    services: &[Service],
) -> Result<(Round, std::path::PathBuf), String> {
    let run = bench.run(&format!("{SCENARIO}-{}", system.name()))?;
    let names = Service::names(services);
    let began = Instant::now();
    let mut running = system.start(&run.setup(services, None))?;
    let seen = run
        .announcements
        .until_all("ready", &names, Duration::from_secs(120))
        .map_err(|error| format!("{SCENARIO}, {}: {error}", system.name()))?;
    let all_ready = seen
        .iter()
        .filter(|a| a.kind == "ready")
        .map(|a| a.at)
        .max()
        .unwrap_or(began)
        - began;
    running
        .stop()
        .map_err(|error| format!("{SCENARIO}, {}: stopping: {error}", system.name()))?;
    Ok((
        Round {
            all_ready,
            early: started_early(services, &seen),
        },
        run.dir.clone(),
    ))
}

/// How many services started before every one of their dependencies was ready.
fn started_early(services: &[Service], seen: &[Announcement]) -> usize {
    let first = |kind: &str| -> HashMap<&str, Instant> {
        let mut times = HashMap::new();
        for announcement in seen.iter().filter(|a| a.kind == kind) {
            times
                .entry(announcement.name.as_str())
                .or_insert(announcement.at);
        }
        times
    };
    let starts = first("start");
    let readies = first("ready");
    services
        .iter()
        .filter(|service| {
            let Some(started) = starts.get(service.name.as_str()) else {
                return false;
            };
            service.depends_on.iter().any(|dep| {
                readies
                    .get(dep.as_str())
                    .is_none_or(|ready| ready > started)
            })
        })
        .count()
}

/// The start-up drawn from the events `up --json` printed.
fn timeline(dir: &std::path::Path, services: &[Service]) -> Result<String, String> {
    let events = read_events(dir)?;
    // The start-up only: the stop that follows is not part of the picture.
    let changes: Vec<(String, ServiceState, SystemTime)> = events
        .iter()
        .take_while(|event| event["event"] != "startup-complete")
        .filter(|event| event["event"] == "service-state-changed")
        .filter_map(|event| {
            let name = event["name"].as_str()?.to_string();
            let state = serde_json::from_value(event["currentState"].clone()).ok()?;
            let at = humantime::parse_rfc3339(event["timestamp"].as_str()?).ok()?;
            Some((name, state, at))
        })
        .collect();
    let origin = changes
        .iter()
        .map(|(_, _, at)| *at)
        .min()
        .ok_or("the supervisor printed no state changes")?;
    let mut timeline = Timeline::new(origin, services.iter().map(|s| (s.name.clone(), s.level)));
    for (name, state, at) in changes {
        timeline.record(&name, state, at);
    }
    let all = timeline
        .all_running_at()
        .map(|at| format!(", all running at {:.2} s", at.as_secs_f64()))
        .unwrap_or_default();
    Ok(timeline.to_svg(
        &format!(
            "clara-supervisor start-up: {} services in {LEVELS} dependency levels, each ready {} ms after it starts{all}",
            services.len(),
            READY_AFTER.as_millis()
        ),
        Some(("critical path", critical_path())),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graph_has_four_levels_of_three() {
        let services = services();
        assert_eq!(services.len(), 12);
        assert_eq!(services[4].name, "l1-1");
        assert_eq!(services[4].depends_on, ["l0-0", "l0-1", "l0-2"]);
        assert_eq!(critical_path(), Duration::from_millis(800));
    }

    #[test]
    fn early_starts_are_counted_against_dependency_readiness() {
        let services = &services()[..4];
        let at = Instant::now();
        let announce = |kind: &str, name: &str, ms: u64| Announcement {
            kind: kind.to_string(),
            name: name.to_string(),
            pid: 2,
            at: at + Duration::from_millis(ms),
        };
        let seen = vec![
            announce("start", "l0-0", 0),
            announce("start", "l0-1", 0),
            announce("start", "l0-2", 0),
            announce("ready", "l0-0", 200),
            announce("ready", "l0-1", 200),
            announce("start", "l1-0", 201),
            announce("ready", "l0-2", 202),
        ];
        assert_eq!(started_early(services, &seen), 1);
    }
}
