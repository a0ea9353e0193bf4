//! Times and numbers as text: RFC 3339 and strftime-style patterns (on
//! jiff), a time's calendar parts, calendar arithmetic, and number
//! formatting. Times are UTC: a `time` is a point (ms since the epoch), and
//! an offset in parsed text moves it to that point.

use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

use super::{as_int, as_str, record, type_error, Host, NativeResult};
use crate::vm::error::{codes, RuntimeError};
use crate::vm::value::Value;

fn value_error(message: String) -> RuntimeError {
    RuntimeError::new(codes::VALUE, message)
}

fn as_time(what: &str, v: &Value) -> Result<i64, RuntimeError> {
    match v {
        Value::Time(ms) => Ok(*ms),
        other => Err(type_error(what, "a time (such as now())", other)),
    }
}

fn zoned(what: &str, ms: i64) -> Result<Zoned, RuntimeError> {
    Timestamp::from_millisecond(ms)
        .map(|ts| ts.to_zoned(TimeZone::UTC))
        .map_err(|e| value_error(format!("{what}: {ms}ms is outside the calendar: {e}")))
}

pub fn format_time(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let ms = as_time("format_time", &args[0])?;
    let z = zoned("format_time", ms)?;
    match args.get(1) {
        None | Some(Value::Nil) => Ok(Value::str(&Value::Time(ms).display())),
        Some(pattern) => {
            let pattern = as_str("format_time", pattern)?;
            jiff::fmt::strtime::format(pattern, &z)
                .map(|text| Value::str(&text))
                .map_err(|e| {
                    value_error(format!("format_time: cannot format with `{pattern}`: {e}"))
                        .with_hint("%Y-%m-%d %H:%M:%S, %a %b %e, %j, %s, %.3f … (strftime's)")
                })
        }
    }
}

pub fn parse_time(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let text = as_str("parse_time", &args[0])?;
    let ts = match args.get(1) {
        None | Some(Value::Nil) => text.trim().parse::<Timestamp>().map_err(|e| {
            value_error(format!("parse_time: `{text}` is not an RFC 3339 time: {e}"))
                .with_hint("such as 2024-01-15T10:30:00Z or 2024-01-15T10:30:00+02:00; give a pattern for other forms")
        })?,
        Some(pattern) => {
            let pattern = as_str("parse_time", pattern)?;
            let fail = |e: jiff::Error| {
                value_error(format!(
                    "parse_time: `{text}` does not fit `{pattern}`: {e}"
                ))
            };
            let parts = jiff::fmt::strtime::parse(pattern, text).map_err(fail)?;
            // With an offset in the text it names a point; without one it is
            // taken as UTC.
            match parts.offset() {
                Some(_) => parts.to_timestamp().map_err(fail)?,
                None => parts
                    .to_datetime()
                    .and_then(|dt| dt.to_zoned(TimeZone::UTC))
                    .map(|z| z.timestamp())
                    .map_err(fail)?,
            }
        }
    };
    Ok(Value::Time(ts.as_millisecond()))
}

pub fn time_parts(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let z = zoned("time_parts", as_time("time_parts", &args[0])?)?;
    Ok(record(vec![
        ("year", Value::Int(z.year().into())),
        ("month", Value::Int(z.month().into())),
        ("day", Value::Int(z.day().into())),
        ("hour", Value::Int(z.hour().into())),
        ("minute", Value::Int(z.minute().into())),
        ("second", Value::Int(z.second().into())),
        ("millisecond", Value::Int(z.millisecond().into())),
        (
            "weekday",
            Value::Int(z.weekday().to_monday_one_offset().into()),
        ),
        ("day_of_year", Value::Int(z.day_of_year().into())),
    ]))
}

/// `make_time({year, month, day, hour, minute, second, millisecond})`; the
/// date is required, the rest defaults to 0.
pub fn make_time(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let Value::Record(r) = &args[0] else {
        return Err(type_error(
            "make_time",
            "a record {year, month, day, hour, minute, second, millisecond}",
            &args[0],
        ));
    };
    let r = r.borrow();
    for key in r.keys() {
        if !matches!(
            &**key,
            "year" | "month" | "day" | "hour" | "minute" | "second" | "millisecond"
        ) {
            return Err(value_error(format!("make_time: no part `{key}`"))
                .with_hint("the parts are year, month, day, hour, minute, second, millisecond"));
        }
    }
    let part = |key: &str, required: bool| -> Result<i64, RuntimeError> {
        match r.get(key) {
            Some(v) => as_int("make_time", v),
            None if required => Err(value_error(format!("make_time: `{key}` is missing"))),
            None => Ok(0),
        }
    };
    let (y, mo, d) = (
        part("year", true)?,
        part("month", true)?,
        part("day", true)?,
    );
    let (h, mi, s, ms) = (
        part("hour", false)?,
        part("minute", false)?,
        part("second", false)?,
        part("millisecond", false)?,
    );
    let small = |n: i64| i8::try_from(n).unwrap_or(i8::MAX);
    let nanos = i32::try_from(ms.saturating_mul(1_000_000)).unwrap_or(i32::MAX);
    let year = i16::try_from(y).unwrap_or(i16::MAX);
    jiff::civil::DateTime::new(
        year,
        small(mo),
        small(d),
        small(h),
        small(mi),
        small(s),
        nanos,
    )
    .and_then(|dt| dt.to_zoned(TimeZone::UTC))
    .map(|z| Value::Time(z.timestamp().as_millisecond()))
    .map_err(|e| value_error(format!("make_time: {e}")))
}

fn add_span(
    what: &str,
    args: &[Value],
    span: impl Fn(i64) -> Result<jiff::Span, jiff::Error>,
) -> NativeResult {
    let z = zoned(what, as_time(what, &args[0])?)?;
    let n = as_int(what, &args[1])?;
    span(n)
        .and_then(|s| z.checked_add(s))
        .map(|z| Value::Time(z.timestamp().as_millisecond()))
        .map_err(|e| value_error(format!("{what}: {e}")))
}

pub fn add_days(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    add_span("add_days", args, |n| jiff::Span::new().try_days(n))
}

pub fn add_months(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    add_span("add_months", args, |n| jiff::Span::new().try_months(n))
}

/// `format_number(x, {decimals, thousands, width, fill})`.
pub fn format_number(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let mut decimals: Option<usize> = None;
    let mut thousands = String::new();
    let mut width = 0usize;
    let mut fill = ' ';
    if let Some(opts) = args.get(1) {
        let Value::Record(opts) = opts else {
            return Err(type_error(
                "format_number",
                "an options record {decimals, thousands, width, fill}",
                opts,
            ));
        };
        for (k, v) in opts.borrow().iter() {
            match (&**k, v) {
                ("decimals", Value::Int(n)) if (0..=20).contains(n) => decimals = Some(*n as usize),
                ("thousands", Value::Str(s)) => thousands = s.to_string(),
                ("width", Value::Int(n)) if (0..=200).contains(n) => width = *n as usize,
                ("fill", Value::Str(s)) if s.chars().count() == 1 => {
                    fill = s.chars().next().unwrap_or(' ')
                }
                (key, value) => {
                    return Err(value_error(format!(
                        "format_number: option `{key}` cannot be {} `{}`",
                        value.type_name(),
                        value.repr()
                    ))
                    .with_hint("decimals: 0 to 20, thousands: a separator string, width: 0 to 200, fill: one character"))
                }
            }
        }
    }
    let digits = match (&args[0], decimals) {
        (Value::Int(n), None) => n.to_string(),
        (Value::Int(n), Some(d)) => format!(
            "{n}{}",
            if d > 0 {
                format!(".{}", "0".repeat(d))
            } else {
                String::new()
            }
        ),
        (Value::Float(x), _) if !x.is_finite() => Value::Float(*x).display(),
        (Value::Float(x), Some(d)) => format!("{x:.d$}"),
        (Value::Float(x), None) => Value::Float(*x).display(),
        (other, _) => return Err(type_error("format_number", "a number", other)),
    };
    let (sign, unsigned) = match digits.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", digits.as_str()),
    };
    let (int_part, frac) = match unsigned.find(['.', 'e']) {
        Some(at) => unsigned.split_at(at),
        None => (unsigned, ""),
    };
    let mut grouped = String::new();
    if thousands.is_empty() || !int_part.bytes().all(|b| b.is_ascii_digit()) {
        grouped.push_str(int_part);
    } else {
        for (i, c) in int_part.chars().enumerate() {
            if i > 0 && (int_part.len() - i) % 3 == 0 {
                grouped.push_str(&thousands);
            }
            grouped.push(c);
        }
    }
    let body = format!("{grouped}{frac}");
    let len = sign.chars().count() + body.chars().count();
    let pad: String = std::iter::repeat_n(fill, width.saturating_sub(len)).collect();
    // Zeros go between the sign and the digits; any other fill before both.
    Ok(Value::str(&if fill == '0' {
        format!("{sign}{pad}{body}")
    } else {
        format!("{pad}{sign}{body}")
    }))
}

/// `pad_start(s, width, fill)` and `pad_end`: s widened to `width`
/// characters with `fill` (a space by default).
fn pad(args: &[Value], what: &str, at_start: bool) -> NativeResult {
    let s = match &args[0] {
        Value::Str(s) => s.to_string(),
        other => other.display(),
    };
    let width = as_int(what, &args[1])?;
    if !(0..=10_000).contains(&width) {
        return Err(value_error(format!(
            "{what}: width {width} is not 0 to 10000"
        )));
    }
    let fill = match args.get(2) {
        Some(v) => {
            let f = as_str(what, v)?;
            let mut chars = f.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(value_error(format!(
                        "{what}: the fill must be one character, got `{f}`"
                    )))
                }
            }
        }
        None => ' ',
    };
    let pad: String =
        std::iter::repeat_n(fill, (width as usize).saturating_sub(s.chars().count())).collect();
    Ok(Value::str(&if at_start {
        format!("{pad}{s}")
    } else {
        format!("{s}{pad}")
    }))
}

pub fn pad_start(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    pad(args, "pad_start", true)
}

pub fn pad_end(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    pad(args, "pad_end", false)
}
