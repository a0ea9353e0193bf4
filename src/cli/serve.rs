//! `voyager serve script.vy`: the script loaded as `run` loads it, then
//! the engine and an HTTP API beside it (see `crate::server`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::args::{parse_duration, parse_size, ClockChoice};
use super::{exit, report, store, summary_line};
use crate::engine::clock::Clock;
use crate::engine::Config;
use crate::runtime::{LoadError, Options, Output, Voyager};
use crate::server::PgQueue;
use crate::store::pg::{PgOptions, PgShared, PgStore};

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// The script: its actions are what requests may call.
    pub file: PathBuf,
    /// The address to listen on (port 0: any free port; the address is
    /// printed on stderr). Other than loopback it needs --token.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7700")]
    pub listen: SocketAddr,
    /// Every request must carry `Authorization: Bearer TOKEN` (default:
    /// $VOYAGER_TOKEN).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "VOYAGER_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
    /// Native actions requests may call by name, e.g. `sh,http` (by
    /// default only the script's own actions).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub allow_native: Vec<String>,
    /// Keep the run in a SQLite file (as `run --store`): stopped, the
    /// server resumes its unfinished items when started again. Or work a
    /// PostgreSQL queue (postgres://USER@HOST:PORT/DATABASE) as one
    /// worker more: requests enqueue into it.
    #[arg(long, value_name = "FILE|URL")]
    pub store: Option<PathBuf>,
    /// With --store: commit in groups (`interval`) or after every step.
    #[arg(long, value_enum, default_value_t = store::SyncChoice::Interval, requires = "store")]
    pub sync: store::SyncChoice,
    /// With --store: start a new run even if the store holds one (not
    /// with a PostgreSQL queue).
    #[arg(long, requires = "store")]
    pub fresh: bool,
    /// Stop a request's expression, and any one action, after this many
    /// loop iterations and calls.
    #[arg(long, value_name = "N", default_value_t = 10_000_000)]
    pub max_instructions: u64,
    /// The largest request body, e.g. 64KiB or 8MiB.
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = parse_size)]
    pub max_body: u64,
    /// The memory a request's expression may take while it is evaluated
    /// (past it: 400 with E0211).
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_request_memory: u64,
    /// Requests waiting for the engine at most; past it they get 503 with
    /// Retry-After.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_pending: u32,
    /// How long `POST /v1/call/{action}` waits for its item to finish.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub call_timeout: i64,
    /// Finished items remembered for `GET /v1/items` (the oldest are
    /// forgotten past it).
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub keep: usize,
    /// `virtual` starts at the Unix epoch and skips waits.
    #[arg(long, value_enum, default_value_t = ClockChoice::Real)]
    pub clock: ClockChoice,
    /// Attempts in all for a call that fails retryably.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_attempts: u32,
    /// The first retry wait (doubling, capped at 30s), e.g. 100ms or 2s.
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_duration)]
    pub backoff: i64,
    /// The script's parameters, after `--`, as for `voyager run`.
    #[arg(last = true, value_name = "WORDS")]
    pub params: Vec<String>,
}

pub fn serve(args: &ServeArgs, color: bool) -> u8 {
    if !args.listen.ip().is_loopback() && args.token.as_deref().is_none_or(str::is_empty) {
        eprintln!(
            "error[{}]: listening on {} (not loopback) needs --token or VOYAGER_TOKEN: every request must then carry it",
            crate::codes::SERVE_NEEDS_TOKEN,
            args.listen
        );
        return exit::USAGE;
    }
    let (name, text, dir) = match super::read_script(&args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let options = crate::server::Options {
        listen: args.listen,
        token: args.token.clone().filter(|t| !t.is_empty()),
        max_body: usize::try_from(args.max_body).unwrap_or(usize::MAX),
        call_timeout: std::time::Duration::from_millis(args.call_timeout as u64),
        max_pending: args.max_pending as usize,
        setup: crate::server::Setup {
            max_request_memory: usize::try_from(args.max_request_memory).unwrap_or(usize::MAX),
            allow_native: args.allow_native.clone(),
            max_instructions: Some(args.max_instructions),
            keep: args.keep.max(1),
        },
    };
    crate::engine::jobs::become_subreaper();
    let args = args.clone();
    let build = Box::new(move || load(&args, &name, &text, dir, color));
    match crate::server::serve(options, build) {
        Ok(()) => exit::OK,
        Err(failed) => {
            if !failed.message.is_empty() {
                eprintln!("{}", failed.message);
            }
            failed.status
        }
    }
}

/// Loads the script (on the engine thread), with its store if any.
fn load(
    args: &ServeArgs,
    name: &str,
    text: &str,
    dir: Option<PathBuf>,
    color: bool,
) -> Result<(Voyager, Option<PgQueue>), u8> {
    let mut pg = None;
    let mut stored = match &args.store {
        Some(path) if store::pg_url(path).is_some() => {
            let url = store::pg_url(path).unwrap_or_default();
            if args.fresh {
                eprintln!(
                    "error: --fresh is for a SQLite store; a PostgreSQL queue is shared by its workers (`voyager requeue`, `voyager cancel` and `voyager status` manage it)"
                );
                return Err(exit::USAGE);
            }
            // One worker more on the shared queue, as `voyager worker`.
            let options = PgOptions {
                sync: args.sync.into(),
                ..PgOptions::default()
            };
            let opened = PgStore::open(url, options).map_err(|e| store::fail(&e))?;
            pg = Some((url.to_string(), opened));
            None
        }
        Some(path) => Some(store::open(path, args.sync, args.fresh, name, text)?),
        None => None,
    };
    let config = Config {
        max_attempts: args.max_attempts,
        backoff: args.backoff,
        ..Config::default()
    };
    let clock = match args.clock {
        ClockChoice::Real => Clock::real(),
        ClockChoice::Virtual => Clock::virtual_at_epoch(),
    };
    let mut v = Voyager::new(Options {
        clock,
        config,
        output: Output::stdout(),
    });
    // A worker on a shared queue: the top level runs, but the messages it
    // makes are not enqueued (each worker would add them again).
    v.enqueue_top_level = !stored.as_ref().is_some_and(|s| s.resume) && pg.is_none();
    if let Some((_, opened)) = &mut pg {
        store::load_pg_state(&mut v, opened)?;
    }
    if let Some(opened) = &mut stored {
        store::load_state(&mut v, opened)?;
    }
    v.engine.vm.fuel_limit = Some(args.max_instructions);
    // Requests name globals by name (JSON messages' functions, the globals
    // a request may not assign): the whole prelude, as before it was lazy.
    v.load_prelude();
    let loaded = match v.compile(name, text, dir.as_deref()) {
        // The words after `--` are bound before the top level runs; a
        // missing one (or `-- --help`) ends here, before the server starts.
        Ok(units) => match super::params_status(&mut v, &args.params, name, color) {
            Some(status) => return Err(status),
            None => v.install_units(units),
        },
        Err(diags) => Err(LoadError::Compile(diags)),
    };
    // The server runs until stopped: the script's schedules fire.
    v.engine.schedules_on = true;
    match loaded {
        Ok(()) => {}
        Err(LoadError::Compile(diags)) => {
            report(&v, &diags, color);
            if let Some(line) = summary_line(&diags) {
                eprintln!("{line}");
            }
            return Err(exit::COMPILE);
        }
        Err(LoadError::Runtime(d)) => {
            v.flush();
            report(&v, &[*d], color);
            return Err(exit::DEAD_LETTERS);
        }
    }
    if args.clock == ClockChoice::Virtual {
        if let Some(s) = v.engine.schedules().next() {
            // Virtual time would jump from firing to firing, as fast as
            // it can, for as long as the server runs.
            eprintln!(
                "error: voyager serve --clock virtual cannot fire the script's schedules (`{}`…): they would fire without end; serve it on the real clock",
                s.name
            );
            return Err(exit::USAGE);
        }
    }
    let warnings = v.warnings.clone();
    report(&v, &warnings, color);
    if let Some(opened) = stored {
        // (A PostgreSQL store is not opened by store::open above: attach
        // gives none back.)
        store::attach(&mut v, opened)?;
    }
    let queue = pg.map(|(url, opened)| {
        let shared = PgShared(std::rc::Rc::new(std::cell::RefCell::new(opened)));
        v.engine.set_store(Box::new(shared.clone()), false);
        crate::worker::share(&mut v, &shared);
        PgQueue {
            shared,
            enqueuer: crate::store::pg::report::Enqueuer::new(&url),
            url,
            script: name.to_string(),
            hash: crate::store::source_hash(text),
        }
    });
    Ok((v, queue))
}
