//! `voyager fmt`: one canonical layout for Voyager source.
//!
//! The formatter works on a lossless token stream ([`scan`]) rather than on
//! the syntax tree, so comments, literals as written and the user's line
//! breaks survive. It re-indents (two spaces per bracket level, one more for
//! a statement continued after an operator), re-spaces each line, puts one
//! statement per line, keeps at most one blank line, aligns trailing `//`
//! comments of neighbouring lines, and breaks a `seq([…])` or `conc([…])`
//! list that does not fit in [`MAX_WIDTH`] columns one element per line.
//!
//! Every result is checked: the formatted text must parse to the same tree
//! (spans aside) as the original, or the formatter refuses to touch it.

pub mod scan;

use crate::diag::{self, Sources};
use scan::{Kind, Tok};

/// Lines longer than this get their message lists broken up.
pub const MAX_WIDTH: usize = 100;
const INDENT: &str = "  ";

/// Why a source was not formatted.
#[derive(Debug)]
pub enum FmtError {
    /// It does not parse: these are the rendered diagnostics.
    Syntax(String),
    /// The formatter could not lay it out without changing its meaning (a
    /// bug in the formatter, reported rather than written).
    Internal(String),
}

/// The canonical layout of `src`.
pub fn format_source(name: &str, src: &str, color: bool) -> Result<String, FmtError> {
    let mut sources = Sources::default();
    let id = sources.add(name, src);
    let original = match crate::runtime::parse_source(id, src) {
        Ok(stmts) => stmts,
        Err(diags) => {
            let text: String = diags
                .iter()
                .map(|d| diag::render(d, &sources, color))
                .collect();
            return Err(FmtError::Syntax(text));
        }
    };
    let want = tree_text(&original);
    let toks = scan::scan(src)
        .ok_or_else(|| FmtError::Internal("the formatter cannot read this file".into()))?;
    for break_lists in [true, false] {
        let out = layout(toks.clone(), break_lists);
        if crate::runtime::parse_source(id, &out).is_ok_and(|stmts| tree_text(&stmts) == want) {
            return Ok(out);
        }
    }
    Err(FmtError::Internal(
        "formatting would change what this file means; it was left as it is".into(),
    ))
}

/// A printed form of a syntax tree with every span left out, so that two
/// layouts of one program print the same.
pub fn tree_text(stmts: &[crate::syntax::ast::Stmt]) -> String {
    let full = format!("{stmts:?}");
    let mut out = String::with_capacity(full.len());
    let mut rest = full.as_str();
    while let Some(at) = rest.find("Span { start: ") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest.find(" }").map_or(rest.len(), |e| e + 2);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn newline() -> Tok {
    Tok {
        kind: Kind::Newline,
        text: "\n".into(),
        column: 0,
    }
}

fn is(tok: &Tok, text: &str) -> bool {
    tok.text == text
}

/// Lays out a token stream: one statement per line, then long lists broken
/// up, then rendered.
fn layout(toks: Vec<Tok>, breaking: bool) -> String {
    let mut toks = split_statements(toks);
    if breaking {
        // Each round breaks the outermost too-wide list of every line; the
        // lists inside them get their turn in the next round.
        for _ in 0..toks.len() {
            let lines = render(&toks);
            let found: Vec<(usize, usize)> = lines
                .iter()
                .filter_map(|line| breakable_list(&toks, line))
                .collect();
            if found.is_empty() {
                break;
            }
            toks = break_lists(toks, &found);
        }
    }
    let lines = render(&toks);
    let mut out = String::new();
    for line in &lines {
        out.push_str(&line.text);
        out.push('\n');
    }
    out
}

/// Turns each `;` into a newline; a `{ … }` that held one is opened up so
/// that each statement in it gets its own line. Runs of blank lines shrink
/// to one.
fn split_statements(toks: Vec<Tok>) -> Vec<Tok> {
    let mut open: Vec<usize> = Vec::new();
    let mut broken = vec![false; toks.len()];
    let mut partner = vec![usize::MAX; toks.len()];
    for (i, tok) in toks.iter().enumerate() {
        match tok.kind {
            Kind::Open => open.push(i),
            Kind::Close => {
                if let Some(o) = open.pop() {
                    partner[o] = i;
                    partner[i] = o;
                }
            }
            Kind::Semi => {
                if let Some(&brace) = open.iter().rev().find(|&&o| is(&toks[o], "{")) {
                    broken[brace] = true;
                }
            }
            _ => {}
        }
    }
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    let mut newlines = 0;
    for (i, tok) in toks.into_iter().enumerate() {
        let closes_broken =
            tok.kind == Kind::Close && partner[i] != usize::MAX && broken[partner[i]];
        if tok.kind == Kind::Newline || tok.kind == Kind::Semi || closes_broken {
            if newlines < 2 && !(tok.kind == Kind::Semi && newlines > 0) {
                out.push(newline());
                newlines += 1;
            }
            if !closes_broken {
                continue;
            }
        }
        let opens_broken = broken[i];
        newlines = 0;
        out.push(tok);
        if opens_broken {
            out.push(newline());
            newlines = 1;
        }
    }
    out
}

/// One rendered line and the tokens it came from.
struct Line {
    text: String,
    /// Width without a trailing comment.
    code_width: usize,
    has_code: bool,
    /// Token indices `start..end` of the line's code.
    start: usize,
    end: usize,
}

const KEYWORDS: &[&str] = crate::syntax::lexer::KEYWORDS;

/// Operators after which a newline does not end the statement: the next
/// line is a continuation and is indented one more step.
fn continues(tok: &Tok) -> bool {
    matches!(tok.kind, Kind::Punct) && !matches!(tok.text.as_str(), "," | "..")
        || matches!(tok.text.as_str(), "and" | "or" | "not")
}

/// Facts about each token that spacing needs and that depend on its
/// neighbours: whether a `-` is unary, whether a word is a keyword (a word
/// after `.` is a field name), whether a `{` opens a record.
struct Roles {
    unary: Vec<bool>,
    /// The `/` of an action's `rate 10/s`, written tight.
    rate: Vec<bool>,
    keyword: Vec<bool>,
    record: Vec<bool>,
    partner: Vec<usize>,
}

fn roles(toks: &[Tok]) -> Roles {
    let n = toks.len();
    let mut roles = Roles {
        unary: vec![false; n],
        rate: vec![false; n],
        keyword: vec![false; n],
        record: vec![false; n],
        partner: vec![usize::MAX; n],
    };
    let code = |i: usize| {
        !matches!(
            toks[i].kind,
            Kind::LineComment | Kind::BlockComment | Kind::Newline
        )
    };
    let mut prev: Option<usize> = None;
    let mut open = Vec::new();
    for i in 0..n {
        if !code(i) {
            if toks[i].kind == Kind::Newline {
                prev = None;
            }
            continue;
        }
        let tok = &toks[i];
        let after_dot = prev.is_some_and(|p| is(&toks[p], "."));
        roles.keyword[i] =
            tok.kind == Kind::Word && !after_dot && KEYWORDS.contains(&tok.text.as_str());
        if is(tok, "-") {
            roles.unary[i] = match prev {
                None => true,
                Some(p) => {
                    let p_tok = &toks[p];
                    match p_tok.kind {
                        Kind::Open | Kind::Punct => true,
                        Kind::Word if is(p_tok, "priority") => priority_clause(toks, p),
                        Kind::Word => {
                            roles.keyword[p]
                                && !matches!(p_tok.text.as_str(), "true" | "false" | "nil")
                        }
                        _ => false,
                    }
                }
            };
        }
        if is(tok, "/") {
            let before: Vec<&Tok> = (0..i)
                .rev()
                .filter(|&j| code(j))
                .take(2)
                .map(|j| &toks[j])
                .collect();
            roles.rate[i] =
                before.len() == 2 && before[0].kind == Kind::Number && is(before[1], "rate");
        }
        match tok.kind {
            Kind::Open => {
                open.push(i);
                if is(tok, "{") {
                    let next: Vec<&Tok> = (i + 1..n)
                        .filter(|&j| code(j))
                        .take(2)
                        .map(|j| &toks[j])
                        .collect();
                    let keyed = next.len() == 2
                        && matches!(next[0].kind, Kind::Word | Kind::Str)
                        && (is(next[1], ":") || next[0].kind == Kind::Word && is(next[1], ","));
                    let closes = toks.get(i + 1).is_some_and(|t| is(t, "}") || is(t, ".."));
                    let in_args = prev
                        .is_some_and(|p| matches!(toks[p].text.as_str(), "(" | "[" | "," | ":"));
                    roles.record[i] = keyed || closes || in_args;
                }
            }
            Kind::Close => {
                if let Some(o) = open.pop() {
                    roles.partner[o] = i;
                    roles.partner[i] = o;
                    roles.record[i] = roles.record[o];
                }
            }
            _ => {}
        }
        prev = Some(i);
    }
    roles
}

/// Whether the word `priority` at `p` is an action's `priority -5`: after
/// the parameters' `)` or another part of the clause (a count, a name), not
/// a name in an expression (`x = priority - 5`).
fn priority_clause(toks: &[Tok], p: usize) -> bool {
    let before = toks[..p]
        .iter()
        .rev()
        .find(|t| !matches!(t.kind, Kind::LineComment | Kind::BlockComment));
    before.is_some_and(|t| match t.kind {
        Kind::Close => is(t, ")"),
        Kind::Number => true,
        Kind::Word => !KEYWORDS.contains(&t.text.as_str()),
        _ => false,
    })
}

/// Whether a space goes between tokens `a` and `b` on one line.
fn space_between(toks: &[Tok], roles: &Roles, a: usize, b: usize) -> bool {
    let (x, y) = (&toks[a], &toks[b]);
    if y.kind == Kind::LineComment {
        return true;
    }
    if x.kind == Kind::BlockComment || y.kind == Kind::BlockComment {
        // Only a block's braces keep a space from what they hold.
        let block_brace = |k: usize| matches!(toks[k].text.as_str(), "{" | "}") && !roles.record[k];
        let tight_open = x.kind == Kind::Open && !block_brace(a);
        let tight_close = y.kind == Kind::Close && !block_brace(b);
        return !(tight_open || tight_close || is(y, ","));
    }
    if x.kind == Kind::Open {
        return is(x, "{") && !roles.record[a] && y.kind != Kind::Close;
    }
    if y.kind == Kind::Close {
        return is(y, "}") && !roles.record[b] && x.kind != Kind::Open;
    }
    if is(y, ",") || is(y, ":") || is(y, ".") || is(x, ".") || is(x, "..") || roles.unary[a] {
        return false;
    }
    if roles.rate[a] || roles.rate[b] {
        return false;
    }
    if is(x, ",") || is(x, ":") {
        return true;
    }
    let callee = match x.kind {
        Kind::Word => !roles.keyword[a] || is(x, "fn"),
        Kind::Close => true,
        _ => false,
    };
    if is(y, "(") {
        return !callee;
    }
    if is(y, "[") {
        return !(callee || x.kind == Kind::Str);
    }
    true
}

/// Renders the token stream into indented lines.
fn render(toks: &[Tok]) -> Vec<Line> {
    let roles = roles(toks);
    // Open brackets: the indent of the line each was opened on.
    let mut open: Vec<(usize, usize)> = Vec::new();
    let mut lines: Vec<Line> = Vec::new();
    // Comment-only lines that hang under the trailing comment above them.
    let mut hanging: Vec<bool> = Vec::new();
    let mut comments: Vec<Option<String>> = Vec::new();
    let mut last_code: Option<usize> = None;
    let mut i = 0;
    while i <= toks.len() {
        let start = i;
        while i < toks.len() && toks[i].kind != Kind::Newline {
            i += 1;
        }
        let end = i;
        i += 1;
        let line = &toks[start..end];
        if line.is_empty() {
            let after_open = lines
                .last()
                .is_none_or(|l| l.end > l.start && toks[l.end - 1].kind == Kind::Open);
            let next_closes = toks.get(end + 1).is_none_or(|t| t.kind == Kind::Close);
            let last_blank = lines
                .last()
                .is_some_and(|l| !l.has_code && comments[lines.len() - 1].is_none());
            if !after_open && !next_closes && !last_blank && end < toks.len() {
                lines.push(Line {
                    text: String::new(),
                    code_width: 0,
                    has_code: false,
                    start,
                    end,
                });
                hanging.push(false);
                comments.push(None);
            }
            continue;
        }
        let (code_end, comment) = match line.last() {
            Some(t) if t.kind == Kind::LineComment => (end - 1, Some(t)),
            _ => (end, None),
        };
        let base = open.last().map_or(0, |&(_, indent)| indent + 1);
        let mut depth = match toks[start].kind {
            Kind::Close => open.last().map_or(0, |&(_, indent)| indent),
            _ => base,
        };
        let in_block = open.last().is_none_or(|&(o, _)| is(&toks[o], "{"));
        let continued = last_code.is_some_and(|p| continues(&toks[p])) || is(&toks[start], ".");
        if in_block && continued && toks[start].kind != Kind::Close && code_end > start {
            depth += 1;
        }
        let mut text = INDENT.repeat(depth);
        for j in start..code_end {
            if j > start && space_between(toks, &roles, j - 1, j) {
                text.push(' ');
            }
            text.push_str(&toks[j].text);
            match toks[j].kind {
                Kind::Open => open.push((j, depth)),
                Kind::Close => {
                    open.pop();
                }
                _ => {}
            }
        }
        if code_end > start {
            last_code = Some(code_end - 1);
        }
        let code_width = text.chars().count();
        let hangs = code_end == start
            && comment.is_some_and(|c| c.column > depth)
            && lines.last().is_some_and(|_| {
                let k = lines.len() - 1;
                comments[k].is_some() && (hanging[k] || lines[k].has_code)
            });
        lines.push(Line {
            text,
            code_width,
            has_code: code_end > start,
            start,
            end: code_end,
        });
        hanging.push(hangs);
        comments.push(comment.map(|c| c.text.clone()));
    }
    align_comments(&mut lines, &hanging, &comments);
    lines
}

/// Appends trailing comments, aligned across neighbouring lines that have
/// them (comment-only lines hanging under them align with them too).
fn align_comments(lines: &mut [Line], hanging: &[bool], comments: &[Option<String>]) {
    let trailing: Vec<bool> = (0..lines.len())
        .map(|k| comments[k].is_some() && (hanging[k] || lines[k].has_code))
        .collect();
    let mut k = 0;
    while k < lines.len() {
        if !trailing[k] || hanging[k] {
            if let Some(c) = &comments[k] {
                lines[k].text.push_str(c);
            }
            k += 1;
            continue;
        }
        let mut group_end = k + 1;
        while group_end < lines.len() && trailing[group_end] {
            group_end += 1;
        }
        let column = (k..group_end)
            .filter(|&g| !hanging[g])
            .map(|g| lines[g].code_width)
            .max()
            .unwrap_or(0)
            + 2;
        for g in k..group_end {
            let line = &mut lines[g];
            let pad = column.saturating_sub(if hanging[g] { 0 } else { line.code_width });
            if hanging[g] {
                line.text.clear();
            }
            line.text.push_str(&" ".repeat(pad));
            if let Some(c) = &comments[g] {
                line.text.push_str(c);
            }
        }
        k = group_end;
    }
}

/// A `seq([…])` or `conc([…])` on a line wider than [`MAX_WIDTH`], whose list
/// is all on that line: the index of its name and of the list's `]`.
fn breakable_list(toks: &[Tok], line: &Line) -> Option<(usize, usize)> {
    if line.code_width <= MAX_WIDTH {
        return None;
    }
    let end = line.end.min(toks.len());
    (line.start..end.saturating_sub(3)).find_map(|i| {
        let named = matches!(toks[i].text.as_str(), "seq" | "conc") && toks[i].kind == Kind::Word;
        if !(named && is(&toks[i + 1], "(") && is(&toks[i + 2], "[")) || is(&toks[i + 3], "]") {
            return None;
        }
        let mut depth = 0usize;
        for (j, tok) in toks.iter().enumerate().take(end).skip(i + 2) {
            match tok.kind {
                Kind::Open => depth += 1,
                Kind::Close => {
                    depth -= 1;
                    if depth == 0 {
                        return Some((i, j));
                    }
                }
                _ => {}
            }
        }
        None
    })
}

/// Puts each element of each list `toks[name + 2 ..= close]` on its own
/// line, each followed by a comma. The lists are in order and disjoint.
fn break_lists(toks: Vec<Tok>, lists: &[(usize, usize)]) -> Vec<Tok> {
    let mut out = Vec::with_capacity(toks.len() + 8 * lists.len());
    let mut lists = lists.iter().peekable();
    let mut current: Option<(usize, usize)> = None;
    let mut depth = 0usize;
    for (i, tok) in toks.into_iter().enumerate() {
        if current.is_none() && lists.peek().is_some_and(|&&(name, _)| name == i) {
            current = lists.next().copied();
            depth = 0;
        }
        let Some((name, close)) = current else {
            out.push(tok);
            continue;
        };
        if i == close {
            if out.last().is_some_and(|t: &Tok| t.kind != Kind::Newline) {
                if out.last().is_some_and(|t: &Tok| !is(t, ",")) {
                    out.push(Tok {
                        kind: Kind::Punct,
                        text: ",".into(),
                        column: 0,
                    });
                }
                out.push(newline());
            }
            out.push(tok);
            current = None;
            continue;
        }
        let inside = i > name + 2;
        if inside {
            match tok.kind {
                Kind::Open => depth += 1,
                Kind::Close => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        let comma = inside && depth == 0 && is(&tok, ",");
        out.push(tok);
        if i == name + 2 || comma {
            out.push(newline());
        }
    }
    out
}
