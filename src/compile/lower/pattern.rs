//! Patterns: `match` arms, their tests against the scrutinee, and the
//! bindings they declare.

use std::rc::Rc;

use super::*;

impl Compiler<'_> {
    pub(super) fn match_expr(&mut self, scrutinee: &Expr, arms: &[MatchArm], span: Span) {
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
    pub(super) fn match_arm_test(
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
    pub(super) fn pattern(
        &mut self,
        p: &ast::Pattern,
        base: u16,
        binds: &mut Vec<(String, Span)>,
    ) -> Pattern {
        match &p.kind {
            PatternKind::Wildcard | PatternKind::Error => Pattern::Any,
            PatternKind::Literal(e) => Pattern::Literal(match &e.kind {
                ExprKind::Int(n) => Const::Int(*n),
                ExprKind::Float(x) => Const::Float(*x),
                ExprKind::Duration(d) => Const::Duration(*d),
                ExprKind::Str(s) => Const::str(s),
                ExprKind::Bool(b) => Const::Bool(*b),
                _ => Const::Nil,
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
                                            "This pattern can never match: `{name}` takes {}",
                                            takes(arity, arity)
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

    pub(super) fn bind(
        &mut self,
        name: &str,
        span: Span,
        base: u16,
        binds: &mut Vec<(String, Span)>,
    ) -> u16 {
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
