//! Health probes: HTTP, TCP, a command, or a line of output.
//!
//! While a service starts, readiness is probed at once and then every 10 ms for two
//! seconds, then at intervals that grow with the time already waited (a tenth of it, up to
//! one second), so a service is seen ready within tens of milliseconds of being ready
//! without probing a slow starter hundreds of times a second. Once ready, liveness is
//! probed every `interval`; `retries` failures in a row make it unhealthy.

use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use crate::definitions::{HealthCheck, Probe};
use crate::runtime::docker::DockerEngine;

/// What a probe is aimed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// This machine: http and tcp probes as written, exec probes run here.
    Host,
    /// A container: exec probes run inside it, `docker` reads its image's HEALTHCHECK.
    Container(String),
    /// The container engine: any probe means "Docker answers".
    Engine,
}

/// What a watch reports, only when something changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeReport {
    /// The first successful readiness probe.
    Ready,
    /// Not ready when the start period ran out; the last failure.
    NotReadyInTime(String),
    /// `retries` liveness probes in a row failed; the last failure.
    Unhealthy(String),
    /// A probe passed again after the service was unhealthy.
    Healthy,
}

/// Probes shared by every service: one HTTP client, without proxies or redirects.
#[derive(Debug, Clone)]
pub struct Prober {
    http: Result<reqwest::Client, String>,
    docker: Option<DockerEngine>,
}

impl Prober {
    /// A prober with its own HTTP client, reaching containers through `docker`.
    pub fn new(docker: Option<DockerEngine>) -> Self {
        let http = crate::http_client::build(|builder| {
            builder
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .pool_idle_timeout(Duration::from_secs(30))
        })
        .map_err(|error| format!("no HTTP check can be made here: {error}"));
        Prober { http, docker }
    }

    /// Runs one probe; `Err` says why it failed, in words.
    pub async fn probe(
        &self,
        probe: &Probe,
        target: &Target,
        timeout: Duration,
    ) -> Result<(), String> {
        match tokio::time::timeout(timeout, self.probe_untimed(probe, target)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "no answer within {}",
                humantime::format_duration(timeout)
            )),
        }
    }

    async fn probe_untimed(&self, probe: &Probe, target: &Target) -> Result<(), String> {
        match (target, probe) {
            (Target::Engine, _) => return self.docker()?.answers().await,
            (Target::Container(container), Probe::Exec { command }) => {
                return self.docker()?.exec_in_container(container, command).await;
            }
            (Target::Container(container), Probe::Docker) => {
                return self.docker()?.container_health(container).await;
            }
            _ => {}
        }
        match probe {
            Probe::Http { url, status, body } => {
                let response = self
                    .http
                    .as_ref()
                    .map_err(Clone::clone)?
                    .get(url)
                    .send()
                    .await
                    .map_err(|error| describe_http_error(url, &error))?;
                let code = response.status().as_u16();
                let status_ok = match status {
                    Some(expected) => code == *expected,
                    None => (200..400).contains(&code),
                };
                if !status_ok {
                    return Err(format!("{url} answered HTTP {code}"));
                }
                if let Some(expected) = body {
                    let text = response
                        .text()
                        .await
                        .map_err(|error| format!("{url}: {error}"))?;
                    if !text.contains(expected.as_str()) {
                        return Err(format!("{url} answered without \"{expected}\" in its body"));
                    }
                }
                Ok(())
            }
            Probe::Tcp { address } => tokio::net::TcpStream::connect(address)
                .await
                .map(drop)
                .map_err(|error| format!("cannot connect to {address}: {error}")),
            Probe::Exec { command } => {
                let (program, args) = command.split_first().ok_or("the health command is empty")?;
                let output = crate::runtime::helper_command(program)
                    .args(args)
                    .stdin(std::process::Stdio::null())
                    .kill_on_drop(true)
                    .output()
                    .await
                    .map_err(|error| format!("cannot run {program}: {error}"))?;
                if output.status.success() {
                    return Ok(());
                }
                let said = String::from_utf8_lossy(if output.stderr.is_empty() {
                    &output.stdout
                } else {
                    &output.stderr
                })
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_string();
                let status = output
                    .status
                    .code()
                    .map_or("was killed".to_string(), |code| {
                        format!("exited with code {code}")
                    });
                Err(if said.is_empty() {
                    format!("{program} {status}")
                } else {
                    format!("{program} {status}: {said}")
                })
            }
            Probe::Log { pattern } => Err(format!(
                "a log probe (\"{pattern}\") is matched on output, not polled"
            )),
            Probe::Docker => Err("only a container has an image health check".into()),
        }
    }

    /// The Docker engine, when this prober has one.
    fn docker(&self) -> Result<&DockerEngine, String> {
        self.docker
            .as_ref()
            .ok_or_else(|| "this build has no Docker support".to_string())
    }

    /// Watches one instance: readiness during the start period, then liveness, calling
    /// `report` on every change. `log_ready` fires when a `log` probe's pattern matched.
    /// Returns when readiness failed, when a log probe is done, or when `report` says the
    /// listener is gone.
    pub async fn watch(
        &self,
        check: &HealthCheck,
        target: &Target,
        log_ready: Option<oneshot::Receiver<()>>,
        mut report: impl FnMut(ProbeReport) -> bool,
    ) {
        if let Probe::Log { pattern } = &check.probe {
            let ready = match log_ready {
                Some(ready) => tokio::time::timeout(check.start_period, ready).await,
                None => return,
            };
            let outcome = match ready {
                Ok(Ok(())) => ProbeReport::Ready,
                Ok(Err(_)) => return,
                Err(_) => {
                    ProbeReport::NotReadyInTime(format!("no output line matched \"{pattern}\""))
                }
            };
            report(outcome);
            return;
        }
        let started = Instant::now();
        loop {
            match self.probe(&check.probe, target, check.timeout).await {
                Ok(()) => break,
                Err(why) => {
                    let waited = started.elapsed();
                    if waited >= check.start_period {
                        report(ProbeReport::NotReadyInTime(why));
                        return;
                    }
                    let delay = readiness_delay(waited).min(check.start_period - waited);
                    tokio::time::sleep(delay).await;
                }
            }
        }
        if !report(ProbeReport::Ready) {
            return;
        }
        let mut failures = 0;
        loop {
            tokio::time::sleep(check.interval).await;
            match self.probe(&check.probe, target, check.timeout).await {
                Ok(()) => {
                    if failures >= check.retries && !report(ProbeReport::Healthy) {
                        return;
                    }
                    failures = 0;
                }
                Err(why) => {
                    failures += 1;
                    if failures == check.retries && !report(ProbeReport::Unhealthy(why)) {
                        return;
                    }
                }
            }
        }
    }
}

/// Runs `check`'s probe once from this machine, as Test does for the user's own server:
/// how long the answer took, or why there was none, in words.
pub async fn check_once(check: &HealthCheck) -> Result<Duration, String> {
    let began = Instant::now();
    Prober::new(None)
        .probe(&check.probe, &Target::Host, check.timeout)
        .await
        .map(|()| began.elapsed())
}

/// The pause before the next readiness probe, given how long the service has been starting.
pub fn readiness_delay(waited: Duration) -> Duration {
    if waited < Duration::from_secs(2) {
        Duration::from_millis(10)
    } else {
        (waited / 10).clamp(Duration::from_millis(50), Duration::from_secs(1))
    }
}

fn describe_http_error(url: &str, error: &reqwest::Error) -> String {
    if error.is_connect() {
        format!("nothing answers at {url} (connection refused)")
    } else if error.is_timeout() {
        format!("{url} did not answer in time")
    } else {
        let mut text = format!("{url}: {error}");
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_is_probed_fast_then_slower() {
        assert_eq!(readiness_delay(Duration::ZERO), Duration::from_millis(10));
        assert_eq!(
            readiness_delay(Duration::from_millis(1999)),
            Duration::from_millis(10)
        );
        assert_eq!(
            readiness_delay(Duration::from_secs(3)),
            Duration::from_millis(300)
        );
        assert_eq!(
            readiness_delay(Duration::from_secs(60)),
            Duration::from_secs(1)
        );
    }

    #[tokio::test]
    async fn tcp_probe_against_a_real_socket() {
        let prober = Prober::new(None);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let address = listener.local_addr().expect("has an address").to_string();
        let probe = Probe::Tcp {
            address: address.clone(),
        };
        assert_eq!(
            prober
                .probe(&probe, &Target::Host, Duration::from_secs(5))
                .await,
            Ok(())
        );
        drop(listener);
        // A port that is bound but not listening refuses connections, and stays ours: a
        // port merely released could be taken at once by another test listening.
        let closed = tokio::net::TcpSocket::new_v4().expect("a socket");
        closed
            .bind("127.0.0.1:0".parse().expect("an address"))
            .expect("binds");
        let address = closed.local_addr().expect("has an address").to_string();
        let probe = Probe::Tcp {
            address: address.clone(),
        };
        let error = prober
            .probe(&probe, &Target::Host, Duration::from_secs(5))
            .await
            .expect_err("closed port");
        assert!(
            error.starts_with(&format!("cannot connect to {address}: ")),
            "{error}"
        );
        drop(closed);
    }

    #[tokio::test]
    async fn exec_probe_reports_the_exit_and_last_words() {
        let prober = Prober::new(None);
        let ok = Probe::Exec {
            command: vec!["true".into()],
        };
        assert_eq!(
            prober
                .probe(&ok, &Target::Host, Duration::from_secs(5))
                .await,
            Ok(())
        );
        let failing = Probe::Exec {
            command: vec![
                "sh".into(),
                "-c".into(),
                "echo first >&2; echo not ready yet >&2; exit 3".into(),
            ],
        };
        assert_eq!(
            prober
                .probe(&failing, &Target::Host, Duration::from_secs(5))
                .await,
            Err("sh exited with code 3: not ready yet".to_string())
        );
        let slow = Probe::Exec {
            command: vec!["sleep".into(), "5".into()],
        };
        assert_eq!(
            prober
                .probe(&slow, &Target::Host, Duration::from_millis(50))
                .await,
            Err("no answer within 50ms".to_string())
        );
    }
}
