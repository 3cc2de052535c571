//! A start-up as a picture: one bar per service, split into the phases it went through
//! (waiting, starting, running, ...), drawn as SVG.
//!
//! [`Timeline::record`] is fed the state changes of a start-up (from the event stream);
//! [`Timeline::to_svg`] draws them on a time axis that starts when the start-up was asked
//! for. The output depends only on what was recorded, so the same start-up always gives the
//! same picture.

use std::time::{Duration, SystemTime};

use clara_supervisor::state::ServiceState;

/// Width of the picture, in pixels.
const WIDTH: f64 = 960.0;
/// Width of the left gutter that holds the row labels.
const LEFT: f64 = 170.0;
/// Width of the plotting area (the gutter and a 20 px right margin left out).
const PLOT_WIDTH: f64 = 770.0;
/// Top of the first row (below the title and the marker's label).
const TOP: f64 = 44.0;
/// Height of one row.
const ROW_HEIGHT: f64 = 22.0;
/// Offset of a bar from the top of its row.
const BAR_OFFSET: f64 = 4.0;
/// Height of a bar.
const BAR_HEIGHT: f64 = 14.0;
/// At most this many ticks on the time axis.
const MAX_TICKS: u64 = 10;
/// Names longer than this are shortened in the gutter (the tooltips keep them whole).
const MAX_LABEL_CHARS: usize = 20;

/// Colour of a waiting phase.
const WAITING: &str = "#d0d4da";
/// Colour of a starting phase.
const STARTING: &str = "#f2b134";
/// Colour of a running phase.
const RUNNING: &str = "#3fa34d";
/// Colour of every other phase (error, restarting, unhealthy, stopping).
const OTHER: &str = "#d9534f";

/// One phase of a service: the state it was in, from when, until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// The state of the service during this phase.
    pub state: ServiceState,
    /// When the phase began, from the timeline's origin.
    pub from: Duration,
    /// When it ended, from the origin; `None` while the service is still in this state.
    pub to: Option<Duration>,
}

/// One service on the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The service's name.
    pub name: String,
    /// Its dependency level: 0 for services without dependencies.
    pub level: usize,
    /// Its phases, in time order.
    pub spans: Vec<Span>,
}

/// A start-up drawn as one bar per service: waiting, starting, running.
#[derive(Debug, Clone)]
pub struct Timeline {
    origin: SystemTime,
    rows: Vec<Row>,
    last: Duration,
}

impl Timeline {
    /// Rows in the given order: (service name, dependency level from 0). `origin` is time
    /// zero (when start-up was asked for).
    pub fn new(origin: SystemTime, rows: impl IntoIterator<Item = (String, usize)>) -> Timeline {
        Timeline {
            origin,
            rows: rows
                .into_iter()
                .map(|(name, level)| Row {
                    name,
                    level,
                    spans: Vec::new(),
                })
                .collect(),
            last: Duration::ZERO,
        }
    }

    /// Notes that `name` entered `state` at `at`. Unknown names are ignored (return false);
    /// times before origin clamp to 0. Returns true when recorded.
    ///
    /// Entering a state ends the phase before it. `Stopped` and `Disabled` are not phases:
    /// they only end the open one, leaving a gap in the bar. Entering the state the service
    /// is already in changes nothing and returns false. A time earlier than the row's last
    /// change is taken as that change's time, so phases never run backwards.
    pub fn record(&mut self, name: &str, state: ServiceState, at: SystemTime) -> bool {
        let Some(row) = self.rows.iter_mut().find(|row| row.name == name) else {
            return false;
        };
        let mut at = at.duration_since(self.origin).unwrap_or(Duration::ZERO);
        let open = row.spans.last_mut().filter(|span| span.to.is_none());
        let is_phase = !matches!(state, ServiceState::Stopped | ServiceState::Disabled);
        match open {
            Some(span) if span.state == state => return false,
            Some(span) => {
                at = at.max(span.from);
                span.to = Some(at);
            }
            None if !is_phase => return false,
            None => {
                if let Some(end) = row.spans.last().and_then(|span| span.to) {
                    at = at.max(end);
                }
            }
        }
        if is_phase {
            row.spans.push(Span {
                state,
                from: at,
                to: None,
            });
        }
        self.last = self.last.max(at);
        true
    }

    /// The rows, in the order given to [`Timeline::new`], with their phases (only the
    /// tests look at them; the benchmark wants the picture).
    #[cfg(test)]
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// When every row reached Running for the first time: the latest such moment (None if
    /// some never did, or if there are no rows).
    pub fn all_running_at(&self) -> Option<Duration> {
        if self.rows.is_empty() {
            return None;
        }
        self.rows.iter().try_fold(Duration::ZERO, |latest, row| {
            row.spans
                .iter()
                .find(|span| span.state == ServiceState::Running)
                .map(|span| latest.max(span.from))
        })
    }

    /// The SVG picture. `title` on top; `marker`: an optional labelled vertical line, e.g.
    /// ("critical path 0.80 s", Duration) drawn at that time.
    ///
    /// The time axis ends at the last recorded moment (or the marker, if later) plus 10 %,
    /// and at least at 100 ms; phases still open are drawn up to that end.
    pub fn to_svg(&self, title: &str, marker: Option<(&str, Duration)>) -> String {
        let latest = marker.map_or(self.last, |(_, at)| self.last.max(at));
        let end = (latest.as_secs_f64() * 1.1).max(0.1);
        let x_of = |t: Duration| round1(LEFT + t.as_secs_f64() / end * PLOT_WIDTH);

        let mut order: Vec<&Row> = self.rows.iter().collect();
        order.sort_by_key(|row| row.level);

        let rows_bottom = TOP + ROW_HEIGHT * order.len() as f64;
        let axis_y = rows_bottom + 6.0;
        let legend_y = axis_y + 32.0;
        let height = legend_y + 24.0;
        let ticks = ticks(end);

        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n",
            w = num(WIDTH),
            h = num(height),
        );
        svg.push_str(&format!(
            "<rect class=\"bg\" x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n",
            num(WIDTH),
            num(height)
        ));
        svg.push_str(&format!(
            "<text x=\"8\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
            escape(title)
        ));

        // Grid lines at the ticks, behind the bars.
        for &(ms, _) in &ticks {
            let x = x_of(Duration::from_millis(ms));
            svg.push_str(&format!(
                "<line class=\"grid\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#eef0f3\"/>\n",
                num(TOP),
                num(rows_bottom),
                x = num(x),
            ));
        }

        for (i, row) in order.iter().enumerate() {
            let top = TOP + ROW_HEIGHT * i as f64;
            if i > 0 && order[i - 1].level != row.level {
                svg.push_str(&format!(
                    "<line class=\"level\" x1=\"0\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" \
                     stroke=\"#c8ccd2\" stroke-width=\"0.5\"/>\n",
                    num(WIDTH),
                    y = num(top),
                ));
            }
            svg.push_str(&format!(
                "<text x=\"8\" y=\"{}\" xml:space=\"preserve\">L{}  {}</text>\n",
                num(top + 15.0),
                row.level,
                escape(&shorten(&row.name))
            ));
            for span in &row.spans {
                let x0 = x_of(span.from);
                let x1 = span.to.map_or(round1(LEFT + PLOT_WIDTH), x_of);
                let when = match span.to {
                    Some(to) => format!("{}–{} s", seconds(span.from), seconds(to)),
                    None => format!("from {} s", seconds(span.from)),
                };
                svg.push_str(&format!(
                    "<rect class=\"span\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" \
                     fill=\"{}\"><title>{} {} {}</title></rect>\n",
                    num(x0),
                    num(top + BAR_OFFSET),
                    num(x1 - x0),
                    num(BAR_HEIGHT),
                    colour(span.state),
                    escape(&row.name),
                    span.state,
                    when
                ));
            }
        }

        // The time axis.
        svg.push_str(&format!(
            "<line class=\"axis\" x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#555555\"/>\n",
            num(LEFT),
            num(LEFT + PLOT_WIDTH),
            y = num(axis_y),
        ));
        for (ms, label) in &ticks {
            let x = num(x_of(Duration::from_millis(*ms)));
            svg.push_str(&format!(
                "<line class=\"tick\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#555555\"/>\n",
                num(axis_y),
                num(axis_y + 4.0),
            ));
            svg.push_str(&format!(
                "<text class=\"tick\" x=\"{x}\" y=\"{}\" text-anchor=\"middle\">{label}</text>\n",
                num(axis_y + 18.0),
            ));
        }

        // The legend.
        for (i, (label, fill)) in [
            ("waiting", WAITING),
            ("starting", STARTING),
            ("running", RUNNING),
            ("error / other", OTHER),
        ]
        .iter()
        .enumerate()
        {
            let x = LEFT + 100.0 * i as f64;
            svg.push_str(&format!(
                "<rect class=\"swatch\" x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{fill}\"/>\n",
                num(x),
                num(legend_y),
            ));
            svg.push_str(&format!(
                "<text x=\"{}\" y=\"{}\">{label}</text>\n",
                num(x + 16.0),
                num(legend_y + 10.0),
            ));
        }

        if let Some((label, at)) = marker {
            let x = x_of(at);
            svg.push_str(&format!(
                "<line class=\"marker\" x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" \
                 stroke=\"#1f5fbf\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\"/>\n",
                num(TOP - 4.0),
                num(rows_bottom),
                x = num(x),
            ));
            let (anchor, text_x) = if x > LEFT + PLOT_WIDTH / 2.0 {
                ("end", x - 4.0)
            } else {
                ("start", x + 4.0)
            };
            svg.push_str(&format!(
                "<text class=\"marker\" x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\" \
                 fill=\"#1f5fbf\">{}</text>\n",
                num(text_x),
                num(TOP - 8.0),
                escape(label)
            ));
        }

        svg.push_str("</svg>\n");
        svg
    }
}

/// The ticks of an axis that ends at `end` seconds: (milliseconds, label), from 0, with the
/// smallest round step (50, 100, 200, 500 ms, 1, 2, 5, 10 s, ...) that gives at most
/// [`MAX_TICKS`] of them.
fn ticks(end: f64) -> Vec<(u64, String)> {
    let end_ms = end * 1000.0;
    // 50 ms → 100 → 200 → 500 → 1 s → 2 s → 5 s → 10 s ...: ×2, ×2, ×2.5 in turn.
    let mut step: u64 = 50;
    let mut turn: u32 = 0;
    while (end_ms / step as f64).floor() + 1.0 > MAX_TICKS as f64 && step < u64::MAX / 5 {
        turn += 1;
        step = if turn.is_multiple_of(3) {
            step * 5 / 2
        } else {
            step * 2
        };
    }
    let count = (end_ms / step as f64).floor() as u64;
    (0..=count)
        .map(|k| {
            let ms = k.saturating_mul(step);
            (ms, tick_label(ms, step))
        })
        .collect()
}

/// A tick's label: milliseconds below a 100 ms step, otherwise seconds with at most one
/// decimal ("0.2 s", "1 s", "1.5 s").
fn tick_label(ms: u64, step: u64) -> String {
    if step < 100 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{}.{} s", ms / 1000, (ms % 1000) / 100)
    }
}

/// The colour of a phase.
fn colour(state: ServiceState) -> &'static str {
    match state {
        ServiceState::Waiting => WAITING,
        ServiceState::Starting => STARTING,
        ServiceState::Running => RUNNING,
        _ => OTHER,
    }
}

/// `value` rounded to one decimal.
fn round1(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// A coordinate with at most one decimal, without a trailing ".0".
fn num(value: f64) -> String {
    let rounded = round1(value);
    if rounded == rounded.trunc() {
        format!("{}", rounded as i64)
    } else {
        format!("{rounded:.1}")
    }
}

/// A moment in seconds with three decimals ("0.203"), rounded to the millisecond.
fn seconds(at: Duration) -> String {
    let ms = (at.as_micros() + 500) / 1000;
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// A name cut to [`MAX_LABEL_CHARS`] characters, the last one an ellipsis when cut.
fn shorten(name: &str) -> String {
    if name.chars().count() <= MAX_LABEL_CHARS {
        name.to_string()
    } else {
        let mut short: String = name.chars().take(MAX_LABEL_CHARS - 1).collect();
        short.push('…');
        short
    }
}

/// `text` with the XML special characters escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ServiceState::*;

    fn at(origin: SystemTime, ms: u64) -> SystemTime {
        origin + Duration::from_millis(ms)
    }

    fn ms(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    /// `api` (level 1, given first) waits for `db` (level 0); the last change is at 1.0 s,
    /// so the axis ends at 1.1 s and 770 px are 700 px per second, from x = 170.
    fn example() -> Timeline {
        let origin = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut timeline = Timeline::new(origin, [("api".to_string(), 1), ("db".to_string(), 0)]);
        for (name, state, t) in [
            ("db", Waiting, 0),
            ("api", Waiting, 0),
            ("db", Starting, 100),
            ("db", Running, 300),
            ("api", Starting, 300),
            ("api", Running, 1000),
        ] {
            assert!(
                timeline.record(name, state, at(origin, t)),
                "{name} {state}"
            );
        }
        timeline
    }

    #[test]
    fn recording_builds_the_phases() {
        let timeline = example();
        let rows = timeline.rows();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].name.as_str(), rows[0].level), ("api", 1));
        assert_eq!(
            rows[0].spans,
            vec![
                Span {
                    state: Waiting,
                    from: ms(0),
                    to: Some(ms(300))
                },
                Span {
                    state: Starting,
                    from: ms(300),
                    to: Some(ms(1000))
                },
                Span {
                    state: Running,
                    from: ms(1000),
                    to: None
                },
            ]
        );
        assert_eq!((rows[1].name.as_str(), rows[1].level), ("db", 0));
        assert_eq!(
            rows[1].spans,
            vec![
                Span {
                    state: Waiting,
                    from: ms(0),
                    to: Some(ms(100))
                },
                Span {
                    state: Starting,
                    from: ms(100),
                    to: Some(ms(300))
                },
                Span {
                    state: Running,
                    from: ms(300),
                    to: None
                },
            ]
        );
    }

    #[test]
    fn unknown_names_are_ignored() {
        let mut timeline = example();
        let before = timeline.rows().to_vec();
        let origin = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(!timeline.record("nope", Error, at(origin, 5000)));
        assert_eq!(timeline.rows(), before.as_slice());
        // The ignored record does not stretch the picture either: the axis still ends at 1.1 s.
        assert!(timeline.to_svg("t", None).contains(">1 s</text>"));
        assert!(!timeline.to_svg("t", None).contains(">1.2 s</text>"));
    }

    #[test]
    fn times_before_the_origin_or_out_of_order_are_clamped() {
        let origin = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let mut timeline = Timeline::new(origin, [("a".to_string(), 0)]);
        assert!(timeline.record("a", Waiting, origin - Duration::from_secs(3)));
        assert!(timeline.record("a", Starting, at(origin, 400)));
        // A repeat of the current state changes nothing.
        assert!(!timeline.record("a", Starting, at(origin, 450)));
        // Earlier than the last change: taken as that change's time.
        assert!(timeline.record("a", Running, at(origin, 200)));
        assert_eq!(
            timeline.rows()[0].spans,
            vec![
                Span {
                    state: Waiting,
                    from: ms(0),
                    to: Some(ms(400))
                },
                Span {
                    state: Starting,
                    from: ms(400),
                    to: Some(ms(400))
                },
                Span {
                    state: Running,
                    from: ms(400),
                    to: None
                },
            ]
        );
    }

    #[test]
    fn stopped_ends_the_phase_and_leaves_a_gap() {
        let origin = SystemTime::UNIX_EPOCH;
        let mut timeline = Timeline::new(origin, [("a".to_string(), 0)]);
        assert!(!timeline.record("a", Stopped, at(origin, 0)));
        assert!(timeline.record("a", Starting, at(origin, 100)));
        assert!(timeline.record("a", Error, at(origin, 250)));
        assert!(timeline.record("a", Stopped, at(origin, 300)));
        assert!(!timeline.record("a", Disabled, at(origin, 310)));
        assert!(timeline.record("a", Restarting, at(origin, 500)));
        assert_eq!(
            timeline.rows()[0].spans,
            vec![
                Span {
                    state: Starting,
                    from: ms(100),
                    to: Some(ms(250))
                },
                Span {
                    state: Error,
                    from: ms(250),
                    to: Some(ms(300))
                },
                Span {
                    state: Restarting,
                    from: ms(500),
                    to: None
                },
            ]
        );
        // Other states are red.
        let svg = timeline.to_svg("t", None);
        assert!(svg.contains("fill=\"#d9534f\"><title>a error 0.250–0.300 s</title></rect>"));
    }

    #[test]
    fn all_running_at_is_the_latest_first_running() {
        let origin = SystemTime::UNIX_EPOCH;
        let mut timeline = Timeline::new(origin, [("a".to_string(), 0), ("b".to_string(), 1)]);
        timeline.record("a", Starting, at(origin, 0));
        timeline.record("a", Running, at(origin, 300));
        assert_eq!(timeline.all_running_at(), None);
        timeline.record("a", Restarting, at(origin, 500));
        timeline.record("b", Starting, at(origin, 350));
        timeline.record("b", Running, at(origin, 600));
        timeline.record("a", Starting, at(origin, 700));
        timeline.record("a", Running, at(origin, 900));
        assert_eq!(timeline.all_running_at(), Some(ms(600)));
        assert_eq!(example().all_running_at(), Some(ms(1000)));
        assert_eq!(Timeline::new(origin, Vec::new()).all_running_at(), None);
    }

    #[test]
    fn the_svg_has_one_rect_per_span_at_the_scale() {
        let svg = example().to_svg("Start-up", None);
        assert!(svg.starts_with(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"150\" "
        ));
        assert_eq!(svg.matches("<rect class=\"span\"").count(), 6);
        // db (level 0) comes first although it was given second.
        for rect in [
            "<rect class=\"span\" x=\"170\" y=\"48\" width=\"70\" height=\"14\" \
             fill=\"#d0d4da\"><title>db waiting 0.000–0.100 s</title></rect>",
            "<rect class=\"span\" x=\"240\" y=\"48\" width=\"140\" height=\"14\" \
             fill=\"#f2b134\"><title>db starting 0.100–0.300 s</title></rect>",
            "<rect class=\"span\" x=\"380\" y=\"48\" width=\"560\" height=\"14\" \
             fill=\"#3fa34d\"><title>db running from 0.300 s</title></rect>",
            "<rect class=\"span\" x=\"170\" y=\"70\" width=\"210\" height=\"14\" \
             fill=\"#d0d4da\"><title>api waiting 0.000–0.300 s</title></rect>",
            "<rect class=\"span\" x=\"380\" y=\"70\" width=\"490\" height=\"14\" \
             fill=\"#f2b134\"><title>api starting 0.300–1.000 s</title></rect>",
            "<rect class=\"span\" x=\"870\" y=\"70\" width=\"70\" height=\"14\" \
             fill=\"#3fa34d\"><title>api running from 1.000 s</title></rect>",
        ] {
            assert!(svg.contains(rect), "{rect} missing from\n{svg}");
        }
        assert!(svg.contains("<text x=\"8\" y=\"59\" xml:space=\"preserve\">L0  db</text>"));
        assert!(svg.contains("<text x=\"8\" y=\"81\" xml:space=\"preserve\">L1  api</text>"));
        // One separator, between level 0 and level 1.
        assert_eq!(svg.matches("<line class=\"level\"").count(), 1);
        assert!(svg.contains("<line class=\"level\" x1=\"0\" y1=\"66\" x2=\"960\" y2=\"66\""));
        // Ticks every 0.2 s up to 1 s.
        let labels: Vec<&str> = svg
            .match_indices("<text class=\"tick\"")
            .filter_map(|(i, _)| {
                let rest = &svg[i..];
                let start = rest.find('>')? + 1;
                let end = rest.find("</text>")?;
                rest.get(start..end)
            })
            .collect();
        assert_eq!(labels, ["0 s", "0.2 s", "0.4 s", "0.6 s", "0.8 s", "1 s"]);
        assert!(svg.contains(
            "<text class=\"tick\" x=\"310\" y=\"112\" text-anchor=\"middle\">0.2 s</text>"
        ));
        assert!(svg.contains(
            "<text class=\"tick\" x=\"870\" y=\"112\" text-anchor=\"middle\">1 s</text>"
        ));
        for legend in [">waiting</text>", ">starting</text>", ">running</text>"] {
            assert!(svg.contains(legend), "{legend}");
        }
        assert!(svg.ends_with("</svg>\n"));
        assert_eq!(svg, example().to_svg("Start-up", None), "deterministic");
    }

    #[test]
    fn the_marker_is_drawn_at_its_time() {
        let svg = example().to_svg("t", Some(("critical path 0.80 s", ms(800))));
        assert!(svg.contains("<line class=\"marker\" x1=\"730\" y1=\"40\" x2=\"730\" y2=\"88\""));
        assert!(svg.contains(
            "<text class=\"marker\" x=\"726\" y=\"36\" text-anchor=\"end\" \
             fill=\"#1f5fbf\">critical path 0.80 s</text>"
        ));
        assert!(!example().to_svg("t", None).contains("class=\"marker\""));
        // A marker after the last change stretches the axis: 2.0 s → ends at 2.2 s.
        let svg = example().to_svg("t", Some(("late", ms(2000))));
        assert!(svg.contains("<line class=\"marker\" x1=\"870\" "), "{svg}");
    }

    #[test]
    fn names_and_titles_are_escaped() {
        let origin = SystemTime::UNIX_EPOCH;
        let mut timeline = Timeline::new(origin, [("<b&>".to_string(), 2)]);
        timeline.record("<b&>", Waiting, at(origin, 0));
        let svg = timeline.to_svg("a \"quoted\" <title> & more", Some(("x<y", ms(50))));
        assert!(svg.contains("L2  &lt;b&amp;&gt;</text>"));
        assert!(svg.contains("<title>&lt;b&amp;&gt; waiting from 0.000 s</title>"));
        assert!(svg.contains(">a &quot;quoted&quot; &lt;title&gt; &amp; more</text>"));
        assert!(svg.contains(">x&lt;y</text>"));
        assert!(!svg.contains("<b&>"));
    }

    #[test]
    fn tick_labels_follow_the_length_of_the_start_up() {
        let labels = |last_ms: u64| -> Vec<String> {
            let end = (last_ms as f64 / 1000.0 * 1.1).max(0.1);
            ticks(end).into_iter().map(|(_, label)| label).collect()
        };
        // 0.9 s → the axis ends at 0.99 s: ten ticks, 0.1 s apart.
        assert_eq!(
            labels(900),
            [
                "0 s", "0.1 s", "0.2 s", "0.3 s", "0.4 s", "0.5 s", "0.6 s", "0.7 s", "0.8 s",
                "0.9 s"
            ]
        );
        assert_eq!(labels(0), ["0 ms", "50 ms", "100 ms"]);
        assert_eq!(labels(2000), ["0 s", "0.5 s", "1 s", "1.5 s", "2 s"]);
        assert_eq!(labels(10_000), ["0 s", "2 s", "4 s", "6 s", "8 s", "10 s"]);
        assert_eq!(labels(40_000).len(), 9);
        assert_eq!(labels(40_000)[8], "40 s");

        // The same through the picture, at their x: 0.1 s is 770 / 0.99 × 0.1 ≈ 77.8 px.
        let origin = SystemTime::UNIX_EPOCH;
        let mut timeline = Timeline::new(origin, [("a".to_string(), 0)]);
        timeline.record("a", Starting, at(origin, 0));
        timeline.record("a", Running, at(origin, 900));
        let svg = timeline.to_svg("t", None);
        assert!(
            svg.contains("x=\"247.8\" y=\"90\" text-anchor=\"middle\">0.1 s</text>"),
            "{svg}"
        );
        assert!(svg.contains("x=\"870\" y=\"90\" text-anchor=\"middle\">0.9 s</text>"));
        assert!(!svg.contains(">1 s</text>"));
    }

    #[test]
    fn numbers_have_at_most_one_decimal() {
        assert_eq!(num(247.777), "247.8");
        assert_eq!(num(140.00000001), "140");
        assert_eq!(num(-0.01), "0");
        assert_eq!(seconds(Duration::from_micros(203_499)), "0.203");
        assert_eq!(seconds(Duration::from_micros(1_410_500)), "1.411");
        assert_eq!(
            shorten("a-very-long-service-name-indeed"),
            "a-very-long-service…"
        );
    }
}
