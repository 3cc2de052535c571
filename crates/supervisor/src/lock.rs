//! One supervisor per state directory.
//!
//! A supervisor holds an exclusive lock on `STATE_DIR/lock` for as long as it runs, and
//! writes its pid and name into the file. A second supervisor on the same directory fails
//! to take the lock and refuses with a sentence that names the first, before it reads,
//! writes or kills anything. The operating system releases the lock when the holder's
//! process ends in any way (even SIGKILL), so a crash never leaves a stale lock behind.
//!
//! The lock file is never deleted: a process could otherwise lock an unlinked file while
//! another creates and locks a new one, and both would run.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The name used for a holder that did not write its own.
const UNKNOWN_HOLDER: &str = "ClaraVerse";

/// How often, and how long apart, a holder's name is read again when it is still being
/// written (the holder locks the file first, then writes it).
const READ_TRIES: u32 = 5;
const READ_PAUSE: Duration = Duration::from_millis(20);

/// Why the state directory cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// Another supervisor holds the lock.
    #[error(
        "{holder} is already running{}; quit it first, or give this one another state directory than {}",
        .pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default(),
        .dir.display()
    )]
    Held {
        /// The holder's name, as it wrote it ("ClaraVerse" when it cannot be read).
        holder: String,
        /// The holder's process id, when it can be read (a locked file cannot be read on
        /// Windows).
        pid: Option<u32>,
        /// The state directory.
        dir: PathBuf,
    },
    /// The directory or the lock file cannot be created, opened, locked or written.
    #[error("cannot use the state directory {}: {reason}", .dir.display())]
    Unusable {
        /// The state directory.
        dir: PathBuf,
        /// What the operating system said.
        reason: String,
    },
}

/// The exclusive lock on a state directory; released when dropped, or by the operating
/// system when the process ends.
#[derive(Debug)]
pub struct StateLock {
    /// The locked file: the lock lives as long as this handle.
    file: File,
    path: PathBuf,
}

impl StateLock {
    /// The name of the lock file inside the state directory.
    pub const FILE_NAME: &'static str = "lock";

    /// Takes the lock on `state_dir` (created, private to the user, when missing) for
    /// `holder`, a name a second supervisor can show ("ClaraVerse", "clara-supervisor").
    /// Never waits: a lock held by someone else is [`LockError::Held`] at once.
    pub fn acquire(state_dir: &Path, holder: &str) -> Result<StateLock, LockError> {
        let unusable = |error: std::io::Error| LockError::Unusable {
            dir: state_dir.to_path_buf(),
            reason: error.to_string(),
        };
        crate::persist::create_private_dir(state_dir).map_err(unusable)?;
        check_owner(state_dir).map_err(|reason| LockError::Unusable {
            dir: state_dir.to_path_buf(),
            reason,
        })?;
        let path = state_dir.join(Self::FILE_NAME);
        let mut options = OpenOptions::new();
        // Not truncated on open: the holder's name must survive until the lock is ours.
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        crate::persist::private_and_not_through_links(&mut options);
        let mut file = options.open(&path).map_err(unusable)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let (holder, pid) = read_holder(&path);
                return Err(LockError::Held {
                    holder,
                    pid,
                    dir: state_dir.to_path_buf(),
                });
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(unusable(error)),
        }
        write_holder(&mut file, holder).map_err(unusable)?;
        Ok(StateLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first says so explicitly,
        // and an error here leaves nothing to do.
        let _ = self.file.unlock();
    }
}

/// Refuses a state directory that belongs to another user (Unix): its files would be
/// theirs to change under us.
fn check_owner(dir: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(dir)
            .map_err(|error| error.to_string())?
            .uid();
        if owner != nix::unistd::geteuid().as_raw() {
            return Err(format!(
                "it belongs to another user (uid {owner}); give this one a state directory of its own"
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Replaces the file's contents with two lines: the pid, then the holder's name.
fn write_holder(file: &mut File, holder: &str) -> std::io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    let name = holder.lines().next().unwrap_or_default();
    file.write_all(format!("{}\n{name}\n", std::process::id()).as_bytes())?;
    file.flush()
}

/// The holder's name and pid as written in the lock file. The holder writes them just
/// after locking, so a file that is still empty or half written is read again shortly.
fn read_holder(path: &Path) -> (String, Option<u32>) {
    let mut parsed = (UNKNOWN_HOLDER.to_string(), None);
    for attempt in 0..READ_TRIES {
        if attempt > 0 {
            std::thread::sleep(READ_PAUSE);
        }
        let mut text = String::new();
        // A file locked by another process cannot be read on Windows: nothing to wait for.
        let Ok(_) = File::open(path).and_then(|mut file| file.read_to_string(&mut text)) else {
            break;
        };
        let (found, complete) = parse_holder(&text);
        parsed = found;
        if complete {
            break;
        }
    }
    parsed
}

/// Parses `PID\nNAME\n`; also says whether both lines were complete.
fn parse_holder(text: &str) -> ((String, Option<u32>), bool) {
    let mut lines = text.split_terminator('\n');
    let pid = lines.next().and_then(|line| line.trim().parse().ok());
    let name = lines
        .next()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_string);
    let complete = pid.is_some() && name.is_some() && text.ends_with('\n');
    (
        (name.unwrap_or_else(|| UNKNOWN_HOLDER.to_string()), pid),
        complete,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_names_the_holder_its_pid_and_the_directory() {
        let error = LockError::Held {
            holder: "clara-supervisor".to_string(),
            pid: Some(4242),
            dir: PathBuf::from("/home/u/.local/share/ClaraVerse/state"),
        };
        assert_eq!(
            error.to_string(),
            "clara-supervisor is already running (pid 4242); quit it first, or give this one \
             another state directory than /home/u/.local/share/ClaraVerse/state"
        );
    }

    #[test]
    fn held_without_a_readable_pid_leaves_it_out() {
        let error = LockError::Held {
            holder: "ClaraVerse".to_string(),
            pid: None,
            dir: PathBuf::from(r"C:\Users\u\AppData\Roaming\ClaraVerse\state"),
        };
        assert_eq!(
            error.to_string(),
            r"ClaraVerse is already running; quit it first, or give this one another state directory than C:\Users\u\AppData\Roaming\ClaraVerse\state"
        );
    }

    #[test]
    fn unusable_says_why() {
        let error = LockError::Unusable {
            dir: PathBuf::from("/srv/state"),
            reason: "Permission denied (os error 13)".to_string(),
        };
        assert_eq!(
            error.to_string(),
            "cannot use the state directory /srv/state: Permission denied (os error 13)"
        );
    }

    #[test]
    fn the_holder_file_is_read_back() {
        assert_eq!(
            parse_holder("4242\nClaraVerse\n"),
            (("ClaraVerse".to_string(), Some(4242)), true)
        );
        assert_eq!(
            parse_holder("4242\nclara-supervisor\n"),
            (("clara-supervisor".to_string(), Some(4242)), true)
        );
        assert_eq!(parse_holder(""), (("ClaraVerse".to_string(), None), false));
        assert_eq!(
            parse_holder("4242\n"),
            (("ClaraVerse".to_string(), Some(4242)), false)
        );
        assert_eq!(
            parse_holder("not a pid\nx\n"),
            (("x".to_string(), None), false)
        );
    }

    #[test]
    fn a_second_lock_in_the_same_process_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let state = dir.path().join("new/state");
        let first = StateLock::acquire(&state, "first").expect("locks");
        assert_eq!(first.path(), state.join("lock"));
        let refused = StateLock::acquire(&state, "second").expect_err("already held");
        assert_eq!(
            refused,
            LockError::Held {
                holder: "first".to_string(),
                pid: if cfg!(windows) {
                    None
                } else {
                    Some(std::process::id())
                },
                dir: state.clone(),
            }
        );
        drop(first);
        let again = StateLock::acquire(&state, "second").expect("free again");
        drop(again);
        assert_eq!(
            std::fs::read_to_string(state.join("lock")).expect("readable"),
            format!("{}\nsecond\n", std::process::id())
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_new_state_directory_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("a temporary folder");
        let state = dir.path().join("state");
        let _lock = StateLock::acquire(&state, "test").expect("locks");
        let mode = |path: &Path| {
            std::fs::metadata(path)
                .expect("exists")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&state.join("lock")), 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn a_directory_that_cannot_be_made_is_unusable() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").expect("writes");
        let state = file.join("state");
        let error = StateLock::acquire(&state, "test").expect_err("not a directory");
        assert_eq!(
            error.to_string(),
            format!(
                "cannot use the state directory {}: Not a directory (os error 20)",
                state.display()
            )
        );
    }
}
