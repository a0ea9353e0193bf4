//! Schedules: periodic work a script declares (`schedule nightly every 1h
//! { … }`, `schedule report cron "0 9 * * MON-FRI" tz "Europe/Paris" { … }`).
//!
//! They fire only when the run is told to keep running for them
//! ([`Engine::fire_schedules`] on: `voyager run --schedules` or `--store`,
//! `voyager worker`, `voyager serve`); then the run does not end when its
//! work is done, but waits for the next firing, until it is stopped or
//! `--for` runs out (then it finishes the work already started).
//!
//! A firing enqueues `call(name)` as a new item. Firings missed while
//! nothing ran (a stretch longer than the interval, a stopped store) come
//! as one firing, not one per missed time. A schedule with `overlap skip`
//! (the default) wraps its call in `ensure(…, noop)`, which keeps the whole
//! firing in one item, and skips a firing while that item is still there.
//!
//! With a store, the last due time of each schedule is kept in the durable
//! state (`state_get("schedule:name")`), written in the same commit as the
//! firing's item: a firing is enqueued once across restarts. Workers that
//! share a PostgreSQL store claim a firing and enqueue its item in one
//! transaction (`Store::fire`): the key moves forward only if it was
//! before the due time, so one of them fires it, and a crash cannot come
//! between the claim and the item; with `overlap skip` the item carries
//! the schedule's unique key, so no worker fires while an earlier firing
//! is unfinished anywhere.

use std::rc::Rc;

use super::queue::MainQueue;
use super::store::Firing;
use super::Engine;
use crate::vm::message::{Args, Message, Wrap};
use crate::vm::schedule::{ScheduleDef, When};
use crate::vm::value::Value;

/// A schedule and where it stands.
#[derive(Debug)]
pub struct Scheduled {
    pub def: ScheduleDef,
    /// The next firing's due time; `None` until the engine first looks.
    next_due: Option<i64>,
    /// The item of the last firing (for `overlap skip`).
    last_item: Option<u64>,
}

/// What the engine's schedules did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleStats {
    pub fired: u64,
    /// Firings skipped because the one before was still running.
    pub skipped: u64,
}

/// The durable-state key of a schedule's last due time.
pub fn state_key(name: &str) -> String {
    format!("schedule:{name}")
}

impl<Q: MainQueue> Engine<Q> {
    pub fn add_schedule(&mut self, def: ScheduleDef) {
        self.schedules.retain(|s| s.def.name != def.name);
        self.schedules.push(Scheduled {
            def,
            next_due: None,
            last_item: None,
        });
    }

    /// The schedules the script declared.
    pub fn schedules(&self) -> impl Iterator<Item = &ScheduleDef> {
        self.schedules.iter().map(|s| &s.def)
    }

    /// Fires the schedules that are due and returns when the next one is;
    /// `None` when schedules are off, none is declared, or `--for` ran out.
    pub(super) fn due_schedules(&mut self) -> Option<i64> {
        if !self.schedules_on || self.schedules.is_empty() {
            return None;
        }
        let now = self.clock.now();
        let until = *self
            .schedules_until
            .get_or_insert_with(|| match self.schedules_for {
                Some(ms) => now.saturating_add(ms),
                None => i64::MAX,
            });
        if now > until {
            return None;
        }
        let mut next = i64::MAX;
        for i in 0..self.schedules.len() {
            let due = match self.schedules[i].next_due {
                Some(due) => due,
                None => {
                    let due = self.first_due(i, now);
                    self.schedules[i].next_due = Some(due);
                    due
                }
            };
            let due = if due <= now {
                self.fire(i, due);
                let when = &self.schedules[i].def.when;
                let next = following(when, due, now);
                self.schedules[i].next_due = Some(next);
                next
            } else {
                due
            };
            next = next.min(due);
        }
        // Past `--for`, the run stops waiting for firings.
        (next <= until).then_some(next)
    }

    /// The first due time: after the stored last firing (which may be in
    /// the past: a missed stretch fires once, at once), or after now.
    fn first_due(&self, i: usize, now: i64) -> i64 {
        let s = &self.schedules[i];
        let last = self
            .state
            .borrow()
            .get(&state_key(&s.def.name))
            .and_then(|j| j.trim().parse::<i64>().ok());
        match last {
            Some(last) => s.def.when.next_after(last),
            None => s.def.when.next_after(now),
        }
    }

    fn fire(&mut self, i: usize, due: i64) {
        let name = self.schedules[i].def.name.clone();
        let allow = self.schedules[i].def.allow_overlap;
        if !allow {
            if let Some(id) = self.schedules[i].last_item {
                if self.item_live(id) {
                    self.schedule_stats.skipped += 1;
                    self.trace(|| {
                        format!("schedule {name}: skipped, the firing before still runs")
                    });
                    self.note_fired(&name, due);
                    return;
                }
            }
        }
        let key = state_key(&name);
        let call = Rc::new(Message::Call {
            action: self.schedules[i].def.action.clone(),
            args: Args::from(Vec::<Value>::new()),
        });
        let message = if allow {
            call
        } else {
            Rc::new(Message::Wrap(Wrap::Ensure(Rc::new(Message::Noop)), call))
        };
        if self.store.as_deref().is_some_and(|s| s.claims_firings()) {
            // What this worker finished (an earlier firing's item, say) is
            // in the store before the claim looks at it.
            self.report_step(0);
            self.store_commit();
        }
        let firing = match self.store.as_deref_mut() {
            Some(store) => store.fire(&key, due, &message, (!allow).then_some(key.as_str())),
            None => Firing::Local,
        };
        let not_fired = match firing {
            Firing::Local | Firing::Fired => None,
            Firing::Elsewhere => Some("fired by another worker"),
            Firing::Overlap => Some("skipped, the firing before still runs"),
            Firing::Failed => Some("not fired: the store failed"),
        };
        if let Some(why) = not_fired {
            if firing == Firing::Overlap {
                self.schedule_stats.skipped += 1;
            }
            self.trace(|| format!("schedule {name}: {why}"));
            self.state.borrow_mut().load(key, due.to_string());
            return;
        }
        let before = self.next_id;
        self.enqueue(&message);
        if firing == Firing::Fired {
            if let Some(store) = self.store.as_deref_mut() {
                store.fired();
            }
        }
        self.schedules[i].last_item = (self.next_id > before).then_some(self.next_id);
        self.schedule_stats.fired += 1;
        self.trace(|| {
            let mut when = String::new();
            crate::vm::value::write_time(&mut when, due);
            format!("schedule {name}: fired for {when}")
        });
        self.note_fired(&name, due);
    }

    /// Keeps the due time as the schedule's last firing, in the same
    /// commit as the firing's item (a store that claims firings wrote it
    /// with the item already: it is only loaded).
    fn note_fired(&mut self, name: &str, due: i64) {
        let claims = self.store.as_deref().is_some_and(|s| s.claims_firings());
        let mut state = self.state.borrow_mut();
        if claims {
            state.load(state_key(name), due.to_string());
        } else {
            state.put(&state_key(name), due.to_string());
        }
        drop(state);
        if self.store.is_some() {
            self.report_step(0);
            self.store_commit();
        }
    }

    /// Whether item `id` still waits anywhere (queued, on a timer, on a
    /// job or a resource).
    fn item_live(&self, id: u64) -> bool {
        self.main
            .peek(self.main.len())
            .iter()
            .any(|(i, _, _)| *i == id)
            || self.timers.peek().iter().any(|(_, item)| item.id == id)
            || self.parked.sorted().iter().any(|item| item.id == id)
    }
}

/// The due time after a firing due at `due`, now being `now`: missed times
/// are passed over (an interval keeps its phase).
fn following(when: &When, due: i64, now: i64) -> i64 {
    match when {
        When::Every(ms) => {
            let missed = (now - due) / ms;
            due.saturating_add(ms.saturating_mul(missed + 1))
        }
        When::Cron(..) => when.next_after(now.max(due)),
    }
}
