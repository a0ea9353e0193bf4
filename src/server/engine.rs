//! The engine's side of `voyager serve`: one thread owns the instance (its
//! values are not `Send`) and runs the engine step by step; between steps,
//! and while it waits for a timer, it takes requests from the HTTP side.
//! A request is a closure run on this thread with the [`Side`].

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::rc::Rc;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use serde_json::{json, Value as Json};

use super::guard::{self, Guard, Refusal, PRIVATE};
use super::track::{Observer, Origin, Shared, Sub, Tracker};
use super::ApiError;
use crate::codes;
use crate::diag::Diagnostic;
use crate::engine::serial;
use crate::runtime::{LoadError, Voyager};
use crate::store::pg::PgShared;
use crate::syntax::ast::{Expr, ExprKind, Stmt, StmtKind};
use crate::syntax::visit::{walk_expr, walk_stmt, Visit};

/// The names an expression uses, and the names at the root of what it
/// assigns to or changes in place (`x = …`, `x.f = …`, `x[i] += …`,
/// `push(x.hosts, h)`, `pop(x)`).
#[derive(Default)]
struct Names {
    used: Vec<String>,
    assigned: Vec<String>,
}

impl Names {
    fn changes(&mut self, target: &Expr) {
        let mut root = target;
        while let ExprKind::Field(inner, _) | ExprKind::Index(inner, _) = &root.kind {
            root = inner;
        }
        if let ExprKind::Name(n) = &root.kind {
            self.assigned.push(n.clone());
        }
    }
}

impl Visit for Names {
    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Name(n) => self.used.push(n.clone()),
            // The natives that change a list in place.
            ExprKind::Call(callee, args) if matches!(&callee.kind, ExprKind::Name(f) if f == "push" || f == "pop") => {
                if let Some(list) = args.first() {
                    self.changes(list);
                }
            }
            _ => {}
        }
        walk_expr(self, e);
    }

    fn stmt(&mut self, s: &Stmt) {
        if let StmtKind::Assign(target, _, _) = &s.kind {
            self.changes(target);
        }
        walk_stmt(self, s);
    }
}
use crate::vm::message::{Args, Message, Msg};
use crate::vm::value::{ActionDef, Value};

/// What a request does on the engine's thread.
pub type Job = Box<dyn FnOnce(&mut Side) + Send>;

/// What the engine thread holds.
pub struct Side {
    pub v: Voyager,
    pub tracker: Shared,
    /// Native actions a request may name.
    allow_native: Vec<String>,
    /// `--max-instructions` for a request's expression.
    max_instructions: Option<u64>,
    /// `--max-request-memory`: what a request's expression may allocate.
    max_request_memory: usize,
    pub stop: bool,
    /// A `NOTIFY` came (see [`listen`]): the queue may hold work.
    pub woken: bool,
    /// `POST /v1/pause` with no action: nothing steps until resumed.
    paused_all: bool,
    /// Actions paused by name (their new calls wait).
    paused: std::collections::BTreeMap<String, u32>,
    stored: bool,
    submissions: u64,
    /// With a store: requests enqueued since the last commit, and the
    /// answers that wait for it (an id is handed out only once committed;
    /// the requests that came together share one commit).
    uncommitted: bool,
    after_commit: Vec<Box<dyn FnOnce() + Send>>,
    /// With a PostgreSQL store: the shared queue this server works as one
    /// worker more, and where its requests' messages go.
    pg: Option<PgQueue>,
}

/// The PostgreSQL queue `voyager serve --store postgres://…` works.
pub struct PgQueue {
    /// The engine's store (also wrapped in the [`Observer`]).
    pub shared: PgShared,
    pub url: String,
    /// The script's name and its source's hash, as `voyager enqueue`
    /// records them.
    pub script: String,
    pub hash: String,
    /// The connection requests' messages are enqueued over.
    pub enqueuer: crate::store::pg::report::Enqueuer,
}

/// How the engine side is set up.
pub struct Setup {
    pub allow_native: Vec<String>,
    pub max_instructions: Option<u64>,
    pub max_request_memory: usize,
    /// Finished items remembered (the oldest are forgotten past it).
    pub keep: usize,
}

impl Side {
    /// Takes over an instance: its store (if any) is wrapped in an
    /// [`Observer`] that tracks every item.
    pub fn new(mut v: Voyager, setup: Setup, pg: Option<PgQueue>) -> Side {
        let tracker: Shared = Rc::new(RefCell::new(Tracker::new(setup.keep)));
        let inner = v.engine.take_store();
        let stored = inner.is_some();
        // What a resumed store holds is known from the start (its items
        // keep their submissions' ids), not only once it steps.
        for (id, state, message) in v.engine.live_items() {
            let group = inner.as_ref().and_then(|s| s.group_of(id));
            tracker.borrow_mut().resumed(id, group, state, message);
        }
        let observer = Observer {
            tracker: tracker.clone(),
            inner,
        };
        v.engine.set_store(Box::new(observer), false);
        v.engine.vm.fuel_limit = setup.max_instructions;
        Side {
            v,
            tracker,
            allow_native: setup.allow_native,
            max_instructions: setup.max_instructions,
            max_request_memory: setup.max_request_memory,
            stop: false,
            woken: false,
            paused_all: false,
            paused: Default::default(),
            stored,
            submissions: 0,
            uncommitted: false,
            after_commit: Vec::new(),
            pg,
        }
    }

    /// An action a request may not name: native (a command, a file, a
    /// request) and not allowed by `--allow-native`.
    fn refused(&self, action: &ActionDef) -> bool {
        guard::refused_action(action, &self.allow_native)
    }

    /// The first thing a request may not reach in a message, looked
    /// through deep (function values' code and captures included).
    fn refused_in(&self, m: &Message) -> Option<Refusal> {
        Guard::new(&self.v.engine.vm.globals, &self.allow_native).message(m, 0)
    }

    fn refused_in_value(&self, value: &Value) -> Option<Refusal> {
        Guard::new(&self.v.engine.vm.globals, &self.allow_native).value(value, 0)
    }

    fn native_refused(refusal: &Refusal) -> ApiError {
        match refusal {
            Refusal::Deep => ApiError::new(
                403,
                codes::API_NATIVE_REFUSED,
                "a request's message nests too deep to check which actions it calls",
            )
            .hint("send a flatter message (at most 200 levels)"),
            Refusal::Private(name) => private_refused(name),
            Refusal::Native(name) => ApiError::new(
                403,
                codes::API_NATIVE_REFUSED,
                format!("a request may not call the native action `{name}`"),
            )
            .hint(format!(
                "call one of the script's own actions, or start the server with --allow-native {name}"
            )),
        }
    }

    /// `POST /v1/messages`: one expression, evaluated (within
    /// `--max-instructions`), whose value must be a message; it is enqueued.
    pub fn submit(&mut self, text: &str, priority: i16) -> Result<u64, ApiError> {
        let stmts = crate::runtime::parse_source(0, text)
            .map_err(|diags| self.diagnostic(&diags[0], Some(text)))?;
        let only_expression = stmts.len() == 1 && matches!(stmts[0].kind, StmtKind::Expr(_));
        // A native action named anywhere in the text (a lambda's body
        // included, which runs later, as a callback) is refused before
        // anything is evaluated.
        let mut names = Names::default();
        stmts.iter().for_each(|s| names.stmt(s));
        if let Some(name) = names.used.iter().find(|n| PRIVATE.contains(&n.as_str())) {
            return Err(private_refused(name));
        }
        if let Some(name) = names
            .used
            .iter()
            .find(|n| self.v.action_named(n).is_some_and(|a| self.refused(&a)))
        {
            return Err(Side::native_refused(&Refusal::Native(name.as_str().into())));
        }
        // A script's global changed by a request (assigned, or a list in
        // it pushed to or popped) would change what the script's actions
        // do (a command they run, say): refused. (A local of the request's
        // own by the same name is refused too.)
        if let Some(name) = names
            .assigned
            .iter()
            .find(|n| self.v.globals().lookup(n).is_some())
        {
            return Err(ApiError::new(
                403,
                codes::API_NATIVE_REFUSED,
                format!("a request may not change the script's global `{name}`"),
            )
            .hint("a request builds a message; the script's own actions keep its state"));
        }
        if !only_expression {
            return Err(ApiError::new(
                400,
                codes::API_NOT_A_MESSAGE,
                "a request holds one expression whose value is a message, not statements or declarations",
            )
            .hint("send e.g. {\"message\": \"call(build, 1)\"}; declare actions in the script"));
        }
        self.submissions += 1;
        let name = format!("request#{}", self.submissions);
        self.v.enqueue_top_level = false;
        self.v.engine.vm.fuel_limit = self.max_instructions;
        // The request's source is dropped once it ran: source ids are 16
        // bits, and a server takes many more requests than that.
        let sources = self.v.sources.len();
        // The memory limit, lowered to what is in use plus the request's
        // share while it is evaluated (this thread is the only one that
        // checks it).
        let limit = crate::memory::limit();
        if let Some(in_use) = crate::memory::in_use() {
            let bound = in_use.saturating_add(self.max_request_memory);
            crate::memory::set_limit(Some(limit.map_or(bound, |l| l.min(bound))));
        }
        let evaluated = self.v.eval(&name, text);
        crate::memory::set_limit(limit);
        let value = match evaluated {
            Ok(value) => value,
            Err(LoadError::Compile(diags)) => {
                let first = diags.iter().find(|d| d.is_error()).unwrap_or(&diags[0]);
                let e = self.diagnostic(first, None);
                self.v.sources.truncate(sources);
                return Err(e);
            }
            Err(LoadError::Runtime(d)) => {
                let mut e = self.diagnostic(&d, None);
                if d.code == codes::MEMORY {
                    e.hint = Some(
                        "a request's expression may use at most --max-request-memory (64MiB)"
                            .into(),
                    );
                }
                self.v.sources.truncate(sources);
                return Err(e);
            }
        };
        self.v.sources.truncate(sources);
        let Value::Message(m) = value else {
            return Err(ApiError::new(
                400,
                codes::API_NOT_A_MESSAGE,
                format!(
                    "the expression's value is {}, not a message",
                    value.type_name()
                ),
            )
            .hint("build a message: call(action, …), seq([…]), conc([…]), …"));
        };
        if let Some(refusal) = self.refused_in(&m) {
            return Err(Side::native_refused(&refusal));
        }
        self.submit_message(Origin::Message, m, priority)
    }

    /// `POST /v1/messages` with a message in the JSON form a
    /// `--dead-letters` file holds: read against the script's actions,
    /// checked as an expression's message is, and enqueued.
    pub fn submit_json(&mut self, j: &Json, priority: i16) -> Result<u64, ApiError> {
        let lookup = |name: &str| self.v.global_named(name);
        let m = serial::message_from_json(j, &lookup).map_err(|why| {
            ApiError::new(
                400,
                codes::API_BAD_REQUEST,
                format!("the message cannot be read: {why}"),
            )
            .hint("send the `message` of a --dead-letters record, e.g. {\"call\": {\"action\": \"double\", \"args\": [1]}}")
        })?;
        if let Some(refusal) = self.refused_in(&m) {
            return Err(Side::native_refused(&refusal));
        }
        self.submit_message(Origin::Message, m, priority)
    }

    /// A request's message as a new submission: into the engine (see
    /// [`Side::enqueue`]), or with a PostgreSQL store into its queue, as
    /// `voyager enqueue` adds one (committed before the id, the row's, is
    /// handed out); any worker may take it, this server's engine included.
    fn submit_message(&mut self, origin: Origin, m: Msg, priority: i16) -> Result<u64, ApiError> {
        let Some(pg) = &mut self.pg else {
            return Ok(self.enqueue(origin, m, priority));
        };
        let json = serial::message_to_json(&m).map_err(|e| {
            ApiError::new(
                400,
                codes::API_NOT_A_MESSAGE,
                format!("the message cannot be stored: {e}"),
            )
        })?;
        let row = pg
            .enqueuer
            .enqueue(&pg.script, &pg.hash, &serial::to_line(&json), priority)
            .map_err(|e| {
                ApiError::new(
                    503,
                    codes::STORE_FAILED,
                    format!("the message could not be enqueued: {}", e.message),
                )
                .hint("the PostgreSQL store could not be reached; send it again later")
            })?;
        let id = row.and_then(|r| u64::try_from(r).ok()).unwrap_or(0);
        self.tracker.borrow_mut().expect(id, origin);
        Ok(id)
    }

    /// Enqueues a message as a new submission; with a store, committed
    /// before the id is handed out.
    fn enqueue(&mut self, origin: Origin, m: Msg, priority: i16) -> u64 {
        self.tracker.borrow_mut().begin(origin, Some(m.clone()));
        self.v.engine.enqueue_with_priority(&m, priority);
        let engine = &mut self.v.engine;
        let id = self
            .tracker
            .borrow_mut()
            .end_entry(|| engine.reserve_item_id());
        self.uncommitted |= self.stored;
        id
    }

    /// Sends a request's answer: at once, or after the commit of what it
    /// enqueued.
    pub fn answer(&mut self, send: Box<dyn FnOnce() + Send>) {
        if self.uncommitted {
            self.after_commit.push(send);
        } else {
            send();
        }
    }

    /// Commits what requests enqueued, then sends their answers (none if
    /// the store failed: the requests then see the server stop).
    fn commit_requests(&mut self) -> Option<String> {
        if !self.uncommitted {
            return None;
        }
        self.uncommitted = false;
        self.v.engine.commit_top_level();
        if let Some(why) = self.v.engine.store_mut().and_then(|s| s.failure()) {
            self.after_commit.clear();
            return Some(why);
        }
        for send in self.after_commit.drain(..) {
            send();
        }
        None
    }

    /// `POST /v1/call/{action}`: `call(action, args…)` enqueued.
    pub fn call(&mut self, action: &str, args: &Json) -> Result<u64, ApiError> {
        let Some(a) = self.v.action_named(action) else {
            return Err(ApiError::new(
                404,
                codes::API_NOT_FOUND,
                format!("the script has no action `{action}`"),
            ));
        };
        if self.refused(&a) {
            return Err(Side::native_refused(&Refusal::Native(action.into())));
        }
        let Json::Array(items) = args else {
            return Err(ApiError::new(
                400,
                codes::API_BAD_REQUEST,
                "the body must be a JSON array of the call's arguments",
            )
            .hint("send e.g. [1, \"eu\"] (or [] for none)"));
        };
        let (min, max) = a.arity();
        if items.len() < min || items.len() > max {
            return Err(ApiError::new(
                400,
                codes::ARITY,
                format!(
                    "`{action}` takes {}, but the request has {}",
                    crate::vm::error::takes(min, max),
                    items.len()
                ),
            ));
        }
        let lookup = |name: &str| self.v.global_named(name);
        let mut values = Vec::with_capacity(items.len());
        for (i, j) in items.iter().enumerate() {
            let value = serial::value_from_json(j, &lookup).map_err(|why| {
                ApiError::new(
                    400,
                    codes::API_BAD_REQUEST,
                    format!("argument {} cannot be read: {why}", i + 1),
                )
            })?;
            if let Some(refusal) = self.refused_in_value(&value) {
                return Err(Side::native_refused(&refusal));
            }
            values.push(value);
        }
        let m = Rc::new(Message::Call {
            action: a,
            args: Args::from(values),
        });
        self.submit_message(Origin::Call, m, 0)
    }

    /// `POST /v1/dead-letters/{id}/requeue`: the letter's message runs
    /// again as a new item.
    pub fn requeue(&mut self, letter: u64) -> Result<u64, ApiError> {
        let taken = self.tracker.borrow_mut().take_letter(letter);
        let Some(letter) = taken else {
            return Err(if self.tracker.borrow().letter_forgotten(letter) {
                gone("dead letter", letter)
            } else {
                not_found("dead letter", letter)
            });
        };
        if self.pg.is_some() {
            return self.requeue_in_pg(letter);
        }
        self.tracker.borrow_mut().counters.requeued += 1;
        if let Some(store) = self.v.engine.store_mut() {
            store.requeued(&letter.message);
        }
        Ok(self.enqueue(Origin::Requeue, letter.message, 0))
    }

    /// With a PostgreSQL store, a dead letter of this server's engine is
    /// requeued there, as `voyager requeue` does: the store's record of it
    /// (committed first) becomes a new item, in one transaction, that any
    /// worker may take.
    fn requeue_in_pg(&mut self, letter: super::track::Letter) -> Result<u64, ApiError> {
        self.v.engine.commit_top_level();
        let json = serial::message_to_json(&letter.message)
            .map(|j| serial::to_line(&j))
            .map_err(|e| ApiError::new(400, codes::API_BAD_REQUEST, e.to_string()))?;
        let Some(pg) = &mut self.pg else {
            return Err(not_found("dead letter", letter.id));
        };
        let row =
            pg.enqueuer
                .requeue_letter(&json, &letter.code, &letter.error, letter.attempts as i32);
        let id = letter.id;
        match row {
            Ok(Some(row)) => {
                let row = u64::try_from(row).unwrap_or(0);
                let mut t = self.tracker.borrow_mut();
                t.counters.requeued += 1;
                t.expect(row, Origin::Requeue);
                Ok(row)
            }
            Ok(None) => Err(ApiError::new(
                410,
                codes::API_GONE,
                format!("dead letter #{id} is not in the PostgreSQL store any more"),
            )
            .hint(
                "`voyager requeue` may have requeued it; `voyager dead-letters` lists the store's",
            )),
            Err(e) => {
                self.tracker.borrow_mut().letters.insert(id, letter);
                Err(ApiError::new(503, codes::STORE_FAILED, e.message))
            }
        }
    }

    /// `POST /v1/items/{id}/cancel`: the submission's engine items are
    /// taken out wherever they wait and their running jobs ended; it is
    /// recorded as cancelled (with a store, its items leave the store).
    pub fn cancel(&mut self, id: u64) -> Result<Json, ApiError> {
        let items = {
            let mut t = self.tracker.borrow_mut();
            match t.subs.get(&id) {
                None if t.expected.contains_key(&id) => {
                    drop(t);
                    return self.cancel_queued(id);
                }
                None if t.forgotten(id) => return Err(gone("item", id)),
                None => return Err(not_found("item", id)),
                Some(sub) if sub.is_finished() => {
                    return Err(ApiError::new(
                        409,
                        codes::API_FINISHED,
                        match sub.state() {
                            // Its messages wait in a topic, for a pass's
                            // batch: they are the topic's now.
                            "topic" => format!(
                                "item #{id} has run; what is left of it waits in a topic for its pass, and is not cancelled by item"
                            ),
                            state => format!(
                                "item #{id} has finished ({state}): there is nothing to cancel"
                            ),
                        },
                    ));
                }
                Some(_) => {}
            }
            t.cancel(id).unwrap_or_default()
        };
        let ids: std::collections::HashSet<u64> = items.into_iter().collect();
        self.v.engine.cancel_items(&ids);
        self.uncommitted |= self.stored;
        let mut t = self.tracker.borrow_mut();
        t.settle(id);
        Ok(t.subs.get(&id).map(Sub::detail).unwrap_or(Json::Null))
    }

    /// Cancels an item enqueued here into PostgreSQL that this server's
    /// engine has not taken, as `voyager cancel` does: its row moves to
    /// the cancel log (a worker holding it drops what it did).
    fn cancel_queued(&mut self, id: u64) -> Result<Json, ApiError> {
        let Some(pg) = &self.pg else {
            return Err(not_found("item", id));
        };
        let (done, _) = crate::store::pg::report::cancel(&pg.url, &[id as i64])
            .map_err(|e| ApiError::new(503, codes::STORE_FAILED, e.message))?;
        if done.is_empty() {
            return Err(ApiError::new(
                409,
                codes::API_FINISHED,
                format!(
                    "item #{id} is not in the PostgreSQL queue any more: another worker ran it, and its result is not known here"
                ),
            ));
        }
        let mut t = self.tracker.borrow_mut();
        t.expected.remove(&id);
        t.counters.cancelled += 1;
        Ok(json!({"id": id, "state": "cancelled"}))
    }

    /// What is paused: everything, and actions by name.
    pub fn pause_state(&self) -> Json {
        json!({
            "all": self.paused_all,
            "actions": self.paused.keys().collect::<Vec<_>>(),
        })
    }

    /// `POST /v1/pause` (`pause`) and `/v1/resume`: everything, or one
    /// action's calls.
    pub fn pause(&mut self, action: Option<&str>, pause: bool) -> Result<Json, ApiError> {
        match action {
            None => self.paused_all = pause,
            Some(name) => {
                let Some(a) = self.v.action_named(name) else {
                    return Err(ApiError::new(
                        404,
                        codes::API_NOT_FOUND,
                        format!("the script has no action `{}`", short(name)),
                    ));
                };
                if pause {
                    self.paused.insert(name.to_string(), a.id);
                    self.v.engine.pause_action(a.id);
                } else {
                    self.paused.remove(name);
                    self.v.engine.resume_action(a.id);
                }
            }
        }
        Ok(self.pause_state())
    }

    pub fn item(&self, id: u64) -> Result<Json, ApiError> {
        let t = self.tracker.borrow();
        match t.subs.get(&id) {
            Some(sub) => Ok(sub.detail()),
            None if t.expected.contains_key(&id) => {
                // Enqueued here into PostgreSQL, not taken by this
                // server's engine: waiting there, or another worker's.
                let held = match &self.pg {
                    Some(pg) => pg
                        .shared
                        .0
                        .borrow_mut()
                        .holds_row(id as i64)
                        .map_err(|e| ApiError::new(503, codes::STORE_FAILED, e.message))?,
                    None => false,
                };
                Ok(if held {
                    json!({
                        "id": id,
                        "state": "queued",
                        "elsewhere": false,
                        "note": "in the PostgreSQL queue: not taken yet, or held by another worker",
                    })
                } else {
                    json!({
                        "id": id,
                        "state": "elsewhere",
                        "elsewhere": true,
                        "note": "another worker ran it (or it made no item): its result is not known here; `voyager status` and `voyager dead-letters` show the store",
                    })
                })
            }
            None if t.forgotten(id) => Err(gone("item", id)),
            None => Err(not_found("item", id)),
        }
    }

    /// Newest first.
    pub fn items(&self, state: Option<&str>, limit: usize) -> Json {
        let t = self.tracker.borrow();
        let items: Vec<Json> = t
            .subs
            .values()
            .rev()
            .filter(|s| state.is_none_or(|want| s.state() == want))
            .take(limit)
            .map(Sub::summary)
            .collect();
        json!({ "items": items })
    }

    pub fn dead_letters(&self, limit: usize) -> Json {
        let t = self.tracker.borrow();
        let letters: Vec<Json> = t
            .letters
            .values()
            .rev()
            .take(limit)
            .map(|l| l.to_json())
            .collect();
        json!({ "dead_letters": letters, "total": t.letters.len() })
    }

    /// Counts for the dashboard and `/metrics`.
    pub fn counts(&self) -> Json {
        let t = self.tracker.borrow();
        let mut by_state = serde_json::Map::new();
        for state in super::STATES {
            by_state.insert(state.to_string(), json!(0));
        }
        for s in t.subs.values() {
            if let Some(n) = by_state.get_mut(s.state()) {
                *n = json!(n.as_u64().unwrap_or(0) + 1);
            }
        }
        let e = &self.v.engine;
        json!({
            "steps": e.stats.steps,
            "retries": e.stats.retries,
            "items": by_state,
            "queued": e.queued() + e.held(),
            "timers": e.waiting(),
            "in_topics": e.in_topics(),
            "parked": e.parked(),
            "submitted": t.counters.submitted,
            "finished": t.counters.finished,
            "dead_letters": t.counters.dead_letters,
            "dead_letters_waiting": t.letters.len(),
            "requeued": t.counters.requeued,
            "cancelled": t.counters.cancelled,
            "paused": self.pause_state(),
        })
    }

    /// `/metrics` in Prometheus' text format.
    pub fn metrics(&self) -> String {
        let c = self.counts();
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: &Json| {
            let _ = writeln!(out, "# HELP voyager_{name} {help}");
            let _ = writeln!(out, "# TYPE voyager_{name} {kind}");
            let _ = writeln!(out, "voyager_{name} {}", value.as_u64().unwrap_or(0));
        };
        metric(
            "steps_total",
            "counter",
            "Steps the engine took.",
            &c["steps"],
        );
        metric("retries_total", "counter", "Calls retried.", &c["retries"]);
        metric(
            "submitted_total",
            "counter",
            "Items submitted (and taken from the script).",
            &c["submitted"],
        );
        metric(
            "finished_total",
            "counter",
            "Items finished.",
            &c["finished"],
        );
        metric(
            "dead_letters_total",
            "counter",
            "Dead letters.",
            &c["dead_letters"],
        );
        metric(
            "requeued_total",
            "counter",
            "Dead letters requeued.",
            &c["requeued"],
        );
        metric(
            "cancelled_total",
            "counter",
            "Items cancelled.",
            &c["cancelled"],
        );
        metric(
            "queue_length",
            "gauge",
            "Engine items ready to step.",
            &c["queued"],
        );
        metric(
            "timers",
            "gauge",
            "Engine items waiting for a time.",
            &c["timers"],
        );
        metric(
            "in_topics",
            "gauge",
            "Messages in topic queues.",
            &c["in_topics"],
        );
        metric(
            "parked",
            "gauge",
            "Engine items waiting for native jobs.",
            &c["parked"],
        );
        let _ = writeln!(
            out,
            "# HELP voyager_paused Whether everything (action=\"*\") or an action's calls are paused."
        );
        let _ = writeln!(out, "# TYPE voyager_paused gauge");
        let _ = writeln!(
            out,
            "voyager_paused{{action=\"*\"}} {}",
            u8::from(self.paused_all)
        );
        for name in self.paused.keys() {
            let _ = writeln!(out, "voyager_paused{{action=\"{name}\"}} 1");
        }
        {
            let t = self.tracker.borrow();
            let w = &t.counters.job_waits;
            let _ = writeln!(
                out,
                "# HELP voyager_job_wait_seconds How long items waited on their native jobs (commands, files, requests), per wait."
            );
            let _ = writeln!(out, "# TYPE voyager_job_wait_seconds histogram");
            let mut total = 0;
            for (bound, n) in super::track::JOB_BUCKETS.iter().zip(w.counts) {
                total += n;
                let _ = writeln!(
                    out,
                    "voyager_job_wait_seconds_bucket{{le=\"{bound}\"}} {total}"
                );
            }
            total += w.counts[super::track::JOB_BUCKETS.len()];
            let _ = writeln!(
                out,
                "voyager_job_wait_seconds_bucket{{le=\"+Inf\"}} {total}"
            );
            let _ = writeln!(
                out,
                "voyager_job_wait_seconds_sum {}",
                w.sum_ms as f64 / 1000.0
            );
            let _ = writeln!(out, "voyager_job_wait_seconds_count {total}");
        }
        let _ = writeln!(out, "# HELP voyager_items Items remembered, by state.");
        let _ = writeln!(out, "# TYPE voyager_items gauge");
        if let Some(states) = c["items"].as_object() {
            for (state, n) in states {
                let _ = writeln!(
                    out,
                    "voyager_items{{state=\"{state}\"}} {}",
                    n.as_u64().unwrap_or(0)
                );
            }
        }
        out
    }

    /// A diagnostic as the API shows it: code, message, line, column, hint.
    fn diagnostic(&self, d: &Diagnostic, text: Option<&str>) -> ApiError {
        let mut e = ApiError::new(400, d.code, d.title.clone());
        if let Some(loc) = d.loc {
            let source = match text {
                Some(t) => Some(t),
                None => (usize::from(loc.source) < self.v.sources.len())
                    .then(|| self.v.sources.text(loc.source)),
            };
            if let Some(src) = source {
                let start = (loc.span.start as usize).min(src.len());
                let before = src.get(..start).unwrap_or(src);
                let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                e.line = Some(crate::syntax::span::line_of(src, start));
                e.column = Some(before[line_start..].chars().count() + 1);
            }
        }
        if !d.label.is_empty() && d.label != d.title {
            e.message = format!("{}: {}", d.title, d.label);
        }
        e.hint = d.hint.clone();
        e
    }
}

/// A piece of a request, shown in an error: cut short.
fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

fn private_refused(name: &str) -> ApiError {
    ApiError::new(
        403,
        codes::API_NATIVE_REFUSED,
        format!("a request may not read the server's environment or command line (`{name}`)"),
    )
    .hint("the script can read what requests need and pass it on")
}

fn gone(what: &str, id: u64) -> ApiError {
    ApiError::new(
        410,
        codes::API_GONE,
        format!("{what} #{id} is not known: it finished and is forgotten, or the id was never handed out"),
    )
    .hint("the server remembers the newest --keep finished items and dead letters, and none that finished before it started")
}

fn not_found(what: &str, id: u64) -> ApiError {
    ApiError::new(404, codes::API_NOT_FOUND, format!("no {what} #{id}"))
}

/// Runs the engine and the requests until a request sets `stop` or every
/// sender is gone. With a store, everything is committed (or left queued)
/// when it returns.
pub fn run(mut side: Side, requests: Receiver<Job>) -> Option<String> {
    let requests = Rc::new(requests);
    let stash: Rc<RefCell<VecDeque<Job>>> = Rc::default();
    let pg = side.pg.is_some();
    let mut drive = Drive::new(&side);
    {
        let requests = requests.clone();
        let stash = stash.clone();
        side.v.engine.wait_hook = Some(Box::new(move |clock, until| {
            if clock.is_virtual() {
                clock.wait_until(until);
                return;
            }
            let now = clock.now();
            if until > now {
                let mut wait = Duration::from_millis((until - now) as u64);
                if pg {
                    // The queue is looked at again within a second.
                    wait = wait.min(SECOND);
                }
                if let Ok(job) = requests.recv_timeout(wait) {
                    stash.borrow_mut().push_back(job);
                }
            }
        }));
    }
    let mut failure = None;
    loop {
        loop {
            let next = stash.borrow_mut().pop_front();
            match next.or_else(|| requests.try_recv().ok()) {
                Some(job) => job(&mut side),
                None => break,
            }
        }
        if let Some(why) = side.commit_requests() {
            failure = Some(why);
            break;
        }
        if side.stop {
            break;
        }
        if side.paused_all {
            // Nothing steps; requests are still answered.
            side.v.engine.commit_top_level();
            side.v.flush();
            match requests.recv() {
                Ok(job) => stash.borrow_mut().push_back(job),
                Err(_) => break,
            }
            continue;
        }
        if pg {
            match drive.turn(&mut side) {
                Turn::Busy => continue,
                Turn::Failed(why) => {
                    failure = Some(why);
                    break;
                }
                Turn::Idle => {}
            }
            side.v.flush();
            // Nothing here, nothing to take: wait for a request or a
            // NOTIFY (which [`listen`] turns into a request), or a second.
            match requests.recv_timeout(SECOND) {
                Ok(job) => stash.borrow_mut().push_back(job),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            }
            // The NOTIFYs the store's own connection got meanwhile are
            // read (they would pile up in it).
            if let Some(q) = &side.pg {
                let _ = q.shared.0.borrow_mut().wait(Duration::from_millis(1), None);
            }
            drive.hopeful = true;
            continue;
        }
        if side.v.engine.step_once() {
            if let Some(why) = side.v.engine.store_mut().and_then(|s| s.failure()) {
                failure = Some(why);
                break;
            }
            continue;
        }
        // Idle: commit, forget the engine's copies of dead letters (the
        // tracker keeps them), and sleep until a request comes.
        side.v.engine.commit_top_level();
        side.v.flush();
        drop(side.v.engine.take_dead_letters());
        match requests.recv() {
            Ok(job) => stash.borrow_mut().push_back(job),
            Err(_) => break,
        }
    }
    if let Some(q) = &side.pg {
        // As `voyager worker` stops: the results of native jobs that
        // finished are kept, running commands end (their items run them
        // again elsewhere), what was done is committed, and every lease
        // is handed back (a delayed item waits in PostgreSQL for any
        // worker).
        side.v.engine.stop_keeping_results();
        side.v.engine.commit_top_level();
        side.v.flush();
        q.shared.0.borrow_mut().release();
    }
    // Running jobs end; their items stay in the store as they were (a
    // resumed run starts them again).
    side.v.engine.end_jobs();
    side.v.engine.commit_top_level();
    side.v.flush();
    if failure.is_none() {
        failure = side.v.engine.store_mut().and_then(|s| s.failure());
    }
    failure
}

const SECOND: Duration = Duration::from_secs(1);

/// What one turn of the PostgreSQL loop did.
enum Turn {
    /// It did something (or may): turn again, after the requests.
    Busy,
    /// Nothing here, nothing to take: wait.
    Idle,
    Failed(String),
}

/// `voyager serve --store postgres://…`: the engine works the shared queue
/// as `voyager worker` does ([`crate::worker::drive`]), a turn at a time,
/// so that requests are answered between turns.
struct Drive {
    last_take: std::time::Instant,
    last_rescue: Option<std::time::Instant>,
    /// Whether taking may find something now (else after a NOTIFY, a
    /// request, or a second).
    hopeful: bool,
    stalled: std::collections::HashMap<String, i64>,
    steps_seen: u64,
}

impl Drive {
    fn new(side: &Side) -> Drive {
        Drive {
            last_take: std::time::Instant::now(),
            last_rescue: None,
            hopeful: true,
            stalled: Default::default(),
            steps_seen: side.v.engine.stats.steps,
        }
    }

    fn turn(&mut self, side: &mut Side) -> Turn {
        let Some(q) = &side.pg else {
            return Turn::Idle;
        };
        let pg = q.shared.clone();
        if std::mem::take(&mut side.woken) {
            self.hopeful = true;
        }
        let v = &mut side.v;
        if v.engine.stats.steps != self.steps_seen {
            self.steps_seen = v.engine.stats.steps;
            self.stalled.clear();
        }
        if let Some(why) = v.engine.store_mut().and_then(|s| s.failure()) {
            return Turn::Failed(why);
        }
        if v.engine.queued() == 0 && (self.hopeful || self.last_take.elapsed() >= SECOND) {
            // What was done is committed before more is taken.
            v.engine.commit_top_level();
            drop(v.engine.take_dead_letters());
            if self.last_rescue.is_none_or(|t| t.elapsed() >= SECOND) {
                self.last_rescue = Some(std::time::Instant::now());
                if let Err(e) = pg.0.borrow_mut().rescue() {
                    return Turn::Failed(e.message);
                }
            }
            if let Err(why) = crate::worker::run_passes(v, &pg, false, &mut self.stalled) {
                return Turn::Failed(why);
            }
            let taken = pg.0.borrow_mut().take();
            let taken = match taken {
                Ok(t) => t,
                Err(e) => return Turn::Failed(e.message),
            };
            self.last_take = std::time::Instant::now();
            self.hopeful = !taken.is_empty();
            if self.hopeful {
                crate::worker::enter(v, &pg, taken);
                return Turn::Busy;
            }
            if let Err(why) = crate::worker::run_passes(v, &pg, true, &mut self.stalled) {
                return Turn::Failed(why);
            }
        }
        if v.engine.step_once() {
            if let Some(why) = v.engine.store_mut().and_then(|s| s.failure()) {
                return Turn::Failed(why);
            }
            if v.engine.take_idle_passes_due() {
                v.engine.commit_top_level();
                if let Err(why) = crate::worker::run_passes(v, &pg, true, &mut self.stalled) {
                    return Turn::Failed(why);
                }
            }
            return Turn::Busy;
        }
        v.engine.commit_top_level();
        if self.hopeful {
            return Turn::Busy;
        }
        match crate::worker::run_passes(v, &pg, true, &mut self.stalled) {
            Ok(true) => {
                self.hopeful = true;
                Turn::Busy
            }
            Ok(false) => Turn::Idle,
            Err(why) => Turn::Failed(why),
        }
    }
}

/// With a PostgreSQL store: a thread of its own `LISTEN`s on the queue's
/// channel (on a connection of its own) and wakes the engine thread through
/// the request channel when work is added or handed back, so that an idle
/// engine waits for requests and `NOTIFY`s alike. At most one wake waits
/// at a time; the thread ends once the engine thread is gone.
pub fn listen(url: String, wake: std::sync::mpsc::SyncSender<Job>) {
    use postgres::fallible_iterator::FallibleIterator;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::TrySendError;
    let pending = std::sync::Arc::new(AtomicBool::new(false));
    let spawned = std::thread::Builder::new()
        .name("voyager-listen".into())
        .spawn(move || loop {
            let connected = crate::store::pg::connect(&url).ok().and_then(|mut c| {
                c.batch_execute(&format!("LISTEN {}", crate::store::pg::CHANNEL))
                    .ok()
                    .map(|()| c)
            });
            let Some(mut client) = connected else {
                std::thread::sleep(SECOND);
                continue;
            };
            let mut notes = client.notifications();
            let mut iter = notes.blocking_iter();
            while let Ok(Some(_)) = iter.next() {
                if pending.swap(true, Ordering::SeqCst) {
                    continue;
                }
                let clear = pending.clone();
                let job: Job = Box::new(move |side| {
                    clear.store(false, Ordering::SeqCst);
                    side.woken = true;
                });
                match wake.try_send(job) {
                    Ok(()) => {}
                    // Requests wait: the engine looks at the queue soon.
                    Err(TrySendError::Full(_)) => pending.store(false, Ordering::SeqCst),
                    Err(TrySendError::Disconnected(_)) => return,
                }
            }
            // The connection is gone: again, after a moment.
            std::thread::sleep(SECOND);
        });
    if let Err(e) = spawned {
        eprintln!("warning: cannot start the thread that listens for work ({e}): the queue is looked at every second");
    }
}
