//! Durable runs survive SIGKILL: real `voyager run --store` processes,
//! killed at random moments and resumed with the same command until done.
//!
//! Sized for debug builds (the suite builds no release binary): 10,000
//! items, up to 20 kills.

mod common;

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn voyager() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_voyager"));
    c.args(["--color", "never"]);
    c
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("voyager-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

/// The stores a test runs on: a SQLite file in its folder, and a database
/// of the PostgreSQL test server (skipped loudly without one; CI=true
/// fails then).
fn stores(name: &str) -> Vec<String> {
    let mut stores = vec!["run.db".to_string()];
    stores.extend(common::pg_database(name));
    stores
}

/// Runs `voyager run --store db script` with stdout appended to `out`,
/// SIGKILLed after `kill_after` (if still running). Returns the exit
/// status if it ended by itself.
fn run_once(
    dir: &Path,
    store: &str,
    script: &str,
    out: &Path,
    args: &[&str],
    kill_after: Option<Duration>,
) -> Option<i32> {
    run_once_with(dir, store, script, out, args, kill_after, &[])
}

/// [`run_once`] with environment variables set for the run.
fn run_once_with(
    dir: &Path,
    store: &str,
    script: &str,
    out: &Path,
    args: &[&str],
    kill_after: Option<Duration>,
    envs: &[(&str, &str)],
) -> Option<i32> {
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(out)
        .expect("output file");
    let mut child = voyager()
        .arg("run")
        .args(args)
        .args(["--store", store, script])
        .envs(envs.iter().copied())
        .current_dir(dir)
        .stdout(out)
        .stderr(Stdio::null())
        .spawn()
        .expect("voyager starts");
    match kill_after {
        Some(after) => {
            let deadline = std::time::Instant::now() + after;
            loop {
                if let Some(status) = child.try_wait().expect("wait") {
                    return status.code();
                }
                if std::time::Instant::now() >= deadline {
                    child.kill().expect("SIGKILL");
                    child.wait().expect("reaped");
                    return None;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        None => child.wait().expect("wait").code(),
    }
}

fn status_json(dir: &Path, store: &str) -> serde_json::Value {
    let out: Output = voyager()
        .args(["status", "--json", store])
        .current_dir(dir)
        .output()
        .expect("status runs");
    assert!(
        out.status.success(),
        "status failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("status --json is JSON")
}

fn state(dir: &Path, store: &str) -> HashMap<String, String> {
    if store.starts_with("postgres") {
        let mut c = postgres::Client::connect(store, postgres::NoTls).expect("connects");
        return c
            .query("SELECT key, value FROM voyager.state", &[])
            .expect("state table")
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    }
    let conn = rusqlite::Connection::open_with_flags(
        dir.join("run.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("the store opens with SQLite");
    let mut stmt = conn
        .prepare("SELECT key, value FROM state")
        .expect("state table");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("a row"))
        .collect()
}

/// Kills a run up to `kills` times at random moments (`window_ms`
/// after it starts), then lets it finish.
/// Returns how many kills landed, and the unfinished counts the store
/// showed after each.
fn kill_until_done(
    dir: &Path,
    script: &str,
    out: &Path,
    args: &[&str],
    kills: usize,
    seed: u64,
    window_ms: std::ops::Range<usize>,
) -> (usize, Vec<i64>) {
    let mut rng = common::Rng(seed);
    let mut landed = 0;
    let mut left = Vec::new();
    for _ in 0..kills {
        let after = Duration::from_millis((window_ms.start + rng.below(window_ms.len())) as u64);
        match run_once(dir, "run.db", script, out, args, Some(after)) {
            None => {
                landed += 1;
                if dir.join("run.db").exists() {
                    left.push(
                        status_json(dir, "run.db")["unfinished"]
                            .as_i64()
                            .unwrap_or(-1),
                    );
                }
            }
            Some(0) => return (landed, left),
            Some(code) => panic!("a run exited with status {code} before it was killed"),
        }
    }
    let code = run_once(dir, "run.db", script, out, args, None);
    assert_eq!(code, Some(0), "the last run ends cleanly");
    (landed, left)
}

#[test]
fn ten_thousand_items_survive_twenty_sigkills() {
    const N: usize = 10_000;
    let dir = temp_dir("store-kill");
    std::fs::write(
        dir.join("work.vy"),
        format!(
            "action work(i) {{\n  let x = 0\n  for j in range(1000) {{ x = x + j }}\n  print(\"line {{i}}\")\n  state_put(\"count\", state_get(\"count\", 0) + 1)\n  state_put(\"sum\", state_get(\"sum\", 0) + i)\n}}\naction start() {{ map(range({N}), fn(i) {{ call(work, i) }}) }}\ncall(start)\n"
        ),
    )
    .expect("script written");
    let out = dir.join("out.txt");
    // Each call loops 1,000 times, so that the run outlasts several kills
    // however fast the store commits.
    let (landed, left) = kill_until_done(&dir, "work.vy", &out, &[], 20, 0x5eed_1234, 200..800);
    // Kills landed mid-run: the store held part of the work.
    let mid = left.iter().filter(|n| **n > 1 && **n < N as i64).count();
    assert!(mid >= 3, "kills mid-run: {left:?}");
    let text = std::fs::read_to_string(&out).expect("output");
    let mut seen = vec![0u32; N];
    for line in text.lines() {
        let i: usize = line
            .strip_prefix("line ")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a stray line: {line:?}"));
        seen[i] += 1;
    }
    let missing: Vec<usize> = (0..N).filter(|&i| seen[i] == 0).collect();
    assert!(
        missing.is_empty(),
        "{} lines missing, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
    let duplicates: u32 = seen.iter().map(|n| n - 1).sum();
    // Only steps in flight at a kill (at most one group commit each) run twice.
    assert!(
        duplicates as usize <= landed * 1100,
        "{duplicates} duplicates after {landed} kills"
    );
    let st = state(&dir, "run.db");
    assert_eq!(
        st.get("count").map(String::as_str),
        Some("10000"),
        "each step counted exactly once"
    );
    assert_eq!(
        st.get("sum").map(String::as_str),
        Some(&*((N * (N - 1) / 2).to_string()))
    );
    let status = status_json(&dir, "run.db");
    assert_eq!(status["unfinished"], 0, "{status}");
    assert!(status["finished"].is_i64(), "{status}");
    eprintln!(
        "{landed} kills landed (unfinished after each: {left:?}); {duplicates} duplicate lines"
    );
    assert!(
        landed >= 3,
        "the kills should land mid-run (only {landed} did)"
    );
    // Run again: the finished store says so and does nothing.
    let again = voyager()
        .args(["run", "--store", "run.db", "work.vy"])
        .current_dir(&dir)
        .output()
        .expect("runs");
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stderr).contains("finished"));
    assert!(again.stdout.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Items waiting on timers, a call between retries, a topic holding a
/// batch: killed, resumed, nothing lost and the retry's attempts kept.
#[test]
fn timers_retries_and_topics_survive_sigkill() {
    for store in stores("timers_kill") {
        timers_retries_and_topics_survive_sigkill_on(&store);
    }
}

fn timers_retries_and_topics_survive_sigkill_on(store: &str) {
    let dir = temp_dir("store-wait");
    std::fs::write(
        dir.join("wait.vy"),
        r#"action done(x) { print("done {x}") }
action flaky(x) {
  let tries = state_get("tries", 0) + 1
  state_put("tries", tries)
  print("try {tries}")
  retry("not yet")
}
action collect(x) { print("collected {x}") }
interest "batch" when call(collect, _)
pass "batch" (msgs) {
  if len(msgs) < 3 { return {ready: [], further: msgs} }
  msgs
}
seq([delay(600ms), call(done, "timer")])
call(flaky, "r")
call(collect, 1)
call(collect, 2)
seq([delay(900ms), call(collect, 3)])
"#,
    )
    .expect("script written");
    let out = dir.join("out.txt");
    // First run: killed while the delays wait, the retry backs off, the
    // topic holds two messages.
    let args = ["--backoff", "400ms", "--max-attempts", "3"];
    assert_eq!(
        run_once(
            &dir,
            store,
            "wait.vy",
            &out,
            &args,
            Some(Duration::from_millis(250))
        ),
        None,
        "the first run is still waiting when killed"
    );
    let status = status_json(&dir, store);
    assert!(status["unfinished"].as_i64().unwrap_or(0) >= 3, "{status}");
    assert_eq!(status["topics"]["batch"], 2, "{status}");
    if !store.starts_with("postgres") {
        // (PostgreSQL's status counts the killed run's items as leased
        // until they are rescued.)
        assert_eq!(status["items"]["retry"], 1, "{status}");
    }
    // The retry gives up after its third attempt: one before the kill,
    // two after (its attempt count survived), so it ends as a dead letter.
    let code = run_once(&dir, store, "wait.vy", &out, &args, None);
    assert_eq!(code, Some(1));
    let text = std::fs::read_to_string(&out).expect("output");
    for want in ["done timer", "collected 1", "collected 2", "collected 3"] {
        assert_eq!(
            text.lines().filter(|l| *l == want).count(),
            1,
            "`{want}` once in:\n{text}"
        );
    }
    assert!(text.contains("try 3") && !text.contains("try 4"), "{text}");
    assert_eq!(
        state(&dir, store).get("tries").map(String::as_str),
        Some("3")
    );
    let dead = voyager()
        .args(["dead-letters", "--json", store])
        .current_dir(&dir)
        .output()
        .expect("dead-letters runs");
    let dead: serde_json::Value = serde_json::from_slice(&dead.stdout).expect("JSON");
    assert_eq!(dead[0]["attempts"], 3, "{dead}");
    assert_eq!(status_json(&dir, store)["unfinished"], 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A shell job running at the kill runs again on resume (at least once);
/// one whose step committed does not.
#[test]
fn a_shell_job_killed_mid_run_runs_again() {
    let dir = temp_dir("store-sh");
    std::fs::write(
        dir.join("sh.vy"),
        r#"seq([call(sh, "echo first >> log.txt; echo one"), call(sh, "sleep 1; echo second >> log.txt; echo two")])
"#,
    )
    .expect("script written");
    let out = dir.join("out.txt");
    assert_eq!(
        run_once(
            &dir,
            "run.db",
            "sh.vy",
            &out,
            &[],
            Some(Duration::from_millis(500))
        ),
        None
    );
    assert_eq!(run_once(&dir, "run.db", "sh.vy", &out, &[], None), Some(0));
    let log = std::fs::read_to_string(dir.join("log.txt")).expect("log");
    // The first job's step committed: it never runs again. The second was
    // running at the kill: it runs again (its first process may also have
    // finished on its own: at least once).
    assert_eq!(log.lines().filter(|l| *l == "first").count(), 1, "{log}");
    assert!(log.lines().any(|l| l == "second"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Killed while a pass runs over a topic's batch: the batch is still in the
/// store, and the resumed run passes it on.
#[test]
fn a_pass_killed_mid_run_keeps_its_batch() {
    for store in stores("pass_kill") {
        a_pass_killed_mid_run_keeps_its_batch_on(&store);
    }
}

fn a_pass_killed_mid_run_keeps_its_batch_on(store: &str) {
    let dir = temp_dir("store-pass");
    std::fs::write(
        dir.join("pass.vy"),
        r#"action item(x) { print("item {x}") }
interest "t" when call(item, _)
let spin = env("VOYAGER_TEST_SPIN", 1500000)
pass "t" (msgs) {
  let s = 0
  for j in range(spin) { s = s + j }
  msgs
}
call(item, 1)
call(item, 2)
"#,
    )
    .expect("script written");
    let out = dir.join("out.txt");
    // The first run's pass spins far longer than the kill leaves it (on a
    // quiet machine 1,500,000 turns ended before it); the resumed run's
    // pass ends.
    assert_eq!(
        run_once_with(
            &dir,
            store,
            "pass.vy",
            &out,
            &[],
            Some(Duration::from_millis(700)),
            &[("VOYAGER_TEST_SPIN", "2000000000")]
        ),
        None,
        "the pass is still running when killed"
    );
    let status = status_json(&dir, store);
    assert_eq!(status["topics"]["t"], 2, "{status}");
    assert_eq!(run_once(&dir, store, "pass.vy", &out, &[], None), Some(0));
    let text = std::fs::read_to_string(&out).expect("output");
    assert_eq!(text, "item 1\nitem 2\n");
    let _ = std::fs::remove_dir_all(&dir);
}
