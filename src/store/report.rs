//! Commands on a store without its script: `voyager status`, `voyager
//! dead-letters` and `voyager requeue`.

use std::fmt::Write as _;
use std::path::Path;

use rusqlite::{params, OptionalExtension};
use serde_json::{json, Value as Json};

use super::open::{self, StoreError};
use super::RunInfo;

fn wrap(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::sqlite(path, e)
}

fn time_text(ms: i64) -> String {
    let mut s = String::new();
    crate::vm::value::write_time(&mut s, ms);
    s
}

/// What `voyager status` shows.
pub struct Status {
    pub json: Json,
    pub text: String,
}

/// A store's state: items by state, the oldest waiting item, the next
/// timer, topics, dead letters and the last run's throughput.
pub fn status(path: &Path) -> Result<Status, StoreError> {
    let (conn, _lock) = open::open(path, false)?;
    let w = wrap(path);
    let run = open::latest_run(&conn).map_err(&w)?;
    let by_state = counts(
        &conn,
        "SELECT state, count(*) FROM items GROUP BY state ORDER BY state",
    )
    .map_err(&w)?;
    let topics = counts(
        &conn,
        "SELECT topic, count(*) FROM topics GROUP BY topic ORDER BY topic",
    )
    .map_err(&w)?;
    let dead: i64 = conn
        .query_row("SELECT count(*) FROM dead_letters", [], |r| r.get(0))
        .map_err(&w)?;
    let state_keys: i64 = conn
        .query_row("SELECT count(*) FROM state", [], |r| r.get(0))
        .map_err(&w)?;
    let oldest: Option<(i64, i64, String)> = conn
        .query_row(
            "SELECT id, since, message FROM items ORDER BY since, id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(&w)?;
    let on_resources = {
        let mut stmt = conn
            .prepare(&format!(
                "SELECT id, message FROM items WHERE state = 'resource' ORDER BY id LIMIT {}",
                MAX_WAITERS_SHOWN + 1
            ))
            .map_err(&w)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(&w)?;
        rows.collect::<Result<Vec<(i64, String)>, _>>()
            .map_err(&w)?
    };
    // What the store's schema has (it is read as it is, not upgraded).
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(&w)?;
    let groups = groups(&conn, version).map_err(&w)?;
    let next_timer: Option<i64> = conn
        .query_row(
            "SELECT min(due) FROM items WHERE due IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .map_err(&w)?;
    // (`runs.recovered` came with schema 2.)
    let recovered = if version >= 2 { "recovered" } else { "0" };
    let (steps, run_ms, unclaimed, recovered): (i64, i64, i64, i64) = match &run {
        Some(r) => conn
            .query_row(
                &format!("SELECT steps, run_ms, unclaimed, {recovered} FROM runs WHERE id = ?1"),
                [r.id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .map_err(&w)?,
        None => (0, 0, 0, 0),
    };
    Ok(render(
        &path.display().to_string(),
        Facts {
            run,
            by_state,
            topics,
            dead,
            state_keys,
            oldest,
            on_resources,
            held: Vec::new(),
            next_timer,
            steps,
            run_ms,
            unclaimed,
            recovered,
            cancelled: 0,
            groups,
        },
    ))
}

/// Items waiting for a resource that `voyager status` names (past these,
/// it says how many more the count has).
pub const MAX_WAITERS_SHOWN: usize = 20;

/// The resource a stored waiting call wants, and the call, from its JSON
/// (`{"call": {"action", "args"}}`): `deploy` and `deploy("web-1", 2)`.
fn waiting_call(message: &str) -> (String, String) {
    let j = crate::engine::serial::from_line(message).unwrap_or(Json::Null);
    let call = &j["call"];
    let Some(action) = call["action"].as_str() else {
        return (String::from("?"), shorten(message));
    };
    let args: Vec<String> = call["args"]
        .as_array()
        .map(|a| a.iter().map(|v| shorten(&v.to_string())).collect())
        .unwrap_or_default();
    (action.to_string(), format!("{action}({})", args.join(", ")))
}

/// What a store holds, for [`render`].
pub struct Facts {
    pub run: Option<RunInfo>,
    pub by_state: Vec<(String, i64)>,
    pub topics: Vec<(String, i64)>,
    pub dead: i64,
    pub state_keys: i64,
    /// The oldest waiting item: id, since, message (JSON text).
    pub oldest: Option<(i64, i64, String)>,
    /// Items waiting for a resource, oldest first (at most
    /// [`MAX_WAITERS_SHOWN`] + 1): id and the waiting call (JSON text).
    pub on_resources: Vec<(i64, String)>,
    /// Resources held across PostgreSQL workers: the action, the key's
    /// display form, and how many calls hold it (a SQLite store keeps its
    /// holds in its items, and lists none here).
    pub held: Vec<(String, String, i64)>,
    pub next_timer: Option<i64>,
    pub steps: i64,
    pub run_ms: i64,
    pub unclaimed: i64,
    /// Failures `catch` handlers recovered (not dead letters).
    pub recovered: i64,
    /// Items cancelled (`voyager cancel`), from the store's cancel log.
    pub cancelled: i64,
    pub groups: GroupList,
}

/// The groups `voyager status` shows: unfinished first, then the latest
/// finished (at most [`MAX_GROUPS_SHOWN`] + 1), and how many there are.
#[derive(Default)]
pub struct GroupList {
    pub shown: Vec<Group>,
    pub total: i64,
    pub unfinished: i64,
}

/// A group (a message entered from outside, with every item its steps
/// made): its calls done and dead, and what its live items are doing.
#[derive(Default)]
pub struct Group {
    pub id: i64,
    /// Its first item, as JSON text (cut at 200 characters).
    pub label: String,
    pub done: i64,
    pub dead: i64,
    /// Live items running a native job.
    pub running: i64,
    /// Live items waiting for a resource.
    pub resource: i64,
    /// Other live items: queued, on a timer, waiting out a retry.
    pub waiting: i64,
}

impl Group {
    /// `n` of group `id`'s live items are in `state`: running a job,
    /// waiting on a resource, or waiting otherwise. The group joins `live`
    /// if it is not there yet.
    pub fn count_live(
        live: &mut std::collections::BTreeMap<i64, Group>,
        id: i64,
        state: &str,
        n: i64,
    ) {
        let group = live.entry(id).or_insert_with(|| Group {
            id,
            ..Group::default()
        });
        match state {
            "job" => group.running += n,
            "resource" => group.resource += n,
            _ => group.waiting += n,
        }
    }

    fn finished(&self) -> bool {
        self.running + self.resource + self.waiting == 0
    }
}

/// Groups `voyager status` lists (past these, it says how many more).
pub const MAX_GROUPS_SHOWN: usize = 20;

/// The groups to show: every unfinished one (up to the limit), then the
/// latest finished; and how many there are, and how many are unfinished.
fn groups(conn: &rusqlite::Connection, version: i64) -> rusqlite::Result<GroupList> {
    // A store from before schema 3 kept no groups.
    if version < 3 {
        return Ok(GroupList::default());
    }
    let mut live: std::collections::BTreeMap<i64, Group> = std::collections::BTreeMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT grp, id, state, count(*) FROM items GROUP BY coalesce(grp, id), state",
        )?;
        let rows = stmt.query_map([], |r| {
            let group: Option<i64> = r.get(0)?;
            let id: i64 = r.get(1)?;
            Ok((
                group.unwrap_or(id),
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        for row in rows {
            let (id, state, n) = row?;
            Group::count_live(&mut live, id, &state, n);
        }
    }
    let unfinished = live.len() as i64;
    let rows: i64 = conn.query_row("SELECT count(*) FROM groups", [], |r| r.get(0))?;
    let live_rows: i64 = conn.query_row(
        "SELECT count(*) FROM groups WHERE id IN (SELECT DISTINCT coalesce(grp, id) FROM items)",
        [],
        |r| r.get(0),
    )?;
    let total = rows - live_rows + unfinished;
    let live_ids: std::collections::HashSet<i64> = live.keys().copied().collect();
    let mut read = conn.prepare_cached("SELECT label, done, dead FROM groups WHERE id = ?1")?;
    let mut shown: Vec<Group> = Vec::new();
    for (_, mut g) in live.into_iter().take(MAX_GROUPS_SHOWN + 1) {
        if let Some((label, done, dead)) = read
            .query_row([g.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
        {
            (g.label, g.done, g.dead) = (label, done, dead);
        }
        shown.push(g);
    }
    if shown.len() < MAX_GROUPS_SHOWN + 1 {
        let room = MAX_GROUPS_SHOWN + 1 - shown.len();
        // The latest rows, of which the live ones are already shown.
        let mut stmt =
            conn.prepare("SELECT id, label, done, dead FROM groups ORDER BY id DESC LIMIT ?1")?;
        let rows = stmt.query_map([(room + live_ids.len()) as i64], |r| {
            Ok(Group {
                id: r.get(0)?,
                label: r.get(1)?,
                done: r.get(2)?,
                dead: r.get(3)?,
                ..Group::default()
            })
        })?;
        let mut finished: Vec<Group> = rows
            .filter(|g| g.as_ref().map_or(true, |g| !live_ids.contains(&g.id)))
            .take(room)
            .collect::<rusqlite::Result<_>>()?;
        finished.reverse();
        shown.extend(finished);
    }
    Ok(GroupList {
        shown,
        total,
        unfinished,
    })
}

/// `voyager status`'s text and JSON for a store (`name` as shown).
pub fn render(name: &str, facts: Facts) -> Status {
    let Facts {
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
    } = facts;
    let waiting_count = by_state
        .iter()
        .find(|(s, _)| s == "resource")
        .map_or(0, |(_, n)| *n);
    let shown: Vec<(i64, String, String)> = on_resources
        .iter()
        .take(MAX_WAITERS_SHOWN)
        .map(|(id, m)| {
            let (action, call) = waiting_call(m);
            (*id, action, call)
        })
        .collect();
    let items: i64 = by_state.iter().map(|(_, n)| n).sum();
    let in_topics: i64 = topics.iter().map(|(_, n)| n).sum();
    let rate = if run_ms > 0 {
        steps as f64 * 1000.0 / run_ms as f64
    } else {
        0.0
    };
    let unfinished = items + in_topics;
    let json = json!({
        "store": name,
        "script": run.as_ref().map(|r| r.script.clone()),
        "started": run.as_ref().map(|r| r.started),
        "finished": run.as_ref().and_then(|r| r.finished),
        "unfinished": unfinished,
        "items": by_state.iter().map(|(s, n)| (s.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "topics": topics.iter().map(|(s, n)| (s.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "oldest_waiting": oldest.as_ref().map(|(id, since, m)| json!({"id": id, "since": since, "message": crate::engine::serial::from_line(m).unwrap_or(Json::Null)})),
        "held": held.iter().map(|(action, key, calls)| json!({"action": action, "key": key, "calls": calls})).collect::<Vec<_>>(),
        "waiting_for_resources": shown.iter().map(|(id, action, call)| json!({"id": id, "action": action, "call": call})).collect::<Vec<_>>(),
        "next_timer": next_timer,
        "dead_letters": dead,
        "cancelled": cancelled,
        "state_keys": state_keys,
        "unclaimed_data": unclaimed,
        "recovered": recovered,
        "steps": steps,
        "run_ms": run_ms,
        "steps_per_second": rate.round(),
        "groups": {
            "total": groups.total,
            "unfinished": groups.unfinished,
            "shown": groups.shown.iter().take(MAX_GROUPS_SHOWN).map(|g| json!({
                "id": g.id,
                "message": crate::engine::serial::from_line(&g.label).unwrap_or(Json::String(g.label.clone())),
                "calls": {
                    "done": g.done,
                    "running": g.running,
                    "resource": g.resource,
                    "waiting": g.waiting,
                    "dead": g.dead,
                },
                "finished": g.finished(),
            })).collect::<Vec<_>>(),
        },
    });
    let mut text = String::new();
    match &run {
        None => {
            let _ = writeln!(text, "{name}: no run yet");
        }
        Some(r) => {
            let _ = writeln!(text, "store:        {name}");
            let _ = writeln!(text, "script:       {}", r.script);
            let _ = writeln!(text, "started:      {}", time_text(r.started));
            match r.finished {
                Some(t) => {
                    let _ = writeln!(text, "finished:     {}", time_text(t));
                }
                None => {
                    let _ = writeln!(text, "finished:     no ({unfinished} unfinished)");
                }
            }
        }
    }
    let states: Vec<String> = by_state.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let _ = writeln!(
        text,
        "items:        {items}{}",
        if states.is_empty() {
            String::new()
        } else {
            format!(" ({})", states.join(", "))
        }
    );
    for (t, n) in &topics {
        let _ = writeln!(text, "topic \"{t}\":  {n} message(s)");
    }
    if let Some((id, since, m)) = &oldest {
        let _ = writeln!(
            text,
            "oldest:       #{id} since {}: {}",
            time_text(*since),
            shorten(m)
        );
    }
    for (action, key, calls) in &held {
        let key = if key.is_empty() {
            String::new()
        } else {
            format!(" {key}")
        };
        let _ = writeln!(text, "held:         {action}{key} by {calls} call(s)");
    }
    for (id, action, call) in &shown {
        let _ = writeln!(text, "on resource:  #{id} waits for {action}: {call}");
    }
    let more = waiting_count - shown.len() as i64;
    if more > 0 && !shown.is_empty() {
        let _ = writeln!(text, "on resource:  … and {more} more");
    }
    if let Some(t) = next_timer {
        let _ = writeln!(text, "next timer:   {}", time_text(t));
    }
    if groups.total > 0 {
        let _ = writeln!(
            text,
            "groups:       {} ({} unfinished)",
            groups.total, groups.unfinished
        );
        for g in groups.shown.iter().take(MAX_GROUPS_SHOWN) {
            let what = if g.finished() {
                "finished"
            } else {
                "unfinished"
            };
            let _ = writeln!(
                text,
                "  #{} {what}: {} done, {} running, {} on a resource, {} waiting, {} dead: {}",
                g.id,
                g.done,
                g.running,
                g.resource,
                g.waiting,
                g.dead,
                shorten(&g.label)
            );
        }
        let more = groups.total - groups.shown.len().min(MAX_GROUPS_SHOWN) as i64;
        if more > 0 {
            let _ = writeln!(text, "  … and {more} more");
        }
    }
    let _ = writeln!(text, "dead letters: {dead}");
    if recovered > 0 {
        let _ = writeln!(text, "recovered:    {recovered} failure(s) a handler took");
    }
    if cancelled > 0 {
        let _ = writeln!(text, "cancelled:    {cancelled}");
    }
    let _ = writeln!(text, "state keys:   {state_keys}");
    if unclaimed > 0 {
        let _ = writeln!(text, "unclaimed:    {unclaimed} data message(s)");
    }
    let _ = writeln!(
        text,
        "throughput:   {steps} steps in {:.3}s ({rate:.0} steps/s)",
        run_ms as f64 / 1000.0
    );
    Status { json, text }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 100 {
        let mut t: String = s.chars().take(100).collect();
        t.push('…');
        t
    } else {
        s.to_string()
    }
}

/// A dead letter as stored.
pub struct Letter {
    pub id: i64,
    pub message: String,
    pub code: String,
    pub error: String,
    pub attempts: i64,
    pub at: i64,
}

pub fn dead_letters(path: &Path) -> Result<Vec<Letter>, StoreError> {
    let (conn, _lock) = open::open(path, false)?;
    let w = wrap(path);
    let mut stmt = conn
        .prepare("SELECT id, message, code, error, attempts, at FROM dead_letters ORDER BY id")
        .map_err(&w)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Letter {
                id: r.get(0)?,
                message: r.get(1)?,
                code: r.get(2)?,
                error: r.get(3)?,
                attempts: r.get(4)?,
                at: r.get(5)?,
            })
        })
        .map_err(&w)?;
    rows.collect::<Result<_, _>>().map_err(&w)
}

impl Letter {
    pub fn to_json(&self) -> Json {
        json!({
            "id": self.id,
            "message": crate::engine::serial::from_line(&self.message).unwrap_or(Json::Null),
            "code": self.code,
            "error": self.error,
            "attempts": self.attempts,
            "at": self.at,
        })
    }
}

/// Puts dead letters back as queued items of the store's run (all of them,
/// or those with the ids given); the next `voyager run --store` runs them.
/// Returns the ids requeued and the ids not found.
pub fn requeue(path: &Path, ids: Option<&[i64]>) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
    let (mut conn, _lock) = open::open(path, true)?;
    let w = wrap(path);
    let Some(run) = open::latest_run(&conn).map_err(&w)? else {
        return Ok((vec![], ids.map(<[i64]>::to_vec).unwrap_or_default()));
    };
    let tx = conn.transaction().map_err(&w)?;
    let letters: Vec<(i64, String)> = {
        let mut stmt = tx
            .prepare("SELECT id, message FROM dead_letters ORDER BY id")
            .map_err(&w)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(&w)?;
        rows.collect::<Result<_, _>>().map_err(&w)?
    };
    let chosen: Vec<&(i64, String)> = letters
        .iter()
        .filter(|(id, _)| ids.is_none_or(|ids| ids.contains(id)))
        .collect();
    let missing: Vec<i64> = ids
        .unwrap_or_default()
        .iter()
        .filter(|id| !letters.iter().any(|(l, _)| l == *id))
        .copied()
        .collect();
    let next: i64 = tx
        .query_row(
            "SELECT max(r.next_id, coalesce((SELECT max(id) FROM items), 0)) FROM runs r WHERE r.id = ?1",
            [run.id],
            |r| r.get(0),
        )
        .map_err(&w)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let mut id = next;
    let mut done = Vec::new();
    for (letter, message) in &chosen {
        id += 1;
        // A requeued dead letter is a group of its own.
        tx.execute(
            "INSERT INTO items (id, state, due, since, message, grp) VALUES (?1, 'queued', NULL, ?2, ?3, ?1)",
            params![id, now, message],
        )
        .map_err(&w)?;
        tx.execute(
            "INSERT OR IGNORE INTO groups (id, label) VALUES (?1, ?2)",
            params![id, super::groups::label_of(message.clone())],
        )
        .map_err(&w)?;
        tx.execute("DELETE FROM dead_letters WHERE id = ?1", [letter])
            .map_err(&w)?;
        done.push(*letter);
    }
    if !done.is_empty() {
        tx.execute(
            "UPDATE runs SET next_id = ?2, finished = NULL WHERE id = ?1",
            params![run.id, id],
        )
        .map_err(&w)?;
    }
    tx.commit().map_err(&w)?;
    Ok((done, missing))
}

/// The rows of a `SELECT name, count(*) … GROUP BY name`.
fn counts(conn: &rusqlite::Connection, sql: &str) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Cancels unfinished items of the store's run: their rows are deleted, so
/// that no `run` or `serve` on the store resumes them. Returns the ids
/// cancelled and the ids not found (finished, or never there).
pub fn cancel(path: &Path, ids: &[i64]) -> Result<(Vec<i64>, Vec<i64>), StoreError> {
    let (mut conn, _lock) = open::open(path, true)?;
    let w = wrap(path);
    let tx = conn.transaction().map_err(&w)?;
    let mut done = Vec::new();
    let mut missing = Vec::new();
    for id in ids {
        let n = tx
            .execute("DELETE FROM items WHERE id = ?1", [id])
            .map_err(&w)?;
        if n > 0 {
            done.push(*id);
        } else {
            missing.push(*id);
        }
    }
    tx.commit().map_err(&w)?;
    Ok((done, missing))
}
