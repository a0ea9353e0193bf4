//! Message values: what the constructors build. Immutable
//! and shared: a message is an `Rc<Message>` and its parts are shared too.

use std::rc::Rc;

use super::value::{write_duration, write_time, ActionDef, Value};

pub type Msg = Rc<Message>;

/// A call's arguments. One argument (the common case) is held inline, so
/// a queued one-argument call allocates nothing beyond its node; other
/// counts are a shared slice (none allocates nothing either): a message's
/// call is copied into the engine's queue each time it is sent, and its
/// arguments are never written after, so the copy shares them.
#[derive(Clone, PartialEq)]
pub enum Args {
    One(Value),
    Many(Rc<[Value]>),
}

impl std::ops::Deref for Args {
    type Target = [Value];
    #[inline]
    fn deref(&self) -> &[Value] {
        match self {
            Args::One(v) => std::slice::from_ref(v),
            Args::Many(vs) => vs,
        }
    }
}

impl From<Vec<Value>> for Args {
    fn from(mut values: Vec<Value>) -> Args {
        match values.len() {
            1 => Args::One(values.pop().unwrap_or_default()),
            _ => Args::Many(values.into()),
        }
    }
}

impl From<&[Value]> for Args {
    fn from(values: &[Value]) -> Args {
        match values {
            [one] => Args::One(one.clone()),
            _ => Args::Many(values.into()),
        }
    }
}

impl<const N: usize> From<[Value; N]> for Args {
    fn from(values: [Value; N]) -> Args {
        Args::from(Vec::from(values))
    }
}

impl std::fmt::Debug for Args {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[derive(Debug)]
pub enum Message {
    Call {
        action: Rc<ActionDef>,
        args: Args,
    },
    Data(Value),
    Seq(Box<[Msg]>),
    Conc(Box<[Msg]>),
    Promise {
        items: Box<[Msg]>,
        callback: Callback,
    },
    /// Completes at a time (ms since the epoch).
    Defer(i64),
    /// Completes a duration (ms) after it is first stepped.
    Delay(i64),
    Void(Msg),
    /// Fails (retryably) if the message has not finished within the
    /// duration (ms); its running native jobs are cancelled.
    Timeout(i64, Msg),
    /// A message wrapped in failure handling, a retry policy, or a
    /// continuation: `catch`, `ensure`, `then`, `retrying`.
    Wrap(Wrap, Msg),
    Noop,
}

/// What a [`Message::Wrap`] does around its inner message.
#[derive(Debug, Clone)]
pub enum Wrap {
    /// `catch(m, handler)`: if `m` ends as a dead letter, `handler` runs
    /// with the error record appended instead.
    Catch(Callback),
    /// `ensure(m, cleanup)`: `cleanup` runs after `m` whatever its outcome.
    Ensure(Msg),
    /// `then(m, next)`: `next` runs with what `m` yielded appended.
    Then(Callback),
    /// `retrying(m, policy)`: the calls in `m` retry by this policy.
    Retrying(Rc<RetryPolicy>),
}

impl Wrap {
    /// The constructor's name.
    pub fn name(&self) -> &'static str {
        match self {
            Wrap::Catch(_) => "catch",
            Wrap::Ensure(_) => "ensure",
            Wrap::Then(_) => "then",
            Wrap::Retrying(_) => "retrying",
        }
    }

    /// The constructor's second argument, as a value.
    pub fn to_value(&self) -> Value {
        match self {
            Wrap::Catch(cb) | Wrap::Then(cb) => cb.to_value(),
            Wrap::Ensure(m) => Value::Message(m.clone()),
            Wrap::Retrying(p) => p.to_value(),
        }
    }

    fn same(&self, other: &Wrap) -> bool {
        match (self, other) {
            (Wrap::Catch(a), Wrap::Catch(b)) | (Wrap::Then(a), Wrap::Then(b)) => {
                a.to_value() == b.to_value()
            }
            (Wrap::Ensure(a), Wrap::Ensure(b)) => a == b,
            (Wrap::Retrying(a), Wrap::Retrying(b)) => a == b,
            _ => false,
        }
    }
}

/// How the calls inside `retrying(m, policy)` retry (Celery's
/// `max_retries`/`autoretry_for`, Temporal's `RetryPolicy`).
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all (1: no retry).
    pub attempts: u32,
    /// The first wait (ms); it doubles each attempt, capped at `max_backoff`.
    pub backoff: Option<i64>,
    pub max_backoff: Option<i64>,
    /// Only retryable errors with these codes retry (`None`: every
    /// retryable error); others are fatal at once.
    pub on: Option<Vec<String>>,
}

impl RetryPolicy {
    /// The policy as the record it was written as.
    pub fn to_value(&self) -> Value {
        let mut fields: Vec<(&str, Value)> = vec![("attempts", Value::Int(self.attempts.into()))];
        if let Some(b) = self.backoff {
            fields.push(("backoff", Value::Duration(b)));
        }
        if let Some(b) = self.max_backoff {
            fields.push(("max_backoff", Value::Duration(b)));
        }
        if let Some(on) = &self.on {
            fields.push((
                "on",
                Value::list(on.iter().map(|c| Value::str(c)).collect()),
            ));
        }
        super::natives::record(fields)
    }

    /// Whether an error with this code may retry under the policy.
    pub fn retries(&self, code: &str) -> bool {
        self.on
            .as_ref()
            .is_none_or(|codes| codes.iter().any(|c| c == code))
    }
}

/// What a promise calls with the values it collected.
#[derive(Debug, Clone)]
pub enum Callback {
    /// `cb(values)`.
    Action(Rc<ActionDef>),
    /// `call(a, x, …)` becomes `call(a, x, …, values)`.
    Call(Rc<ActionDef>, Args),
}

impl Callback {
    /// The call message a promise ends in, given what it collected.
    pub fn into_call(&self, collected: Vec<Value>) -> Message {
        match self {
            Callback::Action(action) => Message::Call {
                action: action.clone(),
                args: Args::One(Value::list(collected)),
            },
            Callback::Call(action, args) => {
                let mut all = Vec::with_capacity(args.len() + 1);
                all.extend(args.iter().cloned());
                all.push(Value::list(collected));
                Message::Call {
                    action: action.clone(),
                    args: Args::from(all),
                }
            }
        }
    }

    /// The call with one more argument: `cb(v)`, or `call(a, x, …, v)`.
    pub fn with_last(&self, last: Value) -> Message {
        match self {
            Callback::Action(action) => Message::Call {
                action: action.clone(),
                args: Args::One(last),
            },
            Callback::Call(action, args) => {
                let mut all = Vec::with_capacity(args.len() + 1);
                all.extend(args.iter().cloned());
                all.push(last);
                Message::Call {
                    action: action.clone(),
                    args: Args::from(all),
                }
            }
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            Callback::Action(action) => Value::Action(action.clone()),
            Callback::Call(action, args) => Value::message(Message::Call {
                action: action.clone(),
                args: args.clone(),
            }),
        }
    }
}

impl Message {
    /// The constructor's name: `m.op`.
    pub fn op(&self) -> &'static str {
        match self {
            Message::Call { .. } => "call",
            Message::Data(_) => "data",
            Message::Seq(_) => "seq",
            Message::Conc(_) => "conc",
            Message::Promise { .. } => "promise",
            Message::Defer(_) => "defer",
            Message::Delay(_) => "delay",
            Message::Void(_) => "void",
            Message::Timeout(..) => "timeout",
            Message::Wrap(w, _) => w.name(),
            Message::Noop => "noop",
        }
    }

    pub fn display(&self) -> String {
        let mut out = String::new();
        self.write_display(&mut out, 0);
        out
    }

    pub(crate) fn write_display(&self, out: &mut String, depth: usize) {
        let list = |out: &mut String, items: &[Msg]| {
            out.push('[');
            for (i, m) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                m.write_display(out, depth + 1);
            }
            out.push(']');
        };
        match self {
            Message::Call { action, args } => {
                out.push_str("call(");
                out.push_str(&action.name);
                for arg in args.iter() {
                    out.push_str(", ");
                    arg.write_display(out, true, depth + 1);
                }
                out.push(')');
            }
            Message::Data(v) => {
                out.push_str("data(");
                v.write_display(out, true, depth + 1);
                out.push(')');
            }
            Message::Seq(items) => {
                out.push_str("seq(");
                list(out, items);
                out.push(')');
            }
            Message::Conc(items) => {
                out.push_str("conc(");
                list(out, items);
                out.push(')');
            }
            Message::Promise { items, callback } => {
                out.push_str("promise(");
                list(out, items);
                out.push_str(", ");
                callback.to_value().write_display(out, true, depth + 1);
                out.push(')');
            }
            Message::Defer(t) => {
                out.push_str("defer(");
                write_time(out, *t);
                out.push(')');
            }
            Message::Delay(d) => {
                out.push_str("delay(");
                write_duration(out, *d);
                out.push(')');
            }
            Message::Void(m) => {
                out.push_str("void(");
                m.write_display(out, depth + 1);
                out.push(')');
            }
            Message::Timeout(d, m) => {
                out.push_str("timeout(");
                write_duration(out, *d);
                out.push_str(", ");
                m.write_display(out, depth + 1);
                out.push(')');
            }
            Message::Wrap(w, m) => {
                out.push_str(w.name());
                out.push('(');
                m.write_display(out, depth + 1);
                out.push_str(", ");
                w.to_value().write_display(out, true, depth + 1);
                out.push(')');
            }
            Message::Noop => out.push_str("noop"),
        }
    }

    /// `m.field`: the message accessors (`m.action`, `m.args`, `m.items`…).
    pub fn field(&self, name: &str) -> Option<Value> {
        let items =
            |items: &[Msg]| Value::list(items.iter().map(|m| Value::Message(m.clone())).collect());
        Some(match (name, self) {
            ("op", _) => Value::str(self.op()),
            ("action", Message::Call { action, .. }) => Value::Action(action.clone()),
            ("args", Message::Call { args, .. }) => Value::list(args.to_vec()),
            ("value", Message::Data(v)) => v.clone(),
            ("items", Message::Seq(xs) | Message::Conc(xs)) => items(xs),
            ("items", Message::Promise { items: xs, .. }) => items(xs),
            ("callback", Message::Promise { callback, .. }) => callback.to_value(),
            ("time", Message::Defer(t)) => Value::Time(*t),
            ("duration", Message::Delay(d)) => Value::Duration(*d),
            ("inner", Message::Void(m) | Message::Timeout(_, m)) => Value::Message(m.clone()),
            ("duration", Message::Timeout(d, _)) => Value::Duration(*d),
            ("inner", Message::Wrap(_, m)) => Value::Message(m.clone()),
            ("handler", Message::Wrap(w @ Wrap::Catch(_), _)) => w.to_value(),
            ("cleanup", Message::Wrap(w @ Wrap::Ensure(_), _)) => w.to_value(),
            ("next", Message::Wrap(w @ Wrap::Then(_), _)) => w.to_value(),
            ("policy", Message::Wrap(w @ Wrap::Retrying(_), _)) => w.to_value(),
            _ => return None,
        })
    }
}

fn same_items(a: &[Msg], b: &[Msg]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| Rc::ptr_eq(x, y) || x == y)
}

impl PartialEq for Message {
    fn eq(&self, other: &Message) -> bool {
        match (self, other) {
            (
                Message::Call { action, args },
                Message::Call {
                    action: a2,
                    args: args2,
                },
            ) => action.id == a2.id && args == args2,
            (Message::Data(a), Message::Data(b)) => a == b,
            (Message::Seq(a), Message::Seq(b)) | (Message::Conc(a), Message::Conc(b)) => {
                same_items(a, b)
            }
            (
                Message::Promise { items, callback },
                Message::Promise {
                    items: i2,
                    callback: c2,
                },
            ) => same_items(items, i2) && callback.to_value() == c2.to_value(),
            (Message::Defer(a), Message::Defer(b)) | (Message::Delay(a), Message::Delay(b)) => {
                a == b
            }
            (Message::Void(a), Message::Void(b)) => a == b,
            (Message::Timeout(d1, a), Message::Timeout(d2, b)) => d1 == d2 && a == b,
            (Message::Wrap(w1, a), Message::Wrap(w2, b)) => w1.same(w2) && a == b,
            (Message::Noop, Message::Noop) => true,
            _ => false,
        }
    }
}
