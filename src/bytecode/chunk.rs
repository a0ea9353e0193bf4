//! Compiled functions: code, constants, a compact span table, nested
//! functions and compiled patterns.

use std::rc::Rc;

use super::constant::Const;
use super::opcode::Op;
use crate::syntax::Span;

pub use crate::syntax::span::SourceId;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FnKind {
    /// The top-level code of a file.
    Script,
    Fn,
    Action,
    Pass,
}

/// Where a closure takes a captured cell from when it is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    /// The enclosing frame's local slot (which holds a cell).
    Local(u16),
    /// The enclosing closure's own capture.
    Upval(u16),
}

#[derive(Debug)]
pub struct FnProto {
    pub name: String,
    pub kind: FnKind,
    pub arity: usize,
    pub chunk: Chunk,
    pub captures: Vec<Capture>,
    pub source: SourceId,
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct Chunk {
    pub code: Vec<u8>,
    pub consts: Vec<Const>,
    /// `(offset, span)`: the span of every instruction from `offset` up to the
    /// next entry. Stored only where it changes.
    pub spans: Vec<(u32, Span)>,
    pub protos: Vec<Rc<FnProto>>,
    pub patterns: Vec<Pattern>,
}

impl Chunk {
    pub fn emit(&mut self, op: Op, span: Span) -> usize {
        let at = self.code.len();
        if self.spans.last().is_none_or(|&(_, s)| s != span) {
            self.spans.push((at as u32, span));
        }
        self.code.push(op as u8);
        at
    }

    pub fn emit_u16(&mut self, value: u16) {
        self.code.extend_from_slice(&value.to_le_bytes());
    }

    pub fn emit_u32(&mut self, value: u32) {
        self.code.extend_from_slice(&value.to_le_bytes());
    }

    pub fn patch_u32(&mut self, at: usize, value: u32) {
        self.code[at..at + 4].copy_from_slice(&value.to_le_bytes());
    }

    #[inline]
    pub fn read_u16(&self, at: usize) -> u16 {
        match self.code[at..at + 2] {
            [lo, hi] => u16::from_le_bytes([lo, hi]),
            _ => unreachable!("a two-byte slice"),
        }
    }

    #[inline]
    pub fn read_u32(&self, at: usize) -> u32 {
        match self.code[at..at + 4] {
            [a, b, c, d] => u32::from_le_bytes([a, b, c, d]),
            _ => unreachable!("a four-byte slice"),
        }
    }

    /// The span of the instruction at `offset`.
    pub fn span_at(&self, offset: usize) -> Span {
        let i = self.spans.partition_point(|&(at, _)| at as usize <= offset);
        if i == 0 {
            Span::default()
        } else {
            self.spans[i - 1].1
        }
    }
}

/// A pattern, compiled: names are resolved to local slots and actions.
#[derive(Debug, Clone)]
pub enum Pattern {
    Any,
    /// Binds the value to a local slot.
    Bind(u16),
    Literal(Const),
    /// Items, then the rest: `None` when the length must be exact,
    /// `Some(None)` for a bare `..`, `Some(Some(slot))` to bind the rest.
    List(Vec<Pattern>, Option<Option<u16>>),
    /// Fields, and whether other keys are allowed.
    Record(Vec<(Rc<str>, Pattern)>, bool),
    /// `call(action | _, args…, ..)`, the action by id.
    Call(Option<u32>, Vec<Pattern>, bool),
    /// `data`, `seq`, `conc`, `defer`, `delay`, `void`, `promise`, `noop` with
    /// their sub-patterns.
    Message(MessagePattern, Vec<Pattern>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagePattern {
    Data,
    Seq,
    Conc,
    Promise,
    Defer,
    Delay,
    Void,
    Timeout,
    Catch,
    Ensure,
    Then,
    Retrying,
    Noop,
}

impl MessagePattern {
    pub fn from_name(name: &str) -> Option<(MessagePattern, usize)> {
        Some(match name {
            "data" => (MessagePattern::Data, 1),
            "seq" => (MessagePattern::Seq, 1),
            "conc" => (MessagePattern::Conc, 1),
            "promise" => (MessagePattern::Promise, 2),
            "defer" => (MessagePattern::Defer, 1),
            "delay" => (MessagePattern::Delay, 1),
            "void" => (MessagePattern::Void, 1),
            "timeout" => (MessagePattern::Timeout, 2),
            "catch" => (MessagePattern::Catch, 2),
            "ensure" => (MessagePattern::Ensure, 2),
            "then" => (MessagePattern::Then, 2),
            "retrying" => (MessagePattern::Retrying, 2),
            "noop" => (MessagePattern::Noop, 0),
            _ => return None,
        })
    }
}
