//! The move from the earlier, Electron ClaraVerse app: its features and its own servers
//! imported into the saved choices, its data used where it is (the catalog's folder
//! variables pointed at its folders), its MCP servers copied to where the MCP bridge reads
//! them (when that file is not there yet), and its containers stopped and kept under a new
//! name so that ours, with the same folders, take their place. Nothing of the user's is
//! moved or removed.
//!
//! Before anything changes, every settings file the move reads or writes is copied to
//! `STATE/backups/TIME/` with a manifest (each copy's SHA-256, and each container set
//! aside as it happens); [`undo`] puts the files back byte for byte and the containers
//! back under their names. Both run under the state directory's lock, never beside a
//! running supervisor.

pub mod legacy;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::definitions::Variables;
use crate::lock::{LockError, StateLock};
use crate::persist::{self, StateFiles};
use crate::runtime::docker::DockerEngine;
use crate::runtime::docker::legacy::{self as containers, LegacyContainer};
pub use legacy::{Found, LegacyPaths};

/// The folder of the state directory that keeps the moves' backups.
pub const BACKUPS_DIR: &str = "backups";
/// Each backup's description of itself.
const MANIFEST_FILE: &str = "manifest.json";
/// What a manifest says it is.
const FORMAT: &str = "claraverse-move";
/// The newest manifest version this build writes and reads.
const VERSION: u32 = 1;
/// The MCP bridge's servers file in `CLARA_HOME`, as the catalog's `mcp` service names it.
const MCP_SERVERS_FILE: &str = "mcp-servers.json";

/// What a move would do: what the earlier app left, and its containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovePlan {
    /// What its files say.
    pub found: Found,
    /// Its containers; `Err` says why Docker could not be asked.
    pub containers: Result<Vec<LegacyContainer>, String>,
    /// Where its MCP servers go: `CLARA_HOME/mcp-servers.json`.
    pub mcp_servers_file: PathBuf,
}

impl MovePlan {
    /// Looks at what the earlier app left at `paths`, and asks the Docker engine (at
    /// `docker_host`, else where it usually is) for its containers. Nothing is changed.
    /// Its MCP servers would go to `CLARA_HOME` as the environment sets it.
    pub async fn make(paths: &LegacyPaths, docker_host: Option<String>) -> MovePlan {
        let found = legacy::find(paths);
        let containers = match engine(docker_host).probe().await {
            Ok(connection) => Ok(containers::find(&connection.client).await),
            Err(error) => Err(error.message),
        };
        let mcp_servers_file = Variables::from_environment()
            .clara_home()
            .join(MCP_SERVERS_FILE);
        MovePlan {
            found,
            containers,
            mcp_servers_file,
        }
    }

    /// Whether the move copies the earlier app's MCP servers: it has some, and the MCP
    /// bridge has no servers file yet (one that exists is the user's, and stays).
    fn copies_mcp_servers(&self) -> bool {
        !self.found.mcp_servers.is_empty() && !self.mcp_servers_file.exists()
    }

    /// Whether anything of the earlier app is here.
    pub fn anything(&self) -> bool {
        self.found.anything() || self.containers.as_ref().is_ok_and(|c| !c.is_empty())
    }

    /// What the move does, one sentence per line.
    pub fn describe(&self) -> Vec<String> {
        let found = &self.found;
        let mut lines = vec![format!(
            "the earlier ClaraVerse app's settings are looked for in {} and its data in {}",
            found.paths.user_data.display(),
            found.paths.data.display()
        )];
        match &found.features {
            Some(features) if features.is_empty() => {
                lines.push("features: none were on; they stay off".into());
            }
            Some(features) => lines.push(format!(
                "features turned on as before: {}",
                features.iter().cloned().collect::<Vec<_>>().join(", ")
            )),
            None => lines.push("features: not found; you choose them".into()),
        }
        for (service, url) in &found.servers {
            lines.push(format!("{service} uses your own server at {url}"));
        }
        if !found.mcp_servers.is_empty() {
            let names = found.mcp_servers.join(", ");
            let target = self.mcp_servers_file.display();
            lines.push(if self.copies_mcp_servers() {
                format!("MCP servers ({names}) copied to {target}, which the MCP bridge serves")
            } else {
                format!(
                    "MCP servers ({names}) not copied: {target} exists already and is kept as it is"
                )
            });
        }
        for (variable, folder) in &found.folders {
            lines.push(format!(
                "data used where it is: {} ({variable})",
                folder.display()
            ));
        }
        match &self.containers {
            Ok(found) => {
                for container in found {
                    lines.push(format!(
                        "the container {} is stopped and kept as {}-electron (not removed); \
                         ClaraVerse makes its own {} with the same folders",
                        container.name, container.name, container.service
                    ));
                }
            }
            Err(why) => lines.push(format!(
                "the earlier app's containers could not be looked for ({why}); move again once \
                 Docker runs"
            )),
        }
        let files: Vec<String> = found
            .settings_files
            .iter()
            .map(|file| file.display().to_string())
            .collect();
        match files.as_slice() {
            [] => {}
            [one] => lines.push(format!(
                "first, {one} is backed up, so the move can be undone"
            )),
            [some @ .., last] => lines.push(format!(
                "first, {} and {last} are backed up, so the move can be undone",
                some.join(", ")
            )),
        }
        for note in &found.left_out {
            lines.push(format!("left out: {note}"));
        }
        lines
    }
}

/// Why a move or its undoing did not happen, or stopped.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    /// A supervisor runs on the state directory, or it cannot be used.
    #[error("{0}")]
    Lock(#[from] LockError),
    /// A file could not be read or written.
    #[error("cannot {action} {}: {why}", .path.display())]
    Io {
        /// `read`, `write`, `copy` or `remove`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// What the OS said.
        why: String,
    },
    /// The saved choices are damaged; they are left as they are.
    #[error("{0}; nothing was changed")]
    Choices(#[from] persist::StateFileError),
    /// There is no move that has not been undone.
    #[error("there is no move from the earlier app to undo in {}", .0.display())]
    NothingToUndo(PathBuf),
    /// The container is not one the latest move set aside, so it is not removed.
    #[error("{0} is not a container that the move from the earlier app kept, so it is left alone")]
    NotKept(String),
    /// Docker could not do what was asked.
    #[error("{0}")]
    Docker(String),
    /// A backup cannot be trusted.
    #[error("the backup in {} cannot be used ({why}); nothing was changed", .dir.display())]
    DamagedBackup {
        /// The backup's folder.
        dir: PathBuf,
        /// What is wrong.
        why: String,
    },
}

/// What a finished move did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Where the backup is.
    pub backup: PathBuf,
    /// The containers set aside: (name, kept as).
    pub kept: Vec<(String, String)>,
    /// What could not be done (the rest was), each in a sentence.
    pub problems: Vec<String>,
}

/// What an undo did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undone {
    /// The backup it restored.
    pub backup: PathBuf,
    /// The files put back.
    pub files: Vec<PathBuf>,
    /// The containers put back under their names.
    pub containers: Vec<String>,
    /// What could not be done, each in a sentence: an undo run again tries them again.
    pub problems: Vec<String>,
}

/// A backup's description: what was saved, and what was set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    format: String,
    version: u32,
    created: String,
    files: Vec<SavedFile>,
    containers: Vec<KeptContainer>,
    /// When the move was undone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    undone: Option<String>,
}

/// A settings file as it was before the move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SavedFile {
    /// Where it is.
    path: PathBuf,
    /// Its copy's name in the backup folder; `None` when it did not exist.
    copy: Option<String>,
    /// The SHA-256 of its bytes, checked before it is put back.
    sha256: Option<String>,
}

/// A container the move set aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeptContainer {
    name: String,
    kept_as: String,
    was_running: bool,
    /// Whether an undo has put it back.
    #[serde(default)]
    restored: bool,
    /// Whether the user removed it (it cannot be put back then).
    #[serde(default)]
    removed: bool,
}

/// Carries out `plan` on `state_dir` (its lock held as `holder`): backs up the settings
/// files, imports the features, servers and folders into the saved choices, then sets
/// the earlier app's containers aside. A container that cannot be set aside is said in
/// [`Moved::problems`]; the rest is done.
pub async fn carry_out(
    plan: &MovePlan,
    state_dir: &Path,
    holder: &str,
    docker_host: Option<String>,
) -> Result<Moved, MoveError> {
    let _lock = StateLock::acquire(state_dir, holder)?;
    let files = StateFiles::new(state_dir);
    let mut choices = files.read_choices()?;
    let backup = new_backup_dir(state_dir)?;
    let mut saved = Vec::new();
    let copies_mcp_servers = plan.copies_mcp_servers();
    let mut written = vec![files.choices_path()];
    if copies_mcp_servers {
        written.push(plan.mcp_servers_file.clone());
    }
    for (number, path) in plan.found.settings_files.iter().chain(&written).enumerate() {
        saved.push(save_copy(&backup, number, path)?);
    }
    let mut manifest = Manifest {
        format: FORMAT.to_string(),
        version: VERSION,
        created: persist::now_text(),
        files: saved,
        containers: Vec::new(),
        undone: None,
    };
    write_manifest(&backup, &manifest)?;

    if let Some(features) = &plan.found.features {
        choices.features = Some(features.clone());
    }
    choices.setup.folders.extend(plan.found.folders.clone());
    choices.setup.servers.extend(plan.found.servers.clone());
    files
        .write_choices(&choices)
        .map_err(io_error("write", &files.choices_path()))?;
    if copies_mcp_servers {
        copy_mcp_servers(&plan.found.paths, &plan.mcp_servers_file)?;
    }

    let mut moved = Moved {
        backup: backup.clone(),
        kept: Vec::new(),
        problems: Vec::new(),
    };
    let Ok(found) = &plan.containers else {
        return Ok(moved);
    };
    if found.is_empty() {
        return Ok(moved);
    }
    let client = match engine(docker_host).probe().await {
        Ok(connection) => connection.client,
        Err(error) => {
            moved.problems.push(format!(
                "the earlier app's containers were not set aside: {}",
                error.message
            ));
            return Ok(moved);
        }
    };
    for container in found {
        let kept_as = containers::free_name_for(&client, &container.name).await;
        match containers::set_aside(&client, &container.name, &kept_as).await {
            Ok(()) => {
                manifest.containers.push(KeptContainer {
                    name: container.name.clone(),
                    kept_as: kept_as.clone(),
                    was_running: container.running,
                    restored: false,
                    removed: false,
                });
                write_manifest(&backup, &manifest)?;
                moved.kept.push((container.name.clone(), kept_as));
            }
            Err(problem) => moved.problems.push(problem),
        }
    }
    Ok(moved)
}

/// Undoes the latest move on `state_dir` (its lock held as `holder`): every saved file is
/// checked against its SHA-256, then put back byte for byte (a file that did not exist is
/// removed); the containers set aside get their names back, ClaraVerse's own of the same
/// service removed first, and those that ran are started.
pub async fn undo(
    state_dir: &Path,
    holder: &str,
    docker_host: Option<String>,
) -> Result<Undone, MoveError> {
    let _lock = StateLock::acquire(state_dir, holder)?;
    let (backup, mut manifest) = latest_move(state_dir)?;
    let copies = verified_copies(&backup, &manifest)?;
    let mut undone = Undone {
        backup: backup.clone(),
        files: Vec::new(),
        containers: Vec::new(),
        problems: Vec::new(),
    };
    for (path, bytes) in copies {
        match bytes {
            Some(bytes) => {
                persist::write_atomically(&path, &bytes).map_err(io_error("write", &path))?;
            }
            None => match std::fs::remove_file(&path) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    return Err(io_error("remove", &path)(error));
                }
                _ => {}
            },
        }
        undone.files.push(path);
    }
    let waiting: Vec<usize> = (0..manifest.containers.len())
        .rev()
        .filter(|&index| {
            let kept = &manifest.containers[index];
            !kept.restored && !kept.removed
        })
        .collect();
    if !waiting.is_empty() {
        match engine(docker_host).probe().await {
            Ok(connection) => {
                for index in waiting {
                    let kept = &manifest.containers[index];
                    match containers::put_back(
                        &connection.client,
                        &kept.kept_as,
                        &kept.name,
                        kept.was_running,
                    )
                    .await
                    {
                        Ok(()) => {
                            undone.containers.push(kept.name.clone());
                            manifest.containers[index].restored = true;
                        }
                        Err(problem) => undone.problems.push(problem),
                    }
                }
            }
            Err(error) => undone.problems.push(format!(
                "the earlier app's containers keep their new names: {}; undo again once Docker runs",
                error.message
            )),
        }
    }
    if undone.problems.is_empty() {
        manifest.undone = Some(persist::now_text());
    }
    write_manifest(&backup, &manifest)?;
    Ok(undone)
}

/// The latest move that has not been undone, as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastMove {
    /// When it was made (RFC 3339).
    pub created: String,
    /// Its backup folder.
    pub backup: PathBuf,
    /// The containers it set aside that are still kept: (name, kept as).
    pub kept: Vec<(String, String)>,
}

/// The latest move on `state_dir` that has not been undone; `None` when there is none.
/// Reads only.
pub fn last_move(state_dir: &Path) -> Result<Option<LastMove>, MoveError> {
    match latest_move(state_dir) {
        Ok((backup, manifest)) => Ok(Some(LastMove {
            created: manifest.created,
            backup,
            kept: manifest
                .containers
                .into_iter()
                .filter(|kept| !kept.restored && !kept.removed)
                .map(|kept| (kept.name, kept.kept_as))
                .collect(),
        })),
        Err(MoveError::NothingToUndo(_)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Whether the latest move can be undone: its backup is there and every copy unchanged.
/// Reads only; [`undo`] checks again under the lock.
pub fn check_undo(state_dir: &Path) -> Result<(), MoveError> {
    let (backup, manifest) = latest_move(state_dir)?;
    verified_copies(&backup, &manifest).map(drop)
}

/// Removes the earlier app's container kept as `kept_as` by the latest move on
/// `state_dir`, once the user no longer wants it; any other container is refused. An undo
/// cannot put it back afterwards.
pub async fn remove_kept(
    state_dir: &Path,
    kept_as: &str,
    docker_host: Option<String>,
) -> Result<(), MoveError> {
    let (backup, mut manifest) = latest_move(state_dir)?;
    let Some(index) = manifest
        .containers
        .iter()
        .position(|kept| kept.kept_as == kept_as && !kept.restored && !kept.removed)
    else {
        return Err(MoveError::NotKept(kept_as.to_string()));
    };
    let connection = engine(docker_host)
        .probe()
        .await
        .map_err(|error| MoveError::Docker(error.message))?;
    containers::remove_kept(&connection.client, kept_as)
        .await
        .map_err(MoveError::Docker)?;
    manifest.containers[index].removed = true;
    write_manifest(&backup, &manifest)
}

/// A saved file's place, and the bytes to put back there (`None`: it did not exist).
type SavedBytes = (PathBuf, Option<Vec<u8>>);

/// Each saved file with the bytes to put back, every copy checked against its SHA-256
/// first.
fn verified_copies(backup: &Path, manifest: &Manifest) -> Result<Vec<SavedBytes>, MoveError> {
    let mut copies = Vec::new();
    for file in &manifest.files {
        let bytes = match (&file.copy, &file.sha256) {
            (Some(copy), Some(sha256)) => {
                let path = backup.join(copy);
                let bytes = std::fs::read(&path).map_err(|error| MoveError::DamagedBackup {
                    dir: backup.to_path_buf(),
                    why: format!("cannot read {copy}: {error}"),
                })?;
                if &hex_sha256(&bytes) != sha256 {
                    return Err(MoveError::DamagedBackup {
                        dir: backup.to_path_buf(),
                        why: format!("{copy} has changed since it was saved"),
                    });
                }
                Some(bytes)
            }
            _ => None,
        };
        copies.push((file.path.clone(), bytes));
    }
    Ok(copies)
}

/// Copies the earlier app's MCP servers file, byte for byte, to `target`.
fn copy_mcp_servers(paths: &LegacyPaths, target: &Path) -> Result<(), MoveError> {
    let source = paths.user_data.join(legacy::MCP_CONFIG);
    let bytes = std::fs::read(&source).map_err(io_error("read", &source))?;
    if let Some(folder) = target.parent() {
        std::fs::create_dir_all(folder).map_err(io_error("write", folder))?;
    }
    persist::write_atomically(target, &bytes).map_err(io_error("write", target))
}

/// An engine handle that only looks: no project, so no container is ever a stray.
fn engine(docker_host: Option<String>) -> DockerEngine {
    DockerEngine::new(docker_host, "", Default::default())
}

/// A new folder `STATE/backups/TIME` (`TIME-2`, … when taken).
fn new_backup_dir(state_dir: &Path) -> Result<PathBuf, MoveError> {
    let parent = state_dir.join(BACKUPS_DIR);
    persist::create_private_dir(&parent).map_err(io_error("write", &parent))?;
    let time = persist::now_for_file_name();
    let mut dir = parent.join(&time);
    let mut number = 2;
    loop {
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                dir = parent.join(format!("{time}-{number}"));
                number += 1;
            }
            Err(error) => return Err(io_error("write", &dir)(error)),
        }
    }
}

/// Copies `path` into `backup` as `NUMBER-NAME`, with its checksum; a file that does not
/// exist is recorded as such.
fn save_copy(backup: &Path, number: usize, path: &Path) -> Result<SavedFile, MoveError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok(SavedFile {
                path: path.to_path_buf(),
                copy: None,
                sha256: None,
            });
        }
        Err(error) => return Err(io_error("read", path)(error)),
    };
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let copy = format!("{number}-{name}");
    let target = backup.join(&copy);
    persist::write_atomically(&target, &bytes).map_err(io_error("copy", &target))?;
    Ok(SavedFile {
        path: path.to_path_buf(),
        copy: Some(copy),
        sha256: Some(hex_sha256(&bytes)),
    })
}

/// The newest backup whose move has not been undone, with its manifest.
fn latest_move(state_dir: &Path) -> Result<(PathBuf, Manifest), MoveError> {
    let parent = state_dir.join(BACKUPS_DIR);
    let mut dirs: Vec<PathBuf> = match std::fs::read_dir(&parent) {
        Ok(entries) => entries.flatten().map(|entry| entry.path()).collect(),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) => return Err(io_error("read", &parent)(error)),
    };
    dirs.sort();
    for dir in dirs.into_iter().rev() {
        let path = dir.join(MANIFEST_FILE);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let manifest: Manifest =
            serde_json::from_slice(&bytes).map_err(|error| MoveError::DamagedBackup {
                dir: dir.clone(),
                why: format!("its {MANIFEST_FILE} is damaged: {error}"),
            })?;
        if manifest.format != FORMAT || manifest.version > VERSION {
            return Err(MoveError::DamagedBackup {
                dir,
                why: format!("its {MANIFEST_FILE} is not a {FORMAT} version {VERSION} or older"),
            });
        }
        if manifest.undone.is_none() {
            return Ok((dir, manifest));
        }
    }
    Err(MoveError::NothingToUndo(parent))
}

fn write_manifest(backup: &Path, manifest: &Manifest) -> Result<(), MoveError> {
    let path = backup.join(MANIFEST_FILE);
    persist::write_json(&path, manifest).map_err(io_error("write", &path))
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Makes the error for a failed `action` on `path`.
fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> MoveError {
    let path = path.to_path_buf();
    move |error| MoveError::Io {
        action,
        path,
        why: error.to_string(),
    }
}
