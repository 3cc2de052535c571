//! Settings → Your choices: backups of the user's choices (`clara-supervisor backup`'s
//! format) saved to, and restored from, one folder the user can find: "ClaraVerse
//! backups" in the documents folder (the home folder where the system names none).
//! A restore goes through the running manager, which holds the state directory.

use std::path::{Path, PathBuf};

use clara_supervisor::backup::{self, Backup};
use clara_supervisor::manager::Manager;
use clara_supervisor::persist;
use serde::Serialize;
use ts_rs::TS;

use crate::settings::{SavedSettings, SettingsFile};

/// The folder's name, in the documents folder.
const FOLDER: &str = "ClaraVerse backups";

/// A backup file in the folder.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct BackupFile {
    /// Its file name.
    pub name: String,
    /// Its full path, to restore it.
    pub path: String,
}

/// Where backups go: "ClaraVerse backups" in the documents folder, else in the home
/// folder; `None` when the system names neither.
pub fn folder() -> Option<PathBuf> {
    Some(dirs::document_dir().or_else(dirs::home_dir)?.join(FOLDER))
}

/// Saves the choices and desktop settings of `state_dir` to a new file in the folder;
/// returns the sentence to show.
pub fn save(state_dir: &Path) -> Result<String, String> {
    let folder = folder().ok_or("this system names no folder for documents")?;
    let file = folder.join(format!(
        "ClaraVerse choices {}.json",
        persist::now_for_file_name()
    ));
    backup::back_up(state_dir, &file).map_err(|error| error.to_string())?;
    Ok(format!("Saved to {}.", file.display()))
}

/// The backup files in the folder, newest first (by name, which starts with the time).
pub fn list() -> Vec<BackupFile> {
    let Some(folder) = folder() else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return Vec::new();
    };
    let mut files: Vec<BackupFile> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .filter_map(|path| {
            Some(BackupFile {
                name: path.file_name()?.to_string_lossy().into_owned(),
                path: path.display().to_string(),
            })
        })
        .collect();
    files.sort_by(|a, b| b.name.cmp(&a.name));
    files
}

/// Restores the backup in `file`, once checked whole: the choices through `manager` (at
/// once), the desktop settings into `state_dir`. Returns the sentence to show; a file
/// that is damaged, not a backup or from a newer version changes nothing.
pub async fn restore(manager: &Manager, state_dir: &Path, file: &Path) -> Result<String, String> {
    let Backup {
        created,
        choices,
        settings,
        ..
    } = backup::read(file).map_err(|error| error.to_string())?;
    let saved_settings = match settings {
        Some(value) => Some(
            serde_json::from_value::<SavedSettings>(value).map_err(|error| {
                format!(
                    "the desktop settings in {} cannot be read ({error}); nothing was changed",
                    file.display()
                )
            })?,
        ),
        None => None,
    };
    let folders_changed = manager
        .restore_choices(choices)
        .await
        .map_err(|error| error.to_string())?;
    if let Some(saved) = saved_settings {
        SettingsFile::new(state_dir).write(&saved)?;
    }
    let mut said = format!("Restored the choices saved on {created}.");
    if folders_changed {
        said.push_str(" The data folders apply when ClaraVerse starts next.");
    }
    Ok(said)
}
