//! Durable runs: what `--store` costs (not a timed test).
//!
//! `cargo bench --bench store` prints, for one run each:
//! - 200,000 flat calls with `--store` and interval (group) sync, beside
//!   the same run in memory;
//! - a 1,000-step `seq` with `--sync step` (every step committed, fsync
//!   included): per-step latency;
//! - SQLite's own rate for the same inserts and deletes (the rows these
//!   runs write, 1,024 to a transaction), measured in the same run: the
//!   limit.
//!
//! `cargo test` runs it once on small sizes (debug builds) as a smoke test.

use std::path::{Path, PathBuf};
use std::time::Instant;

use voyager::engine::{Config, Finish};
use voyager::store::{SqliteStore, Sync};
use voyager::Voyager;

fn size(full: usize, smoke: usize) -> usize {
    if cfg!(debug_assertions) {
        smoke
    } else {
        full
    }
}

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("voyager-bench-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    path
}

/// Loads `script`, with a store at `db` (if any), runs it; returns the
/// seconds the whole run took (top level included) and the steps.
fn run(script: &str, db: Option<(&Path, Sync)>) -> (f64, u64) {
    let started = Instant::now();
    let (mut v, _out) = Voyager::with_buffer(Config::default());
    let store = db.map(|(path, sync)| SqliteStore::open(path, sync).expect("store opens"));
    if store.is_some() {
        v.engine.state.borrow_mut().recording = true;
    }
    v.load("bench.vy", script, None)
        .expect("bench script loads");
    if let Some(mut store) = store {
        store.begin_run("bench.vy", "0");
        v.engine.set_store(Box::new(store), true);
        v.engine.commit_top_level();
    }
    let finish = v.run();
    assert_eq!(finish, Finish::Idle);
    (started.elapsed().as_secs_f64(), v.engine.stats.steps)
}

/// SQLite alone: `n` rows like the items the runs write, inserted then
/// deleted, 1,024 to a transaction, WAL and synchronous=FULL as the store.
fn sqlite_limit(n: usize) -> f64 {
    let path = temp("limit.db");
    let conn = rusqlite::Connection::open(&path).expect("opens");
    conn.pragma_update(None, "journal_mode", "WAL")
        .expect("wal");
    conn.pragma_update(None, "synchronous", "FULL")
        .expect("sync");
    conn.execute_batch(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, state TEXT NOT NULL, due INTEGER, since INTEGER NOT NULL, message TEXT NOT NULL)",
    )
    .expect("table");
    let started = Instant::now();
    let mut conn = conn;
    for chunk in (0..n).collect::<Vec<_>>().chunks(1024) {
        let tx = conn.transaction().expect("tx");
        {
            let mut put = tx
                .prepare_cached("INSERT INTO items (id, state, due, since, message) VALUES (?1, 'queued', NULL, 0, ?2)")
                .expect("insert");
            for &i in chunk {
                let m = format!("{{\"call\":{{\"action\":\"work\",\"args\":[{i}]}}}}");
                put.execute(rusqlite::params![i as i64, m]).expect("row");
            }
        }
        tx.commit().expect("commit");
    }
    for chunk in (0..n).collect::<Vec<_>>().chunks(1024) {
        let tx = conn.transaction().expect("tx");
        {
            let mut delete = tx
                .prepare_cached("DELETE FROM items WHERE id = ?1")
                .expect("delete");
            for &i in chunk {
                delete.execute([i as i64]).expect("row");
            }
        }
        tx.commit().expect("commit");
    }
    started.elapsed().as_secs_f64()
}

fn main() {
    // `cargo bench` passes --bench; `cargo test` runs the smoke sizes.
    let n = size(200_000, 2_000);
    let flat = format!("action work(i) {{ }}\nconc(map(range({n}), fn(i) {{ call(work, i) }}))\n");
    let (mem_s, steps) = run(&flat, None);
    println!(
        "flat calls in memory:        {steps} steps in {mem_s:.3}s = {:.0} steps/s",
        steps as f64 / mem_s
    );
    let db = temp("flat.db");
    let (store_s, steps) = run(&flat, Some((&db, Sync::Interval)));
    println!(
        "flat calls, --store interval: {steps} steps in {store_s:.3}s = {:.0} steps/s",
        steps as f64 / store_s
    );
    let limit = sqlite_limit(n);
    println!(
        "SQLite alone, same {n} inserts + deletes: {limit:.3}s = {:.0} items/s (the limit)",
        n as f64 / limit
    );
    let m = size(1_000, 50);
    let seq = format!("action step(i) {{ }}\nseq(map(range({m}), fn(i) {{ call(step, i) }}))\n");
    let db = temp("seq.db");
    let (seq_s, steps) = run(&seq, Some((&db, Sync::Step)));
    println!(
        "seq of {m}, --sync step:     {steps} steps in {seq_s:.3}s = {:.3}ms per step",
        seq_s * 1000.0 / steps as f64
    );
    let db = temp("seq-interval.db");
    let (seqi_s, steps) = run(&seq, Some((&db, Sync::Interval)));
    println!(
        "seq of {m}, --store interval: {steps} steps in {seqi_s:.3}s = {:.3}ms per step",
        seqi_s * 1000.0 / steps as f64
    );
    if let Some(dir) = db.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}
