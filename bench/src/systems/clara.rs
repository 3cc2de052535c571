//! Ours: `clara-supervisor up` in the foreground, its events read as JSON lines.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use super::{
    Behaviour, Running, Setup, System, host_command, kill_child, terminate_child, write_error,
};
use crate::observe;

/// ClaraVerse Supervisor, run through its CLI.
pub struct Clara {
    /// The `clara-supervisor` binary.
    pub program: PathBuf,
}

/// The file, in the run folder, where every event line is kept (for the timeline).
pub const EVENTS_FILE: &str = "events.jsonl";

impl System for Clara {
    fn name(&self) -> &'static str {
        crate::results::OURS
    }

    fn has_probes(&self) -> bool {
        true
    }

    fn settings(&self) -> String {
        "restart always with 0 s backoff; readiness from the log line `^ready$`; \
         5 s exec probe `true` where probed; SIGTERM to `up` to stop"
            .to_string()
    }

    fn start(&self, setup: &Setup) -> Result<Box<dyn Running>, String> {
        super::write_scripts(setup, setup.dir, "echo ready")?;
        let file = setup.dir.join("services.toml");
        std::fs::write(&file, definitions(setup)).map_err(|error| write_error(&file, error))?;
        start_definitions(&self.program, setup.dir, &file)
    }
}

/// Starts `clara-supervisor up` on the definitions in `file`, with its state in `dir`.
pub fn start_definitions(
    program: &Path,
    dir: &Path,
    file: &Path,
) -> Result<Box<dyn Running>, String> {
    let stderr = dir.join("supervisor.log");
    let stderr_file =
        std::fs::File::create(&stderr).map_err(|error| write_error(&stderr, error))?;
    let mut child = Command::new(program)
        .arg("up")
        .arg(file)
        .arg("--json")
        .arg("--state-dir")
        .arg(dir.join("state"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr_file)
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", program.display()))?;
    let stdout = child
        .stdout
        .take()
        .ok_or("the supervisor's output is not piped")?;
    let events_path = dir.join(EVENTS_FILE);
    let mut events_file =
        std::fs::File::create(&events_path).map_err(|error| write_error(&events_path, error))?;
    let (sender, events) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            let at = Instant::now();
            let _ = writeln!(events_file, "{line}");
            let _ = sender.send((at, line));
        }
    });
    Ok(Box::new(ClaraRunning { child, events }))
}

/// The definitions file for `setup`.
fn definitions(setup: &Setup) -> String {
    let mut text = String::new();
    for service in setup.services {
        let command: Vec<String> = host_command(setup, service)
            .iter()
            .map(|word| format!("{word:?}"))
            .collect();
        let _ = writeln!(text, "[services.{}]", service.name);
        let _ = writeln!(text, "command = [{}]", command.join(", "));
        if !service.depends_on.is_empty() {
            let names: Vec<String> = service
                .depends_on
                .iter()
                .map(|name| format!("{name:?}"))
                .collect();
            let _ = writeln!(text, "depends_on = [{}]", names.join(", "));
        }
        if let Behaviour::ReadyAfter(_) = service.behaviour {
            let _ = writeln!(text, "health = {{ log = \"^ready$\" }}");
        } else if let Some(interval) = setup.probe {
            let _ = writeln!(
                text,
                "health = {{ exec = [\"true\"], interval = \"{}ms\", timeout = \"2s\" }}",
                interval.as_millis()
            );
        }
        let _ = writeln!(
            text,
            "restart = {{ policy = \"always\", backoff = \"0s\", max_restarts = 100000 }}\n"
        );
    }
    text
}

struct ClaraRunning {
    child: Child,
    events: Receiver<(Instant, String)>,
}

impl Running for ClaraRunning {
    fn supervisor_pids(&self) -> Vec<u32> {
        // The supervisor and its orphan guard (the same binary, run as `__clara-guard`).
        let mut pids = vec![self.child.id()];
        pids.extend(
            observe::children(self.child.id())
                .into_iter()
                .filter(|&pid| {
                    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                        String::from_utf8_lossy(&cmdline).contains("__clara-guard")
                    })
                }),
        );
        pids
    }

    fn stop(&mut self) -> Result<(), String> {
        terminate_child(&mut self.child, Duration::from_secs(120))
    }

    fn kill_supervisor(&mut self) {
        kill_child(&mut self.child);
    }

    fn reported_ready(&mut self, timeout: Duration) -> Result<Instant, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (at, line) = self
                .events
                .recv_timeout(left)
                .map_err(|_| format!("no start-up-complete event within {timeout:?}"))?;
            if line.contains("\"event\":\"startup-complete\"") {
                return Ok(at);
            }
            if line.contains("\"event\":\"startup-failed\"") {
                return Err(format!("the start-up failed: {line}"));
            }
        }
    }
}

impl Drop for ClaraRunning {
    fn drop(&mut self) {
        if terminate_child(&mut self.child, Duration::from_secs(30)).is_err() {
            kill_child(&mut self.child);
        }
    }
}

/// The events `clara-supervisor up --json` printed during a run, in order.
pub fn read_events(dir: &Path) -> Result<Vec<serde_json::Value>, String> {
    let path = dir.join(EVENTS_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
    text.lines()
        .enumerate()
        .map(|(index, line)| {
            serde_json::from_str(line)
                .map_err(|error| format!("{}:{}: {error}", path.display(), index + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::Service;

    #[test]
    fn definitions_say_dependencies_readiness_and_fast_restarts() {
        let services = [
            Service {
                name: "a".to_string(),
                depends_on: Vec::new(),
                level: 0,
                behaviour: Behaviour::ReadyAfter(Duration::from_millis(200)),
            },
            Service {
                name: "b".to_string(),
                depends_on: vec!["a".to_string()],
                level: 1,
                behaviour: Behaviour::Announce,
            },
        ];
        let setup = Setup {
            dir: Path::new("/run"),
            services: &services,
            mark: "m1",
            probe: Some(Duration::from_secs(5)),
        };
        assert_eq!(
            definitions(&setup),
            "[services.a]\ncommand = [\"/usr/bin/env\", \"CLARA_BENCH_MARK=m1\", \"sh\", \"/run/scripts/a.sh\"]\n\
             health = { log = \"^ready$\" }\n\
             restart = { policy = \"always\", backoff = \"0s\", max_restarts = 100000 }\n\n\
             [services.b]\ncommand = [\"/usr/bin/env\", \"CLARA_BENCH_MARK=m1\", \"sh\", \"/run/scripts/b.sh\"]\n\
             depends_on = [\"a\"]\n\
             health = { exec = [\"true\"], interval = \"5000ms\", timeout = \"2s\" }\n\
             restart = { policy = \"always\", backoff = \"0s\", max_restarts = 100000 }\n\n"
        );
    }
}
