//! The syntax tree the parser builds and the compiler reads.

use super::span::Span;

pub type Name = (String, Span);

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Duration(i64),
    Str(String),
    /// `"a {x} b"`: literal text and expressions, in order.
    Interp(Vec<StrPart>),
    Name(String),
    List(Vec<Expr>),
    Record(Vec<(Name, Expr)>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Call(Box<Expr>, Vec<Expr>),
    /// `..xs` among a call's arguments: the list's items, spread.
    Spread(Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Field(Box<Expr>, Name),
    Lambda(Box<FnDecl>),
    If(Box<Expr>, Block, Option<Box<Expr>>),
    Match(Box<Expr>, Vec<MatchArm>),
    Block(Block),
    /// Stands where the parser recovered from an error.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    Text(String),
    Expr(Expr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MatchArm {
    pub pattern: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    pub name: Name,
    pub params: Vec<Name>,
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Expr(Expr),
    Let(Name, Expr),
    /// `target = value`, `target += value`, `target -= value`.
    Assign(Expr, Option<BinOp>, Expr),
    Fn(FnDecl),
    /// An action, with its resource clause (`limit 1 per host`), if any.
    Action(FnDecl, Option<Limits>),
    /// `schedule name every 1h { … }` or `schedule name cron "…" tz "…"
    /// overlap allow { … }`: periodic work, an action of no parameters.
    Schedule(Box<ScheduleDecl>),
    /// `interest "topic" when pattern` (take) or `observe …` (copy).
    Filter(Filter),
    Pass(PassDecl),
    /// `import passes` (std, or ./passes.vy) or `import "lib/deploy.vy"`
    /// (a path from the importing file; its namespace is the file's stem).
    Import(Name),
    While(Expr, Block),
    For(Name, Expr, Block),
    Return(Option<Expr>),
    Break,
    Continue,
    Error,
}

/// An action's resource clause, after its parameters: `limit 4 per host
/// rate 2/s`. The words are contextual (`limit`, `per` and `rate` stay
/// ordinary names elsewhere); the compiler checks the parts.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    pub parts: Vec<LimitPart>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LimitPart {
    /// `limit n`: at most `n` calls at once (per key).
    Limit(i64, Span),
    /// `rate n/unit`: at most `n` starts per second, minute or hour; the
    /// unit as written (the compiler checks it).
    Rate(i64, Name, Span),
    /// `per name`: the parameter whose value keys the resource.
    Per(Name),
    /// `retry n`: attempts in all for a call failing retryably (the
    /// action's own retry policy; `retry 1`: no retry).
    Retry(i64, Span),
    /// `backoff 2s`: the first wait between attempts (doubling).
    Backoff(i64, Span),
    /// `priority n`: its calls step before ready items of a lower
    /// priority (the default is 0).
    Priority(i64, Span),
}

/// A schedule: its body is an action of no parameters (`decl`), called at
/// each firing. The words are contextual (`schedule`, `every`, `cron`,
/// `tz`, `overlap` stay ordinary names elsewhere); the compiler checks the
/// interval, the cron text, the time zone and the overlap word.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleDecl {
    pub decl: FnDecl,
    pub when: When,
    /// `tz "Europe/Paris"`: the zone a cron expression is read in.
    pub tz: Option<(String, Span)>,
    /// `overlap skip` or `overlap allow`, as written.
    pub overlap: Option<Name>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum When {
    /// `every 1h`: an interval, in milliseconds.
    Every(i64, Span),
    /// `cron "0 9 * * MON-FRI"`.
    Cron(String, Span),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    Interest,
    Observe,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub kind: FilterKind,
    pub topic: (String, Span),
    pub pattern: Pattern,
    pub guard: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PassDecl {
    pub topic: (String, Span),
    pub param: Name,
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    Wildcard,
    /// A literal: compared with `==`.
    Literal(Expr),
    Bind(String),
    /// `[a, b, ..rest]`: the items, then the rest (`None` when there is no `..`,
    /// `Some(None)` for a bare `..`).
    List(Vec<Pattern>, Option<Option<Name>>),
    /// `{k: pat, ..}`: the fields, and whether `..` allows other keys.
    Record(Vec<(Name, Pattern)>, bool),
    /// `call(name | _, pat, …, ..)`.
    Call(Option<Name>, Vec<Pattern>, bool),
    /// `data(p)`, `seq(p)`, `conc(p)`, `defer(p)`, `delay(p)`, `void(p)`,
    /// `promise(p, p)`, `noop`: a constructor and its sub-patterns.
    Message(String, Vec<Pattern>),
    Error,
}

/// The namespace an `import` gives: the name itself, or a path's file stem
/// (`"lib/deploy.vy"` is `deploy`).
pub fn module_name(import: &str) -> &str {
    if !is_path_import(import) {
        return import;
    }
    let file = import.rsplit('/').next().unwrap_or(import);
    file.strip_suffix(".vy").unwrap_or(file)
}

/// Whether an `import` names a file by its path (`"lib/x.vy"`), not a module.
pub fn is_path_import(import: &str) -> bool {
    import.ends_with(".vy") || import.contains('/')
}
