//! Runtime errors: data, with a code, a span and a call-stack trace.
//! `crate::diag` renders them.

pub use crate::codes;
pub use crate::syntax::span::Loc;
use crate::vm::value::ActionDef;

/// Whether the engine may run the failing call again: a retryable error
/// is retried up to the run's attempt limit, with backoff.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Fatal,
    Retryable,
}

/// One frame of a trace: the function or action that was running, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceFrame {
    pub name: String,
    pub loc: Loc,
}

/// A runtime error. Boxed, so that the `Result`s of the interpreter's hot
/// paths stay small (an error is rare; its fields are many).
#[derive(Clone, Debug, PartialEq)]
pub struct RuntimeError(Box<ErrorInfo>);

/// What a [`RuntimeError`] says; its fields are reached through it.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorInfo {
    pub code: &'static str,
    pub message: String,
    pub severity: Severity,
    pub hint: Option<String>,
    /// Where it happened; `None` for errors raised outside any code.
    pub loc: Option<Loc>,
    /// Innermost frame first.
    pub trace: Vec<TraceFrame>,
    /// What to say at `loc` (without one, the frame running there is
    /// named).
    pub label: Option<String>,
    /// Other places worth pointing at (a declaration).
    pub also: Vec<(Loc, String)>,
}

/// How many arguments a function or action takes, as the arity messages
/// word it: "1 argument", "2 arguments", "1 to 3 arguments", "at least 1
/// argument" (`max` is `usize::MAX` for any number).
pub fn takes(min: usize, max: usize) -> String {
    let (count, last) = match (min, max) {
        (a, b) if a == b => (format!("{a}"), a),
        (a, usize::MAX) => (format!("at least {a}"), a),
        (a, b) => (format!("{a} to {b}"), b),
    };
    format!("{count} argument{}", if last == 1 { "" } else { "s" })
}

impl RuntimeError {
    /// `name` was called with `got` arguments but takes `min` to `max`.
    pub fn arity(name: &str, min: usize, max: usize, got: usize) -> RuntimeError {
        RuntimeError::new(
            codes::ARITY,
            format!("`{name}` takes {} but got {got}", takes(min, max)),
        )
    }

    pub fn new(code: &'static str, message: impl Into<String>) -> RuntimeError {
        RuntimeError(Box::new(ErrorInfo {
            code,
            message: message.into(),
            severity: Severity::Fatal,
            hint: None,
            loc: None,
            trace: Vec::new(),
            label: None,
            also: Vec::new(),
        }))
    }

    pub fn label(mut self, label: impl Into<String>) -> RuntimeError {
        self.label = Some(label.into());
        self
    }

    /// Adds a secondary place, such as where the callee is declared.
    pub fn also(mut self, loc: Loc, label: impl Into<String>) -> RuntimeError {
        self.also.push((loc, label.into()));
        self
    }

    pub fn at(mut self, loc: Loc) -> RuntimeError {
        self.loc = Some(loc);
        self
    }

    pub fn retryable(mut self) -> RuntimeError {
        self.severity = Severity::Retryable;
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> RuntimeError {
        self.hint = Some(hint.into());
        self
    }

    pub fn type_error(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new(codes::TYPE, message)
    }
}

impl std::ops::Deref for RuntimeError {
    type Target = ErrorInfo;
    fn deref(&self) -> &ErrorInfo {
        &self.0
    }
}

impl std::ops::DerefMut for RuntimeError {
    fn deref_mut(&mut self) -> &mut ErrorInfo {
        &mut self.0
    }
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "[{}] {}", self.code, self.message)
    }
}

/// The error of `call(action, args…)` evaluated with a count of arguments
/// no run can accept: more than the action takes, or fewer by two or more
/// (one fewer may be a promise's callback, which gets the collected list
/// appended). Raised where `call` is evaluated, so it points there; `None`
/// when the count may do.
#[inline]
pub fn call_arity(action: &ActionDef, given: usize) -> Option<RuntimeError> {
    let (min, max) = action.arity();
    if given <= max && given + 1 >= min {
        return None;
    }
    Some(call_arity_error(action, given, min, max))
}

#[cold]
fn call_arity_error(action: &ActionDef, given: usize, min: usize, max: usize) -> RuntimeError {
    let name = &action.name;
    let e = RuntimeError::new(
        codes::ARITY,
        format!("`{name}` takes {} but `call` gives it {given}", takes(min, max)),
    )
    .label(format!("{given} argument{}", if given == 1 { "" } else { "s" }))
    .with_hint(if given > max {
        let extra = given - max;
        format!("remove the extra argument{}", if extra == 1 { "" } else { "s" })
    } else {
        format!("pass `{name}` all its arguments (a promise's callback is the one call written with one fewer)")
    });
    // A built-in action has no declaration to point at.
    let Some(declaration) = action.declared_at() else {
        return e;
    };
    e.also(
        declaration,
        format!(
            "`{name}` is declared here with {min} parameter{}",
            if min == 1 { "" } else { "s" }
        ),
    )
}

/// The error of a promise whose callback cannot take what the promise
/// passes it: the arguments written in `call(cb, …)` (`written`, none for a
/// bare action) and, appended, the list of values the promise collected.
/// Pointed at the callback's declaration: for a promise that was built
/// elsewhere (a requeued item, an embedding program).
pub fn promise_callback_arity(action: &ActionDef, written: usize) -> Option<RuntimeError> {
    callback_error(action, written, true)
}

/// The same error where `promise(…)` is evaluated, which it points at
/// (the declaration is the second place), before any of its work runs.
pub fn promise_callback_arity_here(action: &ActionDef, written: usize) -> Option<RuntimeError> {
    callback_error(action, written, false)
}

fn callback_error(
    action: &ActionDef,
    written: usize,
    at_declaration: bool,
) -> Option<RuntimeError> {
    let given = written + 1;
    let (min, max) = action.arity();
    if (min..=max).contains(&given) {
        return None;
    }
    let takes = takes(min, max);
    let name = &action.name;
    let from = if written == 0 {
        "the list the promise collected".to_string()
    } else {
        format!("the {written} written in `call({name}, …)` and the list the promise collected")
    };
    let declared_at = action.declared_at();
    let built_in = declared_at.is_none();
    let hint = if given > max && built_in {
        format!("a promise appends the list it collected as the callback's last argument: write one argument fewer in `call({name}, …)`")
    } else if given > max {
        format!("a promise appends the list it collected as the callback's last argument: give `{name}` a parameter for it")
    } else {
        format!("a promise passes only the arguments written in `call({name}, …)` and then the list it collected")
    };
    let e = RuntimeError::new(
        codes::ARITY,
        format!("The promise's callback `{name}` takes {takes} but would get {given}: {from}"),
    )
    .with_hint(hint);
    let here = format!(
        "its callback would get {given} argument{}",
        if given == 1 { "" } else { "s" }
    );
    // A built-in action has no declaration to point at.
    let Some(declaration) = declared_at else {
        return Some(if at_declaration { e } else { e.label(here) });
    };
    let declared = format!(
        "the callback `{name}`, declared with {min} parameter{}",
        if min == 1 { "" } else { "s" }
    );
    Some(if at_declaration {
        e.at(declaration).label(declared)
    } else {
        e.label(here).also(declaration, declared)
    })
}
