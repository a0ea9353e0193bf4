//! Calls: running an action (in line, or as a native job on the pool),
//! timeouts, and retries with backoff.

use std::rc::Rc;

use super::jobs;
use super::node::{self, result_messages, Node, RetryNode, NOT_STARTED};
use super::queue::MainQueue;
use super::run::running_jobs;
use super::{Engine, Outcome, Wait};
use crate::vm::error::{codes, RuntimeError, Severity};
use crate::vm::message::Args;
use crate::vm::value::{ActionDef, Value};

impl<Q: MainQueue> Engine<Q> {
    /// The wait before attempt `attempts + 1` (`--backoff`, doubling,
    /// capped at `max_backoff`).
    pub(super) fn backoff(&self, attempts: u32) -> i64 {
        let exp = attempts.saturating_sub(1).min(30);
        let (first, cap) = match &self.policy {
            None => (self.config.backoff, self.config.max_backoff),
            Some(p) => (
                p.backoff.unwrap_or(self.config.backoff),
                p.max_backoff.unwrap_or(self.config.max_backoff),
            ),
        };
        first.saturating_mul(1i64 << exp).min(cap)
    }

    /// Attempts in all for a call failing retryably here: the innermost
    /// `retrying` policy's, or the run's.
    pub(super) fn max_attempts(&self) -> u32 {
        match &self.policy {
            None => self.config.max_attempts,
            Some(p) => p.attempts,
        }
    }

    /// Whether a call that failed retryably (after `attempts`) runs again.
    fn retries(&self, e: &RuntimeError, attempts: u32) -> bool {
        match &self.policy {
            None => attempts < self.config.max_attempts,
            Some(p) => attempts < p.attempts && p.retries(e.code),
        }
    }

    /// Cancels the native jobs running in a node that is given up (a
    /// timeout that ran out, a failure a `catch` or `ensure` took).
    pub(super) fn cancel_jobs_in(&mut self, node: &Node) {
        let mut running = Vec::new();
        running_jobs(node, &mut running);
        if running.is_empty() {
            return;
        }
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
    }

    /// Runs a call whose earlier attempts (`attempts`) all failed retryably.
    pub(super) fn run_call(&mut self, action: Rc<ActionDef>, args: Args, attempts: u32) -> Outcome {
        if let Some(limits) = &action.limits {
            let limits = limits.clone();
            return self.limited_call(action, args, attempts, None, limits);
        }
        self.run_unlimited(action, args, attempts)
    }

    /// Runs a call, its resource (if it has one) taken.
    pub(super) fn run_unlimited(
        &mut self,
        action: Rc<ActionDef>,
        args: Args,
        attempts: u32,
    ) -> Outcome {
        if let Some(job) = action.job().cloned() {
            return self.start_job(action, args, attempts, &job);
        }
        let attempts = attempts + 1;
        let result = self.vm.call_action(&action, &args);
        self.call_finished(action, args, attempts, result)
    }

    pub(super) fn step_timeout(&mut self, mut t: Box<node::TimeoutNode>) -> Outcome {
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
    pub(super) fn time_out(&mut self, mut t: Box<node::TimeoutNode>, now: i64) -> Outcome {
        self.cancel_jobs_in(&t.inner);
        t.attempts += 1;
        let mut shown = String::new();
        crate::vm::value::write_duration(&mut shown, t.duration);
        let message = format!("timed out after {shown}: {}", t.original.display());
        if t.attempts < self.max_attempts() {
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
    pub(super) fn start_job(
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
        // With a store, the job starts once the step is committed (so a
        // crash from then on runs it again): see `Engine::step_stored`.
        let job = if self.store.is_some() {
            pool.hold(spec)
        } else {
            pool.submit(spec)
        };
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
    pub(super) fn call_finished(
        &mut self,
        action: Rc<ActionDef>,
        args: Args,
        attempts: u32,
        result: Result<Value, RuntimeError>,
    ) -> Outcome {
        // The action's own policy, unless a `retrying` around the call
        // gives one.
        let own = result.is_err() && self.policy.is_none() && action.retry.is_some();
        if own {
            self.policy = action.retry.clone();
        }
        let outcome = self.call_outcome(action, args, attempts, result);
        if own {
            self.policy = None;
        }
        outcome
    }

    fn call_outcome(
        &mut self,
        action: Rc<ActionDef>,
        args: Args,
        attempts: u32,
        result: Result<Value, RuntimeError>,
    ) -> Outcome {
        match result {
            Ok(result) => {
                self.stats.calls_done += 1;
                let mut out = Vec::new();
                result_messages(result, &mut out);
                Outcome::Stepped { out, rest: None }
            }
            Err(e) if e.severity == Severity::Retryable && self.retries(&e, attempts) => {
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
                    e.message = if attempts < self.max_attempts() {
                        format!(
                            "not retried ({} is not in the retry policy's `on`): {}",
                            e.code, e.message
                        )
                    } else {
                        format!("gave up after {attempts} attempts: {}", e.message)
                    };
                    e.severity = Severity::Fatal;
                }
                Outcome::Failed(Node::Call { action, args }, e, attempts)
            }
        }
    }
}
