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
//! lock has been gone for [`GONE_GRACE`] (the process was killed:
//! PostgreSQL ends its session at once; the grace lets a worker whose
//! connection dropped come back first), is rescued: its lease is cleared,
//! and the next worker to take it counts one more attempt.
//!
//! A commit first locks the leases its work depends on (each change is
//! tagged with the taken row it came from); the work of rows another
//! worker took over is not written, and the engine drops those items
//! ([`Store::lost`]). A lost connection is reconnected with backoff; a
//! commit whose answer was lost is looked up by its transaction id. An item taken more than [`MAX_TAKES`] times is
//! a dead letter (its workers keep dying on it). Behind a PgBouncer in
//! transaction pooling, sessions are shared, so `poll_only` turns off both
//! the lock check (leases alone decide) and `LISTEN`.
//!
//! Topic contents are shared: a message routed into a topic is a row of
//! `voyager.topics` that any worker may run the topic's pass over. A worker
//! with nothing ready (or whose topic holds a full batch) takes a topic's
//! rows ([`PgStore::claim_pass`]: marked as its own, under a per-topic
//! advisory lock, and only if no other worker holds rows of that topic),
//! runs the pass, and commits the pass's work with the rows' deletion; a
//! failing pass's batch becomes dead letters in that commit. The rows of a
//! worker that died mid-pass are handed back by [`PgStore::rescue`].
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
use super::{RunInfo, Sync, TopicOp};
use crate::codes;
use crate::engine::node::Node;
use crate::engine::serial;
use crate::engine::snapshot;
use crate::engine::store::{Firing, ItemState, Lost, Store};
use crate::engine::DeadLetter;
use crate::vm::message::Msg;

mod commit;
mod connect;
mod groups;
mod holds;
mod ops;
pub mod report;
mod session;

use ops::{Landed, Ops, Pending, StepMark, Undo};

pub use report::enqueue;

pub use connect::{
    connect, display_url, is_url, latest_run, pg_text, EXIT_UNAVAILABLE, SCHEMA_VERSION,
};
use connect::{connection_lost, pg_error};

/// The channel workers `LISTEN` on; enqueues and rescues `NOTIFY` it.
pub const CHANNEL: &str = "voyager_items";

/// Times an item may be taken (its worker died or lost it each time but
/// the last) before it is a dead letter.
pub const MAX_TAKES: i32 = 5;

/// How often a worker sweeps holds whose item is gone.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

/// Items taken at once, unless told otherwise.
pub const TAKE_BATCH: i64 = 256;

/// The first key of a topic's transaction-level advisory lock ("Vytp");
/// the second is the hash of the topic's name.
const TOPIC_LOCK: i32 = 0x5679_7470;

/// The first key of a durable state key's transaction-level advisory lock
/// ("Vyst"); the second is the hash of the key.
const STATE_LOCK: i32 = 0x5679_7374;

/// How long a worker tries to reconnect to a server it lost before it
/// gives up (E0405).
pub const RECONNECT_FOR: Duration = Duration::from_secs(300);

/// The longest pause between two attempts to reconnect.
const RECONNECT_PAUSE: Duration = Duration::from_secs(2);

/// How long a worker's session lock must be seen missing before its
/// items are rescued (at most half a lease): a worker that lost its
/// connection (a server restart) gets that long to reconnect and take
/// its lock again before its items are taken from it.
const GONE_GRACE: Duration = Duration::from_secs(5);

/// How a worker talks to the server.
#[derive(Clone, Copy, Debug)]
pub struct PgOptions {
    /// How long a taken item is leased (renewed every third of it).
    pub lease_ms: i64,
    /// No `LISTEN` and no session locks (for PgBouncer's transaction
    /// pooling): idle workers poll once a second; leases alone rescue.
    pub poll_only: bool,
    pub sync: Sync,
    /// Ready items taken at once.
    pub take: i64,
}

impl Default for PgOptions {
    fn default() -> PgOptions {
        PgOptions {
            lease_ms: 30_000,
            poll_only: false,
            sync: Sync::Interval,
            take: TAKE_BATCH,
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
    /// Given by `voyager enqueue --priority` (0 by default).
    pub priority: i16,
    /// Its group: the row of the first item of the message it came from.
    pub group: i64,
}

/// The planner settings a take runs under: the plan is pinned to the
/// ready index, read in its order, and the taken rows are found by their
/// key. With the statistics a bulk enqueue leaves behind until autovacuum
/// looks (a few rows, when there are many thousands), the planner would
/// read every ready row and sort them, or hash the whole table: 10 to 100
/// times slower.
pub const TAKE_SETTINGS: &str = "SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off;";

/// What a take runs (under [`TAKE_SETTINGS`]): up to `take` ready
/// items, highest priority first, then oldest due, leased to `worker` for
/// `lease_ms`, each taking counted as an attempt. The clock is read once,
/// not per row.
pub fn take_statement(worker: i64, lease_ms: i64, take: i64) -> String {
    format!(
        "UPDATE voyager.items i
         SET lease_owner = {worker}, lease_until = voyager.now_ms() + {lease_ms}, attempts = i.attempts + 1
         WHERE i.id = ANY(ARRAY(
           SELECT id FROM voyager.items
           WHERE lease_owner IS NULL AND due_at <= (SELECT voyager.now_ms())
           ORDER BY priority DESC, due_at, id LIMIT {take}
           FOR UPDATE SKIP LOCKED))
         RETURNING i.id, i.form, i.body, i.attempts, i.priority, coalesce(i.grp, i.id)"
    )
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
    /// This worker's count of failures `catch` handlers recovered, and
    /// how much of it is in the store.
    recovered_total: u64,
    recovered_reported: u64,
    steps: u64,
    steps_reported: u64,
    finished: bool,
    since_commit: u32,
    group_began: Instant,
    /// Which group each live item belongs to, and what the next commit
    /// adds to each.
    groups: groups::PgGroups,
    /// When holds whose item is gone were last swept (first: at the
    /// first rescue).
    swept: Option<Instant>,
    session_start: Instant,
    ms_reported: i64,
    /// Items another worker rescued from this one (its lease ran out).
    pub lost: u64,
    failure: Option<String>,
    heartbeat: Option<Arc<AtomicBool>>,
    /// Workers seen without their session lock, and since when.
    suspects: HashMap<i64, Instant>,
    /// The topic whose rows this worker took for a pass, and how many:
    /// the commit after the pass deletes exactly those.
    pass_claim: Option<(String, u64)>,
    /// A transaction is open for the step's `state_get`s (each key read
    /// under a transaction advisory lock): the step's commit ends it.
    reading: bool,
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
            recovered_total: 0,
            recovered_reported: 0,
            steps: 0,
            steps_reported: 0,
            finished: false,
            since_commit: 0,
            group_began: Instant::now(),
            swept: None,
            groups: groups::PgGroups::default(),
            session_start: Instant::now(),
            ms_reported: 0,
            lost: 0,
            failure: None,
            heartbeat: None,
            suspects: HashMap::new(),
            pass_claim: None,
            reading: false,
        };
        store.start_heartbeat()?;
        Ok(store)
    }

    pub fn url(&self) -> String {
        display_url(&self.url)
    }

    /// Claims a schedule's firing for this worker and enqueues its item
    /// (`body`, leased to this worker, carrying the unique key `overlap`
    /// if any), in one transaction: the schedule's state key moves forward
    /// to `due` only if it was before it, so of the workers that fire one
    /// schedule at the same due time one enqueues it, and a crash cannot
    /// come between the claim and the item. The engine's next new item
    /// takes the row over (see [`PgStore::fired`]).
    pub fn fire(&mut self, key: &str, due: i64, body: &str, overlap: Option<&str>) -> Firing {
        let value = due.to_string();
        let (worker, lease) = (self.worker, self.options.lease_ms);
        let done = self.retrying(|c| {
            let mut tx = c.transaction()?;
            let claimed = tx.query_opt(
                "INSERT INTO voyager.state (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value
                 WHERE CASE WHEN voyager.state.value ~ '^-?[0-9]+$'
                       THEN voyager.state.value::bigint < excluded.value::bigint
                       ELSE true END
                 RETURNING key",
                &[&key, &value],
            )?;
            if claimed.is_none() {
                return Ok(None);
            }
            let row = tx.query_opt(
                "INSERT INTO voyager.items (form, body, unique_key, lease_owner, lease_until, attempts)
                 VALUES ('message', $1, $2, $3, voyager.now_ms() + $4, 1)
                 ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING id",
                &[&body, &overlap, &worker, &lease],
            )?;
            tx.commit()?;
            Ok(Some(row.map(|r| r.get::<_, i64>(0))))
        });
        match done {
            Ok(None) => Firing::Elsewhere,
            Ok(Some(None)) => Firing::Overlap,
            Ok(Some(Some(row))) => {
                self.adopt_next(Some(row));
                Firing::Fired
            }
            Err(e) => {
                self.fail(e.message);
                Firing::Failed
            }
        }
    }

    /// The firing [`PgStore::fire`] claimed has entered the engine: if no
    /// item took its row (its message made none), the row goes at the
    /// next commit.
    pub fn fired(&mut self) {
        if let Some(row) = self.adopt_next(None) {
            self.drop_row(row);
        }
    }

    /// The latest run, if the store has one.
    pub fn latest_run(&mut self) -> Result<Option<RunInfo>, StoreError> {
        self.retrying(latest_run)
    }

    /// Starts a new run at the next commit; with `fresh`, everything the
    /// store held goes then.
    pub fn begin_run(&mut self, script: &str, hash: &str) {
        self.groups.clear();
        self.new_run = Some((script.to_string(), hash.to_string()));
    }

    /// Durable state, every key.
    pub fn load_state(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        let rows =
            self.retrying(|c| c.query("SELECT key, value FROM voyager.state ORDER BY key", &[]))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// `state_get` of `key`: the value this worker wrote and has not
    /// committed yet, else the one the store holds now. Either way the key
    /// is locked (a transaction advisory lock, in a transaction that the
    /// step's commit ends): a step that reads a key and writes it back is
    /// atomic across workers, as `state_put(k, state_get(k, 0) + 1)`
    /// should be. On an error the transaction is rolled back.
    pub fn read_state(&mut self, key: &str) -> Result<Option<String>, String> {
        let begin = !self.reading;
        let read = (|| -> Result<Option<String>, postgres::Error> {
            if begin {
                self.client
                    .batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED")?;
            }
            self.reading = true;
            self.client.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&STATE_LOCK, &key],
            )?;
            Ok(self
                .client
                .query_opt("SELECT value FROM voyager.state WHERE key = $1", &[&key])?
                .map(|r| r.get(0)))
        })();
        match read {
            Ok(stored) => Ok(self.ops.latest_state(key).or(stored)),
            Err(e) => {
                self.end_reading(false);
                if !self.ops.acquired.is_empty() {
                    // The rollback took back resources this step holds.
                    self.fail(format!(
                        "cannot read the PostgreSQL store {}: {} (the step had taken a resource in the transaction this ended)",
                        display_url(&self.url),
                        pg_text(&e)
                    ));
                }
                if connection_lost(&e) {
                    self.reconnect(&e).map_err(|err| err.message)?;
                }
                Err(pg_text(&e))
            }
        }
    }

    /// Ends the transaction `state_get` opened (committing it: it only
    /// read), if one is open.
    pub(super) fn end_reading(&mut self, commit: bool) {
        if std::mem::take(&mut self.reading) {
            let _ = self
                .client
                .batch_execute(if commit { "COMMIT" } else { "ROLLBACK" });
        }
    }

    /// A resumed run's check, before anything runs (as with SQLite): every
    /// action that a stored item or topic message calls must still be in
    /// the script with that arity. (Expressions enqueued as text are
    /// compiled by the worker that takes them.)
    pub fn check_fits(&mut self, actions: serial::ActionLookup) -> Result<(), StoreError> {
        let rows = self.retrying(|c| {
            c.query(
                "SELECT body FROM voyager.items WHERE form <> 'source'
                 UNION ALL SELECT message FROM voyager.topics",
                &[],
            )
        })?;
        let mut named = Vec::new();
        for r in &rows {
            let text: String = r.get(0);
            if let Ok(j) = serial::from_line(&text) {
                snapshot::named_calls(&j, &mut named);
                serial::drop_json(j);
            }
        }
        let missing = super::misfits(&mut named, actions);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(StoreError::script_changed(&self.url(), &missing))
        }
    }

    /// Messages waiting in each topic that no worker is running a pass
    /// over.
    pub fn topic_counts(&mut self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = self.retrying(|c| {
            c.query(
                "SELECT topic, count(*) FROM voyager.topics WHERE owner IS NULL GROUP BY topic",
                &[],
            )
        })?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Takes everything waiting in `topic`, oldest first, to run its pass
    /// over — unless another worker is running that pass now (then
    /// nothing: one pass of a topic at a time). The rows are marked as
    /// this worker's until the commit after the pass deletes them; under a
    /// transaction-level advisory lock per topic, so that two workers
    /// cannot both take them (it works behind PgBouncer too).
    pub fn claim_pass(&mut self, topic: &str) -> Result<Vec<String>, StoreError> {
        let worker = self.worker;
        let rows = self.retrying(|c| {
            let mut tx = c.transaction()?;
            tx.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                &[&TOPIC_LOCK, &topic],
            )?;
            let busy: bool = tx
                .query_one(
                    "SELECT EXISTS (SELECT 1 FROM voyager.topics WHERE topic = $1 AND owner IS NOT NULL AND owner <> $2)",
                    &[&topic, &worker],
                )?
                .get(0);
            if busy {
                tx.commit()?;
                return Ok(Vec::new());
            }
            // (Rows already this worker's were taken by a claim whose
            // answer was lost with the connection.)
            let rows = tx.query(
                "UPDATE voyager.topics SET owner = $2 WHERE topic = $1 AND (owner IS NULL OR owner = $2)
                 RETURNING seq, message",
                &[&topic, &worker],
            )?;
            tx.commit()?;
            Ok(rows)
        })?;
        let mut rows: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        rows.sort_by_key(|r| r.0);
        if !rows.is_empty() {
            self.pass_claim = Some((topic.to_string(), rows.len() as u64));
        }
        Ok(rows.into_iter().map(|(_, m)| m).collect())
    }

    /// Hands back the topic rows this worker took for a pass that did not
    /// run (its messages did not fit the script).
    pub fn unclaim_pass(&mut self) -> Result<(), StoreError> {
        self.pass_claim = None;
        let worker = self.worker;
        self.retrying(|c| {
            c.execute(
                "UPDATE voyager.topics SET owner = NULL WHERE owner = $1",
                &[&worker],
            )
        })?;
        Ok(())
    }

    /// Clears the leases of workers that are gone (their lease ran out,
    /// or their session lock has been missing for [`GONE_GRACE`] or half a
    /// lease), so that any worker may take the items again. Returns how
    /// many were rescued.
    pub fn rescue(&mut self) -> Result<u64, StoreError> {
        let worker = self.worker;
        let mut n = self.retrying(|c| {
            c.execute(
                "WITH gone AS (
                   SELECT id FROM voyager.items
                   WHERE lease_owner IS NOT NULL AND lease_owner <> $1 AND lease_until < voyager.now_ms()
                   FOR UPDATE SKIP LOCKED)
                 UPDATE voyager.items i SET lease_owner = NULL, lease_until = NULL
                 FROM gone WHERE i.id = gone.id",
                &[&worker],
            )
        })?;
        if !self.options.poll_only {
            let sql = format!(
                "SELECT DISTINCT o FROM (
                   SELECT lease_owner AS o FROM voyager.items WHERE lease_owner IS NOT NULL
                   UNION SELECT owner FROM voyager.topics WHERE owner IS NOT NULL) x
                 WHERE o <> $1 AND {}",
                gone_check("x.o", false)
            );
            let gone: HashSet<i64> = self
                .retrying(|c| c.query(&sql, &[&worker]))?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let now = Instant::now();
            self.suspects.retain(|owner, _| gone.contains(owner));
            for owner in gone {
                self.suspects.entry(owner).or_insert(now);
            }
            let grace = GONE_GRACE.min(Duration::from_millis((self.options.lease_ms / 2) as u64));
            let due: Vec<i64> = self
                .suspects
                .iter()
                .filter(|(_, since)| since.elapsed() >= grace)
                .map(|(owner, _)| *owner)
                .collect();
            if !due.is_empty() {
                n += self.retrying(|c| {
                    c.execute(
                        "WITH gone AS (
                           SELECT id FROM voyager.items WHERE lease_owner = ANY($1)
                           FOR UPDATE SKIP LOCKED)
                         UPDATE voyager.items i SET lease_owner = NULL, lease_until = NULL
                         FROM gone WHERE i.id = gone.id",
                        &[&due],
                    )
                })?;
                // A pass a gone worker was running: its batch waits again.
                n += self.retrying(|c| {
                    c.execute(
                        "UPDATE voyager.topics SET owner = NULL WHERE owner = ANY($1)",
                        &[&due],
                    )
                })?;
            }
        }
        if n > 0 && !self.options.poll_only {
            let _ = self.client.execute("SELECT pg_notify($1, '')", &[&CHANNEL]);
        }
        if self.swept.is_none_or(|t| t.elapsed() >= SWEEP_EVERY) {
            self.swept = Some(Instant::now());
            self.sweep_holds()?;
        }
        Ok(n)
    }

    /// Takes up to a batch of ready items, leased to this worker; each
    /// taking counts an attempt.
    pub fn take(&mut self) -> Result<Vec<Taken>, StoreError> {
        // One round trip: the values are numbers of this worker's own.
        let sql = format!(
            "BEGIN; {TAKE_SETTINGS} {}; COMMIT",
            take_statement(self.worker, self.options.lease_ms, self.options.take)
        );
        let messages = match self.retrying(|c| c.simple_query(&sql)) {
            Ok(m) => m,
            Err(e) => {
                // (The statements after a failing one were skipped: the
                // transaction is left open, and aborted.)
                let _ = self.client.batch_execute("ROLLBACK");
                return Err(e);
            }
        };
        let number = |row: &postgres::SimpleQueryRow, i: usize| -> i64 {
            row.get(i).and_then(|v| v.parse().ok()).unwrap_or_default()
        };
        let mut taken: Vec<Taken> = messages
            .iter()
            .filter_map(|m| match m {
                postgres::SimpleQueryMessage::Row(r) => Some(Taken {
                    id: number(r, 0),
                    form: r.get(1).unwrap_or_default().to_string(),
                    body: r.get(2).unwrap_or_default().to_string(),
                    attempts: number(r, 3) as i32,
                    priority: number(r, 4) as i16,
                    group: number(r, 5),
                }),
                _ => None,
            })
            .collect();
        taken.sort_by_key(|t| (std::cmp::Reverse(t.priority), t.id));
        Ok(taken)
    }

    /// Whether the store holds no unfinished work at all: no item (leased
    /// or not, due or not) and no topic message but those of `stalled`
    /// topics (whose pass handed back as many as they hold).
    pub fn is_empty(&mut self, stalled: &HashMap<String, i64>) -> Result<bool, StoreError> {
        let items: bool = self
            .retrying(|c| c.query_one("SELECT EXISTS (SELECT 1 FROM voyager.items)", &[]))?
            .get(0);
        if items {
            return Ok(false);
        }
        let rows = self.retrying(|c| {
            c.query(
                "SELECT topic, count(*), bool_or(owner IS NOT NULL) FROM voyager.topics GROUP BY topic",
                &[],
            )
        })?;
        Ok(rows.iter().all(|r| {
            let (topic, n, owned): (String, i64, bool) = (r.get(0), r.get(1), r.get(2));
            !owned && stalled.get(&topic) == Some(&n)
        }))
    }

    /// Waits up to `wait` for a `NOTIFY` (enqueued or rescued work); in
    /// poll-only mode, sleeps. Returns early on `interrupt`; returns
    /// whether a `NOTIFY` came.
    pub fn wait(&mut self, wait: Duration, interrupt: Option<&AtomicBool>) -> bool {
        let until = Instant::now() + wait;
        loop {
            if interrupt.is_some_and(|f| f.load(Ordering::Relaxed)) {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
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
                match iter.next() {
                    Ok(got) => got.is_some(),
                    Err(_) => {
                        // The connection is gone: the next statement
                        // reconnects.
                        std::thread::sleep(slice);
                        return false;
                    }
                }
            };
            if any {
                // Drains what else came in: one wake for a burst.
                let mut notes = self.client.notifications();
                let mut iter = notes.iter();
                while let Ok(Some(_)) = iter.next() {}
            }
            if any {
                return true;
            }
        }
    }

    /// The row an engine item's work comes from: its own, that of the item
    /// it came from, or (for an item being entered) the row being entered.
    /// `voyager serve` keys what it knows of an item by this row.
    pub fn row_of(&self, id: u64) -> Option<i64> {
        self.ops
            .owner_row(id)
            .or(self.ops.adopt)
            .or(self.ops.current)
    }

    /// Whether the store still holds item row `row` (unfinished: queued,
    /// on a timer, or held by a worker).
    pub fn holds_row(&mut self, row: i64) -> Result<bool, StoreError> {
        Ok(self
            .retrying(|c| {
                c.query_one(
                    "SELECT EXISTS (SELECT 1 FROM voyager.items WHERE id = $1)",
                    &[&row],
                )
            })?
            .get(0))
    }

    /// An engine item id for a taken row (the row is then the item's).
    pub fn adopt_row(&mut self, row: i64, group: i64) -> u64 {
        self.max_local += 1;
        self.ops.rows.insert(self.max_local, row);
        self.groups.resumed(self.max_local, group);
        self.max_local
    }

    /// A taken row enters as a new message (its own group, labelled with
    /// what was enqueued).
    pub fn entering(&mut self, row: i64, body: &str) {
        self.groups.entered(row, body);
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
    pub fn dead_row(&mut self, t: &Taken, message: String, code: &str, error: String) {
        let (row, attempts) = (t.id, t.attempts);
        self.groups.dead_in(t.group);
        self.ops
            .dead
            .push((message, code.to_string(), error, attempts, Some(row)));
        self.ops.drop_rows.push(row);
    }

    /// The largest engine item id handed out or reported.
    pub fn max_local(&self) -> u64 {
        self.max_local
    }

    /// Takes back what the step being reported reported (a signal cut it
    /// short): the item runs it again where it runs next.
    pub fn abandon_step(&mut self) {
        self.end_reading(false);
        let ops = &mut self.ops;
        ops.current = None;
        let Some(mark) = ops.step.take() else { return };
        for u in mark.undo.into_iter().rev() {
            match u {
                Undo::Item(id, Some(p)) => {
                    ops.items.insert(id, p);
                }
                Undo::Item(id, None) => {
                    ops.items.remove(&id);
                }
                Undo::Origin(id, Some(row)) => {
                    ops.origin.insert(id, row);
                }
                Undo::Origin(id, None) => {
                    ops.origin.remove(&id);
                }
                Undo::State(key, Some(v)) => {
                    ops.state.insert(key, v);
                }
                Undo::State(key, None) => {
                    ops.state.remove(&key);
                }
            }
        }
        ops.drop_rows.truncate(mark.drop_rows);
        ops.dead.truncate(mark.dead);
        ops.released.truncate(mark.released);
        // (What the step took went with the transaction.)
        ops.acquired.clear();
        match mark.topics_before {
            Some(topics) => ops.topics = topics,
            None => ops.topics.truncate(mark.topics),
        }
    }

    /// Hands this worker's leases back (a clean exit): the items wait for
    /// another worker, with the attempt not counted.
    pub fn release(&mut self) {
        let worker = self.worker;
        let _ = self.retrying(|c| {
            c.execute(
                "UPDATE voyager.items SET lease_owner = NULL, lease_until = NULL, attempts = greatest(attempts - 1, 0)
                 WHERE lease_owner = $1",
                &[&worker],
            )?;
            c.execute(
                "UPDATE voyager.topics SET owner = NULL WHERE owner = $1",
                &[&worker],
            )
        });
        if !self.options.poll_only {
            let _ = self.client.execute("SELECT pg_notify($1, '')", &[&CHANNEL]);
        }
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
    fn put_item(&mut self, id: u64, node: &Node, prio: i16, state: ItemState, due: Option<i64>) {
        match snapshot::node_to_json(node) {
            Ok(j) => {
                let json = serial::to_line(&j);
                serial::drop_json(j);
                self.max_local = self.max_local.max(id);
                self.groups.put(id, self.ops.current, &json);
                let ops = &mut self.ops;
                if let Some(row) = ops.adopt.take() {
                    ops.rows.entry(id).or_insert(row);
                } else if !ops.rows.contains_key(&id) && !ops.origin.contains_key(&id) {
                    if let Some(row) = ops.current {
                        ops.origin.insert(id, row);
                        ops.undo(Undo::Origin(id, None));
                    }
                }
                let put = Pending::Put {
                    state,
                    due,
                    prio,
                    json,
                };
                let old = ops.items.insert(id, put);
                ops.undo(Undo::Item(id, old));
            }
            Err(e) => self.fail(format!("item {id} cannot be stored: {e}")),
        }
    }

    fn remove_item(&mut self, id: u64) {
        self.groups.remove(id);
        let ops = &mut self.ops;
        if ops.rows.contains_key(&id) {
            let old = ops.items.insert(id, Pending::Delete);
            ops.undo(Undo::Item(id, old));
        } else {
            // Never written: nothing to delete.
            let old = ops.items.remove(&id);
            ops.undo(Undo::Item(id, old));
            let origin = ops.origin.remove(&id);
            ops.undo(Undo::Origin(id, origin));
        }
    }

    fn dead_letter(&mut self, letter: &DeadLetter) {
        self.groups.dead(self.ops.current);
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
        if let Some(mark) = &mut self.ops.step {
            if mark.topics_before.is_none() {
                mark.topics_before = Some(self.ops.topics.clone());
            }
        }
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
        let key = (key.to_string(), self.ops.current);
        let old = self.ops.state.insert(key.clone(), (seq, value.to_string()));
        self.ops.undo(Undo::State(key, old));
    }

    fn group_start(&mut self) {
        self.groups.start();
    }

    fn calls_done(&mut self, n: u64) {
        self.groups.done(n);
    }

    fn step_start(&mut self, id: u64) {
        self.groups.step(id);
        let ops = &mut self.ops;
        ops.current = ops.owner_row(id);
        ops.step = Some(StepMark {
            undo: Vec::new(),
            drop_rows: ops.drop_rows.len(),
            dead: ops.dead.len(),
            topics: ops.topics.len(),
            topics_before: None,
            released: ops.released.len(),
        });
    }

    fn unclaimed(&mut self, total: u64) {
        self.unclaimed_total = total;
    }

    fn recovered(&mut self, total: u64) {
        self.recovered_total = total;
    }

    fn step_end(&mut self, steps: u64) -> bool {
        self.groups.step_end();
        self.ops.current = None;
        self.ops.step = None;
        self.steps = steps;
        self.since_commit += 1;
        if self.since_commit == 1 {
            // (Time spent taking and entering work is not the group's.)
            self.group_began = Instant::now();
        }
        // A step that read state holds its keys' locks until its commit:
        // at once, so that other workers wait no longer than a step.
        self.reading || self.options.sync.due(self.since_commit, self.group_began)
    }

    fn commit(&mut self) {
        if self.failure.is_some() || self.clean() {
            self.end_reading(self.failure.is_none());
            return;
        }
        if let Err(why) = self.commit_now() {
            self.fail(why);
        }
    }

    fn finished(&mut self) {
        self.finished = true;
        self.commit();
    }

    fn abandon(&mut self) {
        self.end_reading(false);
        self.ops.items.clear();
        self.ops.drop_rows.clear();
        self.ops.topics.clear();
        self.ops.dead.clear();
        self.ops.state.clear();
        self.ops.acquired.clear();
        self.ops.released.clear();
        self.groups.abandon();
        self.unclaimed_total = self.unclaimed_reported;
        self.recovered_total = self.recovered_reported;
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
    fn put_item(&mut self, id: u64, node: &Node, prio: i16, state: ItemState, due: Option<i64>) {
        self.0.borrow_mut().put_item(id, node, prio, state, due)
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
    fn fire(
        &mut self,
        key: &str,
        due: i64,
        message: &crate::vm::message::Message,
        overlap: Option<&str>,
    ) -> Firing {
        let body = match serial::message_to_json(message) {
            Ok(j) => serial::to_line(&j),
            Err(why) => {
                self.0
                    .borrow_mut()
                    .fail(format!("a schedule's firing cannot be stored: {why}"));
                return Firing::Failed;
            }
        };
        self.0.borrow_mut().fire(key, due, &body, overlap)
    }
    fn fired(&mut self) {
        self.0.borrow_mut().fired()
    }
    fn claims_firings(&self) -> bool {
        true
    }
    fn put_state(&mut self, key: &str, value: &str) {
        self.0.borrow_mut().put_state(key, value)
    }
    fn unclaimed(&mut self, total: u64) {
        self.0.borrow_mut().unclaimed(total)
    }
    fn recovered(&mut self, total: u64) {
        self.0.borrow_mut().recovered(total)
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
    fn group_start(&mut self) {
        self.0.borrow_mut().group_start()
    }
    fn calls_done(&mut self, n: u64) {
        self.0.borrow_mut().calls_done(n)
    }
    fn lost(&mut self) -> Option<Lost> {
        self.0.borrow_mut().lost()
    }
    fn group_of(&self, id: u64) -> Option<u64> {
        self.0
            .borrow()
            .row_of(id)
            .and_then(|r| u64::try_from(r).ok())
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
