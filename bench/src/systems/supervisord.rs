//! supervisord (from PyPI), in the foreground, one `[program:x]` per service.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use super::{Running, Setup, System, host_command, kill_child, spawn_foreground, terminate_child};

/// supervisord, with the fastest settings its users have: `startsecs=0` (running at
/// once), `autorestart=true`, and `stopasgroup`/`killasgroup` so a stop reaches every
/// process of a service.
pub struct Supervisord {
    /// The `supervisord` program.
    pub program: PathBuf,
}

impl System for Supervisord {
    fn name(&self) -> &'static str {
        "supervisord"
    }

    fn has_probes(&self) -> bool {
        false
    }

    fn settings(&self) -> String {
        "startsecs=0, autorestart=true, stopasgroup=true, killasgroup=true, \
     stopwaitsecs=10, priority by dependency level, nodaemon, SIGTERM to stop"
            .to_string()
    }

    fn start(&self, setup: &Setup) -> Result<Box<dyn Running>, String> {
        super::write_scripts(setup, setup.dir, ":")?;
        let file = setup.dir.join("supervisord.conf");
        std::fs::write(&file, configuration(setup))
            .map_err(|error| super::write_error(&file, error))?;
        let file = file.display().to_string();
        let child = spawn_foreground(
            &self.program,
            &["-n", "-c", &file],
            &setup.dir.join("supervisord.out"),
        )?;
        Ok(Box::new(SupervisordRunning { child }))
    }
}

fn configuration(setup: &Setup) -> String {
    let dir = setup.dir.display();
    let mut text = format!(
        "[supervisord]\nnodaemon=true\nlogfile={dir}/supervisord.log\npidfile={dir}/supervisord.pid\n\
         childlogdir={dir}\nminfds=8192\nminprocs=2000\n\n"
    );
    for service in setup.services {
        let _ = write!(
            text,
            "[program:{}]\ncommand={}\npriority={}\nstartsecs=0\nautorestart=true\n\
             startretries=100000\nstopasgroup=true\nkillasgroup=true\nstopwaitsecs=10\n\
             stdout_logfile=NONE\nstderr_logfile=NONE\n\n",
            service.name,
            host_command(setup, service).join(" "),
            100 + service.level,
        );
    }
    text
}

struct SupervisordRunning {
    child: Child,
}

impl Running for SupervisordRunning {
    fn supervisor_pids(&self) -> Vec<u32> {
        vec![self.child.id()]
    }

    fn stop(&mut self) -> Result<(), String> {
        terminate_child(&mut self.child, Duration::from_secs(120))
    }

    fn kill_supervisor(&mut self) {
        kill_child(&mut self.child);
    }
}

impl Drop for SupervisordRunning {
    fn drop(&mut self) {
        if self.stop().is_err() {
            kill_child(&mut self.child);
        }
    }
}
