//! Cleaning up what a crashed run left behind, after checking each process's identity,
//! and reading process start times for those checks.

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

/// Kills what a previous run recorded and left running. A process is touched only when
/// its pid still has the recorded start time: a reused pid belongs to someone else.
/// Returns one sentence per service cleaned up.
pub fn clean_up(records: &[ProcessRecord]) -> Vec<String> {
    let mut cleaned = Vec::new();
    for record in records {
        let leader_is_ours = start_time(record.pid) == Some(record.start_time);
        let killed = kill_recorded(record, leader_is_ours);
        if killed > 0 {
            cleaned.push(format!(
                "stopped {killed} process{} of \"{}\" left running by a previous run that ended abruptly",
                if killed == 1 { "" } else { "es" },
                record.service
            ));
        }
    }
    cleaned
}

#[cfg(unix)]
fn kill_recorded(record: &ProcessRecord, leader_is_ours: bool) -> usize {
    use nix::sys::signal::{Signal, kill, killpg};
    use nix::unistd::Pid as UnixPid;

    let Some(group) = record.process_group.filter(|&group| group > 1) else {
        return 0;
    };
    let members = group_members(group, record.start_time);
    if leader_is_ours {
        let count = members.len().max(1);
        return if killpg(UnixPid::from_raw(group), Signal::SIGKILL).is_ok() {
            count
        } else {
            0
        };
    }
    // The leader is gone (or is someone else now): only members of the group that started
    // no earlier than it did can be ours.
    members
        .into_iter()
        .filter(|&pid| kill(UnixPid::from_raw(pid as i32), Signal::SIGKILL).is_ok())
        .count()
}

/// The live processes in `group` started at or after `since` (Linux: from /proc;
/// elsewhere the leader's check has to do).
#[cfg(unix)]
fn group_members(group: i32, since: u64) -> Vec<u32> {
    #[cfg(target_os = "linux")]
    {
        super::procfs::live_members(group)
            .into_iter()
            .filter(|&pid| start_time(pid).is_some_and(|started| started >= since))
            .collect()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (group, since);
        Vec::new()
    }
}

#[cfg(windows)]
fn kill_recorded(record: &ProcessRecord, leader_is_ours: bool) -> usize {
    // The job object killed the rest when the previous run died; a leader that survived
    // (it cannot, but a check costs little) is ended here.
    if !leader_is_ours {
        return 0;
    }
    let mut system = System::new();
    let pid = Pid::from_u32(record.pid);
    system.refresh_processes_specifics(
        ProcessesToUpdate::Some(&[pid]),
        true,
        ProcessRefreshKind::nothing(),
    );
    usize::from(system.process(pid).is_some_and(|process| process.kill()))
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

    #[test]
    fn a_reused_pid_is_left_alone() {
        // Our own pid with a wrong start time: must not be touched.
        let record = ProcessRecord {
            service: "impostor".into(),
            pid: std::process::id(),
            process_group: None,
            start_time: 1,
        };
        assert!(clean_up(&[record]).is_empty());
    }
}
