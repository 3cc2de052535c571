//! Service definitions: the TOML file format, its loading and every check on it.
//!
//! [`read`] takes a file, or the built-in catalog; [`check`] checks it for one platform and
//! returns the checked [`Definitions`] with every problem found at once. Choosing the
//! services of the features and planning them comes after, in [`crate::load`].

mod build;
mod model;
mod own_server;
mod raw;
mod values;
mod variables;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

pub use model::{
    Archive, Checksum, Condition, Definitions, Dependency, Download, Feature, GpuMode, HealthCheck,
    Install, PortMapping, Prepare, Probe, Programs, Protocol, RestartMode, RestartPolicy,
    RuntimeKind, Service, StopSignal, Volume, VolumeSource, dependency_graph,
};
pub use own_server::{own_server, use_own_servers};
pub use variables::{VariableError, Variables};

use crate::catalog;
use crate::diagnostics::{self, Diagnostic, SourceFile, Subject};
use crate::graph::describe_cycle;
use crate::platform::Platform;
use crate::suggest;
use build::ServiceBuilder;
use raw::{
    RawDependency, RawFeature, RawHealth, RawInstall, RawPrepare, RawRestart, RawService,
    field_names,
};

/// What checking a file found: its definitions (`None` when it is not usable TOML) and
/// every problem, errors and warnings, in the order found.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The checked model; trustworthy only when no diagnostic is an error.
    pub definitions: Option<Definitions>,
    /// Every error and warning.
    pub diagnostics: Vec<Diagnostic>,
}

/// A definitions file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read {}: {reason}", .path.display())]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// What the operating system said.
    pub reason: String,
}

/// The definitions to load: the file at `path`, or the built-in [`catalog`] without one.
/// The CLI (its `FILE` argument) and the desktop app (`--config`) both read theirs here,
/// then hand the source to [`load`], whose messages name it.
pub fn read(path: Option<&Path>) -> Result<SourceFile, ReadError> {
    let Some(path) = path else {
        return Ok(catalog::source());
    };
    std::fs::read_to_string(path)
        .map(|text| SourceFile::new(path.display().to_string(), text))
        .map_err(|error| ReadError {
            path: path.to_path_buf(),
            reason: error.to_string(),
        })
}

/// Checks a definitions file for one platform, with these variables: parsing, every
/// service, references, cycles and doubtful things, all problems at once.
pub fn check(source: &SourceFile, platform: Platform, variables: &Variables) -> Checked {
    let mut checker = Checker {
        source,
        platform,
        variables,
        diagnostics: Vec::new(),
    };
    let definitions = checker.check();
    Checked {
        definitions,
        diagnostics: checker.diagnostics,
    }
}

/// The top-level tables of a definitions file.
const TOP_LEVEL_KEYS: [&str; 2] = ["features", "services"];

struct Checker<'a> {
    source: &'a SourceFile,
    platform: Platform,
    variables: &'a Variables,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn at(&self, span: Range<usize>) -> Option<diagnostics::Location> {
        Some(self.source.location(span))
    }

    fn check(&mut self) -> Option<Definitions> {
        let (document, syntax_errors) = DeTable::parse_recoverable(self.source.text());
        if !syntax_errors.is_empty() {
            for error in syntax_errors {
                let location = error.span().map(|span| self.source.location(span));
                let message = format!("TOML syntax error: {}", error.message().trim_end());
                self.push(Diagnostic::error(Subject::File, message).at(location));
            }
            return None;
        }
        let mut feature_tables = Vec::new();
        let mut service_tables = Vec::new();
        for (key, value) in document.into_inner() {
            let (key_span, key) = (key.span(), key.into_inner());
            let entries = match key.as_ref() {
                "features" => &mut feature_tables,
                "services" => &mut service_tables,
                other => {
                    let hint = suggest::did_you_mean(other, TOP_LEVEL_KEYS);
                    let message = format!("unknown top-level key \"{other}\"");
                    let hint = hint.unwrap_or_else(|| {
                        "the file has [features.NAME] and [services.NAME] tables".into()
                    });
                    self.push(
                        Diagnostic::error(Subject::File, message)
                            .at(self.at(key_span))
                            .hint(hint),
                    );
                    continue;
                }
            };
            match value.into_inner() {
                DeValue::Table(table) => entries.extend(
                    table
                        .into_iter()
                        .map(|(name, value)| (name.get_ref().to_string(), name.span(), value)),
                ),
                other => {
                    let message = format!("\"{key}\" must be a table, not a {}", other.type_str());
                    self.push(Diagnostic::error(Subject::File, message).at(self.at(key_span)));
                }
            }
        }
        let features = self.features(feature_tables);
        let (services, invalid) = self.services(service_tables);
        let definitions = Definitions { features, services };
        self.check_references(&definitions, &invalid);
        self.check_cycles(&definitions);
        self.warn_about_doubtful_things(&definitions);
        Some(definitions)
    }

    /// Deserializes one table, reporting type errors and every unknown key.
    fn deserialize<T: for<'de> Deserialize<'de>>(
        &mut self,
        subject: &Subject,
        value: Spanned<DeValue<'_>>,
        known_keys: impl Fn(&[String]) -> &'static [&'static str],
    ) -> Option<T> {
        let tree = value.clone();
        let mut unknown: Vec<Vec<String>> = Vec::new();
        let result = serde_ignored::deserialize(ValueDeserializer::from(value), |path| {
            unknown.push(path_keys(&path));
        });
        for path in unknown {
            let span = key_span(&tree, &path).unwrap_or_else(|| tree.span());
            let key = path.last().cloned().unwrap_or_default();
            let hint = suggest::did_you_mean(&key, known_keys(&path).iter().copied());
            let message = format!("unknown key \"{}\"", path.join("."));
            self.push(
                Diagnostic::error(subject.clone(), message)
                    .at(self.at(span))
                    .hint(hint),
            );
        }
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                let span = error.span().unwrap_or_else(|| tree.span());
                let message = error.message().trim_end().to_string();
                self.push(Diagnostic::error(subject.clone(), message).at(self.at(span)));
                None
            }
        }
    }

    fn features(
        &mut self,
        tables: Vec<(String, Range<usize>, Spanned<DeValue<'_>>)>,
    ) -> BTreeMap<String, model::Feature> {
        let mut features = BTreeMap::new();
        for (name, _, value) in tables {
            let subject = Subject::Feature(name.clone());
            let Some(raw) =
                self.deserialize::<RawFeature>(&subject, value, |_| field_names::<RawFeature>())
            else {
                continue;
            };
            features.insert(
                name.clone(),
                model::Feature {
                    name,
                    label: raw.label,
                    description: raw.description,
                    default: raw.default.unwrap_or(false),
                },
            );
        }
        features
    }

    /// Builds every service that has the right TOML types (with its problems reported),
    /// and returns them with the names of those that have not (which still count as
    /// defined, so their dependents get no second error).
    fn services(
        &mut self,
        tables: Vec<(String, Range<usize>, Spanned<DeValue<'_>>)>,
    ) -> (BTreeMap<String, Service>, BTreeSet<String>) {
        let mut services = BTreeMap::new();
        let mut invalid = BTreeSet::new();
        for (name, span, value) in tables {
            let subject = Subject::Service(name.clone());
            let raw = self
                .deserialize::<RawService>(&subject, value, service_keys)
                .map(|raw| self.resolve_platform(&subject, raw));
            let Some(raw) = raw else {
                invalid.insert(name);
                continue;
            };
            let builder = ServiceBuilder::new(self.source, self.variables, &name, span);
            let (service, diagnostics) = builder.build(raw);
            self.diagnostics.extend(diagnostics);
            services.insert(name, service);
        }
        (services, invalid)
    }

    /// Merges the override for the chosen platform over the base, and checks that every
    /// override names a known platform and has no overrides of its own.
    fn resolve_platform(&mut self, subject: &Subject, mut raw: RawService) -> RawService {
        let overrides = raw.platform.take().unwrap_or_default();
        let mut chosen = None;
        for (name, over) in overrides {
            if over.get_ref().platform.is_some() {
                let message = format!("platform.{name} has its own platform table");
                self.push(
                    Diagnostic::error(subject.clone(), message)
                        .at(self.at(over.span()))
                        .hint("overrides apply to the service, not to each other".to_string()),
                );
            }
            match name.parse::<Platform>() {
                Ok(platform) if platform == self.platform => chosen = Some(over.into_inner()),
                Ok(_) => {}
                Err(_) => {
                    let names = Platform::ALL.map(Platform::name);
                    let hint = suggest::did_you_mean(&name, names)
                        .unwrap_or_else(|| "use linux, macos or windows".into());
                    let message = format!("unknown platform \"{name}\" in platform.{name}");
                    self.push(
                        Diagnostic::error(subject.clone(), message)
                            .at(self.at(over.span()))
                            .hint(hint),
                    );
                }
            }
        }
        match chosen {
            Some(over) => raw.merged_with(over),
            None => raw,
        }
    }

    /// Dependencies and features must exist; `completed` cannot be awaited on a service
    /// that is always restarted.
    fn check_references(&mut self, definitions: &Definitions, invalid: &BTreeSet<String>) {
        let defined: BTreeSet<&str> = definitions
            .services
            .keys()
            .chain(invalid)
            .map(String::as_str)
            .collect();
        for service in definitions.services.values() {
            let subject = Subject::Service(service.name.clone());
            if let Some(feature) = &service.feature
                && !definitions.features.contains_key(feature)
            {
                let hint =
                    suggest::did_you_mean(feature, definitions.features.keys().map(String::as_str))
                        .unwrap_or_else(|| format!("define it under [features.{feature}]"));
                self.push(
                    Diagnostic::error(
                        subject.clone(),
                        format!("belongs to feature \"{feature}\", which is not defined"),
                    )
                    .at(service.location.clone())
                    .hint(hint),
                );
            }
            for dependency in &service.depends_on {
                let target = dependency.service.as_str();
                let error = |message: String| {
                    Diagnostic::error(subject.clone(), message).at(dependency.location.clone())
                };
                if target == service.name {
                    self.push(
                        error("depends on itself".into())
                            .hint("remove it from depends_on".to_string()),
                    );
                } else if !defined.contains(&target) {
                    let hint = suggest::did_you_mean(target, defined.iter().copied());
                    self.push(
                        error(format!("depends on \"{target}\", which is not defined")).hint(hint),
                    );
                } else if let Some(other) = definitions.services.get(target)
                    && dependency.condition == Condition::Completed
                    && other.restart.policy == RestartMode::Always
                {
                    self.push(
                        error(format!(
                            "waits for \"{target}\" to complete, but its restart policy is \"always\", so it never completes"
                        ))
                        .hint(format!("use condition \"healthy\" or \"started\", or give \"{target}\" another restart policy")),
                    );
                }
            }
        }
    }

    /// Reports each dependency cycle once, at the first edge of the cycle.
    fn check_cycles(&mut self, definitions: &Definitions) {
        let graph = dependency_graph(definitions.services.values());
        for cycle in graph.cycles() {
            let first = &definitions.services[&cycle[0]];
            let location = first
                .depends_on
                .iter()
                .find(|d| Some(&d.service) == cycle.get(1))
                .and_then(|d| d.location.clone());
            self.push(
                Diagnostic::error(
                    Subject::Service(first.name.clone()),
                    format!("dependency cycle: {}", describe_cycle(&cycle)),
                )
                .at(location)
                .hint("remove one of these dependencies".to_string()),
            );
        }
    }

    fn warn_about_doubtful_things(&mut self, definitions: &Definitions) {
        let services = &definitions.services;
        for service in services.values() {
            let subject = Subject::Service(service.name.clone());
            for dependency in &service.depends_on {
                let Some(other) = services.get(&dependency.service) else {
                    continue;
                };
                let probed_anyway = matches!(
                    other.runtime,
                    RuntimeKind::External { .. } | RuntimeKind::Engine
                );
                if dependency.condition == Condition::Healthy
                    && other.health.is_none()
                    && !probed_anyway
                {
                    self.push(
                        Diagnostic::warning(
                            subject.clone(),
                            format!(
                                "waits for \"{}\" to be healthy, but it has no health check, so it counts as healthy as soon as it starts",
                                other.name
                            ),
                        )
                        .at(dependency.location.clone())
                        .hint(format!("give \"{}\" a health check, or use condition \"started\"", other.name)),
                    );
                }
                // A missing engine is a waiting state, not a failure: no warning for it.
                if service.critical && !other.critical && other.runtime != RuntimeKind::Engine {
                    self.push(
                        Diagnostic::warning(
                            subject.clone(),
                            format!(
                                "is critical but needs \"{}\", which is not: if \"{}\" fails, the start-up fails anyway",
                                other.name, other.name
                            ),
                        )
                        .at(dependency.location.clone())
                        .hint(format!("mark \"{}\" critical too", other.name)),
                    );
                }
            }
        }
        for feature in definitions.features.values() {
            if !services
                .values()
                .any(|s| s.feature.as_ref() == Some(&feature.name))
            {
                self.push(Diagnostic::warning(
                    Subject::Feature(feature.name.clone()),
                    "no service belongs to it, so turning it on does nothing",
                ));
            }
        }
        if services.is_empty() {
            self.push(
                Diagnostic::warning(Subject::File, "defines no services")
                    .hint("add a [services.NAME] table".to_string()),
            );
        }
    }
}

/// The keys a service table accepts at `path` (for did-you-mean hints).
fn service_keys(path: &[String]) -> &'static [&'static str] {
    match path {
        [_] => field_names::<RawService>(),
        [table, _] if table == "health" => field_names::<RawHealth>(),
        [table, _] if table == "restart" => field_names::<RawRestart>(),
        [table, _] | [table, _, _] if table == "install" => field_names::<RawInstall>(),
        [table, _] if table == "prepare" => field_names::<RawPrepare>(),
        [table, _, _] if table == "depends_on" => field_names::<RawDependency>(),
        [table, _, rest @ ..] if table == "platform" => service_keys(rest),
        _ => &[],
    }
}

/// The table keys of a `serde_ignored` path, without serde's internal markers.
fn path_keys(path: &serde_ignored::Path<'_>) -> Vec<String> {
    path.to_string()
        .split('.')
        .filter(|segment| *segment != "?" && !segment.starts_with("$__serde_spanned"))
        .map(str::to_string)
        .collect()
}

/// Where the key at `path` is written inside `tree`.
fn key_span(tree: &Spanned<DeValue<'_>>, path: &[String]) -> Option<Range<usize>> {
    let mut value = tree;
    let mut span = None;
    for segment in path {
        match value.get_ref() {
            DeValue::Table(table) => {
                let (key, next) = table.iter().find(|(key, _)| key.get_ref() == segment)?;
                span = Some(key.span());
                value = next;
            }
            DeValue::Array(array) => {
                value = array.get(segment.parse::<usize>().ok()?)?;
                span = Some(value.span());
            }
            _ => return None,
        }
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_takes_the_file_or_else_the_catalog() {
        let catalog = read(None).expect("the catalog needs no reading");
        assert_eq!(catalog.name(), catalog::NAME);
        assert_eq!(catalog.text(), catalog::TEXT);

        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("services.toml");
        std::fs::write(&path, "[services]\n").expect("written");
        let file = read(Some(&path)).expect("readable");
        assert_eq!(file.name(), path.display().to_string());
        assert_eq!(file.text(), "[services]\n");

        let missing = dir.path().join("missing.toml");
        let error = read(Some(&missing)).expect_err("no such file");
        assert_eq!(error.path, missing);
        assert!(
            error
                .to_string()
                .starts_with(&format!("cannot read {}: ", missing.display())),
            "{error}"
        );
    }
}
