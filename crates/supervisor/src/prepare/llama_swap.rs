//! llama-swap's config, written from the GGUF models in the user's model folders: one
//! model per file, each run by the llama.cpp server on a port llama-swap assigns, the
//! embedding models in a group that stays loaded beside the chat model. Written
//! atomically, and only when it changes.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::PrepareError;
use crate::persist;

/// The first four bytes of every GGUF file.
const GGUF_MAGIC: &[u8; 4] = b"GGUF";

/// How deep model folders are searched (a folder per model family is common).
const MAX_DEPTH: usize = 4;

/// Seconds a model stays loaded after its last request.
const TTL_SECONDS: u32 = 300;

/// Seconds llama-swap waits for a model to load: large models on a CPU take minutes.
const HEALTH_CHECK_TIMEOUT_SECONDS: u32 = 300;

/// The group of embedding models.
const EMBEDDINGS_GROUP: &str = "embeddings";

/// One model found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// Its id in the API: the file's name, lowercase, without `.gguf`.
    pub id: String,
    /// The GGUF file (the first part, for a model split in parts).
    pub file: PathBuf,
    /// It makes embeddings rather than chat (its name says "embed" or "bge").
    pub embedding: bool,
}

/// What [`write_config`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The models in the config.
    pub models: Vec<Model>,
    /// The file was written (false: it already said exactly this).
    pub changed: bool,
}

impl Written {
    /// "2 models: nomic-embed-text, qwen3-4b".
    pub fn describe(&self) -> String {
        let ids: Vec<&str> = self.models.iter().map(|model| model.id.as_str()).collect();
        match ids.as_slice() {
            [one] => format!("1 model: {one}"),
            _ => format!("{} models: {}", ids.len(), ids.join(", ")),
        }
    }
}

/// Writes llama-swap's `config` from the models in `folders`, each run by `server`.
/// No model at all is an error that says where to put one.
pub fn write_config(
    config: &Path,
    folders: &[PathBuf],
    server: &str,
) -> Result<Written, PrepareError> {
    let models = find_models(folders);
    if models.is_empty() {
        let folder = folders
            .first()
            .map(|folder| folder.display().to_string())
            .unwrap_or_default();
        return Err(PrepareError {
            message: format!("has no model yet: add a GGUF model to {folder} and press Restart"),
            needs_the_user: true,
        });
    }
    let text = config_text(&models, server, folders);
    let changed = std::fs::read(config).ok().as_deref() != Some(text.as_bytes());
    if changed {
        persist::write_atomically(config, text.as_bytes()).map_err(|error| PrepareError {
            message: format!("cannot write its config {} ({error})", config.display()),
            needs_the_user: false,
        })?;
    }
    Ok(Written { models, changed })
}

/// The models in `folders` (and their subfolders), sorted by id; ids are made unique.
pub fn find_models(folders: &[PathBuf]) -> Vec<Model> {
    let mut files = Vec::new();
    for folder in folders {
        collect(folder, MAX_DEPTH, &mut files);
    }
    let mut taken = BTreeSet::new();
    let mut models: Vec<Model> = files
        .into_iter()
        .filter_map(|file| {
            let stem = model_stem(&file)?;
            let base = id_of(&stem);
            let mut id = base.clone();
            let mut next = 2;
            while !taken.insert(id.clone()) {
                id = format!("{base}-{next}");
                next += 1;
            }
            let embedding = base.contains("embed") || base.starts_with("bge");
            Some(Model {
                id,
                file,
                embedding,
            })
        })
        .collect();
    models.sort_by(|a, b| a.id.cmp(&b.id));
    models
}

/// The GGUF files under `folder`, in name order (unreadable folders are skipped).
fn collect(folder: &Path, depth: usize, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            if depth > 0 {
                collect(&path, depth - 1, files);
            }
        } else if is_gguf(&path) {
            files.push(path);
        }
    }
}

/// A file named `*.gguf` that starts with the GGUF magic.
fn is_gguf(path: &Path) -> bool {
    let named = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("gguf"));
    let mut magic = [0u8; 4];
    named
        && std::fs::File::open(path)
            .and_then(|mut file| file.read_exact(&mut magic))
            .is_ok()
        && &magic == GGUF_MAGIC
}

/// The name a model file stands for; `None` for what is not a model of its own: a
/// multimodal projector (`mmproj`), or a later part of a split model (`-00002-of-00003`).
fn model_stem(file: &Path) -> Option<String> {
    let stem = file.file_stem()?.to_string_lossy().into_owned();
    if stem.to_ascii_lowercase().contains("mmproj") {
        return None;
    }
    match split_part(&stem) {
        Some((name, 1)) => Some(name.to_string()),
        Some(_) => None,
        None => Some(stem),
    }
}

/// `name-00001-of-00003` → (`name`, 1).
fn split_part(stem: &str) -> Option<(&str, u32)> {
    let (rest, total) = stem.rsplit_once("-of-")?;
    let (name, part) = rest.rsplit_once('-')?;
    let digits = |text: &str| text.len() == 5 && text.bytes().all(|b| b.is_ascii_digit());
    (digits(part) && digits(total)).then(|| (name, part.parse().unwrap_or(0)))
}

/// A model id: lowercase letters, digits, `.`, `_` and `-`.
fn id_of(stem: &str) -> String {
    stem.to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The config's text (YAML; every string written as a JSON string, which YAML reads
/// as it is).
pub fn config_text(models: &[Model], server: &str, folders: &[PathBuf]) -> String {
    let quoted = |text: &str| serde_json::to_string(text).unwrap_or_default();
    let mut text = String::from(
        "# Clara Core's models, written by ClaraVerse before each start of llama-swap from the\n\
         # GGUF files in the folders below. Edits here are replaced: add or remove models there.\n",
    );
    for folder in folders {
        text.push_str(&format!("#   {}\n", folder.display()));
    }
    text.push_str(&format!(
        "healthCheckTimeout: {HEALTH_CHECK_TIMEOUT_SECONDS}\nmodels:\n"
    ));
    for model in models {
        let mut command = vec![
            argument(server),
            "--model".to_string(),
            argument(&model.file.to_string_lossy()),
            "--port".to_string(),
            "${PORT}".to_string(),
            "--n-gpu-layers".to_string(),
            "999".to_string(),
        ];
        command.push(
            if model.embedding {
                "--embeddings"
            } else {
                "--jinja"
            }
            .to_string(),
        );
        text.push_str(&format!(
            "  {}:\n    cmd: {}\n    ttl: {TTL_SECONDS}\n",
            quoted(&model.id),
            quoted(&command.join(" "))
        ));
    }
    let embeddings: Vec<&Model> = models.iter().filter(|model| model.embedding).collect();
    if !embeddings.is_empty() {
        // Loaded beside the chat model, and never unloaded by it.
        text.push_str(&format!(
            "groups:\n  {}:\n    swap: false\n    exclusive: false\n    persistent: true\n    members:\n",
            quoted(EMBEDDINGS_GROUP)
        ));
        for model in embeddings {
            text.push_str(&format!("      - {}\n", quoted(&model.id)));
        }
    }
    text
}

/// One argument of a llama-swap `cmd`, which llama-swap splits like a shell does
/// (POSIX rules; Windows rules on Windows, where paths never hold a `"`).
fn argument(text: &str) -> String {
    if cfg!(windows) {
        format!("\"{text}\"")
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_models_count_once_and_projectors_not_at_all() {
        assert_eq!(split_part("big-00001-of-00003"), Some(("big", 1)));
        assert_eq!(split_part("big-00002-of-00003"), Some(("big", 2)));
        assert_eq!(split_part("qwen-of-the-hill"), None);
        assert_eq!(model_stem(Path::new("/m/big-00002-of-00003.gguf")), None);
        assert_eq!(
            model_stem(Path::new("/m/big-00001-of-00003.gguf")).as_deref(),
            Some("big")
        );
        assert_eq!(model_stem(Path::new("/m/mmproj-F16.gguf")), None);
    }

    #[test]
    fn ids_are_plain() {
        assert_eq!(id_of("Qwen3 4B (Q4_K_M)"), "qwen3-4b--q4_k_m-");
    }

    #[cfg(unix)]
    #[test]
    fn arguments_survive_a_shell_split() {
        assert_eq!(
            argument("/home/me/it's here.gguf"),
            "'/home/me/it'\\''s here.gguf'"
        );
    }
}
