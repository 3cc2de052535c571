//! The bridge's list of MCP servers: a JSON file in the `mcpServers` form that Claude Desktop
//! and the earlier ClaraVerse app use, `{"mcpServers": {"NAME": {"command": …, "args": […],
//! "env": {…}}}}`.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// How to start one MCP server that speaks over its standard input and output.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServerConfig {
    /// The program.
    pub command: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Variables added to the bridge's own environment for it.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// One entry of the file as written: servers reached over the network (`url`) or turned
/// off (`"disabled": true`, or the earlier app's `"enabled": false`) are listed too, and
/// skipped.
#[derive(Deserialize)]
struct Entry {
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    disabled: bool,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(default)]
    mcp_servers: BTreeMap<String, Entry>,
}

/// A servers file that cannot be used; nothing is served from it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read the MCP servers file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not JSON of the `mcpServers` form.
    #[error("the MCP servers file {} is not valid: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where and why, with line and column.
        source: serde_json::Error,
    },
}

/// The servers to bridge, by name, and a sentence for each entry that is skipped.
#[derive(Debug, Default)]
pub struct Servers {
    /// The servers the bridge starts, by their name in the file.
    pub servers: BTreeMap<String, ServerConfig>,
    /// Why an entry of the file is not served, one sentence each.
    pub skipped: Vec<String>,
}

/// Reads the servers file. A file that does not exist means no servers: the bridge runs and
/// serves none, so the user can add some later.
pub fn load(path: &Path) -> Result<Servers, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Servers::default()),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let file: File = serde_json::from_str(&text).map_err(|source| ConfigError::Invalid {
        path: path.to_path_buf(),
        source,
    })?;
    let mut servers = Servers::default();
    for (name, entry) in file.mcp_servers {
        match entry.command {
            _ if !is_path_safe(&name) => servers.skipped.push(format!(
                "\"{name}\" is skipped: a server's name may only hold letters, digits, '-', '_' and '.'"
            )),
            _ if entry.disabled || !entry.enabled => servers
                .skipped
                .push(format!("\"{name}\" is skipped: it is disabled")),
            None => servers.skipped.push(format!(
                "\"{name}\" is skipped: it has no command (a server reached over the network is used directly)"
            )),
            Some(command) => {
                servers.servers.insert(
                    name,
                    ServerConfig {
                        command,
                        args: entry.args,
                        env: entry.env,
                    },
                );
            }
        }
    }
    Ok(servers)
}

/// Whether a name can be one segment of the bridge's paths as it is.
fn is_path_safe(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Servers, ConfigError> {
        let folder = tempfile::tempdir().expect("temporary folder");
        let path = folder.path().join("mcp-servers.json");
        std::fs::write(&path, text).expect("write");
        load(&path).map_err(|error| match error {
            ConfigError::Invalid { source, .. } => ConfigError::Invalid {
                path: PathBuf::from("mcp-servers.json"),
                source,
            },
            other => other,
        })
    }

    #[test]
    fn servers_are_read_and_unusable_entries_are_said_why() {
        let servers = load_text(
            r#"{"mcpServers": {
                "python-tools": {"command": "/opt/clara/python-mcp-server", "env": {"A": "1"}},
                "files": {"command": "npx", "args": ["-y", "server-filesystem", "/home"]},
                "remote": {"url": "https://example.com/mcp"},
                "off": {"command": "x", "disabled": true},
                "earlier-off": {"type": "stdio", "command": "x", "enabled": false},
                "my server": {"command": "x"}
            }, "otherKey": 1}"#,
        )
        .expect("valid");
        assert_eq!(
            servers.servers.keys().collect::<Vec<_>>(),
            ["files", "python-tools"]
        );
        assert_eq!(
            servers.servers["files"].args,
            ["-y", "server-filesystem", "/home"]
        );
        assert_eq!(servers.servers["python-tools"].env["A"], "1");
        assert_eq!(
            servers.skipped,
            [
                "\"earlier-off\" is skipped: it is disabled",
                "\"my server\" is skipped: a server's name may only hold letters, digits, '-', '_' and '.'",
                "\"off\" is skipped: it is disabled",
                "\"remote\" is skipped: it has no command (a server reached over the network is used directly)",
            ]
        );
    }

    #[test]
    fn a_missing_file_is_no_servers() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let servers = load(&folder.path().join("absent.json")).expect("no servers");
        assert!(servers.servers.is_empty());
    }

    #[test]
    fn a_broken_file_names_the_file_and_the_place() {
        let error = load_text("{\"mcpServers\": {\"a\": {\"command\": 3}}}").expect_err("invalid");
        assert_eq!(
            error.to_string(),
            "the MCP servers file mcp-servers.json is not valid: invalid type: integer `3`, expected a string at line 1 column 34"
        );
    }
}
