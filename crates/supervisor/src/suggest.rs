//! "Did you mean …?" suggestions for misspelt names.

/// The candidate closest to `wrong`, when it is close enough to be a likely typo.
///
/// Closeness is the Jaro–Winkler similarity; case differences alone always match.
pub fn closest<'a, I>(wrong: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    const THRESHOLD: f64 = 0.8;
    let wrong_lower = wrong.to_lowercase();
    candidates
        .into_iter()
        .map(|candidate| {
            let score = if candidate.to_lowercase() == wrong_lower {
                1.0
            } else {
                strsim::jaro_winkler(&wrong_lower, &candidate.to_lowercase())
            };
            (score, candidate)
        })
        .filter(|(score, _)| *score >= THRESHOLD)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, candidate)| candidate)
}

/// `did you mean "x"?` for the closest candidate, if any.
pub fn did_you_mean<'a, I>(wrong: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    closest(wrong, candidates).map(|name| format!("did you mean \"{name}\"?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_transposition() {
        let names = ["python-backend", "comfyui", "llamaswap"];
        assert_eq!(closest("pyhton-backend", names), Some("python-backend"));
    }

    #[test]
    fn ignores_case() {
        assert_eq!(closest("comfyui", ["comfyUI", "n8n"]), Some("comfyUI"));
    }

    #[test]
    fn offers_nothing_for_an_unrelated_name() {
        assert_eq!(closest("postgres", ["comfyui", "n8n", "mcp"]), None);
    }

    #[test]
    fn phrases_the_hint() {
        assert_eq!(
            did_you_mean("intervl", ["interval", "timeout"]),
            Some("did you mean \"interval\"?".to_string())
        );
    }
}
