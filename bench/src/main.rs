//! `bench`: runs ClaraVerse Supervisor side by side with supervisord, pm2, s6 and
//! docker-compose on this machine, and writes `bench/RESULTS.md`, `bench/results.json`
//! and the start-up timeline `bench/startup.svg`.
//!
//! `cargo run --release -p bench -- all` installs the peers where missing, then runs
//! every scenario. Linux only: the peers and the measurements (/proc) are.

#[cfg(target_os = "linux")]
mod goals;
#[cfg(target_os = "linux")]
mod observe;
#[cfg(target_os = "linux")]
mod peers;
#[cfg(target_os = "linux")]
mod report;
#[cfg(target_os = "linux")]
mod results;
#[cfg(target_os = "linux")]
mod scenarios;
#[cfg(target_os = "linux")]
mod systems;
#[cfg(target_os = "linux")]
mod timeline;

#[cfg(target_os = "linux")]
mod cli {
    use std::path::{Path, PathBuf};
    use std::process::ExitCode;

    use clap::{Parser, ValueEnum};

    use crate::results::Row;
    use crate::scenarios::{self, Bench, Size};
    use crate::{goals, peers, report};

    /// Benchmarks ClaraVerse Supervisor against the supervisors people already use.
    #[derive(Debug, Parser)]
    #[command(name = "bench")]
    struct Cli {
        /// The scenarios to run (`all` for every one).
        #[arg(required = true, value_enum)]
        scenarios: Vec<Scenario>,
        /// Rounds per system and scenario (default 5; 1 with --quick).
        #[arg(long)]
        rounds: Option<usize>,
        /// A quick pass (1 round, 3 s footprint window, 40 services to scale, 10 s soak) that checks
        /// the benchmark works; its figures are not for publishing.
        #[arg(long)]
        quick: bool,
        /// Only our supervisor: no peers, nothing installed.
        #[arg(long)]
        ours_only: bool,
        /// Do not install missing peers or start Docker.
        #[arg(long)]
        no_install: bool,
        /// Where the result files go.
        #[arg(long, default_value_os_t = default_out())]
        out: PathBuf,
        /// The app scenario measures the app already built in this cargo target folder
        /// (`release/claraverse` and `release/bundle/deb/*.deb`) instead of building the
        /// release app and its package with `npm run build`.
        #[arg(long)]
        app_target: Option<PathBuf>,
    }

    fn default_out() -> PathBuf {
        workspace().join("bench")
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
    enum Scenario {
        All,
        StartupDag,
        CrashRestart,
        Footprint,
        Scale,
        CleanStop,
        ContainerStart,
        Soak,
        App,
    }

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// Runs the benchmark; the exit code says whether it completed.
    pub fn main() -> ExitCode {
        let cli = Cli::parse();
        match run(&cli) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("bench: {error}");
                ExitCode::FAILURE
            }
        }
    }

    fn run(cli: &Cli) -> Result<(), String> {
        let workspace = workspace();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace.join("target"));
        let installed = peers::prepare(&workspace, &target, !cli.no_install && !cli.ours_only)?;
        let mut size = if cli.quick { Size::QUICK } else { Size::FULL };
        if let Some(rounds) = cli.rounds {
            size.rounds = rounds.max(1);
        }
        let work = target.join("bench").join("runs");
        let _ = std::fs::remove_dir_all(&work);
        let bench = Bench::new(work, installed, size, cli.ours_only);
        let wanted = |scenario: Scenario| {
            cli.scenarios.contains(&Scenario::All) || cli.scenarios.contains(&scenario)
        };
        let mut rows: Vec<Row> = Vec::new();
        std::fs::create_dir_all(&cli.out)
            .map_err(|error| format!("cannot make {}: {error}", cli.out.display()))?;
        if wanted(Scenario::StartupDag) {
            eprintln!("==> startup-dag");
            let (found, svg) = scenarios::startup_dag(&bench)?;
            rows.extend(found);
            write(&cli.out.join("startup.svg"), &svg)?;
        }
        type RunScenario = fn(&Bench) -> Result<Vec<Row>, String>;
        let others: [(Scenario, &str, RunScenario); 6] = [
            (
                Scenario::CrashRestart,
                "crash-restart",
                scenarios::crash_restart,
            ),
            (Scenario::Footprint, "footprint", scenarios::footprint),
            (Scenario::Scale, "scale", scenarios::scale),
            (Scenario::CleanStop, "clean-stop", scenarios::clean_stop),
            (
                Scenario::ContainerStart,
                "container-start",
                scenarios::container_start,
            ),
            (Scenario::Soak, "soak", scenarios::soak),
        ];
        for (scenario, name, function) in others {
            if wanted(scenario) {
                eprintln!("==> {name}");
                rows.extend(function(&bench)?);
            }
        }
        if wanted(Scenario::App) {
            eprintln!("==> app");
            let build = peers::app(&workspace, &target, cli.app_target.as_deref())?;
            rows.extend(scenarios::app(&bench, &build)?);
        }
        let context = report::Context {
            machine: peers::machine(),
            versions: peers::versions(&bench.installed),
            size: format!(
                "{} rounds per system and scenario ({} for crash-restart), median reported; \
                 footprint: one {} s window per system; scale: {} services; soak: {} s.{}",
                size.rounds,
                size.rounds * 2,
                size.idle.as_secs(),
                size.scale,
                size.soak.as_secs(),
                if cli.quick {
                    " QUICK PASS: not for publishing."
                } else {
                    ""
                }
            ),
            command: format!(
                "cargo run --release -p bench -- {}",
                std::env::args().skip(1).collect::<Vec<_>>().join(" ")
            ),
        };
        let goals = goals::check(&rows);
        write(
            &cli.out.join("RESULTS.md"),
            &report::markdown(&context, &rows, &goals),
        )?;
        let json = serde_json::to_string_pretty(&report::json(&context, &rows))
            .map_err(|error| error.to_string())?;
        write(&cli.out.join("results.json"), &(json + "\n"))?;
        for goal in &goals {
            eprintln!(
                "goal {}: {} -> {}",
                goal.text,
                goal.measured,
                match goal.met {
                    Some(true) => "met",
                    Some(false) => "MISSED",
                    None => "not checked",
                }
            );
        }
        eprintln!("wrote {}/RESULTS.md and results.json", cli.out.display());
        Ok(())
    }

    fn write(path: &Path, text: &str) -> Result<(), String> {
        std::fs::write(path, text)
            .map_err(|error| format!("cannot write {}: {error}", path.display()))
    }
}

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    cli::main()
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("bench: runs on Linux only (the peers and the /proc measurements are Linux's)");
    std::process::exit(1);
}
