//! Bringing a manager up: the user's saved choices restored, the leftovers of a crashed
//! run cleaned up, the features chosen, and the reconciler and its shell put together.
//! Runs once, with the state directory's lock already held.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::sync::{mpsc, watch};

use super::actor::{Actor, Runtimes};
use super::core::{Core, Timings};
use super::effects::Handles;
use super::{ManagerConfig, ManagerError, StartNotes};
use crate::definitions::{self, Definitions, RuntimeKind};
use crate::diagnostics::{Diagnostic, Subject};
use crate::events::EventBus;
use crate::health::Prober;
use crate::lock::StateLock;
use crate::persist::{Choices, ProcessRecord, StateFileError, StateFiles};
use crate::plan::Plan;
use crate::runtime::docker::{ContainerRuntime, DockerEngine, EngineRuntime, spec};
use crate::runtime::{ExternalRuntime, ProcessRuntime, leftovers};
use crate::selection::{self, FeatureChoice};

/// Prepares the actor: restores the user's choices (the services the user runs himself
/// become external ones at the user's URL) and cleans up after a crashed run (what
/// carries `state_token`, the state directory's, in its mark: see [`crate::runtime::mark`]).
/// `requested` features replace the saved choice (and are saved).
pub fn boot(
    definitions: Definitions,
    requested: Option<BTreeSet<String>>,
    config: ManagerConfig,
    process: ProcessRuntime,
    state_token: &str,
    lock: StateLock,
) -> Result<(Actor, StartNotes), ManagerError> {
    let files = StateFiles::new(&config.state_dir);
    files.remove_stale_temporaries();
    let mut notes = StartNotes::default();
    let mut choices = files.read_choices().unwrap_or_else(|problem| {
        let kept = match &problem {
            StateFileError::Damaged { path, .. } => match files.keep_damaged(path) {
                Ok(kept) => format!(" (kept as {})", kept.display()),
                Err(error) => format!(" (it could not be kept aside: {error})"),
            },
            StateFileError::Unreadable { .. } => String::new(),
        };
        notes.warnings.push(format!(
            "{problem}{kept}; starting with the default choices"
        ));
        Choices::default()
    });
    let records = files.read_processes().unwrap_or_else(|problem| {
        notes.warnings.push(problem.to_string());
        Vec::new()
    });
    notes.cleaned_up = leftovers::clean_up(state_token, &records);
    let written = definitions.clone();
    let (definitions, not_own) = definitions::use_own_servers(definitions, &choices.setup.servers);
    notes.warnings.extend(not_own);
    let choice = match (requested, &choices.features) {
        (Some(features), _) => {
            choices.features = Some(features.clone());
            FeatureChoice::Only(features)
        }
        (None, Some(saved)) => {
            let known: BTreeSet<String> = saved
                .iter()
                .filter(|f| definitions.features.contains_key(*f))
                .cloned()
                .collect();
            for gone in saved.difference(&known) {
                notes.warnings.push(format!(
                    "the saved feature \"{gone}\" no longer exists; it is left out"
                ));
            }
            FeatureChoice::Only(known)
        }
        (None, None) => FeatureChoice::Defaults,
    };
    let selection = selection::select(&definitions, &choice).map_err(ManagerError::Features)?;
    let plan = Plan::of_all(&definitions).map_err(|cycle| {
        ManagerError::Features(vec![Diagnostic::error(Subject::File, cycle.to_string())])
    })?;
    let containers = definitions
        .services
        .values()
        .filter(|s| matches!(s.runtime, RuntimeKind::Container { .. }))
        .map(|s| s.name.clone())
        .collect();
    let project = spec::project(state_token, &config.definitions_name);
    let docker = DockerEngine::new(config.docker_host.clone(), &project, containers);
    let runtimes = Arc::new(Runtimes {
        process,
        external: ExternalRuntime,
        container: ContainerRuntime::new(docker.clone()),
        engine: EngineRuntime::new(docker.clone()),
    });
    let timings = Timings {
        retry_after_giving_up: config.retry_after_giving_up,
        engine_recheck: config.engine_recheck,
    };
    let handles = definitions
        .services
        .keys()
        .map(|name| (name.clone(), Handles::new(config.log_lines)))
        .collect::<BTreeMap<_, _>>();
    let mut core = Core::new(written, definitions, plan, selection, &choices, timings);
    core.save_choices();
    let (facts_in, facts) = mpsc::unbounded_channel();
    let (processes, process_updates) = watch::channel(Vec::<ProcessRecord>::new());
    let process_writer = tokio::spawn(write_process_records(files.clone(), process_updates));
    let actor = Actor {
        core,
        config,
        files,
        events: EventBus::new(4096),
        runtimes,
        prober: Prober::new(Some(docker)),
        handles,
        facts_in,
        facts,
        processes,
        process_writer: Some(process_writer),
        stop_waiters: Vec::new(),
        shutting_down: None,
        lock,
    };
    Ok((actor, notes))
}

/// Writes the running-process records whenever they change, off the actor's path. A
/// write that fails (a full disk) is tried again every second until it works or newer
/// records replace it; once the actor has gone (the last records are none, which is a
/// removal and works on a full disk), a few more tries at most.
async fn write_process_records(
    files: StateFiles,
    mut updates: watch::Receiver<Vec<ProcessRecord>>,
) {
    const RETRY: std::time::Duration = std::time::Duration::from_secs(1);
    const TRIES_AFTER_THE_END: u32 = 5;
    let mut open = true;
    let mut tries_left = TRIES_AFTER_THE_END;
    loop {
        if open {
            open = updates.changed().await.is_ok();
        }
        let mut records = updates.borrow_and_update().clone();
        let mut warned = false;
        loop {
            let writer = files.clone();
            let written =
                tokio::task::spawn_blocking(move || writer.write_processes(&records)).await;
            match written {
                Ok(Err(error)) if tries_left > 0 => {
                    if !std::mem::replace(&mut warned, true) {
                        tracing::warn!(
                            "cannot record the running processes ({error}); trying again every second"
                        );
                    }
                }
                _ => break,
            }
            if !open {
                tries_left -= 1;
            }
            tokio::select! {
                changed = updates.changed(), if open => open = changed.is_ok(),
                () = tokio::time::sleep(RETRY) => {}
            }
            records = updates.borrow_and_update().clone();
        }
        if !open {
            return;
        }
    }
}
