//! Topics: running a topic's pass over its batch, and the batch's dead
//! letters when the pass fails.

use std::rc::Rc;

use super::node;
use super::queue::MainQueue;
use super::{DeadLetter, Engine};
use crate::vm::error::{codes, RuntimeError, Severity};
use crate::vm::message::Msg;
use crate::vm::value::Value;

impl<Q: MainQueue> Engine<Q> {
    /// When the main queue has nothing ready: every non-empty topic's pass
    /// runs once, in declaration order. Returns whether any ran.
    pub(super) fn run_idle_passes(&mut self) -> bool {
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
    pub(super) fn run_pass(&mut self, name: &Rc<str>) -> bool {
        // What a pass returns is new work, of no item's priority, and a
        // group of its own.
        self.base_priority = 0;
        self.group_start();
        let Some(topic) = self.topics.get_mut(name) else {
            return false;
        };
        let batch: Vec<Msg> = topic.queue.drain(..).collect();
        if batch.is_empty() {
            return false;
        }
        if let Some(store) = self.store.as_deref_mut() {
            store.topic_clear(name);
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
        let closure = Value::Func(crate::vm::value::Closure::plain(pass));
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
                if let Some(store) = self.store.as_deref_mut() {
                    for m in &further {
                        store.topic_push(name, m);
                    }
                }
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
            Err(error) if error.code == codes::INTERRUPTED => {
                // Stopped by a signal, not failed: the batch waits in its
                // topic again.
                if let Some(store) = self.store.as_deref_mut() {
                    for m in &batch {
                        store.topic_push(name, m);
                    }
                }
                let queue = &mut self.topics[name].queue;
                for m in batch.into_iter().rev() {
                    queue.push_front(m);
                }
                true
            }
            Err(mut error) => {
                error.message = format!("pass \"{name}\" failed: {}", error.message);
                error.severity = Severity::Fatal;
                self.dead_batch(&batch, error);
                true
            }
        }
    }

    /// Keeps topic contents in the store only, for many workers to share
    /// (see `shared_topics`).
    /// What the topics hold now was reported to the store already (a new
    /// run's top level) and leaves memory.
    pub fn share_topics(&mut self) {
        self.shared_topics = true;
        for topic in self.topics.values_mut() {
            topic.queue.clear();
        }
    }

    /// Shared topics: whether the engine came to where it would run its
    /// idle passes since this was last asked.
    pub fn take_idle_passes_due(&mut self) -> bool {
        std::mem::take(&mut self.idle_passes_due)
    }

    /// The topics that have a pass, in declaration order.
    pub fn pass_topics(&self) -> Vec<Rc<str>> {
        self.topics
            .iter()
            .filter(|(_, t)| t.pass.is_some())
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Shared topics: runs topic `name`'s pass over `batch` (its contents,
    /// which the store handed this worker). The store is told to clear
    /// what it handed over and to keep the pass's `further` messages;
    /// nothing stays in memory. Returns whether the pass made progress.
    pub fn run_shared_pass(&mut self, name: &str, batch: Vec<Msg>) -> bool {
        let Some((name, _)) = self.topics.get_key_value(name) else {
            return false;
        };
        let name = name.clone();
        self.topics[&name].queue.extend(batch);
        let progress = self.run_pass(&name);
        self.topics[&name].queue.clear();
        progress
    }

    pub(super) fn dead_batch(&mut self, batch: &[Msg], error: RuntimeError) {
        for m in batch {
            self.push_dead(DeadLetter {
                message: m.clone(),
                error: error.clone(),
                attempts: 0,
            });
        }
    }
}

/// A pass's result: a list of messages (all ready), or `{ready, further}`.
pub(super) fn pass_result(v: &Value) -> Result<(Vec<Msg>, Vec<Msg>), RuntimeError> {
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
