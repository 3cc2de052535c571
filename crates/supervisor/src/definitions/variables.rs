//! `${VAR}` and `${VAR:-default}` in definition strings.
//!
//! Values come from the environment, plus four built-ins: `${CLARA_HOME}` (the app's data
//! directory), `${SERVICE}` (the name of the service being defined), `${PROGRAM_DIR}` (the
//! folder of its program, for a service with an `install` table) and `${APP_DIR}` (the
//! folder of the running app or `clara-supervisor`, where the programs that come with it
//! sit). `$$` is a literal `$`; a `$` not followed by `{` is kept as it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::platform::Accelerator;

/// The values variables expand to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variables {
    environment: BTreeMap<String, String>,
    clara_home: PathBuf,
    program_dir: Option<PathBuf>,
    app_dir: Option<PathBuf>,
    accelerator: Accelerator,
    shipped: Option<Shipped>,
}

/// Programs the app ships: the value of a folder variable that nothing else names, while
/// the machine's accelerator is the build they are.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shipped {
    variable: String,
    folder: PathBuf,
    build: Accelerator,
}

/// Why a string's variables could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VariableError {
    /// `${NAME}` with no value and no default.
    #[error("uses the variable ${{{0}}}, which is not set")]
    Undefined(String),
    /// `${` without its `}`.
    #[error("has a \"${{\" without its closing \"}}\"")]
    Unterminated,
    /// `${}` or a name with characters other than letters, digits and `_`.
    #[error("has a bad variable name \"${{{0}}}\"")]
    BadName(String),
    /// `${PROGRAM_DIR}` in a service that has no `install` table.
    #[error("uses ${{PROGRAM_DIR}}, which only a service with an install table has")]
    NoProgramDir,
    /// `${APP_DIR}` where the running program's folder is not known.
    #[error("uses ${{APP_DIR}}, but the folder of the running program is not known")]
    NoAppDir,
    /// Defaults inside defaults, deeper than [`MAX_NESTING`].
    #[error("nests \"${{…}}\" more than {MAX_NESTING} deep")]
    TooDeep,
}

/// How deep `${A:-${B:-…}}` may nest: far more than any real default needs, and low
/// enough that expansion stays linear in the text's length and its stack small.
pub const MAX_NESTING: usize = 16;

impl VariableError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            VariableError::Undefined(name) => {
                format!("set it in the environment, or give a default: ${{{name}:-value}}")
            }
            VariableError::Unterminated => {
                "close it with \"}\", or write \"$$\" for a literal \"$\"".into()
            }
            VariableError::BadName(_) => {
                "names use letters, digits and \"_\", and do not start with a digit".into()
            }
            VariableError::TooDeep => "give the innermost default directly".into(),
            VariableError::NoProgramDir => {
                "add [services.NAME.install], or write the program's own path".into()
            }
            VariableError::NoAppDir => "give a default: ${APP_DIR:-/path/to/folder}".into(),
        }
    }
}

impl Variables {
    /// The process environment, with `CLARA_HOME` defaulting to the platform's data
    /// directory (`~/.local/share/ClaraVerse`, `~/Library/Application Support/ClaraVerse`,
    /// `%APPDATA%\ClaraVerse`).
    pub fn from_environment() -> Variables {
        let environment: BTreeMap<String, String> = std::env::vars().collect();
        let clara_home = environment
            .get("CLARA_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(default_clara_home);
        Variables {
            environment,
            clara_home,
            program_dir: None,
            app_dir: running_program_folder(),
            accelerator: Accelerator::Cpu,
            shipped: None,
        }
    }

    /// Exactly these environment values and this data directory (for tests and embedding).
    pub fn new(
        environment: impl IntoIterator<Item = (String, String)>,
        clara_home: impl Into<PathBuf>,
    ) -> Variables {
        Variables {
            environment: environment.into_iter().collect(),
            clara_home: clara_home.into(),
            program_dir: None,
            app_dir: running_program_folder(),
            accelerator: Accelerator::Cpu,
            shipped: None,
        }
    }

    /// These variables, with the user's chosen folders (saved in the choices) as values for
    /// the names the environment leaves unset: what someone sets for one run wins over
    /// what was saved.
    pub fn with_folders(mut self, folders: &BTreeMap<String, PathBuf>) -> Variables {
        for (name, folder) in folders {
            self.environment
                .entry(name.clone())
                .or_insert_with(|| folder.to_string_lossy().into_owned());
        }
        self
    }

    /// These variables, with `folder` as the value of `${PROGRAM_DIR}` (for one service).
    pub fn with_program_dir(&self, folder: PathBuf) -> Variables {
        Variables {
            program_dir: Some(folder),
            ..self.clone()
        }
    }

    /// These variables, with `folder` as the value of `${APP_DIR}`.
    pub fn with_app_dir(self, folder: impl Into<PathBuf>) -> Variables {
        Variables {
            app_dir: Some(folder.into()),
            ..self
        }
    }

    /// These variables for a machine whose models run best on `accelerator` (the CPU
    /// unless told): it chooses among the builds an `install` offers.
    pub fn with_accelerator(self, accelerator: Accelerator) -> Variables {
        Variables {
            accelerator,
            ..self
        }
    }

    /// The machine's accelerator, see [`Variables::with_accelerator`].
    pub fn accelerator(&self) -> Accelerator {
        self.accelerator
    }

    /// These variables with `folder` as the value of `variable` where neither the
    /// environment nor a saved folder names one (an empty saved folder names none on
    /// purpose), while the machine's accelerator is `build`: the programs the app ships,
    /// used when they are the build this machine would download.
    pub fn with_shipped(self, variable: &str, folder: PathBuf, build: Accelerator) -> Variables {
        Variables {
            shipped: Some(Shipped {
                variable: variable.to_string(),
                folder,
                build,
            }),
            ..self
        }
    }

    /// The value of the variable `name` — from the environment, a saved folder, or the
    /// programs the app ships — when it is set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.lookup(name).filter(|value| !value.is_empty())
    }

    /// The value of `name`, empty or not.
    fn lookup(&self, name: &str) -> Option<&str> {
        if let Some(value) = self.environment.get(name) {
            return Some(value);
        }
        self.shipped
            .as_ref()
            .filter(|shipped| shipped.variable == name && shipped.build == self.accelerator)
            .and_then(|shipped| shipped.folder.to_str())
    }

    /// The app's data directory, the value of `${CLARA_HOME}`.
    pub fn clara_home(&self) -> &Path {
        &self.clara_home
    }

    /// `${CLARA_HOME}/state`: where the app and `clara-supervisor` keep their state unless
    /// told otherwise.
    pub fn default_state_dir(&self) -> PathBuf {
        self.clara_home.join("state")
    }

    /// `text` with every variable replaced, for the service named `service`.
    pub fn expand(&self, text: &str, service: &str) -> Result<String, VariableError> {
        if nesting(text) > MAX_NESTING {
            return Err(VariableError::TooDeep);
        }
        self.expand_nested(text, service)
    }

    /// `expand`, once the nesting is known to be shallow.
    fn expand_nested(&self, text: &str, service: &str) -> Result<String, VariableError> {
        let mut output = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(dollar) = rest.find('$') {
            output.push_str(&rest[..dollar]);
            let after = &rest[dollar + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                output.push('$');
                rest = tail;
            } else if let Some(body_and_tail) = after.strip_prefix('{') {
                let close = matching_brace(body_and_tail).ok_or(VariableError::Unterminated)?;
                output.push_str(&self.value_of(&body_and_tail[..close], service)?);
                rest = &body_and_tail[close + 1..];
            } else {
                output.push('$');
                rest = after;
            }
        }
        output.push_str(rest);
        Ok(output)
    }

    /// The value of one `${…}` body: `NAME` or `NAME:-default`.
    fn value_of(&self, body: &str, service: &str) -> Result<String, VariableError> {
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        let valid = name
            .chars()
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(VariableError::BadName(body.to_string()));
        }
        let value = match name {
            "SERVICE" => Some(service.to_string()),
            "CLARA_HOME" => Some(self.clara_home.display().to_string()),
            "PROGRAM_DIR" => match &self.program_dir {
                Some(folder) => Some(folder.display().to_string()),
                None if default.is_some() => None,
                None => return Err(VariableError::NoProgramDir),
            },
            "APP_DIR" => match &self.app_dir {
                Some(folder) => Some(folder.display().to_string()),
                None if default.is_some() => None,
                None => return Err(VariableError::NoAppDir),
            },
            _ => self.lookup(name).map(str::to_string),
        };
        match (value, default) {
            (Some(value), _) if !value.is_empty() || default.is_none() => Ok(value),
            (_, Some(default)) => self.expand_nested(default, service),
            (_, None) => Err(VariableError::Undefined(name.to_string())),
        }
    }
}

/// The folder of the running program, the value of `${APP_DIR}`: unknown only where the
/// system cannot say which program runs.
fn running_program_folder() -> Option<PathBuf> {
    let program = std::env::current_exe().ok()?;
    program.parent().map(Path::to_path_buf)
}

/// How deep `${` nests in `text` at most, in one pass (`$$` is a literal `$`).
fn nesting(text: &str) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('$', Some('$')) => {
                chars.next();
            }
            ('$', Some('{')) => {
                chars.next();
                depth += 1;
                deepest = deepest.max(depth);
            }
            ('}', _) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The index of the `}` that closes a `${` whose body starts `text`, skipping nested `${…}`.
fn matching_brace(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut previous = '\0';
    for (index, c) in text.char_indices() {
        match c {
            '{' if previous == '$' => depth += 1,
            '}' if depth == 0 => return Some(index),
            '}' => depth -= 1,
            _ => {}
        }
        previous = c;
    }
    None
}

/// The platform's per-user data directory for ClaraVerse.
fn default_clara_home() -> PathBuf {
    dirs::data_dir()
        .or_else(dirs::home_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("ClaraVerse")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables() -> Variables {
        Variables::new(
            [
                ("MODELS".to_string(), "/models".to_string()),
                ("EMPTY".to_string(), String::new()),
            ],
            "/home/u/.local/share/ClaraVerse",
        )
    }

    #[test]
    fn shipped_programs_come_last_and_only_for_their_build() {
        let shipped = |variables: Variables| {
            variables.with_shipped("BINARIES", "/opt/clara/programs".into(), Accelerator::Cpu)
        };
        let base = variables();
        assert_eq!(
            shipped(base.clone()).get("BINARIES"),
            Some("/opt/clara/programs")
        );
        assert_eq!(
            shipped(base.clone()).expand("${BINARIES:-none}/llama-swap", "core"),
            Ok("/opt/clara/programs/llama-swap".into())
        );
        // A machine that would download another build downloads it.
        let vulkan = shipped(base.clone().with_accelerator(Accelerator::Vulkan));
        assert_eq!(vulkan.get("BINARIES"), None);
        // A folder the user chose wins; an empty one says "download" and wins too.
        let chosen = shipped(base.clone())
            .with_folders(&BTreeMap::from([("BINARIES".to_string(), "/mine".into())]));
        assert_eq!(chosen.get("BINARIES"), Some("/mine"));
        let download =
            shipped(base).with_folders(&BTreeMap::from([("BINARIES".to_string(), PathBuf::new())]));
        assert_eq!(download.get("BINARIES"), None);
        assert_eq!(
            download.expand("${BINARIES:-none}", "core"),
            Ok("none".into())
        );
    }

    #[test]
    fn app_dir_is_the_running_programs_folder_when_known() {
        let known = variables().with_app_dir("/usr/lib/ClaraVerse");
        assert_eq!(
            known.expand("${CLARA_MCP_DIR:-${APP_DIR}}/clara-mcp", "mcp"),
            Ok("/usr/lib/ClaraVerse/clara-mcp".into())
        );
        let running = std::env::current_exe().expect("this test's program");
        let folder = running.parent().expect("a folder").to_path_buf();
        for variables in [Variables::from_environment(), variables()] {
            let expanded = variables.expand("${APP_DIR}", "mcp");
            assert_eq!(expanded.map(PathBuf::from), Ok(folder.clone()));
        }
        let unknown = Variables {
            app_dir: None,
            ..variables()
        };
        assert_eq!(
            unknown.expand("${APP_DIR:-/opt}/clara-mcp", "mcp"),
            Ok("/opt/clara-mcp".into())
        );
        assert_eq!(
            unknown.expand("${APP_DIR}/clara-mcp", "mcp"),
            Err(VariableError::NoAppDir)
        );
        assert_eq!(
            VariableError::NoAppDir.to_string(),
            "uses ${APP_DIR}, but the folder of the running program is not known"
        );
    }

    #[test]
    fn chosen_folders_fill_what_the_environment_leaves_unset() {
        let folders = BTreeMap::from([
            ("MODELS".to_string(), PathBuf::from("/chosen/models")),
            (
                "CLARA_N8N_DATA".to_string(),
                PathBuf::from("/home/u/.clara/n8n"),
            ),
        ]);
        let variables = variables().with_folders(&folders);
        let expanded = variables
            .expand("${CLARA_N8N_DATA:-${CLARA_HOME}/n8n} ${MODELS}", "n8n")
            .expect("all defined");
        assert_eq!(expanded, "/home/u/.clara/n8n /models");
    }

    #[test]
    fn expands_environment_and_built_ins() {
        let expanded = variables()
            .expand("${CLARA_HOME}/${SERVICE}:${MODELS}", "comfyui")
            .expect("all defined");
        assert_eq!(expanded, "/home/u/.local/share/ClaraVerse/comfyui:/models");
    }

    #[test]
    fn uses_the_default_when_unset_or_empty() {
        let v = variables();
        assert_eq!(v.expand("${NOPE:-8080}", "s"), Ok("8080".to_string()));
        assert_eq!(v.expand("${EMPTY:-x}", "s"), Ok("x".to_string()));
        assert_eq!(v.expand("${MODELS:-x}", "s"), Ok("/models".to_string()));
        assert_eq!(v.expand("${NOPE:-}", "s"), Ok(String::new()));
    }

    #[test]
    fn defaults_may_use_variables() {
        let v = variables();
        assert_eq!(
            v.expand("${BINARIES:-${CLARA_HOME}/bin}/llama-swap", "s"),
            Ok("/home/u/.local/share/ClaraVerse/bin/llama-swap".to_string())
        );
        assert_eq!(
            v.expand("${NOPE:-${ALSO_NOPE}}", "s").unwrap_err(),
            VariableError::Undefined("ALSO_NOPE".into())
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let v = variables();
        let nested = |depth: usize| format!("{}x{}", "${A:-".repeat(depth), "}".repeat(depth));
        assert_eq!(v.expand(&nested(MAX_NESTING), "s"), Ok("x".to_string()));
        let error = v.expand(&nested(MAX_NESTING + 1), "s").unwrap_err();
        assert_eq!(error.to_string(), "nests \"${…}\" more than 16 deep");
        assert_eq!(error.hint(), "give the innermost default directly");
        // Deep enough to overflow the stack, and to take seconds, before the bound.
        assert_eq!(v.expand(&nested(50_000), "s"), Err(VariableError::TooDeep));
        assert_eq!(nesting("$${A:-${B}}"), 1, "$$ is a literal dollar");
    }

    #[test]
    fn keeps_literal_dollars() {
        let v = variables();
        assert_eq!(v.expand("a$$b $x $", "s"), Ok("a$b $x $".to_string()));
    }

    #[test]
    fn undefined_variable_is_named() {
        let error = variables().expand("--dir=${MODELS_DIR}", "s").unwrap_err();
        assert_eq!(error, VariableError::Undefined("MODELS_DIR".into()));
        assert_eq!(
            error.to_string(),
            "uses the variable ${MODELS_DIR}, which is not set"
        );
        assert_eq!(
            error.hint(),
            "set it in the environment, or give a default: ${MODELS_DIR:-value}"
        );
    }

    #[test]
    fn malformed_references_are_explained() {
        let v = variables();
        let unterminated = v.expand("${HOME", "s").unwrap_err();
        assert_eq!(
            unterminated.to_string(),
            "has a \"${\" without its closing \"}\""
        );
        let bad = v.expand("${1X}", "s").unwrap_err();
        assert_eq!(bad.to_string(), "has a bad variable name \"${1X}\"");
        assert_eq!(
            v.expand("${}", "s").unwrap_err(),
            VariableError::BadName(String::new())
        );
    }
}
