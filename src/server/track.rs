//! What `voyager serve` knows of the work it was given: each submission
//! (a message from a request, or one the script or a resumed store put on
//! the queue) with the engine items it became, their states, the data it
//! produced, and its dead letters. An [`Observer`] store fills it from the
//! engine's reports and forwards them to the durable store, if any.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::rc::Rc;

use serde_json::{json, Value as Json};

use crate::engine::node::Node;
use crate::engine::serial;
use crate::engine::store::{ItemState, Store};
use crate::engine::DeadLetter;
use crate::vm::message::Msg;
use crate::vm::value::Value;

/// Data values kept per submission, and their JSON's bytes in all (the
/// rest are counted, not kept).
const MAX_RESULTS: usize = 1000;
const MAX_RESULT_BYTES: usize = 1 << 20;

/// Where a submission came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// `POST /v1/messages`.
    Message,
    /// `POST /v1/call/{action}`.
    Call,
    /// A requeued dead letter.
    Requeue,
    /// The script's top level, a resumed store, or a pass.
    Engine,
}

impl Origin {
    fn name(self) -> &'static str {
        match self {
            Origin::Message => "message",
            Origin::Call => "call",
            Origin::Requeue => "requeue",
            Origin::Engine => "engine",
        }
    }
}

/// One submission and what became of it.
pub struct Sub {
    pub id: u64,
    pub origin: Origin,
    /// The message as submitted (for one taken from the engine: as first seen).
    pub message: Option<Msg>,
    pub created: i64,
    pub finished: Option<i64>,
    /// Its live engine items: state and the tree as last reported.
    live: BTreeMap<u64, (ItemState, Msg)>,
    /// Parts an interest took into a topic.
    pub in_topics: u64,
    pub attempts: u32,
    /// The last error: code and message.
    pub error: Option<(String, String)>,
    pub dead: bool,
    /// Calls of its that finished, and that failed (dead letters).
    pub calls_done: u64,
    pub calls_dead: u64,
    /// Cancelled by `POST /v1/items/{id}/cancel`.
    pub cancelled: bool,
    pub results: Vec<Json>,
    result_bytes: usize,
    pub more_results: u64,
}

impl Sub {
    /// `queued`, `timer`, `retry`, `job`, `resource` while it has live items; then
    /// `dead` (a part failed), `topic` (handed to a topic's pass) or `done`.
    pub fn state(&self) -> &'static str {
        if self.cancelled {
            return "cancelled";
        }
        if !self.live.is_empty() {
            let mut best = ItemState::Timer;
            for (state, _) in self.live.values() {
                best = match (best, *state) {
                    (_, ItemState::Job) | (ItemState::Job, _) => ItemState::Job,
                    (_, ItemState::Queued) | (ItemState::Queued, _) => ItemState::Queued,
                    (_, ItemState::Retry) | (ItemState::Retry, _) => ItemState::Retry,
                    (_, ItemState::Resource) | (ItemState::Resource, _) => ItemState::Resource,
                    _ => ItemState::Timer,
                };
            }
            return best.name();
        }
        if self.dead {
            "dead"
        } else if self.in_topics > 0 {
            "topic"
        } else {
            "done"
        }
    }

    pub fn is_finished(&self) -> bool {
        self.finished.is_some()
    }

    /// The summary a list shows.
    pub fn summary(&self) -> Json {
        json!({
            "id": self.id,
            "state": self.state(),
            "origin": self.origin.name(),
            "created": self.created,
            "finished": self.finished,
            "message": self.message.as_ref().map(|m| short(&m.display())),
            "attempts": self.attempts,
            "error": self.error_json(),
        })
    }

    fn error_json(&self) -> Json {
        match &self.error {
            Some((code, message)) => json!({"code": code, "message": message}),
            None => Json::Null,
        }
    }

    /// Its calls as a group: how many finished, failed (dead), and, of
    /// its live items, run a native job, wait for a resource, or wait to
    /// step (queued, or for a timer or a retry's backoff).
    pub fn calls(&self) -> Json {
        let (mut running, mut resource, mut waiting) = (0, 0, 0);
        for (state, _) in self.live.values() {
            match state {
                ItemState::Job => running += 1,
                ItemState::Resource => resource += 1,
                _ => waiting += 1,
            }
        }
        json!({
            "done": self.calls_done,
            "running": running,
            "resource": resource,
            "waiting": waiting,
            "dead": self.calls_dead,
        })
    }

    /// Everything known of it.
    pub fn detail(&self) -> Json {
        let live: Vec<Json> = self
            .live
            .iter()
            .map(|(id, (state, tree))| {
                json!({"item": id, "state": state.name(), "tree": tree_json(tree)})
            })
            .collect();
        // The summary's fields, with the whole message rather than its
        // first 200 bytes.
        let mut j = self.summary();
        j["message"] = json!(self.message.as_ref().map(|m| m.display()));
        j["tree"] = json!(self.message.as_ref().map(|m| tree_json(m)));
        j["live"] = json!(live);
        j["calls"] = self.calls();
        j["in_topics"] = json!(self.in_topics);
        j["result"] = json!(self.results);
        j["more_results"] = json!(self.more_results);
        j
    }
}

/// Cuts a long text for lists.
fn short(text: &str) -> String {
    const MAX: usize = 200;
    if text.len() <= MAX {
        return text.to_string();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A message tree for the dashboard's picture: `{op, label, children}`.
pub fn tree_json(m: &crate::vm::message::Message) -> Json {
    use crate::vm::message::Message;
    fn walk(m: &Message, depth: usize) -> Json {
        if depth > 40 {
            return json!({"op": "…", "label": "(deeper)"});
        }
        let list = |items: &[Msg]| -> Vec<Json> {
            items.iter().take(200).map(|c| walk(c, depth + 1)).collect()
        };
        match m {
            Message::Seq(items) => json!({"op": "seq", "children": list(items)}),
            Message::Conc(items) => json!({"op": "conc", "children": list(items)}),
            Message::Promise { items, callback } => json!({
                "op": "promise",
                "label": short(&callback.to_value().repr()),
                "children": list(items),
            }),
            Message::Void(inner) => json!({"op": "void", "children": [walk(inner, depth + 1)]}),
            Message::Timeout(ms, inner) => {
                let mut d = String::new();
                crate::vm::value::write_duration(&mut d, *ms);
                json!({"op": "timeout", "label": d, "children": [walk(inner, depth + 1)]})
            }
            Message::Wrap(wrap, inner) => json!({
                "op": wrap.name(),
                "label": short(&wrap.to_value().repr()),
                "children": [walk(inner, depth + 1)],
            }),
            other => json!({"op": other.op(), "label": short(&other.display())}),
        }
    }
    walk(m, 0)
}

/// A dead letter as the API shows it.
pub struct Letter {
    pub id: u64,
    /// The submission it belonged to.
    pub sub: Option<u64>,
    pub message: Msg,
    pub code: String,
    pub error: String,
    pub attempts: u32,
    pub at: i64,
}

impl Letter {
    pub fn to_json(&self) -> Json {
        json!({
            "id": self.id,
            "item": self.sub,
            "message": short(&self.message.display()),
            "code": self.code,
            "error": self.error,
            "attempts": self.attempts,
            "at": self.at,
        })
    }
}

/// The upper bounds (seconds) of the job-wait histogram's buckets.
pub const JOB_BUCKETS: [f64; 10] = [0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 60.0, 300.0];

/// How long items waited on their native jobs: one observation per wait
/// (from the step that left an item waiting for jobs to the step that
/// took it on).
#[derive(Default)]
pub struct JobWaits {
    /// Per bucket of [`JOB_BUCKETS`] (not cumulative), then the rest.
    pub counts: [u64; JOB_BUCKETS.len() + 1],
    pub sum_ms: i64,
    /// Items waiting now, since when.
    since: HashMap<u64, i64>,
}

impl JobWaits {
    fn observe(&mut self, ms: i64) {
        let secs = ms as f64 / 1000.0;
        let i = JOB_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(JOB_BUCKETS.len());
        self.counts[i] += 1;
        self.sum_ms += ms.max(0);
    }

    /// Item `id` is now in `state` (`None`: gone).
    fn note(&mut self, id: u64, state: Option<ItemState>, now: i64) {
        let waiting = state == Some(ItemState::Job);
        match (waiting, self.since.get(&id).copied()) {
            (true, None) => {
                self.since.insert(id, now);
            }
            (false, Some(at)) => {
                self.since.remove(&id);
                self.observe(now - at);
            }
            _ => {}
        }
    }
}

/// Counts for `/metrics`.
#[derive(Default)]
pub struct Counters {
    pub submitted: u64,
    pub finished: u64,
    pub dead_letters: u64,
    pub requeued: u64,
    pub cancelled: u64,
    pub job_waits: JobWaits,
}

/// Who is told when a submission finishes (`POST /v1/call`).
pub type Waiter = Box<dyn FnOnce(&Sub)>;

/// The key of the submission being entered, until its first engine item
/// gives it its id (item ids start at 1).
const ENTERING: u64 = 0;

/// Every submission, by id; finished ones are forgotten oldest first past
/// `keep`. A submission's id is its first engine item's id (with a store,
/// also its group's), so it is the same after a restart, and ids never
/// collide with those handed out before one.
pub struct Tracker {
    pub subs: BTreeMap<u64, Sub>,
    /// Engine item to submission.
    owner: HashMap<u64, u64>,
    /// The submission being stepped or entered, if any.
    current: Option<u64>,
    /// The highest submission id seen.
    max_id: u64,
    finished_order: VecDeque<u64>,
    keep: usize,
    pub letters: BTreeMap<u64, Letter>,
    next_letter: u64,
    /// Dead letters are dropped oldest first past `keep`: the newest id
    /// dropped.
    letters_dropped: u64,
    waiters: HashMap<u64, Vec<Waiter>>,
    /// With a PostgreSQL store: items this server enqueued there (by row
    /// id) that its engine has not taken (yet), and where each came from;
    /// the newest `keep` (see [`Tracker::expect`]).
    pub expected: BTreeMap<u64, Origin>,
    /// The newest id dropped from `expected` for room.
    expected_dropped: u64,
    pub counters: Counters,
    now: fn() -> i64,
}

pub type Shared = Rc<RefCell<Tracker>>;

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Tracker {
    pub fn new(keep: usize) -> Tracker {
        Tracker {
            subs: BTreeMap::new(),
            owner: HashMap::new(),
            current: None,
            max_id: 0,
            finished_order: VecDeque::new(),
            keep,
            letters: BTreeMap::new(),
            next_letter: 0,
            letters_dropped: 0,
            waiters: HashMap::new(),
            expected: BTreeMap::new(),
            expected_dropped: 0,
            counters: Counters::default(),
            now: now_ms,
        }
    }

    /// A new submission; what the engine reports until [`Tracker::end_entry`]
    /// belongs to it.
    pub fn begin(&mut self, origin: Origin, message: Option<Msg>) {
        self.insert(ENTERING, origin, message);
        self.current = Some(ENTERING);
    }

    fn insert(&mut self, id: u64, origin: Origin, message: Option<Msg>) {
        self.max_id = self.max_id.max(id);
        self.subs.insert(
            id,
            Sub {
                id,
                origin,
                message,
                created: (self.now)(),
                finished: None,
                live: BTreeMap::new(),
                in_topics: 0,
                attempts: 0,
                error: None,
                dead: false,
                calls_done: 0,
                calls_dead: 0,
                cancelled: false,
                results: Vec::new(),
                result_bytes: 0,
                more_results: 0,
            },
        );
        self.counters.submitted += 1;
    }

    /// The message of the submission begun last has entered the engine:
    /// returns its id, its first item's, or `fresh()` if it made none. If
    /// nothing of it is left to run (it was data, noop, or all taken by
    /// interests), it is finished.
    pub fn end_entry(&mut self, fresh: impl FnOnce() -> u64) -> u64 {
        let id = match self.current.take() {
            Some(id) if id != ENTERING => id,
            _ => {
                let id = fresh();
                self.rekey(id);
                id
            }
        };
        self.finish_if_done(id);
        id
    }

    /// The submission being entered takes its id.
    fn rekey(&mut self, id: u64) {
        if let Some(mut sub) = self.subs.remove(&ENTERING) {
            sub.id = id;
            self.subs.insert(id, sub);
            self.max_id = self.max_id.max(id);
        }
        for letter in self.letters.values_mut() {
            if letter.sub == Some(ENTERING) {
                letter.sub = Some(id);
            }
        }
        if self.current == Some(ENTERING) {
            self.current = Some(id);
        }
    }

    /// Runs `waiter` when submission `id` finishes (at once if it has).
    pub fn on_finish(&mut self, id: u64, waiter: Waiter) {
        match self.subs.get(&id) {
            Some(sub) if sub.is_finished() => waiter(sub),
            Some(_) => self.waiters.entry(id).or_default().push(waiter),
            None if self.expected.contains_key(&id) => {
                self.waiters.entry(id).or_default().push(waiter)
            }
            None => {}
        }
    }

    fn finish_if_done(&mut self, id: u64) {
        let Some(sub) = self.subs.get_mut(&id) else {
            return;
        };
        if !sub.live.is_empty() || sub.finished.is_some() {
            return;
        }
        sub.finished = Some((self.now)());
        self.counters.finished += 1;
        if let Some(waiters) = self.waiters.remove(&id) {
            for w in waiters {
                w(sub);
            }
        }
        self.finished_order.push_back(id);
        while self.finished_order.len() > self.keep {
            if let Some(old) = self.finished_order.pop_front() {
                self.subs.remove(&old);
            }
        }
    }

    /// The submission an engine item belongs to. The first item of the
    /// submission being entered gives it its id; an item never seen before
    /// outside one (the script's top level, a pass's output, an item of a
    /// resumed store) joins its `group` as the store knows it (asked only
    /// then), or becomes a submission of its own.
    fn owner_of(
        &mut self,
        item: u64,
        node: Option<&Node>,
        group: impl FnOnce() -> Option<u64>,
    ) -> u64 {
        if let Some(&sub) = self.owner.get(&item) {
            return sub;
        }
        let sub = match self.current {
            Some(ENTERING) => {
                self.rekey(item);
                item
            }
            Some(sub) => sub,
            None => {
                let sub = group().unwrap_or(item);
                if !self.subs.contains_key(&sub) {
                    let message = node.map(|n| Rc::new(n.to_message()));
                    let origin = self.expected.remove(&sub).unwrap_or(Origin::Engine);
                    self.insert(sub, origin, message);
                    if origin != Origin::Engine {
                        // Counted when it was enqueued.
                        self.counters.submitted -= 1;
                    }
                }
                sub
            }
        };
        self.owner.insert(item, sub);
        sub
    }

    /// Item `item` of a resumed store, in `group` if the store keeps
    /// groups, waits in `state`.
    pub fn resumed(&mut self, item: u64, group: Option<u64>, state: ItemState, message: Msg) {
        let sub = self.owner_of(item, None, || group);
        if let Some(s) = self.subs.get_mut(&sub) {
            if s.message.is_none() {
                s.message = Some(message.clone());
            }
            s.live.insert(item, (state, message));
        }
    }

    /// Whether submission `id` may have been handed out, and is forgotten
    /// (finished past `keep`, or before a restart).
    pub fn forgotten(&self, id: u64) -> bool {
        id >= 1 && id <= self.max_id.max(self.expected_dropped) && !self.subs.contains_key(&id)
    }

    /// An item enqueued into PostgreSQL by this server (row `id`): counted
    /// as submitted, and known until its engine takes it. Past `keep` such
    /// items (run by other workers, say) the oldest are forgotten.
    pub fn expect(&mut self, id: u64, origin: Origin) {
        self.expected.insert(id, origin);
        self.counters.submitted += 1;
        while self.expected.len() > self.keep {
            if let Some((old, _)) = self.expected.pop_first() {
                self.expected_dropped = self.expected_dropped.max(old);
            }
        }
    }

    /// Whether dead letter `id` was dropped for room (not requeued: a
    /// requeued one is simply gone, and says not found).
    pub fn letter_forgotten(&self, id: u64) -> bool {
        id >= 1 && id <= self.letters_dropped
    }

    /// The engine items submission `id` is now, marked cancelled (the
    /// engine then reports them removed, which finishes it). `None` if it
    /// is unknown or finished.
    pub fn cancel(&mut self, id: u64) -> Option<Vec<u64>> {
        let sub = self.subs.get_mut(&id)?;
        if sub.finished.is_some() {
            return None;
        }
        sub.cancelled = true;
        self.counters.cancelled += 1;
        Some(sub.live.keys().copied().collect())
    }

    /// Finishes a cancelled submission whose items are all gone.
    pub fn settle(&mut self, id: u64) {
        self.finish_if_done(id);
    }

    /// Requeue: the letter leaves the list; its message is what to enqueue.
    pub fn take_letter(&mut self, id: u64) -> Option<Letter> {
        self.letters.remove(&id)
    }
}

/// The engine's store in `voyager serve`: tracks, then forwards.
pub struct Observer {
    pub tracker: Shared,
    pub inner: Option<Box<dyn Store>>,
}

impl Store for Observer {
    fn put_item(&mut self, id: u64, node: &Node, prio: i16, state: ItemState, due: Option<i64>) {
        // The store first: a new item's group is what it says once it has
        // the item.
        if let Some(inner) = &mut self.inner {
            inner.put_item(id, node, prio, state, due);
        }
        {
            let inner = &self.inner;
            let mut t = self.tracker.borrow_mut();
            let sub = t.owner_of(id, Some(node), || inner.as_ref()?.group_of(id));
            if let Some(s) = t.subs.get_mut(&sub) {
                if let Node::Retry(r) = node {
                    s.attempts = s.attempts.max(r.attempts);
                }
                s.live.insert(id, (state, Rc::new(node.to_message())));
            }
            let now = (t.now)();
            t.counters.job_waits.note(id, Some(state), now);
        }
    }

    fn remove_item(&mut self, id: u64) {
        {
            let mut t = self.tracker.borrow_mut();
            let now = (t.now)();
            t.counters.job_waits.note(id, None, now);
            if let Some(sub) = t.owner.remove(&id) {
                if let Some(s) = t.subs.get_mut(&sub) {
                    s.live.remove(&id);
                }
                if t.current != Some(sub) {
                    t.finish_if_done(sub);
                }
            }
        }
        if let Some(inner) = &mut self.inner {
            inner.remove_item(id);
        }
    }

    fn dead_letter(&mut self, letter: &DeadLetter) {
        {
            let mut t = self.tracker.borrow_mut();
            let sub = t.current;
            t.next_letter += 1;
            let id = t.next_letter;
            let at = (t.now)();
            if let Some(s) = sub.and_then(|s| t.subs.get_mut(&s)) {
                s.dead = true;
                s.calls_dead += 1;
                s.attempts = s.attempts.max(letter.attempts);
                s.error = Some((letter.error.code.to_string(), letter.error.message.clone()));
            }
            t.letters.insert(
                id,
                Letter {
                    id,
                    sub,
                    message: letter.message.clone(),
                    code: letter.error.code.to_string(),
                    error: letter.error.message.clone(),
                    attempts: letter.attempts,
                    at,
                },
            );
            t.counters.dead_letters += 1;
            while t.letters.len() > t.keep {
                if let Some((old, _)) = t.letters.pop_first() {
                    t.letters_dropped = t.letters_dropped.max(old);
                }
            }
        }
        if let Some(inner) = &mut self.inner {
            inner.dead_letter(letter);
        }
    }

    fn requeued(&mut self, message: &Msg) {
        if let Some(inner) = &mut self.inner {
            inner.requeued(message);
        }
    }

    fn topic_push(&mut self, topic: &str, message: &Msg) {
        {
            let mut t = self.tracker.borrow_mut();
            if let Some(s) = t.current.and_then(|s| t.subs.get_mut(&s)) {
                s.in_topics += 1;
            }
        }
        if let Some(inner) = &mut self.inner {
            inner.topic_push(topic, message);
        }
    }

    fn topic_clear(&mut self, topic: &str) {
        if let Some(inner) = &mut self.inner {
            inner.topic_clear(topic);
        }
    }

    fn put_state(&mut self, key: &str, value: &str) {
        if let Some(inner) = &mut self.inner {
            inner.put_state(key, value);
        }
    }

    fn unclaimed(&mut self, total: u64) {
        if let Some(inner) = &mut self.inner {
            inner.unclaimed(total);
        }
    }

    fn group_start(&mut self) {
        if let Some(inner) = &mut self.inner {
            inner.group_start();
        }
    }

    fn step_start(&mut self, id: u64) {
        {
            let inner = &self.inner;
            let mut t = self.tracker.borrow_mut();
            let sub = t.owner_of(id, None, || inner.as_ref()?.group_of(id));
            t.current = Some(sub);
        }
        if let Some(inner) = &mut self.inner {
            inner.step_start(id);
        }
    }

    fn calls_done(&mut self, n: u64) {
        {
            let mut t = self.tracker.borrow_mut();
            if let Some(s) = t.current.and_then(|s| t.subs.get_mut(&s)) {
                s.calls_done += n;
            }
        }
        if let Some(inner) = &mut self.inner {
            inner.calls_done(n);
        }
    }

    fn data(&mut self, value: &Value) {
        let mut t = self.tracker.borrow_mut();
        if let Some(s) = t.current.and_then(|s| t.subs.get_mut(&s)) {
            if s.results.len() < MAX_RESULTS && s.result_bytes < MAX_RESULT_BYTES {
                let j = serial::value_to_json(value)
                    .unwrap_or_else(|_| Json::String(value.repr().to_string()));
                let bytes = j.to_string().len();
                if s.result_bytes + bytes <= MAX_RESULT_BYTES {
                    s.result_bytes += bytes;
                    s.results.push(j);
                    return;
                }
                s.result_bytes = MAX_RESULT_BYTES;
            }
            s.more_results += 1;
        }
    }

    fn step_end(&mut self, steps: u64) -> bool {
        {
            let mut t = self.tracker.borrow_mut();
            if let Some(sub) = t.current.take() {
                t.finish_if_done(sub);
            }
        }
        match &mut self.inner {
            Some(inner) => inner.step_end(steps),
            None => false,
        }
    }

    fn commit(&mut self) {
        if let Some(inner) = &mut self.inner {
            inner.commit();
        }
    }

    fn finished(&mut self) {
        if let Some(inner) = &mut self.inner {
            inner.finished();
        }
    }

    fn abandon(&mut self) {
        if let Some(inner) = &mut self.inner {
            inner.abandon();
        }
    }

    fn failure(&self) -> Option<String> {
        self.inner.as_ref().and_then(|i| i.failure())
    }
}
