//! The loop of a worker on a shared queue (a PostgreSQL store): [`drive`]
//! takes a batch of ready items when the engine has nothing queued, steps
//! them, runs the topics' passes, and sleeps on `LISTEN` when there is
//! nothing to take. `voyager worker`, `run --store postgres://…` and
//! `voyager serve --store postgres://…` use it (the last one a step at a
//! time, between its requests).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::engine::serial;
use crate::engine::store::Resumed;
use crate::engine::Finish;
use crate::runtime::{LoadError, Voyager};
use crate::store::pg::{self, PgShared, Taken, MAX_TAKES};
use crate::vm::message::Msg;
use crate::vm::value::Value;

/// Topics, durable state and resource limits live in the store, shared
/// with every other worker: `state_get` reads the store's current value
/// (see [`crate::store::pg::PgStore::read_state`]), a limited call takes
/// its turn across workers ([`crate::store::pg::PgStore::acquire`]), and
/// topics' passes run as [`run_passes`] says.
pub fn share(v: &mut Voyager, pg: &PgShared) {
    // Other workers' messages name functions this script may not name
    // (the prelude's, restored by name).
    v.load_prelude();
    v.engine.share_topics();
    let pg = pg.clone();
    v.engine.shared_limits = Some(Box::new(pg.clone()));
    v.engine.state.borrow_mut().reader =
        Some(Box::new(move |key| pg.0.borrow_mut().read_state(key)));
}

/// Runs the passes of topics whose messages wait in the store (shared by
/// every worker): with `all`, of every topic holding any (the worker has
/// nothing else to do); else only of topics holding a full batch
/// (`--batch`). One worker at a time runs a topic's pass (see
/// [`crate::store::pg::PgStore::claim_pass`]); each pass is committed on its own. A topic
/// whose last pass here handed its whole batch back (`further`) is
/// skipped until more arrives. Returns whether a pass made progress.
pub fn run_passes(
    v: &mut Voyager,
    pg: &PgShared,
    all: bool,
    stalled: &mut HashMap<String, i64>,
) -> Result<bool, String> {
    let topics = v.engine.pass_topics();
    if topics.is_empty() {
        return Ok(false);
    }
    let counts: HashMap<String, i64> =
        pg.0.borrow_mut()
            .topic_counts()
            .map_err(|e| e.message)?
            .into_iter()
            .collect();
    stalled.retain(|t, n| counts.get(t) == Some(n));
    let batch = v.engine.config.batch as i64;
    let mut progress = false;
    for topic in topics {
        let n = counts.get(&*topic).copied().unwrap_or(0);
        if n == 0 || (!all && n < batch) || stalled.contains_key(&*topic) {
            continue;
        }
        let batch = claim(v, pg, &topic)?;
        if batch.is_empty() {
            continue;
        }
        let size = batch.len() as i64;
        let moved = v.engine.run_shared_pass(&topic, batch);
        v.engine.commit_top_level();
        if let Some(why) = v.engine.store_mut().and_then(|s| s.failure()) {
            return Err(why);
        }
        if moved {
            progress = true;
        } else {
            stalled.insert(topic.to_string(), size);
        }
    }
    Ok(progress)
}

/// Takes what waits in `topic` for a pass (nothing if another worker is
/// running that pass), as messages.
fn claim(v: &mut Voyager, pg: &PgShared, topic: &str) -> Result<Vec<Msg>, String> {
    let rows = pg.0.borrow_mut().claim_pass(topic).map_err(|e| e.message)?;
    let mut batch = Vec::with_capacity(rows.len());
    for text in &rows {
        let lookup = |name: &str| v.global_named(name);
        let message = serial::from_line(text)
            .map_err(|e| e.to_string())
            .and_then(|j| serial::message_from_json(&j, &lookup));
        match message {
            Ok(m) => batch.push(m),
            Err(why) => {
                let mut pgs = pg.0.borrow_mut();
                let _ = pgs.unclaim_pass();
                return Err(pg::script_changed_error(&pgs.url(), &why).message);
            }
        }
    }
    Ok(batch)
}

/// Nothing anywhere can run, and the passes of the `stalled` topics kept
/// handing everything back for the engine's rounds: their contents are
/// dead letters (E0305), as in one process.
fn dead_stuck(
    v: &mut Voyager,
    pg: &PgShared,
    stalled: &HashMap<String, i64>,
) -> Result<(), String> {
    let mut topics: Vec<&String> = stalled.keys().collect();
    topics.sort();
    for topic in topics {
        let batch = claim(v, pg, topic)?;
        if batch.is_empty() {
            continue;
        }
        v.engine.dead_stuck_batch(topic, batch);
        v.engine.commit_top_level();
        if let Some(why) = v.engine.store_mut().and_then(|s| s.failure()) {
            return Err(why);
        }
    }
    Ok(())
}

/// How long an idle worker that ends when the store is idle first waits
/// for the others' work to end (doubling up to a second).
const FIRST_IDLE_WAIT: Duration = Duration::from_millis(10);

/// Works the store's queue until interrupted or (with `until_idle`) until
/// the store holds no unfinished work, which marks its run finished.
/// What the engine did is committed before this returns; an interrupted
/// worker commits what it finished and hands its leases back. A `worker` keeps no dead letters in
/// memory once they are committed (a run lists them at its end).
pub fn drive(v: &mut Voyager, pg: &PgShared, until_idle: bool, worker: bool) -> Finish {
    let interrupt = v.engine.interrupt.clone();
    let second = Duration::from_secs(1);
    let mut last_take = Instant::now();
    let mut idle_wait = FIRST_IDLE_WAIT;
    let mut last_rescue: Option<Instant> = None;
    // Whether taking may find something now (else: after a NOTIFY, or a
    // second).
    let mut hopeful = true;
    // Topics whose last pass here made no progress, and their size then.
    let mut stalled: HashMap<String, i64> = HashMap::new();
    // Idle rounds in a row with only stalled topics left anywhere, and
    // the steps done when last looked (a step may unblock a pass: it may
    // look at a global the step changed).
    let mut stuck_rounds = 0;
    let mut steps_seen = v.engine.stats.steps;
    let finish = loop {
        if v.engine.stats.steps != steps_seen {
            steps_seen = v.engine.stats.steps;
            stalled.clear();
            stuck_rounds = 0;
        }
        if interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
        {
            // A graceful stop: a step the signal cut short is dropped (it
            // runs again elsewhere); the steps done, and the results of
            // native jobs that finished, are committed; running commands
            // are ended (their items run them again elsewhere); then every
            // lease is handed back, below.
            pg.0.borrow_mut().abandon_step();
            v.engine.stop_keeping_results();
            v.engine.commit_top_level();
            break Finish::Interrupted;
        }
        if let Some(why) = v.engine.store_mut().and_then(|s| s.failure()) {
            break Finish::StoreFailed(why);
        }
        if let Some(limit) = v.engine.config.max_steps {
            if v.engine.stats.work() >= limit {
                v.engine.commit_top_level();
                break Finish::StepLimit {
                    unfinished: v.engine.pending(),
                };
            }
        }
        if v.engine.queued() == 0 && (hopeful || last_take.elapsed() >= second) {
            // What was done is committed before more is taken.
            v.engine.commit_top_level();
            if worker && !v.engine.dead_letters().is_empty() {
                v.engine.take_dead_letters();
            }
            let mut pgs = pg.0.borrow_mut();
            if last_rescue.is_none_or(|t| t.elapsed() >= second) {
                last_rescue = Some(Instant::now());
                if let Err(e) = pgs.rescue() {
                    break Finish::StoreFailed(e.message);
                }
            }
            drop(pgs);
            // A topic holding a full batch runs its pass before more is
            // taken (as in one process, where it runs as soon as it fills).
            if let Err(why) = run_passes(v, pg, false, &mut stalled) {
                break Finish::StoreFailed(why);
            }
            let mut pgs = pg.0.borrow_mut();
            let taken = match pgs.take() {
                Ok(t) => t,
                Err(e) => break Finish::StoreFailed(e.message),
            };
            drop(pgs);
            last_take = Instant::now();
            hopeful = !taken.is_empty();
            if hopeful {
                idle_wait = FIRST_IDLE_WAIT;
                enter(v, pg, taken);
                continue;
            }
            // Nothing to take, and nothing ready here (a long timer may be
            // waiting): what other workers routed into topics is passed
            // on, as in one process when nothing is ready.
            if let Err(why) = run_passes(v, pg, true, &mut stalled) {
                break Finish::StoreFailed(why);
            }
        }
        if v.engine.step_once() {
            if v.engine.take_idle_passes_due() {
                // Nothing ready here (timers or jobs may be waiting): the
                // topics' passes run, as in one process.
                v.engine.commit_top_level();
                if let Err(why) = run_passes(v, pg, true, &mut stalled) {
                    break Finish::StoreFailed(why);
                }
            }
            continue;
        }
        // Nothing in this worker: commit, and wait for work.
        v.engine.commit_top_level();
        if hopeful {
            continue;
        }
        // What other workers routed into topics meanwhile.
        match run_passes(v, pg, true, &mut stalled) {
            Ok(true) => {
                hopeful = true;
                continue;
            }
            Ok(false) => {}
            Err(why) => break Finish::StoreFailed(why),
        }
        if until_idle {
            let empty = pg.0.borrow_mut().is_empty(&stalled);
            match empty {
                Ok(true) if !stalled.is_empty() => {
                    // Only stalled passes are left: they run again (as
                    // the engine's idle rounds do), then their topics'
                    // contents are dead letters.
                    stuck_rounds += 1;
                    if stuck_rounds > v.engine.config.max_idle_pass_rounds {
                        if let Err(why) = dead_stuck(v, pg, &stalled) {
                            break Finish::StoreFailed(why);
                        }
                        stuck_rounds = 0;
                    }
                    stalled.clear();
                    hopeful = true;
                    continue;
                }
                Ok(true) => {
                    // A run with schedules is never finished (as with
                    // SQLite): the same command goes on with them.
                    let scheduled = v.engine.schedules_on && v.engine.schedules().next().is_some();
                    if let Some(store) = v.engine.store_mut().filter(|_| !scheduled) {
                        store.finished();
                    }
                    break Finish::Idle;
                }
                Ok(false) => {}
                Err(e) => break Finish::StoreFailed(e.message),
            }
        }
        // Work is left, leased to other workers (or waiting for its time).
        // A worker that ends when the store is idle looks again soon, then
        // less and less often, so that it ends soon after the others'
        // last commit (which sends no NOTIFY).
        let wait = if until_idle { idle_wait } else { second };
        let _ = pg.0.borrow_mut().wait(wait, interrupt.as_deref());
        idle_wait = (idle_wait * 2).min(second);
        hopeful = true;
    };
    v.flush();
    if !matches!(finish, Finish::Idle) {
        pg.0.borrow_mut().release();
    }
    if let Some(why) = v.engine.store_mut().and_then(|s| s.failure()) {
        return Finish::StoreFailed(why);
    }
    finish
}

/// Puts taken rows into the engine: an item as it was left, or a message
/// (enqueued JSON, or expression text compiled here) entered and routed as
/// a new one would be, its first item keeping the row. A row that cannot
/// run is a dead letter.
pub fn enter(v: &mut Voyager, pg: &PgShared, taken: Vec<Taken>) {
    for t in taken {
        if t.attempts > MAX_TAKES {
            let error = format!(
                "taken {} times, and each time its worker stopped before it finished",
                t.attempts - 1
            );
            pg.0.borrow_mut()
                .dead_row(&t, shown_body(&t), crate::codes::ITEM_ABANDONED, error);
            continue;
        }
        if t.form != "node" {
            // A message enqueued: a group of its own.
            pg.0.borrow_mut().entering(t.id, &shown_body(&t));
        }
        let message = match t.form.as_str() {
            "node" => {
                let lookup = |name: &str| v.global_named(name);
                let node = serial::from_line(&t.body)
                    .map_err(|e| e.to_string())
                    .and_then(|j| crate::engine::snapshot::node_from_json(&j, &lookup));
                match node {
                    Ok(node) => {
                        let id = pg.0.borrow_mut().adopt_row(t.id, t.group);
                        let unclaimed = v.engine.stats.unclaimed_data;
                        let recovered = v.engine.stats.recovered;
                        v.engine.resume(Resumed {
                            items: vec![crate::engine::queue::Item {
                                id,
                                node,
                                prio: t.priority,
                            }],
                            next_id: id,
                            unclaimed,
                            recovered,
                            ..Resumed::default()
                        });
                    }
                    Err(why) => pg.0.borrow_mut().dead_row(
                        &t,
                        t.body.clone(),
                        crate::codes::STORE_SCRIPT_CHANGED,
                        format!("the item no longer fits the script: {why}"),
                    ),
                }
                continue;
            }
            "message" => {
                let lookup = |name: &str| v.global_named(name);
                serial::from_line(&t.body)
                    .map_err(|e| e.to_string())
                    .and_then(|j| serial::message_from_json(&j, &lookup))
                    .map_err(|why| {
                        (
                            crate::codes::STORE_SCRIPT_CHANGED,
                            format!("the message no longer fits the script: {why}"),
                        )
                    })
            }
            _ => match v.eval("<enqueued>", &t.body) {
                Ok(Value::Message(m)) => Ok(m),
                Ok(other) => Err((
                    crate::codes::ENQUEUED_INVALID,
                    format!("`{}` is {}, not a message", t.body, other.repr()),
                )),
                Err(LoadError::Compile(diags)) => Err((
                    crate::codes::ENQUEUED_INVALID,
                    diags.iter().map(one_line).collect::<Vec<_>>().join("; "),
                )),
                Err(LoadError::Runtime(d)) => Err((crate::codes::ENQUEUED_INVALID, one_line(&d))),
            },
        };
        match message {
            Ok(m) => {
                pg.0.borrow_mut().adopt_next(Some(t.id));
                v.engine.enqueue_with_priority(&m, t.priority);
                if pg.0.borrow_mut().adopt_next(None).is_some() {
                    // Nothing of it is an item (data, or taken by a topic).
                    pg.0.borrow_mut().drop_row(t.id);
                }
            }
            Err((code, why)) => pg.0.borrow_mut().dead_row(&t, shown_body(&t), code, why),
        }
    }
}

/// A diagnostic in one line, for a dead letter's error.
fn one_line(d: &crate::diag::Diagnostic) -> String {
    let mut s = format!("[{}] {}", d.code, d.title);
    if !d.label.is_empty() {
        s.push_str(": ");
        s.push_str(&d.label);
    }
    s
}

/// A taken row's body as a dead letter's message (JSON text).
fn shown_body(t: &Taken) -> String {
    if t.form == "source" {
        serde_json::Value::String(t.body.clone()).to_string()
    } else {
        t.body.clone()
    }
}
