//! The definitions file as written: serde structures that keep every value's position.
//!
//! Nothing here is checked beyond its TOML type; `build` turns these into the model.
//! Unknown keys are not rejected by serde (that would stop at the first one): the loader
//! collects all of them with `serde_ignored` and reports each.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

/// `[features.NAME]`.
#[derive(Debug, Deserialize)]
pub struct RawFeature {
    pub label: String,
    pub description: Option<String>,
    pub default: Option<bool>,
}

/// `[services.NAME]`, and also `[services.NAME.platform.OS]` (where `platform` must be absent).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct RawService {
    pub description: Option<String>,
    pub feature: Option<Spanned<String>>,
    pub critical: Option<bool>,
    pub depends_on: Option<Spanned<RawDependsOn>>,
    pub image: Option<Spanned<String>>,
    pub command: Option<Spanned<Vec<Spanned<String>>>>,
    pub url: Option<Spanned<String>>,
    pub engine: Option<Spanned<String>>,
    pub cwd: Option<Spanned<String>>,
    pub env: Option<BTreeMap<String, Spanned<String>>>,
    pub ports: Option<Vec<Spanned<String>>>,
    pub volumes: Option<Vec<Spanned<String>>>,
    pub gpu: Option<Spanned<String>>,
    pub cpu_env: Option<BTreeMap<String, Spanned<String>>>,
    pub health: Option<Spanned<RawHealth>>,
    pub restart: Option<Spanned<TextOrTable<RawRestart>>>,
    pub stop_signal: Option<Spanned<String>>,
    pub stop_timeout: Option<Spanned<String>>,
    pub min_uptime: Option<Spanned<String>>,
    pub download: Option<Spanned<String>>,
    pub own_server: Option<Spanned<String>>,
    pub install: Option<Spanned<RawInstalls>>,
    pub prepare: Option<Spanned<RawPrepare>>,
    pub platform: Option<BTreeMap<String, Spanned<RawService>>>,
}

impl RawService {
    /// This service with `over`'s fields replacing its own; `env` is merged key by key.
    pub fn merged_with(mut self, over: RawService) -> RawService {
        let env = match (self.env.take(), over.env) {
            (Some(mut base), Some(extra)) => {
                base.extend(extra);
                Some(base)
            }
            (base, extra) => extra.or(base),
        };
        RawService {
            description: over.description.or(self.description),
            feature: over.feature.or(self.feature),
            critical: over.critical.or(self.critical),
            depends_on: over.depends_on.or(self.depends_on),
            image: over.image.or(self.image),
            command: over.command.or(self.command),
            url: over.url.or(self.url),
            engine: over.engine.or(self.engine),
            cwd: over.cwd.or(self.cwd),
            env,
            ports: over.ports.or(self.ports),
            volumes: over.volumes.or(self.volumes),
            gpu: over.gpu.or(self.gpu),
            cpu_env: over.cpu_env.or(self.cpu_env),
            health: over.health.or(self.health),
            restart: over.restart.or(self.restart),
            stop_signal: over.stop_signal.or(self.stop_signal),
            stop_timeout: over.stop_timeout.or(self.stop_timeout),
            min_uptime: over.min_uptime.or(self.min_uptime),
            download: over.download.or(self.download),
            own_server: over.own_server.or(self.own_server),
            install: over.install.or(self.install),
            prepare: over.prepare.or(self.prepare),
            platform: self.platform,
        }
    }
}

/// `[services.NAME.install]`: where the service's program is downloaded from.
#[derive(Debug, Clone, Deserialize)]
pub struct RawInstall {
    pub program: Option<String>,
    pub version: Option<Spanned<String>>,
    pub url: Option<Spanned<String>>,
    pub sha256: Option<Spanned<String>>,
    pub checksums: Option<Spanned<String>>,
    pub archive: Option<Spanned<String>>,
    pub folder_variable: Option<Spanned<String>>,
    pub into: Option<Spanned<String>>,
    pub variants: Option<BTreeMap<String, Spanned<String>>>,
}

/// `[services.NAME.install]`, or an array of them (`[[services.NAME.install]]`).
#[derive(Debug, Clone)]
pub enum RawInstalls {
    /// A single table.
    One(Box<RawInstall>),
    /// An array of tables, each with its position.
    Many(Vec<Spanned<RawInstall>>),
}

impl RawInstalls {
    /// Every table with its position; a single table is where the whole value (`span`) is.
    pub fn items(
        &self,
        span: std::ops::Range<usize>,
    ) -> Vec<(std::ops::Range<usize>, &RawInstall)> {
        match self {
            RawInstalls::One(item) => vec![(span, item.as_ref())],
            RawInstalls::Many(items) => items
                .iter()
                .map(|item| (item.span(), item.get_ref()))
                .collect(),
        }
    }
}

impl<'de> Deserialize<'de> for RawInstalls {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct InstallsVisitor;

        impl<'de> Visitor<'de> for InstallsVisitor {
            type Value = RawInstalls;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table or an array of tables")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Deserialize::deserialize(SeqAccessDeserializer::new(seq)).map(RawInstalls::Many)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Deserialize::deserialize(MapAccessDeserializer::new(map))
                    .map(|one| RawInstalls::One(Box::new(one)))
            }
        }

        deserializer.deserialize_any(InstallsVisitor)
    }
}

/// `[services.NAME.prepare]`: what is made ready before each start.
#[derive(Debug, Clone, Deserialize)]
pub struct RawPrepare {
    pub kind: Spanned<String>,
    pub config: Option<Spanned<String>>,
    pub models: Option<Vec<Spanned<String>>>,
    pub models_variable: Option<Spanned<String>>,
    pub server: Option<Spanned<String>>,
}

/// `depends_on` in its three forms: a list of names (each must be healthy), or a table of
/// name → condition, or name → `{ condition, restart }`.
#[derive(Debug, Clone)]
pub enum RawDependsOn {
    /// `["a", "b"]`
    List(Vec<Spanned<String>>),
    /// `{ a = "healthy", b = { condition = "started", restart = true } }`
    Table(BTreeMap<String, Spanned<TextOrTable<RawDependency>>>),
}

impl<'de> Deserialize<'de> for RawDependsOn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DependsOnVisitor;

        impl<'de> Visitor<'de> for DependsOnVisitor {
            type Value = RawDependsOn;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of service names or a table of service = condition")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Deserialize::deserialize(SeqAccessDeserializer::new(seq)).map(RawDependsOn::List)
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                Deserialize::deserialize(MapAccessDeserializer::new(map)).map(RawDependsOn::Table)
            }
        }

        deserializer.deserialize_any(DependsOnVisitor)
    }
}

/// `{ condition = "healthy", restart = true }`.
#[derive(Debug, Clone, Deserialize)]
pub struct RawDependency {
    pub condition: Option<Spanned<String>>,
    pub restart: Option<bool>,
}

/// `health = { http = "…", interval = "5s", … }`.
#[derive(Debug, Clone, Deserialize)]
pub struct RawHealth {
    pub http: Option<Spanned<String>>,
    pub tcp: Option<Spanned<String>>,
    pub exec: Option<Spanned<Vec<Spanned<String>>>>,
    pub log: Option<Spanned<String>>,
    pub docker: Option<Spanned<bool>>,
    pub status: Option<Spanned<u16>>,
    pub body: Option<String>,
    pub interval: Option<Spanned<String>>,
    pub timeout: Option<Spanned<String>>,
    pub retries: Option<Spanned<u32>>,
    pub start_period: Option<Spanned<String>>,
}

/// `restart = { policy = "on-failure", max_restarts = 5, … }`, or just `restart = "always"`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawRestart {
    pub policy: Option<Spanned<String>>,
    pub max_restarts: Option<u32>,
    pub window: Option<Spanned<String>>,
    pub backoff: Option<Spanned<String>>,
    pub max_backoff: Option<Spanned<String>>,
}

/// A value written either as a short string or as a full table.
#[derive(Debug, Clone)]
pub enum TextOrTable<T> {
    /// The short form.
    Text(String),
    /// The full form.
    Table(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for TextOrTable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextOrTableVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for TextOrTableVisitor<T> {
            type Value = TextOrTable<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a table")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
                Ok(TextOrTable::Text(text.to_string()))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(TextOrTable::Table)
            }
        }

        deserializer.deserialize_any(TextOrTableVisitor(PhantomData))
    }
}

/// The field names serde accepts for a struct, read from its `Deserialize` impl so the
/// list can never drift from the struct (used to suggest the key a typo meant).
pub fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct FieldsOnly<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for FieldsOnly<'_> {
        type Error = de::value::Error;

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("only the field names were wanted"))
        }

        fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
            enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    // The error is expected: the probe stops as soon as it has seen the field list.
    let _ = T::deserialize(FieldsOnly(&mut fields));
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_come_from_the_struct() {
        assert_eq!(
            field_names::<RawDependency>(),
            ["condition", "restart"].as_slice()
        );
        assert!(field_names::<RawService>().contains(&"stop_timeout"));
    }

    fn service(text: &str) -> RawService {
        toml::from_str(text).expect("valid test TOML")
    }

    #[test]
    fn platform_override_replaces_fields_and_merges_env() {
        let base = service("command = ['a']\nenv = { A = '1', B = '2' }\nports = ['8080']\n");
        let over = service("command = ['b']\nenv = { B = '3', C = '4' }\n");
        let merged = base.merged_with(over);
        let command: Vec<_> = merged
            .command
            .expect("command kept")
            .into_inner()
            .into_iter()
            .map(Spanned::into_inner)
            .collect();
        assert_eq!(command, ["b"]);
        let env: BTreeMap<_, _> = merged
            .env
            .expect("env kept")
            .into_iter()
            .map(|(k, v)| (k, v.into_inner()))
            .collect();
        assert_eq!(
            env,
            BTreeMap::from([
                ("A".to_string(), "1".to_string()),
                ("B".to_string(), "3".to_string()),
                ("C".to_string(), "4".to_string()),
            ])
        );
        assert_eq!(merged.ports.expect("ports kept").len(), 1);
    }
}
