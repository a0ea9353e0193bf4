//! `voyager fmt`: what it does to every script in the repository, and the
//! command line as a user meets it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use voyager::fmt::scan::{scan, Kind};
use voyager::fmt::{format_source, tree_text, FmtError};

fn voyager(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voyager starts");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(input.as_bytes()).expect("write stdin");
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("voyager finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "vy") {
            out.push(path);
        }
    }
}

/// Every `.vy` in the repository.
fn repository_scripts() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for dir in ["tests", "examples", "std", "editors"] {
        collect(&root.join(dir), &mut all);
    }
    all.sort();
    assert!(
        all.len() > 50,
        "expected the repository's scripts, found {}",
        all.len()
    );
    all
}

fn tree(src: &str) -> String {
    let stmts = voyager::runtime::parse_source(0, src).expect("parses");
    tree_text(&stmts)
}

fn comments(src: &str) -> Vec<String> {
    scan(src)
        .expect("scans")
        .into_iter()
        .filter(|t| matches!(t.kind, Kind::LineComment | Kind::BlockComment))
        .map(|t| t.text)
        .collect()
}

/// Each `//` comment that ends a line of code, with that code (spaces taken
/// out): the golden scripts' `// expect:` comments are read line by line.
fn trailing_comments(src: &str) -> Vec<(String, String)> {
    src.lines()
        .filter_map(|line| {
            let at = line.find("// ")?;
            let code: String = line[..at].chars().filter(|c| !c.is_whitespace()).collect();
            (!code.is_empty() && !code.contains('"')).then(|| (code, line[at..].to_string()))
        })
        .collect()
}

#[test]
fn every_script_formats_to_the_same_program_and_stays_formatted() {
    let mut checked = 0;
    for path in repository_scripts() {
        let name = path.display().to_string();
        let src = std::fs::read_to_string(&path).expect("readable");
        let formatted = match format_source(&name, &src, false) {
            Ok(formatted) => formatted,
            // Scripts that test syntax errors: left alone, as they should be.
            Err(FmtError::Syntax(_)) => continue,
            Err(FmtError::Internal(why)) => panic!("{name}: {why}"),
        };
        checked += 1;
        assert_eq!(tree(&formatted), tree(&src), "{name}: the program changed");
        let again = format_source(&name, &formatted, false).expect("formats again");
        assert_eq!(again, formatted, "{name}: formatting twice changed it");
        assert_eq!(
            comments(&formatted),
            comments(&src),
            "{name}: comments changed"
        );
        let (before, after) = (trailing_comments(&src), trailing_comments(&formatted));
        assert_eq!(
            before.len(),
            after.len(),
            "{name}: a trailing comment moved"
        );
        for ((code, comment), (new_code, new_comment)) in before.iter().zip(&after) {
            assert_eq!(comment, new_comment, "{name}");
            // A line split at `;` keeps the comment with its last statement.
            assert!(
                code.ends_with(new_code.as_str()),
                "{name}: `{comment}` left `{code}`"
            );
        }
    }
    assert!(checked > 50, "only {checked} scripts formatted");
}

#[test]
fn canonical_layout() {
    let src = "action  greet( who ){print(\"hi, {who}\") ;print(-1*2)}\n\n\n\
               let r={a:1,b:[1,2 ,3]}   // a record\n\
               if r.a>=1 and not false { print( r [\"a\"] ) } else {print(0)}\n\
               fn f(x){ x+1 }\n";
    let want = "action greet(who) {\n  print(\"hi, {who}\")\n  print(-1 * 2)\n}\n\n\
                let r = {a: 1, b: [1, 2, 3]}  // a record\n\
                if r.a >= 1 and not false { print(r[\"a\"]) } else { print(0) }\n\
                fn f(x) { x + 1 }\n";
    assert_eq!(format_source("t.vy", src, false).expect("formats"), want);
}

#[test]
fn a_negative_priority_stays_tight_and_the_word_stays_a_name_elsewhere() {
    let src = "action a(x)  limit 1 per x priority  -5 rate 2/s { print(x) }\n\
               action b() priority -1 { }\n\
               let priority = 3\nlet y = priority-5\n";
    let want = "action a(x) limit 1 per x priority -5 rate 2/s { print(x) }\n\
                action b() priority -1 {}\n\
                let priority = 3\nlet y = priority - 5\n";
    assert_eq!(format_source("t.vy", src, false).expect("formats"), want);
}

#[test]
fn comments_stay_where_they_were() {
    let src = "action f(x) {   // the action\n\n  let y = /* inline */ x-1\n\
               /* a block\n     comment kept as is */\n}\n\
               fn g(  ) { /* nothing */ }\n// end\n";
    let want = "action f(x) {  // the action\n  let y = /* inline */ x - 1\n  \
                /* a block\n     comment kept as is */\n}\n\
                fn g() { /* nothing */ }\n// end\n";
    assert_eq!(format_source("t.vy", src, false).expect("formats"), want);
}

#[test]
fn long_message_lists_go_one_element_per_line() {
    let src = "action step(n) { }\n\
               seq([call(step, 1111111111), call(step, 2222222222), conc([call(step, 3333333333), call(step, 4444444444)]), call(step, 5)])\n";
    let want = "action step(n) {}\n\
                seq([\n  call(step, 1111111111),\n  call(step, 2222222222),\n  \
                conc([call(step, 3333333333), call(step, 4444444444)]),\n  call(step, 5),\n])\n";
    assert_eq!(format_source("t.vy", src, false).expect("formats"), want);
}

#[test]
fn check_lists_what_would_change() {
    let dir = std::env::temp_dir().join(format!("voyager-fmt-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let messy = dir.join("messy.vy");
    let tidy = dir.join("tidy.vy");
    std::fs::write(&messy, "print( 1+2 )\n").expect("write");
    std::fs::write(&tidy, "print(1 + 2)\n").expect("write");
    let (messy_s, tidy_s) = (messy.display().to_string(), tidy.display().to_string());

    let out = voyager(&["fmt", "--check", &tidy_s], None);
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), String::new())
    );

    let out = voyager(&["fmt", "--check", &messy_s, &tidy_s], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), format!("{messy_s}\n"));
    assert_eq!(
        std::fs::read_to_string(&messy).expect("read"),
        "print( 1+2 )\n"
    );

    let out = voyager(&["fmt", &messy_s], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&messy).expect("read"),
        "print(1 + 2)\n"
    );
    let out = voyager(&["fmt", "--check", &messy_s], None);
    assert_eq!(out.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn standard_input_goes_to_standard_output() {
    let out = voyager(&["fmt", "-"], Some("let x=[1,2]"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "let x = [1, 2]\n");
}

#[test]
fn a_file_that_does_not_parse_is_left_alone() {
    let dir = std::env::temp_dir().join(format!("voyager-fmt-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.vy");
    std::fs::write(&bad, "let = 1\n").expect("write");
    let out = voyager(
        &["--color", "never", "fmt", &bad.display().to_string()],
        None,
    );
    assert_eq!(out.status.code(), Some(65));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("expected a name"), "{stderr}");
    assert!(
        stderr.contains("bad.vy does not parse; it was left as it is"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&bad).expect("read"), "let = 1\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn odd_input_does_not_panic() {
    for src in [
        "",
        "\n\n\n",
        ";;;",
        "/* only */",
        "// only",
        "{",
        "\"",
        "x = ",
        "{;}",
        "seq([",
        "1e",
    ] {
        let _ = format_source("t.vy", src, false);
    }
}

/// CI runs `cargo test`: this keeps the repository's own scripts formatted.
/// The editors' grammar tests are left out: they assert colours by column
/// (`//   ^^ keyword`), so their layout is part of what they test.
#[test]
fn the_repository_is_formatted() {
    let mut unformatted = Vec::new();
    for path in repository_scripts() {
        if path.components().any(|c| c.as_os_str() == "editors") {
            continue;
        }
        let name = path.display().to_string();
        let src = std::fs::read_to_string(&path).expect("readable");
        if let Ok(formatted) = format_source(&name, &src, false) {
            if formatted != src {
                unformatted.push(name);
            }
        }
    }
    assert!(
        unformatted.is_empty(),
        "run `voyager fmt` on these:\n{}",
        unformatted.join("\n")
    );
}
