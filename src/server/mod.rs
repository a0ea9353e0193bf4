//! `voyager serve`: the engine on its own thread, an HTTP server (axum on
//! a one-thread tokio runtime) beside it, and channels between them. The
//! HTTP side hands each request to the engine thread as a closure and
//! awaits its answer; the engine thread runs the engine step by step and
//! takes requests between steps and while it waits for a timer.

mod engine;
mod guard;
mod http;
mod track;

use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value as Json};

use crate::runtime::Voyager;
pub use engine::{PgQueue, Setup};

/// Exit statuses (as the command line documents them).
mod status {
    /// The address is in use or cannot be bound (try again later).
    pub const LISTEN: u8 = 75;
    pub const SOFTWARE: u8 = 70;
    /// The store could not be written.
    pub const OUTPUT: u8 = 74;
}

/// The states an item is in, as the API, `/metrics` and the dashboard
/// name them.
const STATES: &[&str] = &[
    "queued",
    "timer",
    "retry",
    "job",
    "resource",
    "topic",
    "done",
    "dead",
    "cancelled",
];

/// How the server is run.
pub struct Options {
    pub listen: SocketAddr,
    /// Every request must carry it as `Authorization: Bearer …`.
    pub token: Option<String>,
    /// Request bodies larger than this are refused (413).
    pub max_body: usize,
    /// How long `POST /v1/call` waits for its item to finish.
    pub call_timeout: Duration,
    /// Requests waiting for the engine at most (past it: 503).
    pub max_pending: usize,
    pub setup: Setup,
}

/// An error as the API answers it: a status and a JSON body with the code,
/// message, place (for an expression) and hint; never more than that.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub hint: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            line: None,
            column: None,
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> ApiError {
        self.hint = Some(hint.into());
        self
    }

    pub fn to_json(&self) -> Json {
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "line": self.line,
                "column": self.column,
                "hint": self.hint,
            }
        })
    }
}

/// What the engine thread starts with: the instance, and the PostgreSQL
/// queue it works (with `--store postgres://…`).
pub type Built = (Voyager, Option<PgQueue>);

/// Why the server could not start, or stopped: the message and the exit
/// status.
pub struct Failed {
    pub message: String,
    pub status: u8,
}

/// Serves until SIGINT or SIGTERM. `build` makes the instance on the engine
/// thread (it is not `Send`), with the PostgreSQL queue it works if any;
/// its `Err` is an exit status (it reported why).
/// Returns the exit status.
pub fn serve(
    options: Options,
    build: Box<dyn FnOnce() -> Result<Built, u8> + Send>,
) -> Result<(), Failed> {
    let listener = std::net::TcpListener::bind(options.listen).map_err(|e| Failed {
        message: format!(
            "error[{}]: cannot listen on {}: {e}",
            crate::codes::SERVE_LISTEN,
            options.listen
        ),
        status: status::LISTEN,
    })?;
    let (to_engine, requests) = mpsc::sync_channel::<engine::Job>(options.max_pending);
    let (ready_tx, ready_rx) = mpsc::channel::<Result<(), u8>>();
    let setup = options.setup;
    let wake = to_engine.clone();
    let stopper = to_engine.clone();
    // The stack the command line's thread has (cli::main): the parser's
    // and compiler's depth limits are sized for it, and a request's
    // expression is walked and dropped on this thread.
    let engine_thread = std::thread::Builder::new()
        .stack_size(256 << 20)
        .name("voyager-engine".into())
        .spawn(move || {
            let (v, pg) = match build() {
                Ok(built) => built,
                Err(status) => {
                    let _ = ready_tx.send(Err(status));
                    return None;
                }
            };
            if let Some(q) = &pg {
                engine::listen(q.url.clone(), wake);
            } else {
                drop(wake);
            }
            let side = engine::Side::new(v, setup, pg);
            let _ = ready_tx.send(Ok(()));
            engine::run(side, requests)
        })
        .map_err(|e| Failed {
            message: format!("error: cannot start the engine thread: {e}"),
            status: status::SOFTWARE,
        })?;
    match ready_rx.recv() {
        Ok(Ok(())) => {}
        Ok(Err(status)) => {
            let _ = engine_thread.join();
            return Err(Failed {
                message: String::new(),
                status,
            });
        }
        Err(_) => {
            let _ = engine_thread.join();
            return Err(Failed {
                message: "error: the engine thread ended while starting".into(),
                status: status::SOFTWARE,
            });
        }
    }
    let addr = listener.local_addr().map_err(|e| Failed {
        message: format!("error: {e}"),
        status: status::SOFTWARE,
    })?;
    eprintln!("voyager serve: listening on http://{addr}");
    let app = http::App {
        engine: to_engine,
        token: options.token.map(std::sync::Arc::from),
        call_timeout: options.call_timeout,
    };
    let served = http::run(listener, app, options.max_body);
    // (The listening thread holds a sender: the engine is told to stop
    // rather than left to see the channel close.)
    let _ = stopper.send(Box::new(|side| side.stop = true));
    drop(stopper);
    let failure = engine_thread.join().unwrap_or(None);
    if let Err(e) = served {
        return Err(Failed {
            message: format!("error: the server failed: {e}"),
            status: status::SOFTWARE,
        });
    }
    if let Some(why) = failure {
        return Err(Failed {
            message: format!("error[{}]: {why}", crate::codes::STORE_FAILED),
            status: status::OUTPUT,
        });
    }
    Ok(())
}
