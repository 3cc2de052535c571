//! Planning speed: 1,000 services with 3,000 dependency edges.
//!
//! Measures the plan alone, the whole load (parse, validate, select, plan) of a TOML file
//! of that size, and, as the reference in the same run, a bare petgraph topological sort
//! of the same graph. After the run it prints each against the 20 ms goal and the
//! reference.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group};

use clara_supervisor::definitions::Variables;
use clara_supervisor::diagnostics::SourceFile;
use clara_supervisor::load::{self, LoadOptions};
use clara_supervisor::plan::Plan;
use clara_supervisor::platform::Platform;
use clara_supervisor::selection::FeatureChoice;

const SERVICES: usize = 1_000;
const EDGES: usize = 3_000;
const GOAL: Duration = Duration::from_millis(20);

/// A fixed pseudo-random DAG: each edge goes from a service to one defined before it.
fn graph() -> (Vec<String>, Vec<(usize, usize)>) {
    let names = (0..SERVICES).map(|i| format!("service-{i:04}")).collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut edges = std::collections::BTreeSet::new();
    while edges.len() < EDGES {
        let a = (next() % SERVICES as u64) as usize;
        let b = (next() % SERVICES as u64) as usize;
        if a != b {
            edges.insert((a.max(b), a.min(b)));
        }
    }
    (names, edges.into_iter().collect())
}

fn toml_text(names: &[String], edges: &[(usize, usize)]) -> String {
    let mut text = String::new();
    for (index, name) in names.iter().enumerate() {
        let deps: Vec<String> = edges
            .iter()
            .filter(|(dependent, _)| *dependent == index)
            .map(|(_, dependency)| format!("\"{}\"", names[*dependency]))
            .collect();
        text.push_str(&format!(
            "[services.{name}]\ncommand = [\"./bin/{name}\", \"--port\", \"{}\"]\nports = [\"{}\"]\ndepends_on = [{}]\nhealth = {{ tcp = \"127.0.0.1:{}\", interval = \"5s\" }}\n\n",
            20_000 + index,
            20_000 + index,
            deps.join(", "),
            20_000 + index
        ));
    }
    text
}

fn planning(c: &mut Criterion) {
    let (names, edges) = graph();
    let edge_names: Vec<(&str, &str)> = edges
        .iter()
        .map(|&(a, b)| (names[a].as_str(), names[b].as_str()))
        .collect();
    let mut group = c.benchmark_group("planning");
    group.bench_function("plan", |b| {
        b.iter(|| {
            Plan::from_edges(names.iter().map(String::as_str), edge_names.iter().copied())
                .expect("acyclic")
        })
    });
    group.bench_function("reference: petgraph toposort", |b| {
        b.iter(|| {
            let mut graph = petgraph::graph::DiGraph::<&str, ()>::new();
            let nodes: Vec<_> = names.iter().map(|n| graph.add_node(n.as_str())).collect();
            for &(a, b) in &edges {
                graph.add_edge(nodes[a], nodes[b], ());
            }
            petgraph::algo::toposort(&graph, None).expect("acyclic")
        })
    });
    let source = SourceFile::new("bench.toml", toml_text(&names, &edges));
    let options = LoadOptions {
        platform: Platform::Linux,
        variables: Variables::new([], "/tmp/clara"),
        features: FeatureChoice::Defaults,
    };
    group.bench_function("load, validate and plan a file", |b| {
        b.iter(|| load::load(black_box(&source), &options).expect("valid"))
    });
    group.finish();
}

criterion_group!(benches, planning);

/// The mean of one benchmark, from the estimates criterion saved in this run.
fn mean(target: &std::path::Path, name: &str) -> Option<Duration> {
    let path = target
        .join("criterion/planning")
        .join(name)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    let nanos = estimates["mean"]["point_estimate"].as_f64()?;
    Some(Duration::from_nanos(nanos as u64))
}

fn print_summary() {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let (Some(plan), Some(reference), Some(load)) = (
        mean(&target, "plan"),
        mean(&target, "reference_ petgraph toposort"),
        mean(&target, "load, validate and plan a file"),
    ) else {
        println!(
            "(no saved estimates found under {}: no summary)",
            target.display()
        );
        return;
    };
    println!("\n{SERVICES} services, {EDGES} edges:");
    for (what, time) in [("plan", plan), ("load, validate and plan a file", load)] {
        println!(
            "  {what}: {time:.2?} = {:.3} of the {GOAL:?} goal, {:.1}x a bare petgraph toposort ({reference:.2?})",
            time.as_secs_f64() / GOAL.as_secs_f64(),
            time.as_secs_f64() / reference.as_secs_f64(),
        );
    }
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo bench` passes --bench; `cargo test --benches` runs each benchmark once, untimed.
    if std::env::args().any(|arg| arg == "--bench") {
        print_summary();
    }
}
