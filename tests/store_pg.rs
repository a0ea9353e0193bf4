//! The PostgreSQL store against a real server (VOYAGER_TEST_PG_URL; CI
//! starts one with .ci/postgres.sh): `run --store postgres://…` with the
//! SQLite store's semantics, `enqueue` and `worker`, many worker processes
//! draining one queue, a worker SIGKILLed mid-run. Each test works in a
//! database of its own.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The server's URL, or None (loudly) on a developer machine without one;
/// with CI=true a missing server fails the test.
fn server() -> Option<String> {
    common::pg_server()
}

/// A fresh database for one test; its URL.
fn database(name: &str) -> Option<String> {
    common::pg_database(name)
}

fn client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("connects")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("voyager-pg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}

fn voyager(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never"])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("voyager runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn worker(dir: &Path, url: &str, out: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never", "worker", "--store", url, "--until-idle"])
        .args(extra)
        .arg("work.vy")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(out).expect("output file"))
        .stderr(std::fs::File::create(out.with_extension("err")).expect("error file"))
        .spawn()
        .expect("a worker starts")
}

/// Starts `n` workers on the store (their output in `w0.out`, `w1.out`,
/// …), waits for each to end with status 0, and returns the output files.
fn drain_with_workers(dir: &Path, url: &str, n: usize) -> Vec<PathBuf> {
    drain_with(dir, url, n, &[])
}

/// As [`drain_with_workers`], each worker started with `extra` options.
fn drain_with(dir: &Path, url: &str, n: usize, extra: &[&str]) -> Vec<PathBuf> {
    let outs: Vec<PathBuf> = (0..n).map(|i| dir.join(format!("w{i}.out"))).collect();
    let mut workers: Vec<Child> = outs.iter().map(|o| worker(dir, url, o, extra)).collect();
    for (w, out) in workers.iter_mut().zip(&outs) {
        let code = wait(w, Duration::from_secs(300), "a worker");
        let err = std::fs::read_to_string(out.with_extension("err")).unwrap_or_default();
        assert_eq!(code, 0, "{err}");
    }
    outs
}

fn wait(child: &mut Child, limit: Duration, what: &str) -> i32 {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("{what} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `done N` lines by N, in a file.
fn done_lines(path: &Path) -> Vec<u64> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.strip_prefix("done "))
        .map(|n| n.parse().expect("a number"))
        .collect()
}

const WORK: &str = "action work(i) { print(\"done {i}\") }\n";

/// Adds `call(work, i)` for i in 1..=n through the SQL function, in one
/// statement (the schema is made by a first `voyager enqueue`).
fn enqueue_many(dir: &Path, url: &str, n: i64) {
    let out = voyager(
        dir,
        &["enqueue", "--store", url, "work.vy", "call(work, 0)"],
    );
    assert!(out.status.success(), "enqueue: {}", text(&out.stderr));
    client(url)
        .execute(
            "SELECT voyager.enqueue(format('call(work, %s)', g)) FROM generate_series(1, $1::bigint) g",
            &[&n],
        )
        .expect("bulk enqueue");
}

#[test]
fn a_run_on_postgres_resumes_finishes_and_requeues_as_on_sqlite() {
    let Some(url) = database("run") else { return };
    let dir = temp_dir("run");
    std::fs::write(
        dir.join("job.vy"),
        "action ok(i) { print(\"ok {i}\")\n state_put(\"n\", state_get(\"n\", 0) + 1) }\naction bad() { fail(\"no\") }\ncall(ok, 1)\ncall(ok, 2)\ncall(bad)\n",
    )
    .unwrap();
    let out = voyager(
        &dir,
        &["run", "--max-attempts", "1", "--store", &url, "job.vy"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ok 1") && stdout.contains("ok 2"),
        "{stdout}"
    );
    // A finished run: nothing to do.
    let again = voyager(&dir, &["run", "--store", &url, "job.vy"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        text(&again.stderr).contains("finished"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(text(&again.stdout), "");
    let status = voyager(&dir, &["status", "--json", &url]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    let j: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(j["unfinished"], 0);
    assert_eq!(j["dead_letters"], 1);
    assert_eq!(j["state_keys"], 1);
    assert!(j["finished"].is_i64(), "{j}");
    assert!(!j["store"].as_str().unwrap_or("").is_empty());
    let letters = voyager(&dir, &["dead-letters", &url]);
    assert!(
        text(&letters.stdout).contains("no"),
        "{}",
        text(&letters.stdout)
    );
    let re = voyager(&dir, &["requeue", "--all", &url]);
    assert!(re.status.success(), "{}", text(&re.stderr));
    assert!(
        text(&re.stdout).contains("requeued 1"),
        "{}",
        text(&re.stdout)
    );
    // The requeued letter runs (and fails again) in the resumed run.
    let resumed = voyager(
        &dir,
        &["run", "--max-attempts", "1", "--store", &url, "job.vy"],
    );
    assert_eq!(resumed.status.code(), Some(1), "{}", text(&resumed.stderr));
    assert!(
        !text(&resumed.stdout).contains("ok 1"),
        "top level not run again"
    );
    let mut c = client(&url);
    let n: String = c
        .query_one("SELECT value FROM voyager.state WHERE key = 'n'", &[])
        .unwrap()
        .get(0);
    assert_eq!(n, "2");
    // --fresh starts anew.
    let fresh = voyager(
        &dir,
        &[
            "run",
            "--fresh",
            "--max-attempts",
            "1",
            "--store",
            &url,
            "job.vy",
        ],
    );
    assert_eq!(fresh.status.code(), Some(1));
    assert!(text(&fresh.stdout).contains("ok 1"));
    let dead: i64 = c
        .query_one("SELECT count(*) FROM voyager.dead_letters", &[])
        .unwrap()
        .get(0);
    assert_eq!(dead, 1, "a fresh run starts with no dead letters");
}

#[test]
fn the_schema_is_versioned_and_a_newer_one_is_refused() {
    let Some(url) = database("schema") else {
        return;
    };
    let dir = temp_dir("schema");
    let out = voyager(&dir, &["status", &url]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("no run yet"),
        "{}",
        text(&out.stdout)
    );
    let mut c = client(&url);
    let v: i32 = c
        .query_one("SELECT version FROM voyager.schema_version", &[])
        .unwrap()
        .get(0);
    assert_eq!(v, 4);
    c.execute("UPDATE voyager.schema_version SET version = 99", &[])
        .unwrap();
    let out = voyager(&dir, &["status", &url]);
    assert_eq!(out.status.code(), Some(66));
    assert!(text(&out.stderr).contains("E0401"), "{}", text(&out.stderr));
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let dir = temp_dir("unreachable");
    std::fs::write(dir.join("work.vy"), WORK).unwrap();
    let out = voyager(
        &dir,
        &[
            "worker",
            "--store",
            "postgres://nobody@127.0.0.1:1/none",
            "work.vy",
        ],
    );
    assert_eq!(out.status.code(), Some(69), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("E0405"), "{}", text(&out.stderr));
}

#[test]
fn enqueue_checks_the_expression_and_unique_keys_refuse_a_second_item() {
    let Some(url) = database("enqueue") else {
        return;
    };
    let dir = temp_dir("enqueue");
    std::fs::write(dir.join("work.vy"), WORK).unwrap();
    let bad = voyager(
        &dir,
        &["enqueue", "--store", &url, "work.vy", "call(nope, 1)"],
    );
    assert_eq!(bad.status.code(), Some(65), "{}", text(&bad.stderr));
    let first = voyager(
        &dir,
        &[
            "enqueue",
            "--store",
            &url,
            "--unique",
            "k",
            "work.vy",
            "call(work, 7)",
        ],
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = voyager(
        &dir,
        &[
            "enqueue",
            "--store",
            &url,
            "--unique",
            "k",
            "work.vy",
            "call(work, 8)",
        ],
    );
    assert_eq!(second.status.code(), Some(3), "{}", text(&second.stderr));
    assert!(text(&second.stderr).contains("E0408"));
    // A bad expression through SQL becomes a dead letter with the error.
    client(&url)
        .execute("SELECT voyager.enqueue('call(missing, 1)')", &[])
        .unwrap();
    let out = dir.join("w.out");
    let mut w = worker(&dir, &url, &out, &[]);
    assert_eq!(wait(&mut w, Duration::from_secs(60), "the worker"), 0);
    assert_eq!(done_lines(&out), vec![7]);
    let letters = voyager(&dir, &["dead-letters", "--json", &url]);
    let j: serde_json::Value = serde_json::from_slice(&letters.stdout).expect("JSON");
    assert_eq!(j.as_array().map(Vec::len), Some(1), "{j}");
    assert_eq!(j[0]["code"], "E0407", "{j}");
    // The key is free once its item is done.
    let third = voyager(
        &dir,
        &[
            "enqueue",
            "--store",
            &url,
            "--unique",
            "k",
            "work.vy",
            "call(work, 9)",
        ],
    );
    assert!(third.status.success(), "{}", text(&third.stderr));
}

/// The statement a worker takes with, as it runs: right after a bulk
/// enqueue, before autovacuum has looked at the table (its statistics
/// then say a few rows, when there are thousands), it still reads the
/// ready index in its order and finds the taken rows by their key, not
/// by reading and sorting every row or hashing the whole table.
#[test]
fn the_take_query_is_served_by_the_ready_index() {
    let Some(url) = database("explain") else {
        return;
    };
    let dir = temp_dir("explain");
    std::fs::write(dir.join("work.vy"), WORK).unwrap();
    enqueue_many(&dir, &url, 20_000);
    let mut c = client(&url);
    let mut tx = c.transaction().unwrap();
    tx.batch_execute(voyager::store::pg::TAKE_SETTINGS).unwrap();
    let plan: Vec<String> = tx
        .query(
            &format!(
                "EXPLAIN {}",
                voyager::store::pg::take_statement(1, 30_000, voyager::store::pg::TAKE_BATCH)
            ),
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let plan = plan.join("\n");
    assert!(plan.contains("Index Scan using items_ready"), "{plan}");
    assert!(plan.contains("Index Scan using items_pkey"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
    assert!(!plan.contains("Sort"), "{plan}");
}

#[test]
fn workers_take_items_of_a_higher_priority_first() {
    let Some(url) = database("priority") else {
        return;
    };
    let dir = temp_dir("priority");
    std::fs::write(dir.join("work.vy"), WORK).unwrap();
    for (i, priority) in [(1, "0"), (2, "5"), (3, "-3"), (4, "5"), (5, "0")] {
        let call = format!("call(work, {i})");
        let out = voyager(
            &dir,
            &[
                "enqueue",
                "--store",
                &url,
                "--priority",
                priority,
                "work.vy",
                &call,
            ],
        );
        assert!(out.status.success(), "enqueue: {}", text(&out.stderr));
    }
    // Through SQL too, with the priority as the third argument.
    client(&url)
        .execute("SELECT voyager.enqueue('call(work, 6)', NULL, 7)", &[])
        .unwrap();
    let bad = client(&url).execute("SELECT voyager.enqueue('call(work, 7)', NULL, 101)", &[]);
    assert!(bad.is_err(), "a priority out of range is refused");
    for bad in ["101", "-101", "high"] {
        let out = voyager(
            &dir,
            &[
                "enqueue",
                "--store",
                &url,
                "--priority",
                bad,
                "work.vy",
                "call(work, 8)",
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    }
    let out = dir.join("w.out");
    let mut w = worker(&dir, &url, &out, &[]);
    assert_eq!(wait(&mut w, Duration::from_secs(60), "the worker"), 0);
    assert_eq!(done_lines(&out), vec![6, 2, 4, 1, 5, 3]);
}

fn four_workers(name: &str, n: i64, kill_one: bool) {
    let Some(url) = database(name) else { return };
    let dir = temp_dir(name);
    std::fs::write(dir.join("work.vy"), WORK).unwrap();
    enqueue_many(&dir, &url, n);
    let outs: Vec<PathBuf> = (0..4).map(|i| dir.join(format!("w{i}.out"))).collect();
    // Short leases, so that a killed worker's items are rescued soon even
    // if its session lingered.
    let mut workers: Vec<Child> = outs
        .iter()
        .map(|o| worker(&dir, &url, o, &["--lease", "3s"]))
        .collect();
    if kill_one {
        // Killed once it has done some work, and while work is left.
        let deadline = Instant::now() + Duration::from_secs(120);
        while done_lines(&outs[0]).len() < 200 {
            assert!(Instant::now() < deadline, "worker 0 never got going");
            std::thread::sleep(Duration::from_millis(5));
        }
        workers[0].kill().expect("SIGKILL");
        workers[0].wait().expect("reaped");
    }
    for (i, w) in workers.iter_mut().enumerate() {
        if kill_one && i == 0 {
            continue;
        }
        let code = wait(w, Duration::from_secs(600), "a worker");
        assert_eq!(
            code,
            0,
            "{}",
            std::fs::read_to_string(outs[i].with_extension("err")).unwrap_or_default()
        );
    }
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::new();
    for (i, o) in outs.iter().enumerate() {
        for d in done_lines(o) {
            seen.entry(d).or_default().push(i);
        }
    }
    let missing: Vec<u64> = (0..=n as u64).filter(|d| !seen.contains_key(d)).collect();
    assert!(
        missing.is_empty(),
        "never done: {:?}",
        &missing[..missing.len().min(20)]
    );
    let twice: Vec<(&u64, &Vec<usize>)> = seen.iter().filter(|(_, w)| w.len() > 1).collect();
    if kill_one {
        // Only what the killed worker held ran again: once by it, once by
        // the worker that rescued it.
        for (d, by) in &twice {
            assert_eq!(by.len(), 2, "item {d} ran {} times", by.len());
            assert!(
                by.contains(&0),
                "item {d} ran twice, neither time in the killed worker"
            );
        }
        eprintln!("items run twice after the SIGKILL: {}", twice.len());
    } else {
        assert!(
            twice.is_empty(),
            "ran more than once: {:?}",
            &twice[..twice.len().min(10)]
        );
        // Every worker took a share.
        for (i, o) in outs.iter().enumerate() {
            assert!(!done_lines(o).is_empty(), "worker {i} did nothing");
        }
    }
    let mut c = client(&url);
    let left: i64 = c
        .query_one("SELECT count(*) FROM voyager.items", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    let dead: i64 = c
        .query_one("SELECT count(*) FROM voyager.dead_letters", &[])
        .unwrap()
        .get(0);
    assert_eq!(dead, 0);
}

#[test]
fn four_workers_drain_twenty_thousand_items_each_done_once() {
    four_workers("drain", 20_000, false);
}

#[test]
fn a_sigkilled_worker_loses_nothing_and_only_its_items_run_twice() {
    four_workers("kill", 20_000, true);
}

#[test]
fn a_sigtermed_worker_hands_back_what_it_holds() {
    let Some(url) = database("term") else { return };
    let dir = temp_dir("term");
    std::fs::write(dir.join("work.vy"), "action work(i) { delay(30s) }\n").unwrap();
    let out = voyager(
        &dir,
        &["enqueue", "--store", &url, "work.vy", "call(work, 1)"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut w = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never", "worker", "--store", &url, "work.vy"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("a worker starts");
    let mut c = client(&url);
    let leased = |c: &mut postgres::Client| -> i64 {
        c.query_one(
            "SELECT count(*) FROM voyager.items WHERE lease_owner IS NOT NULL AND state = 'timer'",
            &[],
        )
        .unwrap()
        .get(0)
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while leased(&mut c) == 0 {
        assert!(Instant::now() < deadline, "the worker never took the item");
        std::thread::sleep(Duration::from_millis(20));
    }
    let term = Command::new("kill")
        .args(["-TERM", &w.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(term.success());
    assert_eq!(wait(&mut w, Duration::from_secs(30), "the worker"), 143);
    let row = c
        .query_one(
            "SELECT lease_owner IS NULL, attempts, state FROM voyager.items",
            &[],
        )
        .unwrap();
    let (free, attempts, state): (bool, i32, String) = (row.get(0), row.get(1), row.get(2));
    assert!(free, "the lease is handed back");
    assert_eq!(attempts, 0, "a clean stop does not count an attempt");
    assert_eq!(state, "timer", "the item keeps its timer");
}

/// Waits until `check` holds, polling; panics after `limit`.
fn until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn count(c: &mut postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn work_on_an_item_whose_lease_was_lost_is_not_committed() {
    let Some(url) = database("lost") else { return };
    let dir = temp_dir("lost");
    std::fs::write(
        dir.join("work.vy"),
        "action work(i) { seq([delay(2s), call(step, i)]) }
action step(i) {
  state_put(\"stepped\", state_get(\"stepped\", 0) + 1)
  print(\"stepped {i}\")
  conc([call(after, i), call(bad, i)])
}
action after(i) {
  state_put(\"after\", state_get(\"after\", 0) + 1)
  print(\"after {i}\")
}
action bad(i) { fail(\"no {i}\") }
",
    )
    .unwrap();
    let out = voyager(
        &dir,
        &["enqueue", "--store", &url, "work.vy", "call(work, 1)"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = dir.join("w.out");
    let mut w = worker(&dir, &url, &stdout, &["--max-attempts", "1"]);
    let mut c = client(&url);
    until(
        Duration::from_secs(60),
        "the worker taking the item",
        || {
            count(
            &mut c,
            "SELECT count(*) FROM voyager.items WHERE lease_owner IS NOT NULL AND state = 'timer'",
        ) == 1
        },
    );
    // Another worker (this session, holding its worker lock) takes the
    // item over while it waits on its timer.
    let mut thief = client(&url);
    thief
        .batch_execute(
            "SELECT pg_advisory_lock(4242);
             UPDATE voyager.items SET lease_owner = 4242, lease_until = voyager.now_ms() + 600000",
        )
        .unwrap();
    // The worker still runs the item when its timer is due (it cannot
    // know yet), but none of what that did is committed (the step read
    // state, so it commits at once, and finds the lease gone).
    until(Duration::from_secs(60), "the item's work", || {
        std::fs::read_to_string(&stdout).is_ok_and(|s| s.contains("stepped 1"))
    });
    let row = c
        .query_one("SELECT lease_owner, state FROM voyager.items", &[])
        .unwrap();
    assert_eq!(row.get::<_, Option<i64>>(0), Some(4242));
    assert_eq!(row.get::<_, String>(1), "timer");
    assert_eq!(count(&mut c, "SELECT count(*) FROM voyager.state"), 0);
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM voyager.dead_letters"),
        0
    );
    // The other worker gives up; the item is taken and done again, and
    // its effects are committed once.
    thief
        .batch_execute(
            "UPDATE voyager.items SET lease_owner = NULL, lease_until = NULL;
             SELECT pg_notify('voyager_items', '')",
        )
        .unwrap();
    drop(thief);
    assert_eq!(wait(&mut w, Duration::from_secs(60), "the worker"), 0);
    let err = std::fs::read_to_string(stdout.with_extension("err")).unwrap_or_default();
    assert!(err.contains("rescued by other workers"), "{err}");
    for key in ["stepped", "after"] {
        let v: String = c
            .query_one("SELECT value FROM voyager.state WHERE key = $1", &[&key])
            .unwrap()
            .get(0);
        assert_eq!(v, "1", "state {key}");
    }
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM voyager.dead_letters"),
        1
    );
    assert_eq!(count(&mut c, "SELECT count(*) FROM voyager.items"), 0);
}

/// A PostgreSQL cluster of the test's own (so that restarting it does
/// not disturb the other tests), stopped and removed when dropped.
struct Cluster {
    url: String,
    dir: String,
}

impl Cluster {
    fn start() -> Cluster {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/postgres.sh");
        let out = Command::new("bash")
            .arg(&script)
            .arg("start")
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "postgres.sh start: {}",
            text(&out.stderr)
        );
        let exports = text(&out.stdout);
        let var = |name: &str| {
            exports
                .lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .unwrap_or_else(|| panic!("postgres.sh start said no {name}: {exports}"))
                .to_string()
        };
        Cluster {
            url: var("VOYAGER_TEST_PG_URL"),
            dir: var("VOYAGER_TEST_PG_DIR"),
        }
    }

    fn restart(&self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/postgres.sh");
        let out = Command::new("bash")
            .arg(&script)
            .args(["restart", &self.dir])
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "postgres.sh restart: {}",
            text(&out.stderr)
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/postgres.sh");
        let _ = Command::new("bash")
            .arg(&script)
            .args(["stop", &self.dir])
            .output();
    }
}

#[test]
fn a_server_restart_mid_run_loses_nothing_and_runs_nothing_twice() {
    // (A cluster of its own; the shared one only says PostgreSQL is here.)
    if server().is_none() {
        return;
    }
    let cluster = Cluster::start();
    let url = cluster.url.clone();
    let dir = temp_dir("restart");
    std::fs::write(dir.join("work.vy"), WORK).unwrap();
    let n = 6000;
    enqueue_many(&dir, &url, n);
    let outs: Vec<PathBuf> = (0..3).map(|i| dir.join(format!("w{i}.out"))).collect();
    let mut workers: Vec<Child> = outs.iter().map(|o| worker(&dir, &url, o, &[])).collect();
    let done = |outs: &[PathBuf]| outs.iter().map(|o| done_lines(o).len()).sum::<usize>();
    until(Duration::from_secs(120), "some work", || done(&outs) >= 300);
    cluster.restart();
    assert!(
        done(&outs) < n as usize,
        "the workers finished before the restart: make the run longer"
    );
    for (i, w) in workers.iter_mut().enumerate() {
        let code = wait(w, Duration::from_secs(600), "a worker");
        assert_eq!(
            code,
            0,
            "{}",
            std::fs::read_to_string(outs[i].with_extension("err")).unwrap_or_default()
        );
    }
    let errs: String = outs
        .iter()
        .map(|o| std::fs::read_to_string(o.with_extension("err")).unwrap_or_default())
        .collect();
    assert!(errs.contains("reconnected"), "{errs}");
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for o in &outs {
        for d in done_lines(o) {
            *seen.entry(d).or_default() += 1;
        }
    }
    let missing: Vec<u64> = (0..=n as u64).filter(|d| !seen.contains_key(d)).collect();
    assert!(
        missing.is_empty(),
        "never done: {:?}",
        &missing[..missing.len().min(20)]
    );
    let twice: Vec<(&u64, &usize)> = seen.iter().filter(|(_, k)| **k > 1).collect();
    assert!(
        twice.is_empty(),
        "done twice: {:?}",
        &twice[..twice.len().min(20)]
    );
    let mut c = client(&url);
    assert_eq!(count(&mut c, "SELECT count(*) FROM voyager.items"), 0);
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM voyager.dead_letters"),
        0
    );
}

#[test]
fn a_sigtermed_worker_commits_finished_jobs_and_hands_back_the_rest() {
    let Some(url) = database("graceful") else {
        return;
    };
    let dir = temp_dir("graceful");
    let ran = dir.join("ran.txt");
    // A native job (a command that says when it finished), then a step.
    std::fs::write(
        dir.join("work.vy"),
        format!(
            "action work(i) {{ seq([void(call(sh, \"sleep 0.4; echo {{i}} >> {}\")), call(after, i)]) }}\naction after(i) {{ print(\"done {{i}}\") }}\n",
            ran.display()
        ),
    )
    .unwrap();
    enqueue_many(&dir, &url, 11);
    let first = dir.join("a.out");
    let mut a = worker(&dir, &url, &first, &["--jobs", "4"]);
    let ran_lines = || -> Vec<u64> {
        std::fs::read_to_string(&ran)
            .unwrap_or_default()
            .lines()
            .map(|l| l.trim().parse().expect("a number"))
            .collect()
    };
    until(Duration::from_secs(60), "some jobs finishing", || {
        ran_lines().len() >= 2
    });
    let term = Command::new("kill")
        .args(["-TERM", &a.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(term.success());
    assert_eq!(wait(&mut a, Duration::from_secs(30), "the worker"), 143);
    let mut c = client(&url);
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM voyager.items WHERE lease_owner IS NOT NULL"
        ),
        0,
        "every lease is handed back"
    );
    let second = dir.join("b.out");
    let mut b = worker(&dir, &url, &second, &["--jobs", "4"]);
    assert_eq!(
        wait(&mut b, Duration::from_secs(60), "the second worker"),
        0
    );
    // Every job ran: those the signal ended ran on the second worker, and
    // none whose step after it the first worker committed ran again. (A
    // command that wrote its line just as the signal came, before its end
    // was seen, is run again: calls run at least once.)
    let mut jobs = ran_lines();
    jobs.sort_unstable();
    let first_done = done_lines(&first);
    let mut distinct = jobs.clone();
    distinct.dedup();
    assert_eq!(
        distinct,
        (0..=11).collect::<Vec<u64>>(),
        "jobs run: {jobs:?}"
    );
    for twice in jobs.windows(2).filter(|w| w[0] == w[1]) {
        assert!(
            !first_done.contains(&twice[0]),
            "job {} ran again after its step was committed: {jobs:?}",
            twice[0]
        );
    }
    let mut done = first_done;
    done.extend(done_lines(&second));
    done.sort_unstable();
    assert_eq!(done, (0..=11).collect::<Vec<u64>>(), "steps after the jobs");
    assert_eq!(count(&mut c, "SELECT count(*) FROM voyager.items"), 0);
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM voyager.dead_letters"),
        0
    );
}

/// Two processes fire one schedule over the same hours of virtual time, at
/// once: each due time is claimed in the store by one of them, so every
/// firing runs once in all (and a third, later, fires none of them again).
/// (`overlap allow`: with the default `skip`, a firing is skipped while an
/// earlier one is unfinished on any worker, and two virtual clocks racing
/// through the same hours make them overlap.)
#[test]
fn two_processes_on_one_store_fire_each_schedule_time_once() {
    let Some(url) = database("schedules") else {
        return;
    };
    let dir = temp_dir("schedules");
    std::fs::write(
        dir.join("work.vy"),
        "schedule tick every 1h overlap allow {\n  print(\"tick {now()}\")\n}\n",
    )
    .unwrap();
    // A run to resume: both processes below go on with it.
    let first = voyager(&dir, &["enqueue", "--store", &url, "work.vy", "noop"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let spawn = |out: &str| {
        Command::new(env!("CARGO_BIN_EXE_voyager"))
            .args([
                "--color", "never", "run", "--store", &url, "--clock", "virtual",
            ])
            .args([
                "--clock-start",
                "2026-01-05T00:00:00Z",
                "--for",
                "6h",
                "work.vy",
            ])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join(out)).expect("output file"))
            .stderr(std::fs::File::create(dir.join(out).with_extension("err")).expect("file"))
            .spawn()
            .expect("a run starts")
    };
    let mut a = spawn("a.out");
    let mut b = spawn("b.out");
    assert_eq!(wait(&mut a, Duration::from_secs(60), "run a"), 0);
    assert_eq!(wait(&mut b, Duration::from_secs(60), "run b"), 0);
    let mut ticks: Vec<String> = ["a.out", "b.out"]
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(dir.join(f))
                .unwrap_or_default()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    ticks.sort();
    let expected: Vec<String> = (1..=6)
        .map(|h| format!("tick 2026-01-05T{h:02}:00:00Z"))
        .collect();
    assert_eq!(
        ticks,
        expected,
        "{}{}",
        std::fs::read_to_string(dir.join("a.err")).unwrap_or_default(),
        std::fs::read_to_string(dir.join("b.err")).unwrap_or_default()
    );
    let mut c = spawn("c.out");
    assert_eq!(wait(&mut c, Duration::from_secs(60), "run c"), 0);
    assert_eq!(std::fs::read_to_string(dir.join("c.out")).unwrap(), "");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `overlap skip` holds across workers: while an earlier firing's item is
/// unfinished in the store (here a row another worker holds), no worker
/// fires the schedule; once it is gone, firing goes on. The claim and the
/// firing's item are one transaction: the key moves only with an item.
#[test]
fn a_firing_is_skipped_while_an_earlier_one_is_unfinished_on_any_worker() {
    let Some(url) = database("overlap") else {
        return;
    };
    let dir = temp_dir("overlap");
    std::fs::write(
        dir.join("work.vy"),
        "schedule tick every 1h {\n  print(\"tick {now()}\")\n}\n",
    )
    .unwrap();
    let first = voyager(&dir, &["enqueue", "--store", &url, "work.vy", "noop"]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let mut c = client(&url);
    // The earlier firing, held (a live lease) by a worker that is not here.
    c.execute(
        "INSERT INTO voyager.items (form, body, unique_key, lease_owner, lease_until)
         VALUES ('source', 'noop', 'schedule:tick', 7, voyager.now_ms() + 3600000)",
        &[],
    )
    .unwrap();
    let run = |start: &str| {
        voyager(
            &dir,
            &[
                "run",
                "--store",
                &url,
                "--clock",
                "virtual",
                "--clock-start",
                start,
                "--for",
                "3h",
                "--stats",
                "work.vy",
            ],
        )
    };
    let skipped = run("2026-01-05T00:00:00Z");
    assert_eq!(text(&skipped.stdout), "", "{}", text(&skipped.stderr));
    assert!(
        text(&skipped.stderr).contains("skipped"),
        "{}",
        text(&skipped.stderr)
    );
    c.execute("DELETE FROM voyager.items WHERE lease_owner = 7", &[])
        .unwrap();
    let fired = run("2026-01-06T00:00:00Z");
    assert_eq!(
        text(&fired.stdout),
        // The missed stretch once (at the start), then on the hour.
        "tick 2026-01-06T00:00:00Z\ntick 2026-01-06T01:00:00Z\ntick 2026-01-06T02:00:00Z\ntick 2026-01-06T03:00:00Z\n",
        "{}",
        text(&fired.stderr)
    );
    assert_eq!(
        count(
            &mut c,
            "SELECT count(*) FROM voyager.items WHERE unique_key IS NOT NULL"
        ),
        0
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The failures `catch` handlers recovered are added up in the store
/// (schema 3), as on SQLite.
#[test]
fn status_counts_the_failures_a_handler_recovered() {
    let Some(url) = database("recovered") else {
        return;
    };
    let dir = temp_dir("recovered");
    std::fs::write(
        dir.join("s.vy"),
        "action boom() { fail(\"no\") }\naction handle(e) { print(\"handled {e.code}\") }\ncatch(call(boom), call(handle))\n",
    )
    .unwrap();
    let run = voyager(
        &dir,
        &["run", "--store", &url, "--max-attempts", "1", "s.vy"],
    );
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert_eq!(text(&run.stdout), "handled E0300\n");
    let json = voyager(&dir, &["status", "--json", &url]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(json["recovered"], 1, "{json}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Items routed into topics by 3 workers: any worker runs a topic's pass
/// over what all of them routed there (one at a time), every message ends
/// exactly once, and a failing pass's batch is in the dead letters.
#[test]
fn three_workers_share_topics_and_a_failing_pass_dead_letters_its_batch() {
    let Some(url) = database("topics") else {
        return;
    };
    let dir = temp_dir("topics");
    std::fs::write(
        dir.join("work.vy"),
        "import passes\n\
         action work(i) { if i % 10 == 0 { call(bad, i) } else { call(note, i) } }\n\
         action note(i) { print(\"unbatched {i}\") }\n\
         action note_many(xs) { for x in xs { print(\"done {x}\") } }\n\
         action bad(i) { print(\"never {i}\") }\n\
         interest \"notes\" when call(note, _)\n\
         pass \"notes\" (msgs) { passes.batch(msgs, note_many) }\n\
         interest \"bads\" when call(bad, _)\n\
         pass \"bads\" (msgs) { fail(\"bad batch\") }\n",
    )
    .unwrap();
    let n = 600;
    let out = voyager(
        &dir,
        &["enqueue", "--store", &url, "work.vy", "call(work, 0)"],
    );
    assert!(out.status.success(), "enqueue: {}", text(&out.stderr));
    client(&url)
        .execute(
            "SELECT voyager.enqueue(format('call(work, %s)', g)) FROM generate_series(1, $1::bigint) g",
            &[&n],
        )
        .expect("bulk enqueue");
    let outs = drain_with_workers(&dir, &url, 3);
    let mut seen: HashMap<u64, usize> = HashMap::new();
    let mut all = String::new();
    for o in &outs {
        all.push_str(&std::fs::read_to_string(o).unwrap_or_default());
        for d in done_lines(o) {
            *seen.entry(d).or_default() += 1;
        }
    }
    assert!(
        !all.contains("unbatched") && !all.contains("never"),
        "{all}"
    );
    for i in 0..=n as u64 {
        let want = usize::from(i % 10 != 0);
        assert_eq!(seen.get(&i).copied().unwrap_or(0), want, "item {i}");
    }
    let mut c = client(&url);
    let letters: Vec<(String, String)> = c
        .query("SELECT message, error FROM voyager.dead_letters", &[])
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut bad: Vec<i64> = letters
        .iter()
        .map(|(m, e)| {
            assert!(e.contains("pass \"bads\" failed: bad batch"), "{e}");
            let j: serde_json::Value = serde_json::from_str(m).unwrap();
            j["call"]["args"][0].as_i64().expect("call(bad, i)")
        })
        .collect();
    bad.sort_unstable();
    let want: Vec<i64> = (0..=n).filter(|i| i % 10 == 0).collect();
    assert_eq!(bad, want, "each failed batch's messages, once");
    assert_eq!(count(&mut c, "SELECT count(*) FROM voyager.topics"), 0);
    assert_eq!(count(&mut c, "SELECT count(*) FROM voyager.items"), 0);
}

/// `state_get` reads what the store holds now, under a lock the step's
/// commit lets go: two workers incrementing one key lose no increment.
#[test]
fn two_workers_incrementing_one_key_lose_no_increment() {
    let Some(url) = database("counter") else {
        return;
    };
    let dir = temp_dir("counter");
    std::fs::write(
        dir.join("work.vy"),
        "action bump(i) { state_put(\"n\", state_get(\"n\", 0) + 1); print(\"done {i}\") }\n\
         action put(i) { state_put(\"last\", i) }\n",
    )
    .unwrap();
    let n: i64 = 600;
    let out = voyager(
        &dir,
        &["enqueue", "--store", &url, "work.vy", "call(bump, 1)"],
    );
    assert!(out.status.success(), "enqueue: {}", text(&out.stderr));
    client(&url)
        .execute(
            "SELECT voyager.enqueue(format('seq([call(bump, %s), call(put, %s)])', g, g)) FROM generate_series(2, $1::bigint) g",
            &[&n],
        )
        .expect("bulk enqueue");
    let outs = drain_with_workers(&dir, &url, 2);
    for (i, out) in outs.iter().enumerate() {
        eprintln!("worker {i}: {} item(s)", done_lines(out).len());
    }
    let mut c = client(&url);
    let value: String = c
        .query_one("SELECT value FROM voyager.state WHERE key = 'n'", &[])
        .unwrap()
        .get(0);
    assert_eq!(value, n.to_string());
    assert_eq!(
        count(&mut c, "SELECT count(*) FROM voyager.dead_letters"),
        0
    );
}

/// Timers, retries (with durable state) and a topic with a pass, spread
/// over 3 workers: the same output and dead letters as one in-memory run.
#[test]
fn timers_retries_and_a_topic_over_three_workers_match_one_in_memory_run() {
    let Some(url) = database("mix") else { return };
    let dir = temp_dir("mix");
    let n = 600;
    std::fs::write(
        dir.join("work.vy"),
        format!(
            "import passes\n\
             action work(i) {{\n\
               if i % 5 == 0 {{ seq([delay(200ms), call(flaky, i)]) }} else {{ call(note, i) }}\n\
             }}\n\
             action flaky(i) {{\n\
               let tries = state_get(\"try {{i}}\", 0) + 1\n\
               state_put(\"try {{i}}\", tries)\n\
               if i % 25 == 0 {{ fail(\"never {{i}}\") }}\n\
               if tries < 3 {{ retry(\"not yet {{i}}\") }}\n\
               call(note, i * 1000)\n\
             }}\n\
             action note(i) {{ print(\"unbatched {{i}}\") }}\n\
             action note_many(xs) {{ for x in xs {{ print(\"done {{x}}\") }} }}\n\
             interest \"notes\" when call(note, _)\n\
             pass \"notes\" (msgs) {{ passes.batch(msgs, note_many) }}\n\
             let xs = []\n\
             for i in range(1, {}) {{ push(xs, call(work, i)) }}\n\
             conc(xs)\n",
            n + 1
        ),
    )
    .unwrap();
    // One in-memory run.
    let memory = voyager(&dir, &["run", "--dead-letters", "mem.jsonl", "work.vy"]);
    assert_eq!(memory.status.code(), Some(1), "{}", text(&memory.stderr));
    let mut want: Vec<String> = text(&memory.stdout).lines().map(String::from).collect();
    want.sort();
    let mut want_dead: Vec<String> = std::fs::read_to_string(dir.join("mem.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let j: serde_json::Value = serde_json::from_str(l).unwrap();
            j["message"].to_string()
        })
        .collect();
    want_dead.sort();
    assert_eq!(want_dead.len(), n / 25);
    // The same items (the top level is not enqueued by workers), over 3.
    let out = voyager(
        &dir,
        &["enqueue", "--store", &url, "work.vy", "call(work, 1)"],
    );
    assert!(out.status.success(), "enqueue: {}", text(&out.stderr));
    client(&url)
        .execute(
            "SELECT voyager.enqueue(format('call(work, %s)', g)) FROM generate_series(2, $1::bigint) g",
            &[&(n as i64)],
        )
        .expect("bulk enqueue");
    let outs = drain_with_workers(&dir, &url, 3);
    let mut got: Vec<String> = Vec::new();
    for (i, out) in outs.iter().enumerate() {
        let lines: Vec<String> = std::fs::read_to_string(out)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect();
        // (How the items spread depends on when each worker started.)
        eprintln!("worker {i}: {} line(s)", lines.len());
        got.extend(lines);
    }
    got.sort();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "the workers' output differs from one run's");
    let mut c = client(&url);
    let mut dead: Vec<String> = c
        .query("SELECT message FROM voyager.dead_letters", &[])
        .unwrap()
        .iter()
        .map(|r| {
            let m: String = r.get(0);
            serde_json::from_str::<serde_json::Value>(&m)
                .unwrap()
                .to_string()
        })
        .collect();
    dead.sort();
    assert_eq!(dead, want_dead);
    assert_eq!(count(&mut c, "SELECT count(*) FROM voyager.items"), 0);
    assert_eq!(count(&mut c, "SELECT count(*) FROM voyager.topics"), 0);
}

/// `voyager cancel` on PostgreSQL: the item leaves the queue (no worker
/// runs it) and stays listed in the cancel log; `voyager status` counts it.
#[test]
fn cancelled_items_are_not_run_and_stay_in_the_cancel_log() {
    let Some(url) = database("cancel") else {
        return;
    };
    let dir = temp_dir("cancel");
    std::fs::write(dir.join("work.vy"), WORK).unwrap();
    for i in 1..=3 {
        let e = format!("call(work, {i})");
        let out = voyager(&dir, &["enqueue", "--store", &url, "work.vy", &e]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let mut c = client(&url);
    let id: i64 = c
        .query_one(
            "SELECT id FROM voyager.items WHERE body LIKE '%2%' ORDER BY id LIMIT 1",
            &[],
        )
        .unwrap()
        .get(0);
    let out = voyager(&dir, &["cancel", &url, &id.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("cancelled 1 item(s)"),
        "{}",
        text(&out.stdout)
    );
    // Again: no unfinished item has that id any more.
    let again = voyager(&dir, &["cancel", &url, &id.to_string()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains(&format!("no unfinished item #{id}")));
    let stdout = dir.join("w.out");
    let mut w = worker(&dir, &url, &stdout, &[]);
    assert_eq!(wait(&mut w, Duration::from_secs(60), "the worker"), 0);
    let mut done = done_lines(&stdout);
    done.sort_unstable();
    assert_eq!(done, [1, 3]);
    let status = voyager(&dir, &["status", "--json", &url]);
    let j: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(j["cancelled"], 1, "{j}");
    let logged: i64 = c
        .query_one("SELECT id FROM voyager.cancelled", &[])
        .unwrap()
        .get(0);
    assert_eq!(logged, id);
}

/// Limited actions spread over workers: what the resource allows holds
/// across them all, as in one process — `limit 1 per host` runs one call
/// per host at a time, its whole subtree held, and `rate 20/s` spaces
/// the starts of every worker together.
#[test]
fn limits_and_rates_hold_across_workers() {
    let Some(url) = database("limits") else {
        return;
    };
    let dir = temp_dir("limits");
    let script = r#"
fn ms() { let d = now() - parse_time("1970-01-01T00:00:00Z"); int(d / 1ms) }
action deploy(host, n) limit 1 per host {
  print("start {host} {n} {ms()}")
  seq([delay(20ms), call(finish, host, n)])
}
action finish(host, n) { print("end {host} {n} {ms()}") }
action fetch(n) rate 20/s { print("fetch {n} {ms()}") }
"#;
    std::fs::write(dir.join("work.vy"), script).unwrap();
    enqueue_one(&dir, &url, "call(fetch, 0)");
    let mut c = client(&url);
    c.execute(
        "SELECT voyager.enqueue(format('call(deploy, \"h%s\", %s)', g % 2, g)) FROM generate_series(1, 30) g",
        &[],
    )
    .unwrap();
    c.execute(
        "SELECT voyager.enqueue(format('call(fetch, %s)', g)) FROM generate_series(1, 29) g",
        &[],
    )
    .unwrap();
    // One item at a time, so that every worker gets some.
    let outs = drain_with(&dir, &url, 3, &["--take", "1"]);
    let mut spans: HashMap<(String, i64), (i64, i64)> = HashMap::new();
    let mut fetches = Vec::new();
    let mut by_worker = Vec::new();
    for out in &outs {
        let text = std::fs::read_to_string(out).unwrap();
        let mut deploys = 0;
        for line in text.lines() {
            let f: Vec<&str> = line.split(' ').collect();
            match f.as_slice() {
                ["start", host, n, at] => {
                    deploys += 1;
                    let span = spans.entry((host.to_string(), n.parse().unwrap()));
                    span.or_insert((0, 0)).0 = at.parse().unwrap();
                }
                ["end", host, n, at] => {
                    let span = spans.entry((host.to_string(), n.parse().unwrap()));
                    span.or_insert((0, 0)).1 = at.parse().unwrap();
                }
                ["fetch", _, at] => fetches.push(at.parse::<i64>().unwrap()),
                _ => panic!("unexpected line {line:?}"),
            }
        }
        by_worker.push(deploys);
    }
    assert_eq!(spans.len(), 30, "{spans:?}");
    for host in ["h0", "h1"] {
        let mut calls: Vec<(i64, i64, i64)> = spans
            .iter()
            .filter(|((h, _), _)| h == host)
            .map(|((_, n), (start, end))| (*start, *end, *n))
            .collect();
        calls.sort();
        assert_eq!(calls.len(), 15);
        for pair in calls.windows(2) {
            let (_, end, n) = pair[0];
            let (start, _, m) = pair[1];
            assert!(
                start >= end,
                "{host}: call {m} started at {start}, before call {n} ended at {end}"
            );
        }
    }
    // The calls were spread over the workers (else this shows nothing).
    assert!(
        by_worker.iter().filter(|n| **n > 0).count() >= 2,
        "deploys by worker: {by_worker:?}"
    );
    // 30 starts at 20 a second take 29 intervals of 50 ms (a little less
    // for the time each takes to print after its start).
    fetches.sort();
    assert_eq!(fetches.len(), 30);
    let span = fetches[29] - fetches[0];
    assert!(
        span >= 29 * 50 - 40,
        "30 fetches within {span} ms: {fetches:?}"
    );
    // Every hold was given back.
    assert_eq!(holds(&mut c), 0);
}

const SLOW_LIMITED: &str = r#"
fn ms() { let d = now() - parse_time("1970-01-01T00:00:00Z"); int(d / 1ms) }
action slow(n) limit 1 {
  print("start {n} {ms()}")
  seq([delay(300ms), call(finish, n)])
}
action finish(n) { print("end {n} {ms()}") }
"#;

/// Each call's span from `start N T` and `end N T` lines in `outs`: the
/// last start seen (a call whose worker died before its step was
/// committed started again), and its end.
fn limited_spans(outs: &[PathBuf]) -> Vec<(i64, i64, i64)> {
    let mut starts: HashMap<i64, i64> = HashMap::new();
    let mut ends: HashMap<i64, i64> = HashMap::new();
    for out in outs {
        for line in std::fs::read_to_string(out).unwrap_or_default().lines() {
            let f: Vec<&str> = line.split(' ').collect();
            if let [what, n, at] = f.as_slice() {
                let (n, at): (i64, i64) = (n.parse().unwrap(), at.parse().unwrap());
                let map = if *what == "start" {
                    &mut starts
                } else {
                    &mut ends
                };
                let e = map.entry(n).or_insert(at);
                *e = (*e).max(at);
            }
        }
    }
    let mut spans: Vec<(i64, i64, i64)> = starts
        .iter()
        .map(|(n, start)| (*start, *ends.get(n).unwrap_or(&-1), *n))
        .collect();
    spans.sort();
    spans
}

/// Enqueues `expression` with `voyager enqueue` (which makes the schema).
fn enqueue_one(dir: &Path, url: &str, expression: &str) {
    let out = voyager(dir, &["enqueue", "--store", url, "work.vy", expression]);
    assert!(out.status.success(), "enqueue: {}", text(&out.stderr));
}

/// How many holds the store keeps.
fn holds(c: &mut postgres::Client) -> i64 {
    c.query_one("SELECT count(*) FROM voyager.holds", &[])
        .unwrap()
        .get(0)
}

/// Waits (up to a minute) until a worker's output file has a `start`.
fn wait_for_a_start(out: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(out)
        .unwrap_or_default()
        .contains("start")
    {
        assert!(Instant::now() < deadline, "the worker never started a call");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A worker SIGKILLed while its call holds a `limit 1` resource: the item
/// is rescued with its hold, so no other call starts until it ends, and
/// every call ends with every hold given back.
#[test]
fn a_hold_survives_its_worker_being_killed() {
    let Some(url) = database("holdkill") else {
        return;
    };
    let dir = temp_dir("holdkill");
    std::fs::write(dir.join("work.vy"), SLOW_LIMITED).unwrap();
    enqueue_one(&dir, &url, "call(slow, 0)");
    let mut c = client(&url);
    c.execute(
        "SELECT voyager.enqueue(format('call(slow, %s)', g)) FROM generate_series(1, 4) g",
        &[],
    )
    .unwrap();
    let first = dir.join("first.out");
    let mut victim = worker(&dir, &url, &first, &["--take", "1"]);
    wait_for_a_start(&first);
    // (Its step's commit comes at once after the step that took the hold.)
    std::thread::sleep(Duration::from_millis(50));
    victim.kill().expect("SIGKILL");
    victim.wait().unwrap();
    let mut outs = drain_with(&dir, &url, 2, &["--take", "1"]);
    outs.push(first);
    let spans = limited_spans(&outs);
    assert_eq!(spans.len(), 5, "{spans:?}");
    for (start, end, n) in &spans {
        assert!(end >= start, "call {n} never ended: {spans:?}");
    }
    for pair in spans.windows(2) {
        let (_, end, n) = pair[0];
        let (start, _, m) = pair[1];
        assert!(
            start >= end,
            "call {m} started at {start}, before call {n} ended at {end}: {spans:?}"
        );
    }
    assert_eq!(holds(&mut c), 0);
}

/// A hold whose item is gone (here written by hand: as a cancelled item
/// leaves one) is swept, and the calls it would block run; a hold as old
/// whose item still names it is kept, and holds the resource until that
/// item ends.
#[test]
fn a_hold_without_an_item_is_swept() {
    let Some(url) = database("holdsweep") else {
        return;
    };
    let dir = temp_dir("holdsweep");
    std::fs::write(dir.join("work.vy"), SLOW_LIMITED).unwrap();
    enqueue_one(&dir, &url, "call(slow, 0)");
    let mut c = client(&url);
    c.execute(
        "INSERT INTO voyager.holds (action, key, worker, since) VALUES ('slow', '', 12345, 0)",
        &[],
    )
    .unwrap();
    let status = voyager(&dir, &["status", &url]);
    assert!(
        text(&status.stdout).contains("held:         slow by 1 call(s)"),
        "{}",
        text(&status.stdout)
    );
    let status = voyager(&dir, &["status", "--json", &url]);
    let j: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(j["held"][0]["action"], "slow", "{j}");
    assert_eq!(j["held"][0]["calls"], 1, "{j}");
    // An item holding `slow`'s resource until 1.5 s from now, with a hold
    // as old as the orphan.
    let named: i64 = c
        .query_one(
            "INSERT INTO voyager.holds (action, key, worker, since) VALUES ('slow', '', 12345, 0) RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    let until: i64 = c
        .query_one(
            "INSERT INTO voyager.items (form, body, due_at)
             SELECT 'node', format('{\"hold\":{\"action\":\"slow\",\"key\":\"\",\"inner\":{\"defer\":%s},\"$shared\":%s}}', t, $1::bigint), t
             FROM (SELECT voyager.now_ms() + 1500 AS t) x RETURNING due_at",
            &[&named],
        )
        .unwrap()
        .get(0);
    let outs = drain_with_workers(&dir, &url, 1);
    let spans = limited_spans(&outs);
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert!(
        spans[0].0 >= until,
        "slow 0 started at {}, before the item holding its resource ended at {until}",
        spans[0].0
    );
    assert_eq!(holds(&mut c), 0);
}

/// Every enqueued message is a group, with every item its steps make, on
/// whichever worker they ran: `voyager status` counts each group's calls
/// done and dead, across the workers.
#[test]
fn status_counts_each_groups_calls_across_workers() {
    let Some(url) = database("groups") else {
        return;
    };
    let dir = temp_dir("groups");
    std::fs::write(
        dir.join("work.vy"),
        "action count(n) { if n < 3 { conc([call(count, n + 1), call(noop_work)]) } }\naction noop_work() { 0 }\naction boom() { fail(\"no\") }\n",
    )
    .unwrap();
    for message in ["call(count, 0)", "conc([call(boom), call(count, 2)])"] {
        let out = voyager(&dir, &["enqueue", "--store", &url, "work.vy", message]);
        assert!(out.status.success(), "enqueue: {}", text(&out.stderr));
    }
    // One the workers cannot compile: a dead letter, a group of its own.
    client(&url)
        .execute("SELECT voyager.enqueue('call(nothing_here)')", &[])
        .unwrap();
    let mut workers: Vec<Child> = (0..2)
        .map(|i| {
            let out = dir.join(format!("w{i}.out"));
            worker(&dir, &url, &out, &["--take", "1", "--max-attempts", "1"])
        })
        .collect();
    for w in &mut workers {
        assert_eq!(wait(w, Duration::from_secs(120), "a worker"), 0);
    }
    let status = voyager(&dir, &["status", "--json", &url]);
    let j: serde_json::Value = serde_json::from_slice(&status.stdout).expect("JSON");
    assert_eq!(j["groups"]["total"], 3, "{j}");
    assert_eq!(j["groups"]["unfinished"], 0, "{j}");
    // Each is labelled with what was enqueued (`voyager enqueue` writes
    // the message's JSON; the SQL function, its text).
    let calls = |n: usize, label: &str| {
        let g = &j["groups"]["shown"][n];
        assert!(g["message"].to_string().contains(label), "{label}: {j}");
        (g["calls"]["done"].as_i64(), g["calls"]["dead"].as_i64())
    };
    // count 0..3 and three noop_works.
    assert_eq!(calls(0, r#""args":[0]"#), (Some(7), Some(0)));
    // count 2, count 3 and a noop_work; boom is dead.
    assert_eq!(calls(1, r#""action":"boom""#), (Some(3), Some(1)));
    assert_eq!(calls(2, "call(nothing_here)"), (Some(0), Some(1)));
    let text_status = text(&voyager(&dir, &["status", &url]).stdout);
    assert!(
        text_status.contains("groups:       3 (0 unfinished)"),
        "{text_status}"
    );
}

/// The groups table keeps the latest 10,000 groups (and every live one):
/// 21,000 messages, each a group, leave between 10,000 and 12,000 rows.
#[test]
fn old_finished_groups_are_pruned_on_postgres() {
    let Some(url) = database("prune") else {
        return;
    };
    let dir = temp_dir("prune");
    std::fs::write(dir.join("work.vy"), "action work(i) { i }\n").unwrap();
    enqueue_many(&dir, &url, 21_000);
    drain_with_workers(&dir, &url, 1);
    let mut c = client(&url);
    let count =
        |c: &mut postgres::Client, sql: &str| -> i64 { c.query_one(sql, &[]).unwrap().get(0) };
    let rows = count(&mut c, "SELECT count(*) FROM voyager.groups");
    assert!((10_000..=12_000).contains(&rows), "{rows} groups kept");
    let latest = count(&mut c, "SELECT max(id) FROM voyager.groups");
    let done = count(
        &mut c,
        &format!("SELECT done FROM voyager.groups WHERE id = {latest}"),
    );
    assert_eq!(done, 1, "the latest group is kept with its count");
}

/// SIGINT while a limited call's work is mid-step: the step is dropped,
/// and the hold stays with the item (in the store, named by its state),
/// so the workers that run it next still keep the limit.
#[test]
fn an_interrupted_step_keeps_its_items_hold() {
    let Some(url) = database("holdint") else {
        return;
    };
    let dir = temp_dir("holdint");
    let script = r#"
fn ms() { let d = now() - parse_time("1970-01-01T00:00:00Z"); int(d / 1ms) }
action slow(n) limit 1 {
  print("start {n} {ms()}")
  seq([call(spin, n), call(finish, n)])
}
action spin(n) {
  if env("SPIN", "") == "1" { for i in range(0, 2000000000) { } }
  n
}
action finish(n) { print("end {n} {ms()}") }
"#;
    std::fs::write(dir.join("work.vy"), script).unwrap();
    enqueue_one(&dir, &url, "call(slow, 1)");
    enqueue_one(&dir, &url, "call(slow, 2)");
    let first = dir.join("first.out");
    let mut spinning = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args([
            "--color", "never", "worker", "--store", &url, "--take", "1", "work.vy",
        ])
        .env("SPIN", "1")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&first).unwrap())
        .stderr(std::fs::File::create(first.with_extension("err")).unwrap())
        .spawn()
        .expect("a worker starts");
    wait_for_a_start(&first);
    // In the spin by now (the hold's step was committed at once).
    std::thread::sleep(Duration::from_millis(300));
    let pid = spinning.id().to_string();
    assert!(Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    wait(
        &mut spinning,
        Duration::from_secs(60),
        "the interrupted worker",
    );
    let mut c = client(&url);
    assert_eq!(holds(&mut c), 1, "the interrupted call's hold is kept");
    let mut outs = drain_with(&dir, &url, 2, &["--take", "1"]);
    outs.push(first);
    let spans = limited_spans(&outs);
    assert_eq!(spans.len(), 2, "{spans:?}");
    let (_, end, n) = spans[0];
    let (start, _, m) = spans[1];
    assert!(
        start >= end,
        "call {m} started at {start}, before call {n} ended at {end}: {spans:?}"
    );
    assert_eq!(holds(&mut c), 0);
}
