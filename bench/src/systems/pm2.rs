//! pm2 (from npm): its daemon in a private PM2_HOME, the services in one ecosystem file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use super::{Running, Setup, System, host_command, run, write_error};
use crate::observe;

/// pm2, with the fastest settings its users have: `restart_delay: 0`, `min_uptime: 100`
/// ms and a high `max_restarts`, so every crash restarts at once; SIGTERM to stop (pm2
/// 7 reads it only from `PM2_KILL_SIGNAL`, and sends SIGINT otherwise).
pub struct Pm2 {
    /// The `pm2` program.
    pub program: PathBuf,
}

impl System for Pm2 {
    fn name(&self) -> &'static str {
        "pm2"
    }

    fn has_probes(&self) -> bool {
        false
    }

    fn settings(&self) -> String {
        "interpreter none, autorestart, restart_delay 0, min_uptime 100 ms (its minimum), \
     max_restarts 100000, treekill (default), kill_timeout 1600 ms (default), \
     PM2_KILL_SIGNAL=SIGTERM, `pm2 kill` to stop"
            .to_string()
    }

    fn start(&self, setup: &Setup) -> Result<Box<dyn Running>, String> {
        super::write_scripts(setup, setup.dir, ":")?;
        let home = setup.dir.join("pm2");
        std::fs::create_dir_all(&home).map_err(|error| write_error(&home, error))?;
        let file = setup.dir.join("ecosystem.json");
        std::fs::write(&file, ecosystem(setup).to_string())
            .map_err(|error| write_error(&file, error))?;
        let running = Pm2Running {
            program: self.program.clone(),
            home,
        };
        running.pm2(&["start", &file.display().to_string()])?;
        Ok(Box::new(running))
    }
}

fn ecosystem(setup: &Setup) -> serde_json::Value {
    let apps: Vec<serde_json::Value> = setup
        .services
        .iter()
        .map(|service| {
            let command = host_command(setup, service);
            json!({
                "name": service.name,
                "script": command[0],
                "args": command[1..],
                "interpreter": "none",
                "autorestart": true,
                "restart_delay": 0,
                "min_uptime": 100,
                "max_restarts": 100000,
                "merge_logs": true,
                "out_file": "/dev/null",
                "error_file": "/dev/null",
            })
        })
        .collect();
    json!({ "apps": apps })
}

struct Pm2Running {
    program: PathBuf,
    home: PathBuf,
}

impl Pm2Running {
    fn pm2(&self, args: &[&str]) -> Result<String, String> {
        let home = self.home.display().to_string();
        run(
            &self.program,
            args,
            &[("PM2_HOME", &home), ("PM2_KILL_SIGNAL", "SIGTERM")],
        )
    }

    fn daemon_pid(&self) -> Option<u32> {
        daemon_pid(&self.home)
    }
}

fn daemon_pid(home: &Path) -> Option<u32> {
    std::fs::read_to_string(home.join("pm2.pid"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

impl Running for Pm2Running {
    fn supervisor_pids(&self) -> Vec<u32> {
        self.daemon_pid().into_iter().collect()
    }

    fn stop(&mut self) -> Result<(), String> {
        self.pm2(&["kill"]).map(drop)
    }

    fn kill_supervisor(&mut self) {
        if let Some(pid) = self.daemon_pid() {
            observe::kill(pid, nix::sys::signal::Signal::SIGKILL);
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            while observe::alive(pid) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
}

impl Drop for Pm2Running {
    fn drop(&mut self) {
        if self.daemon_pid().is_some_and(observe::alive) && self.stop().is_err() {
            self.kill_supervisor();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systems::{Behaviour, Service};

    #[test]
    fn apps_run_the_marked_script_without_an_interpreter() {
        let services = [Service {
            name: "a".to_string(),
            depends_on: Vec::new(),
            level: 0,
            behaviour: Behaviour::Announce,
        }];
        let setup = Setup {
            dir: Path::new("/run"),
            services: &services,
            mark: "m1",
            probe: None,
        };
        let app = &ecosystem(&setup)["apps"][0];
        assert_eq!(app["script"], "/usr/bin/env");
        assert_eq!(
            app["args"],
            json!(["CLARA_BENCH_MARK=m1", "sh", "/run/scripts/a.sh"])
        );
        assert_eq!(app["interpreter"], "none");
        assert_eq!(app["restart_delay"], 0);
    }
}
