//! Supervision benchmarks, each printed as a ratio to a reference measured in the same run:
//!
//! 1. start-up ÷ critical path: 12 services in 4 dependency levels, each ready 200 ms after
//!    it starts; the reference is the same 4-deep chain run by hand, one after the other.
//! 2. crash → running again: SIGKILL a service with zero backoff; the reference is one bare
//!    spawn of the same program.
//! 3. footprint: the supervisor's own memory and CPU while 50 services idle; the reference
//!    is a bare `sleep` process's memory.
//! 4. containers (where Docker runs): create-to-healthy of a busybox httpd container, and
//!    `docker kill` to running again; the references are the same done with the docker CLI.
//!
//! `cargo bench -p clara-supervisor --bench supervise` runs it in full (about a minute);
//! under `cargo test` it runs once, small and quick, to show that it still works.

#[cfg(unix)]
mod unix {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    use clara_supervisor::definitions::{self, LoadOptions, Variables};
    use clara_supervisor::diagnostics::SourceFile;
    use clara_supervisor::events::EventKind;
    use clara_supervisor::manager::{Manager, ManagerConfig};
    use clara_supervisor::platform::Platform;
    use clara_supervisor::selection::FeatureChoice;
    use clara_supervisor::state::ServiceState;

    const SUPERVISOR: &str = env!("CARGO_BIN_EXE_clara-supervisor");
    const READY_AFTER: &str = "0.2";

    struct Settings {
        rounds: usize,
        crashes: usize,
        idle: Duration,
    }

    pub fn main() {
        let full = std::env::args().any(|arg| arg == "--bench");
        let settings = if full {
            Settings {
                rounds: 5,
                crashes: 30,
                idle: Duration::from_secs(30),
            }
        } else {
            Settings {
                rounds: 1,
                crashes: 3,
                idle: Duration::from_secs(1),
            }
        };
        let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
        runtime.block_on(startup_dag(&settings));
        runtime.block_on(crash_restart(&settings));
        runtime.block_on(containers(&settings));
        footprint(&settings, false);
        footprint(&settings, true);
    }

    fn definitions(text: &str, dir: &std::path::Path) -> definitions::Definitions {
        let options = LoadOptions {
            platform: Platform::current(),
            variables: Variables::new(
                [(
                    "PATH".to_string(),
                    std::env::var("PATH").unwrap_or_default(),
                )],
                dir,
            ),
            features: FeatureChoice::Defaults,
        };
        definitions::load(&SourceFile::new("bench.toml", text), &options)
            .unwrap_or_else(|error| panic!("bench definitions are invalid: {:#?}", error.errors))
            .definitions
    }

    fn config(dir: &std::path::Path) -> ManagerConfig {
        let mut config = ManagerConfig::new(dir.join("state"));
        config.guard_program = Some(SUPERVISOR.into());
        config
    }

    fn median(mut values: Vec<f64>) -> (f64, f64, f64) {
        values.sort_by(f64::total_cmp);
        (
            values[values.len() / 2],
            values[0],
            values[values.len() - 1],
        )
    }

    /// A service that prints "ready" 200 ms after it starts, then idles.
    fn ready_later() -> String {
        format!(r#"["sh", "-c", "sleep {READY_AFTER}; echo ready; exec sleep 600"]"#)
    }

    async fn startup_dag(settings: &Settings) {
        // Level 0: a0 a1 a2; level n: each depends on all three of level n-1.
        let mut text = String::new();
        for level in 0..4 {
            for index in 0..3 {
                let deps: Vec<String> = if level == 0 {
                    Vec::new()
                } else {
                    (0..3).map(|i| format!("\"l{}-{i}\"", level - 1)).collect()
                };
                text.push_str(&format!(
                    "[services.l{level}-{index}]\ncommand = {}\nhealth = {{ log = \"^ready$\" }}\ndepends_on = [{}]\n\n",
                    ready_later(),
                    deps.join(", ")
                ));
            }
        }
        let mut supervised = Vec::new();
        let mut reference = Vec::new();
        for _ in 0..settings.rounds {
            reference.push(chain_by_hand(4).as_secs_f64());
            let dir = tempfile::tempdir().expect("a temporary folder");
            let (manager, _) =
                Manager::start(definitions(&text, dir.path()), None, config(dir.path()))
                    .expect("starts");
            let (_, mut events) = manager.subscribe().await.expect("subscribes");
            let began = Instant::now();
            manager.start_all().await.expect("starts");
            loop {
                match events.recv().await.expect("events").kind {
                    EventKind::StartupComplete { .. } => break,
                    EventKind::StartupFailed { message, .. } => panic!("{message}"),
                    _ => {}
                }
            }
            supervised.push(began.elapsed().as_secs_f64());
            manager.shutdown().await.expect("stops");
        }
        let (ours, low, high) = median(supervised);
        let (path, _, _) = median(reference);
        println!("startup-dag: 12 services, 4 levels, each ready {READY_AFTER}s after it starts");
        println!(
            "  supervisor: median {ours:.3}s (min {low:.3}, max {high:.3}) over {} rounds",
            settings.rounds
        );
        println!("  critical path by hand: median {path:.3}s");
        println!("  ratio: {:.3} (goal <= 1.05)\n", ours / path);
    }

    /// Runs `length` ready-later services one after the other, each started the moment the
    /// previous printed "ready": the fastest the critical path can go.
    fn chain_by_hand(length: usize) -> Duration {
        let began = Instant::now();
        let mut children = Vec::new();
        for _ in 0..length {
            let mut child = Command::new("sh")
                .args([
                    "-c",
                    &format!("sleep {READY_AFTER}; echo ready; exec sleep 600"),
                ])
                .stdout(Stdio::piped())
                .spawn()
                .expect("sh runs");
            let stdout = child.stdout.take().expect("piped");
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).expect("reads");
            children.push(child);
        }
        let elapsed = began.elapsed();
        for mut child in children {
            let _ = child.kill();
            let _ = child.wait();
        }
        elapsed
    }

    async fn crash_restart(settings: &Settings) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let text = "[services.victim]\ncommand = [\"sleep\", \"600\"]\nrestart = { policy = \"always\", backoff = \"0s\", max_restarts = 1000 }\n";
        let (manager, _) = Manager::start(definitions(text, dir.path()), None, config(dir.path()))
            .expect("starts");
        let (_, mut events) = manager.subscribe().await.expect("subscribes");
        manager.start_all().await.expect("starts");
        let mut latencies = Vec::new();
        wait_running(&mut events).await;
        for _ in 0..settings.crashes {
            let status = manager.status().await.expect("status");
            let pid = status[0].pid.expect("a pid");
            // Let each instance settle before the next kill.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let killed = Instant::now();
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            )
            .expect("kills");
            wait_running(&mut events).await;
            latencies.push(killed.elapsed().as_secs_f64() * 1000.0);
        }
        manager.shutdown().await.expect("stops");
        let spawns: Vec<f64> = (0..settings.crashes.max(3))
            .map(|_| {
                let began = Instant::now();
                let mut child = Command::new("sleep")
                    .arg("600")
                    .spawn()
                    .expect("sleep runs");
                let elapsed = began.elapsed().as_secs_f64() * 1000.0;
                let _ = child.kill();
                let _ = child.wait();
                elapsed
            })
            .collect();
        let (ours, low, high) = median(latencies);
        let (spawn, _, _) = median(spawns);
        println!("crash-restart: SIGKILL of a service with zero backoff, until it runs again");
        println!(
            "  supervisor: median {ours:.2}ms (min {low:.2}, max {high:.2}) over {} kills",
            settings.crashes
        );
        println!("  one bare spawn of the same program: median {spawn:.2}ms");
        println!(
            "  ratio: {:.1}x a bare spawn (goal: a few milliseconds)\n",
            ours / spawn
        );
    }

    fn docker(args: &[&str]) -> Option<String> {
        let output = Command::new("docker").args(args).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// Polls `url` every 2 ms until it answers.
    fn until_answers(port: u16) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok_and(|mut stream| {
                use std::io::{Read, Write};
                let _ = stream.write_all(b"GET / HTTP/1.0\r\n\r\n");
                let mut answer = [0u8; 12];
                stream.read_exact(&mut answer).is_ok() && answer.starts_with(b"HTTP/1.")
            }) {
                return;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        panic!("port {port} never answered");
    }

    async fn containers(settings: &Settings) {
        if docker(&["image", "inspect", "clara-test/busybox:1"]).is_none() {
            println!(
                "containers: skipped (no Docker engine or no test image; scripts/test makes them)\n"
            );
            return;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a port");
        let text = format!(
            "[services.docker]\nengine = \"docker\"\n\n[services.benchweb]\nimage = \"clara-test/busybox:1\"\n\
             command = [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]\nports = [\"{port}:80\"]\n\
             health = {{ http = \"http://127.0.0.1:{port}/\", interval = \"1s\" }}\n\
             restart = {{ policy = \"always\", backoff = \"0s\", max_restarts = 1000 }}\n"
        );
        let mut ours = Vec::new();
        let mut by_hand = Vec::new();
        let mut kills = Vec::new();
        let mut restarts_by_hand = Vec::new();
        for _ in 0..settings.rounds {
            let _ = docker(&["rm", "-f", "clara_benchweb", "bench_by_hand"]);
            let began = Instant::now();
            docker(&[
                "run",
                "-d",
                "--name",
                "bench_by_hand",
                "-p",
                &format!("127.0.0.1:{port}:80"),
                "clara-test/busybox:1",
                "httpd",
                "-f",
                "-p",
                "80",
                "-h",
                "/www",
            ])
            .expect("docker run");
            until_answers(port);
            by_hand.push(began.elapsed().as_secs_f64());
            // Both sides are timed from just before `docker kill`, whose own run counts.
            let began = Instant::now();
            let _ = docker(&["kill", "bench_by_hand"]);
            docker(&["start", "bench_by_hand"]).expect("docker start");
            until_answers(port);
            restarts_by_hand.push(began.elapsed().as_secs_f64() * 1000.0);
            let _ = docker(&["rm", "-f", "bench_by_hand"]);

            let dir = tempfile::tempdir().expect("a temporary folder");
            let (manager, _) =
                Manager::start(definitions(&text, dir.path()), None, config(dir.path()))
                    .expect("starts");
            let (_, mut events) = manager.subscribe().await.expect("subscribes");
            let began = Instant::now();
            manager.start_all().await.expect("starts");
            wait_running_named(&mut events, "benchweb").await;
            ours.push(began.elapsed().as_secs_f64());
            let killed = Instant::now();
            docker(&["kill", "clara_benchweb"]).expect("docker kill");
            wait_state_named(&mut events, "benchweb", ServiceState::Restarting).await;
            wait_running_named(&mut events, "benchweb").await;
            kills.push(killed.elapsed().as_secs_f64() * 1000.0);
            manager.shutdown().await.expect("stops");
            let _ = docker(&["rm", "-f", "clara_benchweb"]);
        }
        let (create, low, high) = median(ours);
        let (reference, _, _) = median(by_hand);
        println!("container-start: busybox httpd, from nothing to answering HTTP");
        println!(
            "  supervisor: median {create:.3}s (min {low:.3}, max {high:.3}) over {} rounds",
            settings.rounds
        );
        println!("  docker run + polling by hand: median {reference:.3}s");
        println!("  ratio: {:.2}\n", create / reference);
        let (kill, low, high) = median(kills);
        let (reference, _, _) = median(restarts_by_hand);
        println!("container-crash-restart: docker kill until healthy again");
        println!("  supervisor: median {kill:.0}ms (min {low:.0}, max {high:.0})");
        println!("  docker kill, docker start + polling by hand: median {reference:.0}ms");
        println!("  ratio: {:.2}\n", kill / reference);
    }

    async fn wait_running_named(
        events: &mut tokio::sync::broadcast::Receiver<clara_supervisor::events::Event>,
        name: &str,
    ) {
        wait_state_named(events, name, ServiceState::Running).await;
    }

    async fn wait_state_named(
        events: &mut tokio::sync::broadcast::Receiver<clara_supervisor::events::Event>,
        wanted: &str,
        state: ServiceState,
    ) {
        loop {
            let event = events.recv().await.expect("events");
            if let EventKind::ServiceStateChanged {
                name,
                current_state,
                ..
            } = &event.kind
            {
                if name == wanted && *current_state == state {
                    return;
                }
            }
        }
    }

    async fn wait_running(
        events: &mut tokio::sync::broadcast::Receiver<clara_supervisor::events::Event>,
    ) {
        loop {
            let event = events.recv().await.expect("events");
            if let EventKind::ServiceStateChanged {
                current_state: ServiceState::Running,
                ..
            } = event.kind
            {
                return;
            }
        }
    }

    /// Memory (kB) and CPU ticks of a process, from /proc.
    fn usage(pid: u32) -> (u64, u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rss = field_kb(&status, "VmRSS:");
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let pss = field_kb(&rollup, "Pss:");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let ticks = stat
            .rsplit_once(") ")
            .map(|(_, rest)| {
                rest.split_whitespace()
                    .skip(11)
                    .take(2)
                    .filter_map(|t| t.parse::<u64>().ok())
                    .sum()
            })
            .unwrap_or(0);
        (rss, pss, ticks)
    }

    fn field_kb(text: &str, name: &str) -> u64 {
        text.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kb| kb.parse().ok())
            .unwrap_or(0)
    }

    fn footprint(settings: &Settings, probed: bool) {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mut text = String::new();
        for index in 0..50 {
            text.push_str(&format!(
                "[services.idle-{index:02}]\ncommand = [\"sleep\", \"3600\"]\n"
            ));
            if probed {
                text.push_str(
                    "health = { exec = [\"true\"], interval = \"5s\", timeout = \"2s\" }\n",
                );
            }
        }
        let file = dir.path().join("services.toml");
        std::fs::write(&file, text).expect("writes");
        let mut supervisor = Command::new(SUPERVISOR)
            .arg("up")
            .arg(&file)
            .arg("--json")
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the supervisor starts");
        let stdout = supervisor.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            if line.expect("reads").contains("startup-complete") {
                break;
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        std::thread::sleep(Duration::from_millis(500));
        let pid = supervisor.id();
        let (_, _, ticks_before) = usage(pid);
        std::thread::sleep(settings.idle);
        let (rss, pss, ticks_after) = usage(pid);
        let guard = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse::<u32>().ok())
            .find(|&child| {
                std::fs::read_to_string(format!("/proc/{child}/cmdline"))
                    .is_ok_and(|c| c.contains("__clara-guard"))
            });
        let (guard_rss, guard_pss, _) = guard.map(usage).unwrap_or((0, 0, 0));
        let mut sleeper = Command::new("sleep").arg("60").spawn().expect("sleep runs");
        std::thread::sleep(Duration::from_millis(100));
        let (sleep_rss, _, _) = usage(sleeper.id());
        let _ = sleeper.kill();
        let _ = sleeper.wait();
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = supervisor.wait();
        let ticks_per_second = 100.0;
        let cpu = (ticks_after - ticks_before) as f64 / ticks_per_second;
        println!(
            "footprint: 50 idle services{}, {:.0}s idle",
            if probed {
                " with a 5s exec probe each"
            } else {
                ""
            },
            settings.idle.as_secs_f64()
        );
        println!(
            "  supervisor: RSS {:.1} MiB, PSS {:.1} MiB, CPU {cpu:.2}s ({:.3}% of one core); guard: RSS {:.1} MiB, PSS {:.1} MiB",
            rss as f64 / 1024.0,
            pss as f64 / 1024.0,
            cpu / settings.idle.as_secs_f64() * 100.0,
            guard_rss as f64 / 1024.0,
            guard_pss as f64 / 1024.0,
        );
        println!(
            "  ratio: supervisor RSS = {:.1}x a bare sleep's ({:.1} MiB) (goal: under 15 MB, ~0% CPU)\n",
            rss as f64 / sleep_rss.max(1) as f64,
            sleep_rss as f64 / 1024.0
        );
    }
}

fn main() {
    #[cfg(unix)]
    unix::main();
}
