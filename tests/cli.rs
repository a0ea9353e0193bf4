//! The command line as a user meets it: exit statuses, standard input,
//! colour, help and version.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn voyager(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voyager starts");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    } else {
        drop(child.stdin.take());
    }
    child.wait_with_output().expect("voyager finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn runs_standard_input() {
    let out = voyager(&["run", "-"], Some("print(1 + 2)\n"));
    assert_eq!(text(&out.stdout), "3\n");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_missing_file_is_exit_66() {
    let out = voyager(&["run", "/no/such/file.vy"], None);
    assert_eq!(out.status.code(), Some(66));
    assert!(text(&out.stderr).contains("cannot read /no/such/file.vy"));
}

#[test]
fn a_file_that_is_not_utf8_is_exit_66() {
    let dir = std::env::temp_dir().join(format!("voyager-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("binary.vy");
    std::fs::write(&path, [0x70, 0xff, 0xfe, 0x00]).expect("write");
    let out = voyager(&["check", path.to_str().expect("path")], None);
    assert_eq!(out.status.code(), Some(66));
    assert!(text(&out.stderr).contains("not UTF-8"));
}

#[test]
fn a_bad_command_line_is_exit_2() {
    assert_eq!(
        voyager(&["run", "--no-such-flag", "x.vy"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(voyager(&["frobnicate"], None).status.code(), Some(2));
    assert_eq!(
        voyager(&["run", "--clock", "sideways", "x.vy"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        voyager(&["run", "--backoff", "3days", "x.vy"], None)
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn a_compile_error_is_exit_65_for_check_and_run() {
    for command in ["check", "run", "disasm"] {
        let out = voyager(&[command, "-"], Some("prnt(1)\n"));
        assert_eq!(out.status.code(), Some(65), "{command}");
        assert!(text(&out.stderr).contains("E0100"));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn colour_follows_the_flag() {
    let plain = voyager(&["--color", "never", "check", "-"], Some("prnt(1)\n"));
    assert!(!text(&plain.stderr).contains('\u{1b}'));
    let coloured = voyager(&["--color", "always", "check", "-"], Some("prnt(1)\n"));
    assert!(text(&coloured.stderr).contains('\u{1b}'));
    // Not a terminal: `auto` means no colour.
    let auto = voyager(&["check", "-"], Some("prnt(1)\n"));
    assert!(!text(&auto.stderr).contains('\u{1b}'));
}

#[test]
fn help_has_examples_and_version_is_printed() {
    let help = voyager(&["--help"], None);
    assert_eq!(help.status.code(), Some(0));
    let help = text(&help.stdout);
    assert!(help.contains("Examples:") && help.contains("voyager run examples/hello.vy"));
    assert!(help.contains("Exit status"));
    let version = voyager(&["--version"], None);
    assert!(text(&version.stdout).starts_with("voyager "));
}

#[test]
fn stdout_carries_only_what_the_program_prints() {
    let out = voyager(
        &["run", "--clock", "virtual", "--stats", "--trace", "-"],
        Some("action a(x) { print(x) }\ndata(1)\ncall(a, \"only this\")\nfail_here()\nfn fail_here() { nil }\n"),
    );
    assert_eq!(text(&out.stdout), "only this\n");
    let err = text(&out.stderr);
    assert!(err.contains("trace: step 1"));
    assert!(err.contains("stats:"));
    assert!(err.contains("1 unclaimed data"));
}

#[test]
fn disasm_interleaves_source_lines() {
    let out = voyager(&["disasm", "-"], Some("let x = 1 + 2\nprint(x)\n"));
    let listing = text(&out.stdout);
    assert!(listing.contains("     1 | let x = 1 + 2"));
    assert!(listing.contains("ADD"));
    assert!(listing.contains("     2 | print(x)"));
    assert!(listing.contains("CALL          1"));
}
