//! The one contract between the app and its window: every event the window listens to and
//! every command it may call, with the types of what they carry. Those types are Rust's
//! (derived with ts-rs, the engine's through its `typescript` feature); the window's view of
//! them, `ui/types/`, is generated from here by
//! `cargo test -p claraverse --lib export_bindings`, and `tsc` checks the UI against it. A
//! field renamed here without the UI following makes that check fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use tauri::{AppHandle, Emitter, Runtime};
use ts_rs::{Config, TS, TypeVisitor};

use crate::backups::BackupFile;
use crate::bridge::{
    PullProgress, ServiceLog, StartupComplete, StartupFailed, StatusChanged, SummaryChanged,
};
use crate::commands::ServiceList;
use crate::desktop::SecondLaunch;
use crate::launch::LaunchState;
use crate::metrics::MetricsUpdate;
use crate::settings::Settings;
use crate::views::{
    EarlierAppView, FeatureChange, FeatureView, OwnServerView, ProgramsView, ServerTest,
};
use crate::welcome::Welcome;
use clara_supervisor::output::LogLine;

/// An event the window listens to: its payload's type, which knows its name.
pub trait UiEvent: Serialize + Clone + TS + 'static {
    /// The event's name.
    const NAME: &'static str;
}

/// Sends `payload` to the window, under its event's name.
pub fn emit<R: Runtime, E: UiEvent>(app: &AppHandle<R>, payload: E) -> tauri::Result<()> {
    app.emit(E::NAME, payload)
}

/// Names each event's payload type (`impl UiEvent`), and lists them all for the window.
macro_rules! events {
    ($($name:literal => $payload:ty),* $(,)?) => {
        $(
            impl UiEvent for $payload {
                const NAME: &'static str = $name;
            }
        )*

        /// Every event, by name, with its payload's type.
        fn events(cfg: &Config) -> Vec<(String, Declared)> {
            vec![$(($name.to_string(), Declared::of::<$payload>(cfg))),*]
        }
    };
}

events! {
    "service-status-changed" => StatusChanged,
    "summary-changed" => SummaryChanged,
    "startup-complete" => StartupComplete,
    "startup-failed" => StartupFailed,
    "pull-progress" => PullProgress,
    "service-log" => ServiceLog,
    "service-metrics" => MetricsUpdate,
    "second-launch" => SecondLaunch,
}

/// Lists the commands (in `src-tauri/commands.rs`) with their arguments and answers: makes
/// the invoke handler of exactly these, and their types for the window. An answer is what
/// a command resolves with; a command that fails rejects with a sentence.
macro_rules! commands {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $answer:ty;)*) => {
        /// The invoke handler of every command.
        pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(crate::commands::$name),*]
        }

        /// Every command, by name, with its arguments and its answer.
        fn commands(cfg: &Config) -> Vec<Command> {
            vec![$(Command {
                name: stringify!($name),
                args: vec![$((camel_case(stringify!($arg)), Declared::of::<$ty>(cfg))),*],
                answer: Declared::of::<$answer>(cfg),
            }),*]
        }
    };
}

commands! {
    services_painted() -> ();
    launch_state() -> LaunchState;
    retry_launch() -> LaunchState;
    move_earlier_app() -> LaunchState;
    start_fresh() -> LaunchState;
    quit_app() -> ();
    welcome_info() -> Welcome;
    begin(features: Vec<String>) -> ();
    get_settings() -> Settings;
    set_setting(name: String, value: bool) -> Settings;
    list_services() -> ServiceList;
    start_service(name: String) -> ();
    stop_service(name: String) -> Vec<String>;
    restart_service(name: String) -> ();
    retry_startup() -> ();
    continue_without(name: String) -> ();
    get_features() -> Vec<FeatureView>;
    preview_features(features: Vec<String>) -> FeatureChange;
    set_features(features: Vec<String>) -> FeatureChange;
    service_logs(name: String, lines: usize) -> Vec<LogLine>;
    follow_logs(name: String) -> ();
    unfollow_logs(name: String) -> ();
    open_service_url(name: String) -> ();
    list_own_servers() -> Vec<OwnServerView>;
    test_own_server(name: String, url: String) -> ServerTest;
    use_own_server(name: String, url: Option<String>) -> ();
    list_programs() -> Vec<ProgramsView>;
    use_programs_folder(name: String, folder: Option<String>) -> String;
    use_programs_build(name: String, build: Option<String>) -> String;
    use_models_folder(name: String, folder: Option<String>) -> String;
    earlier_app() -> Option<EarlierAppView>;
    remove_kept_container(kept_as: String) -> ();
    undo_move() -> String;
    backup_choices() -> String;
    list_backups() -> Vec<BackupFile>;
    restore_backup(path: String) -> String;
}

/// One command as the window sees it.
struct Command {
    name: &'static str,
    args: Vec<(String, Declared)>,
    answer: Declared,
}

/// A type as TypeScript writes it, the declarations it names, and how to write those.
struct Declared {
    /// How TypeScript writes it: `ServiceList`, `Array<string>`, `null`.
    name: String,
    /// The declarations it names, with their files.
    imports: BTreeMap<String, PathBuf>,
    /// Writes those declarations, and those they need, into a folder.
    export: fn(&Config) -> Result<(), ts_rs::ExportError>,
}

impl Declared {
    fn of<T: TS + 'static>(cfg: &Config) -> Self {
        let mut imports = BTreeMap::new();
        match T::output_path() {
            Some(path) => {
                imports.insert(T::ident(cfg), path);
            }
            None => {
                struct Named<'a>(&'a Config, &'a mut BTreeMap<String, PathBuf>);
                impl TypeVisitor for Named<'_> {
                    fn visit<U: TS + 'static + ?Sized>(&mut self) {
                        if let Some(path) = U::output_path() {
                            self.1.insert(U::ident(self.0), path);
                        }
                    }
                }
                // `Array<LogLine>` names `LogLine`, its generic argument.
                T::visit_generics(&mut Named(cfg, &mut imports));
            }
        }
        Declared {
            name: T::name(cfg),
            imports,
            export: export::<T>,
        }
    }
}

/// Writes `T`'s declaration (or, for `Vec<U>` and the like, those it names: `U`, as a
/// generic argument, and what `U` needs) with every declaration it needs.
fn export<T: TS + 'static>(cfg: &Config) -> Result<(), ts_rs::ExportError> {
    if T::output_path().is_some() {
        return T::export_all(cfg);
    }
    struct Exported<'a>(&'a Config, Result<(), ts_rs::ExportError>);
    impl TypeVisitor for Exported<'_> {
        fn visit<U: TS + 'static + ?Sized>(&mut self) {
            if self.1.is_ok() && U::output_path().is_some() {
                self.1 = U::export_all(self.0);
            }
        }
    }
    let mut exported = Exported(cfg, Ok(()));
    T::visit_generics(&mut exported);
    T::visit_dependencies(&mut exported);
    exported.1
}

/// `follow_logs` → `followLogs`: Tauri's names for command arguments.
fn camel_case(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// The file that maps every event to its payload and every command to its arguments and
/// answer, with the imports of what they name.
const CONTRACT_FILE: &str = "contract.ts";

/// Writes the window's view of the contract into `dir`: one file per declaration (ts-rs)
/// and `contract.ts`. Returns the files written, relative to `dir`.
pub fn export_to(dir: &Path) -> Result<BTreeSet<PathBuf>, String> {
    let cfg = Config::new()
        // The numbers here (sequence numbers, bytes) stay far below 2^53.
        .with_large_int("number")
        .with_out_dir(dir);
    let events = events(&cfg);
    let commands = commands(&cfg);
    let mut imports = BTreeMap::new();
    let declared = events.iter().map(|(_, payload)| payload).chain(
        commands
            .iter()
            .flat_map(|c| c.args.iter().map(|(_, ty)| ty).chain([&c.answer])),
    );
    for ty in declared {
        (ty.export)(&cfg).map_err(|error| format!("cannot write the declarations: {error}"))?;
        imports.extend(ty.imports.clone());
    }

    let mut text = String::from(
        "// Generated from src-tauri/contract.rs by `cargo test -p claraverse --lib export_bindings`.\n\
         // Do not edit this file manually.\n",
    );
    for (name, path) in &imports {
        let module = path.with_extension("");
        text.push_str(&format!(
            "import type {{ {name} }} from \"./{}\";\n",
            module.display()
        ));
    }
    text.push_str("\n/** Every event the window listens to, by name, with its payload. */\n");
    text.push_str("export type Events = {\n");
    for (name, payload) in &events {
        text.push_str(&format!("  \"{name}\": {},\n", payload.name));
    }
    text.push_str("};\n\n");
    text.push_str(
        "/**\n * Every command the window may call, by name: its arguments and its answer (a command\n * that fails rejects with a sentence).\n */\n",
    );
    text.push_str("export type Commands = {\n");
    for command in &commands {
        let args = if command.args.is_empty() {
            "undefined".to_string()
        } else {
            let fields: Vec<String> = command
                .args
                .iter()
                .map(|(name, ty)| format!("{name}: {}", ty.name))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        };
        text.push_str(&format!(
            "  \"{}\": {{ args: {args}, answer: {} }},\n",
            command.name, command.answer.name
        ));
    }
    text.push_str("};\n");
    std::fs::write(dir.join(CONTRACT_FILE), text)
        .map_err(|error| format!("cannot write {CONTRACT_FILE}: {error}"))?;

    let mut written = BTreeSet::new();
    collect_files(dir, dir, &mut written)?;
    Ok(written)
}

/// Every file under `dir`, relative to `root`.
fn collect_files(root: &Path, dir: &Path, files: &mut BTreeSet<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|error| format!("cannot read {}: {error}", dir.display()))?
            .path();
        if path.is_dir() {
            collect_files(root, &path, files)?;
        } else if let Ok(relative) = path.strip_prefix(root) {
            files.insert(relative.to_path_buf());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `ui/types/` afresh: files that are no longer generated go. CI runs this, then
    /// `git diff --exit-code ui/types` and `tsc` (see scripts/test).
    #[test]
    fn export_bindings() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target = root.join("ui/types");
        let scratch = tempfile::tempdir().expect("a temporary folder");
        let written = export_to(scratch.path()).expect("the declarations are written");
        assert!(written.contains(Path::new(CONTRACT_FILE)));
        std::fs::create_dir_all(&target).expect("ui/types can be made");
        let mut before = BTreeSet::new();
        collect_files(&target, &target, &mut before).expect("ui/types can be read");
        for stale in before.difference(&written) {
            std::fs::remove_file(target.join(stale)).expect("a stale declaration can go");
        }
        for file in &written {
            let new = std::fs::read(scratch.path().join(file)).expect("written");
            if std::fs::read(target.join(file)).ok().as_ref() != Some(&new) {
                if let Some(parent) = target.join(file).parent() {
                    std::fs::create_dir_all(parent).expect("a folder in ui/types");
                }
                std::fs::write(target.join(file), new).expect("ui/types can be written");
            }
        }
    }

    #[test]
    fn every_command_has_its_permission_and_no_more() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut permitted = BTreeSet::new();
        collect_files(
            &root.join("src-tauri/permissions/autogenerated"),
            &root.join("src-tauri/permissions/autogenerated"),
            &mut permitted,
        )
        .expect("the permissions can be read");
        let permitted: BTreeSet<String> = permitted
            .iter()
            .filter_map(|path| Some(path.file_stem()?.to_str()?.to_string()))
            .collect();
        let listed: BTreeSet<String> = commands(&Config::new())
            .iter()
            .map(|command| command.name.to_string())
            .collect();
        assert_eq!(listed, permitted, "src-tauri/build.rs lists other commands");
    }

    #[test]
    fn arguments_are_named_as_tauri_names_them() {
        assert_eq!(camel_case("name"), "name");
        assert_eq!(camel_case("lines_wanted"), "linesWanted");
    }
}
