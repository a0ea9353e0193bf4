//! Wrapped messages: `catch` (a failure runs a handler instead of making a
//! dead letter), `ensure` (a cleanup runs whatever the outcome), `then`
//! (the next step gets what the message yielded) and `retrying` (a retry
//! policy for the calls inside).
//!
//! What stepping the wrapped message makes stays inside the wrap (in `seq`
//! order), so a call's follow-up messages are covered too; data at its
//! front comes out (a `then` collects it).

use std::rc::Rc;

use super::node::{self, Failure, Node, WrapNode};
use super::queue::MainQueue;
use super::step::split_rest;
use super::{Engine, Outcome};
use crate::vm::error::RuntimeError;
use crate::vm::message::Wrap;
use crate::vm::value::Value;

impl<Q: MainQueue> Engine<Q> {
    pub(super) fn step_wrap(&mut self, mut w: Box<WrapNode>) -> Outcome {
        let inner = std::mem::replace(&mut w.inner, Node::Defer(i64::MIN));
        let outcome = match &w.wrap {
            Wrap::Retrying(policy) => {
                let outer = self.policy.replace(policy.clone());
                let outcome = self.step_inner(inner);
                self.policy = outer;
                outcome
            }
            _ => self.step_inner(inner),
        };
        match outcome {
            Outcome::Blocked(inner, wait) => {
                w.inner = inner;
                Outcome::Blocked(Node::Wrap(w), wait)
            }
            Outcome::Stepped { out, rest } => self.wrap_stepped(w, out, rest),
            Outcome::Failed(inner, e, attempts) => self.wrap_failed(w, inner, e, attempts),
        }
    }

    fn wrap_stepped(
        &mut self,
        mut w: Box<WrapNode>,
        out: Vec<Node>,
        rest: Option<Node>,
    ) -> Outcome {
        let (nodes, work) = node::results(out.into_iter().chain(rest));
        // `nodes` is the data that came to the front.
        let mut out = Vec::new();
        if let Wrap::Then(_) = w.wrap {
            for n in nodes {
                if let Node::Data(v) = n {
                    w.collected.push(v);
                }
            }
        } else {
            out = nodes;
        }
        if let Some(inner) = work {
            w.inner = inner;
            return Outcome::Stepped {
                out,
                rest: Some(Node::Wrap(w)),
            };
        }
        // The wrapped message (or an ensure's cleanup) has finished.
        if let Some(failure) = w.failed.take() {
            let Failure {
                node,
                error,
                attempts,
            } = *failure;
            w.inner = node;
            return Outcome::Failed(Node::Wrap(w), error, attempts);
        }
        let WrapNode {
            wrap, collected, ..
        } = *w;
        match wrap {
            Wrap::Ensure(cleanup) => node::normalize(&cleanup, &mut out),
            Wrap::Then(next) => {
                let call = next.with_last(node::then_result(collected));
                node::normalize(&Rc::new(call), &mut out);
            }
            Wrap::Catch(_) | Wrap::Retrying(_) => {}
        }
        split_rest(out)
    }

    fn wrap_failed(
        &mut self,
        mut w: Box<WrapNode>,
        inner: Node,
        mut e: RuntimeError,
        attempts: u32,
    ) -> Outcome {
        match (&w.wrap, w.failed.take()) {
            (Wrap::Catch(handler), None) => {
                self.cancel_jobs_in(&inner);
                self.stats.recovered += 1;
                let call = match failing_call(&inner) {
                    Some(call) => Value::message(call.to_message()),
                    None => Value::message(inner.to_message()),
                };
                let handler = handler.clone();
                self.trace(|| format!("recovered {}: {}", inner.to_message().display(), e.message));
                let error = crate::vm::natives::error_record(&e, Some(call), attempts);
                let mut out = Vec::new();
                node::normalize(&Rc::new(handler.with_last(error)), &mut out);
                split_rest(out)
            }
            (Wrap::Ensure(cleanup), None) => {
                self.cancel_jobs_in(&inner);
                // The failed message keeps no resource while its cleanup
                // runs (a cleanup on the same host would wait for it).
                let mut inner = inner;
                super::resources::release(&mut inner);
                let cleanup = cleanup.clone();
                let mut lifted = Vec::new();
                match node::TimeoutNode::fresh_inner(&cleanup, &mut lifted) {
                    Some(work) => {
                        w.failed = Some(Box::new(Failure {
                            node: inner,
                            error: e,
                            attempts,
                        }));
                        w.inner = work;
                        Outcome::Stepped {
                            out: lifted,
                            rest: Some(Node::Wrap(w)),
                        }
                    }
                    None => {
                        w.inner = inner;
                        Outcome::Failed(Node::Wrap(w), e, attempts)
                    }
                }
            }
            // An ensure's cleanup failed after its message had: the item is
            // a dead letter as the failed message with its cleanup.
            (_, Some(failure)) => {
                e.message = format!(
                    "{} (in the cleanup after: {})",
                    e.message, failure.error.message
                );
                w.inner = failure.node;
                Outcome::Failed(Node::Wrap(w), e, attempts)
            }
            _ => {
                w.inner = inner;
                Outcome::Failed(Node::Wrap(w), e, attempts)
            }
        }
    }
}

/// The call that failed in a node a failed step left: every container puts
/// its failed part back at its front.
fn failing_call(node: &Node) -> Option<&Node> {
    match node {
        Node::Call { .. } | Node::Retry(_) | Node::Running(_) | Node::Turn(_) => Some(node),
        Node::Hold(h) => failing_call(&h.inner),
        Node::Seq(q) | Node::Conc(q) => q.front().and_then(failing_call),
        Node::Promise(p) => p.queue.front().and_then(failing_call),
        Node::Void(inner) => failing_call(inner),
        Node::Timeout(t) => failing_call(&t.inner),
        Node::Wrap(w) => failing_call(&w.inner),
        Node::Data(_) | Node::Defer(_) | Node::Delay { .. } => None,
    }
}
