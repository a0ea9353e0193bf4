//! The constant pool's values: the literals a compiled function carries
//! (numbers, durations, strings, and the natives it names), and how a
//! literal is spelled back. The interpreter turns a constant into a runtime
//! value when it pushes one; nothing here knows the interpreter.

use std::fmt::Write as _;

/// A string constant: shared, immutable, one pointer wide (the same type
/// the interpreter's strings use, so pushing one is a reference count).
pub type Str = arcstr::ArcStr;

#[derive(Debug, Clone)]
pub enum Const {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Milliseconds.
    Duration(i64),
    Str(Str),
    /// A built-in function, by its place in the interpreter's table of
    /// natives, and its name (for the disassembler).
    Native {
        index: u16,
        name: &'static str,
    },
}

impl Const {
    pub fn str(s: &str) -> Const {
        Const::Str(Str::from(s))
    }

    /// The constant as source spells it: strings quoted, floats in their
    /// shortest round-trip form.
    pub fn repr(&self) -> String {
        let mut out = String::new();
        match self {
            Const::Nil => out.push_str("nil"),
            Const::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Const::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Const::Float(x) => write_float(&mut out, *x),
            Const::Duration(ms) => write_duration(&mut out, *ms),
            Const::Str(s) => write_quoted(&mut out, s),
            Const::Native { name, .. } => {
                let _ = write!(out, "<fn {name}>");
            }
        }
        out
    }
}

/// A string as a literal: in double quotes, with `"`, `\`, braces and
/// control characters escaped.
pub fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '{' => out.push_str("\\{"),
            '}' => out.push_str("\\}"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Floats in the shortest form that reads back as the same `f64`, never
/// looking like an int: `1.0`, `0.30000000000000004`; in exponent form
/// when the decimal exponent is below -4 or at least 16 (`1e16`, `1.5e-7`);
/// `NaN`, `inf`, `-inf`.
pub fn write_float(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str(if x.is_nan() {
            "NaN"
        } else if x > 0.0 {
            "inf"
        } else {
            "-inf"
        });
        return;
    }
    let start = out.len();
    // `{:e}` is Rust's shortest round-trip form with an exponent: `1e16`,
    // `1.5e-7`, `-2.5e0`.
    let _ = write!(out, "{x:e}");
    let exponent: i32 = out[start..]
        .rsplit_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    if (-4..16).contains(&exponent) {
        out.truncate(start);
        let _ = write!(out, "{x}");
        if !out[start..].contains('.') {
            out.push_str(".0");
        }
    }
}

/// Durations in the largest exact unit: `1500ms`, `2s`, `2m`, `1h`; `0ms`.
pub fn write_duration(out: &mut String, ms: i64) {
    let (value, unit) = if ms == 0 {
        (0, "ms")
    } else if ms % 3_600_000 == 0 {
        (ms / 3_600_000, "h")
    } else if ms % 60_000 == 0 {
        (ms / 60_000, "m")
    } else if ms % 1_000 == 0 {
        (ms / 1_000, "s")
    } else {
        (ms, "ms")
    };
    let _ = write!(out, "{value}{unit}");
}
