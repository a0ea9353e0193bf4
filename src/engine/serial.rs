//! Messages and values as JSON (through serde), for dead-letter files,
//! `--requeue`, and the durable journal to come.
//!
//! The form: `nil`, booleans, ints, floats, strings and lists are JSON's
//! own; a record is an object (a key starting with `$` gets one more `$`);
//! the rest are one-key objects: `{"$duration": ms}`, `{"$time": ms}`,
//! `{"$action": "name"}`, and messages as `{"$message": …}` where a message
//! is `{"call": {"action": "name", "args": […]}}`, `{"data": v}`,
//! `{"seq": […]}`, `{"conc": […]}`, `{"promise": {"items": […],
//! "callback": …}}`, `{"defer": ms}`, `{"delay": ms}`, `{"void": m}`,
//! `{"timeout": {"duration": ms, "message": m}}`, `{"catch": {"message": m,
//! "handler": cb}}`, `{"then": {"message": m, "next": cb}}`, `{"ensure":
//! {"message": m, "cleanup": m}}`, `{"retrying": {"message": m, "policy":
//! {…}}}` or `"noop"`. Actions are named, so a file written by one run can be read by
//! another run of the same script. A float JSON cannot hold is
//! `{"$float": "NaN"}` (or `"inf"`, `"-inf"`). A function is written by
//! name, `{"$function": "name"}`, and reads back only as a function the
//! script declares at its top level under that name.
//!
//! Values and messages may nest as deeply as a program builds them: the
//! recursive walks here grow the stack as they go instead of overflowing it.

use std::rc::Rc;

use indexmap::IndexMap;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde_json::{json, Map, Value as Json};

use crate::vm::message::{Args, Callback, Message, Msg, Wrap};
use crate::vm::value::{ActionDef, Value};

/// Finds a top-level name of the script (an action or a function) when
/// reading.
pub type ActionLookup<'a> = &'a dyn Fn(&str) -> Option<Value>;

/// A JSON object of the entries given. (`json!` would copy a `Json` put in
/// it by serializing it again, recursively.)
fn object<const N: usize>(entries: [(&str, Json); N]) -> Json {
    Json::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

pub fn call_json(action: &str, args: Json) -> Json {
    object([(
        "call",
        object([("action", Json::String(action.to_string())), ("args", args)]),
    )])
}

/// Runs a step of a recursive walk, on a fresh stack segment when little of
/// the current one is left.
pub fn deep<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(64 * 1024, 4 << 20, f)
}

/// What writing does with a function value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Functions {
    /// Refuse it (arguments of a pool job, which cannot call back).
    Refuse,
    /// Write it by name (dead letters).
    ByName,
}

pub fn value_to_json(v: &Value) -> Result<Json, String> {
    value_to_json_with(v, Functions::Refuse)
}

pub fn value_to_json_with(v: &Value, functions: Functions) -> Result<Json, String> {
    deep(|| value_to_json_inner(v, functions))
}

fn value_to_json_inner(v: &Value, functions: Functions) -> Result<Json, String> {
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(n) => json!(n),
        Value::Float(x) if x.is_nan() => json!({ "$float": "NaN" }),
        Value::Float(x) if x.is_infinite() => {
            json!({ "$float": if *x > 0.0 { "inf" } else { "-inf" } })
        }
        Value::Float(x) => json!(x),
        Value::Str(s) => Json::String(s.to_string()),
        Value::Duration(ms) => json!({ "$duration": ms }),
        Value::Time(ms) => json!({ "$time": ms }),
        Value::List(items) => Json::Array(
            items
                .borrow()
                .iter()
                .map(|item| value_to_json_with(item, functions))
                .collect::<Result<_, _>>()?,
        ),
        Value::Record(fields) => {
            let mut map = Map::new();
            for (k, v) in fields.borrow().iter() {
                let key = if k.starts_with('$') {
                    format!("${k}")
                } else {
                    k.to_string()
                };
                map.insert(key, value_to_json_with(v, functions)?);
            }
            Json::Object(map)
        }
        Value::Action(a) => json!({ "$action": &*a.name }),
        Value::Message(m) => object([("$message", message_to_json_with(m, functions)?)]),
        Value::Func(_) | Value::Native(_) | Value::HostFn(_) => {
            if functions == Functions::Refuse {
                return Err(format!(
                    "{} cannot be written: functions are not data",
                    v.repr()
                ));
            }
            let name = match v {
                Value::Func(c) => c.proto.name.clone(),
                Value::Native(n) => n.name.to_string(),
                Value::HostFn(f) => f.name.to_string(),
                _ => unreachable!("matched as a function above"),
            };
            json!({ "$function": name })
        }
        Value::Cell(c) => value_to_json_with(&c.borrow(), functions)?,
    })
}

/// A message as JSON, every value in it included (functions by name).
pub fn message_to_json(m: &Message) -> Result<Json, String> {
    message_to_json_with(m, Functions::ByName)
}

fn message_to_json_with(m: &Message, functions: Functions) -> Result<Json, String> {
    deep(|| message_to_json_inner(m, functions))
}

fn message_to_json_inner(m: &Message, functions: Functions) -> Result<Json, String> {
    let list = |items: &[Msg]| -> Result<Json, String> {
        Ok(Json::Array(
            items
                .iter()
                .map(|m| message_to_json_with(m, functions))
                .collect::<Result<_, _>>()?,
        ))
    };
    let args = |args: &[Value]| -> Result<Json, String> {
        Ok(Json::Array(
            args.iter()
                .map(|a| value_to_json_with(a, functions))
                .collect::<Result<_, _>>()?,
        ))
    };
    let callback_json = |callback: &Callback| -> Result<Json, String> {
        Ok(match callback {
            Callback::Action(a) => Json::String(a.name.to_string()),
            Callback::Call(a, xs) => call_json(&a.name, args(xs)?),
        })
    };
    Ok(match m {
        Message::Call { action, args: a } => call_json(&action.name, args(a)?),
        Message::Data(v) => object([("data", value_to_json_with(v, functions)?)]),
        Message::Seq(items) => object([("seq", list(items)?)]),
        Message::Conc(items) => object([("conc", list(items)?)]),
        Message::Promise { items, callback } => {
            let cb = callback_json(callback)?;
            object([(
                "promise",
                object([("items", list(items)?), ("callback", cb)]),
            )])
        }
        Message::Defer(t) => json!({ "defer": t }),
        Message::Delay(d) => json!({ "delay": d }),
        Message::Void(inner) => object([("void", message_to_json_with(inner, functions)?)]),
        Message::Timeout(d, inner) => object([(
            "timeout",
            object([
                ("duration", json!(d)),
                ("message", message_to_json_with(inner, functions)?),
            ]),
        )]),
        Message::Wrap(wrap, inner) => {
            let (key, value) = match wrap {
                Wrap::Catch(cb) => ("handler", callback_json(cb)?),
                Wrap::Then(cb) => ("next", callback_json(cb)?),
                Wrap::Ensure(cleanup) => ("cleanup", message_to_json_with(cleanup, functions)?),
                Wrap::Retrying(p) => ("policy", value_to_json_with(&p.to_value(), functions)?),
            };
            object([(
                wrap.name(),
                object([
                    ("message", message_to_json_with(inner, functions)?),
                    (key, value),
                ]),
            )])
        }
        Message::Noop => Json::String("noop".into()),
    })
}

pub fn value_from_json(j: &Json, actions: ActionLookup) -> Result<Value, String> {
    deep(|| value_from_json_inner(j, actions))
}

fn value_from_json_inner(j: &Json, actions: ActionLookup) -> Result<Value, String> {
    Ok(match j {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(
                n.as_f64()
                    .ok_or_else(|| format!("{n} is not a number I can read"))?,
            ),
        },
        Json::String(s) => Value::str(s),
        Json::Array(items) => Value::list(
            items
                .iter()
                .map(|i| value_from_json(i, actions))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(map) => {
            if map.len() == 1 {
                let (k, v) = map.iter().next().expect("one entry");
                match k.as_str() {
                    "$duration" => return Ok(Value::Duration(int(v, k)?)),
                    "$time" => return Ok(Value::Time(int(v, k)?)),
                    "$action" => return Ok(Value::Action(action(v, actions)?)),
                    "$float" => return float(v),
                    "$function" => return function(v, actions),
                    "$message" => return Ok(Value::Message(message_from_json(v, actions)?)),
                    _ => {}
                }
            }
            let mut fields: IndexMap<crate::vm::value::Str, Value> =
                IndexMap::with_capacity(map.len());
            for (k, v) in map {
                let key = k
                    .strip_prefix('$')
                    .filter(|rest| rest.starts_with('$'))
                    .unwrap_or(k);
                fields.insert(key.into(), value_from_json(v, actions)?);
            }
            Value::record(fields)
        }
    })
}

pub fn int(j: &Json, what: &str) -> Result<i64, String> {
    j.as_i64()
        .ok_or_else(|| format!("`{what}` needs an integer, got {j}"))
}

fn action(j: &Json, actions: ActionLookup) -> Result<Rc<ActionDef>, String> {
    let name = j
        .as_str()
        .ok_or_else(|| format!("an action is named by a string, got {j}"))?;
    match actions(name) {
        Some(Value::Action(a)) => Ok(a),
        _ => Err(format!("this script has no action `{name}`")),
    }
}

fn float(j: &Json) -> Result<Value, String> {
    match j.as_str() {
        Some("NaN") => Ok(Value::Float(f64::NAN)),
        Some("inf") => Ok(Value::Float(f64::INFINITY)),
        Some("-inf") => Ok(Value::Float(f64::NEG_INFINITY)),
        _ => Err(format!("`$float` is \"NaN\", \"inf\" or \"-inf\", got {j}")),
    }
}

fn function(j: &Json, names: ActionLookup) -> Result<Value, String> {
    let name = j
        .as_str()
        .ok_or_else(|| format!("a function is named by a string, got {j}"))?;
    match names(name) {
        Some(f @ (Value::Func(_) | Value::Native(_) | Value::HostFn(_))) => Ok(f),
        _ => Err(format!(
            "the function `{name}` cannot be restored: this script has no top-level function of that name"
        )),
    }
}

pub fn call_parts(j: &Json, actions: ActionLookup) -> Result<(Rc<ActionDef>, Args), String> {
    let a = action(j.get("action").unwrap_or(&Json::Null), actions)?;
    let args = match j.get("args") {
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| value_from_json(i, actions))
            .collect::<Result<Vec<_>, _>>()?,
        None => vec![],
        Some(other) => return Err(format!("call args must be a list, got {other}")),
    };
    Ok((a, Args::from(args)))
}

fn callback_from_json(
    j: Option<&Json>,
    what: &str,
    actions: ActionLookup,
) -> Result<Callback, String> {
    match j {
        Some(Json::String(name)) => Ok(Callback::Action(action(
            &Json::String(name.clone()),
            actions,
        )?)),
        Some(Json::Object(o)) if o.contains_key("call") => {
            let (a, args) = call_parts(&o["call"], actions)?;
            Ok(Callback::Call(a, args))
        }
        other => Err(format!("{what} must be an action or a call, got {other:?}")),
    }
}

pub fn message_from_json(j: &Json, actions: ActionLookup) -> Result<Msg, String> {
    deep(|| message_from_json_inner(j, actions))
}

fn message_from_json_inner(j: &Json, actions: ActionLookup) -> Result<Msg, String> {
    let list = |j: &Json| -> Result<Box<[Msg]>, String> {
        match j {
            Json::Array(items) => items
                .iter()
                .map(|i| message_from_json(i, actions))
                .collect(),
            other => Err(format!("expected a list of messages, got {other}")),
        }
    };
    if j.as_str() == Some("noop") {
        return Ok(Rc::new(Message::Noop));
    }
    let Some((kind, body)) = j
        .as_object()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.iter().next())
    else {
        return Err(format!("not a message: {j}"));
    };
    let m = match kind.as_str() {
        "call" => {
            let (action, args) = call_parts(body, actions)?;
            Message::Call { action, args }
        }
        "data" => Message::Data(value_from_json(body, actions)?),
        "seq" => Message::Seq(list(body)?),
        "conc" => Message::Conc(list(body)?),
        "promise" => {
            let items = list(body.get("items").unwrap_or(&Json::Array(vec![])))?;
            let callback = callback_from_json(body.get("callback"), "a promise callback", actions)?;
            Message::Promise { items, callback }
        }
        "catch" | "ensure" | "then" | "retrying" => {
            let inner = message_from_json(body.get("message").unwrap_or(&Json::Null), actions)?;
            let wrap = match kind.as_str() {
                "catch" => Wrap::Catch(callback_from_json(
                    body.get("handler"),
                    "a catch handler",
                    actions,
                )?),
                "then" => Wrap::Then(callback_from_json(
                    body.get("next"),
                    "a then's next step",
                    actions,
                )?),
                "ensure" => Wrap::Ensure(message_from_json(
                    body.get("cleanup").unwrap_or(&Json::Null),
                    actions,
                )?),
                _ => {
                    let policy =
                        value_from_json(body.get("policy").unwrap_or(&Json::Null), actions)?;
                    let policy =
                        crate::vm::natives::retry_policy(&policy).map_err(|e| e.message.clone())?;
                    Wrap::Retrying(Rc::new(policy))
                }
            };
            Message::Wrap(wrap, inner)
        }
        "defer" => Message::Defer(int(body, "defer")?),
        "delay" => {
            let d = int(body, "delay")?;
            if d < 0 {
                return Err(format!("delay of a negative duration ({d}ms)"));
            }
            Message::Delay(d)
        }
        "void" => Message::Void(message_from_json(body, actions)?),
        "timeout" => {
            let d = int(
                body.get("duration").unwrap_or(&Json::Null),
                "timeout duration",
            )?;
            let inner = message_from_json(body.get("message").unwrap_or(&Json::Null), actions)?;
            Message::Timeout(d.max(0), inner)
        }
        other => return Err(format!("`{other}` is not a message constructor")),
    };
    Ok(Rc::new(m))
}

/// JSON as one line of text, however deeply it nests.
pub fn to_line(j: &Json) -> String {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::new(&mut out);
    // Serializing a JSON value into memory does not fail.
    let _ = serde::Serialize::serialize(&Deep(j), &mut serializer);
    // serde_json writes UTF-8: this checks it without copying.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Reads one JSON value from a line, however deeply it nests.
pub fn from_line(line: &str) -> Result<Json, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(line);
    deserializer.disable_recursion_limit();
    let j = DeepSeed.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(j)
}

/// Drops JSON without recursing, which a deeply nested value would need
/// more stack for than there is.
pub fn drop_json(j: Json) {
    let mut stack = vec![j];
    while let Some(j) = stack.pop() {
        match j {
            Json::Array(items) => stack.extend(items),
            Json::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// Serializes JSON, growing the stack as it goes down.
struct Deep<'a>(&'a Json);

impl serde::Serialize for Deep<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        deep(|| match self.0 {
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Deep(item))?;
                }
                seq.end()
            }
            Json::Object(map) => {
                let mut out = serializer.serialize_map(Some(map.len()))?;
                for (k, v) in map {
                    out.serialize_entry(k, &Deep(v))?;
                }
                out.end()
            }
            other => other.serialize(serializer),
        })
    }
}

/// Deserializes JSON, growing the stack as it goes down.
struct DeepSeed;

impl<'de> DeserializeSeed<'de> for DeepSeed {
    type Value = Json;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Json, D::Error> {
        deep(|| deserializer.deserialize_any(DeepVisitor))
    }
}

struct DeepVisitor;

impl<'de> Visitor<'de> for DeepVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
        Ok(Json::from(n))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
        Ok(Json::from(n))
    }

    fn visit_f64<E>(self, x: f64) -> Result<Json, E> {
        Ok(Json::from(x))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json, E> {
        Ok(Json::String(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Json, E> {
        Ok(Json::String(s))
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(DeepSeed)? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(DeepSeed)?;
            out.insert(key, value);
        }
        Ok(Json::Object(out))
    }
}
