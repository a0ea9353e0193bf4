//! The driver on top of logos: it scans strings by hand (escapes,
//! `{expr}` interpolation, which may itself hold strings, and `"""` raw
//! strings) and turns every other raw token into a [`Token`].

use super::*;

pub(super) struct Driver<'src> {
    lex: logos::Lexer<'src, Raw>,
    pub(super) tokens: Vec<Spanned<Token<'src>>>,
    pub(super) errors: Vec<LexError>,
    /// Set by an unterminated string: the newline that ends its line ends
    /// the statement too, whatever brackets the string left open.
    cut_line: bool,
    /// Where those newlines are (byte offsets, ascending).
    pub(super) line_cuts: Vec<u32>,
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
    /// Scans all of `src`: its tokens (newlines not yet filtered) and errors.
    pub(super) fn scan(src: &'src str) -> Self {
        let mut driver = Driver {
            lex: Raw::lexer(src),
            tokens: Vec::new(),
            errors: Vec::new(),
            cut_line: false,
            line_cuts: Vec::new(),
        };
        driver.run();
        driver
    }

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

pub(super) fn plain(raw: Raw, slice: &str) -> Token<'_> {
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
