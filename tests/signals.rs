//! SIGINT and SIGTERM during `voyager run`: running commands are ended,
//! the unfinished work is listed and saved, and the status says which.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts a script that runs a long command (which first touches a marker
/// file) beside a long delay, sends `signal` once the command runs, and
/// returns the exit status, stderr and the dead-letters file.
fn interrupt_with(signal: i32, tag: &str) -> (Option<i32>, String, String) {
    let dir = std::env::temp_dir().join(format!("voyager-signals-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let marker = dir.join("started");
    let _ = std::fs::remove_file(&marker);
    let script = dir.join("long.vy");
    std::fs::write(
        &script,
        format!(
            "action log(x) {{ print(x) }}\n\
             call(sh, \"touch {}; sleep 104.{tag}\")\n\
             seq([delay(1h), call(log, \"never\")])\n",
            marker.display()
        ),
    )
    .expect("write");
    let dead = dir.join("dead.jsonl");
    let child = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never", "run", "--dead-letters"])
        .arg(&dead)
        .arg(&script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voyager starts");
    let started = Instant::now();
    while !marker.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the command never ran"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: signals the child process this test started.
    unsafe {
        libc::kill(pid, signal);
    }
    let out = child.wait_with_output().expect("voyager finishes");
    // Generous bound: the command and the delay would take far longer.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    std::thread::sleep(Duration::from_millis(100));
    let left = Command::new("pgrep")
        .args(["-f", &format!("sleep 104.{tag}")])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert_eq!(left, "", "the command still runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        std::fs::read_to_string(&dead).unwrap_or_default(),
    )
}

#[test]
fn sigint_ends_commands_saves_the_unfinished_work_and_exits_130() {
    let (code, err, dead) = interrupt_with(libc::SIGINT, "1");
    assert_eq!(code, Some(130), "{err}");
    assert!(
        err.contains("stopped by SIGINT; 2 item(s) unfinished:"),
        "{err}"
    );
    assert!(err.contains("call(sh, "), "{err}");
    assert!(
        err.contains("seq([delay(1h), call(log, \"never\")])"),
        "{err}"
    );
    assert_eq!(dead.lines().count(), 2, "{dead}");
    assert!(
        dead.contains("unfinished when SIGINT stopped the run"),
        "{dead}"
    );
}

#[test]
fn sigterm_does_the_same_and_exits_143() {
    let (code, err, dead) = interrupt_with(libc::SIGTERM, "2");
    assert_eq!(code, Some(143), "{err}");
    assert!(
        err.contains("stopped by SIGTERM; 2 item(s) unfinished:"),
        "{err}"
    );
    assert_eq!(dead.lines().count(), 2, "{dead}");
}

/// In the REPL, Ctrl-C during a command stops the command, and its call
/// stays queued for `:run`.
#[test]
fn repl_ctrl_c_stops_a_command_and_keeps_its_call_queued() {
    let dir = std::env::temp_dir().join(format!("voyager-signals-{}-repl", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let marker = dir.join("started");
    let _ = std::fs::remove_file(&marker);
    let command = format!(
        "{} --color never repl --history {}",
        env!("CARGO_BIN_EXE_voyager"),
        dir.join("history").display()
    );
    let mut p = rexpect::spawn(&command, Some(10_000)).expect("spawns in a pty");
    p.exp_string("vy> ").expect("prompt");
    std::thread::sleep(Duration::from_millis(150));
    p.send_line(&format!(
        "call(sh, \"touch {}; sleep 106.3\")",
        marker.display()
    ))
    .expect("send");
    let started = Instant::now();
    while !marker.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the command never ran"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    p.send_control('c').expect("ctrl-c");
    p.exp_string("interrupted; 1 item(s) still waiting")
        .expect("the run stopped");
    p.exp_string("vy> ").expect("prompt");
    let left = Command::new("pgrep")
        .args(["-f", "sleep 106.3"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert_eq!(left, "", "the command still runs");
    std::thread::sleep(Duration::from_millis(150));
    p.send_line(":queue").expect("send");
    p.exp_string("main queue: 1 item(s)").expect("still queued");
    p.exp_string("sleep 106.3").expect("the call itself");
    std::thread::sleep(Duration::from_millis(150));
    p.send_control('d').expect("ctrl-d");
    p.exp_eof().expect("exits");
}

/// A second SIGINT does not wait for the first one's clean-up (here a
/// command that ignores SIGTERM holds it up for the grace before SIGKILL).
#[test]
fn a_second_sigint_exits_at_once() {
    let dir = std::env::temp_dir().join(format!("voyager-signals-{}-twice", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let marker = dir.join("started");
    let _ = std::fs::remove_file(&marker);
    let script = dir.join("stubborn.vy");
    std::fs::write(
        &script,
        format!(
            "call(sh, \"trap '' TERM; touch {}; while :; do sleep 0.05; done; echo 107.5\")\n",
            marker.display()
        ),
    )
    .expect("write");
    let child = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never", "run"])
        .arg(&script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voyager starts");
    let started = Instant::now();
    while !marker.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the command never ran"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: signals the child process this test started.
    unsafe {
        libc::kill(pid, libc::SIGINT);
        std::thread::sleep(Duration::from_millis(150));
        libc::kill(pid, libc::SIGINT);
    }
    let out = child.wait_with_output().expect("voyager finishes");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(130), "{err}");
    // It left before reporting: no summary.
    assert!(!err.contains("stopped by SIGINT"), "{err}");
    // The command it left behind is this test's to end.
    let left = Command::new("pgrep")
        .args(["-f", "echo 107.5"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    for pid in left
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
    {
        // SAFETY: ends a shell this test's script started.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }
}

/// `voyager run --schedules` runs until it is stopped: Ctrl-C between
/// firings, with nothing unfinished, is a clean end (status 0, a note),
/// not an interruption; with a firing's work still running, it is one.
#[test]
fn ctrl_c_between_firings_ends_a_schedules_run_cleanly() {
    let dir = std::env::temp_dir().join(format!("voyager-signals-{}-sched", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let run = |body: &str| {
        let script = dir.join("beat.vy");
        std::fs::write(
            &script,
            format!("action tick() {{ {body} }}\nschedule beat every 200ms {{ call(tick) }}\n"),
        )
        .expect("write");
        let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
            .args(["--color", "never", "run", "--schedules"])
            .arg(&script)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("voyager starts");
        // Wait for the first firing's line.
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).expect("a line");
        assert_eq!(line, "tick\n");
        let pid = i32::try_from(child.id()).expect("pid");
        // SAFETY: signals the child process this test started.
        unsafe {
            libc::kill(pid, libc::SIGINT);
        }
        let out = child.wait_with_output().expect("voyager finishes");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run("print(\"tick\")");
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("note: stopped by SIGINT between firings"),
        "{err}"
    );
    assert!(!err.contains("error"), "{err}");
    // A firing whose command still runs: interrupted, and it says what.
    let (code, err) = run("print(\"tick\")\n  call(sh, \"sleep 105.3\")");
    assert_eq!(code, Some(130), "{err}");
    assert!(
        err.contains("stopped by SIGINT; 1 item(s) unfinished:"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A crash (the SIGSEGV a stack overflow raises) ends with the
/// internal-error status and says what most likely happened, not with a
/// bare "Segmentation fault".
#[test]
fn a_crash_says_so_and_exits_70() {
    let dir = std::env::temp_dir().join(format!("voyager-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let script = dir.join("spin.vy");
    std::fs::write(&script, "let i = 0\nwhile true { i = i + 1 }\n").expect("write");
    let child = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .arg("run")
        .arg(&script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voyager starts");
    // The handler is installed before the script is read.
    std::thread::sleep(Duration::from_millis(300));
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: signals the child process this test started.
    unsafe {
        libc::kill(pid, libc::SIGSEGV);
    }
    let out = child.wait_with_output().expect("voyager finishes");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(70), "stderr: {stderr}");
    assert!(
        stderr.contains("internal error: the process crashed"),
        "stderr: {stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
