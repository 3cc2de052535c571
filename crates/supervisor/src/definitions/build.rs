//! Turns one raw service into the model: expands variables, parses the small formats,
//! picks the runtime and reports everything wrong with it.

mod install;
mod prepare;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::model::{
    Condition, Dependency, GpuMode, HealthCheck, Probe, RestartMode, RestartPolicy, RuntimeKind,
    Service, StopSignal,
};
use super::raw::{RawDependsOn, RawHealth, RawRestart, RawService, TextOrTable};
use super::values::{parse_duration, parse_port, parse_size, parse_volume};
use super::variables::Variables;
use crate::diagnostics::{Diagnostic, SourceFile, Subject};
use crate::suggest;

/// `stop_timeout` when the file does not give one.
const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// `min_uptime` when the file does not give one.
const DEFAULT_MIN_UPTIME: Duration = Duration::from_secs(1);

/// The one engine the supervisor knows how to talk to.
const ENGINES: [&str; 1] = ["docker"];

/// Builds one service, collecting every problem instead of stopping at the first.
pub struct ServiceBuilder<'a> {
    source: &'a SourceFile,
    /// The file's variables; with `${PROGRAM_DIR}` once the `install` table is read.
    variables: Cow<'a, Variables>,
    name: &'a str,
    /// Where the service's table starts, for problems about the service as a whole.
    span: Range<usize>,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> ServiceBuilder<'a> {
    /// A builder for the service `name`, defined at `span` of `source`.
    pub fn new(
        source: &'a SourceFile,
        variables: &'a Variables,
        name: &'a str,
        span: Range<usize>,
    ) -> Self {
        ServiceBuilder {
            source,
            variables: Cow::Borrowed(variables),
            name,
            span,
            diagnostics: Vec::new(),
        }
    }

    /// The service and every problem found (errors and warnings). A service with errors
    /// is still returned, with defaults where its values were wrong, so that checks across
    /// services can go on and report everything at once; it must never be run.
    pub fn build(mut self, raw: RawService) -> (Service, Vec<Diagnostic>) {
        let service = self.service(raw);
        (service, self.diagnostics)
    }

    fn error(&mut self, span: Range<usize>, message: impl Into<String>, hint: Option<String>) {
        let location = self.source.location(span);
        self.diagnostics.push(
            Diagnostic::error(Subject::Service(self.name.to_string()), message)
                .at(Some(location))
                .hint(hint),
        );
    }

    fn warning(&mut self, span: Range<usize>, message: impl Into<String>, hint: Option<String>) {
        let location = self.source.location(span);
        self.diagnostics.push(
            Diagnostic::warning(Subject::Service(self.name.to_string()), message)
                .at(Some(location))
                .hint(hint),
        );
    }

    /// Expands the variables of one string value, reporting a failure at its position.
    fn expand(&mut self, key: &str, value: &Spanned<String>) -> Option<String> {
        match self.variables.expand(value.get_ref(), self.name) {
            Ok(text) => Some(text),
            Err(error) => {
                self.error(value.span(), format!("{key} {error}"), Some(error.hint()));
                None
            }
        }
    }

    /// Expands an argument vector, which must not be empty.
    fn expand_argv(
        &mut self,
        key: &str,
        argv: &Spanned<Vec<Spanned<String>>>,
    ) -> Option<Vec<String>> {
        if argv.get_ref().is_empty() {
            self.error(
                argv.span(),
                format!("{key} is empty"),
                Some("give the program and its arguments, like [\"./bin/server\", \"--port\", \"8080\"]".into()),
            );
            return None;
        }
        let expanded: Vec<Option<String>> = argv
            .get_ref()
            .iter()
            .map(|arg| self.expand(key, arg))
            .collect();
        let expanded: Vec<String> = expanded.into_iter().collect::<Option<_>>()?;
        if expanded
            .first()
            .is_some_and(|program| program.trim().is_empty())
        {
            let first = &argv.get_ref()[0];
            self.error(
                first.span(),
                format!("{key} names no program: its first element is empty"),
                Some(
                    "give the program first, like [\"./bin/server\", \"--port\", \"8080\"]".into(),
                ),
            );
            return None;
        }
        Some(expanded)
    }

    /// Expands an environment table (`env`, `cpu_env`).
    fn environment(
        &mut self,
        key: &str,
        table: Option<&BTreeMap<String, Spanned<String>>>,
    ) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for (name, value) in table.into_iter().flatten() {
            if let Some(value) = self.expand(&format!("{key}.{name}"), value) {
                env.insert(name.clone(), value);
            }
        }
        env
    }

    fn duration(
        &mut self,
        key: &str,
        value: Option<&Spanned<String>>,
        default: Duration,
    ) -> Duration {
        let Some(value) = value else { return default };
        match parse_duration(value.get_ref()) {
            Ok(duration) => duration,
            Err(why) => {
                self.error(value.span(), format!("{key}: {why}"), None);
                default
            }
        }
    }

    /// Parses a name from a fixed list, suggesting the closest on a typo.
    fn choice<T: Copy>(
        &mut self,
        key: &str,
        value: &Spanned<String>,
        options: &[T],
        name_of: impl Fn(T) -> &'static str,
    ) -> Option<T> {
        let text = value.get_ref();
        if let Some(found) = options
            .iter()
            .copied()
            .find(|option| name_of(*option).eq_ignore_ascii_case(text))
        {
            return Some(found);
        }
        let names: Vec<&str> = options.iter().map(|option| name_of(*option)).collect();
        let hint = suggest::did_you_mean(text, names.iter().copied())
            .unwrap_or_else(|| format!("expected one of: {}", names.join(", ")));
        self.error(
            value.span(),
            format!("{key} \"{text}\" is not known"),
            Some(hint),
        );
        None
    }

    fn service(&mut self, raw: RawService) -> Service {
        if !is_valid_name(self.name) {
            self.error(
                self.span.clone(),
                "the name may only contain letters, digits, \"-\", \"_\" and \".\", and must start with a letter or digit",
                None,
            );
        }
        // First: it gives `${PROGRAM_DIR}` to the strings after it.
        let (install, programs) = self.install(&raw);
        let runtime = self.runtime(&raw);
        let prepare = self.prepare(&raw);
        let native_only = [
            ("install", raw.install.as_ref().map(Spanned::span)),
            ("prepare", raw.prepare.as_ref().map(Spanned::span)),
        ];
        for (key, span) in native_only {
            if let (Some(span), Some(runtime)) = (span, &runtime)
                && !matches!(runtime, RuntimeKind::Process { .. })
            {
                self.error(
                    span,
                    format!("{key} only applies to a native program (a service with command and no image)"),
                    None,
                );
            }
        }
        let cwd = raw
            .cwd
            .as_ref()
            .and_then(|cwd| self.expand("cwd", cwd))
            .map(Into::into);
        let env = self.environment("env", raw.env.as_ref());
        let cpu_env = self.environment("cpu_env", raw.cpu_env.as_ref());
        let is_container = matches!(runtime, Some(RuntimeKind::Container { .. }));
        let gpu = match &raw.gpu {
            Some(gpu) => self
                .choice("gpu", gpu, &GpuMode::ALL, GpuMode::name)
                .unwrap_or_default(),
            None => GpuMode::Off,
        };
        for (key, span) in [
            ("gpu", raw.gpu.as_ref().map(Spanned::span)),
            (
                "cpu_env",
                raw.cpu_env
                    .as_ref()
                    .and_then(|env| env.values().next())
                    .map(Spanned::span),
            ),
        ] {
            if let (Some(span), false, Some(_)) = (span, is_container, &runtime) {
                self.error(
                    span,
                    format!("{key} only applies to a container (a service with an image)"),
                    None,
                );
            }
        }
        let mut ports = Vec::new();
        for port in raw.ports.iter().flatten() {
            let Some(text) = self.expand("port", port) else {
                continue;
            };
            match parse_port(&text) {
                Ok(mut mapping) => {
                    mapping.location = Some(self.source.location(port.span()));
                    if mapping.host_ip.is_unspecified() {
                        self.warning(
                            port.span(),
                            format!("publishes port {} on every network interface, so other machines can reach it", mapping.host_port),
                            Some(format!("write \"127.0.0.1:{}:{}\" unless that is intended", mapping.host_port, mapping.container_port)),
                        );
                    }
                    ports.push(mapping);
                }
                Err(why) => self.error(port.span(), format!("port {why}"), None),
            }
        }
        let mut volumes = Vec::new();
        for volume in raw.volumes.iter().flatten() {
            let Some(text) = self.expand("volume", volume) else {
                continue;
            };
            match parse_volume(&text) {
                Ok(parsed) => volumes.push(parsed),
                Err(why) => self.error(volume.span(), format!("volume {why}"), None),
            }
        }
        let depends_on = raw
            .depends_on
            .as_ref()
            .map(|d| self.dependencies(d))
            .unwrap_or_default();
        let health = raw.health.as_ref().and_then(|health| self.health(health));
        if let (Some(check), Some(raw_health)) = (&health, &raw.health)
            && check.probe == Probe::Docker
            && !is_container
            && runtime.is_some()
        {
            self.error(
                raw_health.span(),
                "health.docker uses the image's HEALTHCHECK, so it only applies to a container",
                None,
            );
        }
        let restart = match &raw.restart {
            Some(restart) => self.restart(restart),
            None => RestartPolicy::default(),
        };
        let stop_signal = match &raw.stop_signal {
            Some(signal) => self
                .choice(
                    "stop_signal",
                    &Spanned::new(signal.span(), with_sig_prefix(signal.get_ref())),
                    &StopSignal::ALL,
                    StopSignal::name,
                )
                .unwrap_or(StopSignal::Term),
            None => StopSignal::Term,
        };
        let stop_timeout = self.duration(
            "stop_timeout",
            raw.stop_timeout.as_ref(),
            DEFAULT_STOP_TIMEOUT,
        );
        let min_uptime = self.duration("min_uptime", raw.min_uptime.as_ref(), DEFAULT_MIN_UPTIME);
        let download_bytes = raw.download.as_ref().and_then(|download| {
            parse_size(download.get_ref())
                .map_err(|why| self.error(download.span(), format!("download {why}"), None))
                .ok()
        });
        let own_server = raw.own_server.as_ref().and_then(|path| {
            if path.get_ref().starts_with('/') {
                Some(path.get_ref().clone())
            } else {
                self.error(
                    path.span(),
                    format!(
                        "own_server \"{}\" is not a path: it is the health path checked at the user's server",
                        path.get_ref()
                    ),
                    Some("write it from the first \"/\", e.g. own_server = \"/health\"".into()),
                );
                None
            }
        });
        if let (Some(runtime), Some(restart_raw)) = (&runtime, &raw.restart)
            && matches!(runtime, RuntimeKind::External { .. } | RuntimeKind::Engine)
        {
            self.warning(
                restart_raw.span(),
                format!(
                    "restart has no effect on an {} service: it is not started by the supervisor",
                    runtime.kind()
                ),
                Some("remove it".into()),
            );
        }
        Service {
            name: self.name.to_string(),
            description: raw.description,
            feature: raw.feature.map(Spanned::into_inner),
            critical: raw.critical.unwrap_or(false),
            // Only a service with errors lacks a runtime, and it is never run.
            runtime: runtime.unwrap_or(RuntimeKind::Engine),
            cwd,
            env,
            ports,
            volumes,
            gpu,
            cpu_env,
            depends_on,
            health,
            restart,
            stop_signal,
            stop_timeout,
            min_uptime,
            download_bytes,
            own_server,
            install,
            programs,
            prepare,
            location: Some(self.source.location(self.span.clone())),
        }
    }

    fn runtime(&mut self, raw: &RawService) -> Option<RuntimeKind> {
        let present: Vec<(&str, Range<usize>)> = [
            ("image", raw.image.as_ref().map(Spanned::span)),
            (
                "command",
                if raw.image.is_some() {
                    None
                } else {
                    raw.command.as_ref().map(Spanned::span)
                },
            ),
            ("url", raw.url.as_ref().map(Spanned::span)),
            ("engine", raw.engine.as_ref().map(Spanned::span)),
        ]
        .into_iter()
        .filter_map(|(key, span)| span.map(|span| (key, span)))
        .collect();
        match present.as_slice() {
            [] => {
                self.error(
                    self.span.clone(),
                    "has no runtime",
                    Some("set one of image (a container), command (a native program), url (an external service) or engine = \"docker\"".into()),
                );
                return None;
            }
            [_] => {}
            [(first, _), (second, span), ..] => {
                let (first, second, span) = (first.to_string(), second.to_string(), span.clone());
                self.error(
                    span,
                    format!("has two runtimes, {first} and {second}"),
                    Some(
                        "keep one of them; with image, command replaces the image's command".into(),
                    ),
                );
                return None;
            }
        }
        if let Some(image) = &raw.image {
            let image = self.expand("image", image)?;
            let command = match &raw.command {
                Some(command) => Some(self.expand_argv("command", command)?),
                None => None,
            };
            return Some(RuntimeKind::Container { image, command });
        }
        if let Some(command) = &raw.command {
            return Some(RuntimeKind::Process {
                command: self.expand_argv("command", command)?,
            });
        }
        if let Some(url) = &raw.url {
            let text = self.expand("url", url)?;
            if let Err(why) = check_http_url("url", &text) {
                self.error(url.span(), why, None);
                return None;
            }
            return Some(RuntimeKind::External { url: text });
        }
        let engine = raw.engine.as_ref()?;
        self.choice("engine", engine, &ENGINES, |name| name)?;
        Some(RuntimeKind::Engine)
    }

    fn dependencies(&mut self, depends_on: &Spanned<RawDependsOn>) -> Vec<Dependency> {
        let mut dependencies = Vec::new();
        match depends_on.get_ref() {
            RawDependsOn::List(names) => {
                for name in names {
                    dependencies.push(Dependency {
                        service: name.get_ref().clone(),
                        condition: Condition::Healthy,
                        restart: false,
                        location: Some(self.source.location(name.span())),
                    });
                }
            }
            RawDependsOn::Table(table) => {
                for (name, spec) in table {
                    let (condition, restart) = match spec.get_ref() {
                        TextOrTable::Text(text) => {
                            (Some(Spanned::new(spec.span(), text.clone())), false)
                        }
                        TextOrTable::Table(table) => {
                            (table.condition.clone(), table.restart.unwrap_or(false))
                        }
                    };
                    let condition = match condition {
                        Some(text) => {
                            let key = format!("depends_on.{name}.condition");
                            self.choice(&key, &text, &Condition::ALL, Condition::name)
                                .unwrap_or(Condition::Healthy)
                        }
                        None => Condition::Healthy,
                    };
                    dependencies.push(Dependency {
                        service: name.clone(),
                        condition,
                        restart,
                        location: Some(self.source.location(spec.span())),
                    });
                }
            }
        }
        dependencies
    }

    fn health(&mut self, health: &Spanned<RawHealth>) -> Option<HealthCheck> {
        let raw = health.get_ref();
        let probes: Vec<&str> = [
            ("http", raw.http.is_some()),
            ("tcp", raw.tcp.is_some()),
            ("exec", raw.exec.is_some()),
            ("log", raw.log.is_some()),
            ("docker", raw.docker.as_ref().is_some_and(|d| *d.get_ref())),
        ]
        .into_iter()
        .filter_map(|(key, present)| present.then_some(key))
        .collect();
        if probes.len() != 1 {
            let found = if probes.is_empty() {
                "none".to_string()
            } else {
                probes.join(" and ")
            };
            self.error(
                health.span(),
                format!(
                    "health needs exactly one of http, tcp, exec, log or docker; found {found}"
                ),
                None,
            );
            return None;
        }
        if (raw.status.is_some() || raw.body.is_some()) && raw.http.is_none() {
            self.error(
                health.span(),
                "health.status and health.body only apply to an http probe",
                None,
            );
        }
        let probe = if let Some(url) = &raw.http {
            let text = self.expand("health.http", url)?;
            if let Err(why) = check_http_url("health.http", &text) {
                self.error(url.span(), why, None);
                return None;
            }
            if let Some(status) = &raw.status
                && !(100..=599).contains(status.get_ref())
            {
                self.error(
                    status.span(),
                    format!(
                        "health.status {} is not an HTTP status (100 to 599)",
                        status.get_ref()
                    ),
                    None,
                );
            }
            Probe::Http {
                url: text,
                status: raw.status.as_ref().map(|s| *s.get_ref()),
                body: raw.body.clone(),
            }
        } else if let Some(address) = &raw.tcp {
            let text = self.expand("health.tcp", address)?;
            let port_ok = text.rsplit_once(':').is_some_and(|(host, port)| {
                !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
            });
            if !port_ok {
                self.error(
                    address.span(),
                    format!("health.tcp \"{text}\" is not a host:port address"),
                    Some("write it like \"127.0.0.1:8091\"".into()),
                );
                return None;
            }
            Probe::Tcp { address: text }
        } else if let Some(command) = &raw.exec {
            Probe::Exec {
                command: self.expand_argv("health.exec", command)?,
            }
        } else if raw.docker.is_some() {
            Probe::Docker
        } else {
            // The log pattern is a regular expression: "$" is its own, not a variable.
            let pattern = raw.log.as_ref()?;
            if let Err(error) = regex::Regex::new(pattern.get_ref()) {
                let why = error
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .to_string();
                self.error(
                    pattern.span(),
                    format!(
                        "health.log \"{}\" is not a valid regular expression: {why}",
                        pattern.get_ref()
                    ),
                    None,
                );
                return None;
            }
            Probe::Log {
                pattern: pattern.get_ref().clone(),
            }
        };
        let interval = self.duration(
            "health.interval",
            raw.interval.as_ref(),
            HealthCheck::DEFAULT_INTERVAL,
        );
        if let Some(written) = &raw.interval
            && interval < HealthCheck::MIN_INTERVAL
        {
            self.error(
                written.span(),
                format!(
                    "health.interval \"{}\" is too short (at least 100ms: probes would run without a pause)",
                    written.get_ref()
                ),
                None,
            );
        }
        let timeout = self.duration(
            "health.timeout",
            raw.timeout.as_ref(),
            HealthCheck::DEFAULT_TIMEOUT,
        );
        let start_period = self.duration(
            "health.start_period",
            raw.start_period.as_ref(),
            HealthCheck::DEFAULT_START_PERIOD,
        );
        let retries = match &raw.retries {
            Some(retries) if *retries.get_ref() == 0 => {
                self.error(retries.span(), "health.retries must be at least 1", None);
                HealthCheck::DEFAULT_RETRIES
            }
            Some(retries) => *retries.get_ref(),
            None => HealthCheck::DEFAULT_RETRIES,
        };
        if timeout > interval {
            self.warning(
                raw.timeout.as_ref().map_or(health.span(), Spanned::span),
                format!(
                    "health.timeout ({}) is longer than health.interval ({}), so probes overlap",
                    humantime::format_duration(timeout),
                    humantime::format_duration(interval)
                ),
                None,
            );
        }
        Some(HealthCheck {
            probe,
            interval,
            timeout,
            retries,
            start_period,
        })
    }

    fn restart(&mut self, restart: &Spanned<TextOrTable<RawRestart>>) -> RestartPolicy {
        let raw = match restart.get_ref() {
            TextOrTable::Text(policy) => RawRestart {
                policy: Some(Spanned::new(restart.span(), policy.clone())),
                ..RawRestart::default()
            },
            TextOrTable::Table(table) => table.clone(),
        };
        let defaults = RestartPolicy::default();
        let policy = match &raw.policy {
            Some(policy) => self
                .choice(
                    "restart.policy",
                    policy,
                    &RestartMode::ALL,
                    RestartMode::name,
                )
                .unwrap_or(defaults.policy),
            None => defaults.policy,
        };
        let backoff = self.duration("restart.backoff", raw.backoff.as_ref(), defaults.backoff);
        let max_backoff = self.duration(
            "restart.max_backoff",
            raw.max_backoff.as_ref(),
            defaults.max_backoff,
        );
        if max_backoff < backoff {
            let span = raw
                .max_backoff
                .as_ref()
                .map_or(restart.span(), Spanned::span);
            self.error(
                span,
                format!(
                    "restart.max_backoff ({}) is shorter than restart.backoff ({})",
                    humantime::format_duration(max_backoff),
                    humantime::format_duration(backoff)
                ),
                None,
            );
        }
        RestartPolicy {
            policy,
            max_restarts: raw.max_restarts.unwrap_or(defaults.max_restarts),
            window: self.duration("restart.window", raw.window.as_ref(), defaults.window),
            backoff,
            max_backoff,
        }
    }
}

/// Service names become container names (`clara_<name>`) and file names.
fn is_valid_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Checks an http:// or https:// address with a host; the error says what is wrong.
pub(super) fn check_http_url(key: &str, text: &str) -> Result<(), String> {
    let not_http =
        |why: &str| format!("{key} \"{text}\" is not an http:// or https:// address{why}");
    if !["http://", "https://"]
        .iter()
        .any(|scheme| text.starts_with(scheme))
    {
        return Err(not_http(""));
    }
    match url::Url::parse(text) {
        Ok(url) if url.host_str().is_none_or(str::is_empty) => Err(not_http(" (it has no host)")),
        Ok(_) => Ok(()),
        Err(error) => Err(not_http(&format!(" ({error})"))),
    }
}

/// Accepts `TERM` as well as `SIGTERM`.
fn with_sig_prefix(signal: &str) -> String {
    if signal.to_ascii_uppercase().starts_with("SIG") {
        signal.to_string()
    } else {
        format!("SIG{signal}")
    }
}
