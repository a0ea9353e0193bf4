//! `--store` from the command line: resume, finished stores, `--fresh`, a
//! changed script, the store commands, a second process, and files that
//! are not stores (refused with a code, never a panic, never touched).

mod common;

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

/// The stores a test runs on: a SQLite file in its folder, and a database
/// of the PostgreSQL test server (skipped loudly without one; CI=true
/// fails then).
fn stores(name: &str) -> Vec<String> {
    let mut stores = vec!["run.db".to_string()];
    stores.extend(common::pg_database(name));
    stores
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn a_step_limit_leaves_work_that_the_same_command_resumes() {
    for store in stores("a_step") {
        a_step_limit_leaves_work_that_the_same_command_resumes_on(&store);
    }
}

fn a_step_limit_leaves_work_that_the_same_command_resumes_on(store: &str) {
    let dir = temp_dir("store-resume");
    std::fs::write(
        dir.join("s.vy"),
        "action count(n) {\n  print(n)\n  if n < 6 { call(count, n + 1) }\n}\nprint(\"top level\")\ncall(count, 1)\n",
    )
    .unwrap();
    let first = voyager(&dir, &["run", "--store", store, "--max-steps", "3", "s.vy"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout), "top level\n1\n2\n3\n");
    assert!(text(&first.stderr).contains("stay in"));
    // The top level runs again (its declarations), but its message is not
    // enqueued a second time.
    let second = voyager(&dir, &["run", "--store", store, "s.vy"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert_eq!(text(&second.stdout), "top level\n4\n5\n6\n");
    let third = voyager(&dir, &["run", "--store", store, "s.vy"]);
    assert_eq!(third.status.code(), Some(0));
    assert_eq!(text(&third.stdout), "");
    assert!(
        text(&third.stderr).contains("finished"),
        "{}",
        text(&third.stderr)
    );
    let fresh = voyager(&dir, &["run", "--store", store, "--fresh", "s.vy"]);
    assert_eq!(text(&fresh.stdout), "top level\n1\n2\n3\n4\n5\n6\n");
    let status = voyager(&dir, &["status", store]);
    assert!(
        text(&status.stdout).contains("items:        0"),
        "{}",
        text(&status.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn durable_state_outlives_the_process_and_starts_anew_with_fresh() {
    for store in stores("durable_state") {
        durable_state_outlives_the_process_and_starts_anew_with_fresh_on(&store);
    }
}

fn durable_state_outlives_the_process_and_starts_anew_with_fresh_on(store: &str) {
    let dir = temp_dir("store-state");
    std::fs::write(
        dir.join("s.vy"),
        "action bump(k) {\n  state_put(k, state_get(k, 0) + 1)\n  print(\"{k} {state_get(k)}\")\n}\ncall(bump, \"a\")\ncall(bump, \"a\")\n",
    )
    .unwrap();
    let one = voyager(&dir, &["run", "--store", store, "s.vy"]);
    assert_eq!(text(&one.stdout), "a 1\na 2\n");
    let two = voyager(&dir, &["run", "--store", store, "--fresh", "s.vy"]);
    assert_eq!(text(&two.stdout), "a 1\na 2\n", "--fresh clears the state");
    // Without a store: the same, in memory.
    let mem = voyager(&dir, &["run", "s.vy"]);
    assert_eq!(text(&mem.stdout), "a 1\na 2\n");
    std::fs::write(dir.join("f.vy"), "state_put(\"f\", fn(x) { x })\n").unwrap();
    let bad = voyager(&dir, &["run", "f.vy"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("plain data"),
        "{}",
        text(&bad.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_changed_script_that_no_longer_fits_is_refused_before_anything_runs() {
    for store in stores("a_changed") {
        a_changed_script_that_no_longer_fits_is_refused_before_anything_runs_on(&store);
    }
}

fn a_changed_script_that_no_longer_fits_is_refused_before_anything_runs_on(store: &str) {
    let dir = temp_dir("store-changed");
    std::fs::write(
        dir.join("s.vy"),
        "action a(x) { print(x) }\naction b(x, y) { print(x + y) }\ncall(a, 1)\ncall(b, 1, 2)\ncall(a, 3)\n",
    )
    .unwrap();
    let first = voyager(&dir, &["run", "--store", store, "--max-steps", "1", "s.vy"]);
    assert_eq!(text(&first.stdout), "1\n");
    std::fs::write(
        dir.join("s.vy"),
        "action b(x) { print(x) }\nprint(\"top\")\n",
    )
    .unwrap();
    let second = voyager(&dir, &["run", "--store", store, "s.vy"]);
    let err = text(&second.stderr);
    assert_eq!(second.status.code(), Some(65), "{err}");
    assert!(err.contains("E0403"), "{err}");
    assert!(
        err.contains("`a`") && err.contains("`b` is called with 2"),
        "{err}"
    );
    // The top level ran (declarations), but no item did.
    assert_eq!(text(&second.stdout), "top\n");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dead_letters_are_listed_and_requeued() {
    for store in stores("dead_letters") {
        dead_letters_are_listed_and_requeued_on(&store);
    }
}

fn dead_letters_are_listed_and_requeued_on(store: &str) {
    let dir = temp_dir("store-dead");
    std::fs::write(
        dir.join("s.vy"),
        "action check(n) {\n  if n == 2 and state_get(\"fixed\") == nil { fail(\"two is bad\") }\n  print(\"ok {n}\")\n}\ncall(check, 1)\ncall(check, 2)\n",
    )
    .unwrap();
    let first = voyager(&dir, &["run", "--store", store, "s.vy"]);
    assert_eq!(first.status.code(), Some(1));
    let list = voyager(&dir, &["dead-letters", store]);
    assert!(
        text(&list.stdout).contains("two is bad"),
        "{}",
        text(&list.stdout)
    );
    let json = voyager(&dir, &["dead-letters", "--json", store]);
    let letters: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(letters[0]["message"]["call"]["action"], "check");
    let id = letters[0]["id"].to_string();
    let status = voyager(&dir, &["status", "--json", store]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["dead_letters"], 1);
    assert!(status["finished"].is_i64());
    let missing = voyager(&dir, &["requeue", store, "999"]);
    assert_eq!(missing.status.code(), Some(1));
    let requeue = voyager(&dir, &["requeue", store, &id]);
    assert_eq!(requeue.status.code(), Some(0), "{}", text(&requeue.stderr));
    // Fixed by a changed script (same actions): the requeued call runs.
    std::fs::write(
        dir.join("s.vy"),
        "state_put(\"fixed\", true)\naction check(n) { print(\"ok {n}\") }\n",
    )
    .unwrap();
    let again = voyager(&dir, &["run", "--store", store, "s.vy"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), "ok 2\n");
    let none = voyager(&dir, &["dead-letters", "--json", store]);
    assert_eq!(text(&none.stdout).trim(), "[]");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_second_process_on_the_same_store_is_refused() {
    let dir = temp_dir("store-lock");
    std::fs::write(dir.join("s.vy"), "seq([delay(3s), data(1)])\n").unwrap();
    let mut first = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["run", "--store", "run.db", "s.vy"])
        .current_dir(&dir)
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let second = voyager(&dir, &["run", "--store", "run.db", "s.vy"]);
    let err = text(&second.stderr);
    assert_eq!(second.status.code(), Some(75), "{err}");
    assert!(err.contains("E0402") && err.contains("in use"), "{err}");
    // Reading it meanwhile works.
    let status = voyager(&dir, &["status", "run.db"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    assert!(
        text(&status.stdout).contains("1 timer"),
        "{}",
        text(&status.stdout)
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each bad file is refused with its code and status, and left unchanged.
#[test]
fn files_that_are_not_stores_are_refused_untouched() {
    let dir = temp_dir("store-bad");
    std::fs::write(dir.join("s.vy"), "print(1)\n").unwrap();
    // A good store, to damage.
    let ok = voyager(&dir, &["run", "--store", "good.db", "s.vy"]);
    assert_eq!(ok.status.code(), Some(0));
    let good = std::fs::read(dir.join("good.db")).unwrap();
    assert!(
        good.len() >= 4096,
        "the store is checkpointed into the file"
    );
    let mut corrupt = good.clone();
    for b in &mut corrupt[100..4000] {
        *b = 0xa5;
    }
    let other = rusqlite::Connection::open(dir.join("other.db")).unwrap();
    other
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(other);
    let mut newer = good.clone();
    // user_version lives at offset 60 of the header (big-endian).
    newer[60..64].copy_from_slice(&99u32.to_be_bytes());
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("text.db", b"print(\"not a database\")\n".to_vec(), "E0400"),
        ("truncated.db", good[..good.len() / 2].to_vec(), "E0400"),
        ("half-header.db", good[..50].to_vec(), "E0400"),
        ("corrupt.db", corrupt, "E0400"),
        (
            "other.db",
            std::fs::read(dir.join("other.db")).unwrap(),
            "E0400",
        ),
        ("newer.db", newer, "E0401"),
    ];
    for (name, bytes, code) in cases {
        std::fs::write(dir.join(name), &bytes).unwrap();
        for cmd in [
            vec!["run", "--store", name, "s.vy"],
            vec!["status", name],
            vec!["dead-letters", name],
            vec!["requeue", "--all", name],
        ] {
            let out = voyager(&dir, &cmd);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(66), "{cmd:?} on {name}: {err}");
            assert!(err.contains(code), "{cmd:?} on {name}: {err}");
            assert!(!err.contains("panicked"), "{err}");
            assert!(text(&out.stdout).is_empty(), "{cmd:?} on {name} ran");
            assert_eq!(
                std::fs::read(dir.join(name)).unwrap(),
                bytes,
                "{cmd:?} changed {name}"
            );
        }
    }
    let missing = voyager(&dir, &["status", "nothing-here.db"]);
    assert_eq!(missing.status.code(), Some(66));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A run stopped inside `then`, `ensure` and `retrying` resumes from the
/// store where it stopped: what a `then` collected, an `ensure` cleaning up
/// after a failure, a retry's attempts.
#[test]
fn wrapped_messages_resume_from_the_store() {
    for store in stores("wrapped_messages") {
        wrapped_messages_resume_from_the_store_on(&store);
    }
}

fn wrapped_messages_resume_from_the_store_on(store: &str) {
    let dir = temp_dir("store-wraps");
    std::fs::write(
        dir.join("s.vy"),
        "action part(n) { print(\"part {n}\"); n }\n\
         action sum(xs) { print(\"sum {xs[0] + xs[1]}\") }\n\
         action broken() { print(\"broken\"); fail(\"broken\") }\n\
         action tidy(n) { print(\"tidy {n}\") }\n\
         action flaky() { print(\"flaky\"); retry(\"down\") }\n\
         then(seq([call(part, 1), call(part, 2)]), sum)\n\
         ensure(call(broken), seq([call(tidy, 1), call(tidy, 2)]))\n\
         retrying(call(flaky), {attempts: 3, backoff: 1s})\n",
    )
    .unwrap();
    let mut out = String::new();
    let mut runs = 0;
    loop {
        let step = voyager(
            &dir,
            &[
                "run",
                "--store",
                store,
                "--clock",
                "virtual",
                "--max-steps",
                "2",
                "s.vy",
            ],
        );
        runs += 1;
        out.push_str(&text(&step.stdout));
        if !text(&step.stderr).contains("E0304") || runs > 20 {
            break;
        }
    }
    // Across the runs, each step's output comes once; the retry's
    // attempts are counted across them (globals are not durable).
    let mut lines: Vec<&str> = out.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        ["broken", "flaky", "flaky", "flaky", "part 1", "part 2", "sum 3", "tidy 1", "tidy 2"],
        "{out}"
    );
    assert!(runs > 3, "it stopped and resumed ({runs} runs)");
    let _ = std::fs::remove_dir_all(&dir);
}

/// E0404: the disk fills up mid-run. A file-size limit (`ulimit -f`, with
/// SIGXFSZ ignored so that a write over it fails with EFBIG instead of
/// killing the process) stands in for a full disk: the run stops with the
/// code and status 74, and once the limit is gone the same command
/// resumes from what was committed and finishes, every step's durable
/// state in place.
#[test]
fn a_store_that_cannot_be_written_stops_the_run_and_resumes_later() {
    let dir = temp_dir("store-full");
    // Each step writes 2 KiB of durable state: the store outgrows the
    // limit within a few hundred steps.
    std::fs::write(
        dir.join("s.vy"),
        "let pad = join(map(range(0, 2048), fn(i) { \"x\" }), \"\")\n\
         action fill(i) { state_put(str(i), pad) }\n\
         seq(map(range(0, 400), fn(i) { call(fill, i) }))\n",
    )
    .unwrap();
    let limited = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -f 256 && trap '' XFSZ && exec {} --color never run --store run.db s.vy",
            env!("CARGO_BIN_EXE_voyager")
        ))
        .current_dir(&dir)
        .output()
        .expect("bash runs");
    let err = text(&limited.stderr);
    assert_eq!(limited.status.code(), Some(74), "{err}");
    assert!(err.contains("E0404"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let resumed = voyager(&dir, &["run", "--store", "run.db", "s.vy"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    let status = voyager(&dir, &["status", "run.db"]);
    let out = text(&status.stdout);
    assert!(out.contains("items:        0"), "{out}");
    assert!(out.contains("state keys:   400"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A failure a `catch` handler took is counted as recovered in the store
/// too: the run resumed after a stop still reports it (and `--stats`).
#[test]
fn a_resumed_run_still_counts_the_failures_catch_recovered() {
    let dir = temp_dir("store-recovered");
    std::fs::write(
        dir.join("s.vy"),
        "action deploy(host) { fail(\"disk full on {host}\") }\naction rollback(host, err) { print(\"rolled back {host}\") }\naction count(n) {\n  print(n)\n  if n < 4 { call(count, n + 1) }\n}\ncatch(call(deploy, \"a\"), call(rollback, \"a\"))\ncall(count, 1)\n",
    )
    .unwrap();
    let first = voyager(
        &dir,
        &["run", "--store", "run.db", "--max-steps", "4", "s.vy"],
    );
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains("rolled back a"),
        "{}",
        text(&first.stdout)
    );
    let second = voyager(&dir, &["run", "--store", "run.db", "--stats", "s.vy"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert!(!text(&second.stdout).contains("rolled back"));
    let stderr = text(&second.stderr);
    assert!(
        stderr.contains("note: 1 failure(s) recovered by a catch handler"),
        "{stderr}"
    );
    assert!(stderr.contains("recovered:      1"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a step of a priority action makes keeps that priority in the store:
/// resumed, it still steps before the older items of priority 0.
#[test]
fn an_items_own_priority_holds_across_a_restart() {
    for store in stores("priority") {
        an_items_own_priority_holds_across_a_restart_on(&store);
    }
}

fn an_items_own_priority_holds_across_a_restart_on(store: &str) {
    let dir = temp_dir("store-priority");
    std::fs::write(
        dir.join("s.vy"),
        "action work(name) { print(name) }\naction urgent() priority 5 {\n  print(\"urgent\")\n  conc([call(work, \"u.1\"), call(work, \"u.2\")])\n}\nconc([call(work, \"a\"), call(work, \"b\"), call(urgent)])\n",
    )
    .unwrap();
    let first = voyager(&dir, &["run", "--store", store, "--max-steps", "1", "s.vy"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    assert_eq!(text(&first.stdout), "urgent\n");
    let second = voyager(&dir, &["run", "--store", store, "s.vy"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert_eq!(text(&second.stdout), "u.1\nu.2\na\nb\n", "on {store}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A store an older Voyager wrote (schema 1: no recovered count, no item
/// priorities, no groups) is upgraded in place and its run resumes.
#[test]
fn a_store_from_an_older_voyager_is_read_then_upgraded_and_resumes() {
    let dir = temp_dir("store-upgrade");
    std::fs::write(
        dir.join("s.vy"),
        "action count(n) {\n  print(n)\n  if n < 4 { call(count, n + 1) }\n}\ncall(count, 1)\n",
    )
    .unwrap();
    let first = voyager(
        &dir,
        &["run", "--store", "run.db", "--max-steps", "2", "s.vy"],
    );
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    let old = rusqlite::Connection::open(dir.join("run.db")).unwrap();
    old.execute_batch(
        "ALTER TABLE runs DROP COLUMN recovered; ALTER TABLE items DROP COLUMN priority; \
         ALTER TABLE items DROP COLUMN grp; DROP TABLE groups; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(old);
    // Reading an old store does not upgrade it, and shows what it holds.
    let status = voyager(&dir, &["status", "run.db"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stderr));
    assert!(
        text(&status.stdout).contains("queued"),
        "{}",
        text(&status.stdout)
    );
    let second = voyager(&dir, &["run", "--store", "run.db", "s.vy"]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    assert_eq!(text(&second.stdout), "3\n4\n");
    let upgraded = rusqlite::Connection::open(dir.join("run.db")).unwrap();
    let version: i64 = upgraded
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 3);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `voyager status` reports each group (a message entered from outside,
/// with every item its steps made): how many of its calls are done,
/// running, waiting on a resource, waiting otherwise, or dead; across a
/// restart, and for a requeued dead letter (a group of its own).
#[test]
fn status_counts_the_calls_of_each_group() {
    let dir = temp_dir("store-groups");
    std::fs::write(
        dir.join("s.vy"),
        "action deploy(host) limit 1 per host { delay(10s) }\naction boom() { fail(\"no\") }\naction count(n) { if n < 3 { call(count, n + 1) } }\nconc([call(deploy, \"a\"), call(deploy, \"a\"), call(boom), call(count, 0)])\ncall(count, 10)\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "--store",
            "run.db",
            "--max-attempts",
            "1",
            "--clock",
            "virtual",
        ];
        args.extend_from_slice(extra);
        args.push("s.vy");
        voyager(&dir, &args)
    };
    let first = run(&["--max-steps", "5"]);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    let status = text(&voyager(&dir, &["status", "run.db"]).stdout);
    // Steps: deploy "a" (holds "a" for 10s), deploy "a" again (waits for
    // it), boom (dead), count(0), count(1).
    assert!(
        status.contains("groups:       1 (1 unfinished)"),
        "{status}"
    );
    assert!(
        status.contains("#1 unfinished: 3 done, 0 running, 1 on a resource, 2 waiting, 1 dead: {\"conc\":[{\"call\":{\"action\":\"deploy\""),
        "{status}"
    );
    let second = run(&[]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let json: serde_json::Value =
        serde_json::from_slice(&voyager(&dir, &["status", "--json", "run.db"]).stdout).unwrap();
    let group = &json["groups"]["shown"][0];
    assert_eq!(group["id"], 1);
    assert_eq!(group["finished"], true);
    assert_eq!(
        group["calls"],
        serde_json::json!({"done": 7, "running": 0, "resource": 0, "waiting": 0, "dead": 1}),
        "two deploys, count 0 to 3 and count 10 are done; boom is dead"
    );
    let requeued = voyager(&dir, &["requeue", "--all", "run.db"]);
    assert_eq!(requeued.status.code(), Some(0));
    let status = text(&voyager(&dir, &["status", "run.db"]).stdout);
    assert!(
        status.contains("groups:       2 (1 unfinished)"),
        "{status}"
    );
    assert!(
        status.contains(
            "#9 unfinished: 0 done, 0 running, 0 on a resource, 1 waiting, 0 dead: {\"call\":{\"action\":\"boom\",\"args\":[]}}"
        ),
        "{status}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The groups table keeps the latest 10,000 groups (and every live one):
/// a long run that takes in many messages does not grow it without bound.
#[test]
fn old_finished_groups_are_pruned() {
    use voyager::engine::Config;
    use voyager::store::{SqliteStore, Sync};
    let dir = temp_dir("store-prune");
    let db = dir.join("run.db");
    let (mut v, _out) = voyager::Voyager::with_buffer(Config::default());
    v.engine.state.borrow_mut().recording = true;
    v.load(
        "s.vy",
        "action work(i) { }\naction wait() { delay(1h) }\n",
        None,
    )
    .expect("the script loads");
    let mut store = SqliteStore::open(&db, Sync::Interval).expect("the store opens");
    store.begin_run("s.vy", "0");
    v.engine.set_store(Box::new(store), true);
    v.engine.commit_top_level();
    // One group that stays live throughout (on a timer), then 12,500 that
    // finish, in rounds (each message a script's expression evaluates is
    // enqueued as a group of its own).
    v.eval("first", "call(wait)").expect("a message");
    for round in 0..25 {
        for i in 0..500 {
            v.eval("m", &format!("call(work, {})", round * 500 + i))
                .expect("a message");
        }
        while v.engine.queued() > 0 {
            v.engine.step_once();
        }
    }
    v.engine.commit_top_level();
    drop(v);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let rows = count("SELECT count(*) FROM groups");
    assert!((10_000..=11_001).contains(&rows), "{rows} group rows");
    // The live group's row is kept, however old.
    assert_eq!(count("SELECT count(*) FROM items"), 1, "the waiting item");
    let first = count("SELECT coalesce(grp, id) FROM items");
    assert!(first < 100, "the first group: {first}");
    assert_eq!(
        count(&format!("SELECT count(*) FROM groups WHERE id = {first}")),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `voyager status` counts the failures `catch` handlers recovered (not
/// dead letters), kept in the store across restarts.
#[test]
fn status_counts_the_failures_a_handler_recovered() {
    let dir = temp_dir("store-recovered-status");
    std::fs::write(
        dir.join("s.vy"),
        "action boom() { fail(\"no\") }\naction handle(e) { print(\"handled {e.code}\") }\ncatch(call(boom), call(handle))\n",
    )
    .unwrap();
    let run = voyager(
        &dir,
        &["run", "--store", "run.db", "--max-attempts", "1", "s.vy"],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let status = voyager(&dir, &["status", "run.db"]);
    assert!(
        text(&status.stdout).contains("recovered:    1 failure(s) a handler took"),
        "{}",
        text(&status.stdout)
    );
    let json = voyager(&dir, &["status", "--json", "run.db"]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(json["recovered"], 1, "{json}");
    assert_eq!(json["dead_letters"], 0, "{json}");
    let _ = std::fs::remove_dir_all(&dir);
}
