//! Lowering: resolves names and emits bytecode for one unit.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::captures::names_used_by_closures;
use super::{
    did_you_mean, loc, FilterDef, Global, GlobalKind, Globals, PassDef, Unit, UnitOptions,
};
use crate::bytecode::chunk::{Capture, Chunk, FnKind, FnProto, MessagePattern, Pattern};
use crate::bytecode::opcode::Op;
use crate::diag::{codes, Diagnostic};
use crate::syntax::ast::{self, *};
use crate::syntax::Span;
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

impl Compiler<'_> {
    // ---- emission -------------------------------------------------------

    fn f(&mut self) -> &mut FnState {
        self.fns.last_mut().expect("a function is being compiled")
    }

    fn at(&self) -> usize {
        self.fns.last().map_or(0, |f| f.chunk.code.len())
    }

    /// Emits `op` with its operands, adjusting the tracked stack depth.
    fn emit(&mut self, op: Op, span: Span, operands: &[u32], delta: isize) -> usize {
        let f = self.f();
        let at = f.chunk.emit(op, span);
        for (width, &value) in op.operands().iter().zip(operands) {
            match width {
                crate::bytecode::opcode::Width::U16 => f.chunk.emit_u16(value as u16),
                crate::bytecode::opcode::Width::U32 => f.chunk.emit_u32(value),
            }
        }
        f.depth = (f.depth as isize + delta).max(0) as usize;
        at
    }

    fn op(&mut self, op: Op, span: Span, delta: isize) {
        self.emit(op, span, &[], delta);
    }

    /// Emits a jump whose target is patched later; returns where to patch.
    fn jump(&mut self, op: Op, span: Span, delta: isize) -> usize {
        let at = self.emit(op, span, &[0], delta);
        at + 1
    }

    fn patch_here(&mut self, operand_at: usize) {
        let here = self.at() as u32;
        self.f().chunk.patch_u32(operand_at, here);
    }

    fn patch_to(&mut self, operand_at: usize, target: usize) {
        self.f().chunk.patch_u32(operand_at, target as u32);
    }

    fn constant(&mut self, value: Value, span: Span) -> u16 {
        let key = match &value {
            Value::Int(n) => Some(ConstKey::Int(*n)),
            Value::Float(x) => Some(ConstKey::Float(x.to_bits())),
            Value::Duration(d) => Some(ConstKey::Duration(*d)),
            Value::Str(s) => Some(ConstKey::Str(s.to_string())),
            Value::Native(n) => Some(ConstKey::Native(n.name)),
            _ => None,
        };
        let f = self.f();
        if let Some(&index) = key.as_ref().and_then(|k| f.const_index.get(k)) {
            return index;
        }
        let index = f.chunk.consts.len();
        f.chunk.consts.push(value);
        let index = self.check_u16(index, "constants", span);
        if let Some(key) = key {
            self.f().const_index.insert(key, index);
        }
        index
    }

    fn emit_const(&mut self, value: Value, span: Span) {
        let k = self.constant(value, span);
        self.emit(Op::Const, span, &[k as u32], 1);
    }

    fn check_u16(&mut self, n: usize, what: &str, span: Span) -> u16 {
        match u16::try_from(n) {
            Ok(n) => n,
            Err(_) if self.too_large_reported => 0,
            Err(_) => {
                self.too_large_reported = true;
                self.error(
                    Diagnostic::error(
                        codes::TOO_LARGE,
                        format!("This function has more than 65535 {what}"),
                        self.loc(span),
                    )
                    .label("too large")
                    .hint("split it into smaller functions"),
                );
                0
            }
        }
    }

    fn loc(&self, span: Span) -> crate::vm::error::Loc {
        loc(self.opts.source, span)
    }

    fn error(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }

    // ---- units and declarations ------------------------------------------

    fn qualified(&self, name: &str) -> String {
        match &self.opts.module {
            Some(module) => format!("{module}.{name}"),
            None => name.to_string(),
        }
    }

    fn declare_global(
        &mut self,
        name: &Name,
        kind: GlobalKind,
        seen: &mut HashMap<String, Span>,
    ) -> u16 {
        if let Some(first) = seen.get(&name.0) {
            let first = *first;
            self.error(
                Diagnostic::error(
                    codes::DUPLICATE,
                    format!("`{}` is declared twice", name.0),
                    self.loc(name.1),
                )
                .label("declared again here")
                .also(self.loc(first), "first declared here")
                .hint("rename one of them"),
            );
        }
        seen.insert(name.0.clone(), name.1);
        let key = self.qualified(&name.0);
        let reuse = match self.globals.lookup(&key) {
            Some(g) if self.opts.repl && self.globals.repl_names.contains(&key) => Some(g.slot),
            _ => None,
        };
        if self.opts.repl {
            self.globals.repl_names.insert(key.clone());
        }
        let slot = match reuse {
            Some(slot) => slot,
            None => {
                let slot = self.globals.slots;
                self.globals.slots += 1;
                self.check_u16(slot, "globals", name.1)
            }
        };
        let global = Global {
            slot,
            kind,
            loc: Some(self.loc(name.1)),
        };
        self.globals.names.insert(key, global);
        slot
    }

    fn unit(&mut self, stmts: &[Stmt]) -> Unit {
        let whole = Block {
            stmts: stmts.to_vec(),
            span: Span::default(),
        };
        let boxed = names_used_by_closures(&whole);
        self.fns.push(FnState::new(
            "<script>",
            FnKind::Script,
            0,
            Span::default(),
            boxed,
        ));

        // Hoist: every top-level declaration is known before any body.
        let mut seen = HashMap::new();
        let mut fn_slots = Vec::new();
        let mut action_slots = Vec::new();
        for stmt in stmts {
            match &stmt.kind {
                StmtKind::Fn(f) => {
                    let slot =
                        self.declare_global(&f.name, GlobalKind::Fn(f.params.len()), &mut seen);
                    fn_slots.push((f, slot));
                }
                StmtKind::Action(f) => {
                    let id = self.globals.next_action_id;
                    self.globals.next_action_id += 1;
                    let kind = GlobalKind::Action(id, f.params.len());
                    let slot = self.declare_global(&f.name, kind, &mut seen);
                    action_slots.push((f, slot, id));
                }
                StmtKind::Let(name, _) => {
                    self.declare_global(name, GlobalKind::Let, &mut seen);
                }
                StmtKind::Pass(p) => {
                    let topic = p.topic.0.clone();
                    if let Some(first) = self.globals.passes.get(&topic).copied() {
                        self.error(
                            Diagnostic::error(
                                codes::DUPLICATE,
                                format!("Topic \"{topic}\" has two passes"),
                                self.loc(p.topic.1),
                            )
                            .label("second pass")
                            .also(first, "first pass"),
                        );
                    }
                    let l = self.loc(p.topic.1);
                    self.globals.passes.insert(topic, l);
                }
                _ => {}
            }
        }

        let mut unit = Unit {
            script: Rc::new(FnProto {
                name: String::new(),
                kind: FnKind::Script,
                arity: 0,
                chunk: Chunk::default(),
                captures: vec![],
                source: self.opts.source,
                span: Span::default(),
            }),
            actions: vec![],
            filters: vec![],
            passes: vec![],
            constants: vec![],
            warnings: vec![],
        };

        for (f, slot) in fn_slots {
            self.closure(f, FnKind::Fn);
            self.emit(Op::SetGlobal, f.name.1, &[slot as u32], -1);
        }
        for (f, slot, id) in action_slots {
            let proto = self.function(f, FnKind::Action);
            let action = Rc::new(ActionDef::new(
                id,
                Rc::from(self.qualified(&f.name.0)),
                proto,
            ));
            unit.constants.push((slot, Value::Action(action.clone())));
            unit.actions.push(action);
        }

        let last = stmts.len().saturating_sub(1);
        for (i, stmt) in stmts.iter().enumerate() {
            match &stmt.kind {
                StmtKind::Expr(e) if self.opts.repl && i == last => {
                    // The REPL shows this value; a message is still enqueued.
                    self.expr(e);
                    self.op(Op::Dup, e.span, 1);
                    self.op(Op::Emit, e.span, -1);
                    self.op(Op::Return, e.span, -1);
                }
                StmtKind::Fn(_) | StmtKind::Action(_) => {}
                StmtKind::Let(name, value) => {
                    self.expr(value);
                    let slot = self
                        .globals
                        .lookup(&self.qualified(&name.0))
                        .map(|g| g.slot);
                    self.emit(Op::SetGlobal, name.1, &[slot.unwrap_or(0) as u32], -1);
                }
                StmtKind::Expr(e) => {
                    self.expr(e);
                    self.op(Op::Emit, e.span, -1);
                }
                StmtKind::Import(name) => {
                    if !matches!(
                        self.globals.lookup(&name.0).map(|g| &g.kind),
                        Some(GlobalKind::Module)
                    ) {
                        self.error(
                            Diagnostic::error(
                                codes::UNKNOWN_MODULE,
                                format!("There is no module `{}`", name.0),
                                self.loc(name.1),
                            )
                            .label("not found")
                            .hint("`import passes` loads std/passes.vy; `import x` loads ./x.vy"),
                        );
                    }
                }
                StmtKind::Filter(filter) => {
                    let def = self.filter(filter, stmt.span);
                    unit.filters.push(def);
                }
                StmtKind::Pass(p) => {
                    let decl = FnDecl {
                        name: (format!("pass \"{}\"", p.topic.0), p.topic.1),
                        params: vec![p.param.clone()],
                        body: p.body.clone(),
                        span: p.span,
                    };
                    let body = self.function(&decl, FnKind::Pass);
                    unit.passes.push(PassDef {
                        topic: Rc::from(p.topic.0.as_str()),
                        body,
                        loc: self.loc(p.topic.1),
                    });
                }
                _ => self.stmt(stmt),
            }
        }
        self.op(Op::Nil, Span::default(), 1);
        self.op(Op::Return, Span::default(), -1);

        self.check_topics(&unit);
        let script = self.finish_fn();
        unit.script = script;
        unit.warnings = std::mem::take(&mut self.warnings);
        unit
    }

    fn check_topics(&mut self, unit: &Unit) {
        for filter in &unit.filters {
            if filter.take && !self.globals.passes.contains_key(&*filter.topic) {
                self.error(
                    Diagnostic::error(
                        codes::NO_PASS,
                        format!("Topic \"{}\" has no pass", filter.topic),
                        filter.loc,
                    )
                    .label("messages taken here would wait forever")
                    .hint(format!(
                        "add `pass \"{}\" (msgs) {{ msgs }}`, or use `observe` to only copy",
                        filter.topic
                    )),
                );
            }
        }
        if self.opts.warn_unfed_passes {
            for pass in &unit.passes {
                if !unit.filters.iter().any(|f| f.topic == pass.topic) {
                    self.warnings.push(
                        Diagnostic::warning(
                            codes::PASS_UNFED,
                            format!("No interest or observe feeds topic \"{}\"", pass.topic),
                            pass.loc,
                        )
                        .label("this pass never runs")
                        .hint(format!("add `interest \"{}\" when <pattern>`", pass.topic)),
                    );
                }
            }
        }
    }

    /// Compiles a function body into a proto (no closure is made).
    fn function(&mut self, f: &FnDecl, kind: FnKind) -> Rc<FnProto> {
        let boxed = names_used_by_closures(&f.body);
        let name = match kind {
            FnKind::Action | FnKind::Fn if self.fns.len() == 1 => self.qualified(&f.name.0),
            _ => f.name.0.clone(),
        };
        self.fns
            .push(FnState::new(&name, kind, f.params.len(), f.span, boxed));
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for param in &f.params {
            if let Some(first) = seen.insert(&param.0, param.1) {
                self.error(
                    Diagnostic::error(
                        codes::DUPLICATE,
                        format!("Parameter `{}` is declared twice", param.0),
                        self.loc(param.1),
                    )
                    .label("again here")
                    .also(self.loc(first), "first here"),
                );
            }
            self.f().depth += 1;
            self.declare_local(param);
        }
        self.block(&f.body);
        self.op(Op::Return, f.body.span, -1);
        self.finish_fn()
    }

    /// Compiles a nested function and emits the closure that makes it.
    fn closure(&mut self, f: &FnDecl, kind: FnKind) {
        let proto = self.function(f, kind);
        let index = self.f().chunk.protos.len();
        self.f().chunk.protos.push(proto);
        let index = self.check_u16(index, "nested functions", f.span);
        self.emit(Op::Closure, f.span, &[index as u32], 1);
    }

    fn finish_fn(&mut self) -> Rc<FnProto> {
        let f = self.fns.pop().expect("a function is being compiled");
        Rc::new(FnProto {
            name: f.name,
            kind: f.kind,
            arity: f.arity,
            chunk: f.chunk,
            captures: f.captures,
            source: self.opts.source,
            span: f.span,
        })
    }

    /// An `interest`/`observe` becomes a predicate: `fn(msg) { match msg {
    /// pattern if guard => true, _ => false } }`.
    fn filter(&mut self, filter: &ast::Filter, span: Span) -> FilterDef {
        let mut boxed = HashSet::new();
        if let Some(guard) = &filter.guard {
            let b = Block {
                stmts: vec![Stmt {
                    kind: StmtKind::Expr(guard.clone()),
                    span: guard.span,
                }],
                span: guard.span,
            };
            boxed = names_used_by_closures(&b);
        }
        let name = format!(
            "{} \"{}\"",
            match filter.kind {
                FilterKind::Interest => "interest",
                FilterKind::Observe => "observe",
            },
            filter.topic.0
        );
        self.fns
            .push(FnState::new(&name, FnKind::Fn, 1, span, boxed));
        self.f().depth = 1;
        self.f().locals.push(Local {
            name: String::new(),
            slot: 0,
            cell: false,
            span,
        });
        let fail = self.match_arm_test(0, &filter.pattern, filter.guard.as_ref());
        self.op(Op::Pop, span, -1);
        self.op(Op::True, span, 1);
        self.op(Op::Return, span, -1);
        for at in fail {
            self.patch_here(at);
        }
        self.f().depth = 1;
        self.op(Op::False, span, 1);
        self.op(Op::Return, span, -1);
        let predicate = self.finish_fn();
        let (constructor, action) = self.index_key(&filter.pattern);
        FilterDef {
            take: filter.kind == FilterKind::Interest,
            topic: Rc::from(filter.topic.0.as_str()),
            predicate,
            loc: self.loc(filter.topic.1),
            constructor,
            action,
        }
    }

    /// What a filter's pattern needs of a message's top level, for indexing.
    fn index_key(&self, p: &ast::Pattern) -> (Option<&'static str>, Option<u32>) {
        match &p.kind {
            PatternKind::Call(action, _, _) => {
                let id = action.as_ref().and_then(|(name, _)| {
                    match self
                        .globals
                        .lookup(&self.qualified(name))
                        .or_else(|| self.globals.lookup(name))
                    {
                        Some(Global {
                            kind: GlobalKind::Action(id, _),
                            ..
                        }) => Some(*id),
                        _ => None,
                    }
                });
                (Some("call"), id)
            }
            PatternKind::Message(name, _) => (
                MessagePattern::from_name(name).map(|(m, _)| match m {
                    MessagePattern::Data => "data",
                    MessagePattern::Seq => "seq",
                    MessagePattern::Conc => "conc",
                    MessagePattern::Promise => "promise",
                    MessagePattern::Defer => "defer",
                    MessagePattern::Delay => "delay",
                    MessagePattern::Void => "void",
                    MessagePattern::Timeout => "timeout",
                    MessagePattern::Noop => "noop",
                }),
                None,
            ),
            _ => (None, None),
        }
    }

    // ---- scopes and names ------------------------------------------------

    fn begin_scope(&mut self) {
        let n = self.f().locals.len();
        self.f().scopes.push(n);
    }

    /// Closes a scope whose block left its value on top of its locals.
    fn end_scope_keep_top(&mut self, span: Span) {
        let start = self.f().scopes.pop().unwrap_or(0);
        let n = self.f().locals.len() - start;
        self.f().locals.truncate(start);
        if n > 0 {
            self.emit(Op::PopUnder, span, &[n as u32], -(n as isize));
        }
    }

    /// Declares the value on top of the stack as a local.
    fn declare_local(&mut self, name: &Name) {
        let f = self.f();
        let slot = f.depth - 1;
        let cell = f.boxed_names.contains(&name.0);
        let span = name.1;
        f.locals.push(Local {
            name: name.0.clone(),
            slot: slot as u16,
            cell,
            span,
        });
        let slot = self.check_u16(slot, "locals", name.1);
        if cell {
            self.emit(Op::MakeCell, span, &[slot as u32], 0);
        }
    }

    fn at_top_level(&self) -> bool {
        self.fns.len() == 1 && self.fns[0].scopes.is_empty()
    }

    fn resolve(&mut self, name: &str) -> Option<Resolved> {
        let top = self.fns.len() - 1;
        if let Some(local) = self.fns[top].locals.iter().rev().find(|l| l.name == name) {
            return Some(Resolved::Local(local.slot, local.cell));
        }
        if let Some(i) = self.resolve_upval(top, name) {
            return Some(Resolved::Upval(i));
        }
        self.resolve_global(name)
    }

    fn resolve_global(&self, name: &str) -> Option<Resolved> {
        if self.opts.module.is_some() {
            if let Some(g) = self.globals.lookup(&self.qualified(name)) {
                return Some(Resolved::Global(g.clone()));
            }
        }
        if let Some(g) = self.globals.lookup(name) {
            return Some(Resolved::Global(g.clone()));
        }
        natives::lookup(name).map(Resolved::Native)
    }

    fn resolve_upval(&mut self, fn_index: usize, name: &str) -> Option<u16> {
        if fn_index == 0 {
            return None;
        }
        if let Some(i) = self.fns[fn_index]
            .capture_names
            .iter()
            .position(|n| n == name)
        {
            return Some(i as u16);
        }
        let enclosing = fn_index - 1;
        let capture = if let Some(local) = self.fns[enclosing]
            .locals
            .iter()
            .rev()
            .find(|l| l.name == name)
        {
            debug_assert!(local.cell, "captured local `{name}` is not in a cell");
            Capture::Local(local.slot)
        } else {
            Capture::Upval(self.resolve_upval(enclosing, name)?)
        };
        let f = &mut self.fns[fn_index];
        f.captures.push(capture);
        f.capture_names.push(name.to_string());
        Some((f.captures.len() - 1) as u16)
    }

    fn unknown_name(&mut self, name: &str, span: Span) {
        if !self.reported.insert(span) {
            return;
        }
        let mut candidates: Vec<String> = self
            .fns
            .iter()
            .flat_map(|f| f.locals.iter().map(|l| l.name.clone()))
            .collect();
        candidates.extend(self.globals.names.keys().cloned());
        candidates.extend(natives::NATIVES.iter().map(|n| n.name.to_string()));
        let suggestion = did_you_mean(name, candidates.iter().map(String::as_str));
        let mut d = Diagnostic::error(
            codes::UNKNOWN_NAME,
            format!("I don't know the name `{name}`"),
            self.loc(span),
        )
        .label("not declared anywhere");
        d = match suggestion {
            Some(s) => d.hint(format!("did you mean `{s}`?")),
            None => d.hint(format!("declare it with `let {name} = …` first")),
        };
        self.error(d);
    }

    // ---- statements --------------------------------------------------------

    /// Compiles a statement; leaves the stack as it was, except that `let`
    /// adds its local.
    fn stmt(&mut self, stmt: &Stmt) {
        let span = stmt.span;
        match &stmt.kind {
            StmtKind::Expr(e) => {
                self.expr(e);
                self.op(Op::Pop, span, -1);
            }
            StmtKind::Let(name, value) => {
                self.expr(value);
                if self.at_top_level() {
                    let slot = self
                        .globals
                        .lookup(&self.qualified(&name.0))
                        .map_or(0, |g| g.slot);
                    self.emit(Op::SetGlobal, name.1, &[slot as u32], -1);
                } else {
                    self.declare_local(name);
                }
            }
            StmtKind::Fn(f) => {
                // A nested named function: a local bound before its body is
                // compiled, so that it can call itself.
                self.op(Op::Nil, f.name.1, 1);
                self.declare_local(&f.name);
                self.closure(f, FnKind::Fn);
                self.assign_name(&f.name.0, f.name.1);
            }
            StmtKind::Assign(target, op, value) => self.assign(target, *op, value, span),
            StmtKind::While(cond, body) => {
                let start = self.at();
                let exit = self.jump_unless(cond);
                let depth = self.f().depth;
                self.f().loops.push(LoopCtx {
                    start,
                    depth,
                    breaks: vec![],
                });
                self.block(body);
                self.op(Op::Pop, body.span, -1);
                let j = self.jump(Op::Jump, span, 0);
                self.patch_to(j, start);
                self.patch_here(exit);
                let ctx = self.f().loops.pop().expect("loop context");
                for b in ctx.breaks {
                    self.patch_here(b);
                }
            }
            StmtKind::For(name, iter, body) => self.for_loop(name, iter, body, span),
            StmtKind::Break | StmtKind::Continue => {
                let Some(ctx) = self.f().loops.last() else {
                    let word = if matches!(stmt.kind, StmtKind::Break) {
                        "break"
                    } else {
                        "continue"
                    };
                    self.error(
                        Diagnostic::error(
                            codes::OUTSIDE_LOOP,
                            format!("`{word}` outside a loop"),
                            self.loc(span),
                        )
                        .label("there is no loop around this")
                        .hint("use it inside `while` or `for`"),
                    );
                    return;
                };
                let (start, target_depth) = (ctx.start, ctx.depth);
                let depth = self.f().depth;
                let extra = depth - target_depth.min(depth);
                if extra > 0 {
                    self.emit(Op::PopN, span, &[extra as u32], 0);
                }
                if matches!(stmt.kind, StmtKind::Break) {
                    let j = self.jump(Op::Jump, span, 0);
                    self.f()
                        .loops
                        .last_mut()
                        .expect("loop context")
                        .breaks
                        .push(j);
                } else {
                    let j = self.jump(Op::Jump, span, 0);
                    self.patch_to(j, start);
                }
            }
            StmtKind::Return(value) => {
                if self.fns.len() == 1 {
                    self.error(
                        Diagnostic::error(
                            codes::OUTSIDE_FN,
                            "`return` outside a function",
                            self.loc(span),
                        )
                        .label("the top level cannot return")
                        .hint("use it inside `fn` or `action`"),
                    );
                    return;
                }
                match value {
                    Some(e) => self.expr(e),
                    None => self.op(Op::Nil, span, 1),
                }
                self.op(Op::Return, span, -1);
            }
            StmtKind::Action(f) => self.misplaced("action", f.name.1),
            StmtKind::Filter(f) => self.misplaced("interest or observe", f.topic.1),
            StmtKind::Pass(p) => self.misplaced("pass", p.topic.1),
            StmtKind::Import(name) => self.misplaced("import", name.1),
            StmtKind::Error => {}
        }
    }

    fn misplaced(&mut self, what: &str, span: Span) {
        self.error(
            Diagnostic::error(
                codes::MISPLACED_DECL,
                format!("An {what} declaration must be at the top level"),
                self.loc(span),
            )
            .label("inside a block")
            .hint("move it out of the function or block"),
        );
    }

    fn for_loop(&mut self, name: &Name, iter: &Expr, body: &Block, span: Span) {
        self.begin_scope();
        // `for i in range(a, b)` (the prelude's range) counts in two hidden
        // locals instead of building the list; anything else is walked as
        // a list with an index.
        let (next, next_span) = if let Some((from, to)) = self.prelude_range(iter) {
            match from {
                Some(from) => self.expr(from),
                None => self.emit_const(Value::Int(0), iter.span),
            }
            let from_slot = self.f().depth - 1;
            self.hidden_local(from_slot, iter.span);
            self.expr(to);
            (Op::RangeNext, iter.span)
        } else {
            self.expr(iter);
            let list_slot = self.f().depth - 1;
            self.hidden_local(list_slot, iter.span);
            self.emit_const(Value::Int(0), iter.span);
            (Op::IterNext, name.1)
        };
        let list_slot = self.f().depth - 2;
        self.hidden_local(list_slot + 1, iter.span);
        let start = self.at();
        let depth = self.f().depth;
        let at = self.emit(next, next_span, &[list_slot as u32, 0], 1);
        let exit = at + 3;
        self.f().loops.push(LoopCtx {
            start,
            depth,
            breaks: vec![],
        });
        self.begin_scope();
        self.declare_local(name);
        self.block(body);
        self.op(Op::Pop, body.span, -1);
        let start_locals = self.f().scopes.pop().unwrap_or(0);
        let n = self.f().locals.len() - start_locals;
        self.f().locals.truncate(start_locals);
        self.emit(Op::PopN, span, &[n as u32], -(n as isize));
        let j = self.jump(Op::Jump, span, 0);
        self.patch_to(j, start);
        self.patch_here(exit);
        let ctx = self.f().loops.pop().expect("loop context");
        for b in ctx.breaks {
            self.patch_here(b);
        }
        let start_locals = self.f().scopes.pop().unwrap_or(0);
        let n = self.f().locals.len() - start_locals;
        self.f().locals.truncate(start_locals);
        self.emit(Op::PopN, span, &[n as u32], -(n as isize));
    }

    /// The bounds of `range(b)` or `range(a, b)` when `range` is the
    /// prelude's (not a name the script declared).
    fn prelude_range<'e>(&mut self, iter: &'e Expr) -> Option<(Option<&'e Expr>, &'e Expr)> {
        let ExprKind::Call(callee, args) = &iter.kind else {
            return None;
        };
        let ExprKind::Name(name) = &callee.kind else {
            return None;
        };
        if name != "range"
            || !matches!(self.resolve(name), Some(Resolved::Native(n)) if n.name == "range")
        {
            return None;
        }
        match &args[..] {
            [to] => Some((None, to)),
            [from, to] => Some((Some(from), to)),
            _ => None,
        }
    }

    fn hidden_local(&mut self, slot: usize, span: Span) {
        self.f().locals.push(Local {
            name: String::new(),
            slot: slot as u16,
            cell: false,
            span,
        });
    }

    fn assign(&mut self, target: &Expr, op: Option<BinOp>, value: &Expr, span: Span) {
        let arith = |c: &mut Self, op: Option<BinOp>| {
            if let Some(op) = op {
                c.op(binop_code(op), span, -1);
            }
        };
        match &target.kind {
            ExprKind::Name(name) => {
                if op.is_some() {
                    self.name(name, target.span);
                }
                self.expr(value);
                arith(self, op);
                self.assign_name(name, target.span);
            }
            ExprKind::Field(object, field) => {
                self.expr(object);
                let k = self.constant(Value::str(&field.0), field.1);
                if op.is_some() {
                    self.op(Op::Dup, span, 1);
                    self.emit(Op::Field, field.1, &[k as u32], 0);
                }
                self.expr(value);
                arith(self, op);
                self.emit(Op::SetField, span, &[k as u32], -2);
            }
            ExprKind::Index(object, index) => {
                self.expr(object);
                self.expr(index);
                if op.is_some() {
                    self.op(Op::Dup2, span, 2);
                    self.op(Op::Index, target.span, -1);
                }
                self.expr(value);
                arith(self, op);
                self.op(Op::SetIndex, span, -3);
            }
            _ => self.error(
                Diagnostic::error(
                    codes::BAD_ASSIGN,
                    "I can't assign to this",
                    self.loc(target.span),
                )
                .label("not a variable, field or index")
                .hint("assign to a name (`x = …`), a field (`r.k = …`) or an index (`xs[i] = …`)"),
            ),
        }
    }

    /// Stores the top of the stack into a name.
    fn assign_name(&mut self, name: &str, span: Span) {
        match self.resolve(name) {
            Some(Resolved::Local(slot, false)) => {
                self.emit(Op::SetLocal, span, &[slot as u32], -1);
            }
            Some(Resolved::Local(slot, true)) => {
                self.emit(Op::SetCell, span, &[slot as u32], -1);
            }
            Some(Resolved::Upval(i)) => {
                self.emit(Op::SetUpval, span, &[i as u32], -1);
            }
            Some(Resolved::Global(g)) => match g.kind {
                GlobalKind::Let => {
                    self.emit(Op::SetGlobal, span, &[g.slot as u32], -1);
                }
                _ => {
                    let what = match g.kind {
                        GlobalKind::Fn(_) => "a function",
                        GlobalKind::Action(..) => "an action",
                        GlobalKind::Const => "a constant",
                        _ => "a module",
                    };
                    self.error(
                        Diagnostic::error(
                            codes::BAD_ASSIGN,
                            format!("`{name}` is {what}; it cannot be assigned"),
                            self.loc(span),
                        )
                        .label("assigned here")
                        .declared(name, g.loc, "declared here")
                        .hint(format!(
                            "use a `let` for a value that changes: `let my_{name} = …`"
                        )),
                    );
                }
            },
            Some(Resolved::Native(_)) => self.error(
                Diagnostic::error(
                    codes::BAD_ASSIGN,
                    format!("`{name}` is part of the prelude; it cannot be assigned"),
                    self.loc(span),
                )
                .label("assigned here")
                .hint(format!("declare your own: `let {name} = …`")),
            ),
            None => self.unknown_name(name, span),
        }
    }

    /// A block leaves exactly one value: its last expression's, or nil.
    fn block(&mut self, b: &Block) {
        self.begin_scope();
        let n = b.stmts.len();
        let mut has_value = false;
        for (i, stmt) in b.stmts.iter().enumerate() {
            match (&stmt.kind, i + 1 == n) {
                (StmtKind::Expr(e), true) => {
                    self.expr(e);
                    has_value = true;
                }
                _ => self.stmt(stmt),
            }
        }
        if !has_value {
            self.op(Op::Nil, b.span, 1);
        }
        self.end_scope_keep_top(b.span);
    }

    // ---- expressions -------------------------------------------------------

    /// Compiles an expression: exactly one value more on the stack.
    fn expr(&mut self, e: &Expr) {
        self.nesting += 1;
        if self.nesting > MAX_EXPR_DEPTH {
            if self.nesting == MAX_EXPR_DEPTH + 1 {
                self.error(
                    Diagnostic::error(
                        codes::TOO_DEEP,
                        "This expression nests too deeply",
                        self.loc(e.span),
                    )
                    .label(format!("more than {MAX_EXPR_DEPTH} levels deep"))
                    .hint("split it with `let`"),
                );
            }
            self.op(Op::Nil, e.span, 1);
            self.nesting -= 1;
            return;
        }
        self.expr_inner(e);
        self.nesting -= 1;
    }

    fn expr_inner(&mut self, e: &Expr) {
        let span = e.span;
        match &e.kind {
            ExprKind::Nil | ExprKind::Error => self.op(Op::Nil, span, 1),
            ExprKind::Bool(true) => self.op(Op::True, span, 1),
            ExprKind::Bool(false) => self.op(Op::False, span, 1),
            ExprKind::Int(n) => self.emit_const(Value::Int(*n), span),
            ExprKind::Float(x) => self.emit_const(Value::Float(*x), span),
            ExprKind::Duration(ms) => self.emit_const(Value::Duration(*ms), span),
            ExprKind::Str(s) => self.emit_const(Value::str(s), span),
            ExprKind::Interp(parts) => {
                for part in parts {
                    match part {
                        StrPart::Text(t) => self.emit_const(Value::str(t), span),
                        StrPart::Expr(e) => self.expr(e),
                    }
                }
                let n = parts.len();
                self.emit(Op::Interp, span, &[n as u32], 1 - n as isize);
            }
            ExprKind::Name(name) => self.name(name, span),
            ExprKind::List(items) => {
                for item in items {
                    self.expr(item);
                }
                let n = self.check_u16(items.len(), "list items", span);
                self.emit(Op::List, span, &[n as u32], 1 - items.len() as isize);
            }
            ExprKind::Record(fields) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for ((key, key_span), value) in fields {
                    if let Some(first) = seen.insert(key, *key_span) {
                        self.error(
                            Diagnostic::error(
                                codes::DUPLICATE,
                                format!("Key `{key}` appears twice in this record"),
                                self.loc(*key_span),
                            )
                            .label("again here")
                            .also(self.loc(first), "first here"),
                        );
                    }
                    self.emit_const(Value::str(key), *key_span);
                    self.expr(value);
                }
                let n = self.check_u16(fields.len(), "record fields", span);
                self.emit(Op::Record, span, &[n as u32], 1 - 2 * fields.len() as isize);
            }
            ExprKind::Unary(op, x) => {
                self.expr(x);
                let code = match op {
                    UnOp::Neg => Op::Neg,
                    UnOp::Not => Op::Not,
                };
                self.op(code, span, 0);
            }
            ExprKind::Binary(_, a, _) => {
                // `1 + 2 + … + n` leans left and reads as flat: walk its left
                // spine in a loop, so that its length is not nesting depth.
                let mut spine = vec![e];
                let mut leftmost: &Expr = a;
                while let ExprKind::Binary(_, l, _) = &leftmost.kind {
                    spine.push(leftmost);
                    leftmost = l;
                }
                self.expr(leftmost);
                for node in spine.iter().rev() {
                    if let ExprKind::Binary(op, _, b) = &node.kind {
                        match (op, &b.kind) {
                            // `x + 1`: one instruction instead of CONST and ADD.
                            (BinOp::Add | BinOp::Sub, ExprKind::Int(n)) if self.fuse => {
                                let k = self.constant(Value::Int(*n), b.span);
                                let code = match op {
                                    BinOp::Add => Op::AddConst,
                                    _ => Op::SubConst,
                                };
                                self.emit(code, node.span, &[k as u32], 0);
                            }
                            _ => {
                                self.expr(b);
                                self.op(binop_code(*op), node.span, -1);
                            }
                        }
                    }
                }
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                self.expr(a);
                let code = if matches!(e.kind, ExprKind::And(..)) {
                    Op::AndJump
                } else {
                    Op::OrJump
                };
                let j = self.jump(code, span, -1);
                self.expr(b);
                self.patch_here(j);
            }
            ExprKind::Call(callee, args) => self.call(callee, args, span),
            ExprKind::Index(x, i) => {
                self.expr(x);
                self.expr(i);
                self.op(Op::Index, span, -1);
            }
            ExprKind::Field(x, field) => {
                if let ExprKind::Name(module) = &x.kind {
                    if self.is_module(module) {
                        self.module_member(module, field);
                        return;
                    }
                }
                self.expr(x);
                let k = self.constant(Value::str(&field.0), field.1);
                self.emit(Op::Field, field.1, &[k as u32], 0);
            }
            ExprKind::Lambda(f) => self.closure(f, FnKind::Fn),
            ExprKind::If(cond, then, otherwise) => {
                let else_jump = self.jump_unless(cond);
                self.block(then);
                let end_jump = self.jump(Op::Jump, span, 0);
                self.patch_here(else_jump);
                self.f().depth -= 1;
                match otherwise {
                    Some(e) => self.expr(e),
                    None => self.op(Op::Nil, span, 1),
                }
                self.patch_here(end_jump);
            }
            ExprKind::Match(scrutinee, arms) => self.match_expr(scrutinee, arms, span),
            ExprKind::Block(b) => self.block(b),
        }
    }

    /// Emits a condition and a jump taken when it is falsy; returns where
    /// to patch the target. A comparison jumps in the same instruction.
    fn jump_unless(&mut self, cond: &Expr) -> usize {
        if let ExprKind::Binary(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), a, b) =
            &cond.kind
        {
            if self.fuse {
                self.expr(a);
                self.expr(b);
                let code = match op {
                    BinOp::Lt => Op::LtJump,
                    BinOp::Le => Op::LeJump,
                    BinOp::Gt => Op::GtJump,
                    _ => Op::GeJump,
                };
                return self.jump(code, cond.span, -2);
            }
        }
        self.expr(cond);
        self.jump(Op::JumpIfFalse, cond.span, -1)
    }

    fn is_module(&mut self, name: &str) -> bool {
        matches!(
            self.resolve(name),
            Some(Resolved::Global(Global {
                kind: GlobalKind::Module,
                ..
            }))
        )
    }

    fn module_member(&mut self, module: &str, field: &Name) {
        let key = format!("{module}.{}", field.0);
        match self.globals.lookup(&key) {
            Some(g) => {
                let slot = g.slot;
                self.emit(Op::GetGlobal, field.1, &[slot as u32], 1);
            }
            None => {
                let prefix = format!("{module}.");
                let members: Vec<String> = self
                    .globals
                    .names
                    .keys()
                    .filter_map(|k| k.strip_prefix(&prefix).map(str::to_string))
                    .collect();
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_NAME,
                    format!("Module `{module}` has no `{}`", field.0),
                    self.loc(field.1),
                )
                .label("not in the module");
                d = match did_you_mean(&field.0, members.iter().map(String::as_str)) {
                    Some(s) => d.hint(format!("did you mean `{module}.{s}`?")),
                    None if members.is_empty() => d,
                    None => d.hint(format!("it has: {}", members.join(", "))),
                };
                self.error(d);
                self.op(Op::Nil, field.1, 1);
            }
        }
    }

    fn name(&mut self, name: &str, span: Span) {
        match self.resolve(name) {
            Some(Resolved::Local(slot, cell)) => {
                let op = if cell { Op::GetCell } else { Op::GetLocal };
                self.emit(op, span, &[slot as u32], 1);
            }
            Some(Resolved::Upval(i)) => {
                self.emit(Op::GetUpval, span, &[i as u32], 1);
            }
            Some(Resolved::Global(g)) => {
                if matches!(g.kind, GlobalKind::Module) {
                    self.error(
                        Diagnostic::error(
                            codes::UNKNOWN_NAME,
                            format!("`{name}` is a module, not a value"),
                            self.loc(span),
                        )
                        .label("a module")
                        .hint(format!("use one of its members: `{name}.something`")),
                    );
                }
                self.emit(Op::GetGlobal, span, &[g.slot as u32], 1);
            }
            Some(Resolved::Native(n)) => {
                self.emit_const(Value::Native(n), span);
            }
            None => {
                self.unknown_name(name, span);
                self.op(Op::Nil, span, 1);
            }
        }
    }

    fn call(&mut self, callee: &Expr, args: &[Expr], span: Span) {
        if let ExprKind::Name(name) = &callee.kind {
            self.check_call(name, callee.span, args, span);
        }
        self.expr(callee);
        for arg in args {
            self.expr(arg);
        }
        let n = self.check_u16(args.len(), "arguments", span);
        self.emit(Op::Call, span, &[n as u32], -(args.len() as isize));
    }

    /// Arity of known functions, and `call(...)`'s first argument.
    fn check_call(&mut self, name: &str, name_span: Span, args: &[Expr], span: Span) {
        match self.resolve(name) {
            Some(Resolved::Global(g)) => match g.kind {
                GlobalKind::Fn(arity) if arity != args.len() => {
                    self.error(
                        Diagnostic::error(
                            codes::ARITY,
                            format!(
                                "`{name}` takes {arity} argument{} but {} {} given",
                                plural(arity),
                                args.len(),
                                if args.len() == 1 { "was" } else { "were" }
                            ),
                            self.loc(span),
                        )
                        .label(format!("{} argument{}", args.len(), plural(args.len())))
                        .declared(name, g.loc, "declared here"),
                    );
                }
                GlobalKind::Action(..) => {
                    let shown = args.iter().map(|_| "…").collect::<Vec<_>>().join(", ");
                    self.error(
                        Diagnostic::error(
                            codes::ACTION_CALLED,
                            format!("`{name}` is an action: it runs through a message"),
                            self.loc(name_span),
                        )
                        .label("called like a function")
                        .declared(name, g.loc, "declared as an action here")
                        .hint(format!(
                            "write `call({name}{}{shown})` to make the message",
                            if args.is_empty() { "" } else { ", " }
                        )),
                    );
                }
                _ => {}
            },
            Some(Resolved::Native(native)) => {
                if args.len() < native.min || args.len() > native.max {
                    self.error(
                        Diagnostic::error(
                            codes::ARITY,
                            format!(
                                "`{name}` takes {} argument{} but {} {} given",
                                native.arity_text(),
                                plural(native.min.max(if native.max == native.min {
                                    native.max
                                } else {
                                    2
                                })),
                                args.len(),
                                if args.len() == 1 { "was" } else { "were" }
                            ),
                            self.loc(span),
                        )
                        .label(format!("{} argument{}", args.len(), plural(args.len())))
                        .hint(native.doc),
                    );
                }
                if native.name == "call" {
                    if let Some(first) = args.first() {
                        self.check_call_target(first);
                    }
                }
            }
            _ => {}
        }
    }

    /// `call(x, …)` needs `x` to be an action, or a value that may hold one.
    fn check_call_target(&mut self, target: &Expr) {
        self.check_not_a_literal(target);
        let ExprKind::Name(name) = &target.kind else {
            return;
        };
        let problem = match self.resolve(name) {
            Some(Resolved::Global(Global {
                kind: GlobalKind::Fn(_),
                loc,
                ..
            })) => Some((format!("`{name}` is a function, not an action"), loc)),
            Some(Resolved::Native(_)) => Some((
                format!("`{name}` is a prelude function, not an action"),
                None,
            )),
            None => Some((format!("There is no action `{name}`"), None)),
            _ => None,
        };
        let Some((title, declared)) = problem else {
            return;
        };
        self.reported.insert(target.span);
        let actions: Vec<String> = self
            .globals
            .names
            .iter()
            .filter(|(_, g)| matches!(g.kind, GlobalKind::Action(..)))
            .map(|(n, _)| n.clone())
            .collect();
        let mut d = Diagnostic::error(codes::NOT_AN_ACTION, title, self.loc(target.span))
            .label("call(...) needs an action here");
        if let Some(l) = declared {
            d = d.also(l, "declared here");
        }
        d = match did_you_mean(name, actions.iter().map(String::as_str)) {
            Some(s) => d.hint(format!("did you mean `{s}`?")),
            None => d.hint(format!("declare it: `action {name}(…) {{ … }}`")),
        };
        self.error(d);
    }

    /// A literal (`"greet"`, `42`, `[…]`…) where an action belongs can never
    /// be one.
    fn check_not_a_literal(&mut self, target: &Expr) {
        let what = match &target.kind {
            ExprKind::Nil => "`nil`",
            ExprKind::Bool(_) => "A bool",
            ExprKind::Int(_) => "An int",
            ExprKind::Float(_) => "A float",
            ExprKind::Duration(_) => "A duration",
            ExprKind::Str(_) | ExprKind::Interp(_) => "A string",
            ExprKind::List(_) => "A list",
            ExprKind::Record(_) => "A record",
            ExprKind::Lambda(_) => "A function",
            _ => return,
        };
        let mut d = Diagnostic::error(
            codes::NOT_AN_ACTION,
            format!("{what} is not an action"),
            self.loc(target.span),
        )
        .label("call(...) needs an action here");
        d = match &target.kind {
            ExprKind::Str(text) if self.is_action(text) => {
                d.hint(format!("name the action itself, without quotes: `{text}`"))
            }
            _ => d.hint("name an action declared with `action name(…) { … }`"),
        };
        self.error(d);
    }

    fn is_action(&mut self, name: &str) -> bool {
        matches!(
            self.resolve_global(name),
            Some(Resolved::Global(Global {
                kind: GlobalKind::Action(..),
                ..
            }))
        )
    }

    fn match_expr(&mut self, scrutinee: &Expr, arms: &[MatchArm], span: Span) {
        self.begin_scope();
        self.expr(scrutinee);
        let slot = self.f().depth - 1;
        self.hidden_local(slot, scrutinee.span);
        let mut ends = Vec::new();
        for arm in arms {
            let depth = self.f().depth;
            let fails = self.match_arm_test(slot as u16, &arm.pattern, arm.guard.as_ref());
            // On success the bindings sit above the scrutinee.
            let binds = self.f().depth - depth;
            self.expr(&arm.body);
            let start = self.f().scopes.pop().unwrap_or(0);
            self.f().locals.truncate(start);
            if binds > 0 {
                self.emit(
                    Op::PopUnder,
                    arm.body.span,
                    &[binds as u32],
                    -(binds as isize),
                );
            }
            ends.push(self.jump(Op::Jump, arm.body.span, 0));
            // On failure: the bindings are still there; drop them.
            for at in fails {
                self.patch_here(at);
            }
            self.f().depth = depth + binds;
            if binds > 0 {
                self.emit(
                    Op::PopN,
                    arm.pattern.span,
                    &[binds as u32],
                    -(binds as isize),
                );
            }
        }
        self.emit(Op::NoMatch, span, &[slot as u32], 1);
        for at in ends {
            self.patch_here(at);
        }
        self.end_scope_keep_top(span);
    }

    /// Emits the test of one arm against the scrutinee in `slot`. On success
    /// falls through with the bindings declared as locals (in a new scope the
    /// caller closes); returns the jumps taken on failure, where the bindings
    /// are still on the stack.
    fn match_arm_test(
        &mut self,
        slot: u16,
        pattern: &ast::Pattern,
        guard: Option<&Expr>,
    ) -> Vec<usize> {
        self.begin_scope();
        let base = self.f().depth as u16;
        let mut binds = Vec::new();
        let compiled = self.pattern(pattern, base, &mut binds);
        for (name, span) in &binds {
            self.op(Op::Nil, *span, 1);
            let f = self.f();
            let local_slot = f.depth - 1;
            f.locals.push(Local {
                name: name.clone(),
                slot: local_slot as u16,
                cell: false,
                span: *span,
            });
        }
        let index = self.f().chunk.patterns.len();
        self.f().chunk.patterns.push(compiled);
        let index = self.check_u16(index, "patterns", pattern.span);
        self.emit(Op::Match, pattern.span, &[slot as u32, index as u32], 1);
        let mut fails = vec![self.jump(Op::JumpIfFalse, pattern.span, -1)];
        // Captured bindings move into cells once bound.
        let boxed: Vec<(u16, Span)> = {
            let f = self.fns.last().expect("function");
            f.locals[f.locals.len() - binds.len()..]
                .iter()
                .filter(|l| f.boxed_names.contains(&l.name))
                .map(|l| (l.slot, l.span))
                .collect()
        };
        for (s, span) in boxed {
            self.emit(Op::MakeCell, span, &[s as u32], 0);
            let f = self.f();
            if let Some(l) = f.locals.iter_mut().rev().find(|l| l.slot == s) {
                l.cell = true;
            }
        }
        if let Some(guard) = guard {
            self.expr(guard);
            fails.push(self.jump(Op::JumpIfFalse, guard.span, -1));
        }
        fails
    }

    /// Compiles a pattern; bindings get slots from `base` on, in order.
    fn pattern(&mut self, p: &ast::Pattern, base: u16, binds: &mut Vec<(String, Span)>) -> Pattern {
        match &p.kind {
            PatternKind::Wildcard | PatternKind::Error => Pattern::Any,
            PatternKind::Literal(e) => Pattern::Literal(match &e.kind {
                ExprKind::Int(n) => Value::Int(*n),
                ExprKind::Float(x) => Value::Float(*x),
                ExprKind::Duration(d) => Value::Duration(*d),
                ExprKind::Str(s) => Value::str(s),
                ExprKind::Bool(b) => Value::Bool(*b),
                _ => Value::Nil,
            }),
            PatternKind::Bind(name) => Pattern::Bind(self.bind(name, p.span, base, binds)),
            PatternKind::List(items, rest) => {
                let items = items.iter().map(|i| self.pattern(i, base, binds)).collect();
                let rest = rest.as_ref().map(|r| {
                    r.as_ref()
                        .filter(|(name, _)| name != "_")
                        .map(|(name, span)| self.bind(name, *span, base, binds))
                });
                Pattern::List(items, rest)
            }
            PatternKind::Record(fields, open) => {
                let fields = fields
                    .iter()
                    .map(|((k, _), pat)| (Rc::from(k.as_str()), self.pattern(pat, base, binds)))
                    .collect();
                Pattern::Record(fields, *open)
            }
            PatternKind::Call(action, args, open) => {
                let id = match action {
                    None => None,
                    Some((name, span)) => {
                        match self.resolve(name) {
                            Some(Resolved::Global(Global {
                                kind: GlobalKind::Action(id, arity),
                                loc,
                                ..
                            })) => {
                                let fits = if *open {
                                    args.len() <= arity
                                } else {
                                    args.len() == arity
                                };
                                if !fits {
                                    self.error(
                                    Diagnostic::error(
                                        codes::BAD_PATTERN,
                                        format!(
                                            "This pattern can never match: `{name}` takes {arity} argument{}",
                                            plural(arity)
                                        ),
                                        self.loc(p.span),
                                    )
                                    .label(format!("{} argument pattern{}", args.len(), plural(args.len())))
                                    .declared(name, loc, "declared here")
                                    .hint("end the pattern with `..` to match any number of arguments"),
                                );
                                }
                                Some(id)
                            }
                            _ => {
                                self.error(
                                Diagnostic::error(
                                    codes::BAD_PATTERN,
                                    format!("This pattern can never match: `{name}` is not an action"),
                                    self.loc(*span),
                                )
                                .label("a call pattern names an action, or `_`")
                                .hint("declare the action, or write `call(_, …)`"),
                            );
                                None
                            }
                        }
                    }
                };
                let args = args.iter().map(|a| self.pattern(a, base, binds)).collect();
                Pattern::Call(id, args, *open)
            }
            PatternKind::Message(name, args) => {
                let Some((kind, arity)) = MessagePattern::from_name(name) else {
                    return Pattern::Any;
                };
                if args.len() != arity {
                    self.error(
                        Diagnostic::error(
                            codes::BAD_PATTERN,
                            format!(
                                "`{name}(…)` patterns take {arity} sub-pattern{}",
                                plural(arity)
                            ),
                            self.loc(p.span),
                        )
                        .label(format!("{} given", args.len())),
                    );
                }
                let args = args.iter().map(|a| self.pattern(a, base, binds)).collect();
                Pattern::Message(kind, args)
            }
        }
    }

    fn bind(&mut self, name: &str, span: Span, base: u16, binds: &mut Vec<(String, Span)>) -> u16 {
        if let Some((_, first)) = binds.iter().find(|(n, _)| n == name) {
            let first = *first;
            self.error(
                Diagnostic::error(
                    codes::BAD_PATTERN,
                    format!("`{name}` is bound twice in this pattern"),
                    self.loc(span),
                )
                .label("again here")
                .also(self.loc(first), "first here")
                .hint("use a guard to compare: `[a, b] if a == b`"),
            );
        }
        binds.push((name.to_string(), span));
        base + binds.len() as u16 - 1
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
