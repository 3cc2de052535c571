//! The dependency rules of ARCHITECTURE.md ("`X` does not depend on `Y`"), checked
//! against the engine's sources: a `use` (or a path) that breaks one fails this test,
//! naming the file, the rule and the offending reference. Test code (`mod tests` and the
//! manager's `tests/` folder) is exempt.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One rule: none of `subjects` may refer to any of `forbidden`.
#[derive(Debug)]
struct Rule {
    line: String,
    subjects: Vec<String>,
    forbidden: Vec<String>,
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The rules: every list item of ARCHITECTURE.md's "Arrows" section.
fn rules() -> Vec<Rule> {
    let path = root().join("../../ARCHITECTURE.md");
    let text = std::fs::read_to_string(&path).expect("ARCHITECTURE.md is readable");
    let section = text
        .split("### Arrows")
        .nth(1)
        .expect("ARCHITECTURE.md has an \"### Arrows\" section");
    let section = section.split("\n#").next().unwrap_or_default();
    let rules: Vec<Rule> = section
        .lines()
        .filter(|line| line.starts_with("- "))
        .map(|line| {
            let (before, after) = line
                .split_once("not depend on")
                .unwrap_or_else(|| panic!("not a rule: {line}"));
            Rule {
                line: line.to_string(),
                subjects: quoted(before),
                forbidden: quoted(after),
            }
        })
        .collect();
    assert!(rules.len() >= 5, "the Arrows section lists its rules");
    rules
}

/// The `quoted` names of a piece of text.
fn quoted(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The source files of module `module` (`a` or `a::b`), without test-only files.
fn files_of(module: &str) -> Vec<PathBuf> {
    let base = root().join("src").join(module.replace("::", "/"));
    let mut files = Vec::new();
    let file = base.with_extension("rs");
    if file.is_file() {
        files.push(file);
    }
    if base.is_dir() {
        collect(&base, &mut files);
    }
    assert!(
        !files.is_empty(),
        "the rules name `{module}`, which has no source"
    );
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("a readable source folder")
        .map(|entry| entry.expect("a readable entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name != "tests") {
                collect(&path, files);
            }
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// What a file's non-test code refers to: `crate::x` modules (also inside `crate::{…}`
/// groups) and external crates used by path (`tokio::…`).
fn references(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).expect("a readable source file");
    let code = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    let code: String = code
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    for (index, _) in code.match_indices("crate::") {
        let rest = &code[index + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.split('}').next().unwrap_or_default();
            for item in group.split(',') {
                found.insert(identifier(item.trim()));
            }
        } else {
            found.insert(identifier(rest));
        }
    }
    for word in code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
        if let Some((first, _)) = word.split_once("::")
            && !first.is_empty()
            && first != "crate"
            && first != "super"
            && first != "self"
        {
            found.insert(first.to_string());
        }
    }
    found.remove("");
    found
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[test]
fn every_arrow_points_the_way_architecture_md_says() {
    let mut broken = Vec::new();
    for rule in rules() {
        for subject in &rule.subjects {
            for file in files_of(subject) {
                let used = references(&file);
                for forbidden in &rule.forbidden {
                    if used.contains(forbidden) {
                        broken.push(format!(
                            "{}: uses `{forbidden}`, against the rule \"{}\"",
                            relative(&file),
                            rule.line.trim_start_matches("- ")
                        ));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "\n{}\n", broken.join("\n"));
}

#[test]
fn references_are_found_in_paths_and_groups_but_not_in_comments_or_tests() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let file = dir.path().join("sample.rs");
    std::fs::write(
        &file,
        "//! Mentions crate::manager in a comment only.\n\
         use crate::{definitions::Service, runtime};\n\
         use crate::events::EventKind;\n\
         fn f() { tokio::spawn(async {}); }\n\
         #[cfg(test)]\nmod tests { use crate::plan::Plan; }\n",
    )
    .expect("written");
    let found = references(&file);
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        ["definitions", "events", "runtime", "tokio"]
    );
}
