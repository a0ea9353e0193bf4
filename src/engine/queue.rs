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
}

/// What the engine needs of a main queue: FIFO order.
pub trait MainQueue {
    fn push_back(&mut self, item: Item);
    fn pop_front(&mut self) -> Option<Item>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Everything still queued, oldest first (for reports of unfinished work).
    fn drain(&mut self) -> Vec<Item>;
    /// A look at the first `n` queued items (id and node), oldest first
    /// (for the REPL's `:queue`).
    fn peek(&self, n: usize) -> Vec<(u64, &Node)>;
}

/// The in-memory main queue: growable ring buffers, one of nodes and one
/// of item ids (apart, so that a queued call costs its 32-byte node, a
/// 4-byte id and its arguments, with no padding).
#[derive(Debug, Default)]
pub struct RingQueue {
    nodes: VecDeque<Node>,
    /// Item ids, kept as u32 (they only name items in traces).
    ids: VecDeque<u32>,
}

impl MainQueue for RingQueue {
    #[inline]
    fn push_back(&mut self, item: Item) {
        self.nodes.push_back(item.node);
        self.ids.push_back(item.id as u32);
    }

    #[inline]
    fn pop_front(&mut self) -> Option<Item> {
        let node = self.nodes.pop_front()?;
        let id = self.ids.pop_front().unwrap_or_default() as u64;
        Some(Item { id, node })
    }

    fn len(&self) -> usize {
        self.nodes.len()
    }

    fn drain(&mut self) -> Vec<Item> {
        let ids = self.ids.drain(..);
        self.nodes
            .drain(..)
            .zip(ids)
            .map(|(node, id)| Item {
                id: id as u64,
                node,
            })
            .collect()
    }

    fn peek(&self, n: usize) -> Vec<(u64, &Node)> {
        self.ids
            .iter()
            .zip(self.nodes.iter())
            .take(n)
            .map(|(id, node)| (*id as u64, node))
            .collect()
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
