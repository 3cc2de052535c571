//! Problems found in a definitions file: what is wrong, where, and what to do.
//!
//! Every problem renders as one line, `FILE:LINE:COL: service "x": what is wrong (hint)`,
//! so editors and terminals can jump to it.

use std::fmt;
use std::ops::Range;

use serde::Serialize;

/// Whether a problem stops the file from being used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file cannot be used until this is fixed.
    Error,
    /// Legal, but probably not what the author meant.
    Warning,
}

/// A position in a definitions file, 1-based.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// The file name as the user gave it (or `built-in catalog`).
    pub file: String,
    /// Line number, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// What a problem is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Subject {
    /// The file as a whole (syntax, top-level keys).
    File,
    /// One service.
    Service(String),
    /// One feature.
    Feature(String),
}

/// One problem: severity, place, subject, a sentence and an optional hint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where in the file, when the problem has a place.
    pub location: Option<Location>,
    /// The service or feature concerned.
    pub subject: Subject,
    /// What is wrong, in plain words.
    pub message: String,
    /// What to do about it, when there is something to suggest.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error about `subject`.
    pub fn error(subject: Subject, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            location: None,
            subject,
            message: message.into(),
            hint: None,
        }
    }

    /// A warning about `subject`.
    pub fn warning(subject: Subject, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(subject, message)
        }
    }

    /// The same problem, placed at `location`.
    pub fn at(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    /// The same problem, with a hint (none when `hint` is `None`).
    pub fn hint(mut self, hint: impl Into<Option<String>>) -> Self {
        self.hint = hint.into();
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(location) = &self.location {
            write!(f, "{location}: ")?;
        }
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        match &self.subject {
            Subject::File => {}
            Subject::Service(name) => write!(f, "service \"{name}\": ")?,
            Subject::Feature(name) => write!(f, "feature \"{name}\": ")?,
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

/// Sorts problems the way a reader walks the file: by position, then by text.
/// Problems without a position come last.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        let position = |d: &Diagnostic| d.location.as_ref().map(|l| (l.line, l.column));
        (position(a).is_none(), position(a), a.to_string()).cmp(&(
            position(b).is_none(),
            position(b),
            b.to_string(),
        ))
    });
}

/// A definitions file's name and text, able to turn byte offsets into line and column.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// A source named `name` (shown in messages) with the given text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(index, _)| index + 1))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The name shown in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The line and column of the start of `span`.
    pub fn location(&self, span: Range<usize>) -> Location {
        let offset = span.start.min(self.text.len());
        let line_index = self
            .line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1);
        let line_start = self.line_starts[line_index];
        let column = self
            .text
            .get(line_start..offset)
            .map_or(offset - line_start, |prefix| prefix.chars().count())
            + 1;
        Location {
            file: self.name.clone(),
            line: line_index + 1,
            column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let source = SourceFile::new("a.toml", "x = 1\n\ny = \"é\" z\n");
        assert_eq!(source.location(0..1).to_string(), "a.toml:1:1");
        assert_eq!(source.location(4..5).to_string(), "a.toml:1:5");
        assert_eq!(source.location(6..6).to_string(), "a.toml:2:1");
        // the column counts characters, not bytes: "é" is two bytes
        assert_eq!(source.location(16..17).to_string(), "a.toml:3:9");
    }

    #[test]
    fn renders_the_one_line_form() {
        let diagnostic = Diagnostic::error(Subject::Service("comfyui".into()), "is broken")
            .at(Some(Location {
                file: "services.toml".into(),
                line: 14,
                column: 1,
            }))
            .hint(Some("fix it".to_string()));
        assert_eq!(
            diagnostic.to_string(),
            "services.toml:14:1: service \"comfyui\": is broken (fix it)"
        );
    }

    #[test]
    fn renders_warnings_and_unplaced_problems() {
        let warning = Diagnostic::warning(Subject::Feature("n8n".into()), "is unused");
        assert_eq!(warning.to_string(), "warning: feature \"n8n\": is unused");
    }

    #[test]
    fn sorts_by_position_then_unplaced_last() {
        let at = |line| {
            Some(Location {
                file: "f".into(),
                line,
                column: 1,
            })
        };
        let mut list = vec![
            Diagnostic::error(Subject::File, "c"),
            Diagnostic::error(Subject::File, "b").at(at(9)),
            Diagnostic::error(Subject::File, "a").at(at(2)),
        ];
        sort(&mut list);
        let messages: Vec<_> = list.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages, ["a", "b", "c"]);
    }
}
