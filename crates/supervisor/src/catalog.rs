//! The built-in ClaraVerse service catalog, embedded in the binary.

use crate::diagnostics::SourceFile;

/// The name the catalog goes by in messages.
pub const NAME: &str = "built-in catalog";

/// The catalog's TOML text (`services/claraverse.toml` in the repository).
pub const TEXT: &str = include_str!("../../../services/claraverse.toml");

/// The catalog as a source to load.
pub fn source() -> SourceFile {
    SourceFile::new(NAME, TEXT)
}
