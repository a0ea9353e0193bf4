//! Durable runs on one machine: an embedded SQLite database (`--store
//! run.db`) that keeps every live item, topic contents, dead letters,
//! durable state and the run itself, so a killed run resumes with nothing
//! lost. It fills the engine's [`Store`] seam: the engine reports changes,
//! this module writes them in one transaction per group of steps (or per
//! step with `--sync step`).
//!
//! Messages are stored as JSON (the form of `--dead-letters` files), so a
//! user can read a run with `sqlite3`. One process at a time works on a
//! store: it holds an exclusive `flock` on the file while open.

mod groups;
mod open;
pub mod pg;

pub mod report;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};

use crate::engine::node::Node;
use crate::engine::queue::Item;
use crate::engine::serial;
use crate::engine::snapshot;
use crate::engine::store::{ItemState, Resumed, Store};
use crate::engine::DeadLetter;
use crate::vm::error::takes;
use crate::vm::message::Msg;

pub use open::{source_hash, StoreError, EXIT_UNUSABLE};

/// A map keyed by item id. Ids are sequential integers chosen by the
/// engine, not by a user, so one multiplication spreads them (SipHash,
/// the default, was a visible share of a stored run's time).
pub(crate) type IdMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<IdHasher>>;

/// The hasher of [`IdMap`]: Fibonacci hashing of one `u64`.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used (the keys are `u64`); anything else is
        // folded in byte by byte.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// When changes are committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sync {
    /// In groups: at most every 10ms or 1,024 steps, whichever comes first.
    Interval,
    /// After every step, before its results are seen.
    Step,
}

impl Sync {
    /// Whether a group of `since_commit` steps, whose first step ended
    /// `group_began` ago, is due to be committed (the clock is read once
    /// every 16 steps).
    pub fn due(self, since_commit: u32, group_began: Instant) -> bool {
        match self {
            Sync::Step => true,
            Sync::Interval => {
                since_commit >= GROUP_STEPS
                    || (since_commit.is_multiple_of(16) && group_began.elapsed() >= GROUP_TIME)
            }
        }
    }
}

/// Steps after which a group is committed.
const GROUP_STEPS: u32 = 1024;
/// Steps a group may grow to while the disk still writes the one before
/// (group commit: the group a slow `fsync` holds up takes in the steps
/// made meanwhile, instead of the engine waiting for it).
const GROUP_STEPS_BEHIND: u32 = 16 * GROUP_STEPS;
/// The longest a change waits for its commit.
const GROUP_TIME: Duration = Duration::from_millis(10);

/// The latest run in a store.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub id: i64,
    pub script: String,
    pub source_hash: String,
    pub started: i64,
    pub finished: Option<i64>,
}

enum Pending {
    Put {
        state: ItemState,
        due: Option<i64>,
        prio: i16,
        /// The group it belongs to (see [`groups`]).
        group: u64,
        json: String,
    },
    Delete,
}

/// A topic change waiting for its commit (both stores keep these).
#[derive(Clone)]
enum TopicOp {
    Push(String, String),
    Clear(String),
}

impl TopicOp {
    /// Records a message routed into `topic`, as JSON text.
    fn push(ops: &mut Vec<TopicOp>, topic: &str, message: &Msg) -> Result<(), String> {
        let j = serial::message_to_json(message)
            .map_err(|e| format!("a message of topic \"{topic}\" cannot be stored: {e}"))?;
        ops.push(TopicOp::Push(topic.to_string(), serial::to_line(&j)));
        Ok(())
    }

    /// Records that `topic` was emptied: its pushes not yet written go.
    fn clear(ops: &mut Vec<TopicOp>, topic: &str) {
        ops.retain(|op| !matches!(op, TopicOp::Push(t, _) if t == topic));
        ops.push(TopicOp::Clear(topic.to_string()));
    }
}

/// What one commit writes: the changes reported since the last one.
#[derive(Default)]
struct Batch {
    /// A run to start first: (script, hash of its source).
    new_run: Option<(String, String)>,
    /// In id order.
    items: Vec<(u64, Pending)>,
    topics: Vec<TopicOp>,
    /// (message, code, error), attempts.
    dead: Vec<([String; 3], u32)>,
    /// Dead letters requeued (by their message's line): the oldest row of
    /// each is deleted.
    requeued: Vec<String>,
    state: Vec<(String, String)>,
    groups: Vec<(u64, groups::Tally)>,
    /// Prune the groups table, keeping these live groups' rows.
    prune_groups: Option<Vec<u64>>,
    unclaimed: Option<u64>,
    recovered: Option<u64>,
    finished: bool,
    run: Option<i64>,
    steps: i64,
    run_ms: i64,
    max_id: i64,
}

/// The thread that writes group commits while the engine goes on
/// stepping: at most one batch is in flight, and a commit that must be
/// durable before it returns waits for it first.
struct Writer {
    batches: mpsc::Sender<Batch>,
    results: mpsc::Receiver<Result<(), String>>,
    thread: Option<std::thread::JoinHandle<()>>,
    in_flight: bool,
}

/// An open store.
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    pub path: PathBuf,
    /// Held while open: one process at a time.
    _lock: std::fs::File,
    run: Option<i64>,
    /// A run to start at the next commit: (script, hash of its source).
    new_run: Option<(String, String)>,
    sync: Sync,
    items: IdMap<Pending>,
    topics: Vec<TopicOp>,
    dead: Vec<([String; 3], u32)>,
    requeued: Vec<String>,
    state: HashMap<String, String>,
    groups: groups::Groups,
    unclaimed: Option<u64>,
    recovered: Option<u64>,
    finished: bool,
    /// Ids above this are not in the database yet.
    committed_max_id: u64,
    max_id: u64,
    steps: u64,
    /// Steps and run time of earlier sessions of this run.
    base_steps: u64,
    base_ms: i64,
    since_commit: u32,
    group_began: Instant,
    session_start: Instant,
    writer: Option<Writer>,
    failure: Option<String>,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl SqliteStore {
    /// Opens (or creates) the store at `path` for a run: locked, checked,
    /// upgraded to the current schema.
    pub fn open(path: &std::path::Path, sync: Sync) -> Result<SqliteStore, StoreError> {
        let (conn, lock) = open::open(path, true)?;
        let mut store = SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_path_buf(),
            _lock: lock,
            run: None,
            new_run: None,
            sync,
            items: IdMap::default(),
            topics: Vec::new(),
            dead: Vec::new(),
            requeued: Vec::new(),
            state: HashMap::new(),
            groups: groups::Groups::default(),
            unclaimed: None,
            recovered: None,
            finished: false,
            committed_max_id: 0,
            max_id: 0,
            steps: 0,
            base_steps: 0,
            base_ms: 0,
            since_commit: 0,
            group_began: Instant::now(),
            session_start: Instant::now(),
            writer: None,
            failure: None,
        };
        if let Some(run) = store.latest_run()? {
            store.run = Some(run.id);
        }
        Ok(store)
    }

    /// The latest run, if the store has one.
    pub fn latest_run(&self) -> Result<Option<RunInfo>, StoreError> {
        open::latest_run(&self.connection()).map_err(|e| StoreError::sqlite(&self.path, e))
    }

    /// Starts a new run at the next commit (with `fresh`, everything the
    /// store held goes).
    pub fn begin_run(&mut self, script: &str, hash: &str) {
        self.new_run = Some((script.to_string(), hash.to_string()));
        self.run = None;
        self.max_id = 0;
        self.committed_max_id = 0;
        self.groups.clear();
    }

    /// Durable state, every key.
    pub fn load_state(&self) -> Result<Vec<(String, String)>, StoreError> {
        let sql = "SELECT key, value FROM state ORDER BY key";
        let wrap = |e| StoreError::sqlite(&self.path, e);
        let conn = self.connection();
        let mut stmt = conn.prepare(sql).map_err(wrap)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(wrap)?;
        rows.collect::<Result<_, _>>().map_err(wrap)
    }

    /// The live items and topic contents, to resume from. Every action
    /// a stored item names must exist with the arity it is called with,
    /// else the error lists those that do not.
    pub fn load(&mut self, actions: serial::ActionLookup) -> Result<Resumed, StoreError> {
        let run = self
            .run
            .ok_or_else(|| StoreError::corrupt(&self.path, "no run to resume"))?;
        let wrap = |e| StoreError::sqlite(&self.path, e);
        let shared = Arc::clone(&self.conn);
        let conn = lock(&shared);
        let (next_id, unclaimed, steps, ms, recovered): (i64, i64, i64, i64, i64) = conn
            .query_row(
                "SELECT next_id, unclaimed, steps, run_ms, recovered FROM runs WHERE id = ?1",
                [run],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .map_err(wrap)?;
        let mut stmt = conn
            .prepare("SELECT id, message, priority, grp FROM items ORDER BY id")
            .map_err(wrap)?;
        let rows: Vec<(i64, String, i64, Option<i64>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .map_err(wrap)?
            .collect::<Result<_, _>>()
            .map_err(wrap)?;
        let mut stmt = conn
            .prepare("SELECT topic, message FROM topics ORDER BY seq")
            .map_err(wrap)?;
        let topic_rows: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(wrap)?
            .collect::<Result<_, _>>()
            .map_err(wrap)?;
        let mut parsed = Vec::with_capacity(rows.len());
        let mut named = Vec::new();
        for (id, text, prio, group) in &rows {
            // (An item of an older store, or one `voyager requeue` put
            // back, is a group of its own.)
            let group = group.unwrap_or(*id).max(0) as u64;
            self.groups.resumed(*id as u64, group);
            let j = serial::from_line(text).map_err(|e| {
                StoreError::corrupt(&self.path, &format!("item {id} is not JSON: {e}"))
            })?;
            snapshot::named_calls(&j, &mut named);
            // (A priority out of range, edited in by hand, is clamped.)
            parsed.push((*id, (*prio).clamp(-100, 100) as i16, j));
        }
        let mut topic_json = Vec::with_capacity(topic_rows.len());
        for (topic, text) in &topic_rows {
            let j = serial::from_line(text).map_err(|e| {
                StoreError::corrupt(
                    &self.path,
                    &format!("a message of topic \"{topic}\" is not JSON: {e}"),
                )
            })?;
            snapshot::named_calls(&j, &mut named);
            topic_json.push((topic.as_str(), j));
        }
        let missing = misfits(&mut named, actions);
        if !missing.is_empty() {
            return Err(StoreError::script_changed(
                &self.path.display().to_string(),
                &missing,
            ));
        }
        let mut resumed = Resumed {
            next_id: next_id.max(0) as u64,
            unclaimed: unclaimed.max(0) as u64,
            recovered: recovered.max(0) as u64,
            ..Resumed::default()
        };
        for (id, prio, j) in parsed {
            let node: Node = snapshot::node_from_json(&j, actions).map_err(|e| {
                StoreError::corrupt(&self.path, &format!("item {id} cannot be read: {e}"))
            })?;
            serial::drop_json(j);
            resumed.next_id = resumed.next_id.max(id as u64);
            resumed.items.push(Item {
                id: id as u64,
                node,
                prio,
            });
        }
        for (topic, j) in topic_json {
            let m: Msg = serial::message_from_json(&j, actions).map_err(|e| {
                StoreError::corrupt(
                    &self.path,
                    &format!("a message of topic \"{topic}\" cannot be read: {e}"),
                )
            })?;
            resumed.topics.push((topic.into(), m));
        }
        self.max_id = resumed.next_id;
        self.committed_max_id = resumed.next_id;
        self.base_steps = steps.max(0) as u64;
        self.base_ms = ms.max(0);
        Ok(resumed)
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        lock(&self.conn)
    }

    /// Takes what was reported since the last commit, as one batch.
    fn take_batch(&mut self) -> Batch {
        let mut items: Vec<(u64, Pending)> = self.items.drain().collect();
        items.sort_unstable_by_key(|(id, _)| *id);
        let batch = Batch {
            new_run: self.new_run.take(),
            items,
            topics: std::mem::take(&mut self.topics),
            dead: std::mem::take(&mut self.dead),
            requeued: std::mem::take(&mut self.requeued),
            state: self.state.drain().collect(),
            groups: self.groups.take(),
            prune_groups: self.groups.prune_due(),
            unclaimed: self.unclaimed.take(),
            recovered: self.recovered.take(),
            finished: self.finished,
            run: self.run,
            steps: (self.base_steps + self.steps) as i64,
            run_ms: self.base_ms + self.session_start.elapsed().as_millis() as i64,
            max_id: self.max_id as i64,
        };
        self.committed_max_id = self.max_id;
        self.since_commit = 0;
        self.group_began = Instant::now();
        batch
    }

    fn is_clean(&self) -> bool {
        self.items.is_empty()
            && self.groups.is_clean()
            && self.topics.is_empty()
            && self.dead.is_empty()
            && self.requeued.is_empty()
            && self.state.is_empty()
            && self.unclaimed.is_none()
            && self.recovered.is_none()
            && self.new_run.is_none()
            && !self.finished
            && self.max_id == self.committed_max_id
    }

    /// Waits for the batch the writer thread holds, if any.
    fn settle(&mut self) {
        let Some(writer) = &mut self.writer else {
            return;
        };
        if !writer.in_flight {
            return;
        }
        writer.in_flight = false;
        let result = writer
            .results
            .recv()
            .unwrap_or_else(|_| Err("the store's writer thread stopped".to_string()));
        if let Err(why) = result {
            self.fail(format!("cannot write {}: {why}", self.path.display()));
        }
    }

    /// Whether the writer thread still writes the group handed to it (a
    /// result it already sent is taken, as [`SqliteStore::settle`] would).
    fn writer_busy(&mut self) -> bool {
        let Some(writer) = &mut self.writer else {
            return false;
        };
        if !writer.in_flight {
            return false;
        }
        let result = match writer.results.try_recv() {
            Ok(result) => result,
            Err(mpsc::TryRecvError::Empty) => return true,
            Err(mpsc::TryRecvError::Disconnected) => {
                Err("the store's writer thread stopped".to_string())
            }
        };
        writer.in_flight = false;
        if let Err(why) = result {
            self.fail(format!("cannot write {}: {why}", self.path.display()));
        }
        false
    }

    /// Commits now: on disk when this returns.
    fn commit_now(&mut self) {
        self.settle();
        if self.failure.is_some() || self.is_clean() {
            return;
        }
        let mut batch = self.take_batch();
        let result = write(&mut self.connection(), &mut batch);
        match result {
            Ok(run) => self.run = run,
            Err(e) => self.fail(format!("cannot write {}: {e}", self.path.display())),
        }
    }

    /// Commits in the background: the writer thread writes this group
    /// while the engine steps the next one (whose commit waits for it).
    fn commit_behind(&mut self) {
        self.settle();
        if self.failure.is_some() || self.is_clean() {
            return;
        }
        if self.new_run.is_some() || self.run.is_none() {
            // The run's id is needed by the batches after this one.
            return self.commit_now();
        }
        let batch = self.take_batch();
        let writer = self
            .writer
            .get_or_insert_with(|| Writer::start(Arc::clone(&self.conn)));
        if writer.batches.send(batch).is_ok() {
            writer.in_flight = true;
        } else {
            self.fail(format!(
                "cannot write {}: the store's writer thread stopped",
                self.path.display()
            ));
        }
    }

    fn fail(&mut self, why: String) {
        if self.failure.is_none() {
            self.failure = Some(why);
        }
    }
}

impl Store for SqliteStore {
    fn put_item(&mut self, id: u64, node: &Node, prio: i16, state: ItemState, due: Option<i64>) {
        match snapshot::node_to_json(node) {
            Ok(j) => {
                let json = serial::to_line(&j);
                serial::drop_json(j);
                self.max_id = self.max_id.max(id);
                let group = self.groups.put(id, &json);
                let put = Pending::Put {
                    state,
                    due,
                    prio,
                    group,
                    json,
                };
                self.items.insert(id, put);
            }
            Err(e) => self.fail(format!("item {id} cannot be stored: {e}")),
        }
    }

    fn remove_item(&mut self, id: u64) {
        self.groups.remove(id);
        if id > self.committed_max_id {
            // Never written: nothing to delete.
            self.items.remove(&id);
        } else {
            self.items.insert(id, Pending::Delete);
        }
    }

    fn dead_letter(&mut self, letter: &DeadLetter) {
        self.groups.dead();
        match serial::message_to_json(&letter.message) {
            Ok(j) => {
                self.dead.push((
                    [
                        serial::to_line(&j),
                        letter.error.code.to_string(),
                        letter.error.message.clone(),
                    ],
                    letter.attempts,
                ));
            }
            Err(e) => self.fail(format!("a dead letter cannot be stored: {e}")),
        }
    }

    fn requeued(&mut self, message: &Msg) {
        if let Ok(j) = serial::message_to_json(message) {
            self.requeued.push(serial::to_line(&j));
        }
    }

    fn topic_push(&mut self, topic: &str, message: &Msg) {
        if let Err(why) = TopicOp::push(&mut self.topics, topic, message) {
            self.fail(why);
        }
    }

    fn topic_clear(&mut self, topic: &str) {
        TopicOp::clear(&mut self.topics, topic);
    }

    fn put_state(&mut self, key: &str, value: &str) {
        self.state.insert(key.to_string(), value.to_string());
    }

    fn unclaimed(&mut self, total: u64) {
        self.unclaimed = Some(total);
    }

    fn recovered(&mut self, total: u64) {
        self.recovered = Some(total);
    }

    fn group_start(&mut self) {
        self.groups.start();
    }

    fn group_of(&self, id: u64) -> Option<u64> {
        self.groups.of(id)
    }

    fn id_used(&mut self, id: u64) {
        self.max_id = self.max_id.max(id);
    }

    fn step_start(&mut self, id: u64) {
        self.groups.step(id);
    }

    fn calls_done(&mut self, n: u64) {
        self.groups.done(n);
    }

    fn step_end(&mut self, steps: u64) -> bool {
        self.groups.step_end();
        self.steps = steps;
        self.since_commit += 1;
        if self.since_commit == 1 {
            self.group_began = Instant::now();
        }
        if !self.sync.due(self.since_commit, self.group_began) {
            return false;
        }
        // The last group is still being written: this one grows until it
        // is written (or up to a bound), then goes.
        !(self.sync == Sync::Interval
            && self.since_commit < GROUP_STEPS_BEHIND
            && self.writer_busy())
    }

    fn commit(&mut self) {
        self.commit_now();
    }

    fn commit_group(&mut self) {
        match self.sync {
            Sync::Step => self.commit_now(),
            Sync::Interval => self.commit_behind(),
        }
    }

    fn finished(&mut self) {
        self.finished = true;
        self.commit();
    }

    fn abandon(&mut self) {
        // A group handed to the writer was committed: it lands.
        self.settle();
        self.items.clear();
        self.topics.clear();
        self.dead.clear();
        self.requeued.clear();
        self.state.clear();
        self.unclaimed = None;
        self.recovered = None;
        self.groups.abandon();
        self.max_id = self.committed_max_id;
    }

    fn failure(&self) -> Option<String> {
        self.failure.clone()
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.settle();
        if let Some(mut writer) = self.writer.take() {
            drop(writer.batches);
            if let Some(thread) = writer.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

impl Writer {
    fn start(conn: Arc<Mutex<Connection>>) -> Writer {
        let (batches, inbox) = mpsc::channel::<Batch>();
        let (outbox, results) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("voyager-store".to_string())
            .spawn(move || {
                for mut batch in inbox {
                    let result = write(&mut lock(&conn), &mut batch).map(|_| ());
                    if outbox.send(result.map_err(|e| e.to_string())).is_err() {
                        return;
                    }
                }
            });
        let (batches, thread) = match thread {
            Ok(t) => (batches, Some(t)),
            // No thread: the sender's receiver is gone, and the first
            // send reports it as a store failure.
            Err(_) => (mpsc::channel().0, None),
        };
        Writer {
            batches,
            results,
            thread,
            in_flight: false,
        }
    }
}

/// The connection, even if a writer thread panicked holding it.
fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes one batch in one transaction; returns the run's id.
fn write(conn: &mut Connection, batch: &mut Batch) -> rusqlite::Result<Option<i64>> {
    let tx = conn.transaction()?;
    let mut run = batch.run;
    if let Some((script, hash)) = batch.new_run.take() {
        // A new run: what the store held belonged to the last one.
        tx.execute_batch(
            "DELETE FROM items; DELETE FROM topics; DELETE FROM state; DELETE FROM dead_letters; DELETE FROM groups;",
        )?;
        tx.execute(
            "INSERT INTO runs (script, source_hash, started) VALUES (?1, ?2, ?3)",
            params![script, hash, now_ms()],
        )?;
        run = Some(tx.last_insert_rowid());
    }
    let now = now_ms();
    {
        let mut put = tx.prepare_cached(
            "INSERT INTO items (id, state, due, since, message, priority, grp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, due = excluded.due, message = excluded.message,
             priority = excluded.priority",
        )?;
        let mut delete = tx.prepare_cached("DELETE FROM items WHERE id BETWEEN ?1 AND ?2")?;
        // In id order: rows go in at the table's end and come out in
        // runs, the B-tree's cheap cases, instead of in hash order.
        let mut range: Option<(u64, u64)> = None;
        for (id, p) in batch.items.drain(..) {
            match p {
                Pending::Put {
                    state,
                    due,
                    prio,
                    group,
                    json,
                } => {
                    put.execute(params![
                        id as i64,
                        state.name(),
                        due,
                        now,
                        json,
                        prio,
                        group as i64
                    ])?;
                }
                Pending::Delete => match &mut range {
                    // Consecutive ids: one range delete.
                    Some((_, last)) if *last + 1 == id => *last = id,
                    _ => {
                        if let Some((first, last)) = range.replace((id, id)) {
                            delete.execute([first as i64, last as i64])?;
                        }
                    }
                },
            }
        }
        if let Some((first, last)) = range {
            delete.execute([first as i64, last as i64])?;
        }
    }
    if !batch.groups.is_empty() {
        let mut tally = tx.prepare_cached(
            "INSERT INTO groups (id, label, done, dead) VALUES (?1, coalesce(?2, ''), ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET done = done + excluded.done, dead = dead + excluded.dead,
             label = CASE WHEN label = '' THEN excluded.label ELSE label END",
        )?;
        for (id, t) in batch.groups.drain(..) {
            tally.execute(params![id as i64, t.label, t.done as i64, t.dead as i64])?;
        }
    }
    if let Some(live) = batch.prune_groups.take() {
        // The latest KEEP_GROUPS rows stay, and so do live groups' rows.
        let live = serde_json::to_string(&live).unwrap_or_else(|_| "[]".into());
        tx.execute(
            "DELETE FROM groups
             WHERE id < coalesce((SELECT min(id) FROM (SELECT id FROM groups ORDER BY id DESC LIMIT ?1)), 0)
               AND id NOT IN (SELECT value FROM json_each(?2))",
            params![groups::KEEP_GROUPS, live],
        )?;
    }
    {
        let mut push = tx.prepare_cached("INSERT INTO topics (topic, message) VALUES (?1, ?2)")?;
        let mut clear = tx.prepare_cached("DELETE FROM topics WHERE topic = ?1")?;
        for op in batch.topics.drain(..) {
            match op {
                TopicOp::Push(t, m) => push.execute(params![t, m])?,
                TopicOp::Clear(t) => clear.execute([t])?,
            };
        }
    }
    {
        let mut dead = tx.prepare_cached(
            "INSERT INTO dead_letters (message, code, error, attempts, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for ([m, code, error], attempts) in batch.dead.drain(..) {
            dead.execute(params![m, code, error, attempts, now])?;
        }
        let mut requeued = tx.prepare_cached(
            "DELETE FROM dead_letters WHERE id = (SELECT min(id) FROM dead_letters WHERE message = ?1)",
        )?;
        for m in batch.requeued.drain(..) {
            requeued.execute([m])?;
        }
    }
    {
        let mut state = tx.prepare_cached(
            "INSERT INTO state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )?;
        for (k, v) in batch.state.drain(..) {
            state.execute(params![k, v])?;
        }
    }
    if let Some(run) = run {
        tx.execute(
            "UPDATE runs SET steps = ?2, run_ms = ?3, next_id = max(next_id, ?4),
             unclaimed = coalesce(?5, unclaimed), finished = ?6,
             recovered = coalesce(?7, recovered) WHERE id = ?1",
            params![
                run,
                batch.steps,
                batch.run_ms,
                batch.max_id,
                batch.unclaimed.map(|n| n as i64),
                batch.finished.then(now_ms),
                batch.recovered.map(|n| n as i64),
            ],
        )?;
    }
    tx.commit()?;
    Ok(run)
}

/// What of the calls stored items make (by action name and argument count)
/// the script no longer has: each problem once, in words.
pub fn misfits(named: &mut Vec<(String, usize)>, actions: serial::ActionLookup) -> Vec<String> {
    let mut missing: Vec<String> = Vec::new();
    named.sort();
    named.dedup();
    for (name, n) in named.iter() {
        let problem = match actions(name) {
            Some(crate::vm::value::Value::Action(a)) => (!snapshot::accepts(&a, *n)).then(|| {
                let (min, max) = a.arity();
                format!(
                    "`{name}` is called with {n} argument(s) but now takes {}",
                    takes(min, max)
                )
            }),
            _ => Some(format!(
                "`{name}` (called with {n} argument(s)) is not an action of the script any more"
            )),
        };
        if let Some(p) = problem {
            if !missing.contains(&p) {
                missing.push(p);
            }
        }
    }
    missing
}
