//! If the manager fails. The actor's decisions are tested, but a bug could still panic
//! it; then nothing may go on running unsupervised, and nobody may be told that all went
//! well. Its services' instances, their manager gone, stop as their definitions say
//! (`runtime::process`); this waits for that, then records a sentence that every later
//! request to the manager answers with ([`super::ManagerError::Failed`]).

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::runtime::AllEnded;

/// How the actor ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It shut down, as asked.
    Normally,
    /// It failed; the sentence says so, for people.
    Failed(String),
}

/// Waits for the actor to end; if it panicked, waits for its process instances to stop,
/// then says so. Containers are left running, for adoption, as after any crash.
pub async fn watch_actor(
    actor: JoinHandle<()>,
    instances: AllEnded,
    ended: watch::Sender<Option<Ended>>,
) {
    let how = match actor.await {
        Err(error) if error.is_panic() => {
            let panic = error.into_panic();
            let what = panic
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no details".to_string());
            tracing::error!(
                "the supervisor failed on an internal error ({what}); stopping every service"
            );
            instances.wait().await;
            Ended::Failed(format!(
                "the supervisor failed on an internal error ({what}); every service was stopped. Please report this, with the log"
            ))
        }
        _ => Ended::Normally,
    };
    ended.send_replace(Some(how));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::ProcessRuntime;
    use crate::runtime::guard::Guard;
    use crate::runtime::mark::{self, RunMark};
    use std::sync::Arc;

    #[tokio::test]
    async fn a_panic_is_a_sentence_once_the_instances_have_ended() {
        let (runtime, instances) = ProcessRuntime::new(
            Guard::none(),
            Arc::new(RunMark::new(&mark::new_state_token())),
        );
        // A fake fault, on purpose: no real panic of the actor is known to cause.
        let actor = tokio::spawn(async move {
            let _runtime = runtime;
            panic!("a bug");
        });
        let (ended_in, mut ended) = watch::channel(None);
        watch_actor(actor, instances, ended_in).await;
        let how = ended.wait_for(Option::is_some).await.map(|how| how.clone());
        assert_eq!(
            how.ok().flatten(),
            Some(Ended::Failed(
                "the supervisor failed on an internal error (a bug); every service was stopped. Please report this, with the log".to_string()
            ))
        );
    }

    #[tokio::test]
    async fn a_shutdown_is_normal() {
        let (_runtime, instances) = ProcessRuntime::new(
            Guard::none(),
            Arc::new(RunMark::new(&mark::new_state_token())),
        );
        let (ended_in, ended) = watch::channel(None);
        watch_actor(tokio::spawn(async {}), instances, ended_in).await;
        assert_eq!(*ended.borrow(), Some(Ended::Normally));
    }
}
