//! The run loop: what to do next (step an item, run a pass, collect jobs,
//! wait for a timer), progress snapshots, and ending or draining a run.

use std::rc::Rc;

use super::node::{self, Node, RetryNode};
use super::queue::MainQueue;
use super::{Engine, Finish, Progress};
use crate::vm::error::{codes, RuntimeError};
use crate::vm::message::Msg;

impl<Q: MainQueue> Engine<Q> {
    /// Runs until no work is left, or the step limit. With a store, what
    /// the run did is committed before this returns, and a finished run is
    /// marked so.
    pub fn run(&mut self) -> Finish {
        let finish = self.run_loop();
        if self.store.is_none() {
            return finish;
        }
        self.report_step(0);
        if let Some(store) = self.store.as_deref_mut() {
            self.vm.host.flush();
            // A run that fires schedules is never finished: stopped, the
            // same command goes on with them.
            let scheduled = self.schedules_on && !self.schedules.is_empty();
            match finish {
                Finish::Idle if !scheduled => store.finished(),
                Finish::Interrupted => store.abandon(),
                _ => store.commit(),
            }
            if let Some(why) = store.failure() {
                return Finish::StoreFailed(why);
            }
        }
        finish
    }

    fn run_loop(&mut self) -> Finish {
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
            if let Some(store) = self.store.as_deref() {
                if store.failure().is_some() {
                    return Finish::Idle;
                }
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
        if self.resources.is_some() {
            self.wake_turns();
        }
        if !self.timers.is_empty() || !self.parked.is_empty() {
            self.release_due_timers();
        }
        let next_firing = if self.schedules_on {
            self.due_schedules()
        } else {
            None
        };
        if !self.full_topics.is_empty() {
            let topic = self.full_topics.remove(0);
            self.run_pass(&topic);
            return true;
        }
        if let Some(item) = self.main.pop_front() {
            self.stuck_rounds = 0;
            self.idle_passes_asked = false;
            if self.store.is_some() {
                self.step_stored(item);
            } else {
                self.step_item(item);
            }
            return true;
        }
        // Jobs that finish together should feed one pass run, not one each:
        // give running jobs a moment before the topics' passes run.
        if self.in_topics() > 0 && self.jobs.as_ref().is_some_and(|p| p.in_flight() > 0) {
            let parked = self.parked.len();
            self.before_wait();
            self.collect_jobs(Some(std::time::Duration::from_millis(20)));
            if self.parked.len() < parked {
                return true;
            }
        }
        if self.shared_topics {
            if !self.idle_passes_asked {
                // The worker loop runs the store's passes, then steps on.
                self.idle_passes_asked = true;
                self.idle_passes_due = true;
                return true;
            }
        } else if self.run_idle_passes() {
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
            let next = earliest(next, next_firing);
            // (Virtual time passes at real speed while jobs are out.)
            let wait = match next {
                Some(at) => (at - self.clock.now()).clamp(0, 100),
                None => 100,
            };
            self.before_wait();
            self.collect_jobs(Some(std::time::Duration::from_millis(wait as u64)));
            return true;
        }
        if self.parked.has_job_waits() {
            // Nothing in flight: whatever waited for room on the pool may go.
            self.unpark();
            return true;
        }
        let next = match (self.timers.next_due(), self.parked.next_live_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let next = earliest(next, next_firing);
        if let Some(at) = next {
            // In slices, so that an interrupt is seen within 100ms.
            let slice = if self.interrupt.is_some() && !self.clock.is_virtual() {
                self.clock.now().saturating_add(100).min(at)
            } else {
                at
            };
            self.before_wait();
            match &mut self.wait_hook {
                Some(wait) => wait(&self.clock, slice),
                None => self.clock.wait_until(slice),
            }
            self.release_due_timers();
            return true;
        }
        if !self.held.is_empty() {
            // Calls held by a pause can go on once it ends: a pass that
            // waits, or a call waiting for a resource, is not stuck yet.
            // Nothing moves until then.
            return false;
        }
        if self.in_topics() > 0 {
            return self.passes_stuck();
        }
        if !self.parked.is_empty() {
            // Only calls waiting for resources are left, and nothing that
            // could free one.
            if !self.wake_turns() {
                self.resource_deadlock();
            }
            return true;
        }
        false
    }

    /// Only topics hold messages, their passes hand everything back as
    /// `further`, and nothing else can make progress: no item is ready, no
    /// job runs, no timer is pending. Such passes get a number of rounds
    /// (a pass may look at globals an action changed, or the real clock),
    /// then what the topics hold is dead-lettered.
    pub(super) fn passes_stuck(&mut self) -> bool {
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
            if let Some(store) = self.store.as_deref_mut() {
                store.topic_clear(&name);
            }
            if held.is_empty() {
                continue;
            }
            self.dead_batch(&held, stuck_error(&name, rounds));
        }
        true
    }

    /// Shared topics: topic `name`'s pass handed `batch` (the topic's
    /// contents, which the store handed this worker) back as `further` for
    /// as many rounds as [`Engine::passes_stuck`] allows while nothing else
    /// anywhere could run: the batch is dead-lettered, and the store told
    /// to clear it.
    pub fn dead_stuck_batch(&mut self, name: &str, batch: Vec<Msg>) {
        if let Some(store) = self.store.as_deref_mut() {
            store.topic_clear(name);
        }
        let rounds = self.config.max_idle_pass_rounds;
        self.dead_batch(&batch, stuck_error(name, rounds));
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

    pub(super) fn report_progress(&mut self) {
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
    pub(super) fn collect_jobs(&mut self, wait: Option<std::time::Duration>) {
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
    pub(super) fn wake_for_room(&mut self) {
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

    pub(super) fn unpark(&mut self) {
        for item in self.parked.drain_job_waits() {
            self.main.push_back(item);
        }
    }

    /// The earliest time a parked item must wake at.
    pub(super) fn parked_deadline(&mut self) -> Option<i64> {
        self.parked.next_live_deadline()
    }

    pub(super) fn release_due_timers(&mut self) {
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

    /// Ends every running job: commands' process groups get SIGTERM, then
    /// SIGKILL after a short grace; other work is abandoned. Their items
    /// stay where they are, unfinished.
    pub fn end_jobs(&mut self) {
        if let Some(pool) = &mut self.jobs {
            self.cancelled_jobs.extend(pool.shutdown());
        }
        self.clock.set_jobs_running(false);
    }

    /// Takes the items `ids` out wherever they wait (queued, on a timer,
    /// parked for a native job), ending their running jobs (a command's
    /// process group is ended), and reports each removed to the store.
    /// Returns how many were found.
    pub fn cancel_items(&mut self, ids: &std::collections::HashSet<u64>) -> usize {
        let mut found = Vec::new();
        for item in self.main.drain() {
            if ids.contains(&item.id) {
                found.push(item);
            } else {
                self.main.push_back(item);
            }
        }
        for (at, item) in self.timers.drain() {
            if ids.contains(&item.id) {
                found.push(item);
            } else {
                self.timers.push(at, item);
            }
        }
        found.extend(ids.iter().filter_map(|&id| self.parked.remove(id)));
        let (cancelled, held): (Vec<_>, Vec<_>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|item| ids.contains(&item.id));
        self.held = held;
        found.extend(cancelled);
        for item in &found {
            self.cancel_jobs_in(&item.node);
        }
        if let Some(store) = self.store.as_deref_mut() {
            for item in &found {
                self.deferred.remove(&item.id);
                store.remove_item(item.id);
            }
        }
        found.len()
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
            std::mem::take(&mut self.held)
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

/// The earlier of two times, either of which may be missing.
fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The jobs running anywhere inside a node.
pub(super) fn running_jobs(node: &Node, out: &mut Vec<u64>) {
    match node {
        Node::Running(r) => out.push(r.job),
        Node::Seq(q) | Node::Conc(q) => q.iter().for_each(|n| running_jobs(n, out)),
        Node::Promise(p) => p.queue.iter().for_each(|n| running_jobs(n, out)),
        Node::Void(inner) => running_jobs(inner, out),
        Node::Timeout(t) => running_jobs(&t.inner, out),
        Node::Wrap(w) => running_jobs(&w.inner, out),
        Node::Hold(h) => running_jobs(&h.inner, out),
        _ => {}
    }
}

/// Turns each running job inside a node back into the call that started
/// it, to run again (the interrupted attempt does not count).
pub(super) fn unstart_jobs(node: &mut Node) {
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
        Node::Wrap(w) => unstart_jobs(&mut w.inner),
        // A limited native job's own hold goes with it: the call takes
        // its turn again.
        Node::Hold(h) if h.own => {
            let Node::Hold(h) = std::mem::replace(node, Node::Defer(i64::MIN)) else {
                unreachable!("matched above")
            };
            let node::HoldNode { mut inner, .. } = *h;
            unstart_jobs(&mut inner);
            *node = inner;
        }
        Node::Hold(h) => unstart_jobs(&mut h.inner),
        _ => {}
    }
}

/// The error of a pass that kept everything as `further` (see
/// [`Engine::passes_stuck`]).
fn stuck_error(name: &str, rounds: u32) -> RuntimeError {
    RuntimeError::new(
        codes::PASS,
        format!(
            "pass \"{name}\" returned everything as `further` {rounds} times in a row while nothing else could run"
        ),
    )
    .with_hint("a pass must eventually return some messages as `ready`")
}
