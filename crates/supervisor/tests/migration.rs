//! `clara-supervisor migrate`: the earlier (Electron) ClaraVerse app's files and folders,
//! recreated in a temporary home, are carried over — features and own servers imported,
//! MCP servers copied where the MCP bridge reads them, data used where it is, not a byte
//! of it moved or lost — with a backup that `--undo`
//! puts back byte for byte; its containers are stopped and kept, not removed, and ours
//! mount the same folders.

#![cfg(unix)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clara_supervisor::catalog;
use clara_supervisor::definitions::{RuntimeKind, Variables, VolumeSource};
use clara_supervisor::load::{self, LoadOptions};
use clara_supervisor::migration;
use clara_supervisor::persist::StateFiles;
use clara_supervisor::platform::Platform;
use clara_supervisor::selection::FeatureChoice;
use nix::sys::signal::{Signal, kill};
use sha2::{Digest, Sha256};
use support::docker;
use support::up::Up;

/// A temporary home with what the earlier app leaves there.
struct OldHome {
    dir: tempfile::TempDir,
}

impl OldHome {
    fn new() -> OldHome {
        let home = OldHome {
            dir: tempfile::tempdir().expect("a temporary folder"),
        };
        let settings = home.user_data();
        home.write(
            &settings.join("clara-features.yaml"),
            b"comfyUI: false\nn8n: true\nragAndTts: true\nclaraCore: true\nfirstTimeSetup: false\n",
        );
        home.write(
            &settings.join("service-config.json"),
            br#"{
  "version": "1.0.0",
  "platform": "linux",
  "services": {
    "comfyui": { "mode": "manual", "url": "http://192.168.1.20:8188" },
    "n8n": { "mode": "docker", "url": null },
    "python-backend": { "mode": "manual", "url": "gpu-box:5001" }
  }
}"#,
        );
        home.write(
            &settings.join("llama-swap-config.yaml"),
            b"healthCheckTimeout: 30\nmodels:\n  llama:\n    cmd: llama-server -m /m.gguf --port 9999\n",
        );
        home.write(&settings.join("mcp_config.json"), MCP_CONFIG);
        home.write(&settings.join("llama-swap/llama-swap"), &noise(4096, 1));
        let data = home.data();
        let files: [(&str, usize); 10] = [
            (
                "python_backend_data/.clara/lightrag_storage/metadata/notebooks.json",
                200,
            ),
            ("python_backend_data/uploads/report.pdf", 300_000),
            ("python_backend_data/temp/part.tmp", 10),
            (
                "comfyui-data/models/checkpoints/model.safetensors",
                2_000_000,
            ),
            ("comfyui-data/outputs/ComfyUI_00001_.png", 50_000),
            ("comfyui-data/custom_nodes/node/__init__.py", 100),
            ("comfyui-data/user/default/workflows/mine.json", 900),
            ("comfyui-data/config/settings.json", 50),
            ("comfyui_input/photo.png", 40_000),
            ("n8n/database.sqlite", 120_000),
        ];
        for (number, (file, size)) in files.into_iter().enumerate() {
            home.write(&data.join(file), &noise(size, number as u64 + 2));
        }
        std::fs::create_dir_all(data.join("comfyui-data/temp")).expect("makes");
        home
    }

    fn home(&self) -> &Path {
        self.dir.path()
    }

    fn user_data(&self) -> PathBuf {
        self.home().join(".config/ClaraVerse")
    }

    fn data(&self) -> PathBuf {
        self.home().join(".clara")
    }

    fn state(&self) -> PathBuf {
        self.home().join("state")
    }

    /// `CLARA_HOME` for the CLI run as this home's user: the platform's data folder.
    fn clara_home(&self) -> PathBuf {
        self.home().join(".local/share/ClaraVerse")
    }

    fn write(&self, path: &Path, bytes: &[u8]) {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("makes");
        std::fs::write(path, bytes).expect("writes");
    }

    /// `clara-supervisor ARGS --state-dir STATE` as this home's user, with Docker at
    /// `docker_host` (`None`: the machine's).
    fn migrate(&self, args: &[&str], docker_host: Option<&str>) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_clara-supervisor"));
        command
            .arg("migrate")
            .args(args)
            .arg("--state-dir")
            .arg(self.state())
            .env("HOME", self.home())
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            .env_remove("CLARA_HOME");
        if let Some(host) = docker_host {
            command.env("DOCKER_HOST", host);
        }
        command.output().expect("the CLI binary runs")
    }

    /// Every file under the home except the state directory: path → SHA-256.
    fn checksums(&self) -> BTreeMap<PathBuf, String> {
        let mut sums = BTreeMap::new();
        let mut folders = vec![self.home().to_path_buf()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).expect("reads").flatten() {
                let path = entry.path();
                if path == self.state() {
                    continue;
                }
                if path.is_dir() {
                    folders.push(path);
                } else {
                    let bytes = std::fs::read(&path).expect("reads");
                    sums.insert(path, format!("{:x}", Sha256::digest(&bytes)));
                }
            }
        }
        sums
    }
}

/// The earlier app's MCP servers, as it writes them.
const MCP_CONFIG: &[u8] = br#"{
  "mcpServers": {
    "python-mcp": {
      "type": "stdio",
      "command": "/opt/ClaraVerse/resources/electron/services/python-mcp-server-linux",
      "args": [],
      "env": {},
      "description": "Bundled Python MCP Server (Clara Native) - Always Available",
      "enabled": true,
      "createdAt": "2025-06-01T10:00:00.000Z"
    },
    "notes": { "type": "stdio", "command": "npx", "args": ["notes-mcp"], "enabled": false }
  }
}"#;

/// `size` bytes that differ from file to file.
fn noise(size: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// An address where no Docker engine answers.
const NO_DOCKER: &str = "unix:///nonexistent/docker.sock";

#[test]
fn the_move_imports_the_settings_keeps_every_byte_and_is_undone_byte_for_byte() {
    let old = OldHome::new();
    let before = old.checksums();
    let home = old.home().display().to_string();

    let dry = old.migrate(&["--dry-run"], Some(NO_DOCKER));
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let plan = text(&dry.stdout).replace(&home, "~");
    assert_eq!(
        plan,
        "\
- the earlier ClaraVerse app's settings are looked for in ~/.config/ClaraVerse and its data in ~/.clara
- features turned on as before: claraCore, n8n, ragAndTts
- comfyui uses your own server at http://192.168.1.20:8188
- MCP servers (notes, python-mcp) copied to ~/.local/share/ClaraVerse/mcp-servers.json, which the MCP bridge serves
- data used where it is: ~/.clara/comfyui-data/config (CLARA_COMFYUI_CONFIG)
- data used where it is: ~/.clara/comfyui-data/custom_nodes (CLARA_COMFYUI_CUSTOM_NODES)
- data used where it is: ~/.clara/comfyui_input (CLARA_COMFYUI_INPUT)
- data used where it is: ~/.clara/comfyui-data/models (CLARA_COMFYUI_MODELS)
- data used where it is: ~/.clara/comfyui-data/outputs (CLARA_COMFYUI_OUTPUT)
- data used where it is: ~/.clara/comfyui-data/temp (CLARA_COMFYUI_TEMP)
- data used where it is: ~/.clara/comfyui-data/user (CLARA_COMFYUI_USER)
- data used where it is: ~/.clara/n8n (CLARA_N8N_DATA)
- data used where it is: ~/.clara/python_backend_data (CLARA_PYTHON_DATA)
- the earlier app's containers could not be looked for (Docker does not answer at unix:///nonexistent/docker.sock: start it, or correct DOCKER_HOST, then choose Retry.); move again once Docker runs
- first, ~/.config/ClaraVerse/clara-features.yaml, ~/.config/ClaraVerse/service-config.json, ~/.config/ClaraVerse/llama-swap-config.yaml and ~/.config/ClaraVerse/mcp_config.json are backed up, so the move can be undone
- left out: ~/.config/ClaraVerse/service-config.json: \"python-backend\" was set to your own server without an http(s) URL, so ClaraVerse runs it
nothing was changed (--dry-run)
"
    );
    assert!(!old.state().exists(), "a dry run writes nothing");
    assert!(!old.clara_home().exists(), "a dry run writes nothing");

    let moved = old.migrate(&[], Some(NO_DOCKER));
    assert!(moved.status.success(), "{}", text(&moved.stderr));
    let said = text(&moved.stdout).replace(&home, "~");
    let last = said.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("moved; the backup is in ~/state/backups/")
            && last.ends_with(" (clara-supervisor migrate --undo puts it back)"),
        "{said}"
    );
    // The MCP servers are copied byte for byte where the catalog's bridge reads them.
    let servers_file = old.clara_home().join("mcp-servers.json");
    assert_eq!(std::fs::read(&servers_file).expect("copied"), MCP_CONFIG);
    let mut after = old.checksums();
    after.remove(&servers_file);
    assert_eq!(after, before, "the move changed the user's files");
    let options = LoadOptions {
        platform: Platform::Linux,
        variables: Variables::new([], old.clara_home()),
        features: FeatureChoice::Defaults,
    };
    let loaded = load::load(&catalog::source(), &options).expect("the catalog loads");
    let RuntimeKind::Process { command } = &loaded.definitions.services["mcp"].runtime else {
        panic!("the bridge is a native process");
    };
    let config = command.iter().position(|argument| argument == "--config");
    assert_eq!(
        config.and_then(|at| command.get(at + 1)),
        Some(&servers_file.display().to_string()),
        "the bridge reads the file the move wrote: {command:?}"
    );

    let choices = StateFiles::new(old.state()).read_choices().expect("saved");
    assert_eq!(
        choices.features,
        Some(BTreeSet::from([
            "claraCore".to_string(),
            "n8n".to_string(),
            "ragAndTts".to_string()
        ]))
    );
    assert_eq!(
        choices.setup.servers,
        BTreeMap::from([(
            "comfyui".to_string(),
            "http://192.168.1.20:8188".to_string()
        )])
    );
    assert_eq!(choices.setup.folders.len(), 9);

    // The catalog, with the saved folders, mounts the earlier app's folders.
    let options = LoadOptions {
        platform: Platform::Linux,
        variables: Variables::new([], old.home().join("new-home"))
            .with_folders(&choices.setup.folders),
        features: FeatureChoice::Defaults,
    };
    let loaded = load::load(&catalog::source(), &options).expect("the catalog loads");
    let mounts = |service: &str| -> Vec<(String, String)> {
        loaded.definitions.services[service]
            .volumes
            .iter()
            .map(|volume| {
                let source = match &volume.source {
                    VolumeSource::Bind(path) => path.display().to_string().replace(&home, "~"),
                    VolumeSource::Named(name) => name.clone(),
                };
                (source, volume.target.clone())
            })
            .collect()
    };
    let pair = |source: &str, target: &str| (source.to_string(), target.to_string());
    assert_eq!(mounts("n8n"), vec![pair("~/.clara/n8n", "/home/node/.n8n")]);
    let python = mounts("python-backend");
    assert!(python.contains(&pair("~/.clara/python_backend_data", "/home/clara")));
    assert!(python.contains(&pair("clara_python_models", "/app/models")));
    let comfyui = mounts("comfyui");
    for (source, target) in [
        ("~/.clara/comfyui-data/models", "/app/ComfyUI/models"),
        ("~/.clara/comfyui-data/outputs", "/app/ComfyUI/output"),
        ("~/.clara/comfyui-data/temp", "/app/ComfyUI/temp"),
        (
            "~/.clara/comfyui-data/custom_nodes",
            "/app/ComfyUI/custom_nodes",
        ),
        ("~/.clara/comfyui-data/user", "/app/ComfyUI/user"),
        ("~/.clara/comfyui-data/config", "/app/ComfyUI/config"),
        ("~/.clara/comfyui_input", "/app/ComfyUI/input"),
    ] {
        assert!(comfyui.contains(&pair(source, target)), "{comfyui:?}");
    }

    // The settings files change afterwards (edited, or rewritten by the earlier app);
    // the undo gives back what they were.
    old.write(
        &old.user_data().join("clara-features.yaml"),
        b"n8n: false\n",
    );
    old.write(&old.user_data().join("service-config.json"), b"{}");
    let undone = old.migrate(&["--undo"], Some(NO_DOCKER));
    assert!(undone.status.success(), "{}", text(&undone.stderr));
    let said = text(&undone.stdout).replace(&home, "~");
    assert!(
        said.starts_with(
            "put back ~/.config/ClaraVerse/clara-features.yaml\n\
             put back ~/.config/ClaraVerse/service-config.json\n\
             put back ~/.config/ClaraVerse/llama-swap-config.yaml\n\
             put back ~/.config/ClaraVerse/mcp_config.json\n\
             put back ~/state/choices.json\n\
             put back ~/.local/share/ClaraVerse/mcp-servers.json\n\
             the move saved in ~/state/backups/"
        ) && said.ends_with(" is undone\n"),
        "{said}"
    );
    assert_eq!(
        old.checksums(),
        before,
        "the undo did not restore every byte"
    );
    assert!(
        !old.state().join("choices.json").exists(),
        "choices that did not exist before the move are gone after its undo"
    );

    let again = old.migrate(&["--undo"], Some(NO_DOCKER));
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        text(&again.stderr).replace(&home, "~"),
        "error: there is no move from the earlier app to undo in ~/state/backups\n"
    );
}

#[test]
fn a_damaged_backup_is_refused_and_nothing_changes() {
    let old = OldHome::new();
    let moved = old.migrate(&[], Some(NO_DOCKER));
    assert!(moved.status.success(), "{}", text(&moved.stderr));
    let backups = old.state().join("backups");
    let backup = std::fs::read_dir(&backups)
        .expect("reads")
        .flatten()
        .map(|entry| entry.path())
        .next()
        .expect("a backup");
    std::fs::write(backup.join("0-clara-features.yaml"), b"tampered").expect("writes");
    let choices = std::fs::read(old.state().join("choices.json")).expect("reads");
    let before = old.checksums();

    assert!(matches!(
        migration::check_undo(&old.state()),
        Err(migration::MoveError::DamagedBackup { .. })
    ));
    let refused = old.migrate(&["--undo"], Some(NO_DOCKER));
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        text(&refused.stderr),
        format!(
            "error: the backup in {} cannot be used (0-clara-features.yaml has changed since it was saved); nothing was changed\n",
            backup.display()
        )
    );
    assert_eq!(old.checksums(), before);
    assert_eq!(
        std::fs::read(old.state().join("choices.json")).expect("reads"),
        choices
    );
}

#[test]
fn mcp_servers_the_bridge_has_already_stay_as_they_are() {
    let old = OldHome::new();
    let servers_file = old.clara_home().join("mcp-servers.json");
    let mine = br#"{"mcpServers": {"mine": {"command": "my-server"}}}"#;
    old.write(&servers_file, mine);
    let home = old.home().display().to_string();

    let dry = old.migrate(&["--dry-run"], Some(NO_DOCKER));
    assert!(dry.status.success(), "{}", text(&dry.stderr));
    let plan = text(&dry.stdout).replace(&home, "~");
    assert!(
        plan.contains(
            "\n- MCP servers (notes, python-mcp) not copied: \
             ~/.local/share/ClaraVerse/mcp-servers.json exists already and is kept as it is\n"
        ),
        "{plan}"
    );

    let moved = old.migrate(&[], Some(NO_DOCKER));
    assert!(moved.status.success(), "{}", text(&moved.stderr));
    assert_eq!(std::fs::read(&servers_file).expect("kept"), mine);
    let undone = old.migrate(&["--undo"], Some(NO_DOCKER));
    assert!(undone.status.success(), "{}", text(&undone.stderr));
    assert_eq!(
        std::fs::read(&servers_file).expect("kept"),
        mine,
        "the undo leaves a file the move did not write"
    );
}

#[test]
fn nothing_found_is_said_and_nothing_is_written() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let output = Command::new(env!("CARGO_BIN_EXE_clara-supervisor"))
        .args(["migrate", "--state-dir"])
        .arg(home.path().join("state"))
        .env("HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .env("DOCKER_HOST", NO_DOCKER)
        .output()
        .expect("runs");
    assert!(output.status.success());
    assert_eq!(
        text(&output.stdout),
        format!(
            "nothing of the earlier ClaraVerse app was found (looked in {0}/.config/ClaraVerse and {0}/.clara); nothing to move\n",
            home.path().display()
        )
    );
    assert!(!home.path().join("state").exists());
}

/// `SOURCE:TARGET` of each mount of a container, sorted.
fn mounts_of(container: &str) -> Vec<String> {
    let listed = docker(&[
        "inspect",
        "-f",
        "{{range .Mounts}}{{.Source}}:{{.Destination}} {{end}}",
        container,
    ]);
    let mut mounts: Vec<String> = listed.split_whitespace().map(str::to_string).collect();
    mounts.sort();
    mounts
}

fn running(container: &str) -> String {
    docker(&["inspect", "-f", "{{.State.Running}}", container])
}

#[test]
fn the_earlier_apps_containers_are_kept_aside_and_ours_mount_the_same_folders() {
    if std::env::var("CLARA_DOCKER_TESTS").is_ok_and(|value| value == "skip") {
        eprintln!(
            "\n*** SKIPPED: no Docker engine on this machine (CLARA_DOCKER_TESTS=skip) ***\n"
        );
        return;
    }
    for name in [
        "clara_n8n",
        "clara_comfyui",
        "clara_n8n-electron",
        "clara_comfyui-electron",
    ] {
        assert!(
            docker(&["ps", "-aq", "--filter", &format!("name=^{name}$")]).is_empty(),
            "a container named {name} exists on this machine: this test would rename it, so it stops here"
        );
    }
    let old = OldHome::new();
    let data = old.data();
    let n8n_data = data.join("n8n").display().to_string();
    let input = data.join("comfyui_input").display().to_string();
    docker(&[
        "run",
        "-d",
        "--name",
        "clara_n8n",
        "-v",
        &format!("{n8n_data}:/home/node/.n8n"),
        "clara-test/busybox:1",
        "sleep",
        "3600",
    ]);
    docker(&[
        "create",
        "--name",
        "clara_comfyui",
        "-v",
        &format!("{input}:/app/ComfyUI/input"),
        "clara-test/busybox:1",
        "sleep",
        "3600",
    ]);
    let legacy_mounts = mounts_of("clara_n8n");
    assert_eq!(running("clara_n8n"), "true");
    let before = old.checksums();

    let moved = old.migrate(&[], None);
    let cleanup = || {
        for name in [
            "clara_n8n",
            "clara_comfyui",
            "clara_n8n-electron",
            "clara_comfyui-electron",
        ] {
            docker(&["rm", "-f", name]);
        }
    };
    if !moved.status.success() {
        cleanup();
        panic!("{}", text(&moved.stderr));
    }
    let said = text(&moved.stdout);
    assert!(
        said.contains("the container clara_n8n is stopped and kept as clara_n8n-electron\n")
            && said.contains(
                "the container clara_comfyui is stopped and kept as clara_comfyui-electron\n"
            ),
        "{said}"
    );
    assert_eq!(running("clara_n8n-electron"), "false");
    assert_eq!(running("clara_comfyui-electron"), "false");
    assert_eq!(docker(&["ps", "-aq", "--filter", "name=^clara_n8n$"]), "");

    // Ours, from definitions written like the catalog's, mounts the same folder.
    let mut up = Up::start(
        old.home(),
        r#"
[services.docker]
engine = "docker"

[services.n8n]
image = "clara-test/busybox:1"
command = ["sleep", "3600"]
volumes = ["${CLARA_N8N_DATA:-${CLARA_HOME}/n8n}:/home/node/.n8n"]
"#,
    );
    up.wait_event("startup-complete");
    let ours = mounts_of("clara_n8n");
    kill(up.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(up.finish(), Some(0));
    assert_eq!(
        ours, legacy_mounts,
        "ours mounts other folders than the earlier app's"
    );

    // What Settings lists and removes: only what the move kept.
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let state = old.state();
    let last = migration::last_move(&state)
        .expect("readable")
        .expect("a move");
    assert_eq!(
        last.kept,
        vec![
            ("clara_n8n".to_string(), "clara_n8n-electron".to_string()),
            (
                "clara_comfyui".to_string(),
                "clara_comfyui-electron".to_string()
            ),
        ]
    );
    let refused = runtime
        .block_on(migration::remove_kept(&state, "clara_n8n", None))
        .expect_err("not kept by the move");
    assert_eq!(
        refused.to_string(),
        "clara_n8n is not a container that the move from the earlier app kept, so it is left alone"
    );
    runtime
        .block_on(migration::remove_kept(
            &state,
            "clara_comfyui-electron",
            None,
        ))
        .expect("removes the kept container");
    assert_eq!(
        docker(&["ps", "-aq", "--filter", "name=^clara_comfyui-electron$"]),
        ""
    );
    assert_eq!(
        migration::last_move(&state)
            .expect("readable")
            .expect("a move")
            .kept,
        vec![("clara_n8n".to_string(), "clara_n8n-electron".to_string())]
    );

    let undone = old.migrate(&["--undo"], None);
    let said = text(&undone.stdout);
    let labels = docker(&["inspect", "-f", "{{json .Config.Labels}}", "clara_n8n"]);
    let n8n_running = running("clara_n8n");
    let comfyui = docker(&["ps", "-aq", "--filter", "name=^clara_comfyui"]);
    cleanup();
    assert!(undone.status.success(), "{}", text(&undone.stderr));
    assert!(
        said.contains("the container clara_n8n has its name back\n")
            && !said.contains("clara_comfyui"),
        "{said}"
    );
    assert!(
        !labels.contains("claraverse"),
        "ours still holds the name: {labels}"
    );
    assert_eq!(n8n_running, "true", "the container that ran runs again");
    assert_eq!(comfyui, "", "the removed container stays removed");
    let mut after = old.checksums();
    after.remove(&old.home().join("services.toml"));
    assert_eq!(after, before, "no byte of the data changed");
}
