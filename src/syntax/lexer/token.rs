//! The tokens the parser sees, the keywords (written once here, and
//! checked against the editor grammars), and how each token is named in a
//! diagnostic.

use std::fmt;

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

/// Every keyword, as written: the one list of them. The lexer reads its
/// keyword tokens from it (in [`KEYWORD_TOKENS`], in the same order), and
/// the REPL, the language server, the formatter and the editor grammars are
/// tested against it.
pub const KEYWORDS: &[&str] = &[
    "let", "fn", "action", "interest", "observe", "pass", "when", "if", "else", "match", "for",
    "in", "while", "return", "break", "continue", "import", "true", "false", "nil", "and", "or",
    "not",
];

/// The token of each of [`KEYWORDS`], in its order: the array's length is
/// the list's, so a keyword cannot be added to one and not the other.
const KEYWORD_TOKENS: [Token<'static>; KEYWORDS.len()] = [
    Token::Let,
    Token::Fn,
    Token::Action,
    Token::Interest,
    Token::Observe,
    Token::Pass,
    Token::When,
    Token::If,
    Token::Else,
    Token::Match,
    Token::For,
    Token::In,
    Token::While,
    Token::Return,
    Token::Break,
    Token::Continue,
    Token::Import,
    Token::True,
    Token::False,
    Token::Nil,
    Token::And,
    Token::Or,
    Token::Not,
];

pub(super) fn keyword(word: &str) -> Option<Token<'static>> {
    let i = KEYWORDS.iter().position(|k| *k == word)?;
    Some(KEYWORD_TOKENS[i].clone())
}

/// The text of a keyword token (`m.action` uses a keyword as a field name).
pub fn keyword_text(token: &Token) -> Option<&'static str> {
    KEYWORD_TOKENS
        .iter()
        .position(|t| t == token)
        .map(|i| KEYWORDS[i])
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
