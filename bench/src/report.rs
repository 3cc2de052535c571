//! Writing the results: `RESULTS.md` for people, `results.json` for programs.

use std::fmt::Write as _;

use serde_json::json;

use crate::results::{JsonRow, OURS, Row, ratio_to_ours};

/// Everything the report states besides the rows.
pub struct Context {
    /// Facts about the machine.
    pub machine: serde_json::Map<String, serde_json::Value>,
    /// (system, version) pairs.
    pub versions: Vec<(String, String)>,
    /// Rounds per scenario, footprint window, scale: the settings of this run.
    pub size: String,
    /// The command that made it.
    pub command: String,
}

/// A goal we set ourselves, checked against the results.
pub struct Goal {
    /// What it says.
    pub text: String,
    /// What was measured.
    pub measured: String,
    /// Whether it is met; None when it could not be checked.
    pub met: Option<bool>,
}

/// `results.json`: the machine, then one entry per row.
pub fn json(context: &Context, rows: &[Row]) -> serde_json::Value {
    let scenarios: Vec<JsonRow> = rows
        .iter()
        .map(|row| {
            let summary = row.summary();
            JsonRow {
                scenario: row.scenario,
                measure: row.measure,
                system: &row.system,
                median: summary.map(|s| round(s.median)),
                min: summary.map(|s| round(s.min)),
                max: summary.map(|s| round(s.max)),
                samples: row.samples.len(),
                unit: row.unit,
                ratio_to_ours: ratio_to_ours(rows, row).map(round),
                note: &row.note,
            }
        })
        .collect();
    let versions: serde_json::Map<String, serde_json::Value> = context
        .versions
        .iter()
        .map(|(system, version)| (system.clone(), version.clone().into()))
        .collect();
    json!({
        "machine": context.machine,
        "versions": versions,
        "settings": context.size,
        "scenarios": scenarios,
    })
}

/// Four significant decimals are plenty, and keep the file readable.
fn round(value: f64) -> f64 {
    (value * 10_000.0).round() / 10_000.0
}

/// How every system is timed and counted, for the reader of `RESULTS.md`.
const METHOD: &str = "How: every system runs the same shell script for a service; services \
announce `start` and `ready` on a named pipe that the benchmark reads, and every service \
process carries a marker in its environment, counted in /proc for processes left behind. A \
supervisor's memory and CPU come from /proc (RSS and peak from status, PSS from smaps_rollup, \
user + system time from stat), summed over its processes. Each row's notes give the settings \
used; the README's benchmark section has the details.\n\n";

/// `RESULTS.md`.
pub fn markdown(context: &Context, rows: &[Row], goals: &[Goal]) -> String {
    let mut text = String::from("# Benchmark results\n\n");
    let _ = writeln!(
        text,
        "Made by `{}`; every figure below comes from that one run on this machine. \
         Ratios are the system's median ÷ ours: above 1 means we are faster or smaller.\n",
        context.command
    );
    text.push_str(METHOD);
    text.push_str("## Machine\n\n");
    for (key, value) in &context.machine {
        let value = value
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| value.to_string());
        let _ = writeln!(text, "- {key}: {value}");
    }
    text.push_str("\n## Versions\n\n");
    for (system, version) in &context.versions {
        let _ = writeln!(text, "- {system}: {version}");
    }
    let _ = writeln!(text, "\n## Settings\n\n{}\n", context.size);
    text.push_str("## Our goals\n\n| goal | measured | met |\n|---|---|---|\n");
    for goal in goals {
        let met = match goal.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "not checked",
        };
        let _ = writeln!(text, "| {} | {} | {met} |", goal.text, goal.measured);
    }
    let mut scenarios: Vec<&str> = Vec::new();
    for row in rows {
        if !scenarios.contains(&row.scenario) {
            scenarios.push(row.scenario);
        }
    }
    for scenario in scenarios {
        let _ = writeln!(text, "\n## {scenario}\n");
        let mut measures: Vec<&str> = Vec::new();
        for row in rows.iter().filter(|row| row.scenario == scenario) {
            if !measures.contains(&row.measure) {
                measures.push(row.measure);
            }
        }
        for measure in measures {
            let _ = writeln!(
                text,
                "### {measure}\n\n| system | median | min–max | samples | ratio to ours | notes |\n|---|---|---|---|---|---|"
            );
            for row in rows
                .iter()
                .filter(|row| row.scenario == scenario && row.measure == measure)
            {
                let (median, range) = match row.summary() {
                    Some(summary) => (
                        format!("{} {}", number(summary.median), row.unit),
                        format!("{}–{}", number(summary.min), number(summary.max)),
                    ),
                    None => ("–".to_string(), "–".to_string()),
                };
                let ratio = ratio_to_ours(rows, row)
                    .map(|ratio| format!("{ratio:.2}×"))
                    .unwrap_or_else(|| "–".to_string());
                let system = if row.system == OURS {
                    format!("**{}**", row.system)
                } else {
                    row.system.clone()
                };
                let _ = writeln!(
                    text,
                    "| {system} | {median} | {range} | {} | {ratio} | {} |",
                    row.samples.len(),
                    row.note.replace('|', "\\|")
                );
            }
            text.push('\n');
        }
    }
    text
}

/// A figure with as many decimals as its size needs.
pub fn number(value: f64) -> String {
    match value.abs() {
        0.0 => "0".to_string(),
        v if v >= 100.0 => format!("{value:.0}"),
        v if v >= 10.0 => format!("{value:.1}"),
        v if v >= 1.0 => format!("{value:.2}"),
        _ => format!("{value:.3}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context() -> Context {
        let mut machine = serde_json::Map::new();
        machine.insert("cores".into(), 2.into());
        Context {
            machine,
            versions: vec![("pm2".to_string(), "7.0.4".to_string())],
            size: "5 rounds".to_string(),
            command: "cargo run --release -p bench -- all".to_string(),
        }
    }

    fn rows() -> Vec<Row> {
        vec![
            Row::measured(
                "crash-restart",
                "kill",
                OURS,
                "ms",
                vec![1.0, 2.0, 3.0],
                "zero backoff",
            ),
            Row::measured(
                "crash-restart",
                "kill",
                "pm2",
                "ms",
                vec![10.0, 12.0],
                "a | b",
            ),
            Row::unsupported("crash-restart", "kill", "x", "ms", "UNSUPPORTED"),
        ]
    }

    #[test]
    fn json_has_the_machine_and_a_ratio_per_row() {
        let value = json(&context(), &rows());
        assert_eq!(value["machine"]["cores"], 2);
        assert_eq!(value["scenarios"][0]["median"], 2.0);
        assert_eq!(value["scenarios"][0]["ratio_to_ours"], 1.0);
        assert_eq!(value["scenarios"][1]["median"], 11.0);
        assert_eq!(value["scenarios"][1]["ratio_to_ours"], 5.5);
        assert_eq!(value["scenarios"][1]["unit"], "ms");
        assert_eq!(value["scenarios"][2]["median"], serde_json::Value::Null);
    }

    #[test]
    fn markdown_has_a_table_per_measure_with_ratios() {
        let goals = [Goal {
            text: "fast".to_string(),
            measured: "2 ms".to_string(),
            met: Some(true),
        }];
        let text = markdown(&context(), &rows(), &goals);
        assert!(text.contains("- cores: 2\n"), "{text}");
        assert!(
            text.contains("\n\nHow: every system runs the same shell script"),
            "{text}"
        );
        assert!(text.contains("| fast | 2 ms | yes |"), "{text}");
        assert!(text.contains("## crash-restart\n\n### kill\n"), "{text}");
        assert!(
            text.contains(
                "| **clara-supervisor** | 2.00 ms | 1.00–3.00 | 3 | 1.00× | zero backoff |"
            ),
            "{text}"
        );
        assert!(
            text.contains("| pm2 | 11.0 ms | 10.0–12.0 | 2 | 5.50× | a \\| b |"),
            "{text}"
        );
        assert!(
            text.contains("| x | – | – | 0 | – | UNSUPPORTED |"),
            "{text}"
        );
    }

    #[test]
    fn numbers_keep_three_significant_figures() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(0.01234), "0.012");
        assert_eq!(number(1.5), "1.50");
        assert_eq!(number(15.55), "15.6");
        assert_eq!(number(1234.4), "1234");
    }
}
