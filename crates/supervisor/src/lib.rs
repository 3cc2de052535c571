//! The ClaraVerse supervisor engine.
//!
//! Service definitions ([`definitions`]) are loaded from TOML, checked, narrowed to the
//! selected features ([`selection`]) and planned into a start order ([`plan`]) over a
//! dependency graph ([`graph`]). The desktop app and the `clara-supervisor` CLI both sit
//! on top of this crate; it has no UI dependency.

pub mod catalog;
pub mod definitions;
pub mod diagnostics;
pub mod graph;
pub mod plan;
pub mod platform;
pub mod selection;
pub mod suggest;
