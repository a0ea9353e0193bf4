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

/// Every keyword, as written. The editor grammars are tested against this list.
pub const KEYWORDS: &[&str] = &[
    "let", "fn", "action", "interest", "observe", "pass", "when", "if", "else", "match", "for",
    "in", "while", "return", "break", "continue", "import", "true", "false", "nil", "and", "or",
    "not",
];

pub(super) fn keyword(word: &str) -> Option<Token<'static>> {
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
