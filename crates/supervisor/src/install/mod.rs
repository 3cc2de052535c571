//! A service's program, installed when this machine lacks it: downloaded with progress,
//! verified against its SHA-256, unpacked into a temporary folder beside its place and
//! moved there in one rename. A program folder is therefore complete or absent; what a
//! failed or killed download left is removed, now or at the next try.

mod chosen;
mod download;
mod unpack;

pub use chosen::{SaveFolderError, check_folder, programs_of, save_folder};

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::definitions::{Checksum, Download, Install};
use crate::runtime::PullProgress;

/// How long a download may receive nothing before it is given up.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The ending of a temporary folder a download unpacks into, beside the version folders.
const PARTIAL: &str = ".partial";

/// Downloads and installs programs; one HTTP client for all of them, made at the first
/// download (loading TLS and the system's certificates costs memory a supervisor whose
/// programs are all there never needs).
#[derive(Debug, Clone)]
pub struct Installer {
    /// The client once made, or why this machine cannot make one (no TLS support).
    client: Arc<OnceLock<Result<reqwest::Client, String>>>,
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
        Installer {
            client: Arc::default(),
            stall,
        }
    }

    /// The HTTP client, made the first time it is needed.
    fn client(&self) -> &Result<reqwest::Client, String> {
        self.client.get_or_init(|| {
            crate::http_client::build(|builder| {
                builder
                    .user_agent(concat!("ClaraVerse/", env!("CARGO_PKG_VERSION")))
                    .connect_timeout(self.stall)
            })
            .map_err(|error| error.to_string())
        })
    }

    /// Makes sure `install`'s programs are in their folder: nothing to do when it is
    /// there, else each part downloaded (progress to `progress`), verified and unpacked,
    /// then all of them moved into place at once.
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
            .map_err(|error| cannot_write(versions, &error))?;
        remove_partials(versions).await;
        let name = install
            .folder
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let work = versions.join(format!(
            ".{name}-{}-{}{PARTIAL}",
            std::process::id(),
            fastrand::u32(..)
        ));
        let result = self.install_through(install, &work, progress).await;
        // Whatever happened, the work folder goes: a success moved the programs out of it.
        let _ = tokio::fs::remove_dir_all(&work).await;
        result
    }

    async fn install_through(
        &self,
        install: &Install,
        work: &Path,
        progress: &mpsc::UnboundedSender<PullProgress>,
    ) -> Result<Outcome, InstallError> {
        let programs = work.join("programs");
        tokio::fs::create_dir_all(&programs)
            .await
            .map_err(|error| cannot_write(work, &error))?;
        for (index, part) in install.parts.iter().enumerate() {
            let file = work.join(format!("download-{index}"));
            let into = match &part.into {
                Some(into) => programs.join(into),
                None => programs.clone(),
            };
            self.install_part(part, &file, &into, progress).await?;
        }
        match tokio::fs::rename(&programs, &install.folder).await {
            Ok(()) => Ok(Outcome::Installed),
            // Another installer of the same version finished first: its copy is complete.
            Err(_) if install.folder.is_dir() => Ok(Outcome::Installed),
            Err(error) => Err(cannot_write(&install.folder, &error)),
        }
    }

    /// Downloads `part` into `file`, verifies it, and unpacks it into `into`.
    async fn install_part(
        &self,
        part: &Download,
        file: &Path,
        into: &Path,
        progress: &mpsc::UnboundedSender<PullProgress>,
    ) -> Result<(), InstallError> {
        let client = self.client().as_ref().map_err(|why| {
            InstallError::new(format!(
                "cannot download {} {}: this computer offers no secure connection",
                part.program, part.version
            ))
            .with_detail(why)
        })?;
        let what = format!(
            "the download of {} {} from {}",
            part.program, part.version, part.url
        );
        let fetch = download::Fetch {
            client,
            stall: self.stall,
            what: &what,
        };
        let sum = fetch.save(&part.url, file, progress).await?;
        let expected = match &part.checksum {
            Checksum::Sha256(sum) => sum.clone(),
            Checksum::List(list) => {
                let what = format!(
                    "the checksums of {} {} at {list}",
                    part.program, part.version
                );
                download::Fetch {
                    what: &what,
                    ..fetch
                }
                .sum_listed(list, part.file_name())
                .await?
            }
        };
        if sum != expected {
            return Err(InstallError::new(format!(
                "{what} does not match its checksum, so it was not installed (expected SHA-256 {expected}, got {sum})"
            )));
        }
        let (archive, name) = (part.archive, part.file_name().to_string());
        let unpacked = {
            let (file, into) = (file.to_path_buf(), into.to_path_buf());
            tokio::task::spawn_blocking(move || unpack::unpack(archive, &file, &into, &name))
                .await
                .unwrap_or_else(|error| Err(error.to_string()))
        };
        unpacked.map_err(|why| {
            InstallError::new(format!(
                "{what} could not be unpacked as a {} archive ({why})",
                part.archive.name()
            ))
        })
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

fn cannot_write(path: &Path, error: &std::io::Error) -> InstallError {
    InstallError::new(format!(
        "cannot install the programs: {} cannot be written ({error})",
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
