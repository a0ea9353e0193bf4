//! Voyager: a small language whose programs are trees of messages, and the
//! engine that runs them.
//!
//! The crate is a library first; the `voyager` binary is a thin shell over
//! it. A Rust program embeds the engine through [`Voyager`]: load scripts,
//! register functions and actions written in Rust, enqueue messages, run
//! (or step) the engine, and read what happened. Instances share nothing,
//! so several can run side by side in one process (each on one thread: the
//! values are reference-counted, not `Send`).
//!
//! ```
//! use voyager::engine::Config;
//! use voyager::vm::{RuntimeError, Value};
//! use voyager::Voyager;
//!
//! // An instance on the virtual clock whose `print` output is kept in memory.
//! let (mut v, output) = Voyager::with_buffer(Config::default());
//!
//! // A function and an action written in Rust.
//! v.register_function("shout", 1, 1, |args| match &args[0] {
//!     Value::Str(s) => Ok(Value::str(&s.to_uppercase())),
//!     other => Err(RuntimeError::type_error(format!("shout needs a string, got {other}"))),
//! });
//! let saved = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
//! let sink = saved.clone();
//! v.register_action("save", 1, move |args| {
//!     sink.borrow_mut().push(args[0].display());
//!     Ok(Value::Nil)
//! });
//!
//! // A script that uses them; its top-level message is enqueued.
//! v.load("app.vy", r#"
//!     action greet(who) { print(shout("hello, {who}")); call(save, who) }
//!     seq([call(greet, "A"), call(greet, "B")])
//! "#, None).expect("the script loads");
//!
//! // More messages from Rust, then run until no work is left.
//! let m = v.call_message("greet", vec![Value::str("C")]).expect("greet is declared");
//! v.enqueue(&m);
//! v.run();
//!
//! assert_eq!(Voyager::take_output(&output), "HELLO, A\nHELLO, C\nHELLO, B\n");
//! assert_eq!(*saved.borrow(), ["A", "C", "B"]);
//! assert_eq!(v.engine.stats.steps, 6);
//! assert!(v.engine.dead_letters().is_empty());
//! ```
//!
//! A failing action becomes a dead letter, with its error:
//!
//! ```
//! use voyager::codes;
//! use voyager::engine::Config;
//! use voyager::vm::{RuntimeError, Value};
//! use voyager::Voyager;
//!
//! let (mut v, _) = Voyager::with_buffer(Config { max_attempts: 2, ..Config::default() });
//! v.register_action("flaky", 0, |_| Err(RuntimeError::new(codes::RETRY, "service down").retryable()));
//! v.load("jobs.vy", "call(flaky)", None).expect("loads");
//! v.run();
//! let dead = v.engine.dead_letters();
//! assert_eq!(dead.len(), 1);
//! assert_eq!(dead[0].attempts, 2);
//! assert_eq!(dead[0].message.display(), "call(flaky)");
//! assert!(dead[0].error.message.contains("gave up after 2 attempts: service down"));
//! ```
//!
//! The pipeline, stage by stage: [`syntax`] (lexer and parser), [`compile`]
//! (names, checks, bytecode), [`bytecode`], [`vm`] (the interpreter and
//! values), [`engine`] (queues, timers, routing, passes), [`diag`] (every
//! error as an ariadne report), [`cli`].

pub mod bytecode;
pub mod cli;
pub mod codes;
pub mod compile;
pub mod cron;
pub mod diag;
pub mod engine;
pub mod explain;
pub mod fmt;
pub mod graph;
pub mod lsp;
pub mod memory;
pub mod runtime;
pub mod server;
pub mod store;
pub mod syntax;
pub mod vm;
pub mod worker;

pub use runtime::{LoadError, Options, Output, Voyager};
