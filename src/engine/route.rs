//! Routing: messages entering the engine, offered to the interests (filters)
//! that may take them into topics, or else queued as items.

use std::rc::Rc;

use super::node::{self, Node};
use super::queue::{Item, MainQueue};
use super::store::ItemState;
use super::{DeadLetter, Engine};
use crate::vm::message::Msg;
use crate::vm::value::Value;

impl<Q: MainQueue> Engine<Q> {
    /// Enqueues a message from outside (the top level of a script, the
    /// REPL, an embedding program): normalized, then routed.
    pub fn enqueue(&mut self, message: &Msg) {
        self.base_priority = 0;
        self.group_start();
        let mut nodes = Vec::new();
        node::normalize(message, &mut nodes);
        for n in nodes {
            self.enter(n, None);
        }
    }

    /// Enqueues a message from outside with a priority: its items step
    /// before ready items of lower priority, and so do the items their
    /// steps make, unless they call an action that declares its own.
    pub fn enqueue_with_priority(&mut self, message: &Msg, priority: i16) {
        if priority != 0 {
            self.prioritize();
        }
        self.group_start();
        let mut nodes = Vec::new();
        node::normalize(message, &mut nodes);
        self.base_priority = priority;
        for n in nodes {
            self.enter(n, None);
        }
        self.base_priority = 0;
    }

    /// Orders the main queue by priority from now on (a program declared
    /// one); until then it is plain first-in first-out, at no cost.
    pub fn prioritize(&mut self) {
        self.prioritized = true;
        self.main.prioritize();
    }

    /// Routes one normalized top-level node: a new message, or what is left
    /// of an item after a step (`id` is then the item's own, kept if no
    /// interest takes it; a `seq` stepped down to one `call` is that call,
    /// so an interest on the call takes it). A `conc` splits into separate
    /// items. `from_topic` is the topic whose pass produced the node: its
    /// own declarations are skipped.
    pub(super) fn enter(&mut self, n: Node, from_topic: Option<&Rc<str>>) {
        self.enter_as(None, n, from_topic);
    }

    pub(super) fn enter_as(&mut self, id: Option<u64>, n: Node, from_topic: Option<&Rc<str>>) {
        if let Node::Conc(branches) = n {
            for b in *branches {
                self.enter_as(None, b, from_topic);
            }
            return;
        }
        if !self.filters.is_empty() && self.route(&n, from_topic) {
            return;
        }
        match (n, id) {
            (Node::Data(v), _) => {
                self.stats.unclaimed_data += 1;
                if let Some(store) = self.store.as_deref_mut() {
                    store.data(&v);
                }
                self.trace(|| format!("unclaimed data({})", v.repr()));
            }
            (node, Some(id)) => {
                self.store_put(id, &node, ItemState::Queued, None);
                self.main.push_back(Item {
                    id,
                    node,
                    prio: self.base_priority,
                })
            }
            (other, None) => self.push_item(other),
        }
    }

    pub(super) fn push_item(&mut self, node: Node) {
        self.next_id += 1;
        self.stats.enqueued += 1;
        self.store_put(self.next_id, &node, ItemState::Queued, None);
        self.main.push_back(Item {
            id: self.next_id,
            node,
            prio: self.base_priority,
        });
        self.stats.peak_queue = self.stats.peak_queue.max(self.main.len());
    }

    /// The filters that may match a node of this kind (and action), in
    /// declaration order: computed once per (kind, action) and cached, so a
    /// message that no filter could match costs one lookup however many
    /// filters there are.
    pub(super) fn candidates(&mut self, kind: usize, action: Option<u32>) -> Rc<[usize]> {
        let key = (kind, action.unwrap_or(u32::MAX));
        if let Some(found) = self.filter_index.get(&key) {
            return found.clone();
        }
        let kind_name = node::KINDS[kind];
        let list: Rc<[usize]> = self
            .filters
            .iter()
            .enumerate()
            .filter(|(_, f)| f.constructor.is_none_or(|c| c == kind_name))
            .filter(|(_, f)| f.action.is_none() || f.action == action)
            .map(|(i, _)| i)
            .collect();
        self.filter_index.insert(key, list.clone());
        list
    }

    /// Offers a node to the filters; returns whether an interest took it.
    pub(super) fn route(&mut self, n: &Node, from_topic: Option<&Rc<str>>) -> bool {
        let action = match n {
            Node::Call { action, .. } => Some(action.id),
            // A call waiting out its backoff, or running on the pool, is
            // the same call still in progress, not a new message: routing
            // it would restart it and forget its attempts.
            // So is a limited call waiting for its turn, or what one
            // returned, which runs holding its resource.
            Node::Retry(_) | Node::Running(_) | Node::Turn(_) | Node::Hold(_) => return false,
            _ => None,
        };
        let candidates = self.candidates(n.kind_index(), action);
        let mut message: Option<Msg> = None;
        for &i in candidates.iter() {
            let f = &self.filters[i];
            if from_topic.is_some_and(|t| *t == f.topic) {
                continue;
            }
            let m = message
                .get_or_insert_with(|| Rc::new(n.to_message()))
                .clone();
            let predicate = self.predicates[i].clone();
            let matched = match self.vm.call(&predicate, &[Value::Message(m.clone())]) {
                Ok(v) => v.is_truthy(),
                Err(e) => {
                    // A guard that fails: the message is a dead letter
                    // with the guard's error (never silently dropped).
                    self.push_dead(DeadLetter {
                        message: m.clone(),
                        error: e,
                        attempts: 0,
                    });
                    return true;
                }
            };
            if !matched {
                continue;
            }
            let f = &self.filters[i];
            let topic = f.topic.clone();
            let take = f.take;
            self.trace(|| {
                format!(
                    "route {} {} topic \"{topic}\"",
                    m.display(),
                    if take { "taken by" } else { "copied to" }
                )
            });
            *self.stats.topic_in.entry(topic.clone()).or_default() += 1;
            if let Some(store) = self.store.as_deref_mut() {
                store.topic_push(&topic, &m);
                if self.shared_topics {
                    // The store holds it for whichever worker runs the pass.
                    if take {
                        return true;
                    }
                    continue;
                }
            }
            self.topic(&topic).queue.push_back(m.clone());
            // A full topic runs its pass at once, whether the message was
            // taken or copied into it (after the running pass, if one is).
            if self.topic(&topic).queue.len() >= self.config.batch {
                if !self.in_pass {
                    self.run_pass(&topic);
                } else if !self.full_topics.contains(&topic) {
                    self.full_topics.push(topic);
                }
            }
            if take {
                return true;
            }
        }
        false
    }

    pub(super) fn note_unrouted(&mut self, n: &Node, action: u32) {
        let candidates = self.candidates(n.kind_index(), Some(action));
        let mut message = None;
        for &i in candidates.iter() {
            if !self.filters[i].take {
                continue;
            }
            let m = message
                .get_or_insert_with(|| Rc::new(n.to_message()))
                .clone();
            let predicate = self.predicates[i].clone();
            let matched = self
                .vm
                .call(&predicate, &[Value::Message(m.clone())])
                .is_ok_and(|v| v.is_truthy());
            if matched {
                let topic = self.filters[i].topic.clone();
                let entry = self
                    .stats
                    .unrouted
                    .entry(topic)
                    .or_insert_with(|| (0, m.display()));
                entry.0 += 1;
                return;
            }
        }
    }
}
