//! Groups in the PostgreSQL store, as in SQLite (see
//! [`crate::store::groups`]): every message that enters from outside is a
//! group, and every item its steps make belongs to it, on whichever
//! worker. A group's id is the row of its first item: an enqueued row is a
//! group of its own, and the rows made from it carry it (`items.grp`).
//! Each commit adds what its steps did to the groups' rows
//! (`voyager.groups`: done and dead calls, and a label), so that `voyager
//! status` can say, for each, how many of its calls are done, running,
//! waiting on a resource, or dead, across every worker.

use std::collections::HashMap;

use crate::store::groups::{label_of, Tally};

/// A group: its row, or, for a group that entered here and has no row
/// yet (a run's top level), the engine id of its first item, whose row
/// the commit makes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(super) enum GroupKey {
    Row(i64),
    First(u64),
}

/// Finished groups kept (`voyager status` shows the latest); older ones
/// are deleted every [`PRUNE_EVERY`] new groups (on each worker: the table
/// holds at most about twice as many rows). Every enqueued message is a
/// group, so this is rare enough to cost nothing next to the work.
pub(super) const KEEP_GROUPS: i64 = 10_000;
const PRUNE_EVERY: u64 = 10_000;

#[derive(Default)]
pub(super) struct PgGroups {
    /// Live item → its group.
    of: HashMap<u64, GroupKey>,
    /// The group of the item being stepped.
    pub(super) current: Option<GroupKey>,
    /// The group begun outside a step and outside a taken row (a run's
    /// top level), which items put then join.
    open: Option<GroupKey>,
    /// Groups that entered here without a row: the row each was given
    /// (kept for the process: one entry per message its top level or its
    /// passes entered).
    resolved: HashMap<u64, i64>,
    /// What the next commit adds to each group.
    pending: HashMap<GroupKey, Tally>,
    new_groups: u64,
}

impl PgGroups {
    /// A message enters from outside: the next item put outside a step
    /// and outside a taken row begins a new group.
    pub fn start(&mut self) {
        self.open = None;
    }

    /// A taken row enters as a new group (an enqueued message), labelled
    /// with what was enqueued.
    pub fn entered(&mut self, row: i64, label: &str) {
        self.new_groups += 1;
        self.pending.entry(GroupKey::Row(row)).or_default().label =
            Some(label_of(label.to_string()));
    }

    /// Item `id` of group `group` (a taken row's) is live here.
    pub fn resumed(&mut self, id: u64, group: i64) {
        self.of.insert(id, GroupKey::Row(group));
    }

    /// Item `id` is about to be stepped.
    pub fn step(&mut self, id: u64) {
        self.current = self.of.get(&id).copied();
    }

    pub fn step_end(&mut self) {
        self.current = None;
    }

    /// Item `id` is put, outside a step unless `current` says, while the
    /// taken row `entering` (if any) enters: its group.
    pub fn put(&mut self, id: u64, entering: Option<i64>, json: &str) -> GroupKey {
        if let Some(&group) = self.of.get(&id) {
            return group;
        }
        let group = match (self.current, entering) {
            (Some(group), _) => group,
            (None, Some(row)) => GroupKey::Row(row),
            (None, None) => match self.open {
                Some(group) => group,
                None => {
                    let group = GroupKey::First(id);
                    self.open = Some(group);
                    self.new_groups += 1;
                    self.pending.entry(group).or_default().label = Some(label_of(json.to_string()));
                    group
                }
            },
        };
        self.of.insert(id, group);
        group
    }

    /// The group of live item `id`.
    pub fn of(&self, id: u64) -> Option<GroupKey> {
        self.of.get(&id).copied()
    }

    /// Item `id` is finished (or dropped: another worker has it).
    pub fn remove(&mut self, id: u64) {
        self.of.remove(&id);
    }

    /// The step finished `n` calls.
    pub fn done(&mut self, n: u64) {
        if let Some(group) = self.current {
            self.pending.entry(group).or_default().done += n;
        }
    }

    /// A dead letter of the item being stepped, of the row entering, or
    /// of the group that entered last.
    pub fn dead(&mut self, entering: Option<i64>) {
        let group = self.current.or(entering.map(GroupKey::Row)).or(self.open);
        if let Some(group) = group {
            self.pending.entry(group).or_default().dead += 1;
        }
    }

    /// A dead letter of group `group` (a taken row that cannot run).
    pub fn dead_in(&mut self, group: i64) {
        self.pending.entry(GroupKey::Row(group)).or_default().dead += 1;
    }

    /// The row of a group, if it has one yet.
    pub fn row(&self, group: GroupKey) -> Option<i64> {
        match group {
            GroupKey::Row(row) => Some(row),
            GroupKey::First(id) => self.resolved.get(&id).copied(),
        }
    }

    /// A group that entered here has its row now.
    pub fn resolve(&mut self, first: u64, row: i64) {
        self.resolved.insert(first, row);
    }

    pub fn is_clean(&self) -> bool {
        self.pending.is_empty()
    }

    /// What the next commit adds (kept until it lands).
    pub fn pending(&self) -> impl Iterator<Item = (&GroupKey, &Tally)> {
        self.pending.iter()
    }

    /// A commit landed: its counts are written (and the table pruned, if
    /// it was due).
    pub fn landed(&mut self) {
        self.pending.clear();
        if self.prune_due() {
            self.new_groups = 0;
        }
    }

    /// Whether the groups table is due a pruning (every [`PRUNE_EVERY`]
    /// new groups).
    pub fn prune_due(&self) -> bool {
        self.new_groups >= PRUNE_EVERY
    }

    /// What was not committed is dropped.
    pub fn abandon(&mut self) {
        self.pending.clear();
    }

    /// A new run: nothing of the last one's groups is live.
    pub fn clear(&mut self) {
        *self = PgGroups::default();
    }
}
