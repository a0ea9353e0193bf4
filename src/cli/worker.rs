//! Many workers on one queue (a PostgreSQL store): `voyager worker` works
//! the queue, `voyager enqueue` adds to it; the loop a worker runs is
//! [`crate::worker::drive`].

use std::path::PathBuf;

use clap::Args;

use super::{exit, read_script, report, signals, store};
use crate::engine::clock::Clock;
use crate::engine::serial;
use crate::engine::{Config, Finish};
use crate::runtime::{LoadError, Options, Output, Voyager};
use crate::store::pg::{self, PgOptions, PgShared, PgStore};
use crate::vm::value::Value;

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// The script whose actions the queue's items call (its top level runs,
    /// but the messages it makes are not enqueued).
    pub file: PathBuf,
    /// The PostgreSQL store: postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// Exit once the store holds no unfinished item (none queued, none on
    /// a timer, none held by another worker), instead of waiting for more.
    #[arg(long)]
    pub until_idle: bool,
    /// No LISTEN/NOTIFY and no session locks: idle workers poll once a
    /// second, and only leases rescue items (for PgBouncer's transaction
    /// pooling).
    #[arg(long)]
    pub poll_only: bool,
    /// How long a taken item is leased to this worker (renewed every third
    /// of it while the worker lives); another worker rescues it after.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = super::args::parse_lease)]
    pub lease: i64,
    /// Attempts per call before it is a dead letter (1 = no retries).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_attempts: u32,
    /// Most native jobs in flight at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// A topic's pass runs before more work is taken once the topic holds
    /// this many messages (whichever worker routed them).
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// Ready items taken at once: 1 shares long-running items out among
    /// the workers one at a time, instead of a first worker taking them
    /// all.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(i64).range(1..=10_000))]
    pub take: i64,
}

#[derive(Args, Debug)]
pub struct EnqueueArgs {
    /// The script whose actions the message calls.
    pub file: PathBuf,
    /// The message: an expression of the script's, as `call(work, 1)`.
    pub expression: String,
    /// The PostgreSQL store: postgres://USER@HOST:PORT/DATABASE.
    #[arg(long, value_name = "URL")]
    pub store: String,
    /// Refuse the message (exit status 3) while an unfinished item has
    /// the same KEY.
    #[arg(long, value_name = "KEY")]
    pub unique: Option<String>,
    /// Workers take items of a higher priority first (-100 to 100; 0 by
    /// default), first-in first-out within one.
    #[arg(long, value_name = "N", default_value_t = 0, allow_negative_numbers = true,
          value_parser = clap::value_parser!(i16).range(-100..=100))]
    pub priority: i16,
}

fn not_pg(store: &str) -> Option<u8> {
    if pg::is_url(store) {
        return None;
    }
    eprintln!(
        "error: `{store}` is not a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE); many workers need a PostgreSQL store"
    );
    Some(exit::USAGE)
}

/// Compiles a script whose top-level messages are not enqueued.
fn load(
    file: &std::path::Path,
    config: Config,
    color: bool,
) -> Result<(Voyager, String, String), u8> {
    let (name, text, dir) = read_script(file)?;
    let mut v = Voyager::new(Options {
        clock: Clock::real(),
        config,
        output: Output::stdout(),
    });
    v.enqueue_top_level = false;
    let loaded = match v.compile(&name, &text, dir.as_deref()) {
        Ok(units) => v.install_units(units),
        Err(diags) => Err(LoadError::Compile(diags)),
    };
    match loaded {
        Ok(()) => Ok((v, name, text)),
        Err(LoadError::Compile(diags)) => {
            report(&v, &diags, color);
            Err(exit::COMPILE)
        }
        Err(LoadError::Runtime(d)) => {
            v.flush();
            report(&v, &[*d], color);
            Err(exit::DEAD_LETTERS)
        }
    }
}

pub fn worker(args: &WorkerArgs, color: bool) -> u8 {
    if let Some(code) = not_pg(&args.store) {
        return code;
    }
    let config = Config {
        max_attempts: args.max_attempts,
        batch: args.batch as usize,
        ..Config::default()
    };
    let config = Config {
        jobs: args.jobs.map_or(config.jobs, |n| n as usize),
        ..config
    };
    crate::engine::jobs::become_subreaper();
    let options = PgOptions {
        lease_ms: args.lease,
        poll_only: args.poll_only,
        take: args.take,
        ..PgOptions::default()
    };
    let mut pg = match PgStore::open(&args.store, options) {
        Ok(s) => s,
        Err(e) => return store::fail(&e),
    };
    let (mut v, _, _) = match load(&args.file, config, color) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    if let Err(code) = store::load_pg_state(&mut v, &mut pg) {
        return code;
    }
    v.set_interrupt(signals::install());
    let shared = PgShared(std::rc::Rc::new(std::cell::RefCell::new(pg)));
    v.engine.set_store(Box::new(shared.clone()), false);
    // A worker runs until stopped: its schedules fire (each firing on one
    // worker). With --until-idle it ends when the queue is empty, so they
    // do not.
    v.engine.schedules_on = !args.until_idle;
    crate::worker::share(&mut v, &shared);
    let finish = crate::worker::drive(&mut v, &shared, args.until_idle, true);
    v.flush();
    let lost = shared.0.borrow().lost;
    if lost > 0 {
        eprintln!(
            "warning: {lost} item(s) were rescued by other workers while this one held them (its leases ran out: raise --lease?)"
        );
    }
    match finish {
        Finish::StoreFailed(why) => {
            eprintln!("error[{}]: {why}", crate::codes::STORE_FAILED);
            exit::OUTPUT
        }
        Finish::Interrupted => {
            v.engine.end_jobs();
            signals::exit_status(signals::received().unwrap_or(libc::SIGINT))
        }
        _ => super::output_status(&mut v, exit::OK),
    }
}

pub fn enqueue(args: &EnqueueArgs, color: bool) -> u8 {
    if let Some(code) = not_pg(&args.store) {
        return code;
    }
    let (mut v, name, text) = match load(&args.file, Config::default(), color) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let message = match v.eval("<enqueue>", &args.expression) {
        Ok(Value::Message(m)) => m,
        Ok(other) => {
            eprintln!(
                "error[{}]: `{}` is {}, not a message",
                crate::codes::ENQUEUED_INVALID,
                args.expression,
                other.repr()
            );
            return exit::USAGE;
        }
        Err(LoadError::Compile(diags)) => {
            report(&v, &diags, color);
            return exit::COMPILE;
        }
        Err(LoadError::Runtime(d)) => {
            report(&v, &[*d], color);
            return exit::DEAD_LETTERS;
        }
    };
    let json = match serial::message_to_json(&message) {
        Ok(j) => serial::to_line(&j),
        Err(e) => {
            eprintln!(
                "error[{}]: the message cannot be stored: {e}",
                crate::codes::ENQUEUED_INVALID
            );
            return exit::USAGE;
        }
    };
    let hash = crate::store::source_hash(&text);
    match pg::enqueue(
        &args.store,
        &name,
        &hash,
        &json,
        args.unique.as_deref(),
        args.priority,
    ) {
        Ok(Some(id)) => {
            print!("enqueued item #{id}\n");
            exit::OK
        }
        Ok(None) => {
            eprintln!(
                "error[{}]: an unfinished item already has the unique key \"{}\"; nothing was enqueued\n  help: the key is free again once that item finishes",
                crate::codes::UNIQUE_TAKEN,
                args.unique.as_deref().unwrap_or_default()
            );
            exit::UNIQUE_TAKEN
        }
        Err(e) => store::fail(&e),
    }
}
