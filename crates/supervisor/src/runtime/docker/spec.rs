//! What a container of a service looks like: name, labels, the create request and the
//! hash that says whether an existing container still matches its definition.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, DeviceRequest, EndpointSettings, HostConfig, NetworkingConfig, PortBinding,
};

use crate::definitions::{GpuMode, Protocol, RuntimeKind, Service, VolumeSource};

/// The network every container joins, so services reach each other by name.
pub const NETWORK: &str = "clara_network";
/// Marks containers this supervisor manages.
pub const LABEL_MANAGED: &str = "claraverse.managed";
/// The service a container belongs to.
pub const LABEL_SERVICE: &str = "claraverse.service";
/// The hash of the effective definition the container was created from.
pub const LABEL_SPEC_HASH: &str = "claraverse.spec-hash";
/// The setup a container belongs to: one state directory with one definitions file (see
/// [`project`]). A supervisor changes only its own project's containers.
pub const LABEL_PROJECT: &str = "claraverse.project";
/// The containers the Electron ClaraVerse app made, without labels, each with the catalog's
/// service that replaces it.
pub const LEGACY_CONTAINERS: [(&str, &str); 3] = [
    ("clara_python", "python-backend"),
    ("clara_n8n", "n8n"),
    ("clara_comfyui", "comfyui"),
];

/// `clara_<service>`.
pub fn container_name(service: &str) -> String {
    format!("clara_{service}")
}

/// A stable hash of everything that shapes the container (FNV-1a over the definition's
/// JSON, which leaves out positions in the file), plus the GPU decision.
pub fn spec_hash(service: &Service, gpu: bool) -> String {
    let json = serde_json::to_vec(service).unwrap_or_default();
    format!("{:016x}", fnv1a(json.iter().chain([u8::from(gpu)].iter())))
}

/// The project of the definitions named `definitions` (a file's path, or `catalog`) run
/// on the state directory whose token is `state_token`: the value of [`LABEL_PROJECT`].
pub fn project(state_token: &str, definitions: &str) -> String {
    format!(
        "{state_token}-{:016x}",
        fnv1a(definitions.as_bytes().iter())
    )
}

fn fnv1a<'a>(bytes: impl Iterator<Item = &'a u8>) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Whose the container `name` with `labels` is, for the supervisor of `project`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Ours: made by this project.
    Us,
    /// Made by this app before containers carried a project: ours to replace.
    UsBeforeProjects,
    /// Someone else's, never to be stopped or removed: why, and what to do, in a sentence.
    Other(String),
}

/// Whose the container `name` with `labels` is, for the supervisor of `project`.
pub fn owner(name: &str, labels: &HashMap<String, String>, project: &str) -> Owner {
    let managed = labels
        .get(LABEL_MANAGED)
        .is_some_and(|value| value == "true");
    match (managed, labels.get(LABEL_PROJECT)) {
        (true, Some(theirs)) if theirs == project => Owner::Us,
        (true, None) => Owner::UsBeforeProjects,
        (true, Some(_)) => Owner::Other(format!(
            "the container {name} belongs to another ClaraVerse setup (another state folder \
             or definitions file), so it is left alone: quit that setup, or remove the \
             container (docker rm -f {name}), then choose Retry"
        )),
        (false, _) if LEGACY_CONTAINERS.iter().any(|(legacy, _)| *legacy == name) => {
            Owner::Other(format!(
                "the container {name} of the earlier ClaraVerse app holds this name, so it is \
             left alone: rename it to keep it (docker rename {name} {name}-electron) or \
             remove it, then choose Retry"
            ))
        }
        (false, _) => Owner::Other(format!(
            "a container named {name} that ClaraVerse did not make holds this name, so it is \
             left alone: rename it (docker rename {name} {name}-old) or remove it, then \
             choose Retry"
        )),
    }
}

/// Whether this container gets NVIDIA GPUs: `Err` when it must have one and Docker cannot
/// give it.
pub fn use_gpu(mode: GpuMode, nvidia_runtime: bool) -> Result<bool, String> {
    match (mode, nvidia_runtime) {
        (GpuMode::Off, _) => Ok(false),
        (GpuMode::Auto, available) => Ok(available),
        (GpuMode::Required, true) => Ok(true),
        (GpuMode::Required, false) => Err(
            "needs an NVIDIA GPU, but Docker has no NVIDIA runtime: install the NVIDIA \
             Container Toolkit and restart Docker, or set gpu = \"auto\""
                .to_string(),
        ),
    }
}

/// The request that creates the service's container.
pub fn create_body(service: &Service, gpu: bool, hash: &str, project: &str) -> ContainerCreateBody {
    let (image, command) = match &service.runtime {
        RuntimeKind::Container { image, command } => (image.clone(), command.clone()),
        _ => (String::new(), None),
    };
    let mut env: Vec<String> = service
        .env
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !gpu {
        env.extend(service.cpu_env.iter().map(|(k, v)| format!("{k}={v}")));
    }
    let mut exposed = Vec::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for port in &service.ports {
        let protocol = match port.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        };
        let key = format!("{}/{protocol}", port.container_port);
        exposed.push(key.clone());
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(port.host_ip.to_string()),
                host_port: Some(port.host_port.to_string()),
            });
    }
    let binds: Vec<String> = service
        .volumes
        .iter()
        .map(|volume| {
            let source = match &volume.source {
                VolumeSource::Bind(path) => path.display().to_string(),
                VolumeSource::Named(name) => name.clone(),
            };
            let mode = if volume.read_only { ":ro" } else { "" };
            format!("{source}:{}{mode}", volume.target)
        })
        .collect();
    let labels = HashMap::from([
        (LABEL_MANAGED.to_string(), "true".to_string()),
        (LABEL_SERVICE.to_string(), service.name.clone()),
        (LABEL_SPEC_HASH.to_string(), hash.to_string()),
        (LABEL_PROJECT.to_string(), project.to_string()),
    ]);
    let device_requests = gpu.then(|| {
        vec![DeviceRequest {
            driver: Some("nvidia".into()),
            count: Some(-1),
            capabilities: Some(vec![vec!["gpu".into()]]),
            ..Default::default()
        }]
    });
    let endpoint = EndpointSettings {
        aliases: Some(vec![service.name.clone()]),
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(image),
        cmd: command,
        env: Some(env),
        exposed_ports: Some(exposed),
        labels: Some(labels),
        stop_signal: Some(service.stop_signal.name().to_string()),
        stop_timeout: Some(service.stop_timeout.as_secs().max(1) as i64),
        host_config: Some(HostConfig {
            port_bindings: Some(bindings),
            binds: Some(binds),
            device_requests,
            network_mode: Some(NETWORK.to_string()),
            // An init process reaps zombies and forwards signals, as compose's `init: true`.
            init: Some(true),
            ..Default::default()
        }),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(NETWORK.to_string(), endpoint)])),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definitions::Variables;
    use crate::diagnostics::SourceFile;
    use crate::load::{self, LoadOptions};
    use crate::platform::Platform;
    use crate::selection::FeatureChoice;

    fn service(text: &str) -> Service {
        let options = LoadOptions {
            platform: Platform::Linux,
            variables: Variables::new([], "/home/u/clara"),
            features: FeatureChoice::Defaults,
        };
        let loaded = load::load(&SourceFile::new("t.toml", text), &options).expect("valid");
        loaded
            .definitions
            .services
            .into_values()
            .next()
            .expect("one service")
    }

    const COMFY: &str = r#"
[services.comfyui]
image = "clara17verse/clara-comfyui:latest"
command = ["python", "main.py"]
ports = ["8188:8188", "0.0.0.0:9000:9000/udp"]
volumes = ["${CLARA_HOME}/models:/models:ro", "comfy_cache:/cache"]
env = { A = "1" }
cpu_env = { CUDA_VISIBLE_DEVICES = "" }
gpu = "auto"
stop_signal = "INT"
stop_timeout = "15s"
"#;

    #[test]
    fn the_request_publishes_on_loopback_and_labels_the_container() {
        let body = create_body(&service(COMFY), false, "abc", "p1");
        assert_eq!(
            body.image.as_deref(),
            Some("clara17verse/clara-comfyui:latest")
        );
        assert_eq!(
            body.cmd,
            Some(vec!["python".to_string(), "main.py".to_string()])
        );
        let host = body.host_config.expect("host config");
        let bindings = host.port_bindings.expect("ports");
        let tcp = bindings["8188/tcp"].as_ref().expect("bound");
        assert_eq!(tcp[0].host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(tcp[0].host_port.as_deref(), Some("8188"));
        assert_eq!(
            bindings["9000/udp"].as_ref().expect("bound")[0]
                .host_ip
                .as_deref(),
            Some("0.0.0.0")
        );
        assert_eq!(
            host.binds,
            Some(vec![
                "/home/u/clara/models:/models:ro".to_string(),
                "comfy_cache:/cache".to_string()
            ])
        );
        assert_eq!(host.network_mode.as_deref(), Some(NETWORK));
        let labels = body.labels.expect("labels");
        assert_eq!(labels[LABEL_MANAGED], "true");
        assert_eq!(labels[LABEL_SERVICE], "comfyui");
        assert_eq!(labels[LABEL_SPEC_HASH], "abc");
        assert_eq!(labels[LABEL_PROJECT], "p1");
        assert_eq!(body.stop_signal.as_deref(), Some("SIGINT"));
        assert_eq!(body.stop_timeout, Some(15));
    }

    #[test]
    fn only_our_own_project_s_containers_are_ours() {
        let labels = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let ours = labels(&[(LABEL_MANAGED, "true"), (LABEL_PROJECT, "p1")]);
        assert_eq!(owner("clara_a", &ours, "p1"), Owner::Us);
        assert_eq!(
            owner("clara_a", &labels(&[(LABEL_MANAGED, "true")]), "p1"),
            Owner::UsBeforeProjects
        );
        assert_eq!(
            owner("clara_a", &ours, "p2"),
            Owner::Other(
                "the container clara_a belongs to another ClaraVerse setup (another state \
                 folder or definitions file), so it is left alone: quit that setup, or \
                 remove the container (docker rm -f clara_a), then choose Retry"
                    .to_string()
            )
        );
        assert_eq!(
            owner("clara_n8n", &HashMap::new(), "p1"),
            Owner::Other(
                "the container clara_n8n of the earlier ClaraVerse app holds this name, so it \
                 is left alone: rename it to keep it (docker rename clara_n8n \
                 clara_n8n-electron) or remove it, then choose Retry"
                    .to_string()
            )
        );
        assert_eq!(
            owner("clara_a", &labels(&[(LABEL_MANAGED, "yes")]), "p1"),
            Owner::Other(
                "a container named clara_a that ClaraVerse did not make holds this name, so it \
                 is left alone: rename it (docker rename clara_a clara_a-old) or remove it, \
                 then choose Retry"
                    .to_string()
            )
        );
    }

    #[test]
    fn projects_differ_by_state_directory_and_definitions() {
        let app = project("0123456789abcdef", "catalog");
        assert_eq!(app, project("0123456789abcdef", "catalog"));
        assert!(app.starts_with("0123456789abcdef-"), "{app}");
        assert_ne!(app, project("0123456789abcdef", "/home/u/other.toml"));
        assert_ne!(app, project("fedcba9876543210", "catalog"));
    }

    #[test]
    fn the_gpu_request_follows_the_decision() {
        let on_cpu = create_body(&service(COMFY), false, "h", "p");
        assert!(
            on_cpu
                .host_config
                .as_ref()
                .and_then(|h| h.device_requests.clone())
                .is_none()
        );
        assert_eq!(
            on_cpu.env,
            Some(vec!["A=1".to_string(), "CUDA_VISIBLE_DEVICES=".to_string()])
        );
        let on_gpu = create_body(&service(COMFY), true, "h", "p");
        let requests = on_gpu
            .host_config
            .and_then(|h| h.device_requests)
            .expect("a GPU request");
        assert_eq!(requests[0].driver.as_deref(), Some("nvidia"));
        assert_eq!(requests[0].count, Some(-1));
        assert_eq!(
            requests[0].capabilities,
            Some(vec![vec!["gpu".to_string()]])
        );
        assert_eq!(
            on_gpu.env,
            Some(vec!["A=1".to_string()]),
            "the CPU environment is left out"
        );
    }

    #[test]
    fn gpu_modes_decide_with_the_engine() {
        assert_eq!(use_gpu(GpuMode::Auto, true), Ok(true));
        assert_eq!(use_gpu(GpuMode::Auto, false), Ok(false));
        assert_eq!(use_gpu(GpuMode::Off, true), Ok(false));
        assert_eq!(use_gpu(GpuMode::Required, true), Ok(true));
        assert!(
            use_gpu(GpuMode::Required, false)
                .expect_err("no GPU")
                .starts_with("needs an NVIDIA GPU")
        );
    }

    #[test]
    fn the_hash_changes_with_the_definition_only() {
        let a = spec_hash(&service(COMFY), false);
        assert_eq!(a, spec_hash(&service(COMFY), false), "stable");
        assert_eq!(
            a,
            spec_hash(&service(&format!("\n\n{COMFY}")), false),
            "positions do not count"
        );
        assert_eq!(
            a,
            spec_hash(
                &service(&COMFY.replace(
                    "[services.comfyui]",
                    "[services.comfyui]\ndownload = \"14 GB\""
                )),
                false
            ),
            "the download estimate does not count"
        );
        assert_ne!(
            a,
            spec_hash(&service(&COMFY.replace("A = \"1\"", "A = \"2\"")), false)
        );
        assert_ne!(
            a,
            spec_hash(&service(COMFY), true),
            "the GPU decision counts"
        );
    }
}
