//! Regular expressions, on the `regex` crate (linear time whatever the
//! input: no backtracking blow-ups). Text comes first, as in `split` and
//! `replace`; positions count characters, as indexing does.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use regex::Regex;

use super::{as_str, record, Host, NativeResult};
use crate::vm::error::{codes, RuntimeError};
use crate::vm::value::Value;

/// Compiled patterns kept for reuse (a loop over lines compiles once).
const CACHED: usize = 64;

/// The most a compiled pattern may take (a typo like `a{1000}{1000}`
/// is an error, not a hang).
const SIZE_LIMIT: usize = 8 << 20;

thread_local! {
    static CACHE: RefCell<HashMap<String, Rc<Regex>>> = RefCell::new(HashMap::new());
}

fn compiled(what: &str, pattern: &str) -> Result<Rc<Regex>, RuntimeError> {
    if let Some(re) = CACHE.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let re = regex::RegexBuilder::new(pattern)
        .size_limit(SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let detail = e.to_string();
            // The crate's message spans lines (the pattern, a caret, the
            // error); keep them, indented under ours.
            RuntimeError::new(
                codes::REGEX,
                format!("{what}: invalid regular expression:\n{detail}"),
            )
            .with_hint("the syntax is the regex crate's (Perl-like, no look-around or backreferences); escape a literal with \\")
        })?;
    let re = Rc::new(re);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() >= CACHED {
            c.clear();
        }
        c.insert(pattern.to_string(), re.clone());
    });
    Ok(re)
}

/// Counts characters up to byte offsets that only grow (find_all's
/// matches come in order), so the whole text is walked once.
struct CharPos<'a> {
    text: &'a str,
    byte: usize,
    chars: usize,
}

impl CharPos<'_> {
    fn at(&mut self, byte: usize) -> i64 {
        if byte < self.byte {
            self.byte = 0;
            self.chars = 0;
        }
        self.chars += self.text[self.byte..byte].chars().count();
        self.byte = byte;
        self.chars as i64
    }
}

/// `{text, start, end, groups, named}` for one match.
fn match_record(re: &Regex, caps: &regex::Captures, pos: &mut CharPos) -> Value {
    let whole = caps.get(0).expect("group 0 is the match");
    let group = |m: Option<regex::Match>| m.map_or(Value::Nil, |m| Value::str(m.as_str()));
    let groups = caps.iter().skip(1).map(group).collect();
    let named = re
        .capture_names()
        .flatten()
        .map(|name| (name, group(caps.name(name))))
        .collect();
    let start = pos.at(whole.start());
    let end = pos.at(whole.end());
    record(vec![
        ("text", Value::str(whole.as_str())),
        ("start", Value::Int(start)),
        ("end", Value::Int(end)),
        ("groups", Value::list(groups)),
        ("named", record(named)),
    ])
}

pub fn regex_match(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let text = as_str("regex_match", &args[0])?;
    let re = compiled("regex_match", as_str("regex_match", &args[1])?)?;
    Ok(Value::Bool(re.is_match(text)))
}

pub fn regex_find(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let text = as_str("regex_find", &args[0])?;
    let re = compiled("regex_find", as_str("regex_find", &args[1])?)?;
    let mut pos = CharPos {
        text,
        byte: 0,
        chars: 0,
    };
    Ok(re
        .captures(text)
        .map_or(Value::Nil, |caps| match_record(&re, &caps, &mut pos)))
}

pub fn regex_find_all(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let text = as_str("regex_find_all", &args[0])?;
    let re = compiled("regex_find_all", as_str("regex_find_all", &args[1])?)?;
    let mut pos = CharPos {
        text,
        byte: 0,
        chars: 0,
    };
    let mut out = Vec::new();
    for caps in re.captures_iter(text) {
        if crate::memory::exceeded(out.len() * std::mem::size_of::<Value>()) {
            return Err(crate::vm::interp::memory_error());
        }
        out.push(match_record(&re, &caps, &mut pos));
    }
    Ok(Value::list(out))
}

pub fn regex_replace(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let text = as_str("regex_replace", &args[0])?;
    let re = compiled("regex_replace", as_str("regex_replace", &args[1])?)?;
    let with = as_str("regex_replace", &args[2])?;
    Ok(Value::str(&re.replace_all(text, with)))
}

pub fn regex_split(_: &mut dyn Host, args: &[Value]) -> NativeResult {
    let text = as_str("regex_split", &args[0])?;
    let re = compiled("regex_split", as_str("regex_split", &args[1])?)?;
    Ok(Value::list(re.split(text).map(Value::str).collect()))
}
