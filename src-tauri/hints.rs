//! What to do about a failure, in a sentence, for the start-up failure dialog. The advice
//! follows the kind of failure the engine names (`FailureCause`), never the words of its
//! message, which are for people and may change.

use clara_supervisor::status::FailureCause;

/// Advice for a failure of this kind.
pub fn what_to_do(cause: FailureCause) -> String {
    match cause {
        FailureCause::Missing => {
            "A file it needs is missing: reinstall ClaraVerse or check the service definition, then choose Retry — or Continue without it."
        }
        FailureCause::EngineUnavailable => {
            "Start Docker, then choose Retry — or Continue without it."
        }
        FailureCause::PortInUse => {
            "Another program uses its port: close that program, then choose Retry."
        }
        FailureCause::ImageDownload => "Check the internet connection, then choose Retry.",
        FailureCause::ProgramDownload => {
            "Its program could not be downloaded: check the internet connection, then choose Retry — or Continue without it."
        }
        FailureCause::NotSetUp => {
            "It needs something from you first: add what the message says, then choose Retry — or Continue without it."
        }
        FailureCause::NameTaken => {
            "A container ClaraVerse did not make holds its name: rename or remove that container as the message says, then choose Retry — or Continue without it."
        }
        FailureCause::NotReady => {
            "It started but never answered: look at its logs for the cause, then choose Retry."
        }
        FailureCause::Unhealthy => {
            "It ran, then stopped answering its health check: look at its logs for the cause, then choose Retry."
        }
        FailureCause::DependencyFailed => {
            "A service it needs could not start: look at that service's logs for the cause, then choose Retry."
        }
        FailureCause::Exited | FailureCause::Other => {
            "Look at its logs for the cause, then choose Retry — or Continue without it."
        }
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_fits_the_kind_of_failure() {
        assert!(what_to_do(FailureCause::Missing).starts_with("A file it needs is missing"));
        assert!(what_to_do(FailureCause::PortInUse).starts_with("Another program uses its port"));
        assert!(what_to_do(FailureCause::EngineUnavailable).starts_with("Start Docker"));
        assert!(what_to_do(FailureCause::ImageDownload).starts_with("Check the internet"));
        assert!(
            what_to_do(FailureCause::ProgramDownload)
                .starts_with("Its program could not be downloaded")
        );
        assert!(what_to_do(FailureCause::NotSetUp).starts_with("It needs something from you"));
        assert!(what_to_do(FailureCause::NameTaken).starts_with("A container ClaraVerse"));
        assert!(what_to_do(FailureCause::NotReady).starts_with("It started but never answered"));
        assert!(what_to_do(FailureCause::Unhealthy).contains("health check"));
        assert!(what_to_do(FailureCause::DependencyFailed).starts_with("A service it needs"));
        assert!(what_to_do(FailureCause::Exited).starts_with("Look at its logs"));
        assert!(what_to_do(FailureCause::Other).starts_with("Look at its logs"));
    }

    #[test]
    fn every_piece_of_advice_ends_with_what_to_choose() {
        for cause in [
            FailureCause::Missing,
            FailureCause::EngineUnavailable,
            FailureCause::PortInUse,
            FailureCause::ImageDownload,
            FailureCause::ProgramDownload,
            FailureCause::NotSetUp,
            FailureCause::NameTaken,
            FailureCause::NotReady,
            FailureCause::Unhealthy,
            FailureCause::Exited,
            FailureCause::DependencyFailed,
            FailureCause::Other,
        ] {
            let advice = what_to_do(cause);
            assert!(
                advice.ends_with("choose Retry.") || advice.ends_with("Continue without it."),
                "{cause:?}: {advice}"
            );
        }
    }
}
