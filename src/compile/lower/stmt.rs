//! Statements: `let`, loops, `return`/`break`/`continue`, assignment and
//! blocks.

use super::*;

impl Compiler<'_> {
    /// Compiles a statement; leaves the stack as it was, except that `let`
    /// adds its local.
    pub(super) fn stmt(&mut self, stmt: &Stmt) {
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
                self.close_loop(start, exit, span);
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
            StmtKind::Action(f, _) => self.misplaced("action", f.name.1),
            StmtKind::Schedule(s) => self.misplaced("schedule", s.decl.name.1),
            StmtKind::Filter(f) => self.misplaced("interest or observe", f.topic.1),
            StmtKind::Pass(p) => self.misplaced("pass", p.topic.1),
            StmtKind::Import(name) => self.misplaced("import", name.1),
            StmtKind::Error => {}
        }
    }

    pub(super) fn misplaced(&mut self, what: &str, span: Span) {
        self.error(
            Diagnostic::error(
                codes::MISPLACED_DECL,
                format!(
                    "{} {what} declaration must be at the top level",
                    if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
                        "An"
                    } else {
                        "A"
                    }
                ),
                self.loc(span),
            )
            .label("inside a block")
            .hint("move it out of the function or block"),
        );
    }

    /// Ends a loop: jumps back to `start`, and points the exit test's jump
    /// and every `break` past the loop.
    fn close_loop(&mut self, start: usize, exit: usize, span: Span) {
        let j = self.jump(Op::Jump, span, 0);
        self.patch_to(j, start);
        self.patch_here(exit);
        let ctx = self.f().loops.pop().expect("loop context");
        for b in ctx.breaks {
            self.patch_here(b);
        }
    }

    pub(super) fn for_loop(&mut self, name: &Name, iter: &Expr, body: &Block, span: Span) {
        self.begin_scope();
        // `for i in range(a, b)` (the prelude's range) counts in two hidden
        // locals instead of building the list; anything else is walked as
        // a list with an index.
        let (next, next_span) = if let Some((from, to)) = self.prelude_range(iter) {
            match from {
                Some(from) => self.expr(from),
                None => self.emit_const(Const::Int(0), iter.span),
            }
            let from_slot = self.f().depth - 1;
            self.hidden_local(from_slot, iter.span);
            self.expr(to);
            (Op::RangeNext, iter.span)
        } else {
            self.expr(iter);
            let list_slot = self.f().depth - 1;
            self.hidden_local(list_slot, iter.span);
            self.emit_const(Const::Int(0), iter.span);
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
        self.close_loop(start, exit, span);
        let start_locals = self.f().scopes.pop().unwrap_or(0);
        let n = self.f().locals.len() - start_locals;
        self.f().locals.truncate(start_locals);
        self.emit(Op::PopN, span, &[n as u32], -(n as isize));
    }

    /// The bounds of `range(b)` or `range(a, b)` when `range` is the
    /// prelude's (not a name the script declared).
    pub(super) fn prelude_range<'e>(
        &mut self,
        iter: &'e Expr,
    ) -> Option<(Option<&'e Expr>, &'e Expr)> {
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

    pub(super) fn hidden_local(&mut self, slot: usize, span: Span) {
        self.f().locals.push(Local {
            name: String::new(),
            slot: slot as u16,
            cell: false,
            span,
        });
    }

    pub(super) fn assign(&mut self, target: &Expr, op: Option<BinOp>, value: &Expr, span: Span) {
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
                let k = self.constant(Const::str(&field.0), field.1);
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
    pub(super) fn assign_name(&mut self, name: &str, span: Span) {
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
    pub(super) fn block(&mut self, b: &Block) {
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
}
