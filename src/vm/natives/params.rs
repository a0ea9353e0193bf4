//! A script's parameters: the words after `--` in `voyager run FILE -- …`
//! (`args()`, `param(name)`, `flag(name)`) and the environment (`env(name)`).
//! The compiler collects every `param`, `flag` and `env` a script reads, and
//! the command line binds the words to them before anything runs
//! (`crate::compile::params`); these natives read what was bound.

use std::collections::HashMap;

use super::{as_str, Host, NativeResult};
use crate::vm::error::{codes, RuntimeError};
use crate::vm::value::Value;

/// The words a run was given, sorted out by the script's declarations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScriptArgs {
    /// The words that are not flags, in order.
    pub positional: Vec<String>,
    /// Each `param(name)`'s word.
    pub params: HashMap<String, String>,
    /// Each `--name` given: its word (`"true"` for a switch).
    pub flags: HashMap<String, String>,
}

/// What kind of value a default asks a word to be, as a type name.
pub fn wanted(default: &Value) -> &'static str {
    match default {
        Value::Int(_) => "an int",
        Value::Float(_) => "a number",
        Value::Bool(_) => "true or false",
        Value::Duration(_) => "a duration (such as 30s or 5m)",
        _ => "a string",
    }
}

/// A parameter's word as a value of the default's type: an int default
/// makes an int, a duration default a duration (`90s`), a bool default
/// `true`/`false` (also `yes`/`no`, `1`/`0`); a string or `nil` default, or
/// none, keeps the word a string. `Err` says what was wanted.
pub fn convert(word: &str, default: Option<&Value>) -> Result<Value, &'static str> {
    let Some(default) = default else {
        return Ok(Value::str(word));
    };
    let trimmed = word.trim();
    let bad = || wanted(default);
    match default {
        Value::Int(_) => trimmed
            .replace('_', "")
            .parse()
            .map(Value::Int)
            .map_err(|_| bad()),
        Value::Float(_) => trimmed.parse().map(Value::Float).map_err(|_| bad()),
        Value::Bool(_) => match trimmed.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Ok(Value::Bool(true)),
            "false" | "no" | "0" | "off" => Ok(Value::Bool(false)),
            _ => Err(bad()),
        },
        Value::Duration(_) => parse_duration(trimmed).map(Value::Duration).ok_or_else(bad),
        Value::Nil | Value::Str(_) => Ok(Value::str(word)),
        _ => Err("a string, int, float, bool or duration default"),
    }
}

/// `250ms`, `2s`, `5m`, `1h` (as the language writes durations).
fn parse_duration(text: &str) -> Option<i64> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '_'))?;
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits.replace('_', "").parse().ok()?;
    n.checked_mul(crate::syntax::lexer::duration_unit(unit)?)
}

pub fn args(host: &mut dyn Host, _: &[Value]) -> NativeResult {
    let words = host
        .script_args()
        .map(|a| a.positional.iter().map(|w| Value::str(w)).collect())
        .unwrap_or_default();
    Ok(Value::list(words))
}

/// The bound word, converted, else the default, else an error.
fn read(
    what: &str,
    shown: String,
    word: Option<String>,
    args: &[Value],
    missing_hint: &str,
) -> NativeResult {
    let default = args.get(1);
    match (word, default) {
        (Some(word), default) => convert(&word, default).map_err(|wanted| {
            RuntimeError::new(
                codes::VALUE,
                format!("{what}: {shown} is `{word}`, but it must be {wanted}"),
            )
        }),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(RuntimeError::new(
            codes::PARAMETER,
            format!("{what}: {shown} was not given"),
        )
        .with_hint(missing_hint.to_string())),
    }
}

pub fn param(host: &mut dyn Host, args: &[Value]) -> NativeResult {
    let name = as_str("param", &args[0])?;
    let word = host.script_args().and_then(|a| a.params.get(name).cloned());
    read(
        "param",
        format!("parameter <{name}>"),
        word,
        args,
        "give it after `--`: voyager run FILE -- VALUE (or give param a default)",
    )
}

pub fn flag(host: &mut dyn Host, args: &[Value]) -> NativeResult {
    let name = as_str("flag", &args[0])?;
    let word = host.script_args().and_then(|a| a.flags.get(name).cloned());
    read(
        "flag",
        format!("--{name}"),
        word,
        args,
        "give it after `--`: voyager run FILE -- --NAME VALUE (or give flag a default)",
    )
}

pub fn env(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let name = as_str("env", &args[0])?;
    let word = if name.is_empty() || name.contains(['=', '\0']) {
        None
    } else {
        std::env::var(name).ok()
    };
    read(
        "env",
        format!("environment variable {name}"),
        word,
        args,
        "set it (NAME=value voyager run …), or give env a default",
    )
}
