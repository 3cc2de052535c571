//! `[services.NAME.prepare]`: what is made ready before each start.

use std::path::PathBuf;

use super::super::model::Prepare;
use super::super::raw::RawService;
use super::ServiceBuilder;

impl ServiceBuilder<'_> {
    /// Reads the `prepare` table.
    pub(super) fn prepare(&mut self, raw: &RawService) -> Option<Prepare> {
        let table = raw.prepare.as_ref()?;
        let prepare = table.get_ref();
        self.choice("prepare.kind", &prepare.kind, &Prepare::KINDS, |kind| kind)?;
        let missing = |builder: &mut Self, key: &str, example: &str| {
            builder.error(
                table.span(),
                format!("prepare of kind \"llama-swap-config\" has no {key}"),
                Some(format!("add {key} = {example}")),
            );
        };
        let config = match &prepare.config {
            Some(config) => self.expand("prepare.config", config),
            None => {
                missing(self, "config", "\"${CLARA_HOME}/llama-swap-config.yaml\"");
                None
            }
        };
        let server = match &prepare.server {
            Some(server) => self.expand("prepare.server", server),
            None => {
                missing(self, "server", "\"${PROGRAM_DIR}/llama-server\"");
                None
            }
        };
        let models = match &prepare.models {
            Some(models) if !models.is_empty() => models
                .iter()
                .map(|folder| self.expand("prepare.models", folder).map(PathBuf::from))
                .collect::<Option<Vec<_>>>(),
            _ => {
                missing(
                    self,
                    "models",
                    "[\"${CLARA_HOME}/models\"], the folders of GGUF models",
                );
                None
            }
        };
        Some(Prepare::LlamaSwapConfig {
            config: config?.into(),
            models: models?,
            models_variable: prepare
                .models_variable
                .as_ref()
                .map(|name| name.get_ref().clone()),
            server: server?,
        })
    }
}
