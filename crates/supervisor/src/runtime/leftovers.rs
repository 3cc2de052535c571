//! Cleaning up what a crashed run left behind, touching only what is proven ours, and
//! reading process start times for the identity checks.

use std::collections::BTreeMap;

#[cfg(not(target_os = "linux"))]
use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::persist::ProcessRecord;

/// When the process `pid` started, as an identity stamp; `None` if it is gone.
/// Linux: clock ticks since boot, read exactly from /proc. Elsewhere: seconds since the
/// Unix epoch, as the OS reports them.
pub fn start_time(pid: u32) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        super::procfs::stat(pid).map(|stat| stat.start_ticks)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let pid = Pid::from_u32(pid);
        let mut system = System::new();
        system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            true,
            ProcessRefreshKind::nothing(),
        );
        system.process(pid).map(|process| process.start_time())
    }
}

/// Kills what a previous run on the state directory whose token is `state_token` left
/// running, and returns one sentence per service cleaned up. Only what is proven ours is
/// touched. Linux: every process that carries a mark of the state directory, wherever it
/// is (its process group left, its parent gone); `records` are not needed. Elsewhere: the
/// recorded process groups whose leader still is the recorded process (same pid, same known
/// start time); a group whose leader is gone or is someone else now is left alone.
pub fn clean_up(state_token: &str, records: &[ProcessRecord]) -> Vec<String> {
    #[cfg(target_os = "linux")]
    let killed = {
        let _ = records;
        kill_marked(&super::mark::state_prefix(state_token))
    };
    #[cfg(not(target_os = "linux"))]
    let killed = {
        let _ = state_token;
        kill_recorded_leaders(records)
    };
    killed
        .into_iter()
        .map(|(service, killed)| {
            format!(
                "stopped {killed} process{} of \"{service}\" left running by a previous run that ended abruptly",
                if killed == 1 { "" } else { "es" },
            )
        })
        .collect()
}

/// How many times `kill_marked` looks again, at most, and how long it waits between looks.
#[cfg(target_os = "linux")]
const MARKED_LOOKS: u32 = 200;
#[cfg(target_os = "linux")]
const MARKED_PAUSE: std::time::Duration = std::time::Duration::from_millis(1);

/// Kills every process whose mark starts with `prefix` (see [`super::mark`]), reading /proc
/// once per look, and looks again until two looks in a row find none: a process may start
/// another as it is killed, and a process in the middle of its `exec` shows no environment
/// for a moment. Returns how many processes were killed, per service. Blocks for as long
/// as that takes (a few milliseconds; at most about 200 looks).
#[cfg(target_os = "linux")]
pub fn kill_marked(prefix: &str) -> BTreeMap<String, usize> {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let mut killed: BTreeMap<u32, String> = BTreeMap::new();
    let mut empty_looks = 0;
    for _ in 0..MARKED_LOOKS {
        let found: Vec<(u32, String)> = super::procfs::pids()
            .into_iter()
            .filter_map(|pid| {
                let mark = super::procfs::environment_value(pid, super::mark::VARIABLE)?;
                let service = super::mark::service_of(&mark)?;
                mark.starts_with(prefix).then(|| (pid, service.to_string()))
            })
            .collect();
        if found.is_empty() {
            empty_looks += 1;
            if empty_looks == 2 {
                break;
            }
        } else {
            empty_looks = 0;
        }
        for (pid, service) in found {
            let Ok(raw) = i32::try_from(pid) else {
                continue;
            };
            if kill(Pid::from_raw(raw), Signal::SIGKILL).is_ok() {
                killed.insert(pid, service);
            }
        }
        std::thread::sleep(MARKED_PAUSE);
    }
    let mut per_service = BTreeMap::new();
    for service in killed.into_values() {
        *per_service.entry(service).or_insert(0) += 1;
    }
    per_service
}

/// Kills the recorded groups whose leader is still the recorded process.
#[cfg(unix)]
#[cfg(not(target_os = "linux"))]
fn kill_recorded_leaders(records: &[ProcessRecord]) -> BTreeMap<String, usize> {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid as UnixPid;

    let mut killed = BTreeMap::new();
    for record in records.iter().filter(|record| leader_is_ours(record)) {
        if let Some(group) = record.process_group.filter(|&group| group > 1)
            && killpg(UnixPid::from_raw(group), Signal::SIGKILL).is_ok()
        {
            *killed.entry(record.service.clone()).or_insert(0) += 1;
        }
    }
    killed
}

/// Kills the recorded processes that are still the recorded ones: their Job Objects killed
/// the rest when the previous run died, so only a leader could have survived (it cannot,
/// but a check costs little).
#[cfg(windows)]
fn kill_recorded_leaders(records: &[ProcessRecord]) -> BTreeMap<String, usize> {
    let mut killed = BTreeMap::new();
    for record in records.iter().filter(|record| leader_is_ours(record)) {
        let mut system = System::new();
        let pid = Pid::from_u32(record.pid);
        system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            true,
            ProcessRefreshKind::nothing(),
        );
        if system.process(pid).is_some_and(|process| process.kill()) {
            *killed.entry(record.service.clone()).or_insert(0) += 1;
        }
    }
    killed
}

/// Whether the recorded process still runs as itself: a known start time, and the same.
#[cfg(not(target_os = "linux"))]
fn leader_is_ours(record: &ProcessRecord) -> bool {
    record.start_time > 0 && start_time(record.pid) == Some(record.start_time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_times_are_stable_and_ordered() {
        let ours = start_time(std::process::id()).expect("we are running");
        assert_eq!(
            start_time(std::process::id()),
            Some(ours),
            "the same on every read"
        );
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("sleep runs");
        let theirs = start_time(child.id()).expect("the child runs");
        assert!(theirs >= ours);
        let _ = child.kill();
        let _ = child.wait();
    }

    #[cfg(unix)]
    #[test]
    fn a_recorded_pid_that_is_not_ours_is_left_alone() {
        // Our own pid, as if a crashed run had recorded it as a group leader: whatever the
        // start time says, nothing without our mark is touched.
        for start_time in [0, 1] {
            let record = ProcessRecord {
                service: "impostor".into(),
                pid: std::process::id(),
                process_group: Some(nix::unistd::getpgrp().as_raw()),
                start_time,
            };
            assert!(clean_up(&super::super::mark::new_state_token(), &[record]).is_empty());
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn marked_processes_are_killed_by_prefix_only() {
        use super::super::mark::{self, RunMark};
        let run = RunMark::new(&mark::new_state_token());
        let spawn = |value: &str| {
            std::process::Command::new("sleep")
                .arg("30")
                .env(mark::VARIABLE, value)
                .spawn()
                .expect("sleep runs")
        };
        let ours = run.instance("ours");
        let other = run.instance("other");
        let mut children = [spawn(&ours.value), spawn(&ours.value), spawn(&other.value)];
        // Each shows its environment once its exec is through.
        for child in &children {
            let shown = (0..500).any(|_| {
                std::thread::sleep(std::time::Duration::from_millis(2));
                super::super::procfs::environment_value(child.id(), mark::VARIABLE).is_some()
            });
            assert!(shown, "the mark of {} is readable", child.id());
        }
        let killed = kill_marked(&ours.prefix);
        assert_eq!(killed, BTreeMap::from([("ours".to_string(), 2)]));
        assert!(children[0].wait().is_ok() && children[1].wait().is_ok());
        assert_eq!(
            children[2].try_wait().ok(),
            Some(None),
            "another instance lives"
        );
        assert_eq!(
            kill_marked(run.prefix()),
            BTreeMap::from([("other".to_string(), 1)])
        );
        let _ = children[2].wait();
    }
}
