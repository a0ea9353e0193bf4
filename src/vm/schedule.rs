//! A compiled `schedule`, as plain data: when it fires and the action each
//! firing calls. The compiler makes it; the engine fires it.

use std::rc::Rc;

use super::value::ActionDef;
use crate::syntax::Loc;

/// A compiled `schedule`: when it fires, and the action (of no parameters)
/// each firing calls.
#[derive(Debug, Clone)]
pub struct ScheduleDef {
    pub name: Rc<str>,
    pub action: Rc<ActionDef>,
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
    Cron(Rc<crate::cron::Cron>, jiff::tz::TimeZone),
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
