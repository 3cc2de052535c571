//! What the web UI is sent: services with everything a card shows, features with what
//! they run, and what a change of features would start and stop.

use std::collections::BTreeSet;
use std::time::SystemTime;

use clara_supervisor::definitions::{Definitions, Probe, RuntimeKind, Service};
use clara_supervisor::events::StartupPhase;
use clara_supervisor::selection::{self, FeatureChoice};
use clara_supervisor::state::{Health, ServiceState};
use clara_supervisor::status::{ExitInfo, ServiceError, ServiceStatus};
use serde::Serialize;
use ts_rs::TS;

/// A service as the dashboard shows it: its status plus what its definition tells. The
/// snapshot (`list_services`) and the `service-status-changed` event both carry it, so the
/// service's name is `service` and its state is `status` in both.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    /// The service's name.
    pub service: String,
    /// What it does, from its definition.
    pub description: Option<String>,
    /// Where it is in its life.
    pub status: ServiceState,
    /// What its health check says.
    pub health: Health,
    /// Why it is in this state, when that needs saying.
    pub reason: Option<String>,
    /// The main process id, while one runs.
    pub pid: Option<u32>,
    /// How often it was restarted since the supervisor started.
    pub restarts: u32,
    /// How its last instance ended.
    pub last_exit: Option<ExitInfo>,
    /// Its last failure.
    pub last_error: Option<ServiceError>,
    /// When it entered the current state (RFC 3339).
    #[serde(with = "rfc3339")]
    #[ts(type = "string")]
    pub since: SystemTime,
    /// How long it has been running, in seconds, when running.
    pub uptime_seconds: Option<u64>,
    /// Whether its failure fails the start-up.
    pub critical: bool,
    /// How it runs, when worth saying: where Docker was found, GPU or CPU, adopted…
    pub detail: Option<String>,
    /// Why its log file cannot be written (a full disk…), while that lasts.
    pub log_problem: Option<String>,
    /// The URL of the user's own server, when the user runs this service himself.
    pub own_server: Option<String>,
    /// The feature that switches it on.
    pub feature: Option<String>,
    /// Where people open it, when it has a web page.
    pub url: Option<String>,
    /// Its ports, `127.0.0.1:5001→5000`.
    pub ports: Vec<String>,
    /// Whether its health is checked at all (by its own probe, its URL, or Docker).
    pub health_check: bool,
    /// Whether its programs may come from a folder the user has (Settings → Programs), so
    /// that its card offers "Choose folder…" when they are missing.
    pub programs_folder: bool,
}

impl ServiceView {
    /// The view of `status`, with what `definitions` say about the service. Every field of
    /// the status is named, so a new one cannot be left out of the view unnoticed.
    pub fn new(status: ServiceStatus, definitions: &Definitions) -> Self {
        let ServiceStatus {
            name,
            description,
            state,
            health,
            reason,
            pid,
            restarts,
            last_exit,
            last_error,
            since,
            uptime_seconds,
            critical,
            detail,
            log_problem,
            own_server,
        } = status;
        let service = definitions.services.get(&name);
        // The user's own server has its page, and none of this computer's ports.
        let own = own_server.is_some();
        ServiceView {
            feature: service.and_then(|s| s.feature.clone()),
            url: own_server.clone().or_else(|| service.and_then(url_of)),
            ports: if own {
                Vec::new()
            } else {
                service.map(ports_of).unwrap_or_default()
            },
            programs_folder: service.is_some_and(|s| {
                s.programs
                    .as_ref()
                    .is_some_and(|programs| programs.variable.is_some())
            }),
            health_check: service.is_some_and(|s| {
                s.health.is_some()
                    || matches!(
                        s.runtime,
                        RuntimeKind::External { .. } | RuntimeKind::Engine
                    )
            }),
            service: name,
            description,
            status: state,
            health,
            reason,
            pid,
            restarts,
            last_exit,
            last_error,
            since,
            uptime_seconds,
            critical,
            detail,
            log_problem,
            own_server,
        }
    }
}

/// Times as RFC 3339 with milliseconds, as the engine writes them; in the form of a module
/// for `#[serde(with)]`, which ts-rs understands (and then asks for the type it makes).
mod rfc3339 {
    use std::time::SystemTime;

    pub fn serialize<S: serde::Serializer>(time: &SystemTime, to: S) -> Result<S::Ok, S::Error> {
        clara_supervisor::status::rfc3339(time, to)
    }
}

/// The page a service serves: its HTTP health check's origin, its external URL, or its
/// first published TCP port.
pub fn url_of(service: &Service) -> Option<String> {
    if let Some(Probe::Http { url, .. }) = service.health.as_ref().map(|h| &h.probe) {
        let after_scheme = url.find("://").map(|i| i + 3)?;
        let end = url[after_scheme..]
            .find('/')
            .map_or(url.len(), |i| after_scheme + i);
        return Some(format!("{}/", &url[..end]));
    }
    if let RuntimeKind::External { url } = &service.runtime {
        return Some(url.clone());
    }
    match service.runtime {
        RuntimeKind::Container { .. } | RuntimeKind::Process { .. } => service
            .ports
            .first()
            .map(|port| format!("http://{}:{}/", display_host(port.host_ip), port.host_port)),
        _ => None,
    }
}

fn display_host(ip: std::net::IpAddr) -> String {
    if ip.is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        ip.to_string()
    }
}

fn ports_of(service: &Service) -> Vec<String> {
    service
        .ports
        .iter()
        .map(|port| {
            if port.host_port == port.container_port {
                format!("{}:{}", port.host_ip, port.host_port)
            } else {
                format!(
                    "{}:{}→{}",
                    port.host_ip, port.host_port, port.container_port
                )
            }
        })
        .collect()
}

/// The one line about all services, for the window's header and the tray (disabled
/// services are not counted): "All 5 services are running", "Starting 3 of 5 services…",
/// "Degraded: 1 service failed (n8n)", "Stopped", "3 of 5 services are running". While the
/// start-up runs, waiting services count as starting; afterwards a service still waiting
/// (for Docker, say) makes the app degraded.
pub fn summary(statuses: &[ServiceStatus], startup: &StartupPhase) -> String {
    use ServiceState::*;
    let starting_up = matches!(startup, StartupPhase::Starting);
    let counted: Vec<&ServiceStatus> = statuses.iter().filter(|s| s.state != Disabled).collect();
    let total = counted.len();
    if total == 0 {
        return "No services are turned on".to_string();
    }
    let in_state = |states: &[ServiceState]| -> Vec<&str> {
        counted
            .iter()
            .filter(|s| states.contains(&s.state))
            .map(|s| s.name.as_str())
            .collect()
    };
    let failed = in_state(&[Error]);
    let coming_up = if starting_up {
        in_state(&[Starting, Restarting, Waiting])
    } else {
        in_state(&[Starting, Restarting])
    };
    if !coming_up.is_empty() {
        let note = if failed.is_empty() {
            String::new()
        } else {
            format!(" ({} failed: {})", failed.len(), failed.join(", "))
        };
        return format!(
            "Starting {} of {}…{note}",
            coming_up.len(),
            plural(total, "service")
        );
    }
    let stopping = in_state(&[Stopping]);
    if !stopping.is_empty() {
        return format!("Stopping {}…", plural(stopping.len(), "service"));
    }
    let waiting = if starting_up {
        Vec::new()
    } else {
        in_state(&[Waiting])
    };
    let unhealthy = in_state(&[Unhealthy]);
    let problems: Vec<String> = [
        (failed, "failed"),
        (unhealthy, "unhealthy"),
        (waiting, "waiting"),
    ]
    .into_iter()
    .filter(|(names, _)| !names.is_empty())
    .enumerate()
    .map(|(index, (names, word))| {
        let count = if index == 0 {
            plural(names.len(), "service")
        } else {
            names.len().to_string()
        };
        format!("{count} {word} ({})", names.join(", "))
    })
    .collect();
    if !problems.is_empty() {
        return format!("Degraded: {}", problems.join(", "));
    }
    let running = in_state(&[Running]).len();
    if running == total {
        if total == 1 {
            "The service is running".to_string()
        } else {
            format!("All {total} services are running")
        }
    } else if running == 0 {
        "Stopped".to_string()
    } else {
        format!("{running} of {} are running", plural(total, "service"))
    }
}

/// "1 service", "3 services".
fn plural(count: usize, one: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {one}s")
    }
}

/// A service whose programs may come from a folder the user has, as Settings shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProgramsView {
    /// The service's name.
    pub service: String,
    /// What it does.
    pub description: Option<String>,
    /// Where its programs are: downloaded into it, or the user's folder.
    pub folder: String,
    /// True when ClaraVerse downloads them (into `folder`); false when they are taken from
    /// a folder the user chose (or one the environment names), or shipped with the app.
    pub downloaded: bool,
    /// True when `folder` holds the programs shipped with the app.
    pub shipped: bool,
    /// The builds its downloads offer (`cuda`, `vulkan`, `cpu`…); empty when there is one.
    pub builds: Vec<String>,
    /// The build downloaded now, when there are several.
    pub build: Option<String>,
    /// The build the user chose; `None`: the best this computer can run.
    pub chosen_build: Option<String>,
    /// The folder its models are read from, when the user may choose it.
    pub models: Option<String>,
}

/// A service the user may run himself, as Settings shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct OwnServerView {
    /// The service's name.
    pub service: String,
    /// What it does.
    pub description: Option<String>,
    /// The path its health check asks at the user's server.
    pub health_path: String,
    /// The user's server in use; `None`: ClaraVerse runs it.
    pub url: Option<String>,
}

/// The services of `definitions` that may be the user's own, with the URLs of those that
/// are (`servers`).
pub fn own_servers(
    definitions: &Definitions,
    servers: &std::collections::BTreeMap<String, String>,
) -> Vec<OwnServerView> {
    definitions
        .services
        .values()
        .filter_map(|service| {
            Some(OwnServerView {
                service: service.name.clone(),
                description: service.description.clone(),
                health_path: service.own_server.clone()?,
                url: servers.get(&service.name).cloned(),
            })
        })
        .collect()
}

/// The move from the earlier app, as Settings shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct EarlierAppView {
    /// When it was carried over (RFC 3339).
    pub moved: String,
    /// Where its settings are backed up.
    pub backup: String,
    /// Its containers the move kept (stopped, renamed), until the user removes them.
    pub kept: Vec<KeptContainerView>,
}

/// One of the earlier app's containers that the move kept.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeptContainerView {
    /// Its name in the earlier app, e.g. `clara_n8n`.
    pub name: String,
    /// Its name now, e.g. `clara_n8n-electron`.
    pub kept_as: String,
}

/// What Test found at the user's server.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerTest {
    /// Its health check passed.
    pub ok: bool,
    /// What answered and how fast, or why nothing did, in a sentence.
    pub message: String,
}

/// A feature as the settings show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct FeatureView {
    /// Its name.
    pub name: String,
    /// Its label.
    pub label: String,
    /// Its longer description.
    pub description: Option<String>,
    /// Whether it is on.
    pub enabled: bool,
    /// The services that belong to it.
    pub services: Vec<String>,
}

/// Every feature of `definitions`, with which are on.
pub fn features(definitions: &Definitions, enabled: &BTreeSet<String>) -> Vec<FeatureView> {
    definitions
        .features
        .values()
        .map(|feature| FeatureView {
            name: feature.name.clone(),
            label: feature.label.clone(),
            description: feature.description.clone(),
            enabled: enabled.contains(&feature.name),
            services: definitions
                .services
                .values()
                .filter(|s| s.feature.as_ref() == Some(&feature.name))
                .map(|s| s.name.clone())
                .collect(),
        })
        .collect()
}

/// What turning on exactly some features starts and stops.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default, TS)]
#[serde(rename_all = "camelCase")]
pub struct FeatureChange {
    /// Services that will run and do not now.
    pub starts: Vec<String>,
    /// Services that run now and will not.
    pub stops: Vec<String>,
}

/// The change from the features `now` to `wanted`; an error sentence for unknown features.
pub fn feature_change(
    definitions: &Definitions,
    now: &BTreeSet<String>,
    wanted: &BTreeSet<String>,
) -> Result<FeatureChange, String> {
    let sentence = |errors: Vec<clara_supervisor::diagnostics::Diagnostic>| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    };
    let before =
        selection::select(definitions, &FeatureChoice::Only(now.clone())).map_err(sentence)?;
    let after =
        selection::select(definitions, &FeatureChoice::Only(wanted.clone())).map_err(sentence)?;
    Ok(FeatureChange {
        starts: after
            .services
            .difference(&before.services)
            .cloned()
            .collect(),
        stops: before
            .services
            .difference(&after.services)
            .cloned()
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clara_supervisor::catalog;
    use clara_supervisor::definitions::Variables;
    use clara_supervisor::load::{self, LoadOptions};
    use clara_supervisor::platform::Platform;

    fn catalog() -> Definitions {
        let options = LoadOptions {
            platform: Platform::Linux,
            variables: Variables::new([], "/home/u/.local/share/ClaraVerse"),
            features: FeatureChoice::Defaults,
        };
        load::load(&catalog::source(), &options)
            .expect("the catalog is valid")
            .definitions
    }

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn urls_come_from_the_health_check_or_the_ports() {
        let catalog = catalog();
        assert_eq!(
            url_of(&catalog.services["python-backend"]).as_deref(),
            Some("http://127.0.0.1:5001/")
        );
        assert_eq!(
            url_of(&catalog.services["n8n"]).as_deref(),
            Some("http://127.0.0.1:5678/")
        );
        assert_eq!(
            url_of(&catalog.services["mcp"]).as_deref(),
            Some("http://127.0.0.1:8092/")
        );
        assert_eq!(url_of(&catalog.services["docker"]), None);
        assert_eq!(
            ports_of(&catalog.services["python-backend"]),
            ["127.0.0.1:5001→5000"]
        );
    }

    /// Services named and in the states given, as the engine reports them.
    fn statuses(pairs: &[(&str, ServiceState)]) -> Vec<ServiceStatus> {
        pairs
            .iter()
            .map(|(name, state)| ServiceStatus::new(name, None, false, *state))
            .collect()
    }

    /// The summary after the start-up.
    fn after(pairs: &[(&str, ServiceState)]) -> String {
        let complete = StartupPhase::Complete {
            seq: 1,
            degraded: Vec::new(),
        };
        summary(&statuses(pairs), &complete)
    }

    #[test]
    fn the_summary_says_all_are_running() {
        use ServiceState::*;
        let five = ["a", "b", "c", "d", "e"].map(|name| (name, Running));
        assert_eq!(after(&five), "All 5 services are running");
        assert_eq!(after(&[("a", Running)]), "The service is running");
    }

    #[test]
    fn the_summary_counts_what_comes_up_and_waiting_only_while_starting_up() {
        use ServiceState::*;
        let services = [
            ("a", Running),
            ("b", Running),
            ("c", Starting),
            ("d", Waiting),
            ("e", Restarting),
        ];
        assert_eq!(
            summary(&statuses(&services), &StartupPhase::Starting),
            "Starting 3 of 5 services…"
        );
        // After start-up, a service still waiting (for Docker, say) is a degradation.
        assert_eq!(after(&services), "Starting 2 of 5 services…");
        assert_eq!(
            summary(
                &statuses(&[("a", Starting), ("n8n", Error)]),
                &StartupPhase::Starting
            ),
            "Starting 1 of 2 services… (1 failed: n8n)"
        );
    }

    #[test]
    fn the_summary_names_failed_unhealthy_and_waiting_services() {
        use ServiceState::*;
        assert_eq!(
            after(&[("a", Running), ("b", Running), ("n8n", Error)]),
            "Degraded: 1 service failed (n8n)"
        );
        assert_eq!(
            after(&[("a", Running), ("n8n", Error), ("comfyui", Error)]),
            "Degraded: 2 services failed (n8n, comfyui)"
        );
        assert_eq!(
            after(&[("a", Unhealthy), ("n8n", Error), ("comfyui", Waiting)]),
            "Degraded: 1 service failed (n8n), 1 unhealthy (a), 1 waiting (comfyui)"
        );
        assert_eq!(
            after(&[("a", Unhealthy), ("b", Running)]),
            "Degraded: 1 service unhealthy (a)"
        );
    }

    #[test]
    fn the_summary_says_stopped_stopping_and_partly_running() {
        use ServiceState::*;
        assert_eq!(after(&[("a", Stopped), ("b", Stopped)]), "Stopped");
        assert_eq!(after(&[("a", Stopped), ("b", Disabled)]), "Stopped");
        assert_eq!(
            after(&[("a", Stopping), ("b", Running)]),
            "Stopping 1 service…"
        );
        assert_eq!(
            after(&[("a", Running), ("b", Stopped), ("c", Running)]),
            "2 of 3 services are running"
        );
    }

    #[test]
    fn the_summary_leaves_out_disabled_services() {
        use ServiceState::*;
        assert_eq!(
            after(&[("a", Running), ("b", Disabled), ("c", Running)]),
            "All 2 services are running"
        );
        assert_eq!(after(&[]), "No services are turned on");
        assert_eq!(after(&[("a", Disabled)]), "No services are turned on");
        assert_eq!(
            summary(&[], &StartupPhase::NotStarted),
            "No services are turned on"
        );
    }

    #[test]
    fn features_list_their_services() {
        let views = features(&catalog(), &set(&["claraCore"]));
        let core = views
            .iter()
            .find(|f| f.name == "claraCore")
            .expect("claraCore");
        assert!(core.enabled);
        assert_eq!(core.services, ["llamaswap", "mcp"]);
        assert!(!views.iter().find(|f| f.name == "n8n").expect("n8n").enabled);
    }

    #[test]
    fn turning_rag_off_also_stops_what_needs_it() {
        let change = feature_change(
            &catalog(),
            &set(&["ragAndTts", "comfyUI"]),
            &set(&["comfyUI"]),
        )
        .expect("valid");
        assert_eq!(
            change,
            FeatureChange::default(),
            "comfyui still pulls python-backend in"
        );
        let change =
            feature_change(&catalog(), &set(&["ragAndTts", "comfyUI"]), &set(&[])).expect("valid");
        assert_eq!(change.stops, ["comfyui", "python-backend"]);
        let change = feature_change(&catalog(), &set(&[]), &set(&["n8n"])).expect("valid");
        assert_eq!(change.starts, ["n8n"]);
        let error = feature_change(&catalog(), &set(&[]), &set(&["n8"])).expect_err("unknown");
        assert_eq!(
            error,
            "feature \"n8\": is not defined (did you mean \"n8n\"?)"
        );
    }
}
