//! `[services.NAME.install]`: where a native program is downloaded from, and the value of
//! `${PROGRAM_DIR}`.

use toml::Spanned;

use super::super::model::{Archive, Checksum, Install};
use super::super::raw::{RawInstall, RawService};
use super::{ServiceBuilder, check_http_url};

impl ServiceBuilder<'_> {
    /// Reads the `install` table and sets `${PROGRAM_DIR}` for the rest of the service:
    /// the folder named by `folder_variable` when that variable is set (a folder the app
    /// ships or the user chose, used as it is), else `${CLARA_HOME}/programs/SERVICE/VERSION`,
    /// where the download goes. Returns what to download, if anything.
    pub(super) fn install(&mut self, raw: &RawService) -> Option<Install> {
        let table = raw.install.as_ref()?;
        let install = self.install_table(table);
        let chosen = table
            .get_ref()
            .folder_variable
            .as_ref()
            .and_then(|name| self.variables.get(name.get_ref()))
            .map(std::path::PathBuf::from);
        let folder = match (&chosen, &install) {
            (Some(chosen), _) => chosen.clone(),
            (None, Some(install)) => install.folder.clone(),
            // A table with errors: the service never runs, and its other strings need not
            // fail for it too.
            (None, None) => self.programs_folder("unknown"),
        };
        self.variables = std::borrow::Cow::Owned(self.variables.with_program_dir(folder));
        if chosen.is_some() { None } else { install }
    }

    fn install_table(&mut self, table: &Spanned<RawInstall>) -> Option<Install> {
        let raw = table.get_ref();
        let span = table.span();
        let Some(version) = &raw.version else {
            self.error(
                span,
                "install has no version",
                Some("pin the release, e.g. version = \"1.2.3\"".into()),
            );
            return None;
        };
        let version_text = version.get_ref();
        if version_text.is_empty()
            || version_text == "."
            || version_text == ".."
            || version_text.contains(['/', '\\'])
        {
            self.error(
                version.span(),
                format!(
                    "install.version \"{version_text}\" cannot name a folder: it must not be empty, \".\" or \"..\", nor hold \"/\" or \"\\\""
                ),
                None,
            );
            return None;
        }
        let Some(url) = &raw.url else {
            self.error(
                span,
                "install has no url",
                Some("give the release's download address; {version} in it is replaced".into()),
            );
            return None;
        };
        let url = self.release_address("install.url", url, version_text)?;
        let checksum = match (&raw.sha256, &raw.checksums) {
            (Some(sum), None) => {
                let sum = sum.get_ref().to_ascii_lowercase();
                if sum.len() != 64 || !sum.chars().all(|c| c.is_ascii_hexdigit()) {
                    self.error(
                        raw.sha256.as_ref().map_or(span.clone(), Spanned::span),
                        format!(
                            "install.sha256 \"{sum}\" is not a SHA-256 sum (64 hexadecimal digits)"
                        ),
                        None,
                    );
                    return None;
                }
                Checksum::Sha256(sum)
            }
            (None, Some(list)) => {
                Checksum::List(self.release_address("install.checksums", list, version_text)?)
            }
            (Some(_), Some(list)) => {
                self.error(
                    list.span(),
                    "install has both sha256 and checksums",
                    Some(
                        "keep one: sha256 pins the sum, checksums names the release's list of sums"
                            .into(),
                    ),
                );
                return None;
            }
            (None, None) => {
                self.error(
                    span,
                    "install has no checksum, so the download could not be verified",
                    Some("give sha256 = \"…\", or checksums = \"…\" (the address of the release's list of sums)".into()),
                );
                return None;
            }
        };
        let archive = match &raw.archive {
            Some(archive) => {
                self.choice("install.archive", archive, &Archive::ALL, Archive::name)?
            }
            None => Archive::from_url(&url),
        };
        let install = Install {
            program: raw.program.clone().unwrap_or_else(|| self.name.to_string()),
            version: version_text.clone(),
            url,
            checksum,
            archive,
            folder: self.programs_folder(version_text),
        };
        if install.archive == Archive::File && install.file_name().is_empty() {
            self.error(
                raw.url.as_ref().map_or(span, Spanned::span),
                "install.url names no file (it ends with \"/\"), so the program would have no name",
                None,
            );
            return None;
        }
        Some(install)
    }

    /// `${CLARA_HOME}/programs/SERVICE/VERSION`.
    fn programs_folder(&self, version: &str) -> std::path::PathBuf {
        self.variables
            .clara_home()
            .join("programs")
            .join(self.name)
            .join(version)
    }

    /// An http(s) address of the release, with its variables expanded and `{version}`
    /// replaced.
    fn release_address(
        &mut self,
        key: &str,
        value: &Spanned<String>,
        version: &str,
    ) -> Option<String> {
        let text = self.expand(key, value)?.replace("{version}", version);
        match check_http_url(key, &text) {
            Ok(()) => Some(text),
            Err(why) => {
                self.error(value.span(), why, None);
                None
            }
        }
    }
}
