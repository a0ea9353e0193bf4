//! Which names a function's nested closures use.
//!
//! A local whose name is used inside any nested function is stored in a cell,
//! so closures share it (and see later assignments). Going by name alone may
//! box a local that did not need it (when a nested function has its own local
//! of that name); that costs a little speed, never correctness.

use std::collections::HashSet;

use crate::syntax::ast::*;
use crate::syntax::visit::{walk_expr, walk_stmt, Visit};

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

impl Visit for Walker<'_> {
    fn function(&mut self, f: &FnDecl) {
        let was = std::mem::replace(&mut self.inside_closure, true);
        self.block(&f.body);
        self.inside_closure = was;
    }

    fn stmt(&mut self, s: &Stmt) {
        match &s.kind {
            StmtKind::Fn(f) => {
                if self.inside_closure {
                    self.found.insert(f.name.0.clone());
                }
                self.function(f)
            }
            // Declarations that only stand at the top level have no locals
            // around them to capture.
            StmtKind::Action(..)
            | StmtKind::Schedule(_)
            | StmtKind::Filter(_)
            | StmtKind::Pass(_) => {}
            _ => walk_stmt(self, s),
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Name(name) if self.inside_closure => {
                self.found.insert(name.clone());
            }
            _ => walk_expr(self, e),
        }
    }
}
