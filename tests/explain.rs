//! `voyager explain`: every error code the sources use has an explanation,
//! each example really gets its code from the real binary, and each fix
//! does not.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use voyager::explain::{Reproduce, EXPLANATIONS};

/// The text of every source file in src/ but the table itself, by path.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, files: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("src/codes.rs")
            {
                let text = std::fs::read_to_string(&path).expect("a source file");
                files.push((path.display().to_string(), text));
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    files
}

/// Every `"E0123"` or `"W0123"` literal in a text.
fn code_literals(text: &str) -> BTreeSet<String> {
    let bytes = text.as_bytes();
    let mut codes = BTreeSet::new();
    for (i, _) in text.match_indices('"') {
        let Some(word) = bytes.get(i + 1..i + 7) else {
            continue;
        };
        if (word[0] == b'E' || word[0] == b'W')
            && word[1..5].iter().all(u8::is_ascii_digit)
            && word[5] == b'"'
        {
            codes.insert(String::from_utf8_lossy(&word[..5]).into_owned());
        }
    }
    codes
}

#[test]
fn codes_are_spelled_only_in_the_table() {
    let spelled: Vec<String> = sources()
        .iter()
        .filter_map(|(path, text)| {
            let codes = code_literals(text);
            (!codes.is_empty()).then(|| format!("{path}: {codes:?}"))
        })
        .collect();
    assert!(
        spelled.is_empty(),
        "codes written out of src/codes.rs (use its constants): {spelled:?}"
    );
}

#[test]
fn every_code_in_the_table_is_used_once_declared_once() {
    let files = sources();
    let unused: Vec<&str> = EXPLANATIONS
        .iter()
        .map(|e| e.name)
        .filter(|name| {
            let path = format!("codes::{name}");
            !files.iter().any(|(_, text)| {
                text.match_indices(&path).any(|(at, _)| {
                    !text[at + path.len()..]
                        .starts_with(|c: char| c == '_' || c.is_ascii_alphanumeric())
                })
            })
        })
        .collect();
    assert!(unused.is_empty(), "codes nothing emits: {unused:?}");
    let codes: BTreeSet<&str> = EXPLANATIONS.iter().map(|e| e.code).collect();
    assert_eq!(codes.len(), EXPLANATIONS.len(), "a code explained twice");
    assert!(EXPLANATIONS.len() > 30, "the table lost its rows");
}

/// Runs the binary on a program; returns its standard error (and output).
fn voyager(args: &[&str], program: &str, dir: &Path, name: &str) -> String {
    let file = dir.join(name);
    std::fs::write(&file, program).expect("the temp dir is writable");
    // Into a file, not a pipe: a report of a huge line would fill a pipe
    // that nobody reads while the child is waited for.
    let log = dir.join("output.txt");
    let out_file = std::fs::File::create(&log).expect("the temp dir is writable");
    let err_file = out_file.try_clone().expect("a second handle");
    let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(args)
        .arg(&file)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(err_file)
        .spawn()
        .expect("voyager starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait works").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("voyager {args:?} did not finish on:\n{}", shorten(program));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    String::from_utf8_lossy(&std::fs::read(&log).expect("the output")).into_owned()
}

/// A program or output short enough for a failure message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(2000) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[test]
fn each_example_gets_its_code_and_each_fix_does_not() {
    let dir = std::env::temp_dir().join(format!("voyager-explain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    let mut unreproduced = Vec::new();
    for e in EXPLANATIONS {
        let mut args = vec!["--color", "never"];
        match e.reproduce {
            Reproduce::Check => args.push("check"),
            Reproduce::Run(options) => {
                args.extend(["run", "--clock", "virtual"]);
                args.extend(options);
            }
            Reproduce::Not(_) => {
                unreproduced.push(e.code);
                continue;
            }
        }
        let example = e.generate.map_or_else(|| e.example.to_string(), |g| g());
        let out = voyager(&args, &example, &dir, "example.vy");
        assert!(
            out.contains(e.code),
            "{}'s example does not get it:\n{}\n---\n{}",
            e.code,
            shorten(&example),
            shorten(&out)
        );
        let out = voyager(&args, e.fix, &dir, "fixed.vy");
        assert!(
            !out.contains(e.code),
            "{}'s fix still gets it:\n{}\n---\n{}",
            e.code,
            e.fix,
            shorten(&out)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    // Ctrl-C has no example run; the store's codes need files and
    // processes: tests/store_cli.rs gets E0400 to E0404 (a file-size
    // limit stands in for a full disk); the PostgreSQL store's (E0405 to E0408) need a server:
    // tests/store_pg.rs gets E0405, E0407 and E0408 (E0406 needs workers
    // that crash five times); `voyager serve`'s need a running server:
    // tests/serve.rs gets them over a socket (E0507, a request during
    // shutdown, aside).
    assert_eq!(
        unreproduced,
        [
            "E0306", "E0400", "E0401", "E0402", "E0403", "E0404", "E0405", "E0406", "E0407",
            "E0408", "E0500", "E0501", "E0502", "E0503", "E0504", "E0505", "E0506", "E0507",
            "E0508", "E0509", "E0510", "E0511", "E0512"
        ],
        "only Ctrl-C and the store's codes have no example run"
    );
}

#[test]
fn explain_prints_the_explanation_or_the_list_and_an_unknown_code_is_status_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["explain", "e0100"])
        .output()
        .expect("voyager runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("E0100: an unknown name\n"), "{text}");
    assert!(text.contains("    print(totl)\n"), "{text}");
    assert!(
        text.contains("Fixed:\n\n    let total = 1\n    print(total)\n"),
        "{text}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .arg("explain")
        .output()
        .expect("voyager runs");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("E0001  a token where the grammar does not allow it\n"),
        "{text}"
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with('E') || l.starts_with('W'))
            .count(),
        EXPLANATIONS.len()
    );

    let out = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["explain", "E9999"])
        .output()
        .expect("voyager runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("there is no error code `E9999`"), "{text}");
}
