//! Stepping: one item (or a node nested in one) advanced by one step, and
//! what the step did put in place.

use std::collections::VecDeque;
use std::rc::Rc;

use super::jobs;
use super::node::{
    self, finish_seq, push_conc, result_messages, wrap_void, Node, RetryNode, NOT_STARTED,
};
use super::queue::{Item, MainQueue};
use super::store::ItemState;
use super::{DeadLetter, Engine, Outcome, Wait};
use crate::vm::message::Args;
use crate::vm::value::Value;

impl<Q: MainQueue> Engine<Q> {
    pub(super) fn step_item(&mut self, item: Item) {
        self.stepping = item.id;
        if self.prioritized {
            // What the step makes steps at the item's priority; what is
            // left of the item keeps its own.
            self.base_priority = super::queue::priority(&item);
            self.rest_priority = item.prio;
        }
        self.stats.steps += 1;
        self.stats.steps_by_kind[item.node.kind_index()] += 1;
        if self.config.trace {
            let before = item.node.to_message().display();
            let outcome = self.step(item.node);
            self.apply(item.id, outcome, Some(before));
            return;
        }
        let Item { id, node, .. } = item;
        match node {
            // The hot path: a plain call at the top level. Its results
            // enter directly, with no `Outcome` built.
            Node::Call { action, args }
                if action.job().is_none()
                    && action.limits.is_none()
                    && (self.paused.is_empty() || !self.paused.contains(&action.id)) =>
            {
                match self.vm.call_action(&action, &args) {
                    Ok(Value::Nil) => {
                        self.stats.calls_done += 1;
                        discard_args(args)
                    }
                    Ok(result) => {
                        self.stats.calls_done += 1;
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
    pub(super) fn apply(&mut self, id: u64, outcome: Outcome, before: Option<String>) {
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
                self.base_priority = self.rest_priority;
                if let Some(rest) = rest {
                    self.enter_as(Some(id), rest, None);
                }
            }
            Outcome::Blocked(node, mut wait) => {
                if wait.paused {
                    if wait.until == i64::MAX && !wait.job && !wait.resource {
                        if before.is_some() {
                            self.trace(|| format!("wait #{id} on a pause"));
                        }
                        self.store_put(id, &node, ItemState::Queued, None);
                        let item = self.item(id, node);
                        self.held.push(item);
                        return;
                    }
                    // Held by a pause and waiting for something else too
                    // (a timeout around the call): look again now and then.
                    let recheck = self.clock.now().saturating_add(super::PAUSE_RECHECK_MS);
                    wait.until = wait.until.min(recheck);
                }
                if let Some(before) = before {
                    let mut when = String::new();
                    if wait.until != i64::MAX {
                        when.push_str(" until ");
                        crate::vm::value::write_time(&mut when, wait.until);
                    }
                    let job = if wait.job { " on a job" } else { "" };
                    self.trace(|| format!("wait #{id} {before}{job}{when}"));
                }
                if self.store.is_some() {
                    let state = if wait.job {
                        ItemState::Job
                    } else if wait.resource {
                        ItemState::Resource
                    } else {
                        ItemState::on_timer(&node)
                    };
                    let due = (wait.until != i64::MAX).then_some(wait.until);
                    self.store_put(id, &node, state, due);
                }
                if wait.job {
                    let deadline = (wait.until != i64::MAX).then_some(wait.until);
                    let wants_room = std::mem::take(&mut self.wants_room);
                    self.parked.park(deadline, self.item(id, node), wants_room);
                } else if wait.resource {
                    let deadline = (wait.until != i64::MAX).then_some(wait.until);
                    self.parked.park_for_turn(deadline, self.item(id, node));
                } else {
                    self.timers.push(wait.until, self.item(id, node));
                }
            }
            Outcome::Failed(node, error, attempts) => {
                if let Some(before) = before {
                    self.trace(|| format!("dead #{id} {before}: {}", error.message));
                }
                self.push_dead(DeadLetter {
                    message: Rc::new(node.to_message()),
                    error,
                    attempts,
                });
            }
        }
    }

    /// The item being stepped, with what is left of its node.
    fn item(&self, id: u64, node: Node) -> Item {
        Item {
            id,
            node,
            prio: self.rest_priority,
        }
    }

    /// Steps a node nested in another (a seq's head, a conc's branch, what
    /// a promise, void or timeout holds). A call there is not routed: if an
    /// interest would have taken it, that is counted, so the run can warn.
    pub(super) fn step_inner(&mut self, node: Node) -> Outcome {
        if let Node::Call { action, .. } = &node {
            if !self.filters.is_empty() {
                let action = action.id;
                self.note_unrouted(&node, action);
            }
        }
        self.step(node)
    }

    pub(super) fn step(&mut self, node: Node) -> Outcome {
        match node {
            Node::Call { action, args } if self.paused.contains(&action.id) => {
                Outcome::Blocked(Node::Call { action, args }, Wait::PAUSED)
            }
            // A call waiting for its resource has not started either: it
            // waits out the pause, keeping its place in line.
            Node::Turn(t) if self.paused.contains(&t.action.id) => {
                Outcome::Blocked(Node::Turn(t), Wait::PAUSED)
            }
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
                    Outcome::Stepped { out, rest } => seq_stepped(queue, out, rest),
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
                        Outcome::Stepped { out, rest } => return conc_stepped(queue, out, rest),
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
            Node::Wrap(w) => self.step_wrap(w),
            Node::Turn(t) => {
                let node::TurnNode {
                    action,
                    args,
                    attempts,
                    ticket,
                } = *t;
                let limits = action.limits.clone();
                match limits {
                    Some(limits) => self.limited_call(action, args, attempts, Some(ticket), limits),
                    None => self.run_unlimited(action, args, attempts),
                }
            }
            Node::Hold(h) => self.step_hold(h),
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
}

/// Drops a finished call's arguments, in line when they hold nothing to
/// free (a scalar argument, the common case).
#[inline(always)]
pub(super) fn discard_args(args: Args) {
    if matches!(&args, Args::One(v) if v.is_scalar()) {
        std::mem::forget(args);
    } else {
        drop(args);
    }
}

/// A seq whose head stepped: the head's results (`out`, then `rest`) go to
/// its front, in order; the data now at the front is lifted out, and what
/// is left is the rest. A step makes no allocation when the head's results
/// are data, as a call's value is: the seq keeps its box and the results'
/// list is the lifted one.
// The node's own box is passed, to be reused (a `Node` holds a boxed
// queue to stay small).
#[allow(clippy::box_collection)]
fn seq_stepped(mut queue: Box<VecDeque<Node>>, out: Vec<Node>, rest: Option<Node>) -> Outcome {
    if !out.iter().all(|n| matches!(n, Node::Data(_))) {
        for n in rest.into_iter().rev().chain(out.into_iter().rev()) {
            match n {
                Node::Seq(inner) => node::prepend(&mut queue, *inner),
                other => queue.push_front(other),
            }
        }
        let mut out = Vec::new();
        finish_seq(*queue, &mut out);
        return split_rest(out);
    }
    let mut lifted = out;
    match rest {
        Some(Node::Seq(inner)) => node::prepend(&mut queue, *inner),
        Some(other) => queue.push_front(other),
        None => {}
    }
    while let Some(Node::Data(_)) = queue.front() {
        lifted.extend(queue.pop_front());
    }
    let rest = match queue.len() {
        0 => None,
        1 => queue.pop_front(),
        _ => Some(Node::Seq(queue)),
    };
    Outcome::Stepped { out: lifted, rest }
}

/// A conc whose branch stepped: the branch's data is lifted out, its other
/// results join the conc's branches at the back. As for a seq, the conc
/// keeps its box, and data results are lifted in their own list.
#[allow(clippy::box_collection)]
fn conc_stepped(mut queue: Box<VecDeque<Node>>, out: Vec<Node>, rest: Option<Node>) -> Outcome {
    let mut lifted = Vec::new();
    if out.iter().all(|n| matches!(n, Node::Data(_))) {
        lifted = out;
    } else {
        for n in out {
            push_conc(&mut queue, n, &mut lifted);
        }
    }
    if let Some(n) = rest {
        push_conc(&mut queue, n, &mut lifted);
    }
    let rest = match queue.len() {
        0 => None,
        1 => queue.pop_front(),
        _ => Some(Node::Conc(queue)),
    };
    Outcome::Stepped { out: lifted, rest }
}

pub(super) fn split_rest(mut nodes: Vec<Node>) -> Outcome {
    let rest = match nodes.last() {
        Some(Node::Data(_)) | None => None,
        Some(_) => nodes.pop(),
    };
    Outcome::Stepped { out: nodes, rest }
}
