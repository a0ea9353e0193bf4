//! Every error, from any stage, becomes a [`Diagnostic`]; this module is the
//! one place that turns them into ariadne reports.

use std::fmt::Write as _;

use ariadne::{Color, Config, IndexType, Label, Report, ReportKind};

use crate::bytecode::chunk::SourceId;
use crate::syntax::lexer::{LexError, LexErrorKind};
use crate::syntax::parser::{ParseError, MAX_NESTING};
use crate::syntax::Span;
use crate::vm::error::{Loc, RuntimeError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Stable code: `E0001`…
    pub code: &'static str,
    pub level: Level,
    /// A title in plain words.
    pub title: String,
    /// The main place, and what to say there.
    pub loc: Option<Loc>,
    pub label: String,
    /// Other places worth pointing at.
    pub secondary: Vec<(Loc, String)>,
    pub hint: Option<String>,
    /// Extra lines after the report (a call-stack trace).
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, title: impl Into<String>, loc: Loc) -> Diagnostic {
        Diagnostic {
            code,
            level: Level::Error,
            title: title.into(),
            loc: Some(loc),
            label: String::new(),
            secondary: vec![],
            hint: None,
            notes: vec![],
        }
    }

    pub fn warning(code: &'static str, title: impl Into<String>, loc: Loc) -> Diagnostic {
        Diagnostic {
            level: Level::Warning,
            ..Diagnostic::error(code, title, loc)
        }
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn also(mut self, loc: Loc, label: impl Into<String>) -> Diagnostic {
        self.secondary.push((loc, label.into()));
        self
    }

    /// Points at where a name is declared; what no file declares (a native
    /// action, `noop`) is named as built in instead.
    pub fn declared(self, name: &str, at: Option<Loc>, label: impl Into<String>) -> Diagnostic {
        match at {
            Some(loc) => self.also(loc, label),
            None => self.note(format!("`{name}` is built in: no file declares it")),
        }
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }
}

/// The codes, from the one table of them.
pub use crate::codes;

/// The source files a run knows, by [`SourceId`].
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<(String, String)>,
}

impl Sources {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> SourceId {
        self.files.push((name.into(), text.into()));
        (self.files.len() - 1) as SourceId
    }

    pub fn name(&self, id: SourceId) -> &str {
        self.files.get(id as usize).map_or("<unknown>", |f| &f.0)
    }

    pub fn text(&self, id: SourceId) -> &str {
        self.files.get(id as usize).map_or("", |f| &f.1)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Forgets the sources added after the first `len` (a server's
    /// requests: ids are 16 bits, and each request's text is needed only
    /// while it is compiled and run). Code they made that outlives them
    /// names its places in whatever takes their ids next.
    pub fn truncate(&mut self, len: usize) {
        self.files.truncate(len);
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// `file:line` of a place, for traces and dead-letter listings.
    pub fn position(&self, loc: Loc) -> String {
        let line = crate::syntax::span::line_of(self.text(loc.source), loc.span.start as usize);
        format!("{}:{}", self.name(loc.source), line)
    }
}

pub fn from_lex_error(source: SourceId, e: &LexError) -> Diagnostic {
    let loc = Loc {
        source,
        span: e.span,
    };
    match &e.kind {
        LexErrorKind::UnexpectedChar => Diagnostic::error(
            codes::UNEXPECTED_CHAR,
            "I found a character I don't know",
            loc,
        )
        .label("not part of Voyager's syntax"),
        LexErrorKind::UnterminatedString => {
            Diagnostic::error(codes::UNTERMINATED_STRING, "This string never ends", loc)
                .label("the string starts here")
                .hint("close it with `\"` on the same line")
        }
        LexErrorKind::UnterminatedRawString => Diagnostic::error(
            codes::UNTERMINATED_STRING,
            "This multi-line string never ends",
            loc,
        )
        .label("the string starts here")
        .hint("close it with `\"\"\"`"),
        LexErrorKind::UnterminatedComment => Diagnostic::error(
            codes::UNTERMINATED_COMMENT,
            "This block comment never ends",
            loc,
        )
        .label("the comment starts here")
        .hint("every `/*` needs its `*/` (block comments nest)"),
        LexErrorKind::InvalidEscape(c) => Diagnostic::error(
            codes::INVALID_ESCAPE,
            format!("`\\{c}` is not an escape I know"),
            loc,
        )
        .label("unknown escape")
        .hint("the escapes are \\n \\t \\r \\\\ \\\" \\{ \\} \\u{hex}"),
        LexErrorKind::InvalidUnicodeEscape(text) => Diagnostic::error(
            codes::INVALID_ESCAPE,
            format!("`{text}` is not a character escape"),
            loc,
        )
        .label("not a character")
        .hint(
            "write a character as \\u{hex} with 1 to 6 hex digits, such as \\u{e9} or \\u{1F600}",
        ),
        LexErrorKind::InvalidNumber(text) => Diagnostic::error(
            codes::INVALID_NUMBER,
            format!("`{text}` is not a number"),
            loc,
        )
        .label("not a number")
        .hint("numbers look like 42, 1_000, 0xff, 1.5, 2e3"),
        LexErrorKind::UnknownDurationUnit(unit) => Diagnostic::error(
            codes::INVALID_NUMBER,
            format!("`{unit}` is not a duration unit"),
            loc,
        )
        .label("unknown unit")
        .hint("durations are written 250ms, 2s, 5m or 1h"),
        LexErrorKind::NumberTooLarge => {
            Diagnostic::error(codes::INVALID_NUMBER, "This number is too large", loc)
                .label("does not fit in 64 bits")
        }
    }
}

pub fn from_parse_error(source: SourceId, e: &ParseError) -> Diagnostic {
    let loc = Loc {
        source,
        span: e.span,
    };
    if let Some(word) = &e.reserved {
        return Diagnostic::error(
            codes::RESERVED_WORD,
            format!("`{word}` is a reserved word, so it can't be a name"),
            loc,
        )
        .label("reserved word")
        .hint(format!(
            "pick another name, such as `{word}_` or `my_{word}`"
        ));
    }
    if e.found.is_none() && e.expected.is_empty() {
        if let Some(context) = &e.context {
            if context.contains("nested") {
                return Diagnostic::error(codes::TOO_DEEP, "This program nests too deeply", loc)
                    .label(format!("more than {MAX_NESTING} brackets are open here"))
                    .hint("split the expression with `let` or functions");
            }
        }
    }
    let found = e
        .found
        .clone()
        .unwrap_or_else(|| "the end of the file".to_string());
    let title = match &e.context {
        Some(context) => format!("I was reading {context} and found {found}"),
        None => format!("I didn't expect {found} here"),
    };
    let label = if e.expected.is_empty() {
        "unexpected".to_string()
    } else {
        format!("expected {}", one_of(&e.expected))
    };
    let mut d = Diagnostic::error(codes::UNEXPECTED_TOKEN, title, loc).label(label);
    if let Some(hint) = syntax_hint(e) {
        d = d.hint(hint);
    }
    d
}

fn one_of(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] if rest.len() < 6 => format!("{} or {last}", rest.join(", ")),
        _ => format!("{}, or something else", items[..5].join(", ")),
    }
}

fn syntax_hint(e: &ParseError) -> Option<String> {
    let found = e.found.as_deref()?;
    let expects = |t: &str| e.expected.iter().any(|x| x == t);
    if expects("`)`") && !expects("`]`") {
        Some("is a `)` missing?".into())
    } else if expects("`]`") {
        Some("is a `]` or `,` missing?".into())
    } else if expects("`}`") {
        Some("is a `}` missing?".into())
    } else if found == "end of statement" {
        Some("the statement ended early: a newline ends a statement unless inside ( ) or [ ] or after an operator".into())
    } else {
        None
    }
}

pub fn from_runtime_error(e: &RuntimeError, sources: &Sources) -> Diagnostic {
    let mut d = Diagnostic {
        code: e.code,
        level: Level::Error,
        title: e.message.clone(),
        loc: e.loc,
        label: match (&e.label, e.trace.first()) {
            (Some(label), _) => label.clone(),
            (None, Some(frame)) => format!("in {}", frame.name),
            (None, None) => String::new(),
        },
        secondary: e.also.clone(),
        hint: e.hint.clone(),
        notes: vec![],
    };
    if e.trace.len() > 1 {
        d.notes.push(trace_note(e, sources));
    }
    d
}

/// The call stack, innermost first, with runs of the same frame folded.
fn trace_note(e: &RuntimeError, sources: &Sources) -> String {
    let mut frames: Vec<(String, usize)> = Vec::new();
    for frame in &e.trace {
        let line = format!("{} at {}", frame.name, sources.position(frame.loc));
        match frames.last_mut() {
            Some((last, n)) if *last == line => *n += 1,
            _ => frames.push((line, 1)),
        }
    }
    let mut text = String::from("call stack (innermost first):");
    let shown = frames.len().min(12);
    for (line, n) in &frames[..shown] {
        let _ = write!(text, "\n    {line}");
        if *n > 1 {
            let _ = write!(text, " (×{n})");
        }
    }
    if frames.len() > shown {
        let _ = write!(text, "\n    … {} more frames", frames.len() - shown);
    }
    text
}

/// Renders one diagnostic as text, with or without colour.
pub fn render(d: &Diagnostic, sources: &Sources, color: bool) -> String {
    let kind = match d.level {
        Level::Error => ReportKind::Error,
        Level::Warning => ReportKind::Warning,
    };
    let mut out = Vec::new();
    match d.loc {
        Some(loc) => {
            let name = sources.name(loc.source).to_string();
            let span = char_range(loc.span, sources.text(loc.source));
            let mut report = Report::build(kind, (name.clone(), span.clone()))
                .with_config(
                    Config::default()
                        .with_color(color)
                        .with_index_type(IndexType::Char),
                )
                .with_code(d.code)
                .with_message(&d.title);
            // Ariadne starts a new snippet whenever a label sits above the
            // one before it, and heads a second snippet of the main file with
            // the main place's line. So labels go in file order: the main
            // file first, then each other file, each in the order of the text.
            let mut labels = vec![(loc, d.label.clone(), Color::Red)];
            for (other, label) in &d.secondary {
                // A place in another file (the prelude, say) says which.
                let label = if other.source == loc.source {
                    label.clone()
                } else {
                    format!("{label} (in {})", sources.name(other.source))
                };
                labels.push((*other, label, Color::Blue));
            }
            labels.sort_by_key(|(at, _, _)| (at.source != loc.source, at.source, at.span.start));
            for (at, label, color) in labels {
                let at_name = sources.name(at.source).to_string();
                let span = char_range(at.span, sources.text(at.source));
                report = report.with_label(
                    Label::new((at_name, span))
                        .with_message(label)
                        .with_color(color),
                );
            }
            if let Some(hint) = &d.hint {
                report = report.with_help(hint);
            }
            for note in &d.notes {
                report = report.with_note(note);
            }
            let cache = ariadne::sources((0..sources.len()).map(|i| {
                (
                    sources.name(i as SourceId).to_string(),
                    sources.text(i as SourceId).to_string(),
                )
            }));
            let _ = report.finish().write(cache, &mut out);
        }
        None => {
            let prefix = match d.level {
                Level::Error => "Error",
                Level::Warning => "Warning",
            };
            let _ = writeln!(StringWriter(&mut out), "[{}] {prefix}: {}", d.code, d.title);
            if let Some(hint) = &d.hint {
                let _ = writeln!(StringWriter(&mut out), "    help: {hint}");
            }
            for note in &d.notes {
                let _ = writeln!(StringWriter(&mut out), "    {note}");
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct StringWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for StringWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// A byte span as the character range ariadne is given. Ariadne 0.6 takes
/// byte offsets for labels, but heads the snippet of a second file with a
/// character offset read as a byte offset, so the header's line and column
/// go wrong after any non-ASCII text; character offsets keep every part of
/// the report consistent.
fn char_range(span: Span, text: &str) -> std::ops::Range<usize> {
    let span = clamp(span, text);
    let start = text[..span.start as usize].chars().count();
    let len = text[span.start as usize..span.end as usize].chars().count();
    start..start + len
}

/// Keeps a span inside its text and on character boundaries, so rendering
/// never panics on a span the text does not have.
fn clamp(span: Span, text: &str) -> Span {
    let mut start = (span.start as usize).min(text.len());
    let mut end = (span.end as usize).clamp(start, text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    Span::new(start, end)
}
