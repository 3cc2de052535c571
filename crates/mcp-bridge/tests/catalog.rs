//! The catalog's `mcp` service and this program agree: its command, resolved as the
//! supervisor resolves it for a program beside it (`${APP_DIR}`), starts the bridge on the
//! servers file in `CLARA_HOME`, and its health check answers.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use clara_supervisor::catalog;
use clara_supervisor::definitions::{Probe, RuntimeKind, Variables};
use clara_supervisor::load::{self, LoadOptions};
use clara_supervisor::platform::Platform;
use clara_supervisor::selection::FeatureChoice;
use serde_json::json;

/// Kills the bridge when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_catalogs_bridge_serves_the_servers_file_and_answers_its_health_check() {
    let home = tempfile::tempdir().expect("temporary folder");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/echo_server.py");
    let servers = json!({"mcpServers": {"echo": {"command": "python3", "args": [script]}}});
    std::fs::write(home.path().join("mcp-servers.json"), servers.to_string()).expect("write");
    let bridge_folder = Path::new(env!("CARGO_BIN_EXE_clara-mcp"))
        .parent()
        .expect("a folder");
    let options = LoadOptions {
        platform: Platform::Linux,
        variables: Variables::new([], home.path()).with_app_dir(bridge_folder),
        features: FeatureChoice::Defaults,
    };
    let loaded = load::load(&catalog::source(), &options).expect("the catalog is valid");
    let mcp = &loaded.definitions.services["mcp"];
    let RuntimeKind::Process { command } = &mcp.runtime else {
        panic!("the bridge is a native process");
    };
    let Some(Probe::Http { url: health, .. }) = mcp.health.as_ref().map(|check| &check.probe)
    else {
        panic!("the bridge is checked over HTTP");
    };

    let _bridge = Running(
        Command::new(&command[0])
            .args(&command[1..])
            .spawn()
            .expect("the catalog's command starts"),
    );
    let client = clara_supervisor::http_client::build(|builder| builder).expect("an HTTP client");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match client.get(health).send().await {
            Ok(response) if response.status().is_success() => break,
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(50)).await,
            other => panic!("the health check never passed: {other:?}"),
        }
    }
    let base = health.trim_end_matches("/health");
    let answer: serde_json::Value = client
        .post(format!("{base}/servers/echo"))
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).to_string())
        .send()
        .await
        .expect("the bridge answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(answer["result"]["method"], "tools/list", "{answer}");
}
