//! Reading /proc (Linux): the process group and run state of a process.

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
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| stat(pid).is_some_and(|s| s.group == group && s.state != 'Z'))
        .collect()
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
}
