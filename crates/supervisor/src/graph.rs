//! The dependency graph over service names, built on petgraph: cycles, start waves and
//! the services that depend on a service, directly or not.
//!
//! Edges point the way of "depends on": `a -> b` means `a` needs `b` first.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Dfs, Reversed, Walker};

/// A directed graph of services and their dependencies.
#[derive(Debug, Clone)]
pub struct DependencyGraph {
    graph: DiGraph<String, ()>,
    index: HashMap<String, NodeIndex>,
}

impl DependencyGraph {
    /// A graph of `nodes` with `(dependent, dependency)` edges. Edges that name an unknown
    /// service, or a service and itself, are left out: validation reports those on its own.
    pub fn new<'a>(
        nodes: impl IntoIterator<Item = &'a str>,
        edges: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut graph = DiGraph::new();
        let mut index = HashMap::new();
        for name in nodes {
            index
                .entry(name.to_string())
                .or_insert_with(|| graph.add_node(name.to_string()));
        }
        for (dependent, dependency) in edges {
            if let (Some(&from), Some(&to)) = (index.get(dependent), index.get(dependency))
                && from != to
            {
                graph.update_edge(from, to, ());
            }
        }
        DependencyGraph { graph, index }
    }

    /// Every dependency cycle, one per strongly connected group, each as the services in
    /// "depends on" order starting from the alphabetically first (not repeated at the end).
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let mut cycles: Vec<Vec<String>> = tarjan_scc(&self.graph)
            .into_iter()
            .filter(|component| component.len() > 1)
            .map(|component| self.shortest_cycle_in(&component))
            .collect();
        cycles.sort();
        cycles
    }

    /// A shortest cycle through the alphabetically first member of a strongly connected group.
    fn shortest_cycle_in(&self, component: &[NodeIndex]) -> Vec<String> {
        let members: BTreeSet<NodeIndex> = component.iter().copied().collect();
        let start = *component
            .iter()
            .min_by_key(|&&node| &self.graph[node])
            .expect("a strongly connected group with a cycle has members");
        // Breadth-first search from `start` back to `start`, neighbours in name order.
        let mut came_from: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
        let mut queue = VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            for next in self.sorted_neighbours(node, Direction::Outgoing) {
                if next == start {
                    let mut cycle = vec![node];
                    while let Some(&previous) = came_from.get(cycle.last().unwrap_or(&start)) {
                        cycle.push(previous);
                    }
                    return cycle
                        .into_iter()
                        .rev()
                        .map(|n| self.graph[n].clone())
                        .collect();
                }
                if members.contains(&next) && !came_from.contains_key(&next) && next != start {
                    came_from.insert(next, node);
                    queue.push_back(next);
                }
            }
        }
        unreachable!("every member of a strongly connected group lies on a cycle")
    }

    fn sorted_neighbours(&self, node: NodeIndex, direction: Direction) -> Vec<NodeIndex> {
        let mut neighbours: Vec<NodeIndex> =
            self.graph.neighbors_directed(node, direction).collect();
        neighbours.sort_by(|a, b| self.graph[*a].cmp(&self.graph[*b]));
        neighbours
    }

    /// The start waves: each wave holds the services whose dependencies are all in earlier
    /// waves, sorted by name. Services of one wave may start in parallel. On a cycle,
    /// returns one cycle instead.
    pub fn waves(&self) -> Result<Vec<Vec<String>>, Vec<String>> {
        let mut unmet: Vec<usize> = self
            .graph
            .node_indices()
            .map(|node| {
                self.graph
                    .neighbors_directed(node, Direction::Outgoing)
                    .count()
            })
            .collect();
        let mut wave: Vec<NodeIndex> = self
            .graph
            .node_indices()
            .filter(|node| unmet[node.index()] == 0)
            .collect();
        let mut waves = Vec::new();
        let mut placed = 0;
        while !wave.is_empty() {
            let mut next = Vec::new();
            for &node in &wave {
                for dependent in self.graph.neighbors_directed(node, Direction::Incoming) {
                    unmet[dependent.index()] -= 1;
                    if unmet[dependent.index()] == 0 {
                        next.push(dependent);
                    }
                }
            }
            placed += wave.len();
            let mut names: Vec<String> = wave.iter().map(|&n| self.graph[n].clone()).collect();
            names.sort();
            waves.push(names);
            wave = next;
        }
        if placed < self.graph.node_count() {
            let cycle = self.cycles().into_iter().next().unwrap_or_default();
            return Err(cycle);
        }
        Ok(waves)
    }

    /// Every service that depends on `name`, directly or through others.
    pub fn dependents(&self, name: &str) -> BTreeSet<String> {
        self.reachable(name, true)
    }

    /// Every service `name` depends on, directly or through others.
    pub fn dependencies(&self, name: &str) -> BTreeSet<String> {
        self.reachable(name, false)
    }

    /// `names` and everything they depend on, directly or through others.
    pub fn with_dependencies<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> BTreeSet<String> {
        let mut dfs = Dfs::empty(&self.graph);
        let mut found = BTreeSet::new();
        for start in names.into_iter().filter_map(|name| self.index.get(name)) {
            dfs.move_to(*start);
            while let Some(node) = dfs.next(&self.graph) {
                found.insert(self.graph[node].clone());
            }
        }
        found
    }

    fn reachable(&self, name: &str, against_edges: bool) -> BTreeSet<String> {
        let Some(&start) = self.index.get(name) else {
            return BTreeSet::new();
        };
        let nodes: Vec<NodeIndex> = if against_edges {
            Dfs::new(Reversed(&self.graph), start)
                .iter(Reversed(&self.graph))
                .collect()
        } else {
            Dfs::new(&self.graph, start).iter(&self.graph).collect()
        };
        nodes
            .into_iter()
            .filter(|&node| node != start)
            .map(|node| self.graph[node].clone())
            .collect()
    }
}

/// `a -> b -> c -> a`: a cycle written the way users read it.
pub fn describe_cycle(cycle: &[String]) -> String {
    let mut text = cycle.join(" -> ");
    if let Some(first) = cycle.first() {
        text.push_str(" -> ");
        text.push_str(first);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn graph(nodes: &[&str], edges: &[(&str, &str)]) -> DependencyGraph {
        DependencyGraph::new(nodes.iter().copied(), edges.iter().copied())
    }

    #[test]
    fn waves_group_what_can_start_together() {
        let g = graph(
            &["api", "cache", "db", "web"],
            &[("api", "db"), ("api", "cache"), ("web", "api")],
        );
        assert_eq!(
            g.waves(),
            Ok(vec![
                vec!["cache".to_string(), "db".to_string()],
                vec!["api".to_string()],
                vec!["web".to_string()],
            ])
        );
    }

    #[test]
    fn cycle_is_reported_as_the_cycle_itself() {
        let g = graph(
            &["a", "b", "c", "d"],
            &[("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")],
        );
        assert_eq!(g.cycles(), vec![vec!["a", "b", "c"]]);
        assert_eq!(describe_cycle(&g.cycles()[0]), "a -> b -> c -> a");
        assert_eq!(g.waves(), Err(vec!["a".into(), "b".into(), "c".into()]));
    }

    #[test]
    fn the_shortest_cycle_through_the_first_name_is_chosen() {
        let g = graph(
            &["a", "b", "c", "d"],
            &[("a", "b"), ("b", "c"), ("c", "d"), ("d", "a"), ("b", "a")],
        );
        assert_eq!(g.cycles(), vec![vec!["a", "b"]]);
    }

    #[test]
    fn transitive_dependents_and_dependencies() {
        let g = graph(
            &["docker", "backend", "comfyui", "n8n"],
            &[
                ("backend", "docker"),
                ("comfyui", "backend"),
                ("n8n", "docker"),
            ],
        );
        let names = |set: BTreeSet<String>| set.into_iter().collect::<Vec<_>>();
        assert_eq!(names(g.dependents("docker")), ["backend", "comfyui", "n8n"]);
        assert_eq!(names(g.dependents("backend")), ["comfyui"]);
        assert_eq!(names(g.dependencies("comfyui")), ["backend", "docker"]);
        assert!(g.dependents("missing").is_empty());
        assert_eq!(
            names(g.with_dependencies(["comfyui", "n8n"])),
            ["backend", "comfyui", "docker", "n8n"]
        );
    }

    /// A random DAG: edges only from a higher to a lower node number.
    fn dag() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
        (1usize..40).prop_flat_map(|n| {
            let edges = proptest::collection::vec((0..n, 0..n), 0..n * 3).prop_map(|pairs| {
                pairs
                    .into_iter()
                    .filter(|(a, b)| a != b)
                    .map(|(a, b)| (a.max(b), a.min(b)))
                    .collect::<Vec<_>>()
            });
            (Just(n), edges)
        })
    }

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("s{i:02}")).collect()
    }

    proptest! {
        #[test]
        fn waves_respect_every_edge((n, edges) in dag()) {
            let names = names(n);
            let g = DependencyGraph::new(
                names.iter().map(String::as_str),
                edges.iter().map(|&(a, b)| (names[a].as_str(), names[b].as_str())),
            );
            let waves = g.waves().expect("a DAG has no cycle");
            let wave_of: BTreeMap<&str, usize> = waves
                .iter()
                .enumerate()
                .flat_map(|(i, wave)| wave.iter().map(move |name| (name.as_str(), i)))
                .collect();
            prop_assert_eq!(wave_of.len(), n, "every service is placed exactly once");
            for &(dependent, dependency) in &edges {
                prop_assert!(wave_of[names[dependency].as_str()] < wave_of[names[dependent].as_str()]);
            }
            // Each service sits in the earliest wave its dependencies allow.
            for (i, wave) in waves.iter().enumerate().skip(1) {
                for name in wave {
                    let latest = edges
                        .iter()
                        .filter(|&&(a, _)| names[a] == *name)
                        .map(|&(_, b)| wave_of[names[b].as_str()])
                        .max();
                    prop_assert_eq!(latest, Some(i - 1));
                }
            }
        }

        #[test]
        fn a_graph_with_a_cycle_is_rejected_with_a_true_cycle(
            (n, edges, ring) in (2usize..40).prop_flat_map(|n| (
                Just(n),
                // any edges at all, cycles included
                proptest::collection::vec((0..n, 0..n), 0..n * 3),
                // plus a ring through 2 to 6 distinct services, so there is surely a cycle
                Just((0..n).collect::<Vec<_>>()).prop_shuffle().prop_flat_map(move |order| {
                    (2..=n.min(6)).prop_map(move |len| order[..len].to_vec())
                }),
            ))
        ) {
            let names = names(n);
            let mut edges = edges;
            for (i, &from) in ring.iter().enumerate() {
                edges.push((from, ring[(i + 1) % ring.len()]));
            }
            let g = DependencyGraph::new(
                names.iter().map(String::as_str),
                edges.iter().map(|&(a, b)| (names[a].as_str(), names[b].as_str())),
            );
            let cycle = g.waves().expect_err("the graph has a cycle");
            prop_assert!(cycle.len() >= 2);
            let edge_set: BTreeSet<(&str, &str)> = edges
                .iter()
                .map(|&(a, b)| (names[a].as_str(), names[b].as_str()))
                .collect();
            for (i, from) in cycle.iter().enumerate() {
                let to = &cycle[(i + 1) % cycle.len()];
                prop_assert!(edge_set.contains(&(from.as_str(), to.as_str())), "{} -> {} is not an edge", from, to);
            }
            let distinct: BTreeSet<&String> = cycle.iter().collect();
            prop_assert_eq!(distinct.len(), cycle.len(), "a cycle visits each service once");
        }
    }
}
