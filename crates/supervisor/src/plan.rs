//! The start plan for the selected services: start waves, start and stop order, and the
//! services affected when one of them restarts or stops.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::definitions::{Definitions, dependency_graph};
use crate::graph::{DependencyGraph, describe_cycle};
use crate::selection::{PulledIn, Selection};

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The services depend on each other in a circle.
    #[error("services depend on each other in a cycle: {}", describe_cycle(.0))]
    Cycle(Vec<String>),
}

/// The dependency plan of a set of services.
#[derive(Debug, Clone)]
pub struct Plan {
    graph: DependencyGraph,
    waves: Vec<Vec<String>>,
    pulled_in: Vec<PulledIn>,
}

/// The plan as data, for `graph --format json`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary<'a> {
    /// Services that may start together, wave after wave.
    pub waves: &'a [Vec<String>],
    /// Services that run only because a selected service needs them.
    pub pulled_in: &'a [PulledIn],
}

impl Plan {
    /// The plan for the services of `selection`.
    pub fn new(definitions: &Definitions, selection: &Selection) -> Result<Plan, PlanError> {
        let selected = selection
            .services
            .iter()
            .filter_map(|name| definitions.services.get(name));
        let mut plan = Plan::from_graph(dependency_graph(selected))?;
        plan.pulled_in = selection.pulled_in.clone();
        Ok(plan)
    }

    /// The plan of every defined service, whatever the features: what a manager decides
    /// with, since features may change while it runs.
    pub fn of_all(definitions: &Definitions) -> Result<Plan, PlanError> {
        Plan::from_graph(dependency_graph(definitions.services.values()))
    }

    /// The plan of an explicit graph: `edges` are `(dependent, dependency)` pairs.
    pub fn from_edges<'a>(
        services: impl IntoIterator<Item = &'a str>,
        edges: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Plan, PlanError> {
        Plan::from_graph(DependencyGraph::new(services, edges))
    }

    fn from_graph(graph: DependencyGraph) -> Result<Plan, PlanError> {
        let waves = graph.waves().map_err(PlanError::Cycle)?;
        Ok(Plan {
            graph,
            waves,
            pulled_in: Vec::new(),
        })
    }

    /// Start waves: every service of a wave has all its dependencies in earlier waves.
    pub fn waves(&self) -> &[Vec<String>] {
        &self.waves
    }

    /// A deterministic start order that puts every dependency before its dependents.
    pub fn start_order(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.waves.iter().flatten().map(String::as_str)
    }

    /// The stop order: the start order reversed, so dependents stop before what they need.
    pub fn stop_order(&self) -> impl Iterator<Item = &str> {
        self.start_order().rev()
    }

    /// Every service that depends on `name`, directly or through others: what must stop
    /// before it stops, and what may follow it when it restarts.
    pub fn dependents(&self, name: &str) -> BTreeSet<String> {
        self.graph.dependents(name)
    }

    /// Every service that `name` depends on, directly or through others.
    pub fn dependencies(&self, name: &str) -> BTreeSet<String> {
        self.graph.dependencies(name)
    }

    /// Services that run only because a selected service needs them.
    pub fn pulled_in(&self) -> &[PulledIn] {
        &self.pulled_in
    }

    /// Waves and pulled-in services, ready to serialize.
    pub fn summary(&self) -> PlanSummary<'_> {
        PlanSummary {
            waves: &self.waves,
            pulled_in: &self.pulled_in,
        }
    }

    /// Graphviz DOT text of the plan: an arrow from each dependency to its dependents,
    /// labelled with the condition, pulled-in services dashed.
    pub fn to_dot(&self, definitions: &Definitions) -> String {
        let mut dot = String::from("digraph services {\n  rankdir=LR;\n  node [shape=box];\n");
        for name in self.start_order() {
            let style = if self.pulled_in.iter().any(|p| p.service == name) {
                " [style=dashed]"
            } else {
                ""
            };
            dot.push_str(&format!("  \"{name}\"{style};\n"));
        }
        for name in self.start_order() {
            for dependency in definitions
                .services
                .get(name)
                .map(|s| s.depends_on.as_slice())
                .unwrap_or_default()
            {
                dot.push_str(&format!(
                    "  \"{}\" -> \"{name}\" [label=\"{}\"];\n",
                    dependency.service,
                    dependency.condition.name()
                ));
            }
        }
        dot.push_str("}\n");
        dot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_order_reverses_start_order() {
        let plan = Plan::from_edges(["web", "api", "db"], [("web", "api"), ("api", "db")])
            .expect("acyclic");
        assert_eq!(plan.start_order().collect::<Vec<_>>(), ["db", "api", "web"]);
        assert_eq!(plan.stop_order().collect::<Vec<_>>(), ["web", "api", "db"]);
        assert_eq!(
            plan.dependents("db").into_iter().collect::<Vec<_>>(),
            ["api", "web"]
        );
    }

    #[test]
    fn a_cycle_is_an_error_naming_it() {
        let error = Plan::from_edges(["a", "b"], [("a", "b"), ("b", "a")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "services depend on each other in a cycle: a -> b -> a"
        );
    }
}
