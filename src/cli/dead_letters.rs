//! Dead letters at the command line: the listing on standard error, the
//! `--dead-letters` file, and `--requeue`.

use std::io::Write as _;
use std::path::Path;

use crate::engine::serial::{drop_json, from_line, message_from_json, message_to_json, to_line};
use crate::engine::DeadLetter;
use crate::runtime::Voyager;
use crate::vm::message::{Callback, Message, Msg};

/// How much of an item the listing shows; the dead-letters file keeps it all.
const SHOWN_CHARS: usize = 200;

/// Lists the dead letters on standard error: each item (shortened), the
/// call that failed and where it sits in the item, then the error.
pub fn list(v: &Voyager, dead: &[DeadLetter], color: bool) {
    eprintln!("{} dead letter(s):", dead.len());
    for (i, d) in dead.iter().enumerate() {
        eprintln!(
            "dead letter {} of {}: {} (attempts: {})",
            i + 1,
            dead.len(),
            shorten(&d.message.display()),
            d.attempts
        );
        if let Some((call, path)) = failing_call(d) {
            eprintln!("  failed: {} at {path}", shorten(&call));
        }
        let diag = crate::diag::from_runtime_error(&d.error, &v.sources);
        eprint!("{}", v.render(&diag, color));
    }
}

/// The text cut at [`SHOWN_CHARS`] characters, saying how long it was.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        None => text.to_string(),
        Some((end, _)) => format!(
            "{}… ({} characters in all)",
            &text[..end],
            text.chars().count()
        ),
    }
}

/// The call inside a dead item that failed, shown, with its path from the
/// top of the item (`seq[2] > conc[0]`); `None` when the item is that call
/// or it cannot be told. The failing action is the outermost frame of the
/// error's trace; the first call to it in stepping order is taken.
fn failing_call(d: &DeadLetter) -> Option<(String, String)> {
    let outermost = d.error.trace.last()?;
    let action = outermost.name.strip_prefix("action ")?;
    let mut path = Vec::new();
    let call = find_call(&d.message, action, &mut path)?;
    if path.is_empty() {
        return None;
    }
    Some((call, path.join(" > ")))
}

fn find_call(m: &Message, action: &str, path: &mut Vec<String>) -> Option<String> {
    let within = |items: &[Msg], kind: &str, path: &mut Vec<String>| {
        items.iter().enumerate().find_map(|(i, item)| {
            path.push(format!("{kind}[{i}]"));
            let found = find_call(item, action, path);
            if found.is_none() {
                path.pop();
            }
            found
        })
    };
    match m {
        Message::Call { action: a, .. } => (&*a.name == action).then(|| m.display()),
        Message::Seq(items) => within(items, "seq", path),
        Message::Conc(items) => within(items, "conc", path),
        Message::Promise { items, callback } => within(items, "promise", path).or_else(|| {
            let (Callback::Action(a) | Callback::Call(a, _)) = callback;
            (&*a.name == action).then(|| {
                path.push("promise callback".into());
                callback.to_value().display()
            })
        }),
        Message::Void(inner) | Message::Timeout(_, inner) => {
            path.push(
                if matches!(m, Message::Void(_)) {
                    "void"
                } else {
                    "timeout"
                }
                .into(),
            );
            let found = find_call(inner, action, path);
            if found.is_none() {
                path.pop();
            }
            found
        }
        Message::Wrap(wrap, inner) => {
            path.push(wrap.name().into());
            let found = find_call(inner, action, path);
            if found.is_none() {
                path.pop();
            }
            found
        }
        Message::Data(_) | Message::Defer(_) | Message::Delay(_) | Message::Noop => None,
    }
}

/// One JSON object a line: the message (as `--requeue` reads it), its
/// display form, the error, the attempts and where it failed. Unfinished
/// items follow, then the lines of a `--requeue` file that were skipped,
/// as they were, so that nothing is lost.
pub fn write(
    v: &Voyager,
    path: &Path,
    dead: &[DeadLetter],
    unfinished: &[Msg],
    (unfinished_code, unfinished_why): &(&str, String),
    skipped: &[String],
) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut line = |m: &Msg, error: serde_json::Value, attempts: u32, at: Option<String>| {
        let mut record = serde_json::json!({
            "shown": m.display(),
            "error": error,
            "attempts": attempts,
            "at": at,
        });
        match message_to_json(m) {
            Ok(j) => record["message"] = j,
            Err(why) => {
                record["message"] = serde_json::Value::Null;
                record["unwritable"] = serde_json::Value::String(why);
            }
        }
        let text = to_line(&record);
        drop_json(record);
        writeln!(out, "{text}")
    };
    for d in dead {
        let error = serde_json::json!({
            "code": d.error.code,
            "message": d.error.message,
            "severity": d.error.severity,
        });
        let at = d.error.loc.map(|l| v.sources.position(l));
        line(&d.message, error, d.attempts, at)?;
    }
    for m in unfinished {
        let error = serde_json::json!({
            "code": unfinished_code,
            "message": unfinished_why,
            "severity": "fatal",
        });
        line(m, error, 0, None)?;
    }
    for text in skipped {
        writeln!(out, "{text}")?;
    }
    out.flush()
}

/// Reads a dead-letters file and enqueues its messages. A line that cannot
/// be read, or that names what this script does not have, is reported with
/// its line number and skipped; the rest are enqueued. Returns the skipped
/// lines.
pub fn requeue(v: &mut Voyager, path: &Path) -> Result<Vec<String>, std::io::Error> {
    let text = std::fs::read_to_string(path)?;
    // Functions are restored by name, the prelude's included.
    v.load_prelude();
    let mut skipped = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match read_line(v, line) {
            Ok(m) => v.engine.enqueue(&m),
            Err(why) => {
                eprintln!("error: {}:{}: {why} (line skipped)", path.display(), i + 1);
                skipped.push(line.to_string());
            }
        }
    }
    Ok(skipped)
}

/// One line: a record written by `--dead-letters`, or a bare message.
fn read_line(v: &Voyager, line: &str) -> Result<Msg, String> {
    let mut record = from_line(line).map_err(|e| format!("not JSON: {e}"))?;
    let message = match record.as_object_mut().and_then(|o| o.remove("message")) {
        Some(serde_json::Value::Null) => {
            let why = record
                .get("unwritable")
                .and_then(|w| w.as_str())
                .unwrap_or("no message")
                .to_string();
            return Err(format!("the message was not written: {why}"));
        }
        Some(m) => m,
        None => std::mem::take(&mut record),
    };
    let lookup = |name: &str| v.global_named(name);
    let result = message_from_json(&message, &lookup);
    drop_json(message);
    drop_json(record);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::value::Value;

    #[test]
    fn long_items_are_cut_and_say_how_long_they_were() {
        let text = Value::list((0..2000).map(Value::Int).collect()).display();
        let shown = shorten(&text);
        assert!(shown.starts_with("[0, 1, 2"));
        assert!(shown.ends_with(&format!("… ({} characters in all)", text.len())));
        assert_eq!(shorten("call(x)"), "call(x)");
    }
}
