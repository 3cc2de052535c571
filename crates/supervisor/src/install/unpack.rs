//! Unpacking a download into a folder: a tar.gz or zip archive, or the program itself.

use std::fs::File;
use std::path::Path;

use super::chain;
use crate::definitions::Archive;

/// Unpacks `file`, an `archive`, into the new folder `into`. A plain file becomes
/// `into/NAME` and, on Unix, executable. Archive entries that would land outside `into`
/// are refused by the archive readers.
pub fn unpack(archive: Archive, file: &Path, into: &Path, name: &str) -> Result<(), String> {
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
