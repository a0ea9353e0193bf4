//! The golden scripts without native jobs print the same, and end with the
//! same status, with `--store` as without: a SQLite file, and a PostgreSQL
//! database (against the test server; skipped loudly without one).

use std::path::Path;
use std::process::Command;

mod common;
use common::scripts;

/// Whether a golden script is a plain run this test can repeat with a store.
fn eligible(source: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    for line in source.lines() {
        let Some(at) = line.find("// ") else { continue };
        let comment = &line[at + 3..];
        if comment.starts_with("command: ") || comment.starts_with("error: ") {
            return None;
        }
        if let Some(a) = comment.strip_prefix("args: ") {
            args.extend(a.split_whitespace().map(str::to_string));
        }
    }
    // Native jobs (commands, files, requests) and other files in play.
    let natives = ["call(sh", "read_file", "write_file", "call(http", "import "];
    if natives.iter().any(|n| source.contains(n))
        || args
            .iter()
            .any(|a| a.contains("requeue") || a.contains("dead-letters"))
    {
        return None;
    }
    // With a store, schedules fire without a flag and the run never
    // finishes (it is stopped, or bounded by --for): a script with a
    // schedule and no --for is not the same run.
    let schedules = source.lines().any(|l| l.starts_with("schedule "));
    if schedules && !args.iter().any(|a| a == "--for") {
        return None;
    }
    Some(args)
}

fn run(path: &Path, args: &[String], store: Option<&std::ffi::OsStr>) -> (String, Option<i32>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voyager"));
    cmd.args(["--color", "never", "run", "--clock", "virtual"])
        .args(args);
    if let Some(db) = store {
        // (--fresh: one PostgreSQL database serves every script.)
        cmd.arg("--store").arg(db).arg("--fresh");
    }
    let out = cmd.arg(path).output().expect("voyager runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.code(),
    )
}

#[test]
fn golden_scripts_print_the_same_with_a_store() {
    golden(None);
}

#[test]
fn golden_scripts_print_the_same_with_a_postgres_store() {
    if let Some(url) = common::pg_database("golden") {
        golden(Some(&url));
    }
}

/// Each eligible script, without a store and with one: a SQLite file per
/// script, or the PostgreSQL database `pg`.
fn golden(pg: Option<&str>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let mut all = Vec::new();
    scripts(&root, &mut all);
    let dir = std::env::temp_dir().join(format!(
        "voyager-golden-store-{}-{}",
        pg.is_some(),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut checked = 0;
    let mut failures = Vec::new();
    for (n, path) in all.iter().enumerate() {
        let source = std::fs::read_to_string(path).expect("readable");
        let Some(args) = eligible(&source) else {
            continue;
        };
        let (want, want_code) = run(path, &args, None);
        // A compile error or a failing top level is not a run to store.
        if want_code == Some(65) || want_code == Some(2) {
            continue;
        }
        let db = dir.join(format!("{n}.db"));
        let store = pg.map_or(db.as_os_str(), std::ffi::OsStr::new);
        let (got, got_code) = run(path, &args, Some(store));
        if got != want || got_code != want_code {
            failures.push(format!(
                "{}: without a store: {want_code:?}\n{want}\nwith --store {}: {got_code:?}\n{got}",
                path.display(),
                store.to_string_lossy()
            ));
        }
        checked += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(checked > 40, "only {checked} scripts were eligible");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
