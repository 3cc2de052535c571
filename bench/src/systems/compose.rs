//! docker-compose (from Debian): each service a container of the test image, with the run
//! folder mounted at `/bench`, Docker health checks, and `restart: always`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Behaviour, Running, Setup, System, run, write_error};
use crate::observe::{Announcement, MARK_VARIABLE};

/// The image every container runs (made from busybox-static, see scripts/lib/docker.sh).
pub const IMAGE: &str = "clara-test/busybox:1";

/// docker-compose 1.29, with `depends_on: condition: service_healthy`, a health check at
/// `interval`, and `restart: always`.
pub struct Compose {
    /// The `docker-compose` program.
    pub program: PathBuf,
    /// How often Docker runs each health check.
    pub interval: Duration,
}

impl System for Compose {
    fn name(&self) -> &'static str {
        "docker-compose"
    }

    fn has_probes(&self) -> bool {
        true
    }

    fn settings(&self) -> String {
        format!(
            "containers of {IMAGE}; healthcheck `test -f /tmp/ready` every {} ms \
             (timeout 1 s, start_period 60 s so early failures do not count), depends_on condition service_healthy, restart always, \
             `up -d` then `docker inspect` polled every 10 ms (compose 1.29 has no `up --wait`), \
             `down -t 1` to stop",
            self.interval.as_millis()
        )
    }

    fn start(&self, setup: &Setup) -> Result<Box<dyn Running>, String> {
        super::write_scripts(setup, Path::new("/bench"), "touch /tmp/ready")?;
        let file = setup.dir.join("docker-compose.yml");
        // JSON is YAML.
        std::fs::write(&file, compose_file(setup, self.interval).to_string())
            .map_err(|error| write_error(&file, error))?;
        let running = ComposeRunning {
            project: Project::up(&self.program, &file, setup.mark)?,
            services: setup.services.iter().map(|s| s.name.clone()).collect(),
        };
        Ok(Box::new(running))
    }
}

fn compose_file(setup: &Setup, interval: Duration) -> serde_json::Value {
    let mut services = serde_json::Map::new();
    for service in setup.services {
        let mut definition = json!({
            "image": IMAGE,
            "command": ["sh", super::script_path(Path::new("/bench"), service)],
            "volumes": [format!("{}:/bench", setup.dir.display())],
            "environment": { MARK_VARIABLE: setup.mark },
            "restart": "always",
            "stop_grace_period": "10s",
        });
        if matches!(service.behaviour, Behaviour::ReadyAfter(_)) {
            definition["healthcheck"] = json!({
                "test": ["CMD", "test", "-f", "/tmp/ready"],
                "interval": format!("{}ms", interval.as_millis()),
                "timeout": "1s",
                "start_period": "60s",
            });
        }
        if !service.depends_on.is_empty() {
            let mut depends = serde_json::Map::new();
            for name in &service.depends_on {
                depends.insert(name.clone(), json!({ "condition": "service_healthy" }));
            }
            definition["depends_on"] = serde_json::Value::Object(depends);
        }
        services.insert(service.name.clone(), definition);
    }
    json!({ "version": "2.4", "services": services })
}

/// A compose project that is up; taken down when dropped, unless [`Project::down`] did.
pub struct Project {
    program: PathBuf,
    file: String,
    name: String,
    up: bool,
}

impl Project {
    /// `docker-compose up -d` on `file`, as a project named after the run's `mark`.
    pub fn up(program: &Path, file: &Path, mark: &str) -> Result<Project, String> {
        let project = Project {
            program: program.to_path_buf(),
            file: file.display().to_string(),
            name: format!("clarabench{mark}")
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_lowercase(),
            up: true,
        };
        // On failure, dropping the project takes down whatever did come up.
        project.compose(&["up", "-d", "--no-color"])?;
        Ok(project)
    }

    fn compose(&self, args: &[&str]) -> Result<String, String> {
        let mut all = vec!["-p", &self.name, "-f", &self.file];
        all.extend_from_slice(args);
        run(&self.program, &all, &[])
    }

    /// The container compose 1.29 names for `service`.
    pub fn container(&self, service: &str) -> String {
        format!("{}_{service}_1", self.name)
    }

    /// Waits until the containers of `services` are all healthy.
    pub fn wait_healthy(&self, services: &[String], timeout: Duration) -> Result<Instant, String> {
        let containers: Vec<String> = services.iter().map(|s| self.container(s)).collect();
        wait_healthy(&containers, timeout)
    }

    /// `docker-compose down`. No scenario times it; `sleep` as a container's process 1
    /// ignores SIGTERM, so a longer grace would only wait.
    pub fn down(&mut self) -> Result<(), String> {
        self.up = false;
        self.compose(&["down", "-t", "1"]).map(drop)
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        if self.up {
            let _ = self.down();
        }
    }
}

struct ComposeRunning {
    project: Project,
    services: Vec<String>,
}

/// `docker` with `args`.
fn docker(args: &[&str]) -> Result<String, String> {
    run(Path::new("docker"), args, &[])
}

impl Running for ComposeRunning {
    fn supervisor_pids(&self) -> Vec<u32> {
        Vec::new()
    }

    fn stop(&mut self) -> Result<(), String> {
        self.project.down()
    }

    fn kill_supervisor(&mut self) {
        // The supervisor is the Docker engine, which the benchmark does not kill.
    }

    fn reported_ready(&mut self, timeout: Duration) -> Result<Instant, String> {
        self.project.wait_healthy(&self.services, timeout)
    }

    fn host_pid(&self, announcement: &Announcement) -> Result<u32, String> {
        let container = self.project.container(&announcement.name);
        docker(&["inspect", "-f", "{{.State.Pid}}", &container])?
            .parse()
            .map_err(|error| format!("no pid for {container}: {error}"))
    }
}

/// Polls Docker every 10 ms until every container in `containers` is healthy.
fn wait_healthy(containers: &[String], timeout: Duration) -> Result<Instant, String> {
    let deadline = Instant::now() + timeout;
    let mut args = vec!["inspect", "-f", "{{.State.Health.Status}}"];
    args.extend(containers.iter().map(String::as_str));
    loop {
        let states = docker(&args).unwrap_or_default();
        let healthy = states.lines().filter(|line| *line == "healthy").count();
        if healthy == containers.len() {
            return Ok(Instant::now());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{healthy} of {} containers healthy after {timeout:?}",
                containers.len()
            ));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
