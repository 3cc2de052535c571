//! How the benchmark sees services and supervisors from outside, the same way for every
//! system: services announce themselves on a named pipe, marked processes are counted in
//! /proc, and a supervisor's memory and CPU are read from /proc.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use procfs::process::Process;

/// The environment variable that marks every process of a benchmark run, descendants too.
pub const MARK_VARIABLE: &str = "CLARA_BENCH_MARK";

/// A line a service wrote on the pipe: `KIND NAME PID`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// `start` or `ready`.
    pub kind: String,
    /// The service's name.
    pub name: String,
    /// The pid the service saw as its own (`$$`; 1 inside a container).
    pub pid: u32,
    /// When the benchmark read it.
    pub at: Instant,
}

/// A named pipe that services write one line to when they start and when they are ready.
/// It is held open for reading and writing, so writers never block and it never ends.
pub struct Announcements {
    lines: Receiver<Announcement>,
}

impl Announcements {
    /// Makes the pipe at `path` and starts reading it.
    pub fn open(path: &Path) -> Result<Announcements, String> {
        nix::unistd::mkfifo(path, nix::sys::stat::Mode::from_bits_truncate(0o666))
            .map_err(|error| format!("cannot make the pipe {}: {error}", path.display()))?;
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|error| format!("cannot open the pipe {}: {error}", path.display()))?;
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(file).lines() {
                let Ok(line) = line else { return };
                let at = Instant::now();
                let mut words = line.split_whitespace();
                let (Some(kind), Some(name), Some(pid)) =
                    (words.next(), words.next(), words.next())
                else {
                    continue;
                };
                let announcement = Announcement {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    pid: pid.parse().unwrap_or(0),
                    at,
                };
                if sender.send(announcement).is_err() {
                    return;
                }
            }
        });
        Ok(Announcements { lines })
    }

    /// The next announcement within `timeout`.
    pub fn next(&self, timeout: Duration) -> Result<Announcement, String> {
        self.lines
            .recv_timeout(timeout)
            .map_err(|error| match error {
                RecvTimeoutError::Timeout => {
                    format!("no service announced itself within {timeout:?}")
                }
                RecvTimeoutError::Disconnected => "the announcement pipe closed".to_string(),
            })
    }

    /// Collects announcements of `kind` until one from each of `names` has come, within
    /// `timeout`; returns every announcement read meanwhile, in order.
    pub fn until_all(
        &self,
        kind: &str,
        names: &HashSet<String>,
        timeout: Duration,
    ) -> Result<Vec<Announcement>, String> {
        let deadline = Instant::now() + timeout;
        let mut seen = HashSet::new();
        let mut all = Vec::new();
        while seen.len() < names.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            let announcement = self.next(left).map_err(|_| {
                format!(
                    "only {} of {} services said `{kind}` within {timeout:?}",
                    seen.len(),
                    names.len()
                )
            })?;
            if announcement.kind == kind && names.contains(&announcement.name) {
                seen.insert(announcement.name.clone());
            }
            all.push(announcement);
        }
        Ok(all)
    }
}

/// The live (not zombie) processes whose environment carries `mark`.
pub fn marked_processes(mark: &str) -> Vec<u32> {
    let Ok(all) = procfs::process::all_processes() else {
        return Vec::new();
    };
    all.filter_map(Result::ok)
        .filter(is_live)
        .filter(|process| {
            process.environ().is_ok_and(|environ| {
                environ
                    .get(std::ffi::OsStr::new(MARK_VARIABLE))
                    .is_some_and(|value| value == mark)
            })
        })
        .map(|process| process.pid as u32)
        .collect()
}

/// The value of `variable` in the environment of `pid`, if it has one.
pub fn environ_value(pid: u32, variable: &str) -> Option<String> {
    let process = Process::new(pid as i32).ok()?;
    let environ = process.environ().ok()?;
    environ
        .get(std::ffi::OsStr::new(variable))
        .map(|value| value.to_string_lossy().into_owned())
}

/// Waits until no marked process is left or `timeout` passes; returns how many are left.
pub fn wait_marked_gone(mark: &str, timeout: Duration) -> usize {
    let deadline = Instant::now() + timeout;
    loop {
        let left = marked_processes(mark).len();
        if left == 0 || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills every marked process, so one system's leftovers never weigh on the next.
pub fn kill_marked(mark: &str) {
    for pid in marked_processes(mark) {
        kill(pid, nix::sys::signal::Signal::SIGKILL);
    }
}

/// Whether `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    Process::new(pid as i32).is_ok_and(|process| is_live(&process))
}

fn is_live(process: &Process) -> bool {
    process.stat().is_ok_and(|stat| stat.state != 'Z')
}

/// Sends `signal` to `pid`, ignoring a process that is already gone.
pub fn kill(pid: u32, signal: nix::sys::signal::Signal) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), signal);
}

/// The children of `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(all) = procfs::process::all_processes() else {
        return Vec::new();
    };
    all.filter_map(Result::ok)
        .filter(|process| process.stat().is_ok_and(|stat| stat.ppid == pid as i32))
        .map(|process| process.pid as u32)
        .collect()
}

/// Memory and CPU of a set of processes, summed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Resident memory, MiB.
    pub rss: f64,
    /// Proportional share of memory (shared pages split among their users), MiB.
    pub pss: f64,
    /// Peak resident memory (VmHWM), MiB.
    pub peak_rss: f64,
    /// User plus system CPU time so far, seconds.
    pub cpu: f64,
}

/// The summed usage of `pids` (processes that are gone count zero).
pub fn usage(pids: &[u32]) -> Usage {
    let ticks = procfs::ticks_per_second() as f64;
    let mut total = Usage::default();
    for &pid in pids {
        let Ok(process) = Process::new(pid as i32) else {
            continue;
        };
        if let Ok(status) = process.status() {
            total.rss += status.vmrss.unwrap_or(0) as f64 / 1024.0;
            total.peak_rss += status.vmhwm.unwrap_or(0) as f64 / 1024.0;
        }
        if let Ok(stat) = process.stat() {
            total.cpu += (stat.utime + stat.stime) as f64 / ticks;
        }
        total.pss += pss_kib(pid) / 1024.0;
    }
    total
}

/// The Pss line of /proc/PID/smaps_rollup, in KiB.
fn pss_kib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("Pss:"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn announcements_arrive_in_order_with_their_pid() {
        let dir = std::env::temp_dir().join(format!("bench-observe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder");
        let pipe = dir.join("pipe");
        let _ = std::fs::remove_file(&pipe);
        let announcements = Announcements::open(&pipe).expect("opens");
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "echo \"start one $$\" > {0}; echo garbage > {0}; echo \"ready one $$\" > {0}",
                pipe.display()
            ))
            .status()
            .expect("sh runs");
        assert!(status.success());
        let names = HashSet::from(["one".to_string()]);
        let seen = announcements
            .until_all("ready", &names, Duration::from_secs(10))
            .expect("both lines");
        assert_eq!(
            seen.iter().map(|a| a.kind.as_str()).collect::<Vec<_>>(),
            ["start", "ready"]
        );
        assert_eq!(seen[0].pid, seen[1].pid);
        assert!(seen[0].pid > 1);
        let error = announcements
            .until_all("ready", &names, Duration::from_millis(50))
            .expect_err("nothing more comes");
        assert_eq!(error, "only 0 of 1 services said `ready` within 50ms");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn marked_processes_are_found_and_killed() {
        let mark = format!("test-{}", std::process::id());
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("sleep 600 & wait")
            .env(MARK_VARIABLE, &mark)
            .spawn()
            .expect("sh runs");
        let deadline = Instant::now() + Duration::from_secs(10);
        while marked_processes(&mark).len() < 2 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(marked_processes(&mark).len(), 2, "sh and its sleep");
        kill_marked(&mark);
        let _ = child.wait();
        assert_eq!(wait_marked_gone(&mark, Duration::from_secs(10)), 0);
    }

    #[test]
    fn usage_reads_our_own_process() {
        let ours = usage(&[std::process::id()]);
        assert!(ours.rss > 0.0 && ours.pss > 0.0 && ours.peak_rss >= ours.rss);
        assert_eq!(usage(&[u32::MAX]), Usage::default());
    }
}
