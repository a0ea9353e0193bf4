//! Dead letters end to end, through the real binary: every dead item is
//! written to `--dead-letters` and read back by `--requeue` (whatever it
//! holds, however deep), a line that cannot be read is reported and kept,
//! a requeue runs only the requeued items, and the listing on stderr stays
//! short.

use std::path::PathBuf;
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("voyager-dl-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `voyager run --clock virtual ARGS… SCRIPT`, the script written to `dir`.
fn run(dir: &std::path::Path, name: &str, script: &str, args: &[&str]) -> Output {
    let path = dir.join(name);
    std::fs::write(&path, script).expect("write script");
    Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never", "run", "--clock", "virtual"])
        .args(args)
        .arg(&path)
        .output()
        .expect("runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path_arg(p: &std::path::Path) -> &str {
    p.to_str().expect("path")
}

/// A value nested 200,000 deep is written and requeued (it overflowed the
/// stack when written, and reading stopped at depth 128).
#[test]
fn a_deeply_nested_value_is_written_and_requeued() {
    let dir = scratch("deep");
    let file = dir.join("dead.jsonl");
    let broken = "action take(x) { fail(\"not yet\") }\n\
                  let x = []\n\
                  for i in range(0, 200000) { x = [x] }\n\
                  call(take, x)\n";
    let out = run(
        &dir,
        "broken.vy",
        broken,
        &["--dead-letters", path_arg(&file)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let fixed = "action take(x) {\n\
                   let depth = 0\n\
                   while len(x) == 1 { x = x[0]; depth += 1 }\n\
                   print(depth)\n\
                 }\n";
    let out = run(&dir, "fixed.vy", fixed, &["--requeue", path_arg(&file)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "200000\n");
}

/// NaN, infinities and a declared function survive the round trip; a
/// function the script cannot name again is reported, never dropped.
#[test]
fn values_json_cannot_hold_are_written_and_read_back() {
    let dir = scratch("tagged");
    let file = dir.join("dead.jsonl");
    let script = |fixed: bool| {
        format!(
            "let fixed = {fixed}\n\
             fn double(x) {{ x * 2 }}\n\
             action work(f, xs) {{ if not fixed {{ fail(\"later\") }}; print(\"{{f(2)}} {{xs}}\") }}\n\
             action other(f) {{ fail(\"still broken\") }}\n\
             call(work, double, [0.0 / 0.0, 1.0 / 0.0, -1.0 / 0.0])\n\
             call(other, fn(x) {{ x }})\n"
        )
    };
    let out = run(
        &dir,
        "broken.vy",
        &script(false),
        &["--dead-letters", path_arg(&file)],
    );
    assert_eq!(out.status.code(), Some(1));
    let written = std::fs::read_to_string(&file).expect("dead letters written");
    assert_eq!(written.lines().count(), 2, "{written}");
    assert!(!written.contains("unwritable"), "{written}");

    let out = run(
        &dir,
        "fixed.vy",
        &script(true),
        &["--requeue", path_arg(&file)],
    );
    let err = text(&out.stderr);
    assert_eq!(text(&out.stdout), "4 [NaN, inf, -inf]\n", "{err}");
    assert!(err.contains("dead.jsonl:2: "), "{err}");
    assert!(err.contains("cannot be restored"), "{err}");
    assert_eq!(out.status.code(), Some(1), "a skipped line is not success");
}

/// One line that cannot be read is reported with its number; the others
/// run, the status says something was skipped, and the line is kept in the
/// new dead-letters file.
#[test]
fn a_bad_requeue_line_is_skipped_kept_and_the_rest_run() {
    let dir = scratch("badline");
    let requeue = dir.join("in.jsonl");
    let out_file = dir.join("out.jsonl");
    std::fs::write(
        &requeue,
        "{\"call\":{\"action\":\"work\",\"args\":[1]}}\n\
         {\"call\":{\"action\":\"nope\"}}\n\
         not json at all\n\
         {\"call\":{\"action\":\"work\",\"args\":[4]}}\n",
    )
    .expect("write");
    let out = run(
        &dir,
        "script.vy",
        "action work(x) { print(x) }\n",
        &[
            "--requeue",
            path_arg(&requeue),
            "--dead-letters",
            path_arg(&out_file),
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(text(&out.stdout), "1\n4\n", "{err}");
    assert!(
        err.contains("in.jsonl:2: this script has no action `nope`"),
        "{err}"
    );
    assert!(err.contains("in.jsonl:3: not JSON"), "{err}");
    assert!(
        err.contains("2 line(s) of the requeue file were skipped"),
        "{err}"
    );
    assert_eq!(out.status.code(), Some(1));
    let kept = std::fs::read_to_string(&out_file).expect("written");
    assert!(
        kept.contains("\"nope\"") && kept.contains("not json at all"),
        "{kept}"
    );
}

/// A requeue runs the declarations and the requeued items, not the
/// workflow's top-level messages again; other top-level code still runs.
#[test]
fn requeue_does_not_run_the_top_level_messages_again() {
    let dir = scratch("toplevel");
    let file = dir.join("dead.jsonl");
    let script = |fixed: bool| {
        format!(
            "let fixed = {fixed}\n\
             let greeting = \"hello\"\n\
             action step(x) {{ if x == 2 and not fixed {{ fail(\"broken\") }}; print(\"{{greeting}} {{x}}\") }}\n\
             seq([call(step, 1), call(step, 2), call(step, 3)])\n"
        )
    };
    let out = run(
        &dir,
        "broken.vy",
        &script(false),
        &["--dead-letters", path_arg(&file)],
    );
    assert_eq!(text(&out.stdout), "hello 1\n");
    let out = run(
        &dir,
        "fixed.vy",
        &script(true),
        &["--requeue", path_arg(&file)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello 2\nhello 3\n");
    assert!(text(&out.stderr).contains("1 top-level message(s) were not enqueued"));
}

/// The listing names the failing call and where it is in the item, and
/// cuts a long item short; the dead-letters file keeps all of it.
#[test]
fn the_listing_is_short_and_names_the_failing_call() {
    let dir = scratch("listing");
    let file = dir.join("dead.jsonl");
    let out = run(
        &dir,
        "script.vy",
        "action ok(x) { }\n\
         action boom(x) { fail(\"boom\") }\n\
         let big = range(0, 3000)\n\
         seq([call(ok, 1), conc([call(boom, big), call(ok, 2)]), call(ok, big)])\n",
        &["--dead-letters", path_arg(&file)],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let item = err
        .lines()
        .find(|l| l.starts_with("dead letter 1 of 1: seq([conc([call(boom, [0, 1, 2"))
        .unwrap_or_else(|| panic!("the item is listed: {err}"));
    assert!(item.len() < 400, "the item is cut short: {item}");
    assert!(item.contains("characters in all"), "{item}");
    let failed = err
        .lines()
        .find(|l| l.trim_start().starts_with("failed: call(boom, [0, 1, 2"))
        .unwrap_or_else(|| panic!("the failing call is named: {err}"));
    assert!(failed.ends_with(" at seq[0] > conc[0]"), "{failed}");
    assert!(failed.len() < 400, "{failed}");
    let written = std::fs::read_to_string(&file).expect("written");
    assert!(
        written.contains("2998, 2999]"),
        "the file keeps the whole item"
    );
}

/// `catch`, `ensure`, `then` and `retrying` are written with what they
/// hold and read back: requeued, they run as the original would have.
#[test]
fn wrapped_messages_are_written_and_requeued() {
    let dir = scratch("wraps");
    let file = dir.join("dead.jsonl");
    let actions = "action show(label, x) { print(\"{label}: {x}\") }\n\
                   action handle(label, err) { print(\"{label} caught {err.code}\") }\n\
                   action tidy(label) { print(\"{label} tidied\") }\n";
    let broken = format!(
        "{actions}action work(x) {{ fail(\"not yet\") }}\n\
         seq([call(work, 1), catch(call(work, 2), call(handle, \"c\"))])\n\
         seq([call(work, 3), ensure(then(call(work, 4), call(show, \"t\")), call(tidy, \"e\"))])\n\
         seq([call(work, 5), retrying(call(work, 6), {{attempts: 2, backoff: 1s, on: [\"E0301\"]}})])\n"
    );
    let out = run(
        &dir,
        "broken.vy",
        &broken,
        &["--dead-letters", path_arg(&file)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&file).expect("dead letters written");
    for key in [
        "\"catch\"",
        "\"handler\"",
        "\"ensure\"",
        "\"cleanup\"",
        "\"then\"",
        "\"next\"",
        "\"retrying\"",
        "\"policy\"",
    ] {
        assert!(written.contains(key), "{key} missing from {written}");
    }
    let fixed = format!(
        "{actions}let tries = 0\n\
         action work(x) {{\n\
           if x == 2 {{ fail(\"still broken\") }}\n\
           if x == 6 {{ tries += 1; if tries < 2 {{ retry(\"once more\") }} }}\n\
           print(\"work {{x}}\")\n\
           x * 10\n\
         }}\n"
    );
    let out = run(&dir, "fixed.vy", &fixed, &["--requeue", path_arg(&file)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut lines: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            "c caught E0300",
            "e tidied",
            "t: 40",
            "work 1",
            "work 3",
            "work 4",
            "work 5",
            "work 6"
        ],
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
