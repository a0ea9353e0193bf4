//! A lossless scanner for the formatter: unlike the lexer it keeps comments
//! and newlines, and it keeps each token's text exactly as written (a string
//! literal, with its escapes and interpolations, is one token).

/// What a piece of source text is, as far as layout cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A name or a keyword.
    Word,
    Number,
    Str,
    /// `// …` up to the end of the line.
    LineComment,
    /// `/* … */`, possibly over several lines.
    BlockComment,
    Newline,
    /// `;`: ends a statement like a newline.
    Semi,
    Open,
    Close,
    /// Any other operator or punctuation.
    Punct,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tok {
    pub kind: Kind,
    pub text: String,
    /// The column (in characters) where the token starts in the source.
    pub column: usize,
}

const PUNCTS: [&str; 25] = [
    "..", "=>", "+=", "-=", "==", "!=", "<=", ">=", ",", ".", ":", "=", "<", ">", "+", "-", "*",
    "/", "%", "(", ")", "[", "]", "{", "}",
];

/// Splits `src` into tokens, or gives up (returns `None`) on anything it does
/// not know; the formatter then leaves the file alone.
pub fn scan(src: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    let mut line_start = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let kind = match c {
            ' ' | '\t' | '\r' | '\x0c' => {
                i += 1;
                continue;
            }
            '\n' => {
                i += 1;
                Kind::Newline
            }
            ';' => {
                i += 1;
                Kind::Semi
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                Kind::LineComment
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i = block_comment_end(&chars, i)?;
                Kind::BlockComment
            }
            '"' => {
                i = string_end(&chars, i)?;
                Kind::Str
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                Kind::Word
            }
            c if c.is_ascii_digit() => {
                i = number_end(&chars, i);
                Kind::Number
            }
            _ => {
                let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
                let punct = PUNCTS.iter().find(|p| rest.starts_with(**p))?;
                i += punct.len();
                match *punct {
                    "(" | "[" | "{" => Kind::Open,
                    ")" | "]" | "}" => Kind::Close,
                    _ => Kind::Punct,
                }
            }
        };
        let text: String = chars[start..i].iter().collect();
        let text = if kind == Kind::LineComment {
            text.trim_end().to_string()
        } else {
            text
        };
        toks.push(Tok {
            kind,
            text,
            column: start - line_start,
        });
        // A block comment or a string may span lines.
        if let Some(nl) = chars[start..i].iter().rposition(|&c| c == '\n') {
            line_start = start + nl + 1;
        }
    }
    Some(toks)
}

/// The index just past a nestable block comment starting at `i`.
fn block_comment_end(chars: &[char], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < chars.len() {
        if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
            depth += 1;
            i += 2;
        } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return Some(i);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The index just past a string literal starting at `i` (its interpolations
/// may hold strings of their own).
fn string_end(chars: &[char], mut i: usize) -> Option<usize> {
    // A `"""…"""` string is raw: it ends at the next `"""`, whatever it holds.
    if chars[i..].starts_with(&['"', '"', '"']) {
        let body = i + 3;
        return (body..chars.len().saturating_sub(2))
            .find(|&j| chars[j..].starts_with(&['"', '"', '"']))
            .map(|j| j + 3);
    }
    i += 1;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return Some(i + 1),
            '{' => i = interpolation_end(chars, i)?,
            _ => i += 1,
        }
    }
    None
}

/// The index just past an interpolation `{…}` starting at `i`.
fn interpolation_end(chars: &[char], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < chars.len() {
        match chars[i] {
            '{' => {
                depth += 1;
                i += 1;
            }
            '}' => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            '"' => i = string_end(chars, i)?,
            '/' if chars.get(i + 1) == Some(&'*') => i = block_comment_end(chars, i)?,
            _ => i += 1,
        }
    }
    None
}

/// The index just past a number (`42`, `1_000`, `0xff`, `1.5e-3`, `250ms`).
fn number_end(chars: &[char], mut i: usize) -> usize {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    while i < chars.len() && word(chars[i]) {
        i += 1;
    }
    if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
        i += 1;
        while i < chars.len() && word(chars[i]) {
            i += 1;
        }
    }
    if matches!(chars.get(i), Some('+' | '-'))
        && matches!(chars.get(i - 1), Some('e' | 'E'))
        && chars.get(i + 1).is_some_and(|c| c.is_ascii_digit())
        && !chars[..i]
            .iter()
            .rev()
            .take_while(|c| word(**c))
            .any(|c| *c == 'x')
    {
        i += 1;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<String> {
        scan(src)
            .expect("scans")
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    #[test]
    fn keeps_literals_and_comments_whole() {
        assert_eq!(
            texts(r#"print("a {f("}")} b") // hi"#),
            ["print", "(", r#""a {f("}")} b""#, ")", "// hi"]
        );
        assert_eq!(
            texts("1.5e-3 + 0xff - 2s"),
            ["1.5e-3", "+", "0xff", "-", "2s"]
        );
        assert_eq!(
            texts("/* a /* b */ c */x..y"),
            ["/* a /* b */ c */", "x", "..", "y"]
        );
    }

    #[test]
    fn gives_up_on_what_it_does_not_know() {
        assert_eq!(scan("a ? b"), None);
        assert_eq!(scan("\"open"), None);
        assert_eq!(scan("/* open"), None);
    }
}
