//! `clara-supervisor backup` and `restore`: the choices come back as they were; a file that
//! is damaged, not a backup or from a newer version is refused and nothing changes; a
//! restore never writes under a running supervisor.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use clara_supervisor::lock::StateLock;
use clara_supervisor::persist::{Choices, Setup, StateFiles};
use clara_supervisor::platform::Accelerator;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clara-supervisor"))
        .args(args)
        .output()
        .expect("the CLI binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

fn chosen() -> Choices {
    Choices {
        features: Some(BTreeSet::from(["claraCore".to_string(), "n8n".to_string()])),
        stopped: BTreeSet::from(["comfyui".to_string()]),
        setup: Setup {
            folders: BTreeMap::from([("CLARA_N8N_DATA".into(), "/home/u/.clara/n8n".into())]),
            servers: BTreeMap::from([("comfyui".into(), "http://gpu-box:8188".into())]),
            accelerator: Some(Accelerator::Cpu),
        },
    }
}

/// A state directory with choices and desktop settings, as the app leaves it.
fn state_with_choices(dir: &Path) -> std::path::PathBuf {
    let state = dir.join("state");
    StateFiles::new(&state)
        .write_choices(&chosen())
        .expect("writes");
    std::fs::write(
        state.join("settings.json"),
        r#"{ "keepRunningInBackground": false }"#,
    )
    .expect("writes");
    state
}

#[test]
fn a_backup_restored_elsewhere_gives_back_the_same_choices() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = state_with_choices(dir.path());
    let file = dir.path().join("clara.backup.json");
    let output = run(&["backup", path(&file), "--state-dir", path(&state)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        format!(
            "saved the choices of {} to {}: features claraCore, n8n; stopped by hand: comfyui; desktop settings\n",
            state.display(),
            file.display()
        )
    );

    let elsewhere = dir.path().join("new-state");
    let output = run(&["restore", path(&file), "--state-dir", path(&elsewhere)]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let said = text(&output.stdout);
    assert!(
        said.starts_with(&format!("restored {} (made ", file.display()))
            && said.ends_with(&format!(
                ") into {}: features claraCore, n8n; stopped by hand: comfyui; desktop settings; they apply at the next start\n",
                elsewhere.display()
            )),
        "{said}"
    );
    assert_eq!(StateFiles::new(&elsewhere).read_choices(), Ok(chosen()));
    let settings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(elsewhere.join("settings.json")).expect("restored"))
            .expect("JSON");
    assert_eq!(
        settings,
        serde_json::json!({ "keepRunningInBackground": false })
    );
}

/// Restores `contents` over a state directory with choices; returns the CLI's stderr and
/// exit code after checking that nothing changed.
fn refused_restore(contents: &str) -> (String, Option<i32>, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = state_with_choices(dir.path());
    let before = std::fs::read(state.join("choices.json")).expect("exists");
    let file = dir.path().join("clara.backup.json");
    std::fs::write(&file, contents).expect("writes");
    let output = run(&["restore", path(&file), "--state-dir", path(&state)]);
    assert_eq!(
        std::fs::read(state.join("choices.json")).expect("still there"),
        before,
        "nothing changed"
    );
    // The folder goes with this function; the path is only for the message.
    (text(&output.stderr), output.status.code(), file)
}

#[test]
fn a_damaged_file_is_refused_and_nothing_changes() {
    let (stderr, code, file) = refused_restore(r#"{ "format": "claraverse-backup", "versi"#);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "error: {} is not a ClaraVerse backup that can be read (EOF while parsing a string at line 1 column 39); nothing was changed\n",
            file.display()
        )
    );
}

#[test]
fn a_file_that_is_no_backup_is_refused_and_nothing_changes() {
    let (stderr, code, file) = refused_restore(r#"{ "features": ["n8n"] }"#);
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "error: {} is not a ClaraVerse backup that can be read (it has no \"format\": \"claraverse-backup\"); nothing was changed\n",
            file.display()
        )
    );
}

#[test]
fn a_backup_from_a_newer_version_is_refused_and_nothing_changes() {
    let (stderr, code, file) = refused_restore(
        r#"{ "format": "claraverse-backup", "version": 2, "created": "2030-01-01T00:00:00Z",
             "choices": { "features": null, "stopped": [] }, "somethingNew": 1 }"#,
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        stderr,
        format!(
            "error: {} was made by a newer ClaraVerse (backup version 2; this one reads up to 1): update ClaraVerse to restore it; nothing was changed\n",
            file.display()
        )
    );
}

#[test]
fn a_restore_under_a_running_supervisor_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = state_with_choices(dir.path());
    let file = dir.path().join("clara.backup.json");
    assert!(
        run(&["backup", path(&file), "--state-dir", path(&state)])
            .status
            .success()
    );
    StateFiles::new(&state)
        .write_choices(&Choices::default())
        .expect("writes");
    let _running = StateLock::acquire(&state, "ClaraVerse").expect("locks");
    let output = run(&["restore", path(&file), "--state-dir", path(&state)]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: ClaraVerse is already running (pid {}); quit it first, or give this one another state directory than {}; nothing was changed\n",
            std::process::id(),
            state.display()
        )
    );
    assert_eq!(
        StateFiles::new(&state).read_choices(),
        Ok(Choices::default())
    );
}

#[test]
fn damaged_choices_are_not_backed_up() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).expect("creates");
    std::fs::write(state.join("choices.json"), "{ not json").expect("writes");
    let file = dir.path().join("clara.backup.json");
    let output = run(&["backup", path(&file), "--state-dir", path(&state)]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: {} is damaged (key must be a string at line 1 column 3); nothing was backed up\n",
            state.join("choices.json").display()
        )
    );
    assert!(!file.exists(), "no backup file is written");
}
