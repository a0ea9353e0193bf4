//! Which names a function's nested closures use.
//!
//! A local whose name is used inside any nested function is stored in a cell,
//! so closures share it (and see later assignments). Going by name alone may
//! box a local that did not need it (when a nested function has its own local
//! of that name); that costs a little speed, never correctness.

use std::collections::HashSet;

use crate::syntax::ast::*;

/// Every name used inside functions nested in `body`, at any depth.
pub fn names_used_by_closures(body: &Block) -> HashSet<String> {
    let mut found = HashSet::new();
    let mut walker = Walker {
        found: &mut found,
        inside_closure: false,
    };
    walker.block(body);
    found
}

struct Walker<'a> {
    found: &'a mut HashSet<String>,
    inside_closure: bool,
}

impl Walker<'_> {
    fn nested(&mut self, f: &FnDecl) {
        let was = std::mem::replace(&mut self.inside_closure, true);
        self.block(&f.body);
        self.inside_closure = was;
    }

    fn block(&mut self, b: &Block) {
        for s in &b.stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Expr(e) | StmtKind::Let(_, e) => self.expr(e),
            StmtKind::Assign(target, _, value) => {
                self.expr(target);
                self.expr(value);
            }
            StmtKind::Fn(f) => {
                if self.inside_closure {
                    self.found.insert(f.name.0.clone());
                }
                self.nested(f)
            }
            StmtKind::While(c, b) => {
                self.expr(c);
                self.block(b);
            }
            StmtKind::For(_, iter, b) => {
                self.expr(iter);
                self.block(b);
            }
            StmtKind::Return(Some(e)) => self.expr(e),
            // Declarations that only stand at the top level have no locals
            // around them to capture.
            StmtKind::Action(_)
            | StmtKind::Filter(_)
            | StmtKind::Pass(_)
            | StmtKind::Import(_)
            | StmtKind::Return(None)
            | StmtKind::Break
            | StmtKind::Continue
            | StmtKind::Error => {}
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Name(name) => {
                if self.inside_closure {
                    self.found.insert(name.clone());
                }
            }
            ExprKind::Interp(parts) => {
                for part in parts {
                    if let StrPart::Expr(e) = part {
                        self.expr(e);
                    }
                }
            }
            ExprKind::List(items) => items.iter().for_each(|e| self.expr(e)),
            ExprKind::Record(fields) => fields.iter().for_each(|(_, e)| self.expr(e)),
            ExprKind::Unary(_, x) | ExprKind::Field(x, _) | ExprKind::Spread(x) => self.expr(x),
            ExprKind::Binary(_, a, b)
            | ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Index(a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Call(f, args) => {
                self.expr(f);
                args.iter().for_each(|e| self.expr(e));
            }
            ExprKind::Lambda(f) => self.nested(f),
            ExprKind::If(c, then, otherwise) => {
                self.expr(c);
                self.block(then);
                if let Some(e) = otherwise {
                    self.expr(e);
                }
            }
            ExprKind::Match(scrutinee, arms) => {
                self.expr(scrutinee);
                for arm in arms {
                    if let Some(g) = &arm.guard {
                        self.expr(g);
                    }
                    self.expr(&arm.body);
                }
            }
            ExprKind::Block(b) => self.block(b),
            ExprKind::Nil
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Duration(_)
            | ExprKind::Str(_)
            | ExprKind::Error => {}
        }
    }
}
