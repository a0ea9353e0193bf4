//! Messages and values as JSON (through serde), for dead-letter files,
//! `--requeue`, and the durable journal to come.
//!
//! The form: `nil`, booleans, ints, floats, strings and lists are JSON's
//! own; a record is an object (a key starting with `$` gets one more `$`);
//! the rest are one-key objects: `{"$duration": ms}`, `{"$time": ms}`,
//! `{"$action": "name"}`, and messages as `{"$message": …}` where a message
//! is `{"call": {"action": "name", "args": […]}}`, `{"data": v}`,
//! `{"seq": […]}`, `{"conc": […]}`, `{"promise": {"items": […],
//! "callback": …}}`, `{"defer": ms}`, `{"delay": ms}`, `{"void": m}` or
//! `"noop"`. Actions are named, so a file written by one run can be read by
//! another run of the same script. Functions cannot be written.

use std::rc::Rc;

use indexmap::IndexMap;
use serde_json::{json, Map, Value as Json};

use crate::vm::message::{Args, Callback, Message, Msg};
use crate::vm::value::{ActionDef, Value};

/// Finds an action by name when reading.
pub type ActionLookup<'a> = &'a dyn Fn(&str) -> Option<Rc<ActionDef>>;

pub fn value_to_json(v: &Value) -> Result<Json, String> {
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(n) => json!(n),
        Value::Float(x) => {
            if !x.is_finite() {
                return Err(format!("the float {x} cannot be written as JSON"));
            }
            json!(x)
        }
        Value::Str(s) => Json::String(s.to_string()),
        Value::Duration(ms) => json!({ "$duration": ms }),
        Value::Time(ms) => json!({ "$time": ms }),
        Value::List(items) => Json::Array(
            items
                .borrow()
                .iter()
                .map(value_to_json)
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
                map.insert(key, value_to_json(v)?);
            }
            Json::Object(map)
        }
        Value::Action(a) => json!({ "$action": &*a.name }),
        Value::Message(m) => json!({ "$message": message_to_json(m)? }),
        Value::Func(_) | Value::Native(_) | Value::HostFn(_) => {
            return Err(format!(
                "{} cannot be written: functions are not data",
                v.repr()
            ))
        }
        Value::Cell(c) => value_to_json(&c.borrow())?,
    })
}

pub fn message_to_json(m: &Message) -> Result<Json, String> {
    let list = |items: &[Msg]| -> Result<Json, String> {
        Ok(Json::Array(
            items
                .iter()
                .map(|m| message_to_json(m))
                .collect::<Result<_, _>>()?,
        ))
    };
    let args = |args: &[Value]| -> Result<Json, String> {
        Ok(Json::Array(
            args.iter().map(value_to_json).collect::<Result<_, _>>()?,
        ))
    };
    Ok(match m {
        Message::Call { action, args: a } => {
            json!({ "call": { "action": &*action.name, "args": args(a)? } })
        }
        Message::Data(v) => json!({ "data": value_to_json(v)? }),
        Message::Seq(items) => json!({ "seq": list(items)? }),
        Message::Conc(items) => json!({ "conc": list(items)? }),
        Message::Promise { items, callback } => {
            let cb = match callback {
                Callback::Action(a) => Json::String(a.name.to_string()),
                Callback::Call(a, xs) => {
                    json!({ "call": { "action": &*a.name, "args": args(xs)? } })
                }
            };
            json!({ "promise": { "items": list(items)?, "callback": cb } })
        }
        Message::Defer(t) => json!({ "defer": t }),
        Message::Delay(d) => json!({ "delay": d }),
        Message::Void(inner) => json!({ "void": message_to_json(inner)? }),
        Message::Timeout(d, inner) => {
            json!({ "timeout": { "duration": d, "message": message_to_json(inner)? } })
        }
        Message::Noop => Json::String("noop".into()),
    })
}

pub fn value_from_json(j: &Json, actions: ActionLookup) -> Result<Value, String> {
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

fn int(j: &Json, what: &str) -> Result<i64, String> {
    j.as_i64()
        .ok_or_else(|| format!("`{what}` needs an integer, got {j}"))
}

fn action(j: &Json, actions: ActionLookup) -> Result<Rc<ActionDef>, String> {
    let name = j
        .as_str()
        .ok_or_else(|| format!("an action is named by a string, got {j}"))?;
    actions(name).ok_or_else(|| format!("this script has no action `{name}`"))
}

fn call_parts(j: &Json, actions: ActionLookup) -> Result<(Rc<ActionDef>, Args), String> {
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

pub fn message_from_json(j: &Json, actions: ActionLookup) -> Result<Msg, String> {
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
            let callback = match body.get("callback") {
                Some(Json::String(name)) => {
                    Callback::Action(action(&Json::String(name.clone()), actions)?)
                }
                Some(Json::Object(o)) if o.contains_key("call") => {
                    let (a, args) = call_parts(&o["call"], actions)?;
                    Callback::Call(a, args)
                }
                other => {
                    return Err(format!(
                        "a promise callback must be an action or a call, got {other:?}"
                    ))
                }
            };
            Message::Promise { items, callback }
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
