//! End to end: the real app in a real window (under Xvfb), driven over WebDriver through
//! tauri-driver and WebKitWebDriver, with real local processes as services.
//!
//! These tests need a display and `tauri-driver`; `scripts/test` runs them under
//! `xvfb-run` (with `--ignored`). Screenshots are saved under `target/e2e/`.

#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

const PATIENCE: Duration = Duration::from_secs(40);

/// `tauri-driver`, stopped when the test ends.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn tauri_driver() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let installed = home.join(".cargo/bin/tauri-driver");
    if installed.exists() {
        installed
    } else {
        PathBuf::from("tauri-driver")
    }
}

/// Saves a choice of features in `state_dir`, as a user's earlier Start did: the app then
/// starts its services at once instead of opening on the welcome view.
fn chosen(state_dir: &Path, features: &[&str]) {
    std::fs::create_dir_all(state_dir).expect("a state folder");
    let choices = serde_json::json!({ "features": features, "stopped": [] });
    std::fs::write(state_dir.join("choices.json"), choices.to_string()).expect("writes");
}

/// Starts tauri-driver for an app whose state lives in `state_dir`, and waits until it
/// (and the WebKitWebDriver behind it) answers.
async fn driver(state_dir: &Path, log: &Path) -> Driver {
    driver_at_home(state_dir, log, None).await
}

/// [`driver`], for a user whose home folder is `home` (`None`: this one's).
async fn driver_at_home(state_dir: &Path, log: &Path, home: Option<&Path>) -> Driver {
    let port = free_port();
    let native = free_port();
    let log = std::fs::File::create(log).expect("a log file");
    let child = Command::new(tauri_driver())
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
        .env("CLARAVERSE_STATE_DIR", state_dir)
        .env("CLARAVERSE_LOG", "debug")
        .envs(home.map(|home| ("HOME", home)))
        .stdout(Stdio::from(log.try_clone().expect("cloned")))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("tauri-driver runs (cargo install tauri-driver --locked)");
    let driver = Driver { child, port };
    // tauri-driver does not wait for the native driver: ask until both answer.
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if answers_status(native) {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("WebKitWebDriver did not come up");
}

/// Whether a WebDriver server on `port` answers `GET /status` with 200.
fn answers_status(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /status HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
        || head.starts_with(b"HTTP/1.0 200")
}

/// Opens the app on `config` in a new WebDriver session.
async fn open_app(driver: &Driver, config: &Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "tauri:options".into(),
        serde_json::json!({
            "application": env!("CARGO_BIN_EXE_claraverse"),
            "args": ["--config", config.display().to_string()],
        }),
    );
    let mut builder = ClientBuilder::native();
    builder.capabilities(capabilities);
    let url = format!("http://127.0.0.1:{}", driver.port);
    tokio::time::timeout(PATIENCE, builder.connect(&url))
        .await
        .expect("a WebDriver session within the time allowed")
        .expect("a WebDriver session with the app")
}

/// Waits until the text of the first element matching `css` satisfies `wanted`.
async fn wait_text(client: &Client, css: &str, wanted: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + PATIENCE;
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if wanted(text.trim()) {
                return text.trim().to_string();
            }
            last = text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{css} never matched; last text: {last:?}");
}

async fn wait_state(client: &Client, service: &str, state: &str) {
    let css = format!(".service-card[data-service=\"{service}\"] .state-badge");
    wait_text(client, &css, |text| text == state).await;
}

async fn click(client: &Client, css: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(element) = client.find(Locator::Css(css)).await
            && element.click().await.is_ok()
        {
            return;
        }
        assert!(Instant::now() < deadline, "cannot click {css}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Saves what the (virtual) screen shows. Taken from the X display rather than over
/// WebDriver: WebKitWebDriver's screenshot does not return while a modal dialog is open.
fn screenshot(name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e");
    std::fs::create_dir_all(&dir).expect("a screenshot folder");
    let taken = Command::new("import")
        .args(["-window", "root"])
        .arg(dir.join(name))
        .status()
        .is_ok_and(|status| status.success());
    assert!(taken, "cannot take a screenshot with ImageMagick's import");
}

/// Resident memory (KiB) of the running app and of its WebKit web process.
fn memory_of_app() -> (u64, u64) {
    let rss = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0u64)
    };
    let mut app = 0;
    let mut web = 0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().to_string();
        let Ok(cmdline) = std::fs::read_to_string(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if cmdline.starts_with(env!("CARGO_BIN_EXE_claraverse"))
            && !cmdline.contains("__clara-guard")
        {
            app += rss(&pid);
        } else if cmdline.contains("WebKitWebProcess") {
            web += rss(&pid);
        }
    }
    (app, web)
}

fn read_pid(path: &Path) -> u32 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or_else(|| panic!("no pid in {}", path.display()))
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}

async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    condition()
}

#[tokio::test]
#[ignore = "needs a display and tauri-driver: scripts/test runs it under xvfb-run"]
async fn the_dashboard_follows_the_services_and_the_user() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path().display().to_string();
    let config = dir.path().join("services.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[features.extra]
label = "Extra tools"
default = true

[services.db]
description = "The database"
command = ["sh", "-c", "echo $$$$ > {d}/db.pid; echo db is up; exec sleep 600"]
health = {{ log = "db is up" }}
restart = {{ policy = "always", backoff = "1500ms" }}

[services.api]
description = "The API"
command = ["sh", "-c", "echo $$$$ > {d}/api.pid; exec sleep 600"]
depends_on = {{ db = "started" }}

[services.tool]
description = "An optional tool"
feature = "extra"
command = ["sh", "-c", "echo $$$$ > {d}/tool.pid; exec sleep 600"]
"#
        ),
    )
    .expect("writes");
    chosen(&dir.path().join("state"), &["extra"]);
    let driver = driver(&dir.path().join("state"), &dir.path().join("driver.log")).await;
    let launched = Instant::now();
    let client = open_app(&driver, &config).await;
    wait_text(
        &client,
        ".service-card[data-service=\"db\"] .state-badge",
        |text| !text.is_empty(),
    )
    .await;
    let painted = launched.elapsed();
    for service in ["db", "api", "tool"] {
        wait_state(&client, service, "running").await;
    }
    let (app_rss, web_rss) = memory_of_app();
    // A measurement for people, not a timed assertion.
    eprintln!(
        "measured: cold start to a painted dashboard {:.2} s; memory: app {:.1} MiB + web process {:.1} MiB RSS",
        painted.as_secs_f64(),
        app_rss as f64 / 1024.0,
        web_rss as f64 / 1024.0
    );
    screenshot("dashboard.png");

    // Killed from outside: restarting, then running again.
    let db = read_pid(&dir.path().join("db.pid"));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(db as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kills");
    wait_state(&client, "db", "restarting").await;
    wait_state(&client, "db", "running").await;
    assert_ne!(read_pid(&dir.path().join("db.pid")), db);

    // Restart from its card: a new process.
    let api = read_pid(&dir.path().join("api.pid"));
    click(
        &client,
        ".service-card[data-service=\"api\"] button.restart",
    )
    .await;
    let api_path = dir.path().join("api.pid");
    assert!(
        eventually(PATIENCE, || std::fs::read_to_string(&api_path)
            .is_ok_and(|t| t.trim() != api.to_string()))
        .await
    );
    wait_state(&client, "api", "running").await;
    assert!(!alive(api), "the old api process is gone");

    // A feature turned off stops its services.
    let tool = read_pid(&dir.path().join("tool.pid"));
    click(&client, "#settings-button").await;
    click(
        &client,
        "dialog#features-dialog input[type=checkbox][data-feature=\"extra\"]",
    )
    .await;
    wait_state(&client, "tool", "disabled").await;
    assert!(!alive(tool), "the feature's service stopped");
    screenshot("features-off.png");

    // Ending the session kills the app outright: the guard takes its services along.
    let pids = [read_pid(&dir.path().join("db.pid")), read_pid(&api_path)];
    client.close().await.expect("the session ends");
    let gone = eventually(Duration::from_secs(5), || {
        pids.iter().all(|&pid| !alive(pid))
    })
    .await;
    assert!(
        gone,
        "left behind: {:?}",
        pids.iter().filter(|&&p| alive(p)).collect::<Vec<_>>()
    );
}

#[tokio::test]
#[ignore = "needs a display and tauri-driver: scripts/test runs it under xvfb-run"]
async fn a_critical_failure_shows_the_failure_dialog() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = dir.path().join("services.toml");
    let go = dir.path().join("go");
    // The helper gets ready when the test says so: the failure then comes while the window
    // is open and watched, as on a slow start. (WebKitWebDriver cannot attach to a page
    // that already shows a modal dialog.)
    std::fs::write(
        &config,
        format!(
            r#"
[services.helper]
command = ["sh", "-c", "while [ ! -f {go} ]; do sleep 0.05; done; echo ready; exec sleep 600"]
health = {{ log = "ready" }}

[services.core]
description = "The local AI models"
critical = true
command = ["sh", "-c", "echo 'cannot load the model' >&2; exit 1"]
health = {{ log = "listening" }}
restart = "never"
depends_on = ["helper"]
"#,
            go = go.display()
        ),
    )
    .expect("writes");
    chosen(&dir.path().join("state"), &[]);
    let driver = driver(&dir.path().join("state"), &dir.path().join("driver.log")).await;
    let client = open_app(&driver, &config).await;
    // The session is attached to the loaded page: now let the start-up go on.
    std::fs::write(&go, "").expect("the go file");
    let message = wait_text(&client, "dialog#failure-dialog .failure-message", |text| {
        !text.is_empty()
    })
    .await;
    assert_eq!(
        message,
        "core could not start: exited with code 1 — see its logs"
    );
    let hint = wait_text(&client, "dialog#failure-dialog .failure-hint", |text| {
        !text.is_empty()
    })
    .await;
    assert!(hint.starts_with("Look at its logs for the cause"), "{hint}");
    screenshot("failure-dialog.png");
    client.close().await.expect("the session ends");
}

/// Two services, `one` with a background child, each writing its pids into `dir`; their
/// features are chosen already, so the app starts them at once.
fn two_services(dir: &Path) -> PathBuf {
    let d = dir.display().to_string();
    let config = dir.join("services.toml");
    std::fs::write(
        &config,
        format!(
            "[services.one]\ncommand = [\"sh\", \"-c\", \"sleep 600 & echo $$! > {d}/one-child.pid; echo $$$$ > {d}/one.pid; wait\"]\n\n\
             [services.two]\ncommand = [\"sh\", \"-c\", \"echo $$$$ > {d}/two.pid; exec sleep 600\"]\ndepends_on = {{ one = \"started\" }}\n"
        ),
    )
    .expect("writes");
    chosen(&dir.join("state"), &[]);
    config
}

/// Launches the app as a desktop launcher does (no WebDriver), its log in `log`.
fn launch(config: &Path, state_dir: &Path, log: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_claraverse"))
        .arg("--config")
        .arg(config)
        .args(extra)
        .env("CLARAVERSE_STATE_DIR", state_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::from(std::fs::File::create(log).expect("a log file")))
        .spawn()
        .expect("the app starts")
}

/// The pids of [`two_services`] once all three processes run.
async fn running_pids(dir: &Path) -> Vec<u32> {
    let files = ["one.pid", "one-child.pid", "two.pid"].map(|name| dir.join(name));
    assert!(
        eventually(PATIENCE, || files
            .iter()
            .all(
                |f| std::fs::read_to_string(f).is_ok_and(|t| !t.trim().is_empty())
            ))
        .await,
        "the services never ran"
    );
    let pids: Vec<u32> = files.iter().map(|f| read_pid(f)).collect();
    assert!(pids.iter().all(|&pid| alive(pid)));
    pids
}

/// Waits (up to `limit`) for `child` to exit; its exit code.
async fn exit_code(child: &mut Child, limit: Duration) -> Option<i32> {
    let mut status = None;
    eventually(limit, || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    })
    .await;
    status.and_then(|s| s.code())
}

/// SIGTERM, as a logout or `kill` sends: a clean stop, exit 0, nothing left.
async fn quit_cleanly(app: &mut Child, log: &Path, pids: &[u32]) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(app.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signals");
    assert_eq!(exit_code(app, PATIENCE).await, Some(0), "the app exits 0");
    let said = std::fs::read_to_string(log).unwrap_or_default();
    assert!(
        said.contains("stopping every service before exiting"),
        "no clean stop; the app said:\n{said}"
    );
    // Stopped means stopped; a moment is allowed for init to reap what was killed.
    let gone = eventually(Duration::from_secs(2), || {
        pids.iter().all(|&pid| !alive(pid))
    })
    .await;
    let left: Vec<u32> = pids.iter().copied().filter(|&pid| alive(pid)).collect();
    assert!(
        gone,
        "left behind after quitting: {left:?}; the app said:\n{said}"
    );
}

#[tokio::test]
#[ignore = "needs a display: scripts/test runs it under xvfb-run"]
async fn quitting_stops_every_service_first() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let config = two_services(dir.path());
    let log = dir.path().join("app.log");
    let mut app = launch(&config, &dir.path().join("state"), &log, &[]);
    let pids = running_pids(dir.path()).await;
    quit_cleanly(&mut app, &log, &pids).await;
}

#[tokio::test]
#[ignore = "needs a display and a D-Bus session: scripts/test runs it under xvfb-run and dbus-run-session"]
async fn a_second_launch_hands_over_to_the_first_and_kills_nothing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = dir.path().join("state");
    let config = two_services(dir.path());
    let log = dir.path().join("app.log");
    let mut first = launch(&config, &state, &log, &[]);
    let pids = running_pids(dir.path()).await;

    // A second launch of the app: it hands its arguments over and exits 0, at once.
    let launched = Instant::now();
    let mut second = launch(
        &config,
        &state,
        &dir.path().join("second.log"),
        &["--from-the-second-launch"],
    );
    let code = exit_code(&mut second, Duration::from_secs(2)).await;
    let took = launched.elapsed();
    assert_eq!(
        code,
        Some(0),
        "the second launch exits 0 within 2 s; it said:\n{}",
        std::fs::read_to_string(dir.path().join("second.log")).unwrap_or_default()
    );
    eprintln!(
        "measured: a second launch handed over and exited in {:.2} s",
        took.as_secs_f64()
    );
    let handed_over = eventually(PATIENCE, || {
        std::fs::read_to_string(&log).is_ok_and(|said| {
            said.contains("another launch asked for the window")
                && said.contains("--from-the-second-launch")
        })
    })
    .await;
    assert!(
        handed_over,
        "the first app never heard of the second launch"
    );

    // The headless supervisor on the app's state directory refuses, killing nothing.
    let cli = Path::new(env!("CARGO_BIN_EXE_claraverse")).with_file_name("clara-supervisor");
    assert!(
        cli.exists(),
        "{} is built by cargo test --workspace",
        cli.display()
    );
    let refused = Command::new(&cli)
        .arg("up")
        .arg(&config)
        .arg("--state-dir")
        .arg(&state)
        .output()
        .expect("clara-supervisor runs");
    assert_eq!(refused.status.code(), Some(2));
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains(&format!(
            "ClaraVerse is already running (pid {}); quit it first, or give this one another state directory than {}",
            first.id(),
            state.display()
        )),
        "{said}"
    );
    let now: Vec<u32> = ["one.pid", "one-child.pid", "two.pid"]
        .iter()
        .map(|name| read_pid(&dir.path().join(name)))
        .collect();
    assert_eq!(now, pids, "the same processes still run");
    assert!(pids.iter().all(|&pid| alive(pid)), "nothing was killed");

    quit_cleanly(&mut first, &log, &pids).await;
}

/// Whether an element matching `css` is shown (exists and is displayed).
async fn shown(client: &Client, css: &str) -> bool {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

#[tokio::test]
#[ignore = "needs a display and tauri-driver: scripts/test runs it under xvfb-run"]
async fn the_first_run_starts_nothing_until_the_user_chose() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path().display().to_string();
    let config = dir.path().join("services.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[features.chat]
label = "Chat"
description = "Talk to local models"
default = true

[features.images]
label = "Images"
default = false

[services.core]
feature = "chat"
command = ["sh", "-c", "echo $$$$ > {d}/core.pid; exec sleep 600"]
download = "30 MB"

[services.painter]
feature = "images"
command = ["sh", "-c", "echo $$$$ > {d}/painter.pid; exec sleep 600"]
download = "2 GB"
"#
        ),
    )
    .expect("writes");
    let state = dir.path().join("state");
    let driver = driver(&state, &dir.path().join("driver.log")).await;
    let client = open_app(&driver, &config).await;
    wait_text(&client, "#welcome-start", |text| text == "Start").await;
    assert!(
        shown(&client, "#welcome-view").await,
        "the welcome view is shown"
    );
    let core_row = wait_text(&client, "#welcome-view [data-feature=\"chat\"]", |text| {
        text.contains("30 MB")
    })
    .await;
    assert!(core_row.contains("Chat"), "{core_row}");
    screenshot("welcome.png");
    // Nothing runs, nothing was chosen, while the user reads.
    assert!(!dir.path().join("core.pid").exists(), "nothing started");
    let saved = |path: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default()).unwrap_or_default()
    };
    assert!(
        saved(&state.join("choices.json"))["features"].is_null(),
        "no choice is saved before Start"
    );
    click(
        &client,
        "#welcome-view input[type=checkbox][data-feature=\"images\"]",
    )
    .await;
    click(&client, "#welcome-start").await;
    wait_state(&client, "core", "running").await;
    wait_state(&client, "painter", "running").await;
    assert_eq!(
        saved(&state.join("choices.json"))["features"],
        serde_json::json!(["chat", "images"])
    );
    let pids = [
        read_pid(&dir.path().join("core.pid")),
        read_pid(&dir.path().join("painter.pid")),
    ];
    client.close().await.expect("the session ends");
    assert!(
        eventually(Duration::from_secs(5), || pids.iter().all(|&p| !alive(p))).await,
        "the guard took the services along"
    );

    // The next launch remembers the choice and starts at once.
    let client = open_app(&driver, &config).await;
    wait_state(&client, "core", "running").await;
    wait_state(&client, "painter", "running").await;
    assert!(
        !shown(&client, "#welcome-view").await,
        "no welcome view the second time"
    );
    client.close().await.expect("the session ends");
}

/// A process of the test's own, ended however the test ends.
struct KilledOnDrop(Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
#[ignore = "needs a display and tauri-driver: scripts/test runs it under xvfb-run"]
async fn a_service_switches_to_the_users_own_server_and_back_in_settings() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path().display().to_string();
    let (ours, theirs) = (free_port(), free_port());
    for folder in ["ours", "theirs"] {
        std::fs::create_dir_all(dir.path().join(folder)).expect("makes");
        std::fs::write(dir.path().join(folder).join("health"), folder).expect("writes");
    }
    let _their_server = KilledOnDrop(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                &theirs.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .current_dir(dir.path().join("theirs"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the user's server starts"),
    );
    let config = dir.path().join("services.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[services.backend]
description = "The backend"
command = ["python3", "-m", "http.server", "{ours}", "--bind", "127.0.0.1", "--directory", "{d}/ours"]
own_server = "/health"
health = {{ http = "http://127.0.0.1:{ours}/health", interval = "1s", timeout = "1s" }}

[services.app]
command = ["sh", "-c", "echo $$$$ > {d}/app.pid; exec sleep 600"]
depends_on = ["backend"]
"#
        ),
    )
    .expect("writes");
    let state = dir.path().join("state");
    chosen(&state, &[]);
    let driver = driver(&state, &dir.path().join("driver.log")).await;
    let client = open_app(&driver, &config).await;
    wait_state(&client, "backend", "running").await;
    wait_state(&client, "app", "running").await;
    let app_pid = read_pid(&dir.path().join("app.pid"));

    click(&client, "#settings-button").await;
    let row = "#server-list li.server-row[data-service=\"backend\"]";
    wait_text(&client, &format!("{row} .server-status"), |text| {
        text == "ClaraVerse runs it on this computer."
    })
    .await;
    click(&client, &format!("{row} input.server-mode[value=\"own\"]")).await;
    let url = format!("http://127.0.0.1:{theirs}");
    client
        .find(Locator::Css(&format!("{row} input.server-url")))
        .await
        .expect("the address field")
        .send_keys(&url)
        .await
        .expect("types");
    click(&client, &format!("{row} button.server-test")).await;
    let tested = wait_text(&client, &format!("{row} .server-status"), |text| {
        text.contains("answered in")
    })
    .await;
    assert!(
        tested.starts_with(&format!("{url}/health answered in ")),
        "{tested}"
    );
    screenshot("own-server.png");

    click(&client, &format!("{row} button.server-use")).await;
    let switched = Instant::now();
    wait_text(
        &client,
        ".service-card[data-service=\"backend\"] .service-detail",
        |text| text == format!("your server at {url}"),
    )
    .await;
    // A measurement for people, not a timed assertion.
    eprintln!(
        "measured: the card says \"your server\" {:.2} s after Use this server",
        switched.elapsed().as_secs_f64()
    );
    wait_state(&client, "backend", "running").await;
    // The card came with the same view as its detail; it is under the Settings dialog, so
    // its text is read from the page rather than as rendered.
    let open = client
        .execute(
            "return document.querySelector('.service-card[data-service=\"backend\"] button.open-url').textContent",
            vec![],
        )
        .await
        .expect("reads the card");
    assert_eq!(open, serde_json::json!(format!("Open {url}")));
    assert!(alive(app_pid), "the dependent kept running");
    wait_state(&client, "app", "running").await;

    click(
        &client,
        &format!("{row} input.server-mode[value=\"managed\"]"),
    )
    .await;
    wait_text(&client, &format!("{row} .server-status"), |text| {
        text == "ClaraVerse runs it on this computer again."
    })
    .await;
    wait_text(
        &client,
        ".service-card[data-service=\"backend\"] .service-detail",
        |text| !text.contains("your server"),
    )
    .await;
    wait_state(&client, "backend", "running").await;
    let choices: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("choices.json")).expect("saved"))
            .expect("JSON");
    assert!(choices.get("servers").is_none(), "{choices}");
    client.close().await.expect("the session ends");
}

#[tokio::test]
#[ignore = "needs a display and tauri-driver: scripts/test runs it under xvfb-run"]
async fn choices_are_backed_up_and_restored_from_settings() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).expect("makes");
    let config = dir.path().join("services.toml");
    std::fs::write(
        &config,
        r#"
[features.extra]
label = "Extra tools"
default = false

[services.core]
command = ["sleep", "600"]

[services.tool]
feature = "extra"
command = ["sleep", "600"]
"#,
    )
    .expect("writes");
    let state = dir.path().join("state");
    chosen(&state, &["extra"]);
    let driver = driver_at_home(&state, &dir.path().join("driver.log"), Some(&home)).await;
    let client = open_app(&driver, &config).await;
    wait_state(&client, "tool", "running").await;

    click(&client, "#settings-button").await;
    click(&client, "#backup-now").await;
    let folder = home.join("ClaraVerse backups");
    let saved = wait_text(&client, "#backups .backup-status", |text| {
        text.starts_with("Saved to ")
    })
    .await;
    assert!(
        saved.starts_with(&format!(
            "Saved to {}/ClaraVerse choices ",
            folder.display()
        )),
        "{saved}"
    );
    assert_eq!(std::fs::read_dir(&folder).expect("the folder").count(), 1);

    // The choice changes; a damaged file is refused and changes nothing; the backup
    // brings the choice back at once.
    click(
        &client,
        "dialog#features-dialog input[type=checkbox][data-feature=\"extra\"]",
    )
    .await;
    wait_state(&client, "tool", "disabled").await;
    std::fs::write(
        folder.join("ClaraVerse choices 9999.json"),
        "{ \"format\": \"claraverse-backup\", ",
    )
    .expect("writes");
    click(&client, "#restore-open").await;
    let damaged = "#backup-list li.backup-row[data-name=\"ClaraVerse choices 9999.json\"] button.backup-restore";
    click(&client, damaged).await;
    let refused = wait_text(&client, "#backups .backup-status", |text| {
        text.ends_with("nothing was changed")
    })
    .await;
    assert!(
        refused.starts_with(&format!(
            "{} is not a ClaraVerse backup that can be read (",
            folder.join("ClaraVerse choices 9999.json").display()
        )),
        "{refused}"
    );
    wait_state(&client, "tool", "disabled").await;
    click(&client, "#backup-list li.backup-row:not([data-name=\"ClaraVerse choices 9999.json\"]) button.backup-restore").await;
    wait_text(&client, "#backups .backup-status", |text| {
        text.starts_with("Restored the choices saved on ")
    })
    .await;
    wait_state(&client, "tool", "running").await;
    let choices: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("choices.json")).expect("saved"))
            .expect("JSON");
    assert_eq!(choices["features"], serde_json::json!(["extra"]));
    client.close().await.expect("the session ends");
}

/// A home folder with what the earlier Electron app leaves: its feature switches, and its
/// n8n folder with a workflow database in it.
fn earlier_app_home(dir: &Path) -> PathBuf {
    let home = dir.join("home");
    let settings = home.join(".config/ClaraVerse");
    std::fs::create_dir_all(&settings).expect("makes");
    std::fs::write(
        settings.join("clara-features.yaml"),
        "claraCore: true\nn8n: true\ncomfyUI: false\nragAndTts: false\nfirstTimeSetup: false\n",
    )
    .expect("writes");
    std::fs::create_dir_all(home.join(".clara/n8n")).expect("makes");
    std::fs::write(home.join(".clara/n8n/database.sqlite"), "workflows").expect("writes");
    home
}

#[tokio::test]
#[ignore = "needs a display and tauri-driver: scripts/test runs it under xvfb-run"]
async fn the_earlier_apps_settings_are_offered_and_carried_over() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let home = earlier_app_home(dir.path());
    let config = dir.path().join("services.toml");
    // Like the catalog: the same feature names, and n8n's data in a folder variable.
    std::fs::write(
        &config,
        r#"
[features.claraCore]
label = "Clara Core"
default = true

[features.n8n]
label = "n8n"
default = false

[services.core]
feature = "claraCore"
command = ["sleep", "600"]

[services.flows]
feature = "n8n"
command = ["sh", "-c", "echo $$$$ > ${CLARA_N8N_DATA:-/nonexistent}/flows.pid; exec sleep 600"]
"#,
    )
    .expect("writes");

    // Start fresh: the earlier app is left alone, and the feature picker follows.
    let fresh_state = dir.path().join("fresh-state");
    let driver = driver_at_home(&fresh_state, &dir.path().join("driver.log"), Some(&home)).await;
    let client = open_app(&driver, &config).await;
    let plan = wait_text(&client, "#move-view ul.move-plan", |text| {
        text.contains("features turned on as before: claraCore, n8n")
    })
    .await;
    assert!(
        plan.contains(&format!(
            "data used where it is: {} (CLARA_N8N_DATA)",
            home.join(".clara/n8n").display()
        )),
        "{plan}"
    );
    screenshot("move.png");
    click(&client, "#move-fresh").await;
    wait_text(&client, "#welcome-start", |text| text == "Start").await;
    assert!(
        !fresh_state.join("backups").exists(),
        "Start fresh backs up nothing"
    );
    client.close().await.expect("the session ends");
    drop(driver);

    // The earlier app's stopped ComfyUI container, where Docker runs here.
    let with_docker = !std::env::var("CLARA_DOCKER_TESTS").is_ok_and(|value| value == "skip");
    if with_docker {
        for name in ["clara_comfyui", "clara_comfyui-electron"] {
            assert_eq!(
                docker_cli(&["ps", "-aq", "--filter", &format!("name=^{name}$")]),
                "",
                "a container named {name} exists on this machine: this test would rename it"
            );
        }
        docker_cli(&[
            "create",
            "--name",
            "clara_comfyui",
            "clara-test/busybox:1",
            "sleep",
            "600",
        ]);
    }
    let _cleanup = RemovedOnDrop(&["clara_comfyui", "clara_comfyui-electron"]);

    // Continue: carried over, and the services start with the earlier app's folder.
    let state = dir.path().join("state");
    let driver = driver_at_home(&state, &dir.path().join("driver-2.log"), Some(&home)).await;
    let client = open_app(&driver, &config).await;
    wait_text(&client, "#move-view ul.move-plan", |text| {
        text.contains("claraCore, n8n")
    })
    .await;
    click(&client, "#move-continue").await;
    wait_state(&client, "core", "running").await;
    wait_state(&client, "flows", "running").await;
    assert!(
        home.join(".clara/n8n/flows.pid").exists(),
        "n8n's service did not use the earlier app's folder"
    );
    assert_eq!(
        std::fs::read_to_string(home.join(".clara/n8n/database.sqlite")).expect("kept"),
        "workflows"
    );
    let choices: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("choices.json")).expect("saved"))
            .expect("JSON");
    assert_eq!(choices["features"], serde_json::json!(["claraCore", "n8n"]));
    assert!(
        std::fs::read_dir(state.join("backups"))
            .expect("a backup")
            .count()
            == 1
    );

    // Settings: the kept container, removed; then the move undone, and the app quits.
    let flows = read_pid(&home.join(".clara/n8n/flows.pid"));
    std::fs::write(
        home.join(".config/ClaraVerse/clara-features.yaml"),
        "n8n: false\n",
    )
    .expect("the earlier settings change meanwhile");
    click(&client, "#settings-button").await;
    wait_text(&client, "#earlier-app .earlier-moved", |text| {
        text.starts_with("Carried over from the earlier ClaraVerse app on ")
    })
    .await;
    if with_docker {
        let kept = "#kept-list li.kept-row[data-container=\"clara_comfyui-electron\"]";
        wait_text(&client, kept, |text| {
            text.contains("the earlier app's clara_comfyui")
        })
        .await;
        click(&client, &format!("{kept} button.kept-remove")).await;
        click(&client, "#confirm-dialog button.confirm").await;
        wait_text(&client, "#earlier-app .earlier-status", |text| {
            text == "clara_comfyui-electron is removed."
        })
        .await;
        assert_eq!(
            docker_cli(&["ps", "-aq", "--filter", "name=^clara_comfyui"]),
            ""
        );
    }
    click(&client, "#undo-move").await;
    click(&client, "#confirm-dialog button.confirm").await;
    wait_text(&client, "#earlier-app .earlier-status", |text| {
        text == "The move is undone: the earlier app's settings are back. ClaraVerse quits now; open the earlier app to go on."
    })
    .await;
    assert!(
        eventually(PATIENCE, || !alive(flows)).await,
        "the services were stopped"
    );
    assert_eq!(
        std::fs::read_to_string(home.join(".config/ClaraVerse/clara-features.yaml")).expect("back"),
        "claraCore: true\nn8n: true\ncomfyUI: false\nragAndTts: false\nfirstTimeSetup: false\n",
        "the earlier app's settings are back, byte for byte"
    );
    assert!(
        !state.join("choices.json").exists(),
        "the choices the move made are gone"
    );
    // The app quits by itself; the session may already be gone.
    let _ = client.close().await;
}

/// The docker CLI's output for `args`.
fn docker_cli(args: &[&str]) -> String {
    Command::new("docker")
        .args(args)
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Containers of the test's own, removed however the test ends.
struct RemovedOnDrop(&'static [&'static str]);

impl Drop for RemovedOnDrop {
    fn drop(&mut self) {
        for name in self.0 {
            docker_cli(&["rm", "-f", name]);
        }
    }
}

#[tokio::test]
#[ignore = "needs a display and tauri-driver: scripts/test runs it under xvfb-run"]
async fn definitions_with_errors_open_the_window_on_the_problem() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path().display().to_string();
    let config = dir.path().join("services.toml");
    let broken = "[services.web]\ncommand = [\"sleep\", \"600\"]\ndepends_on = [\"dbb\"]\n\n\
                  [services.db]\ncommand = [\"sleep\", \"600\"]\nstop_timeout = \"soon\"\n";
    std::fs::write(&config, broken).expect("writes");
    let state = dir.path().join("state");
    chosen(&state, &[]);
    let driver = driver(&state, &dir.path().join("driver.log")).await;
    let client = open_app(&driver, &config).await;
    wait_text(&client, "#launch-problem .launch-problem-title", |text| {
        text == "The service definitions have errors"
    })
    .await;
    let details = client
        .find_all(Locator::Css("#launch-problem .launch-problem-details li"))
        .await
        .expect("the details");
    let mut lines = Vec::new();
    for line in details {
        lines.push(line.text().await.expect("text"));
    }
    let file = config.display().to_string();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("{file}:3:15: service \"web\"")),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with(&format!("{file}:7:16: service \"db\"")),
        "{lines:?}"
    );
    screenshot("launch-error.png");

    // Corrected, then Try again: the app runs.
    std::fs::write(
        &config,
        format!("[services.web]\ncommand = [\"sh\", \"-c\", \"echo $$$$ > {d}/web.pid; exec sleep 600\"]\n"),
    )
    .expect("writes");
    click(&client, "#launch-problem button.try-again").await;
    wait_state(&client, "web", "running").await;
    let web = read_pid(&dir.path().join("web.pid"));
    client.close().await.expect("the session ends");
    assert!(
        eventually(Duration::from_secs(5), || !alive(web)).await,
        "the guard took the service along"
    );
}

#[tokio::test]
#[ignore = "needs a display and tauri-driver: scripts/test runs it under xvfb-run"]
async fn a_state_directory_held_by_the_headless_supervisor_is_said_in_the_window() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = dir.path().join("state");
    let config = two_services(dir.path());
    let cli = Path::new(env!("CARGO_BIN_EXE_claraverse")).with_file_name("clara-supervisor");
    let mut up = Command::new(&cli)
        .arg("up")
        .arg(&config)
        .arg("--state-dir")
        .arg(&state)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("clara-supervisor runs (built by cargo test --workspace)");
    let pids = running_pids(dir.path()).await;
    let driver = driver(&state, &dir.path().join("driver.log")).await;
    let client = open_app(&driver, &config).await;
    wait_text(&client, "#launch-problem .launch-problem-title", |text| {
        text == "clara-supervisor is already running"
    })
    .await;
    let message = wait_text(&client, "#launch-problem .launch-problem-message", |text| {
        !text.is_empty()
    })
    .await;
    assert_eq!(
        message,
        format!(
            "clara-supervisor is already running (pid {}); quit it first, or give this one another state directory than {}",
            up.id(),
            state.display()
        )
    );
    client.close().await.expect("the session ends");
    assert!(
        pids.iter().all(|&pid| alive(pid)),
        "the app killed nothing of the supervisor's"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(up.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signals");
    assert_eq!(exit_code(&mut up, PATIENCE).await, Some(0));
}

/// A release server for the end-to-end tests: serves the files of `root` on `port`,
/// slowly (64 KiB every 150 ms) so that a download's progress can be seen; what is
/// absent answers 404.
fn slow_release_server(root: &Path, port: u16) -> KilledOnDrop {
    let script = root.join("serve.py");
    std::fs::write(
        &script,
        r#"
import http.server, os, sys, time
root, port = sys.argv[1], int(sys.argv[2])
class Release(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        path = os.path.join(root, self.path.lstrip("/"))
        if not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for start in range(0, len(data), 65536):
            self.wfile.write(data[start:start + 65536])
            self.wfile.flush()
            time.sleep(0.15)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Release).serve_forever()
"#,
    )
    .expect("writes");
    KilledOnDrop(
        Command::new("python3")
            .arg(&script)
            .arg(root.join("releases"))
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the release server starts"),
    )
}

#[tokio::test]
#[ignore = "needs a display and tauri-driver: scripts/test runs it under xvfb-run"]
async fn clara_core_downloads_its_program_then_runs_and_the_bridge_follows() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path().display().to_string();
    // The stand-in Clara Core, released in two builds (core_1.0-cpu.tar.gz and
    // core_1.0-vulkan.tar.gz, told apart by how long they sleep) with a list of sums; a
    // megabyte and a half of noise beside it makes a download that takes a few seconds.
    // The app takes the build that suits this machine first, and the test then picks the
    // other one in Settings.
    let (first, other) = match clara_supervisor::runtime::gpu::detect() {
        clara_supervisor::platform::Accelerator::Cpu
        | clara_supervisor::platform::Accelerator::Metal => ("cpu", "vulkan"),
        _ => ("vulkan", "cpu"),
    };
    let sleeps = |build: &str| if build == "cpu" { "600" } else { "602" };
    // Random, so that compression keeps its size.
    let mut noise = vec![0u8; 1_500_000];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").expect("random bytes"),
        &mut noise,
    )
    .expect("random bytes");
    let releases = dir.path().join("releases");
    std::fs::create_dir_all(&releases).expect("makes");
    for build in ["cpu", "vulkan"] {
        let folder = dir.path().join(format!("build-{build}"));
        std::fs::create_dir_all(&folder).expect("makes");
        std::fs::write(
            folder.join("core"),
            format!(
                "#!/bin/sh\necho \"core ready\"\nexec sleep {}\n",
                sleeps(build)
            ),
        )
        .expect("writes");
        std::fs::write(folder.join("weights.bin"), &noise).expect("writes");
        let packed = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "chmod 755 {d}/build-{build}/core && tar -C {d}/build-{build} -czf {d}/core_1.0-{build}.tar.gz core weights.bin && cd {d} && sha256sum core_1.0-{build}.tar.gz >> {d}/releases/sums.txt"
            ))
            .status()
            .expect("tar and sha256sum run");
        assert!(packed.success());
    }
    // Only the other build is published yet.
    std::fs::rename(
        dir.path().join(format!("core_1.0-{other}.tar.gz")),
        releases.join(format!("core_1.0-{other}.tar.gz")),
    )
    .expect("publishes");
    let archive = dir.path().join(format!("core_1.0-{first}.tar.gz"));
    let port = free_port();
    let _server = slow_release_server(dir.path(), port);
    let home = dir.path().join("home");
    let models = dir.path().join("models");
    std::fs::create_dir_all(&models).expect("makes");
    std::fs::write(models.join("Tiny.gguf"), b"GGUF\x03\x00\x00\x00").expect("a model");

    let config = dir.path().join("services.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[services.core]
description = "Clara Core, a stand-in"
critical = true
command = ["${{PROGRAM_DIR}}/core"]
health = {{ log = "ready" }}
prepare = {{ kind = "llama-swap-config", config = "{d}/llama-swap-config.yaml", models = ["${{CORE_MODELS:-{d}/models}}"], models_variable = "CORE_MODELS", server = "${{PROGRAM_DIR}}/llama-server" }}

[services.core.install]
program = "core"
version = "1.0"
url = "http://127.0.0.1:{port}/core_{{version}}-{{variant}}.tar.gz"
checksums = "http://127.0.0.1:{port}/sums.txt"
folder_variable = "CORE_DIR"
variants = {{ cpu = "cpu", vulkan = "vulkan" }}

[services.mcp]
description = "The MCP bridge, a stand-in"
command = ["sleep", "650"]
depends_on = {{ core = "healthy" }}
"#
        ),
    )
    .expect("writes");
    let state = dir.path().join("state");
    chosen(&state, &[]);
    let driver = driver_at_home(&state, &dir.path().join("driver.log"), Some(&home)).await;
    let client = open_app(&driver, &config).await;

    // The release is not there yet: the card says so, and offers to download again.
    let card = ".service-card[data-service=\"core\"]";
    wait_state(&client, "core", "error").await;
    let reason = wait_text(&client, &format!("{card} .service-reason"), |text| {
        !text.is_empty()
    })
    .await;
    assert!(
        reason.starts_with(&format!(
            "the download of core 1.0 from http://127.0.0.1:{port}/core_1.0-{first}.tar.gz answered 404 Not Found"
        )),
        "{reason}"
    );
    wait_text(&client, &format!("{card} button.restart"), |text| {
        text == "Download again"
    })
    .await;
    wait_state(&client, "mcp", "waiting").await;
    screenshot("download-failed.png");
    // …or to use programs the user has: Choose folder… opens Settings on the folder field.
    click(&client, &format!("{card} button.choose-folder")).await;
    let focused = || async {
        client
            .execute(
                "return document.activeElement && document.activeElement.className",
                vec![],
            )
            .await
            .ok()
    };
    let deadline = Instant::now() + PATIENCE;
    while focused().await != Some(serde_json::json!("programs-folder")) {
        assert!(
            Instant::now() < deadline,
            "the folder field never had the focus"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    click(&client, "#features-dialog button[value=\"close\"]").await;

    // Published: Download again shows the download's progress, then Clara Core runs
    // with the model found, and the bridge follows.
    std::fs::rename(&archive, releases.join(format!("core_1.0-{first}.tar.gz")))
        .expect("publishes");
    click(&client, &format!("{card} button.restart")).await;
    let progress = wait_text(&client, &format!("{card} .pull-text"), |text| {
        text.starts_with("Downloading: ") && !text.contains("(100%)")
    })
    .await;
    assert!(progress.contains(" MB ("), "{progress}");
    wait_text(
        &client,
        ".service-card[data-service=\"mcp\"] .service-reason",
        |text| text == "waiting for core to be ready",
    )
    .await;
    screenshot("download-progress.png");
    wait_state(&client, "core", "running").await;
    wait_text(&client, &format!("{card} .service-detail"), |text| {
        text == "1 model: tiny"
    })
    .await;
    wait_state(&client, "mcp", "running").await;
    wait_text(&client, &format!("{card} button.restart"), |text| {
        text == "Restart"
    })
    .await;
    assert!(
        home.join(format!(
            ".local/share/ClaraVerse/programs/core/1.0-{first}/core"
        ))
        .is_file()
    );
    screenshot("download-done.png");

    // Settings → Programs: the user's own copy, checked, then used at once; then back.
    let mine = dir.path().join("mine");
    for (name, says) in [
        ("core", "core 2.0 (mine)"),
        ("llama-server", "version: 1 (mine)"),
    ] {
        let script = mine.join(name);
        std::fs::create_dir_all(&mine).expect("makes");
        std::fs::write(
            &script,
            format!("#!/bin/sh\n[ \"$1\" = --version ] && echo \"{says}\" && exit 0\necho \"core ready\"\nexec sleep 601\n"),
        )
        .expect("writes");
        let made = Command::new("chmod").arg("755").arg(&script).status();
        assert!(made.is_ok_and(|status| status.success()));
    }
    click(&client, "#settings-button").await;
    let row = "#programs-list li.server-row[data-service=\"core\"]";
    wait_text(&client, &format!("{row} .server-status"), |text| {
        text.starts_with("ClaraVerse downloads them into ")
            && text.ends_with(&format!("/programs/core/1.0-{first}."))
    })
    .await;
    client
        .find(Locator::Css(&format!("{row} input.programs-folder")))
        .await
        .expect("the folder field")
        .send_keys(&mine.display().to_string())
        .await
        .expect("types");
    click(&client, &format!("{row} button.programs-use")).await;
    wait_text(&client, &format!("{row} .server-status"), |text| {
        text == format!(
            "core runs the programs in {} now (core: core 2.0 (mine); llama-server: version: 1 (mine)).",
            mine.display()
        )
    })
    .await;
    screenshot("programs-folder.png");
    wait_state(&client, "core", "running").await;
    let mine_runs = || {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .any(|entry| {
                std::fs::read(entry.path().join("cmdline"))
                    .is_ok_and(|cmdline| cmdline == b"sleep\x00601\x00")
            })
    };
    assert!(
        eventually(PATIENCE, mine_runs).await,
        "the user's copy runs"
    );
    let choices = std::fs::read_to_string(state.join("choices.json")).expect("saved");
    assert!(choices.contains("CORE_DIR"), "{choices}");

    click(&client, &format!("{row} button.programs-download")).await;
    wait_text(&client, &format!("{row} .server-status"), |text| {
        text == "core runs the programs ClaraVerse downloads now."
    })
    .await;
    assert!(
        eventually(PATIENCE, || !mine_runs()).await,
        "the user's copy stopped"
    );
    wait_state(&client, "core", "running").await;
    let choices = std::fs::read_to_string(state.join("choices.json")).expect("saved");
    assert!(choices.contains(r#""CORE_DIR": """#), "{choices}");

    // Another models folder, chosen in Settings: read at once.
    let more = dir.path().join("more models");
    std::fs::create_dir_all(&more).expect("makes");
    std::fs::write(more.join("Big.gguf"), b"GGUF\x03\x00\x00\x00").expect("a model");
    let models_field = client
        .find(Locator::Css(&format!("{row} input.programs-models-folder")))
        .await
        .expect("the models field");
    models_field.clear().await.expect("clears");
    models_field
        .send_keys(&more.display().to_string())
        .await
        .expect("types");
    click(&client, &format!("{row} button.programs-models-use")).await;
    wait_text(&client, &format!("{row} .server-status"), |text| {
        text == format!(
            "core reads its models from {} now: 1 model found.",
            more.display()
        )
    })
    .await;
    wait_text(&client, &format!("{card} .service-detail"), |text| {
        text == "1 model: big"
    })
    .await;
    screenshot("programs-models.png");

    // The other build, picked in Settings: downloaded, then run at once, and remembered.
    client
        .find(Locator::Css(&format!("{row} select.programs-build")))
        .await
        .expect("the build choice")
        .select_by_value(other)
        .await
        .expect("picks");
    wait_text(&client, &format!("{row} .server-status"), |text| {
        text == format!("core runs the {other} build now, downloaded first if need be.")
    })
    .await;
    let runs = |arg: &'static str| {
        move || {
            std::fs::read_dir("/proc")
                .into_iter()
                .flatten()
                .flatten()
                .any(|entry| {
                    std::fs::read(entry.path().join("cmdline"))
                        .is_ok_and(|cmdline| cmdline == format!("sleep\0{arg}\0").as_bytes())
                })
        }
    };
    assert!(
        eventually(PATIENCE, runs(sleeps(other))).await,
        "the {other} build runs"
    );
    assert!(
        eventually(PATIENCE, || !runs(sleeps(first))()).await,
        "the {first} build stopped"
    );
    wait_state(&client, "core", "running").await;
    let choices = std::fs::read_to_string(state.join("choices.json")).expect("saved");
    assert!(
        choices.contains(&format!("\"accelerator\": \"{other}\"")),
        "{choices}"
    );
    client.close().await.expect("the session ends");
}
