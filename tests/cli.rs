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

#[test]
fn dead_letters_are_written_and_can_be_requeued() {
    let dir = std::env::temp_dir().join(format!("voyager-dl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("dead.jsonl");
    let file = file.to_str().expect("path");
    let broken = "let fixed = false\n\
        action work(x, opts) { if not fixed { fail(\"broken {x}\") }; print(\"ok {x} {opts}\") }\n\
        conc([call(work, 1, {z: 2s, a: [now()]}), seq([call(work, 2, nil), call(work, 3, nil)])])\n";
    let out = voyager(
        &["run", "--clock", "virtual", "--dead-letters", file, "-"],
        Some(broken),
    );
    assert_eq!(out.status.code(), Some(1));
    let written = std::fs::read_to_string(file).expect("dead letters written");
    assert_eq!(written.lines().count(), 2, "{written}");
    assert!(written.contains("\"code\":\"E0300\""));
    assert!(written.contains("\"message\":\"broken 2\""));
    let fixed = "let fixed = true\n\
        action work(x, opts) { if not fixed { fail(\"broken {x}\") }; print(\"ok {x} {opts}\") }\n";
    let out = voyager(
        &["run", "--clock", "virtual", "--requeue", file, "-"],
        Some(fixed),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Nothing lost, record key order kept, the seq still in order.
    assert_eq!(
        text(&out.stdout),
        "ok 1 {z: 2s, a: [1970-01-01T00:00:00Z]}\nok 2 nil\nok 3 nil\n"
    );
}

#[test]
fn unfinished_items_go_to_the_dead_letters_file() {
    let dir = std::env::temp_dir().join(format!("voyager-unf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("dead.jsonl");
    let file = file.to_str().expect("path");
    let script = "action again(n) { call(again, n + 1) }\ncall(again, 0)\n";
    let out = voyager(
        &["run", "--max-steps", "3", "--dead-letters", file, "-"],
        Some(script),
    );
    assert_eq!(out.status.code(), Some(1));
    let written = std::fs::read_to_string(file).expect("written");
    assert!(written.contains("\"args\":[3]"), "{written}");
    assert!(written.contains("E0304"));
}

#[test]
fn a_malformed_requeue_file_is_reported_with_its_line() {
    let dir = std::env::temp_dir().join(format!("voyager-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.jsonl");
    std::fs::write(
        &file,
        "{\"call\":{\"action\":\"work\",\"args\":[]}}\n{\"call\":{\"action\":\"nope\"}}\n",
    )
    .expect("write");
    let out = voyager(
        &["run", "--requeue", file.to_str().expect("path"), "-"],
        Some("action work() { print(1) }\n"),
    );
    // The line is reported and skipped; the others still run.
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("bad.jsonl:2: this script has no action `nope`"));
    assert_eq!(text(&out.stdout), "1\n");
}

#[test]
fn progress_is_a_live_line_on_a_terminal_and_off_otherwise() {
    let dir = std::env::temp_dir().join(format!("voyager-progress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("slow.vy");
    std::fs::write(
        &file,
        "action log(x) { print(x) }\nseq([delay(300ms), call(sh, \"sleep 0.3\"), delay(300ms), call(log, \"done\")])\n",
    )
    .expect("write");
    let command = format!(
        "{} run --progress {}",
        env!("CARGO_BIN_EXE_voyager"),
        file.display()
    );
    let mut p = rexpect::spawn(&command, Some(10_000)).expect("spawns in a pty");
    p.exp_regex(r"steps \(\d+/s\) \| queued \d+ \| timers \d+ \| topics 0 \| jobs \d+ \| dead 0")
        .expect("a progress line");
    p.exp_string("done").expect("the run finished");
    p.exp_eof().expect("exits");
    // Not a terminal: no progress line.
    let out = voyager(&["run", "--progress", file.to_str().expect("path")], None);
    assert_eq!(text(&out.stdout), "done\n");
    assert!(!text(&out.stderr).contains("steps ("));
}

/// Under the virtual clock, time jumps to each firing at once: schedules
/// without an end would fire without end. `run` needs `--for`, and `serve`
/// refuses; neither starts.
#[test]
fn virtual_time_with_schedules_needs_an_end() {
    let dir = std::env::temp_dir().join(format!("voyager-cli-virtual-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let script = dir.join("beat.vy");
    std::fs::write(
        &script,
        "action tick() { print(\"tick {now()}\") }\nschedule beat every 1h { call(tick) }\n",
    )
    .expect("write");
    let path = script.to_str().expect("a path");
    let run = voyager(&["run", "--schedules", "--clock", "virtual", path], None);
    assert_eq!(run.status.code(), Some(2), "{}", text(&run.stderr));
    assert!(
        text(&run.stderr).contains("give --for DURATION"),
        "{}",
        text(&run.stderr)
    );
    assert_eq!(text(&run.stdout), "");
    let bounded = voyager(
        &[
            "run",
            "--schedules",
            "--clock",
            "virtual",
            "--for",
            "2h",
            path,
        ],
        None,
    );
    assert_eq!(bounded.status.code(), Some(0), "{}", text(&bounded.stderr));
    assert_eq!(
        text(&bounded.stdout),
        "tick 1970-01-01T01:00:00Z\ntick 1970-01-01T02:00:00Z\n"
    );
    let serve = voyager(
        &[
            "serve",
            "--clock",
            "virtual",
            "--listen",
            "127.0.0.1:0",
            path,
        ],
        None,
    );
    assert_eq!(serve.status.code(), Some(2), "{}", text(&serve.stderr));
    assert!(
        text(&serve.stderr).contains("would fire without end"),
        "{}",
        text(&serve.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
