//! Resources: an action's `limit n [per key]` and `rate n/unit`.
//!
//! Each limited action has one resource per value of its key parameter
//! (or one overall). A call takes its resource when it starts and holds
//! it until everything it returned has finished: the engine wraps the
//! call's results in a [`Node::Hold`] that owns a [`Lease`], and dropping
//! the lease (the subtree finished, failed, was cancelled by a timeout or
//! given up to a `catch`) gives the resource back. A call that finds its
//! resource at its limit (or its rate not yet due) becomes a
//! [`Node::Turn`] holding a [`Ticket`], its place in the resource's line:
//! calls on one resource start in the order they first asked. A ticket
//! dropped unused (its item failed elsewhere) leaves the line.
//!
//! With workers sharing a PostgreSQL store, a turn also needs room in
//! the table every worker shares ([`SharedLimits`]): a call that the
//! worker's own calls leave room for asks it, and takes a shared hold
//! (committed with the step) or waits and asks again. Order in line holds
//! among one worker's calls.
//!
//! The table is shared (`Rc<RefCell<…>>`) so that leases and tickets can
//! give their place back when dropped, wherever that happens; what they
//! free is noted as items to wake, and the engine wakes them between
//! steps. Nothing here runs for actions without limits: the engine checks
//! `action.limits` first, and creates the table at the first limited call.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use super::node::{self, Node};
use super::queue::MainQueue;
use super::{DeadLetter, Engine, Outcome, Wait};
use crate::vm::error::{codes, RuntimeError};
use crate::vm::message::Args;
use crate::vm::value::{ActionDef, Limits};

pub type Table = Rc<RefCell<Resources>>;

/// A resource in use: the action's name, the key, how many calls hold it
/// and the items waiting in line, first first.
pub type InUse = (Rc<str>, Rc<str>, u32, Vec<u64>);

/// Which resource: the action's id and the key's display form (empty for
/// an action limited overall).
type ResourceId = (u32, Rc<str>);

/// Limits held across processes: a store many workers share keeps who
/// holds each resource, and its rate's next start.
pub trait SharedLimits {
    /// Asks for a turn on the resource of `action` keyed `key` (its
    /// display form; empty for an action limited overall) at `now`.
    fn acquire(&mut self, action: &str, key: &str, limits: &Limits, now: i64) -> SharedTurn;
    /// Shared holds given back by the step that ends now: they go with
    /// its commit.
    fn release(&mut self, holds: &[i64]);
}

/// What asking a [`SharedLimits`] gives.
pub enum SharedTurn {
    /// Taken: the shared hold's id, if the limit counts holds (a rate
    /// alone keeps none).
    Taken(Option<i64>),
    /// At its limit across workers (or its rate not yet due): ask again
    /// at this time.
    Busy(i64),
}

/// How long a call whose resource other workers hold waits before it
/// asks again.
pub const SHARED_RETRY_MS: i64 = 200;

#[derive(Default)]
pub struct Resources {
    keys: HashMap<ResourceId, KeyState>,
    /// Shared holds given back since the last step's end (see
    /// [`SharedLimits::release`]).
    shared_released: Vec<i64>,
    next_ticket: u64,
    /// Items whose ticket may now take its turn (their wait may be over).
    wake: Vec<u64>,
    /// The time of the last turn taken (for forgetting idle rate state).
    now: i64,
}

#[derive(Default)]
struct KeyState {
    /// Calls holding the resource now.
    held: u32,
    /// The line: ticket → the item that holds it (the last to step it).
    waiting: BTreeMap<u64, u64>,
    /// With a rate: the earliest next start, in ms × the rate's count (so
    /// that `rate 3/s` spaces starts by exactly 1000/3 ms on average).
    next_start: i128,
    limits: Option<Rc<Limits>>,
    /// The action's name, for `:queue`.
    name: Rc<str>,
}

/// A call's hold on its resource; dropping it gives the resource back.
pub struct Lease {
    table: Table,
    resource: ResourceId,
    /// Its hold in a table that workers share, if any.
    shared: Option<i64>,
}

/// A call's place in its resource's line; dropping it leaves the line.
pub struct Ticket {
    table: Table,
    resource: ResourceId,
    id: u64,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Lease({})", self.resource.1)
    }
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Ticket({} #{})", self.resource.1, self.id)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut table = self.table.borrow_mut();
        table.release(&self.resource);
        if let Some(id) = self.shared {
            table.shared_released.push(id);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if self.id != 0 {
            self.table.borrow_mut().leave(&self.resource, self.id);
        }
    }
}

/// A limited call waiting for its turn on its resource.
#[derive(Debug)]
pub struct TurnNode {
    pub action: Rc<ActionDef>,
    pub args: Args,
    /// Attempts already made.
    pub attempts: u32,
    pub ticket: Ticket,
}

/// What a limited call returned, running while it holds the resource.
#[derive(Debug)]
pub struct HoldNode {
    /// `None` only between reading a stored run and resuming it, when
    /// the engine takes the resource again for it.
    pub lease: Option<Lease>,
    /// The call's action and its key's display form: which resource.
    pub action: Rc<ActionDef>,
    pub key: Rc<str>,
    pub inner: Node,
    /// The inner node is still the call's own native job: if it fails
    /// retryably, the retry waits out its backoff without the resource.
    pub own: bool,
    /// Its hold in a table that workers share (kept with the item, so
    /// that the worker that resumes it holds it on).
    pub shared: Option<i64>,
}

impl HoldNode {
    /// What a call that took `lease` runs while it holds it.
    fn new(lease: Lease, action: Rc<ActionDef>, key: Rc<str>, inner: Node, own: bool) -> Self {
        HoldNode {
            shared: lease.shared,
            lease: Some(lease),
            action,
            key,
            inner,
            own,
        }
    }
}

/// What asking for a turn gives.
enum Turn {
    Go(Lease),
    /// Wait, in line; not before the time given (a rate), if any.
    Wait(Ticket, Option<i64>),
}

impl KeyState {
    fn room(&self) -> bool {
        let limits = self.limits.as_deref();
        limits
            .and_then(|l| l.concurrency)
            .is_none_or(|n| self.held < n)
    }

    /// When the rate lets the next call start (`i64::MIN`: now).
    fn rate_due(&self) -> i64 {
        match self.limits.as_deref().and_then(|l| l.rate) {
            Some(r) => {
                let count = i128::from(r.count);
                // The ceiling: the first whole ms at or after the point.
                let at = (self.next_start + count - 1).div_euclid(count);
                at.clamp(i64::MIN as i128, i64::MAX as i128) as i64
            }
            None => i64::MIN,
        }
    }

    fn idle(&self, now: i64) -> bool {
        self.held == 0
            && self.waiting.is_empty()
            && self
                .limits
                .as_deref()
                .and_then(|l| l.rate)
                .is_none_or(|r| self.next_start <= i128::from(now) * i128::from(r.count))
    }
}

impl Resources {
    /// The first in line of a resource, if it may go now (or at its rate's
    /// time): noted to wake.
    fn notify(&mut self, resource: &ResourceId) {
        let Some(state) = self.keys.get(resource) else {
            return;
        };
        if state.room() {
            if let Some((_, owner)) = state.waiting.first_key_value() {
                self.wake.push(*owner);
            }
        }
    }

    fn forget_if_idle(&mut self, resource: &ResourceId) {
        if self.keys.get(resource).is_some_and(|s| s.idle(self.now)) {
            self.keys.remove(resource);
        }
    }

    fn release(&mut self, resource: &ResourceId) {
        if let Some(state) = self.keys.get_mut(resource) {
            state.held = state.held.saturating_sub(1);
        }
        self.notify(resource);
        self.forget_if_idle(resource);
    }

    fn leave(&mut self, resource: &ResourceId, ticket: u64) {
        let Some(state) = self.keys.get_mut(resource) else {
            return;
        };
        let first = state.waiting.first_key_value().map(|(t, _)| *t);
        state.waiting.remove(&ticket);
        if first == Some(ticket) {
            self.notify(resource);
        }
        self.forget_if_idle(resource);
    }

    /// Items whose turn may have come.
    pub fn take_wakes(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.wake)
    }

    pub fn has_wakes(&self) -> bool {
        !self.wake.is_empty()
    }

    /// Shared holds given back since last asked.
    pub fn take_shared_released(&mut self) -> Vec<i64> {
        std::mem::take(&mut self.shared_released)
    }

    /// Each resource in use: its action and key, how many hold it, and
    /// the items waiting in line, first first (the REPL's `:queue`).
    pub fn describe(&self) -> Vec<InUse> {
        let mut all: Vec<_> = self
            .keys
            .iter()
            .filter(|(_, s)| s.held > 0 || !s.waiting.is_empty())
            .map(|((_, key), s)| {
                (
                    s.name.clone(),
                    key.clone(),
                    s.held,
                    s.waiting.values().copied().collect(),
                )
            })
            .collect();
        all.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        all
    }
}

/// Asks for a turn on a resource: the ticket's (or a newcomer's, at the
/// back of the line), for the item `owner`.
#[allow(clippy::too_many_arguments)]
fn take_turn(
    table: &Table,
    action: &ActionDef,
    limits: &Rc<Limits>,
    resource: ResourceId,
    ticket: Option<Ticket>,
    now: i64,
    owner: u64,
    shared: Option<&mut (dyn SharedLimits + 'static)>,
) -> Turn {
    let mut t = table.borrow_mut();
    t.now = now;
    let next_ticket = t.next_ticket + 1;
    let state = t.keys.entry(resource.clone()).or_default();
    if state.limits.is_none() {
        state.limits = Some(limits.clone());
        state.name = action.name.clone();
    }
    let mine = ticket.as_ref().map(|t| t.id);
    let first = state.waiting.first_key_value().map(|(id, _)| *id);
    let in_front = first == mine;
    let room = state.room();
    let due = state.rate_due();
    // This worker's calls leave room: the workers' shared table decides.
    let (go, due, shared) = match shared {
        Some(table) if in_front && room && now >= due => {
            match table.acquire(&action.name, &resource.1, limits, now) {
                SharedTurn::Taken(hold) => (true, due, hold),
                SharedTurn::Busy(at) => (false, at, None),
            }
        }
        _ => (in_front && room && now >= due, due, None),
    };
    if go {
        if let Some(id) = mine {
            state.waiting.remove(&id);
        }
        state.held += 1;
        if let Some(r) = limits.rate {
            // The next start is spaced from this one's due time, unless
            // the line was idle (this call came later than a ms after
            // it): due times are whole ms, and spacing from the rounded
            // time would drift.
            let count = i128::from(r.count);
            let now = i128::from(now) * count;
            let base = if now >= state.next_start + count {
                now
            } else {
                state.next_start
            };
            state.next_start = base + i128::from(r.period);
        }
        // Room may be left for the next in line (or its time to come).
        t.notify(&resource);
        drop(t);
        if let Some(mut ticket) = ticket {
            ticket.id = 0;
        }
        return Turn::Go(Lease {
            table: table.clone(),
            resource,
            shared,
        });
    }
    let until = (in_front && room).then_some(due);
    let ticket = match ticket {
        Some(ticket) => {
            state.waiting.insert(ticket.id, owner);
            ticket
        }
        None => {
            state.waiting.insert(next_ticket, owner);
            t.next_ticket = next_ticket;
            drop(t);
            Ticket {
                table: table.clone(),
                resource,
                id: next_ticket,
            }
        }
    };
    Turn::Wait(ticket, until)
}

/// The resource a call of a limited action uses: its key's display form
/// (`None` when the call lacks the key argument: it fails on its count).
fn resource_of(action: &ActionDef, limits: &Limits, args: &Args) -> Option<ResourceId> {
    let key: Rc<str> = match &limits.key {
        Some((i, _)) => Rc::from(args.get(*i)?.repr()),
        None => Rc::from(""),
    };
    Some((action.id, key))
}

impl<Q: MainQueue> Engine<Q> {
    /// Runs a call of a limited action if its turn has come: it holds the
    /// resource while what it returned runs. Otherwise it waits in line.
    pub(super) fn limited_call(
        &mut self,
        action: Rc<ActionDef>,
        args: Args,
        attempts: u32,
        ticket: Option<Ticket>,
        limits: Rc<Limits>,
    ) -> Outcome {
        let Some(resource) = resource_of(&action, &limits, &args) else {
            drop(ticket);
            return self.run_unlimited(action, args, attempts);
        };
        let table = self.resources.get_or_insert_with(Table::default).clone();
        let now = self.clock.now();
        match take_turn(
            &table,
            &action,
            &limits,
            resource.clone(),
            ticket,
            now,
            self.stepping,
            self.shared_limits.as_deref_mut(),
        ) {
            Turn::Wait(ticket, until) => {
                let wait = Wait {
                    until: until.unwrap_or(i64::MAX),
                    job: false,
                    resource: true,
                    paused: false,
                };
                let turn = TurnNode {
                    action,
                    args,
                    attempts,
                    ticket,
                };
                Outcome::Blocked(Node::Turn(Box::new(turn)), wait)
            }
            Turn::Go(lease) => {
                let name = action.name.clone();
                self.trace(|| format!("resource taken: {name}"));
                let held = action.clone();
                match self.run_unlimited(action, args, attempts) {
                    Outcome::Stepped { out, rest: None } => hold(lease, held, resource.1, out),
                    // A native job: the resource is held while it runs,
                    // then while what it yields runs.
                    Outcome::Blocked(job @ Node::Running(_), wait) => {
                        let hold = HoldNode::new(lease, held, resource.1, job, true);
                        Outcome::Blocked(Node::Hold(Box::new(hold)), wait)
                    }
                    // A retry waits out its backoff without the resource,
                    // then takes its turn again; a failure gives it back.
                    other => other,
                }
            }
        }
    }

    /// Takes again the resources that the holds in a resumed item held
    /// when the run stopped (they were granted then: the limit is not
    /// checked again).
    pub(super) fn retake_holds(&mut self, node: &mut Node) {
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            match n {
                Node::Hold(h) => {
                    if h.lease.is_none() {
                        if let Some(limits) = h.action.limits.clone() {
                            let table = self.resources.get_or_insert_with(Table::default).clone();
                            let resource = (h.action.id, h.key.clone());
                            {
                                let mut t = table.borrow_mut();
                                let state = t.keys.entry(resource.clone()).or_default();
                                state.held += 1;
                                state.name = h.action.name.clone();
                                state.limits = Some(limits);
                            }
                            h.lease = Some(Lease {
                                table,
                                resource,
                                shared: h.shared,
                            });
                        }
                    }
                    stack.push(&mut h.inner);
                }
                Node::Seq(q) | Node::Conc(q) => stack.extend(q.iter_mut()),
                Node::Promise(p) => stack.extend(p.queue.iter_mut()),
                Node::Void(inner) => stack.push(inner),
                Node::Timeout(t) => stack.push(&mut t.inner),
                Node::Wrap(w) => {
                    stack.push(&mut w.inner);
                    if let Some(f) = &mut w.failed {
                        stack.push(&mut f.node);
                    }
                }
                _ => {}
            }
        }
    }

    /// Wakes the items whose turn on a resource may have come.
    pub(super) fn wake_turns(&mut self) -> bool {
        let Some(table) = &self.resources else {
            return false;
        };
        if !table.borrow().has_wakes() {
            return false;
        }
        let wakes = table.borrow_mut().take_wakes();
        let mut any = false;
        for id in wakes {
            if let Some(item) = self.parked.wake_item(id) {
                self.main.push_back(item);
                any = true;
            }
        }
        any
    }

    /// Every item left waits for a resource that only another waiting
    /// item holds (or that it holds itself: a limited action that calls
    /// itself): the newest becomes a dead letter, which frees what it
    /// held, and the others go on.
    pub(super) fn resource_deadlock(&mut self) {
        let Some(id) = self.parked.sorted().last().map(|item| item.id) else {
            return;
        };
        let Some(item) = self.parked.wake_item(id) else {
            return;
        };
        let message = Rc::new(item.node.to_message());
        let error = RuntimeError::new(
            codes::RESOURCE_DEADLOCK,
            format!(
                "waits for a resource that nothing will free: {}",
                message.display()
            ),
        )
        .with_hint("a limited call waits while the calls holding its resource wait too (for it, or for each other)");
        self.trace(|| format!("dead #{id}: {}", error.message));
        if let Some(store) = self.store.as_deref_mut() {
            store.remove_item(id);
        }
        drop(item);
        self.push_dead(DeadLetter {
            message,
            error,
            attempts: 0,
        });
    }

    pub(super) fn step_hold(&mut self, mut h: Box<HoldNode>) -> Outcome {
        let inner = std::mem::replace(&mut h.inner, Node::Defer(i64::MIN));
        match self.step_inner(inner) {
            Outcome::Stepped { out, rest } => {
                if std::mem::take(&mut h.own) && matches!(rest, Some(Node::Retry(_))) {
                    return Outcome::Stepped { out, rest };
                }
                let (data, work) = node::results(out.into_iter().chain(rest));
                match work {
                    Some(work) => {
                        h.inner = work;
                        Outcome::Stepped {
                            out: data,
                            rest: Some(Node::Hold(h)),
                        }
                    }
                    // Everything the call returned has finished.
                    None => Outcome::Stepped {
                        out: data,
                        rest: None,
                    },
                }
            }
            Outcome::Blocked(inner, wait) => {
                h.inner = inner;
                Outcome::Blocked(Node::Hold(h), wait)
            }
            Outcome::Failed(inner, e, attempts) => {
                h.inner = inner;
                Outcome::Failed(Node::Hold(h), e, attempts)
            }
        }
    }

    /// A description of the resources in use and who waits on them.
    pub(super) fn describe_resources(&self, out: &mut String) {
        use std::fmt::Write as _;
        let Some(table) = &self.resources else {
            return;
        };
        let table = table.borrow();
        let resources = table.describe();
        if resources.is_empty() {
            return;
        }
        let _ = writeln!(out, "resources: {} in use", resources.len());
        for (name, key, held, waiting) in resources {
            let key = if key.is_empty() {
                String::new()
            } else {
                format!(" {key}")
            };
            let line: Vec<String> = waiting.iter().map(|id| format!("#{id}")).collect();
            let _ = writeln!(
                out,
                "  {name}{key}: {held} running, {} waiting{}{}",
                waiting.len(),
                if line.is_empty() { "" } else { ": " },
                line.join(" ")
            );
        }
    }
}

/// Gives back every resource a node holds or waits for: a hold becomes
/// what it holds, a waiting call the call (it takes its turn again if it
/// ever runs).
pub(super) fn release(node: &mut Node) {
    match node {
        Node::Hold(_) | Node::Turn(_) => {
            let taken = std::mem::replace(node, Node::Defer(i64::MIN));
            *node = match taken {
                Node::Hold(h) => {
                    let HoldNode { mut inner, .. } = *h;
                    release(&mut inner);
                    inner
                }
                Node::Turn(t) => {
                    let TurnNode {
                        action,
                        args,
                        attempts,
                        ..
                    } = *t;
                    if attempts == 0 {
                        Node::Call { action, args }
                    } else {
                        Node::Retry(Box::new(node::RetryNode {
                            action,
                            args,
                            attempts,
                            not_before: i64::MIN,
                        }))
                    }
                }
                other => other,
            };
        }
        Node::Seq(q) | Node::Conc(q) => q.iter_mut().for_each(release),
        Node::Promise(p) => p.queue.iter_mut().for_each(release),
        Node::Void(inner) => release(inner),
        Node::Timeout(t) => release(&mut t.inner),
        Node::Wrap(w) => {
            release(&mut w.inner);
            if let Some(f) = &mut w.failed {
                release(&mut f.node);
            }
        }
        _ => {}
    }
}

/// A finished call's results, held: the data in front comes out, the rest
/// runs inside the hold (in order, as at the head of a `seq`). A call that
/// returned nothing to run gives its resource back at once.
fn hold(lease: Lease, action: Rc<ActionDef>, key: Rc<str>, out: Vec<Node>) -> Outcome {
    let (data, work) = node::results(out);
    match work {
        Some(inner) => Outcome::Stepped {
            out: data,
            rest: Some(Node::Hold(Box::new(HoldNode::new(
                lease, action, key, inner, false,
            )))),
        },
        None => Outcome::Stepped {
            out: data,
            rest: None,
        },
    }
}
