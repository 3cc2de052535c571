//! What the earlier, Electron ClaraVerse app left on this machine: its settings files, its
//! data folders under `~/.clara`, and what they say — read only, never changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// The earlier app's feature switches.
pub const FEATURES_FILE: &str = "clara-features.yaml";
/// The earlier app's per-service modes and URLs.
pub const SERVICES_FILE: &str = "service-config.json";
/// The earlier app's generated llama-swap configuration.
pub const LLAMA_SWAP_CONFIG: &str = "llama-swap-config.yaml";
/// The earlier app's MCP servers, in the `mcpServers` form the MCP bridge reads.
pub const MCP_CONFIG: &str = "mcp_config.json";

/// The earlier app's features, which the catalog names the same.
const FEATURES: [&str; 4] = ["claraCore", "comfyUI", "n8n", "ragAndTts"];

/// Each folder variable of the catalog, and where the earlier app kept that folder, under
/// its data folder.
pub const FOLDERS: [(&str, &str); 9] = [
    ("CLARA_PYTHON_DATA", "python_backend_data"),
    ("CLARA_N8N_DATA", "n8n"),
    ("CLARA_COMFYUI_MODELS", "comfyui-data/models"),
    ("CLARA_COMFYUI_OUTPUT", "comfyui-data/outputs"),
    ("CLARA_COMFYUI_CUSTOM_NODES", "comfyui-data/custom_nodes"),
    ("CLARA_COMFYUI_USER", "comfyui-data/user"),
    ("CLARA_COMFYUI_CONFIG", "comfyui-data/config"),
    ("CLARA_COMFYUI_TEMP", "comfyui-data/temp"),
    ("CLARA_COMFYUI_INPUT", "comfyui_input"),
];

/// The earlier app's service names, and the catalog's service for each.
const SERVICES: [(&str, &str); 6] = [
    ("python-backend", "python-backend"),
    ("python", "python-backend"),
    ("comfyui", "comfyui"),
    ("n8n", "n8n"),
    ("claracore", "llamaswap"),
    ("llamaswap", "llamaswap"),
];

/// Where the earlier app kept things.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyPaths {
    /// Its settings: `~/.config/ClaraVerse`, `~/Library/Application Support/ClaraVerse`,
    /// `%APPDATA%\ClaraVerse`.
    pub user_data: PathBuf,
    /// Its data: `~/.clara`.
    pub data: PathBuf,
}

impl LegacyPaths {
    /// Where the earlier app kept things for the user running this program; `None` when
    /// the system names no home folder.
    pub fn of_this_user() -> Option<LegacyPaths> {
        Some(LegacyPaths {
            user_data: dirs::config_dir()?.join("ClaraVerse"),
            data: dirs::home_dir()?.join(".clara"),
        })
    }
}

/// What the earlier app left, as far as files say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where it was looked for.
    pub paths: LegacyPaths,
    /// Its settings files that exist (each is backed up before anything changes).
    pub settings_files: Vec<PathBuf>,
    /// The features it had on; `None` when its feature file is absent or unreadable.
    pub features: Option<BTreeSet<String>>,
    /// Services the user ran himself: the catalog's name → the user's URL.
    pub servers: BTreeMap<String, String>,
    /// Its data folders that exist: the catalog's folder variable → the folder.
    pub folders: BTreeMap<String, PathBuf>,
    /// The MCP servers its settings list, by name; the file is carried over whole.
    pub mcp_servers: Vec<String>,
    /// What cannot be carried over, each in a sentence.
    pub left_out: Vec<String>,
}

impl Found {
    /// Whether anything of the earlier app is here.
    pub fn anything(&self) -> bool {
        !self.settings_files.is_empty() || !self.folders.is_empty()
    }
}

/// Reads what the earlier app left at `paths`. Nothing is changed.
pub fn find(paths: &LegacyPaths) -> Found {
    let mut found = Found {
        paths: paths.clone(),
        settings_files: Vec::new(),
        features: None,
        servers: BTreeMap::new(),
        folders: BTreeMap::new(),
        mcp_servers: Vec::new(),
        left_out: Vec::new(),
    };
    for name in [FEATURES_FILE, SERVICES_FILE, LLAMA_SWAP_CONFIG, MCP_CONFIG] {
        let path = paths.user_data.join(name);
        if path.is_file() {
            found.settings_files.push(path);
        }
    }
    let features_file = paths.user_data.join(FEATURES_FILE);
    if let Some(text) = read_text(&features_file, &mut found.left_out) {
        match features(&text) {
            Ok(features) => found.features = Some(features),
            Err(why) => found.left_out.push(format!(
                "{} cannot be read ({why}): choose the features again",
                features_file.display()
            )),
        }
    }
    let services_file = paths.user_data.join(SERVICES_FILE);
    if let Some(text) = read_text(&services_file, &mut found.left_out) {
        servers(&text, &services_file, &mut found);
    }
    let mcp_file = paths.user_data.join(MCP_CONFIG);
    if let Some(text) = read_text(&mcp_file, &mut found.left_out) {
        match mcp_servers(&text) {
            Ok(names) => found.mcp_servers = names,
            Err(why) => found.left_out.push(format!(
                "{} cannot be read ({why}): add your MCP servers again",
                mcp_file.display()
            )),
        }
    }
    for (variable, folder) in FOLDERS {
        let path = paths.data.join(folder);
        if path.is_dir() {
            found.folders.insert(variable.to_string(), path);
        }
    }
    found
}

/// The text of `path`; `None` when it does not exist or cannot be read (said in `left_out`).
fn read_text(path: &Path, left_out: &mut Vec<String>) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            left_out.push(format!("cannot read {}: {error}", path.display()));
            None
        }
    }
}

/// The features switched on in `clara-features.yaml` (a missing switch is off).
fn features(text: &str) -> Result<BTreeSet<String>, String> {
    let documents = YamlLoader::load_from_str(text).map_err(|error| error.to_string())?;
    let Some(Yaml::Hash(switches)) = documents.first() else {
        return Err("it is not a list of feature switches".to_string());
    };
    let mut on = BTreeSet::new();
    for feature in FEATURES {
        match switches.get(&Yaml::String(feature.to_string())) {
            None | Some(Yaml::Boolean(false)) => {}
            Some(Yaml::Boolean(true)) => {
                on.insert(feature.to_string());
            }
            Some(other) => return Err(format!("{feature} is {other:?}, not true or false")),
        }
    }
    Ok(on)
}

/// The names of the servers in an `mcp_config.json` (`{"mcpServers": {NAME: …}}`).
fn mcp_servers(text: &str) -> Result<Vec<String>, String> {
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|error| error.to_string())?;
    match document.get("mcpServers") {
        Some(serde_json::Value::Object(servers)) => Ok(servers.keys().cloned().collect()),
        Some(_) => Err("its mcpServers is not a list of servers by name".to_string()),
        None => Ok(Vec::new()),
    }
}

/// The services `service-config.json` says the user runs himself, into `found`.
fn servers(text: &str, path: &Path, found: &mut Found) {
    let file = path.display();
    let document: serde_json::Value = match serde_json::from_str(text) {
        Ok(document) => document,
        Err(error) => {
            found.left_out.push(format!(
                "{file} cannot be read ({error}): choose again which services are your own servers"
            ));
            return;
        }
    };
    let Some(services) = document.get("services").and_then(|s| s.as_object()) else {
        return;
    };
    for (name, setting) in services {
        if setting.get("mode").and_then(|m| m.as_str()) != Some("manual") {
            continue;
        }
        let Some(ours) = SERVICES
            .iter()
            .find(|(theirs, _)| theirs == name)
            .map(|(_, ours)| *ours)
        else {
            found.left_out.push(format!(
                "{file}: the service \"{name}\" has no counterpart here, so its own server is not used"
            ));
            continue;
        };
        match setting.get("url").and_then(|u| u.as_str()) {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                found.servers.insert(ours.to_string(), url.to_string());
            }
            _ => found.left_out.push(format!(
                "{file}: \"{name}\" was set to your own server without an http(s) URL, so ClaraVerse runs it"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_read_from_the_switches() {
        let on = features(
            "comfyUI: false\nn8n: true\nragAndTts: true\nclaraCore: true\nfirstTimeSetup: false\n",
        )
        .expect("valid");
        assert_eq!(
            on,
            BTreeSet::from(["claraCore".into(), "n8n".into(), "ragAndTts".into()])
        );
        assert_eq!(
            features("n8n: maybe\n"),
            Err("n8n is String(\"maybe\"), not true or false".to_string())
        );
        assert_eq!(
            features("- a list\n"),
            Err("it is not a list of feature switches".to_string())
        );
        assert!(features("n8n: [\n").is_err());
    }

    #[test]
    fn mcp_servers_are_named_by_the_file() {
        let names = mcp_servers(
            r#"{"mcpServers": {"python-mcp": {"type": "stdio", "command": "/opt/x", "enabled": true},
                "notes": {"command": "npx", "args": ["notes"], "enabled": false}}}"#,
        );
        assert_eq!(
            names,
            Ok(vec!["notes".to_string(), "python-mcp".to_string()])
        );
        assert_eq!(mcp_servers("{}"), Ok(Vec::new()));
        assert_eq!(
            mcp_servers(r#"{"mcpServers": []}"#),
            Err("its mcpServers is not a list of servers by name".to_string())
        );
        assert_eq!(
            mcp_servers("{"),
            Err("EOF while parsing an object at line 1 column 1".to_string())
        );
    }
}
