//! The supervisors compared, behind one interface: each writes its own configuration for
//! the same services, the way its users would, and starts, stops or kills itself.
//!
//! Every service runs the same shell script on every system (see [`script`]); only the
//! readiness signal differs, because each system has its own.

mod clara;
mod compose;
mod pm2;
mod s6;
mod supervisord;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use clara::{Clara, EVENTS_FILE, read_events, start_definitions};
pub use compose::{Compose, IMAGE, Project};
pub use pm2::Pm2;
pub use s6::S6;
pub use supervisord::Supervisord;

use crate::observe::{self, Announcement, MARK_VARIABLE};

/// What a service does; the same on every system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Behaviour {
    /// Says `start`, is ready after the delay (signals it and says `ready`), then idles.
    ReadyAfter(Duration),
    /// Says `start` with its pid, signals readiness at once, then idles.
    Announce,
    /// Has a child and a grandchild, signals readiness, says `start`, and exits
    /// `delay` after SIGTERM (the child and grandchild do not trap it).
    SlowStop {
        /// How long it takes to stop after SIGTERM.
        delay: Duration,
    },
}

/// One service of a scenario.
#[derive(Debug, Clone)]
pub struct Service {
    /// Its name (letters, digits, dashes).
    pub name: String,
    /// Services that must be ready before it starts.
    pub depends_on: Vec<String>,
    /// Its dependency level (0 for none), used where a system orders by priority.
    pub level: usize,
    /// What it does.
    pub behaviour: Behaviour,
}

impl Service {
    /// `count` independent services named `{prefix}-000`, `{prefix}-001`, …
    pub fn many(prefix: &str, count: usize, behaviour: Behaviour) -> Vec<Service> {
        (0..count)
            .map(|index| Service {
                name: format!("{prefix}-{index:03}"),
                depends_on: Vec::new(),
                level: 0,
                behaviour,
            })
            .collect()
    }

    /// The names of `services`.
    pub fn names(services: &[Service]) -> HashSet<String> {
        services
            .iter()
            .map(|service| service.name.clone())
            .collect()
    }
}

/// Everything a system needs to set a scenario up.
pub struct Setup<'a> {
    /// A fresh folder for this run: configuration, scripts, state.
    pub dir: &'a Path,
    /// The services.
    pub services: &'a [Service],
    /// The value of [`MARK_VARIABLE`] that every service process carries.
    pub mark: &'a str,
    /// A health probe on each service at this interval, where the system has probes.
    pub probe: Option<Duration>,
}

/// A supervisor under test.
pub trait System {
    /// Its name in the results.
    fn name(&self) -> &'static str;
    /// Writes its configuration for `setup` and starts it with every service.
    fn start(&self, setup: &Setup) -> Result<Box<dyn Running>, String>;
    /// Whether it offers health probes (footprint with probes needs them).
    fn has_probes(&self) -> bool;
    /// The settings it runs with, for the report.
    fn settings(&self) -> String;
}

/// A started system.
pub trait Running {
    /// The supervisor's own processes (whose memory and CPU are its footprint).
    fn supervisor_pids(&self) -> Vec<u32>;
    /// Stops every service and the supervisor, the way its users would; returns when the
    /// system says it is done.
    fn stop(&mut self) -> Result<(), String>;
    /// SIGKILLs the supervisor's main process, as a crash would.
    fn kill_supervisor(&mut self);
    /// Waits until the system itself reports every service ready; Err when it cannot say.
    fn reported_ready(&mut self, timeout: Duration) -> Result<Instant, String> {
        let _ = timeout;
        Err("this system has no notion of ready".to_string())
    }
    /// The host pid to SIGKILL for a service that announced itself.
    fn host_pid(&self, announcement: &Announcement) -> Result<u32, String> {
        Ok(announcement.pid)
    }
}

/// The script every system runs for `service`. `root` is where the run folder appears to
/// the service (itself, or a mount inside a container); `ready` is the system's readiness
/// signal, one shell command. A service announces `ready` before it gives that signal:
/// the other way round, a supervisor that reacts at once could start a dependent whose
/// `start` reached the pipe before its dependency's `ready`, and be counted as starting
/// it too early.
pub fn script(service: &Service, root: &Path, ready: &str) -> String {
    let pipe = root.join("announce");
    let pipe = pipe.display();
    let name = &service.name;
    match service.behaviour {
        Behaviour::ReadyAfter(delay) => format!(
            "echo \"start {name} $$\" > {pipe}\nsleep {}\necho \"ready {name} $$\" > {pipe}\n{ready}\nexec sleep 3600\n",
            delay.as_secs_f64()
        ),
        Behaviour::Announce => {
            format!("{ready}\necho \"start {name} $$\" > {pipe}\nexec sleep 3600\n")
        }
        Behaviour::SlowStop { delay } => format!(
            "trap 'sleep {}; exit 0' TERM\nsh -c 'sleep 3600 & wait' &\n{ready}\necho \"start {name} $$\" > {pipe}\nwait\n",
            delay.as_secs_f64()
        ),
    }
}

/// Where a service's script is, under the run folder `dir` (as the service sees it).
fn script_path(dir: &Path, service: &Service) -> PathBuf {
    dir.join("scripts").join(format!("{}.sh", service.name))
}

/// Writes each service's script to `dir/scripts/NAME.sh`.
pub fn write_scripts(setup: &Setup, root: &Path, ready: &str) -> Result<(), String> {
    let scripts = setup.dir.join("scripts");
    std::fs::create_dir_all(&scripts).map_err(|error| write_error(&scripts, error))?;
    for service in setup.services {
        let path = script_path(setup.dir, service);
        std::fs::write(&path, script(service, root, ready))
            .map_err(|error| write_error(&path, error))?;
    }
    Ok(())
}

/// The command line that runs a service's script on the host, marked.
pub fn host_command(setup: &Setup, service: &Service) -> Vec<String> {
    vec![
        "/usr/bin/env".to_string(),
        format!("{MARK_VARIABLE}={}", setup.mark),
        "sh".to_string(),
        script_path(setup.dir, service).display().to_string(),
    ]
}

/// "cannot write PATH: ERROR".
pub fn write_error(path: &Path, error: std::io::Error) -> String {
    format!("cannot write {}: {error}", path.display())
}

/// Runs `program` with `args` to completion; Err with its output when it fails.
pub fn run(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Result<String, String> {
    let output = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run {}: {error}", program.display()))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        // Some programs (pm2) say why on standard output.
        let said = [&output.stderr, &output.stdout]
            .iter()
            .map(|bytes| String::from_utf8_lossy(bytes).trim().to_string())
            .filter(|text| !text.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        Err(format!(
            "`{} {}` failed ({}): {said}",
            program.display(),
            args.join(" "),
            output.status,
        ))
    }
}

/// Spawns a supervisor that stays in the foreground, its output to `log`.
pub fn spawn_foreground(program: &Path, args: &[&str], log: &Path) -> Result<Child, String> {
    let file = std::fs::File::create(log).map_err(|error| write_error(log, error))?;
    let err = file.try_clone().map_err(|error| write_error(log, error))?;
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err)
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", program.display()))
}

/// Waits for a foreground supervisor to exit within `timeout`; Err when it does not.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return Ok(()),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(None) => return Err(format!("it did not exit within {timeout:?}")),
            Err(error) => return Err(format!("cannot wait for it: {error}")),
        }
    }
}

/// SIGKILLs a foreground supervisor and reaps it.
pub fn kill_child(child: &mut Child) {
    // `Child::kill` sends nothing to a child already reaped, whose pid may be reused.
    let _ = child.kill();
    let _ = child.wait();
}

/// SIGTERMs a foreground supervisor still running and waits up to `timeout` for it.
pub fn terminate_child(child: &mut Child, timeout: Duration) -> Result<(), String> {
    if matches!(child.try_wait(), Ok(None)) {
        observe::kill(child.id(), nix::sys::signal::Signal::SIGTERM);
    }
    wait_exit(child, timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(behaviour: Behaviour) -> Service {
        Service {
            name: "web".to_string(),
            depends_on: Vec::new(),
            level: 0,
            behaviour,
        }
    }

    #[test]
    fn scripts_announce_on_the_pipe_under_the_root() {
        let root = Path::new("/bench");
        assert_eq!(
            script(
                &service(Behaviour::ReadyAfter(Duration::from_millis(200))),
                root,
                "echo ready"
            ),
            "echo \"start web $$\" > /bench/announce\nsleep 0.2\n\
             echo \"ready web $$\" > /bench/announce\necho ready\nexec sleep 3600\n"
        );
        assert_eq!(
            script(&service(Behaviour::Announce), root, ":"),
            ":\necho \"start web $$\" > /bench/announce\nexec sleep 3600\n"
        );
        assert_eq!(
            script(
                &service(Behaviour::SlowStop {
                    delay: Duration::from_millis(300)
                }),
                root,
                "echo >&3"
            ),
            "trap 'sleep 0.3; exit 0' TERM\nsh -c 'sleep 3600 & wait' &\necho >&3\n\
             echo \"start web $$\" > /bench/announce\nwait\n"
        );
    }

    #[test]
    fn the_slow_stop_script_really_delays_sigterm_and_leaves_its_children() {
        let dir = std::env::temp_dir().join(format!("bench-script-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a folder");
        let announcements =
            observe::Announcements::open(&dir.join("announce")).expect("the pipe opens");
        let text = script(
            &service(Behaviour::SlowStop {
                delay: Duration::from_millis(300),
            }),
            &dir,
            ":",
        );
        let mark = format!("script-{}", std::process::id());
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(text)
            .env(MARK_VARIABLE, &mark)
            .spawn()
            .expect("sh runs");
        let started = announcements
            .next(Duration::from_secs(10))
            .expect("it says start");
        assert_eq!(started.pid, child.id());
        let deadline = Instant::now() + Duration::from_secs(10);
        while observe::marked_processes(&mark).len() < 3 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(observe::marked_processes(&mark).len(), 3);
        let signalled = Instant::now();
        observe::kill(child.id(), nix::sys::signal::Signal::SIGTERM);
        let _ = child.wait();
        assert!(signalled.elapsed() >= Duration::from_millis(300));
        // Only the main process stopped: its child and grandchild are left behind.
        assert_eq!(observe::marked_processes(&mark).len(), 2);
        observe::kill_marked(&mark);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
