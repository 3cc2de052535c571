//! The state directory is private: made for the user only, its files unreadable by
//! others, no link planted in it ever followed, and one that belongs to someone else
//! refused with a sentence.

#![cfg(unix)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use nix::sys::signal::{Signal, kill};
use support::up::{Up, wait_timeout};
use support::{PATIENCE, eventually};

const CHATTY: &str = r#"
[services.chatty]
command = ["sh", "-c", "echo hello; echo ready; exec sleep 600"]
health = { log = "ready" }
"#;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_state_directory_and_its_files_are_the_users_only() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mut up = Up::start(dir.path(), CHATTY);
    up.wait_event("startup-complete");
    let state = dir.path().join("state");
    let log = state.join("logs/chatty.log");
    assert!(
        eventually(PATIENCE, || std::fs::read_to_string(&log)
            .is_ok_and(|text| text.contains("hello")))
        .await,
        "the log is written"
    );
    kill(up.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(up.finish(), Some(0));
    assert_eq!(mode(&state), 0o700);
    assert_eq!(mode(&state.join("logs")), 0o700);
    for file in [
        "lock",
        "mark",
        "choices.json",
        "processes.json",
        "logs/chatty.log",
    ] {
        assert_eq!(mode(&state.join(file)), 0o600, "{file}");
    }
}

#[tokio::test]
async fn a_link_planted_in_the_state_directory_is_never_written_through() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "mine\n").expect("writes");
    let logs = dir.path().join("state/logs");
    std::fs::create_dir_all(&logs).expect("makes the folders");
    std::os::unix::fs::symlink(&victim, logs.join("chatty.log")).expect("plants a link");

    let mut up = Up::start(dir.path(), CHATTY);
    up.wait_event("startup-complete");
    kill(up.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(up.finish(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&victim).expect("readable"),
        "mine\n",
        "the file the link points to is untouched"
    );
    let stderr = up.stderr();
    assert!(
        stderr.contains("cannot open the log file of chatty"),
        "and the user is told: {stderr}"
    );
}

#[tokio::test]
async fn a_state_directory_of_another_user_is_refused() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = dir.path().join("state");
    std::fs::create_dir_all(&state).expect("makes the folder");
    let nobody = nix::unistd::Uid::from_raw(65534);
    if nix::unistd::chown(&state, Some(nobody), None).is_err() {
        // Only root can give a folder away; a user's run cannot make this case.
        eprintln!("skipped: giving a folder to another user needs root");
        return;
    }
    let mut up = Up::start(dir.path(), CHATTY);
    let code = wait_timeout(&mut up.child, PATIENCE).expect("exits at once");
    assert_eq!(code, Some(1));
    assert_eq!(
        up.stderr().lines().last(),
        Some(
            format!(
                "error: cannot use the state directory {}: it belongs to another user (uid 65534); give this one a state directory of its own",
                state.display()
            )
            .as_str()
        )
    );
    assert_eq!(
        std::fs::read_dir(&state).expect("readable").count(),
        0,
        "nothing was written in it"
    );
}
