//! "Use my own server": a service the user runs himself, turned into an external service
//! at the user's URL, health-checked at the path its definition names (`own_server`).

use std::collections::BTreeMap;

use super::model::{Definitions, GpuMode, HealthCheck, Probe, RuntimeKind, Service};

/// `definitions` with each service of `servers` (name → the user's URL) run as the user's
/// own server; a service that cannot be is left as it is, and why is returned, one
/// sentence each. Nothing here stops the rest from starting.
pub fn use_own_servers(
    mut definitions: Definitions,
    servers: &BTreeMap<String, String>,
) -> (Definitions, Vec<String>) {
    let mut problems = Vec::new();
    for (name, url) in servers {
        let Some(service) = definitions.services.get(name) else {
            problems.push(format!(
                "your own server for \"{name}\" is not used: there is no such service"
            ));
            continue;
        };
        match own_server(service, url) {
            Ok(own) => {
                definitions.services.insert(name.clone(), own);
            }
            Err(why) => problems.push(why),
        }
    }
    (definitions, problems)
}

/// `service` as an external one at `url`: checked at its `own_server` health path (with
/// its own probe timing, and the default start period: the server is already running),
/// with no dependencies, ports, mounts or environment of its own, and never critical
/// (the user's server being down is not ClaraVerse failing to start).
pub fn own_server(service: &Service, url: &str) -> Result<Service, String> {
    let name = &service.name;
    let Some(path) = &service.own_server else {
        return Err(format!(
            "\"{name}\" cannot use your own server, so ClaraVerse runs it"
        ));
    };
    let parsed = url::Url::parse(url).map_err(|error| {
        format!(
            "your own server for \"{name}\" ({url}) is not a URL ({error}), so ClaraVerse runs it"
        )
    })?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "your own server for \"{name}\" ({url}) is not an http(s) address, so ClaraVerse runs it"
        ));
    }
    let base = url.trim_end_matches('/');
    let mut health = HealthCheck::with_default_timing(Probe::Http {
        url: format!("{base}{path}"),
        status: None,
        body: None,
    });
    if let Some(own) = &service.health {
        health.interval = own.interval;
        health.timeout = own.timeout;
        health.retries = own.retries;
    }
    Ok(Service {
        runtime: RuntimeKind::External {
            url: base.to_string(),
        },
        critical: false,
        cwd: None,
        env: BTreeMap::new(),
        ports: Vec::new(),
        volumes: Vec::new(),
        gpu: GpuMode::Off,
        cpu_env: BTreeMap::new(),
        depends_on: Vec::new(),
        health: Some(health),
        ..service.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definitions::{self, Variables};
    use crate::diagnostics::SourceFile;
    use crate::platform::Platform;

    fn definitions() -> Definitions {
        let text = r#"
[services.docker]
engine = "docker"

[services.n8n]
image = "n8nio/n8n:latest"
critical = true
depends_on = ["docker"]
ports = ["127.0.0.1:5678:5678"]
volumes = ["/data/n8n:/home/node/.n8n"]
own_server = "/healthz"
health = { http = "http://127.0.0.1:5678/healthz", interval = "15s", timeout = "4s", start_period = "3m" }

[services.mcp]
command = ["clara-mcp"]
"#;
        definitions::check(
            &SourceFile::new("t.toml", text),
            Platform::Linux,
            &Variables::new([], "/clara"),
        )
        .definitions
        .expect("valid")
    }

    #[test]
    fn a_service_that_allows_it_becomes_the_users_server() {
        let servers = BTreeMap::from([("n8n".to_string(), "https://n8n.example.org/".to_string())]);
        let (own, problems) = use_own_servers(definitions(), &servers);
        assert!(problems.is_empty(), "{problems:?}");
        let n8n = &own.services["n8n"];
        assert_eq!(
            n8n.runtime,
            RuntimeKind::External {
                url: "https://n8n.example.org".into()
            }
        );
        let health = n8n.health.as_ref().expect("checked");
        assert_eq!(
            health.probe,
            Probe::Http {
                url: "https://n8n.example.org/healthz".into(),
                status: None,
                body: None
            }
        );
        assert_eq!(health.interval, std::time::Duration::from_secs(15));
        assert_eq!(health.timeout, std::time::Duration::from_secs(4));
        assert_eq!(health.start_period, HealthCheck::DEFAULT_START_PERIOD);
        assert!(!n8n.critical && n8n.depends_on.is_empty());
        assert!(n8n.ports.is_empty() && n8n.volumes.is_empty());
    }

    #[test]
    fn what_cannot_be_the_users_server_stays_and_says_why() {
        let servers = BTreeMap::from([
            ("mcp".to_string(), "http://box:8092".to_string()),
            ("n8n".to_string(), "ftp://box/".to_string()),
            ("gone".to_string(), "http://box".to_string()),
        ]);
        let before = definitions();
        let (after, problems) = use_own_servers(before.clone(), &servers);
        assert_eq!(after, before);
        assert_eq!(
            problems,
            vec![
                "your own server for \"gone\" is not used: there is no such service".to_string(),
                "\"mcp\" cannot use your own server, so ClaraVerse runs it".to_string(),
                "your own server for \"n8n\" (ftp://box/) is not an http(s) address, so ClaraVerse runs it".to_string(),
            ]
        );
    }
}
