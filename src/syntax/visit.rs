//! Walking the syntax tree: one place that knows which parts of each node
//! are expressions, blocks and functions. A pass implements [`Visit`],
//! overrides the nodes it cares about, and calls the matching `walk_*`
//! function to go on into the rest.

use super::ast::*;

pub trait Visit {
    fn expr(&mut self, e: &Expr) {
        walk_expr(self, e);
    }

    fn stmt(&mut self, s: &Stmt) {
        walk_stmt(self, s);
    }

    fn block(&mut self, b: &Block) {
        for s in &b.stmts {
            self.stmt(s);
        }
    }

    /// A nested function, lambda, action or pass body.
    fn function(&mut self, f: &FnDecl) {
        self.block(&f.body);
    }

    fn arm(&mut self, arm: &MatchArm) {
        if let Some(guard) = &arm.guard {
            self.expr(guard);
        }
        self.expr(&arm.body);
    }
}

/// Visits the parts of an expression (not the expression itself).
pub fn walk_expr<V: Visit + ?Sized>(v: &mut V, e: &Expr) {
    match &e.kind {
        ExprKind::Interp(parts) => {
            for part in parts {
                if let StrPart::Expr(e) = part {
                    v.expr(e);
                }
            }
        }
        ExprKind::List(items) => items.iter().for_each(|e| v.expr(e)),
        ExprKind::Record(fields) => fields.iter().for_each(|(_, e)| v.expr(e)),
        ExprKind::Unary(_, x) | ExprKind::Field(x, _) | ExprKind::Spread(x) => v.expr(x),
        ExprKind::Binary(_, a, b)
        | ExprKind::And(a, b)
        | ExprKind::Or(a, b)
        | ExprKind::Index(a, b) => {
            v.expr(a);
            v.expr(b);
        }
        ExprKind::Call(f, args) => {
            v.expr(f);
            args.iter().for_each(|e| v.expr(e));
        }
        ExprKind::Lambda(f) => v.function(f),
        ExprKind::If(c, then, otherwise) => {
            v.expr(c);
            v.block(then);
            if let Some(e) = otherwise {
                v.expr(e);
            }
        }
        ExprKind::Match(scrutinee, arms) => {
            v.expr(scrutinee);
            arms.iter().for_each(|arm| v.arm(arm));
        }
        ExprKind::Block(b) => v.block(b),
        ExprKind::Name(_)
        | ExprKind::Nil
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Duration(_)
        | ExprKind::Str(_)
        | ExprKind::Error => {}
    }
}

/// Visits the parts of a statement.
pub fn walk_stmt<V: Visit + ?Sized>(v: &mut V, s: &Stmt) {
    match &s.kind {
        StmtKind::Expr(e) | StmtKind::Let(_, e) | StmtKind::Return(Some(e)) => v.expr(e),
        StmtKind::Assign(target, _, value) => {
            v.expr(target);
            v.expr(value);
        }
        StmtKind::Fn(f) | StmtKind::Action(f, _) => v.function(f),
        StmtKind::Schedule(s) => v.function(&s.decl),
        StmtKind::Filter(filter) => {
            if let Some(guard) = &filter.guard {
                v.expr(guard);
            }
        }
        StmtKind::Pass(pass) => v.block(&pass.body),
        StmtKind::While(c, b) | StmtKind::For(_, c, b) => {
            v.expr(c);
            v.block(b);
        }
        StmtKind::Import(_)
        | StmtKind::Return(None)
        | StmtKind::Break
        | StmtKind::Continue
        | StmtKind::Error => {}
    }
}
