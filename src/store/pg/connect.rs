//! Connecting to a PostgreSQL store: URLs, errors in the user's words,
//! and the schema, created or upgraded by the first Voyager to connect
//! (under an advisory lock) and versioned in `voyager.schema_version`.

use postgres::{Client, NoTls};

use super::super::open::{StoreError, EXIT_UNUSABLE};
use super::super::RunInfo;
use crate::codes;

/// The schema this Voyager writes (`voyager.schema_version`).
pub const SCHEMA_VERSION: i32 = 4;

/// The advisory lock key under which the schema is created or upgraded
/// ("Voyg" and 1).
const SCHEMA_LOCK: i64 = 0x566f_7967_0000_0001;

/// Exit status when the server cannot be reached (sysexits' EX_UNAVAILABLE).
pub const EXIT_UNAVAILABLE: u8 = 69;

const SCHEMA: &str = "
CREATE SCHEMA IF NOT EXISTS voyager;
CREATE TABLE IF NOT EXISTS voyager.schema_version (version integer NOT NULL);
";

/// Version 1. Times are milliseconds since the epoch (as Voyager's clock).
const V1: &str = "
CREATE FUNCTION voyager.now_ms() RETURNS bigint LANGUAGE sql VOLATILE AS
  $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;
CREATE TABLE voyager.runs (
    id bigserial PRIMARY KEY,
    script text NOT NULL,
    source_hash text NOT NULL,
    started bigint NOT NULL,
    finished bigint,
    steps bigint NOT NULL DEFAULT 0,
    run_ms bigint NOT NULL DEFAULT 0,
    unclaimed bigint NOT NULL DEFAULT 0
);
-- form: 'node' (an item as the engine left it, JSON), 'message' (a message
-- to route, JSON: voyager enqueue) or 'source' (an expression to compile,
-- text: voyager.enqueue()).
CREATE TABLE voyager.items (
    id bigserial PRIMARY KEY,
    form text NOT NULL DEFAULT 'source',
    body text NOT NULL,
    state text NOT NULL DEFAULT 'queued',
    due_at bigint NOT NULL DEFAULT voyager.now_ms(),
    since bigint NOT NULL DEFAULT voyager.now_ms(),
    attempts integer NOT NULL DEFAULT 0,
    lease_owner bigint,
    lease_until bigint,
    unique_key text
);
-- What a worker takes: ready items, oldest due first.
CREATE INDEX items_ready ON voyager.items (due_at, id) WHERE lease_owner IS NULL;
CREATE INDEX items_leased ON voyager.items (lease_owner) WHERE lease_owner IS NOT NULL;
-- Every row is unfinished (a finished item is deleted): a second item with
-- the same key is refused by the index, atomically.
CREATE UNIQUE INDEX items_unique ON voyager.items (unique_key) WHERE unique_key IS NOT NULL;
CREATE TABLE voyager.topics (
    seq bigserial PRIMARY KEY,
    topic text NOT NULL,
    message text NOT NULL,
    owner bigint
);
CREATE TABLE voyager.dead_letters (
    id bigserial PRIMARY KEY,
    message text NOT NULL,
    code text NOT NULL,
    error text NOT NULL,
    attempts integer NOT NULL,
    at bigint NOT NULL
);
CREATE TABLE voyager.state (
    key text PRIMARY KEY,
    value text NOT NULL
);
-- Enqueue from the application's own transaction: the message as the
-- script's expression text, compiled by the worker that takes it (one that
-- does not compile is a dead letter with the error).
CREATE FUNCTION voyager.enqueue(message text, unique_key text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  new_id bigint;
BEGIN
  INSERT INTO voyager.items (form, body, unique_key) VALUES ('source', message, unique_key)
    RETURNING id INTO new_id;
  UPDATE voyager.runs SET finished = NULL WHERE id = (SELECT max(id) FROM voyager.runs);
  PERFORM pg_notify('voyager_items', '');
  RETURN new_id;
END $$;
";

/// Version 4: the tables that hold resource limits across workers, and
/// groups,
/// `voyager.enqueue` marks the run unfinished only when it is finished. It wrote the run's row on every call: an application
/// enqueuing 20,000 items in one transaction left 20,000 versions of that
/// row behind, each call slower than the last (6 s in all, now 0.2 s).
const V4: &str = "
CREATE OR REPLACE FUNCTION voyager.enqueue(message text, unique_key text DEFAULT NULL, priority integer DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  new_id bigint;
BEGIN
  IF priority < -100 OR priority > 100 THEN
    RAISE EXCEPTION 'voyager.enqueue: priority % is out of range (-100 to 100)', priority;
  END IF;
  INSERT INTO voyager.items (form, body, unique_key, priority)
    VALUES ('source', message, unique_key, priority)
    RETURNING id INTO new_id;
  UPDATE voyager.runs SET finished = NULL
    WHERE id = (SELECT max(id) FROM voyager.runs) AND finished IS NOT NULL;
  PERFORM pg_notify('voyager_items', '');
  RETURN new_id;
END $$;
-- Limited actions' resources across workers: who holds each (a row per
-- call holding it, named in its item's state), and a rate's next start
-- (in ms times the rate's count).
CREATE TABLE voyager.holds (
    id bigserial PRIMARY KEY,
    action text NOT NULL,
    key text NOT NULL,
    worker bigint NOT NULL,
    since bigint NOT NULL DEFAULT voyager.now_ms()
);
CREATE INDEX holds_resource ON voyager.holds (action, key);
-- Groups: every message that enters from outside, with every item its
-- steps make (items.grp: the group's row, the first item's; NULL: its own).
ALTER TABLE voyager.items ADD COLUMN grp bigint;
CREATE INDEX items_grp ON voyager.items (grp) WHERE grp IS NOT NULL;
CREATE TABLE voyager.groups (
    id bigint PRIMARY KEY,
    label text NOT NULL DEFAULT '',
    done bigint NOT NULL DEFAULT 0,
    dead bigint NOT NULL DEFAULT 0
);
CREATE TABLE voyager.rates (
    action text NOT NULL,
    key text NOT NULL,
    next_start numeric NOT NULL,
    PRIMARY KEY (action, key)
);
";

/// Version 3: the count of failures `catch` handlers recovered, added up
/// over the run's workers (as `unclaimed` is).
const V3: &str = "ALTER TABLE voyager.runs ADD COLUMN recovered bigint NOT NULL DEFAULT 0;";

/// Version 2: an item's priority (`voyager enqueue --priority`), which
/// orders what workers take, and so the index that serves the take; the
/// cancel log, and an index on what waits in topics. A cancelled item's row
/// leaves `voyager.items` (no worker takes it, and a worker holding it
/// finds its lease gone) and is kept in `voyager.cancelled`, to be listed
/// as cancelled.
const V2: &str = "
ALTER TABLE voyager.items ADD COLUMN priority smallint NOT NULL DEFAULT 0;
-- What a worker takes: ready items, highest priority first, then oldest due.
DROP INDEX voyager.items_ready;
CREATE INDEX items_ready ON voyager.items (priority DESC, due_at, id) WHERE lease_owner IS NULL;
DROP FUNCTION voyager.enqueue(text, text);
CREATE FUNCTION voyager.enqueue(message text, unique_key text DEFAULT NULL, priority integer DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
  new_id bigint;
BEGIN
  IF priority < -100 OR priority > 100 THEN
    RAISE EXCEPTION 'voyager.enqueue: priority % is out of range (-100 to 100)', priority;
  END IF;
  INSERT INTO voyager.items (form, body, unique_key, priority)
    VALUES ('source', message, unique_key, priority)
    RETURNING id INTO new_id;
  UPDATE voyager.runs SET finished = NULL WHERE id = (SELECT max(id) FROM voyager.runs);
  PERFORM pg_notify('voyager_items', '');
  RETURN new_id;
END $$;
CREATE TABLE voyager.cancelled (
    id bigint PRIMARY KEY,
    form text NOT NULL,
    body text NOT NULL,
    at bigint NOT NULL
);
-- What waits in each topic for a pass (counted before each take).
CREATE INDEX topics_waiting ON voyager.topics (topic, seq) WHERE owner IS NULL;
";

/// Whether `--store` names a PostgreSQL database.
pub fn is_url(store: &str) -> bool {
    store.starts_with("postgres://") || store.starts_with("postgresql://")
}

/// A URL without its password, to show.
pub fn display_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, rest),
    };
    match auth {
        Some(a) => match a.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => format!("{scheme}://{a}@{host}"),
        },
        None => url.to_string(),
    }
}

/// An error's words, with the server's own message when it sent one.
pub fn pg_text(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Whether an error means the connection is gone (the server restarted,
/// or the network between): reconnecting and trying again may help.
pub(super) fn connection_lost(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(code) = e.code() {
        let code = code.code();
        return code.starts_with("08") || code.starts_with("57P");
    }
    std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

pub(super) fn pg_error(url: &str, e: &postgres::Error) -> StoreError {
    let closed = e.is_closed() || e.as_db_error().is_none();
    if closed {
        StoreError {
            code: codes::STORE_UNREACHABLE,
            message: format!(
                "cannot reach the PostgreSQL store {}: {}",
                display_url(url),
                pg_text(e)
            ),
            hint: Some(
                "check that the server runs and the URL (host, port, user, database) is right"
                    .into(),
            ),
            exit: EXIT_UNAVAILABLE,
        }
    } else {
        StoreError {
            code: codes::STORE_UNREADABLE,
            message: format!(
                "cannot use the PostgreSQL store {}: {}",
                display_url(url),
                pg_text(e)
            ),
            hint: None,
            exit: EXIT_UNUSABLE,
        }
    }
}

/// Connects, and creates or upgrades the schema (under an advisory lock,
/// so that workers starting together do it once).
pub fn connect(url: &str) -> Result<Client, StoreError> {
    let mut client = Client::connect(url, NoTls).map_err(|e| pg_error(url, &e))?;
    let wrap = |e: postgres::Error| pg_error(url, &e);
    let version = schema_version(&mut client).map_err(wrap)?;
    if version == Some(SCHEMA_VERSION) {
        return Ok(client);
    }
    if version.is_some_and(|v| v > SCHEMA_VERSION) {
        return Err(newer(url, version.unwrap_or(0)));
    }
    let mut tx = client.transaction().map_err(wrap)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(wrap)?;
    tx.batch_execute(SCHEMA).map_err(wrap)?;
    let found: Option<i32> = tx
        .query_opt("SELECT max(version) FROM voyager.schema_version", &[])
        .map_err(wrap)?
        .and_then(|r| r.get(0));
    let from = found.unwrap_or(0);
    if from > SCHEMA_VERSION {
        return Err(newer(url, from));
    }
    if from < 1 {
        tx.batch_execute(V1).map_err(wrap)?;
    }
    if from < 2 {
        tx.batch_execute(V2).map_err(wrap)?;
    }
    if from < 3 {
        tx.batch_execute(V3).map_err(wrap)?;
    }
    if from < 4 {
        tx.batch_execute(V4).map_err(wrap)?;
    }
    // (Later versions add their steps here.)
    if from < SCHEMA_VERSION {
        tx.execute("DELETE FROM voyager.schema_version", &[])
            .map_err(wrap)?;
        tx.execute(
            "INSERT INTO voyager.schema_version (version) VALUES ($1)",
            &[&SCHEMA_VERSION],
        )
        .map_err(wrap)?;
    }
    tx.commit().map_err(wrap)?;
    Ok(client)
}

fn newer(url: &str, version: i32) -> StoreError {
    StoreError {
        code: codes::STORE_NEWER,
        message: format!(
            "the PostgreSQL store {} was written by a newer Voyager (store schema {version}; this one knows up to {SCHEMA_VERSION})",
            display_url(url)
        ),
        hint: Some("run it with the Voyager that made it, or a newer one".into()),
        exit: EXIT_UNUSABLE,
    }
}

fn schema_version(client: &mut Client) -> Result<Option<i32>, postgres::Error> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('voyager.schema_version') IS NOT NULL",
            &[],
        )?
        .get(0);
    if !exists {
        return Ok(None);
    }
    Ok(client
        .query_one("SELECT max(version) FROM voyager.schema_version", &[])?
        .get(0))
}

pub fn latest_run(client: &mut Client) -> Result<Option<RunInfo>, postgres::Error> {
    Ok(client
        .query_opt(
            "SELECT id, script, source_hash, started, finished FROM voyager.runs ORDER BY id DESC LIMIT 1",
            &[],
        )?
        .map(|r| RunInfo {
            id: r.get(0),
            script: r.get(1),
            source_hash: r.get(2),
            started: r.get(3),
            finished: r.get(4),
        }))
}
