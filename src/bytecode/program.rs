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
