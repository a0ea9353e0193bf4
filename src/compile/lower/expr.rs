//! Expressions: operators, conditions, names and module members, calls
//! and the checks made at a call (arity, `call(...)`'s target).

use super::*;

impl Compiler<'_> {
    /// Compiles an expression: exactly one value more on the stack.
    pub(super) fn expr(&mut self, e: &Expr) {
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

    pub(super) fn expr_inner(&mut self, e: &Expr) {
        let span = e.span;
        match &e.kind {
            ExprKind::Nil | ExprKind::Error => self.op(Op::Nil, span, 1),
            ExprKind::Spread(_) => {
                self.error(
                    Diagnostic::error(
                        codes::MISPLACED_SPREAD,
                        "`..` spreads a list only into a call's arguments",
                        self.loc(span),
                    )
                    .label("not in a call's arguments")
                    .hint("join lists with `+`: [0] + xs"),
                );
                self.op(Op::Nil, span, 1);
            }
            ExprKind::Bool(true) => self.op(Op::True, span, 1),
            ExprKind::Bool(false) => self.op(Op::False, span, 1),
            ExprKind::Int(n) => self.emit_const(Const::Int(*n), span),
            ExprKind::Float(x) => self.emit_const(Const::Float(*x), span),
            ExprKind::Duration(ms) => self.emit_const(Const::Duration(*ms), span),
            ExprKind::Str(s) => self.emit_const(Const::str(s), span),
            ExprKind::Interp(parts) => {
                for part in parts {
                    match part {
                        StrPart::Text(t) => self.emit_const(Const::str(t), span),
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
                    self.emit_const(Const::str(key), *key_span);
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
                // `n - 1` on a local: one instruction instead of GET_LOCAL
                // and SUB_CONST.
                let mut nodes = spine.iter().rev().peekable();
                let fused = match (self.plain_local(leftmost), nodes.peek().map(|n| &n.kind)) {
                    (Some(slot), Some(ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), _, b)))
                        if self.fuse =>
                    {
                        match &b.kind {
                            ExprKind::Int(n) => Some((slot, *op, *n, b.span)),
                            _ => None,
                        }
                    }
                    _ => None,
                };
                match fused {
                    Some((slot, op, n, k_span)) => {
                        let node = nodes.next().expect("peeked");
                        let k = self.constant(Const::Int(n), k_span);
                        let code = match op {
                            BinOp::Add => Op::LocalAddConst,
                            _ => Op::LocalSubConst,
                        };
                        self.emit(code, node.span, &[slot as u32, k as u32], 1);
                    }
                    None => self.expr(leftmost),
                }
                for node in nodes {
                    if let ExprKind::Binary(op, _, b) = &node.kind {
                        match (op, &b.kind) {
                            // `x + 1`: one instruction instead of CONST and ADD.
                            (BinOp::Add | BinOp::Sub, ExprKind::Int(n)) if self.fuse => {
                                let k = self.constant(Const::Int(*n), b.span);
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
                let k = self.constant(Const::str(&field.0), field.1);
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
    pub(super) fn jump_unless(&mut self, cond: &Expr) -> usize {
        if let ExprKind::Binary(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge), a, b) =
            &cond.kind
        {
            if self.fuse {
                // `n < 2` on a local: GET_LOCAL, CONST and the jump in one.
                if let (Some(slot), ExprKind::Int(n)) = (self.plain_local(a), &b.kind) {
                    let k = self.constant(Const::Int(*n), b.span);
                    let code = match op {
                        BinOp::Lt => Op::LtJumpLocal,
                        BinOp::Le => Op::LeJumpLocal,
                        BinOp::Gt => Op::GtJumpLocal,
                        _ => Op::GeJumpLocal,
                    };
                    // The target is the third operand, after two u16s.
                    return self.emit(code, cond.span, &[slot as u32, k as u32, 0], 0) + 5;
                }
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

    /// The slot of the local `e` names, if it is one held in its slot (not
    /// in a cell): what the fused local instructions read.
    fn plain_local(&self, e: &Expr) -> Option<u16> {
        let ExprKind::Name(name) = &e.kind else {
            return None;
        };
        let f = self.fns.last()?;
        match f.locals.iter().rev().find(|l| l.name == *name) {
            Some(local) if !local.cell => Some(local.slot),
            _ => None,
        }
    }

    pub(super) fn is_module(&mut self, name: &str) -> bool {
        matches!(
            self.resolve(name),
            Some(Resolved::Global(Global {
                kind: GlobalKind::Module,
                ..
            }))
        )
    }

    pub(super) fn module_member(&mut self, module: &str, field: &Name) {
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

    pub(super) fn name(&mut self, name: &str, span: Span) {
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
                let index = natives::NATIVES
                    .iter()
                    .position(|m| std::ptr::eq(m, n))
                    .expect("a native resolves into the table");
                self.emit_const(
                    Const::Native {
                        index: index as u16,
                        name: n.name,
                    },
                    span,
                );
            }
            None => {
                self.unknown_name(name, span);
                self.op(Op::Nil, span, 1);
            }
        }
    }

    pub(super) fn call(&mut self, callee: &Expr, args: &[Expr], span: Span) {
        let spreads = args.iter().any(|a| matches!(a.kind, ExprKind::Spread(_)));
        if let ExprKind::Name(name) = &callee.kind {
            if !spreads {
                self.check_call(name, callee.span, args, span);
            } else if matches!(self.resolve(name), Some(Resolved::Native(n)) if n.name == "call") {
                // The count is known only when it runs; the action still is.
                if let Some(first) = args.first() {
                    self.check_call_target(first);
                }
            }
        }
        self.expr(callee);
        if spreads {
            self.spread_arguments(args, span);
            self.op(Op::CallList, span, -1);
            return;
        }
        for arg in args {
            self.expr(arg);
        }
        let n = self.check_u16(args.len(), "arguments", span);
        self.emit(Op::Call, span, &[n as u32], -(args.len() as isize));
    }

    /// A call's arguments as one fresh list: each run of plain ones made
    /// with LIST and appended, each `..xs` appended (EXTEND checks it is a
    /// list).
    fn spread_arguments(&mut self, args: &[Expr], span: Span) {
        self.emit(Op::List, span, &[0], 1);
        let mut run = 0;
        for arg in args {
            match &arg.kind {
                ExprKind::Spread(inner) => {
                    self.flush_arguments(&mut run, span);
                    self.expr(inner);
                    self.op(Op::Extend, arg.span, -1);
                }
                _ => {
                    self.expr(arg);
                    run += 1;
                }
            }
        }
        self.flush_arguments(&mut run, span);
    }

    fn flush_arguments(&mut self, run: &mut usize, span: Span) {
        if *run > 0 {
            let n = self.check_u16(*run, "arguments", span);
            self.emit(Op::List, span, &[n as u32], 1 - *run as isize);
            self.op(Op::Extend, span, -1);
            *run = 0;
        }
    }

    /// Arity of known functions, and `call(...)`'s first argument.
    pub(super) fn check_call(&mut self, name: &str, name_span: Span, args: &[Expr], span: Span) {
        match self.resolve(name) {
            Some(Resolved::Global(g)) => match g.kind {
                GlobalKind::Fn(arity) if arity != args.len() => {
                    self.error(
                        Diagnostic::error(
                            codes::FN_ARITY,
                            format!(
                                "`{name}` takes {} but {} {} given",
                                takes(arity, arity),
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
                            codes::FN_ARITY,
                            format!(
                                "`{name}` takes {} but {} {} given",
                                takes(native.min, native.max),
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
                        self.check_action_arity(first, args.len() - 1, span);
                    }
                }
                if let name @ ("promise" | "catch" | "then") = native.name {
                    if let Some(callback) = args.get(1) {
                        self.check_promise_callback(name, callback);
                    }
                }
                if matches!(native.name, "param" | "flag" | "env" | "args") {
                    let source = self.opts.source;
                    if let Err(d) = self.globals.params.declare(native.name, args, source, span) {
                        self.error(*d);
                    }
                }
            }
            _ => {}
        }
    }

    /// `call(x, …)` needs `x` to be an action, or a value that may hold one.
    pub(super) fn check_call_target(&mut self, target: &Expr) {
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

    /// The action a name declares in the script, with its parameter count
    /// (not a built-in action, whose count may vary, nor a local).
    fn declared_action(&mut self, target: &Expr) -> Option<(String, usize, crate::syntax::Loc)> {
        let ExprKind::Name(name) = &target.kind else {
            return None;
        };
        match self.resolve(name) {
            Some(Resolved::Global(Global {
                kind: GlobalKind::Action(_, arity),
                loc: Some(loc),
                ..
            })) => Some((name.clone(), arity, loc)),
            _ => None,
        }
    }

    /// `call(a, x, …)` of a declared action: a count of arguments that no
    /// run can accept is an error at the call. One fewer than the action
    /// takes is right only for a promise's callback (the promise appends
    /// the list it collected): in a promise, a wrong count is an error;
    /// elsewhere, one fewer is a warning.
    fn check_action_arity(&mut self, target: &Expr, given: usize, span: Span) {
        let Some((name, arity, declared)) = self.declared_action(target) else {
            return;
        };
        let takes = format!("{arity} argument{}", plural(arity));
        let label = format!("{given} argument{}", plural(given));
        let declared_label = format!(
            "`{name}` is declared here with {arity} parameter{}",
            plural(arity)
        );
        if let Some(&ctor) = self.callbacks.get(&span) {
            if ctor != "promise" && given + 1 != arity {
                let (role, appended) = appended(ctor);
                let d = Diagnostic::error(
                    codes::ACTION_ARITY,
                    format!(
                        "The {ctor}'s {role} `{name}` takes {takes} but would get {}: {}",
                        given + 1,
                        if given == 0 {
                            appended.to_string()
                        } else {
                            format!("the {given} written here and {appended}")
                        }
                    ),
                    self.loc(span),
                )
                .label(format!("{label}, then {appended}"))
                .also(declared, declared_label)
                .hint(format!(
                    "{ctor} appends {appended} as the last argument: `{name}` takes the arguments written in `call({name}, …)` and one more"
                ));
                self.error(d);
            } else if given + 1 != arity {
                let d = Diagnostic::error(
                    codes::ACTION_ARITY,
                    format!(
                        "The promise's callback `{name}` takes {takes} but would get {}: {}",
                        given + 1,
                        if given == 0 {
                            "the list the promise collected".to_string()
                        } else {
                            format!("the {given} written here and the list the promise collected")
                        }
                    ),
                    self.loc(span),
                )
                .label(format!("{label}, then the collected list"))
                .also(declared, declared_label)
                .hint(if given + 1 > arity {
                    format!("a promise appends the list it collected as the callback's last argument: give `{name}` a parameter for it")
                } else {
                    format!("a promise passes only the arguments written in `call({name}, …)` and then the list it collected")
                });
                self.error(d);
            }
            return;
        }
        if given == arity {
            return;
        }
        if given + 1 == arity {
            self.warnings.push(
                Diagnostic::warning(
                    codes::CALL_ONE_SHORT,
                    format!("`call({name}, …)` gives `{name}` {label}, but it takes {arity}"),
                    self.loc(span),
                )
                .label(label)
                .also(declared, declared_label)
                .hint(format!(
                    "add the missing argument; only a promise's callback gets one fewer (the promise adds the list it collected), written in the promise: `promise([…], call({name}, …))`"
                )),
            );
            return;
        }
        let d = Diagnostic::error(
            codes::ACTION_ARITY,
            format!("`{name}` takes {takes} but `call` gives it {given}"),
            self.loc(span),
        )
        .label(label)
        .also(declared, declared_label)
        .hint(if given > arity {
            format!("remove the extra argument{}", plural(given - arity))
        } else {
            format!("pass `{name}` all its {takes}")
        });
        self.error(d);
    }

    /// `promise(items, cb)`: a declared action as the callback gets one
    /// argument, the collected list; a `call(cb, …)` is marked, so that
    /// [`Self::check_action_arity`] counts the list in.
    fn check_promise_callback(&mut self, ctor: &'static str, callback: &Expr) {
        if let ExprKind::Call(callee, args) = &callback.kind {
            if matches!(&callee.kind, ExprKind::Name(n) if n == "call")
                && matches!(self.resolve("call"), Some(Resolved::Native(_)))
                && !args.is_empty()
            {
                self.callbacks.insert(callback.span, ctor);
            }
            return;
        }
        let Some((name, arity, declared)) = self.declared_action(callback) else {
            return;
        };
        if arity == 1 {
            return;
        }
        if ctor != "promise" {
            let (role, appended) = appended(ctor);
            let d = Diagnostic::error(
                codes::ACTION_ARITY,
                format!(
                    "The {ctor}'s {role} `{name}` takes {arity} argument{} but would get 1: {appended}",
                    plural(arity)
                ),
                self.loc(callback.span),
            )
            .label(format!("gets {appended}"))
            .also(
                declared,
                format!("`{name}` is declared here with {arity} parameter{}", plural(arity)),
            )
            .hint(format!(
                "write the other arguments in a call: `{ctor}(m, call({name}, …))`; {ctor} appends {appended}"
            ));
            self.error(d);
            return;
        }
        let d = Diagnostic::error(
            codes::ACTION_ARITY,
            format!(
                "The promise's callback `{name}` takes {arity} argument{} but would get 1: the list the promise collected",
                plural(arity)
            ),
            self.loc(callback.span),
        )
        .label("gets the collected list")
        .also(
            declared,
            format!("`{name}` is declared here with {arity} parameter{}", plural(arity)),
        )
        .hint(if arity == 0 {
            format!("give `{name}` a parameter for the list the promise collected")
        } else {
            format!("pass the other arguments in the callback: `promise([…], call({name}, …))`")
        });
        self.error(d);
    }

    /// A literal (`"greet"`, `42`, `[…]`…) where an action belongs can never
    /// be one.
    pub(super) fn check_not_a_literal(&mut self, target: &Expr) {
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

    pub(super) fn is_action(&mut self, name: &str) -> bool {
        matches!(
            self.resolve_global(name),
            Some(Resolved::Global(Global {
                kind: GlobalKind::Action(..),
                ..
            }))
        )
    }
}

/// What `catch` and `then` call their second argument, and what they
/// append to its arguments.
fn appended(ctor: &str) -> (&'static str, &'static str) {
    if ctor == "catch" {
        ("handler", "the error record")
    } else {
        ("next step", "the result")
    }
}
