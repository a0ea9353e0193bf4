//! Snapshots of what the command line prints on standard error where a
//! newcomer first stumbled (issue 14): a bad `--backoff`, a missing `cwd`
//! folder, calls an interest would match that run nested and unrouted, a
//! long dead letter, and the REPL's disassembly of a function.

mod common;

/// Runs `voyager ARGS` with `stdin`, colour off; returns stdout, stderr and
/// the exit status.
fn voyager(args: &[&str], stdin: &str) -> (String, String, i32) {
    let history = std::env::temp_dir().join("voyager-cli-diagnostics-history");
    let out = common::voyager(
        args,
        &[("VOYAGER_HISTORY", history.as_os_str())],
        Some(stdin),
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn backoff_without_a_unit() {
    let (_, err, code) = voyager(&["run", "--backoff", "5", "-"], "print(1)\n");
    assert_eq!(code, 2);
    insta::assert_snapshot!(err);
}

#[test]
fn sh_with_a_missing_cwd_folder() {
    let (_, err, code) = voyager(
        &["run", "--clock", "virtual", "-"],
        "call(sh, \"make test\", {cwd: \"/no/such/voyager-folder\"})\n",
    );
    assert_eq!(code, 1);
    insta::assert_snapshot!(err);
}

#[test]
fn nested_calls_an_interest_matches_warn_once_and_are_counted() {
    let script = "import passes\naction write(x) { }\naction write_many(xs) { print(\"one write of {len(xs)}\") }\naction done() { print(\"done\") }\ninterest \"writes\" when call(write, _)\npass \"writes\" (msgs) { passes.batch(msgs, write_many) }\nseq([conc([call(write, 1), call(write, 2)]), call(done)])\nseq([call(done), conc([call(write, 3), call(write, 4)])])\n";
    let (out, err, code) = voyager(&["run", "--clock", "virtual", "--stats", "-"], script);
    assert_eq!(code, 0);
    assert_eq!(out, "done\ndone\none write of 2\n");
    // The stats' timings vary: keep the warning and the count.
    let kept: Vec<&str> = err
        .lines()
        .filter(|l| {
            l.starts_with("warning")
                || l.trim_start().starts_with("help")
                || l.contains("not routed")
        })
        .collect();
    insta::assert_snapshot!(kept.join("\n"));
}

#[test]
fn a_long_dead_letter_is_shortened_to_its_failing_call() {
    let script = "action step(n) { }\naction upload(rows) { fail(\"disk full\") }\nseq([call(step, 1), conc([call(step, 2), seq([call(upload, range(0, 400)), call(step, 3)])]), call(step, 4)])\n";
    let (_, err, code) = voyager(&["run", "--clock", "virtual", "-"], script);
    assert_eq!(code, 1);
    insta::assert_snapshot!(err);
}

#[test]
fn repl_disasm_names_globals() {
    let (out, err, _) = voyager(
        &["repl", "--clock", "virtual"],
        "let total = 0\nfn sq(x) { x * x }\nfn add(n) { total = total + sq(n) }\n:disasm add\n",
    );
    assert_eq!(err, "");
    // Slot numbers depend on how many globals the prelude declares: the
    // names are what counts.
    let out: Vec<String> = out
        .lines()
        .map(|l| match l.find("_GLOBAL") {
            Some(at) => {
                let (op, rest) = l.split_at(at + "_GLOBAL".len());
                let rest = rest
                    .trim_start()
                    .trim_start_matches(|c: char| c.is_ascii_digit());
                format!("{op} #{rest}")
            }
            None => l.to_string(),
        })
        .collect();
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn call_of_an_action_in_a_variable_one_argument_short() {
    // One short may be a promise's callback, so `call` lets it through; it
    // fails when it runs, and the listing shows the call that failed.
    let (_, err, code) = voyager(
        &["run", "--clock", "virtual", "-"],
        "action deploy(target, region) { print(target) }\nlet step = deploy\nseq([call(step, \"web\", \"eu\"), call(step, \"db\")])\n",
    );
    assert_eq!(code, 1);
    insta::assert_snapshot!(err);
}
