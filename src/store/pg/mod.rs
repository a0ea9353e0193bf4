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

pub use connect::{
    connect, display_url, is_url, latest_run, pg_text, EXIT_UNAVAILABLE, SCHEMA_VERSION,
};
use connect::{connection_lost, pg_error};

/// The channel workers `LISTEN` on; enqueues and rescues `NOTIFY` it.
pub const CHANNEL: &str = "voyager_items";

/// Times an item may be taken (its worker died or lost it each time but
/// the last) before it is a dead letter.
pub const MAX_TAKES: i32 = 5;

/// Items taken at once.
const TAKE_BATCH: i64 = 256;

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
    /// The step being reported, to undo if a signal cuts it.
    step: Option<StepMark>,
}

/// How to take back what a step reported (see [`PgStore::abandon_step`]).
struct StepMark {
    undo: Vec<Undo>,
    drop_rows: usize,
    dead: usize,
    topics: usize,
    /// The topic changes before the step's first clear, if it cleared.
    topics_before: Option<Vec<(TopicOp, Option<i64>)>>,
}

/// A pending change as it was before the step changed it.
enum Undo {
    Item(u64, Option<Pending>),
    Origin(u64, Option<i64>),
    State((String, Option<i64>), Option<(u64, String)>),
}

impl Ops {
    fn undo(&mut self, u: Undo) {
        if let Some(mark) = &mut self.step {
            mark.undo.push(u);
        }
    }

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

/// What a commit changes in the worker once it has landed.
struct Landed {
    /// Its transaction (to ask whether it landed, if its answer was lost).
    txid: i64,
    /// New items and their rows.
    inserted: Vec<(u64, i64)>,
    /// Items whose rows it deleted.
    deleted: Vec<u64>,
    run: Option<i64>,
    ms: i64,
    /// Rows it found taken over by another worker.
    lost: u64,
    /// It started a new run.
    fresh: bool,
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
    /// Workers seen without their session lock, and since when.
    suspects: HashMap<i64, Instant>,
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
            suspects: HashMap::new(),
        };
        store.start_heartbeat()?;
        Ok(store)
    }

    pub fn url(&self) -> String {
        display_url(&self.url)
    }

    /// Renews this worker's leases every third of a lease, on its own
    /// connection, until the store is dropped. A renewal that fails is
    /// tried again with backoff (reconnecting if the connection was lost),
    /// said once per outage on stderr. Leases that run out meanwhile may
    /// be rescued by other workers: this worker's commits then refuse the
    /// work it did on those items (see [`PgStore::try_commit`]).
    fn start_heartbeat(&mut self) -> Result<(), StoreError> {
        let client = Client::connect(&self.url, NoTls).map_err(|e| pg_error(&self.url, &e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let worker = self.worker;
        let lease = self.options.lease_ms;
        let url = self.url.clone();
        let every = Duration::from_millis((lease / 3).max(10) as u64);
        std::thread::Builder::new()
            .name("voyager-heartbeat".into())
            .spawn(move || {
                let mut client = Some(client);
                let mut next = Instant::now() + every;
                let mut outage: Option<Instant> = None;
                let mut pause = Duration::from_millis(50);
                while !flag.load(Ordering::Relaxed) {
                    if Instant::now() < next {
                        std::thread::sleep(Duration::from_millis(20).min(every));
                        continue;
                    }
                    if client.is_none() {
                        client = Client::connect(&url, NoTls).ok();
                    }
                    // Rows the worker's own commit holds are skipped (the
                    // commit renews them): no deadlock with it.
                    let renewed = match client.as_mut() {
                        Some(c) => c
                            .execute(
                                "UPDATE voyager.items SET lease_until = voyager.now_ms() + $2
                                 WHERE id IN (SELECT id FROM voyager.items WHERE lease_owner = $1 FOR UPDATE SKIP LOCKED)",
                                &[&worker, &lease],
                            )
                            .map_err(|e| {
                                let text = pg_text(&e);
                                if connection_lost(&e) {
                                    client = None;
                                }
                                text
                            }),
                        None => Err("cannot connect".to_string()),
                    };
                    match renewed {
                        Ok(_) => {
                            if let Some(since) = outage.take() {
                                eprintln!(
                                    "voyager: this worker's leases are renewed again (after {:.1}s)",
                                    since.elapsed().as_secs_f64()
                                );
                            }
                            pause = Duration::from_millis(50);
                            next = Instant::now() + every;
                        }
                        Err(why) => {
                            if outage.is_none() {
                                outage = Some(Instant::now());
                                eprintln!(
                                    "warning[{}]: cannot renew this worker's leases on {}: {why}; retrying (items whose lease runs out meanwhile may be taken over by other workers, and what this one did with them is then not committed)",
                                    codes::STORE_UNREACHABLE,
                                    display_url(&url)
                                );
                            }
                            next = Instant::now() + pause;
                            pause = (pause * 2).min(every).min(RECONNECT_PAUSE);
                        }
                    }
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

    /// Runs `f` on the connection; if the connection was lost, reconnects
    /// (with backoff, for up to [`RECONNECT_FOR`]) and runs it again.
    fn retrying<T>(
        &mut self,
        mut f: impl FnMut(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, StoreError> {
        loop {
            match f(&mut self.client) {
                Ok(v) => return Ok(v),
                Err(e) if connection_lost(&e) => self.reconnect(&e)?,
                Err(e) => return Err(pg_error(&self.url, &e)),
            }
        }
    }

    /// Connects again after the connection was lost (`why`): with backoff,
    /// for up to [`RECONNECT_FOR`], said once on stderr. The worker's
    /// session lock and LISTEN are taken again, and leases on rows this
    /// worker does not know of (taken by a statement whose answer was
    /// lost) are handed back.
    fn reconnect(&mut self, why: &postgres::Error) -> Result<(), StoreError> {
        self.reconnect_keeping(why, &[])
    }

    /// As [`PgStore::reconnect`], keeping the leases on `extra` rows too
    /// (written by a commit whose answer was lost).
    fn reconnect_keeping(
        &mut self,
        why: &postgres::Error,
        extra: &[i64],
    ) -> Result<(), StoreError> {
        let started = Instant::now();
        let url = display_url(&self.url);
        eprintln!(
            "warning[{}]: lost the connection to the PostgreSQL store {url}: {}; reconnecting",
            codes::STORE_UNREACHABLE,
            pg_text(why)
        );
        let mut pause = Duration::from_millis(50);
        let known: Vec<i64> = self
            .ops
            .rows
            .values()
            .chain(self.ops.origin.values())
            .chain(self.ops.drop_rows.iter())
            .chain(self.ops.adopt.iter())
            .chain(extra.iter())
            .copied()
            .collect();
        loop {
            let attempt = Client::connect(&self.url, NoTls).and_then(|mut c| {
                if !self.options.poll_only {
                    c.batch_execute(&format!(
                        "SELECT pg_try_advisory_lock({}); LISTEN {CHANNEL};",
                        self.worker
                    ))?;
                }
                c.execute(
                    "UPDATE voyager.items SET lease_owner = NULL, lease_until = NULL, attempts = greatest(attempts - 1, 0)
                     WHERE lease_owner = $1 AND NOT (id = ANY($2))",
                    &[&self.worker, &known],
                )?;
                Ok(c)
            });
            match attempt {
                Ok(c) => {
                    self.client = c;
                    eprintln!(
                        "voyager: reconnected to {url} after {:.1}s",
                        started.elapsed().as_secs_f64()
                    );
                    return Ok(());
                }
                Err(e) => {
                    if started.elapsed() >= RECONNECT_FOR {
                        return Err(pg_error(&self.url, &e));
                    }
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(RECONNECT_PAUSE);
                }
            }
        }
    }

    /// The latest run, if the store has one.
    pub fn latest_run(&mut self) -> Result<Option<RunInfo>, StoreError> {
        self.retrying(latest_run)
    }

    /// Starts a new run at the next commit; with `fresh`, everything the
    /// store held goes then.
    pub fn begin_run(&mut self, script: &str, hash: &str) {
        self.new_run = Some((script.to_string(), hash.to_string()));
    }

    /// Durable state, every key.
    pub fn load_state(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        let rows =
            self.retrying(|c| c.query("SELECT key, value FROM voyager.state ORDER BY key", &[]))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Takes over the topic contents of workers that are gone (all of them
    /// at the start of a run), oldest first.
    pub fn claim_topics(&mut self) -> Result<Vec<(String, String)>, StoreError> {
        let sql = format!(
            "UPDATE voyager.topics t SET owner = $1 WHERE owner IS NULL OR (owner <> $1 AND {}) RETURNING topic, message, seq",
            gone_check("t.owner", self.options.poll_only)
        );
        let worker = self.worker;
        let mut rows: Vec<(String, String, i64)> = self
            .retrying(|c| c.query(&sql, &[&worker]))?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        rows.sort_by_key(|r| r.2);
        Ok(rows.into_iter().map(|(t, m, _)| (t, m)).collect())
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
                "SELECT DISTINCT lease_owner FROM voyager.items i
                 WHERE lease_owner IS NOT NULL AND lease_owner <> $1 AND {}",
                gone_check("i.lease_owner", false)
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
            }
        }
        if n > 0 && !self.options.poll_only {
            let _ = self.client.execute("SELECT pg_notify($1, '')", &[&CHANNEL]);
        }
        Ok(n)
    }

    /// Takes up to a batch of ready items, leased to this worker; each
    /// taking counts an attempt.
    pub fn take(&mut self) -> Result<Vec<Taken>, StoreError> {
        let (worker, lease) = (self.worker, self.options.lease_ms);
        let rows = self.retrying(|c| {
            c.query(
                "WITH ready AS (
                   SELECT id FROM voyager.items
                   WHERE lease_owner IS NULL AND due_at <= voyager.now_ms()
                   ORDER BY due_at, id LIMIT $3
                   FOR UPDATE SKIP LOCKED)
                 UPDATE voyager.items i
                 SET lease_owner = $1, lease_until = voyager.now_ms() + $2, attempts = i.attempts + 1
                 FROM ready WHERE i.id = ready.id
                 RETURNING i.id, i.form, i.body, i.attempts",
                &[&worker, &lease, &TAKE_BATCH],
            )
        })?;
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
        let row = self.retrying(|c| {
            c.query_one(
                "SELECT NOT EXISTS (SELECT 1 FROM voyager.items) AND NOT EXISTS (SELECT 1 FROM voyager.topics)",
                &[],
            )
        })?;
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
                match iter.next() {
                    Ok(got) => got.is_some(),
                    Err(_) => {
                        // The connection is gone: the next statement
                        // reconnects.
                        std::thread::sleep(slice);
                        return;
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

    /// Takes back what the step being reported reported (a signal cut it
    /// short): the item runs it again where it runs next.
    pub fn abandon_step(&mut self) {
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

    /// Writes what was reported in one transaction. Work that depends on a
    /// row whose lease this worker lost (another worker took the item
    /// over) is not written: the engine drops it (see [`Store::lost`]).
    /// On an error, nothing here changed but that; a COMMIT whose answer
    /// was lost comes back with what it would change, to check.
    fn try_commit(&mut self) -> Result<(), (postgres::Error, Option<Landed>)> {
        macro_rules! pg {
            ($e:expr) => {
                $e.map_err(|e| (e, None))?
            };
        }
        let worker = self.worker;
        let lease = self.options.lease_ms;
        let ms = self.session_start.elapsed().as_millis() as i64;
        let steps = (self.steps - self.steps_reported) as i64;
        let unclaimed = (self.unclaimed_total - self.unclaimed_reported) as i64;
        let finished = self.finished;
        let ops = &mut self.ops;
        let mut tx = pg!(self.client.transaction());
        let txid: i64 = pg!(tx.query_one("SELECT txid_current()", &[])).get(0);
        let mut landed = Landed {
            txid,
            inserted: Vec::new(),
            deleted: Vec::new(),
            run: self.run,
            ms,
            lost: 0,
            fresh: self.new_run.is_some(),
        };
        if let Some((script, hash)) = &self.new_run {
            // A new run: what the store held belonged to the last one.
            pg!(tx.batch_execute(
                "DELETE FROM voyager.items; DELETE FROM voyager.topics; DELETE FROM voyager.state; DELETE FROM voyager.dead_letters;",
            ));
            let row = pg!(tx.query_one(
                "INSERT INTO voyager.runs (script, source_hash, started) VALUES ($1, $2, $3) RETURNING id",
                &[script, hash, &now_ms()],
            ));
            landed.run = Some(row.get(0));
        }
        if !landed.fresh {
            // The leases this commit's work depends on, locked until it
            // ends (rescues and takes skip locked rows). Work of a row
            // another worker took over is not written: that worker does
            // it (it ran here too, but none of it is kept).
            let guarded = ops.guarded();
            if !guarded.is_empty() {
                let held: HashSet<i64> = pg!(tx.query(
                    "SELECT id FROM voyager.items WHERE id = ANY($1) AND lease_owner = $2 ORDER BY id FOR UPDATE",
                    &[&guarded, &worker],
                ))
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
                        pg!(tx.query(
                            "SELECT key, value FROM voyager.state WHERE key = ANY($1)",
                            &[&keys],
                        ))
                        .iter()
                        .map(|r| (r.get(0), r.get(1)))
                        .collect()
                    };
                    let state: Vec<(String, Option<String>)> = keys
                        .into_iter()
                        .map(|k| {
                            let kept = ops.latest_state(&k).or_else(|| stored.get(&k).cloned());
                            (k, kept)
                        })
                        .collect();
                    let refused = ops.refused.get_or_insert_with(Lost::default);
                    refused.items.extend(items);
                    refused.state.extend(state);
                }
            }
        }
        let mut deletes: Vec<i64> = ops.drop_rows.clone();
        {
            let update = pg!(tx.prepare(
                "UPDATE voyager.items SET form = 'node', state = $3, due_at = coalesce($4, due_at), body = $5,
                 lease_until = voyager.now_ms() + $6
                 WHERE id = $1 AND lease_owner = $2",
            ));
            let insert = pg!(tx.prepare(
                "INSERT INTO voyager.items (form, body, state, due_at, attempts, lease_owner, lease_until)
                 VALUES ('node', $1, $2, coalesce($3, voyager.now_ms()), 1, $4, voyager.now_ms() + $5)
                 RETURNING id",
            ));
            let mut ids: Vec<u64> = ops.items.keys().copied().collect();
            ids.sort_unstable();
            for id in ids {
                let row = if landed.fresh {
                    None
                } else {
                    ops.rows.get(&id).copied()
                };
                match &ops.items[&id] {
                    Pending::Put { state, due, json } => match row {
                        Some(row) => {
                            let n = pg!(tx.execute(
                                &update,
                                &[&row, &worker, &state.name(), due, json, &lease],
                            ));
                            if n == 0 {
                                landed.lost += 1;
                            }
                        }
                        None => {
                            let r = pg!(tx
                                .query_one(&insert, &[json, &state.name(), due, &worker, &lease],));
                            landed.inserted.push((id, r.get(0)));
                        }
                    },
                    Pending::Delete => {
                        if let Some(row) = row {
                            deletes.push(row);
                            landed.deleted.push(id);
                        }
                    }
                }
            }
        }
        if !deletes.is_empty() {
            deletes.sort_unstable();
            let n = pg!(tx.execute(
                "DELETE FROM voyager.items WHERE id = ANY($1) AND lease_owner = $2",
                &[&deletes, &worker],
            ));
            landed.lost += (deletes.len() as u64).saturating_sub(n);
        }
        if !ops.topics.is_empty() {
            let push =
                pg!(tx.prepare(
                    "INSERT INTO voyager.topics (topic, message, owner) VALUES ($1, $2, $3)",
                ));
            let clear =
                pg!(tx.prepare("DELETE FROM voyager.topics WHERE topic = $1 AND owner = $2"));
            for (op, _) in &ops.topics {
                match op {
                    TopicOp::Push(t, m) => pg!(tx.execute(&push, &[t, m, &worker])),
                    TopicOp::Clear(t) => pg!(tx.execute(&clear, &[t, &worker])),
                };
            }
        }
        if !ops.dead.is_empty() {
            let dead = pg!(tx.prepare(
                "INSERT INTO voyager.dead_letters (message, code, error, attempts, at) VALUES ($1, $2, $3, $4, $5)",
            ));
            let now = now_ms();
            for (m, code, error, attempts, _) in &ops.dead {
                pg!(tx.execute(&dead, &[m, code, error, attempts, &now]));
            }
        }
        if !ops.state.is_empty() {
            let state = pg!(tx.prepare(
                "INSERT INTO voyager.state (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            ));
            // In the order written: the last write of a key stays.
            let mut writes: Vec<(&String, &(u64, String))> =
                ops.state.iter().map(|((k, _), v)| (k, v)).collect();
            writes.sort_by_key(|(_, (seq, _))| *seq);
            for (k, (_, v)) in writes {
                pg!(tx.execute(&state, &[k, v]));
            }
        }
        if let Some(run) = landed.run {
            pg!(tx.execute(
                "UPDATE voyager.runs SET steps = steps + $2, run_ms = run_ms + $3, unclaimed = unclaimed + $4,
                 finished = CASE WHEN $5 THEN coalesce(finished, $6) ELSE finished END WHERE id = $1",
                &[&run, &steps, &(ms - self.ms_reported), &unclaimed, &finished, &now_ms()],
            ));
        }
        match tx.commit() {
            Ok(()) => {
                self.landed(landed);
                Ok(())
            }
            Err(e) => Err((e, Some(landed))),
        }
    }

    /// A commit landed: what it wrote is no longer pending.
    fn landed(&mut self, landed: Landed) {
        let ops = &mut self.ops;
        if landed.fresh {
            ops.rows.clear();
            ops.origin.clear();
        }
        for (id, row) in landed.inserted {
            ops.rows.insert(id, row);
            ops.origin.remove(&id);
        }
        for id in landed.deleted {
            ops.rows.remove(&id);
        }
        ops.items.clear();
        ops.drop_rows.clear();
        ops.topics.clear();
        ops.dead.clear();
        ops.state.clear();
        ops.step = None;
        self.lost += landed.lost;
        self.run = landed.run;
        self.new_run = None;
        self.steps_reported = self.steps;
        self.ms_reported = landed.ms;
        self.unclaimed_reported = self.unclaimed_total;
        self.finished = false;
        self.since_commit = 0;
        self.last_commit = Instant::now();
    }

    /// Whether the transaction `txid` committed (its COMMIT's answer was
    /// lost with the connection).
    fn committed(&mut self, txid: i64) -> Result<bool, StoreError> {
        loop {
            let status: Option<String> = self
                .retrying(|c| c.query_one("SELECT txid_status($1)", &[&txid]))?
                .get(0);
            match status.as_deref() {
                Some("committed") => return Ok(true),
                Some("in progress") => std::thread::sleep(Duration::from_millis(20)),
                _ => return Ok(false),
            }
        }
    }

    /// Commits what was reported; a lost connection is reconnected and the
    /// commit tried again (unless it landed), as is a deadlock.
    fn commit_now(&mut self) -> Result<(), String> {
        let mut tries = 0;
        loop {
            let (e, sent) = match self.try_commit() {
                Ok(()) => return Ok(()),
                Err(failed) => failed,
            };
            tries += 1;
            let text = || {
                format!(
                    "cannot write the PostgreSQL store {}: {}",
                    display_url(&self.url),
                    pg_text(&e)
                )
            };
            if connection_lost(&e) {
                let extra: Vec<i64> = sent
                    .as_ref()
                    .map(|l| l.inserted.iter().map(|(_, row)| *row).collect())
                    .unwrap_or_default();
                self.reconnect_keeping(&e, &extra)
                    .map_err(|err| err.message)?;
                if let Some(sent) = sent {
                    if self.committed(sent.txid).map_err(|err| err.message)? {
                        self.landed(sent);
                        return Ok(());
                    }
                }
                continue;
            }
            let transient = e.code().is_some_and(|c| {
                *c == postgres::error::SqlState::T_R_DEADLOCK_DETECTED
                    || *c == postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
            });
            if !transient || tries >= 10 {
                return Err(text());
            }
        }
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
                        ops.undo(Undo::Origin(id, None));
                    }
                }
                let old = ops.items.insert(id, Pending::Put { state, due, json });
                ops.undo(Undo::Item(id, old));
            }
            Err(e) => self.fail(format!("item {id} cannot be stored: {e}")),
        }
    }

    fn remove_item(&mut self, id: u64) {
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

    fn step_start(&mut self, id: u64) {
        let ops = &mut self.ops;
        ops.current = ops.owner_row(id);
        ops.step = Some(StepMark {
            undo: Vec::new(),
            drop_rows: ops.drop_rows.len(),
            dead: ops.dead.len(),
            topics: ops.topics.len(),
            topics_before: None,
        });
    }

    fn unclaimed(&mut self, total: u64) {
        self.unclaimed_total = total;
    }

    fn step_end(&mut self, steps: u64) -> bool {
        self.ops.current = None;
        self.ops.step = None;
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
        if let Err(why) = self.commit_now() {
            self.fail(why);
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
