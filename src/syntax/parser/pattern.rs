//! Patterns: what `match` arms and interests test messages and values
//! against.

use chumsky::input::ValueInput;
use chumsky::prelude::*;

use super::{close, ident, literal, string_lit, Boxed, Fault, Token};
use crate::syntax::ast::*;
use crate::syntax::span::Span;

pub(super) fn pattern_parser<'t, 's: 't, I, E>() -> Boxed<'t, I, Pattern, E>
where
    I: ValueInput<'t, Token = Token<'s>, Span = SimpleSpan>,
    E: Fault<'t, 's, I>,
{
    recursive(|pattern| {
        let literal = literal();
        let negative = just(Token::Minus).ignore_then(select! {
            Token::Int(n) => ExprKind::Int(n.wrapping_neg()),
            Token::Float(x) => ExprKind::Float(-x),
            Token::Duration(ms) => ExprKind::Duration(-ms),
        });
        let literal = literal.or(negative).map_with(|kind, e| {
            PatternKind::Literal(Expr {
                kind,
                span: Span::from(e.span()),
            })
        });

        let items = pattern
            .clone()
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<Pattern>>();

        // Each bracketed pattern is read in one pass (items, then an optional
        // `..`): trying "items then `..`" and then "items alone" re-read every
        // nested pattern twice, which is exponential in the nesting.
        let rest = just(Token::DotDot).ignore_then(ident().or_not());
        let list = items
            .clone()
            .then(rest.or_not())
            .delimited_by(just(Token::LBracket), close(Token::RBracket))
            .map(|(items, rest)| PatternKind::List(items, rest));

        let key = ident().or(string_lit());
        let field = key
            .then(just(Token::Colon).ignore_then(pattern.clone()).or_not())
            .map(|(key, pat)| {
                let pat = pat.unwrap_or_else(|| Pattern {
                    kind: PatternKind::Bind(key.0.clone()),
                    span: key.1,
                });
                (key, pat)
            });
        let record = field
            .separated_by(just(Token::Comma))
            .allow_trailing()
            .collect::<Vec<_>>()
            .then(just(Token::DotDot).or_not())
            .delimited_by(just(Token::LBrace), close(Token::RBrace))
            .map(|(fields, open)| PatternKind::Record(fields, open.is_some()));

        let call = just(Token::Ident("call"))
            .ignore_then(
                ident()
                    .map(|name| if name.0 == "_" { None } else { Some(name) })
                    .then(
                        just(Token::Comma)
                            .ignore_then(pattern.clone())
                            .repeated()
                            .collect::<Vec<Pattern>>(),
                    )
                    .then(just(Token::Comma).ignore_then(just(Token::DotDot)).or_not())
                    .then_ignore(just(Token::Comma).or_not())
                    .delimited_by(just(Token::LParen), close(Token::RParen)),
            )
            .map(|((action, args), rest)| PatternKind::Call(action, args, rest.is_some()));

        let constructor =
            select! { Token::Ident(name) if is_message_pattern(name) => name.to_string() }
                .then(items.delimited_by(just(Token::LParen), close(Token::RParen)))
                .map(|(name, args)| PatternKind::Message(name, args));

        let name = select! { Token::Ident(name) => name }.map(|name: &str| match name {
            "_" => PatternKind::Wildcard,
            "noop" => PatternKind::Message("noop".to_string(), vec![]),
            _ => PatternKind::Bind(name.to_string()),
        });

        choice((literal, list, record, call, constructor, name))
            .map_with(|kind, e| Pattern {
                kind,
                span: Span::from(e.span()),
            })
            .labelled("a pattern")
    })
    .boxed()
}

/// A constructor written with parentheses and a fixed count in a pattern
/// (`data(x)`, `timeout(d, m)`…): `call` has its own rule, `noop` is bare.
fn is_message_pattern(name: &str) -> bool {
    crate::syntax::words::CONSTRUCTORS
        .iter()
        .any(|c| c.name == name && matches!(c.arity, crate::syntax::words::Arity::Exactly(_)))
}
