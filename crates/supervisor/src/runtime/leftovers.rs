//! Cleaning up what a crashed run left behind, after checking each process's identity,
//! and reading process start times for those checks.

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

use crate::persist::ProcessRecord;

/// When the process `pid` started, in seconds since the Unix epoch; `None` if it is gone.
pub fn start_time(pid: u32) -> Option<u64> {
    let pid = Pid::from_u32(pid);
    let mut system = System::new();
    system.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, ProcessRefreshKind::nothing());
    system.process(pid).map(|process| process.start_time())
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
        return if killpg(UnixPid::from_raw(group), Signal::SIGKILL).is_ok() { count } else { 0 };
    }
    // The leader is gone (or is someone else now): only members of the group that started
    // no earlier than it did can be ours.
    members
        .into_iter()
        .filter(|&pid| kill(UnixPid::from_raw(pid as i32), Signal::SIGKILL).is_ok())
        .count()
}

/// The processes in `group` started at or after `since` (Linux: from /proc; elsewhere the
/// leader's check has to do).
#[cfg(unix)]
fn group_members(group: i32, since: u64) -> Vec<u32> {
    #[cfg(target_os = "linux")]
    {
        let mut system = System::new();
        system.refresh_processes_specifics(ProcessesToUpdate::All, true, ProcessRefreshKind::nothing());
        system
            .processes()
            .iter()
            .filter(|(_, process)| process.start_time() >= since)
            .map(|(pid, _)| pid.as_u32())
            .filter(|&pid| linux_process_group(pid) == Some(group))
            .collect()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (group, since);
        Vec::new()
    }
}

/// Field 5 of /proc/PID/stat, after the parenthesised command name.
#[cfg(target_os = "linux")]
fn linux_process_group(pid: u32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    after_name.split_whitespace().nth(2)?.parse().ok()
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
    system.refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), true, ProcessRefreshKind::nothing());
    usize::from(system.process(pid).is_some_and(|process| process.kill()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_start_time() {
        let ours = start_time(std::process::id()).expect("we are running");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        assert!(ours <= now && now - ours < 3600, "{ours} vs {now}");
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

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_the_process_group_of_a_process() {
        let group = nix::unistd::getpgrp().as_raw();
        assert_eq!(linux_process_group(std::process::id()), Some(group));
    }
}
