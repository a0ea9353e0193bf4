//! Schedules with `--store`: each firing is enqueued once across restarts
//! (the last due time is kept in the same commit as the firing's item),
//! and a stretch missed while nothing ran fires once. The virtual clock
//! starts where each run says (`--clock-start`), so a restart can go back
//! in time or skip ahead.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn voyager(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("voyager runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("voyager-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn run_from(dir: &Path, start: &str, for_time: &str) -> Output {
    let out = voyager(
        dir,
        &[
            "run",
            "--store",
            "run.db",
            "--clock",
            "virtual",
            "--clock-start",
            start,
            "--for",
            for_time,
            "s.vy",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    out
}

const SCRIPT: &str =
    "schedule tick every 1h {\n  print(\"tick {now()}\")\n}\nprint(\"top level\")\n";

#[test]
fn a_restart_does_not_fire_again_and_a_missed_stretch_fires_once() {
    let dir = temp_dir("store-schedules");
    std::fs::write(dir.join("s.vy"), SCRIPT).unwrap();
    let first = run_from(&dir, "2026-01-05T00:00:00Z", "3h");
    assert_eq!(
        text(&first.stdout),
        "top level\ntick 2026-01-05T01:00:00Z\ntick 2026-01-05T02:00:00Z\ntick 2026-01-05T03:00:00Z\n"
    );
    // The same three hours again: every firing in them was enqueued
    // already, so none is again (the top level runs, its declarations).
    let again = run_from(&dir, "2026-01-05T00:00:00Z", "3h");
    assert_eq!(text(&again.stdout), "top level\n");
    // Back a day later: the 20 hourly firings missed meanwhile come as
    // one, at once; then the schedule keeps its hour.
    let later = run_from(&dir, "2026-01-06T00:30:00Z", "1h");
    assert_eq!(
        text(&later.stdout),
        "top level\ntick 2026-01-06T00:30:00Z\ntick 2026-01-06T01:00:00Z\n"
    );
    // The last due time is in the durable state.
    let status = voyager(&dir, &["status", "run.db"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_firing_stopped_before_it_ran_resumes_and_is_not_fired_again() {
    let dir = temp_dir("store-schedules-stop");
    std::fs::write(
        dir.join("s.vy"),
        "schedule tick every 1h {\n  seq([call(say, \"start\"), delay(30m), call(say, \"end\")])\n}\naction say(what) { print(\"{what} {now()}\") }\n",
    )
    .unwrap();
    // --max-steps stops the run in the first firing's delay.
    let stopped = voyager(
        &dir,
        &[
            "run",
            "--store",
            "run.db",
            "--clock",
            "virtual",
            "--clock-start",
            "2026-01-05T00:00:00Z",
            "--for",
            "1h",
            "--max-steps",
            "3",
            "s.vy",
        ],
    );
    assert_eq!(stopped.status.code(), Some(1), "{}", text(&stopped.stderr));
    assert_eq!(text(&stopped.stdout), "start 2026-01-05T01:00:00Z\n");
    // Resumed at the same hour: the firing's item goes on (its delay), and
    // the 01:00 firing is not enqueued a second time.
    let resumed = run_from(&dir, "2026-01-05T01:00:00Z", "30m");
    assert_eq!(text(&resumed.stdout), "end 2026-01-05T01:30:00Z\n");
    let _ = std::fs::remove_dir_all(&dir);
}
