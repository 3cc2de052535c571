//! The built-in ClaraVerse catalog: valid everywhere, and faithful to what the app runs.

use std::collections::BTreeSet;
use std::time::Duration;

use clara_supervisor::catalog;
use clara_supervisor::definitions::{
    Archive, Checksum, Prepare, Probe, RuntimeKind, Service, Variables, VolumeSource,
};
use clara_supervisor::load::{self, LoadOptions, Loaded};
use clara_supervisor::platform::{Accelerator, Platform};
use clara_supervisor::selection::FeatureChoice;

const HOME: &str = "/home/clara/.local/share/ClaraVerse";

fn load(platform: Platform, features: &[&str]) -> Loaded {
    let options = LoadOptions {
        platform,
        variables: Variables::new([], HOME),
        features: FeatureChoice::Only(features.iter().map(|f| f.to_string()).collect()),
    };
    match load::load(&catalog::source(), &options) {
        Ok(loaded) => loaded,
        Err(error) => panic!("the catalog is invalid on {platform}: {:#?}", error.errors),
    }
}

fn command(service: &Service) -> &[String] {
    match &service.runtime {
        RuntimeKind::Process { command } => command,
        other => panic!("{} is not a native process: {other:?}", service.name),
    }
}

#[test]
fn validates_with_clara_core_and_comfyui() {
    let loaded = load(Platform::current(), &["claraCore", "comfyUI"]);
    assert!(loaded.warnings.is_empty(), "{:#?}", loaded.warnings);
    let running: Vec<&str> = loaded
        .selection
        .services
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        running,
        ["comfyui", "docker", "llamaswap", "mcp", "python-backend"]
    );
    let notes: Vec<String> = loaded
        .plan
        .pulled_in()
        .iter()
        .map(|p| p.describe())
        .collect();
    assert_eq!(
        notes,
        ["python-backend runs although feature ragAndTts is off: comfyui needs it"]
    );
}

#[test]
fn validates_on_every_platform_with_every_feature_combination() {
    let features = ["claraCore", "comfyUI", "n8n", "ragAndTts"];
    for platform in Platform::ALL {
        for mask in 0..(1 << features.len()) {
            let chosen: Vec<&str> = (0..features.len())
                .filter(|bit| mask & (1 << bit) != 0)
                .map(|bit| features[bit])
                .collect();
            let loaded = load(platform, &chosen);
            assert!(
                loaded.warnings.is_empty(),
                "{platform} {chosen:?}: {:#?}",
                loaded.warnings
            );
        }
    }
}

#[test]
fn the_default_features_are_clara_core_and_rag() {
    let options = LoadOptions {
        platform: Platform::Linux,
        variables: Variables::new([], HOME),
        features: FeatureChoice::Defaults,
    };
    let loaded = load::load(&catalog::source(), &options).expect("valid");
    let on: Vec<&str> = loaded
        .selection
        .features
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(on, ["claraCore", "ragAndTts"]);
    for feature in loaded.definitions.features.values() {
        assert!(
            !feature.label.is_empty() && feature.label != feature.name,
            "{} needs a human label",
            feature.name
        );
    }
}

#[test]
fn clara_core_downloads_its_programs_for_the_platform_and_machine() {
    let linux = load(Platform::Linux, &["claraCore"]);
    let llamaswap = &linux.definitions.services["llamaswap"];
    let install = llamaswap
        .install
        .as_ref()
        .expect("Clara Core's programs are downloaded");
    let folder = format!("{HOME}/programs/llamaswap/250+b11195-cpu");
    assert_eq!(install.folder.display().to_string(), folder);
    let urls: Vec<&str> = install.parts.iter().map(|part| part.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "https://github.com/mostlygeek/llama-swap/releases/download/v250/llama-swap_250_linux_amd64.tar.gz",
            "https://github.com/ggml-org/llama.cpp/releases/download/b11195/llama-b11195-bin-ubuntu-x64.tar.gz",
        ]
    );
    assert!(
        install.parts.iter().all(
            |part| matches!(&part.checksum, Checksum::List(url) if url.starts_with("https://"))
        ),
        "each is verified against the sums its release publishes"
    );
    assert_eq!(command(llamaswap)[0], format!("{folder}/llama-swap"));
    assert_eq!(
        llamaswap.env["LD_LIBRARY_PATH"],
        format!("{folder}/llama.cpp")
    );
    assert_eq!(
        llamaswap.prepare,
        Some(Prepare::LlamaSwapConfig {
            config: format!("{HOME}/llama-swap-config.yaml").into(),
            models: vec![
                format!("{HOME}/models").into(),
                "/.clara/llama-models".into()
            ],
            models_variable: Some("CLARA_MODELS".into()),
            server: format!("{folder}/llama.cpp/llama-server"),
        })
    );

    let mac = load(Platform::Macos, &["claraCore"]);
    let llamaswap = &mac.definitions.services["llamaswap"];
    let install = llamaswap.install.as_ref().expect("downloaded");
    assert!(install.parts[0].url.ends_with("_darwin_arm64.tar.gz"));
    assert!(install.parts[1].url.ends_with("-bin-macos-arm64.tar.gz"));
    assert!(llamaswap.env["DYLD_LIBRARY_PATH"].ends_with("/llama.cpp"));
    assert!(
        !llamaswap.env.contains_key("LD_LIBRARY_PATH"),
        "the Linux variable must not leak to macOS"
    );

    let windows = load(Platform::Windows, &["claraCore"]);
    let llamaswap = &windows.definitions.services["llamaswap"];
    let install = llamaswap.install.as_ref().expect("downloaded");
    assert!(
        install
            .parts
            .iter()
            .all(|part| part.archive == Archive::Zip)
    );
    assert!(install.parts[1].url.ends_with("-bin-win-cpu-x64.zip"));
    assert!(command(llamaswap)[0].ends_with("llama-swap.exe"));
    assert!(!llamaswap.env.contains_key("LD_LIBRARY_PATH"));
}

#[test]
fn a_vulkan_or_nvidia_machine_gets_the_vulkan_build() {
    for accelerator in [Accelerator::Vulkan, Accelerator::Cuda] {
        for (platform, build) in [
            (Platform::Linux, "ubuntu-vulkan-x64.tar.gz"),
            (Platform::Windows, "win-vulkan-x64.zip"),
        ] {
            let options = LoadOptions {
                platform,
                variables: Variables::new([], HOME).with_accelerator(accelerator),
                features: FeatureChoice::Defaults,
            };
            let loaded = load::load(&catalog::source(), &options).expect("valid");
            let install = loaded.definitions.services["llamaswap"]
                .install
                .clone()
                .expect("downloaded");
            assert!(
                install.parts[1].url.ends_with(build),
                "{platform} {accelerator}"
            );
            assert!(install.folder.ends_with("250+b11195-vulkan"));
        }
    }
}

#[test]
fn programs_in_a_chosen_folder_are_used_as_they_are() {
    let options = LoadOptions {
        platform: Platform::Linux,
        variables: Variables::new(
            [("CLARA_BINARIES".to_string(), "/opt/clara/bin".to_string())],
            HOME,
        ),
        features: FeatureChoice::Defaults,
    };
    let loaded = load::load(&catalog::source(), &options).expect("valid");
    let llamaswap = &loaded.definitions.services["llamaswap"];
    assert_eq!(command(llamaswap)[0], "/opt/clara/bin/llama-swap");
    assert_eq!(llamaswap.install, None, "nothing to download");
}

#[test]
fn the_mcp_bridge_sits_beside_the_running_program() {
    let app_dir = std::env::current_exe()
        .expect("this test's program")
        .parent()
        .expect("a folder")
        .to_path_buf();
    let mcp_command = |environment: &[(&str, &str)], platform: Platform| {
        let environment = environment
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()));
        let options = LoadOptions {
            platform,
            variables: Variables::new(environment, HOME),
            features: FeatureChoice::Defaults,
        };
        let loaded = load::load(&catalog::source(), &options).expect("valid");
        command(&loaded.definitions.services["mcp"]).to_vec()
    };
    let config = format!("{HOME}/mcp-servers.json");
    assert_eq!(
        mcp_command(&[], Platform::Linux),
        [
            app_dir.join("clara-mcp").display().to_string(),
            "--listen".into(),
            "127.0.0.1:8092".into(),
            "--config".into(),
            config,
        ]
    );
    assert_eq!(
        mcp_command(&[], Platform::Windows)[0],
        app_dir.join("clara-mcp.exe").display().to_string()
    );
    // Clara Core's programs in a folder of the user's do not move the bridge.
    let binaries = [("CLARA_BINARIES", "/opt/clara/bin")];
    assert_eq!(
        mcp_command(&binaries, Platform::Linux)[0],
        app_dir.join("clara-mcp").display().to_string()
    );
    let elsewhere = [("CLARA_MCP_DIR", "/opt/mcp")];
    assert_eq!(
        mcp_command(&elsewhere, Platform::Linux)[0],
        "/opt/mcp/clara-mcp"
    );
}

#[test]
fn llamaswap_is_clara_core_on_8091() {
    let loaded = load(Platform::Linux, &["claraCore"]);
    let llamaswap = &loaded.definitions.services["llamaswap"];
    assert!(llamaswap.critical);
    assert_eq!(llamaswap.feature.as_deref(), Some("claraCore"));
    assert_eq!(llamaswap.ports[0].host_port, 8091);
    assert_eq!(llamaswap.ports[0].host_ip.to_string(), "127.0.0.1");
    let probe = &llamaswap.health.as_ref().expect("health").probe;
    assert!(matches!(probe, Probe::Http { url, .. } if url == "http://127.0.0.1:8091/v1/models"));
    let mcp = &loaded.definitions.services["mcp"];
    assert_eq!(mcp.depends_on[0].service, "llamaswap");
    assert!(matches!(mcp.runtime, RuntimeKind::Process { .. }));
}

#[test]
fn python_backend_is_the_critical_rag_container() {
    let loaded = load(Platform::Linux, &["ragAndTts"]);
    let backend = &loaded.definitions.services["python-backend"];
    assert!(
        matches!(&backend.runtime, RuntimeKind::Container { image, .. } if image.starts_with("clara17verse/clara-backend"))
    );
    assert!(backend.critical);
    assert_eq!(backend.feature.as_deref(), Some("ragAndTts"));
    let port = &backend.ports[0];
    assert_eq!(
        (
            port.host_ip.to_string().as_str(),
            port.host_port,
            port.container_port
        ),
        ("127.0.0.1", 5001, 5000)
    );
    let health = backend.health.as_ref().expect("health");
    assert!(
        matches!(&health.probe, Probe::Http { url, .. } if url == "http://127.0.0.1:5001/health")
    );
    assert!(
        health.start_period >= Duration::from_secs(120),
        "a first start can take minutes"
    );
    assert!(!backend.volumes.is_empty());
    // Folders under the data directory, and the models volume the earlier app made.
    for volume in &backend.volumes {
        assert!(
            matches!(&volume.source, VolumeSource::Bind(path) if path.starts_with(HOME))
                || volume.source == VolumeSource::Named("clara_python_models".into()),
            "{volume:?}"
        );
    }
    assert_eq!(backend.depends_on[0].service, "docker");
}

#[test]
fn comfyui_and_n8n_containers() {
    let loaded = load(Platform::Linux, &["comfyUI", "n8n"]);
    let comfyui = &loaded.definitions.services["comfyui"];
    assert!(
        matches!(&comfyui.runtime, RuntimeKind::Container { image, .. } if image.starts_with("clara17verse/clara-comfyui"))
    );
    assert_eq!(comfyui.ports[0].host_port, 8188);
    assert_eq!(comfyui.depends_on[0].service, "python-backend");
    assert_eq!(comfyui.feature.as_deref(), Some("comfyUI"));
    assert!(comfyui.health.as_ref().expect("health").start_period >= Duration::from_secs(300));

    let n8n = &loaded.definitions.services["n8n"];
    assert!(
        matches!(&n8n.runtime, RuntimeKind::Container { image, .. } if image.starts_with("n8nio/n8n"))
    );
    assert_eq!(n8n.ports[0].host_port, 5678);
    let probe = &n8n.health.as_ref().expect("health").probe;
    assert!(matches!(probe, Probe::Http { url, .. } if url == "http://127.0.0.1:5678/healthz"));
    assert_eq!(n8n.feature.as_deref(), Some("n8n"));
}

#[test]
fn docker_is_the_engine_and_every_container_waits_for_it() {
    let loaded = load(
        Platform::Linux,
        &["claraCore", "comfyUI", "n8n", "ragAndTts"],
    );
    let services = &loaded.definitions.services;
    assert_eq!(services["docker"].runtime, RuntimeKind::Engine);
    assert!(
        services["docker"].feature.is_none(),
        "the engine is always watched"
    );
    for service in services.values() {
        if matches!(service.runtime, RuntimeKind::Container { .. }) {
            let needs: BTreeSet<String> = loaded.plan.dependents("docker");
            assert!(
                needs.contains(&service.name),
                "{} must wait for docker",
                service.name
            );
            for port in &service.ports {
                assert!(
                    port.host_ip.is_loopback(),
                    "{} publishes beyond this machine",
                    service.name
                );
            }
        }
    }
    assert_eq!(loaded.plan.waves()[0], ["docker", "llamaswap"]);
}

#[test]
fn every_download_is_declared_for_the_feature_picker() {
    for platform in Platform::ALL {
        let loaded = load(platform, &["claraCore", "comfyUI", "n8n", "ragAndTts"]);
        for service in loaded.definitions.services.values() {
            if matches!(service.runtime, RuntimeKind::Container { .. }) {
                assert!(
                    service.download_bytes.is_some_and(|bytes| bytes > 0),
                    "{platform}: container {} declares no download size",
                    service.name
                );
            }
        }
        let size = |name: &str| loaded.definitions.services[name].download_bytes;
        // The big one is said to be big; the native programs are declared too.
        assert!(size("comfyui") > Some(10_000_000_000), "{platform}");
        assert!(size("llamaswap").is_some(), "{platform}");
        assert_eq!(size("mcp"), None, "the bridge comes with the app");
        assert_eq!(size("docker"), None, "the engine downloads nothing");
    }
}
