//! The bridge as its users meet it: the real `clara-mcp` program, serving a real MCP server
//! program (a small Python stand-in, `support/echo_server.py`) over HTTP.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Generous: these wait for events, never for a fixed time.
const PATIENCE: Duration = Duration::from_secs(30);

/// A running bridge, stopped when dropped.
struct Bridge {
    child: Child,
    url: String,
    client: reqwest::Client,
    _folder: tempfile::TempDir,
}

impl Bridge {
    /// Starts `clara-mcp` with these servers on a port of its choosing.
    fn start(servers: Value, arguments: &[&str]) -> Bridge {
        let folder = tempfile::tempdir().expect("temporary folder");
        let config = folder.path().join("mcp-servers.json");
        std::fs::write(&config, json!({ "mcpServers": servers }).to_string()).expect("write");
        let mut child = Command::new(env!("CARGO_BIN_EXE_clara-mcp"))
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .args(arguments)
            .stderr(Stdio::piped())
            .spawn()
            .expect("clara-mcp starts");
        let url = serving_url(&mut child);
        Bridge {
            child,
            url,
            client: clara_supervisor::http_client::build(|builder| builder)
                .expect("an HTTP client"),
            _folder: folder,
        }
    }

    async fn post(&self, server: &str, message: Value) -> (u16, Value) {
        let response = self
            .client
            .post(format!("{}/servers/{server}", self.url))
            .body(message.to_string())
            .send()
            .await
            .expect("the bridge answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).expect("a JSON body")
        };
        (status, body)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("the bridge answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// Sends SIGTERM and waits for the bridge to exit.
    #[cfg(unix)]
    fn terminate(&mut self) -> ExitStatus {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        let pid = i32::try_from(self.child.id()).expect("a pid");
        kill(Pid::from_raw(pid), Signal::SIGTERM).expect("signal");
        wait_for_exit(&mut self.child)
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads the bridge's log until it says where it serves; then drains the rest in the
/// background, so the bridge never blocks on a full pipe.
fn serving_url(child: &mut Child) -> String {
    let stderr = child.stderr.take().expect("piped");
    let (found, url) = mpsc::channel();
    std::thread::spawn(move || {
        let mut found = Some(found);
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            eprintln!("clara-mcp: {line}");
            if let Some(at) = line.find("at http://")
                && let Some(sender) = found.take()
            {
                let rest = &line[at + 3..];
                let end = rest.find("/servers").unwrap_or(rest.len());
                let _ = sender.send(rest[..end].to_string());
            }
        }
    });
    url.recv_timeout(PATIENCE)
        .expect("the bridge says where it serves")
}

fn wait_for_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "the bridge did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn echo_server() -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/echo_server.py");
    json!({"command": "python3", "args": [script]})
}

fn request(id: Value, method: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {"protocolVersion": "2025-06-18"}})
}

fn error_message(body: &Value) -> &str {
    body["error"]["message"].as_str().expect("an error message")
}

#[tokio::test]
async fn requests_reach_the_server_and_come_back_with_the_clients_id() {
    let bridge = Bridge::start(json!({"echo": echo_server()}), &[]);

    let (status, answer) = bridge
        .post("echo", request(json!("init-1"), "initialize"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["id"], "init-1");
    assert_eq!(answer["result"]["serverInfo"]["name"], "echo");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (status, body) = bridge.post("echo", initialized.clone()).await;
    assert_eq!((status, body), (202, Value::Null));

    let (status, answer) = bridge.post("echo", request(json!(7), "tools/list")).await;
    assert_eq!(status, 200);
    assert_eq!(answer["id"], 7, "the client's id comes back");
    assert_eq!(answer["result"]["method"], "tools/list");
    assert!(
        answer["result"]["id_seen"].is_u64(),
        "the server saw the bridge's id"
    );
    let pid = answer["result"]["pid"].clone();

    // A second client's handshake is answered from the first: the server has one conversation.
    let (status, answer) = bridge
        .post("echo", request(json!("init-2"), "initialize"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(answer["id"], "init-2");
    assert_eq!(answer["result"]["initializes"], 1);
    assert_eq!(bridge.post("echo", initialized).await.0, 202);
    let (_, answer) = bridge.post("echo", request(json!(8), "ping")).await;
    assert_eq!(
        answer["result"]["notifications"],
        json!(["notifications/initialized"])
    );
    assert_eq!(answer["result"]["pid"], pid, "one run serves them all");
}

#[tokio::test]
async fn clients_using_the_same_id_at_once_each_get_their_own_answer() {
    let bridge = Bridge::start(json!({"echo": echo_server()}), &[]);
    let calls = (0..20).map(|n| {
        let bridge = &bridge;
        async move {
            let method = format!("method-{n}");
            let (status, answer) = bridge.post("echo", request(json!(1), &method)).await;
            assert_eq!(status, 200);
            assert_eq!(answer["id"], 1);
            assert_eq!(answer["result"]["method"], method.as_str());
        }
    });
    futures_util::future::join_all(calls).await;
}

#[tokio::test]
async fn a_server_that_ends_fails_its_request_in_a_sentence_and_starts_again() {
    let bridge = Bridge::start(json!({"echo": echo_server()}), &[]);
    let (_, before) = bridge.post("echo", request(json!(1), "ping")).await;

    let (status, body) = bridge.post("echo", request(json!(5), "exit")).await;
    assert_eq!(status, 502);
    assert_eq!(body["id"], 5);
    assert_eq!(
        error_message(&body),
        "the MCP server echo ended (exit status: 3) before it answered; it starts again at the next message"
    );
    let (_, listing) = bridge.get("/servers").await;
    assert_eq!(
        listing[0]["state"],
        "ended (exit status: 3): it starts again at its next message"
    );

    let (status, after) = bridge.post("echo", request(json!(6), "ping")).await;
    assert_eq!(status, 200);
    assert_ne!(after["result"]["pid"], before["result"]["pid"], "a new run");
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_given_up_on_in_time() {
    let bridge = Bridge::start(json!({"echo": echo_server()}), &["--timeout", "1"]);
    let (status, body) = bridge.post("echo", request(json!("h"), "hang")).await;
    assert_eq!(status, 504);
    assert_eq!(body["id"], "h");
    assert_eq!(
        error_message(&body),
        "the MCP server echo did not answer hang within 1 s"
    );
    let (status, _) = bridge.post("echo", request(json!(2), "ping")).await;
    assert_eq!(status, 200, "the server still serves");
}

#[tokio::test]
async fn a_servers_own_requests_are_refused_to_it() {
    let bridge = Bridge::start(json!({"echo": echo_server()}), &[]);
    let (status, answer) = bridge.post("echo", request(json!(1), "ask")).await;
    assert_eq!(status, 200);
    let reply = &answer["result"]["reply"];
    assert_eq!(reply["id"], "from-server");
    assert_eq!(
        error_message(reply),
        "the ClaraVerse MCP bridge passes no requests from servers to clients"
    );
}

#[tokio::test]
async fn servers_are_listed_with_where_they_stand() {
    let bridge = Bridge::start(
        json!({"echo": echo_server(), "later": echo_server(), "remote": {"url": "http://x"}}),
        &[],
    );
    assert_eq!(
        bridge.get("/health").await,
        (200, json!({"status": "ok", "servers": 2}))
    );
    let (_, answer) = bridge.post("echo", request(json!(1), "ping")).await;
    let pid = &answer["result"]["pid"];
    assert_eq!(
        bridge.get("/servers").await,
        (
            200,
            json!([
                {"name": "echo", "path": "/servers/echo", "state": format!("running (pid {pid})")},
                {"name": "later", "path": "/servers/later", "state": "not started yet: it starts at its first message"},
            ])
        )
    );
}

#[tokio::test]
async fn wrong_paths_and_messages_are_answered_with_sentences() {
    let bridge = Bridge::start(json!({"echo": echo_server()}), &[]);
    let (status, body) = bridge.post("other", request(json!(1), "ping")).await;
    assert_eq!(status, 404);
    assert_eq!(
        error_message(&body),
        "there is no MCP server \"other\" on this bridge; it serves echo"
    );
    let (status, body) = bridge.get("/servers/echo").await;
    assert_eq!(status, 405);
    assert_eq!(
        error_message(&body),
        "the MCP server echo takes POST only: one JSON-RPC message per request, answered as JSON"
    );
    let (status, body) = bridge.get("/elsewhere").await;
    assert_eq!(status, 404);
    assert_eq!(
        error_message(&body),
        "nothing is served at GET /elsewhere: the bridge serves GET /health, GET /servers and POST /servers/NAME"
    );
    let (status, body) = bridge
        .post("echo", json!([request(json!(1), "ping")]))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        error_message(&body),
        "batches are not passed on: send one JSON-RPC message per request"
    );
    let (status, body) = bridge
        .post("echo", json!({"jsonrpc": "2.0", "id": 1, "result": {}}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        error_message(&body),
        "only requests and notifications (JSON-RPC objects with a \"method\") are passed on"
    );
    let response = bridge
        .client
        .post(format!("{}/servers/echo", bridge.url))
        .body("{\"id\": 1,")
        .send()
        .await
        .expect("the bridge answers");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        error_message(&body),
        "the message is not JSON: EOF while parsing a value at line 1 column 9"
    );
}

#[tokio::test]
async fn a_program_that_cannot_start_is_named() {
    let bridge = Bridge::start(json!({"gone": {"command": "/nonexistent/mcp-server"}}), &[]);
    let (status, body) = bridge.post("gone", request(json!(1), "ping")).await;
    assert_eq!(status, 502);
    assert_eq!(
        error_message(&body),
        "the MCP server gone could not start: /nonexistent/mcp-server: No such file or directory (os error 2)"
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn stopping_the_bridge_stops_its_servers() {
    let mut bridge = Bridge::start(json!({"echo": echo_server()}), &[]);
    let (_, answer) = bridge.post("echo", request(json!(1), "ping")).await;
    let pid = answer["result"]["pid"].as_u64().expect("a pid");

    let status = bridge.terminate();
    assert!(status.success(), "a clean stop: {status}");
    // Gone, or a zombie waiting for the reaper: either way no longer running.
    let deadline = Instant::now() + PATIENCE;
    while let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        let state = stat.rsplit(')').next().unwrap_or_default().trim_start();
        if state.starts_with('Z') {
            break;
        }
        assert!(Instant::now() < deadline, "the server outlived the bridge");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_broken_servers_file_is_refused_with_its_place() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let config = folder.path().join("mcp-servers.json");
    std::fs::write(&config, "{\"mcpServers\": [1]}").expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_clara-mcp"))
        .args(["--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .output()
        .expect("clara-mcp runs");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        format!(
            "clara-mcp: the MCP servers file {} is not valid: invalid type: sequence, expected a map at line 1 column 15\n",
            config.display()
        )
    );
}

#[test]
fn it_answers_version_as_programs_are_checked() {
    let output = Command::new(env!("CARGO_BIN_EXE_clara-mcp"))
        .arg("--version")
        .output()
        .expect("clara-mcp runs");
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        format!("clara-mcp {}\n", env!("CARGO_PKG_VERSION"))
    );
}
