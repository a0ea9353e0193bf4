//! Thousands of broken scripts — cut, duplicated, shuffled and swapped
//! tokens of the golden scripts and examples, plus pathological nesting —
//! go through `check` and `run`. None may panic or hang, and every failure
//! must come with a diagnostic that has a code and a place.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use voyager::engine::Config;
use voyager::{LoadError, Voyager};

mod common;
use common::Rng;

/// Splits source into rough tokens: words, strings, single punctuation and
/// runs of white space. Good enough to make plausible nonsense.
fn tokens(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let chars: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_alphanumeric() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else if c.is_whitespace() {
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' && chars[i] != '\n' {
                i += 1;
            }
            i = (i + 1).min(chars.len());
        } else {
            i += 1;
        }
        out.push(chars[start..i].iter().collect());
    }
    out
}

const VOCABULARY: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    "..",
    ":",
    ";",
    "\n",
    "=",
    "=>",
    "+",
    "-",
    "*",
    "/",
    "%",
    "==",
    "<",
    ">=",
    "and",
    "or",
    "not",
    "let",
    "fn",
    "action",
    "if",
    "else",
    "match",
    "for",
    "in",
    "while",
    "return",
    "break",
    "continue",
    "interest",
    "observe",
    "pass",
    "when",
    "import",
    "call",
    "seq",
    "conc",
    "promise",
    "data",
    "delay",
    "void",
    "noop",
    "nil",
    "true",
    "0",
    "1",
    "-1",
    "2s",
    "\"s\"",
    "\"{x}\"",
    "x",
    "_",
    "/*",
    "*/",
    "//",
    "\"",
    "fail(\"x\")",
    "retry(\"r\")",
];

fn mutate(seed: &[String], rng: &mut Rng) -> String {
    let mut toks = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let n = toks.len().max(1);
        match rng.below(5) {
            0 => {
                let a = rng.below(n);
                let b = (a + 1 + rng.below(8)).min(toks.len());
                if a < b {
                    toks.drain(a..b);
                }
            }
            1 => {
                let a = rng.below(n);
                let b = (a + 1 + rng.below(12)).min(toks.len());
                let piece: Vec<String> = toks.get(a..b).map(<[String]>::to_vec).unwrap_or_default();
                let at = rng.below(toks.len() + 1);
                toks.splice(at..at, piece);
            }
            2 => {
                let a = rng.below(n);
                let b = (a + 2 + rng.below(6)).min(toks.len());
                for i in (a + 1..b).rev() {
                    let j = a + rng.below(i - a + 1);
                    toks.swap(i, j);
                }
            }
            3 => {
                let at = rng.below(toks.len() + 1);
                toks.insert(at, VOCABULARY[rng.below(VOCABULARY.len())].to_string());
            }
            _ => {
                if !toks.is_empty() {
                    let at = rng.below(toks.len());
                    toks[at] = VOCABULARY[rng.below(VOCABULARY.len())].to_string();
                }
            }
        }
    }
    toks.concat()
}

/// Checks and runs one script; returns a description of what went wrong.
fn exercise(src: &str) -> Result<(), String> {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let (mut checker, _) = Voyager::with_buffer(Config::default());
        if let Err(diags) = checker.compile("fuzz.vy", src, None) {
            if diags.is_empty() {
                return Err("check failed with no diagnostic".to_string());
            }
            for d in &diags {
                if d.code.len() != 5 || d.loc.is_none() || d.title.is_empty() {
                    return Err(format!("diagnostic without a code, place or title: {d:?}"));
                }
                // Rendering must not panic either.
                let _ = checker.render(d, false);
            }
            return Ok(());
        }
        let config = Config {
            max_steps: Some(2_000),
            ..Config::default()
        };
        let (mut v, _) = Voyager::with_buffer(config);
        v.engine.vm.fuel_limit = Some(200_000);
        match v.load("fuzz.vy", src, None) {
            Ok(()) => {
                v.run();
                for dead in v.engine.dead_letters() {
                    if dead.error.message.is_empty() {
                        return Err("a dead letter without an error message".into());
                    }
                }
                Ok(())
            }
            Err(LoadError::Runtime(d)) => {
                let _ = v.render(&d, false);
                Ok(())
            }
            Err(LoadError::Compile(_)) => Err("run failed to compile what check accepted".into()),
        }
    }));
    match outcome {
        Ok(result) => result,
        Err(_) => Err("panicked".to_string()),
    }
}

fn seeds() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut dirs = vec![root.join("tests/scripts"), root.join("examples")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "vy") {
                // The big-workload scripts would only make this test slow,
                // and scripts that run real commands, files or HTTP would
                // run mutated ones (and wait on real time).
                let text = std::fs::read_to_string(&path).expect("readable");
                let native = ["call(sh", "http", "read_file", "write_file"]
                    .iter()
                    .any(|n| text.contains(n));
                if !path.to_string_lossy().contains("limits") && !native {
                    out.push(text);
                }
            }
        }
    }
    out.sort();
    out
}

/// How long one small input may take to check and run (a debug build on a
/// busy machine). Far more than any input needs, far less than a parser that
/// backtracks exponentially would take.
const BUDGET: Duration = Duration::from_secs(2);

/// Runs `f(src)` on a thread with a large stack (as the CLI does) and gives
/// up waiting after `budget`, so that a hang fails the test with the input
/// instead of stalling it.
fn within(budget: Duration, src: String, f: fn(&str) -> Result<(), String>) -> Result<(), String> {
    let (done, result) = mpsc::channel();
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let _ = done.send(f(&src));
        })
        .expect("thread");
    match result.recv_timeout(budget) {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("took more than {budget:?}")),
    }
}

#[test]
fn thousands_of_mutated_scripts() {
    let seeds: Vec<Vec<String>> = seeds().iter().map(|s| tokens(s)).collect();
    assert!(seeds.len() > 20);
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut failures = Vec::new();
    for _ in 0..3_000 {
        let seed = &seeds[rng.below(seeds.len())];
        let src = mutate(seed, &mut rng);
        if let Err(why) = within(BUDGET, src.clone(), exercise) {
            failures.push(format!("{why}\n--- script\n{src}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} scripts failed; first:\n{}",
        failures.len(),
        failures[0]
    );
}

#[test]
fn pathological_nesting_and_size() {
    let cases: Vec<String> = vec![
        "(".repeat(10_000),
        "[".repeat(10_000),
        "{".repeat(10_000),
        format!("print({}1{})", "(".repeat(10_000), ")".repeat(10_000)),
        format!("let x = {}1", "-".repeat(100_000)),
        format!("let x = {}true", "not ".repeat(50_000)),
        format!("let x = 1{}", " + 1".repeat(100_000)),
        format!("let x = {}", "\"{".repeat(5_000)),
        format!("fn f() {{ f }}\nlet g = f{}", "()".repeat(20_000)),
        "let r = {a: 1}\nprint(r".to_string() + &".a".repeat(50_000) + ")",
        "print(1)\n".repeat(100_000),
        "/*".repeat(10_000),
        format!("print(\"{}\")", "x".repeat(1_000_000)),
        "match".repeat(10_000),
    ];
    // These are large; the bound only has to tell "slow" from "never ends"
    // (a debug build on a loaded two-core machine took over 60 s for one).
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|src| {
            let head: String = src.chars().take(40).collect();
            within(Duration::from_secs(180), src, exercise)
                .err()
                .map(|e| format!("{e}: {head}…"))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Unclosed brackets once made error recovery backtrack exponentially (20
/// `{` took seconds, 40 never finished), and so did nested list and record
/// patterns. Each of these must take well under the budget of a small input.
#[test]
fn nesting_does_not_backtrack() {
    let body = "x\n1\n".repeat(2_000);
    let cases: Vec<String> = vec![
        "{".repeat(20),
        "{".repeat(40),
        "{".repeat(200),
        "({".repeat(12),
        "({".repeat(100),
        "[{(".repeat(60),
        "f(".repeat(100),
        format!("{}x\n{body}", "{".repeat(150)),
        format!("{}x\n{body}", "({[".repeat(60)),
        format!("{}x\n{body}", "{ a b ".repeat(60)),
        "fn f() { let = ".repeat(60),
        format!("match x {{ {}", "[{".repeat(60)),
        format!("let x = {}1", "-".repeat(2_000)),
        format!("match 1 {{ {}x{} => 1 }}", "[".repeat(30), "]".repeat(30)),
        format!(
            "match 1 {{ {}x{} => 1 }}",
            "{a: ".repeat(30),
            "}".repeat(30)
        ),
    ];
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|src| {
            let head: String = src.chars().take(40).collect();
            within(BUDGET, src, exercise)
                .err()
                .map(|e| format!("{e}: {head}…"))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Checks a large input: it must be refused with a coded diagnostic (only the
/// first is rendered: rendering is not what is measured here).
fn check_large(src: &str) -> Result<(), String> {
    let (mut checker, _) = Voyager::with_buffer(Config::default());
    match checker.compile("large.vy", src, None) {
        Ok(_) => Ok(()),
        Err(diags) => match diags.first() {
            Some(d) if d.code.len() == 5 && d.loc.is_some() => {
                let _ = checker.render(d, false);
                Ok(())
            }
            other => Err(format!("no coded diagnostic: {other:?}")),
        },
    }
}

/// A megabyte of noise or of brackets is checked in bounded time (the bound
/// is for a debug build on a shared machine; the point is that it ends).
#[test]
fn a_megabyte_of_noise_or_brackets_is_checked_in_bounded_time() {
    const MB: usize = 1 << 20;
    let mut rng = Rng(0xB1B_BEEF_0000_0001);
    let noise: Vec<u8> = (0..MB).map(|_| rng.next() as u8).collect();
    let printable: String = (0..MB)
        .map(|_| match rng.below(20) {
            0 => '\n',
            _ => (b' ' + rng.below(95) as u8) as char,
        })
        .collect();
    let cases = vec![
        String::from_utf8_lossy(&noise).into_owned(),
        printable,
        "{".repeat(MB),
        "({".repeat(MB / 2),
        "[".repeat(MB),
    ];
    let failures: Vec<String> = cases
        .into_iter()
        .filter_map(|src| {
            let head: String = src.chars().take(20).collect();
            within(Duration::from_secs(60), src, check_large)
                .err()
                .map(|e| format!("{e}: {head:?}…"))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}
