//! The message engine: a main queue of items, a timer heap, topic
//! queues with their passes, retries with backoff, and dead letters.
//!
//! The engine knows messages and compiled code, never syntax.
//!
//! This file holds the engine's state and its knobs; the work is split by
//! concern: `route` (messages entering, interests taking them into
//! topics), `run` (the loop choosing what to do next, jobs and timers
//! collected), `step` (one item stepped, its outcome put in place),
//! `calls` (actions, native jobs, timeouts, retries) and `topics` (passes
//! over a topic's batch).

pub mod clock;
pub mod jobs;
pub mod node;
mod parked;
pub mod queue;
pub mod serial;
pub mod snapshot;
pub mod store;

mod calls;
mod guard;
mod resources;
pub use resources::{SharedLimits, SharedTurn, SHARED_RETRY_MS};
mod route;
mod run;
pub mod schedules;
mod step;
mod topics;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::bytecode::program::{FilterDef, PassDef};
use crate::vm::error::RuntimeError;
use crate::vm::message::Msg;
use crate::vm::value::{Closure, Value};
use crate::vm::Vm;
use clock::Clock;
use node::Node;
use queue::{MainQueue, RingQueue, Timers};

/// Knobs of a run: retries and backoff, the batch size, and limits on steps,
/// idle pass rounds and jobs in flight.
#[derive(Clone, Debug)]
pub struct Config {
    /// Attempts in all for a call that fails retryably.
    pub max_attempts: u32,
    /// The first backoff wait; it doubles each attempt, capped at `max_backoff`.
    pub backoff: i64,
    pub max_backoff: i64,
    /// A topic's pass runs as soon as it holds this many messages.
    pub batch: usize,
    /// Stop after this many steps (`None`: no limit).
    pub max_steps: Option<u64>,
    /// Rounds the passes may hand everything back as `further`, while
    /// nothing else can make progress (no item ready, no job running, no
    /// timer pending), before what the topics hold is dead-lettered.
    pub max_idle_pass_rounds: u32,
    pub trace: bool,
    /// Most native jobs (commands, file work) in flight at once.
    pub jobs: usize,
    /// Bounds on what jobs read and how long requests wait.
    pub job_limits: jobs::Limits,
}

/// Native jobs in flight at once by default. Jobs mostly wait (on a
/// process, a disk, a server), not compute, so the CPU count would make a
/// fan-out of a few commands wait in line; 64 runs typical fan-outs at
/// once, and a thread exists only while its job runs.
pub const DEFAULT_JOBS: usize = 64;

impl Default for Config {
    fn default() -> Config {
        Config {
            max_attempts: 5,
            backoff: 100,
            max_backoff: 30_000,
            batch: 1024,
            max_steps: None,
            max_idle_pass_rounds: 100,
            trace: false,
            jobs: DEFAULT_JOBS,
            job_limits: jobs::Limits::default(),
        }
    }
}

/// A message the engine gave up on, with why.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub message: Msg,
    pub error: RuntimeError,
    pub attempts: u32,
}

/// What a run did.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub steps: u64,
    /// Steps by the kind of item stepped, in [`node::KINDS`] order.
    pub steps_by_kind: [u64; node::KINDS.len()],
    pub enqueued: u64,
    pub retries: u64,
    pub dead_letters: u64,
    /// Calls whose action returned (or whose job ended) without failing.
    pub calls_done: u64,
    /// Failures a `catch` handler took instead of a dead letter.
    pub recovered: u64,
    pub unclaimed_data: u64,
    pub peak_queue: usize,
    pub topic_in: IndexMap<Rc<str>, u64>,
    pub pass_runs: IndexMap<Rc<str>, (u64, std::time::Duration)>,
    /// Pass runs plus the messages they returned: work that counts toward
    /// `--max-steps` beside the steps, so runaway passes stop too.
    pub pass_work: u64,
    /// Calls an interest would have taken that ran without being routed,
    /// because they were nested in another message (interests see only
    /// top-level messages): by topic, with the first such call shown.
    pub unrouted: IndexMap<Rc<str>, (u64, String)>,
}

impl Stats {
    /// What counts toward `--max-steps`: steps, pass runs and the messages
    /// passes returned.
    pub fn work(&self) -> u64 {
        self.steps + self.pass_work
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// No work left.
    Idle,
    /// `--max-steps` was reached; this many items were still waiting.
    StepLimit { unfinished: usize },
    /// The interrupt flag was set (Ctrl-C); the work left stays queued.
    Interrupted,
    /// The store failed (see [`store::Store::failure`]); what it committed
    /// last stays.
    StoreFailed(String),
}

/// The outcome of stepping a node once.
enum Outcome {
    /// The node was stepped: `out` are new messages (lifted data, results),
    /// in order before `rest`, what remains of the node.
    Stepped { out: Vec<Node>, rest: Option<Node> },
    /// Nothing in the node can run before the time given.
    Blocked(Node, Wait),
    /// A fatal error; the node is as it was before the step. The count is
    /// the failing call's attempts.
    Failed(Node, RuntimeError, u32),
}

struct Topic {
    queue: VecDeque<Msg>,
    pass: Option<Rc<crate::bytecode::chunk::FnProto>>,
}

/// Where progress snapshots go.
pub type ProgressSink = Box<dyn FnMut(&Progress)>;

/// Where `--trace` lines go.
pub type TraceSink = Box<dyn FnMut(&str)>;

/// Waits for a timer in the engine's stead (`voyager serve`: until the time
/// given, or until a request comes, whichever is first). It may return
/// early; the engine then finds the timer not yet due and goes on.
pub type WaitHook = Box<dyn FnMut(&Clock, i64)>;

/// The engine, over a main queue `Q` (the in-memory ring by default; the
/// queue is a type parameter, not a trait object, so that pushing and
/// popping inline on the hot path).
pub struct Engine<Q: MainQueue = RingQueue> {
    pub vm: Vm,
    pub config: Config,
    pub clock: Clock,
    main: Q,
    timers: Timers,
    filters: Vec<FilterDef>,
    /// Each filter's predicate, as a callable.
    predicates: Vec<Value>,
    /// Filters by (node kind, action id or `u32::MAX`).
    filter_index: std::collections::HashMap<(usize, u32), Rc<[usize]>>,
    topics: IndexMap<Rc<str>, Topic>,
    dead: Vec<DeadLetter>,
    pub stats: Stats,
    next_id: u64,
    /// Trace lines go here (stderr for the CLI).
    pub trace_sink: Option<TraceSink>,
    /// Set from outside (Ctrl-C in the REPL) to stop a run between steps.
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Called about ten times a second while running (`--progress`).
    pub progress: Option<ProgressSink>,
    /// Waits for timers instead of the clock (see [`WaitHook`]).
    pub wait_hook: Option<WaitHook>,
    last_progress: Option<std::time::Instant>,
    /// The worker pool for native actions, started by the first job.
    jobs: Option<jobs::JobPool>,
    finished_jobs: std::collections::HashMap<u64, jobs::JobOutcome>,
    /// Jobs a timeout cancelled: their outcomes are dropped when they come.
    cancelled_jobs: std::collections::HashSet<u64>,
    /// Items waiting for a job (or for room on the pool).
    parked: parked::Parked,
    /// The item being stepped (the owner of any job it starts).
    stepping: u64,
    /// The priority of the item being stepped (0 outside a step): items
    /// its step makes have it too.
    base_priority: i16,
    /// The stepped item's own priority, which what is left of it keeps.
    rest_priority: i16,
    /// Whether the main queue orders by priority (see [`Engine::prioritize`]).
    prioritized: bool,
    /// Set when the step found the pool full.
    wants_room: bool,
    /// Reused for the nodes a call's result becomes.
    scratch: Vec<Node>,
    /// True while a pass runs and its results are routed: a topic that
    /// fills up meanwhile is noted in `full_topics` and its pass runs next,
    /// instead of inside this one (passes that feed each other would
    /// otherwise recurse without bound).
    in_pass: bool,
    full_topics: Vec<Rc<str>>,
    /// Topic contents live in the store, shared by many workers (a
    /// PostgreSQL store): a message routed into a topic is only reported
    /// to the store, and passes run when the worker loop runs them
    /// ([`Engine::run_shared_pass`]), never by themselves.
    shared_topics: bool,
    /// Shared topics: the engine came to where it would run its idle
    /// passes (set once until an item is stepped again).
    idle_passes_due: bool,
    idle_passes_asked: bool,
    /// Idle pass rounds in a row while nothing else could make progress.
    stuck_rounds: u32,
    /// Where changes are reported, with `--store` (see [`store`]).
    store: Option<Box<dyn store::Store>>,
    /// Set when the item being stepped was put back (else it is finished).
    kept: bool,
    /// The unclaimed-data count last reported to the store.
    reported_unclaimed: u64,
    /// The recovered count last reported to the store.
    reported_recovered: u64,
    /// Large items put back by a step, written at the next commit instead
    /// of after every step (see [`Engine::store_put`]).
    deferred: std::collections::HashSet<u64>,
    /// Durable state (`state_get` / `state_put`).
    pub state: store::SharedState,
    /// The retry policy of the innermost `retrying(m, policy)` being
    /// stepped through (`None`: the run's `--max-attempts`, `--backoff`).
    policy: Option<Rc<crate::vm::message::RetryPolicy>>,
    /// Actions (by id) whose new calls wait: `voyager serve`'s pause.
    /// Calls already started (running jobs, retries) go on. Change it
    /// through [`Engine::pause_action`] and [`Engine::resume_action`].
    paused: std::collections::HashSet<u32>,
    /// Items held by a paused call, in the order they were held: they
    /// wait for [`Engine::resume_action`], not for a time (under the
    /// virtual clock a recheck timer would run time on and spin).
    held: Vec<queue::Item>,
    /// Limited actions' resources, made at the first call of one.
    resources: Option<resources::Table>,
    /// The limits table workers share, when they share a store.
    pub shared_limits: Option<Box<dyn SharedLimits>>,
    /// The script's schedules (see [`schedules`]).
    schedules: Vec<schedules::Scheduled>,
    /// Fire the schedules, and keep running for them.
    pub schedules_on: bool,
    /// How long (clock time, ms) schedules fire from the first look
    /// (`--for`); `None`: until the run is stopped.
    pub schedules_for: Option<i64>,
    schedules_until: Option<i64>,
    pub schedule_stats: schedules::ScheduleStats,
}

/// How often a paused call that also waits for something else (a
/// `timeout` around it) looks whether its action was resumed.
pub const PAUSE_RECHECK_MS: i64 = 200;

/// A snapshot of a run, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub steps: u64,
    pub queued: usize,
    pub on_timers: usize,
    pub in_topics: usize,
    pub running_jobs: usize,
    pub dead_letters: u64,
}

/// What a blocked item waits for: a time, a job, or both (whichever
/// comes first wakes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wait {
    /// A time (`i64::MAX`: none).
    pub until: i64,
    /// A native job of the item's.
    pub job: bool,
    /// A call's turn on a resource.
    pub resource: bool,
    /// A paused action's call: it waits for the action to be resumed.
    pub paused: bool,
}

impl Wait {
    const NEVER: Wait = Wait {
        until: i64::MAX,
        job: false,
        resource: false,
        paused: false,
    };
    const JOB: Wait = Wait {
        until: i64::MAX,
        job: true,
        resource: false,
        paused: false,
    };
    const PAUSED: Wait = Wait {
        until: i64::MAX,
        job: false,
        resource: false,
        paused: true,
    };

    fn until(t: i64) -> Wait {
        Wait {
            until: t,
            job: false,
            resource: false,
            paused: false,
        }
    }

    /// Whichever comes first.
    fn min(self, other: Wait) -> Wait {
        Wait {
            until: self.until.min(other.until),
            job: self.job || other.job,
            resource: self.resource || other.resource,
            paused: self.paused || other.paused,
        }
    }
}

impl Engine {
    /// An engine over the in-memory ring-buffer queue.
    pub fn new(vm: Vm, clock: Clock, config: Config) -> Engine {
        Engine::with_queue(vm, clock, config, RingQueue::default())
    }
}

impl<Q: MainQueue> Engine<Q> {
    /// An engine over another main queue.
    pub fn with_queue(vm: Vm, clock: Clock, config: Config, main: Q) -> Engine<Q> {
        Engine {
            vm,
            config,
            clock,
            main,
            timers: Timers::default(),
            filters: Vec::new(),
            predicates: Vec::new(),
            filter_index: std::collections::HashMap::new(),
            topics: IndexMap::new(),
            dead: Vec::new(),
            stats: Stats::default(),
            next_id: 0,
            trace_sink: None,
            interrupt: None,
            progress: None,
            wait_hook: None,
            last_progress: None,
            jobs: None,
            finished_jobs: std::collections::HashMap::new(),
            cancelled_jobs: std::collections::HashSet::new(),
            parked: parked::Parked::default(),
            stepping: 0,
            base_priority: 0,
            rest_priority: 0,
            prioritized: false,
            wants_room: false,
            scratch: Vec::new(),
            in_pass: false,
            full_topics: Vec::new(),
            shared_topics: false,
            idle_passes_due: false,
            idle_passes_asked: false,
            stuck_rounds: 0,
            store: None,
            kept: false,
            reported_unclaimed: 0,
            reported_recovered: 0,
            deferred: Default::default(),
            state: Default::default(),
            policy: None,
            paused: Default::default(),
            held: Vec::new(),
            resources: None,
            shared_limits: None,
            schedules: Vec::new(),
            schedules_on: false,
            schedules_for: None,
            schedules_until: None,
            schedule_stats: Default::default(),
        }
    }

    pub fn add_filter(&mut self, filter: FilterDef) {
        self.topic(&filter.topic);
        self.predicates
            .push(Value::Func(Closure::plain(filter.predicate.clone())));
        self.filters.push(filter);
        self.filter_index.clear();
    }

    pub fn add_pass(&mut self, pass: PassDef) {
        self.topic(&pass.topic).pass = Some(pass.body);
    }

    fn topic(&mut self, name: &Rc<str>) -> &mut Topic {
        self.topics.entry(name.clone()).or_insert_with(|| Topic {
            queue: VecDeque::new(),
            pass: None,
        })
    }

    pub fn dead_letters(&self) -> &[DeadLetter] {
        &self.dead
    }

    pub fn take_dead_letters(&mut self) -> Vec<DeadLetter> {
        std::mem::take(&mut self.dead)
    }

    /// Items waiting in the main queue.
    pub fn queued(&self) -> usize {
        self.main.len()
    }

    /// Items held by a pause (see [`Engine::pause_action`]).
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// Items waiting on the timer heap.
    pub fn waiting(&self) -> usize {
        self.timers.len()
    }

    /// Messages waiting in topic queues.
    pub fn in_topics(&self) -> usize {
        self.topics.values().map(|t| t.queue.len()).sum()
    }

    pub fn is_idle(&self) -> bool {
        self.main.is_empty()
            && self.timers.is_empty()
            && self.in_topics() == 0
            && self.parked.is_empty()
            && self.held.is_empty()
            && self.jobs.as_ref().is_none_or(|p| p.in_flight() == 0)
    }

    /// Items parked while their native jobs run (or wait for room).
    pub fn parked(&self) -> usize {
        self.parked.len()
    }

    /// Everything not finished yet: queued, on timers, in topics, parked,
    /// held by a pause.
    pub fn pending(&self) -> usize {
        self.main.len() + self.timers.len() + self.in_topics() + self.parked.len() + self.held.len()
    }

    /// Every live item (queued, on a timer, parked, held by a pause) with
    /// where it waits, oldest first: what a resumed run holds.
    pub fn live_items(&self) -> Vec<(u64, store::ItemState, Msg)> {
        use store::ItemState;
        let mut all: Vec<(u64, ItemState, Msg)> = Vec::new();
        let mut add = |id: u64, state: ItemState, node: &node::Node| {
            all.push((id, state, Rc::new(node.to_message())));
        };
        for (id, _, node) in self.main.peek(usize::MAX) {
            add(id, ItemState::Queued, node);
        }
        for (_, item) in self.timers.peek() {
            add(item.id, ItemState::on_timer(&item.node), &item.node);
        }
        for item in self.parked.sorted() {
            add(item.id, self.parked.state_of(item.id), &item.node);
        }
        for item in &self.held {
            add(item.id, ItemState::Queued, &item.node);
        }
        all.sort_by_key(|(id, _, _)| *id);
        all
    }

    /// New calls of `action` wait until [`Engine::resume_action`].
    pub fn pause_action(&mut self, action: u32) {
        self.paused.insert(action);
    }

    /// Calls of `action` go on: the items a pause held go back on the main
    /// queue, in the order they were held (one still held by another
    /// paused action is held again at its next step).
    pub fn resume_action(&mut self, action: u32) {
        if self.paused.remove(&action) {
            for item in std::mem::take(&mut self.held) {
                self.main.push_back(item);
            }
        }
    }

    /// A description of what waits where (the REPL's `:queue`).
    pub fn describe_queues(&self, limit: usize) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "main queue: {} item(s)", self.main.len());
        for (id, _, node) in self.main.peek(limit) {
            let _ = writeln!(s, "  #{id} {}", node.to_message().display());
        }
        let _ = writeln!(s, "timers: {} item(s)", self.timers.len());
        for (at, item) in self.timers.peek().into_iter().take(limit) {
            let mut when = String::new();
            crate::vm::value::write_time(&mut when, at);
            let _ = writeln!(
                s,
                "  #{} at {when}: {}",
                item.id,
                item.node.to_message().display()
            );
        }
        self.describe_resources(&mut s);
        if !self.held.is_empty() {
            let _ = writeln!(s, "held by a pause: {} item(s)", self.held.len());
            for item in self.held.iter().take(limit) {
                let _ = writeln!(s, "  #{} {}", item.id, item.node.to_message().display());
            }
        }
        if !self.parked.is_empty() {
            let _ = writeln!(s, "on jobs or resources: {} item(s)", self.parked.len());
            for item in self.parked.sorted().into_iter().take(limit) {
                let _ = writeln!(s, "  #{} {}", item.id, item.node.to_message().display());
            }
        }
        for (name, topic) in &self.topics {
            let _ = writeln!(s, "topic \"{name}\": {} message(s)", topic.queue.len());
            for m in topic.queue.iter().take(limit) {
                let _ = writeln!(s, "  {}", m.display());
            }
        }
        s
    }

    /// Keeps a dead letter (and reports it to the store).
    fn push_dead(&mut self, letter: DeadLetter) {
        if let Some(store) = self.store.as_deref_mut() {
            store.dead_letter(&letter);
        }
        self.dead.push(letter);
        self.stats.dead_letters += 1;
    }

    /// Before the engine waits: output out, the store's changes committed.
    fn before_wait(&mut self) {
        self.vm.host.flush();
        self.store_commit();
    }

    fn trace(&mut self, line: impl FnOnce() -> String) {
        if self.config.trace {
            let text = line();
            if let Some(sink) = &mut self.trace_sink {
                sink(&text);
            }
        }
    }
}

impl<Q: MainQueue> std::fmt::Debug for Engine<Q> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "Engine {{ queued: {}, waiting: {}, in topics: {} }}",
            self.main.len(),
            self.timers.len(),
            self.in_topics()
        )
    }
}
