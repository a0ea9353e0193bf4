//! Many workers on one queue: a PostgreSQL store (`--store postgres://…`).
//!
//! The same [`Store`] seam as the SQLite store, with the items in a table
//! that every worker takes from. A worker takes a batch of ready items with
//! `SELECT … FOR UPDATE SKIP LOCKED` (served by a partial index on the
//! unleased items), and holds each under a lease: its worker key and a
//! time it runs until, renewed by a heartbeat thread. What a worker's step
//! makes of an item (the item put back, new items, its end, dead letters,
//! durable state) is written in one transaction per group of steps, as
//! with SQLite; new items a worker makes stay leased to it.
//!
//! A worker also holds a session advisory lock on its own key for as long
//! as its connection lives. An item whose lease ran out, or whose worker's
//! lock is gone (the process was killed: PostgreSQL ends its session at
//! once), is rescued: its lease is cleared, and the next worker to take it
//! counts one more attempt. An item taken more than [`MAX_TAKES`] times is
//! a dead letter (its workers keep dying on it). Behind a PgBouncer in
//! transaction pooling, sessions are shared, so `poll_only` turns off both
//! the lock check (leases alone decide) and `LISTEN`.
//!
//! The schema lives in the `voyager` schema, created and upgraded by the
//! first Voyager to connect, under an advisory lock, and versioned in
//! `voyager.schema_version`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

use super::open::{StoreError, EXIT_SCRIPT_CHANGED, EXIT_UNUSABLE};
use super::{RunInfo, Sync, TopicOp, GROUP_STEPS, GROUP_TIME};
use crate::codes;
use crate::engine::node::Node;
use crate::engine::serial;
use crate::engine::snapshot;
use crate::engine::store::{ItemState, Lost, Store};
use crate::engine::DeadLetter;
use crate::vm::message::Msg;

mod connect;
pub mod report;

pub use report::enqueue;

use connect::pg_error;
pub use connect::{
    connect, display_url, is_url, latest_run, pg_text, EXIT_UNAVAILABLE, SCHEMA_VERSION,
};

/// The channel workers `LISTEN` on; enqueues and rescues `NOTIFY` it.
pub const CHANNEL: &str = "voyager_items";

/// Times an item may be taken (its worker died or lost it each time but
/// the last) before it is a dead letter.
pub const MAX_TAKES: i32 = 5;

/// Items taken at once.
const TAKE_BATCH: i64 = 256;

/// How a worker talks to the server.
#[derive(Clone, Copy, Debug)]
pub struct PgOptions {
    /// How long a taken item is leased (renewed every third of it).
    pub lease_ms: i64,
    /// No `LISTEN` and no session locks (for PgBouncer's transaction
    /// pooling): idle workers poll once a second; leases alone rescue.
    pub poll_only: bool,
    pub sync: Sync,
}

impl Default for PgOptions {
    fn default() -> PgOptions {
        PgOptions {
            lease_ms: 30_000,
            poll_only: false,
            sync: Sync::Interval,
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A row a worker took.
pub struct Taken {
    pub id: i64,
    /// `node`, `message` or `source` (see the schema).
    pub form: String,
    pub body: String,
    pub attempts: i32,
}

/// A dead letter to write: (message, code, error, attempts), and the row
/// it depends on.
type DeadRow = (String, String, String, i32, Option<i64>);

enum Pending {
    Put {
        state: ItemState,
        due: Option<i64>,
        json: String,
    },
    Delete,
}

/// What was reported since the last commit, each change with the row
/// whose lease it depends on.
#[derive(Default)]
struct Ops {
    /// Engine item ids and their rows.
    rows: HashMap<u64, i64>,
    /// The row the next new item takes over (an enqueued message being
    /// entered: its first item keeps the row, and its unique key).
    adopt: Option<i64>,
    items: HashMap<u64, Pending>,
    /// Rows to delete at the next commit (taken messages entered).
    drop_rows: Vec<i64>,
    /// Items with no row yet: the row whose lease their work depends on
    /// (the taken item they came from).
    origin: HashMap<u64, i64>,
    /// The row whose lease what is reported now depends on (the item
    /// being stepped, or the row being entered).
    current: Option<i64>,
    /// Topic changes, each with the row it depends on.
    topics: Vec<(TopicOp, Option<i64>)>,
    /// (message, code, error, attempts), the row it depends on.
    dead: Vec<DeadRow>,
    /// Durable state written: by key and the row it depends on, the
    /// value and the order it was written in.
    state: HashMap<(String, Option<i64>), (u64, String)>,
    state_seq: u64,
    /// What the last commit refused, for the engine to drop.
    refused: Option<Lost>,
}

impl Ops {
    /// The row whose lease an item's work depends on: its own, or that
    /// of the item it came from.
    fn owner_row(&self, id: u64) -> Option<i64> {
        self.rows.get(&id).or_else(|| self.origin.get(&id)).copied()
    }

    /// Every row whose lease what is pending depends on, in order.
    fn guarded(&self) -> Vec<i64> {
        let mut rows: Vec<i64> = self
            .items
            .keys()
            .filter_map(|id| self.owner_row(*id))
            .collect();
        rows.extend(&self.drop_rows);
        rows.extend(self.topics.iter().filter_map(|(_, o)| *o));
        rows.extend(self.dead.iter().filter_map(|d| d.4));
        rows.extend(self.state.keys().filter_map(|(_, o)| *o));
        rows.sort_unstable();
        rows.dedup();
        rows
    }

    /// Forgets the work that depends on `lost` rows: returns the engine
    /// items to drop and the state keys their steps wrote.
    fn forget(&mut self, lost: &HashSet<i64>) -> (Vec<u64>, Vec<String>) {
        let gone = |o: &Option<i64>| o.is_some_and(|o| lost.contains(&o));
        let mut ids: Vec<u64> = self
            .rows
            .iter()
            .chain(self.origin.iter())
            .filter(|(_, row)| lost.contains(row))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        for id in &ids {
            self.rows.remove(id);
            self.origin.remove(id);
            self.items.remove(id);
        }
        self.drop_rows.retain(|r| !lost.contains(r));
        self.topics.retain(|(_, o)| !gone(o));
        self.dead.retain(|d| !gone(&d.4));
        let mut keys: Vec<String> = self
            .state
            .keys()
            .filter(|(_, o)| gone(o))
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys.dedup();
        self.state.retain(|(_, o), _| !gone(o));
        (ids, keys)
    }

    /// The last value written to `key` that is still pending.
    fn latest_state(&self, key: &str) -> Option<String> {
        self.state
            .iter()
            .filter(|((k, _), _)| k == key)
            .max_by_key(|(_, (seq, _))| *seq)
            .map(|(_, (_, v))| v.clone())
    }
}

/// One worker's connection to the store. The engine reports to it through
/// [`PgShared`]; the worker loop takes items through it between steps.
pub struct PgStore {
    client: Client,
    url: String,
    /// This worker's key: its leases' owner and its session lock.
    pub worker: i64,
    options: PgOptions,
    run: Option<i64>,
    /// A run to start at the next commit (script, hash of its source).
    new_run: Option<(String, String)>,
    /// What was reported since the last commit.
    ops: Ops,
    /// The largest engine item id reported or handed out.
    max_local: u64,
    unclaimed_total: u64,
    unclaimed_reported: u64,
    steps: u64,
    steps_reported: u64,
    finished: bool,
    since_commit: u32,
    last_commit: Instant,
    session_start: Instant,
    ms_reported: i64,
    /// Items another worker rescued from this one (its lease ran out).
    pub lost: u64,
    failure: Option<String>,
    heartbeat: Option<Arc<AtomicBool>>,
}

impl PgStore {
    /// Connects as a new worker: the schema made ready, the worker's
    /// session lock taken, `LISTEN` started, and its heartbeat running.
    pub fn open(url: &str, options: PgOptions) -> Result<PgStore, StoreError> {
        let mut client = connect(url)?;
        let wrap = |e: postgres::Error| pg_error(url, &e);
        let worker: i64 = (uuid::Uuid::new_v4().as_u64_pair().0 >> 2) as i64 | 1;
        if !options.poll_only {
            client
                .batch_execute(&format!(
                    "SELECT pg_advisory_lock({worker}); LISTEN {CHANNEL};"
                ))
                .map_err(wrap)?;
        }
        let run = latest_run(&mut client).map_err(wrap)?.map(|r| r.id);
        let mut store = PgStore {
            client,
            url: url.to_string(),
            worker,
            options,
            run,
            new_run: None,
            ops: Ops::default(),
            max_local: 0,
            unclaimed_total: 0,
            unclaimed_reported: 0,
            steps: 0,
            steps_reported: 0,
            finished: false,
            since_commit: 0,
            last_commit: Instant::now(),
            session_start: Instant::now(),
            ms_reported: 0,
            lost: 0,
            failure: None,
            heartbeat: None,
        };
        store.start_heartbeat()?;
        Ok(store)
    }

    pub fn url(&self) -> String {
        display_url(&self.url)
    }

    /// Renews this worker's leases every third of a lease, on its own
    /// connection, until the store is dropped.
    fn start_heartbeat(&mut self) -> Result<(), StoreError> {
        let mut client = Client::connect(&self.url, NoTls).map_err(|e| pg_error(&self.url, &e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let worker = self.worker;
        let lease = self.options.lease_ms;
        let every = Duration::from_millis((lease / 3).max(10) as u64);
        std::thread::Builder::new()
            .name("voyager-heartbeat".into())
            .spawn(move || {
                let mut next = Instant::now() + every;
                while !flag.load(Ordering::Relaxed) {
                    if Instant::now() < next {
                        std::thread::sleep(Duration::from_millis(20).min(every));
                        continue;
                    }
                    next = Instant::now() + every;
                    // A failed renewal is retried at the next beat; the
                    // worker's own commits find out if leases were lost.
                    // Rows the worker's own commit holds are skipped (the
                    // commit renews them): no deadlock with it.
                    let _ = client.execute(
                        "UPDATE voyager.items SET lease_until = voyager.now_ms() + $2
                         WHERE id IN (SELECT id FROM voyager.items WHERE lease_owner = $1 FOR UPDATE SKIP LOCKED)",
                        &[&worker, &lease],
                    );
                }
            })
            .map_err(|e| StoreError {
                code: codes::STORE_UNREADABLE,
                message: format!("cannot start the lease heartbeat: {e}"),
                hint: None,
                exit: EXIT_UNUSABLE,
            })?;
        self.heartbeat = Some(stop);
        Ok(())
    }

    /// The latest run, if the store has one.
    pub fn latest_run(&mut self) -> Result<Option<RunInfo>, StoreError> {
        let url = self.url.clone();
        latest_run(&mut self.client).map_err(|e| pg_error(&url, &e))
    }

    /// Starts a new run at the next commit; with `fresh`, everything the
    /// store held goes then.
    pub fn begin_run(&mut self, script: &str, hash: &str) {
        self.new_run = Some((script.to_string(), hash.to_string()));
    }

    /// Durable state, every key.
    pub fn load_state(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        let rows = self
            .client
            .query("SELECT key, value FROM voyager.state ORDER BY key", &[])
            .map_err(|e| pg_error(&self.url, &e))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Takes over the topic contents of workers that are gone (all of them
    /// at the start of a run), oldest first.
    pub fn claim_topics(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        let sql = format!(
            "UPDATE voyager.topics t SET owner = $1 WHERE owner IS NULL OR (owner <> $1 AND {}) RETURNING topic, message, seq",
            gone_check("t.owner", self.options.poll_only)
        );
        let mut rows: Vec<(String, String, i64)> = self
            .client
            .query(&sql, &[&self.worker])
            .map_err(|e| pg_error(&self.url, &e))?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        rows.sort_by_key(|r| r.2);
        Ok(rows.into_iter().map(|(t, m, _)| (t, m)).collect())
    }

    /// Clears the leases of workers that are gone (their lease ran out, or
    /// their session ended), so that any worker may take the items again.
    /// Returns how many were rescued.
    pub fn rescue(&mut self) -> Result<u64, StoreError> {
        let sql = format!(
            "WITH gone AS (
               SELECT id FROM voyager.items i
               WHERE lease_owner IS NOT NULL AND lease_owner <> $1
                 AND (lease_until < voyager.now_ms() OR {})
               FOR UPDATE SKIP LOCKED)
             UPDATE voyager.items i SET lease_owner = NULL, lease_until = NULL
             FROM gone WHERE i.id = gone.id",
            gone_check("i.lease_owner", self.options.poll_only)
        );
        let n = self
            .client
            .execute(&sql, &[&self.worker])
            .map_err(|e| pg_error(&self.url, &e))?;
        if n > 0 && !self.options.poll_only {
            let _ = self.client.execute("SELECT pg_notify($1, '')", &[&CHANNEL]);
        }
        Ok(n)
    }

    /// Takes up to a batch of ready items, leased to this worker; each
    /// taking counts an attempt.
    pub fn take(&mut self) -> Result<Vec<Taken>, StoreError> {
        let rows = self
            .client
            .query(
                "WITH ready AS (
                   SELECT id FROM voyager.items
                   WHERE lease_owner IS NULL AND due_at <= voyager.now_ms()
                   ORDER BY due_at, id LIMIT $3
                   FOR UPDATE SKIP LOCKED)
                 UPDATE voyager.items i
                 SET lease_owner = $1, lease_until = voyager.now_ms() + $2, attempts = i.attempts + 1
                 FROM ready WHERE i.id = ready.id
                 RETURNING i.id, i.form, i.body, i.attempts",
                &[&self.worker, &self.options.lease_ms, &TAKE_BATCH],
            )
            .map_err(|e| pg_error(&self.url, &e))?;
        let mut taken: Vec<Taken> = rows
            .iter()
            .map(|r| Taken {
                id: r.get(0),
                form: r.get(1),
                body: r.get(2),
                attempts: r.get(3),
            })
            .collect();
        taken.sort_by_key(|t| t.id);
        Ok(taken)
    }

    /// Whether the store holds no unfinished work at all: no item (leased
    /// or not, due or not) and no topic message.
    pub fn is_empty(&mut self) -> Result<bool, StoreError> {
        let row = self
            .client
            .query_one(
                "SELECT NOT EXISTS (SELECT 1 FROM voyager.items) AND NOT EXISTS (SELECT 1 FROM voyager.topics)",
                &[],
            )
            .map_err(|e| pg_error(&self.url, &e))?;
        Ok(row.get(0))
    }

    /// Waits up to `wait` for a `NOTIFY` (enqueued or rescued work); in
    /// poll-only mode, sleeps. Returns early on `interrupt`.
    pub fn wait(&mut self, wait: Duration, interrupt: Option<&AtomicBool>) {
        let until = Instant::now() + wait;
        loop {
            if interrupt.is_some_and(|f| f.load(Ordering::Relaxed)) {
                return;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            let slice = left.min(Duration::from_millis(100));
            if self.options.poll_only {
                std::thread::sleep(slice);
                continue;
            }
            use postgres::fallible_iterator::FallibleIterator;
            let any = {
                let mut notes = self.client.notifications();
                let mut iter = notes.timeout_iter(slice);
                matches!(iter.next(), Ok(Some(_)))
            };
            if any {
                // Drains what else came in: one wake for a burst.
                let mut notes = self.client.notifications();
                let mut iter = notes.iter();
                while let Ok(Some(_)) = iter.next() {}
            }
            if any {
                return;
            }
        }
    }

    /// An engine item id for a taken row (the row is then the item's).
    pub fn adopt_row(&mut self, row: i64) -> u64 {
        self.max_local += 1;
        self.ops.rows.insert(self.max_local, row);
        self.max_local
    }

    /// The next new item takes over `row` (None: stop).
    pub fn adopt_next(&mut self, row: Option<i64>) -> Option<i64> {
        self.ops.current = row;
        std::mem::replace(&mut self.ops.adopt, row)
    }

    /// The row is finished at the next commit (a taken message entered
    /// with no item left of it).
    pub fn drop_row(&mut self, row: i64) {
        self.ops.drop_rows.push(row);
    }

    /// A taken row that cannot run: a dead letter at the next commit, the
    /// row gone.
    pub fn dead_row(
        &mut self,
        row: i64,
        message: String,
        code: &str,
        error: String,
        attempts: i32,
    ) {
        self.ops
            .dead
            .push((message, code.to_string(), error, attempts, Some(row)));
        self.ops.drop_rows.push(row);
    }

    /// The largest engine item id handed out or reported.
    pub fn max_local(&self) -> u64 {
        self.max_local
    }

    /// Hands this worker's leases back (a clean exit): the items wait for
    /// another worker, with the attempt not counted.
    pub fn release(&mut self) {
        let _ = self.client.execute(
            "UPDATE voyager.items SET lease_owner = NULL, lease_until = NULL, attempts = greatest(attempts - 1, 0)
             WHERE lease_owner = $1",
            &[&self.worker],
        );
        let _ = self.client.execute(
            "UPDATE voyager.topics SET owner = NULL WHERE owner = $1",
            &[&self.worker],
        );
        if !self.options.poll_only {
            let _ = self.client.execute("SELECT pg_notify($1, '')", &[&CHANNEL]);
        }
    }

    fn try_commit(&mut self) -> Result<(), postgres::Error> {
        let worker = self.worker;
        let lease = self.options.lease_ms;
        let ms = self.session_start.elapsed().as_millis() as i64;
        let steps = (self.steps - self.steps_reported) as i64;
        let unclaimed = (self.unclaimed_total - self.unclaimed_reported) as i64;
        let finished = self.finished;
        let ops = &mut self.ops;
        let mut tx = self.client.transaction()?;
        let mut run = self.run;
        let fresh = self.new_run.is_some();
        if let Some((script, hash)) = &self.new_run {
            // A new run: what the store held belonged to the last one.
            tx.batch_execute(
                "DELETE FROM voyager.items; DELETE FROM voyager.topics; DELETE FROM voyager.state; DELETE FROM voyager.dead_letters;",
            )?;
            let row = tx.query_one(
                "INSERT INTO voyager.runs (script, source_hash, started) VALUES ($1, $2, $3) RETURNING id",
                &[script, hash, &now_ms()],
            )?;
            run = Some(row.get(0));
            ops.rows.clear();
            ops.origin.clear();
        }
        if !fresh {
            // The leases this commit's work depends on, locked until it
            // ends (rescues and takes skip locked rows). Work of a row
            // another worker took over is not written: that worker does
            // it (it ran here too, but none of it is kept).
            let guarded = ops.guarded();
            if !guarded.is_empty() {
                let held: HashSet<i64> = tx
                    .query(
                        "SELECT id FROM voyager.items WHERE id = ANY($1) AND lease_owner = $2 ORDER BY id FOR UPDATE",
                        &[&guarded, &worker],
                    )?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                let lost: HashSet<i64> =
                    guarded.into_iter().filter(|r| !held.contains(r)).collect();
                if !lost.is_empty() {
                    self.lost += lost.len() as u64;
                    let (items, keys) = ops.forget(&lost);
                    let stored: HashMap<String, String> = if keys.is_empty() {
                        HashMap::new()
                    } else {
                        tx.query(
                            "SELECT key, value FROM voyager.state WHERE key = ANY($1)",
                            &[&keys],
                        )?
                        .iter()
                        .map(|r| (r.get(0), r.get(1)))
                        .collect()
                    };
                    let state = keys
                        .into_iter()
                        .map(|k| {
                            let kept = ops.latest_state(&k).or_else(|| stored.get(&k).cloned());
                            (k, kept)
                        })
                        .collect();
                    let refused = ops.refused.get_or_insert_with(Lost::default);
                    refused.items.extend(items);
                    refused.state.extend::<Vec<_>>(state);
                }
            }
        }
        let mut deletes: Vec<i64> = std::mem::take(&mut ops.drop_rows);
        {
            let update = tx.prepare(
                "UPDATE voyager.items SET form = 'node', state = $3, due_at = coalesce($4, due_at), body = $5,
                 lease_until = voyager.now_ms() + $6
                 WHERE id = $1 AND lease_owner = $2",
            )?;
            let insert = tx.prepare(
                "INSERT INTO voyager.items (form, body, state, due_at, attempts, lease_owner, lease_until)
                 VALUES ('node', $1, $2, coalesce($3, voyager.now_ms()), 1, $4, voyager.now_ms() + $5)
                 RETURNING id",
            )?;
            let mut pending: Vec<(u64, Pending)> = ops.items.drain().collect();
            pending.sort_by_key(|(id, _)| *id);
            for (id, p) in pending {
                match p {
                    Pending::Put { state, due, json } => match ops.rows.get(&id) {
                        Some(&row) => {
                            let n = tx.execute(
                                &update,
                                &[&row, &worker, &state.name(), &due, &json, &lease],
                            )?;
                            if n == 0 {
                                self.lost += 1;
                            }
                        }
                        None => {
                            let r = tx.query_one(
                                &insert,
                                &[&json, &state.name(), &due, &worker, &lease],
                            )?;
                            ops.rows.insert(id, r.get(0));
                            ops.origin.remove(&id);
                        }
                    },
                    Pending::Delete => {
                        if let Some(row) = ops.rows.remove(&id) {
                            deletes.push(row);
                        }
                    }
                }
            }
        }
        if !deletes.is_empty() {
            deletes.sort_unstable();
            let n = tx.execute(
                "DELETE FROM voyager.items WHERE id = ANY($1) AND lease_owner = $2",
                &[&deletes, &worker],
            )?;
            self.lost += (deletes.len() as u64).saturating_sub(n);
        }
        if !ops.topics.is_empty() {
            let push = tx.prepare(
                "INSERT INTO voyager.topics (topic, message, owner) VALUES ($1, $2, $3)",
            )?;
            let clear = tx.prepare("DELETE FROM voyager.topics WHERE topic = $1 AND owner = $2")?;
            for (op, _) in ops.topics.drain(..) {
                match op {
                    TopicOp::Push(t, m) => tx.execute(&push, &[&t, &m, &worker])?,
                    TopicOp::Clear(t) => tx.execute(&clear, &[&t, &worker])?,
                };
            }
        }
        if !ops.dead.is_empty() {
            let dead = tx.prepare(
                "INSERT INTO voyager.dead_letters (message, code, error, attempts, at) VALUES ($1, $2, $3, $4, $5)",
            )?;
            let now = now_ms();
            for (m, code, error, attempts, _) in ops.dead.drain(..) {
                tx.execute(&dead, &[&m, &code, &error, &attempts, &now])?;
            }
        }
        if !ops.state.is_empty() {
            let state = tx.prepare(
                "INSERT INTO voyager.state (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?;
            // In the order written: the last write of a key stays.
            let mut writes: Vec<_> = ops.state.drain().collect();
            writes.sort_by_key(|(_, (seq, _))| *seq);
            for ((k, _), (_, v)) in writes {
                tx.execute(&state, &[&k, &v])?;
            }
        }
        if let Some(run) = run {
            tx.execute(
                "UPDATE voyager.runs SET steps = steps + $2, run_ms = run_ms + $3, unclaimed = unclaimed + $4,
                 finished = CASE WHEN $5 THEN coalesce(finished, $6) ELSE finished END WHERE id = $1",
                &[&run, &steps, &(ms - self.ms_reported), &unclaimed, &finished, &now_ms()],
            )?;
        }
        tx.commit()?;
        self.run = run;
        self.new_run = None;
        self.steps_reported = self.steps;
        self.ms_reported = ms;
        self.unclaimed_reported = self.unclaimed_total;
        self.finished = false;
        self.since_commit = 0;
        self.last_commit = Instant::now();
        Ok(())
    }

    fn fail(&mut self, why: String) {
        if self.failure.is_none() {
            self.failure = Some(why);
        }
    }

    fn clean(&self) -> bool {
        self.ops.items.is_empty()
            && self.ops.drop_rows.is_empty()
            && self.ops.topics.is_empty()
            && self.ops.dead.is_empty()
            && self.ops.state.is_empty()
            && self.new_run.is_none()
            && !self.finished
            && self.steps == self.steps_reported
            && self.unclaimed_total == self.unclaimed_reported
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        if let Some(stop) = &self.heartbeat {
            stop.store(true, Ordering::Relaxed);
        }
    }
}

/// SQL that is true when the worker `owner` names is gone: its session
/// lock is not held (never in poll-only mode, where sessions are shared).
fn gone_check(owner: &str, poll_only: bool) -> String {
    if poll_only {
        return "false".into();
    }
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
           AND ((l.classid::bigint << 32) | l.objid::bigint) = {owner})"
    )
}

impl Store for PgStore {
    fn put_item(&mut self, id: u64, node: &Node, state: ItemState, due: Option<i64>) {
        match snapshot::node_to_json(node) {
            Ok(j) => {
                let json = serial::to_line(&j);
                serial::drop_json(j);
                self.max_local = self.max_local.max(id);
                let ops = &mut self.ops;
                if let Some(row) = ops.adopt.take() {
                    ops.rows.entry(id).or_insert(row);
                } else if !ops.rows.contains_key(&id) && !ops.origin.contains_key(&id) {
                    if let Some(row) = ops.current {
                        ops.origin.insert(id, row);
                    }
                }
                ops.items.insert(id, Pending::Put { state, due, json });
            }
            Err(e) => self.fail(format!("item {id} cannot be stored: {e}")),
        }
    }

    fn remove_item(&mut self, id: u64) {
        if self.ops.rows.contains_key(&id) {
            self.ops.items.insert(id, Pending::Delete);
        } else {
            // Never written: nothing to delete.
            self.ops.items.remove(&id);
            self.ops.origin.remove(&id);
        }
    }

    fn dead_letter(&mut self, letter: &DeadLetter) {
        match serial::message_to_json(&letter.message) {
            Ok(j) => self.ops.dead.push((
                serial::to_line(&j),
                letter.error.code.to_string(),
                letter.error.message.clone(),
                letter.attempts as i32,
                self.ops.current,
            )),
            Err(e) => self.fail(format!("a dead letter cannot be stored: {e}")),
        }
    }

    fn topic_push(&mut self, topic: &str, message: &Msg) {
        let mut op = Vec::with_capacity(1);
        match TopicOp::push(&mut op, topic, message) {
            Ok(()) => {
                let row = self.ops.current;
                self.ops.topics.extend(op.into_iter().map(|op| (op, row)));
            }
            Err(why) => self.fail(why),
        }
    }

    fn topic_clear(&mut self, topic: &str) {
        self.ops
            .topics
            .retain(|(op, _)| !matches!(op, TopicOp::Push(t, _) if t == topic));
        let row = self.ops.current;
        self.ops
            .topics
            .push((TopicOp::Clear(topic.to_string()), row));
    }

    fn put_state(&mut self, key: &str, value: &str) {
        self.ops.state_seq += 1;
        let seq = self.ops.state_seq;
        self.ops.state.insert(
            (key.to_string(), self.ops.current),
            (seq, value.to_string()),
        );
    }

    fn step_start(&mut self, id: u64) {
        self.ops.current = self.ops.owner_row(id);
    }

    fn unclaimed(&mut self, total: u64) {
        self.unclaimed_total = total;
    }

    fn step_end(&mut self, steps: u64) -> bool {
        self.ops.current = None;
        self.steps = steps;
        self.since_commit += 1;
        match self.options.sync {
            Sync::Step => true,
            Sync::Interval => {
                self.since_commit >= GROUP_STEPS
                    || (self.since_commit.is_multiple_of(16)
                        && self.last_commit.elapsed() >= GROUP_TIME)
            }
        }
    }

    fn commit(&mut self) {
        if self.failure.is_some() || self.clean() {
            return;
        }
        if let Err(e) = self.try_commit() {
            self.fail(format!(
                "cannot write the PostgreSQL store {}: {}",
                display_url(&self.url),
                pg_text(&e)
            ));
        }
    }

    fn finished(&mut self) {
        self.finished = true;
        self.commit();
    }

    fn abandon(&mut self) {
        self.ops.items.clear();
        self.ops.drop_rows.clear();
        self.ops.topics.clear();
        self.ops.dead.clear();
        self.ops.state.clear();
        self.unclaimed_total = self.unclaimed_reported;
    }

    fn failure(&self) -> Option<String> {
        self.failure.clone()
    }

    fn lost(&mut self) -> Option<Lost> {
        self.ops.refused.take()
    }
}

/// The engine's handle on a worker's store, shared with the worker loop.
#[derive(Clone)]
pub struct PgShared(pub std::rc::Rc<std::cell::RefCell<PgStore>>);

impl Store for PgShared {
    fn put_item(&mut self, id: u64, node: &Node, state: ItemState, due: Option<i64>) {
        self.0.borrow_mut().put_item(id, node, state, due)
    }
    fn remove_item(&mut self, id: u64) {
        self.0.borrow_mut().remove_item(id)
    }
    fn dead_letter(&mut self, letter: &DeadLetter) {
        self.0.borrow_mut().dead_letter(letter)
    }
    fn topic_push(&mut self, topic: &str, message: &Msg) {
        self.0.borrow_mut().topic_push(topic, message)
    }
    fn topic_clear(&mut self, topic: &str) {
        self.0.borrow_mut().topic_clear(topic)
    }
    fn put_state(&mut self, key: &str, value: &str) {
        self.0.borrow_mut().put_state(key, value)
    }
    fn unclaimed(&mut self, total: u64) {
        self.0.borrow_mut().unclaimed(total)
    }
    fn step_end(&mut self, steps: u64) -> bool {
        self.0.borrow_mut().step_end(steps)
    }
    fn commit(&mut self) {
        self.0.borrow_mut().commit()
    }
    fn finished(&mut self) {
        self.0.borrow_mut().finished()
    }
    fn abandon(&mut self) {
        self.0.borrow_mut().abandon()
    }
    fn failure(&self) -> Option<String> {
        self.0.borrow().failure()
    }
    fn step_start(&mut self, id: u64) {
        self.0.borrow_mut().step_start(id)
    }
    fn lost(&mut self) -> Option<Lost> {
        self.0.borrow_mut().lost()
    }
}

/// The error for a store item that no longer fits the script.
pub fn script_changed_error(url: &str, why: &str) -> StoreError {
    StoreError {
        code: codes::STORE_SCRIPT_CHANGED,
        message: format!(
            "an item in {} no longer fits the script: {why}",
            display_url(url)
        ),
        hint: None,
        exit: EXIT_SCRIPT_CHANGED,
    }
}
