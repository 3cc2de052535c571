//! CPU and memory per service every 2 s while the window is shown, summed over each
//! service's process tree (a native service's processes, or a container's processes as
//! the host sees them).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use clara_supervisor::manager::Manager;
use serde::Serialize;
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};
use tauri::{AppHandle, Emitter, Runtime};

/// How often metrics are sent.
pub const PERIOD: Duration = Duration::from_secs(2);

/// One service's use of the machine.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceMetrics {
    /// The service.
    pub service: String,
    /// CPU use, in percent of one core, over the last period.
    pub cpu_percent: f32,
    /// Resident memory, in bytes.
    pub memory_bytes: u64,
}

/// Sends `service-metrics` every [`PERIOD`] while the window is shown, until the manager
/// ends. While the window is hidden nothing is measured and nothing wakes.
pub async fn run<R: Runtime>(app: AppHandle<R>, manager: Manager) {
    let mut system = System::new();
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
        system.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing().with_cpu().with_memory(),
        );
        let services = measure(&system, &roots);
        if app
            .emit(
                "service-metrics",
                serde_json::json!({ "services": services }),
            )
            .is_err()
        {
            return;
        }
    }
}

/// Sums each root's process tree.
pub fn measure(system: &System, roots: &[(String, u32)]) -> Vec<ServiceMetrics> {
    let mut children: HashMap<Pid, Vec<Pid>> = HashMap::new();
    for (pid, process) in system.processes() {
        if let Some(parent) = process.parent() {
            children.entry(parent).or_default().push(*pid);
        }
    }
    roots
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
                }
                stack.extend(children.get(&pid).into_iter().flatten().copied());
            }
            ServiceMetrics {
                service: service.clone(),
                cpu_percent: cpu,
                memory_bytes: memory,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let alone = measure(&system, &[("sh".into(), child.id())]);
        let sh_only = system
            .process(Pid::from_u32(child.id()))
            .map(|p| p.memory())
            .unwrap_or(0);
        assert!(alone[0].memory_bytes > sh_only, "the two sleeps count too");
        let _ = child.kill();
        let _ = child.wait();
    }
}
