//! What is made ready before each start of a native service (its `prepare` table): for
//! now, llama-swap's config, written from the models found ([`llama_swap`]).

pub mod llama_swap;

use crate::definitions::Prepare;

/// Why a service could not be made ready.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PrepareError {
    /// What is wrong and what to do, for people.
    pub message: String,
    /// Only the user can fix it by adding something (a model): not a failure to retry
    /// soon, nor a bug.
    pub needs_the_user: bool,
}

/// Makes `prepare` ready; returns what is worth showing about it (the models found…).
pub fn run(prepare: &Prepare) -> Result<Option<String>, PrepareError> {
    match prepare {
        Prepare::LlamaSwapConfig {
            config,
            models,
            server,
            ..
        } => {
            llama_swap::write_config(config, models, server).map(|written| Some(written.describe()))
        }
    }
}
