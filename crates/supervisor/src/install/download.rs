//! One HTTP download: streamed to a file and hashed as it comes, with progress, and given
//! up when nothing arrives for a while.

use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

use super::{InstallError, chain};
use crate::runtime::PullProgress;

/// The largest list of checksums read: real ones are a few kilobytes.
const MAX_LIST_BYTES: u64 = 1 << 20;

/// Progress is reported at most once per this many bytes (and at the end).
const PROGRESS_STEP: u64 = 256 * 1024;

/// How to download, and what the download is called in messages.
#[derive(Clone, Copy)]
pub struct Fetch<'a> {
    pub client: &'a reqwest::Client,
    pub stall: Duration,
    /// "the download of llama-swap 1.0 from https://…".
    pub what: &'a str,
}

impl Fetch<'_> {
    /// Downloads `url` into `file` and returns its SHA-256 (lowercase hex).
    pub async fn save(
        &self,
        url: &str,
        file: &Path,
        progress: &mpsc::UnboundedSender<PullProgress>,
    ) -> Result<String, InstallError> {
        let mut response = self.get(url).await?;
        let total = response.content_length().unwrap_or(0);
        let mut out = tokio::fs::File::create(file)
            .await
            .map_err(|error| self.cannot_save(file, &error))?;
        let mut hasher = Sha256::new();
        let (mut done, mut reported) = (0u64, 0u64);
        let _ = progress.send(PullProgress { done, total });
        while let Some(chunk) = self.next_chunk(&mut response, done, total).await? {
            let chunk = chunk.as_ref();
            hasher.update(chunk);
            out.write_all(chunk)
                .await
                .map_err(|error| self.cannot_save(file, &error))?;
            done += chunk.len() as u64;
            // The first bytes at once, then in steps: a bar that moves, not a flood.
            if reported == 0 || done - reported >= PROGRESS_STEP.max(total / 100) {
                reported = done;
                let _ = progress.send(PullProgress { done, total });
            }
        }
        if total > 0 && done < total {
            return Err(self.cut_off(done, total, None));
        }
        out.flush()
            .await
            .map_err(|error| self.cannot_save(file, &error))?;
        let _ = progress.send(PullProgress {
            done,
            total: total.max(done),
        });
        Ok(format!("{:x}", hasher.finalize()))
    }

    /// The SHA-256 that the list of sums at `url` gives for `file_name`.
    pub async fn sum_listed(&self, url: &str, file_name: &str) -> Result<String, InstallError> {
        let mut response = self.get(url).await?;
        let mut text = Vec::new();
        let total = response.content_length().unwrap_or(0);
        while let Some(chunk) = self
            .next_chunk(&mut response, text.len() as u64, total)
            .await?
        {
            text.extend_from_slice(chunk.as_ref());
            if text.len() as u64 > MAX_LIST_BYTES {
                return Err(InstallError::new(format!(
                    "{} is not a list of checksums: it is larger than 1 MiB",
                    self.what
                )));
            }
        }
        listed_sum(&String::from_utf8_lossy(&text), file_name).ok_or_else(|| {
            InstallError::new(format!("{} list no SHA-256 for {file_name}", self.what))
        })
    }

    async fn get(&self, url: &str) -> Result<reqwest::Response, InstallError> {
        let response = tokio::time::timeout(self.stall, self.client.get(url).send())
            .await
            .map_err(|_| self.stalled())?
            .map_err(|error| self.failed(&error))?;
        let status = response.status();
        if status.is_success() {
            Ok(response)
        } else {
            Err(InstallError::new(format!(
                "{} answered {}",
                self.what,
                match status.canonical_reason() {
                    Some(reason) => format!("{} {reason}", status.as_u16()),
                    None => status.as_u16().to_string(),
                }
            )))
        }
    }

    async fn next_chunk(
        &self,
        response: &mut reqwest::Response,
        done: u64,
        total: u64,
    ) -> Result<Option<impl AsRef<[u8]>>, InstallError> {
        match tokio::time::timeout(self.stall, response.chunk()).await {
            Err(_) => Err(self.stalled()),
            Ok(Ok(chunk)) => Ok(chunk),
            Ok(Err(error)) => Err(self.cut_off(done, total, Some(&error))),
        }
    }

    fn stalled(&self) -> InstallError {
        InstallError::new(format!(
            "{} stalled: nothing arrived for {}",
            self.what,
            humantime::format_duration(self.stall)
        ))
    }

    fn failed(&self, error: &reqwest::Error) -> InstallError {
        let message = if error.is_connect() {
            format!(
                "{} failed: the server could not be reached (is this computer online?)",
                self.what
            )
        } else {
            format!("{} failed", self.what)
        };
        InstallError::new(message).with_detail(chain(error))
    }

    fn cut_off(&self, done: u64, total: u64, error: Option<&reqwest::Error>) -> InstallError {
        let of = if total > 0 {
            format!(" of {}", size(total))
        } else {
            String::new()
        };
        let failure =
            InstallError::new(format!("{} broke off after {}{of}", self.what, size(done)));
        match error {
            Some(error) => failure.with_detail(chain(error)),
            None => failure,
        }
    }

    fn cannot_save(&self, file: &Path, error: &std::io::Error) -> InstallError {
        InstallError::new(format!(
            "{} could not be saved to {} ({error})",
            self.what,
            file.display()
        ))
    }
}

/// The sum a list gives for `file_name`: a GitHub release's JSON, whose assets each have
/// a `digest` ("sha256:HASH"), or `sha256sum` lines (`HASH  NAME`, or `HASH *NAME`).
fn listed_sum(list: &str, file_name: &str) -> Option<String> {
    if let Ok(release) = serde_json::from_str::<serde_json::Value>(list) {
        let assets = release.get("assets")?.as_array()?;
        let asset = assets
            .iter()
            .find(|asset| asset.get("name").and_then(|name| name.as_str()) == Some(file_name))?;
        let digest = asset.get("digest")?.as_str()?.strip_prefix("sha256:")?;
        return is_sha256(digest).then(|| digest.to_ascii_lowercase());
    }
    list.lines().find_map(|line| {
        let (sum, name) = line.trim().split_once(char::is_whitespace)?;
        let name = name.trim_start().trim_start_matches('*');
        (name == file_name && is_sha256(sum)).then(|| sum.to_ascii_lowercase())
    })
}

fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// Bytes in words: "12.5 MB", "300 KB", "12 bytes".
fn size(bytes: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1_000_000_000, "GB"), (1_000_000, "MB"), (1_000, "KB")];
    for (unit, name) in UNITS {
        if bytes >= unit {
            return format!("{:.1} {name}", bytes as f64 / unit as f64);
        }
    }
    format!("{bytes} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_gives_the_sum_of_its_file() {
        let a = "a".repeat(64);
        let b = "B".repeat(64);
        let list = format!("{a}  other.tar.gz\n{b} *tool_1.0_linux_amd64.tar.gz\n");
        assert_eq!(
            listed_sum(&list, "tool_1.0_linux_amd64.tar.gz"),
            Some("b".repeat(64))
        );
        assert_eq!(listed_sum(&list, "tool.zip"), None);
        assert_eq!(listed_sum("short  tool.zip", "tool.zip"), None);
    }

    #[test]
    fn a_github_release_gives_each_asset_its_digest() {
        let sum = "c".repeat(64);
        let release = format!(
            r#"{{"tag_name":"b1","assets":[{{"name":"llama-b1-bin-ubuntu-x64.tar.gz","digest":"sha256:{sum}"}},{{"name":"old.zip","digest":null}}]}}"#
        );
        assert_eq!(
            listed_sum(&release, "llama-b1-bin-ubuntu-x64.tar.gz"),
            Some(sum)
        );
        assert_eq!(listed_sum(&release, "old.zip"), None);
        assert_eq!(listed_sum(&release, "absent.zip"), None);
    }

    #[test]
    fn sizes_read_as_words() {
        assert_eq!(size(12), "12 bytes");
        assert_eq!(size(300_000), "300.0 KB");
        assert_eq!(size(12_500_000), "12.5 MB");
    }
}
