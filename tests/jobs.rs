//! Native actions that run off the interpreter thread: commands and files.

use std::process::Command;

fn run(script: &str, extra: &[&str]) -> (String, String, i32) {
    let dir = std::env::temp_dir().join(format!(
        "voyager-jobs-{}-{}",
        std::process::id(),
        script.len()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("jobs.vy");
    std::fs::write(&file, script).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never", "run"])
        .args(extra)
        .arg(&file)
        .current_dir(&dir)
        .output()
        .expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// Start and end times (ns) that two one-second commands print.
fn spans(extra: &[&str]) -> Vec<(u128, u128)> {
    let script = r#"
action report(results) { for r in results { print(trim(r.stdout)) } }
let cmd = "date +%s%N; sleep 1; date +%s%N"
promise([call(sh, cmd), call(sh, cmd)], report)
"#;
    let (out, err, code) = run(script, extra);
    assert_eq!(code, 0, "{err}");
    let times: Vec<u128> = out
        .split_whitespace()
        .map(|t| t.parse().expect("a time"))
        .collect();
    assert_eq!(times.len(), 4, "{out}");
    vec![(times[0], times[1]), (times[2], times[3])]
}

#[test]
fn commands_in_a_conc_really_run_at_once() {
    let s = spans(&[]);
    // Each started before the other ended: they overlapped.
    assert!(s[0].0 < s[1].1 && s[1].0 < s[0].1, "{s:?}");
}

#[test]
fn jobs_1_runs_them_one_after_the_other() {
    let s = spans(&["--jobs", "1"]);
    let (first, second) = if s[0].0 < s[1].0 {
        (s[0], s[1])
    } else {
        (s[1], s[0])
    };
    assert!(second.0 >= first.1, "{s:?}");
}

#[test]
fn results_options_and_files() {
    let script = r#"
action show(r) { print(r) }
action show_text(t) { print("read: {t}") }
seq([
  call(write_file, "out.txt", "hello file"),
  promise([call(read_file, "out.txt")], call(show, )),
  promise([call(sh, "cat; echo $GREETING; pwd", {stdin: "from stdin\n", env: {GREETING: "hi"}, cwd: "/"})], show),
  promise([call(sh, "echo oops >&2; exit 4", {check: false})], show),
])
"#;
    let (out, err, code) = run(script, &["--clock", "virtual"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "[\"hello file\"]\n\
         [{code: 0, stdout: \"from stdin\\nhi\\n/\\n\", stderr: \"\"}]\n\
         [{code: 4, stdout: \"\", stderr: \"oops\\n\"}]\n"
    );
}

#[test]
fn failures_are_clear_retried_when_it_may_help_and_never_lost() {
    let script = r#"
action log(x) { print(x) }
call(sh, "no_such_command_xyz")
call(sh, "echo failing >&2; exit 3")
call(read_file, "/no/such/file")
call(write_file, "/no/such/dir/f.txt", "x")
call(sh, 42)
call(log, "others still run")
"#;
    let (out, err, code) = run(script, &["--clock", "virtual", "--max-attempts", "3"]);
    assert_eq!(out, "others still run\n");
    assert_eq!(code, 1);
    assert!(err.contains("5 dead letter(s)"), "{err}");
    // Not found: fatal at once.
    assert!(
        err.contains("dead letter")
            && err.contains("call(sh, \"no_such_command_xyz\") (attempts: 1)")
    );
    assert!(err.contains("exited with status 127"));
    // A failing command: retried, then given up, with the tail of stderr.
    assert!(err.contains(
        "gave up after 3 attempts: `echo failing >&2; exit 3` exited with status 3: failing"
    ));
    assert!(err.contains("cannot read /no/such/file"));
    assert!(err.contains("cannot write /no/such/dir/f.txt"));
    assert!(err.contains("sh expects a command string, got 42"));
}

#[test]
fn huge_output_is_capped_and_says_so() {
    let script = r#"
action size(rs) { print("{len(rs[0].stdout)} {rs[0].truncated}") }
promise([call(sh, "head -c 3000000 /dev/zero | tr '\\0' x")], size)
"#;
    let (out, err, code) = run(script, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "1048576 true\n");
}

#[test]
fn a_timeout_cancels_its_command_and_kills_the_process() {
    let marker =
        std::env::temp_dir().join(format!("voyager-timeout-marker-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let script = format!(
        "action log(x) {{ print(x) }}\n\
         timeout(300ms, call(sh, \"sleep 7.31; touch {}\"))\n\
         call(log, \"others go on\")\n",
        marker.display()
    );
    let started = std::time::Instant::now();
    let (out, err, code) = run(&script, &["--max-attempts", "1"]);
    let took = started.elapsed();
    assert_eq!(out, "others go on\n");
    assert_eq!(code, 1);
    assert!(
        err.contains("gave up after 1 attempts: timed out after 300ms"),
        "{err}"
    );
    // Generous bound: the command would take 7 seconds.
    assert!(took < std::time::Duration::from_secs(4), "took {took:?}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let still = Command::new("pgrep").args(["-f", "sleep 7.31"]).output();
    if let Ok(still) = still {
        assert!(
            still.stdout.is_empty(),
            "the child still runs: {}",
            String::from_utf8_lossy(&still.stdout)
        );
    }
    assert!(!marker.exists(), "the command ran to its end");
}
