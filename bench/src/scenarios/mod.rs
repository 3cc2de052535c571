//! The scenarios, each run for our supervisor and every peer that can do it.

mod app;
mod clean_stop;
mod container_start;
mod crash_restart;
mod footprint;
mod scale;
mod soak;
mod startup_dag;

use std::cell::Cell;
use std::path::PathBuf;
use std::time::Duration;

pub use app::{AppBuild, app};
pub use clean_stop::clean_stop;
pub use container_start::container_start;
pub use crash_restart::crash_restart;
pub use footprint::footprint;
pub use scale::scale;
pub use soak::soak;
pub use startup_dag::startup_dag;

use crate::observe::{self, Announcements};
use crate::peers::Installed;
use crate::results::Row;
use crate::systems::{Clara, Compose, Pm2, S6, Service, Setup, Supervisord, System};

/// How hard to run: full for the published results, quick to check that it all works.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    /// Rounds per system and scenario (the median is reported).
    pub rounds: usize,
    /// How long the footprint scenario watches the idle supervisors.
    pub idle: Duration,
    /// Services in the scale scenario.
    pub scale: usize,
    /// How long the soak sends signals.
    pub soak: Duration,
}

impl Size {
    /// The published settings.
    pub const FULL: Size = Size {
        rounds: 5,
        idle: Duration::from_secs(60),
        scale: 500,
        soak: Duration::from_secs(300),
    };
    /// A quick pass that only shows every scenario still works.
    pub const QUICK: Size = Size {
        rounds: 1,
        idle: Duration::from_secs(3),
        scale: 40,
        soak: Duration::from_secs(10),
    };
}

/// What every scenario needs: the programs, a place to work, and the size.
pub struct Bench {
    /// Where each run gets a fresh folder.
    pub work: PathBuf,
    /// The programs.
    pub installed: Installed,
    /// How hard to run.
    pub size: Size,
    /// Only our supervisor (no peers): to check the benchmark itself quickly.
    pub ours_only: bool,
    runs: Cell<usize>,
}

/// A fresh folder, its announcement pipe and a mark for one run of one system.
pub struct Run {
    /// The folder.
    pub dir: PathBuf,
    /// Where the services announce themselves.
    pub announcements: Announcements,
    /// The mark every service process carries.
    pub mark: String,
}

impl Run {
    /// The setup for `services` in this run.
    pub fn setup<'a>(&'a self, services: &'a [Service], probe: Option<Duration>) -> Setup<'a> {
        Setup {
            dir: &self.dir,
            services,
            mark: &self.mark,
            probe,
        }
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // Whatever a system left behind must not weigh on the next one.
        observe::kill_marked(&self.mark);
    }
}

impl Bench {
    /// A bench working under `work`.
    pub fn new(work: PathBuf, installed: Installed, size: Size, ours_only: bool) -> Bench {
        Bench {
            work,
            installed,
            size,
            ours_only,
            runs: Cell::new(0),
        }
    }

    /// A fresh run folder named after `label`.
    pub fn run(&self, label: &str) -> Result<Run, String> {
        let number = self.runs.get() + 1;
        self.runs.set(number);
        let mark = format!("{label}-{number}-{}", std::process::id());
        let dir = self.work.join(&mark);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .map_err(|error| format!("cannot make {}: {error}", dir.display()))?;
        let announcements = Announcements::open(&dir.join("announce"))?;
        Ok(Run {
            dir,
            announcements,
            mark,
        })
    }

    /// Our supervisor.
    pub fn clara(&self) -> Clara {
        Clara {
            program: self.installed.clara.clone(),
        }
    }

    /// The process supervisors among the peers (not Docker), unless ours only.
    pub fn process_peers(&self) -> Vec<Box<dyn System>> {
        if self.ours_only {
            return Vec::new();
        }
        vec![
            Box::new(Supervisord {
                program: self.installed.supervisord.clone(),
            }),
            Box::new(Pm2 {
                program: self.installed.pm2.clone(),
            }),
            Box::new(S6 {
                bin: self.installed.s6_bin.clone(),
            }),
        ]
    }

    /// Ours, then the process supervisors among the peers.
    pub fn process_systems(&self) -> Vec<Box<dyn System>> {
        let mut systems: Vec<Box<dyn System>> = vec![Box::new(self.clara())];
        systems.extend(self.process_peers());
        systems
    }

    /// docker-compose with health checks every `interval`, where Docker runs and peers are wanted.
    pub fn compose(&self, interval: Duration) -> Option<Compose> {
        (self.installed.docker && !self.ours_only).then(|| Compose {
            program: self.installed.compose.clone(),
            interval,
        })
    }
}

/// A peer's failure becomes a row saying so, and the benchmark goes on; ours stops it.
pub fn or_failed(
    result: Result<Vec<Row>, String>,
    system: &str,
    scenario: &'static str,
    measure: &'static str,
    unit: &'static str,
) -> Result<Vec<Row>, String> {
    match result {
        Err(error) if system != crate::results::OURS => {
            eprintln!("    {system} failed: {error}");
            Ok(vec![Row::unsupported(
                scenario,
                measure,
                system,
                unit,
                format!("FAILED: {error}"),
            )])
        }
        other => other,
    }
}
