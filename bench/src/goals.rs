//! The goals we set ourselves, checked against the measured rows.

use crate::report::{Goal, number};
use crate::results::{OURS, Row, Summary};

fn find<'a>(rows: &'a [Row], scenario: &str, measure: &str, system: &str) -> Option<&'a Row> {
    rows.iter()
        .find(|row| row.scenario == scenario && row.measure == measure && row.system == system)
}

fn median(rows: &[Row], scenario: &str, measure: &str, system: &str) -> Option<f64> {
    find(rows, scenario, measure, system)
        .and_then(Row::summary)
        .map(|summary| summary.median)
}

/// The peers measured for `scenario` and `measure`: (system, median).
fn peers(rows: &[Row], scenario: &str, measure: &str) -> Vec<(String, f64)> {
    rows.iter()
        .filter(|row| row.scenario == scenario && row.measure == measure && row.system != OURS)
        .filter_map(|row| Some((row.system.clone(), row.summary()?.median)))
        .collect()
}

/// Ours below every measured peer; the text names the closest one.
fn below_peers(rows: &[Row], scenario: &str, measure: &str, unit: &str) -> (Option<bool>, String) {
    let Some(ours) = median(rows, scenario, measure, OURS) else {
        return (None, "not measured".to_string());
    };
    let peers = peers(rows, scenario, measure);
    let closest = peers.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    match closest {
        None => (
            None,
            format!("ours {} {unit}; no peer measured", number(ours)),
        ),
        Some((name, theirs)) => (
            Some(peers.iter().all(|(_, median)| ours < *median)),
            format!(
                "ours {} {unit}; best peer {name} {} {unit}",
                number(ours),
                number(*theirs)
            ),
        ),
    }
}

/// Every goal, in the order of the scenarios.
pub fn check(rows: &[Row]) -> Vec<Goal> {
    let mut goals = Vec::new();
    let ratio = median(rows, "startup-dag", "÷ critical path", OURS);
    goals.push(Goal {
        text: "startup-dag: all ready within 1.05 × the critical path".to_string(),
        measured: ratio.map_or("not measured".to_string(), |r| format!("{r:.3} ×")),
        met: ratio.map(|r| r <= 1.05),
    });
    let (met, measured) = below_peers(rows, "crash-restart", "SIGKILL → running again", "ms");
    goals.push(Goal {
        text: "crash-restart: back faster than every peer".to_string(),
        measured,
        met,
    });
    for scenario in ["footprint", "footprint, 5 s probes"] {
        let rss = median(rows, scenario, "RSS", OURS);
        goals.push(Goal {
            text: format!("{scenario}: under 15 MB RSS"),
            measured: rss.map_or("not measured".to_string(), |r| {
                format!("{} MiB ({:.1} MB)", number(r), r * 1.048_576)
            }),
            met: rss.map(|r| r * 1.048_576 < 15.0),
        });
    }
    for measure in ["RSS", "PSS"] {
        let (met, measured) = below_peers(rows, "footprint", measure, "MiB");
        goals.push(Goal {
            text: format!("footprint: {measure} below every peer"),
            measured,
            met,
        });
    }
    for measure in [
        "left behind after stop",
        "left behind after SIGKILL of the supervisor",
    ] {
        let worst = find(rows, "clean-stop", measure, OURS)
            .and_then(|row| Summary::of(&row.samples))
            .map(|summary| summary.max);
        goals.push(Goal {
            text: format!("clean-stop: 0 {measure}, in every round"),
            measured: worst.map_or("not measured".to_string(), |w| {
                format!("at most {w:.0} processes")
            }),
            met: worst.map(|w| w == 0.0),
        });
    }
    for (measure, what) in [
        ("services whose state differs from /proc", "mismatches"),
        ("left behind after stop", "processes left"),
    ] {
        let value = median(rows, "soak", measure, OURS);
        goals.push(Goal {
            text: format!("soak: 0 {what}"),
            measured: value.map_or("not measured".to_string(), |v| format!("{v:.0}")),
            met: value.map(|v| v == 0.0),
        });
    }
    goals.extend(app_goals(rows));
    goals
}

/// The desktop app's goals (GUIDE §10): quick to show, light, idle when idle.
fn app_goals(rows: &[Row]) -> Vec<Goal> {
    let app = |measure: &str, system: &str| median(rows, "app", measure, system);
    let goal = |text: &str, value: Option<f64>, unit: &str, limit: f64| Goal {
        text: text.to_string(),
        measured: value.map_or("not measured".to_string(), |v| {
            format!("{} {unit}", number(v))
        }),
        met: value.map(|v| v <= limit),
    };
    vec![
        goal(
            "app: the window shows the services within 0.5 s of launch",
            app("launch until the services show", "claraverse"),
            "s",
            0.5,
        ),
        goal(
            "app: app + WebKit PSS at most 150 MiB, window shown",
            app("PSS", "claraverse, window shown"),
            "MiB",
            150.0,
        ),
        goal(
            "app: idle CPU at most 0.5 % of a core, window shown",
            app("CPU", "claraverse, window shown"),
            "% of a core",
            0.5,
        ),
        goal(
            "app: idle CPU about 0 (at most 0.05 % of a core), window hidden",
            app("CPU", "claraverse, window hidden"),
            "% of a core",
            0.05,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_compare_ours_with_the_best_peer() {
        let rows = vec![
            Row::measured(
                "crash-restart",
                "SIGKILL → running again",
                OURS,
                "ms",
                vec![2.0],
                "",
            ),
            Row::measured(
                "crash-restart",
                "SIGKILL → running again",
                "pm2",
                "ms",
                vec![10.0],
                "",
            ),
            Row::measured(
                "crash-restart",
                "SIGKILL → running again",
                "s6",
                "ms",
                vec![5.0],
                "",
            ),
            Row::measured("startup-dag", "÷ critical path", OURS, "×", vec![1.06], ""),
            Row::measured(
                "clean-stop",
                "left behind after stop",
                OURS,
                "processes",
                vec![0.0, 2.0, 0.0],
                "",
            ),
        ];
        let goals = check(&rows);
        assert_eq!(goals[0].measured, "1.060 ×");
        assert_eq!(goals[0].met, Some(false));
        assert_eq!(goals[1].measured, "ours 2.00 ms; best peer s6 5.00 ms");
        assert_eq!(goals[1].met, Some(true));
        assert_eq!(goals[2].met, None);
        let stop = goals
            .iter()
            .find(|goal| goal.text == "clean-stop: 0 left behind after stop, in every round")
            .expect("the goal");
        assert_eq!(stop.measured, "at most 2 processes");
        assert_eq!(stop.met, Some(false));
    }
}
