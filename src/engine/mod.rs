//! The message engine (SPEC §6): a main queue of items, a timer heap, topic
//! queues with their passes, retries with backoff, and dead letters.
//!
//! The engine knows messages and compiled code, never syntax.

pub mod clock;
pub mod jobs;
pub mod node;
mod parked;
pub mod queue;
pub mod serial;

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::rc::Rc;

use indexmap::IndexMap;

use crate::bytecode::program::{FilterDef, PassDef};
use crate::vm::error::{codes, RuntimeError, Severity};
use crate::vm::message::{Args, Msg};
use crate::vm::value::ActionDef;
use crate::vm::value::Value;
use crate::vm::Vm;
use clock::Clock;
use node::{
    finish_conc, finish_seq, push_conc, result_messages, wrap_void, Node, RetryNode, NOT_STARTED,
};
use queue::{Item, MainQueue, RingQueue, Timers};

/// Knobs of a run (SPEC §6.5–§6.7).
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
    pub steps_by_kind: [u64; 9],
    pub enqueued: u64,
    pub retries: u64,
    pub dead_letters: u64,
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
    /// Idle pass rounds in a row while nothing else could make progress.
    stuck_rounds: u32,
}

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
}

impl Wait {
    const NEVER: Wait = Wait {
        until: i64::MAX,
        job: false,
    };
    const JOB: Wait = Wait {
        until: i64::MAX,
        job: true,
    };

    fn until(t: i64) -> Wait {
        Wait {
            until: t,
            job: false,
        }
    }

    /// Whichever comes first.
    fn min(self, other: Wait) -> Wait {
        Wait {
            until: self.until.min(other.until),
            job: self.job || other.job,
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
            last_progress: None,
            jobs: None,
            finished_jobs: std::collections::HashMap::new(),
            cancelled_jobs: std::collections::HashSet::new(),
            parked: parked::Parked::default(),
            stepping: 0,
            wants_room: false,
            scratch: Vec::new(),
            in_pass: false,
            full_topics: Vec::new(),
            stuck_rounds: 0,
        }
    }

    pub fn add_filter(&mut self, filter: FilterDef) {
        self.topic(&filter.topic);
        self.predicates
            .push(Value::Func(Rc::new(crate::vm::value::Closure {
                proto: filter.predicate.clone(),
                captures: Box::new([]),
            })));
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
            && self.jobs.as_ref().is_none_or(|p| p.in_flight() == 0)
    }

    /// Items parked while their native jobs run (or wait for room).
    pub fn parked(&self) -> usize {
        self.parked.len()
    }

    /// Everything not finished yet: queued, on timers, in topics, parked.
    pub fn pending(&self) -> usize {
        self.main.len() + self.timers.len() + self.in_topics() + self.parked.len()
    }

    /// The wait before attempt `attempts + 1` (`--backoff`, doubling,
    /// capped at `max_backoff`).
    fn backoff(&self, attempts: u32) -> i64 {
        let exp = attempts.saturating_sub(1).min(30);
        self.config
            .backoff
            .saturating_mul(1i64 << exp)
            .min(self.config.max_backoff)
    }

    /// A description of what waits where (the REPL's `:queue`).
    pub fn describe_queues(&self, limit: usize) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "main queue: {} item(s)", self.main.len());
        for (id, node) in self.main.peek(limit) {
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
        if !self.parked.is_empty() {
            let _ = writeln!(s, "on jobs: {} item(s)", self.parked.len());
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

    fn trace(&mut self, line: impl FnOnce() -> String) {
        if self.config.trace {
            let text = line();
            if let Some(sink) = &mut self.trace_sink {
                sink(&text);
            }
        }
    }

    /// Enqueues a message from outside (the top level of a script, the
    /// REPL, an embedding program): normalized, then routed.
    pub fn enqueue(&mut self, message: &Msg) {
        let mut nodes = Vec::new();
        node::normalize(message, &mut nodes);
        for n in nodes {
            self.enter(n, None);
        }
    }

    /// Routes one normalized top-level node: a new message, or what is left
    /// of an item after a step (`id` is then the item's own, kept if no
    /// interest takes it; a `seq` stepped down to one `call` is that call,
    /// so an interest on the call takes it). A `conc` splits into separate
    /// items. `from_topic` is the topic whose pass produced the node: its
    /// own declarations are skipped.
    fn enter(&mut self, n: Node, from_topic: Option<&Rc<str>>) {
        self.enter_as(None, n, from_topic);
    }

    fn enter_as(&mut self, id: Option<u64>, n: Node, from_topic: Option<&Rc<str>>) {
        if let Node::Conc(branches) = n {
            for b in *branches {
                self.enter_as(None, b, from_topic);
            }
            return;
        }
        if !self.filters.is_empty() && self.route(&n, from_topic) {
            return;
        }
        match (n, id) {
            (Node::Data(v), _) => {
                self.stats.unclaimed_data += 1;
                self.trace(|| format!("unclaimed data({})", v.repr()));
            }
            (node, Some(id)) => self.main.push_back(Item { id, node }),
            (other, None) => self.push_item(other),
        }
    }

    fn push_item(&mut self, node: Node) {
        self.next_id += 1;
        self.stats.enqueued += 1;
        self.main.push_back(Item {
            id: self.next_id,
            node,
        });
        self.stats.peak_queue = self.stats.peak_queue.max(self.main.len());
    }

    /// The filters that may match a node of this kind (and action), in
    /// declaration order: computed once per (kind, action) and cached, so a
    /// message that no filter could match costs one lookup however many
    /// filters there are.
    fn candidates(&mut self, kind: usize, action: Option<u32>) -> Rc<[usize]> {
        let key = (kind, action.unwrap_or(u32::MAX));
        if let Some(found) = self.filter_index.get(&key) {
            return found.clone();
        }
        let kind_name = node::KINDS[kind];
        let list: Rc<[usize]> = self
            .filters
            .iter()
            .enumerate()
            .filter(|(_, f)| f.constructor.is_none_or(|c| c == kind_name))
            .filter(|(_, f)| f.action.is_none() || f.action == action)
            .map(|(i, _)| i)
            .collect();
        self.filter_index.insert(key, list.clone());
        list
    }

    /// Offers a node to the filters; returns whether an interest took it.
    fn route(&mut self, n: &Node, from_topic: Option<&Rc<str>>) -> bool {
        let action = match n {
            Node::Call { action, .. } => Some(action.id),
            // A call waiting out its backoff, or running on the pool, is
            // the same call still in progress, not a new message: routing
            // it would restart it and forget its attempts.
            Node::Retry(_) | Node::Running(_) => return false,
            _ => None,
        };
        let candidates = self.candidates(n.kind_index(), action);
        let mut message: Option<Msg> = None;
        for &i in candidates.iter() {
            let f = &self.filters[i];
            if from_topic.is_some_and(|t| *t == f.topic) {
                continue;
            }
            let m = message
                .get_or_insert_with(|| Rc::new(n.to_message()))
                .clone();
            let predicate = self.predicates[i].clone();
            let matched = match self.vm.call(&predicate, &[Value::Message(m.clone())]) {
                Ok(v) => v.is_truthy(),
                Err(e) => {
                    // A guard that fails: the message is a dead letter
                    // with the guard's error (never silently dropped).
                    self.dead.push(DeadLetter {
                        message: m.clone(),
                        error: e,
                        attempts: 0,
                    });
                    self.stats.dead_letters += 1;
                    return true;
                }
            };
            if !matched {
                continue;
            }
            let f = &self.filters[i];
            let topic = f.topic.clone();
            let take = f.take;
            self.trace(|| {
                format!(
                    "route {} {} topic \"{topic}\"",
                    m.display(),
                    if take { "taken by" } else { "copied to" }
                )
            });
            *self.stats.topic_in.entry(topic.clone()).or_default() += 1;
            self.topic(&topic).queue.push_back(m.clone());
            // A full topic runs its pass at once, whether the message was
            // taken or copied into it (after the running pass, if one is).
            if self.topic(&topic).queue.len() >= self.config.batch {
                if !self.in_pass {
                    self.run_pass(&topic);
                } else if !self.full_topics.contains(&topic) {
                    self.full_topics.push(topic);
                }
            }
            if take {
                return true;
            }
        }
        false
    }

    /// Runs until no work is left, or the step limit.
    pub fn run(&mut self) -> Finish {
        loop {
            if let Some(limit) = self.config.max_steps {
                if self.stats.work() >= limit {
                    return Finish::StepLimit {
                        unfinished: self.pending(),
                    };
                }
            }
            if self
                .interrupt
                .as_ref()
                .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
            {
                return Finish::Interrupted;
            }
            if !self.step_once() {
                return Finish::Idle;
            }
            if self.progress.is_some()
                && (self.stats.steps.is_multiple_of(256) || self.main.is_empty())
            {
                self.report_progress();
            }
        }
    }

    /// Does one unit of work: steps an item, runs idle passes, or waits for
    /// the next timer. Returns false when there is no work at all.
    pub fn step_once(&mut self) -> bool {
        if self.jobs.is_some() {
            self.collect_jobs(None);
        }
        if !self.timers.is_empty() || !self.parked.is_empty() {
            self.release_due_timers();
        }
        if !self.full_topics.is_empty() {
            let topic = self.full_topics.remove(0);
            self.run_pass(&topic);
            return true;
        }
        if let Some(item) = self.main.pop_front() {
            self.stuck_rounds = 0;
            self.step_item(item);
            return true;
        }
        // Jobs that finish together should feed one pass run, not one each:
        // give running jobs a moment before the topics' passes run.
        if self.in_topics() > 0 && self.jobs.as_ref().is_some_and(|p| p.in_flight() > 0) {
            let parked = self.parked.len();
            self.vm.host.flush();
            self.collect_jobs(Some(std::time::Duration::from_millis(20)));
            if self.parked.len() < parked {
                return true;
            }
        }
        if self.run_idle_passes() {
            self.stuck_rounds = 0;
            return true;
        }
        if self.jobs.as_ref().is_some_and(|p| p.in_flight() > 0) {
            // Wait for a job, but not past the next timer (real clock) nor
            // so long that an interrupt goes unseen.
            let next = match (self.timers.next_due(), self.parked_deadline()) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            // (Virtual time passes at real speed while jobs are out.)
            let wait = match next {
                Some(at) => (at - self.clock.now()).clamp(0, 100),
                None => 100,
            };
            self.vm.host.flush();
            self.collect_jobs(Some(std::time::Duration::from_millis(wait as u64)));
            return true;
        }
        if !self.parked.is_empty() {
            // Nothing in flight: whatever waited for room on the pool may go.
            self.unpark();
            return true;
        }
        if let Some(at) = self.timers.next_due() {
            // In slices, so that an interrupt is seen within 100ms.
            let slice = if self.interrupt.is_some() && !self.clock.is_virtual() {
                self.clock.now().saturating_add(100).min(at)
            } else {
                at
            };
            self.vm.host.flush();
            self.clock.wait_until(slice);
            self.release_due_timers();
            return true;
        }
        if self.in_topics() > 0 {
            return self.passes_stuck();
        }
        false
    }

    /// Only topics hold messages, their passes hand everything back as
    /// `further`, and nothing else can make progress: no item is ready, no
    /// job runs, no timer is pending. Such passes get a number of rounds
    /// (a pass may look at globals an action changed, or the real clock),
    /// then what the topics hold is dead-lettered.
    fn passes_stuck(&mut self) -> bool {
        self.stuck_rounds += 1;
        if self.stuck_rounds <= self.config.max_idle_pass_rounds {
            return true;
        }
        self.stuck_rounds = 0;
        let rounds = self.config.max_idle_pass_rounds;
        let names: Vec<Rc<str>> = self.topics.keys().cloned().collect();
        for name in names {
            let held: Vec<Msg> = self.topics[&name].queue.iter().cloned().collect();
            self.topics[&name].queue.clear();
            if held.is_empty() {
                continue;
            }
            let error = RuntimeError::new(
                codes::PASS,
                format!(
                    "pass \"{name}\" returned everything as `further` {rounds} times in a row while nothing else could run"
                ),
            )
            .with_hint("a pass must eventually return some messages as `ready`");
            self.dead_batch(&held, error);
        }
        true
    }

    /// The pass that did the most work, if passes did more work than the
    /// steps: the one to name when `--max-steps` stops a run.
    pub fn runaway_pass(&self) -> Option<(Rc<str>, u64)> {
        if self.stats.pass_work <= self.stats.steps {
            return None;
        }
        self.stats
            .pass_runs
            .iter()
            .max_by_key(|(_, (runs, _))| *runs)
            .map(|(name, (runs, _))| (name.clone(), *runs))
    }

    fn report_progress(&mut self) {
        if self.progress.is_none() {
            return;
        }
        let now = std::time::Instant::now();
        if self
            .last_progress
            .is_some_and(|t| now.duration_since(t) < std::time::Duration::from_millis(100))
        {
            return;
        }
        self.last_progress = Some(now);
        let snapshot = Progress {
            steps: self.stats.steps,
            queued: self.main.len(),
            on_timers: self.timers.len(),
            in_topics: self.in_topics(),
            running_jobs: self.jobs.as_ref().map_or(0, |p| p.in_flight()),
            dead_letters: self.stats.dead_letters,
        };
        if let Some(report) = &mut self.progress {
            report(&snapshot);
        }
    }

    /// Takes finished jobs (waiting up to `wait` for the first) and wakes
    /// the parked items so they pick up their results.
    fn collect_jobs(&mut self, wait: Option<std::time::Duration>) {
        let Some(pool) = &mut self.jobs else { return };
        let mut any = false;
        let mut timeout = wait;
        while let Some((id, outcome)) = pool.next_done(timeout.take()) {
            if !self.cancelled_jobs.remove(&id) {
                self.finished_jobs.insert(id, outcome);
                if let Some(item) = self.parked.wake_owner(id) {
                    self.main.push_back(item);
                }
            }
            any = true;
        }
        if any {
            let running = pool.in_flight() > 0;
            self.clock.set_jobs_running(running);
            self.wake_for_room();
        }
    }

    /// Wakes as many items waiting for room as the pool has free slots.
    fn wake_for_room(&mut self) {
        let free = self
            .jobs
            .as_ref()
            .map_or(0, |p| p.capacity.saturating_sub(p.in_flight()));
        for _ in 0..free {
            match self.parked.wake_for_room() {
                Some(item) => self.main.push_back(item),
                None => break,
            }
        }
    }

    fn unpark(&mut self) {
        for item in self.parked.drain() {
            self.main.push_back(item);
        }
    }

    /// The earliest time a parked item must wake at.
    fn parked_deadline(&self) -> Option<i64> {
        self.parked.next_deadline()
    }

    fn release_due_timers(&mut self) {
        if self.timers.is_empty() && self.parked.is_empty() {
            return;
        }
        let now = self.clock.now();
        while let Some(item) = self.parked.wake_due(now) {
            self.main.push_back(item);
        }
        while let Some(item) = self.timers.pop_due(now) {
            self.main.push_back(item);
        }
    }

    fn step_item(&mut self, item: Item) {
        self.stepping = item.id;
        self.stats.steps += 1;
        self.stats.steps_by_kind[item.node.kind_index()] += 1;
        if self.config.trace {
            let before = item.node.to_message().display();
            let outcome = self.step(item.node);
            self.apply(item.id, outcome, Some(before));
            return;
        }
        let Item { id, node } = item;
        match node {
            // The hot path: a plain call at the top level. Its results
            // enter directly, with no `Outcome` built.
            Node::Call { action, args } if action.job.is_none() => {
                match self.vm.call_action(&action, &args) {
                    Ok(Value::Nil) => discard_args(args),
                    Ok(result) => {
                        let mut out = std::mem::take(&mut self.scratch);
                        result_messages(result, &mut out);
                        for n in out.drain(..) {
                            self.enter(n, None);
                        }
                        self.scratch = out;
                    }
                    Err(e) => {
                        let outcome = self.call_finished(action, args, 1, Err(e));
                        self.apply(id, outcome, None);
                    }
                }
            }
            node => {
                let outcome = self.step(node);
                self.apply(id, outcome, None);
            }
        }
    }

    /// Puts what a step did in place: new messages enter, what is left of
    /// the item goes back on the queue, waits, or is a dead letter.
    /// `before` is the item as it was, when tracing.
    fn apply(&mut self, id: u64, outcome: Outcome, before: Option<String>) {
        match outcome {
            Outcome::Stepped { out, rest } => {
                if let Some(before) = before {
                    let mut shown: Vec<String> =
                        out.iter().map(|n| n.to_message().display()).collect();
                    if let Some(r) = &rest {
                        shown.push(format!("(continues) {}", r.to_message().display()));
                    }
                    let n = self.stats.steps;
                    self.trace(|| format!("step {n} #{id} {before} -> [{}]", shown.join(", ")));
                }
                for n in out {
                    self.enter(n, None);
                }
                if let Some(rest) = rest {
                    self.enter_as(Some(id), rest, None);
                }
            }
            Outcome::Blocked(node, wait) => {
                if let Some(before) = before {
                    let mut when = String::new();
                    if wait.until != i64::MAX {
                        when.push_str(" until ");
                        crate::vm::value::write_time(&mut when, wait.until);
                    }
                    let job = if wait.job { " on a job" } else { "" };
                    self.trace(|| format!("wait #{id} {before}{job}{when}"));
                }
                if wait.job {
                    let deadline = (wait.until != i64::MAX).then_some(wait.until);
                    let wants_room = std::mem::take(&mut self.wants_room);
                    self.parked.park(deadline, Item { id, node }, wants_room);
                } else {
                    self.timers.push(wait.until, Item { id, node });
                }
            }
            Outcome::Failed(node, error, attempts) => {
                if let Some(before) = before {
                    self.trace(|| format!("dead #{id} {before}: {}", error.message));
                }
                self.dead.push(DeadLetter {
                    message: Rc::new(node.to_message()),
                    error,
                    attempts,
                });
                self.stats.dead_letters += 1;
            }
        }
    }

    /// Steps a node nested in another (a seq's head, a conc's branch, what
    /// a promise, void or timeout holds). A call there is not routed: if an
    /// interest would have taken it, that is counted, so the run can warn.
    fn step_inner(&mut self, node: Node) -> Outcome {
        if let Node::Call { action, .. } = &node {
            if !self.filters.is_empty() {
                let action = action.id;
                self.note_unrouted(&node, action);
            }
        }
        self.step(node)
    }

    fn note_unrouted(&mut self, n: &Node, action: u32) {
        let candidates = self.candidates(n.kind_index(), Some(action));
        let mut message = None;
        for &i in candidates.iter() {
            if !self.filters[i].take {
                continue;
            }
            let m = message
                .get_or_insert_with(|| Rc::new(n.to_message()))
                .clone();
            let predicate = self.predicates[i].clone();
            let matched = self
                .vm
                .call(&predicate, &[Value::Message(m.clone())])
                .is_ok_and(|v| v.is_truthy());
            if matched {
                let topic = self.filters[i].topic.clone();
                let entry = self
                    .stats
                    .unrouted
                    .entry(topic)
                    .or_insert_with(|| (0, m.display()));
                entry.0 += 1;
                return;
            }
        }
    }

    fn step(&mut self, node: Node) -> Outcome {
        match node {
            Node::Call { action, args } => self.run_call(action, args, 0),
            Node::Running(r) => match self.finished_jobs.remove(&r.job) {
                Some(outcome) => {
                    let node::RunningNode {
                        action,
                        args,
                        attempts,
                        ..
                    } = *r;
                    let result = outcome
                        .map(jobs::Plain::into_value)
                        .map_err(jobs::JobFailure::into_error);
                    self.call_finished(action, args, attempts, result)
                }
                None => {
                    // An item parks only after a step that visited every
                    // job it runs, so the owners are current even when a
                    // split conc made its branches new items.
                    self.parked.own(r.job, self.stepping);
                    Outcome::Blocked(Node::Running(r), Wait::JOB)
                }
            },
            Node::Retry(r) => {
                if self.clock.now() < r.not_before {
                    let at = r.not_before;
                    return Outcome::Blocked(Node::Retry(r), Wait::until(at));
                }
                let RetryNode {
                    action,
                    args,
                    attempts,
                    ..
                } = *r;
                self.run_call(action, args, attempts)
            }
            Node::Data(v) => Outcome::Stepped {
                out: vec![Node::Data(v)],
                rest: None,
            },
            Node::Defer(at) => {
                if self.clock.now() >= at {
                    Outcome::Stepped {
                        out: vec![],
                        rest: None,
                    }
                } else {
                    Outcome::Blocked(Node::Defer(at), Wait::until(at))
                }
            }
            Node::Delay { duration, until } => {
                let now = self.clock.now();
                let until = if until == NOT_STARTED {
                    now.saturating_add(duration)
                } else {
                    until
                };
                if now >= until {
                    Outcome::Stepped {
                        out: vec![],
                        rest: None,
                    }
                } else {
                    Outcome::Blocked(Node::Delay { duration, until }, Wait::until(until))
                }
            }
            Node::Seq(mut queue) => {
                let Some(head) = queue.pop_front() else {
                    return Outcome::Stepped {
                        out: vec![],
                        rest: None,
                    };
                };
                match self.step_inner(head) {
                    Outcome::Stepped { out, rest } => {
                        // The head's results go to the front, in order.
                        for n in rest.into_iter().rev().chain(out.into_iter().rev()) {
                            match n {
                                Node::Seq(inner) => node::prepend(&mut queue, *inner),
                                other => queue.push_front(other),
                            }
                        }
                        let mut out = Vec::new();
                        finish_seq(*queue, &mut out);
                        split_rest(out)
                    }
                    Outcome::Blocked(head, at) => {
                        queue.push_front(head);
                        Outcome::Blocked(Node::Seq(queue), at)
                    }
                    Outcome::Failed(head, e, attempts) => {
                        queue.push_front(head);
                        Outcome::Failed(Node::Seq(queue), e, attempts)
                    }
                }
            }
            Node::Conc(mut queue) => {
                let mut earliest = Wait::NEVER;
                for _ in 0..queue.len() {
                    let Some(head) = queue.pop_front() else { break };
                    match self.step_inner(head) {
                        Outcome::Stepped { out, rest } => {
                            let mut lifted = Vec::new();
                            for n in out.into_iter().chain(rest) {
                                push_conc(&mut queue, n, &mut lifted);
                            }
                            let mut remaining = Vec::new();
                            finish_conc(*queue, &mut remaining);
                            return Outcome::Stepped {
                                out: lifted,
                                rest: remaining.pop(),
                            };
                        }
                        Outcome::Blocked(head, at) => {
                            queue.push_back(head);
                            earliest = earliest.min(at);
                        }
                        Outcome::Failed(head, e, attempts) => {
                            queue.push_front(head);
                            return Outcome::Failed(Node::Conc(queue), e, attempts);
                        }
                    }
                }
                Outcome::Blocked(Node::Conc(queue), earliest)
            }
            Node::Promise(mut p) => {
                if p.queue.is_empty() {
                    use crate::vm::message::Callback;
                    let (action, written) = match &p.callback {
                        Callback::Action(a) => (a, 0),
                        Callback::Call(a, args) => (a, args.len()),
                    };
                    // Fail here, where the promise can be named, rather
                    // than in the call it would make.
                    if let Some(e) = crate::vm::error::promise_callback_arity(action, written) {
                        return Outcome::Failed(Node::Promise(p), e, 1);
                    }
                    let call = p.callback.into_call(std::mem::take(&mut p.collected));
                    let mut out = Vec::new();
                    node::normalize(&Rc::new(call), &mut out);
                    return Outcome::Stepped { out, rest: None };
                }
                let mut earliest = Wait::NEVER;
                for _ in 0..p.queue.len() {
                    let Some(head) = p.queue.pop_front() else {
                        break;
                    };
                    if let Node::Data(v) = head {
                        p.collected.push(v);
                        return Outcome::Stepped {
                            out: vec![],
                            rest: Some(Node::Promise(p)),
                        };
                    }
                    match self.step_inner(head) {
                        Outcome::Stepped { out, rest } => {
                            for n in out.into_iter().chain(rest) {
                                match n {
                                    Node::Data(v) => p.collected.push(v),
                                    other => p.queue.push_back(other),
                                }
                            }
                            return Outcome::Stepped {
                                out: vec![],
                                rest: Some(Node::Promise(p)),
                            };
                        }
                        Outcome::Blocked(head, at) => {
                            p.queue.push_back(head);
                            earliest = earliest.min(at);
                        }
                        Outcome::Failed(head, e, attempts) => {
                            p.queue.push_front(head);
                            return Outcome::Failed(Node::Promise(p), e, attempts);
                        }
                    }
                }
                Outcome::Blocked(Node::Promise(p), earliest)
            }
            Node::Timeout(t) => self.step_timeout(t),
            Node::Void(inner) => match self.step_inner(*inner) {
                Outcome::Stepped { out, rest } => {
                    let mut wrapped = Vec::new();
                    wrap_void(out, &mut wrapped);
                    let mut rest_wrapped = Vec::new();
                    wrap_void(rest.into_iter().collect(), &mut rest_wrapped);
                    Outcome::Stepped {
                        out: wrapped,
                        rest: rest_wrapped.pop(),
                    }
                }
                Outcome::Blocked(inner, at) => Outcome::Blocked(Node::Void(Box::new(inner)), at),
                Outcome::Failed(inner, e, attempts) => {
                    Outcome::Failed(Node::Void(Box::new(inner)), e, attempts)
                }
            },
        }
    }

    /// Runs a call whose earlier attempts (`attempts`) all failed retryably.
    fn run_call(&mut self, action: Rc<ActionDef>, args: Args, attempts: u32) -> Outcome {
        if let Some(job) = action.job.clone() {
            return self.start_job(action, args, attempts, &job);
        }
        let attempts = attempts + 1;
        let result = self.vm.call_action(&action, &args);
        self.call_finished(action, args, attempts, result)
    }

    fn step_timeout(&mut self, mut t: Box<node::TimeoutNode>) -> Outcome {
        let now = self.clock.now();
        if now < t.not_before {
            let at = t.not_before;
            return Outcome::Blocked(Node::Timeout(t), Wait::until(at));
        }
        if t.deadline == NOT_STARTED {
            t.deadline = now.saturating_add(t.duration);
        }
        if now >= t.deadline {
            return self.time_out(t, now);
        }
        let inner = std::mem::replace(&mut t.inner, Node::Defer(i64::MIN));
        match self.step_inner(inner) {
            Outcome::Stepped { out, rest } => match rest {
                Some(rest) => {
                    t.inner = rest;
                    Outcome::Stepped {
                        out,
                        rest: Some(Node::Timeout(t)),
                    }
                }
                None => Outcome::Stepped { out, rest: None },
            },
            Outcome::Blocked(inner, wait) => {
                t.inner = inner;
                let deadline = t.deadline;
                Outcome::Blocked(Node::Timeout(t), wait.min(Wait::until(deadline)))
            }
            Outcome::Failed(inner, e, attempts) => {
                t.inner = inner;
                Outcome::Failed(Node::Timeout(t), e, attempts)
            }
        }
    }

    /// A timeout's attempt ran out: its jobs are cancelled, and it starts
    /// again after a backoff, or gives up.
    fn time_out(&mut self, mut t: Box<node::TimeoutNode>, now: i64) -> Outcome {
        let mut running = Vec::new();
        running_jobs(&t.inner, &mut running);
        if let Some(pool) = &mut self.jobs {
            for job in running {
                pool.cancel(job);
                self.cancelled_jobs.insert(job);
                self.parked.disown(job);
            }
            self.clock.set_jobs_running(pool.in_flight() > 0);
        }
        // The cancelled jobs' places are free at once.
        self.wake_for_room();
        t.attempts += 1;
        let mut shown = String::new();
        crate::vm::value::write_duration(&mut shown, t.duration);
        let message = format!("timed out after {shown}: {}", t.original.display());
        if t.attempts < self.config.max_attempts {
            let wait = self.backoff(t.attempts);
            self.stats.retries += 1;
            let attempt = t.attempts;
            self.trace(|| format!("retry {message} (attempt {attempt}); next in {wait}ms"));
            let mut lifted = Vec::new();
            match node::TimeoutNode::fresh_inner(&t.original, &mut lifted) {
                Some(inner) => {
                    t.inner = inner;
                    t.deadline = NOT_STARTED;
                    t.not_before = now.saturating_add(wait);
                    Outcome::Stepped {
                        out: vec![],
                        rest: Some(Node::Timeout(t)),
                    }
                }
                None => Outcome::Stepped {
                    out: vec![],
                    rest: None,
                },
            }
        } else {
            let attempts = t.attempts;
            let e = RuntimeError::new(
                codes::TIMEOUT,
                format!("gave up after {attempts} attempts: {message}"),
            );
            Outcome::Failed(Node::Timeout(t), e, attempts)
        }
    }

    /// Starts a native action's job on the pool (or waits for room); the
    /// item is parked until the job is done.
    fn start_job(
        &mut self,
        action: Rc<ActionDef>,
        args: Args,
        attempts: u32,
        job: &jobs::JobAction,
    ) -> Outcome {
        let (min, max) = (job.min, job.max);
        if args.len() < min || args.len() > max {
            let e = RuntimeError::new(
                codes::ARITY,
                format!(
                    "`{}` takes {min} to {max} arguments but got {}",
                    action.name,
                    args.len()
                ),
            );
            return Outcome::Failed(Node::Call { action, args }, e, attempts + 1);
        }
        let spec = match (job.build)(&args) {
            Ok(spec) => spec,
            Err(e) => return Outcome::Failed(Node::Call { action, args }, e, attempts + 1),
        };
        let (capacity, limits) = (self.config.jobs, self.config.job_limits);
        let pool = self
            .jobs
            .get_or_insert_with(|| jobs::JobPool::new(capacity, limits));
        if !pool.has_room() {
            let node = if attempts == 0 {
                Node::Call { action, args }
            } else {
                Node::Retry(Box::new(RetryNode {
                    action,
                    args,
                    attempts,
                    not_before: i64::MIN,
                }))
            };
            self.wants_room = true;
            return Outcome::Blocked(node, Wait::JOB);
        }
        let job = pool.submit(spec);
        self.clock.set_jobs_running(true);
        self.parked.own(job, self.stepping);
        let name = action.name.clone();
        self.trace(|| format!("job {job} started: {name}"));
        Outcome::Blocked(
            Node::Running(Box::new(node::RunningNode {
                job,
                action,
                args,
                attempts: attempts + 1,
            })),
            Wait::JOB,
        )
    }

    /// What a call's run (or job) ended in: its results, a retry after a
    /// backoff, or a fatal error.
    fn call_finished(
        &mut self,
        action: Rc<ActionDef>,
        args: Args,
        attempts: u32,
        result: Result<Value, RuntimeError>,
    ) -> Outcome {
        match result {
            Ok(result) => {
                let mut out = Vec::new();
                result_messages(result, &mut out);
                Outcome::Stepped { out, rest: None }
            }
            Err(e) if e.severity == Severity::Retryable && attempts < self.config.max_attempts => {
                let wait = self.backoff(attempts);
                let not_before = self.clock.now().saturating_add(wait);
                self.stats.retries += 1;
                let name = action.name.clone();
                self.trace(|| {
                    format!(
                        "retry call({name}, …) attempt {attempts} failed: {}; next in {wait}ms",
                        e.message
                    )
                });
                let retry = RetryNode {
                    action,
                    args,
                    attempts,
                    not_before,
                };
                Outcome::Stepped {
                    out: vec![],
                    rest: Some(Node::Retry(Box::new(retry))),
                }
            }
            Err(mut e) => {
                if e.severity == Severity::Retryable {
                    e.message = format!("gave up after {attempts} attempts: {}", e.message);
                    e.severity = Severity::Fatal;
                }
                Outcome::Failed(Node::Call { action, args }, e, attempts)
            }
        }
    }

    /// When the main queue has nothing ready: every non-empty topic's pass
    /// runs once, in declaration order. Returns whether any ran.
    fn run_idle_passes(&mut self) -> bool {
        let ready: Vec<Rc<str>> = self
            .topics
            .iter()
            .filter(|(_, t)| !t.queue.is_empty())
            .map(|(name, _)| name.clone())
            .collect();
        let mut progress = false;
        for name in ready {
            progress |= self.run_pass(&name);
        }
        progress
    }

    /// Runs a topic's pass over everything waiting in it. Returns whether
    /// that made progress: messages became ready, were dropped or failed;
    /// a run that hands its whole batch (or more) back as `further` did not.
    fn run_pass(&mut self, name: &Rc<str>) -> bool {
        let Some(topic) = self.topics.get_mut(name) else {
            return false;
        };
        let batch: Vec<Msg> = topic.queue.drain(..).collect();
        if batch.is_empty() {
            return false;
        }
        let Some(pass) = topic.pass.clone() else {
            // An observe-only topic: its copies have nowhere to go.
            let n = batch.len();
            self.trace(|| format!("topic \"{name}\" has no pass; {n} copies dropped"));
            return true;
        };
        let size = batch.len();
        let input = Value::list(batch.iter().map(|m| Value::Message(m.clone())).collect());
        let started = std::time::Instant::now();
        let closure = Value::Func(Rc::new(crate::vm::value::Closure {
            proto: pass,
            captures: Box::new([]),
        }));
        let result = self.vm.call(&closure, &[input]);
        let entry = self.stats.pass_runs.entry(name.clone()).or_default();
        entry.0 += 1;
        entry.1 += started.elapsed();
        self.stats.pass_work += 1;
        match result.and_then(|v| pass_result(&v)) {
            Ok((ready, further)) => {
                let (r, f) = (ready.len(), further.len());
                self.trace(|| format!("pass \"{name}\" in {size} -> ready {r}, further {f}"));
                self.stats.pass_work += (r + f) as u64;
                let progress = r > 0 || f < size;
                self.topics[name].queue.extend(further);
                let outer = std::mem::replace(&mut self.in_pass, true);
                for m in ready {
                    let mut nodes = Vec::new();
                    node::normalize(&m, &mut nodes);
                    for n in nodes {
                        self.enter(n, Some(name));
                    }
                }
                self.in_pass = outer;
                progress
            }
            Err(mut error) => {
                error.message = format!("pass \"{name}\" failed: {}", error.message);
                error.severity = Severity::Fatal;
                self.dead_batch(&batch, error);
                true
            }
        }
    }

    fn dead_batch(&mut self, batch: &[Msg], error: RuntimeError) {
        for m in batch {
            self.dead.push(DeadLetter {
                message: m.clone(),
                error: error.clone(),
                attempts: 0,
            });
            self.stats.dead_letters += 1;
        }
    }

    /// Ends every running job: commands' process groups get SIGTERM, then
    /// SIGKILL after a short grace; other work is abandoned. Their items
    /// stay where they are, unfinished.
    pub fn end_jobs(&mut self) {
        if let Some(pool) = &mut self.jobs {
            self.cancelled_jobs.extend(pool.shutdown());
        }
        self.clock.set_jobs_running(false);
    }

    /// Ends every running job (as [`Engine::end_jobs`]) and puts the items
    /// that waited for them back on the main queue, each call that started
    /// a job ready to run again: an interrupted session keeps its work.
    pub fn requeue_jobs(&mut self) {
        self.end_jobs();
        for mut item in self.parked.drain() {
            unstart_jobs(&mut item.node);
            self.main.push_back(item);
        }
    }

    /// Takes out everything still waiting (after a step limit), oldest first.
    pub fn drain_unfinished(&mut self) -> Vec<Msg> {
        let mut all: Vec<Msg> = self
            .main
            .drain()
            .into_iter()
            .map(|i| Rc::new(i.node.to_message()))
            .collect();
        all.extend(
            self.parked
                .drain()
                .into_iter()
                .map(|i| Rc::new(i.node.to_message())),
        );
        all.extend(
            self.timers
                .drain()
                .into_iter()
                .map(|(_, i)| Rc::new(i.node.to_message())),
        );
        for topic in self.topics.values_mut() {
            all.extend(topic.queue.drain(..));
        }
        all
    }
}

/// Drops a finished call's arguments, in line when they hold nothing to
/// free (a scalar argument, the common case).
#[inline(always)]
fn discard_args(args: Args) {
    if matches!(&args, Args::One(v) if v.is_scalar()) {
        std::mem::forget(args);
    } else {
        drop(args);
    }
}

fn split_rest(mut nodes: Vec<Node>) -> Outcome {
    let rest = match nodes.last() {
        Some(Node::Data(_)) | None => None,
        Some(_) => nodes.pop(),
    };
    Outcome::Stepped { out: nodes, rest }
}

/// The jobs running anywhere inside a node.
fn running_jobs(node: &Node, out: &mut Vec<u64>) {
    match node {
        Node::Running(r) => out.push(r.job),
        Node::Seq(q) | Node::Conc(q) => q.iter().for_each(|n| running_jobs(n, out)),
        Node::Promise(p) => p.queue.iter().for_each(|n| running_jobs(n, out)),
        Node::Void(inner) => running_jobs(inner, out),
        Node::Timeout(t) => running_jobs(&t.inner, out),
        _ => {}
    }
}

/// Turns each running job inside a node back into the call that started
/// it, to run again (the interrupted attempt does not count).
fn unstart_jobs(node: &mut Node) {
    match node {
        Node::Running(_) => {
            let Node::Running(r) = std::mem::replace(node, Node::Defer(i64::MIN)) else {
                unreachable!("matched above")
            };
            let node::RunningNode {
                action,
                args,
                attempts,
                ..
            } = *r;
            *node = if attempts <= 1 {
                Node::Call { action, args }
            } else {
                Node::Retry(Box::new(RetryNode {
                    action,
                    args,
                    attempts: attempts - 1,
                    not_before: i64::MIN,
                }))
            };
        }
        Node::Seq(q) | Node::Conc(q) => q.iter_mut().for_each(unstart_jobs),
        Node::Promise(p) => p.queue.iter_mut().for_each(unstart_jobs),
        Node::Void(inner) => unstart_jobs(inner),
        Node::Timeout(t) => unstart_jobs(&mut t.inner),
        _ => {}
    }
}

/// A pass's result: a list of messages (all ready), or `{ready, further}`.
fn pass_result(v: &Value) -> Result<(Vec<Msg>, Vec<Msg>), RuntimeError> {
    let messages = |v: &Value, what: &str| -> Result<Vec<Msg>, RuntimeError> {
        let Value::List(items) = v else {
            return Err(RuntimeError::new(
                codes::BAD_RESULT,
                format!(
                    "`{what}` must be a list of messages, got {} `{}`",
                    v.type_name(),
                    v.repr()
                ),
            ));
        };
        items
            .borrow()
            .iter()
            .map(|item| match item {
                Value::Message(m) => Ok(m.clone()),
                other => Err(RuntimeError::new(
                    codes::BAD_RESULT,
                    format!(
                        "a pass returned {} `{}` where a message belongs",
                        other.type_name(),
                        other.repr()
                    ),
                )
                .with_hint("wrap values in data(...)")),
            })
            .collect()
    };
    match v {
        Value::Nil => Ok((vec![], vec![])),
        Value::List(_) => Ok((messages(v, "result")?, vec![])),
        Value::Message(m) => Ok((vec![m.clone()], vec![])),
        Value::Record(r) => {
            let r = r.borrow();
            let unknown: Vec<&str> = r
                .keys()
                .map(|k| &**k)
                .filter(|k| *k != "ready" && *k != "further")
                .collect();
            if !unknown.is_empty() {
                return Err(RuntimeError::new(
                    codes::BAD_RESULT,
                    format!(
                        "a pass result record has unknown keys: {}",
                        unknown.join(", ")
                    ),
                )
                .with_hint("return {ready: [...], further: [...]}"));
            }
            let empty = Value::list(vec![]);
            let ready = messages(r.get("ready").unwrap_or(&empty), "ready")?;
            let further = messages(r.get("further").unwrap_or(&empty), "further")?;
            Ok((ready, further))
        }
        other => Err(RuntimeError::new(
            codes::BAD_RESULT,
            format!(
                "a pass must return a list of messages or {{ready, further}}, got {} `{}`",
                other.type_name(),
                other.repr()
            ),
        )),
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
