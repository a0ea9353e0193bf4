//! A worker's commit: one transaction that first locks the leases its
//! work depends on, then writes what was reported; a COMMIT whose answer
//! was lost is looked up by its transaction id instead of written twice.

use super::groups::{GroupKey, KEEP_GROUPS};
use super::*;

/// Rows to update, column by column.
#[derive(Default)]
struct Updates<'a> {
    rows: Vec<i64>,
    states: Vec<&'static str>,
    dues: Vec<Option<i64>>,
    bodies: Vec<&'a String>,
}

/// Rows to insert, column by column.
#[derive(Default)]
struct Inserts<'a> {
    rows: Vec<i64>,
    bodies: Vec<&'a String>,
    states: Vec<&'static str>,
    dues: Vec<Option<i64>>,
    prios: Vec<i16>,
    groups: Vec<Option<i64>>,
}

/// A group's row: known before, or given by this commit.
fn resolve(groups: &super::groups::PgGroups, landed: &Landed, group: GroupKey) -> Option<i64> {
    groups.row(group).or_else(|| match group {
        GroupKey::First(g) => landed.resolved.get(&g).copied(),
        GroupKey::Row(row) => Some(row),
    })
}

impl PgStore {
    /// Writes what was reported in one transaction. Work that depends on a
    /// row whose lease this worker lost (another worker took the item
    /// over) is not written: the engine drops it (see [`Store::lost`]).
    /// On an error, nothing here changed but that; a COMMIT whose answer
    /// was lost comes back with what it would change, to check.
    pub(super) fn try_commit(&mut self) -> Result<(), (postgres::Error, Option<Box<Landed>>)> {
        macro_rules! pg {
            ($e:expr) => {
                $e.map_err(|e| (e, None))?
            };
        }
        let worker = self.worker;
        let lease = self.options.lease_ms;
        let ms = self.session_start.elapsed().as_millis() as i64;
        let steps = (self.steps - self.steps_reported) as i64;
        let unclaimed = (self.unclaimed_total - self.unclaimed_reported) as i64;
        let recovered = (self.recovered_total - self.recovered_reported) as i64;
        let finished = self.finished;
        let ops = &mut self.ops;
        // (Inside the transaction state_get opened, if it did: BEGIN is
        // then a no-op, and the COMMIT ends both.)
        self.reading = false;
        let mut tx = pg!(self.client.transaction());
        let txid: i64 = pg!(tx.query_one("SELECT txid_current()", &[])).get(0);
        let mut landed = Landed {
            txid,
            inserted: Vec::new(),
            deleted: Vec::new(),
            run: self.run,
            ms,
            lost: 0,
            resolved: HashMap::new(),
            fresh: self.new_run.is_some(),
        };
        if let Some((script, hash)) = &self.new_run {
            // A new run: what the store held belonged to the last one.
            pg!(tx.batch_execute(
                "DELETE FROM voyager.items; DELETE FROM voyager.topics; DELETE FROM voyager.state; DELETE FROM voyager.dead_letters;
                 DELETE FROM voyager.holds; DELETE FROM voyager.rates; DELETE FROM voyager.groups;",
            ));
            let row = pg!(tx.query_one(
                "INSERT INTO voyager.runs (script, source_hash, started) VALUES ($1, $2, $3) RETURNING id",
                &[script, hash, &now_ms()],
            ));
            landed.run = Some(row.get(0));
        }
        if !landed.fresh {
            // The leases this commit's work depends on, locked until it
            // ends (rescues and takes skip locked rows). Work of a row
            // another worker took over is not written: that worker does
            // it (it ran here too, but none of it is kept).
            let guarded = ops.guarded();
            if !guarded.is_empty() {
                let held: HashSet<i64> = pg!(tx.query(
                    "SELECT id FROM voyager.items WHERE id = ANY($1) AND lease_owner = $2 ORDER BY id FOR UPDATE",
                    &[&guarded, &worker],
                ))
                .iter()
                .map(|r| r.get(0))
                .collect();
                let lost: HashSet<i64> =
                    guarded.into_iter().filter(|r| !held.contains(r)).collect();
                if !lost.is_empty() {
                    self.lost += lost.len() as u64;
                    let (items, keys) = ops.forget(&lost);
                    for id in &items {
                        self.groups.remove(*id);
                    }
                    let stored: HashMap<String, String> = if keys.is_empty() {
                        HashMap::new()
                    } else {
                        pg!(tx.query(
                            "SELECT key, value FROM voyager.state WHERE key = ANY($1)",
                            &[&keys],
                        ))
                        .iter()
                        .map(|r| (r.get(0), r.get(1)))
                        .collect()
                    };
                    let state: Vec<(String, Option<String>)> = keys
                        .into_iter()
                        .map(|k| {
                            let kept = ops.latest_state(&k).or_else(|| stored.get(&k).cloned());
                            (k, kept)
                        })
                        .collect();
                    let refused = ops.refused.get_or_insert_with(Lost::default);
                    refused.items.extend(items);
                    refused.state.extend(state);
                }
            }
        }
        let mut deletes: Vec<i64> = ops.drop_rows.clone();
        {
            // Items put and removed, in three statements whatever their
            // number: the updates, the inserts (their rows' ids drawn
            // first, so that a group's first item's row is known to the
            // rest of the group), the deletes (below).
            let mut ids: Vec<u64> = ops.items.keys().copied().collect();
            ids.sort_unstable();
            let mut updates = Updates::default();
            let mut inserts: Vec<u64> = Vec::new();
            for id in ids {
                let row = if landed.fresh {
                    None
                } else {
                    ops.rows.get(&id).copied()
                };
                match (&ops.items[&id], row) {
                    (
                        Pending::Put {
                            state, due, json, ..
                        },
                        Some(row),
                    ) => {
                        updates.rows.push(row);
                        updates.states.push(state.name());
                        updates.dues.push(*due);
                        updates.bodies.push(json);
                    }
                    (Pending::Put { .. }, None) => inserts.push(id),
                    (Pending::Delete, Some(row)) => {
                        deletes.push(row);
                        landed.deleted.push(id);
                    }
                    (Pending::Delete, None) => {}
                }
            }
            if !updates.rows.is_empty() {
                let n = pg!(tx.execute(
                    "UPDATE voyager.items i SET form = 'node', state = u.state, due_at = coalesce(u.due, i.due_at),
                     body = u.body, lease_until = voyager.now_ms() + $6
                     FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[]) AS u(id, state, due, body)
                     WHERE i.id = u.id AND i.lease_owner = $5",
                    &[&updates.rows, &updates.states, &updates.dues, &updates.bodies, &worker, &lease],
                ));
                landed.lost += (updates.rows.len() as u64).saturating_sub(n);
            }
            // Groups that entered here with no row yet, whose first item
            // is not among the new rows (it finished before its group's
            // first commit), take a fresh id: drawn with the new rows' ids.
            let mut orphans: Vec<u64> = inserts
                .iter()
                .filter_map(|id| self.groups.of(*id))
                .chain(self.groups.pending().map(|(g, _)| *g))
                .filter_map(|g| match g {
                    GroupKey::First(g) => Some(g),
                    GroupKey::Row(_) => None,
                })
                .filter(|g| {
                    self.groups.row(GroupKey::First(*g)).is_none()
                        && inserts.binary_search(g).is_err()
                })
                .collect();
            orphans.sort_unstable();
            orphans.dedup();
            let wanted = (inserts.len() + orphans.len()) as i64;
            if wanted > 0 {
                let drawn: Vec<i64> = pg!(tx.query(
                    "SELECT nextval('voyager.items_id_seq') FROM generate_series(1, $1::bigint)",
                    &[&wanted],
                ))
                .iter()
                .map(|r| r.get(0))
                .collect();
                for (id, row) in inserts.iter().zip(&drawn) {
                    landed.inserted.push((*id, *row));
                    if self.groups.of(*id) == Some(GroupKey::First(*id)) {
                        landed.resolved.insert(*id, *row);
                    }
                }
                for (g, row) in orphans.iter().zip(&drawn[inserts.len()..]) {
                    landed.resolved.insert(*g, *row);
                }
            }
            if !inserts.is_empty() {
                let mut new = Inserts::default();
                for (id, row) in &landed.inserted {
                    let Pending::Put {
                        state,
                        due,
                        prio,
                        json,
                    } = &ops.items[id]
                    else {
                        continue;
                    };
                    // Its group's row; none if it is the group's first
                    // item (the group is its own row).
                    let grp = match self.groups.of(*id) {
                        Some(GroupKey::First(g)) if g == *id => None,
                        Some(g) => resolve(&self.groups, &landed, g),
                        None => None,
                    };
                    new.rows.push(*row);
                    new.bodies.push(json);
                    new.states.push(state.name());
                    new.dues.push(*due);
                    new.prios.push(*prio);
                    new.groups.push(grp);
                }
                pg!(tx.execute(
                    "INSERT INTO voyager.items (id, form, body, state, due_at, attempts, lease_owner, lease_until, priority, grp)
                     SELECT u.id, 'node', u.body, u.state, coalesce(u.due, voyager.now_ms()), 1, $7,
                            voyager.now_ms() + $8, u.prio, u.grp
                     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::smallint[], $6::bigint[])
                          AS u(id, body, state, due, prio, grp)",
                    &[&new.rows, &new.bodies, &new.states, &new.dues, &new.prios, &new.groups, &worker, &lease],
                ));
            }
        }
        if !deletes.is_empty() {
            deletes.sort_unstable();
            let n = pg!(tx.execute(
                "DELETE FROM voyager.items WHERE id = ANY($1) AND lease_owner = $2",
                &[&deletes, &worker],
            ));
            landed.lost += (deletes.len() as u64).saturating_sub(n);
        }
        if !self.groups.is_clean() {
            // What the steps did, added to their groups' rows (in the
            // order of their ids, as every worker adds them).
            let mut rows: Vec<(i64, String, i64, i64)> = Vec::new();
            for (group, tally) in self.groups.pending() {
                // (Every group has its row by now: see the orphans above.)
                let Some(row) = resolve(&self.groups, &landed, *group) else {
                    continue;
                };
                let label = tally.label.clone().unwrap_or_default();
                rows.push((row, label, tally.done as i64, tally.dead as i64));
            }
            rows.sort_unstable_by_key(|r| r.0);
            let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
            let labels: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
            let done: Vec<i64> = rows.iter().map(|r| r.2).collect();
            let dead: Vec<i64> = rows.iter().map(|r| r.3).collect();
            pg!(tx.execute(
                "INSERT INTO voyager.groups (id, label, done, dead)
                 SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::bigint[])
                 ON CONFLICT (id) DO UPDATE SET done = voyager.groups.done + excluded.done,
                   dead = voyager.groups.dead + excluded.dead,
                   label = CASE WHEN excluded.label = '' THEN voyager.groups.label ELSE excluded.label END",
                &[&ids, &labels, &done, &dead],
            ));
            if self.groups.prune_due() {
                // The latest rows stay, and so do live groups' rows.
                pg!(tx.execute(
                    "DELETE FROM voyager.groups g
                     WHERE g.id <= (SELECT id FROM voyager.groups ORDER BY id DESC OFFSET $1 LIMIT 1)
                       AND NOT EXISTS (SELECT 1 FROM voyager.items i WHERE i.id = g.id)
                       AND NOT EXISTS (SELECT 1 FROM voyager.items i WHERE i.grp = g.id)",
                    &[&KEEP_GROUPS],
                ));
            }
        }
        let ops = &mut self.ops;
        if !ops.released.is_empty() {
            let holds: Vec<i64> = ops.released.iter().map(|(h, _)| *h).collect();
            pg!(tx.execute("DELETE FROM voyager.holds WHERE id = ANY($1)", &[&holds]));
        }
        if !ops.topics.is_empty() {
            // Pushed messages wait for any worker's pass; a clear ends
            // the pass this worker took the topic's rows for.
            let push = pg!(tx.prepare(
                "INSERT INTO voyager.topics (topic, message, owner) VALUES ($1, $2, NULL)",
            ));
            let clear =
                pg!(tx.prepare("DELETE FROM voyager.topics WHERE topic = $1 AND owner = $2"));
            let mut pushed = false;
            for (op, _) in &ops.topics {
                match op {
                    TopicOp::Push(t, m) => {
                        pushed = true;
                        pg!(tx.execute(&push, &[t, m]));
                    }
                    TopicOp::Clear(t) => {
                        let n = pg!(tx.execute(&clear, &[t, &worker]));
                        let claimed = match &self.pass_claim {
                            Some((c, k)) if c == t => *k,
                            _ => n,
                        };
                        if n != claimed {
                            // This worker's connection was gone long
                            // enough for its batch to be handed to
                            // another worker's pass: nothing of this
                            // commit is written, and the worker stops.
                            drop(tx);
                            self.failure.get_or_insert_with(|| {
                                format!(
                                    "the batch of topic \"{t}\" was taken over by another worker while this one lost its connection; its pass's work is not committed"
                                )
                            });
                            return Ok(());
                        }
                    }
                }
            }
            if pushed && !self.options.poll_only {
                pg!(tx.execute("SELECT pg_notify($1, '')", &[&CHANNEL]));
            }
        }
        if !ops.dead.is_empty() {
            let dead = pg!(tx.prepare(
                "INSERT INTO voyager.dead_letters (message, code, error, attempts, at) VALUES ($1, $2, $3, $4, $5)",
            ));
            let now = now_ms();
            for (m, code, error, attempts, _) in &ops.dead {
                pg!(tx.execute(&dead, &[m, code, error, attempts, &now]));
            }
        }
        if !ops.state.is_empty() {
            let state = pg!(tx.prepare(
                "INSERT INTO voyager.state (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            ));
            // In the order written: the last write of a key stays.
            let mut writes: Vec<(&String, &(u64, String))> =
                ops.state.iter().map(|((k, _), v)| (k, v)).collect();
            writes.sort_by_key(|(_, (seq, _))| *seq);
            for (k, (_, v)) in writes {
                pg!(tx.execute(&state, &[k, v]));
            }
        }
        if let Some(run) = landed.run {
            pg!(tx.execute(
                "UPDATE voyager.runs SET steps = steps + $2, run_ms = run_ms + $3, unclaimed = unclaimed + $4,
                 finished = CASE WHEN $5 THEN coalesce(finished, $6) ELSE finished END,
                 recovered = recovered + $7 WHERE id = $1",
                &[&run, &steps, &(ms - self.ms_reported), &unclaimed, &finished, &now_ms(), &recovered],
            ));
        }
        match tx.commit() {
            Ok(()) => {
                self.landed(landed);
                Ok(())
            }
            Err(e) => Err((e, Some(Box::new(landed)))),
        }
    }

    /// A commit landed: what it wrote is no longer pending.
    pub(super) fn landed(&mut self, landed: Landed) {
        for (first, row) in &landed.resolved {
            self.groups.resolve(*first, *row);
        }
        self.groups.landed();
        let ops = &mut self.ops;
        if landed.fresh {
            ops.rows.clear();
            ops.origin.clear();
        }
        for (id, row) in landed.inserted {
            ops.rows.insert(id, row);
            ops.origin.remove(&id);
        }
        for id in landed.deleted {
            ops.rows.remove(&id);
        }
        ops.items.clear();
        ops.drop_rows.clear();
        ops.topics.clear();
        ops.dead.clear();
        ops.state.clear();
        ops.acquired.clear();
        ops.released.clear();
        ops.step = None;
        self.pass_claim = None;
        self.lost += landed.lost;
        self.run = landed.run;
        self.new_run = None;
        self.steps_reported = self.steps;
        self.ms_reported = landed.ms;
        self.unclaimed_reported = self.unclaimed_total;
        self.recovered_reported = self.recovered_total;
        self.finished = false;
        self.since_commit = 0;
        self.group_began = Instant::now();
    }

    /// Whether the transaction `txid` committed (its COMMIT's answer was
    /// lost with the connection).
    pub(super) fn committed(&mut self, txid: i64) -> Result<bool, StoreError> {
        loop {
            let status: Option<String> = self
                .retrying(|c| c.query_one("SELECT txid_status($1)", &[&txid]))?
                .get(0);
            match status.as_deref() {
                Some("committed") => return Ok(true),
                Some("in progress") => std::thread::sleep(Duration::from_millis(20)),
                _ => return Ok(false),
            }
        }
    }

    /// Commits what was reported; a lost connection is reconnected and the
    /// commit tried again (unless it landed), as is a deadlock.
    pub(super) fn commit_now(&mut self) -> Result<(), String> {
        let mut tries = 0;
        loop {
            let reading = self.reading;
            let (e, sent) = match self.try_commit() {
                Ok(()) => return Ok(()),
                Err(failed) => failed,
            };
            tries += 1;
            let text = || {
                format!(
                    "cannot write the PostgreSQL store {}: {}",
                    display_url(&self.url),
                    pg_text(&e)
                )
            };
            if connection_lost(&e) {
                let extra: Vec<i64> = sent
                    .as_ref()
                    .map(|l| l.inserted.iter().map(|(_, row)| *row).collect())
                    .unwrap_or_default();
                self.reconnect_keeping(&e, &extra)
                    .map_err(|err| err.message)?;
                if let Some(sent) = sent {
                    if self.committed(sent.txid).map_err(|err| err.message)? {
                        self.landed(*sent);
                        return Ok(());
                    }
                }
                if reading {
                    return Err(format!(
                        "cannot write the PostgreSQL store {}: {} (a step's state_get read under locks that the lost connection let go)",
                        display_url(&self.url),
                        pg_text(&e)
                    ));
                }
                continue;
            }
            let transient = e.code().is_some_and(|c| {
                *c == postgres::error::SqlState::T_R_DEADLOCK_DETECTED
                    || *c == postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
            });
            // (Values read under locks that the failed transaction let
            // go may have changed since: not written from stale reads.)
            if !transient || tries >= 10 || reading {
                return Err(text());
            }
        }
    }

    pub(super) fn fail(&mut self, why: String) {
        if self.failure.is_none() {
            self.failure = Some(why);
        }
    }

    pub(super) fn clean(&self) -> bool {
        self.ops.items.is_empty()
            && self.ops.drop_rows.is_empty()
            && self.ops.topics.is_empty()
            && self.ops.dead.is_empty()
            && self.ops.state.is_empty()
            && self.ops.released.is_empty()
            && self.groups.is_clean()
            && self.new_run.is_none()
            && !self.finished
            && self.steps == self.steps_reported
            && self.unclaimed_total == self.unclaimed_reported
            && self.recovered_total == self.recovered_reported
    }
}
