//! Syntax tree to bytecode: name resolution, checks, and lowering, in one
//! walk per function (plus a small pre-pass for captured names).
//!
//! Globals live in a [`Globals`] table that outlives one compile, so that the
//! REPL can add declarations input by input, and the std files can be
//! compiled into the same namespace as the user's script.

mod captures;
mod lower;
pub mod params;

use std::rc::Rc;

use indexmap::IndexMap;

use crate::bytecode::chunk::{FnProto, SourceId};
pub use crate::bytecode::program::{FilterDef, PassDef};
use crate::diag::Diagnostic;
use crate::syntax::Span;
use crate::vm::error::Loc;
use crate::vm::value::{ActionDef, Value};

pub use lower::compile_unit;

/// What a global name is bound to, as the compiler knows it.
#[derive(Clone, Debug)]
pub enum GlobalKind {
    /// A `let`: any value, assignable.
    Let,
    /// A `fn` declaration, with its parameter count.
    Fn(usize),
    /// An `action` declaration.
    Action(u32, usize),
    /// An imported module (only `module.name` is a value).
    Module,
    /// A value the runtime provides (`noop`): readable, not assignable.
    Const,
}

#[derive(Clone, Debug)]
pub struct Global {
    pub slot: u16,
    pub kind: GlobalKind,
    /// Where it is declared; `None` for what the runtime provides itself
    /// (`noop`, native actions), which no file declares.
    pub loc: Option<Loc>,
}

/// Every global the compiler has handed out, by name (later declarations of
/// a name in a later unit shadow earlier ones).
#[derive(Debug, Default)]
pub struct Globals {
    pub names: IndexMap<String, Global>,
    pub slots: usize,
    pub next_action_id: u32,
    /// Topics that have a `pass`, and where.
    pub passes: IndexMap<String, Loc>,
    /// Names declared by REPL inputs (which a later input may redeclare).
    pub repl_names: std::collections::HashSet<String>,
    /// The parameters the scripts read (`param`, `flag`, `env`, `args`).
    pub params: params::ParamTable,
    /// Names declared when a source first names them (the prelude's
    /// functions, see `runtime::prelude`): offered by "did you mean" even
    /// before they are declared.
    pub offered: Vec<&'static str>,
}

impl Globals {
    pub fn lookup(&self, name: &str) -> Option<&Global> {
        self.names.get(name)
    }

    /// The name of each global slot, by slot; empty for a slot no name
    /// holds any more (its name was declared again in a later unit).
    pub fn slot_names(&self) -> Vec<&str> {
        let mut names = vec![""; self.slots];
        for (name, g) in &self.names {
            if let Some(at) = names.get_mut(g.slot as usize) {
                *at = name.as_str();
            }
        }
        names
    }
}

/// The output of compiling one unit (a file, a std module, a REPL input).
#[derive(Debug)]
pub struct Unit {
    /// The top-level code: defines the unit's functions and actions, then
    /// runs its statements.
    pub script: Rc<FnProto>,
    pub actions: Vec<Rc<ActionDef>>,
    pub filters: Vec<FilterDef>,
    pub passes: Vec<PassDef>,
    pub schedules: Vec<crate::vm::schedule::ScheduleDef>,
    /// Globals whose initial value is known at compile time (actions).
    pub constants: Vec<(u16, Value)>,
    pub warnings: Vec<Diagnostic>,
}

/// How a unit is compiled.
#[derive(Clone, Debug)]
pub struct UnitOptions {
    pub source: SourceId,
    /// `Some("passes")` when compiling a module: its declarations become
    /// `passes.name` globals.
    pub module: Option<String>,
    /// Report a `pass` that no declaration feeds (off for partial units).
    pub warn_unfed_passes: bool,
    /// A REPL input: the last expression statement's value is the unit's
    /// result, and names an earlier input declared may be declared again
    /// (keeping their global slot, so code that uses them sees the new one).
    pub repl: bool,
}

/// Finds the closest name within a small edit distance (for "did you mean").
/// Only names a user could write are offered: the compiler's hidden locals
/// have empty names, and `module.member` keys are not plain names.
pub fn did_you_mean<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let max = (name.chars().count() / 3).max(1);
    candidates
        .filter(|c| *c != name && is_plain_name(c))
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= max)
        .min()
        .map(|(_, c)| c.to_string())
}

pub fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

pub(crate) fn loc(source: SourceId, span: Span) -> Loc {
    Loc { source, span }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let names = ["greet", "green", "print", "total"];
        assert_eq!(
            did_you_mean("gret", names.iter().copied()),
            Some("greet".into())
        );
        assert_eq!(
            did_you_mean("prnt", names.iter().copied()),
            Some("print".into())
        );
        assert_eq!(did_you_mean("xyz", names.iter().copied()), None);
        // A one-letter name is one edit away from the empty name of a
        // hidden local: that is no suggestion.
        assert_eq!(did_you_mean("y", ["", "passes.x"].into_iter()), None);
    }
}
