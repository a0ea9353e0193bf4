//! Failure handling and continuations around a message: `catch`,
//! `ensure`, `then`, `retrying`; and `try_call`, which catches a runtime
//! error inside code as a value (the interpreter runs it: it calls back).

use std::rc::Rc;

use super::{bad_message, record, type_error, Host, NativeResult};
use crate::vm::error::{codes, takes, RuntimeError};
use crate::vm::message::{Callback, Message, Msg, RetryPolicy, Wrap};
use crate::vm::value::{ActionDef, Value};

fn inner(what: &str, v: &Value) -> Result<Msg, RuntimeError> {
    match v {
        Value::Message(m) => Ok(m.clone()),
        other => Err(type_error(what, "a message first", other)),
    }
}

/// An action, or a `call(a, x, …)` written with the first arguments, that
/// gets one more argument (`what` names it).
fn handler(ctor: &str, what: &str, v: &Value) -> Result<Callback, RuntimeError> {
    let callback = match v {
        Value::Action(a) => Callback::Action(a.clone()),
        Value::Message(m) => match &**m {
            Message::Call { action, args } => Callback::Call(action.clone(), args.clone()),
            other => {
                return Err(bad_message(format!(
                    "{ctor}'s {what} must be an action or a call(...) message, got `{}`",
                    other.display()
                )))
            }
        },
        other => {
            return Err(bad_message(format!(
                "{ctor}'s {what} must be an action or a call(...) message, got {} `{}`",
                other.type_name(),
                other.repr()
            )))
        }
    };
    let (action, written) = match &callback {
        Callback::Action(a) => (a, 0),
        Callback::Call(a, args) => (a, args.len()),
    };
    if let Some(e) = appended_arity(ctor, what, action, written) {
        return Err(e);
    }
    Ok(callback)
}

/// The error when `action` cannot take the `written` arguments and the
/// one `catch`/`then` appends.
pub fn appended_arity(
    ctor: &str,
    what: &str,
    action: &ActionDef,
    written: usize,
) -> Option<RuntimeError> {
    let given = written + 1;
    let (min, max) = action.arity();
    if (min..=max).contains(&given) {
        return None;
    }
    let name = &action.name;
    let appended = if ctor == "catch" {
        "the error record"
    } else {
        "the result"
    };
    Some(
        RuntimeError::new(
            codes::ARITY,
            format!(
                "{ctor}'s {what} `{name}` takes {} but would get {given}: {ctor} appends {appended} to the arguments written",
                takes(min, max)
            ),
        )
        .with_hint(format!(
            "declare `{name}` with one parameter more than `call({name}, …)` writes, for {appended}"
        )),
    )
}

pub fn catch(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let m = inner("catch", &args[0])?;
    let h = handler("catch", "handler", &args[1])?;
    Ok(Value::message(Message::Wrap(Wrap::Catch(h), m)))
}

pub fn then(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let m = inner("then", &args[0])?;
    let next = handler("then", "next step", &args[1])?;
    Ok(Value::message(Message::Wrap(Wrap::Then(next), m)))
}

pub fn ensure(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let m = inner("ensure", &args[0])?;
    match &args[1] {
        Value::Message(cleanup) => Ok(Value::message(Message::Wrap(
            Wrap::Ensure(cleanup.clone()),
            m,
        ))),
        other => Err(type_error("ensure", "a cleanup message second", other)),
    }
}

pub fn retrying(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let m = inner("retrying", &args[0])?;
    let policy = policy(&args[1])?;
    Ok(Value::message(Message::Wrap(
        Wrap::Retrying(Rc::new(policy)),
        m,
    )))
}

fn policy_error(message: String) -> RuntimeError {
    RuntimeError::new(codes::RETRY_POLICY, message).with_hint(
        "a policy is a number of attempts, or {attempts: 5, backoff: 2s, max_backoff: 1m, on: [\"E0307\"]}",
    )
}

/// A retry policy from a number of attempts or a record.
pub fn policy(v: &Value) -> Result<RetryPolicy, RuntimeError> {
    let attempts = |v: &Value| {
        match v {
        Value::Int(n) if (1..=i64::from(u32::MAX)).contains(n) => Ok(*n as u32),
        other => Err(policy_error(format!(
            "a retry policy's attempts must be an int of at least 1 (attempts in all; 1: no retry), got `{}`",
            other.repr()
        ))),
    }
    };
    let duration = |key: &str, v: &Value| match v {
        Value::Duration(d) if *d >= 0 => Ok(*d),
        other => Err(policy_error(format!(
            "a retry policy's {key} must be a duration of at least 0ms, got `{}`",
            other.repr()
        ))),
    };
    let mut policy = RetryPolicy {
        attempts: 0,
        backoff: None,
        max_backoff: None,
        on: None,
    };
    match v {
        Value::Int(_) => policy.attempts = attempts(v)?,
        Value::Record(fields) => {
            for (key, value) in fields.borrow().iter() {
                match &**key {
                    "attempts" => policy.attempts = attempts(value)?,
                    "backoff" => policy.backoff = Some(duration("backoff", value)?),
                    "max_backoff" => policy.max_backoff = Some(duration("max_backoff", value)?),
                    "on" => {
                        let Value::List(codes) = value else {
                            return Err(policy_error(format!(
                                "a retry policy's `on` must be a list of error codes such as [\"E0307\"], got `{}`",
                                value.repr()
                            )));
                        };
                        let mut on = Vec::new();
                        for code in codes.borrow().iter() {
                            match code {
                                Value::Str(s) if crate::codes::lookup(s).is_some() => {
                                    on.push(s.to_uppercase())
                                }
                                other => {
                                    return Err(policy_error(format!(
                                        "a retry policy's `on` lists error codes, and `{}` is not one (see voyager explain)",
                                        other.repr()
                                    )))
                                }
                            }
                        }
                        policy.on = Some(on);
                    }
                    other => {
                        return Err(policy_error(format!(
                            "a retry policy has no `{other}`: it takes attempts, backoff, max_backoff and on"
                        )))
                    }
                }
            }
            if policy.attempts == 0 {
                return Err(policy_error(
                    "a retry policy needs `attempts` (attempts in all; 1: no retry)".into(),
                ));
            }
        }
        other => {
            return Err(policy_error(format!(
                "retrying expects a number of attempts or a policy record second, got {} `{}`",
                other.type_name(),
                other.repr()
            )))
        }
    }
    Ok(policy)
}

/// What `try_call(f, args…)` gives back: `{ok: true, value: v}` or
/// `{ok: false, error: {code, message}}`.
pub fn try_result(result: Result<Value, RuntimeError>) -> Value {
    match result {
        Ok(v) => record(vec![("ok", Value::Bool(true)), ("value", v)]),
        Err(e) => record(vec![
            ("ok", Value::Bool(false)),
            ("error", error_record(&e, None, 0)),
        ]),
    }
}

/// An error as a record: `{code, message}`, and for a failed message also
/// the failing call and its attempts.
pub fn error_record(e: &RuntimeError, call: Option<Value>, attempts: u32) -> Value {
    let mut fields = vec![
        ("code", Value::str(e.code)),
        ("message", Value::str(&e.message)),
    ];
    if let Some(call) = call {
        fields.push(("call", call));
        fields.push(("attempts", Value::Int(attempts.into())));
    }
    record(fields)
}

/// `try_call` is run by the interpreter (it calls its first argument);
/// this body is never reached through the table.
pub fn try_call(_: &mut dyn Host, _: &[Value]) -> NativeResult {
    Err(RuntimeError::type_error(
        "try_call runs only inside the interpreter",
    ))
}

/// Errors `try_call` does not catch: those that stop the run rather than
/// the code (a runaway loop, Ctrl-C, the memory limit, exit(n)).
pub fn uncatchable(e: &RuntimeError) -> bool {
    [
        codes::MAX_STEPS,
        codes::INTERRUPTED,
        codes::MEMORY,
        codes::EXIT,
        codes::STACK_OVERFLOW,
    ]
    .contains(&e.code)
}
