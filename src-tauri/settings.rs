//! The desktop settings: whether closing the window keeps the services running, and
//! whether ClaraVerse starts at login. Kept in `settings.json` in the state directory,
//! beside the user's choices of features.

use std::path::{Path, PathBuf};

use clara_supervisor::persist;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The settings as saved. A setting the user never changed is absent, and takes its
/// default then.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedSettings {
    /// Closing the window hides it and the services keep running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_running_in_background: Option<bool>,
}

/// The settings as the UI shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Closing the window hides it; the services keep running (only with a tray, from
    /// which the window comes back).
    pub keep_running_in_background: bool,
    /// ClaraVerse starts when the user logs in.
    pub start_at_login: bool,
    /// This desktop shows ClaraVerse's tray icon.
    pub tray_available: bool,
}

/// The settings file of a state directory.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    /// `settings.json` in `state_dir`.
    pub fn new(state_dir: &Path) -> Self {
        SettingsFile {
            path: state_dir.join("settings.json"),
        }
    }

    /// The saved settings; defaults when there are none. A damaged file is reported by
    /// name and read as defaults (it is replaced at the next change).
    pub fn read(&self) -> SavedSettings {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|error| {
                log::warn!(
                    "{} is damaged ({error}): the defaults apply",
                    self.path.display()
                );
                SavedSettings::default()
            }),
            Err(_) => SavedSettings::default(),
        }
    }

    /// Saves `settings`, atomically.
    pub fn write(&self, settings: &SavedSettings) -> Result<(), String> {
        persist::write_json(&self.path, settings)
            .map_err(|error| format!("cannot save {}: {error}", self.path.display()))
    }
}

/// Whether closing the window keeps the services running: as the user chose, else on
/// wherever a tray can bring the window back; never without a tray.
pub fn keeps_running(saved: &SavedSettings, tray_available: bool) -> bool {
    tray_available && saved.keep_running_in_background.unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_keeps_running_by_default_only_with_a_tray() {
        let unset = SavedSettings::default();
        assert!(keeps_running(&unset, true));
        assert!(!keeps_running(&unset, false));
        let off = SavedSettings {
            keep_running_in_background: Some(false),
        };
        assert!(!keeps_running(&off, true));
        let on = SavedSettings {
            keep_running_in_background: Some(true),
        };
        assert!(!keeps_running(&on, false), "nothing could show it again");
    }

    #[test]
    fn settings_round_trip_and_a_damaged_file_reads_as_defaults() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let file = SettingsFile::new(dir.path());
        assert_eq!(file.read(), SavedSettings::default());
        let saved = SavedSettings {
            keep_running_in_background: Some(false),
        };
        file.write(&saved).expect("writes");
        assert_eq!(file.read(), saved);
        std::fs::write(dir.path().join("settings.json"), "{ nope").expect("writes");
        assert_eq!(file.read(), SavedSettings::default());
    }
}
