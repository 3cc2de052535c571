//! Programs the user already has: a folder checked before it takes the place of the
//! download (each program is there and answers `--version`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::definitions::{Prepare, RuntimeKind, Service};
use crate::runtime::helper_command;

/// How long a program may take to say its version.
const VERSION_WITHIN: Duration = Duration::from_secs(10);

/// The programs `service` runs from its program folder, relative to it: its command's
/// program and, when it prepares a llama-swap config, the llama.cpp server.
pub fn programs_of(service: &Service) -> Vec<PathBuf> {
    let Some(programs) = &service.programs else {
        return Vec::new();
    };
    let command = match &service.runtime {
        RuntimeKind::Process { command } => command.first(),
        _ => None,
    };
    let server = service
        .prepare
        .as_ref()
        .map(|Prepare::LlamaSwapConfig { server, .. }| server);
    command
        .into_iter()
        .chain(server)
        .filter_map(|program| Path::new(program).strip_prefix(&programs.folder).ok())
        .map(Path::to_path_buf)
        .collect()
}

/// Checks that `folder` holds the programs of `service` and that each runs: what each
/// says of its version, or a sentence saying what is wrong.
pub async fn check_folder(service: &Service, folder: &Path) -> Result<Vec<String>, String> {
    let programs = programs_of(service);
    if programs.is_empty() {
        return Err(format!(
            "{} has no programs of its own to take from a folder",
            service.name
        ));
    }
    if !folder.is_dir() {
        return Err(format!("{} is not a folder", folder.display()));
    }
    let mut versions = Vec::new();
    for program in programs {
        let path = folder.join(&program);
        if !path.is_file() {
            return Err(format!(
                "{} has no {}: {} needs it there",
                folder.display(),
                program.display(),
                service.name
            ));
        }
        versions.push(version_of(&path).await?);
    }
    Ok(versions)
}

/// The first line `PROGRAM --version` prints, with the program's name.
async fn version_of(path: &Path) -> Result<String, String> {
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut command = helper_command(&path.to_string_lossy());
    command.arg("--version").kill_on_drop(true);
    let output = tokio::time::timeout(VERSION_WITHIN, command.output())
        .await
        .map_err(|_| format!("{} --version did not answer within 10 s", path.display()))?
        .map_err(|error| format!("{} does not run ({error})", path.display()))?;
    let said = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .map(str::to_string)
    };
    let line = said(&output.stdout).or_else(|| said(&output.stderr));
    if !output.status.success() {
        return Err(format!(
            "{} --version failed ({}){}",
            path.display(),
            output.status,
            line.map(|line| format!(": {line}")).unwrap_or_default()
        ));
    }
    Ok(format!(
        "{name}: {}",
        line.unwrap_or_else(|| "runs".to_string())
    ))
}

/// Why a choice of folder could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveFolderError {
    /// A supervisor holds the state directory.
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
    /// The choices could not be read or written.
    #[error("{0}")]
    Choices(String),
}

/// Saves in the choices of `state_dir` that the folder variable `variable` names `folder`
/// (`None`: an empty folder, the programs are downloaded), under the state lock. It applies
/// at the next start.
pub fn save_folder(
    state_dir: &Path,
    variable: &str,
    folder: Option<&Path>,
    holder: &str,
) -> Result<(), SaveFolderError> {
    let _lock = crate::lock::StateLock::acquire(state_dir, holder)?;
    let files = crate::persist::StateFiles::new(state_dir);
    let mut choices = files
        .read_choices()
        .map_err(|error| SaveFolderError::Choices(error.to_string()))?;
    // An empty folder says "downloaded" on purpose: not the programs the app ships either.
    choices.setup.folders.insert(
        variable.to_string(),
        folder.map(Path::to_path_buf).unwrap_or_default(),
    );
    files.write_choices(&choices).map_err(|error| {
        SaveFolderError::Choices(format!(
            "cannot write {} ({error})",
            files.choices_path().display()
        ))
    })
}
