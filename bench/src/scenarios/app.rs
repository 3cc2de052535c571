//! Scenario 7: the desktop app as a person meets it. The installed package's size; the
//! release app's launch until its window shows the services; the memory of the app and
//! its WebKit processes; their CPU while idle, with the window shown and with it hidden in
//! the tray (`--hidden`). The reference, measured in the same run, is the headless
//! supervisor (`clara-supervisor up`) on the same two services: the ratios say what the
//! window costs.
//!
//! The app runs on its own Xvfb display and D-Bus session, so a ClaraVerse open on the
//! desktop neither sees it nor takes it over as a second launch.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use super::Bench;
use crate::observe::{self, Usage, usage};
use crate::results::{OURS, Row};
use crate::systems::{start_definitions, write_error};

const SCENARIO: &str = "app";
/// What the app logs once its window shows the services (see `services_painted`).
const PAINTED: &str = "the window showed the services";
const PATIENCE: Duration = Duration::from_secs(90);
/// Quiet time after start-up before anything is measured.
const SETTLE: Duration = Duration::from_secs(3);
/// How long after start-up the app keeps sending the services' samples although nothing
/// changes (until the sparklines are flat: 30 samples, 2 s apart); an idle window of a full
/// run opens after it, so that it measures the app idle and not its first minute (a quick
/// pass does not wait).
const SPARKLINES_FLAT: Duration = Duration::from_secs(62);

/// The app as built for release: its binary and its Debian package.
pub struct AppBuild {
    /// `claraverse`.
    pub binary: PathBuf,
    /// The `.deb` made from it.
    pub deb: PathBuf,
}

/// Runs the scenario.
pub fn app(bench: &Bench, build: &AppBuild) -> Result<Vec<Row>, String> {
    let desktop = Desktop::start()?;
    let mut rows = size_rows(bench, build)?;
    let mut launches = Vec::new();
    let mut headless = Vec::new();
    for _ in 0..bench.size.rounds {
        let run = bench.run("app-launch")?;
        let config = services(&run.dir)?;
        let launched = launch(&desktop, build, &run.dir, &config, false)?;
        launches.push(launched.painted.as_secs_f64());
        launched.quit()?;
        let mut up = start_definitions(&bench.installed.clara, &run.dir, &config)?;
        let began = Instant::now();
        up.reported_ready(PATIENCE)?;
        headless.push(began.elapsed().as_secs_f64());
        up.stop()?;
    }
    rows.push(Row::measured(
        SCENARIO,
        "launch until the services show",
        "claraverse",
        "s",
        launches,
        "release app on Xvfb, 2 native services; from spawn until the page reports its \
         first paint of them (two animation frames after the render)",
    ));
    rows.push(Row::measured(
        SCENARIO,
        "launch until the services show",
        OURS,
        "s",
        headless,
        "reference: `clara-supervisor up --json` on the same services, until startup-complete",
    ));
    for hidden in [false, true] {
        let run = bench.run("app-idle")?;
        let config = services(&run.dir)?;
        let launched = launch(&desktop, build, &run.dir, &config, hidden)?;
        let system = if hidden {
            "claraverse, window hidden"
        } else {
            "claraverse, window shown"
        };
        if bench.size.idle >= super::Size::FULL.idle {
            std::thread::sleep(SPARKLINES_FLAT);
        }
        let pids = launched.pids();
        rows.extend(idle_rows(
            bench,
            system,
            &pids,
            "the app and its WebKit processes",
        ));
        launched.quit()?;
    }
    let run = bench.run("app-headless")?;
    let config = services(&run.dir)?;
    let mut up = start_definitions(&bench.installed.clara, &run.dir, &config)?;
    up.reported_ready(PATIENCE)?;
    std::thread::sleep(SETTLE);
    rows.extend(idle_rows(
        bench,
        OURS,
        &up.supervisor_pids(),
        "reference: the headless supervisor and its guard",
    ));
    up.stop()?;
    Ok(rows)
}

/// The package's installed size, against the headless binary's size.
fn size_rows(bench: &Bench, build: &AppBuild) -> Result<Vec<Row>, String> {
    let output = Command::new("dpkg-deb")
        .arg("-f")
        .arg(&build.deb)
        .arg("Installed-Size")
        .output()
        .map_err(|error| format!("cannot run dpkg-deb: {error}"))?;
    let kib: f64 = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .map_err(|_| format!("{} has no Installed-Size", build.deb.display()))?;
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    let deb = std::fs::metadata(&build.deb).map_or(0, |m| m.len());
    let cli = std::fs::metadata(&bench.installed.clara).map_or(0, |m| m.len());
    Ok(vec![
        Row::measured(
            SCENARIO,
            "installed size",
            "claraverse",
            "MiB",
            vec![kib / 1024.0],
            format!(
                "Installed-Size of {} ({:.1} MiB to download)",
                build
                    .deb
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                mib(deb)
            ),
        ),
        Row::measured(
            SCENARIO,
            "installed size",
            OURS,
            "MiB",
            vec![mib(cli)],
            "reference: the headless binary",
        ),
    ])
}

/// RSS and PSS sampled every second over the idle window (median), and CPU over it, in
/// percent of one core.
fn idle_rows(bench: &Bench, system: &str, pids: &[u32], what: &str) -> Vec<Row> {
    let window = bench.size.idle;
    let before = usage(pids);
    let began = Instant::now();
    let mut samples: Vec<Usage> = Vec::new();
    while began.elapsed() < window {
        std::thread::sleep(Duration::from_secs(1).min(window));
        samples.push(usage(pids));
    }
    let cpu = (usage(pids).cpu - before.cpu) / began.elapsed().as_secs_f64() * 100.0;
    let note = format!(
        "{what} ({} processes), idle; samples every second over {} s",
        pids.len(),
        window.as_secs()
    );
    vec![
        Row::measured(
            SCENARIO,
            "RSS",
            system,
            "MiB",
            samples.iter().map(|u| u.rss).collect(),
            note.clone(),
        ),
        Row::measured(
            SCENARIO,
            "PSS",
            system,
            "MiB",
            samples.iter().map(|u| u.pss).collect(),
            note,
        ),
        Row::measured(
            SCENARIO,
            "CPU",
            system,
            "% of a core",
            vec![cpu],
            format!("user + system CPU over {} s, one window", window.as_secs()),
        ),
    ]
}

/// Two idle native services, the features already chosen (no welcome view).
fn services(dir: &Path) -> Result<PathBuf, String> {
    let config = dir.join("services.toml");
    let text = "[services.one]\ncommand = [\"sleep\", \"600\"]\n\n\
                [services.two]\ncommand = [\"sleep\", \"600\"]\ndepends_on = { one = \"started\" }\n";
    std::fs::write(&config, text).map_err(|error| write_error(&config, error))?;
    let state = dir.join("app-state");
    std::fs::create_dir_all(&state).map_err(|error| write_error(&state, error))?;
    let choices = state.join("choices.json");
    std::fs::write(&choices, "{ \"features\": [], \"stopped\": [] }")
        .map_err(|error| write_error(&choices, error))?;
    Ok(config)
}

/// A private X display and D-Bus session for the app.
struct Desktop {
    xvfb: Child,
    dbus: Child,
    display: String,
    bus: String,
}

impl Desktop {
    fn start() -> Result<Desktop, String> {
        let (xvfb, display) = first_line(
            Command::new("Xvfb").args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x860x24",
                "-nolisten",
                "tcp",
            ]),
            "Xvfb (apt-get install xvfb)",
        )?;
        let (dbus, bus) = first_line(
            Command::new("dbus-daemon").args(["--session", "--nofork", "--print-address=1"]),
            "dbus-daemon (apt-get install dbus)",
        )?;
        Ok(Desktop {
            xvfb,
            dbus,
            display: format!(":{display}"),
            bus,
        })
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        for child in [&mut self.xvfb, &mut self.dbus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts `command` and reads the first line it prints.
fn first_line(command: &mut Command, what: &str) -> Result<(Child, String), String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("cannot start {what}: {error}"))?;
    let stdout: ChildStdout = child.stdout.take().ok_or("no output to read")?;
    let mut line = String::new();
    let read = BufReader::new(stdout).read_line(&mut line);
    if read.is_err() || line.trim().is_empty() {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("{what} said nothing"));
    }
    Ok((child, line.trim().to_string()))
}

/// The app, launched and showing its services (or, hidden, running them).
struct Launched {
    child: Child,
    log: PathBuf,
    /// From spawn until the page reported its first paint (zero when hidden).
    painted: Duration,
}

fn launch(
    desktop: &Desktop,
    build: &AppBuild,
    dir: &Path,
    config: &Path,
    hidden: bool,
) -> Result<Launched, String> {
    let log = dir.join(if hidden { "app-hidden.log" } else { "app.log" });
    let log_file = std::fs::File::create(&log).map_err(|error| write_error(&log, error))?;
    let began = Instant::now();
    let mut command = Command::new(&build.binary);
    command
        .arg("--config")
        .arg(config)
        .env("DISPLAY", &desktop.display)
        .env("DBUS_SESSION_BUS_ADDRESS", &desktop.bus)
        .env("CLARAVERSE_STATE_DIR", dir.join("app-state"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file);
    if hidden {
        command.arg("--hidden");
    }
    let child = command
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", build.binary.display()))?;
    let mut launched = Launched {
        child,
        log,
        painted: Duration::ZERO,
    };
    // Hidden, nothing is painted: the services running (the guard's record) tells.
    let wanted = if hidden { "started hidden" } else { PAINTED };
    let deadline = Instant::now() + PATIENCE;
    loop {
        let said = std::fs::read_to_string(&launched.log).unwrap_or_default();
        if said.contains(wanted) {
            let painted = began.elapsed();
            let services_run = || {
                observe::children(launched.child.id())
                    .iter()
                    .filter(|&&pid| comm(pid) == "sleep")
                    .count()
                    == 2
            };
            while !services_run() {
                if Instant::now() > deadline {
                    return Err("the app's services never ran".to_string());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            std::thread::sleep(SETTLE);
            if !hidden {
                launched.painted = painted;
            }
            return Ok(launched);
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the app did not log \"{wanted}\" within {} s; it said:\n{said}",
                PATIENCE.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Launched {
    /// The app's own process and its WebKit processes (not the services, not the guard).
    fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.child.id()];
        let mut stack = observe::children(self.child.id());
        while let Some(pid) = stack.pop() {
            if comm(pid).starts_with("WebKit") {
                pids.push(pid);
                stack.extend(observe::children(pid));
            }
        }
        pids
    }

    /// SIGTERM, as a logout sends: the app stops its services and exits.
    fn quit(mut self) -> Result<(), String> {
        observe::kill(self.child.id(), nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!("the app exited with {status} after SIGTERM"))
                };
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                return Err("the app did not quit after SIGTERM".to_string());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Launched {
    /// An app left running by a failed measurement is killed (its guard ends its services).
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The short command name of `pid`.
fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|name| name.trim().to_string())
        .unwrap_or_default()
}
