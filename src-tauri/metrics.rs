//! CPU and memory per service every 2 s while the window is shown, summed over each
//! service's process tree (a native service's processes, or a container's processes as
//! the host sees them).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use clara_supervisor::manager::Manager;
use serde::Serialize;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
use tauri::{AppHandle, Runtime};
use ts_rs::TS;

/// How often metrics are sent.
pub const PERIOD: Duration = Duration::from_secs(2);

/// Samples the UI keeps per service for its sparklines (`ui/lib/metrics.js`): after this
/// many equal samples in a row its lines are flat, so an unchanged service is not sent
/// again until it changes, and an idle dashboard gets no events at all.
pub const HISTORY: usize = 30;

/// Every how many ticks all processes are read; in between, only the services' trees.
const FULL_SCAN_EVERY: u32 = 5;

/// One service's use of the machine.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMetrics {
    /// The service.
    pub service: String,
    /// CPU use, in percent of one core, over the last period.
    pub cpu_percent: f32,
    /// Resident memory, in bytes.
    pub memory_bytes: u64,
}

/// `service-metrics`: the services whose use of the machine changed since last sent.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
pub struct MetricsUpdate {
    /// One sample per service.
    pub services: Vec<ServiceMetrics>,
}

/// Sends `service-metrics` every [`PERIOD`] while the window is shown, until the manager
/// ends. While the window is hidden nothing is measured and nothing wakes.
pub async fn run<R: Runtime>(app: AppHandle<R>, manager: Manager) {
    let mut system = System::new();
    let mut changes = Changes::default();
    let mut tracked: Vec<Pid> = Vec::new();
    let mut tick: u32 = 0;
    let mut shown = crate::desktop::window_shown();
    loop {
        if shown.wait_for(|shown| *shown).await.is_err() {
            return;
        }
        tokio::time::sleep(PERIOD).await;
        let Ok(statuses) = manager.status().await else {
            return;
        };
        let roots: Vec<(String, u32)> = statuses
            .iter()
            .filter_map(|s| Some((s.name.clone(), s.pid?)))
            .collect();
        if roots.is_empty() {
            continue;
        }
        // Reading every process of the machine costs most: only every few ticks (to find
        // new children), or when a service has a new process; in between, the known trees.
        let known = roots
            .iter()
            .all(|(_, pid)| tracked.contains(&Pid::from_u32(*pid)));
        let which = if tick.is_multiple_of(FULL_SCAN_EVERY) || !known {
            ProcessesToUpdate::All
        } else {
            ProcessesToUpdate::Some(&tracked)
        };
        tick = tick.wrapping_add(1);
        system.refresh_processes_specifics(
            which,
            true,
            ProcessRefreshKind::nothing().with_cpu().with_memory(),
        );
        let (measured, members) = measure(&system, &roots);
        tracked = members;
        let pids = roots.iter().map(|(_, pid)| *pid);
        let services = changes.filter(pids.zip(measured));
        if services.is_empty() {
            continue;
        }
        if crate::contract::emit(&app, MetricsUpdate { services }).is_err() {
            return;
        }
    }
}

/// What was sent per service: the process it measured, its last sample as the sparklines
/// would show it, and how many times in a row that was sent.
#[derive(Debug, Default)]
pub struct Changes {
    sent: HashMap<String, (u32, Shown, usize)>,
}

/// A sample to the precision the UI shows: tenths of a percent, tenths of a MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shown(u64, u64);

impl Shown {
    fn of(metrics: &ServiceMetrics) -> Shown {
        Shown(
            (f64::from(metrics.cpu_percent) * 10.0).round() as u64,
            metrics.memory_bytes / (1024 * 1024 / 10),
        )
    }
}

impl Changes {
    /// The samples worth sending, each with the pid of the process tree it measured: those
    /// that differ from the last one sent (or measure a new process: the UI cleared the
    /// lines of a service that stopped), and equal ones until [`HISTORY`] of them in a row
    /// have flattened the UI's lines.
    pub fn filter(
        &mut self,
        samples: impl IntoIterator<Item = (u32, ServiceMetrics)>,
    ) -> Vec<ServiceMetrics> {
        let samples: Vec<(u32, ServiceMetrics)> = samples.into_iter().collect();
        self.sent
            .retain(|service, _| samples.iter().any(|(_, s)| &s.service == service));
        samples
            .into_iter()
            .filter(|(pid, sample)| {
                let shown = Shown::of(sample);
                let entry = self
                    .sent
                    .entry(sample.service.clone())
                    .or_insert((*pid, shown, 0));
                if (entry.0, entry.1) != (*pid, shown) {
                    *entry = (*pid, shown, 0);
                }
                entry.2 += 1;
                entry.2 <= HISTORY
            })
            .map(|(_, sample)| sample)
            .collect()
    }
}

/// Sums each root's process tree; also every process of those trees.
pub fn measure(system: &System, roots: &[(String, u32)]) -> (Vec<ServiceMetrics>, Vec<Pid>) {
    let mut children: HashMap<Pid, Vec<Pid>> = HashMap::new();
    for (pid, process) in system.processes() {
        if let Some(parent) = process.parent() {
            children.entry(parent).or_default().push(*pid);
        }
    }
    let mut members = Vec::new();
    let services = roots
        .iter()
        .map(|(service, root)| {
            let mut seen = HashSet::new();
            let mut stack = vec![Pid::from_u32(*root)];
            let (mut cpu, mut memory) = (0.0, 0);
            while let Some(pid) = stack.pop() {
                if !seen.insert(pid) {
                    continue;
                }
                if let Some(process) = system.process(pid) {
                    cpu += process.cpu_usage();
                    memory += process.memory();
                    members.push(pid);
                }
                stack.extend(children.get(&pid).into_iter().flatten().copied());
            }
            ServiceMetrics {
                service: service.clone(),
                cpu_percent: cpu,
                memory_bytes: memory,
            }
        })
        .collect();
    (services, members)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(service: &str, cpu: f32, memory: u64) -> ServiceMetrics {
        ServiceMetrics {
            service: service.into(),
            cpu_percent: cpu,
            memory_bytes: memory,
        }
    }

    #[test]
    fn an_idle_service_is_sent_until_its_lines_are_flat_then_only_on_change() {
        let mut changes = Changes::default();
        let sent = |changes: &mut Changes, cpu: f32| {
            changes
                .filter([
                    (7, sample("db", cpu, 50 << 20)),
                    (8, sample("api", 1.0, 10 << 20)),
                ])
                .into_iter()
                .map(|s| s.service)
                .collect::<Vec<_>>()
        };
        assert_eq!(sent(&mut changes, 12.0), ["db", "api"]);
        for _ in 1..HISTORY {
            assert_eq!(sent(&mut changes, 0.0).len(), 2, "lines still moving");
        }
        assert_eq!(sent(&mut changes, 0.0), ["db"], "api's line is flat now");
        for _ in 1..HISTORY {
            sent(&mut changes, 0.0);
        }
        assert!(
            sent(&mut changes, 0.02).is_empty(),
            "below what the UI shows"
        );
        assert_eq!(sent(&mut changes, 3.0), ["db"], "a change is sent at once");
        let again = changes.filter([(8, sample("api", 1.0, 10 << 20))]);
        assert!(again.is_empty(), "db is forgotten, api still flat");
        let restarted = changes.filter([(9, sample("api", 1.0, 10 << 20))]);
        assert_eq!(restarted.len(), 1, "a new process starts new lines");
    }

    #[test]
    fn a_process_tree_is_summed() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30 & sleep 30 & wait"])
            .spawn()
            .expect("sh runs");
        std::thread::sleep(Duration::from_millis(200));
        let mut system = System::new();
        system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing().with_memory(),
        );
        let (alone, members) = measure(&system, &[("sh".into(), child.id())]);
        assert_eq!(members.len(), 3, "sh and its two sleeps");
        let sh_only = system
            .process(Pid::from_u32(child.id()))
            .map(|p| p.memory())
            .unwrap_or(0);
        assert!(alone[0].memory_bytes > sh_only, "the two sleeps count too");
        let _ = child.kill();
        let _ = child.wait();
    }
}
