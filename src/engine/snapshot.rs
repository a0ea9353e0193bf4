//! Queued work as JSON, for a durable store: a [`Node`] with what stepping
//! has learned about it (a retry's attempts and when it may run again, a
//! started delay's end, a timeout's attempts and deadline), not only the
//! message it stands for.
//!
//! The form extends the message form of [`super::serial`] (a message's
//! JSON reads back as the node it normalizes to): a call may carry
//! `"attempts"` and `"not_before"`; `{"delay": {"duration": d, "until": t}}`
//! is a started delay; a timeout may carry `"inner"` (what is left of it),
//! `"deadline"`, `"attempts"` and `"not_before"`; a `catch`, `ensure`, `then`
//! or `retrying` may carry `"inner"`, `"collected"` and `"failed"`;
//! `{"hold": {"action": name, "key": k, "inner": n}}` is what a limited
//! call returned, holding its resource (taken again on resume). A call whose native job
//! was running is written as the call before the job started: a run that
//! resumes runs it again (calls run at least once).

use std::collections::VecDeque;

use serde_json::{json, Map, Value as Json};

use std::rc::Rc;

use super::node::{
    self, Failure, Node, PromiseNode, RetryNode, TimeoutNode, WrapNode, NOT_STARTED,
};
use super::serial::{self, call_json, deep, value_to_json_with, ActionLookup, Functions};
use crate::vm::error::RuntimeError;
use crate::vm::message::{Args, Callback, Message};
use crate::vm::value::ActionDef;

/// A node as JSON.
pub fn node_to_json(n: &Node) -> Result<Json, String> {
    deep(|| node_to_json_inner(n))
}

fn args_json(args: &Args) -> Result<Json, String> {
    Ok(Json::Array(
        args.iter()
            .map(|a| value_to_json_with(a, Functions::ByName))
            .collect::<Result<_, _>>()?,
    ))
}

/// A call that has run `attempts` times, not to run again before `not_before`.
fn call_to_json(
    action: &ActionDef,
    args: &Args,
    attempts: u32,
    not_before: i64,
) -> Result<Json, String> {
    let mut j = call_json(&action.name, args_json(args)?);
    if attempts > 0 {
        if let Some(Json::Object(call)) = j.get_mut("call") {
            call.insert("attempts".into(), json!(attempts));
            if not_before != i64::MIN {
                call.insert("not_before".into(), json!(not_before));
            }
        }
    }
    Ok(j)
}

fn list_json(q: &VecDeque<Node>) -> Result<Json, String> {
    Ok(Json::Array(
        q.iter().map(node_to_json).collect::<Result<_, _>>()?,
    ))
}

fn node_to_json_inner(n: &Node) -> Result<Json, String> {
    let one = |k: &str, v: Json| {
        let mut m = Map::with_capacity(1);
        m.insert(k.to_string(), v);
        Json::Object(m)
    };
    Ok(match n {
        Node::Call { action, args } => call_to_json(action, args, 0, i64::MIN)?,
        Node::Retry(r) => call_to_json(&r.action, &r.args, r.attempts, r.not_before)?,
        // The interrupted attempt does not count: it runs again.
        Node::Running(r) => call_to_json(&r.action, &r.args, r.attempts - 1, i64::MIN)?,
        Node::Data(v) => one("data", value_to_json_with(v, Functions::ByName)?),
        Node::Seq(q) => one("seq", list_json(q)?),
        Node::Conc(q) => one("conc", list_json(q)?),
        Node::Promise(p) => {
            // Collected values go back in front as data, collected again.
            let mut items: Vec<Json> = p
                .collected
                .iter()
                .map(|v| Ok(one("data", value_to_json_with(v, Functions::ByName)?)))
                .collect::<Result<_, String>>()?;
            for q in &p.queue {
                items.push(node_to_json(q)?);
            }
            let callback = match &p.callback {
                Callback::Action(a) => Json::String(a.name.to_string()),
                Callback::Call(a, xs) => call_json(&a.name, args_json(xs)?),
            };
            let mut body = Map::new();
            body.insert("items".into(), Json::Array(items));
            body.insert("callback".into(), callback);
            one("promise", Json::Object(body))
        }
        Node::Defer(t) => json!({ "defer": t }),
        Node::Delay { duration, until } if *until == NOT_STARTED => json!({ "delay": duration }),
        Node::Delay { duration, until } => {
            json!({ "delay": { "duration": duration, "until": until } })
        }
        Node::Void(inner) => one("void", node_to_json(inner)?),
        Node::Timeout(t) => {
            let mut body = Map::new();
            body.insert("duration".into(), json!(t.duration));
            body.insert("message".into(), serial::message_to_json(&t.original)?);
            body.insert("inner".into(), node_to_json(&t.inner)?);
            body.insert("deadline".into(), json!(t.deadline));
            body.insert("attempts".into(), json!(t.attempts));
            body.insert("not_before".into(), json!(t.not_before));
            one("timeout", Json::Object(body))
        }
        Node::Wrap(w) => wrap_to_json(w)?,
        // A call waiting for its turn takes it again on resume.
        Node::Turn(t) => call_to_json(&t.action, &t.args, t.attempts, i64::MIN)?,
        Node::Hold(h) => {
            let mut body = Map::new();
            body.insert("action".into(), Json::String(h.action.name.to_string()));
            body.insert("key".into(), Json::String(h.key.to_string()));
            body.insert("inner".into(), node_to_json(&h.inner)?);
            if let Some(id) = h.shared {
                // (`$`: no record's key writes so; see `serial`.)
                body.insert("$shared".into(), json!(id));
            }
            one("hold", Json::Object(body))
        }
    })
}

/// A wrap as its message's JSON with `"inner"` (what is left of it) in
/// place of `"message"`, and what it holds: a `then`'s `"collected"`
/// values, an `ensure`'s `"failed"` message waiting for its cleanup.
fn wrap_to_json(w: &WrapNode) -> Result<Json, String> {
    let name = w.wrap.name();
    let mut shell =
        serial::message_to_json(&Message::Wrap(w.wrap.clone(), Rc::new(Message::Noop)))?;
    let Some(Json::Object(body)) = shell.get_mut(name) else {
        return Err(format!("{name} did not write as a wrap"));
    };
    body.remove("message");
    body.insert("inner".into(), node_to_json(&w.inner)?);
    if !w.collected.is_empty() {
        let collected = w
            .collected
            .iter()
            .map(|v| value_to_json_with(v, Functions::ByName))
            .collect::<Result<_, _>>()?;
        body.insert("collected".into(), Json::Array(collected));
    }
    if let Some(f) = &w.failed {
        body.insert(
            "failed".into(),
            json!({
                "node": node_to_json(&f.node)?,
                "code": f.error.code,
                "error": f.error.message,
                "attempts": f.attempts,
            }),
        );
    }
    Ok(shell)
}

fn wrap_from_json(kind: &str, body: &Json, actions: ActionLookup) -> Result<WrapNode, String> {
    let mut shell_body = body.as_object().cloned().unwrap_or_default();
    shell_body.insert("message".into(), Json::String("noop".into()));
    for key in ["inner", "collected", "failed"] {
        shell_body.remove(key);
    }
    let mut shell = Map::new();
    shell.insert(kind.to_string(), Json::Object(shell_body));
    let m = serial::message_from_json(&Json::Object(shell), actions)?;
    let Message::Wrap(wrap, _) = &*m else {
        return Err(format!("not a {kind}: {body}"));
    };
    let collected = match body.get("collected") {
        Some(Json::Array(items)) => items
            .iter()
            .map(|v| serial::value_from_json(v, actions))
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    let failed = match body.get("failed") {
        Some(f) => {
            let code = f
                .get("code")
                .and_then(Json::as_str)
                .and_then(crate::codes::lookup)
                .map_or(crate::codes::FAIL, |e| e.code);
            let message = f.get("error").and_then(Json::as_str).unwrap_or_default();
            Some(Box::new(Failure {
                node: node_from_json(f.get("node").unwrap_or(&Json::Null), actions)?,
                error: RuntimeError::new(code, message),
                attempts: int_or(f.get("attempts"), 1, "attempts")?.clamp(0, u32::MAX as i64)
                    as u32,
            }))
        }
        None => None,
    };
    Ok(WrapNode {
        wrap: wrap.clone(),
        inner: node_from_json(&body["inner"], actions)?,
        collected,
        failed,
    })
}

/// Reads a node written by [`node_to_json`] (or any message's JSON, as
/// the nodes it normalizes to; a message that normalizes to nothing, or to
/// several nodes, reads as a `seq` of them).
pub fn node_from_json(j: &Json, actions: ActionLookup) -> Result<Node, String> {
    let mut nodes = Vec::new();
    deep(|| read(j, actions, &mut nodes))?;
    Ok(match nodes.len() {
        1 => nodes.pop().expect("one node"),
        _ => Node::Seq(Box::new(nodes.into())),
    })
}

fn int_or(j: Option<&Json>, default: i64, what: &str) -> Result<i64, String> {
    match j {
        None => Ok(default),
        Some(j) => serial::int(j, what),
    }
}

/// Reads `j` as the nodes it stands for, appending them to `out`.
fn read(j: &Json, actions: ActionLookup, out: &mut Vec<Node>) -> Result<(), String> {
    let Some((kind, body)) = j
        .as_object()
        .filter(|m| m.len() == 1)
        .and_then(|m| m.iter().next())
    else {
        // `"noop"`, or something the message reader reports.
        node::normalize(&serial::message_from_json(j, actions)?, out);
        return Ok(());
    };
    let list = |body: &Json| -> Result<VecDeque<Node>, String> {
        let Json::Array(items) = body else {
            return Err(format!("expected a list of messages, got {body}"));
        };
        let mut q = VecDeque::with_capacity(items.len());
        let mut children = Vec::new();
        for item in items {
            deep(|| read(item, actions, &mut children))?;
            q.extend(children.drain(..));
        }
        Ok(q)
    };
    match kind.as_str() {
        "call" => {
            let (action, args) = serial::call_parts(body, actions)?;
            let attempts = int_or(body.get("attempts"), 0, "attempts")?.clamp(0, u32::MAX as i64);
            let not_before = int_or(body.get("not_before"), i64::MIN, "not_before")?;
            out.push(if attempts == 0 {
                Node::Call { action, args }
            } else {
                Node::Retry(Box::new(RetryNode {
                    action,
                    args,
                    attempts: attempts as u32,
                    not_before,
                }))
            });
        }
        // Stored seqs and concs were normalized when stored.
        "seq" => out.push(Node::Seq(Box::new(list(body)?))),
        "conc" => out.push(Node::Conc(Box::new(list(body)?))),
        "promise" => {
            let queue = list(body.get("items").unwrap_or(&Json::Array(vec![])))?;
            // The message reader knows the callback's forms.
            let shell = json!({ "promise": { "items": [], "callback": body.get("callback") } });
            let m = serial::message_from_json(&shell, actions)?;
            let Message::Promise { callback, .. } = &*m else {
                return Err(format!("not a promise: {body}"));
            };
            out.push(Node::Promise(Box::new(PromiseNode {
                queue,
                collected: Vec::new(),
                callback: callback.clone(),
            })));
        }
        "delay" if body.is_object() => out.push(Node::Delay {
            duration: int_or(body.get("duration"), 0, "duration")?.max(0),
            until: int_or(body.get("until"), NOT_STARTED, "until")?,
        }),
        "void" => out.push(Node::Void(Box::new(node_from_json(body, actions)?))),
        "timeout" if body.get("inner").is_some() => {
            let original =
                serial::message_from_json(body.get("message").unwrap_or(&Json::Null), actions)?;
            out.push(Node::Timeout(Box::new(TimeoutNode {
                duration: int_or(body.get("duration"), 0, "duration")?.max(0),
                deadline: int_or(body.get("deadline"), NOT_STARTED, "deadline")?,
                original,
                inner: node_from_json(&body["inner"], actions)?,
                attempts: int_or(body.get("attempts"), 0, "attempts")?.clamp(0, u32::MAX as i64)
                    as u32,
                not_before: int_or(body.get("not_before"), i64::MIN, "not_before")?,
            })));
        }
        // What a limited call returned, holding its resource (taken again
        // when the run resumes); without the action, just what it holds.
        "hold" => {
            let inner = node_from_json(body.get("inner").unwrap_or(&Json::Null), actions)?;
            let action = body.get("action").and_then(Json::as_str).and_then(actions);
            let key = body.get("key").and_then(Json::as_str);
            out.push(match (action, key) {
                (Some(crate::vm::value::Value::Action(action)), Some(key))
                    if action.limits.is_some() =>
                {
                    Node::Hold(Box::new(node::HoldNode {
                        lease: None,
                        action,
                        key: Rc::from(key),
                        inner,
                        own: false,
                        shared: body.get("$shared").and_then(Json::as_i64),
                    }))
                }
                _ => inner,
            });
        }
        "catch" | "ensure" | "then" | "retrying" if body.get("inner").is_some() => {
            out.push(Node::Wrap(Box::new(wrap_from_json(kind, body, actions)?)));
        }
        _ => node::normalize(&serial::message_from_json(j, actions)?, out),
    }
    Ok(())
}

/// Every call a stored node names, as (action, arguments passed): what
/// must still exist, with that arity, for the node to resume. Promise
/// callbacks count with the argument their collected values add.
pub fn named_calls(j: &Json, out: &mut Vec<(String, usize)>) {
    let mut stack = vec![j];
    while let Some(j) = stack.pop() {
        match j {
            Json::Object(m) => {
                if m.len() == 1 {
                    if let Some(Json::Object(call)) = m.get("call") {
                        if let Some(Json::String(name)) = call.get("action") {
                            let n = call
                                .get("args")
                                .and_then(Json::as_array)
                                .map_or(0, Vec::len);
                            out.push((name.clone(), n));
                        }
                    }
                    let appended = m
                        .get("catch")
                        .and_then(|c| c.get("handler"))
                        .or_else(|| m.get("then").and_then(|t| t.get("next")));
                    if let Some(cb) = appended {
                        callback_calls(cb, out);
                        let body = m.values().next().and_then(Json::as_object);
                        for (k, v) in body.into_iter().flatten() {
                            if k != "handler" && k != "next" {
                                stack.push(v);
                            }
                        }
                        continue;
                    }
                    if let Some(Json::Object(p)) = m.get("promise") {
                        if let Some(cb) = p.get("callback") {
                            callback_calls(cb, out);
                        }
                        if let Some(items) = p.get("items") {
                            stack.push(items);
                        }
                        continue;
                    }
                }
                stack.extend(m.values());
            }
            Json::Array(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
}

/// The action a callback (a name, or a `call` written with its first
/// arguments) names, with the one argument it is given on top.
fn callback_calls(cb: &Json, out: &mut Vec<(String, usize)>) {
    match cb {
        Json::String(name) => out.push((name.clone(), 1)),
        Json::Object(c) => {
            if let Some(Json::Object(call)) = c.get("call") {
                if let Some(Json::String(name)) = call.get("action") {
                    let n = call
                        .get("args")
                        .and_then(Json::as_array)
                        .map_or(0, Vec::len);
                    out.push((name.clone(), n + 1));
                }
            }
        }
        _ => {}
    }
}

/// Whether an action takes `n` arguments.
pub fn accepts(action: &ActionDef, n: usize) -> bool {
    let (min, max) = action.arity();
    (min..=max).contains(&n)
}
