//! s6 (from Debian): `s6-svscan` on a scan folder with one service folder per service.

use std::path::PathBuf;
use std::process::Child;
use std::time::Duration;

use super::{Running, Setup, System, kill_child, run, spawn_foreground, wait_exit, write_error};
use crate::observe;

/// s6, with the fastest settings its users have: each service signals readiness on
/// `notification-fd` (without it, s6-supervise waits a second before respawning a service
/// that died); `s6-svscanctl -t` to stop everything.
pub struct S6 {
    /// The folder holding `s6-svscan`, `s6-svscanctl`.
    pub bin: PathBuf,
}

impl System for S6 {
    fn name(&self) -> &'static str {
        "s6"
    }

    fn has_probes(&self) -> bool {
        false
    }

    fn settings(&self) -> String {
        "notification-fd 3 (readiness), s6-svscanctl -t to stop, \
     s6-svscan in the foreground"
            .to_string()
    }

    fn start(&self, setup: &Setup) -> Result<Box<dyn Running>, String> {
        super::write_scripts(setup, setup.dir, "echo >&3")?;
        let scan = setup.dir.join("scan");
        for service in setup.services {
            let folder = scan.join(&service.name);
            std::fs::create_dir_all(&folder).map_err(|error| write_error(&folder, error))?;
            let run_file = folder.join("run");
            let command = super::host_command(setup, service).join(" ");
            std::fs::write(&run_file, format!("#!/bin/sh\nexec {command}\n"))
                .map_err(|error| write_error(&run_file, error))?;
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&run_file, std::fs::Permissions::from_mode(0o755))
                .map_err(|error| write_error(&run_file, error))?;
            let fd = folder.join("notification-fd");
            std::fs::write(&fd, "3\n").map_err(|error| write_error(&fd, error))?;
        }
        let scan_arg = scan.display().to_string();
        let child = spawn_foreground(
            &self.bin.join("s6-svscan"),
            &[&scan_arg],
            &setup.dir.join("s6-svscan.out"),
        )?;
        Ok(Box::new(S6Running {
            bin: self.bin.clone(),
            scan: scan_arg,
            child,
        }))
    }
}

struct S6Running {
    bin: PathBuf,
    scan: String,
    child: Child,
}

impl S6Running {
    /// The s6-supervise processes of this scan folder: each works in its service's folder.
    fn supervisors(&self) -> Vec<u32> {
        let Ok(all) = procfs::process::all_processes() else {
            return Vec::new();
        };
        all.filter_map(Result::ok)
            .filter(|process| process.pid as u32 != self.child.id())
            .filter(|process| {
                process.stat().is_ok_and(|stat| stat.comm == "s6-supervise")
                    && process.cwd().is_ok_and(|cwd| cwd.starts_with(&self.scan))
            })
            .map(|process| process.pid as u32)
            .collect()
    }
}

impl Running for S6Running {
    fn supervisor_pids(&self) -> Vec<u32> {
        // s6-svscan and one s6-supervise per service.
        let mut pids = vec![self.child.id()];
        pids.extend(self.supervisors());
        pids
    }

    fn stop(&mut self) -> Result<(), String> {
        if matches!(self.child.try_wait(), Ok(None)) {
            run(&self.bin.join("s6-svscanctl"), &["-t", &self.scan], &[])?;
        }
        wait_exit(&mut self.child, Duration::from_secs(120))
    }

    fn kill_supervisor(&mut self) {
        kill_child(&mut self.child);
    }
}

impl Drop for S6Running {
    fn drop(&mut self) {
        // s6-supervise outlives a killed s6-svscan; stop each of them too.
        let orphans = self.supervisors();
        if self.stop().is_err() {
            kill_child(&mut self.child);
        }
        for pid in orphans {
            observe::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}
