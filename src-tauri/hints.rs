//! What to do about a failure, in a sentence, for the start-up failure dialog.

/// Advice for a failure whose message is `message`.
pub fn what_to_do(message: &str) -> String {
    let lower = message.to_lowercase();
    if lower.contains("was not found")
        || lower.contains("does not exist") && lower.contains("folder")
    {
        "A file it needs is missing: reinstall ClaraVerse or check the service definition, then choose Retry — or Continue without it.".into()
    } else if lower.contains("is in use by") {
        "Another program uses its port: close that program, then choose Retry.".into()
    } else if lower.contains("docker") {
        "Start Docker, then choose Retry — or Continue without it.".into()
    } else if lower.contains("cannot download the image") {
        "Check the internet connection, then choose Retry.".into()
    } else if lower.contains("did not become ready") {
        "It started but never answered: look at its logs for the cause, then choose Retry.".into()
    } else {
        "Look at its logs for the cause, then choose Retry — or Continue without it.".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_fits_the_failure() {
        assert!(
            what_to_do("core could not start: cannot start: the program /x was not found")
                .starts_with("A file it needs is missing")
        );
        assert!(
            what_to_do("cannot start: port 8091 is in use by pid 4242 (llama-server)")
                .starts_with("Another program uses its port")
        );
        assert!(
            what_to_do("Docker is not running. Start it, then choose Retry.")
                .starts_with("Start Docker")
        );
        assert!(what_to_do("exited with code 1 — see its logs").starts_with("Look at its logs"));
    }
}
