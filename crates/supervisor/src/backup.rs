//! Backup and restore of what the user chose: the saved choices (`choices.json`) and the
//! desktop settings (`settings.json`) of a state directory, in one versioned file.
//!
//! A restore checks the whole file before it changes anything: a file that is not a
//! backup, is damaged, or was made by a newer version is refused with a sentence, and the
//! state directory stays as it was. It takes the directory's lock, so it never writes under
//! a running supervisor.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::lock::{LockError, StateLock};
use crate::persist::{self, Choices, StateFileError, StateFiles};

/// What the file says it is.
pub const FORMAT: &str = "claraverse-backup";
/// The newest backup version this build writes and reads.
pub const VERSION: u32 = 1;
/// The desktop settings' file in a state directory (owned by the app; kept as it is).
const SETTINGS_FILE: &str = "settings.json";

/// The backup file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Backup {
    /// Always [`FORMAT`].
    pub format: String,
    /// The version it was written in.
    pub version: u32,
    /// When it was made (RFC 3339).
    pub created: String,
    /// The saved choices: features, services stopped by hand.
    pub choices: Choices,
    /// The desktop settings, as the app saved them; absent when it never saved any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<serde_json::Value>,
}

/// Why a backup or a restore did not happen. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A state file could not be read or is damaged.
    #[error("{0}; nothing was backed up")]
    State(#[from] StateFileError),
    /// The desktop settings are damaged.
    #[error("{path} is damaged ({why}); nothing was backed up")]
    DamagedSettings {
        /// The settings file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The file could not be read or written.
    #[error("cannot {action} {path}: {why}; nothing was changed")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What the OS said.
        why: String,
    },
    /// The file is not a backup, or is damaged.
    #[error("{path} is not a ClaraVerse backup that can be read ({why}); nothing was changed")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        why: String,
    },
    /// The file was made by a newer version.
    #[error(
        "{path} was made by a newer ClaraVerse (backup version {version}; this one reads up to {VERSION}): update ClaraVerse to restore it; nothing was changed"
    )]
    Newer {
        /// The file.
        path: PathBuf,
        /// Its version.
        version: u32,
    },
    /// A supervisor runs on the state directory.
    #[error("{0}; nothing was changed")]
    Lock(#[from] LockError),
}

/// Writes the choices and settings of `state_dir` to `file`; returns what was written.
pub fn back_up(state_dir: &Path, file: &Path) -> Result<Backup, BackupError> {
    let choices = StateFiles::new(state_dir).read_choices()?;
    let settings_path = state_dir.join(SETTINGS_FILE);
    let settings =
        match std::fs::read(&settings_path) {
            Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(|error| {
                BackupError::DamagedSettings {
                    path: settings_path.clone(),
                    why: error.to_string(),
                }
            })?),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(io_failure("read", &settings_path)(error)),
        };
    let backup = Backup {
        format: FORMAT.to_string(),
        version: VERSION,
        created: persist::now_text(),
        choices,
        settings,
    };
    persist::write_json(file, &backup).map_err(io_failure("write", file))?;
    Ok(backup)
}

/// Reads and checks the backup in `file`, changing nothing.
pub fn read(file: &Path) -> Result<Backup, BackupError> {
    let bytes = std::fs::read(file).map_err(io_failure("read", file))?;
    let unreadable = |why: String| BackupError::Unreadable {
        path: file.to_path_buf(),
        why,
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|error| unreadable(error.to_string()))?;
    if value.get("format").and_then(serde_json::Value::as_str) != Some(FORMAT) {
        return Err(unreadable(format!("it has no \"format\": \"{FORMAT}\"")));
    }
    let version = value
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| unreadable("it has no version number".to_string()))?;
    if version > u64::from(VERSION) {
        return Err(BackupError::Newer {
            path: file.to_path_buf(),
            version: u32::try_from(version).unwrap_or(u32::MAX),
        });
    }
    serde_json::from_slice(&bytes).map_err(|error| unreadable(error.to_string()))
}

/// Puts the backup in `file` back into `state_dir`, once it is checked whole, with the
/// directory's lock held (`holder` names this program to a supervisor that starts
/// meanwhile). Returns what was restored.
pub fn restore(state_dir: &Path, file: &Path, holder: &str) -> Result<Backup, BackupError> {
    let backup = read(file)?;
    let _lock = StateLock::acquire(state_dir, holder)?;
    let files = StateFiles::new(state_dir);
    files
        .write_choices(&backup.choices)
        .map_err(io_failure("write", &files.choices_path()))?;
    if let Some(settings) = &backup.settings {
        let path = state_dir.join(SETTINGS_FILE);
        persist::write_json(&path, settings).map_err(io_failure("write", &path))?;
    }
    Ok(backup)
}

/// Makes the error for a failed `action` (`read`, `write`) on `path`.
fn io_failure(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BackupError {
    let path = path.to_path_buf();
    move |error| BackupError::Io {
        action,
        path,
        why: error.to_string(),
    }
}
