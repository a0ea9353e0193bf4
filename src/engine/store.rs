//! The seam between the engine and a durable store (`--store`): the engine
//! keeps working on its in-memory queues, and reports each change of an
//! item's life to a [`Store`], which persists it; at start-up a store hands
//! back the live items, topic contents and durable state to resume from.
//!
//! Without a store (the default) nothing is reported: the in-memory queues
//! are the whole truth, and the hot path pays one predictable branch. The
//! SQLite store (`crate::store`) is the first implementation; a database
//! shared by many workers fills the same trait.
//!
//! What a store must keep for "a call whose step committed never runs
//! again": everything reported between two [`Store::commit`]s is one
//! transaction, applied whole or not at all.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::Value as Json;

use super::node::Node;
use super::queue::{Item, MainQueue};
use super::{DeadLetter, Engine};
use crate::vm::message::Msg;

/// Where a stored item waits (what `voyager status` counts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemState {
    /// Ready to step.
    Queued,
    /// Waiting for a time (a delay, a defer, a timeout's backoff).
    Timer,
    /// A call waiting out its retry backoff.
    Retry,
    /// A native job of the item's was running (it runs again on resume).
    Job,
    /// A limited call waits for its turn on a resource (it takes its turn
    /// again on resume).
    Resource,
}

impl ItemState {
    /// An item on the timer heap: backing off before a retry, or waiting
    /// for a time.
    pub fn on_timer(node: &Node) -> ItemState {
        if matches!(node, Node::Retry(_)) {
            ItemState::Retry
        } else {
            ItemState::Timer
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ItemState::Queued => "queued",
            ItemState::Timer => "timer",
            ItemState::Retry => "retry",
            ItemState::Job => "job",
            ItemState::Resource => "resource",
        }
    }
}

/// What the engine reports. Calls between two commits are one transaction.
pub trait Store {
    /// Item `id` now stands as `node` (new, or what a step left of it),
    /// waiting in `state` until `due` (ms since the epoch; `None`: now).
    /// `prio` is the item's own priority (0 unless priorities are used),
    /// which it keeps across a restart.
    fn put_item(&mut self, id: u64, node: &Node, prio: i16, state: ItemState, due: Option<i64>);
    /// Item `id` is finished (done, taken into a topic, split, or dead).
    fn remove_item(&mut self, id: u64);
    fn dead_letter(&mut self, letter: &DeadLetter);
    /// A dead letter with this message was put back to run again (by
    /// `voyager serve`): the store forgets it (the oldest with that
    /// message), so it is not requeued twice.
    fn requeued(&mut self, _message: &Msg) {}
    /// A message was routed into a topic (at its end).
    fn topic_push(&mut self, topic: &str, message: &Msg);
    /// A topic's pass took everything it held.
    fn topic_clear(&mut self, topic: &str);
    /// Durable state: `key` now holds `value` (JSON text).
    fn put_state(&mut self, key: &str, value: &str);
    /// The count of unclaimed data messages so far.
    fn unclaimed(&mut self, total: u64);
    /// The count of failures `catch` handlers recovered so far (kept by
    /// the SQLite store, so a resumed run's summary counts them too).
    fn recovered(&mut self, _total: u64) {}
    /// A step ended (`steps` so far). Returns whether a commit is due by
    /// the store's policy (every step, or in groups): the engine then pushes
    /// the program's output out and calls [`Store::commit`], so that output
    /// of a committed step is never lost.
    fn step_end(&mut self, steps: u64) -> bool;
    /// Commits what was reported, now: before a native job starts (so a
    /// crash runs it again), before the engine waits, at the end. On disk
    /// when it returns.
    fn commit(&mut self);
    /// Commits a group of steps that [`Store::step_end`] said was due. A
    /// store may write it while the engine goes on (with `--sync step` it
    /// must not): the next commit waits for it, and a crash before it
    /// lands runs those steps again, as it would a moment earlier.
    fn commit_group(&mut self) {
        self.commit();
    }
    /// The run is finished (no work left): marked so, and committed.
    fn finished(&mut self);
    /// Drops what was reported since the last commit, as a crash would
    /// (an interrupted run: the action stopped mid-step must not end as a
    /// dead letter; its item runs again on resume).
    fn abandon(&mut self);
    /// The first error the store met (a full disk, a lost file): the run
    /// stops at the next step.
    fn failure(&self) -> Option<String>;
    /// A message enters from outside (the script's top level, a message
    /// enqueued, what a topic's pass gave back): the items reported until
    /// the next step are one group, and what their steps make joins it.
    fn group_start(&mut self) {}
    /// The group live item `id` belongs to (the id of the group's first
    /// item), if this store keeps groups.
    fn group_of(&self, _id: u64) -> Option<u64> {
        None
    }
    /// Item id `id` was handed out without an item (see
    /// [`Engine::reserve_item_id`]): a resumed run does not hand it out
    /// again.
    fn id_used(&mut self, _id: u64) {}
    /// Item `id` is about to be stepped: what is reported until the step's
    /// [`Store::step_end`] comes from it (an observer can follow an item's
    /// descendants). Stores that persist need not care.
    fn step_start(&mut self, _id: u64) {}
    /// The step begun last finished this many calls (their actions
    /// returned, or their jobs ended, without failing).
    fn calls_done(&mut self, _n: u64) {}
    /// A data message nobody claimed reached the top level (in the step
    /// that made it, or as a message entering from outside).
    fn data(&mut self, _value: &crate::vm::value::Value) {}
    /// What the last commit could not keep, if anything: a store shared
    /// by many workers refuses the work of items another worker took over
    /// (this one's lease on them was lost), and the engine drops them.
    fn lost(&mut self) -> Option<Lost> {
        None
    }
    /// A schedule's firing due at `due`, whose message is `message`: a
    /// store shared by workers claims it (moves the schedule's state key
    /// `key` forward) and enqueues its item, leased to this worker, in one
    /// transaction, so that each firing is enqueued exactly once across
    /// workers and crashes; with `overlap` (the schedule's unique key), not
    /// while an earlier firing's item is unfinished. The engine then
    /// enqueues `message`, whose item takes over that row, and calls
    /// [`Store::fired`]. A store that one process holds says
    /// [`Firing::Local`]: the engine enqueues it, and the last due time,
    /// kept in the same commit, is enough there.
    fn fire(
        &mut self,
        _key: &str,
        _due: i64,
        _message: &crate::vm::message::Message,
        _overlap: Option<&str>,
    ) -> Firing {
        Firing::Local
    }
    /// The firing [`Store::fire`] claimed has entered the engine.
    fn fired(&mut self) {}
    /// Whether [`Store::fire`] writes the schedules' state keys itself
    /// (then the engine does not report them: a commit of an older due
    /// time would move one back after another worker's claim).
    fn claims_firings(&self) -> bool {
        false
    }
}

/// What became of a schedule's firing (see [`Store::fire`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Firing {
    /// The store does not claim firings: the engine enqueues it.
    Local,
    /// Claimed, its item in the store: the engine enqueues its message.
    Fired,
    /// Another worker fired it.
    Elsewhere,
    /// Claimed, but an earlier firing's item is unfinished (`overlap skip`).
    Overlap,
    /// The store failed (it says why at the next step).
    Failed,
}

/// Items a commit refused (another worker owns them now) and durable
/// state as it stands without their writes (`None`: the key is unset).
#[derive(Default, Debug)]
pub struct Lost {
    pub items: Vec<u64>,
    pub state: Vec<(String, Option<String>)>,
}

/// What a store hands back to resume a run.
#[derive(Default)]
pub struct Resumed {
    /// Live items, oldest first, with their own priorities.
    pub items: Vec<Item>,
    /// Topic contents, in order.
    pub topics: Vec<(Rc<str>, Msg)>,
    pub next_id: u64,
    pub unclaimed: u64,
    pub recovered: u64,
}

/// `state_get` / `state_put`'s map: JSON text by key. With a store, the
/// keys changed since the last step are reported with the step.
#[derive(Default)]
pub struct DurableState {
    values: HashMap<String, Rc<str>>,
    /// Changed keys, when a store records them.
    changed: Vec<String>,
    pub recording: bool,
    /// Reads a key's current value from a store shared with other
    /// processes (a PostgreSQL store), in the step's transaction;
    /// `state_get` asks it instead of the values here.
    pub reader: Option<StateReader>,
}

/// See [`DurableState::reader`]: a key's value (None: no value), or why it
/// could not be read.
pub type StateReader = Box<dyn FnMut(&str) -> Result<Option<String>, String>>;

impl std::fmt::Debug for DurableState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableState")
            .field("values", &self.values)
            .field("changed", &self.changed)
            .field("shared", &self.reader.is_some())
            .finish()
    }
}

/// Shared between the engine and the `state_*` functions.
pub type SharedState = Rc<RefCell<DurableState>>;

impl DurableState {
    pub fn get(&self, key: &str) -> Option<Rc<str>> {
        self.values.get(key).cloned()
    }

    /// `state_get`: the value the store holds now when it is shared (and
    /// the step did not write the key itself), else the one here.
    pub fn read(&mut self, key: &str) -> Result<Option<Rc<str>>, String> {
        if self.changed.iter().any(|k| k == key) {
            return Ok(self.get(key));
        }
        let Some(reader) = self.reader.as_mut() else {
            return Ok(self.get(key));
        };
        let value = reader(key)?;
        self.restore(key.to_string(), value);
        Ok(self.get(key))
    }

    pub fn put(&mut self, key: &str, json: String) {
        self.values.insert(key.to_string(), Rc::from(json));
        if self.recording {
            self.changed.push(key.to_string());
        }
    }

    /// Loads a stored value (at start-up).
    pub fn load(&mut self, key: String, json: String) {
        self.values.insert(key, Rc::from(json));
    }

    /// Puts a key back as the store holds it (a write that was refused).
    pub fn restore(&mut self, key: String, json: Option<String>) {
        match json {
            Some(j) => self.load(key, j),
            None => {
                self.values.remove(&key);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn take_changed(&mut self) -> Vec<(String, Rc<str>)> {
        let mut keys = std::mem::take(&mut self.changed);
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter_map(|k| self.values.get(&k).cloned().map(|v| (k, v)))
            .collect()
    }
}

/// Nodes in an item from which it is written at commits only.
const LARGE: usize = 256;

/// The nodes in a tree, counted up to `limit`.
fn node_size(node: &Node, limit: usize) -> usize {
    let mut count = 0;
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        count += 1;
        if count >= limit {
            return count;
        }
        match n {
            Node::Seq(q) | Node::Conc(q) => {
                if q.len() >= limit {
                    return limit;
                }
                stack.extend(q.iter());
            }
            Node::Promise(p) => {
                count += p.collected.len();
                stack.extend(p.queue.iter());
            }
            Node::Void(inner) => stack.push(inner),
            Node::Timeout(t) => stack.push(&t.inner),
            // What a limited call returned, run while it holds its resource.
            Node::Hold(h) => stack.push(&h.inner),
            Node::Wrap(w) => {
                count += w.collected.len();
                stack.push(&w.inner);
                if let Some(f) = &w.failed {
                    stack.push(&f.node);
                }
            }
            _ => {}
        }
    }
    count
}

/// Parses durable state JSON text (written by this module's users).
pub fn state_json(text: &str) -> Result<Json, String> {
    super::serial::from_line(text).map_err(|e| e.to_string())
}

impl<Q: MainQueue> Engine<Q> {
    /// Reports every change from now on to `store`; with `report_queued`,
    /// the items already queued (a new run's top level) are reported first.
    pub fn set_store(&mut self, store: Box<dyn Store>, report_queued: bool) {
        self.state.borrow_mut().recording = true;
        self.store = Some(store);
        if report_queued {
            self.group_start();
            let items = self.main.drain();
            for item in items {
                self.store_put(item.id, &item.node, ItemState::Queued, None);
                self.main.push_back(item);
            }
            let Some(store) = self.store.as_deref_mut() else {
                return;
            };
            for (name, topic) in &self.topics {
                for m in &topic.queue {
                    store.topic_push(name, m);
                }
            }
            for letter in &self.dead {
                store.dead_letter(letter);
            }
        }
    }

    /// An item id no item will have: an id for something that entered and
    /// made no item (a submission of data alone), unique like an item's.
    pub fn reserve_item_id(&mut self) -> u64 {
        self.next_id += 1;
        if let Some(store) = self.store.as_deref_mut() {
            store.id_used(self.next_id);
        }
        self.next_id
    }

    /// Tells the store that a message enters from outside (see
    /// [`Store::group_start`]).
    pub(super) fn group_start(&mut self) {
        if let Some(store) = self.store.as_deref_mut() {
            store.group_start();
        }
    }

    pub fn store_mut(&mut self) -> Option<&mut (dyn Store + 'static)> {
        self.store.as_deref_mut()
    }

    /// Takes the store out (to wrap it in another); nothing is reported
    /// until [`Engine::set_store`] is called again.
    pub fn take_store(&mut self) -> Option<Box<dyn Store>> {
        self.store.take()
    }

    /// Puts a stored run's items and topic contents back (before running).
    pub fn resume(&mut self, resumed: Resumed) {
        self.next_id = self.next_id.max(resumed.next_id);
        self.stats.unclaimed_data = resumed.unclaimed;
        self.stats.recovered = resumed.recovered;
        self.reported_recovered = resumed.recovered;
        if resumed.items.iter().any(|item| item.prio != 0) {
            self.prioritize();
        }
        for mut item in resumed.items {
            self.retake_holds(&mut item.node);
            self.main.push_back(item);
        }
        for (topic, m) in resumed.topics {
            self.topic(&topic).queue.push_back(m);
        }
    }

    /// Steps an item with a store: what the step changed is reported.
    pub(super) fn step_stored(&mut self, item: Item) {
        let id = item.id;
        self.kept = false;
        if let Some(store) = self.store.as_deref_mut() {
            store.step_start(id);
        }
        self.vm.cut = false;
        let calls = self.stats.calls_done;
        self.step_item(item);
        let calls = self.stats.calls_done - calls;
        if calls > 0 {
            if let Some(store) = self.store.as_deref_mut() {
                store.calls_done(calls);
            }
        }
        let stopping = self
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed));
        if stopping && self.vm.cut {
            // Interrupted mid-step: the run stops and abandons this step.
            // What it gave back of a shared table stays with its item (the
            // store drops the step, and what it took went with it).
            self.keep_shared_holds();
            return;
        }
        self.report_step(id);
        if stopping {
            // The run stops: no job starts (a job the step made runs
            // where the item runs next).
            return;
        }
        if self.jobs.as_ref().is_some_and(|p| p.has_held()) {
            // The item holding the jobs is committed before they start.
            self.store_commit();
            if self.store.as_deref().is_some_and(|s| s.failure().is_some()) {
                // Not committed: the jobs must not start (the run stops at
                // the next step, and they run on resume).
                return;
            }
            if let Some(pool) = &mut self.jobs {
                pool.start_held();
            }
        }
    }

    /// A graceful stop (with a store): the results of native jobs that
    /// have finished, or finish by themselves while the others are ended,
    /// are stepped into their items and reported, so that the commit that
    /// follows keeps them; running commands are ended (their items run
    /// them again where they run next); no job starts.
    pub fn stop_keeping_results(&mut self) {
        let Some(pool) = &mut self.jobs else { return };
        let mut done = Vec::new();
        while let Some(d) = pool.next_done(None) {
            done.push(d);
        }
        let (ended, late) = pool.shutdown_keeping();
        done.extend(late);
        self.cancelled_jobs.extend(ended);
        self.clock.set_jobs_running(false);
        for (id, outcome) in done {
            if !self.cancelled_jobs.remove(&id) {
                self.finished_jobs.insert(id, outcome);
                if let Some(item) = self.parked.wake_owner(id) {
                    self.main.push_back(item);
                }
            }
        }
        // Items whose job results are in (woken now or before) take them.
        let mut woken = Vec::new();
        for item in self.main.drain() {
            let mut jobs = Vec::new();
            super::run::running_jobs(&item.node, &mut jobs);
            if jobs.iter().any(|j| self.finished_jobs.contains_key(j)) {
                woken.push(item);
            } else {
                self.main.push_back(item);
            }
        }
        let interrupt = self.vm.interrupt.take();
        for item in woken {
            self.step_stored(item);
        }
        self.vm.interrupt = interrupt;
    }

    /// Reports what is not reported as it happens: the end of item `id`
    /// (0: none) unless the step put it back, state written, unclaimed
    /// data; then the step's end.
    pub(super) fn report_step(&mut self, id: u64) {
        let changed = {
            let mut state = self.state.borrow_mut();
            if state.changed.is_empty() {
                Vec::new()
            } else {
                state.take_changed()
            }
        };
        let Some(store) = self.store.as_deref_mut() else {
            return;
        };
        if !self.kept && id != 0 {
            if !self.deferred.is_empty() {
                self.deferred.remove(&id);
            }
            store.remove_item(id);
        }
        for (k, v) in changed {
            store.put_state(&k, &v);
        }
        if self.stats.unclaimed_data != self.reported_unclaimed {
            self.reported_unclaimed = self.stats.unclaimed_data;
            store.unclaimed(self.stats.unclaimed_data);
        }
        if self.stats.recovered != self.reported_recovered {
            self.reported_recovered = self.stats.recovered;
            store.recovered(self.stats.recovered);
        }
        if let (Some(shared), Some(table)) = (self.shared_limits.as_deref_mut(), &self.resources) {
            let released = table.borrow_mut().take_shared_released();
            if !released.is_empty() {
                shared.release(&released);
            }
        }
        if store.step_end(self.stats.steps) {
            self.store_commit_with(|store| store.commit_group());
        }
    }

    /// Reports an item: new, or put back by the step of item `id`. A
    /// large item put back is written at the next commit, not after each
    /// step: a `seq` holding a `conc` of 20,000 calls is stepped 20,000
    /// times, and writing it whole each time would take quadratic time.
    #[inline]
    pub(super) fn store_put(&mut self, id: u64, node: &Node, state: ItemState, due: Option<i64>) {
        let Some(store) = self.store.as_deref_mut() else {
            return;
        };
        if id == self.stepping {
            self.kept = true;
            if node_size(node, LARGE) >= LARGE {
                self.deferred.insert(id);
                return;
            }
            if !self.deferred.is_empty() {
                self.deferred.remove(&id);
            }
        }
        // What is left of the stepped item keeps its own priority; what a
        // step makes takes the priority it stepped at.
        let prio = if id == self.stepping {
            self.rest_priority
        } else {
            self.base_priority
        };
        store.put_item(id, node, prio, state, due);
    }

    /// Writes the deferred large items where they are now.
    fn put_deferred(&mut self) {
        let Some(store) = self.store.as_deref_mut() else {
            return;
        };
        let mut deferred = std::mem::take(&mut self.deferred);
        for (id, prio, node) in self.main.peek(usize::MAX) {
            if deferred.remove(&id) {
                store.put_item(id, node, prio, ItemState::Queued, None);
            }
        }
        for (at, item) in self.timers.peek() {
            if deferred.remove(&item.id) {
                let state = ItemState::on_timer(&item.node);
                store.put_item(item.id, &item.node, item.prio, state, Some(at));
            }
        }
        for item in self.parked.sorted() {
            if deferred.remove(&item.id) {
                let state = self.parked.state_of(item.id);
                store.put_item(item.id, &item.node, item.prio, state, None);
            }
        }
        for item in &self.held {
            if deferred.remove(&item.id) {
                store.put_item(item.id, &item.node, item.prio, ItemState::Queued, None);
            }
        }
        // (Any left is being stepped: it is reported when its step ends.)
        self.deferred = deferred;
    }

    /// Commits what the store holds, if there is one: deferred items
    /// written, the program's output out first.
    pub(super) fn store_commit(&mut self) {
        self.store_commit_with(|store| store.commit());
    }

    fn store_commit_with(&mut self, commit: impl FnOnce(&mut dyn Store)) {
        if self.store.is_none() {
            return;
        }
        if !self.deferred.is_empty() {
            self.put_deferred();
        }
        self.vm.host.flush();
        let lost = match self.store.as_deref_mut() {
            Some(store) => {
                commit(store);
                store.lost()
            }
            None => None,
        };
        if let Some(lost) = lost {
            self.drop_lost(lost);
        }
    }

    /// Drops items a commit refused (another worker took them over), with
    /// their jobs, and puts back the durable state their steps wrote.
    fn drop_lost(&mut self, lost: Lost) {
        let ids: std::collections::HashSet<u64> = lost.items.into_iter().collect();
        if !ids.is_empty() {
            for item in self.main.drain() {
                if !ids.contains(&item.id) {
                    self.main.push_back(item);
                }
            }
            for (at, item) in self.timers.drain() {
                if !ids.contains(&item.id) {
                    self.timers.push(at, item);
                }
            }
            self.held.retain(|item| !ids.contains(&item.id));
            for id in &ids {
                self.deferred.remove(id);
                let Some(item) = self.parked.remove(*id) else {
                    continue;
                };
                let mut jobs = Vec::new();
                super::run::running_jobs(&item.node, &mut jobs);
                for job in jobs {
                    self.finished_jobs.remove(&job);
                    self.parked.disown(job);
                    if let Some(pool) = &mut self.jobs {
                        pool.cancel(job);
                        self.cancelled_jobs.insert(job);
                    }
                }
            }
            let running = self.jobs.as_ref().is_some_and(|p| p.in_flight() > 0);
            self.clock.set_jobs_running(running);
        }
        // The shared holds those items held stay with them: the worker that
        // took them over holds them on.
        self.keep_shared_holds();
        let mut state = self.state.borrow_mut();
        for (key, json) in lost.state {
            state.restore(key, json);
        }
    }

    /// Shared holds given back since the last step's end are not given
    /// back after all: their items (dropped, or stored as they were) keep
    /// them.
    fn keep_shared_holds(&self) {
        if let Some(table) = &self.resources {
            table.borrow_mut().take_shared_released();
        }
    }

    /// Reports the changes the top level made (state written, unclaimed
    /// data) and commits them with the items it enqueued.
    pub fn commit_top_level(&mut self) {
        self.report_step(0);
        self.store_commit();
    }
}
