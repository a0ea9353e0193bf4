//! Groups in the SQLite store: every message that enters from outside (the
//! script's top level, a message `voyager serve` or the REPL enqueued, what
//! a topic's pass gave back) is a group, and every item its steps make
//! belongs to it. The store keeps, per group, how many of its calls were
//! done and how many ended as dead letters; `voyager status` adds what its
//! live items are doing (running a job, waiting on a resource, waiting).

use super::IdMap;

/// What a commit adds to one group's row.
#[derive(Default, Debug)]
pub(super) struct Tally {
    /// The group's first item, as JSON text cut short (for a new group).
    pub label: Option<String>,
    pub done: u64,
    pub dead: u64,
}

/// Which group each live item belongs to, and the counts not yet written.
#[derive(Default)]
pub(super) struct Groups {
    /// Live item → its group (the id of the group's first item).
    of: IdMap<u64>,
    /// The group of the item being stepped.
    current: Option<u64>,
    /// The group begun outside a step, which items put outside a step join.
    open: Option<u64>,
    /// Its items' JSON so far (as much as its label shows), and how many.
    open_parts: Vec<String>,
    open_count: usize,
    /// Whether the open group's label changed since it was last written
    /// into `pending` (it is made once per commit, not per item: a
    /// top-level `conc` of 200,000 calls enters 200,000 items).
    open_label_stale: bool,
    /// The length of `open_parts`' texts.
    open_shown: usize,
    /// Groups begun since the table was last pruned.
    new_groups: u64,
    pending: IdMap<Tally>,
}

/// Finished groups kept (`voyager status` shows the latest); older ones
/// are deleted, a few at a time.
pub(super) const KEEP_GROUPS: i64 = 10_000;
/// New groups between two prunings.
const PRUNE_EVERY: u64 = 1_000;

/// A group's label: its first item's JSON, at most this many characters.
const LABEL_CHARS: usize = 200;

/// A group's label: `text`, cut at [`LABEL_CHARS`] characters.
pub(super) fn label_of(text: String) -> String {
    match text.char_indices().nth(LABEL_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

impl Groups {
    /// A message enters from outside: the next item put outside a step
    /// begins a new group.
    pub fn start(&mut self) {
        self.close();
    }

    /// The open group takes its label, and no more items join it.
    fn close(&mut self) {
        self.label_open();
        self.open = None;
    }

    /// Writes the open group's label into its pending counts.
    fn label_open(&mut self) {
        let Some(group) = self.open.filter(|_| self.open_label_stale) else {
            return;
        };
        self.open_label_stale = false;
        let label = if self.open_count == 1 {
            self.open_parts[0].clone()
        } else {
            let more = if self.open_count > self.open_parts.len() {
                ",…"
            } else {
                ""
            };
            format!("{{\"conc\":[{}{more}]}}", self.open_parts.join(","))
        };
        self.pending.entry(group).or_default().label = Some(label_of(label));
    }

    /// Item `id` (of group `group`, as the store had it) is live again.
    pub fn resumed(&mut self, id: u64, group: u64) {
        self.of.insert(id, group);
    }

    /// The group of live item `id`.
    pub fn of(&self, id: u64) -> Option<u64> {
        self.of.get(&id).copied()
    }

    /// Item `id` is about to be stepped.
    pub fn step(&mut self, id: u64) {
        if self.open.is_some() {
            self.close();
        }
        self.current = Some(self.of.get(&id).copied().unwrap_or(id));
    }

    /// The step ended.
    pub fn step_end(&mut self) {
        self.current = None;
    }

    /// Item `id` is put (new, or what a step left of it): its group.
    pub fn put(&mut self, id: u64, json: &str) -> u64 {
        if let Some(&group) = self.of.get(&id) {
            return group;
        }
        let group = match self.current {
            Some(group) => group,
            None => self.enter(id, json),
        };
        self.of.insert(id, group);
        group
    }

    /// Item `id` enters from outside: it begins a group or joins the one
    /// begun, whose label is what entered (a `conc` of it past one item,
    /// as a top-level `conc` is split into its branches).
    fn enter(&mut self, id: u64, json: &str) -> u64 {
        let group = match self.open {
            Some(group) => group,
            None => {
                self.open = Some(id);
                self.new_groups += 1;
                self.open_parts.clear();
                self.open_count = 0;
                self.open_shown = 0;
                id
            }
        };
        self.open_count += 1;
        if self.open_shown <= LABEL_CHARS {
            self.open_shown += json.len();
            self.open_parts.push(json.to_string());
        }
        self.open_label_stale = true;
        group
    }

    /// Item `id` is finished.
    pub fn remove(&mut self, id: u64) {
        self.of.remove(&id);
    }

    /// The step finished `n` calls.
    pub fn done(&mut self, n: u64) {
        if let Some(group) = self.current {
            self.pending.entry(group).or_default().done += n;
        }
    }

    /// A dead letter, of the item being stepped (or of the group that
    /// entered last).
    pub fn dead(&mut self) {
        if let Some(group) = self.current.or(self.open) {
            self.pending.entry(group).or_default().dead += 1;
        }
    }

    /// Whether no counts wait for a commit.
    pub fn is_clean(&self) -> bool {
        self.pending.is_empty() && !self.open_label_stale
    }

    /// The counts to write at a commit.
    pub fn take(&mut self) -> Vec<(u64, Tally)> {
        self.label_open();
        self.pending.drain().collect()
    }

    /// Every [`PRUNE_EVERY`] new groups: the groups still live (whose rows
    /// a pruning must keep, however old).
    pub fn prune_due(&mut self) -> Option<Vec<u64>> {
        if self.new_groups < PRUNE_EVERY {
            return None;
        }
        self.new_groups = 0;
        let mut live: Vec<u64> = self.of.values().copied().chain(self.open).collect();
        live.sort_unstable();
        live.dedup();
        Some(live)
    }

    /// A new run: nothing of the last one's groups is live.
    pub fn clear(&mut self) {
        *self = Groups::default();
    }

    /// What was not committed is dropped (an interrupted run).
    pub fn abandon(&mut self) {
        self.pending.clear();
    }
}
