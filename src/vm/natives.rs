//! The prelude's Rust half: functions that need speed, the OS, or
//! the engine's clock. The rest of the prelude is `std/prelude.vy`.

use std::cell::RefCell;
use std::rc::Rc;

use indexmap::IndexMap;

use super::error::{codes, RuntimeError};
use super::message::{Args, Callback, Message, Msg};
use super::value::{Str, Value};

mod guard;
mod json;
mod params;
mod text;
mod time;

pub use guard::{appended_arity, error_record, policy as retry_policy, try_result, uncatchable};
pub use json::{from_json, to_json};
pub use params::{convert as convert_param, wanted as wanted_param, ScriptArgs};

/// What natives may ask of whoever runs them.
pub trait Host {
    /// Writes program output (what `print` prints).
    fn print(&mut self, text: &str);
    /// The current time, ms since the Unix epoch (virtual or real).
    fn now(&self) -> i64;
    /// Pushes buffered output out (before diagnostics are written, and
    /// before the engine waits on a timer or a job).
    fn flush(&mut self) {}
    /// The first write of output that failed, if one did since the last call.
    fn take_write_error(&mut self) -> Option<std::io::Error> {
        None
    }
    /// The words the run was given (`voyager run FILE -- …`), once bound.
    fn script_args(&self) -> Option<Rc<ScriptArgs>> {
        None
    }
    /// Writes to standard error (what `eprint` prints), after the output
    /// printed so far.
    fn eprint(&mut self, text: &str) {
        use std::io::Write;
        self.flush();
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
    /// Asks the run to end with exit status `code` once the running step
    /// is over. Returns whether something will end it (not in a REPL).
    fn exit(&mut self, _code: u8) -> bool {
        false
    }
}

type NativeResult = Result<Value, RuntimeError>;

/// The native the interpreter runs itself (it calls back into code).
pub const TRY_CALL: fn(&mut dyn Host, &[Value]) -> Result<Value, RuntimeError> = guard::try_call;

pub struct NativeFn {
    pub name: &'static str,
    /// Fewest and most arguments (`usize::MAX`: any number).
    pub min: usize,
    pub max: usize,
    pub func: fn(&mut dyn Host, &[Value]) -> NativeResult,
    /// One line for `:help` and completions.
    pub doc: &'static str,
}

impl std::fmt::Debug for NativeFn {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "<native {}>", self.name)
    }
}

macro_rules! natives {
    ($( $name:literal ($min:expr, $max:expr) $func:path : $doc:literal ;)*) => {
        /// Every native function of the prelude.
        pub static NATIVES: &[NativeFn] = &[
            $( NativeFn { name: $name, min: $min, max: $max, func: $func, doc: $doc }, )*
        ];
    };
}

const ANY: usize = usize::MAX;

natives! {
    "print" (1, 1) print: "print(v): write v's display form and a newline";
    "len" (1, 1) len: "len(x): items in a list, keys in a record, characters in a string";
    "str" (1, 1) str: "str(v): v's display form as a string";
    "int" (1, 1) int: "int(v): an int from a float, string, bool, duration or time";
    "float" (1, 1) float: "float(v): a float from an int or string";
    "type_of" (1, 1) type_of: "type_of(v): the name of v's type";
    "keys" (1, 1) keys: "keys(r): a record's keys, in order";
    "values" (1, 1) values: "values(r): a record's values, in order";
    "get" (2, 3) get: "get(r, k, default): r[k], or default (nil) when missing";
    "push" (2, 2) push: "push(xs, v): append v to xs in place; returns nil";
    "pop" (1, 1) pop: "pop(xs): remove and return the last item";
    "range" (1, 2) range: "range(a, b): the ints a..b, half-open (range(n) is 0..n)";
    "sort" (1, 1) sort: "sort(xs): a sorted copy of xs";
    "reverse" (1, 1) reverse: "reverse(xs): a reversed copy of xs";
    "slice" (2, 3) slice: "slice(xs, a, b): items a..b of a list or string";
    "join" (1, 2) join: "join(xs, sep): the items' display forms joined by sep";
    "split" (2, 2) split: "split(s, sep): s cut at every sep";
    "contains" (2, 2) contains: "contains(x, v): v in a list, a key of a record, or a substring";
    "upper" (1, 1) upper: "upper(s): s in upper case";
    "lower" (1, 1) lower: "lower(s): s in lower case";
    "trim" (1, 1) trim: "trim(s): s without leading and trailing white space";
    "starts_with" (2, 2) starts_with: "starts_with(s, prefix)";
    "ends_with" (2, 2) ends_with: "ends_with(s, suffix)";
    "replace" (3, 3) replace: "replace(s, from, to): every from in s replaced by to";
    "abs" (1, 1) abs: "abs(n)";
    "min" (2, 2) min: "min(a, b)";
    "max" (2, 2) max: "max(a, b)";
    "now" (0, 0) now: "now(): the current time (virtual under --clock virtual)";
    "assert" (1, 2) assert: "assert(c, msg): fail fatally unless c is truthy";
    "fail" (1, 1) fail: "fail(reason): a fatal error: the item becomes a dead letter";
    "retry" (1, 1) retry: "retry(reason): a retryable error: the call runs again after a backoff";
    "call" (1, ANY) call: "call(action, args…): a message that runs action with args";
    "data" (1, 1) data: "data(v): inert data";
    "seq" (1, 1) seq: "seq([m, …]): run in order";
    "conc" (1, 1) conc: "conc([m, …]): run round-robin";
    "promise" (2, 2) promise: "promise([m, …], cb): run, collect data, then call cb with it";
    "defer" (1, 1) defer: "defer(t): complete at time t";
    "delay" (1, 1) delay: "delay(d): complete d after first stepped";
    "void" (1, 1) void: "void(m): run m, discarding the data it yields";
    "timeout" (2, 2) timeout: "timeout(d, m): fail (retryably) if m has not finished within d";
    // Failure handling and continuations.
    "catch" (2, 2) guard::catch: "catch(m, handler): if m ends as a dead letter, call handler with {code, message, call, attempts} instead";
    "ensure" (2, 2) guard::ensure: "ensure(m, cleanup): run m, then cleanup whatever m's outcome";
    "then" (2, 2) guard::then: "then(m, next): run m, then call next with what m yielded (one value, nil, or a list)";
    "retrying" (2, 2) guard::retrying: "retrying(m, policy): m's calls retry by policy (attempts, or {attempts, backoff, max_backoff, on})";
    "try_call" (1, ANY) guard::try_call: "try_call(f, args…): {ok: true, value} if f(args…) returns, {ok: false, error: {code, message}} if it fails";
    // Parameters, JSON, and the process (issue 22).
    "args" (0, 0) params::args: "args(): the words after `--` (voyager run FILE -- …) that are not flags";
    "param" (1, 2) params::param: "param(name, default): the next word after `--`, as <name> (required without a default)";
    "flag" (1, 2) params::flag: "flag(name, default): --name VALUE after `--` (a bool default: --name alone is true)";
    "env" (1, 2) params::env: "env(name, default): an environment variable, converted like default";
    "json_encode" (1, 2) json::encode: "json_encode(v, pretty): v as JSON text (pretty: indented)";
    "json_decode" (1, 1) json::decode: "json_decode(text): the value JSON text stands for";
    "eprint" (1, 1) eprint: "eprint(v): write v's display form and a newline to stderr";
    "exit" (1, 1) exit: "exit(n): end the run with status n after this step; queued work is left unfinished";
    "uuid" (0, 0) uuid: "uuid(): a random (version 4) UUID string";
    "regex_match" (2, 2) text::regex_match: "regex_match(s, pattern): whether pattern matches somewhere in s";
    "regex_find" (2, 2) text::regex_find: "regex_find(s, pattern): the first match {text, start, end, groups, named}, or nil";
    "regex_find_all" (2, 2) text::regex_find_all: "regex_find_all(s, pattern): every match, as regex_find gives one";
    "regex_replace" (3, 3) text::regex_replace: "regex_replace(s, pattern, with): every match replaced ($1, ${name} for groups)";
    "regex_split" (2, 2) text::regex_split: "regex_split(s, pattern): s cut at every match";
    "format_time" (1, 2) time::format_time: "format_time(t, pattern): t as RFC 3339, or by a strftime pattern (UTC)";
    "parse_time" (1, 2) time::parse_time: "parse_time(text, pattern): the time RFC 3339 text (or text fitting pattern) names";
    "time_parts" (1, 1) time::time_parts: "time_parts(t): {year, month, day, hour, minute, second, millisecond, weekday, day_of_year}";
    "make_time" (1, 1) time::make_time: "make_time({year, month, day, hour, …}): the time of those parts (UTC)";
    "add_days" (2, 2) time::add_days: "add_days(t, n): t plus n calendar days";
    "add_months" (2, 2) time::add_months: "add_months(t, n): t plus n calendar months (a day past the month's end is its last)";
    "format_number" (1, 2) time::format_number: "format_number(x, {decimals, thousands, width, fill}): x as text";
    "pad_start" (2, 3) time::pad_start: "pad_start(s, width, fill): s padded on the left to width";
    "pad_end" (2, 3) time::pad_end: "pad_end(s, width, fill): s padded on the right to width";
}

pub fn lookup(name: &str) -> Option<&'static NativeFn> {
    NATIVES.iter().find(|n| n.name == name)
}

fn type_error(what: &str, expected: &str, got: &Value) -> RuntimeError {
    RuntimeError::type_error(format!(
        "{what} expects {expected}, got {} `{}`",
        got.type_name(),
        got.repr()
    ))
}

fn as_list<'a>(what: &str, v: &'a Value) -> Result<&'a Rc<RefCell<Vec<Value>>>, RuntimeError> {
    match v {
        Value::List(xs) => Ok(xs),
        other => Err(type_error(what, "a list", other)),
    }
}

fn as_str<'a>(what: &str, v: &'a Value) -> Result<&'a str, RuntimeError> {
    match v {
        Value::Str(s) => Ok(s),
        other => Err(type_error(what, "a string", other)),
    }
}

fn as_int(what: &str, v: &Value) -> Result<i64, RuntimeError> {
    match v {
        Value::Int(n) => Ok(*n),
        other => Err(type_error(what, "an int", other)),
    }
}

fn print(host: &mut dyn Host, args: &[Value]) -> NativeResult {
    let mut text = args[0].display();
    text.push('\n');
    host.print(&text);
    Ok(Value::Nil)
}

fn eprint(host: &mut dyn Host, args: &[Value]) -> NativeResult {
    let mut text = args[0].display();
    text.push('\n');
    host.eprint(&text);
    Ok(Value::Nil)
}

fn exit(host: &mut dyn Host, args: &[Value]) -> NativeResult {
    let code = match &args[0] {
        Value::Int(n) => u8::try_from(*n).map_err(|_| {
            RuntimeError::new(
                codes::VALUE,
                format!("exit: the status must be 0 to 255, got {n}"),
            )
        })?,
        other => return Err(type_error("exit", "an int status (0 to 255)", other)),
    };
    let ends = host.exit(code);
    let e = RuntimeError::new(codes::EXIT, format!("exit({code}) ended the run"));
    Err(if ends {
        e
    } else {
        e.with_hint("exit(n) ends a `voyager run`; here there is no run to end")
    })
}

fn uuid(_: &mut dyn Host, _: &[Value]) -> NativeResult {
    Ok(Value::str(&::uuid::Uuid::new_v4().to_string()))
}

fn len(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let n = match &args[0] {
        Value::List(xs) => xs.borrow().len(),
        Value::Record(r) => r.borrow().len(),
        Value::Str(s) => s.chars().count(),
        other => return Err(type_error("len", "a list, record or string", other)),
    };
    Ok(Value::Int(n as i64))
}

fn str(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    Ok(match &args[0] {
        s @ Value::Str(_) => s.clone(),
        other => Value::str(&other.display()),
    })
}

fn int(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    Ok(Value::Int(match &args[0] {
        Value::Int(n) => *n,
        // Every float below 2^63 in size truncates to an int; 2^63 itself
        // is one past the largest.
        Value::Float(x) if x.is_finite() && x.abs() < 9_223_372_036_854_775_808.0 => {
            x.trunc() as i64
        }
        Value::Float(x) if x.is_nan() => {
            return Err(RuntimeError::new(codes::VALUE, "int: NaN has no int value"))
        }
        Value::Float(x) => {
            return Err(RuntimeError::new(
                codes::OVERFLOW,
                format!(
                    "int: {} is outside the int range, {} to {}",
                    format_args!("{x:e}"),
                    i64::MIN,
                    i64::MAX
                ),
            )
            .with_hint("an int is 64 bits; keep the value a float"))
        }
        Value::Bool(b) => *b as i64,
        Value::Duration(ms) | Value::Time(ms) => *ms,
        Value::Str(s) => {
            let digits = s.trim().replace('_', "");
            digits.parse().map_err(|e: std::num::ParseIntError| {
                use std::num::IntErrorKind::{NegOverflow, PosOverflow};
                match e.kind() {
                    PosOverflow | NegOverflow => RuntimeError::new(
                        codes::OVERFLOW,
                        format!(
                            "int: `{s}` is outside the int range, {} to {}",
                            i64::MIN,
                            i64::MAX
                        ),
                    ),
                    _ => RuntimeError::new(codes::VALUE, format!("int: `{s}` is not an integer")),
                }
            })?
        }
        other => {
            return Err(type_error(
                "int",
                "a number, string, bool, duration or time",
                other,
            ))
        }
    }))
}

fn float(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    Ok(Value::Float(match &args[0] {
        Value::Int(n) => *n as f64,
        Value::Float(x) => *x,
        Value::Str(s) => s.trim().parse().map_err(|_| {
            RuntimeError::new(codes::VALUE, format!("float: `{s}` is not a number"))
        })?,
        other => return Err(type_error("float", "a number or string", other)),
    }))
}

fn type_of(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    Ok(Value::str(args[0].type_name()))
}

fn record_of<'a>(what: &str, v: &'a Value) -> Result<&'a super::value::Record, RuntimeError> {
    match v {
        Value::Record(r) => Ok(r),
        other => Err(type_error(what, "a record", other)),
    }
}

fn keys(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let r = record_of("keys", &args[0])?;
    let keys = r.borrow().keys().map(|k| Value::Str(k.clone())).collect();
    Ok(Value::list(keys))
}

fn values(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let r = record_of("values", &args[0])?;
    let values = r.borrow().values().cloned().collect();
    Ok(Value::list(values))
}

fn get(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let default = args.get(2).cloned().unwrap_or(Value::Nil);
    Ok(match (&args[0], &args[1]) {
        (Value::Record(r), Value::Str(k)) => r.borrow().get(k).cloned().unwrap_or(default),
        (Value::List(xs), Value::Int(i)) => {
            let xs = xs.borrow();
            let i = if *i < 0 { *i + xs.len() as i64 } else { *i };
            usize::try_from(i)
                .ok()
                .and_then(|i| xs.get(i).cloned())
                .unwrap_or(default)
        }
        (Value::Message(m), Value::Str(k)) => m.field(k).unwrap_or(default),
        (container, key) => {
            return Err(RuntimeError::type_error(format!(
                "get: cannot look up {} `{}` in {}",
                key.type_name(),
                key.repr(),
                container.type_name()
            )))
        }
    })
}

fn push(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    as_list("push", &args[0])?
        .borrow_mut()
        .push(args[1].clone());
    // nil, so that an action ending in push(...) yields no data.
    Ok(Value::Nil)
}

fn pop(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    as_list("pop", &args[0])?
        .borrow_mut()
        .pop()
        .ok_or_else(|| RuntimeError::new(codes::INDEX, "pop: the list is empty"))
}

/// Lists longer than this are refused, so a typo cannot eat the machine.
const MAX_RANGE: i64 = 100_000_000;

fn range(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let (a, b) = match args {
        [n] => (0, as_int("range", n)?),
        [a, b] => (as_int("range", a)?, as_int("range", b)?),
        _ => unreachable!("arity is checked before the call"),
    };
    if b.saturating_sub(a) > MAX_RANGE {
        return Err(RuntimeError::new(
            codes::VALUE,
            format!("range: {a}..{b} has more than {MAX_RANGE} items"),
        ));
    }
    let len = b.saturating_sub(a).max(0) as usize;
    if crate::memory::exceeded(len * std::mem::size_of::<Value>()) {
        return Err(super::interp::memory_error());
    }
    Ok(Value::list((a..b.max(a)).map(Value::Int).collect()))
}

/// The order `sort`, `min` and `max` use: numbers with numbers, strings with
/// strings, durations with durations, times with times.
pub fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Int(x), Value::Float(y)) => (*x as f64).partial_cmp(y),
        (Value::Float(x), Value::Int(y)) => x.partial_cmp(&(*y as f64)),
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::Duration(x), Value::Duration(y)) | (Value::Time(x), Value::Time(y)) => {
            Some(x.cmp(y))
        }
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn sort(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let mut items = as_list("sort", &args[0])?.borrow().clone();
    let mut bad = None;
    items.sort_by(|a, b| {
        compare(a, b).unwrap_or_else(|| {
            bad.get_or_insert((a.clone(), b.clone()));
            std::cmp::Ordering::Equal
        })
    });
    if let Some((a, b)) = bad {
        return Err(RuntimeError::type_error(format!(
            "sort: cannot compare {} `{}` with {} `{}`",
            a.type_name(),
            a.repr(),
            b.type_name(),
            b.repr()
        )));
    }
    Ok(Value::list(items))
}

fn reverse(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let mut items = as_list("reverse", &args[0])?.borrow().clone();
    items.reverse();
    Ok(Value::list(items))
}

fn slice(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let clamp = |i: i64, len: usize| -> usize {
        let i = if i < 0 { i + len as i64 } else { i };
        i.clamp(0, len as i64) as usize
    };
    let bound = |i: usize, len: usize| -> Result<usize, RuntimeError> {
        match args.get(i) {
            None | Some(Value::Nil) => Ok(len),
            Some(v) => Ok(clamp(as_int("slice", v)?, len)),
        }
    };
    match &args[0] {
        Value::List(xs) => {
            let xs = xs.borrow();
            let a = clamp(as_int("slice", &args[1])?, xs.len());
            let b = bound(2, xs.len())?;
            Ok(Value::list(xs[a..b.max(a)].to_vec()))
        }
        Value::Str(s) => {
            let chars: Vec<char> = s.chars().collect();
            let a = clamp(as_int("slice", &args[1])?, chars.len());
            let b = bound(2, chars.len())?;
            Ok(Value::str(&chars[a..b.max(a)].iter().collect::<String>()))
        }
        other => Err(type_error("slice", "a list or string", other)),
    }
}

fn join(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let sep = match args.get(1) {
        Some(v) => as_str("join", v)?,
        None => "",
    };
    let items = as_list("join", &args[0])?.borrow();
    let parts: Vec<String> = items.iter().map(Value::display).collect();
    Ok(Value::str(&parts.join(sep)))
}

fn split(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let s = as_str("split", &args[0])?;
    let sep = as_str("split", &args[1])?;
    let parts = if sep.is_empty() {
        s.chars().map(|c| Value::str(&c.to_string())).collect()
    } else {
        s.split(sep).map(Value::str).collect()
    };
    Ok(Value::list(parts))
}

fn contains(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    Ok(Value::Bool(match (&args[0], &args[1]) {
        (Value::List(xs), v) => xs.borrow().contains(v),
        (Value::Record(r), Value::Str(k)) => r.borrow().contains_key(k),
        (Value::Str(s), Value::Str(sub)) => s.contains(&**sub),
        (container, v) => {
            return Err(RuntimeError::type_error(format!(
                "contains: cannot look for {} in {}",
                v.type_name(),
                container.type_name()
            )))
        }
    }))
}

fn string_fn(args: &[Value], what: &str, f: impl Fn(&str) -> String) -> NativeResult {
    Ok(Value::str(&f(as_str(what, &args[0])?)))
}

fn upper(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    string_fn(args, "upper", str::to_uppercase)
}

fn lower(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    string_fn(args, "lower", str::to_lowercase)
}

fn trim(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    string_fn(args, "trim", |s| s.trim().to_string())
}

fn starts_with(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let s = as_str("starts_with", &args[0])?;
    Ok(Value::Bool(s.starts_with(as_str("starts_with", &args[1])?)))
}

fn ends_with(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let s = as_str("ends_with", &args[0])?;
    Ok(Value::Bool(s.ends_with(as_str("ends_with", &args[1])?)))
}

fn replace(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let s = as_str("replace", &args[0])?;
    let from = as_str("replace", &args[1])?;
    let to = as_str("replace", &args[2])?;
    if from.is_empty() {
        return Err(RuntimeError::new(codes::VALUE, "replace: `from` is empty"));
    }
    Ok(Value::str(&s.replace(from, to)))
}

fn abs(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    match &args[0] {
        Value::Int(n) => n
            .checked_abs()
            .map(Value::Int)
            .ok_or_else(|| RuntimeError::new(codes::OVERFLOW, "integer overflow in abs")),
        Value::Float(x) => Ok(Value::Float(x.abs())),
        Value::Duration(d) => Ok(Value::Duration(d.saturating_abs())),
        other => Err(type_error("abs", "a number", other)),
    }
}

fn pick(args: &[Value], what: &str, want: std::cmp::Ordering) -> NativeResult {
    match compare(&args[0], &args[1]) {
        Some(o) if o == want => Ok(args[0].clone()),
        Some(_) => Ok(args[1].clone()),
        None => Err(RuntimeError::type_error(format!(
            "{what}: cannot compare {} with {}",
            args[0].type_name(),
            args[1].type_name()
        ))),
    }
}

fn min(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    pick(args, "min", std::cmp::Ordering::Less)
}

fn max(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    pick(args, "max", std::cmp::Ordering::Greater)
}

fn now(host: &mut dyn Host, _: &[Value]) -> NativeResult {
    Ok(Value::Time(host.now()))
}

fn assert(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    if args[0].is_truthy() {
        return Ok(Value::Nil);
    }
    let message = match args.get(1) {
        Some(m) => format!("assertion failed: {}", m.display()),
        None => "assertion failed".to_string(),
    };
    Err(RuntimeError::new(codes::ASSERTION, message))
}

fn fail(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    Err(RuntimeError::new(codes::FAIL, args[0].display()))
}

fn retry(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    Err(RuntimeError::new(codes::RETRY, args[0].display()).retryable())
}

fn bad_message(message: String) -> RuntimeError {
    RuntimeError::new(codes::BAD_MESSAGE, message)
}

fn call(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    match &args[0] {
        Value::Action(action) => {
            // A count no run can accept fails here, where it was written.
            if let Some(e) = crate::vm::error::call_arity(action, args.len() - 1) {
                return Err(e);
            }
            Ok(Value::message(Message::Call {
                action: action.clone(),
                args: Args::from(&args[1..]),
            }))
        }
        other => Err(bad_message(format!(
            "call expects an action first, got {} `{}`",
            other.type_name(),
            other.repr()
        ))
        .with_hint("declare it with `action name(...) { ... }`")),
    }
}

fn data(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    Ok(Value::message(Message::Data(args[0].clone())))
}

/// The messages of a list argument, or an error naming the first non-message.
fn messages(what: &str, v: &Value) -> Result<Box<[Msg]>, RuntimeError> {
    let items = as_list(what, v)?.borrow();
    items
        .iter()
        .map(|item| match item {
            Value::Message(m) => Ok(m.clone()),
            other => Err(bad_message(format!(
                "{what} expects a list of messages, but it holds {} `{}`",
                other.type_name(),
                other.repr()
            ))
            .with_hint("wrap plain values in data(...)")),
        })
        .collect()
}

fn seq(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    Ok(Value::message(Message::Seq(messages("seq", &args[0])?)))
}

fn conc(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    Ok(Value::message(Message::Conc(messages("conc", &args[0])?)))
}

fn promise(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let items = messages("promise", &args[0])?;
    let callback = match &args[1] {
        Value::Action(a) => Callback::Action(a.clone()),
        Value::Message(m) => match &**m {
            Message::Call { action, args } => Callback::Call(action.clone(), args.clone()),
            other => {
                return Err(bad_message(format!(
                    "promise callback must be an action or a call(...) message, got `{}`",
                    other.display()
                )))
            }
        },
        other => {
            return Err(bad_message(format!(
                "promise callback must be an action or a call(...) message, got {} `{}`",
                other.type_name(),
                other.repr()
            )))
        }
    };
    // A callback that cannot take what the promise passes fails here,
    // before any of the promise's work runs.
    let (action, written) = match &callback {
        Callback::Action(a) => (a, 0),
        Callback::Call(a, args) => (a, args.len()),
    };
    if let Some(e) = crate::vm::error::promise_callback_arity_here(action, written) {
        return Err(e);
    }
    Ok(Value::message(Message::Promise { items, callback }))
}

fn defer(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    match &args[0] {
        Value::Time(t) => Ok(Value::message(Message::Defer(*t))),
        other => Err(type_error("defer", "a time (e.g. now() + 5s)", other)),
    }
}

fn delay(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    match &args[0] {
        Value::Duration(d) if *d < 0 => Err(bad_message(format!(
            "delay of a negative duration ({})",
            args[0].display()
        ))),
        Value::Duration(d) => Ok(Value::message(Message::Delay(*d))),
        other => Err(type_error("delay", "a duration (e.g. 250ms)", other)),
    }
}

fn timeout(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let d = match &args[0] {
        Value::Duration(d) if *d >= 0 => *d,
        Value::Duration(_) => {
            return Err(bad_message(format!(
                "timeout of a negative duration ({})",
                args[0].display()
            )))
        }
        other => return Err(type_error("timeout", "a duration first (e.g. 30s)", other)),
    };
    match &args[1] {
        Value::Message(m) => Ok(Value::message(Message::Timeout(d, m.clone()))),
        other => Err(type_error("timeout", "a message second", other)),
    }
}

fn void(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    match &args[0] {
        Value::Message(m) => Ok(Value::message(Message::Void(m.clone()))),
        other => Err(type_error("void", "a message", other)),
    }
}

/// Builds a record value from pairs (used by natives and the engine).
pub fn record(pairs: Vec<(&str, Value)>) -> Value {
    let map: IndexMap<Str, Value> = pairs.into_iter().map(|(k, v)| (Str::from(k), v)).collect();
    Value::record(map)
}
