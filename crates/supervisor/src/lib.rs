//! The ClaraVerse supervisor engine.
//!
//! Service definitions ([`definitions`]) are loaded from TOML, checked, narrowed to the
//! selected features ([`selection`]) and planned into a start order ([`plan`]) over a
//! dependency graph ([`graph`]). The [`manager`] runs them: one actor owns every
//! service's [`state`], starts each through a [`runtime`] as soon as its dependencies are
//! ready, probes its [`health`], restarts it by its [`restart`] policy, drains its
//! [`output`], and reports every change as an [`events`] stream. The desktop app and the
//! `clara-supervisor` CLI both sit on top of this crate; it has no UI dependency.
//! One supervisor runs per state directory: it holds that directory's [`lock`]. What the
//! user chose there can be backed up and restored ([`backup`]), and what the earlier
//! Electron app left can be carried over and undone ([`migration`]). A native service's
//! program that this machine lacks is downloaded before its first start ([`install`]),
//! and what it needs is made ready before each start ([`prepare`]).

pub mod backup;
pub mod catalog;
pub mod definitions;
pub mod diagnostics;
pub mod events;
pub mod graph;
pub mod health;
pub mod http_client;
pub mod install;
pub mod load;
pub mod lock;
pub mod manager;
pub mod migration;
pub mod output;
pub mod persist;
pub mod plan;
pub mod platform;
pub mod prepare;
pub mod restart;
pub mod runtime;
pub mod selection;
pub mod state;
pub mod status;
pub mod suggest;
