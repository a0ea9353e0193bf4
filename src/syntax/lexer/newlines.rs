//! Which newlines end a statement: the pass run after the driver.

use super::*;

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
/// one error is enough. The closing tokens are put in the stream, so that
/// the parser's recovery, which steps over bracketed groups, stops at the
/// line's end too and reads the following lines as statements.
pub(super) fn significant_newlines<'src>(
    tokens: Vec<Spanned<Token<'src>>>,
    line_cuts: &[u32],
) -> Vec<Spanned<Token<'src>>> {
    #[derive(PartialEq)]
    enum Open {
        Paren,
        Bracket,
        Brace,
        Interp,
    }
    let mut out: Vec<Spanned<Token>> = Vec::with_capacity(tokens.len());
    let mut open: Vec<Open> = Vec::new();
    let mut pending_newline: Option<Span> = None;
    for (token, span) in tokens {
        if token == Token::Newline && line_cuts.binary_search(&span.start).is_ok() {
            let at = Span::new(span.start as usize, span.start as usize);
            while let Some(o @ (Open::Paren | Open::Bracket | Open::Interp)) = open.last() {
                let closing = match o {
                    Open::Paren => Token::RParen,
                    Open::Bracket => Token::RBracket,
                    _ => Token::StrEnd(String::new()),
                };
                out.push((closing, at));
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
            Token::LParen => open.push(Open::Paren),
            Token::LBracket => open.push(Open::Bracket),
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
