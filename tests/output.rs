//! Program output as a reader meets it, through real pipes, files and a
//! pseudo-terminal: each printed line arrives when it is printed, a failed
//! write is an error, and a reader that goes away ends the run quietly.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh folder for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("voyager-output-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn script(dir: &std::path::Path, text: &str) -> String {
    let path = dir.join("script.vy");
    std::fs::write(&path, text).expect("write script");
    path.to_str().expect("path").to_string()
}

/// Stops a child the test no longer needs (it would otherwise wait a minute).
fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A line printed before a long wait reaches a pipe during the wait, not
/// when the process ends.
#[test]
fn a_pipe_gets_each_line_when_it_is_printed() {
    let dir = scratch("pipe");
    let path = script(
        &dir,
        "print(\"first\")\nseq([delay(60s), call(noop_later)])\naction noop_later() { }\n",
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["run", &path])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(10));
    stop(child);
    assert_eq!(
        line.expect("the line arrives while the script waits"),
        "first\n"
    );
}

/// A reader tailing a file sees a line printed before the script waits on a
/// job (and on a timer).
#[test]
fn a_file_gets_each_line_before_the_script_waits() {
    let dir = scratch("file");
    let path = script(
        &dir,
        "action second() { print(\"second\") }\n\
         print(\"first\")\n\
         seq([call(sh, \"sleep 60\"), call(second)])\n",
    );
    let out_path = dir.join("out.txt");
    let child = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["run", &path])
        .stdout(std::fs::File::create(&out_path).expect("out file"))
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = String::new();
    while Instant::now() < deadline && seen.is_empty() {
        std::thread::sleep(Duration::from_millis(50));
        seen = std::fs::read_to_string(&out_path).unwrap_or_default();
    }
    stop(child);
    assert_eq!(seen, "first\n");
}

/// On a terminal, with `--progress`, a printed line shows at once, and the
/// live line is cleared (`\r` and erase-line) before it.
#[test]
fn a_terminal_gets_each_line_with_the_progress_line_cleared_first() {
    let dir = scratch("pty");
    let path = script(
        &dir,
        "action hello() { print(\"hello from the script\") }\n\
         seq([delay(300ms), call(hello), delay(60s)])\n",
    );
    let command = format!("{} run --progress {path}", env!("CARGO_BIN_EXE_voyager"));
    let mut p = rexpect::spawn(&command, Some(10_000)).expect("spawns in a pty");
    let (before, _) = p
        .exp_regex("hello from the script")
        .expect("the line shows while the script waits");
    assert!(
        before.contains(" steps (") && before.ends_with("\r\x1b[K"),
        "the progress line is drawn, then cleared before the print: {before:?}"
    );
    p.exp_string(" steps (")
        .expect("the progress line is drawn again after the print");
    // Dropping the session ends the process.
    drop(p);
}

/// Output that cannot be written (a full disk) is an error: exit 74 and a
/// message on stderr, not a silent success.
#[test]
fn a_full_disk_is_exit_74() {
    let dir = scratch("full");
    let path = script(&dir, "print(\"a line\")\n");
    let out = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["run", &path])
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        )
        .stderr(Stdio::piped())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(74));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot write standard output"),
        "stderr: {stderr}"
    );
}

/// Runs with stdout and stderr each a pipe whose reader has already gone.
fn with_closed_pipes(args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    drop(child.stdout.take());
    drop(child.stderr.take());
    child.wait_with_output().expect("finishes")
}

/// A reader that goes away (`voyager check x.vy 2>&1 | head -1`) ends the
/// process quietly with status 141, as SIGPIPE would, instead of a panic.
#[test]
fn a_closed_stdout_or_stderr_ends_quietly_with_141() {
    let dir = scratch("closed");
    let bad = dir.join("bad.vy");
    std::fs::write(&bad, "let x = )\n".repeat(60)).expect("write");
    let out = with_closed_pipes(&["check", bad.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(141), "check with stderr closed");

    let endless = script(&dir, "let i = 0\nwhile true { print(i); i += 1 }\n");
    let out = with_closed_pipes(&["run", &endless]);
    assert_eq!(out.status.code(), Some(141), "run with stdout closed");
}
