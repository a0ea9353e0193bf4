//! The parser's unit tests: precedence, statements, declarations,
//! patterns, recovery and nesting limits.

use super::*;
use crate::syntax::lexer::lex;

fn parse_ok(src: &str) -> Vec<Stmt> {
    let (tokens, lex_errors) = lex(src);
    assert!(lex_errors.is_empty());
    let (stmts, errors) = parse(&tokens, src.len());
    assert!(errors.is_empty(), "{src}: {errors:?}");
    stmts
}

fn parse_errors(src: &str) -> Vec<ParseError> {
    let (tokens, _) = lex(src);
    parse(&tokens, src.len()).1
}

fn show(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Name(n) => n.clone(),
        ExprKind::Binary(op, l, r) => format!("({} {} {})", show(l), op.symbol(), show(r)),
        ExprKind::Unary(UnOp::Neg, x) => format!("(-{})", show(x)),
        ExprKind::Unary(UnOp::Not, x) => format!("(not {})", show(x)),
        ExprKind::And(l, r) => format!("({} and {})", show(l), show(r)),
        ExprKind::Or(l, r) => format!("({} or {})", show(l), show(r)),
        ExprKind::Call(f, args) => format!(
            "{}({})",
            show(f),
            args.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::Field(x, name) => format!("{}.{}", show(x), name.0),
        ExprKind::Index(x, i) => format!("{}[{}]", show(x), show(i)),
        ExprKind::Spread(x) => format!("..{}", show(x)),
        other => format!("{other:?}"),
    }
}

fn expr(src: &str) -> String {
    match &parse_ok(src)[0].kind {
        StmtKind::Expr(e) => show(e),
        other => panic!("not an expression: {other:?}"),
    }
}

#[test]
fn precedence() {
    assert_eq!(expr("1 + 2 * 3"), "(1 + (2 * 3))");
    assert_eq!(expr("1 - 2 - 3"), "((1 - 2) - 3)");
    assert_eq!(expr("-a.b(c)[0]"), "(-a.b(c)[0])");
    assert_eq!(
        expr("not a == b and c or d"),
        "(((not (a == b)) and c) or d)"
    );
    assert_eq!(expr("a < b == c > d"), "((a < b) == (c > d))");
}

#[test]
fn statements_split_on_newlines() {
    let stmts = parse_ok("let a = 1\na = a + 1; print(a)\n");
    assert_eq!(stmts.len(), 3);
    assert!(matches!(stmts[1].kind, StmtKind::Assign(_, None, _)));
}

#[test]
fn declarations() {
    let stmts = parse_ok(
        r#"import passes
fn square(x) { x * x }
action add(n) { total = total + n }
interest "writes" when call(write, _)
observe "audit" when data({kind: "audit", ..})
pass "writes" (msgs) { passes.batch(msgs, write_many) }"#,
    );
    assert_eq!(stmts.len(), 6);
    assert!(matches!(&stmts[4].kind, StmtKind::Filter(f) if f.kind == FilterKind::Observe));
}

#[test]
fn match_and_patterns() {
    let stmts = parse_ok(
        r#"match m {
  call(greet, who) if who != "" => 1,
  call(_, ..) => 2
  [a, b, ..rest] => 3
  {k: 1, ..} => 4
  data(-1) => 5
  noop => 6
  _ => 7
}"#,
    );
    match &stmts[0].kind {
        StmtKind::Expr(Expr {
            kind: ExprKind::Match(_, arms),
            ..
        }) => assert_eq!(arms.len(), 7),
        other => panic!("{other:?}"),
    }
}

#[test]
fn recovers_and_reports_every_error() {
    let errors = parse_errors("let = 1\nlet b = 2\nlet c = (1 +)\nprint(b)");
    assert_eq!(errors.len(), 2, "{errors:?}");
}

#[test]
fn deep_nesting_is_refused_not_crashed() {
    let src = "(".repeat(10_000);
    let errors = parse_errors(&src);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].context.as_deref().unwrap().contains("nested"));
}
