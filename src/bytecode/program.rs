//! What the engine needs of a compiled program besides code: the
//! interest and observe filters and the passes, as plain data. The compiler
//! makes them; the engine routes and runs passes with them, knowing nothing
//! of the syntax tree.

use std::rc::Rc;

use super::chunk::FnProto;
use crate::syntax::Loc;

/// A compiled `interest` or `observe`: a predicate over one message.
#[derive(Debug, Clone)]
pub struct FilterDef {
    /// An `interest` takes the message into its topic; an `observe` gets
    /// a copy.
    pub take: bool,
    pub topic: Rc<str>,
    pub predicate: Rc<FnProto>,
    pub loc: Loc,
    /// For indexing: the message constructor the pattern needs (`"call"`…),
    /// and for `call` patterns the action id.
    pub constructor: Option<&'static str>,
    pub action: Option<u32>,
}

/// A compiled `pass "topic" (msgs) { … }`.
#[derive(Debug, Clone)]
pub struct PassDef {
    pub topic: Rc<str>,
    pub body: Rc<FnProto>,
    pub loc: Loc,
}

/// A compiled `schedule`: when it fires, and the action (of no parameters)
/// each firing calls.
#[derive(Debug, Clone)]
pub struct ScheduleDef {
    pub name: Rc<str>,
    pub action: Rc<crate::vm::value::ActionDef>,
    pub when: When,
    /// `overlap allow`: a firing runs even while the one before is still
    /// running (the default, `overlap skip`, skips it).
    pub allow_overlap: bool,
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub enum When {
    /// Every this many milliseconds.
    Every(i64),
    /// A cron expression read in a time zone.
    Cron(Rc<crate::engine::cron::Cron>, jiff::tz::TimeZone),
}

impl When {
    /// The first firing after `after` (ms since the epoch).
    pub fn next_after(&self, after: i64) -> i64 {
        match self {
            When::Every(ms) => after.saturating_add(*ms),
            When::Cron(cron, tz) => cron.next_after(after, tz).unwrap_or(i64::MAX),
        }
    }
}
