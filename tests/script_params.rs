//! A script's parameters and exit status from the command line, where the
//! golden scripts cannot reach: `-- --help`, standard input, `exit(n)` with
//! `--dead-letters` and `--requeue`, and the REPL, where nothing is bound.

use std::process::{Command, Output};

mod common;

fn voyager(args: &[&str], stdin: Option<&str>) -> Output {
    common::voyager(args, &[], stdin)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("voyager-params-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

const DEPLOY: &str = r#"
let target = param("env")
let region = param("region", "eu")
let force = flag("force", false)
let replicas = flag("replicas", 1)
let token = env("VOYAGER_PARAMS_TEST_TOKEN", "none")
print("{target} {region} {force} {replicas} {token}")
"#;

#[test]
fn help_lists_what_the_script_takes_and_runs_nothing() {
    let out = voyager(&["run", "-", "--", "--help"], Some(DEPLOY));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "usage: voyager run <stdin> -- <env> [<region>] [--force] [--replicas VALUE]\n\
         environment: VOYAGER_PARAMS_TEST_TOKEN\n"
    );
}

#[test]
fn words_and_the_environment_reach_the_script() {
    let out = common::voyager(
        &["run", "-", "--", "prod", "--replicas=4", "us", "--force"],
        &[("VOYAGER_PARAMS_TEST_TOKEN", "s3cret".as_ref())],
        Some(DEPLOY),
    );
    assert_eq!(
        text(&out.stdout),
        "prod us true 4 s3cret\n",
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_missing_parameter_is_status_2_with_the_usage() {
    let out = voyager(&["run", "-"], Some(DEPLOY));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("E0309"), "{err}");
    assert!(err.contains("parameter <env> is required"), "{err}");
    assert!(err.contains("usage: voyager run <stdin> -- <env>"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn check_with_words_checks_them_and_without_words_does_not() {
    let dir = temp_dir("check");
    let file = dir.join("deploy.vy");
    std::fs::write(&file, DEPLOY).expect("write");
    let file = file.to_str().expect("utf-8 path");
    let out = voyager(&["check", file], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = voyager(&["check", file, "--", "prod", "--replicas", "many"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--replicas is `many`, but it must be an int"));
    let out = voyager(&["check", file, "--", "prod", "--replicas", "2"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn exit_keeps_the_queued_work_for_a_requeue() {
    let dir = temp_dir("exit");
    let script = dir.join("stop.vy");
    std::fs::write(
        &script,
        "action stop() { exit(5) }\naction later(n) { print(\"later {n}\") }\ncall(stop)\ncall(later, 1)\ncall(later, 2)\n",
    )
    .expect("write");
    let letters = dir.join("left.jsonl");
    let (script, letters_path) = (
        script.to_str().expect("utf-8"),
        letters.to_str().expect("utf-8"),
    );
    let out = voyager(
        &[
            "run",
            "--clock",
            "virtual",
            "--dead-letters",
            letters_path,
            script,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.contains("exit(5) ended the run; 2 item(s) left unfinished"),
        "{err}"
    );
    let saved = std::fs::read_to_string(&letters).expect("the file");
    assert_eq!(saved.lines().count(), 2, "{saved}");
    let out = voyager(
        &[
            "run",
            "--clock",
            "virtual",
            "--requeue",
            letters_path,
            script,
        ],
        None,
    );
    assert_eq!(
        text(&out.stdout),
        "later 1\nlater 2\n",
        "{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn in_the_repl_defaults_hold_and_exit_ends_nothing() {
    let out = voyager(
        &["repl"],
        Some("print(flag(\"tag\", \"latest\"))\nprint(args())\nexit(3)\nprint(\"still here\")\n"),
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("latest"), "{stdout}");
    assert!(stdout.contains("[]"), "{stdout}");
    assert!(stdout.contains("still here"), "{stdout}");
    assert!(
        text(&out.stderr).contains("exit(n) ends a `voyager run`"),
        "{}",
        text(&out.stderr)
    );
}

/// examples/release.vy: a parameter, an imported module, a JSON manifest,
/// commands side by side, a failed host rolled back, file jobs, a report,
/// a cleanup; its output is the golden one below.
#[test]
fn the_release_example_runs_as_documented() {
    let root = env!("CARGO_MANIFEST_DIR");
    let run = |words: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_voyager"))
            .args([
                "--color",
                "never",
                "run",
                "--clock",
                "virtual",
                "examples/release.vy",
                "--",
            ])
            .args(words)
            .current_dir(root)
            .output()
            .expect("voyager runs")
    };
    let out = run(&["staging"]);
    assert_eq!(
        text(&out.stdout),
        "release 2.4.0 (built 01 Dec 2026) to 2 host(s) in staging\n  web-1: ok\n  web-2: ok\nlog: 2 line(s);    24 bytes\n",
        "{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // In prod one host's deploy fails: it is rolled back, not retried, and
    // the release goes on; the scratch folder goes whatever happened.
    let out = run(&["prod"]);
    assert_eq!(
        text(&out.stdout),
        "release 2.4.0 (built 01 Dec 2026) to 2 host(s) in prod\n  web-3: ok\n  web-4: rolled back (E0307)\nlog: 3 line(s);    42 bytes\n",
        "{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("1 failure(s) recovered"));
    let out = run(&["nowhere"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("no hosts for nowhere in examples/release.json"));
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr)
        .contains("usage: voyager run examples/release.vy -- <env> [--manifest VALUE]"));
}
