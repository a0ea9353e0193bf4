//! Items parked while their native jobs run, while they wait for room on
//! the pool, or for their turn on a resource.
//!
//! A finished job wakes only the item that started it, and a freed slot on
//! the pool wakes only as many items waiting for room as there are free
//! slots: with thousands of jobs in flight, each one costs a step or two,
//! never a step of every parked item.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};

use super::queue::Item;

#[derive(Default)]
pub struct Parked {
    /// By item id: the time it must wake at anyway (a timeout, a delay
    /// beside the job), and the item.
    items: HashMap<u64, (Option<i64>, Item)>,
    /// The items that wait only for a turn on a resource (no job): a
    /// resource wakes them, not the pool.
    on_resource: std::collections::HashSet<u64>,
    /// The items' wake-up times, earliest first. An entry whose item has
    /// woken since is skipped when it comes up.
    deadlines: BinaryHeap<Reverse<(i64, u64)>>,
    /// Which item started each running job.
    owners: HashMap<u64, u64>,
    /// Items that found the pool full, in the order they asked.
    wanting_room: VecDeque<u64>,
}

impl Parked {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Parks an item until one of its jobs finishes, a slot frees (when
    /// `wants_room`), or `deadline`.
    pub fn park(&mut self, deadline: Option<i64>, item: Item, wants_room: bool) {
        if let Some(at) = deadline {
            self.deadlines.push(Reverse((at, item.id)));
        }
        if wants_room {
            self.wanting_room.push_back(item.id);
        }
        self.items.insert(item.id, (deadline, item));
    }

    /// Parks an item until its turn on a resource may have come, or
    /// `deadline`.
    pub fn park_for_turn(&mut self, deadline: Option<i64>, item: Item) {
        self.on_resource.insert(item.id);
        self.park(deadline, item, false);
    }

    /// Where parked item `id` waits, as a store records it: its turn on a
    /// resource, or a job.
    pub fn state_of(&self, id: u64) -> super::store::ItemState {
        if self.is_on_resource(id) {
            super::store::ItemState::Resource
        } else {
            super::store::ItemState::Job
        }
    }

    /// Whether item `id` is parked only for a turn on a resource.
    fn is_on_resource(&self, id: u64) -> bool {
        self.on_resource.contains(&id)
    }

    /// Item `id`, if it is parked: taken out to run.
    pub fn wake_item(&mut self, id: u64) -> Option<Item> {
        let (_, item) = self.items.remove(&id)?;
        self.on_resource.remove(&id);
        Some(item)
    }

    /// Whether some parked item waits for a job (or for room for one).
    pub fn has_job_waits(&self) -> bool {
        self.items.len() > self.on_resource.len()
    }

    /// The items parked for jobs (not those waiting only for a turn on a
    /// resource), oldest first.
    pub fn drain_job_waits(&mut self) -> Vec<Item> {
        let ids: Vec<u64> = self
            .items
            .keys()
            .filter(|id| !self.on_resource.contains(id))
            .copied()
            .collect();
        let mut all: Vec<Item> = ids
            .into_iter()
            .filter_map(|id| self.items.remove(&id).map(|(_, item)| item))
            .collect();
        all.sort_by_key(|i| i.id);
        all
    }

    /// The earliest time an item must wake at, entries of items woken
    /// since dropped first.
    pub fn next_live_deadline(&mut self) -> Option<i64> {
        while let Some(&Reverse((at, id))) = self.deadlines.peek() {
            if self.items.get(&id).is_some_and(|(d, _)| *d == Some(at)) {
                return Some(at);
            }
            self.deadlines.pop();
        }
        None
    }

    /// Records that item `owner` started `job`.
    pub fn own(&mut self, job: u64, owner: u64) {
        self.owners.insert(job, owner);
    }

    /// Forgets a job that will not be collected (a timeout cancelled it).
    pub fn disown(&mut self, job: u64) {
        self.owners.remove(&job);
    }

    /// The item that started `job`, if it is parked: taken out to run.
    pub fn wake_owner(&mut self, job: u64) -> Option<Item> {
        let owner = self.owners.remove(&job)?;
        self.wake_item(owner)
    }

    /// Takes item `id` out (cancelled, or its lease was lost), whatever it
    /// waited for; its other entries are skipped when they come up, as for
    /// an item that woke.
    pub fn remove(&mut self, id: u64) -> Option<Item> {
        let (_, item) = self.items.remove(&id)?;
        self.owners.retain(|_, owner| *owner != id);
        self.on_resource.remove(&id);
        Some(item)
    }

    /// The oldest item waiting for room on the pool, if any.
    pub fn wake_for_room(&mut self) -> Option<Item> {
        while let Some(id) = self.wanting_room.pop_front() {
            if let Some(item) = self.wake_item(id) {
                return Some(item);
            }
        }
        None
    }

    /// An item whose time has come (at or before `now`).
    pub fn wake_due(&mut self, now: i64) -> Option<Item> {
        while let Some(&Reverse((at, id))) = self.deadlines.peek() {
            if at > now {
                return None;
            }
            self.deadlines.pop();
            if self.items.get(&id).is_some_and(|(d, _)| *d == Some(at)) {
                return self.wake_item(id);
            }
        }
        None
    }

    /// Every parked item, oldest first (the rest of the bookkeeping goes).
    pub fn drain(&mut self) -> Vec<Item> {
        let mut all: Vec<Item> = self.items.drain().map(|(_, (_, item))| item).collect();
        all.sort_by_key(|i| i.id);
        self.deadlines.clear();
        self.owners.clear();
        self.wanting_room.clear();
        self.on_resource.clear();
        all
    }

    /// The parked items, oldest first.
    pub fn sorted(&self) -> Vec<&Item> {
        let mut all: Vec<&Item> = self.items.values().map(|(_, item)| item).collect();
        all.sort_by_key(|i| i.id);
        all
    }
}
