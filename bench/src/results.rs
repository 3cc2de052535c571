//! Measurements and their summaries: what every scenario hands to the report.

use serde::Serialize;

/// The system whose figures the others are divided by.
pub const OURS: &str = "clara-supervisor";

/// Several rounds of one measure of one system, or the reason it could not be taken.
#[derive(Debug, Clone)]
pub struct Row {
    /// The scenario, e.g. `startup-dag`.
    pub scenario: &'static str,
    /// What was measured, e.g. `all ready` or `left behind after stop`.
    pub measure: &'static str,
    /// The system measured.
    pub system: String,
    /// The unit of the samples, e.g. `s`, `ms`, `MiB`, `processes`.
    pub unit: &'static str,
    /// One value per round; empty when the system cannot do this.
    pub samples: Vec<f64>,
    /// Settings used and caveats, for the reader.
    pub note: String,
}

impl Row {
    /// A measured row.
    pub fn measured(
        scenario: &'static str,
        measure: &'static str,
        system: &str,
        unit: &'static str,
        samples: Vec<f64>,
        note: impl Into<String>,
    ) -> Row {
        Row {
            scenario,
            measure,
            system: system.to_string(),
            unit,
            samples,
            note: note.into(),
        }
    }

    /// A row for a system that cannot do this scenario, saying why.
    pub fn unsupported(
        scenario: &'static str,
        measure: &'static str,
        system: &str,
        unit: &'static str,
        why: impl Into<String>,
    ) -> Row {
        Row::measured(scenario, measure, system, unit, Vec::new(), why)
    }

    /// The summary of the samples: median, min and max; None without samples.
    pub fn summary(&self) -> Option<Summary> {
        Summary::of(&self.samples)
    }
}

/// Median, minimum and maximum of a set of samples.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// The middle value (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
}

impl Summary {
    /// Summarizes `samples`; None when there are none.
    pub fn of(samples: &[f64]) -> Option<Summary> {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let count = sorted.len();
        let median = match count {
            0 => return None,
            n if n % 2 == 1 => sorted[n / 2],
            n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
        };
        Some(Summary {
            median,
            min: sorted[0],
            max: sorted[count - 1],
        })
    }
}

/// One line of `results.json`.
#[derive(Debug, Serialize)]
pub struct JsonRow<'a> {
    /// The scenario.
    pub scenario: &'a str,
    /// What was measured within it.
    pub measure: &'a str,
    /// The system.
    pub system: &'a str,
    /// The median over the rounds; null when the system cannot do this.
    pub median: Option<f64>,
    /// The smallest sample.
    pub min: Option<f64>,
    /// The largest sample.
    pub max: Option<f64>,
    /// How many samples: one per round, or one per second for footprint memory.
    pub samples: usize,
    /// The unit.
    pub unit: &'a str,
    /// This system's median ÷ ours; null where either is missing or ours is zero.
    pub ratio_to_ours: Option<f64>,
    /// Settings and caveats.
    pub note: &'a str,
}

/// Our median for the same scenario and measure, when we have one.
pub fn ours_median(rows: &[Row], scenario: &str, measure: &str) -> Option<f64> {
    rows.iter()
        .find(|row| row.scenario == scenario && row.measure == measure && row.system == OURS)
        .and_then(Row::summary)
        .map(|summary| summary.median)
}

/// `row`'s median ÷ ours; None where either is missing or ours is zero.
pub fn ratio_to_ours(rows: &[Row], row: &Row) -> Option<f64> {
    let ours = ours_median(rows, row.scenario, row.measure)?;
    let theirs = row.summary()?.median;
    (ours != 0.0).then(|| theirs / ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_take_the_middle_value() {
        assert_eq!(
            Summary::of(&[3.0, 1.0, 2.0]),
            Some(Summary {
                median: 2.0,
                min: 1.0,
                max: 3.0
            })
        );
        assert_eq!(
            Summary::of(&[4.0, 1.0, 2.0, 3.0]),
            Some(Summary {
                median: 2.5,
                min: 1.0,
                max: 4.0
            })
        );
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn ratios_divide_by_our_median_and_skip_zero() {
        let rows = vec![
            Row::measured("s", "m", OURS, "s", vec![2.0], ""),
            Row::measured("s", "m", "peer", "s", vec![5.0], ""),
            Row::measured("s", "zero", OURS, "s", vec![0.0], ""),
            Row::measured("s", "zero", "peer", "s", vec![3.0], ""),
            Row::unsupported("s", "m", "other", "s", "no"),
        ];
        assert_eq!(ratio_to_ours(&rows, &rows[1]), Some(2.5));
        assert_eq!(ratio_to_ours(&rows, &rows[0]), Some(1.0));
        assert_eq!(ratio_to_ours(&rows, &rows[3]), None);
        assert_eq!(ratio_to_ours(&rows, &rows[4]), None);
    }
}
