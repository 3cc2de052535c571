//! Unpacking a download into a folder: a tar.gz or zip archive, or the program itself.

use std::fs::File;
use std::path::Path;

use super::chain;
use crate::definitions::Archive;

/// Unpacks `file`, an `archive`, into the folder `into` (made when absent). An archive
/// whose entries all sit in one folder gives that folder's content: releases often wrap
/// theirs in `NAME-VERSION/`. A plain file becomes `into/NAME` and, on Unix, executable.
/// Archive entries that would land outside are refused by the archive readers.
pub fn unpack(archive: Archive, file: &Path, into: &Path, name: &str) -> Result<(), String> {
    let staging = file.with_extension("unpacked");
    unpack_into(archive, file, &staging, name)?;
    let top = only_folder_in(&staging).unwrap_or(staging.clone());
    std::fs::create_dir_all(into).map_err(|error| error.to_string())?;
    for entry in std::fs::read_dir(&top).map_err(|error| error.to_string())? {
        let entry = entry.map_err(|error| error.to_string())?;
        std::fs::rename(entry.path(), into.join(entry.file_name()))
            .map_err(|error| error.to_string())?;
    }
    std::fs::remove_dir_all(&staging).map_err(|error| error.to_string())
}

/// The one folder `folder` holds, when it holds nothing else.
fn only_folder_in(folder: &Path) -> Option<std::path::PathBuf> {
    let mut entries = std::fs::read_dir(folder).ok()?;
    let first = entries.next()?.ok()?;
    (entries.next().is_none() && first.file_type().ok()?.is_dir()).then(|| first.path())
}

fn unpack_into(archive: Archive, file: &Path, into: &Path, name: &str) -> Result<(), String> {
    std::fs::create_dir_all(into).map_err(|error| error.to_string())?;
    match archive {
        Archive::TarGz => {
            let reader = flate2::read::GzDecoder::new(open(file)?);
            tar::Archive::new(reader)
                .unpack(into)
                .map_err(|error| chain(&error))
        }
        Archive::Zip => zip::ZipArchive::new(open(file)?)
            .and_then(|mut zip| zip.extract(into))
            .map_err(|error| chain(&error)),
        Archive::File => {
            let program = into.join(name);
            std::fs::rename(file, &program).map_err(|error| error.to_string())?;
            make_executable(&program)
        }
    }
}

fn open(file: &Path) -> Result<File, String> {
    File::open(file).map_err(|error| error.to_string())
}

#[cfg(unix)]
fn make_executable(program: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(program, std::fs::Permissions::from_mode(0o755))
        .map_err(|error| error.to_string())
}

#[cfg(not(unix))]
fn make_executable(_program: &Path) -> Result<(), String> {
    Ok(())
}
