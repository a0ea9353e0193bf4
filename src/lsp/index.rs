//! What a script declares and where each name is used, read off the syntax
//! tree the parser recovers (so navigation keeps working while the text has
//! errors). Scopes follow the compiler's rules: declarations at the top
//! level are hoisted; parameters, `for` variables, pattern bindings and
//! `let`s in a block are visible from their binding to the end of it.

use std::collections::HashMap;

use crate::syntax::ast::{
    Block, Expr, ExprKind, FilterKind, FnDecl, MatchArm, Pattern, PatternKind, Stmt, StmtKind,
};
use crate::syntax::visit::{walk_expr, Visit};
use crate::syntax::{lexer, parser, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefKind {
    Action,
    Function,
    Global,
    Import,
    Parameter,
    Local,
    Pass,
    Interest,
    Observe,
}

/// One declaration.
#[derive(Clone, Debug)]
pub struct Def {
    pub name: String,
    pub kind: DefKind,
    /// The name where it is declared (a pass's or filter's topic string).
    pub span: Span,
    /// The whole declaration.
    pub full: Span,
    /// What hover shows: `action greet(who)`.
    pub signature: String,
    /// The `//` comment lines just above the declaration.
    pub doc: Option<String>,
    /// Where the name can be used (all of the text for a global).
    pub visible: Span,
}

impl Def {
    /// Whether a name refers to it (topics of passes and filters do not).
    pub fn is_name(&self) -> bool {
        !matches!(
            self.kind,
            DefKind::Pass | DefKind::Interest | DefKind::Observe
        )
    }
}

/// A use of a name; `def` is `None` for a name the script does not declare
/// (a prelude name, or an unknown one).
#[derive(Clone, Debug)]
pub struct Use {
    pub name: String,
    pub span: Span,
    pub def: Option<usize>,
}

/// `module.name`, where `module` is a plain name (perhaps an import).
#[derive(Clone, Debug)]
pub struct Member {
    pub module: String,
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Default)]
pub struct Index {
    pub defs: Vec<Def>,
    pub uses: Vec<Use>,
    pub members: Vec<Member>,
}

impl Index {
    pub fn of(text: &str) -> Index {
        let (tokens, _) = lexer::lex(text);
        let (stmts, _) = parser::parse(&tokens, text.len());
        let mut walker = Walker {
            text,
            index: Index::default(),
            globals: HashMap::new(),
            scopes: Vec::new(),
        };
        walker.declare_top_level(&stmts);
        for stmt in &stmts {
            walker.statement(stmt, Span::new(0, text.len()));
        }
        walker.index
    }

    /// The declaration a name at this offset stands for (a use, or the
    /// declaration itself).
    pub fn def_at(&self, offset: usize) -> Option<usize> {
        let inside = |span: Span| (span.start as usize) <= offset && offset <= span.end as usize;
        if let Some(u) = self.uses.iter().find(|u| inside(u.span)) {
            return u.def;
        }
        self.defs.iter().position(|d| d.is_name() && inside(d.span))
    }

    /// The name (used or declared) at this offset, with its span.
    pub fn name_at(&self, offset: usize) -> Option<(&str, Span)> {
        let inside = |span: Span| (span.start as usize) <= offset && offset <= span.end as usize;
        if let Some(u) = self.uses.iter().find(|u| inside(u.span)) {
            return Some((&u.name, u.span));
        }
        self.defs
            .iter()
            .find(|d| d.is_name() && inside(d.span))
            .map(|d| (d.name.as_str(), d.span))
    }

    /// The `module.name` whose name is at this offset.
    pub fn member_at(&self, offset: usize) -> Option<&Member> {
        self.members
            .iter()
            .find(|m| (m.span.start as usize) <= offset && offset <= m.span.end as usize)
    }

    /// Whether a name, where it is used at this offset, is an import.
    pub fn is_import(&self, name: &str) -> bool {
        self.defs
            .iter()
            .any(|d| d.kind == DefKind::Import && d.name == name)
    }

    /// Every use of a declaration.
    pub fn uses_of(&self, def: usize) -> impl Iterator<Item = Span> + '_ {
        self.uses
            .iter()
            .filter(move |u| u.def == Some(def))
            .map(|u| u.span)
    }

    /// The declarations whose names can be used at an offset.
    pub fn visible_at(&self, offset: usize) -> impl Iterator<Item = &Def> {
        self.defs.iter().filter(move |d| {
            d.is_name() && d.visible.start as usize <= offset && offset <= d.visible.end as usize
        })
    }
}

struct Walker<'t> {
    text: &'t str,
    index: Index,
    globals: HashMap<String, usize>,
    /// Innermost last: the names each open scope binds.
    scopes: Vec<Vec<(String, usize)>>,
}

fn params_text(decl: &FnDecl) -> String {
    let names: Vec<&str> = decl.params.iter().map(|p| p.0.as_str()).collect();
    names.join(", ")
}

impl Walker<'_> {
    fn add(&mut self, def: Def) -> usize {
        self.index.defs.push(def);
        self.index.defs.len() - 1
    }

    /// The `//` lines right above the line a declaration starts on.
    fn doc_above(&self, start: usize) -> Option<String> {
        let before = &self.text[..self.text[..start.min(self.text.len())]
            .rfind('\n')
            .map_or(0, |i| i + 1)];
        let mut lines: Vec<&str> = Vec::new();
        for line in before.lines().rev() {
            match line.trim_start().strip_prefix("//") {
                Some(comment) => lines.push(comment.trim()),
                None => break,
            }
        }
        lines.reverse();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    fn declare_top_level(&mut self, stmts: &[Stmt]) {
        let all = Span::new(0, self.text.len());
        for stmt in stmts {
            let doc = self.doc_above(stmt.span.start as usize);
            let (name, kind, span, signature) = match &stmt.kind {
                StmtKind::Action(d, _) => (
                    d.name.0.clone(),
                    DefKind::Action,
                    d.name.1,
                    format!("action {}({})", d.name.0, params_text(d)),
                ),
                StmtKind::Schedule(s) => (
                    s.decl.name.0.clone(),
                    DefKind::Action,
                    s.decl.name.1,
                    format!("schedule {}", s.decl.name.0),
                ),
                StmtKind::Fn(d) => (
                    d.name.0.clone(),
                    DefKind::Function,
                    d.name.1,
                    format!("fn {}({})", d.name.0, params_text(d)),
                ),
                StmtKind::Let(name, _) => (
                    name.0.clone(),
                    DefKind::Global,
                    name.1,
                    format!("let {}", name.0),
                ),
                StmtKind::Import(name) => (
                    crate::syntax::ast::module_name(&name.0).to_string(),
                    DefKind::Import,
                    name.1,
                    format!("import {}", name.0),
                ),
                StmtKind::Pass(p) => (
                    p.topic.0.clone(),
                    DefKind::Pass,
                    p.topic.1,
                    format!("pass \"{}\" ({})", p.topic.0, p.param.0),
                ),
                StmtKind::Filter(f) => {
                    let (word, kind) = match f.kind {
                        FilterKind::Interest => ("interest", DefKind::Interest),
                        FilterKind::Observe => ("observe", DefKind::Observe),
                    };
                    let pattern = self.text.get(f.pattern.span.range()).unwrap_or_default();
                    (
                        f.topic.0.clone(),
                        kind,
                        f.topic.1,
                        format!("{word} \"{}\" when {pattern}", f.topic.0),
                    )
                }
                _ => continue,
            };
            let id = self.add(Def {
                name: name.clone(),
                kind,
                span,
                full: stmt.span,
                signature,
                doc,
                visible: all,
            });
            if self.index.defs[id].is_name() {
                // A name declared twice is an error the checker reports;
                // the first declaration is the one navigation goes to.
                self.globals.entry(name).or_insert(id);
            }
        }
    }

    fn lookup(&self, name: &str) -> Option<usize> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|scope| scope.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
            .or_else(|| self.globals.get(name).copied())
    }

    fn use_name(&mut self, name: &str, span: Span) {
        let def = self.lookup(name);
        self.index.uses.push(Use {
            name: name.to_string(),
            span,
            def,
        });
    }

    /// Binds a local name, visible from `from` to the end of `scope_end`.
    fn bind(&mut self, name: &str, span: Span, kind: DefKind, signature: String, visible: Span) {
        let id = self.add(Def {
            name: name.to_string(),
            kind,
            span,
            full: span,
            signature,
            doc: None,
            visible,
        });
        if let Some(scope) = self.scopes.last_mut() {
            scope.push((name.to_string(), id));
        }
    }

    fn statement(&mut self, stmt: &Stmt, enclosing: Span) {
        let top = self.scopes.is_empty();
        let rest = Span::new(stmt.span.end as usize, enclosing.end as usize);
        match &stmt.kind {
            StmtKind::Expr(e) => self.expr(e),
            StmtKind::Let(name, value) => {
                self.expr(value);
                if !top {
                    self.bind(
                        &name.0,
                        name.1,
                        DefKind::Local,
                        format!("let {}", name.0),
                        rest,
                    );
                }
            }
            StmtKind::Assign(target, _, value) => {
                self.expr(target);
                self.expr(value);
            }
            StmtKind::Schedule(s) => self.function(&s.decl),
            StmtKind::Fn(decl) | StmtKind::Action(decl, _) => {
                if !top {
                    let signature = format!("fn {}({})", decl.name.0, params_text(decl));
                    self.bind(&decl.name.0, decl.name.1, DefKind::Local, signature, rest);
                }
                self.function(decl);
            }
            StmtKind::Filter(filter) => {
                self.scopes.push(Vec::new());
                self.pattern(&filter.pattern, stmt.span);
                if let Some(guard) = &filter.guard {
                    self.expr(guard);
                }
                self.scopes.pop();
            }
            StmtKind::Pass(pass) => {
                self.scopes.push(Vec::new());
                let signature = format!(
                    "{}: the messages of topic \"{}\"",
                    pass.param.0, pass.topic.0
                );
                self.bind(
                    &pass.param.0,
                    pass.param.1,
                    DefKind::Parameter,
                    signature,
                    pass.body.span,
                );
                self.block(&pass.body);
                self.scopes.pop();
            }
            StmtKind::While(cond, body) => {
                self.expr(cond);
                self.block(body);
            }
            StmtKind::For(name, iter, body) => {
                self.expr(iter);
                self.scopes.push(Vec::new());
                self.bind(
                    &name.0,
                    name.1,
                    DefKind::Local,
                    format!("for {} in …", name.0),
                    body.span,
                );
                self.block(body);
                self.scopes.pop();
            }
            StmtKind::Return(Some(e)) => self.expr(e),
            StmtKind::Import(_)
            | StmtKind::Return(None)
            | StmtKind::Break
            | StmtKind::Continue
            | StmtKind::Error => {}
        }
    }

    /// Binds a pattern's names (visible in `visible`) and records the action
    /// names of its `call(...)` patterns as uses.
    fn pattern(&mut self, pattern: &Pattern, visible: Span) {
        match &pattern.kind {
            PatternKind::Bind(name) => self.bind(
                name,
                pattern.span,
                DefKind::Local,
                format!("{name}: bound by a pattern"),
                visible,
            ),
            PatternKind::Literal(e) => self.expr(e),
            PatternKind::List(items, rest) => {
                items.iter().for_each(|p| self.pattern(p, visible));
                if let Some(Some((name, span))) = rest {
                    let signature = format!("{name}: the rest of a list");
                    self.bind(name, *span, DefKind::Local, signature, visible);
                }
            }
            PatternKind::Record(fields, _) => {
                fields.iter().for_each(|(_, p)| self.pattern(p, visible))
            }
            PatternKind::Call(action, args, _) => {
                if let Some((name, span)) = action {
                    self.use_name(name, *span);
                }
                args.iter().for_each(|p| self.pattern(p, visible));
            }
            PatternKind::Message(_, args) => args.iter().for_each(|p| self.pattern(p, visible)),
            PatternKind::Wildcard | PatternKind::Error => {}
        }
    }
}

/// The tree walk: scopes open at blocks, functions and match arms.
impl Visit for Walker<'_> {
    fn block(&mut self, block: &Block) {
        self.scopes.push(Vec::new());
        for stmt in &block.stmts {
            self.statement(stmt, block.span);
        }
        self.scopes.pop();
    }

    /// A function's or action's parameters and body.
    fn function(&mut self, decl: &FnDecl) {
        self.scopes.push(Vec::new());
        for (name, span) in &decl.params {
            let signature = format!("{name}: a parameter of {}", decl.name.0);
            self.bind(name, *span, DefKind::Parameter, signature, decl.body.span);
        }
        self.block(&decl.body);
        self.scopes.pop();
    }

    fn arm(&mut self, arm: &MatchArm) {
        self.scopes.push(Vec::new());
        let arm_span = arm.body.span.join(arm.pattern.span);
        self.pattern(&arm.pattern, arm_span);
        if let Some(guard) = &arm.guard {
            self.expr(guard);
        }
        self.expr(&arm.body);
        self.scopes.pop();
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Name(name) => self.use_name(name, expr.span),
            ExprKind::Field(e, (name, span)) => {
                if let ExprKind::Name(module) = &e.kind {
                    self.index.members.push(Member {
                        module: module.clone(),
                        name: name.clone(),
                        span: *span,
                    });
                }
                self.expr(e);
            }
            _ => walk_expr(self, expr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, needle: &str, nth: usize) -> usize {
        text.match_indices(needle).nth(nth).map(|(i, _)| i).unwrap()
    }

    #[test]
    fn uses_resolve_to_the_innermost_declaration() {
        let text = "// Says hello.\naction greet(who) { let who2 = who; print(who2) }\nfn f(greet) { greet }\ncall(greet, \"A\")\n";
        let index = Index::of(text);
        let greet = index.def_at(at(text, "greet", 0)).unwrap();
        assert_eq!(index.defs[greet].signature, "action greet(who)");
        assert_eq!(index.defs[greet].doc.as_deref(), Some("Says hello."));
        // `greet` inside f is f's parameter, not the action.
        let param = index.def_at(at(text, "greet", 2)).unwrap();
        assert_eq!(index.defs[param].kind, DefKind::Parameter);
        assert_eq!(index.def_at(at(text, "greet", 3)), Some(greet));
        let who = index.def_at(at(text, "who", 0)).unwrap();
        assert_eq!(index.uses_of(who).count(), 1);
        assert_eq!(index.def_at(at(text, "print", 0)), None);
    }
}
