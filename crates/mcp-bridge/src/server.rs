//! One MCP server the bridge runs: a child process spoken to in JSON-RPC, one message per
//! line on its standard input and output. It starts at its first message, and again at the
//! next message after it ended.
//!
//! Many clients share one run of the server, so the bridge gives each request an id of its
//! own and puts the client's id back on the answer. The first `initialize` goes to the
//! server; later ones are answered with its result, and `notifications/initialized` is passed
//! on once, as a server expects one conversation.

use std::collections::HashMap;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::{Map, Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{Notify, mpsc, oneshot, watch};

use crate::config::ServerConfig;

const INITIALIZE: &str = "initialize";
const INITIALIZED: &str = "notifications/initialized";
/// How long a server that closed its output is given to exit before it is killed.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// What a message brought back.
#[derive(Debug)]
pub enum Outcome {
    /// The answer to a request, with the client's id.
    Answer(Value),
    /// A notification, passed on; nothing comes back.
    Accepted,
}

/// Why a message got no answer, in a sentence for the client.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The program could not be started.
    #[error("the MCP server {name} could not start: {command}: {source}")]
    Start {
        /// The server.
        name: String,
        /// Its program.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// The program ended before it answered.
    #[error(
        "the MCP server {name} ended ({how}) before it answered; it starts again at the next message"
    )]
    Ended {
        /// The server.
        name: String,
        /// How it ended.
        how: String,
    },
    /// No answer came in time.
    #[error("the MCP server {name} did not answer {method} within {seconds} s")]
    Timeout {
        /// The server.
        name: String,
        /// The request's method.
        method: String,
        /// The time it had.
        seconds: u64,
    },
}

/// One MCP server of the bridge, started when first needed.
pub struct McpServer {
    name: String,
    config: ServerConfig,
    timeout: Duration,
    next_id: AtomicU64,
    run: tokio::sync::Mutex<Option<Arc<Run>>>,
}

/// One run of the server's program.
struct Run {
    pid: Option<u32>,
    lines: mpsc::UnboundedSender<String>,
    waiting: Mutex<HashMap<u64, oneshot::Sender<Value>>>,
    /// How the program ended, once it has.
    ended: watch::Sender<Option<String>>,
    stop: Notify,
    /// The result of the first `initialize`, given to every later one.
    initialize: tokio::sync::Mutex<Option<Value>>,
    initialized_sent: AtomicBool,
}

impl McpServer {
    /// A server that waits `timeout` for each answer.
    pub fn new(name: String, config: ServerConfig, timeout: Duration) -> Self {
        Self {
            name,
            config,
            timeout,
            next_id: AtomicU64::new(1),
            run: tokio::sync::Mutex::new(None),
        }
    }

    /// Passes one request or notification (a JSON-RPC object with a `method`) to the server.
    pub async fn call(&self, mut message: Map<String, Value>) -> Result<Outcome, CallError> {
        let method = message
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let run = self.run().await?;
        let Some(client_id) = message.remove("id") else {
            if method == INITIALIZED && run.initialized_sent.swap(true, Ordering::SeqCst) {
                return Ok(Outcome::Accepted);
            }
            self.send(&run, &Value::Object(message))?;
            return Ok(Outcome::Accepted);
        };
        let reply = if method == INITIALIZE {
            let mut first = run.initialize.lock().await;
            match first.as_ref() {
                Some(result) => json!({"jsonrpc": "2.0", "result": result}),
                None => {
                    let reply = self.ask(&run, message, &method).await?;
                    *first = reply.get("result").cloned();
                    reply
                }
            }
        } else {
            self.ask(&run, message, &method).await?
        };
        Ok(Outcome::Answer(with_id(reply, client_id)))
    }

    /// Where the server stands, in a few words.
    pub fn state(&self) -> String {
        let Ok(run) = self.run.try_lock() else {
            return "starting".to_string();
        };
        match run.as_ref() {
            None => "not started yet: it starts at its first message".to_string(),
            Some(run) => match run.ended.borrow().as_ref() {
                Some(how) => format!("ended ({how}): it starts again at its next message"),
                None => match run.pid {
                    Some(pid) => format!("running (pid {pid})"),
                    None => "running".to_string(),
                },
            },
        }
    }

    /// Stops the server's program, if it runs, and waits until it has ended.
    pub async fn stop(&self) {
        let Some(run) = self.run.lock().await.take() else {
            return;
        };
        run.stop.notify_one();
        let mut ended = run.ended.subscribe();
        // The run's task always ends: it kills the program and waits for it.
        let _ = ended.wait_for(Option::is_some).await;
    }

    /// The running program, started if it is not running.
    async fn run(&self) -> Result<Arc<Run>, CallError> {
        let mut current = self.run.lock().await;
        if let Some(run) = current.as_ref()
            && run.ended.borrow().is_none()
        {
            return Ok(run.clone());
        }
        let run = self.start()?;
        *current = Some(run.clone());
        Ok(run)
    }

    fn start(&self) -> Result<Arc<Run>, CallError> {
        let mut child = Command::new(&self.config.command)
            .args(&self.config.args)
            .envs(&self.config.env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| CallError::Start {
                name: self.name.clone(),
                command: self.config.command.clone(),
                source,
            })?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            return Err(CallError::Start {
                name: self.name.clone(),
                command: self.config.command.clone(),
                source: std::io::Error::other("its input and output could not be connected"),
            });
        };
        let (lines, to_write) = mpsc::unbounded_channel();
        let run = Arc::new(Run {
            pid: child.id(),
            lines,
            waiting: Mutex::new(HashMap::new()),
            ended: watch::Sender::new(None),
            stop: Notify::new(),
            initialize: tokio::sync::Mutex::new(None),
            initialized_sent: AtomicBool::new(false),
        });
        tracing::info!(server = %self.name, pid = ?run.pid, "started {}", self.config.command);
        tokio::spawn(write_lines(stdin, to_write));
        tokio::spawn(read_lines(self.name.clone(), child, stdout, run.clone()));
        Ok(run)
    }

    /// Sends a request with an id of the bridge's own and waits for its answer.
    async fn ask(
        &self,
        run: &Run,
        mut message: Map<String, Value>,
        method: &str,
    ) -> Result<Value, CallError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        message.insert("id".to_string(), id.into());
        let (answer, reply) = oneshot::channel();
        run.waiting().insert(id, answer);
        // A run that ended before the request was registered never answers it.
        if run.ended.borrow().is_some() {
            run.waiting().remove(&id);
            return Err(self.ended(run));
        }
        self.send(run, &Value::Object(message))?;
        match tokio::time::timeout(self.timeout, reply).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(_)) => Err(self.ended(run)),
            Err(_) => {
                run.waiting().remove(&id);
                Err(CallError::Timeout {
                    name: self.name.clone(),
                    method: method.to_string(),
                    seconds: self.timeout.as_secs(),
                })
            }
        }
    }

    fn send(&self, run: &Run, message: &Value) -> Result<(), CallError> {
        run.lines
            .send(message.to_string())
            .map_err(|_| self.ended(run))
    }

    fn ended(&self, run: &Run) -> CallError {
        CallError::Ended {
            name: self.name.clone(),
            how: run
                .ended
                .borrow()
                .clone()
                .unwrap_or_else(|| "its input closed".to_string()),
        }
    }
}

impl Run {
    fn waiting(&self) -> MutexGuard<'_, HashMap<u64, oneshot::Sender<Value>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes one line the server wrote.
    fn take_line(&self, server: &str, line: &str) {
        let Ok(Value::Object(message)) = serde_json::from_str::<Value>(line) else {
            tracing::info!(server, "{line}");
            return;
        };
        match (message.get("method"), message.get("id")) {
            (Some(method), Some(id)) => {
                tracing::debug!(server, %method, "refused a request from the server");
                let refusal = json!({"jsonrpc": "2.0", "id": id, "error": {
                    "code": -32601,
                    "message": "the ClaraVerse MCP bridge passes no requests from servers to clients",
                }});
                let _ = self.lines.send(refusal.to_string());
            }
            (Some(method), None) => tracing::debug!(server, %method, "notification"),
            (None, Some(id)) => {
                let answer = id.as_u64().and_then(|id| self.waiting().remove(&id));
                match answer {
                    Some(answer) => {
                        let _ = answer.send(Value::Object(message));
                    }
                    None => tracing::warn!(server, %id, "an answer to no request waiting"),
                }
            }
            (None, None) => tracing::warn!(server, "a message that is neither request nor answer"),
        }
    }
}

/// Writes the queued messages to the server's input, one per line.
async fn write_lines(mut stdin: ChildStdin, mut lines: mpsc::UnboundedReceiver<String>) {
    while let Some(mut line) = lines.recv().await {
        line.push('\n');
        if stdin.write_all(line.as_bytes()).await.is_err() || stdin.flush().await.is_err() {
            // The program closed its input; reading its output tells how it ended.
            break;
        }
    }
}

/// Reads the server's output until it ends or is stopped, then records how it ended; the
/// requests still waiting then fail with that.
async fn read_lines(server: String, mut child: Child, stdout: ChildStdout, run: Arc<Run>) {
    let mut lines = BufReader::new(stdout).lines();
    let stopped = loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => run.take_line(&server, &line),
                Ok(None) | Err(_) => break false,
            },
            () = run.stop.notified() => break true,
        }
    };
    if !stopped && let Ok(Ok(status)) = tokio::time::timeout(EXIT_GRACE, child.wait()).await {
        return finish(&server, &run, status.to_string());
    }
    let _ = child.start_kill();
    let how = match child.wait().await {
        Ok(_) if stopped => "stopped by the bridge".to_string(),
        Ok(status) => format!("it closed its output and was killed: {status}"),
        Err(error) => format!("its end could not be read: {error}"),
    };
    finish(&server, &run, how);
}

fn finish(server: &str, run: &Run, how: String) {
    tracing::info!(server, "ended: {how}");
    run.ended.send_replace(Some(how));
    run.waiting().clear();
}

/// The server's answer with the client's id in place of the bridge's.
fn with_id(mut reply: Value, client_id: Value) -> Value {
    if let Value::Object(fields) = &mut reply {
        fields.insert("id".to_string(), client_id);
    }
    reply
}
