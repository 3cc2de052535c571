//! Loading definitions: a file checked for one platform ([`crate::definitions`]), the
//! services of the chosen features ([`crate::selection`]) and their plan
//! ([`crate::plan`]), composed here so that the file format knows neither.

use std::path::Path;

use crate::definitions::{self, Checked, Definitions, Variables};
use crate::diagnostics::{self, Diagnostic, SourceFile};
use crate::persist::{Setup, StateFiles};
use crate::plan::Plan;
use crate::platform::Platform;
use crate::runtime::gpu;
use crate::selection::{self, FeatureChoice, Selection};

/// What a load depends on besides the file itself.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The platform whose overrides apply.
    pub platform: Platform,
    /// Values for `${VAR}` references.
    pub variables: Variables,
    /// The features the user asks for.
    pub features: FeatureChoice,
}

impl LoadOptions {
    /// This machine's platform, environment and accelerator, with the default features.
    pub fn for_this_machine() -> LoadOptions {
        LoadOptions {
            platform: Platform::current(),
            variables: Variables::from_environment().with_accelerator(gpu::detect()),
            features: FeatureChoice::Defaults,
        }
    }

    /// These options with the setup saved in the choices of `state_dir` (see
    /// [`LoadOptions::with_setup`]). Choices that cannot be read add nothing: the manager
    /// says why when it starts.
    pub fn with_saved_setup(self, state_dir: &Path) -> LoadOptions {
        match StateFiles::new(state_dir).read_choices() {
            Ok(choices) => self.with_setup(&choices.setup),
            Err(_) => self,
        }
    }

    /// These options with what `setup` chose: its folders as values for the variables
    /// the environment leaves unset (see [`Variables::with_folders`]), and its build of
    /// programs unless the environment names one (`CLARA_ACCELERATOR`).
    pub fn with_setup(mut self, setup: &Setup) -> LoadOptions {
        self.variables = self.variables.with_folders(&setup.folders);
        if let Some(accelerator) = setup.accelerator
            && std::env::var_os(gpu::OVERRIDE).is_none()
        {
            self.variables = self.variables.with_accelerator(accelerator);
        }
        self
    }
}

/// A file that passed every check.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// Every feature and service of the file.
    pub definitions: Definitions,
    /// What runs for the chosen features.
    pub selection: Selection,
    /// The order in which it starts and stops.
    pub plan: Plan,
    /// Doubtful but legal things.
    pub warnings: Vec<Diagnostic>,
}

/// A file with at least one error: every error and warning found, in file order.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} error{} in the service definitions", .errors.len(), if .errors.len() == 1 { "" } else { "s" })]
pub struct LoadError {
    /// What must be fixed.
    pub errors: Vec<Diagnostic>,
    /// Doubtful but legal things, reported alongside.
    pub warnings: Vec<Diagnostic>,
}

/// Reads, checks, selects and plans a definitions file: every problem at once.
pub fn load(source: &SourceFile, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let Checked {
        definitions,
        mut diagnostics,
    } = definitions::check(source, options.platform, &options.variables);
    let planned = definitions.and_then(|definitions| {
        match selection::select(&definitions, &options.features) {
            // Cycles were reported by the check; a plan exists whenever there are none.
            Ok(selection) => Plan::new(&definitions, &selection)
                .ok()
                .map(|plan| (definitions, selection, plan)),
            Err(errors) => {
                diagnostics.extend(errors);
                None
            }
        }
    });
    let (mut errors, mut warnings): (Vec<_>, Vec<_>) =
        diagnostics.into_iter().partition(Diagnostic::is_error);
    diagnostics::sort(&mut errors);
    diagnostics::sort(&mut warnings);
    errors.dedup();
    warnings.dedup();
    match planned {
        Some((definitions, selection, plan)) if errors.is_empty() => Ok(Loaded {
            definitions,
            selection,
            plan,
            warnings,
        }),
        _ => Err(LoadError { errors, warnings }),
    }
}
