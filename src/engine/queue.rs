//! The main queue behind a small trait, so that a durable journal or a
//! shared database queue can stand in for the in-memory ring buffer.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use super::node::Node;

/// One top-level unit of work.
#[derive(Debug)]
pub struct Item {
    pub id: u64,
    pub node: Node,
    /// Its own priority: given when it was enqueued, or that of the item
    /// whose step made it; 0 by default. A call of an action that declares
    /// a priority steps at the action's priority instead (see [`priority`]).
    pub prio: i16,
}

/// The priority an item steps at: that of the action its next step calls,
/// if the action declares one, else the item's own.
pub fn priority(item: &Item) -> i16 {
    let action = match &item.node {
        Node::Call { action, .. } => action,
        Node::Retry(r) => &r.action,
        Node::Running(r) => &r.action,
        Node::Turn(t) => &t.action,
        Node::Hold(h) => &h.action,
        Node::Seq(children) => match children.front() {
            Some(Node::Call { action, .. }) => action,
            _ => return item.prio,
        },
        _ => return item.prio,
    };
    action.priority.unwrap_or(item.prio)
}

/// What the engine needs of a main queue: FIFO order, or, once
/// [`MainQueue::prioritize`] was called, FIFO order within a priority,
/// higher priorities first.
pub trait MainQueue {
    fn push_back(&mut self, item: Item);
    fn pop_front(&mut self) -> Option<Item>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Everything still queued, in the order it would step.
    fn drain(&mut self) -> Vec<Item>;
    /// A look at the first `n` queued items (id, own priority and node),
    /// in the order they would step (for the REPL's `:queue`, and to write
    /// deferred items to a store).
    fn peek(&self, n: usize) -> Vec<(u64, i16, &Node)>;
    /// From now on, orders by priority (a program declared one, or an item
    /// came with one). A queue that keeps plain FIFO order may ignore it.
    fn prioritize(&mut self) {}
}

/// The in-memory main queue: growable ring buffers, one of nodes and one
/// of item ids (apart, so that a queued call costs its 32-byte node, a
/// 4-byte id and its arguments, with no padding). A run that uses no
/// priorities has only these; once one is used, items go to one lane per
/// priority instead (see [`Lanes`]).
#[derive(Debug, Default)]
pub struct RingQueue {
    nodes: VecDeque<Node>,
    /// Item ids, kept as u32 (they only name items in traces).
    ids: VecDeque<u32>,
    lanes: Option<Box<Lanes>>,
}

impl MainQueue for RingQueue {
    #[inline]
    fn push_back(&mut self, item: Item) {
        if let Some(lanes) = &mut self.lanes {
            return lanes.push(item);
        }
        self.nodes.push_back(item.node);
        self.ids.push_back(item.id as u32);
    }

    #[inline]
    fn pop_front(&mut self) -> Option<Item> {
        if let Some(lanes) = &mut self.lanes {
            return lanes.pop();
        }
        let node = self.nodes.pop_front()?;
        let id = self.ids.pop_front().unwrap_or_default() as u64;
        Some(Item { id, node, prio: 0 })
    }

    fn len(&self) -> usize {
        match &self.lanes {
            Some(lanes) => lanes.lanes.iter().map(|l| l.nodes.len()).sum(),
            None => self.nodes.len(),
        }
    }

    fn drain(&mut self) -> Vec<Item> {
        if let Some(lanes) = &mut self.lanes {
            return std::iter::from_fn(|| lanes.pop()).collect();
        }
        let ids = self.ids.drain(..);
        self.nodes
            .drain(..)
            .zip(ids)
            .map(|(node, id)| Item {
                id: id as u64,
                node,
                prio: 0,
            })
            .collect()
    }

    fn peek(&self, n: usize) -> Vec<(u64, i16, &Node)> {
        match &self.lanes {
            Some(lanes) => lanes
                .lanes
                .iter()
                .flat_map(|l| l.ids.iter().zip(&l.prios).zip(&l.nodes))
                .take(n)
                .map(|((id, prio), node)| (*id as u64, *prio, node))
                .collect(),
            None => self
                .ids
                .iter()
                .zip(self.nodes.iter())
                .take(n)
                .map(|(id, node)| (*id as u64, 0, node))
                .collect(),
        }
    }

    fn prioritize(&mut self) {
        if self.lanes.is_some() {
            return;
        }
        let mut lanes = Box::<Lanes>::default();
        for item in self.drain() {
            lanes.push(item);
        }
        self.lanes = Some(lanes);
    }
}

/// The main queue once priorities are in use: one FIFO lane per priority
/// seen, highest first (a program has a handful, so a sorted list beats a
/// map), each keeping its items' own priorities beside them.
#[derive(Debug, Default)]
pub struct Lanes {
    lanes: Vec<Lane>,
}

#[derive(Debug)]
struct Lane {
    priority: i16,
    nodes: VecDeque<Node>,
    ids: VecDeque<u32>,
    prios: VecDeque<i16>,
}

impl Lanes {
    fn push(&mut self, item: Item) {
        let p = priority(&item);
        let at = match self.lanes.iter().position(|l| l.priority <= p) {
            Some(i) if self.lanes[i].priority == p => i,
            found => {
                let i = found.unwrap_or(self.lanes.len());
                self.lanes.insert(
                    i,
                    Lane {
                        priority: p,
                        nodes: VecDeque::new(),
                        ids: VecDeque::new(),
                        prios: VecDeque::new(),
                    },
                );
                i
            }
        };
        let lane = &mut self.lanes[at];
        lane.nodes.push_back(item.node);
        lane.ids.push_back(item.id as u32);
        lane.prios.push_back(item.prio);
    }

    fn pop(&mut self) -> Option<Item> {
        let lane = self.lanes.iter_mut().find(|l| !l.nodes.is_empty())?;
        let node = lane.nodes.pop_front()?;
        let id = lane.ids.pop_front().unwrap_or_default() as u64;
        let prio = lane.prios.pop_front().unwrap_or_default();
        Some(Item { id, node, prio })
    }
}

/// Items waiting for a time, earliest first; equal times in the order they
/// started waiting.
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Waiting>,
    next_seq: u64,
}

#[derive(Debug)]
struct Waiting {
    at: i64,
    seq: u64,
    item: Item,
}

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    /// Reversed, so the max-heap pops the earliest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

impl Timers {
    pub fn push(&mut self, at: i64, item: Item) {
        self.next_seq += 1;
        self.heap.push(Waiting {
            at,
            seq: self.next_seq,
            item,
        });
    }

    /// The earliest time anything waits for.
    pub fn next_due(&self) -> Option<i64> {
        self.heap.peek().map(|w| w.at)
    }

    /// Pops the earliest item if it is due at `now`.
    pub fn pop_due(&mut self, now: i64) -> Option<Item> {
        if self.heap.peek()?.at <= now {
            self.heap.pop().map(|w| w.item)
        } else {
            None
        }
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    pub fn drain(&mut self) -> Vec<(i64, Item)> {
        let mut all: Vec<Waiting> = self.heap.drain().collect();
        all.sort_by(|a, b| b.cmp(a));
        all.into_iter().map(|w| (w.at, w.item)).collect()
    }

    pub fn peek(&self) -> Vec<(i64, &Item)> {
        let mut all: Vec<&Waiting> = self.heap.iter().collect();
        all.sort_by(|a, b| b.cmp(a));
        all.into_iter().map(|w| (w.at, &w.item)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::value::Value;

    fn item(id: u64, prio: i16) -> Item {
        Item {
            id,
            node: Node::Data(Value::Int(id as i64)),
            prio,
        }
    }

    /// Lanes pop higher priorities first and keep first-in first-out
    /// order within one, however pushes and pops interleave; switching to
    /// lanes keeps what was queued, in order, at priority 0.
    #[test]
    fn lanes_order_by_priority_then_arrival() {
        let mut q = RingQueue::default();
        q.push_back(item(1, 0));
        q.push_back(item(2, 0));
        q.prioritize();
        let mut next = 3;
        let mut seed = 12345u64;
        let mut popped = Vec::new();
        let mut pushed = vec![(1, 0i16), (2, 0i16)];
        for _ in 0..2000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if (seed >> 33).is_multiple_of(3) {
                if let Some(it) = q.pop_front() {
                    // Nothing still queued outranks it, and nothing of its
                    // priority queued before it is still queued.
                    let p = it.prio;
                    let earlier_same = pushed.iter().any(|(id, q)| *q == p && *id < it.id);
                    assert!(!earlier_same, "item {} overtook one of its priority", it.id);
                    assert!(
                        pushed.iter().all(|(_, q)| *q <= p),
                        "item {} popped early",
                        it.id
                    );
                    pushed.retain(|(id, _)| *id != it.id);
                    popped.push(it.id);
                }
            } else {
                let p = ((seed >> 40) % 7) as i16 - 3;
                q.push_back(item(next, p));
                pushed.push((next, p));
                next += 1;
            }
        }
        assert_eq!(q.len(), pushed.len());
        let peeked: Vec<u64> = q.peek(usize::MAX).iter().map(|(id, _, _)| *id).collect();
        let drained: Vec<u64> = q.drain().iter().map(|it| it.id).collect();
        assert_eq!(peeked, drained);
        let mut want = pushed.clone();
        want.sort_by_key(|(id, p)| (std::cmp::Reverse(*p), *id));
        assert_eq!(drained, want.iter().map(|(id, _)| *id).collect::<Vec<_>>());
        assert!(popped.len() > 100);
    }
}
