//! Resource limits across workers: who holds each limited action's
//! resource, and its rate's next start, in tables every worker shares.
//!
//! A call that its worker's own calls leave room for asks here. Under the
//! resource's transaction advisory lock (tried, never waited for: a
//! worker never waits for a lock while holding one, so two steps taking
//! resources in opposite orders cannot deadlock), it counts the holds and
//! reads the rate; if there is room, it inserts its hold (and moves the
//! rate on) in the transaction the step's commit ends, which then comes
//! at once. So a hold lands with the item state that holds it, and goes
//! with the commit of the step that gives it back: a worker killed
//! between the two leaves the hold with its item, and the worker that
//! rescues the item holds it on. Holds whose item is gone (cancelled, or
//! a dead letter written outside a step) are swept.

use super::*;
use crate::engine::{SharedLimits, SharedTurn, SHARED_RETRY_MS};
use crate::vm::value::Limits;

/// The first key of a resource's transaction-level advisory lock
/// ("Vyrs"); the second is the hash of the action's name and the key.
const RESOURCE_LOCK: i32 = 0x5679_7273;

/// How old a hold must be before the sweep may take it for an orphan.
const SWEEP_AFTER_MS: i64 = 10_000;

impl PgStore {
    /// A turn on a resource across every worker (see the module's notes).
    /// An error stops the worker: a lost connection let go of what the
    /// step took under its locks.
    pub fn acquire(&mut self, action: &str, key: &str, limits: &Limits, now: i64) -> SharedTurn {
        let later = now.saturating_add(SHARED_RETRY_MS);
        let begin = !self.reading;
        let worker = self.worker;
        let asked = (|| -> Result<SharedTurn, postgres::Error> {
            if begin {
                self.client
                    .batch_execute("BEGIN ISOLATION LEVEL READ COMMITTED")?;
            }
            self.reading = true;
            let locked: bool = self
                .client
                .query_one(
                    "SELECT pg_try_advisory_xact_lock($1, hashtext($2 || '/' || $3))",
                    &[&RESOURCE_LOCK, &action, &key],
                )?
                .get(0);
            if !locked {
                return Ok(SharedTurn::Busy(later));
            }
            // Holds this worker gave back are free already: their deletes
            // land in this transaction's commit (or, with it, not at all).
            let released: Vec<i64> = self.ops.released.iter().map(|(h, _)| *h).collect();
            let row = self.client.query_one(
                "SELECT (SELECT count(*) FROM voyager.holds
                         WHERE action = $1 AND key = $2 AND NOT (id = ANY($3))),
                        (SELECT next_start::text FROM voyager.rates WHERE action = $1 AND key = $2)",
                &[&action, &key, &released],
            )?;
            let held: i64 = row.get(0);
            let next_start: Option<i128> =
                row.get::<_, Option<String>>(1).and_then(|s| s.parse().ok());
            if limits.concurrency.is_some_and(|n| held >= i64::from(n)) {
                return Ok(SharedTurn::Busy(later));
            }
            if let Some(rate) = limits.rate {
                let count = i128::from(rate.count);
                let next = next_start.unwrap_or(i128::MIN / 2);
                // As one worker spaces them (see the engine's resources).
                let due = (next + count - 1).div_euclid(count);
                if i128::from(now) < due {
                    let at = due.clamp(i128::from(now), i128::from(i64::MAX)) as i64;
                    return Ok(SharedTurn::Busy(at));
                }
                let now_scaled = i128::from(now) * count;
                let base = if now_scaled >= next + count {
                    now_scaled
                } else {
                    next
                };
                let next = (base + i128::from(rate.period)).to_string();
                self.client.execute(
                    "INSERT INTO voyager.rates (action, key, next_start) VALUES ($1, $2, $3::text::numeric)
                     ON CONFLICT (action, key) DO UPDATE SET next_start = excluded.next_start",
                    &[&action, &key, &next],
                )?;
            }
            if limits.concurrency.is_none() {
                return Ok(SharedTurn::Taken(None));
            }
            let id: i64 = self
                .client
                .query_one(
                    "INSERT INTO voyager.holds (action, key, worker) VALUES ($1, $2, $3) RETURNING id",
                    &[&action, &key, &worker],
                )?
                .get(0);
            self.ops.acquired.push((id, self.ops.current));
            Ok(SharedTurn::Taken(Some(id)))
        })();
        match asked {
            Ok(turn) => turn,
            Err(e) => {
                self.end_reading(false);
                self.fail(format!(
                    "cannot take a resource in the PostgreSQL store {}: {}",
                    display_url(&self.url),
                    pg_text(&e)
                ));
                SharedTurn::Busy(later)
            }
        }
    }

    /// Deletes holds whose item is gone: no item's state names them (its
    /// item was cancelled, or dead-lettered outside a step). Returns how
    /// many.
    pub(super) fn sweep_holds(&mut self) -> Result<u64, StoreError> {
        let old: bool = self
            .retrying(|c| {
                c.query_one(
                    "SELECT EXISTS (SELECT 1 FROM voyager.holds WHERE since < voyager.now_ms() - $1)",
                    &[&SWEEP_AFTER_MS],
                )
            })?
            .get(0);
        if !old {
            return Ok(0);
        }
        // One pass over the items that hold anything.
        self.retrying(|c| {
            c.execute(
                "WITH named AS (
                   SELECT DISTINCT (regexp_matches(body, '\"\\$shared\":([0-9]+)', 'g'))[1]::bigint AS id
                   FROM voyager.items WHERE form = 'node' AND body LIKE '%\"$shared\":%')
                 DELETE FROM voyager.holds h
                 WHERE h.since < voyager.now_ms() - $1 AND h.id NOT IN (SELECT id FROM named)",
                &[&SWEEP_AFTER_MS],
            )
        })
    }
}

impl SharedLimits for PgShared {
    fn acquire(&mut self, action: &str, key: &str, limits: &Limits, now: i64) -> SharedTurn {
        self.0.borrow_mut().acquire(action, key, limits, now)
    }

    fn release(&mut self, holds: &[i64]) {
        let mut pg = self.0.borrow_mut();
        let row = pg.ops.current;
        pg.ops.released.extend(holds.iter().map(|h| (*h, row)));
    }
}
