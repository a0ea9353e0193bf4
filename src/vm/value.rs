//! Runtime values, their equality, and their display form.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::rc::Rc;

use indexmap::IndexMap;

use super::message::Message;
use super::natives::NativeFn;
use crate::bytecode::chunk::FnProto;
pub use crate::bytecode::constant::write_duration;
use crate::bytecode::constant::{write_float, write_quoted, Const};

pub type List = Rc<RefCell<Vec<Value>>>;
pub type Record = Rc<RefCell<IndexMap<Str, Value>>>;

/// A string value and a record key: immutable, shared, and one pointer wide
/// (length and count live with the bytes), so that a [`Value`] is 16 bytes
/// and moves in two registers.
pub type Str = crate::bytecode::constant::Str;

#[derive(Clone, Default)]
pub enum Value {
    #[default]
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Milliseconds.
    Duration(i64),
    /// Milliseconds since the Unix epoch.
    Time(i64),
    // The scalars come first, so that `is_scalar` is one compare of the
    // tag (the interpreter's RETURN asks it of every value it drops).
    Str(Str),
    List(List),
    Record(Record),
    Func(Rc<Closure>),
    Native(&'static NativeFn),
    /// A function an embedding program registered.
    HostFn(Rc<HostFn>),
    Action(Rc<ActionDef>),
    Message(Rc<Message>),
    /// A captured local's box. Lives only in local slots and closures; never
    /// seen by a program.
    Cell(Rc<RefCell<Value>>),
}

/// A function value: a compiled body and the cells it captured.
pub struct Closure {
    pub proto: Rc<FnProto>,
    pub captures: Box<[Rc<RefCell<Value>>]>,
}

impl Closure {
    /// A body that captures nothing: an action's, a pass's, a filter's
    /// predicate or a unit's top level.
    pub fn plain(proto: Rc<FnProto>) -> Rc<Closure> {
        Rc::new(Closure {
            proto,
            captures: Box::new([]),
        })
    }
}

/// What a host (embedding) function or action is: Rust code called with
/// the arguments.
pub type HostCallable = dyn Fn(&[Value]) -> Result<Value, super::error::RuntimeError>;

/// A function registered by an embedding program.
pub struct HostFn {
    pub name: Rc<str>,
    /// Fewest and most arguments.
    pub min: usize,
    pub max: usize,
    pub func: Box<HostCallable>,
}

/// An action: what a `call(...)` message runs.
pub struct ActionDef {
    /// Unique within one engine; patterns and equality compare by it.
    pub id: u32,
    pub name: Rc<str>,
    pub body: ActionBody,
    /// Its resource limits (`limit 1 per host`, `rate 10/s`); `None` for
    /// most actions, whose calls the engine runs with no check.
    pub limits: Option<Rc<Limits>>,
    /// Its own retry policy (`retry 3 backoff 2s`); `None`: the run's
    /// (`--max-attempts`, `--backoff`). A `retrying(m, policy)` around a
    /// call takes precedence.
    pub retry: Option<Rc<crate::vm::message::RetryPolicy>>,
    /// Its priority (`priority 10`): ready items whose next step is a call
    /// of it step before those of lower priority; `None`: the priority of
    /// the item the call is in (0 by default).
    pub priority: Option<i16>,
}

/// The highest priority an action or an item may have; the lowest is its
/// negation.
pub const MAX_PRIORITY: i16 = 100;

/// An action's resource limits: how many of its calls may run at once and
/// how often one may start, per value of a key parameter (or overall).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// At most this many calls (with their whole subtrees) at once.
    pub concurrency: Option<u32>,
    /// The parameter whose value keys the resource: its position and name.
    pub key: Option<(usize, Rc<str>)>,
    /// At most `count` starts per `period` ms, spaced evenly.
    pub rate: Option<Rate>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: i64,
}

impl Limits {
    /// The clause as written: `limit 4 per host rate 2/s`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = self.concurrency {
            parts.push(format!("limit {n}"));
        }
        if let Some((_, name)) = &self.key {
            parts.push(format!("per {name}"));
        }
        if let Some(r) = self.rate {
            let unit = match r.period {
                1_000 => "s",
                60_000 => "m",
                _ => "h",
            };
            parts.push(format!("rate {}/{unit}", r.count));
        }
        parts.join(" ")
    }
}

/// What runs when an action is called.
pub enum ActionBody {
    /// Written in Voyager: the compiled body as a callable, made once
    /// (calls are the hot path).
    Script(Rc<Closure>),
    /// Written in Rust by an embedding program, run on the interpreter's
    /// thread.
    Host {
        arity: usize,
        func: Rc<HostCallable>,
    },
    /// A native job (a command, a file, an HTTP request, a registered pool
    /// action) that the engine's worker pool runs: how to describe the job
    /// from the arguments, and how many it takes.
    Job(super::job::JobAction),
}

impl ActionDef {
    /// An action declared in a script, with its compiled body.
    pub fn script(id: u32, name: Rc<str>, proto: Rc<FnProto>) -> ActionDef {
        let body = Closure::plain(proto);
        ActionDef {
            id,
            name,
            body: ActionBody::Script(body),
            limits: None,
            retry: None,
            priority: None,
        }
    }

    /// The fewest and most arguments it takes.
    pub fn arity(&self) -> (usize, usize) {
        match &self.body {
            ActionBody::Script(body) => (body.proto.arity, body.proto.arity),
            ActionBody::Host { arity, .. } => (*arity, *arity),
            ActionBody::Job(job) => (job.min, job.max),
        }
    }

    /// The compiled body of an action written in Voyager.
    pub fn proto(&self) -> Option<&Rc<FnProto>> {
        match &self.body {
            ActionBody::Script(body) => Some(&body.proto),
            _ => None,
        }
    }

    /// Where a script declares it (`None` for an action written in Rust).
    pub fn declared_at(&self) -> Option<super::error::Loc> {
        self.proto().map(|p| super::error::Loc {
            source: p.source,
            span: p.span,
        })
    }

    /// The job description of a native job action.
    pub fn job(&self) -> Option<&super::job::JobAction> {
        match &self.body {
            ActionBody::Job(job) => Some(job),
            _ => None,
        }
    }
}

impl fmt::Debug for ActionDef {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "action {}", self.name)
    }
}

impl Value {
    /// The runtime value of a compiled constant.
    #[inline(always)]
    pub fn of_const(k: &Const) -> Value {
        match *k {
            Const::Int(n) => Value::Int(n),
            Const::Float(x) => Value::Float(x),
            Const::Nil => Value::Nil,
            Const::Bool(b) => Value::Bool(b),
            Const::Duration(ms) => Value::Duration(ms),
            Const::Str(ref s) => Value::Str(s.clone()),
            Const::Native { index, .. } => Value::Native(&super::natives::NATIVES[index as usize]),
        }
    }

    pub fn str(s: &str) -> Value {
        Value::Str(Str::from(s))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(items)))
    }

    pub fn record(fields: IndexMap<Str, Value>) -> Value {
        Value::Record(Rc::new(RefCell::new(fields)))
    }

    pub fn message(m: Message) -> Value {
        Value::Message(Rc::new(m))
    }

    /// Whether the value holds nothing shared, so copying it is a copy of
    /// its bits and dropping it frees nothing.
    #[inline(always)]
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Value::Nil
                | Value::Bool(_)
                | Value::Int(_)
                | Value::Float(_)
                | Value::Duration(_)
                | Value::Time(_)
        )
    }

    pub fn is_truthy(&self) -> bool {
        !matches!(self, Value::Nil | Value::Bool(false))
    }

    /// The name `type_of` returns and type errors use.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::Duration(_) => "duration",
            Value::Time(_) => "time",
            Value::List(_) => "list",
            Value::Record(_) => "record",
            Value::Func(_) | Value::Native(_) | Value::HostFn(_) => "fn",
            Value::Action(_) => "action",
            Value::Message(_) => "message",
            Value::Cell(_) => "cell",
        }
    }

    /// The display form: strings raw, everything else as `repr` writes it.
    pub fn display(&self) -> String {
        let mut out = String::new();
        self.write_display(&mut out, false, 0);
        out
    }

    /// The form inside containers: strings quoted.
    pub fn repr(&self) -> String {
        let mut out = String::new();
        self.write_display(&mut out, true, 0);
        out
    }

    pub(crate) fn write_display(&self, out: &mut String, quoted: bool, depth: usize) {
        if depth > MAX_DISPLAY_DEPTH {
            out.push_str("...");
            return;
        }
        match self {
            Value::Nil => out.push_str("nil"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Float(x) => write_float(out, *x),
            Value::Str(s) if quoted => write_quoted(out, s),
            Value::Str(s) => out.push_str(s),
            Value::Duration(ms) => write_duration(out, *ms),
            Value::Time(ms) => write_time(out, *ms),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_display(out, true, depth + 1);
                }
                out.push(']');
            }
            Value::Record(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.borrow().iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    if is_identifier(k) {
                        out.push_str(k);
                    } else {
                        write_quoted(out, k);
                    }
                    out.push_str(": ");
                    v.write_display(out, true, depth + 1);
                }
                out.push('}');
            }
            Value::Func(c) => {
                let _ = write!(out, "<fn {}>", c.proto.name);
            }
            Value::Native(n) => {
                let _ = write!(out, "<fn {}>", n.name);
            }
            Value::HostFn(f) => {
                let _ = write!(out, "<fn {}>", f.name);
            }
            Value::Action(a) => out.push_str(&a.name),
            Value::Message(m) => m.write_display(out, depth + 1),
            Value::Cell(c) => c.borrow().write_display(out, quoted, depth),
        }
    }
}

const MAX_DISPLAY_DEPTH: usize = 64;

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Times as RFC 3339 in UTC, with milliseconds only when there are some.
pub fn write_time(out: &mut String, ms: i64) {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if millis != 0 {
        let _ = write!(out, ".{millis:03}");
    }
    out.push('Z');
}

/// Howard Hinnant's days-to-civil algorithm: days since 1970-01-01 to (y, m, d).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl PartialEq for Value {
    /// Structural for lists, records and messages; identity for functions.
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => {
                (*a as f64) == *b
            }
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Duration(a), Value::Duration(b)) => a == b,
            (Value::Time(a), Value::Time(b)) => a == b,
            (Value::List(a), Value::List(b)) => Rc::ptr_eq(a, b) || *a.borrow() == *b.borrow(),
            (Value::Record(a), Value::Record(b)) => {
                Rc::ptr_eq(a, b) || {
                    let (a, b) = (a.borrow(), b.borrow());
                    a.len() == b.len() && a.iter().all(|(k, v)| b.get(k) == Some(v))
                }
            }
            (Value::Func(a), Value::Func(b)) => Rc::ptr_eq(a, b),
            (Value::Native(a), Value::Native(b)) => std::ptr::eq(*a, *b),
            (Value::HostFn(a), Value::HostFn(b)) => Rc::ptr_eq(a, b),
            (Value::Action(a), Value::Action(b)) => a.id == b.id,
            (Value::Message(a), Value::Message(b)) => Rc::ptr_eq(a, b) || a == b,
            _ => false,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.repr())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        let rec: IndexMap<Str, Value> = [(Str::from("k"), Value::Float(2.5))].into();
        let v = Value::list(vec![Value::Int(1), Value::str("a"), Value::record(rec)]);
        assert_eq!(v.display(), r#"[1, "a", {k: 2.5}]"#);
        assert_eq!(Value::str("a").display(), "a");
        assert_eq!(Value::Float(3.0).display(), "3.0");
        assert_eq!(Value::Nil.display(), "nil");
    }

    #[test]
    fn a_value_is_two_words_and_a_failure_one() {
        // The interpreter's stack, call arguments and queued nodes are sized
        // by these; a wider variant would cost every message.
        assert_eq!(std::mem::size_of::<Value>(), 16);
        assert_eq!(
            std::mem::size_of::<Result<Value, crate::vm::error::RuntimeError>>(),
            16
        );
        assert_eq!(std::mem::size_of::<crate::vm::message::Args>(), 24);
    }

    #[test]
    fn durations_in_largest_exact_unit() {
        for (ms, shown) in [
            (1500, "1500ms"),
            (2000, "2s"),
            (120_000, "2m"),
            (3_600_000, "1h"),
            (0, "0ms"),
            (-2000, "-2s"),
        ] {
            assert_eq!(Value::Duration(ms).display(), shown);
        }
    }

    #[test]
    fn times_as_rfc3339_utc() {
        assert_eq!(Value::Time(0).display(), "1970-01-01T00:00:00Z");
        assert_eq!(
            Value::Time(1_700_000_000_123).display(),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            Value::Time(951_782_400_000).display(),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn structural_equality() {
        let a = Value::list(vec![Value::Int(1), Value::str("x")]);
        let b = Value::list(vec![Value::Int(1), Value::str("x")]);
        assert_eq!(a, b);
        assert_ne!(a, Value::list(vec![]));
        assert_eq!(Value::Int(1), Value::Float(1.0));
    }
}
