//! The definitions loader under input nobody meant: random text, the catalog with random
//! edits, random services built from the format's own words, and nesting deep enough to
//! overflow a careless parser's stack. Whatever comes in, `load` answers (a plan or
//! errors) without a panic; a fixed number of inputs keeps the run bounded in time.

use clara_supervisor::catalog;
use clara_supervisor::definitions::Variables;
use clara_supervisor::diagnostics::SourceFile;
use clara_supervisor::load::{self, LoadOptions};
use clara_supervisor::platform::Platform;
use clara_supervisor::selection::FeatureChoice;
use proptest::prelude::*;

/// Inputs per property: with three properties, several thousand inputs in a few seconds.
const CASES: u32 = 1500;

fn load_text(text: &str) {
    for platform in [Platform::Linux, Platform::Windows] {
        let options = LoadOptions {
            platform,
            variables: Variables::new([("MODELS".to_string(), "/m".to_string())], "/clara"),
            features: FeatureChoice::Defaults,
        };
        // Either answer is fine; a panic or a hang is not.
        let _ = load::load(&SourceFile::new("fuzz.toml", text), &options);
    }
}

/// The words the format is made of, and values of the shapes it reads.
const KEYS: &[&str] = &[
    "command",
    "image",
    "url",
    "engine",
    "depends_on",
    "feature",
    "critical",
    "ports",
    "volumes",
    "env",
    "cwd",
    "gpu",
    "cpu_env",
    "health",
    "restart",
    "stop_signal",
    "stop_timeout",
    "min_uptime",
    "download",
    "description",
];
const VALUES: &[&str] = &[
    r#"["sh", "-c", "exit 0"]"#,
    r#"[""]"#,
    r#""""#,
    r#""${A:-${B:-${CLARA_HOME}}}""#,
    r#""${""#,
    r#""5s""#,
    r#""0s""#,
    r#""18446744073709551615s""#,
    r#"["8080", "127.0.0.1:1:2", "[::1]:3:4/udp", "+80", "99999"]"#,
    r#"["a"]"#,
    r#"{ a = "healthy", b = { condition = "completed", restart = true } }"#,
    r#"{ http = "http://[::1", interval = "0s" }"#,
    r#"{ tcp = "h:1", retries = 0 }"#,
    r#"{ log = "(" }"#,
    r#"{ policy = "always", backoff = "1ms", max_backoff = "1h" }"#,
    r#""always""#,
    "true",
    "-1",
    "1e400",
    r#"{ X = "${SERVICE}" }"#,
    r#""4.5 GB""#,
    r#""auto""#,
];

fn service() -> impl Strategy<Value = String> {
    (
        0..4usize,
        proptest::collection::vec((0..KEYS.len(), 0..VALUES.len()), 0..8),
    )
        .prop_map(|(name, fields)| {
            let mut text = format!("[services.{}]\n", ["a", "b", "c", "d"][name]);
            for (key, value) in fields {
                text.push_str(&format!("{} = {}\n", KEYS[key], VALUES[value]));
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn any_text(text in any::<String>()) {
        load_text(&text);
    }

    #[test]
    fn the_catalog_with_random_edits(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>(), 0..3u8), 1..12)
    ) {
        let mut text: Vec<char> = catalog::TEXT.chars().collect();
        for (at, c, kind) in edits {
            let at = at.index(text.len().max(1)).min(text.len());
            match kind {
                0 => text.insert(at, c),
                1 if at < text.len() => { text.remove(at); }
                _ if at < text.len() => text[at] = c,
                _ => text.push(c),
            }
        }
        load_text(&text.into_iter().collect::<String>());
    }

    #[test]
    fn services_made_of_the_formats_own_words(
        services in proptest::collection::vec(service(), 1..6)
    ) {
        load_text(&services.concat());
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    for text in [
        format!("a = {}{}", "[".repeat(depth), "]".repeat(depth)),
        format!("a = {}{}", "{ b = ".repeat(depth), "}".repeat(depth)),
        format!(
            "[services.a]\ncommand = [\"{}x{}\"]\n",
            "${A:-".repeat(depth),
            "}".repeat(depth)
        ),
    ] {
        load_text(&text);
    }
}
