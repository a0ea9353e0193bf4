//! The parser: chumsky 0.12 over the lexer's tokens, with a Pratt parser for
//! operators and error recovery at statement and bracket boundaries, so that
//! one run reports every syntax error it can.

use chumsky::input::{Input as _, ValueInput};
use chumsky::pratt::{infix, left, postfix, prefix};
use chumsky::prelude::*;

use super::ast::*;
use super::lexer::{keyword_text, Spanned, Token};
use super::span::Span;

/// A syntax error: what was found where, and what could have stood there.
#[derive(Clone, Debug, PartialEq)]
pub struct ParseError {
    pub span: Span,
    pub found: Option<String>,
    pub expected: Vec<String>,
    /// What the parser was reading when it failed (`"a match arm"`).
    pub context: Option<String>,
    /// A reserved word found where a name was being bound (`let when = 1`).
    pub reserved: Option<String>,
}

/// How deep brackets may nest before the parser refuses the file.
pub const MAX_NESTING: usize = 200;

type Extra<E> = extra::Err<E>;

/// The errors a parse collects. A file is parsed first with [`EmptyErr`],
/// which keeps none: a file that parses needs no sets of expected tokens,
/// and merging them was most of a parse's cost. Only a file with errors is
/// parsed again with [`Rich`] errors, for its diagnostics.
pub trait Fault<'t, 's: 't, I>:
    chumsky::error::Error<'t, I> + chumsky::label::LabelError<'t, I, &'static str> + 't
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
{
    /// An error of the parser's own (a reserved word bound as a name).
    fn custom(span: SimpleSpan, message: String) -> Self;
}

impl<'t, 's: 't, I> Fault<'t, 's, I> for Rich<'t, Token<'s>, SimpleSpan>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
{
    fn custom(span: SimpleSpan, message: String) -> Self {
        Rich::custom(span, message)
    }
}

impl<'t, 's: 't, I> Fault<'t, 's, I> for EmptyErr
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
{
    fn custom(_: SimpleSpan, _: String) -> Self {
        EmptyErr::default()
    }
}

/// Parses a token stream into top-level statements.
pub fn parse<'s>(tokens: &[Spanned<Token<'s>>], src_len: usize) -> (Vec<Stmt>, Vec<ParseError>) {
    if let Some(span) = too_deep(tokens) {
        let error = ParseError {
            span,
            found: None,
            expected: vec![],
            context: Some(format!("brackets nested more than {MAX_NESTING} deep")),
            reserved: None,
        };
        return (vec![], vec![error]);
    }
    let tokens: Vec<(Token<'s>, SimpleSpan)> = tokens
        .iter()
        .map(|(t, s)| (t.clone(), SimpleSpan::from(s.range())))
        .collect();
    let eoi = SimpleSpan::from(src_len..src_len);
    let input = || tokens.as_slice().map(eoi, |(t, s)| (t, s));
    // First without collecting errors (see [`Fault`]); a file that parses
    // is done.
    let fast = program::<_, EmptyErr>().parse(input());
    if !fast.has_errors() {
        if let Some(output) = fast.into_output() {
            return (output, vec![]);
        }
    }
    let (output, errors) = program::<_, Rich<Token, SimpleSpan>>()
        .parse(input())
        .into_output_errors();
    let mut errors: Vec<ParseError> = errors
        .into_iter()
        // The lexer already reported whatever an error token stands for.
        .filter(|e| e.found() != Some(&Token::Error))
        .map(|e| to_parse_error(&e))
        .collect();
    // Recovery can meet the same bad token twice; report it once.
    errors.dedup_by(|a, b| a.span == b.span);
    (output.unwrap_or_default(), errors)
}

fn to_parse_error(e: &Rich<Token, SimpleSpan>) -> ParseError {
    let mut expected: Vec<String> = e
        .expected()
        .map(|pattern| match pattern {
            chumsky::error::RichPattern::Token(t) => t.to_string(),
            chumsky::error::RichPattern::Label(l) => l.to_string(),
            chumsky::error::RichPattern::EndOfInput => "end of input".to_string(),
            chumsky::error::RichPattern::Identifier(i) => format!("`{i}`"),
            chumsky::error::RichPattern::Any => "something".to_string(),
            _ => "something else".to_string(),
        })
        .collect();
    const OPERATORS: &[&str] = &[
        "`!=`", "`%`", "`*`", "`+`", "`-`", "`/`", "`<`", "`<=`", "`==`", "`>`", "`>=`", "`and`",
        "`or`",
    ];
    let operators = expected
        .iter()
        .filter(|e| OPERATORS.contains(&e.as_str()))
        .count();
    if operators > 2 {
        expected.retain(|e| !OPERATORS.contains(&e.as_str()));
        expected.push("an operator".to_string());
    }
    expected.sort();
    expected.dedup();
    let context = e.contexts().last().map(|(label, _)| match label {
        chumsky::error::RichPattern::Label(l) => l.to_string(),
        other => format!("{other:?}"),
    });
    let custom = match e.reason() {
        chumsky::error::RichReason::Custom(msg) => Some(msg.to_string()),
        _ => None,
    };
    let reserved = custom
        .as_deref()
        .and_then(|msg| msg.strip_prefix(RESERVED))
        .map(str::to_string);
    ParseError {
        span: Span::from(e.span().into_range()),
        found: e.found().map(|t| t.to_string()),
        expected,
        context: custom.or(context),
        reserved,
    }
}

/// The span of the first bracket that opens deeper than [`MAX_NESTING`].
fn too_deep(tokens: &[Spanned<Token>]) -> Option<Span> {
    let mut depth = 0usize;
    for (token, span) in tokens {
        match token {
            Token::LParen | Token::LBracket | Token::LBrace | Token::StrStart(_) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(*span);
                }
            }
            Token::RParen | Token::RBracket | Token::RBrace | Token::StrEnd(_) => {
                depth = depth.saturating_sub(1)
            }
            _ => {}
        }
    }
    None
}

fn ident<'t, 's: 't, I, E>() -> impl Parser<'t, I, Name, Extra<E>> + Clone + use<'t, 's, I, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: Fault<'t, 's, I>,
{
    select! { Token::Ident(name) = e => (name.to_string(), Span::from(e.span())) }
        .labelled("a name")
}

/// A name being bound (`let`, `fn`, `action`, parameters, `for`). A
/// reserved word there is reported as such and read as the name, so that
/// parsing goes on as the writer meant.
fn binding<'t, 's: 't, I, E>() -> impl Parser<'t, I, Name, Extra<E>> + Clone + use<'t, 's, I, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: Fault<'t, 's, I>,
{
    ident()
        .or(any()
            .filter(|t: &Token| keyword_text(t).is_some())
            .validate(|t: Token, e, emitter| {
                let word = keyword_text(&t).unwrap_or_default();
                emitter.emit(E::custom(e.span(), format!("{RESERVED}{word}")));
                (word.to_string(), Span::from(e.span()))
            }))
        .labelled("a name")
}

/// Marks the custom error [`binding`] raises, so that it becomes
/// [`ParseError::reserved`].
const RESERVED: &str = "reserved word: ";

/// A field name: any name, keywords included (`m.action`).
fn field_name<'t, 's: 't, I, E>() -> impl Parser<'t, I, Name, Extra<E>> + Clone + use<'t, 's, I, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: Fault<'t, 's, I>,
{
    ident()
        .or(any()
            .filter(|t: &Token| keyword_text(t).is_some())
            .map_with(|t: Token, e| {
                let text = keyword_text(&t).unwrap_or_default();
                (text.to_string(), Span::from(e.span()))
            }))
        .labelled("a field name")
}

fn string_lit<'t, 's: 't, I, E>(
) -> impl Parser<'t, I, (String, Span), Extra<E>> + Clone + use<'t, 's, I, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: Fault<'t, 's, I>,
{
    select! { Token::Str(s) = e => (s, Span::from(e.span())) }.labelled("a topic string")
}

/// A closing bracket. One missing at the end of the input is reported and
/// taken as read, so that every bracket still open there ends in one step
/// instead of each failing and being re-parsed by its enclosing rule.
fn close<'t, 's: 't, I, E>(
    token: Token<'s>,
) -> impl Parser<'t, I, (), Extra<E>> + Clone + use<'t, 's, I, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: Fault<'t, 's, I>,
{
    just(token).ignored().recover_with(via_parser(end()))
}

/// Recovery for a bracketed group that failed to parse: skips to its
/// matching closer (other brackets inside are kept whole) and stands
/// `fallback`, given the skipped span, in for it.
fn skip_group<'t, 's: 't, I, O, E>(
    open: Token<'s>,
    close: Token<'s>,
    fallback: impl Fn(SimpleSpan) -> O + Clone + 't,
) -> impl chumsky::recovery::Strategy<'t, I, O, Extra<E>> + Clone
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    O: 't,
    E: Fault<'t, 's, I>,
{
    let pairs = [
        (Token::LParen, Token::RParen),
        (Token::LBracket, Token::RBracket),
        (Token::LBrace, Token::RBrace),
    ];
    let mut others = pairs.into_iter().filter(|(o, _)| *o != open);
    let others = [
        others.next().expect("three pairs"),
        others.next().expect("three pairs"),
    ];
    via_parser(nested_delimiters(open, close, others, fallback))
}

/// A literal: what both an expression and a pattern start from.
fn literal<'t, 's: 't, I, E>() -> impl Parser<'t, I, ExprKind, Extra<E>> + Clone + use<'t, 's, I, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: Fault<'t, 's, I>,
{
    select! {
        Token::Nil => ExprKind::Nil,
        Token::True => ExprKind::Bool(true),
        Token::False => ExprKind::Bool(false),
        Token::Int(n) => ExprKind::Int(n),
        Token::Float(x) => ExprKind::Float(x),
        Token::Duration(ms) => ExprKind::Duration(ms),
        Token::Str(s) => ExprKind::Str(s),
    }
}

fn separators<'t, 's: 't, I, E>() -> impl Parser<'t, I, (), Extra<E>> + Clone + use<'t, 's, I, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: Fault<'t, 's, I>,
{
    just(Token::Newline).repeated().ignored()
}

fn program<'t, 's: 't, I, E>() -> impl Parser<'t, I, Vec<Stmt>, Extra<E>> + use<'t, 's, I, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: Fault<'t, 's, I>,
{
    let (stmt, _) = statement_and_pattern();
    separators()
        .ignore_then(
            stmt.separated_by(just(Token::Newline).repeated().at_least(1))
                .allow_trailing()
                .collect::<Vec<_>>(),
        )
        .then_ignore(end())
}

type Boxed<'t, I, O, E> = chumsky::Boxed<'t, 't, I, O, Extra<E>>;

/// The statement parser and the pattern parser (patterns are also used by
/// `interest` and `observe`).
#[allow(clippy::type_complexity)]
fn statement_and_pattern<'t, 's: 't, I, E>() -> (Boxed<'t, I, Stmt, E>, Boxed<'t, I, Pattern, E>)
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: Fault<'t, 's, I>,
{
    let pattern = pattern_parser();
    let mut stmt = Recursive::declare();
    let mut expr = Recursive::declare();

    let block = just(Token::LBrace)
        .ignore_then(separators())
        .ignore_then(
            stmt.clone()
                .separated_by(just(Token::Newline).repeated().at_least(1))
                .allow_trailing()
                .collect::<Vec<Stmt>>(),
        )
        .then_ignore(close(Token::RBrace))
        .map_with(|stmts, e| Block {
            stmts,
            span: Span::from(e.span()),
        })
        .recover_with(skip_group(
            Token::LBrace,
            Token::RBrace,
            |span: SimpleSpan| Block {
                stmts: vec![],
                span: Span::from(span),
            },
        ))
        .labelled("a block")
        .boxed();

    let params = binding()
        .separated_by(just(Token::Comma))
        .allow_trailing()
        .collect::<Vec<_>>()
        .delimited_by(just(Token::LParen), close(Token::RParen))
        .labelled("parameters");

    let lambda = just(Token::Fn)
        .ignore_then(params.clone())
        .then(block.clone())
        .map_with(|(params, body), e| {
            let span = Span::from(e.span());
            ExprKind::Lambda(Box::new(FnDecl {
                name: ("<lambda>".to_string(), span),
                params,
                body,
                span,
            }))
        });

    let if_expr = recursive(|if_expr| {
        just(Token::If)
            .ignore_then(expr.clone())
            .then(block.clone())
            .then(
                just(Token::Else)
                    .ignore_then(
                        if_expr
                            .map_with(|kind, e| Expr {
                                kind,
                                span: Span::from(e.span()),
                            })
                            .or(block.clone().map(|b: Block| Expr {
                                span: b.span,
                                kind: ExprKind::Block(b),
                            })),
                    )
                    .or_not(),
            )
            .map(|((cond, then), otherwise): ((Expr, Block), Option<Expr>)| {
                ExprKind::If(Box::new(cond), then, otherwise.map(Box::new))
            })
    });

    let arm = pattern
        .clone()
        .then(just(Token::If).ignore_then(expr.clone()).or_not())
        .then_ignore(just(Token::FatArrow))
        .then(expr.clone())
        .map(|((pattern, guard), body)| MatchArm {
            pattern,
            guard,
            body,
        })
        .labelled("a match arm");

    let arm_sep = choice((just(Token::Comma), just(Token::Newline)))
        .repeated()
        .at_least(1);
    let match_expr = just(Token::Match)
        .ignore_then(expr.clone())
        .then(
            arm.separated_by(arm_sep.clone())
                .allow_leading()
                .allow_trailing()
                .collect::<Vec<_>>()
                .delimited_by(just(Token::LBrace), close(Token::RBrace)),
        )
        .map(|(scrutinee, arms)| ExprKind::Match(Box::new(scrutinee), arms));

    let spread = just(Token::DotDot)
        .ignore_then(expr.clone())
        .map_with(|inner: Expr, e| Expr {
            kind: ExprKind::Spread(Box::new(inner)),
            span: Span::from(e.span()),
        });
    let items = spread
        .or(expr.clone())
        .separated_by(just(Token::Comma))
        .allow_trailing()
        .collect::<Vec<Expr>>();

    let list = items
        .clone()
        .delimited_by(just(Token::LBracket), close(Token::RBracket))
        .map(ExprKind::List);

    let key = ident().or(string_lit());
    let record = key
        .then_ignore(just(Token::Colon))
        .then(expr.clone())
        .separated_by(just(Token::Comma))
        .allow_trailing()
        .at_least(1)
        .collect::<Vec<_>>()
        .or(empty().to(vec![]))
        .delimited_by(just(Token::LBrace), close(Token::RBrace))
        .map(ExprKind::Record);

    let interp = select! { Token::StrStart(s) => s }
        .then(
            expr.clone()
                .then(select! { Token::StrMid(s) => s })
                .repeated()
                .collect::<Vec<_>>(),
        )
        .then(expr.clone())
        .then(select! { Token::StrEnd(s) => s })
        .map(|(((first, middle), last), end)| {
            let mut parts = vec![StrPart::Text(first)];
            for (e, text) in middle {
                parts.push(StrPart::Expr(e));
                parts.push(StrPart::Text(text));
            }
            parts.push(StrPart::Expr(last));
            parts.push(StrPart::Text(end));
            parts.retain(|p| !matches!(p, StrPart::Text(t) if t.is_empty()));
            ExprKind::Interp(parts)
        });

    let literal = literal().or(select! {
        Token::Ident(name) => ExprKind::Name(name.to_string()),
    });

    let atom = choice((
        literal,
        interp,
        lambda,
        if_expr,
        match_expr,
        list,
        record,
        block.clone().map(ExprKind::Block),
        expr.clone()
            .delimited_by(just(Token::LParen), close(Token::RParen))
            .map(|e: Expr| e.kind),
    ))
    .map_with(|kind, e| Expr {
        kind,
        span: Span::from(e.span()),
    })
    .recover_with(skip_group(
        Token::LParen,
        Token::RParen,
        |span: SimpleSpan| Expr {
            kind: ExprKind::Error,
            span: Span::from(span),
        },
    ))
    .recover_with(skip_group(
        Token::LBracket,
        Token::RBracket,
        |span: SimpleSpan| Expr {
            kind: ExprKind::Error,
            span: Span::from(span),
        },
    ))
    .labelled("an expression")
    .boxed();

    enum Postfix {
        Call(Vec<Expr>),
        Index(Expr),
        Field(Name),
    }
    let postfix_op = choice((
        // Arguments that do not parse (a string that never ends, a stray
        // character) are stepped over to the `)`, so that the statement, and
        // the lines after it, are still read.
        items
            .clone()
            .delimited_by(just(Token::LParen), close(Token::RParen))
            .map(Postfix::Call)
            .recover_with(skip_group(
                Token::LParen,
                Token::RParen,
                |span: SimpleSpan| {
                    Postfix::Call(vec![Expr {
                        kind: ExprKind::Error,
                        span: Span::from(span),
                    }])
                },
            )),
        expr.clone()
            .delimited_by(just(Token::LBracket), close(Token::RBracket))
            .map(Postfix::Index),
        just(Token::Dot)
            .ignore_then(field_name())
            .map(Postfix::Field),
    ));

    macro_rules! binary {
        ($assoc:expr, $tok:expr, $op:expr) => {
            infix($assoc, just($tok), |l: Expr, _, r: Expr, e| {
                let span = Span::from(e.span());
                Expr {
                    kind: ExprKind::Binary($op, Box::new(l), Box::new(r)),
                    span,
                }
            })
        };
    }
    let operators = atom.pratt((
        postfix(10, postfix_op, |lhs: Expr, op, e| {
            let span = Span::from(e.span());
            let kind = match op {
                Postfix::Call(args) => ExprKind::Call(Box::new(lhs), args),
                Postfix::Index(index) => ExprKind::Index(Box::new(lhs), Box::new(index)),
                Postfix::Field(name) => ExprKind::Field(Box::new(lhs), name),
            };
            Expr { kind, span }
        }),
        prefix(9, just(Token::Minus), |_, rhs: Expr, e| Expr {
            kind: ExprKind::Unary(UnOp::Neg, Box::new(rhs)),
            span: Span::from(e.span()),
        }),
        binary!(left(8), Token::Star, BinOp::Mul),
        binary!(left(8), Token::Slash, BinOp::Div),
        binary!(left(8), Token::Percent, BinOp::Rem),
        binary!(left(7), Token::Plus, BinOp::Add),
        binary!(left(7), Token::Minus, BinOp::Sub),
        binary!(left(6), Token::Lt, BinOp::Lt),
        binary!(left(6), Token::Le, BinOp::Le),
        binary!(left(6), Token::Gt, BinOp::Gt),
        binary!(left(6), Token::Ge, BinOp::Ge),
        binary!(left(5), Token::EqEq, BinOp::Eq),
        binary!(left(5), Token::NotEq, BinOp::Ne),
        prefix(4, just(Token::Not), |_, rhs: Expr, e| Expr {
            kind: ExprKind::Unary(UnOp::Not, Box::new(rhs)),
            span: Span::from(e.span()),
        }),
        infix(left(3), just(Token::And), |l: Expr, _, r: Expr, e| Expr {
            kind: ExprKind::And(Box::new(l), Box::new(r)),
            span: Span::from(e.span()),
        }),
        infix(left(2), just(Token::Or), |l: Expr, _, r: Expr, e| Expr {
            kind: ExprKind::Or(Box::new(l), Box::new(r)),
            span: Span::from(e.span()),
        }),
    ));
    expr.define(operators.labelled("an expression").boxed());

    let let_stmt = just(Token::Let)
        .ignore_then(binding())
        .then_ignore(just(Token::Assign))
        .then(expr.clone())
        .map(|(name, value)| StmtKind::Let(name, value));

    let fn_decl = |keyword: Token<'s>| {
        just(keyword)
            .ignore_then(binding())
            .then(params.clone())
            .then(block.clone())
            .map_with(|((name, params), body), e| FnDecl {
                name,
                params,
                body,
                span: Span::from(e.span()),
            })
    };

    // `limit n`, `rate n/unit`, `per name` and `priority n` after an action's
    // parameters, in any order: contextual words, names everywhere else.
    let word = |w: &'static str| select! { Token::Ident(name) if name == w => () }.labelled(w);
    let count = select! { Token::Int(n) => n }.labelled("a count");
    let limit_part = choice((
        word("limit")
            .ignore_then(count)
            .map_with(|n, e| LimitPart::Limit(n, Span::from(e.span()))),
        word("rate")
            .ignore_then(count)
            .then_ignore(just(Token::Slash))
            .then(ident().labelled("a unit (s, m or h)"))
            .map_with(|(n, unit), e| LimitPart::Rate(n, unit, Span::from(e.span()))),
        word("per").ignore_then(ident()).map(LimitPart::Per),
        word("retry")
            .ignore_then(count)
            .map_with(|n, e| LimitPart::Retry(n, Span::from(e.span()))),
        word("backoff")
            .ignore_then(select! { Token::Duration(ms) => ms }.labelled("a duration (2s, 500ms)"))
            .map_with(|ms, e| LimitPart::Backoff(ms, Span::from(e.span()))),
        word("priority")
            .ignore_then(just(Token::Minus).or_not())
            .then(count)
            .map_with(|(minus, n), e| {
                let n = if minus.is_some() { -n } else { n };
                LimitPart::Priority(n, Span::from(e.span()))
            }),
    ));
    let limits = limit_part
        .repeated()
        .at_least(1)
        .collect::<Vec<_>>()
        .map_with(|parts, e| Limits {
            parts,
            span: Span::from(e.span()),
        });
    let action_decl = just(Token::Action)
        .ignore_then(binding())
        .then(params.clone())
        .then(limits.or_not())
        .then(block.clone())
        .map_with(|(((name, params), limits), body), e| {
            StmtKind::Action(
                FnDecl {
                    name,
                    params,
                    body,
                    span: Span::from(e.span()),
                },
                limits,
            )
        });

    // `schedule name every 1h { … }`, `schedule name cron "…" [tz "…"]
    // [overlap skip|allow] { … }`: contextual words too.
    let text = |what: &'static str| {
        select! { Token::Str(s) = e => (s, Span::from(e.span())) }.labelled(what)
    };
    let when = choice((
        word("every").ignore_then(
            select! { Token::Duration(ms) = e => When::Every(ms, Span::from(e.span())) }
                .labelled("an interval (a duration: 1h, 30m)"),
        ),
        word("cron")
            .ignore_then(text("a cron expression (\"0 9 * * MON-FRI\")"))
            .map(|(s, span)| When::Cron(s, span)),
    ));
    let schedule_decl = word("schedule")
        .ignore_then(binding())
        .then(when)
        .then(
            word("tz")
                .ignore_then(text("a time zone (\"Europe/Paris\")"))
                .or_not(),
        )
        .then(
            word("overlap")
                .ignore_then(ident().labelled("skip or allow"))
                .or_not(),
        )
        .then(block.clone())
        .map_with(|((((name, when), tz), overlap), body), e| {
            StmtKind::Schedule(Box::new(ScheduleDecl {
                decl: FnDecl {
                    name,
                    params: vec![],
                    body,
                    span: Span::from(e.span()),
                },
                when,
                tz,
                overlap,
            }))
        });

    let filter = choice((
        just(Token::Interest).to(FilterKind::Interest),
        just(Token::Observe).to(FilterKind::Observe),
    ))
    .then(string_lit())
    .then_ignore(just(Token::When))
    .then(pattern.clone())
    .then(just(Token::If).ignore_then(expr.clone()).or_not())
    .map(|(((kind, topic), pattern), guard)| {
        StmtKind::Filter(Filter {
            kind,
            topic,
            pattern,
            guard,
        })
    });

    let pass = just(Token::Pass)
        .ignore_then(string_lit())
        .then(binding().delimited_by(just(Token::LParen), close(Token::RParen)))
        .then(block.clone())
        .map_with(|((topic, param), body), e| {
            StmtKind::Pass(PassDecl {
                topic,
                param,
                body,
                span: Span::from(e.span()),
            })
        });

    let while_stmt = just(Token::While)
        .ignore_then(expr.clone())
        .then(block.clone())
        .map(|(cond, body)| StmtKind::While(cond, body));

    let for_stmt = just(Token::For)
        .ignore_then(binding())
        .then_ignore(just(Token::In))
        .then(expr.clone())
        .then(block.clone())
        .map(|((name, iter), body)| StmtKind::For(name, iter, body));

    let assign_op = choice((
        just(Token::Assign).to(None),
        just(Token::PlusAssign).to(Some(BinOp::Add)),
        just(Token::MinusAssign).to(Some(BinOp::Sub)),
    ));
    let expr_or_assign = expr
        .clone()
        .then(assign_op.then(expr.clone()).or_not())
        .map(|(target, assign)| match assign {
            Some((op, value)) => StmtKind::Assign(target, op, value),
            None => StmtKind::Expr(target),
        });

    let stmt_kind = choice((
        let_stmt,
        fn_decl(Token::Fn).map(StmtKind::Fn),
        action_decl,
        schedule_decl,
        filter,
        pass,
        just(Token::Import)
            .ignore_then(ident().or(string_lit()))
            .map(StmtKind::Import),
        while_stmt,
        for_stmt,
        just(Token::Return)
            .ignore_then(expr.clone().or_not())
            .map(StmtKind::Return),
        just(Token::Break).to(StmtKind::Break),
        just(Token::Continue).to(StmtKind::Continue),
        expr_or_assign,
    ));

    // A statement ends at a newline (or `;`), at the `}` of its block or at
    // the end of the input. Checking it here makes a statement followed by
    // more (`let t = 1 + * 2` reads `let t = 1`, then meets `+`) fail as a
    // statement, and so recover at its line's end, rather than end the
    // program's list of statements and lose every line after it.
    let statement_end = choice((
        just(Token::Newline).ignored(),
        just(Token::RBrace).ignored(),
        end(),
    ))
    .rewind();

    stmt.define(
        stmt_kind
            .then_ignore(statement_end)
            .map_with(|kind, e| Stmt {
                kind,
                span: Span::from(e.span()),
            })
            .recover_with(via_parser(rest_of_statement().map_with(|(), e| Stmt {
                kind: StmtKind::Error,
                span: Span::from(e.span()),
            })))
            .labelled("a statement")
            .boxed(),
    );
    (stmt.boxed(), pattern.boxed())
}

/// Error recovery for a statement that failed to parse: skips to the end of
/// its line (or to the `}` that closes its block), stepping over bracketed
/// groups whole. It looks at each token once, so recovery stays linear; it
/// consumes at least one token, or fails.
fn rest_of_statement<'t, 's: 't, I, E>(
) -> impl Parser<'t, I, (), Extra<E>> + Clone + use<'t, 's, I, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: Fault<'t, 's, I>,
{
    custom(|inp| {
        let start = inp.cursor();
        let mut depth = 0usize;
        let mut skipped = false;
        loop {
            let at_boundary = match inp.peek() {
                None => true,
                Some(Token::Newline | Token::RBrace) if depth == 0 => true,
                Some(Token::LParen | Token::LBracket | Token::LBrace | Token::StrStart(_)) => {
                    depth += 1;
                    false
                }
                Some(Token::RParen | Token::RBracket | Token::RBrace | Token::StrEnd(_)) => {
                    depth = depth.saturating_sub(1);
                    false
                }
                Some(_) => false,
            };
            if at_boundary {
                break;
            }
            inp.skip();
            skipped = true;
        }
        if skipped {
            Ok(())
        } else {
            // The statement's own error is the one reported.
            Err(E::custom(inp.span_since(&start), "a statement".into()))
        }
    })
}

mod pattern;
use pattern::pattern_parser;

#[cfg(test)]
mod tests;
