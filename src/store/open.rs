//! Opening a store: the lock, the checks that a file is a store this
//! Voyager can use (before anything is written to it), the schema and its
//! upgrades, and the errors a store gives.

use std::os::unix::io::AsRawFd;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, OptionalExtension};

use super::RunInfo;
use crate::codes;

/// Marks a SQLite database as a Voyager store (`PRAGMA application_id`):
/// "Voyg".
const APPLICATION_ID: i64 = 0x566f_7967;

/// The schema this Voyager writes (`PRAGMA user_version`).
/// 2: `runs.recovered`, the failures `catch` handlers recovered.
/// 3: `items.priority`, an item's own priority (it steps before ready items
///    of lower priority, across a restart too); `items.grp` and `groups`,
///    the group (message entered from outside) each item belongs to, with
///    its calls done and dead (`voyager status`).
pub const SCHEMA_VERSION: i64 = 3;

const SCHEMA: &str = "
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    script TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    started INTEGER NOT NULL,
    finished INTEGER,
    steps INTEGER NOT NULL DEFAULT 0,
    run_ms INTEGER NOT NULL DEFAULT 0,
    next_id INTEGER NOT NULL DEFAULT 0,
    unclaimed INTEGER NOT NULL DEFAULT 0,
    recovered INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    due INTEGER,
    since INTEGER NOT NULL,
    message TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    grp INTEGER
);
CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    dead INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE topics (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message TEXT NOT NULL,
    code TEXT NOT NULL,
    error TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    at INTEGER NOT NULL
);
CREATE TABLE state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

/// Why a store cannot be used, with its code and the exit status.
#[derive(Debug)]
pub struct StoreError {
    pub code: &'static str,
    pub message: String,
    pub hint: Option<String>,
    pub exit: u8,
}

/// Exit status of a store that cannot be read or used (as an unreadable
/// script).
pub const EXIT_UNUSABLE: u8 = 66;
/// Exit status of a store another process is using (sysexits' EX_TEMPFAIL:
/// try again later).
pub const EXIT_LOCKED: u8 = 75;
/// Exit status when the script no longer matches its stored items.
pub const EXIT_SCRIPT_CHANGED: u8 = 65;

impl StoreError {
    fn new(code: &'static str, message: String, hint: Option<&str>, exit: u8) -> StoreError {
        StoreError {
            code,
            message,
            hint: hint.map(str::to_string),
            exit,
        }
    }

    pub fn corrupt(path: &Path, why: &str) -> StoreError {
        StoreError::new(
            codes::STORE_UNREADABLE,
            format!("{} is damaged: {why}", path.display()),
            Some("the file was left as it was; keep a copy before trying sqlite3's .recover on it"),
            EXIT_UNUSABLE,
        )
    }

    pub fn sqlite(path: &Path, e: rusqlite::Error) -> StoreError {
        use rusqlite::ErrorCode;
        let code = e.sqlite_error_code();
        match code {
            Some(ErrorCode::NotADatabase) => StoreError::new(
                codes::STORE_UNREADABLE,
                format!(
                    "{} is not a Voyager store (not a SQLite database)",
                    path.display()
                ),
                Some("give --store a new file name, or the file a run made"),
                EXIT_UNUSABLE,
            ),
            Some(ErrorCode::DatabaseCorrupt) => StoreError::corrupt(path, &e.to_string()),
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => locked(path),
            _ => StoreError::new(
                codes::STORE_UNREADABLE,
                format!("cannot use the store {}: {e}", path.display()),
                None,
                EXIT_UNUSABLE,
            ),
        }
    }

    pub fn script_changed(store: &str, problems: &[String]) -> StoreError {
        let mut message = format!(
            "the script changed since the run in {store} began, and its unfinished items no longer fit it:"
        );
        for p in problems {
            message.push_str("\n  ");
            message.push_str(p);
        }
        StoreError::new(
            codes::STORE_SCRIPT_CHANGED,
            message,
            Some(
                "put those actions back as they were to finish the run, or start anew with --fresh",
            ),
            EXIT_SCRIPT_CHANGED,
        )
    }

    /// `error[E0400]: …` and the hint, for standard error.
    pub fn render(&self) -> String {
        let mut s = format!("error[{}]: {}", self.code, self.message);
        if let Some(h) = &self.hint {
            s.push_str("\n  help: ");
            s.push_str(h);
        }
        s
    }
}

fn locked(path: &Path) -> StoreError {
    StoreError::new(
        codes::STORE_LOCKED,
        format!("{} is in use by another Voyager process", path.display()),
        Some("wait for it to finish (voyager status reads a store in use), or use another file"),
        EXIT_LOCKED,
    )
}

/// Opens a store: for a run (`write`: created if missing, locked, upgraded)
/// or to read (`voyager status`: never created, never written).
pub fn open(path: &Path, write: bool) -> Result<(Connection, std::fs::File), StoreError> {
    let io = |e: std::io::Error| {
        StoreError::new(
            codes::STORE_UNREADABLE,
            format!("cannot open the store {}: {e}", path.display()),
            None,
            EXIT_UNUSABLE,
        )
    };
    if path.is_dir() {
        return Err(io(std::io::Error::other("it is a directory")));
    }
    let lock = if write {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?
    } else {
        std::fs::File::open(path).map_err(io)?
    };
    if write {
        // SAFETY: flock on a descriptor this function owns; it is released
        // when the file closes, or the process dies.
        let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            return Err(locked(path));
        }
    }
    let flags = if write {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags).map_err(|e| StoreError::sqlite(path, e))?;
    let wrap = |e| StoreError::sqlite(path, e);
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(wrap)?;
    // Read before anything is written: a file that is not a store is
    // refused untouched.
    let app: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(wrap)?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(wrap)?;
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .map_err(wrap)?;
    let empty = app == 0 && version == 0 && tables == 0;
    if !empty && app != APPLICATION_ID {
        return Err(StoreError::new(
            codes::STORE_UNREADABLE,
            format!(
                "{} is a SQLite database, but not a Voyager store",
                path.display()
            ),
            Some("give --store a new file name, or the file a run made"),
            EXIT_UNUSABLE,
        ));
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::new(
            codes::STORE_NEWER,
            format!(
                "{} was written by a newer Voyager (store schema {version}; this one knows up to {SCHEMA_VERSION})",
                path.display()
            ),
            Some("run it with the Voyager that made it, or a newer one"),
            EXIT_UNUSABLE,
        ));
    }
    if empty && !write {
        return Err(StoreError::new(
            codes::STORE_UNREADABLE,
            format!("{} is not a Voyager store (it is empty)", path.display()),
            None,
            EXIT_UNUSABLE,
        ));
    }
    if write {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(wrap)?;
        // A commit is on disk when it returns: a committed step is never
        // run again, even after a power loss.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(wrap)?;
        // 64 MiB of page cache (the default is 2 MiB): a group that puts
        // tens of thousands of items (a large `conc` split) would otherwise
        // spill pages mid-transaction and read them back.
        conn.pragma_update(None, "cache_size", -65536)
            .map_err(wrap)?;
        if version < SCHEMA_VERSION {
            upgrade(&conn, version).map_err(wrap)?;
        }
    }
    // Any damage the header checks missed shows here, before the run.
    let ok: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(wrap)?;
    if ok != "ok" {
        return Err(StoreError::corrupt(path, &ok));
    }
    Ok((conn, lock))
}

/// Brings a store from schema `from` to the current one, in one transaction.
fn upgrade(conn: &Connection, from: i64) -> rusqlite::Result<()> {
    let mut sql = String::from("BEGIN IMMEDIATE;");
    if from < 1 {
        sql.push_str(SCHEMA);
        sql.push_str(&format!("PRAGMA application_id = {APPLICATION_ID};"));
    }
    if (1..2).contains(&from) {
        sql.push_str("ALTER TABLE runs ADD COLUMN recovered INTEGER NOT NULL DEFAULT 0;");
    }
    if (1..3).contains(&from) {
        sql.push_str("ALTER TABLE items ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;");
        sql.push_str("ALTER TABLE items ADD COLUMN grp INTEGER;");
        sql.push_str(
            "CREATE TABLE groups (id INTEGER PRIMARY KEY, label TEXT NOT NULL, \
             done INTEGER NOT NULL DEFAULT 0, dead INTEGER NOT NULL DEFAULT 0);",
        );
    }
    // (Later versions add their steps here.)
    sql.push_str(&format!("PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"));
    conn.execute_batch(&sql)
}

pub fn latest_run(conn: &Connection) -> rusqlite::Result<Option<RunInfo>> {
    conn.query_row(
        "SELECT id, script, source_hash, started, finished FROM runs ORDER BY id DESC LIMIT 1",
        [],
        |r| {
            Ok(RunInfo {
                id: r.get(0)?,
                script: r.get(1)?,
                source_hash: r.get(2)?,
                started: r.get(3)?,
                finished: r.get(4)?,
            })
        },
    )
    .optional()
}

/// A hash of a script's text (FNV-1a, 64 bits, as hex): whether the script
/// changed since its run began.
pub fn source_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}
