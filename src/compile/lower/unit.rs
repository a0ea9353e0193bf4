//! Units and declarations: hoisting a unit's top-level declarations into
//! globals, compiling functions, actions and filters into prototypes, and
//! checking that every topic a `pass` names is fed.

use std::collections::HashSet;
use std::rc::Rc;

use super::*;

/// The highest priority an action or an item may have (and the lowest,
/// negated).
pub const MAX_PRIORITY: i16 = crate::vm::value::MAX_PRIORITY;

impl Compiler<'_> {
    /// Checks a schedule's times: an interval above zero, or a cron
    /// expression that parses and a time zone the database knows (UTC
    /// without `tz`); and its overlap word. `None` after an error.
    fn schedule_when(&mut self, s: &ScheduleDecl) -> Option<(crate::vm::schedule::When, bool)> {
        use crate::cron;
        use crate::vm::schedule::When as Fires;
        let name = &s.decl.name.0;
        let bad = |this: &mut Self, message: String, span: Span, label: &str, hint: &str| {
            this.error(
                Diagnostic::error(codes::BAD_SCHEDULE, message, this.loc(span))
                    .label(label)
                    .hint(hint),
            );
        };
        let allow_overlap = match &s.overlap {
            None => false,
            Some((word, _)) if word == "skip" => false,
            Some((word, _)) if word == "allow" => true,
            Some((word, span)) => {
                bad(
                    self,
                    format!("`overlap {word}` is not an overlap policy of schedule `{name}`"),
                    *span,
                    "expected skip or allow",
                    "`overlap skip` (the default) skips a firing while the one before still runs; `overlap allow` runs it anyway",
                );
                return None;
            }
        };
        let when = match &s.when {
            When::Every(ms, span) => {
                if *ms <= 0 {
                    bad(
                        self,
                        format!("schedule `{name}` would fire every {ms}ms"),
                        *span,
                        "an interval must be above zero",
                        "write an interval such as `every 30s` or `every 1h`",
                    );
                    return None;
                }
                if let Some((_, tz_span)) = &s.tz {
                    bad(
                        self,
                        format!(
                            "schedule `{name}` fires every interval: a time zone changes nothing"
                        ),
                        *tz_span,
                        "`tz` goes with `cron`",
                        "leave `tz` out, or write `cron \"0 9 * * *\" tz \"Europe/Paris\"`",
                    );
                    return None;
                }
                Fires::Every(*ms)
            }
            When::Cron(text, span) => {
                let tz = match &s.tz {
                    None => jiff::tz::TimeZone::UTC,
                    Some((zone, zone_span)) => match cron::time_zone(zone) {
                        Ok(tz) => tz,
                        Err(why) => {
                            bad(
                                self,
                                format!("schedule `{name}`: {why}"),
                                *zone_span,
                                "unknown time zone",
                                "name an IANA zone such as \"Europe/Paris\", \"America/New_York\" or \"UTC\"",
                            );
                            return None;
                        }
                    },
                };
                match cron::Cron::parse(text) {
                    Ok(c) => Fires::Cron(Rc::new(c), tz),
                    Err(why) => {
                        bad(
                            self,
                            format!("schedule `{name}` has a bad cron expression: {why}"),
                            *span,
                            "not a cron expression",
                            "five fields: minute hour day-of-month month day-of-week, as in \"0 9 * * MON-FRI\"",
                        );
                        return None;
                    }
                }
            }
        };
        Some((when, allow_overlap))
    }

    /// Checks an action's resource clause: each part at most once, a
    /// limit or a rate (a key alone limits nothing), counts above zero, a
    /// rate's unit `s`, `m` or `h`, and a key that names a parameter.
    fn limits(
        &mut self,
        f: &FnDecl,
        clause: &Limits,
    ) -> (Option<crate::vm::value::Limits>, Option<i16>) {
        use crate::vm::value::{Limits as Spec, Rate};
        let mut spec = Spec {
            concurrency: None,
            key: None,
            rate: None,
        };
        let mut ok = true;
        let mut priority = None;
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        for part in &clause.parts {
            let (word, span) = match part {
                LimitPart::Limit(_, span) => ("limit", *span),
                LimitPart::Rate(_, _, span) => ("rate", *span),
                LimitPart::Per(name) => ("per", name.1),
                LimitPart::Retry(_, span) => ("retry", *span),
                LimitPart::Backoff(_, span) => ("backoff", *span),
                LimitPart::Priority(_, span) => ("priority", *span),
            };
            if let Some(first) = seen.insert(word, span) {
                self.error(
                    Diagnostic::error(
                        codes::BAD_LIMIT,
                        format!("`{word}` is given twice for action `{}`", f.name.0),
                        self.loc(span),
                    )
                    .label("given again here")
                    .also(self.loc(first), "first given here")
                    .hint("an action has one resource clause: `limit 4 per host rate 2/s`"),
                );
                ok = false;
                continue;
            }
            match part {
                LimitPart::Limit(n, span) => match u32::try_from(*n) {
                    Ok(n) if n > 0 => spec.concurrency = Some(n),
                    _ => {
                        self.error(if *n > 0 {
                            Diagnostic::error(
                                codes::BAD_LIMIT,
                                format!("`limit {n}` is too large"),
                                self.loc(*span),
                            )
                            .label(format!("a limit is at most {}", u32::MAX))
                        } else {
                            Diagnostic::error(
                                codes::BAD_LIMIT,
                                format!("`limit {n}` would let no call of `{}` run", f.name.0),
                                self.loc(*span),
                            )
                            .label("a limit must be at least 1")
                            .hint("`limit 1` runs the calls one at a time")
                        });
                        ok = false;
                    }
                },
                LimitPart::Rate(n, unit, span) => {
                    let period = match unit.0.as_str() {
                        "s" => Some(1_000),
                        "m" => Some(60_000),
                        "h" => Some(3_600_000),
                        _ => None,
                    };
                    let count = u32::try_from(*n).ok().filter(|n| *n > 0);
                    match (count, period) {
                        (Some(count), Some(period)) => spec.rate = Some(Rate { count, period }),
                        (None, _) if *n > 0 => {
                            self.error(
                                Diagnostic::error(
                                    codes::BAD_LIMIT,
                                    format!("`rate {n}/{}` is too large", unit.0),
                                    self.loc(*span),
                                )
                                .label(format!("a rate is at most {} a period", u32::MAX)),
                            );
                            ok = false;
                        }
                        (None, _) => {
                            self.error(
                                Diagnostic::error(
                                    codes::BAD_LIMIT,
                                    format!(
                                        "`rate {n}/{}` would let no call of `{}` start",
                                        unit.0, f.name.0
                                    ),
                                    self.loc(*span),
                                )
                                .label("a rate must be at least 1")
                                .hint("`rate 1/m` starts one call a minute"),
                            );
                            ok = false;
                        }
                        (_, None) => {
                            self.error(
                                Diagnostic::error(
                                    codes::BAD_LIMIT,
                                    format!("`{}` is not a unit of rate", unit.0),
                                    self.loc(unit.1),
                                )
                                .label("expected s, m or h")
                                .hint(format!("write `rate {n}/s`, `rate {n}/m` or `rate {n}/h`")),
                            );
                            ok = false;
                        }
                    }
                }
                // The retry policy: see `retry_policy`.
                LimitPart::Retry(..) | LimitPart::Backoff(..) => {}
                LimitPart::Priority(n, span) => match i16::try_from(*n) {
                    Ok(n) if (-MAX_PRIORITY..=MAX_PRIORITY).contains(&n) => priority = Some(n),
                    _ => {
                        self.error(
                            Diagnostic::error(
                                codes::BAD_LIMIT,
                                format!("`priority {n}` is out of range"),
                                self.loc(*span),
                            )
                            .label(format!(
                                "a priority is from -{MAX_PRIORITY} to {MAX_PRIORITY}"
                            ))
                            .hint("higher steps first; calls of actions with no priority have 0"),
                        );
                        ok = false;
                    }
                },
                LimitPart::Per(name) => match f.params.iter().position(|p| p.0 == name.0) {
                    Some(i) => spec.key = Some((i, Rc::from(name.0.as_str()))),
                    None => {
                        let params: Vec<&str> = f.params.iter().map(|p| p.0.as_str()).collect();
                        let mut d = Diagnostic::error(
                            codes::RESOURCE_KEY,
                            format!(
                                "`per {}`: action `{}` has no parameter `{}`",
                                name.0, f.name.0, name.0
                            ),
                            self.loc(name.1),
                        )
                        .label("the key must name one of the action's parameters");
                        d = match did_you_mean(&name.0, params.iter().copied()) {
                            Some(s) => d.hint(format!("did you mean `{s}`?")),
                            None if params.is_empty() => d.hint(
                                "drop `per …` to limit the calls overall, or add the parameter",
                            ),
                            None => d.hint(format!("its parameters: {}", params.join(", "))),
                        };
                        self.error(d);
                        ok = false;
                    }
                },
            }
        }
        let limited = spec.concurrency.is_some() || spec.rate.is_some();
        if ok && !limited && spec.key.is_some() {
            self.error(
                Diagnostic::error(
                    codes::BAD_LIMIT,
                    format!("`per` alone sets no limit on action `{}`", f.name.0),
                    self.loc(clause.span),
                )
                .label("a key, but no limit or rate")
                .hint("add `limit n` (calls at once) or `rate n/s` (starts a second)"),
            );
            ok = false;
        }
        (ok.then_some(spec).filter(|_| limited), priority)
    }

    /// An action's own retry policy, from its clause: `retry n` (n at
    /// least 1) and an optional `backoff d`, which needs `retry`.
    fn retry_policy(
        &mut self,
        f: &FnDecl,
        clause: &Limits,
    ) -> Option<crate::vm::message::RetryPolicy> {
        let mut attempts = None;
        let mut backoff = None;
        for part in &clause.parts {
            match part {
                LimitPart::Retry(n, span) => attempts = Some((*n, *span)),
                LimitPart::Backoff(ms, span) => backoff = Some((*ms, *span)),
                _ => {}
            }
        }
        let (n, span) = match (attempts, backoff) {
            (None, None) => return None,
            (None, Some((_, span))) => {
                self.error(
                    Diagnostic::error(
                        codes::BAD_RETRY,
                        format!("`backoff` without `retry` on action `{}`", f.name.0),
                        self.loc(span),
                    )
                    .label("a wait between attempts, but no attempts")
                    .hint("add `retry n` (attempts in all): `retry 3 backoff 2s`"),
                );
                return None;
            }
            (Some(a), _) => a,
        };
        match u32::try_from(n) {
            Ok(attempts) if attempts > 0 => Some(crate::vm::message::RetryPolicy {
                attempts,
                backoff: backoff.map(|(ms, _)| ms),
                max_backoff: None,
                on: None,
            }),
            _ => {
                self.error(
                    Diagnostic::error(
                        codes::BAD_RETRY,
                        format!(
                            "`retry {n}` on action `{}` is not a count of attempts",
                            f.name.0
                        ),
                        self.loc(span),
                    )
                    .label(format!("attempts in all: 1 to {}", u32::MAX))
                    .hint("`retry 1` runs a call once, with no retry; `retry 3` tries three times"),
                );
                None
            }
        }
    }

    pub(super) fn qualified(&self, name: &str) -> String {
        match &self.opts.module {
            Some(module) => format!("{module}.{name}"),
            None => name.to_string(),
        }
    }

    pub(super) fn declare_global(
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

    pub(super) fn unit(&mut self, stmts: &[Stmt]) -> Unit {
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
        let mut schedule_slots = Vec::new();
        for stmt in stmts {
            match &stmt.kind {
                StmtKind::Fn(f) => {
                    let slot =
                        self.declare_global(&f.name, GlobalKind::Fn(f.params.len()), &mut seen);
                    fn_slots.push((f, slot));
                }
                StmtKind::Action(f, limits) => {
                    let id = self.globals.next_action_id;
                    self.globals.next_action_id += 1;
                    let kind = GlobalKind::Action(id, f.params.len());
                    let slot = self.declare_global(&f.name, kind, &mut seen);
                    let retry = limits.as_ref().and_then(|l| self.retry_policy(f, l));
                    let (limits, priority) = match limits {
                        Some(l) => self.limits(f, l),
                        None => (None, None),
                    };
                    action_slots.push((f, slot, id, limits, priority, retry));
                }
                StmtKind::Schedule(s) => {
                    let id = self.globals.next_action_id;
                    self.globals.next_action_id += 1;
                    let kind = GlobalKind::Action(id, 0);
                    let slot = self.declare_global(&s.decl.name, kind, &mut seen);
                    if let Some(when) = self.schedule_when(s) {
                        schedule_slots.push((s, slot, id, when));
                    }
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
            schedules: vec![],
            constants: vec![],
            warnings: vec![],
        };

        for (f, slot) in fn_slots {
            self.closure(f, FnKind::Fn);
            self.emit(Op::SetGlobal, f.name.1, &[slot as u32], -1);
        }
        for (f, slot, id, limits, priority, retry) in action_slots {
            let proto = self.function(f, FnKind::Action);
            let mut action = ActionDef::script(id, Rc::from(self.qualified(&f.name.0)), proto);
            action.limits = limits.map(Rc::new);
            action.priority = priority;
            action.retry = retry.map(Rc::new);
            let action = Rc::new(action);
            unit.constants.push((slot, Value::Action(action.clone())));
            unit.actions.push(action);
        }
        for (s, slot, id, (when, allow_overlap)) in schedule_slots {
            let f = &s.decl;
            let proto = self.function(f, FnKind::Action);
            let name: Rc<str> = Rc::from(self.qualified(&f.name.0));
            let action = Rc::new(ActionDef::script(id, name.clone(), proto));
            unit.constants.push((slot, Value::Action(action.clone())));
            unit.actions.push(action.clone());
            unit.schedules.push(crate::vm::schedule::ScheduleDef {
                name,
                action,
                when,
                allow_overlap,
                loc: self.loc(f.name.1),
            });
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
                StmtKind::Fn(_) | StmtKind::Action(..) | StmtKind::Schedule(_) => {}
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
                    let module = crate::syntax::ast::module_name(&name.0);
                    if crate::syntax::ast::is_path_import(&name.0) {
                        // The runtime loaded it, or reported why not.
                        continue;
                    }
                    if !matches!(
                        self.globals.lookup(module).map(|g| &g.kind),
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

    pub(super) fn check_topics(&mut self, unit: &Unit) {
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
    pub(super) fn function(&mut self, f: &FnDecl, kind: FnKind) -> Rc<FnProto> {
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
    pub(super) fn closure(&mut self, f: &FnDecl, kind: FnKind) {
        let proto = self.function(f, kind);
        let index = self.f().chunk.protos.len();
        self.f().chunk.protos.push(proto);
        let index = self.check_u16(index, "nested functions", f.span);
        self.emit(Op::Closure, f.span, &[index as u32], 1);
    }

    pub(super) fn finish_fn(&mut self) -> Rc<FnProto> {
        let mut f = self.fns.pop().expect("a function is being compiled");
        if self.fuse {
            f.chunk.fuse_returns();
        }
        // The interpreter reads code without bounds checks on the strength
        // of this check (see `vm::interp`): it runs on every function, in
        // release builds too. Code with errors never runs.
        match f.chunk.verify(f.arity) {
            Ok(max) => f.chunk.max_stack = max,
            Err(e) => assert!(
                !self.errors.is_empty(),
                "compiler bug: `{}` compiled to bad code: {e}",
                f.name
            ),
        }
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
    pub(super) fn filter(&mut self, filter: &ast::Filter, span: Span) -> FilterDef {
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
    pub(super) fn index_key(&self, p: &ast::Pattern) -> (Option<&'static str>, Option<u32>) {
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
            PatternKind::Message(name, _) => {
                (MessagePattern::from_name(name).map(|(m, _)| m.name()), None)
            }
            _ => (None, None),
        }
    }
}
