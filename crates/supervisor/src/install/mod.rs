//! A service's program, installed when this machine lacks it: downloaded with progress,
//! verified against its SHA-256, unpacked into a temporary folder beside its place and
//! moved there in one rename. A program folder is therefore complete or absent; what a
//! failed or killed download left is removed, now or at the next try.

mod download;
mod unpack;

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::definitions::{Checksum, Install};
use crate::runtime::PullProgress;

/// How long a download may receive nothing before it is given up.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The ending of a temporary folder a download unpacks into, beside the version folders.
const PARTIAL: &str = ".partial";

/// Downloads and installs programs; one HTTP client for all of them.
#[derive(Debug, Clone)]
pub struct Installer {
    /// The client, or why this machine cannot make one (no TLS support).
    client: Result<reqwest::Client, String>,
    stall: Duration,
}

/// What [`Installer::ensure`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The program was installed already.
    Present,
    /// It was downloaded and installed now.
    Installed,
}

/// Why a program could not be installed: a sentence naming what and where, and the
/// technical detail. Nothing of the download is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InstallError {
    /// What failed, for people.
    pub message: String,
    /// The underlying error, when there is one.
    pub detail: Option<String>,
}

impl InstallError {
    fn new(message: impl Into<String>) -> Self {
        InstallError {
            message: message.into(),
            detail: None,
        }
    }

    fn with_detail(mut self, detail: impl ToString) -> Self {
        self.detail = Some(detail.to_string());
        self
    }
}

impl Installer {
    /// An installer whose downloads give up after `stall` without receiving anything.
    pub fn new(stall: Duration) -> Installer {
        let client = reqwest::Client::builder()
            .user_agent(concat!("ClaraVerse/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(stall)
            .build()
            .map_err(|error| error.to_string());
        Installer { client, stall }
    }

    /// Makes sure `install`'s program is in its folder: nothing to do when it is there,
    /// else downloaded (progress to `progress`), verified and unpacked into place.
    pub async fn ensure(
        &self,
        install: &Install,
        progress: &mpsc::UnboundedSender<PullProgress>,
    ) -> Result<Outcome, InstallError> {
        if install.folder.is_dir() {
            return Ok(Outcome::Present);
        }
        let versions = install.folder.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(versions)
            .await
            .map_err(|error| cannot_write(install, versions, &error))?;
        remove_partials(versions).await;
        let work = versions.join(format!(
            ".{}-{}-{}{PARTIAL}",
            install.version,
            std::process::id(),
            fastrand::u32(..)
        ));
        let result = self.install_through(install, &work, progress).await;
        // Whatever happened, the work folder goes: a success moved the program out of it.
        let _ = tokio::fs::remove_dir_all(&work).await;
        result
    }

    async fn install_through(
        &self,
        install: &Install,
        work: &Path,
        progress: &mpsc::UnboundedSender<PullProgress>,
    ) -> Result<Outcome, InstallError> {
        let client = self.client.as_ref().map_err(|why| {
            InstallError::new(format!(
                "cannot download {} {}: this computer offers no secure connection",
                install.program, install.version
            ))
            .with_detail(why)
        })?;
        tokio::fs::create_dir_all(work)
            .await
            .map_err(|error| cannot_write(install, work, &error))?;
        let file = work.join("download");
        let what = format!(
            "the download of {} {} from {}",
            install.program, install.version, install.url
        );
        let fetch = download::Fetch {
            client,
            stall: self.stall,
            what: &what,
        };
        let sum = fetch.save(&install.url, &file, progress).await?;
        let expected = match &install.checksum {
            Checksum::Sha256(sum) => sum.clone(),
            Checksum::List(list) => {
                let what = format!(
                    "the checksums of {} {} at {list}",
                    install.program, install.version
                );
                download::Fetch {
                    what: &what,
                    ..fetch
                }
                .sum_listed(list, install.file_name())
                .await?
            }
        };
        if sum != expected {
            return Err(InstallError::new(format!(
                "{what} does not match its checksum, so it was not installed (expected SHA-256 {expected}, got {sum})"
            )));
        }
        let program = work.join("program");
        let (archive, name) = (install.archive, install.file_name().to_string());
        let unpacked = {
            let (file, program) = (file.clone(), program.clone());
            tokio::task::spawn_blocking(move || unpack::unpack(archive, &file, &program, &name))
                .await
                .unwrap_or_else(|error| Err(error.to_string()))
        };
        unpacked.map_err(|why| {
            InstallError::new(format!(
                "{what} could not be unpacked as a {} archive ({why})",
                install.archive.name()
            ))
        })?;
        match tokio::fs::rename(&program, &install.folder).await {
            Ok(()) => Ok(Outcome::Installed),
            // Another installer of the same version finished first: its copy is complete.
            Err(_) if install.folder.is_dir() => Ok(Outcome::Installed),
            Err(error) => Err(cannot_write(install, &install.folder, &error)),
        }
    }
}

/// Removes what earlier downloads left in `versions` (a killed download leaves its work
/// folder). Best effort: what cannot be removed now is tried again next time.
async fn remove_partials(versions: &Path) {
    let Ok(mut entries) = tokio::fs::read_dir(versions).await else {
        return;
    };
    let mut partials: Vec<PathBuf> = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(PARTIAL) {
            partials.push(entry.path());
        }
    }
    for partial in partials {
        let _ = tokio::fs::remove_dir_all(partial).await;
    }
}

fn cannot_write(install: &Install, path: &Path, error: &std::io::Error) -> InstallError {
    InstallError::new(format!(
        "cannot install {} {}: {} cannot be written ({error})",
        install.program,
        install.version,
        path.display()
    ))
}

/// An error and its causes, as one line.
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}
