//! Compiled functions: code, constants, a compact span table, nested
//! functions and compiled patterns.

use crate::syntax::words::{Arity, CONSTRUCTORS};
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

    /// Checks what the interpreter's loop relies on to read its code
    /// without bounds checks: every instruction is a known opcode with all
    /// its operands inside the code, every jump target is the start of an
    /// instruction, and the last instruction does not fall through (it is
    /// a RETURN or a JUMP), so that running the code never reads past its
    /// end. The compiler checks every function it finishes.
    pub fn verify(&self) -> Result<(), String> {
        let code = &self.code[..];
        let mut starts = vec![false; code.len()];
        let mut targets = Vec::new();
        let mut at = 0;
        let mut last = None;
        while at < code.len() {
            let op = Op::from_byte(code[at])
                .ok_or_else(|| format!("byte {} at {at} is no opcode", code[at]))?;
            if at + op.size() > code.len() {
                return Err(format!("{} at {at} runs past the end", op.name()));
            }
            starts[at] = true;
            let mut operand = at + 1;
            for width in op.operands() {
                if *width == super::opcode::Width::U32 {
                    targets.push((at, self.read_u32(operand) as usize));
                }
                operand += width.bytes();
            }
            last = Some(op);
            at += op.size();
        }
        if !matches!(last, Some(Op::Return | Op::Jump)) {
            return Err("the code does not end in RETURN or JUMP".into());
        }
        match targets
            .iter()
            .find(|&&(_, t)| !starts.get(t).copied().unwrap_or(false))
        {
            Some((at, t)) => Err(format!(
                "the jump at {at} goes to {t}, which starts no instruction"
            )),
            None => Ok(()),
        }
    }

    /// Rewrites each GET_LOCAL whose value is returned at once (a RETURN
    /// follows it, or a JUMP to a RETURN) into RETURN_LOCAL, in place: the
    /// two have one size, so no offset moves, and the instruction after
    /// stays for whatever else jumps to it. (`fn f(n) { if n < 2 { n } else
    /// { … } }` then runs two instructions on its short path, not four.)
    pub fn fuse_returns(&mut self) {
        let op_at = |at: usize| self.code.get(at).and_then(|&b| Op::from_byte(b));
        let mut fused = Vec::new();
        let mut at = 0;
        while let Some(op) = op_at(at) {
            let next = at + op.size();
            if op == Op::GetLocal {
                let returns = match op_at(next) {
                    Some(Op::Return) => true,
                    Some(Op::Jump) if next + 5 <= self.code.len() => {
                        op_at(self.read_u32(next + 1) as usize) == Some(Op::Return)
                    }
                    _ => false,
                };
                if returns {
                    fused.push(at);
                }
            }
            at = next;
        }
        for at in fused {
            self.code[at] = Op::ReturnLocal as u8;
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

/// Each pattern and the constructor it matches; its arity is the
/// constructor's, from the one table in `syntax::words`.
const PATTERNS: &[(MessagePattern, &str)] = &[
    (MessagePattern::Data, "data"),
    (MessagePattern::Seq, "seq"),
    (MessagePattern::Conc, "conc"),
    (MessagePattern::Promise, "promise"),
    (MessagePattern::Defer, "defer"),
    (MessagePattern::Delay, "delay"),
    (MessagePattern::Void, "void"),
    (MessagePattern::Timeout, "timeout"),
    (MessagePattern::Catch, "catch"),
    (MessagePattern::Ensure, "ensure"),
    (MessagePattern::Then, "then"),
    (MessagePattern::Retrying, "retrying"),
    (MessagePattern::Noop, "noop"),
];

impl MessagePattern {
    /// The pattern of a constructor's name, with how many sub-patterns it
    /// takes.
    pub fn from_name(name: &str) -> Option<(MessagePattern, usize)> {
        let &(pattern, _) = PATTERNS.iter().find(|(_, n)| *n == name)?;
        let arity = CONSTRUCTORS.iter().find(|c| c.name == name)?.arity;
        Some((
            pattern,
            match arity {
                Arity::Bare => 0,
                Arity::Exactly(n) | Arity::AtLeast(n) => n,
            },
        ))
    }

    /// The constructor this pattern matches.
    pub fn name(self) -> &'static str {
        PATTERNS
            .iter()
            .find(|(p, _)| *p == self)
            .map_or("?", |(_, n)| n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_constructor_but_call_is_a_pattern_with_its_arity() {
        for c in CONSTRUCTORS.iter().filter(|c| c.name != "call") {
            let (pattern, arity) = MessagePattern::from_name(c.name)
                .unwrap_or_else(|| panic!("`{}` has no message pattern", c.name));
            assert_eq!(pattern.name(), c.name);
            let expected = match c.arity {
                Arity::Bare => 0,
                Arity::Exactly(n) | Arity::AtLeast(n) => n,
            };
            assert_eq!(arity, expected, "`{}`", c.name);
        }
        assert_eq!(MessagePattern::from_name("call"), None);
    }
}
