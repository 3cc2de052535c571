//! The app's commands and event forwarding, on tauri's mock runtime with real processes.

#![cfg(unix)]

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clara_supervisor::definitions::Variables;
use clara_supervisor::diagnostics::SourceFile;
use clara_supervisor::load::{self, LoadOptions};
use clara_supervisor::manager::ManagerConfig;
use clara_supervisor::platform::Platform;
use clara_supervisor::selection::FeatureChoice;
use claraverse_app::{AppState, commands};
use tauri::test::{MockRuntime, mock_context, noop_assets};
use tauri::{App, Listener, Manager};

const SERVICES: &str = r#"
[features.extra]
label = "Extra tools"

[services.db]
command = ["sh", "-c", "echo db is up; exec sleep 600"]
health = { log = "db is up" }

[services.api]
command = ["sleep", "600"]
depends_on = ["db"]

[services.tool]
command = ["sleep", "600"]
feature = "extra"
depends_on = { api = "started" }
"#;

struct TestApp {
    app: App<MockRuntime>,
    _dir: tempfile::TempDir,
    events: Arc<Mutex<Vec<(String, serde_json::Value)>>>,
}

impl TestApp {
    fn start() -> TestApp {
        TestApp::with(SERVICES)
    }

    /// The app over the definitions `services`, every service asked to start.
    fn with(services: &str) -> TestApp {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let options = LoadOptions {
            platform: Platform::current(),
            variables: Variables::new(
                [(
                    "PATH".to_string(),
                    std::env::var("PATH").unwrap_or_default(),
                )],
                dir.path(),
            ),
            features: FeatureChoice::Defaults,
        };
        let definitions = load::load(&SourceFile::new("app-test.toml", services), &options)
            .expect("valid definitions")
            .definitions;
        let app = claraverse_app::builder::<MockRuntime>()
            .build(mock_context(noop_assets()))
            .expect("the mock app builds");
        let events = Arc::new(Mutex::new(Vec::new()));
        for name in [
            "service-status-changed",
            "startup-complete",
            "startup-failed",
            "service-metrics",
            "service-log",
            "summary-changed",
        ] {
            let events = Arc::clone(&events);
            app.listen(name, move |event| {
                let payload =
                    serde_json::from_str(event.payload()).unwrap_or(serde_json::Value::Null);
                events
                    .lock()
                    .expect("not poisoned")
                    .push((name.to_string(), payload));
            });
        }
        let mut config = ManagerConfig::new(dir.path().join("state"));
        config.guard_program = Some(env!("CARGO_BIN_EXE_claraverse").into());
        tauri::async_runtime::block_on(async {
            claraverse_app::start_engine(app.handle(), definitions, Some(BTreeSet::new()), config)
        })
        .expect("the engine starts");
        claraverse_app::start_all(app.handle());
        TestApp {
            app,
            _dir: dir,
            events,
        }
    }

    fn state(&self) -> tauri::State<'_, AppState> {
        self.app.state::<AppState>()
    }

    /// Waits (generously) for an event matching `wanted`.
    fn wait_for(
        &self,
        what: &str,
        wanted: impl Fn(&str, &serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some((_, payload)) = self
                .events
                .lock()
                .expect("not poisoned")
                .iter()
                .find(|(n, p)| wanted(n, p))
            {
                return payload.clone();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "no {what}; got {:#?}",
            self.events.lock().expect("not poisoned")
        );
    }

    fn wait_status(&self, service: &str, status: &str) -> serde_json::Value {
        self.wait_for(&format!("{service} {status}"), |name, payload| {
            name == "service-status-changed"
                && payload["service"] == service
                && payload["status"] == status
        })
    }

    fn clear(&self) {
        self.events.lock().expect("not poisoned").clear();
    }

    fn run<T>(&self, future: impl std::future::Future<Output = T>) -> T {
        tauri::async_runtime::block_on(future)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let manager = self.state().manager.clone();
        let _ = tauri::async_runtime::block_on(manager.shutdown());
    }
}

#[test]
fn status_changes_reach_the_window_as_events_with_the_full_status() {
    let app = TestApp::start();
    let api = app.wait_status("api", "running");
    assert_eq!(api["service"], "api");
    for other_spelling in ["name", "state"] {
        assert!(
            api.get(other_spelling).is_none(),
            "{other_spelling} in {api}"
        );
    }
    assert!(api["pid"].as_u64().is_some());
    assert!(api["seq"].as_u64().is_some_and(|seq| seq > 0));
    for field in [
        "health",
        "reason",
        "restarts",
        "uptimeSeconds",
        "ports",
        "lastError",
        "detail",
    ] {
        assert!(api.get(field).is_some(), "{field} missing from {api}");
    }
    let complete = app.wait_for("startup-complete", |name, _| name == "startup-complete");
    assert_eq!(complete["degraded"], serde_json::json!([]));
    let summary = app.wait_for("the summary", |name, payload| {
        name == "summary-changed" && payload["summary"] == "All 2 services are running"
    });
    assert!(summary["seq"].as_u64().is_some_and(|seq| seq > 0));
    let metrics = app.wait_for("metrics", |name, _| name == "service-metrics");
    let db = metrics["services"]
        .as_array()
        .and_then(|all| all.iter().find(|m| m["service"] == "db").cloned());
    assert!(
        db.is_some_and(|db| db["memoryBytes"].as_u64().is_some_and(|bytes| bytes > 0)),
        "{metrics}"
    );
}

#[test]
fn list_then_deltas_miss_nothing() {
    let app = TestApp::start();
    app.wait_status("api", "running");
    let list = app
        .run(commands::list_services(app.state()))
        .expect("lists");
    let names: Vec<&str> = list.services.iter().map(|s| s.service.as_str()).collect();
    assert_eq!(names, ["db", "api", "tool"]);
    assert_eq!(
        list.services[2].status,
        clara_supervisor::state::ServiceState::Disabled
    );
    assert!(list.seq > 0);
    assert_eq!(list.summary, "All 2 services are running");
    // Every later event carries a higher number than the snapshot.
    app.clear();
    app.run(commands::restart_service(app.state(), "db".into()))
        .expect("restarts");
    let after = app.wait_status("db", "running");
    assert!(after["seq"].as_u64().is_some_and(|seq| seq > list.seq));
    // One vocabulary: a service in the snapshot has the event's fields, but its number.
    let keys = |value: &serde_json::Value| -> BTreeSet<String> {
        value
            .as_object()
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut event_keys = keys(&after);
    event_keys.remove("seq");
    let snapshot_service = serde_json::to_value(&list.services[0]).expect("serializes");
    assert_eq!(keys(&snapshot_service), event_keys);
}

#[test]
fn start_stop_and_restart_commands() {
    let app = TestApp::start();
    app.wait_status("api", "running");
    let stopping = app
        .run(commands::stop_service(app.state(), "db".into()))
        .expect("stops");
    assert_eq!(stopping, ["api", "db"]);
    app.wait_status("db", "stopped");
    app.run(commands::start_service(app.state(), "db".into()))
        .expect("starts");
    app.wait_status("api", "running");
    let error = app
        .run(commands::restart_service(app.state(), "dbb".into()))
        .expect_err("unknown");
    assert_eq!(error, "there is no service \"dbb\" (did you mean \"db\"?)");
    let error = app
        .run(commands::start_service(app.state(), "tool".into()))
        .expect_err("feature off");
    assert_eq!(
        error,
        "service \"tool\" belongs to feature \"extra\", which is off: turn the feature on first"
    );
}

#[test]
fn features_are_previewed_and_applied_live() {
    let app = TestApp::start();
    app.wait_status("api", "running");
    let features = app
        .run(commands::get_features(app.state()))
        .expect("features");
    assert_eq!(features.len(), 1);
    assert!(!features[0].enabled);
    assert_eq!(features[0].services, ["tool"]);
    let preview = app
        .run(commands::preview_features(
            app.state(),
            vec!["extra".into()],
        ))
        .expect("preview");
    assert_eq!(preview.starts, ["tool"]);
    app.run(commands::set_features(app.state(), vec!["extra".into()]))
        .expect("applies");
    app.wait_status("tool", "running");
    let change = app
        .run(commands::set_features(app.state(), vec![]))
        .expect("applies");
    assert_eq!(change.stops, ["tool"]);
    app.wait_status("tool", "disabled");
    let error = app
        .run(commands::preview_features(app.state(), vec!["extr".into()]))
        .expect_err("unknown");
    assert_eq!(
        error,
        "feature \"extr\": is not defined (did you mean \"extra\"?)"
    );
}

#[test]
fn logs_are_read_and_followed() {
    let app = TestApp::start();
    app.wait_status("db", "running");
    let lines = app
        .run(commands::service_logs(app.state(), "db".into(), 10))
        .expect("logs");
    assert_eq!(lines.last().map(|l| l.text.as_str()), Some("db is up"));
    app.run(commands::follow_logs(app.state(), "db".into()))
        .expect("follows");
    app.run(commands::restart_service(app.state(), "db".into()))
        .expect("restarts");
    let line = app.wait_for("a followed line", |name, payload| {
        name == "service-log" && payload["service"] == "db"
    });
    assert_eq!(line["text"], "db is up");
    assert_eq!(line["stream"], "stdout");
}

#[test]
fn a_critical_failure_says_its_cause_and_the_advice_for_it() {
    let app = TestApp::with(
        r#"
[services.core]
critical = true
command = ["sh", "-c", "exit 1"]
health = { log = "listening" }
restart = "never"
"#,
    );
    let failed = app.wait_for("startup-failed", |name, _| name == "startup-failed");
    assert_eq!(failed["service"], "core");
    assert_eq!(failed["cause"], "exited");
    assert_eq!(
        failed["hint"],
        "Look at its logs for the cause, then choose Retry — or Continue without it."
    );
    // A window that opens later reads the same from the snapshot.
    let list = app
        .run(commands::list_services(app.state()))
        .expect("lists");
    let startup = serde_json::to_value(&list.startup).expect("serializes");
    assert_eq!(startup["phase"], "failed");
    assert_eq!(startup["cause"], failed["cause"]);
    assert_eq!(startup["hint"], failed["hint"]);
}
