//! Made ready before each start: llama-swap's config, written from folders of small fake
//! GGUF files (the writer reads only their 4-byte magic), checked with a YAML parser; and
//! a service without models waits for the user with a sentence instead of crash-looping.

mod support;

use std::path::{Path, PathBuf};

use clara_supervisor::definitions::Variables;
use clara_supervisor::diagnostics::SourceFile;
use clara_supervisor::events::EventKind;
use clara_supervisor::load::{self, LoadOptions};
use clara_supervisor::manager::ProgramsChoice;
use clara_supervisor::platform::Platform;
use clara_supervisor::prepare::llama_swap::{find_models, write_config};
use clara_supervisor::selection::FeatureChoice;
use clara_supervisor::state::ServiceState;
use clara_supervisor::status::FailureCause;
use support::Harness;
use yaml_rust2::{Yaml, YamlLoader};

/// Writes a fake model: the GGUF magic and a little more.
fn model(path: &Path) {
    std::fs::create_dir_all(path.parent().expect("a folder")).expect("the folder");
    std::fs::write(path, b"GGUF\x03\x00\x00\x00fake weights").expect("the model");
}

/// The models folder of these tests: two chat models (one split in parts, one in a
/// subfolder), an embedding model, and what is not a model.
fn models_folder(root: &Path) -> PathBuf {
    let folder = root.join("models");
    model(&folder.join("Qwen3-4B-Q4_K_M.gguf"));
    model(&folder.join("big/Llama-70B-00001-of-00002.gguf"));
    model(&folder.join("big/Llama-70B-00002-of-00002.gguf"));
    model(&folder.join("nomic-embed-text-v1.5.Q8_0.gguf"));
    model(&folder.join("vision/mmproj-F16.gguf"));
    std::fs::write(folder.join("notes.gguf"), b"not a model").expect("a fake");
    std::fs::write(folder.join("README.txt"), b"GGUF but not named so").expect("a file");
    folder
}

fn parse(config: &Path) -> Yaml {
    let text = std::fs::read_to_string(config).expect("the config is written");
    let mut documents = YamlLoader::load_from_str(&text).expect("the config is valid YAML");
    documents.remove(0)
}

#[test]
fn the_config_has_one_model_per_file_and_a_group_for_embeddings() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let folder = models_folder(dir.path());
    let earlier = dir.path().join("earlier app models");
    model(&earlier.join("Qwen3-4B-Q4_K_M.gguf"));
    let config = dir.path().join("llama-swap-config.yaml");
    let folders = [folder.clone(), earlier.clone(), dir.path().join("absent")];
    let written = write_config(&config, &folders, "/opt/llama.cpp/llama-server").expect("written");
    assert!(written.changed);
    assert_eq!(
        written.describe(),
        "4 models: llama-70b, nomic-embed-text-v1.5.q8_0, qwen3-4b-q4_k_m, qwen3-4b-q4_k_m-2"
    );

    let yaml = parse(&config);
    let models = yaml["models"].as_hash().expect("a models table");
    assert_eq!(models.len(), 4);
    let cmd = |id: &str| {
        yaml["models"][id]["cmd"]
            .as_str()
            .expect("a cmd")
            .to_string()
    };
    assert_eq!(
        cmd("qwen3-4b-q4_k_m"),
        format!(
            "'/opt/llama.cpp/llama-server' --model '{}' --port ${{PORT}} --n-gpu-layers 999 --jinja",
            folder.join("Qwen3-4B-Q4_K_M.gguf").display()
        )
    );
    assert_eq!(
        cmd("qwen3-4b-q4_k_m-2"),
        format!(
            "'/opt/llama.cpp/llama-server' --model '{}' --port ${{PORT}} --n-gpu-layers 999 --jinja",
            earlier.join("Qwen3-4B-Q4_K_M.gguf").display()
        )
    );
    assert!(cmd("llama-70b").contains("Llama-70B-00001-of-00002.gguf"));
    assert!(cmd("nomic-embed-text-v1.5.q8_0").ends_with("--embeddings"));
    for id in ["llama-70b", "qwen3-4b-q4_k_m"] {
        assert_eq!(yaml["models"][id]["ttl"].as_i64(), Some(300));
    }
    let group = &yaml["groups"]["embeddings"];
    assert_eq!(group["swap"].as_bool(), Some(false));
    assert_eq!(group["exclusive"].as_bool(), Some(false));
    assert_eq!(group["persistent"].as_bool(), Some(true));
    assert_eq!(
        group["members"]
            .as_vec()
            .map(|members| members.iter().filter_map(Yaml::as_str).collect::<Vec<_>>()),
        Some(vec!["nomic-embed-text-v1.5.q8_0"])
    );
    assert_eq!(yaml["healthCheckTimeout"].as_i64(), Some(300));
}

#[test]
fn an_unchanged_folder_leaves_the_config_untouched() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let folder = models_folder(dir.path());
    let config = dir.path().join("llama-swap-config.yaml");
    let folders = [folder.clone()];
    write_config(&config, &folders, "llama-server").expect("written");
    // Marked, so that a rewrite (a new file renamed over it) would show.
    let marked = std::fs::metadata(&config)
        .expect("the config")
        .modified()
        .expect("a time");
    let again = write_config(&config, &folders, "llama-server").expect("checked");
    assert!(!again.changed);
    assert_eq!(
        std::fs::metadata(&config)
            .expect("the config")
            .modified()
            .expect("a time"),
        marked
    );

    model(&folder.join("Phi-4-mini.gguf"));
    let grown = write_config(&config, &folders, "llama-server").expect("rewritten");
    assert!(grown.changed);
    assert!(
        parse(&config)["models"]["phi-4-mini"]["cmd"]
            .as_str()
            .is_some()
    );
    assert!(
        parse(&config)["groups"]["embeddings"]["members"]
            .as_vec()
            .is_some()
    );
}

#[test]
fn no_model_is_said_with_where_to_put_one() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let empty = dir.path().join("models");
    std::fs::create_dir_all(&empty).expect("a folder");
    let config = dir.path().join("llama-swap-config.yaml");
    let error =
        write_config(&config, std::slice::from_ref(&empty), "llama-server").expect_err("no models");
    assert_eq!(
        error.message,
        format!(
            "has no model yet: add a GGUF model to {} and press Restart",
            empty.display()
        )
    );
    assert!(error.needs_the_user);
    assert!(!config.exists());
    assert_eq!(find_models(&[empty]), []);
}

#[cfg(unix)]
#[tokio::test]
async fn without_models_the_service_waits_for_one_then_starts_on_restart() {
    let text = r#"
[services.core]
critical = true
command = ["sh", "-c", "test -s ${DIR}/config.yaml && echo ready && exec sleep 300"]
health = { log = "ready" }
prepare = { kind = "llama-swap-config", config = "${DIR}/config.yaml", models = ["${DIR}/models"], server = "llama-server" }

[services.other]
command = ["sleep", "300"]
"#;
    let mut harness = Harness::up(text).await;
    let reason = harness.wait_state("core", ServiceState::Error).await;
    let folder = harness.path("models");
    assert_eq!(
        reason,
        Some(format!(
            "has no model yet: add a GGUF model to {} and press Restart; trying again in 1h",
            folder.display()
        ))
    );
    assert!(matches!(
        harness.wait_startup().await,
        EventKind::StartupComplete { .. }
    ));
    let core = harness.status_of("core").await;
    assert_eq!(
        core.last_error.map(|error| error.cause),
        Some(FailureCause::NotSetUp)
    );
    assert_eq!(core.restarts, 0, "no crash loop");
    assert_eq!(
        harness.status_of("other").await.state,
        ServiceState::Running
    );

    model(&folder.join("Qwen3-4B.gguf"));
    harness
        .manager
        .restart_service("core")
        .await
        .expect("restarts");
    harness.wait_state("core", ServiceState::Running).await;
    let core = harness.status_of("core").await;
    assert_eq!(core.detail.as_deref(), Some("1 model: qwen3-4b"));
    harness.shutdown().await;
}

#[cfg(unix)]
#[tokio::test]
async fn another_models_folder_is_used_at_once() {
    let text = r#"
[services.core]
command = ["sh", "-c", "test -s ${DIR}/config.yaml && echo ready && exec sleep 300"]
health = { log = "ready" }
prepare = { kind = "llama-swap-config", config = "${DIR}/config.yaml", models = ["${MODELS_DIR:-${DIR}/models}"], models_variable = "MODELS_DIR", server = "llama-server" }
"#;
    let mut harness = Harness::up(text).await;
    harness.wait_state("core", ServiceState::Error).await;
    let mine = harness.path("my models");
    model(&mine.join("Mistral-7B.gguf"));
    let options = LoadOptions {
        platform: Platform::current(),
        variables: Variables::new(
            [
                ("DIR".to_string(), harness.dir.path().display().to_string()),
                ("MODELS_DIR".to_string(), mine.display().to_string()),
            ],
            harness.path("home"),
        ),
        features: FeatureChoice::Defaults,
    };
    let service = load::load(&SourceFile::new("test.toml", text), &options)
        .expect("valid")
        .definitions
        .services["core"]
        .clone();
    harness
        .manager
        .use_programs(service, ProgramsChoice::Models(Some(mine.clone())))
        .await
        .expect("used");
    harness.wait_state("core", ServiceState::Running).await;
    assert_eq!(
        harness.status_of("core").await.detail.as_deref(),
        Some("1 model: mistral-7b")
    );
    let saved = std::fs::read_to_string(harness.path("state/choices.json")).expect("saved");
    assert!(saved.contains("MODELS_DIR"), "{saved}");
    harness.shutdown().await;
}
