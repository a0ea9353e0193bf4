//! Queued work: a message turned into a mutable tree that stepping changes in
//! place, and normalization (noop vanishes, nested seqs flatten, a one-item
//! seq or conc is its item).
//!
//! A message value (`Rc<Message>`) is immutable and shared; once it enters
//! the engine it becomes a [`Node`] tree that owns its queues, so a step
//! pops and pushes at the ends of a `VecDeque` instead of rebuilding a
//! message. Normalization runs on the messages a step produces, and on the
//! front of the one queue the step changed: never on the whole tree.

use std::collections::VecDeque;
use std::rc::Rc;

pub use super::resources::{HoldNode, TurnNode};
use crate::vm::error::RuntimeError;
use crate::vm::message::{Args, Callback, Message, Msg, Wrap};
use crate::vm::value::{ActionDef, Value};

/// Kept to 32 bytes: a queued `call(a, x)` is this plus its arguments.
#[derive(Debug)]
pub enum Node {
    /// A call not yet run.
    Call {
        action: Rc<ActionDef>,
        args: Args,
    },
    /// A call that failed retryably and waits out its backoff.
    Retry(Box<RetryNode>),
    /// A native action whose job runs on the worker pool.
    Running(Box<RunningNode>),
    Data(Value),
    Seq(Box<VecDeque<Node>>),
    Conc(Box<VecDeque<Node>>),
    Promise(Box<PromiseNode>),
    /// Completes at this time (ms since the epoch).
    Defer(i64),
    /// Completes `duration` after first stepped; `until` is set then
    /// ([`NOT_STARTED`] before).
    Delay {
        duration: i64,
        until: i64,
    },
    Void(Box<Node>),
    Timeout(Box<TimeoutNode>),
    /// `catch`, `ensure`, `then` or `retrying` around a message.
    Wrap(Box<WrapNode>),
    /// A call of a limited action waiting for its turn on its resource.
    Turn(Box<TurnNode>),
    /// What a call of a limited action returned, holding its resource.
    Hold(Box<HoldNode>),
}

/// The constructors, in [`Node::kind_index`] order.
pub const KINDS: [&str; 13] = [
    "call", "data", "seq", "conc", "promise", "defer", "delay", "void", "timeout", "catch",
    "ensure", "then", "retrying",
];

#[derive(Debug)]
pub struct WrapNode {
    pub wrap: Wrap,
    /// What is left of the wrapped message (for an `ensure` whose message
    /// failed: of its cleanup).
    pub inner: Node,
    /// `then`: the data the message yielded so far.
    pub collected: Vec<Value>,
    /// `ensure`: the failure that waits for the cleanup to finish.
    pub failed: Option<Box<Failure>>,
}

/// A message that failed fatally: as it was before the failing step.
#[derive(Debug)]
pub struct Failure {
    pub node: Node,
    pub error: RuntimeError,
    pub attempts: u32,
}

impl WrapNode {
    /// The message this wrap stands for now. A `then` puts what it
    /// collected back in front of its message as `data`; an `ensure`
    /// cleaning up after a failure stands for the failed message with its
    /// cleanup (requeued, both run again).
    pub fn to_message(&self) -> Message {
        let inner = match &self.failed {
            Some(f) => f.node.to_message(),
            None => self.inner.to_message(),
        };
        let inner = if self.collected.is_empty() {
            inner
        } else {
            let mut items: Vec<Msg> = self
                .collected
                .iter()
                .map(|v| Rc::new(Message::Data(v.clone())))
                .collect();
            items.push(Rc::new(inner));
            Message::Seq(items.into_boxed_slice())
        };
        Message::Wrap(self.wrap.clone(), Rc::new(inner))
    }
}

/// What `then` passes on: the one value its message yielded, `nil` for
/// none, or the list of them.
pub fn then_result(mut collected: Vec<Value>) -> Value {
    match collected.len() {
        0 => Value::Nil,
        1 => collected.pop().unwrap_or_default(),
        _ => Value::list(collected),
    }
}

/// Normalizes `wrap(inner)`: leading data comes out (a `then` collects
/// it); nothing left to run finishes the wrap at once.
fn normalize_wrap(wrap: &Wrap, inner: &Msg, out: &mut Vec<Node>) {
    let mut lifted = Vec::new();
    let work = TimeoutNode::fresh_inner(inner, &mut lifted);
    let mut collected = Vec::new();
    if let Wrap::Then(_) = wrap {
        collected.extend(lifted.drain(..).filter_map(|n| match n {
            Node::Data(v) => Some(v),
            _ => None,
        }));
    }
    out.extend(lifted);
    match (work, wrap) {
        (Some(inner), _) => out.push(Node::Wrap(Box::new(WrapNode {
            wrap: wrap.clone(),
            inner,
            collected,
            failed: None,
        }))),
        (None, Wrap::Ensure(cleanup)) => normalize(cleanup, out),
        (None, Wrap::Then(next)) => {
            normalize(&Rc::new(next.with_last(then_result(collected))), out)
        }
        (None, Wrap::Catch(_) | Wrap::Retrying(_)) => {}
    }
}

#[derive(Debug)]
pub struct TimeoutNode {
    /// How long the inner message may take (ms).
    pub duration: i64,
    /// When this attempt times out ([`NOT_STARTED`] before its first step).
    pub deadline: i64,
    /// The message as given, to start again from on a retry.
    pub original: Msg,
    pub inner: Node,
    /// Attempts that timed out so far.
    pub attempts: u32,
    /// While waiting out a backoff: not before this time.
    pub not_before: i64,
}

impl TimeoutNode {
    /// The inner work of a (fresh) attempt; `None` if there is nothing to
    /// time. Leading data is not work: it goes to `lifted`.
    pub fn fresh_inner(original: &Msg, lifted: &mut Vec<Node>) -> Option<Node> {
        let mut nodes = Vec::new();
        normalize(original, &mut nodes);
        let mut rest = nodes.into_iter().peekable();
        while let Some(Node::Data(_)) = rest.peek() {
            lifted.extend(rest.next());
        }
        let mut work: Vec<Node> = rest.collect();
        match work.len() {
            0 => None,
            1 => work.pop(),
            _ => Some(Node::Seq(Box::new(work.into()))),
        }
    }
}

/// A delay's `until` before its first step.
pub const NOT_STARTED: i64 = i64::MIN;

#[derive(Debug)]
pub struct RunningNode {
    pub job: u64,
    pub action: Rc<ActionDef>,
    pub args: Args,
    /// Attempts made, this one included.
    pub attempts: u32,
}

#[derive(Debug)]
pub struct RetryNode {
    pub action: Rc<ActionDef>,
    pub args: Args,
    /// Attempts already made.
    pub attempts: u32,
    /// Not to run again before this time.
    pub not_before: i64,
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_node_is_32_bytes() {
        assert_eq!(std::mem::size_of::<super::Node>(), 32);
    }
}

#[derive(Debug)]
pub struct PromiseNode {
    pub queue: VecDeque<Node>,
    pub collected: Vec<Value>,
    pub callback: Callback,
}

impl Node {
    pub fn call(action: Rc<ActionDef>, args: Args) -> Node {
        Node::Call { action, args }
    }

    /// Position in [`KINDS`] (stats count steps by kind in an array).
    pub fn kind_index(&self) -> usize {
        match self {
            Node::Call { .. } | Node::Retry(_) | Node::Running(_) | Node::Turn(_) => 0,
            Node::Hold(h) => h.inner.kind_index(),
            Node::Data(_) => 1,
            Node::Seq(_) => 2,
            Node::Conc(_) => 3,
            Node::Promise(_) => 4,
            Node::Defer(_) => 5,
            Node::Delay { .. } => 6,
            Node::Void(_) => 7,
            Node::Timeout(_) => 8,
            Node::Wrap(w) => match w.wrap {
                Wrap::Catch(_) => 9,
                Wrap::Ensure(_) => 10,
                Wrap::Then(_) => 11,
                Wrap::Retrying(_) => 12,
            },
        }
    }

    /// The message this node stands for now (for dead letters, traces and
    /// requeueing). A promise's collected values go back in as `data` at
    /// the front of its queue, where they would be collected again.
    pub fn to_message(&self) -> Message {
        let list = |q: &VecDeque<Node>| -> Box<[Msg]> {
            q.iter().map(|n| Rc::new(n.to_message())).collect()
        };
        match self {
            Node::Call { action, args } => Message::Call {
                action: action.clone(),
                args: args.clone(),
            },
            Node::Retry(r) => Message::Call {
                action: r.action.clone(),
                args: r.args.clone(),
            },
            Node::Running(r) => Message::Call {
                action: r.action.clone(),
                args: r.args.clone(),
            },
            Node::Turn(t) => Message::Call {
                action: t.action.clone(),
                args: t.args.clone(),
            },
            // Requeued, what the call returned runs without its resource.
            Node::Hold(h) => h.inner.to_message(),
            Node::Data(v) => Message::Data(v.clone()),
            Node::Seq(q) => Message::Seq(list(q)),
            Node::Conc(q) => Message::Conc(list(q)),
            Node::Promise(p) => {
                let mut items: Vec<Msg> = p
                    .collected
                    .iter()
                    .map(|v| Rc::new(Message::Data(v.clone())))
                    .collect();
                items.extend(p.queue.iter().map(|n| Rc::new(n.to_message())));
                Message::Promise {
                    items: items.into_boxed_slice(),
                    callback: p.callback.clone(),
                }
            }
            Node::Defer(t) => Message::Defer(*t),
            // A started delay is requeued whole: the wait starts again.
            Node::Delay { duration, .. } => Message::Delay(*duration),
            Node::Void(inner) => Message::Void(Rc::new(inner.to_message())),
            // Requeued, a timeout starts again from what is left of it.
            Node::Timeout(t) => Message::Timeout(t.duration, Rc::new(t.inner.to_message())),
            Node::Wrap(w) => w.to_message(),
        }
    }
}

/// Normalizes each of a `seq`'s or `conc`'s items and hands over the
/// nodes, in order.
fn each_normalized(items: &[Msg], mut f: impl FnMut(Node)) {
    let mut children = Vec::new();
    for item in items {
        normalize(item, &mut children);
        children.drain(..).for_each(&mut f);
    }
}

/// Normalizes a message into the nodes that take its place in its parent
/// (a `noop` none, a `seq` spliced into a parent `seq`), appending them to
/// `out`.
pub fn normalize(m: &Msg, out: &mut Vec<Node>) {
    match &**m {
        Message::Noop => {}
        Message::Data(v) => out.push(Node::Data(v.clone())),
        Message::Call { action, args } => out.push(Node::call(action.clone(), args.clone())),
        Message::Defer(t) => out.push(Node::Defer(*t)),
        Message::Delay(d) => out.push(Node::Delay {
            duration: *d,
            until: NOT_STARTED,
        }),
        Message::Seq(items) => {
            let mut queue = VecDeque::with_capacity(items.len());
            each_normalized(items, |child| match child {
                Node::Seq(inner) => append(&mut queue, *inner),
                other => queue.push_back(other),
            });
            finish_seq(queue, out);
        }
        Message::Conc(items) => {
            let mut queue = VecDeque::with_capacity(items.len());
            each_normalized(items, |child| push_conc(&mut queue, child, out));
            finish_conc(queue, out);
        }
        Message::Promise { items, callback } => {
            let mut queue = VecDeque::with_capacity(items.len());
            let mut children = Vec::new();
            for item in items.iter() {
                children.clear();
                normalize(item, &mut children);
                queue.extend(children.drain(..));
            }
            out.push(Node::Promise(Box::new(PromiseNode {
                queue,
                collected: Vec::new(),
                callback: callback.clone(),
            })));
        }
        Message::Void(inner) => {
            let mut children = Vec::new();
            normalize(inner, &mut children);
            wrap_void(children, out);
        }
        Message::Timeout(duration, inner) => {
            if let Some(node) = TimeoutNode::fresh_inner(inner, out) {
                out.push(Node::Timeout(Box::new(TimeoutNode {
                    duration: *duration,
                    deadline: NOT_STARTED,
                    original: inner.clone(),
                    inner: node,
                    attempts: 0,
                    not_before: i64::MIN,
                })));
            }
        }
        Message::Wrap(wrap, inner) => normalize_wrap(wrap, inner, out),
    }
}

/// A `void`'s inner results: data dropped, every other node wrapped.
pub fn wrap_void(children: Vec<Node>, out: &mut Vec<Node>) {
    for child in children {
        match child {
            Node::Data(_) => {}
            v @ Node::Void(_) => out.push(v),
            other => out.push(Node::Void(Box::new(other))),
        }
    }
}

/// Pushes a branch onto a conc's queue: data is lifted out to `lifted`,
/// a nested conc is flattened.
pub fn push_conc(queue: &mut VecDeque<Node>, node: Node, lifted: &mut Vec<Node>) {
    match node {
        d @ Node::Data(_) => lifted.push(d),
        // A conc node is normalized already (no data, no nested conc).
        Node::Conc(inner) => append(queue, *inner),
        other => queue.push_back(other),
    }
}

/// Appends `tail` to `queue`, moving the shorter of the two: flattening a
/// deeply nested seq or conc costs O(n log n) in all, not O(n²).
pub fn append(queue: &mut VecDeque<Node>, mut tail: VecDeque<Node>) {
    if tail.len() > queue.len() {
        while let Some(n) = queue.pop_back() {
            tail.push_front(n);
        }
        *queue = tail;
    } else {
        queue.extend(tail);
    }
}

/// Puts `head` in front of `queue`, moving the shorter of the two.
pub fn prepend(queue: &mut VecDeque<Node>, mut head: VecDeque<Node>) {
    if head.len() > queue.len() {
        head.extend(queue.drain(..));
        *queue = head;
    } else {
        while let Some(n) = head.pop_back() {
            queue.push_front(n);
        }
    }
}

/// Lifts a seq's leading data out, then unwraps a one-element seq and drops
/// an empty one.
pub fn finish_seq(mut queue: VecDeque<Node>, out: &mut Vec<Node>) {
    while matches!(queue.front(), Some(Node::Data(_))) {
        if let Some(d) = queue.pop_front() {
            out.push(d);
        }
    }
    match queue.len() {
        0 => {}
        1 => out.extend(queue.pop_front()),
        _ => out.push(Node::Seq(Box::new(queue))),
    }
}

/// Unwraps a one-element conc and drops an empty one.
pub fn finish_conc(mut queue: VecDeque<Node>, out: &mut Vec<Node>) {
    match queue.len() {
        0 => {}
        1 => out.extend(queue.pop_front()),
        _ => out.push(Node::Conc(Box::new(queue))),
    }
}

/// Turns an action's result into messages: `nil` or `[]` is
/// none; a message is itself; a list of messages is those; anything else
/// is `data(v)`.
pub fn result_messages(result: Value, out: &mut Vec<Node>) {
    match result {
        Value::Nil => {}
        Value::Message(m) => normalize(&m, out),
        Value::List(items) => {
            let all_messages = items
                .borrow()
                .iter()
                .all(|v| matches!(v, Value::Message(_)));
            if all_messages {
                for item in items.borrow().iter() {
                    if let Value::Message(m) = item {
                        normalize(m, out);
                    }
                }
            } else {
                out.push(Node::Data(Value::List(items)));
            }
        }
        other => out.push(Node::Data(other)),
    }
}

/// Nodes in `seq` order: the data at their front, and the work left (if
/// any) as one node.
pub fn results(nodes: impl IntoIterator<Item = Node>) -> (Vec<Node>, Option<Node>) {
    let mut queue = VecDeque::new();
    for n in nodes {
        match n {
            Node::Seq(inner) => append(&mut queue, *inner),
            other => queue.push_back(other),
        }
    }
    let mut out = Vec::new();
    finish_seq(queue, &mut out);
    let work = match out.last() {
        Some(Node::Data(_)) | None => None,
        Some(_) => out.pop(),
    };
    (out, work)
}
