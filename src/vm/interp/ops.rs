//! Operators, indexing and fields on values, and the errors they raise.

use super::*;

pub(super) fn overflow() -> RuntimeError {
    RuntimeError::new(codes::OVERFLOW, "integer overflow")
}

fn bad_operands(op: Op, a: &Value, b: &Value) -> RuntimeError {
    let symbol = match op {
        Op::Add => "+",
        Op::Sub => "-",
        Op::Mul => "*",
        Op::Div => "/",
        Op::Rem => "%",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        _ => ">=",
    };
    RuntimeError::type_error(format!(
        "cannot apply `{symbol}` to {} `{}` and {} `{}`",
        a.type_name(),
        a.repr(),
        b.type_name(),
        b.repr()
    ))
}

pub(super) fn arith(op: Op, a: Value, b: Value) -> Result<Value, RuntimeError> {
    use Value::*;
    Ok(match (op, &a, &b) {
        (Op::Add, Int(x), Int(y)) => Int(x.checked_add(*y).ok_or_else(overflow)?),
        (Op::Sub, Int(x), Int(y)) => Int(x.checked_sub(*y).ok_or_else(overflow)?),
        (Op::Mul, Int(x), Int(y)) => Int(x.checked_mul(*y).ok_or_else(overflow)?),
        (Op::Div | Op::Rem, Int(_), Int(0)) => {
            return Err(RuntimeError::new(
                codes::DIVISION_BY_ZERO,
                "division by zero",
            ))
        }
        (Op::Div, Int(x), Int(y)) => Int(x.checked_div(*y).ok_or_else(overflow)?),
        (Op::Rem, Int(x), Int(y)) => Int(x.checked_rem(*y).ok_or_else(overflow)?),
        (_, Int(_) | Float(_), Int(_) | Float(_)) => {
            let (x, y) = (as_f64(&a), as_f64(&b));
            Float(match op {
                Op::Add => x + y,
                Op::Sub => x - y,
                Op::Mul => x * y,
                Op::Div => x / y,
                _ => x % y,
            })
        }
        (Op::Add, Str(x), Str(y)) => {
            if crate::memory::exceeded(x.len() + y.len()) {
                return Err(memory_error());
            }
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            Value::str(&s)
        }
        (Op::Add, List(x), List(y)) => {
            let len = x.borrow().len() + y.borrow().len();
            if crate::memory::exceeded(len * std::mem::size_of::<Value>()) {
                return Err(memory_error());
            }
            let mut items = x.borrow().clone();
            items.extend(y.borrow().iter().cloned());
            Value::list(items)
        }
        (Op::Add, Duration(x), Duration(y)) => Duration(x.checked_add(*y).ok_or_else(overflow)?),
        (Op::Sub, Duration(x), Duration(y)) => Duration(x.checked_sub(*y).ok_or_else(overflow)?),
        (Op::Add, Time(t), Duration(d)) | (Op::Add, Duration(d), Time(t)) => {
            Time(t.checked_add(*d).ok_or_else(overflow)?)
        }
        (Op::Sub, Time(t), Duration(d)) => Time(t.checked_sub(*d).ok_or_else(overflow)?),
        (Op::Sub, Time(x), Time(y)) => Duration(x.checked_sub(*y).ok_or_else(overflow)?),
        (Op::Mul, Duration(d), Int(n)) | (Op::Mul, Int(n), Duration(d)) => {
            Duration(d.checked_mul(*n).ok_or_else(overflow)?)
        }
        (Op::Div, Duration(_), Int(0)) => {
            return Err(RuntimeError::new(
                codes::DIVISION_BY_ZERO,
                "division by zero",
            ))
        }
        (Op::Div, Duration(d), Int(n)) => Duration(d / n),
        (Op::Mul, Duration(d), Float(x)) | (Op::Mul, Float(x), Duration(d)) => {
            Duration(scaled(*d, *x)?)
        }
        (Op::Div, Duration(d), Float(x)) if *x != 0.0 => Duration(scaled(*d, 1.0 / *x)?),
        (Op::Div, Duration(x), Duration(y)) if *y != 0 => Float(*x as f64 / *y as f64),
        _ => return Err(bad_operands(op, &a, &b)),
    })
}

/// A duration times a float, to the nearest millisecond.
fn scaled(ms: i64, by: f64) -> Result<i64, RuntimeError> {
    let r = (ms as f64 * by).round();
    if r.is_finite() && r.abs() < 9.2e18 {
        Ok(r as i64)
    } else {
        Err(RuntimeError::new(
            codes::OVERFLOW,
            format!("a duration of {ms}ms times {by} is out of range"),
        ))
    }
}

/// `for … in range(a, b)` with a bound that is not an int: the error the
/// `range` function gives.
pub(super) fn range_bound_error(a: &Value, b: &Value) -> RuntimeError {
    let bad = if matches!(a, Value::Int(_)) { b } else { a };
    RuntimeError::type_error(format!(
        "range expects an int, got {} `{}`",
        bad.type_name(),
        bad.repr()
    ))
}

/// Growing a value would pass the memory limit (`--max-memory`).
pub(crate) fn memory_error() -> RuntimeError {
    let limit = crate::memory::limit().unwrap_or(0) >> 20;
    RuntimeError::new(
        codes::MEMORY,
        format!("out of memory: the program would use more than the limit of {limit} MiB"),
    )
    .with_hint("look for a value that grows without end, or raise --max-memory")
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(n) => *n as f64,
        Value::Float(x) => *x,
        _ => f64::NAN,
    }
}

pub(super) fn ordering(op: Op, a: &Value, b: &Value) -> Result<bool, RuntimeError> {
    use std::cmp::Ordering::*;
    let Some(o) = compare(a, b) else {
        // NaN compares false, like IEEE; anything else is a type error.
        if matches!(
            (a, b),
            (
                Value::Float(_) | Value::Int(_),
                Value::Float(_) | Value::Int(_)
            )
        ) {
            return Ok(false);
        }
        return Err(bad_operands(op, a, b));
    };
    Ok(match op {
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Gt => o == Greater,
        _ => o != Less,
    })
}

pub(super) fn list_index(len: usize, i: i64) -> Option<usize> {
    let i = if i < 0 { i.checked_add(len as i64)? } else { i };
    usize::try_from(i).ok().filter(|&i| i < len)
}

pub(super) fn index_get(object: &Value, index: &Value) -> Result<Value, RuntimeError> {
    match (object, index) {
        (Value::List(xs), Value::Int(i)) => {
            let xs = xs.borrow();
            list_index(xs.len(), *i)
                .map(|i| xs[i].clone())
                .ok_or_else(|| out_of_range(*i, xs.len()))
        }
        (Value::Record(r), Value::Str(k)) => r
            .borrow()
            .get(k)
            .cloned()
            .ok_or_else(|| missing_key(k, object)),
        (Value::Str(s), Value::Int(i)) => {
            let len = s.chars().count();
            list_index(len, *i)
                .and_then(|i| s.chars().nth(i))
                .map(|c| Value::str(&c.to_string()))
                .ok_or_else(|| out_of_range(*i, len))
        }
        _ => Err(RuntimeError::type_error(format!(
            "cannot index {} `{}` with {} `{}`",
            object.type_name(),
            object.repr(),
            index.type_name(),
            index.repr()
        ))),
    }
}

pub(super) fn index_set(object: &Value, index: Value, value: Value) -> Result<(), RuntimeError> {
    match (object, &index) {
        (Value::List(xs), Value::Int(i)) => {
            let mut xs = xs.borrow_mut();
            let len = xs.len();
            let i = list_index(len, *i).ok_or_else(|| out_of_range(*i, len))?;
            xs[i] = value;
            Ok(())
        }
        (Value::Record(r), Value::Str(k)) => {
            r.borrow_mut().insert(k.clone(), value);
            Ok(())
        }
        _ => Err(RuntimeError::type_error(format!(
            "cannot set index {} `{}` of {} `{}`",
            index.type_name(),
            index.repr(),
            object.type_name(),
            object.repr()
        ))),
    }
}

fn out_of_range(i: i64, len: usize) -> RuntimeError {
    RuntimeError::new(
        codes::INDEX,
        format!("index {i} is out of range for a list of length {len}"),
    )
    .with_hint("use get(xs, i, default) when the index may be missing")
}

fn missing_key(k: &str, record: &Value) -> RuntimeError {
    RuntimeError::new(
        codes::MISSING_KEY,
        format!("missing key `{k}` in `{}`", record.repr()),
    )
    .with_hint("use get(r, key, default) when the key may be missing")
}

pub(super) fn field_get(object: &Value, name: &str) -> Result<Value, RuntimeError> {
    match object {
        Value::Record(r) => r
            .borrow()
            .get(name)
            .cloned()
            .ok_or_else(|| missing_key(name, object)),
        Value::Message(m) => m.field(name).ok_or_else(|| {
            RuntimeError::type_error(format!("message `{}` has no field `{name}`", m.display()))
                .with_hint(message_fields_hint(m))
        }),
        other => Err(RuntimeError::type_error(format!(
            "{} `{}` has no field `{name}`",
            other.type_name(),
            other.repr()
        ))),
    }
}

fn message_fields_hint(m: &Message) -> &'static str {
    match m {
        Message::Call { .. } => "a call has .op, .action and .args",
        Message::Data(_) => "data has .op and .value",
        Message::Seq(_) | Message::Conc(_) => "it has .op and .items",
        Message::Promise { .. } => "a promise has .op, .items and .callback",
        Message::Defer(_) => "a defer has .op and .time",
        Message::Delay(_) => "a delay has .op and .duration",
        Message::Void(_) => "a void has .op and .inner",
        Message::Timeout(..) => "a timeout has .op, .duration and .inner",
        Message::Wrap(crate::vm::message::Wrap::Catch(_), _) => {
            "a catch has .op, .inner and .handler"
        }
        Message::Wrap(crate::vm::message::Wrap::Ensure(_), _) => {
            "an ensure has .op, .inner and .cleanup"
        }
        Message::Wrap(crate::vm::message::Wrap::Then(_), _) => "a then has .op, .inner and .next",
        Message::Wrap(crate::vm::message::Wrap::Retrying(_), _) => {
            "a retrying has .op, .inner and .policy"
        }
        Message::Noop => "noop has only .op",
    }
}
