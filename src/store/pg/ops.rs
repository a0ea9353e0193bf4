//! What a worker reported since its last commit: each change tagged with
//! the taken row whose lease it depends on, so that a commit can leave out
//! the work of rows another worker took over.

use std::collections::{HashMap, HashSet};

use super::TopicOp;
use crate::engine::store::{ItemState, Lost};

/// A dead letter to write: (message, code, error, attempts), and the row
/// it depends on.
pub(super) type DeadRow = (String, String, String, i32, Option<i64>);

pub(super) enum Pending {
    Put {
        state: ItemState,
        due: Option<i64>,
        /// The item's own priority: a new row is written with it (a row
        /// keeps the priority it was taken with).
        prio: i16,
        json: String,
    },
    Delete,
}

/// What was reported since the last commit, each change with the row
/// whose lease it depends on.
#[derive(Default)]
pub(super) struct Ops {
    /// Engine item ids and their rows.
    pub(super) rows: HashMap<u64, i64>,
    /// The row the next new item takes over (an enqueued message being
    /// entered: its first item keeps the row, and its unique key).
    pub(super) adopt: Option<i64>,
    pub(super) items: HashMap<u64, Pending>,
    /// Rows to delete at the next commit (taken messages entered).
    pub(super) drop_rows: Vec<i64>,
    /// Items with no row yet: the row whose lease their work depends on
    /// (the taken item they came from).
    pub(super) origin: HashMap<u64, i64>,
    /// The row whose lease what is reported now depends on (the item
    /// being stepped, or the row being entered).
    pub(super) current: Option<i64>,
    /// Topic changes, each with the row it depends on.
    pub(super) topics: Vec<(TopicOp, Option<i64>)>,
    /// (message, code, error, attempts), the row it depends on.
    pub(super) dead: Vec<DeadRow>,
    /// Durable state written: by key and the row it depends on, the
    /// value and the order it was written in.
    pub(super) state: HashMap<(String, Option<i64>), (u64, String)>,
    pub(super) state_seq: u64,
    /// What the last commit refused, for the engine to drop.
    pub(super) refused: Option<Lost>,
    /// The step being reported, to undo if a signal cuts it.
    pub(super) step: Option<StepMark>,
    /// Shared holds taken in the open transaction, each with the row it
    /// depends on: a hold of a row found taken over is deleted again.
    pub(super) acquired: Vec<(i64, Option<i64>)>,
    /// Shared holds given back, to delete, each with the row it depends on.
    pub(super) released: Vec<(i64, Option<i64>)>,
}

/// How to take back what a step reported (see [`PgStore::abandon_step`]).
pub(super) struct StepMark {
    pub(super) undo: Vec<Undo>,
    pub(super) drop_rows: usize,
    pub(super) dead: usize,
    pub(super) topics: usize,
    /// The topic changes before the step's first clear, if it cleared.
    pub(super) topics_before: Option<Vec<(TopicOp, Option<i64>)>>,
    pub(super) released: usize,
}

/// A pending change as it was before the step changed it.
pub(super) enum Undo {
    Item(u64, Option<Pending>),
    Origin(u64, Option<i64>),
    State((String, Option<i64>), Option<(u64, String)>),
}

impl Ops {
    pub(super) fn undo(&mut self, u: Undo) {
        if let Some(mark) = &mut self.step {
            mark.undo.push(u);
        }
    }

    /// The row whose lease an item's work depends on: its own, or that
    /// of the item it came from.
    pub(super) fn owner_row(&self, id: u64) -> Option<i64> {
        self.rows.get(&id).or_else(|| self.origin.get(&id)).copied()
    }

    /// Every row whose lease what is pending depends on, in order.
    pub(super) fn guarded(&self) -> Vec<i64> {
        let mut rows: Vec<i64> = self
            .items
            .keys()
            .filter_map(|id| self.owner_row(*id))
            .collect();
        rows.extend(&self.drop_rows);
        rows.extend(self.topics.iter().filter_map(|(_, o)| *o));
        rows.extend(self.dead.iter().filter_map(|d| d.4));
        rows.extend(self.state.keys().filter_map(|(_, o)| *o));
        rows.extend(self.released.iter().filter_map(|(_, o)| *o));
        rows.sort_unstable();
        rows.dedup();
        rows
    }

    /// Forgets the work that depends on `lost` rows: returns the engine
    /// items to drop and the state keys their steps wrote.
    pub(super) fn forget(&mut self, lost: &HashSet<i64>) -> (Vec<u64>, Vec<String>) {
        let gone = |o: &Option<i64>| o.is_some_and(|o| lost.contains(&o));
        let mut ids: Vec<u64> = self
            .rows
            .iter()
            .chain(self.origin.iter())
            .filter(|(_, row)| lost.contains(row))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        for id in &ids {
            self.rows.remove(id);
            self.origin.remove(id);
            self.items.remove(id);
        }
        self.drop_rows.retain(|r| !lost.contains(r));
        self.topics.retain(|(_, o)| !gone(o));
        self.dead.retain(|d| !gone(&d.4));
        let mut keys: Vec<String> = self
            .state
            .keys()
            .filter(|(_, o)| gone(o))
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys.dedup();
        self.state.retain(|(_, o), _| !gone(o));
        // What the lost items gave back stays theirs (the worker that took
        // them over holds it on); what their steps took here goes again.
        self.released.retain(|(_, o)| !gone(o));
        for (hold, o) in std::mem::take(&mut self.acquired) {
            if gone(&o) {
                self.released.push((hold, None));
            } else {
                self.acquired.push((hold, o));
            }
        }
        (ids, keys)
    }

    /// The last value written to `key` that is still pending.
    pub(super) fn latest_state(&self, key: &str) -> Option<String> {
        self.state
            .iter()
            .filter(|((k, _), _)| k == key)
            .max_by_key(|(_, (seq, _))| *seq)
            .map(|(_, (_, v))| v.clone())
    }
}

/// What a commit changes in the worker once it has landed.
pub(super) struct Landed {
    /// Its transaction (to ask whether it landed, if its answer was lost).
    pub(super) txid: i64,
    /// New items and their rows.
    pub(super) inserted: Vec<(u64, i64)>,
    /// Items whose rows it deleted.
    pub(super) deleted: Vec<u64>,
    pub(super) run: Option<i64>,
    pub(super) ms: i64,
    /// Rows it found taken over by another worker.
    pub(super) lost: u64,
    /// It started a new run.
    pub(super) fresh: bool,
    /// Groups that entered here, and the rows it gave them.
    pub(super) resolved: HashMap<u64, i64>,
}
