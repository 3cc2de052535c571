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
    assert!(
        eventually(PATIENCE, || state.join("processes.json").exists()).await,
        "the running processes are recorded"
    );
    assert_eq!(mode(&state.join("processes.json")), 0o600);
    kill(up.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(up.finish(), Some(0));
    assert_eq!(mode(&state), 0o700);
    assert_eq!(mode(&state.join("logs")), 0o700);
    for file in ["lock", "mark", "choices.json", "logs/chatty.log"] {
        assert_eq!(mode(&state.join(file)), 0o600, "{file}");
    }
    assert!(
        !state.join("processes.json").exists(),
        "nothing runs: nothing is recorded"
    );
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

/// A small file system of its own (tmpfs), unmounted when dropped.
#[cfg(target_os = "linux")]
struct SmallDisk(std::path::PathBuf);

#[cfg(target_os = "linux")]
impl SmallDisk {
    /// Mounts 512 KiB at `path`; `None` where mounting is not allowed (not root).
    fn mount(path: &Path) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).expect("makes the mount point");
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=512k,mode=0700", "tmpfs"])
            .arg(path)
            .status()
            .is_ok_and(|status| status.success());
        mounted.then(|| SmallDisk(path.to_path_buf()))
    }

    /// Fills it up; returns the file that fills it.
    fn fill(&self) -> std::path::PathBuf {
        let filler = self.0.join("filler");
        let mut file = std::fs::File::create(&filler).expect("creates the filler");
        let block = vec![0u8; 64 * 1024];
        while std::io::Write::write_all(&mut file, &block).is_ok() {}
        filler
    }
}

#[cfg(target_os = "linux")]
impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_full_disk_is_said_and_logs_resume_when_space_returns() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = dir.path().join("state");
    let Some(disk) = SmallDisk::mount(&state) else {
        eprintln!("skipped: mounting a small file system needs root");
        return;
    };
    let mut up = Up::start(
        dir.path(),
        r#"
[services.chatty]
command = ["sh", "-c", "echo ready; i=0; while true; do i=$$((i+1)); echo line $$i; sleep 0.02; done"]
health = { log = "ready" }
"#,
    );
    up.wait_event("startup-complete");
    let log = state.join("logs/chatty.log");
    let size = || std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
    let filler = disk.fill();
    // Full: the log stops growing.
    let mut last = size();
    let stalled = eventually(PATIENCE, || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let now = size();
        std::mem::replace(&mut last, now) == now
    })
    .await;
    assert!(stalled, "the log stopped growing on the full disk");
    // The service's card is told, once, and again when it is over.
    let said = up.wait_event("log-writing");
    assert_eq!(
        (&said["name"], &said["problem"]),
        (
            &serde_json::json!("chatty"),
            &serde_json::json!("cannot write logs: disk full; the latest lines are kept in memory")
        )
    );
    std::fs::remove_file(&filler).expect("frees the space");
    let stalled_at = size();
    assert!(
        eventually(PATIENCE, || size() > stalled_at).await,
        "the log grows again once there is space"
    );
    let over = up.wait_event("log-writing");
    assert!(over["problem"].is_null(), "{over}");
    kill(up.pid(), Signal::SIGTERM).expect("signals");
    assert_eq!(up.finish(), Some(0));
    let stderr = up.stderr();
    assert!(
        stderr.contains(
            "chatty.log: cannot write logs: disk full; the latest lines are kept in memory"
        ) && stderr.contains("chatty.log: writing logs again"),
        "{stderr}"
    );
    let left: Vec<String> = std::fs::read_dir(&state)
        .expect("readable")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name == "processes.json" || name.ends_with(".tmp"))
        .collect();
    assert!(
        left.is_empty(),
        "no stale record, no temporary file: {left:?}"
    );
}
