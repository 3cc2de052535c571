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

/// Starts tauri-driver for an app whose state lives in `state_dir`, and waits until it
/// (and the WebKitWebDriver behind it) answers.
async fn driver(state_dir: &Path, log: &Path) -> Driver {
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
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if let Ok(text) = element.text().await {
                if wanted(text.trim()) {
                    return text.trim().to_string();
                }
                last = text;
            }
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
        if let Ok(element) = client.find(Locator::Css(css)).await {
            if element.click().await.is_ok() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "cannot click {css}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Saves what the (virtual) screen shows. Taken from the X display rather than over
/// WebDriver: WebKitWebDriver's screenshot does not return while a modal dialog is open.
fn screenshot(name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/e2e");
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

#[tokio::test]
#[ignore = "needs a display: scripts/test runs it under xvfb-run"]
async fn quitting_stops_every_service_first() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path().display().to_string();
    let config = dir.path().join("services.toml");
    std::fs::write(
        &config,
        format!(
            "[services.one]\ncommand = [\"sh\", \"-c\", \"sleep 600 & echo $$! > {d}/one-child.pid; echo $$$$ > {d}/one.pid; wait\"]\n\n\
             [services.two]\ncommand = [\"sh\", \"-c\", \"echo $$$$ > {d}/two.pid; exec sleep 600\"]\ndepends_on = {{ one = \"started\" }}\n"
        ),
    )
    .expect("writes");
    let log = dir.path().join("app.log");
    let mut app = Command::new(env!("CARGO_BIN_EXE_claraverse"))
        .arg("--config")
        .arg(&config)
        .env("CLARAVERSE_STATE_DIR", dir.path().join("state"))
        .stdout(Stdio::null())
        .stderr(Stdio::from(
            std::fs::File::create(&log).expect("a log file"),
        ))
        .spawn()
        .expect("the app starts");
    let files = ["one.pid", "one-child.pid", "two.pid"].map(|name| dir.path().join(name));
    assert!(
        eventually(PATIENCE, || files
            .iter()
            .all(
                |f| std::fs::read_to_string(f).is_ok_and(|t| !t.trim().is_empty())
            ))
        .await
    );
    let pids: Vec<u32> = files.iter().map(|f| read_pid(f)).collect();
    assert!(pids.iter().all(|&pid| alive(pid)));
    // SIGTERM, as a logout or `kill` sends: a clean stop, then a normal exit.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(app.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("signals");
    let mut status = None;
    assert!(
        eventually(PATIENCE, || {
            status = app.try_wait().ok().flatten();
            status.is_some()
        })
        .await,
        "the app exits"
    );
    assert_eq!(status.and_then(|s| s.code()), Some(0));
    let said = std::fs::read_to_string(&log).unwrap_or_default();
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
