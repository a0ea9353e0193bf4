//! The written grammar and the editor grammars cannot drift from the
//! language: every example in grammar/voyager.ebnf parses with the real
//! parser, and every keyword, constructor and prelude name appears in each
//! editor grammar.

use std::collections::BTreeSet;
use std::path::Path;

use voyager::bytecode::chunk::MessagePattern;
use voyager::cli::repl::{builtin_completions, highlight};
use voyager::syntax::lexer::lex;
use voyager::syntax::parser::parse;
use voyager::syntax::words::{Arity, CONSTRUCTORS, CONTEXTUAL, KEYWORDS, SCHEDULE};
use voyager::vm::natives::{self, NATIVES};

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
    names.extend(CONSTRUCTORS.iter().map(|c| c.name.to_string()));
    names.extend(NATIVES.iter().map(|n| n.name.to_string()));
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
    let language = &package["contributes"]["languages"][0];
    assert_eq!(language["id"], "voyager");
    // `.vy` is also Vyper's: the package claims files by their first line
    // only (editors/vscode/tests/first-line.js tests the pattern).
    assert!(language["extensions"].is_null(), "claims an extension");
    assert!(language["firstLine"]
        .as_str()
        .is_some_and(|l| l.contains("voyager")));
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

fn keywords() -> BTreeSet<String> {
    KEYWORDS.iter().map(|k| k.to_string()).collect()
}

fn constructors() -> BTreeSet<String> {
    CONSTRUCTORS.iter().map(|c| c.name.to_string()).collect()
}

/// The text between `open` and the next `close` after it.
fn between<'t>(text: &'t str, open: &str, close: &str) -> &'t str {
    let start = text.find(open).unwrap_or_else(|| panic!("no {open:?}")) + open.len();
    let len = text[start..].find(close).expect("closed");
    &text[start..start + len]
}

fn words_of(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_ebnf_lists_exactly_the_keywords_and_constructors() {
    let ebnf = read("grammar/voyager.ebnf");
    assert_eq!(words_of(between(&ebnf, "Keywords:", ".")), keywords());
    assert_eq!(
        words_of(between(&ebnf, "message constructors (", ")")),
        constructors()
    );
    // Message patterns: `call(...)`, bare `noop`, and the rest by name.
    let message_pat = between(&ebnf, "\nmessage_pat =", ";");
    let mut patterns: BTreeSet<String> = message_pat
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|w| w.chars().all(|c| c.is_ascii_alphabetic()))
        .map(str::to_string)
        .collect();
    patterns.insert("call".into());
    patterns.insert("noop".into());
    assert_eq!(patterns, constructors());
}

#[test]
fn the_vscode_grammar_colours_exactly_the_keywords_and_constructors() {
    let grammar: serde_json::Value =
        serde_json::from_str(&read("editors/vscode/syntaxes/voyager.tmLanguage.json"))
            .expect("JSON");
    // Each rule is `\b(a|b|c)\b`, perhaps with a lookahead after it.
    let words = |rule: &str| -> BTreeSet<String> {
        let patterns = grammar["repository"][rule]["patterns"]
            .as_array()
            .unwrap_or_else(|| panic!("repository.{rule}.patterns"));
        patterns
            .iter()
            .map(|p| p["match"].as_str().expect("match"))
            .flat_map(|m| {
                words_of(
                    m.trim_start_matches("\\b")
                        .split(")\\b")
                        .next()
                        .unwrap_or(m),
                )
            })
            .filter(|w| w != "b")
            .collect()
    };
    assert_eq!(words("keywords"), keywords());
    assert_eq!(words("constructors"), constructors());
}

#[test]
fn the_vim_syntax_colours_exactly_the_keywords_and_constructors() {
    let vim = read("editors/vim/syntax/voyager.vim");
    let groups = [
        "voyagerConditional",
        "voyagerRepeat",
        "voyagerStatement",
        "voyagerInclude",
        "voyagerOperatorWord",
        "voyagerBoolean",
        "voyagerConstant",
        "voyagerStorage",
    ];
    let mut seen_keywords = BTreeSet::new();
    let mut seen_constructors = BTreeSet::new();
    for line in vim.lines() {
        let Some(rest) = line.strip_prefix("syn keyword ") else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let group = parts.next().unwrap_or_default();
        // Options (`nextgroup=…`, `skipwhite`, `contained`) are not words.
        let words = parts
            .filter(|w| !w.contains('=') && !["skipwhite", "contained"].contains(w))
            .map(str::to_string);
        if groups.contains(&group) {
            seen_keywords.extend(words);
        } else if group == "voyagerConstructor" {
            seen_constructors.extend(words);
        }
    }
    assert_eq!(seen_keywords, keywords());
    assert_eq!(seen_constructors, constructors());
}

#[test]
fn the_repl_colours_and_completes_every_keyword_and_constructor() {
    for k in KEYWORDS {
        assert_eq!(highlight(k), format!("\x1b[35;1m{k}\x1b[0m"), "keyword {k}");
    }
    for c in CONSTRUCTORS {
        let name = c.name;
        assert_eq!(
            highlight(name),
            format!("\x1b[33m{name}\x1b[0m"),
            "constructor {name}"
        );
    }
    let completions = builtin_completions();
    for word in KEYWORDS.iter().chain(CONSTRUCTORS.iter().map(|c| &c.name)) {
        assert!(completions.contains(word), "Tab does not complete {word}");
    }
}

/// The runtime's own lists (the natives that build messages, the message
/// patterns the compiler knows) agree with the table, arity included.
#[test]
fn the_runtime_agrees_with_the_constructor_table() {
    for c in CONSTRUCTORS {
        let pattern = MessagePattern::from_name(c.name).map(|(_, n)| n);
        match c.arity {
            Arity::Bare => {
                assert!(natives::lookup(c.name).is_none(), "{} is a value", c.name);
                assert_eq!(pattern, Some(0), "{}", c.name);
            }
            Arity::Exactly(n) => {
                let native = natives::lookup(c.name).expect(c.name);
                assert_eq!((native.min, native.max), (n, n), "{}", c.name);
                assert_eq!(pattern, Some(n), "{}", c.name);
            }
            Arity::AtLeast(n) => {
                let native = natives::lookup(c.name).expect(c.name);
                assert_eq!((native.min, native.max), (n, usize::MAX), "{}", c.name);
            }
        }
    }
    for kind in voyager::engine::node::KINDS {
        assert!(
            CONSTRUCTORS.iter().any(|c| c.name == kind),
            "{kind} is missing from the table"
        );
    }
}

/// Whether vim can run here. Missing is a loud skip on a developer's
/// machine and a failure in CI (`CI=true`), which installs it.
fn vim_available() -> bool {
    let found = std::process::Command::new("vim")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "vim is not installed, and CI=true: .ci/run should have installed it"
        );
        eprintln!("SKIPPED: vim is not installed here, so the Vim package is not tested");
    }
    found
}

/// Opens `file` in headless Vim with editors/vim on the runtimepath,
/// syntax and filetype detection on, and runs `probe` (an Ex command whose
/// output is wanted). Returns every error message Vim gave, and what the
/// probe printed.
fn vim_open(file: &Path, probe: &str) -> (Vec<String>, String) {
    let dir = std::env::temp_dir().join(format!(
        "voyager-vim-{}-{}",
        std::process::id(),
        file.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let messages = dir.join("messages.txt");
    let answer = dir.join("answer.txt");
    let rtp = Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vim");
    // Vim takes at most ten `-c` commands: the steps go in a script.
    let driver = dir.join("driver.vim");
    std::fs::write(
        &driver,
        format!(
            "set rtp^={rtp}\nfiletype plugin indent on\nsyntax on\nedit {file}\n\
             redir! > {answer}\n{probe}\nredir END\n\
             redir! > {messages}\nmessages\nredir END\nqa!\n",
            rtp = rtp.display(),
            file = file.display(),
            answer = answer.display(),
            messages = messages.display(),
        ),
    )
    .expect("write the driver");
    let status = std::process::Command::new("vim")
        .args(["-Nu", "NONE", "-i", "NONE", "-es", "-S"])
        .arg(&driver)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("vim runs");
    let messages = std::fs::read_to_string(&messages).unwrap_or_default();
    let mut errors: Vec<String> = messages
        .lines()
        .filter(|l| l.contains("Error") || is_vim_error(l))
        .map(str::to_string)
        .collect();
    if !status.status.success() {
        errors.push(format!(
            "vim exited with {}: {}",
            status.status,
            String::from_utf8_lossy(&status.stderr)
        ));
    }
    let answer = std::fs::read_to_string(&answer).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    (errors, answer.trim().to_string())
}

/// A Vim error line starts with its number: `E395: …`.
fn is_vim_error(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with('E')
        && line[1..]
            .split_once(':')
            .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

#[test]
fn vim_opens_every_example_without_an_error() {
    if !vim_available() {
        return;
    }
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut count = 0;
    for entry in std::fs::read_dir(&examples).expect("examples/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("vy") {
            continue;
        }
        count += 1;
        let (errors, filetype) = vim_open(&path, "echo &filetype b:current_syntax");
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
        assert_eq!(filetype, "voyager voyager", "{}", path.display());
    }
    assert!(count >= 5, "only {count} examples");
}

#[test]
fn vim_colours_known_positions_of_hello() {
    if !vim_available() {
        return;
    }
    let hello = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hello.vy");
    // Line 2: `action greet(who) { print("hello, {who}") }`;
    // line 4: `seq([call(greet, "A"), …`.
    let at = |line: u32, col: u32| format!("synIDattr(synID({line}, {col}, 1), 'name')");
    let probe = format!(
        "echo {} {} {} {} {} {} {} &commentstring",
        at(1, 1),
        at(2, 1),
        at(2, 8),
        at(2, 21),
        at(2, 27),
        at(2, 35),
        at(4, 1),
    );
    let (errors, seen) = vim_open(&hello, &probe);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        seen,
        "voyagerLineComment voyagerStorage voyagerDeclName voyagerBuiltin voyagerString \
         voyagerInterpDelim voyagerConstructor // %s"
    );
}

#[test]
fn vim_colours_a_triple_quoted_string_over_its_lines_without_interpolation() {
    if !vim_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("voyager-vim-raw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("raw.vy");
    std::fs::write(
        &file,
        "let help = \"\"\"\n  usage: {who} \\q\n\"\"\"\nlet after = 1\n",
    )
    .expect("write");
    // Line 2 is inside the string: `{who}` is text, `\q` no bad escape;
    // line 4 is code again.
    let probe = "echo synIDattr(synID(1, 12, 1), 'name') synIDattr(synID(2, 10, 1), 'name') \
        synIDattr(synID(2, 16, 1), 'name') synIDattr(synID(3, 1, 1), 'name') \
        synIDattr(synID(4, 1, 1), 'name')";
    let (errors, seen) = vim_open(&file, probe);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(
        seen,
        "voyagerString voyagerString voyagerString voyagerString voyagerStorage"
    );
}

#[test]
fn vim_colours_contains_and_stops_an_unterminated_string_at_its_line() {
    if !vim_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("voyager-vim-sample-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("sample.vy");
    std::fs::write(&file, "let s = \"never closed\nlet t = contains([1], 1)\n").expect("write");
    let probe = "echo synIDattr(synID(1, 12, 1), 'name') synIDattr(synID(2, 1, 1), 'name') \
        synIDattr(synID(2, 9, 1), 'name')";
    let (errors, seen) = vim_open(&file, probe);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(seen, "voyagerString voyagerStorage voyagerBuiltin");
}

#[test]
fn the_resource_words_are_in_the_ebnf_and_each_editor_grammar() {
    let ebnf = read("grammar/voyager.ebnf");
    let rule = between(&ebnf, "\nresource    =", ";");
    let vim = read("editors/vim/syntax/voyager.vim");
    let vim_words = vim
        .lines()
        .find_map(|l| l.strip_prefix("syn keyword voyagerResourceWord "))
        .expect("a voyagerResourceWord group");
    let vscode = read("editors/vscode/syntaxes/voyager.tmLanguage.json");
    for word in CONTEXTUAL {
        assert!(
            contains_word(rule, &format!("\"{word}\"")) || rule.contains(&format!("\"{word}\"")),
            "EBNF lacks {word}"
        );
        assert!(contains_word(vim_words, word), "Vim lacks {word}");
        assert!(
            vscode.contains(&format!("({word}|"))
                || vscode.contains(&format!("|{word}|"))
                || vscode.contains(&format!("|{word})")),
            "VS Code lacks {word}"
        );
        // Still a name everywhere else.
        assert!(!KEYWORDS.contains(word), "{word} became a keyword");
        parses(&format!("let {word} = 1\nprint({word})")).unwrap_or_else(|e| panic!("{word}: {e}"));
    }
}

#[test]
fn the_schedule_words_are_in_the_ebnf_each_editor_grammar_and_the_repl() {
    let ebnf = read("grammar/voyager.ebnf");
    let rule = between(&ebnf, "\nschedule    =", ";");
    let vim = read("editors/vim/syntax/voyager.vim");
    let vim_words = vim
        .lines()
        .find_map(|l| l.strip_prefix("syn keyword voyagerScheduleWord "))
        .expect("a voyagerScheduleWord group");
    let vscode = read("editors/vscode/syntaxes/voyager.tmLanguage.json");
    let completions = builtin_completions();
    for word in SCHEDULE {
        assert!(rule.contains(&format!("\"{word}\"")), "EBNF lacks {word}");
        assert!(contains_word(vim_words, word), "Vim lacks {word}");
        assert!(
            vscode.contains(&format!("({word})"))
                || vscode.contains(&format!("({word}|"))
                || vscode.contains(&format!("|{word}|"))
                || vscode.contains(&format!("|{word})")),
            "VS Code lacks {word}"
        );
        assert!(
            completions.contains(word),
            "the REPL does not complete {word}"
        );
        // Still a name everywhere else.
        assert!(!KEYWORDS.contains(word), "{word} became a keyword");
        parses(&format!("let {word} = 1\nprint({word})")).unwrap_or_else(|e| panic!("{word}: {e}"));
    }
}
