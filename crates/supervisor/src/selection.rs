//! Feature selection: which services run for the features the user turned on.
//!
//! A service runs when it belongs to no feature or to a selected one. A running service's
//! dependencies run too, even when their own feature is off: they are "pulled in", and the
//! selection records who needed them so the user can be told.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use crate::definitions::{Definitions, PortMapping, Protocol, Service, dependency_graph};
use crate::diagnostics::{Diagnostic, Subject};
use crate::suggest;

/// The features a user asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureChoice {
    /// The features marked `default = true`.
    Defaults,
    /// Exactly these features.
    Only(BTreeSet<String>),
}

/// The outcome of feature selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Selection {
    /// The features that are on.
    pub features: BTreeSet<String>,
    /// The services that run.
    pub services: BTreeSet<String>,
    /// Services that run only because a running service needs them.
    pub pulled_in: Vec<PulledIn>,
}

/// A service of an unselected feature that runs because others need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PulledIn {
    /// The service pulled in.
    pub service: String,
    /// Its feature, which is off.
    pub feature: String,
    /// The selected services that need it, directly or through others.
    pub needed_by: Vec<String>,
}

impl PulledIn {
    /// A sentence for people: `python-backend runs although feature ragAndTts is off: comfyui needs it`.
    pub fn describe(&self) -> String {
        format!(
            "{} runs although feature {} is off: {} {} it",
            self.service,
            self.feature,
            self.needed_by.join(", "),
            if self.needed_by.len() == 1 {
                "needs"
            } else {
                "need"
            }
        )
    }
}

/// Selects the services for `choice`, and checks that no two of them publish the same port.
pub fn select(
    definitions: &Definitions,
    choice: &FeatureChoice,
) -> Result<Selection, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let features: BTreeSet<String> = match choice {
        FeatureChoice::Defaults => definitions
            .features
            .values()
            .filter(|feature| feature.default)
            .map(|feature| feature.name.clone())
            .collect(),
        FeatureChoice::Only(names) => {
            for name in names
                .iter()
                .filter(|name| !definitions.features.contains_key(*name))
            {
                let known = definitions.features.keys().map(String::as_str);
                let hint = suggest::did_you_mean(name, known).unwrap_or_else(|| {
                    let all: Vec<&str> = definitions.features.keys().map(String::as_str).collect();
                    format!("the features are: {}", all.join(", "))
                });
                errors.push(
                    Diagnostic::error(Subject::Feature(name.clone()), "is not defined").hint(hint),
                );
            }
            names.clone()
        }
    };
    let chosen: BTreeSet<&str> = definitions
        .services
        .values()
        .filter(|service| {
            service
                .feature
                .as_ref()
                .is_none_or(|f| features.contains(f))
        })
        .map(|service| service.name.as_str())
        .collect();
    let graph = dependency_graph(definitions.services.values());
    let services = graph.with_dependencies(chosen.iter().copied());
    let mut pulled_in = Vec::new();
    for name in &services {
        if chosen.contains(name.as_str()) {
            continue;
        }
        let feature = definitions.services[name]
            .feature
            .clone()
            .unwrap_or_default();
        let needed_by = graph
            .dependents(name)
            .into_iter()
            .filter(|dependent| chosen.contains(dependent.as_str()))
            .collect();
        pulled_in.push(PulledIn {
            service: name.clone(),
            feature,
            needed_by,
        });
    }
    errors.extend(port_conflicts(
        services.iter().map(|name| &definitions.services[name]),
    ));
    if errors.is_empty() {
        Ok(Selection {
            features,
            services,
            pulled_in,
        })
    } else {
        Err(errors)
    }
}

/// One error for each port that a service publishes on the same host port and protocol
/// as an earlier service, where their addresses overlap.
fn port_conflicts<'a>(services: impl Iterator<Item = &'a Service>) -> Vec<Diagnostic> {
    let mut taken: HashMap<(u16, Protocol), Vec<(&'a Service, &'a PortMapping)>> = HashMap::new();
    let mut errors = Vec::new();
    for service in services {
        for port in &service.ports {
            let same_port = taken.entry((port.host_port, port.protocol)).or_default();
            let clash = same_port.iter().find(|(_, other)| {
                other.host_ip == port.host_ip
                    || other.host_ip.is_unspecified()
                    || port.host_ip.is_unspecified()
            });
            match clash {
                Some((owner, _)) => {
                    let place = owner
                        .ports
                        .iter()
                        .find(|p| p.host_port == port.host_port)
                        .and_then(|p| p.location.as_ref())
                        .map(|l| format!(" ({l})"))
                        .unwrap_or_default();
                    errors.push(
                        Diagnostic::error(
                            Subject::Service(service.name.clone()),
                            format!(
                                "host port {} is also published by service \"{}\"{place}",
                                port.host_port, owner.name
                            ),
                        )
                        .at(port.location.clone().or_else(|| service.location.clone()))
                        .hint("give one of them another host port".to_string()),
                    );
                }
                None => same_port.push((service, port)),
            }
        }
    }
    errors
}
