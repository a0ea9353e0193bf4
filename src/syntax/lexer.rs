//! The lexer: logos for the plain tokens, a small driver on top for string
//! interpolation, and a pass that decides which newlines end a statement.
//!
//! Errors never stop lexing: each becomes a [`Token::Error`] in the stream (so
//! the parser recovers past it) plus a [`LexError`] with its span.

use std::fmt;

use logos::Logos;

use super::span::Span;

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

/// The tokens the parser sees.
#[derive(Clone, Debug, PartialEq)]
pub enum Token<'src> {
    Ident(&'src str),
    Int(i64),
    Float(f64),
    Duration(i64),
    /// A string with no interpolation, escapes already applied.
    Str(String),
    /// `"text{` — the start of an interpolated string.
    StrStart(String),
    /// `}text{` — text between two interpolations.
    StrMid(String),
    /// `}text"` — the end of an interpolated string.
    StrEnd(String),

    Let,
    Fn,
    Action,
    Interest,
    Observe,
    Pass,
    When,
    If,
    Else,
    Match,
    For,
    In,
    While,
    Return,
    Break,
    Continue,
    Import,
    True,
    False,
    Nil,
    And,
    Or,
    Not,

    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Comma,
    Dot,
    DotDot,
    Colon,
    /// `;` or a newline that ends a statement.
    Newline,
    FatArrow,
    Assign,
    PlusAssign,
    MinusAssign,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    /// Stands where the lexer found an error, so that parsing goes on.
    Error,
}

/// Every keyword, as written. The editor grammars are tested against this list.
pub const KEYWORDS: &[&str] = &[
    "let", "fn", "action", "interest", "observe", "pass", "when", "if", "else", "match", "for",
    "in", "while", "return", "break", "continue", "import", "true", "false", "nil", "and", "or",
    "not",
];

fn keyword(word: &str) -> Option<Token<'static>> {
    Some(match word {
        "let" => Token::Let,
        "fn" => Token::Fn,
        "action" => Token::Action,
        "interest" => Token::Interest,
        "observe" => Token::Observe,
        "pass" => Token::Pass,
        "when" => Token::When,
        "if" => Token::If,
        "else" => Token::Else,
        "match" => Token::Match,
        "for" => Token::For,
        "in" => Token::In,
        "while" => Token::While,
        "return" => Token::Return,
        "break" => Token::Break,
        "continue" => Token::Continue,
        "import" => Token::Import,
        "true" => Token::True,
        "false" => Token::False,
        "nil" => Token::Nil,
        "and" => Token::And,
        "or" => Token::Or,
        "not" => Token::Not,
        _ => return None,
    })
}

/// The text of a keyword token (`m.action` uses a keyword as a field name).
pub fn keyword_text(token: &Token) -> Option<&'static str> {
    KEYWORDS
        .iter()
        .copied()
        .find(|kw| keyword(kw).as_ref() == Some(token))
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let s = match self {
            Token::Ident(name) => return write!(f, "name `{name}`"),
            Token::Int(_) | Token::Float(_) => "a number",
            Token::Duration(_) => "a duration",
            Token::Str(_) | Token::StrStart(_) => "a string",
            Token::StrMid(_) | Token::StrEnd(_) => "the rest of a string",
            Token::Newline => "end of statement",
            Token::Error => "an invalid token",
            Token::Let => "`let`",
            Token::Fn => "`fn`",
            Token::Action => "`action`",
            Token::Interest => "`interest`",
            Token::Observe => "`observe`",
            Token::Pass => "`pass`",
            Token::When => "`when`",
            Token::If => "`if`",
            Token::Else => "`else`",
            Token::Match => "`match`",
            Token::For => "`for`",
            Token::In => "`in`",
            Token::While => "`while`",
            Token::Return => "`return`",
            Token::Break => "`break`",
            Token::Continue => "`continue`",
            Token::Import => "`import`",
            Token::True => "`true`",
            Token::False => "`false`",
            Token::Nil => "`nil`",
            Token::And => "`and`",
            Token::Or => "`or`",
            Token::Not => "`not`",
            Token::LParen => "`(`",
            Token::RParen => "`)`",
            Token::LBracket => "`[`",
            Token::RBracket => "`]`",
            Token::LBrace => "`{`",
            Token::RBrace => "`}`",
            Token::Comma => "`,`",
            Token::Dot => "`.`",
            Token::DotDot => "`..`",
            Token::Colon => "`:`",
            Token::FatArrow => "`=>`",
            Token::Assign => "`=`",
            Token::PlusAssign => "`+=`",
            Token::MinusAssign => "`-=`",
            Token::EqEq => "`==`",
            Token::NotEq => "`!=`",
            Token::Lt => "`<`",
            Token::Le => "`<=`",
            Token::Gt => "`>`",
            Token::Ge => "`>=`",
            Token::Plus => "`+`",
            Token::Minus => "`-`",
            Token::Star => "`*`",
            Token::Slash => "`/`",
            Token::Percent => "`%`",
        };
        f.write_str(s)
    }
}

pub type Spanned<T> = (T, Span);

/// Lexes a whole source file. Always returns a token stream (with
/// [`Token::Error`] where something was wrong) and the errors found.
pub fn lex(src: &str) -> (Vec<Spanned<Token<'_>>>, Vec<LexError>) {
    let mut driver = Driver {
        lex: Raw::lexer(src),
        tokens: Vec::new(),
        errors: Vec::new(),
        cut_line: false,
        line_cuts: Vec::new(),
    };
    driver.run();
    let tokens = significant_newlines(driver.tokens, &driver.line_cuts);
    (tokens, driver.errors)
}

struct Driver<'src> {
    lex: logos::Lexer<'src, Raw>,
    tokens: Vec<Spanned<Token<'src>>>,
    errors: Vec<LexError>,
    /// Set by an unterminated string: the newline that ends its line ends
    /// the statement too, whatever brackets the string left open.
    cut_line: bool,
    /// Where those newlines are (byte offsets, ascending).
    line_cuts: Vec<u32>,
}

/// Where a string scan stopped.
enum StrStop {
    /// At the closing quote.
    Quote,
    /// At an interpolation's `{`.
    Interp,
    /// At the end of the line or of the input, with no closing quote.
    Eof,
}

impl<'src> Driver<'src> {
    fn run(&mut self) {
        // For each open interpolation, how many `{` are open inside it and
        // where its string starts.
        let mut interp_depths: Vec<(usize, usize)> = Vec::new();
        while let Some(raw) = self.lex.next() {
            let span = Span::from(self.lex.span());
            let token = match raw {
                Err(kind) => {
                    self.errors.push(LexError { kind, span });
                    Token::Error
                }
                Ok(Raw::TripleQuote) => {
                    self.raw_string(span.start as usize);
                    continue;
                }
                Ok(Raw::Quote) => {
                    let start = span.start as usize;
                    self.string(start, start, false, &mut interp_depths);
                    continue;
                }
                Ok(Raw::RBrace) if interp_depths.last().is_some_and(|&(d, _)| d == 0) => {
                    let (_, start) = interp_depths.pop().unwrap_or_default();
                    self.string(start, span.start as usize, true, &mut interp_depths);
                    continue;
                }
                Ok(Raw::LBrace) => {
                    if let Some((depth, _)) = interp_depths.last_mut() {
                        *depth += 1;
                    }
                    Token::LBrace
                }
                Ok(Raw::RBrace) => {
                    if let Some((depth, _)) = interp_depths.last_mut() {
                        *depth -= 1;
                    }
                    Token::RBrace
                }
                Ok(Raw::Newline) if !interp_depths.is_empty() => {
                    // A string ends on its line, interpolations included: the
                    // open ones are reported once and closed here, so that the
                    // lines after them are read as code again.
                    let at = span.start as usize;
                    let start = interp_depths[0].1;
                    self.errors.push(LexError {
                        kind: LexErrorKind::UnterminatedString,
                        span: Span::new(start, start + 1),
                    });
                    for _ in interp_depths.drain(..) {
                        self.tokens
                            .push((Token::StrEnd(String::new()), Span::new(at, at)));
                    }
                    self.tokens.push((Token::Error, Span::new(at, at)));
                    self.line_cuts.push(span.start);
                    self.cut_line = false;
                    Token::Newline
                }
                Ok(Raw::Newline) if self.cut_line => {
                    self.line_cuts.push(span.start);
                    self.cut_line = false;
                    Token::Newline
                }
                Ok(raw) => plain(raw, self.lex.slice()),
            };
            self.tokens.push((token, span));
        }
        if !interp_depths.is_empty() {
            let end = self.lex.source().len();
            self.errors.push(LexError {
                kind: LexErrorKind::UnterminatedString,
                span: Span::new(end, end),
            });
            self.tokens.push((Token::Error, Span::new(end, end)));
        }
    }

    /// Scans a `"""` string from just after its opening quotes. One that
    /// never closes runs to the end of the input: a line end can't end it.
    fn raw_string(&mut self, start: usize) {
        let rest = self.lex.remainder();
        let token = match rest.find("\"\"\"") {
            Some(end) => {
                self.lex.bump(end + 3);
                Token::Str(dedent(&rest[..end]))
            }
            None => {
                self.lex.bump(rest.len());
                self.errors.push(LexError {
                    kind: LexErrorKind::UnterminatedRawString,
                    span: Span::new(start, start + 3),
                });
                Token::Error
            }
        };
        self.tokens
            .push((token, Span::new(start, self.lex.span().end)));
    }

    /// Scans string text from just after `"` (or the `}` that closed an
    /// interpolation, when `resumed`) and pushes the token for it. `opening`
    /// is where the whole string starts, `start` where this piece does.
    fn string(
        &mut self,
        opening: usize,
        start: usize,
        resumed: bool,
        interp_depths: &mut Vec<(usize, usize)>,
    ) {
        let rest = self.lex.remainder();
        let mut text = String::new();
        let mut stop = StrStop::Eof;
        let mut consumed = rest.len();
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    stop = StrStop::Quote;
                    consumed = i + 1;
                    break;
                }
                '{' => {
                    stop = StrStop::Interp;
                    consumed = i + 1;
                    break;
                }
                '\n' => {
                    // Strings end on their line: an unterminated one must not
                    // swallow the rest of the file.
                    consumed = i;
                    break;
                }
                '\\' => match chars.next() {
                    Some((u, 'u')) => {
                        let (len, decoded) = unicode_escape(&rest[u + 1..]);
                        for _ in rest[u + 1..u + 1 + len].chars() {
                            chars.next();
                        }
                        match decoded {
                            Some(c) => text.push(c),
                            None => {
                                let at = self.lex.span().end + i;
                                self.errors.push(LexError {
                                    kind: LexErrorKind::InvalidUnicodeEscape(
                                        rest[i..u + 1 + len].to_string(),
                                    ),
                                    span: Span::new(at, at + 2 + len),
                                });
                            }
                        }
                    }
                    Some((_, e)) => match e {
                        'n' => text.push('\n'),
                        't' => text.push('\t'),
                        'r' => text.push('\r'),
                        '\\' | '"' | '{' | '}' => text.push(e),
                        other => {
                            let at = self.lex.span().end + i;
                            self.errors.push(LexError {
                                kind: LexErrorKind::InvalidEscape(other),
                                span: Span::new(at, at + 1 + other.len_utf8()),
                            });
                        }
                    },
                    None => break,
                },
                _ => text.push(c),
            }
        }
        self.lex.bump(consumed);
        let span = Span::new(start, self.lex.span().end);
        let token = match (resumed, &stop) {
            (false, StrStop::Quote) => Token::Str(text),
            (false, StrStop::Interp) => Token::StrStart(text),
            (true, StrStop::Interp) => Token::StrMid(text),
            (true, StrStop::Quote) => Token::StrEnd(text),
            (resumed, StrStop::Eof) => {
                self.errors.push(LexError {
                    kind: LexErrorKind::UnterminatedString,
                    span: Span::new(opening, opening + 1),
                });
                // After an interpolation the string still ends here, so that
                // what follows is read as code, not as the string's inside.
                self.cut_line = true;
                if resumed {
                    self.tokens.push((Token::StrEnd(text), span));
                }
                Token::Error
            }
        };
        if matches!(stop, StrStop::Interp) {
            interp_depths.push((0, opening));
        }
        self.tokens.push((token, span));
    }
}

/// The text of a `"""` string: taken as written (no escapes, no
/// interpolation), except that a line break right after the opening `"""`
/// and a last line holding only white space (the closing `"""` on its own
/// line) are dropped, and the indentation common to the non-blank lines is
/// removed.
fn dedent(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let body = raw.strip_prefix('\n').unwrap_or(&raw);
    let mut lines: Vec<&str> = body.split('\n').collect();
    if lines.len() > 1 && lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let indent_of = |line: &str| line.len() - line.trim_start_matches([' ', '\t']).len();
    let common = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .min()
        .unwrap_or(0);
    let dedented: Vec<&str> = lines
        .iter()
        .map(|l| &l[common.min(indent_of(l))..])
        .collect();
    dedented.join("\n")
}

/// Reads the `{hex}` of a `\u{hex}` escape at the start of `after_u`:
/// how many bytes it takes and the character, if it names one. A malformed
/// escape takes up to its `}`, but never the string's closing quote or the
/// line end, so that one bad escape is one error.
fn unicode_escape(after_u: &str) -> (usize, Option<char>) {
    let Some(body) = after_u.strip_prefix('{') else {
        return (0, None);
    };
    match body.find(['}', '"', '\n']) {
        Some(end) if body[end..].starts_with('}') => {
            let digits = &body[..end];
            let c = Some(digits)
                .filter(|d| (1..=6).contains(&d.len()) && d.chars().all(|c| c.is_ascii_hexdigit()))
                .and_then(|d| u32::from_str_radix(d, 16).ok())
                .and_then(char::from_u32);
            (end + 2, c)
        }
        Some(end) => (end + 1, None),
        None => (after_u.len(), None),
    }
}

fn plain(raw: Raw, slice: &str) -> Token<'_> {
    match raw {
        Raw::Ident => keyword(slice).unwrap_or(Token::Ident(slice)),
        Raw::Number(Num::Int(n)) => Token::Int(n),
        Raw::Number(Num::Duration(ms)) => Token::Duration(ms),
        Raw::Float(x) => Token::Float(x),
        Raw::Newline | Raw::Semi => Token::Newline,
        Raw::LParen => Token::LParen,
        Raw::RParen => Token::RParen,
        Raw::LBracket => Token::LBracket,
        Raw::RBracket => Token::RBracket,
        Raw::LBrace => Token::LBrace,
        Raw::RBrace => Token::RBrace,
        Raw::Comma => Token::Comma,
        Raw::Dot => Token::Dot,
        Raw::DotDot => Token::DotDot,
        Raw::Colon => Token::Colon,
        Raw::FatArrow => Token::FatArrow,
        Raw::Assign => Token::Assign,
        Raw::PlusAssign => Token::PlusAssign,
        Raw::MinusAssign => Token::MinusAssign,
        Raw::EqEq => Token::EqEq,
        Raw::NotEq => Token::NotEq,
        Raw::Lt => Token::Lt,
        Raw::Le => Token::Le,
        Raw::Gt => Token::Gt,
        Raw::Ge => Token::Ge,
        Raw::Plus => Token::Plus,
        Raw::Minus => Token::Minus,
        Raw::Star => Token::Star,
        Raw::Slash => Token::Slash,
        Raw::Percent => Token::Percent,
        Raw::LineComment | Raw::BlockComment | Raw::Quote | Raw::TripleQuote => Token::Error,
    }
}

/// After these a newline never ends a statement: the expression goes on.
fn continues_after(token: &Token) -> bool {
    use Token::*;
    matches!(
        token,
        Comma
            | Dot
            | DotDot
            | Colon
            | FatArrow
            | Assign
            | PlusAssign
            | MinusAssign
            | EqEq
            | NotEq
            | Lt
            | Le
            | Gt
            | Ge
            | Plus
            | Minus
            | Star
            | Slash
            | Percent
            | And
            | Or
            | Not
            | LParen
            | LBracket
            | LBrace
            | StrStart(_)
            | StrMid(_)
            | Newline
    )
}

/// Keeps a newline (or `;`) only where it ends a statement: not inside `( )`
/// or `[ ]` or an interpolation, not after an operator or `,`, not before
/// `}`, `else` or `.`, and never two in a row.
///
/// A newline in `line_cuts` (after an unterminated string) always ends the
/// statement and closes the `( )`, `[ ]` and interpolations left open on
/// its line: the string most likely swallowed their closing brackets, and
/// one error is enough.
fn significant_newlines<'src>(
    tokens: Vec<Spanned<Token<'src>>>,
    line_cuts: &[u32],
) -> Vec<Spanned<Token<'src>>> {
    #[derive(PartialEq)]
    enum Open {
        Paren,
        Brace,
        Interp,
    }
    let mut out: Vec<Spanned<Token>> = Vec::with_capacity(tokens.len());
    let mut open: Vec<Open> = Vec::new();
    let mut pending_newline: Option<Span> = None;
    for (token, span) in tokens {
        if token == Token::Newline && line_cuts.binary_search(&span.start).is_ok() {
            while matches!(open.last(), Some(Open::Paren | Open::Interp)) {
                open.pop();
            }
            pending_newline.get_or_insert(span);
            continue;
        }
        if token == Token::Newline {
            let in_braces = matches!(open.last(), None | Some(Open::Brace));
            let after_continuation = out.last().is_none_or(|(t, _)| continues_after(t));
            if in_braces && !after_continuation {
                pending_newline.get_or_insert(span);
            }
            continue;
        }
        if let Some(nl) = pending_newline.take() {
            if !matches!(token, Token::RBrace | Token::Else | Token::Dot) {
                out.push((Token::Newline, nl));
            }
        }
        match token {
            Token::LParen | Token::LBracket => open.push(Open::Paren),
            Token::LBrace => open.push(Open::Brace),
            Token::StrStart(_) => open.push(Open::Interp),
            Token::RParen | Token::RBracket | Token::RBrace | Token::StrEnd(_) => {
                open.pop();
            }
            _ => {}
        }
        out.push((token, span));
    }
    out
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
            assert!(keyword(kw).is_some(), "{kw} is not lexed as a keyword");
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
