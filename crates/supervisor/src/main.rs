//! `clara-supervisor`: the headless command line over the supervisor engine.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use futures_util::FutureExt;
use serde_json::json;

use clara_supervisor::backup::{self, BackupError};
use clara_supervisor::catalog;
use clara_supervisor::definitions::{self, Variables};
use clara_supervisor::diagnostics::{Diagnostic, SourceFile};
use clara_supervisor::events::{Event, EventKind};
use clara_supervisor::install::{self, SaveFolderError};
use clara_supervisor::load::{self, LoadError, LoadOptions, Loaded};
use clara_supervisor::lock::LockError;
use clara_supervisor::manager::{Manager, ManagerConfig, ManagerError, definitions_name};
use clara_supervisor::migration::{self, LegacyPaths, MoveError, MovePlan};
use clara_supervisor::platform::{Accelerator, Platform};
use clara_supervisor::runtime::{PullProgress, guard};
use clara_supervisor::selection::FeatureChoice;

/// The ClaraVerse service supervisor.
#[derive(Debug, Parser)]
#[command(name = "clara-supervisor", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a definitions file and report every problem at once.
    Validate {
        #[command(flatten)]
        input: Input,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
        format: ValidateFormat,
    },
    /// Print the start plan: waves of services that may start in parallel.
    Graph {
        #[command(flatten)]
        input: Input,
        /// Output format.
        #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
        format: GraphFormat,
    },
    /// Start every service and supervise them in the foreground until Ctrl-C or SIGTERM.
    ///
    /// Exit codes: 0 after a clean stop; 1 when the start-up failed or something went
    /// wrong; 2 when another supervisor already runs on the state directory (nothing is
    /// started or stopped then), or the arguments are wrong.
    Up {
        #[command(flatten)]
        input: Input,
        /// Print one JSON object per event on stdout instead of text.
        #[arg(long)]
        json: bool,
        /// Where state files and service logs are kept (default: $CLARA_HOME/state).
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Print the built-in ClaraVerse catalog, to copy and edit.
    Catalog,
    /// Save what the user chose on a state directory — features, services stopped by hand,
    /// the desktop settings — to FILE, in one versioned file.
    Backup {
        /// The backup file to write.
        file: PathBuf,
        /// The state directory (default: $CLARA_HOME/state).
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Put back what `backup` saved. The whole file is checked first: one that is not a
    /// backup, is damaged, or comes from a newer version is refused, and nothing changes.
    ///
    /// Exit codes: 0 once restored; 1 when refused or failed (nothing changed); 2 when a
    /// supervisor runs on the state directory (quit it first; nothing changed).
    Restore {
        /// The backup file to read.
        file: PathBuf,
        /// The state directory (default: $CLARA_HOME/state).
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Run a service's programs from a folder you already have (llama-swap and the llama.cpp
    /// server, for Clara Core) instead of downloading them. Each program is checked first
    /// (it is there and answers --version); the folder is then saved in the choices and
    /// used from the next start. Without FOLDER, the programs are downloaded again.
    ///
    /// Exit codes: 0 once saved; 1 when the folder is refused (nothing changed); 2 when a
    /// supervisor runs on the state directory (quit it first; nothing changed).
    UsePrograms {
        /// The folder of the programs; without it, they are downloaded.
        folder: Option<PathBuf>,
        /// The service whose programs these are.
        #[arg(long, default_value = "llamaswap")]
        service: String,
        /// The definitions file (default: the built-in catalog).
        #[arg(long)]
        config: Option<PathBuf>,
        /// The state directory (default: $CLARA_HOME/state).
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
    /// Download a service's programs into FOLDER, verified as at a start, with a `build`
    /// file naming their build: what the release workflow puts in the installers, which
    /// the desktop app then uses where they fit the machine.
    ///
    /// Exit codes: 0 once they are there; 1 when the download failed (nothing is kept).
    FetchPrograms {
        /// The folder to fill; it must not exist yet.
        folder: PathBuf,
        /// The service whose programs these are.
        #[arg(long, default_value = "llamaswap")]
        service: String,
        /// The build to fetch (cpu, vulkan, cuda, metal), where the release has several.
        #[arg(long, default_value = "cpu", value_parser = parse_build)]
        build: Accelerator,
        /// The platform whose programs to fetch (default: this machine's).
        #[arg(long, value_parser = parse_platform)]
        platform: Option<Platform>,
        /// The definitions file (default: the built-in catalog).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Carry over what the earlier (Electron) ClaraVerse app left: its features and own
    /// servers into the saved choices, its data used where it is, its containers stopped
    /// and kept under a new name. Prints the plan, then carries it out; the settings files
    /// are backed up first, so `--undo` can put everything back.
    ///
    /// Exit codes: 0 when done (or nothing was found); 1 when it failed; 2 when a
    /// supervisor runs on the state directory (quit it first; nothing changed).
    Migrate {
        /// Print the plan only; change nothing.
        #[arg(long, conflicts_with = "undo")]
        dry_run: bool,
        /// Undo the latest move: settings files back byte for byte, containers back under
        /// their names.
        #[arg(long)]
        undo: bool,
        /// The state directory (default: $CLARA_HOME/state).
        #[arg(long)]
        state_dir: Option<PathBuf>,
    },
}

/// Which definitions, for which features and platform.
#[derive(Debug, clap::Args)]
struct Input {
    /// The definitions file (TOML). Without it, the built-in ClaraVerse catalog.
    file: Option<PathBuf>,
    /// Comma-separated features to turn on (default: the file's default features;
    /// an empty value turns every feature off).
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// The platform whose overrides apply (default: this machine's).
    #[arg(long, value_parser = parse_platform)]
    platform: Option<Platform>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ValidateFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum GraphFormat {
    Text,
    Dot,
    Json,
}

fn parse_build(text: &str) -> Result<Accelerator, String> {
    text.parse()
}

fn parse_platform(text: &str) -> Result<Platform, String> {
    text.parse()
        .map_err(|error: clara_supervisor::platform::UnknownPlatform| error.to_string())
}

fn main() -> ExitCode {
    // This program doubles as the orphan guard of the services it starts.
    if let Some(code) = guard::run_if_requested() {
        return code;
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate { input, format } => validate(&input, format),
        Command::Graph { input, format } => graph(&input, format),
        Command::Up {
            input,
            json,
            state_dir,
        } => run_up(&input, json, state_dir),
        Command::Catalog => print(catalog::TEXT),
        Command::Backup { file, state_dir } => {
            let state_dir = state_dir.unwrap_or_else(default_state_dir);
            backup::back_up(&state_dir, &file)
                .map(|saved| {
                    println!(
                        "saved the choices of {} to {}: {}",
                        state_dir.display(),
                        file.display(),
                        describe(&saved)
                    );
                    ExitCode::SUCCESS
                })
                .map_err(|error| error.to_string())
        }
        Command::Restore { file, state_dir } => {
            let state_dir = state_dir.unwrap_or_else(default_state_dir);
            match backup::restore(&state_dir, &file, "clara-supervisor restore") {
                Ok(restored) => {
                    println!(
                        "restored {} (made {}) into {}: {}; they apply at the next start",
                        file.display(),
                        restored.created,
                        state_dir.display(),
                        describe(&restored)
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(error @ BackupError::Lock(LockError::Held { .. })) => {
                    eprintln!("error: {error}");
                    Ok(ExitCode::from(ALREADY_RUNNING))
                }
                Err(error) => Err(error.to_string()),
            }
        }
        Command::UsePrograms {
            folder,
            service,
            config,
            state_dir,
        } => {
            let state_dir = state_dir.unwrap_or_else(default_state_dir);
            current_thread_runtime().and_then(|runtime| {
                runtime.block_on(use_programs(
                    &service,
                    folder.as_deref(),
                    config.as_deref(),
                    &state_dir,
                ))
            })
        }
        Command::FetchPrograms {
            folder,
            service,
            build,
            platform,
            config,
        } => current_thread_runtime().and_then(|runtime| {
            runtime.block_on(fetch_programs(
                &service,
                &folder,
                build,
                platform.unwrap_or_else(Platform::current),
                config.as_deref(),
            ))
        }),
        Command::Migrate {
            dry_run,
            undo,
            state_dir,
        } => {
            let state_dir = state_dir.unwrap_or_else(default_state_dir);
            current_thread_runtime()
                .and_then(|runtime| runtime.block_on(migrate(&state_dir, dry_run, undo)))
        }
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `$CLARA_HOME/state`, where the app and `up` keep their state unless told otherwise.
fn default_state_dir() -> PathBuf {
    Variables::from_environment().default_state_dir()
}

/// `clara-supervisor use-programs`: a folder of programs checked, then saved.
async fn use_programs(
    name: &str,
    folder: Option<&Path>,
    config: Option<&Path>,
    state_dir: &Path,
) -> Result<ExitCode, String> {
    let source = definitions::read(config).map_err(|error| error.to_string())?;
    let checked = definitions::check(
        &source,
        Platform::current(),
        &LoadOptions::for_this_machine().variables,
    );
    let service = checked
        .definitions
        .as_ref()
        .and_then(|definitions| definitions.services.get(name))
        .ok_or_else(|| format!("{} defines no service \"{name}\"", source.name()))?;
    let Some(variable) = service
        .programs
        .as_ref()
        .and_then(|programs| programs.variable.clone())
    else {
        return Err(format!(
            "{name} cannot take its programs from a folder: its install names no folder_variable"
        ));
    };
    let said = match folder {
        Some(folder) => {
            let folder = std::path::absolute(folder).map_err(|error| error.to_string())?;
            let versions = install::check_folder(service, &folder).await?;
            (Some(folder), versions)
        }
        None => (None, Vec::new()),
    };
    match install::save_folder(
        state_dir,
        &variable,
        said.0.as_deref(),
        "clara-supervisor use-programs",
    ) {
        Ok(()) => {}
        Err(error @ SaveFolderError::Lock(LockError::Held { .. })) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(ALREADY_RUNNING));
        }
        Err(error) => return Err(error.to_string()),
    }
    match said {
        (Some(folder), versions) => println!(
            "{name} runs the programs in {} from its next start ({})",
            folder.display(),
            versions.join("; ")
        ),
        (None, _) => println!("{name} downloads its programs again from its next start"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `clara-supervisor fetch-programs`: a service's programs downloaded into `folder`.
async fn fetch_programs(
    name: &str,
    folder: &Path,
    build: Accelerator,
    platform: Platform,
    config: Option<&Path>,
) -> Result<ExitCode, String> {
    let source = definitions::read(config).map_err(|error| error.to_string())?;
    let variables = Variables::from_environment().with_accelerator(build);
    let checked = definitions::check(&source, platform, &variables);
    let service = checked
        .definitions
        .as_ref()
        .and_then(|definitions| definitions.services.get(name))
        .ok_or_else(|| format!("{} defines no service \"{name}\"", source.name()))?;
    let Some(install) = service.install.clone() else {
        return Err(format!(
            "{name} has nothing to download on {platform} (no install table, or its folder variable is set)"
        ));
    };
    if folder.exists() {
        return Err(format!(
            "{} exists already: give a new folder",
            folder.display()
        ));
    }
    let shipped = install.build().unwrap_or(build.name()).to_string();
    let install = definitions::Install {
        folder: folder.to_path_buf(),
        ..install
    };
    let (progress, mut updates) = tokio::sync::mpsc::unbounded_channel();
    let shown = tokio::spawn(async move {
        while let Some(update) = updates.recv().await {
            let PullProgress { done, total } = update;
            if done == total && total > 0 {
                eprintln!("downloaded {} MB", total / 1_000_000);
            }
        }
    });
    let outcome = install::Installer::new(install::STALL_TIMEOUT)
        .ensure(&install, &progress)
        .await;
    drop(progress);
    let _ = shown.await;
    outcome.map_err(|error| error.to_string())?;
    std::fs::write(folder.join("build"), format!("{shipped}\n"))
        .map_err(|error| format!("cannot write {} ({error})", folder.join("build").display()))?;
    for part in &install.parts {
        println!("{} {} from {}", part.program, part.version, part.url);
    }
    println!(
        "the {shipped} build of {name}'s programs is in {}",
        folder.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `clara-supervisor migrate`: the plan, then the move (or its undoing).
async fn migrate(state_dir: &Path, dry_run: bool, undo: bool) -> Result<ExitCode, String> {
    const HOLDER: &str = "clara-supervisor migrate";
    let outcome = if undo {
        migration::undo(state_dir, HOLDER, None)
            .await
            .map(|undone| {
                for file in &undone.files {
                    println!("put back {}", file.display());
                }
                for name in &undone.containers {
                    println!("the container {name} has its name back");
                }
                for problem in &undone.problems {
                    eprintln!("not done: {problem}");
                }
                println!("the move saved in {} is undone", undone.backup.display());
                undone.problems.is_empty()
            })
    } else {
        let Some(paths) = LegacyPaths::of_this_user() else {
            return Err(
                "this system names no home folder, so the earlier app cannot be looked for".into(),
            );
        };
        let plan = MovePlan::make(&paths, None).await;
        if !plan.anything() {
            println!(
                "nothing of the earlier ClaraVerse app was found (looked in {} and {}); nothing to move",
                paths.user_data.display(),
                paths.data.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        for line in plan.describe() {
            println!("- {line}");
        }
        if dry_run {
            println!("nothing was changed (--dry-run)");
            return Ok(ExitCode::SUCCESS);
        }
        migration::carry_out(&plan, state_dir, HOLDER, None)
            .await
            .map(|moved| {
                for (name, kept_as) in &moved.kept {
                    println!("the container {name} is stopped and kept as {kept_as}");
                }
                for problem in &moved.problems {
                    eprintln!("not done: {problem}");
                }
                println!(
                    "moved; the backup is in {} (clara-supervisor migrate --undo puts it back)",
                    moved.backup.display()
                );
                moved.problems.is_empty()
            })
    };
    match outcome {
        Ok(true) => Ok(ExitCode::SUCCESS),
        Ok(false) => Ok(ExitCode::FAILURE),
        Err(error @ MoveError::Lock(LockError::Held { .. })) => {
            eprintln!("error: {error}");
            Ok(ExitCode::from(ALREADY_RUNNING))
        }
        Err(error) => Err(error.to_string()),
    }
}

/// What a backup holds, in a line.
fn describe(saved: &backup::Backup) -> String {
    let list = |names: &BTreeSet<String>| {
        if names.is_empty() {
            "none".to_string()
        } else {
            names.iter().cloned().collect::<Vec<_>>().join(", ")
        }
    };
    let features = match &saved.choices.features {
        Some(features) => format!("features {}", list(features)),
        None => "features not chosen yet (the defaults)".to_string(),
    };
    let settings = if saved.settings.is_some() {
        "desktop settings"
    } else {
        "no desktop settings"
    };
    format!(
        "{features}; stopped by hand: {}; {settings}",
        list(&saved.choices.stopped)
    )
}

/// The source and the load options an `Input` describes.
fn read(input: &Input) -> Result<(SourceFile, LoadOptions), String> {
    let source = definitions::read(input.file.as_deref()).map_err(|error| error.to_string())?;
    let mut options = LoadOptions::for_this_machine();
    if let Some(platform) = input.platform {
        options.platform = platform;
    }
    if let Some(features) = &input.features {
        let names: BTreeSet<String> = features
            .iter()
            .map(|name| name.trim().to_string())
            .filter(|name| !name.is_empty())
            .collect();
        options.features = FeatureChoice::Only(names);
    }
    Ok((source, options))
}

fn validate(input: &Input, format: ValidateFormat) -> Result<ExitCode, String> {
    let (source, options) = read(input)?;
    let outcome = load::load(&source, &options);
    match format {
        ValidateFormat::Text => match &outcome {
            Ok(loaded) => {
                print_problems(&loaded.warnings);
                print(&format!(
                    "{}\n{}",
                    summary(source.name(), loaded),
                    pulled_in_notes(loaded)
                ))?;
                Ok(ExitCode::SUCCESS)
            }
            Err(error) => Ok(report_failure(&source, error)),
        },
        ValidateFormat::Json => {
            let document = match &outcome {
                Ok(loaded) => json!({
                    "file": source.name(),
                    "valid": true,
                    "services": loaded.definitions.services.len(),
                    "features": loaded.definitions.features.len(),
                    "selection": loaded.selection,
                    "errors": [],
                    "warnings": loaded.warnings,
                }),
                Err(error) => json!({
                    "file": source.name(),
                    "valid": false,
                    "errors": error.errors,
                    "warnings": error.warnings,
                }),
            };
            print(&format!("{document:#}\n"))?;
            Ok(if outcome.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

fn graph(input: &Input, format: GraphFormat) -> Result<ExitCode, String> {
    let (source, options) = read(input)?;
    let loaded = match load::load(&source, &options) {
        Ok(loaded) => loaded,
        Err(error) => return Ok(report_failure(&source, &error)),
    };
    print_problems(&loaded.warnings);
    let text = match format {
        GraphFormat::Text => {
            let mut text = String::new();
            for (index, wave) in loaded.plan.waves().iter().enumerate() {
                text.push_str(&format!("wave {}: {}\n", index + 1, wave.join(", ")));
            }
            text + &pulled_in_notes(&loaded)
        }
        GraphFormat::Dot => loaded.plan.to_dot(&loaded.definitions),
        GraphFormat::Json => {
            let summary =
                serde_json::to_string(&loaded.plan.summary()).map_err(|e| e.to_string())?;
            summary + "\n"
        }
    };
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn run_up(input: &Input, json: bool, state_dir: Option<PathBuf>) -> Result<ExitCode, String> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CLARA_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    current_thread_runtime()?.block_on(up(input, json, state_dir))
}

/// The async runtime of the commands that need one. One thread is plenty for a supervisor,
/// and each extra one costs memory (a stack and an allocator arena) that a headless server
/// keeps for nothing.
fn current_thread_runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the async runtime: {error}"))
}

/// The exit code of `up` when another supervisor holds the state directory.
const ALREADY_RUNNING: u8 = 2;

/// `clara-supervisor up`: start everything, print every change, stop cleanly on a signal.
async fn up(input: &Input, json: bool, state_dir: Option<PathBuf>) -> Result<ExitCode, String> {
    // Listening first: a stop asked for at any moment, even while a crashed run's leftovers
    // are cleaned up, ends in a clean stop.
    let mut signals = Signals::new()?;
    let (source, options) = read(input)?;
    let state_dir = state_dir.unwrap_or_else(|| options.variables.default_state_dir());
    let options = options.with_saved_setup(&state_dir);
    let loaded = match load::load(&source, &options) {
        Ok(loaded) => loaded,
        Err(error) => return Ok(report_failure(&source, &error)),
    };
    print_problems(&loaded.warnings);
    let features = input.features.as_ref().map(|_| match &options.features {
        FeatureChoice::Only(features) => features.clone(),
        FeatureChoice::Defaults => BTreeSet::new(),
    });
    let mut config = ManagerConfig::new(state_dir);
    if let Some(file) = &input.file {
        config.definitions_name = definitions_name(file);
    }
    let (manager, notes) = match Manager::start(loaded.definitions, features, config) {
        Ok(started) => started,
        Err(error @ ManagerError::Lock(LockError::Held { .. })) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(ALREADY_RUNNING));
        }
        Err(error) => return Err(error.to_string()),
    };
    for note in notes.cleaned_up.iter().chain(&notes.warnings) {
        eprintln!("note: {note}");
    }
    let (_, mut events) = manager.subscribe().await.map_err(|e| e.to_string())?;
    let stop_asked_already = signals.next().now_or_never().is_some();
    let began = Instant::now();
    let mut failed = false;
    if !stop_asked_already {
        manager.start_all().await.map_err(|e| e.to_string())?;
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => {
                        show(&event, json, began)?;
                        if matches!(event.kind, EventKind::StartupFailed { .. }) {
                            failed = true;
                            break;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(skipped)) => {
                        eprintln!("warning: {skipped} events were skipped (output too slow)");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
                () = signals.next() => {
                    if !json {
                        eprintln!("stopping every service (press Ctrl-C again to quit at once)");
                    }
                    break;
                }
            }
        }
    }
    let stopping = manager.clone();
    let mut shutdown = tokio::spawn(async move { stopping.shutdown().await });
    loop {
        tokio::select! {
            done = &mut shutdown => {
                // Print what arrived before the manager ended.
                while let Ok(event) = events.try_recv() {
                    show(&event, json, began)?;
                }
                match done {
                    Ok(Err(error @ ManagerError::Failed(_))) => {
                        eprintln!("error: {error}");
                        failed = true;
                    }
                    Ok(Err(error)) => eprintln!("warning: {error}"),
                    _ => {}
                }
                break;
            }
            event = events.recv() => match event {
                Ok(event) => show(&event, json, began)?,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {}
            },
            () = signals.next() => {
                eprintln!("quitting at once: the orphan guard ends the services");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints one event: a JSON line, or a line of text with the time since start-up began.
fn show(event: &Event, json: bool, began: Instant) -> Result<(), String> {
    let line = if json {
        serde_json::to_string(event).map_err(|error| error.to_string())?
    } else {
        format!("[{:>8.3}s] {}", began.elapsed().as_secs_f64(), event.kind)
    };
    print(&format!("{line}\n")).map(drop)
}

/// SIGINT and SIGTERM (Ctrl-C on Windows), as a stream of "stop now".
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> Result<Signals, String> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let listen =
                |kind| signal(kind).map_err(|error| format!("cannot listen for signals: {error}"));
            Ok(Signals {
                interrupt: listen(SignalKind::interrupt())?,
                terminate: listen(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `services.toml: ok: 6 services, 4 features (claraCore, ragAndTts on), 5 run, 0 warnings`
fn summary(name: &str, loaded: &Loaded) -> String {
    let selection = &loaded.selection;
    let on: Vec<&str> = selection.features.iter().map(String::as_str).collect();
    let plural =
        |count: usize, word: &str| format!("{count} {word}{}", if count == 1 { "" } else { "s" });
    format!(
        "{name}: ok: {}, {} ({} on), {} run, {}",
        plural(loaded.definitions.services.len(), "service"),
        plural(loaded.definitions.features.len(), "feature"),
        if on.is_empty() {
            "none".to_string()
        } else {
            on.join(", ")
        },
        selection.services.len(),
        plural(loaded.warnings.len(), "warning"),
    )
}

fn pulled_in_notes(loaded: &Loaded) -> String {
    loaded
        .plan
        .pulled_in()
        .iter()
        .map(|pulled| format!("note: {}\n", pulled.describe()))
        .collect()
}

/// Prints every problem on stderr, then a count, and returns the failure exit code.
fn report_failure(source: &SourceFile, error: &LoadError) -> ExitCode {
    print_problems(&error.errors);
    print_problems(&error.warnings);
    eprintln!("{}: {error}", source.name());
    ExitCode::FAILURE
}

fn print_problems(problems: &[Diagnostic]) {
    for problem in problems {
        eprintln!("{problem}");
    }
}

/// Writes to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn print(text: &str) -> Result<ExitCode, String> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(error) => Err(format!("cannot write the output: {error}")),
    }
}
