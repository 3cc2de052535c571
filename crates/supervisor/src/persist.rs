//! Small state files in the supervisor's state directory, written atomically (a temporary
//! file renamed over the old one) and readable only by the user (mode 0600 on Unix).
//!
//! - `choices.json`: what the user chose — the features, the services stopped by hand, and
//!   the setup (where data lives, which services are the user's own servers) — restored at
//!   the next start.
//! - `processes.json`: the native processes running now (pid, start time, process group),
//!   so that where processes carry no readable mark (macOS) the next start can clean up
//!   what a crashed run left, after checking each identity. No file when none runs.
//!
//! The directory's `lock` file, held while a supervisor runs, is [`crate::lock`]'s; its
//! `mark` file, the token in every mark of its runs, is `runtime::mark`'s.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::platform::Accelerator;

/// What the user chose, kept across restarts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Choices {
    /// The features the user turned on; `None` until the user chooses (then: the defaults).
    pub features: Option<BTreeSet<String>>,
    /// Services the user stopped by hand: they stay stopped.
    pub stopped: BTreeSet<String>,
    /// Where this installation's data lives, and whose servers it uses.
    #[serde(flatten)]
    pub setup: Setup,
}

/// The part of the choices that says where things are: folders chosen for data, and
/// services the user runs himself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Setup {
    /// Values for the definitions' folder variables (`CLARA_N8N_DATA` → a folder), used
    /// where the environment does not set them: how data stays where it already is.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub folders: BTreeMap<String, PathBuf>,
    /// Services the user runs himself: the service's name → the URL of the user's server.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub servers: BTreeMap<String, String>,
    /// The build of programs the user chose (`install.variants`); `None`: the best this
    /// machine can run. The environment's `CLARA_ACCELERATOR` wins over it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accelerator: Option<Accelerator>,
}

/// One running native process, as recorded for crash recovery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessRecord {
    /// The service it belongs to.
    pub service: String,
    /// Its process id.
    pub pid: u32,
    /// Its process group (Unix), the same as `pid`: each service leads its own group.
    pub process_group: Option<i32>,
    /// When it started (see `runtime::leftovers::start_time`): with the pid, the identity
    /// that is checked before anything is killed.
    pub start_time: u64,
}

/// A state file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateFileError {
    /// It is there, but is not what was written (cut short, edited, or another format).
    #[error("{} is damaged ({why})", .path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// It cannot be read.
    #[error("cannot read {}: {why}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        why: String,
    },
}

/// The user's choices, in the state directory.
const CHOICES_FILE: &str = "choices.json";
/// The running processes, in the state directory.
const PROCESSES_FILE: &str = "processes.json";
/// The files a state directory holds that are written with [`write_atomically`] (`mark` is
/// `runtime::mark`'s token file).
const STATE_FILE_NAMES: [&str; 3] = [CHOICES_FILE, PROCESSES_FILE, "mark"];

/// The files of one state directory.
#[derive(Debug, Clone)]
pub struct StateFiles {
    dir: PathBuf,
}

impl StateFiles {
    /// State files in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        StateFiles { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Removes the temporary files a crashed run left (`.choices.json.PID.tmp` and the
    /// like, see [`write_atomically`]). Only with the state directory's lock held: then no
    /// other writer can be using one.
    pub fn remove_stale_temporaries(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|name| {
                STATE_FILE_NAMES.iter().find_map(|file| {
                    name.strip_prefix(&format!(".{file}."))?
                        .strip_suffix(".tmp")
                })
            }) else {
                continue;
            };
            if pid.bytes().all(|byte| byte.is_ascii_digit()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// The user's choices: `choices.json`.
    pub fn choices_path(&self) -> PathBuf {
        self.dir.join(CHOICES_FILE)
    }

    fn processes_path(&self) -> PathBuf {
        self.dir.join(PROCESSES_FILE)
    }

    /// The user's choices; defaults when there is no file yet. A damaged file is an error
    /// naming it, so the caller can say so, keep it aside and go on with defaults.
    pub fn read_choices(&self) -> Result<Choices, StateFileError> {
        read_json(&self.choices_path()).map(Option::unwrap_or_default)
    }

    /// Moves a damaged state file aside, to `NAME.damaged-TIME` beside it, so that writing
    /// a new one loses nothing; returns where it went.
    pub fn keep_damaged(&self, path: &Path) -> io::Result<PathBuf> {
        let time = now_for_file_name();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kept = path.with_file_name(format!("{name}.damaged-{time}"));
        std::fs::rename(path, &kept)?;
        Ok(kept)
    }

    /// Saves the user's choices.
    pub fn write_choices(&self, choices: &Choices) -> io::Result<()> {
        write_json(&self.choices_path(), choices)
    }

    /// The processes a previous run left recorded.
    pub fn read_processes(&self) -> Result<Vec<ProcessRecord>, StateFileError> {
        read_json(&self.processes_path()).map(Option::unwrap_or_default)
    }

    /// Records the processes running now. None running is no file: removing one works
    /// even on a full disk, so a clean stop never leaves a stale record.
    pub fn write_processes(&self, records: &[ProcessRecord]) -> io::Result<()> {
        if records.is_empty() {
            return match std::fs::remove_file(self.processes_path()) {
                Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
                _ => Ok(()),
            };
        }
        write_json(&self.processes_path(), &records)
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, StateFileError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|error| StateFileError::Damaged {
                    path: path.to_path_buf(),
                    why: error.to_string(),
                })
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(StateFileError::Unreadable {
            path: path.to_path_buf(),
            why: error.to_string(),
        }),
    }
}

/// The time now, as the state files and backups write it: RFC 3339 to the second
/// (`2026-12-03T18:05:12Z`).
pub fn now_text() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// The time now as a file's name may hold it, `2026-12-03T18-05-12Z`: names made with it
/// sort by time, and hold no `:` (which Windows forbids).
pub fn now_for_file_name() -> String {
    now_text().replace(':', "-")
}

/// Writes `value` as pretty JSON to `path`, atomically (see [`write_atomically`]).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    write_atomically(path, &bytes)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`, so a
/// reader sees the old file or the new one, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    // Made new: whatever is at that name (a file left by a crash, a planted link) is
    // removed, never written through.
    match std::fs::remove_file(&temporary) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => return Err(error),
        _ => {}
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    private_and_not_through_links(&mut options);
    let mut file = options.open(&temporary)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            std::fs::rename(&temporary, path)
        });
    if written.is_err() {
        // A full disk: leave nothing half written behind.
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Creates `dir` and its parents; a new directory is readable by the user only (Unix).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Makes `options` create files readable by the user only and refuse to open a symbolic
/// link (Unix): a link planted in the state directory is never followed.
pub fn private_and_not_through_links(options: &mut std::fs::OpenOptions) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(nix::libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    let _ = options;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_round_trip_and_default_when_missing() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let files = StateFiles::new(dir.path().join("state"));
        assert_eq!(files.read_choices(), Ok(Choices::default()));
        let choices = Choices {
            features: Some(BTreeSet::from(["claraCore".to_string()])),
            stopped: BTreeSet::from(["n8n".to_string()]),
            setup: Setup {
                folders: BTreeMap::from([("CLARA_N8N_DATA".into(), "/home/u/.clara/n8n".into())]),
                servers: BTreeMap::from([("comfyui".into(), "http://gpu-box:8188".into())]),
                accelerator: Some(Accelerator::Vulkan),
            },
        };
        files.write_choices(&choices).expect("writes");
        let text = std::fs::read_to_string(files.choices_path()).expect("reads");
        assert!(text.contains(r#""accelerator": "vulkan""#), "{text}");
        assert_eq!(files.read_choices(), Ok(choices));
        // Choices saved before the setup existed still read, with an empty setup.
        std::fs::write(files.choices_path(), r#"{"features":null,"stopped":[]}"#).expect("writes");
        assert_eq!(files.read_choices(), Ok(Choices::default()));
    }

    #[cfg(unix)]
    #[test]
    fn state_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temporary folder");
        let files = StateFiles::new(dir.path());
        files.write_processes(&[record()]).expect("writes");
        let mode = std::fs::metadata(dir.path().join("processes.json"))
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    fn record() -> ProcessRecord {
        ProcessRecord {
            service: "a".into(),
            pid: 42,
            process_group: Some(42),
            start_time: 7,
        }
    }

    #[test]
    fn no_process_running_is_no_record() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let files = StateFiles::new(dir.path());
        files.write_processes(&[record()]).expect("writes");
        assert_eq!(files.read_processes(), Ok(vec![record()]));
        files.write_processes(&[]).expect("removes");
        assert!(!dir.path().join("processes.json").exists());
        assert_eq!(files.read_processes(), Ok(vec![]));
        files
            .write_processes(&[])
            .expect("nothing to remove is fine");
    }

    #[test]
    fn temporary_files_left_by_a_crash_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let names = [
            (".processes.json.4242.tmp", false),
            (".choices.json.7.tmp", false),
            (".mark.99.tmp", false),
            (".choices.json.x.tmp", true),
            (".notes.1.tmp", true),
            ("choices.json", true),
        ];
        for (name, _) in names {
            std::fs::write(dir.path().join(name), "x").expect("writes");
        }
        StateFiles::new(dir.path()).remove_stale_temporaries();
        for (name, kept) in names {
            assert_eq!(dir.path().join(name).exists(), kept, "{name}");
        }
    }

    #[test]
    fn a_damaged_file_is_named() {
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::write(dir.path().join("choices.json"), "{ not json").expect("writes");
        let error = StateFiles::new(dir.path())
            .read_choices()
            .expect_err("damaged")
            .to_string();
        assert!(
            error.starts_with(&format!(
                "{} is damaged (",
                dir.path().join("choices.json").display()
            )),
            "{error}"
        );
    }
}
