//! Compiled functions: code, constants, a compact span table, nested
//! functions and compiled patterns.

use crate::syntax::words::{Arity, CONSTRUCTORS};
use std::rc::Rc;

use super::constant::Const;
use super::opcode::{Op, Width};
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
    /// The most values the function's frame holds at once, its arguments
    /// included, as [`Chunk::verify`] found (0 until then).
    pub max_stack: usize,
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

    /// Checks what the interpreter's loop relies on to run the code without
    /// bounds checks, and returns the most values its frame holds at once
    /// (kept as [`Chunk::max_stack`]):
    /// - every instruction is a known opcode with all its operands inside
    ///   the code, every constant it names is in the pool, every jump
    ///   target is the start of an instruction, and the last instruction
    ///   does not fall through (it is a RETURN or a JUMP), so that running
    ///   the code never reads past its end;
    /// - the frame's height (its values above the callee: `arity` arguments
    ///   on entry) is the same however an instruction is reached, every
    ///   instruction finds the values it takes, and every local the loop
    ///   reads or writes in line is below the height, so that a slot the
    ///   loop reads always holds a value.
    ///
    /// The compiler checks every function it finishes.
    pub fn verify(&self, arity: usize) -> Result<usize, String> {
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
                match width {
                    Width::U32 => targets.push((at, self.read_u32(operand) as usize)),
                    Width::K | Width::KInt
                        if self.read_u16(operand) as usize >= self.consts.len() =>
                    {
                        return Err(format!(
                            "{} at {at} names constant {} of {}",
                            op.name(),
                            self.read_u16(operand),
                            self.consts.len()
                        ));
                    }
                    Width::KInt
                        if !matches!(
                            self.consts[self.read_u16(operand) as usize],
                            Const::Int(_)
                        ) =>
                    {
                        return Err(format!(
                            "{} at {at} names constant {}, which is no int",
                            op.name(),
                            self.read_u16(operand)
                        ));
                    }
                    Width::K | Width::KInt | Width::U16 => {}
                }
                operand += width.bytes();
            }
            last = Some(op);
            at += op.size();
        }
        if !matches!(last, Some(Op::Return | Op::Jump)) {
            return Err("the code does not end in RETURN or JUMP".into());
        }
        if let Some((at, t)) = targets
            .iter()
            .find(|&&(_, t)| !starts.get(t).copied().unwrap_or(false))
        {
            return Err(format!(
                "the jump at {at} goes to {t}, which starts no instruction"
            ));
        }
        self.verify_heights(arity)
    }

    /// The height part of [`Chunk::verify`], on code already known to
    /// decode: each reachable instruction's height, spread along every
    /// edge from the entry.
    fn verify_heights(&self, arity: usize) -> Result<usize, String> {
        let mut heights: Vec<Option<usize>> = vec![None; self.code.len()];
        let mut work = vec![(0, arity)];
        let mut max = arity;
        while let Some((at, h)) = work.pop() {
            match heights[at] {
                Some(seen) if seen == h => continue,
                Some(seen) => {
                    return Err(format!(
                        "the height at {at} is {seen} one way and {h} another"
                    ))
                }
                None => heights[at] = Some(h),
            }
            let op = Op::from_byte(self.code[at]).expect("decoded above");
            let u16_at = |i: usize| self.read_u16(at + 1 + 2 * i) as usize;
            let next = at + op.size();
            let bad = |what: String| format!("{} at {at}: {what}", op.name());
            // A local the loop touches in line must be below the height.
            let local = |s: usize, height: usize| match s < height {
                true => Ok(()),
                false => Err(bad(format!("local {s} with {height} values"))),
            };
            // (values taken, values pushed) on the way to `next`.
            let (takes, gives) = match op {
                Op::Const | Op::Nil | Op::True | Op::False => (0, 1),
                Op::GetCell | Op::GetUpval | Op::GetGlobal | Op::Closure | Op::Match => (0, 1),
                Op::Pop | Op::SetCell | Op::SetUpval | Op::SetGlobal | Op::Emit => (1, 0),
                Op::Dup => (1, 2),
                Op::Dup2 => (2, 4),
                Op::PopN => (u16_at(0), 0),
                Op::PopUnder => (u16_at(0) + 1, 1),
                Op::GetLocal => {
                    local(u16_at(0), h)?;
                    (0, 1)
                }
                Op::SetLocal => {
                    local(u16_at(0), h.saturating_sub(1))?;
                    (1, 0)
                }
                Op::MakeCell => (0, 0),
                Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Rem => (2, 1),
                Op::Eq | Op::Ne | Op::Lt | Op::Le | Op::Gt | Op::Ge => (2, 1),
                Op::AddConst | Op::SubConst | Op::Neg | Op::Not | Op::Field => (1, 1),
                Op::Index | Op::Extend | Op::CallList => (2, 1),
                Op::SetIndex => (3, 0),
                Op::SetField => (2, 0),
                Op::Call => (u16_at(0) + 1, 1),
                Op::List | Op::Interp => (u16_at(0), 1),
                Op::Record => (2 * u16_at(0), 1),
                Op::LocalAddConst | Op::LocalSubConst => {
                    local(u16_at(0), h)?;
                    (0, 1)
                }
                // Jumps: the taken edge is pushed here, the rest below.
                Op::Jump => {
                    work.push((self.read_u32(at + 1) as usize, h));
                    continue;
                }
                Op::JumpIfFalse => (1, 0),
                Op::LtJump | Op::LeJump | Op::GtJump | Op::GeJump => (2, 0),
                Op::AndJump | Op::OrJump => (1, 0),
                Op::LtJumpLocal | Op::LeJumpLocal | Op::GtJumpLocal | Op::GeJumpLocal => {
                    local(u16_at(0), h)?;
                    (0, 0)
                }
                Op::IterNext | Op::RangeNext => {
                    local(u16_at(0) + 1, h)?;
                    (0, 1)
                }
                Op::Return => {
                    if h == 0 {
                        return Err(bad("nothing to return".into()));
                    }
                    continue;
                }
                Op::ReturnLocal | Op::NoMatch => {
                    local(u16_at(0), h)?;
                    continue;
                }
            };
            if takes > h {
                return Err(bad(format!("takes {takes} of {h} values")));
            }
            let after = h - takes + gives;
            max = max.max(after);
            let taken = match op {
                Op::JumpIfFalse | Op::LtJump | Op::LeJump | Op::GtJump | Op::GeJump => {
                    Some((self.read_u32(at + 1) as usize, after))
                }
                // `and`/`or` keep the value they jump with.
                Op::AndJump | Op::OrJump => Some((self.read_u32(at + 1) as usize, h)),
                Op::LtJumpLocal | Op::LeJumpLocal | Op::GtJumpLocal | Op::GeJumpLocal => {
                    Some((self.read_u32(at + 5) as usize, h))
                }
                // At the end of the loop, nothing is pushed.
                Op::IterNext | Op::RangeNext => Some((self.read_u32(at + 3) as usize, h)),
                _ => None,
            };
            work.extend(taken);
            if next < self.code.len() {
                work.push((next, after));
            } else {
                return Err(bad("the code runs off its end".into()));
            }
        }
        Ok(max)
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

    /// An instruction: its opcode and operands.
    type Ins<'a> = (Op, &'a [u32]);

    /// A chunk of instructions, operands written at their widths.
    fn chunk(ops: &[Ins], consts: usize) -> Chunk {
        let mut c = Chunk {
            consts: vec![Const::Int(2); consts],
            ..Chunk::default()
        };
        c.consts.push(Const::str("two"));
        for &(op, operands) in ops {
            c.emit(op, Span::default());
            for (width, &v) in op.operands().iter().zip(operands) {
                match width {
                    Width::U32 => c.emit_u32(v),
                    Width::U16 | Width::K | Width::KInt => c.emit_u16(v as u16),
                }
            }
        }
        c
    }

    #[test]
    fn verify_finds_the_most_values_a_frame_holds() {
        // fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
        let fib = chunk(
            &[
                (Op::LtJumpLocal, &[0, 0, 12]),
                (Op::ReturnLocal, &[0]),
                (Op::GetGlobal, &[0]),
                (Op::LocalSubConst, &[0, 0]),
                (Op::Call, &[1]),
                (Op::GetGlobal, &[0]),
                (Op::LocalSubConst, &[0, 0]),
                (Op::Call, &[1]),
                (Op::Add, &[]),
                (Op::Return, &[]),
            ],
            1,
        );
        // n, fib(n - 1), then fib and n - 2 above it.
        assert_eq!(fib.verify(1), Ok(4));
    }

    #[test]
    fn verify_refuses_what_the_loop_could_not_run_unchecked() {
        let cases: &[(&[Ins], usize, &str)] = &[
            // A local at or above the height.
            (
                &[(Op::GetLocal, &[1]), (Op::Return, &[])],
                1,
                "local 1 with 1 values",
            ),
            (
                &[(Op::ReturnLocal, &[0]), (Op::Return, &[])],
                0,
                "local 0 with 0",
            ),
            // An instruction that takes more values than there are.
            (
                &[(Op::Nil, &[]), (Op::Add, &[]), (Op::Return, &[])],
                0,
                "takes 2 of 1",
            ),
            (&[(Op::Call, &[2]), (Op::Return, &[])], 2, "takes 3 of 2"),
            (&[(Op::Return, &[])], 0, "nothing to return"),
            // Two heights at one place: 0 by the jump, 1 falling through.
            (
                &[
                    (Op::True, &[]),
                    (Op::JumpIfFalse, &[7]),
                    (Op::Nil, &[]),
                    (Op::Nil, &[]),
                    (Op::Return, &[]),
                ],
                0,
                "one way",
            ),
            // A constant past the pool, and a string where an int must be.
            (
                &[(Op::Const, &[2]), (Op::Return, &[])],
                0,
                "constant 2 of 2",
            ),
            (
                &[(Op::Nil, &[]), (Op::AddConst, &[1]), (Op::Return, &[])],
                0,
                "constant 1, which is no int",
            ),
        ];
        for (ops, arity, want) in cases {
            let got = chunk(ops, 1).verify(*arity).unwrap_err();
            assert!(got.contains(want), "{ops:?}: {got}");
        }
    }

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
