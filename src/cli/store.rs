//! The command line's side of durable runs: `run --store` (open, resume or
//! start, attach to the engine) and `status`, `dead-letters`, `requeue`.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::exit;
use crate::runtime::Voyager;
use crate::store::pg::{self, PgOptions, PgShared, PgStore};
use crate::store::{report, source_hash, SqliteStore, StoreError, Sync};

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq, Default)]
pub enum SyncChoice {
    /// Commit in groups: after 10ms or 1,024 steps, or once the disk has
    /// written the last group.
    #[default]
    Interval,
    /// Commit every step before its results are seen.
    Step,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// The store.
    pub store: PathBuf,
    /// One JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RequeueArgs {
    /// The store.
    pub store: PathBuf,
    /// The dead letters to requeue, by the ids `voyager dead-letters` shows.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub ids: Vec<i64>,
    /// Requeue every dead letter.
    #[arg(long)]
    pub all: bool,
}

#[derive(Args, Debug)]
pub struct CancelArgs {
    /// The store (a SQLite file).
    pub store: PathBuf,
    /// The unfinished items to cancel, by the ids `voyager serve` shows
    /// as an item's `live` parts.
    #[arg(required = true)]
    pub ids: Vec<i64>,
}

/// A store opened for `run --store`, and whether its run resumes.
pub struct Opened {
    store: Kind,
    pub resume: bool,
    script: String,
    hash: String,
}

enum Kind {
    Sqlite(Box<SqliteStore>),
    Pg(Box<PgStore>),
}

/// The URL, when `--store` names a PostgreSQL database.
pub fn pg_url(store: &Path) -> Option<&str> {
    store.to_str().filter(|s| pg::is_url(s))
}

/// A store as messages name it (a URL without its password).
pub fn shown(store: &Path) -> String {
    match pg_url(store) {
        Some(url) => pg::display_url(url),
        None => store.display().to_string(),
    }
}

pub(super) fn fail(e: &StoreError) -> u8 {
    eprintln!("{}", e.render());
    e.exit
}

/// Opens the store for a run. `Err` is the exit status (a finished run
/// is status 0: there is nothing to do).
pub fn open(
    path: &Path,
    sync: SyncChoice,
    fresh: bool,
    script: &str,
    text: &str,
) -> Result<Opened, u8> {
    let sync = Sync::from(sync);
    let (store, latest, shown) = match pg_url(path) {
        Some(url) => {
            let options = PgOptions {
                sync,
                ..PgOptions::default()
            };
            let mut store = PgStore::open(url, options).map_err(|e| fail(&e))?;
            let latest = store.latest_run().map_err(|e| fail(&e))?;
            (Kind::Pg(Box::new(store)), latest, pg::display_url(url))
        }
        None => {
            let store = SqliteStore::open(path, sync).map_err(|e| fail(&e))?;
            let latest = store.latest_run().map_err(|e| fail(&e))?;
            (
                Kind::Sqlite(Box::new(store)),
                latest,
                path.display().to_string(),
            )
        }
    };
    let hash = source_hash(text);
    let resume = match &latest {
        Some(run) if !fresh => {
            if let Some(at) = run.finished {
                let mut when = String::new();
                crate::vm::value::write_time(&mut when, at);
                eprintln!(
                    "note: the run in {shown} ({}) finished at {when}; nothing to resume (--fresh starts a new run; `voyager status {shown}` shows it)",
                    run.script,
                );
                return Err(exit::OK);
            }
            if run.source_hash != hash {
                eprintln!(
                    "note: {script} changed since the run in {shown} began; resuming its unfinished items"
                );
            }
            true
        }
        _ => false,
    };
    Ok(Opened {
        store,
        resume,
        script: script.to_string(),
        hash,
    })
}

impl From<SyncChoice> for Sync {
    fn from(choice: SyncChoice) -> Sync {
        match choice {
            SyncChoice::Interval => Sync::Interval,
            SyncChoice::Step => Sync::Step,
        }
    }
}

/// Loads a PostgreSQL store's durable state into the engine (a worker's,
/// or a server's that works the shared queue).
pub fn load_pg_state(v: &mut Voyager, pg: &mut PgStore) -> Result<(), u8> {
    let stored = pg.load_state().map_err(|e| fail(&e))?;
    let mut state = v.engine.state.borrow_mut();
    for (k, j) in stored {
        state.load(k, j);
    }
    Ok(())
}

/// Loads the stored durable state (before the script's top level runs).
pub fn load_state(v: &mut Voyager, opened: &mut Opened) -> Result<(), u8> {
    let mut state = v.engine.state.borrow_mut();
    state.recording = true;
    if opened.resume {
        let stored = match &mut opened.store {
            Kind::Sqlite(s) => s.load_state(),
            Kind::Pg(s) => s.load_state(),
        };
        for (k, j) in stored.map_err(|e| fail(&e))? {
            state.load(k, j);
        }
    }
    Ok(())
}

/// Hands the store to the engine: a resumed run's items are put back (after
/// checking that the script still has every action they name); a new run
/// is recorded with its top level's items, in one commit. A PostgreSQL
/// store is returned, for [`crate::worker::drive`] to take its items.
pub fn attach(v: &mut Voyager, opened: Opened) -> Result<Option<PgShared>, u8> {
    let Opened {
        store,
        resume,
        script,
        hash,
    } = opened;
    if resume {
        // The stored items name functions by name, the prelude's included.
        v.load_prelude();
    }
    let mut store = match store {
        Kind::Sqlite(s) => *s,
        Kind::Pg(mut s) => {
            if resume {
                let lookup = |name: &str| v.global_named(name);
                s.check_fits(&lookup).map_err(|e| fail(&e))?;
            } else {
                s.begin_run(&script, &hash);
            }
            let shared = PgShared(std::rc::Rc::new(std::cell::RefCell::new(*s)));
            v.engine.set_store(Box::new(shared.clone()), !resume);
            crate::worker::share(v, &shared);
            v.engine.commit_top_level();
            if let Some(why) = v.engine.store_mut().and_then(|s| s.failure()) {
                eprintln!("error[{}]: {why}", crate::codes::STORE_FAILED);
                return Err(exit::OUTPUT);
            }
            return Ok(Some(shared));
        }
    };
    if resume {
        let resumed = {
            let lookup = |name: &str| v.global_named(name);
            store.load(&lookup).map_err(|e| fail(&e))?
        };
        v.engine.resume(resumed);
        v.engine.set_store(Box::new(store), false);
    } else {
        store.begin_run(&script, &hash);
        v.engine.set_store(Box::new(store), true);
        v.engine.commit_top_level();
    }
    if let Some(why) = v.engine.store_mut().and_then(|s| s.failure()) {
        eprintln!("error[{}]: {why}", crate::codes::STORE_FAILED);
        return Err(exit::OUTPUT);
    }
    Ok(None)
}

pub fn status(args: &StatusArgs) -> u8 {
    let status = match pg_url(&args.store) {
        Some(url) => pg::report::status(url),
        None => report::status(&args.store),
    };
    match status {
        Ok(s) => {
            if args.json {
                print!("{}\n", s.json);
            } else {
                print!("{}", s.text);
            }
            exit::OK
        }
        Err(e) => fail(&e),
    }
}

pub fn dead_letters(args: &StatusArgs) -> u8 {
    let letters = match pg_url(&args.store) {
        Some(url) => pg::report::dead_letters(url),
        None => report::dead_letters(&args.store),
    };
    let letters = match letters {
        Ok(l) => l,
        Err(e) => return fail(&e),
    };
    if args.json {
        let all: Vec<serde_json::Value> = letters.iter().map(|l| l.to_json()).collect();
        print!("{}\n", serde_json::Value::Array(all));
        return exit::OK;
    }
    if letters.is_empty() {
        print!("no dead letters in {}\n", shown(&args.store));
    }
    for l in &letters {
        let mut when = String::new();
        crate::vm::value::write_time(&mut when, l.at);
        print!(
            "#{} [{}] after {} attempt(s), {when}: {}\n    {}\n",
            l.id, l.code, l.attempts, l.error, l.message
        );
    }
    exit::OK
}

pub fn requeue(args: &RequeueArgs) -> u8 {
    let ids = (!args.all).then_some(args.ids.as_slice());
    let requeued = match pg_url(&args.store) {
        Some(url) => pg::report::requeue(url, ids),
        None => report::requeue(&args.store, ids),
    };
    match requeued {
        Ok((done, missing)) => {
            let store = shown(&args.store);
            for id in &missing {
                eprintln!("error: {store} has no dead letter #{id}");
            }
            print!(
                "requeued {} dead letter(s) in {store}; `voyager run --store {store} SCRIPT` runs them\n",
                done.len(),
            );
            some_missing(&missing)
        }
        Err(e) => fail(&e),
    }
}

pub fn cancel(args: &CancelArgs) -> u8 {
    let cancelled = match pg_url(&args.store) {
        Some(url) => pg::report::cancel(url, &args.ids),
        None => report::cancel(&args.store, &args.ids),
    };
    match cancelled {
        Ok((done, missing)) => {
            let store = shown(&args.store);
            for id in &missing {
                eprintln!("error: {store} has no unfinished item #{id}");
            }
            print!("cancelled {} item(s) in {store}\n", done.len());
            some_missing(&missing)
        }
        Err(e) => fail(&e),
    }
}

/// The status of a command given ids: 1 if some were not found.
fn some_missing(missing: &[i64]) -> u8 {
    if missing.is_empty() {
        exit::OK
    } else {
        exit::DEAD_LETTERS
    }
}
