//! The lexer: logos for the plain tokens, a small driver on top for string
//! interpolation, and a pass that decides which newlines end a statement.
//!
//! Errors never stop lexing: each becomes a [`Token::Error`] in the stream (so
//! the parser recovers past it) plus a [`LexError`] with its span.
//!
//! This file owns the raw tokens logos matches (numbers, durations,
//! comments) and the errors; `token.rs` the tokens the parser sees and the
//! keywords; `strings.rs` the driver that scans strings; `newlines.rs` the
//! newline pass.

mod newlines;
mod strings;
mod token;

use logos::Logos;

use super::span::Span;
use newlines::significant_newlines;
use strings::Driver;
use token::keyword;
pub use token::{keyword_text, Token, KEYWORDS};

/// What went wrong while lexing; each maps to one diagnostic code.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum LexErrorKind {
    #[default]
    UnexpectedChar,
    UnterminatedString,
    /// A `"""` string with no closing `"""`.
    UnterminatedRawString,
    UnterminatedComment,
    InvalidEscape(char),
    /// A `\u{…}` escape that is not 1 to 6 hex digits naming a character;
    /// holds what was written.
    InvalidUnicodeEscape(String),
    InvalidNumber(String),
    UnknownDurationUnit(String),
    NumberTooLarge,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LexError {
    pub kind: LexErrorKind,
    pub span: Span,
}

/// Tokens as logos sees them. Strings are not here: the driver scans them by
/// hand because an interpolation `{expr}` may itself hold strings.
#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(error = LexErrorKind)]
#[logos(skip r"[ \t\r\f]+")]
enum Raw {
    #[regex(r"//[^\n]*", logos::skip, allow_greedy = true)]
    LineComment,
    #[token("/*", block_comment)]
    BlockComment,
    #[token("\n")]
    Newline,
    #[token("\"")]
    Quote,
    #[token("\"\"\"")]
    TripleQuote,

    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    #[regex(r"[0-9][0-9A-Za-z_]*", number)]
    Number(Num),
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*([eE][+-]?[0-9]+)?", float, priority = 5)]
    #[regex(r"[0-9][0-9_]*[eE][+-]?[0-9]+", float, priority = 5)]
    Float(f64),

    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(".")]
    Dot,
    #[token("..")]
    DotDot,
    #[token(":")]
    Colon,
    #[token(";")]
    Semi,
    #[token("=>")]
    FatArrow,
    #[token("=")]
    Assign,
    #[token("+=")]
    PlusAssign,
    #[token("-=")]
    MinusAssign,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
}

#[derive(Clone, Debug, PartialEq)]
enum Num {
    Int(i64),
    Duration(i64),
}

/// Skips a nestable `/* … */` comment.
fn block_comment(lex: &mut logos::Lexer<Raw>) -> logos::FilterResult<(), LexErrorKind> {
    let rest = lex.remainder().as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i < rest.len() {
        if rest[i..].starts_with(b"/*") {
            depth += 1;
            i += 2;
        } else if rest[i..].starts_with(b"*/") {
            depth -= 1;
            i += 2;
            if depth == 0 {
                lex.bump(i);
                return logos::FilterResult::Skip;
            }
        } else {
            i += 1;
        }
    }
    lex.bump(rest.len());
    logos::FilterResult::Error(LexErrorKind::UnterminatedComment)
}

/// The units of duration literals and the milliseconds in one of each; the
/// command line's durations take the same units.
const DURATION_UNITS: [(&str, i64); 4] = [("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000)];

/// Milliseconds in one `unit`, if it is a duration unit.
pub fn duration_unit(unit: &str) -> Option<i64> {
    DURATION_UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|&(_, ms)| ms)
}

/// Integers (`42`, `1_000`, `0xff`) and durations (`250ms`, `2s`, `5m`, `1h`).
fn number(lex: &mut logos::Lexer<Raw>) -> Result<Num, LexErrorKind> {
    let text = lex.slice();
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        let digits: String = hex.chars().filter(|&c| c != '_').collect();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(LexErrorKind::InvalidNumber(text.to_string()));
        }
        return i64::from_str_radix(&digits, 16)
            .map(Num::Int)
            .map_err(|_| LexErrorKind::NumberTooLarge);
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    let value: i64 = digits.parse().map_err(|_| LexErrorKind::NumberTooLarge)?;
    if unit.is_empty() {
        return Ok(Num::Int(value));
    }
    let Some(scale) = duration_unit(unit) else {
        return Err(if unit.starts_with(|c: char| c.is_ascii_alphabetic()) {
            LexErrorKind::UnknownDurationUnit(unit.to_string())
        } else {
            LexErrorKind::InvalidNumber(text.to_string())
        });
    };
    value
        .checked_mul(scale)
        .map(Num::Duration)
        .ok_or(LexErrorKind::NumberTooLarge)
}

fn float(lex: &mut logos::Lexer<Raw>) -> Result<f64, LexErrorKind> {
    let text: String = lex.slice().chars().filter(|&c| c != '_').collect();
    text.parse()
        .map_err(|_| LexErrorKind::InvalidNumber(lex.slice().to_string()))
}

pub type Spanned<T> = (T, Span);

/// Lexes a whole source file. Always returns a token stream (with
/// [`Token::Error`] where something was wrong) and the errors found.
pub fn lex(src: &str) -> (Vec<Spanned<Token<'_>>>, Vec<LexError>) {
    let driver = Driver::scan(src);
    let tokens = significant_newlines(driver.tokens, &driver.line_cuts);
    (tokens, driver.errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Token<'_>> {
        let (tokens, errors) = lex(src);
        assert!(errors.is_empty(), "unexpected errors: {errors:?}");
        tokens.into_iter().map(|(t, _)| t).collect()
    }

    fn errors(src: &str) -> Vec<LexErrorKind> {
        lex(src).1.into_iter().map(|e| e.kind).collect()
    }

    #[test]
    fn numbers_and_durations() {
        use Token::*;
        assert_eq!(
            kinds("42 1_000 0xff 1.5 2e3 250ms 2s 5m 1h"),
            vec![
                Int(42),
                Int(1000),
                Int(255),
                Float(1.5),
                Float(2000.0),
                Duration(250),
                Duration(2000),
                Duration(300_000),
                Duration(3_600_000)
            ]
        );
    }

    #[test]
    fn bad_numbers() {
        assert_eq!(
            errors("3days"),
            vec![LexErrorKind::UnknownDurationUnit("days".into())]
        );
        assert_eq!(
            errors("99999999999999999999"),
            vec![LexErrorKind::NumberTooLarge]
        );
        assert_eq!(
            errors("0xzz"),
            vec![LexErrorKind::InvalidNumber("0xzz".into())]
        );
    }

    #[test]
    fn keywords_and_names() {
        use Token::*;
        assert_eq!(
            kinds("let x = not true and nil"),
            vec![Let, Ident("x"), Assign, Not, True, And, Nil]
        );
        for kw in KEYWORDS {
            let token = keyword(kw).unwrap_or_else(|| panic!("{kw} is not lexed as a keyword"));
            // Each word has a token of its own, which reads back as the word.
            assert_eq!(keyword_text(&token), Some(*kw), "{kw}");
        }
    }

    #[test]
    fn strings_escapes_and_interpolation() {
        use Token::*;
        assert_eq!(kinds(r#""a\n\"\{b\}""#), vec![Str("a\n\"{b}".into())]);
        assert_eq!(
            kinds(r#""hi {who}!""#),
            vec![StrStart("hi ".into()), Ident("who"), StrEnd("!".into())]
        );
        assert_eq!(
            kinds(r#""{f("x")} and {{a: 1}.a}""#),
            vec![
                StrStart("".into()),
                Ident("f"),
                LParen,
                Str("x".into()),
                RParen,
                StrMid(" and ".into()),
                LBrace,
                Ident("a"),
                Colon,
                Int(1),
                RBrace,
                Dot,
                Ident("a"),
                StrEnd("".into())
            ]
        );
    }

    #[test]
    fn string_errors() {
        assert_eq!(errors(r#""abc"#), vec![LexErrorKind::UnterminatedString]);
        assert_eq!(errors(r#""a\qb""#), vec![LexErrorKind::InvalidEscape('q')]);
        assert_eq!(errors(r#""a {x"#), vec![LexErrorKind::UnterminatedString]);
    }

    #[test]
    fn triple_quoted_strings_are_raw_and_dedented() {
        use Token::*;
        assert_eq!(
            kinds("let s = \"\"\"\n    a \\n {b}\n      \"c\"\n\n    d\n    \"\"\""),
            vec![
                Let,
                Ident("s"),
                Assign,
                Str("a \\n {b}\n  \"c\"\n\nd".into())
            ]
        );
        assert_eq!(kinds(r#""""one "line""""#), vec![Str("one \"line".into())]);
        assert_eq!(kinds(r#""" " ""#), vec![Str("".into()), Str(" ".into())]);
        assert_eq!(
            errors("\"\"\"\nnever closed\n"),
            vec![LexErrorKind::UnterminatedRawString]
        );
    }

    #[test]
    fn unicode_escapes() {
        use Token::*;
        assert_eq!(kinds(r#""caf\u{e9}\u{1F600}""#), vec![Str("café😀".into())]);
        assert_eq!(
            errors(r#""a \u{zz} b" + 1"#),
            vec![LexErrorKind::InvalidUnicodeEscape(r"\u{zz}".into())]
        );
        assert_eq!(
            errors(r#""\u{110000}" "\u0041" "\u{41""#),
            vec![
                LexErrorKind::InvalidUnicodeEscape(r"\u{110000}".into()),
                LexErrorKind::InvalidUnicodeEscape(r"\u".into()),
                LexErrorKind::InvalidUnicodeEscape(r"\u{41".into()),
            ]
        );
    }

    #[test]
    fn an_unterminated_string_ends_its_statement() {
        use Token::*;
        let (tokens, errs) = lex("f(\"a {x})\ng()");
        assert_eq!(errs.len(), 1);
        let kinds: Vec<Token> = tokens.into_iter().map(|(t, _)| t).collect();
        assert_eq!(
            kinds,
            vec![
                Ident("f"),
                LParen,
                StrStart("a ".into()),
                Ident("x"),
                StrEnd(")".into()),
                Error,
                // The `(` the string left open is closed at the line's end.
                RParen,
                Newline,
                Ident("g"),
                LParen,
                RParen
            ]
        );
    }

    #[test]
    fn nested_block_comments() {
        use Token::*;
        assert_eq!(kinds("1 /* a /* b */ c */ 2"), vec![Int(1), Int(2)]);
        assert_eq!(
            errors("1 /* a /* b */"),
            vec![LexErrorKind::UnterminatedComment]
        );
    }

    #[test]
    fn newlines_end_statements_only_where_they_should() {
        use Token::*;
        assert_eq!(
            kinds("a\nb; c"),
            vec![Ident("a"), Newline, Ident("b"), Newline, Ident("c")]
        );
        assert_eq!(
            kinds("f(a,\n b)\n"),
            vec![Ident("f"), LParen, Ident("a"), Comma, Ident("b"), RParen]
        );
        assert_eq!(kinds("a +\n b"), vec![Ident("a"), Plus, Ident("b")]);
        assert_eq!(
            kinds("{\n a\n\n b\n}"),
            vec![LBrace, Ident("a"), Newline, Ident("b"), RBrace]
        );
        assert_eq!(
            kinds("if a {\n} \n else {\n}"),
            vec![If, Ident("a"), LBrace, RBrace, Else, LBrace, RBrace]
        );
        assert_eq!(
            kinds("[1,\n2\n]"),
            vec![LBracket, Int(1), Comma, Int(2), RBracket]
        );
    }

    #[test]
    fn unexpected_character_is_an_error_token() {
        let (tokens, errs) = lex("a $ b");
        assert_eq!(errs.len(), 1);
        assert_eq!(tokens[1].0, Token::Error);
        assert_eq!(tokens[1].1, Span::new(2, 3));
    }
}
