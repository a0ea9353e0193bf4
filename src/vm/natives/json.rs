//! `json_encode` and `json_decode`: values to JSON text and back. Records,
//! lists, ints, floats, strings, booleans and `nil` have a JSON form;
//! durations, times, functions, actions and messages do not (format them
//! first), and neither do NaN and the infinities.

use indexmap::IndexMap;

use super::{type_error, Host, NativeResult};
use crate::vm::error::{codes, RuntimeError};
use crate::vm::value::{Str, Value};

/// Deeper than this is refused (a list that holds itself would never end).
const MAX_DEPTH: usize = 512;

/// A value as JSON, or why it has none; `path` says where (`.hosts[2]`).
pub fn to_json(value: &Value) -> Result<serde_json::Value, String> {
    let mut path = String::new();
    encode_at(value, &mut path, 0)
}

fn encode_at(value: &Value, path: &mut String, depth: usize) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    let at = |path: &str| {
        if path.is_empty() {
            String::new()
        } else {
            format!(" (at {path})")
        }
    };
    if depth > MAX_DEPTH {
        return Err(format!(
            "the value is nested more than {MAX_DEPTH} deep{} (a list or record that holds itself?)",
            at(path)
        ));
    }
    Ok(match value {
        Value::Nil => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(n) => J::from(*n),
        Value::Float(x) => match serde_json::Number::from_f64(*x) {
            Some(n) => J::Number(n),
            None => return Err(format!("{} has no JSON form{}", value.display(), at(path))),
        },
        Value::Str(s) => J::String(s.to_string()),
        Value::List(xs) => {
            let xs = xs.borrow();
            let mut out = Vec::with_capacity(xs.len());
            for (i, x) in xs.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(encode_at(x, path, depth + 1)?);
                path.truncate(len);
            }
            J::Array(out)
        }
        Value::Record(r) => {
            let r = r.borrow();
            let mut out = serde_json::Map::with_capacity(r.len());
            for (k, v) in r.iter() {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                out.insert(k.to_string(), encode_at(v, path, depth + 1)?);
                path.truncate(len);
            }
            J::Object(out)
        }
        other => {
            return Err(format!(
                "a {} has no JSON form{}",
                other.type_name(),
                at(path)
            ))
        }
    })
}

/// The value JSON stands for: objects become records (in their order),
/// integers that fit 64 bits ints, other numbers floats.
pub fn from_json(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::Nil,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::str(s),
        J::Array(xs) => Value::list(xs.iter().map(from_json).collect()),
        J::Object(fields) => {
            let map: IndexMap<Str, Value> = fields
                .iter()
                .map(|(k, v)| (Str::from(k.as_str()), from_json(v)))
                .collect();
            Value::record(map)
        }
    }
}

pub fn encode(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let pretty = args.get(1).is_some_and(Value::is_truthy);
    let json = to_json(&args[0]).map_err(|why| {
        RuntimeError::type_error(format!("json_encode: {why}")).with_hint(
            "convert it first: str(d) for a duration or time, int(d) for its milliseconds",
        )
    })?;
    let text = if pretty {
        serde_json::to_string_pretty(&json)
    } else {
        serde_json::to_string(&json)
    };
    text.map(|t| Value::str(&t))
        .map_err(|e| RuntimeError::new(codes::VALUE, format!("json_encode: {e}")))
}

pub fn decode(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let text = match &args[0] {
        Value::Str(s) => s,
        other => return Err(type_error("json_decode", "a string of JSON text", other)),
    };
    if crate::memory::exceeded(text.len().saturating_mul(4)) {
        return Err(crate::vm::interp::memory_error());
    }
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        RuntimeError::new(
            codes::JSON,
            format!(
                "json_decode: invalid JSON at line {}, column {}: {}",
                e.line(),
                e.column(),
                message_of(&e)
            ),
        )
    })?;
    Ok(from_json(&json))
}

/// serde_json's message without its own " at line L column C" suffix.
fn message_of(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}
