//! The language of the reconciler's table tests: a [`Step`] is a command, a fact or an
//! expectation; [`play`] runs a [`Case`]'s script through [`Sim`] and names the case and
//! the step of any mismatch.

use super::Sim;
use crate::events::EventKind;
use crate::health::ProbeReport;
use crate::state::ServiceState;
use crate::status::FailureCause;

/// One line of a script.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    // commands
    StartAll,
    StopAll,
    Start(&'static str),
    Stop(&'static str),
    Restart(&'static str),
    Features(&'static [&'static str]),
    // facts
    /// Started, and (without a health check) stayed up for its `min_uptime`.
    Started(&'static str),
    /// Started; nothing more yet.
    Launched(&'static str),
    StartFails(&'static str, FailureCause),
    Ready(&'static str),
    NotReady(&'static str),
    ProbeFails(&'static str),
    Exits(&'static str, i32),
    /// Ends because its engine stopped.
    EngineLost(&'static str),
    StopDone(&'static str),
    Fire(&'static str),
    Settle,
    // expectations about the last command or fact
    Starts(&'static [&'static str]),
    Stops(&'static [&'static str]),
    States(&'static [(&'static str, ServiceState)]),
    Reason(&'static str, &'static str),
    /// The reason starts with this (what follows is a delay with jitter).
    ReasonStarts(&'static str, &'static str),
    Timer(&'static str, u64),
    /// How many restarts the service's status counts.
    Restarts(&'static str, u32),
    /// The pending timer's delay is within these milliseconds (backoff with jitter).
    Backoff(&'static str, u128, u128),
    Complete(&'static [&'static str]),
    Failed(&'static str, &'static str),
}

/// A definitions file and a script to play on it.
pub struct Case {
    pub name: &'static str,
    pub toml: &'static str,
    pub script: &'static [Step],
}

/// Plays `case`, panicking at the first step whose expectation fails.
pub fn play(case: &Case) {
    use Step::*;
    let mut sim = Sim::new(case.toml);
    for (line, step) in case.script.iter().enumerate() {
        let at = format!("\"{}\", step {line} ({step:?})", case.name);
        match *step {
            // commands
            StartAll => sim.start_all(),
            StopAll => sim.stop_all(),
            Start(name) => {
                sim.core.start_service(name, sim.now).expect(&at);
                sim.absorb();
            }
            Stop(name) => {
                sim.core.stop_service(name, sim.now).expect(&at);
                sim.absorb();
            }
            Restart(name) => {
                sim.core.restart_service(name, sim.now).expect(&at);
                sim.absorb();
            }
            Features(features) => {
                let features = features.iter().map(|f| f.to_string()).collect();
                sim.core.set_features(features, sim.now).expect(&at);
                sim.absorb();
            }
            Started(name) => sim.started(name),
            Launched(name) => sim.launched(name),
            StartFails(name, cause) => sim.start_fails(name, cause),
            Ready(name) => sim.probe(name, ProbeReport::Ready),
            NotReady(name) => sim.probe(name, ProbeReport::NotReadyInTime("refused".into())),
            ProbeFails(name) => sim.probe(name, ProbeReport::Unhealthy("refused".into())),
            Exits(name, code) => sim.exits(name, code),
            EngineLost(name) => sim.engine_lost(name),
            StopDone(name) => sim.stopped(name),
            Fire(name) => sim.fire(name),
            Settle => sim.settle(),
            Starts(names) => assert_eq!(sim.starts(), names, "{at}"),
            Stops(names) => assert_eq!(sim.stops(), names, "{at}"),
            States(states) => {
                for &(name, state) in states {
                    assert_eq!(sim.state(name), state, "{at}: the state of {name}");
                }
            }
            Reason(name, reason) => assert_eq!(
                sim.core.unit(name).status.reason.as_deref(),
                Some(reason),
                "{at}"
            ),
            ReasonStarts(name, start) => {
                let reason = sim
                    .core
                    .unit(name)
                    .status
                    .reason
                    .clone()
                    .unwrap_or_default();
                assert!(reason.starts_with(start), "{at}: {reason}");
            }
            Backoff(name, low, high) => {
                let delay = sim.timers.get(name).map(|(_, after)| after.as_millis());
                assert!(
                    delay.is_some_and(|delay| (low..=high).contains(&delay)),
                    "{at}: {delay:?}"
                );
            }
            Restarts(name, count) => assert_eq!(
                sim.core.unit(name).status.restarts,
                count,
                "{at}: the restarts of {name}"
            ),
            Timer(name, seconds) => assert_eq!(
                sim.timers.get(name).map(|(_, after)| after.as_secs()),
                Some(seconds),
                "{at}"
            ),
            Complete(degraded) => assert_eq!(
                sim.events.iter().rev().find(|e| is_outcome(e)),
                Some(&EventKind::StartupComplete {
                    degraded: degraded.iter().map(|d| d.to_string()).collect()
                }),
                "{at}"
            ),
            Failed(service, message) => {
                let outcome = sim.events.iter().rev().find(|e| is_outcome(e));
                assert!(
                    matches!(outcome, Some(EventKind::StartupFailed { service: s, message: m, .. })
                        if s == service && m == message),
                    "{at}: {outcome:?}"
                );
            }
        }
    }
}

fn is_outcome(event: &EventKind) -> bool {
    matches!(
        event,
        EventKind::StartupComplete { .. } | EventKind::StartupFailed { .. }
    )
}
