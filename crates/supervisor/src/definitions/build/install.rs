//! `[services.NAME.install]` (or several `[[services.NAME.install]]`): where a native
//! service's programs are downloaded from, and the value of `${PROGRAM_DIR}`.

use std::path::PathBuf;

use toml::Spanned;

use super::super::model::{Archive, Checksum, Download, Install, Programs};
use super::super::raw::{RawInstall, RawService};
use super::{ServiceBuilder, check_http_url};

impl ServiceBuilder<'_> {
    /// Reads the `install` tables and sets `${PROGRAM_DIR}` for the rest of the service:
    /// the folder named by `folder_variable` when that variable is set (a folder the app
    /// ships or the user chose, used as it is), else `${CLARA_HOME}/programs/SERVICE/VERSION`,
    /// where the downloads go. Returns what to download, if anything, and the folder.
    pub(super) fn install(&mut self, raw: &RawService) -> (Option<Install>, Option<Programs>) {
        let Some(tables) = raw.install.as_ref() else {
            return (None, None);
        };
        let items = tables.get_ref().items(tables.span());
        let parts: Vec<Option<Download>> = items
            .iter()
            .map(|(span, table)| self.download(span.clone(), table))
            .collect();
        let variable = items
            .iter()
            .find_map(|(_, table)| table.folder_variable.as_ref())
            .map(|name| name.get_ref().clone());
        let chosen = variable
            .as_ref()
            .and_then(|name| self.variables.get(name))
            .map(PathBuf::from);
        let install = match parts.into_iter().collect::<Option<Vec<Download>>>() {
            Some(parts) if !parts.is_empty() => {
                let version: Vec<String> = parts
                    .iter()
                    .map(|part| match &part.variant {
                        Some(variant) => format!("{}-{variant}", part.version),
                        None => part.version.clone(),
                    })
                    .collect();
                let folder = self.programs_folder(&version.join("+"));
                Some(Install { parts, folder })
            }
            Some(_) => {
                self.error(tables.span(), "install lists no download", None);
                None
            }
            None => None,
        };
        let folder = match (&chosen, &install) {
            (Some(chosen), _) => chosen.clone(),
            (None, Some(install)) => install.folder.clone(),
            // Tables with errors: the service never runs, and its other strings need not
            // fail for it too.
            (None, None) => self.programs_folder("unknown"),
        };
        self.variables = std::borrow::Cow::Owned(self.variables.with_program_dir(folder.clone()));
        let programs = Programs { folder, variable };
        match chosen {
            Some(_) => (None, Some(programs)),
            None => (install, Some(programs)),
        }
    }

    /// One download, checked.
    fn download(&mut self, span: std::ops::Range<usize>, raw: &RawInstall) -> Option<Download> {
        let Some(version) = &raw.version else {
            self.error(
                span,
                "install has no version",
                Some("pin the release, e.g. version = \"1.2.3\"".into()),
            );
            return None;
        };
        let version_text = self.folder_name("install.version", version)?;
        let into = match &raw.into {
            Some(into) => Some(self.folder_name("install.into", into)?),
            None => None,
        };
        let variant = match &raw.variants {
            Some(variants) => Some(self.variant(span.clone(), variants)?),
            None => None,
        };
        let Some(url) = &raw.url else {
            self.error(
                span,
                "install has no url",
                Some("give the release's download address; {version} in it is replaced".into()),
            );
            return None;
        };
        let replace = |text: String| match &variant {
            Some((_, text_of_variant)) => text
                .replace("{version}", &version_text)
                .replace("{variant}", text_of_variant),
            None => text.replace("{version}", &version_text),
        };
        if variant.is_none() && url.get_ref().contains("{variant}") {
            self.error(
                url.span(),
                "install.url uses {variant}, but install has no variants",
                Some("add variants = { cpu = \"…\", vulkan = \"…\" }: the text {variant} stands for on each machine".into()),
            );
            return None;
        }
        let url_text = replace(self.release_address("install.url", url)?);
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
                Checksum::List(replace(self.release_address("install.checksums", list)?))
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
            None => Archive::from_url(&url_text),
        };
        let download = Download {
            program: raw.program.clone().unwrap_or_else(|| self.name.to_string()),
            version: version_text,
            url: url_text,
            checksum,
            archive,
            into,
            variant: variant.map(|(name, _)| name),
            variants: raw
                .variants
                .iter()
                .flatten()
                .map(|(name, _)| name.clone())
                .collect(),
        };
        if download.archive == Archive::File && download.file_name().is_empty() {
            self.error(
                url.span(),
                "install.url names no file (it ends with \"/\"), so the program would have no name",
                None,
            );
            return None;
        }
        Some(download)
    }

    /// The build for this machine among `variants` (name → the text `{variant}` stands
    /// for): the best its accelerator can use.
    fn variant(
        &mut self,
        span: std::ops::Range<usize>,
        variants: &std::collections::BTreeMap<String, Spanned<String>>,
    ) -> Option<(String, String)> {
        let accelerator = self.variables.accelerator();
        let found = accelerator.preference().iter().find_map(|wanted| {
            variants
                .get(wanted.name())
                .map(|text| (wanted.name().to_string(), text.get_ref().clone()))
        });
        if found.is_none() {
            self.error(
                span,
                format!(
                    "install.variants has no build this machine can run (its best is {accelerator})"
                ),
                Some("add cpu = \"…\", the build every machine runs".into()),
            );
        }
        found
    }

    /// A value that names one folder: not empty, `.` or `..`, without `/` or `\`.
    fn folder_name(&mut self, key: &str, value: &Spanned<String>) -> Option<String> {
        let text = value.get_ref();
        if text.is_empty() || text == "." || text == ".." || text.contains(['/', '\\']) {
            self.error(
                value.span(),
                format!(
                    "{key} \"{text}\" cannot name a folder: it must not be empty, \".\" or \"..\", nor hold \"/\" or \"\\\""
                ),
                None,
            );
            return None;
        }
        Some(text.clone())
    }

    /// `${CLARA_HOME}/programs/SERVICE/VERSION`.
    fn programs_folder(&self, version: &str) -> PathBuf {
        self.variables
            .clara_home()
            .join("programs")
            .join(self.name)
            .join(version)
    }

    /// An http(s) address of the release, with its variables expanded (`{version}` and
    /// `{variant}` are replaced after).
    fn release_address(&mut self, key: &str, value: &Spanned<String>) -> Option<String> {
        let text = self.expand(key, value)?;
        match check_http_url(key, &text) {
            Ok(()) => Some(text),
            Err(why) => {
                self.error(value.span(), why, None);
                None
            }
        }
    }
}
