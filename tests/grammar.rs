//! The written grammar and the editor grammars cannot drift from the
//! language: every example in grammar/voyager.ebnf parses with the real
//! parser, and every keyword, constructor and prelude name appears in each
//! editor grammar.

use std::path::Path;

use voyager::syntax::lexer::{lex, KEYWORDS};
use voyager::syntax::parser::parse;
use voyager::vm::natives::NATIVES;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect(path)
}

fn parses(src: &str) -> Result<(), String> {
    let (tokens, lex_errors) = lex(src);
    if !lex_errors.is_empty() {
        return Err(format!("lex errors: {lex_errors:?}"));
    }
    let (_, errors) = parse(&tokens, src.len());
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("{errors:?}"))
    }
}

#[test]
fn every_grammar_example_parses() {
    let grammar = read("grammar/voyager.ebnf");
    let mut count = 0;
    for line in grammar.lines() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix("(* ") else {
            continue;
        };
        let Some(example) = rest.strip_suffix(" *)") else {
            continue;
        };
        let src = if let Some(pattern) = example.strip_prefix("pattern e.g. ") {
            format!("match x {{ {pattern} => 1 }}")
        } else if let Some(stmt) = example.strip_prefix("e.g. ") {
            stmt.to_string()
        } else {
            continue;
        };
        count += 1;
        if let Err(e) = parses(&src) {
            panic!("grammar example does not parse: {src}\n{e}");
        }
    }
    assert!(count >= 30, "only {count} examples found");
}

#[test]
fn a_broken_example_would_be_caught() {
    assert!(parses("let = 1").is_err());
    assert!(parses("match x { [a, ..rest, b] => 1 }").is_err());
}

/// Every name a user can type that a grammar should colour.
fn language_names() -> Vec<String> {
    let mut names: Vec<String> = KEYWORDS.iter().map(|k| k.to_string()).collect();
    names.extend(NATIVES.iter().map(|n| n.name.to_string()));
    names.push("noop".into());
    names.extend(
        voyager::engine::jobs::JOB_ACTIONS
            .iter()
            .map(|(n, ..)| n.to_string()),
    );
    let prelude = read("std/prelude.vy");
    names.extend(
        prelude
            .lines()
            .filter_map(|l| l.strip_prefix("fn "))
            .filter_map(|l| l.split('(').next())
            .map(str::to_string),
    );
    names
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        boundary(before) && boundary(after)
    })
}

#[test]
fn every_keyword_and_prelude_name_is_in_each_editor_grammar() {
    let grammars = [
        (
            "VS Code",
            read("editors/vscode/syntaxes/voyager.tmLanguage.json"),
        ),
        ("Vim", read("editors/vim/syntax/voyager.vim")),
    ];
    let names = language_names();
    assert!(names.len() > 60);
    for (editor, text) in &grammars {
        let missing: Vec<&String> = names.iter().filter(|n| !contains_word(text, n)).collect();
        assert!(missing.is_empty(), "{editor} grammar lacks {missing:?}");
    }
}

#[test]
fn the_vscode_package_is_well_formed() {
    let package: serde_json::Value =
        serde_json::from_str(&read("editors/vscode/package.json")).expect("JSON");
    assert_eq!(package["contributes"]["languages"][0]["id"], "voyager");
    assert_eq!(
        package["contributes"]["languages"][0]["extensions"][0],
        ".vy"
    );
    for path in [
        "editors/vscode/syntaxes/voyager.tmLanguage.json",
        "editors/vscode/syntaxes/voyager.markdown.tmLanguage.json",
        "editors/vscode/language-configuration.json",
        "editors/vscode/snippets/voyager.json",
    ] {
        let _: serde_json::Value =
            serde_json::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    }
    let grammar: serde_json::Value =
        serde_json::from_str(&read("editors/vscode/syntaxes/voyager.tmLanguage.json"))
            .expect("JSON");
    assert_eq!(grammar["scopeName"], "source.voyager");
}

/// Vim, where it is installed: the syntax loads, colours what it should,
/// and an unterminated string stops at the end of its line.
#[test]
fn vim_colours_a_file_and_stops_an_unterminated_string_at_its_line() {
    if std::process::Command::new("vim")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("vim is not installed here: skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("voyager-vim-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("sample.vy");
    let out = dir.join("out.txt");
    std::fs::write(
        &file,
        "let s = \"never closed\nlet t = 1\naction go() { print(\"x {y}\") } // c\n",
    )
    .expect("write");
    let rtp = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vim");
    let probe = "echo synIDattr(synID(1, 12, 1), 'name') synIDattr(synID(2, 1, 1), 'name') \
        synIDattr(synID(3, 8, 1), 'name') synIDattr(synID(3, 15, 1), 'name') \
        synIDattr(synID(3, 26, 1), 'name') synIDattr(synID(3, 35, 1), 'name') &commentstring";
    // Ex mode may end with a non-zero status for reasons of its own (no
    // terminal); what it wrote is the answer.
    let _ = std::process::Command::new("vim")
        .args(["-Nu", "NONE", "-i", "NONE", "-es"])
        .arg("-c")
        .arg(format!("set rtp^={}", rtp.display()))
        .args(["-c", "filetype plugin indent on", "-c", "syntax on"])
        .arg("-c")
        .arg(format!("edit {}", file.display()))
        .arg("-c")
        .arg(format!("redir! > {}", out.display()))
        .args(["-c", probe, "-c", "redir END", "-c", "qa!"])
        .status()
        .expect("vim runs");
    let seen = std::fs::read_to_string(&out).expect("vim wrote its answer");
    assert_eq!(
        seen.trim(),
        "voyagerString voyagerStorage voyagerDeclName voyagerBuiltin voyagerInterpDelim voyagerLineComment // %s"
    );
}
