//! Reading /proc (Linux): the process group and run state of a process, and the value of
//! one variable in its environment.

/// A process as /proc/PID/stat describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcStat {
    /// One letter: R running, S sleeping, Z zombie, …
    pub state: char,
    /// The process group.
    pub group: i32,
    /// When it started, in clock ticks since boot: exact, and stable across reads.
    pub start_ticks: u64,
}

/// The stat line of `pid`, when it exists.
pub fn stat(pid: u32) -> Option<ProcStat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain anything: parse after the last ')'.
    let mut fields = text.get(text.rfind(')')? + 2..)?.split_whitespace();
    // Fields from 3 on: state (3), ppid (4), pgrp (5), … starttime (22).
    let state = fields.next()?.chars().next()?;
    let group = fields.nth(1)?.parse().ok()?;
    let start_ticks = fields.nth(16)?.parse().ok()?;
    Some(ProcStat {
        state,
        group,
        start_ticks,
    })
}

/// The pids of the live (not zombie) members of `group`.
pub fn live_members(group: i32) -> Vec<u32> {
    pids()
        .into_iter()
        .filter(|&pid| stat(pid).is_some_and(|s| s.group == group && s.state != 'Z'))
        .collect()
}

/// Every process id, read from /proc once.
pub fn pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .collect()
}

/// The value of `variable` in the environment `pid` was started with, when it can be read:
/// not for another user's process, nor for a zombie (whose environment is gone).
pub fn environment_value(pid: u32, variable: &str) -> Option<String> {
    let environment = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    environment.split(|&byte| byte == 0).find_map(|entry| {
        let value = entry
            .strip_prefix(variable.as_bytes())?
            .strip_prefix(b"=")?;
        String::from_utf8(value.to_vec()).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_own_group() {
        let ours = stat(std::process::id()).expect("we exist");
        assert_eq!(ours.group, nix::unistd::getpgrp().as_raw());
        assert!(live_members(ours.group).contains(&std::process::id()));
        assert_eq!(
            stat(std::process::id()).map(|s| s.start_ticks),
            Some(ours.start_ticks)
        );
        assert!(ours.start_ticks > 0);
    }

    #[test]
    fn reads_a_variable_a_child_was_started_with() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .env("CLARA_PROCFS_TEST", "a=b")
            .spawn()
            .expect("sleep runs");
        // The parent learns that the exec succeeded a moment before the kernel has set up
        // the new environment: read until it is there.
        let read = (0..500).find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(2));
            environment_value(child.id(), "CLARA_PROCFS_TEST")
        });
        assert_eq!(read.as_deref(), Some("a=b"));
        assert_eq!(environment_value(child.id(), "CLARA_PROCFS"), None);
        assert!(pids().contains(&child.id()));
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(environment_value(child.id(), "CLARA_PROCFS_TEST"), None);
    }
}
