//! When to restart a service that exited or became unhealthy, and how long to wait first.
//!
//! Delays grow exponentially from `backoff` to `max_backoff`, with ±20 % jitter so that
//! services failing together do not restart in lockstep; a stable run resets them. More
//! than `max_restarts` restarts within `window` is a crash loop: the service gives up until
//! a long retry timer or the user restarts it.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::definitions::{RestartMode, RestartPolicy};

/// The restart decision for one ending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Do not restart: the policy says so.
    Stay,
    /// Restart after this delay.
    RestartAfter(Duration),
    /// Too many restarts: give up; `restarts` within `within` led here.
    CrashLoop {
        /// Restarts counted in the window.
        restarts: usize,
        /// The time those restarts spanned.
        within: Duration,
    },
}

/// Restart bookkeeping for one service.
#[derive(Debug, Clone)]
pub struct RestartTracker {
    policy: RestartPolicy,
    /// When recent restarts happened, oldest first, within `policy.window`.
    recent: VecDeque<Instant>,
    /// Restarts since the last stable run: the exponent of the backoff.
    consecutive: u32,
}

impl RestartTracker {
    /// A tracker for `policy`, with no history.
    pub fn new(policy: RestartPolicy) -> Self {
        RestartTracker {
            policy,
            recent: VecDeque::new(),
            consecutive: 0,
        }
    }

    /// Decides what follows the end of an instance at `now` — a clean exit (code 0) or a
    /// failure (any other exit, or stopped for failing its checks); counts the restart when
    /// there is one.
    pub fn decide(&mut self, clean_exit: bool, now: Instant) -> Decision {
        let wanted = match self.policy.policy {
            RestartMode::Never => false,
            RestartMode::OnFailure => !clean_exit,
            RestartMode::Always => true,
        };
        if !wanted {
            return Decision::Stay;
        }
        while let Some(&oldest) = self.recent.front() {
            if now.duration_since(oldest) > self.policy.window {
                self.recent.pop_front();
            } else {
                break;
            }
        }
        if self.recent.len() >= self.policy.max_restarts as usize {
            let within = self
                .recent
                .front()
                .map_or(Duration::ZERO, |&first| now.duration_since(first));
            let restarts = self.recent.len();
            self.recent.clear();
            self.consecutive = 0;
            return Decision::CrashLoop { restarts, within };
        }
        self.recent.push_back(now);
        let delay = self.delay(self.consecutive);
        self.consecutive = self.consecutive.saturating_add(1);
        Decision::RestartAfter(delay)
    }

    /// The instance has run long enough to count as stable: delays start small again.
    /// A run is stable once it outlasted the longest delay.
    pub fn ran_for(&mut self, duration: Duration) {
        if duration >= self.policy.max_backoff {
            self.consecutive = 0;
        }
    }

    /// Forgets all history: after a manual restart or a crash-loop retry.
    pub fn reset(&mut self) {
        self.recent.clear();
        self.consecutive = 0;
    }

    /// The delay before restart number `attempt` (from 0), with jitter; never more than
    /// `max_backoff`, whatever the numbers.
    fn delay(&self, attempt: u32) -> Duration {
        let max = self.policy.max_backoff;
        let base = self.policy.backoff.as_secs_f64() * 2f64.powi(attempt.min(30) as i32);
        let jittered = base.min(max.as_secs_f64()) * (0.8 + 0.4 * fastrand::f64());
        Duration::try_from_secs_f64(jittered).map_or(max, |delay| delay.min(max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: RestartMode) -> RestartPolicy {
        RestartPolicy {
            policy: mode,
            max_restarts: 3,
            window: Duration::from_secs(60),
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        }
    }

    fn delay(decision: Decision) -> Duration {
        match decision {
            Decision::RestartAfter(delay) => delay,
            other => panic!("expected a restart, got {other:?}"),
        }
    }

    #[test]
    fn policies_decide_whether_to_restart() {
        let now = Instant::now();
        let mut never = RestartTracker::new(policy(RestartMode::Never));
        assert_eq!(never.decide(false, now), Decision::Stay);
        let mut on_failure = RestartTracker::new(policy(RestartMode::OnFailure));
        assert_eq!(on_failure.decide(true, now), Decision::Stay);
        assert!(matches!(
            on_failure.decide(false, now),
            Decision::RestartAfter(_)
        ));
        assert!(matches!(
            on_failure.decide(false, now),
            Decision::RestartAfter(_)
        ));
        let mut always = RestartTracker::new(policy(RestartMode::Always));
        assert!(matches!(
            always.decide(true, now),
            Decision::RestartAfter(_)
        ));
    }

    #[test]
    fn the_longest_delays_never_overflow() {
        let policy = RestartPolicy {
            backoff: Duration::MAX,
            max_backoff: Duration::MAX,
            ..RestartPolicy::default()
        };
        let mut tracker = RestartTracker::new(policy);
        let start = Instant::now();
        for attempt in 0..40 {
            assert!(matches!(
                tracker.decide(false, start + Duration::from_secs(attempt)),
                Decision::RestartAfter(_) | Decision::CrashLoop { .. }
            ));
        }
    }

    #[test]
    fn delays_grow_exponentially_with_jitter_up_to_the_cap() {
        let mut tracker = RestartTracker::new(RestartPolicy {
            max_restarts: 100,
            ..policy(RestartMode::Always)
        });
        let now = Instant::now();
        let delays: Vec<Duration> = (0..6).map(|_| delay(tracker.decide(false, now))).collect();
        let expected_ms = [100.0, 200.0, 400.0, 800.0, 1000.0, 1000.0];
        for (delay, expected) in delays.iter().zip(expected_ms) {
            let ms = delay.as_secs_f64() * 1000.0;
            assert!(
                ms >= expected * 0.8 - 1e-6 && ms <= expected.min(1000.0) * 1.2 + 1e-6,
                "{ms} vs {expected}"
            );
            assert!(*delay <= Duration::from_secs(1), "never above max_backoff");
        }
    }

    #[test]
    fn zero_backoff_restarts_at_once() {
        let mut tracker = RestartTracker::new(RestartPolicy {
            backoff: Duration::ZERO,
            ..policy(RestartMode::Always)
        });
        assert_eq!(
            tracker.decide(false, Instant::now()),
            Decision::RestartAfter(Duration::ZERO)
        );
    }

    #[test]
    fn a_stable_run_resets_the_backoff() {
        let mut tracker = RestartTracker::new(policy(RestartMode::Always));
        let now = Instant::now();
        tracker.decide(false, now);
        tracker.decide(false, now);
        tracker.ran_for(Duration::from_millis(500));
        assert!(
            delay(tracker.decide(false, now)) >= Duration::from_millis(320),
            "not stable yet"
        );
        tracker.ran_for(Duration::from_secs(1));
        assert!(
            delay(tracker.decide(false, now + Duration::from_secs(61)))
                <= Duration::from_millis(120)
        );
    }

    #[test]
    fn too_many_restarts_in_the_window_is_a_crash_loop() {
        let mut tracker = RestartTracker::new(policy(RestartMode::OnFailure));
        let start = Instant::now();
        for second in 0..3 {
            assert!(matches!(
                tracker.decide(false, start + Duration::from_secs(second * 10)),
                Decision::RestartAfter(_)
            ));
        }
        assert_eq!(
            tracker.decide(false, start + Duration::from_secs(30)),
            Decision::CrashLoop {
                restarts: 3,
                within: Duration::from_secs(30)
            }
        );
        // After giving up, the history starts again.
        assert!(matches!(
            tracker.decide(false, start + Duration::from_secs(31)),
            Decision::RestartAfter(_)
        ));
    }

    #[test]
    fn restarts_outside_the_window_do_not_count() {
        let mut tracker = RestartTracker::new(policy(RestartMode::OnFailure));
        let start = Instant::now();
        for minute in 0..10 {
            assert!(matches!(
                tracker.decide(false, start + Duration::from_secs(minute * 61)),
                Decision::RestartAfter(_)
            ));
        }
    }
}
