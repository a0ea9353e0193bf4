//! `voyager status`, `dead-letters` and `requeue` on a PostgreSQL store:
//! the same reports as on a SQLite file (see [`crate::store::report`]);
//! and `voyager enqueue`, which adds work from outside a worker.

use super::{connect, display_url, now_ms, pg_error, CHANNEL};
use crate::store::open::StoreError;
use std::collections::{BTreeMap, HashMap};

use crate::store::report::{self, Facts, Group, GroupList, Letter, Status, MAX_GROUPS_SHOWN};

fn wrap(url: &str) -> impl Fn(postgres::Error) -> StoreError + '_ {
    move |e| StoreError {
        code: crate::codes::STORE_UNREADABLE,
        message: format!(
            "cannot read the PostgreSQL store {}: {}",
            display_url(url),
            super::pg_text(&e)
        ),
        hint: None,
        exit: crate::store::open::EXIT_UNUSABLE,
    }
}

pub fn status(url: &str) -> Result<Status, StoreError> {
    let mut c = connect(url)?;
    let w = wrap(url);
    let run = super::latest_run(&mut c).map_err(&w)?;
    let pairs = |c: &mut postgres::Client, sql: &str| -> Result<Vec<(String, i64)>, StoreError> {
        Ok(c.query(sql, &[])
            .map_err(&w)?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    };
    let mut by_state = pairs(
        &mut c,
        "SELECT CASE WHEN lease_owner IS NULL THEN state ELSE 'leased' END, count(*)
         FROM voyager.items GROUP BY 1 ORDER BY 1",
    )?;
    by_state.sort();
    let topics = pairs(
        &mut c,
        "SELECT topic, count(*) FROM voyager.topics GROUP BY topic ORDER BY topic",
    )?;
    let one = |c: &mut postgres::Client, sql: &str| -> Result<i64, StoreError> {
        Ok(c.query_one(sql, &[]).map_err(&w)?.get(0))
    };
    let dead = one(&mut c, "SELECT count(*) FROM voyager.dead_letters")?;
    let cancelled = one(&mut c, "SELECT count(*) FROM voyager.cancelled")?;
    let state_keys = one(&mut c, "SELECT count(*) FROM voyager.state")?;
    let oldest = c
        .query_opt(
            "SELECT id, since, CASE WHEN form = 'source' THEN to_json(body)::text ELSE body END
             FROM voyager.items ORDER BY since, id LIMIT 1",
            &[],
        )
        .map_err(&w)?
        .map(|r| (r.get(0), r.get(1), r.get(2)));
    let on_resources = c
        .query(
            "SELECT id, body FROM voyager.items WHERE state = 'resource' AND form = 'node'
             ORDER BY id LIMIT $1",
            &[&(report::MAX_WAITERS_SHOWN as i64 + 1)],
        )
        .map_err(&w)?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let held = c
        .query(
            "SELECT action, key, count(*) FROM voyager.holds GROUP BY action, key ORDER BY action, key",
            &[],
        )
        .map_err(&w)?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let groups = groups(&mut c).map_err(&w)?;
    let next_timer: Option<i64> = c
        .query_one(
            "SELECT min(due_at) FROM voyager.items WHERE state IN ('timer', 'retry')",
            &[],
        )
        .map_err(&w)?
        .get(0);
    let (steps, run_ms, unclaimed, recovered) = match &run {
        Some(r) => {
            let row = c
                .query_one(
                    "SELECT steps, run_ms, unclaimed, recovered FROM voyager.runs WHERE id = $1",
                    &[&r.id],
                )
                .map_err(&w)?;
            (row.get(0), row.get(1), row.get(2), row.get(3))
        }
        None => (0, 0, 0, 0),
    };
    Ok(report::render(
        &display_url(url),
        Facts {
            run,
            by_state,
            topics,
            dead,
            state_keys,
            oldest,
            on_resources,
            held,
            next_timer,
            steps,
            run_ms,
            unclaimed,
            recovered,
            cancelled,
            groups,
        },
    ))
}

/// The groups to show, as on SQLite: every unfinished one (up to the
/// limit), then the latest finished; how many there are, and how many are
/// unfinished.
fn groups(c: &mut postgres::Client) -> Result<GroupList, postgres::Error> {
    let mut live: BTreeMap<i64, Group> = BTreeMap::new();
    for r in c.query(
        "SELECT coalesce(grp, id), state, count(*) FROM voyager.items GROUP BY 1, 2",
        &[],
    )? {
        let id: i64 = r.get(0);
        let state: String = r.get(1);
        let n: i64 = r.get(2);
        Group::count_live(&mut live, id, &state, n);
    }
    let unfinished = live.len() as i64;
    let ids: Vec<i64> = live.keys().copied().collect();
    let row = c.query_one(
        "SELECT (SELECT count(*) FROM voyager.groups), (SELECT count(*) FROM voyager.groups WHERE id = ANY($1))",
        &[&ids],
    )?;
    let (rows, live_rows): (i64, i64) = (row.get(0), row.get(1));
    let total = rows - live_rows + unfinished;
    let shown_ids: Vec<i64> = ids.iter().copied().take(MAX_GROUPS_SHOWN + 1).collect();
    let mut kept: HashMap<i64, (String, i64, i64)> = HashMap::new();
    for r in c.query(
        "SELECT id, label, done, dead FROM voyager.groups WHERE id = ANY($1)",
        &[&shown_ids],
    )? {
        kept.insert(r.get(0), (r.get(1), r.get(2), r.get(3)));
    }
    let mut shown: Vec<Group> = Vec::new();
    for (_, mut g) in live.into_iter().take(MAX_GROUPS_SHOWN + 1) {
        if let Some((label, done, dead)) = kept.remove(&g.id) {
            (g.label, g.done, g.dead) = (label, done, dead);
        }
        shown.push(g);
    }
    if shown.len() < MAX_GROUPS_SHOWN + 1 {
        let room = MAX_GROUPS_SHOWN + 1 - shown.len();
        // The latest rows, of which the live ones are already shown.
        let mut finished: Vec<Group> = c
            .query(
                "SELECT id, label, done, dead FROM voyager.groups WHERE NOT (id = ANY($1))
                 ORDER BY id DESC LIMIT $2",
                &[&ids, &(room as i64)],
            )?
            .iter()
            .map(|r| Group {
                id: r.get(0),
                label: r.get(1),
                done: r.get(2),
                dead: r.get(3),
                ..Group::default()
            })
            .collect();
        finished.reverse();
        shown.extend(finished);
    }
    Ok(GroupList {
        shown,
        total,
        unfinished,
    })
}

/// `voyager cancel` on a PostgreSQL store: the unfinished items' rows move
/// to the cancel log (`voyager.cancelled`), in one transaction, so that no
/// worker takes them; a worker holding one finds its lease gone at its
/// next commit and drops what it did with it. Returns the ids cancelled
/// and the ids not found (finished, or never there).
pub fn cancel(url: &str, ids: &[i64]) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
    let mut c = connect(url)?;
    let w = wrap(url);
    let mut tx = c.transaction().map_err(&w)?;
    let rows = tx
        .query(
            "WITH gone AS (DELETE FROM voyager.items WHERE id = ANY($1) RETURNING id, form, body)
             INSERT INTO voyager.cancelled (id, form, body, at) SELECT id, form, body, $2 FROM gone
             ON CONFLICT (id) DO NOTHING RETURNING id",
            &[&ids, &now_ms()],
        )
        .map_err(&w)?;
    tx.commit().map_err(&w)?;
    let done: std::collections::HashSet<i64> = rows.iter().map(|r| r.get(0)).collect();
    let (done, missing) = ids.iter().partition(|id| done.contains(id));
    Ok((done, missing))
}

pub fn dead_letters(url: &str) -> Result<Vec<Letter>, StoreError> {
    let mut c = connect(url)?;
    let rows = c
        .query(
            "SELECT id, message, code, error, attempts, at FROM voyager.dead_letters ORDER BY id",
            &[],
        )
        .map_err(wrap(url))?;
    Ok(rows
        .iter()
        .map(|r| Letter {
            id: r.get(0),
            message: r.get(1),
            code: r.get(2),
            error: r.get(3),
            attempts: r.get::<_, i32>(4) as i64,
            at: r.get(5),
        })
        .collect())
}

/// Puts dead letters back as ready items (all, or those with the ids
/// given), in one transaction, and wakes the workers. Returns the ids
/// requeued and the ids not found.
pub fn requeue(url: &str, ids: Option<&[i64]>) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
    let mut c = connect(url)?;
    let w = wrap(url);
    let mut tx = c.transaction().map_err(&w)?;
    let all: Vec<i64> = tx
        .query("SELECT id FROM voyager.dead_letters ORDER BY id", &[])
        .map_err(&w)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let chosen: Vec<i64> = all
        .iter()
        .copied()
        .filter(|id| ids.is_none_or(|ids| ids.contains(id)))
        .collect();
    let missing: Vec<i64> = ids
        .unwrap_or_default()
        .iter()
        .filter(|id| !all.contains(id))
        .copied()
        .collect();
    if !chosen.is_empty() {
        // Dead letters are messages: the worker that takes one routes it.
        tx.execute(
            "WITH gone AS (DELETE FROM voyager.dead_letters WHERE id = ANY($1) RETURNING id, message)
             INSERT INTO voyager.items (form, body) SELECT 'message', message FROM gone ORDER BY id",
            &[&chosen],
        )
        .map_err(&w)?;
        tx.execute(
            "UPDATE voyager.runs SET finished = NULL WHERE id = (SELECT max(id) FROM voyager.runs)",
            &[],
        )
        .map_err(&w)?;
        tx.execute("SELECT pg_notify($1, '')", &[&super::CHANNEL])
            .map_err(&w)?;
    }
    tx.commit().map_err(&w)?;
    Ok((chosen, missing))
}

/// What `voyager enqueue` adds: a message (JSON, routed by the worker that
/// takes it) with an optional unique key. `Ok(None)`: an unfinished item
/// holds the key.
pub fn enqueue(
    url: &str,
    script: &str,
    hash: &str,
    message: &str,
    unique: Option<&str>,
    priority: i16,
) -> Result<Option<i64>, StoreError> {
    let mut client = connect(url)?;
    let wrap = |e: postgres::Error| pg_error(url, &e);
    enqueue_on(&mut client, script, hash, message, unique, priority).map_err(wrap)
}

/// Enqueues as [`enqueue`] does, over one connection kept open (`voyager
/// serve`'s requests): a connection that failed is opened again once.
pub struct Enqueuer {
    url: String,
    client: Option<postgres::Client>,
}

impl Enqueuer {
    pub fn new(url: &str) -> Enqueuer {
        Enqueuer {
            url: url.to_string(),
            client: None,
        }
    }

    /// The row's id; a connection found closed (the server restarted, say)
    /// is opened again first. A failure is not retried: the message may
    /// have been enqueued.
    pub fn enqueue(
        &mut self,
        script: &str,
        hash: &str,
        message: &str,
        priority: i16,
    ) -> Result<Option<i64>, StoreError> {
        let client = self.connection()?;
        enqueue_on(client, script, hash, message, None, priority).map_err(|e| {
            let shown = pg_error(&self.url, &e);
            self.client = None;
            shown
        })
    }
}

impl Enqueuer {
    /// The kept connection; one found closed (the server restarted, say)
    /// is opened again first.
    fn connection(&mut self) -> Result<&mut postgres::Client, StoreError> {
        let client = match self.client.take() {
            Some(c) if !c.is_closed() => c,
            _ => connect(&self.url)?,
        };
        Ok(self.client.insert(client))
    }

    /// Requeues the store's oldest dead letter with this message, code,
    /// error and attempts (`voyager serve`'s requeue of a letter it
    /// reported): the letter becomes a new item, in one transaction. `None`
    /// if the store holds no such letter.
    pub fn requeue_letter(
        &mut self,
        message: &str,
        code: &str,
        error: &str,
        attempts: i32,
    ) -> Result<Option<i64>, StoreError> {
        let client = self.connection()?;
        let done = (|| {
            let mut tx = client.transaction()?;
            let row = tx.query_opt(
                "WITH gone AS (
                   DELETE FROM voyager.dead_letters WHERE id = (
                     SELECT id FROM voyager.dead_letters
                     WHERE message = $1 AND code = $2 AND error = $3 AND attempts = $4
                     ORDER BY id LIMIT 1)
                   RETURNING message)
                 INSERT INTO voyager.items (form, body) SELECT 'message', message FROM gone RETURNING id",
                &[&message, &code, &error, &attempts],
            )?;
            let Some(row) = row else {
                return Ok(None);
            };
            tx.execute(
                "UPDATE voyager.runs SET finished = NULL WHERE id = (SELECT max(id) FROM voyager.runs)",
                &[],
            )?;
            tx.execute("SELECT pg_notify($1, '')", &[&CHANNEL])?;
            tx.commit()?;
            Ok(Some(row.get(0)))
        })();
        done.map_err(|e: postgres::Error| {
            let shown = pg_error(&self.url, &e);
            self.client = None;
            shown
        })
    }
}

fn enqueue_on(
    client: &mut postgres::Client,
    script: &str,
    hash: &str,
    message: &str,
    unique: Option<&str>,
    priority: i16,
) -> Result<Option<i64>, postgres::Error> {
    let mut tx = client.transaction()?;
    let run: Option<i64> = tx
        .query_one("SELECT max(id) FROM voyager.runs", &[])?
        .get(0);
    match run {
        Some(run) => {
            tx.execute(
                "UPDATE voyager.runs SET finished = NULL WHERE id = $1",
                &[&run],
            )?;
        }
        None => {
            tx.execute(
                "INSERT INTO voyager.runs (script, source_hash, started) VALUES ($1, $2, $3)",
                &[&script, &hash, &now_ms()],
            )?;
        }
    }
    let row = tx
        .query_opt(
            "INSERT INTO voyager.items (form, body, unique_key, priority) VALUES ('message', $1, $2, $3)
             ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING RETURNING id",
            &[&message, &unique, &priority],
        )
        ?;
    let Some(row) = row else {
        return Ok(None);
    };
    tx.execute("SELECT pg_notify($1, '')", &[&CHANNEL])?;
    tx.commit()?;
    Ok(Some(row.get(0)))
}
