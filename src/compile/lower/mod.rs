//! Lowering: resolves names and emits bytecode for one unit, in one walk
//! per function. This file owns the compiler's state (the functions being
//! compiled, their locals, scopes and loops); each concern's methods live in
//! a file of their own:
//!
//! - `unit.rs`: units and declarations (hoisting, functions, filters),
//! - `resolve.rs`: scopes and name resolution,
//! - `stmt.rs`: statements,
//! - `expr.rs`: expressions and the checks made at calls,
//! - `pattern.rs`: `match` and patterns,
//! - `emit.rs`: emission (instructions, constants, jumps).

mod emit;
mod expr;
mod pattern;
mod resolve;
mod stmt;
mod unit;

use std::collections::{HashMap, HashSet};

use super::captures::names_used_by_closures;
use super::{
    did_you_mean, loc, FilterDef, Global, GlobalKind, Globals, PassDef, Unit, UnitOptions,
};
use crate::bytecode::chunk::{Capture, Chunk, FnKind, FnProto, MessagePattern, Pattern};
use crate::bytecode::constant::Const;
use crate::bytecode::opcode::Op;
use crate::diag::{codes, Diagnostic};
use crate::syntax::ast::{self, *};
use crate::syntax::Span;
use crate::vm::error::takes;
use crate::vm::natives::{self, NativeFn};
use crate::vm::value::{ActionDef, Value};

/// How deep expressions may nest before the compiler refuses them.
const MAX_EXPR_DEPTH: usize = 1_000;

/// Compiles one unit's statements against `globals`.
pub fn compile_unit(
    stmts: &[Stmt],
    globals: &mut Globals,
    opts: &UnitOptions,
) -> Result<Unit, Vec<Diagnostic>> {
    let mut c = Compiler {
        globals,
        opts,
        errors: Vec::new(),
        warnings: Vec::new(),
        fns: Vec::new(),
        nesting: 0,
        reported: HashSet::new(),
        callbacks: HashMap::new(),
        too_large_reported: false,
        fuse: std::env::var_os("VOYAGER_NO_FUSE").is_none(),
    };
    let unit = c.unit(stmts);
    if c.errors.is_empty() {
        Ok(unit)
    } else {
        Err(c.errors)
    }
}

struct Compiler<'g> {
    globals: &'g mut Globals,
    opts: &'g UnitOptions,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    /// The functions being compiled, outermost first.
    fns: Vec<FnState>,
    nesting: usize,
    /// Names already reported at these spans (so one mistake is one error).
    reported: HashSet<Span>,
    /// `call(…)` expressions written as a promise's callback.
    /// (`catch`'s handler and `then`'s next step too: the constructor.)
    callbacks: HashMap<Span, &'static str>,
    too_large_reported: bool,
    /// Whether to emit the fused instructions (ADD_CONST, LT_JUMP, …).
    /// `VOYAGER_NO_FUSE=1` turns them off, so that a test can check that
    /// a program does the same with and without them.
    fuse: bool,
}

/// Constants that are shared within a function's pool.
#[derive(Clone, PartialEq, Eq, Hash)]
enum ConstKey {
    Int(i64),
    Float(u64),
    Duration(i64),
    Str(String),
    Native(&'static str),
}

struct FnState {
    chunk: Chunk,
    name: String,
    kind: FnKind,
    arity: usize,
    span: Span,
    locals: Vec<Local>,
    /// `locals.len()` where each open block scope began.
    scopes: Vec<usize>,
    captures: Vec<Capture>,
    capture_names: Vec<String>,
    /// Locals with these names are stored in cells (see `captures.rs`).
    boxed_names: HashSet<String>,
    loops: Vec<LoopCtx>,
    /// How many values are on the stack above the frame's base.
    depth: usize,
    const_index: HashMap<ConstKey, u16>,
}

struct Local {
    name: String,
    slot: u16,
    cell: bool,
    span: Span,
}

struct LoopCtx {
    /// Where `continue` jumps.
    start: usize,
    /// The stack depth `break` and `continue` unwind to.
    depth: usize,
    breaks: Vec<usize>,
}

enum Resolved {
    Local(u16, bool),
    Upval(u16),
    Global(Global),
    Native(&'static NativeFn),
}

impl FnState {
    fn new(name: &str, kind: FnKind, arity: usize, span: Span, boxed: HashSet<String>) -> Self {
        FnState {
            chunk: Chunk::default(),
            name: name.to_string(),
            kind,
            arity,
            span,
            locals: Vec::new(),
            scopes: Vec::new(),
            captures: Vec::new(),
            capture_names: Vec::new(),
            boxed_names: boxed,
            loops: Vec::new(),
            depth: 0,
            const_index: HashMap::new(),
        }
    }
}

fn binop_code(op: BinOp) -> Op {
    match op {
        BinOp::Add => Op::Add,
        BinOp::Sub => Op::Sub,
        BinOp::Mul => Op::Mul,
        BinOp::Div => Op::Div,
        BinOp::Rem => Op::Rem,
        BinOp::Eq => Op::Eq,
        BinOp::Ne => Op::Ne,
        BinOp::Lt => Op::Lt,
        BinOp::Le => Op::Le,
        BinOp::Gt => Op::Gt,
        BinOp::Ge => Op::Ge,
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
