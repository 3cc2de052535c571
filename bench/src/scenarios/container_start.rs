//! Scenario 6: five containers from a local image, each with a health check; the time
//! until all are healthy, ours (through the Docker API) against docker-compose.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::json;

use super::Bench;
use crate::results::{OURS, Row};
use crate::systems::{self, IMAGE, Project};

const SCENARIO: &str = "container-start";
const CONTAINERS: usize = 5;
/// Docker's health check interval for compose: fast, yet not so fast that five probe
/// processes a second each crowd two cores.
const COMPOSE_INTERVAL: Duration = Duration::from_millis(100);

/// Runs the scenario where a Docker engine answers.
pub fn container_start(bench: &Bench) -> Result<Vec<Row>, String> {
    if !bench.installed.docker {
        return Ok(vec![Row::unsupported(
            SCENARIO,
            "all healthy",
            OURS,
            "s",
            "SKIPPED: no Docker engine, or no test image",
        )]);
    }
    let mut ours = Vec::new();
    let mut compose = Vec::new();
    for _ in 0..bench.size.rounds {
        ours.push(ours_once(bench)?);
        if !bench.ours_only {
            compose.push(compose_once(bench)?);
        }
    }
    let mut rows = vec![Row::measured(
        SCENARIO,
        "all healthy",
        OURS,
        "s",
        ours,
        format!(
            "{CONTAINERS} busybox httpd containers of {IMAGE}, HTTP probe from the host; until the start-up-complete event"
        ),
    )];
    if !bench.ours_only {
        rows.push(Row::measured(
            SCENARIO,
            "all healthy",
            "docker-compose",
            "s",
            compose,
            format!(
                "the same containers; healthcheck `wget` inside each every {} ms; `up -d`, then `docker inspect` polled every 10 ms until all healthy (compose 1.29 has no `up --wait`)",
                COMPOSE_INTERVAL.as_millis()
            ),
        ));
    }
    Ok(rows)
}

/// A free port on 127.0.0.1.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|error| format!("no free port: {error}"))
}

fn ours_once(bench: &Bench) -> Result<f64, String> {
    let run = bench.run(&format!("{SCENARIO}-ours"))?;
    let mut text = String::from("[services.docker]\nengine = \"docker\"\n\n");
    for index in 0..CONTAINERS {
        let port = free_port()?;
        let _ = write!(
            text,
            "[services.bench-web-{index}]\nimage = \"{IMAGE}\"\n\
             command = [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]\n\
             ports = [\"127.0.0.1:{port}:80\"]\n\
             health = {{ http = \"http://127.0.0.1:{port}/\" }}\n\n"
        );
    }
    let file = run.dir.join("services.toml");
    std::fs::write(&file, text).map_err(|error| systems::write_error(&file, error))?;
    let began = Instant::now();
    let mut running = systems::start_definitions(&bench.installed.clara, &run.dir, &file)?;
    let ready = running
        .reported_ready(Duration::from_secs(120))
        .map_err(|error| format!("{SCENARIO}, {OURS}: {error}"))?;
    running
        .stop()
        .map_err(|error| format!("{SCENARIO}, {OURS}: {error}"))?;
    Ok((ready - began).as_secs_f64())
}

fn compose_once(bench: &Bench) -> Result<f64, String> {
    let run = bench.run(&format!("{SCENARIO}-compose"))?;
    let mut services = serde_json::Map::new();
    for index in 0..CONTAINERS {
        let port = free_port()?;
        services.insert(
            format!("web{index}"),
            json!({
                "image": IMAGE,
                "command": ["httpd", "-f", "-p", "80", "-h", "/www"],
                "ports": [format!("127.0.0.1:{port}:80")],
                "healthcheck": {
                    "test": ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"],
                    "interval": format!("{}ms", COMPOSE_INTERVAL.as_millis()),
                    "timeout": "1s",
                    "start_period": "60s",
                },
            }),
        );
    }
    let file = run.dir.join("docker-compose.yml");
    std::fs::write(
        &file,
        json!({ "version": "2.4", "services": &services }).to_string(),
    )
    .map_err(|error| systems::write_error(&file, error))?;
    let fail = |error: String| format!("{SCENARIO}, docker-compose: {error}");
    let began = Instant::now();
    // Dropping the project takes it down.
    let project = Project::up(&bench.installed.compose, &file, &run.mark).map_err(fail)?;
    let names: Vec<String> = services.keys().cloned().collect();
    let healthy = project
        .wait_healthy(&names, Duration::from_secs(120))
        .map_err(fail)?;
    Ok((healthy - began).as_secs_f64())
}
