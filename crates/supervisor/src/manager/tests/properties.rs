//! The reconciler's promises over random worlds: random dependency graphs, then random
//! sequences of facts (starts, failures, probe results, exits, timers) and commands. At
//! every step no service starts before its dependencies meet their conditions and no
//! service has two instances (both checked by [`Sim`]); after a stop-all every service
//! ends stopped, with nothing running and no timer left.

use proptest::prelude::*;

use super::Sim;
use crate::health::ProbeReport;
use crate::state::ServiceState;
use crate::status::FailureCause;

/// One service of a random world.
#[derive(Debug, Clone)]
struct Spec {
    /// Indices of earlier services it depends on, each with "started" (true) or "healthy".
    depends_on: Vec<(usize, bool, bool)>,
    probed: bool,
    policy: &'static str,
    critical: bool,
}

fn world() -> impl Strategy<Value = Vec<Spec>> {
    (2usize..7).prop_flat_map(|n| {
        let specs: Vec<_> = (0..n)
            .map(|i| {
                (
                    proptest::collection::vec((0..i.max(1), any::<bool>(), any::<bool>()), 0..3),
                    any::<bool>(),
                    prop::sample::select(vec!["never", "on-failure", "always"]),
                    any::<bool>(),
                )
                    .prop_map(move |(depends_on, probed, policy, critical)| Spec {
                        depends_on: depends_on.into_iter().filter(|_| i > 0).collect(),
                        probed,
                        policy,
                        critical,
                    })
            })
            .collect();
        specs
    })
}

fn toml(specs: &[Spec]) -> String {
    let mut text = String::new();
    for (i, spec) in specs.iter().enumerate() {
        text.push_str(&format!(
            "[services.s{i}]\ncommand = [\"s{i}\"]\ncritical = {}\n\
             restart = {{ policy = \"{}\", max_restarts = 2, backoff = \"1s\" }}\n",
            spec.critical, spec.policy
        ));
        if spec.probed {
            text.push_str("health = { tcp = \"127.0.0.1:1\" }\n");
        }
        let mut dependencies: Vec<String> = Vec::new();
        for &(on, started, restart) in &spec.depends_on {
            let entry = format!(
                "s{on} = {{ condition = \"{}\", restart = {restart} }}",
                if started { "started" } else { "healthy" }
            );
            if !dependencies
                .iter()
                .any(|d| d.starts_with(&format!("s{on} ")))
            {
                dependencies.push(entry);
            }
        }
        if !dependencies.is_empty() {
            text.push_str(&format!("depends_on = {{ {} }}\n", dependencies.join(", ")));
        }
    }
    text
}

/// Every move the world can make now, in a fixed order.
fn moves(sim: &Sim, services: usize) -> Vec<Move> {
    let mut moves = Vec::new();
    for name in sim.starting.keys() {
        moves.push(Move::Started(name.clone()));
        moves.push(Move::StartFails(name.clone()));
    }
    for name in sim.watched.keys() {
        for report in 0..4 {
            moves.push(Move::Probe(name.clone(), report));
        }
    }
    for name in sim.alive.keys() {
        moves.push(Move::Exits(name.clone(), 0));
        moves.push(Move::Exits(name.clone(), 1));
    }
    for name in &sim.stop_asked {
        moves.push(Move::Stopped(name.clone()));
    }
    for name in sim.timers.keys() {
        moves.push(Move::Fire(name.clone()));
    }
    moves.push(Move::StartAll);
    for i in 0..services {
        moves.push(Move::Start(format!("s{i}")));
        moves.push(Move::Stop(format!("s{i}")));
        moves.push(Move::Restart(format!("s{i}")));
    }
    moves
}

#[derive(Debug, Clone)]
enum Move {
    Started(String),
    StartFails(String),
    Probe(String, u8),
    Exits(String, i32),
    Stopped(String),
    Fire(String),
    StartAll,
    Start(String),
    Stop(String),
    Restart(String),
}

fn play(sim: &mut Sim, step: Move) {
    let now = sim.now;
    match step {
        Move::Started(name) => sim.started(&name),
        Move::StartFails(name) => sim.start_fails(&name, FailureCause::Other),
        Move::Probe(name, report) => {
            let report = match report {
                0 => ProbeReport::Ready,
                1 => ProbeReport::NotReadyInTime("no".into()),
                2 => ProbeReport::Unhealthy("no".into()),
                _ => ProbeReport::Healthy,
            };
            sim.probe(&name, report);
        }
        Move::Exits(name, code) => sim.exits(&name, code),
        Move::Stopped(name) => sim.stopped(&name),
        Move::Fire(name) => sim.fire(&name),
        Move::StartAll => sim.start_all(),
        Move::Start(name) => {
            let _ = sim.core.start_service(&name, now);
            sim.absorb();
        }
        Move::Stop(name) => {
            let _ = sim.core.stop_service(&name, now);
            sim.absorb();
        }
        Move::Restart(name) => {
            let _ = sim.core.restart_service(&name, now);
            sim.absorb();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn starts_wait_for_dependencies_one_instance_each_and_stop_all_stops_all(
        specs in world(),
        choices in proptest::collection::vec(any::<u16>(), 1..80),
    ) {
        let mut sim = Sim::new(&toml(&specs));
        sim.start_all();
        for choice in choices {
            let moves = moves(&sim, specs.len());
            let step = moves[usize::from(choice) % moves.len()].clone();
            play(&mut sim, step);
        }
        sim.stop_all();
        sim.settle();
        for i in 0..specs.len() {
            let name = format!("s{i}");
            prop_assert_eq!(sim.state(&name), ServiceState::Stopped, "{}", name);
        }
        prop_assert!(sim.core.nothing_active());
        prop_assert!(sim.alive.is_empty() && sim.starting.is_empty());
        prop_assert!(sim.timers.is_empty(), "timers left: {:?}", sim.timers);
    }
}
