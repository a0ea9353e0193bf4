//! The whole pipeline behind one type: source text in, diagnostics or a
//! loaded program out, then the engine runs it. The CLI, the REPL and
//! embedding programs all go through [`Voyager`].

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::compile::{compile_unit, Global, GlobalKind, Globals, Unit, UnitOptions};
use crate::diag::{self, Diagnostic, Sources};
use crate::engine::clock::Clock;
use crate::engine::{Config, Engine, Finish};
use crate::syntax::ast::{Stmt, StmtKind};
use crate::syntax::{lexer, parser, SourceId};
use crate::vm::error::Loc;
use crate::vm::message::{Args, Message};
use crate::vm::natives::{Host, ScriptArgs};
use crate::vm::value::Value;
use crate::vm::Vm;

mod compile;
mod prelude;

pub use prelude::prelude_names;

pub const PRELUDE: &str = include_str!("../../std/prelude.vy");
pub const PASSES: &str = include_str!("../../std/passes.vy");

/// The std modules that `import` finds without a file.
pub fn std_module(name: &str) -> Option<&'static str> {
    match name {
        "passes" => Some(PASSES),
        _ => None,
    }
}

/// Where `print` writes.
pub enum Output {
    /// The process's standard output (see [`StdoutSink`]).
    Stdout(StdoutSink),
    /// Kept in memory (tests, embedding).
    Buffer(Rc<RefCell<String>>),
}

impl Output {
    pub fn stdout() -> Output {
        Output::Stdout(StdoutSink::default())
    }
}

/// What `print` writes to standard output. On a terminal or a pipe each
/// print goes out as it is made, in one write for its whole text, so the
/// reader sees every line as soon as it is printed. Into a regular file
/// prints are buffered (a write per line costs several times the run of a
/// print-heavy script), and the engine flushes the buffer before it waits
/// on a timer or a job and at the end of a run: someone tailing the file
/// sees every line before anything that happens after it.
///
/// A failed write is kept (see [`Host::take_write_error`]) and later output is
/// dropped, except a closed pipe (`voyager run x | head -1`): then the
/// process ends at once, quietly, with status 141 (128 + SIGPIPE), as a
/// Unix tool killed by SIGPIPE would.
pub struct StdoutSink {
    out: std::io::BufWriter<std::io::Stdout>,
    /// Not a regular file: write each print as it is made.
    per_print: bool,
    error: Option<std::io::Error>,
    /// A live line on the same terminal (`--progress`), cleared before each
    /// print and drawn again after it; empty while it is not shown.
    progress: Option<Rc<RefCell<String>>>,
}

impl Default for StdoutSink {
    fn default() -> StdoutSink {
        use std::os::fd::AsFd;
        let stdout = std::io::stdout();
        let is_file = stdout
            .as_fd()
            .try_clone_to_owned()
            .and_then(|fd| std::fs::File::from(fd).metadata())
            .is_ok_and(|m| m.is_file());
        StdoutSink {
            out: std::io::BufWriter::new(stdout),
            per_print: !is_file,
            error: None,
            progress: None,
        }
    }
}

/// The exit status of a process whose standard output or error was closed
/// by its reader (the status a shell shows for a process killed by SIGPIPE).
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// Ends the process quietly if `e` says the reader of our output has gone.
pub fn exit_if_broken_pipe(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(i32::from(EXIT_BROKEN_PIPE));
    }
}

impl StdoutSink {
    /// A sink that keeps `line` — a live line on standard error, on the same
    /// terminal — off the printed lines.
    pub fn with_progress_line(line: Rc<RefCell<String>>) -> StdoutSink {
        StdoutSink {
            progress: Some(line),
            ..StdoutSink::default()
        }
    }

    fn write(&mut self, text: &str) {
        if self.error.is_some() {
            return;
        }
        let progress = self.progress.as_ref().map(|p| p.borrow());
        let shown = progress.as_deref().filter(|line| !line.is_empty());
        if shown.is_some() {
            let _ = std::io::stderr().write_all(b"\r\x1b[K");
        }
        // The buffer is empty before a print, so the flush is one write.
        let mut written = self.out.write_all(text.as_bytes());
        if self.per_print {
            written = written.and_then(|()| self.out.flush());
        }
        if let Some(line) = shown {
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
        drop(progress);
        if let Err(e) = written {
            self.failed(e);
        }
    }

    fn flush(&mut self) {
        if self.error.is_none() {
            if let Err(e) = self.out.flush() {
                self.failed(e);
            }
        }
    }

    fn failed(&mut self, e: std::io::Error) {
        exit_if_broken_pipe(&e);
        self.error = Some(e);
    }
}

struct EngineHost {
    out: Output,
    clock: Clock,
    shared: Rc<Shared>,
}

/// What an instance and its host share: the run's words once bound, and
/// what `exit(n)` asked for.
#[derive(Default)]
struct Shared {
    args: RefCell<Option<Rc<ScriptArgs>>>,
    exit: std::cell::Cell<Option<u8>>,
    /// The engine's interrupt flag: `exit(n)` sets it to end the run.
    stop: RefCell<Option<Arc<AtomicBool>>>,
}

impl Host for EngineHost {
    fn print(&mut self, text: &str) {
        match &mut self.out {
            Output::Stdout(sink) => sink.write(text),
            Output::Buffer(b) => b.borrow_mut().push_str(text),
        }
    }

    fn now(&self) -> i64 {
        self.clock.now()
    }

    fn flush(&mut self) {
        if let Output::Stdout(sink) = &mut self.out {
            sink.flush();
        }
    }

    fn take_write_error(&mut self) -> Option<std::io::Error> {
        match &mut self.out {
            Output::Stdout(sink) => sink.error.take(),
            Output::Buffer(_) => None,
        }
    }

    fn script_args(&self) -> Option<Rc<ScriptArgs>> {
        self.shared.args.borrow().clone()
    }

    fn exit(&mut self, code: u8) -> bool {
        let stop = self.shared.stop.borrow();
        let Some(flag) = stop.as_ref() else {
            return false;
        };
        if self.shared.exit.get().is_none() {
            self.shared.exit.set(Some(code));
        }
        flag.store(true, Ordering::SeqCst);
        true
    }
}

/// Why a script could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// It does not compile (exit status 65).
    Compile(Vec<Diagnostic>),
    /// Its top level failed at run time (exit status 1).
    Runtime(Box<Diagnostic>),
}

/// A Voyager instance: sources, globals, the interpreter and the engine.
/// Instances share nothing, so several can run in one process.
pub struct Voyager {
    pub engine: Engine,
    pub sources: Sources,
    globals: Globals,
    modules: HashSet<String>,
    /// Files imported by path: namespace to (file, where first imported).
    imported_files: std::collections::HashMap<String, (PathBuf, Loc)>,
    /// The files being imported, outermost first (to catch a cycle).
    importing: Vec<PathBuf>,
    /// Warnings from the last compile.
    pub warnings: Vec<Diagnostic>,
    /// Whether the messages a script's top level makes are enqueued (true
    /// by default; `--requeue` runs only the requeued items).
    pub enqueue_top_level: bool,
    /// Top-level messages not enqueued because `enqueue_top_level` is off.
    pub skipped_top_level: usize,
    shared: Rc<Shared>,
    /// The prelude's reserved slots and what of it is loaded (`None`
    /// while the instance is being made).
    prelude: Option<prelude::Prelude>,
}

/// Options for a new instance.
pub struct Options {
    pub clock: Clock,
    pub config: Config,
    pub output: Output,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            clock: Clock::real(),
            config: Config::default(),
            output: Output::stdout(),
        }
    }
}

impl Voyager {
    pub fn new(options: Options) -> Voyager {
        let shared = Rc::new(Shared::default());
        let host = EngineHost {
            out: options.output,
            clock: options.clock.clone(),
            shared: shared.clone(),
        };
        let vm = Vm::new(Box::new(host));
        let engine = Engine::new(vm, options.clock, options.config);
        let mut globals = Globals::default();
        let noop_slot = globals.slots as u16;
        globals.slots += 1;
        globals.names.insert(
            "noop".to_string(),
            Global {
                slot: noop_slot,
                kind: GlobalKind::Const,
                loc: None,
            },
        );
        let mut v = Voyager {
            engine,
            sources: Sources::default(),
            globals,
            modules: HashSet::new(),
            imported_files: Default::default(),
            importing: Vec::new(),
            warnings: Vec::new(),
            enqueue_top_level: true,
            skipped_top_level: 0,
            shared,
            prelude: None,
        };
        v.engine.vm.ensure_globals(1);
        v.engine.vm.globals[noop_slot as usize] = Value::message(Message::Noop);
        for &(name, min, max, builder) in crate::engine::jobs::JOB_ACTIONS {
            v.register_job_action(name, min, max, builder);
        }
        v.register_state_functions();
        // The prelude's functions are compiled when a source names them.
        v.reserve_prelude();
        v
    }

    /// An instance with a virtual clock whose output is kept in memory.
    pub fn with_buffer(config: Config) -> (Voyager, Rc<RefCell<String>>) {
        let buffer = Rc::new(RefCell::new(String::new()));
        let v = Voyager::new(Options {
            clock: Clock::virtual_at_epoch(),
            config,
            output: Output::Buffer(buffer.clone()),
        });
        (v, buffer)
    }

    /// Compiles and loads a source: its declarations join the instance, its
    /// top level runs, and the messages it produced are enqueued.
    pub fn load(&mut self, name: &str, text: &str, dir: Option<&Path>) -> Result<(), LoadError> {
        let units = self.compile(name, text, dir).map_err(LoadError::Compile)?;
        self.install_units(units)
    }

    /// Loads what [`Voyager::compile`] made: declarations join the
    /// instance, top levels run, their messages are enqueued.
    pub fn install_units(&mut self, units: Vec<Unit>) -> Result<(), LoadError> {
        for unit in units {
            self.install(unit)?;
        }
        Ok(())
    }

    /// Binds a run's words (`voyager run FILE -- words…`) to the `param`,
    /// `flag` and `env` reads of what was compiled so far, checking them
    /// all before anything runs. `script` names the file in the usage line.
    pub fn bind_params(&mut self, words: &[String], script: &str) -> Result<(), Box<Diagnostic>> {
        let args = self
            .globals
            .params
            .bind(words, script, &|name| std::env::var(name).ok())?;
        *self.shared.args.borrow_mut() = Some(Rc::new(args));
        Ok(())
    }

    /// What the compiled scripts take, as a usage line.
    pub fn params_usage(&self, script: &str) -> String {
        self.globals.params.usage(script)
    }

    /// Makes `flag` the engine's and the interpreter's interrupt flag (set by
    /// Ctrl-C, say), which `exit(n)` sets too: without one, `exit` cannot end
    /// a run.
    pub fn set_interrupt(&mut self, flag: Arc<AtomicBool>) {
        self.engine.interrupt = Some(flag.clone());
        self.engine.vm.interrupt = Some(flag.clone());
        *self.shared.stop.borrow_mut() = Some(flag);
    }

    /// The status `exit(n)` asked for, if a script called it.
    pub fn exit_requested(&self) -> Option<u8> {
        self.shared.exit.get()
    }

    /// Evaluates one REPL input: like [`Voyager::load`], but names an
    /// earlier input declared may be declared again, and the value of a last
    /// expression statement is returned (a message is enqueued too). The
    /// engine is not run.
    pub fn eval(&mut self, name: &str, text: &str) -> Result<Value, LoadError> {
        let units = self
            .compile_as(name, text, None, true)
            .map_err(LoadError::Compile)?;
        let mut value = Value::Nil;
        for unit in units {
            value = self.install(unit)?;
        }
        Ok(value)
    }

    fn install(&mut self, unit: Unit) -> Result<Value, LoadError> {
        self.engine.vm.ensure_globals(self.globals.slots);
        for (slot, value) in unit.constants {
            self.engine.vm.globals[slot as usize] = value;
        }
        if unit.actions.iter().any(|a| a.priority.is_some()) {
            self.engine.prioritize();
        }
        for filter in unit.filters {
            self.engine.add_filter(filter);
        }
        for pass in unit.passes {
            self.engine.add_pass(pass);
        }
        for schedule in unit.schedules {
            self.engine.add_schedule(schedule);
        }
        let result = self.engine.vm.run_script(unit.script);
        let emitted = std::mem::take(&mut self.engine.vm.emitted);
        match result {
            Ok(value) => {
                for m in emitted {
                    if let Value::Message(m) = m {
                        if self.enqueue_top_level {
                            self.engine.enqueue(&m);
                        } else {
                            self.skipped_top_level += 1;
                        }
                    }
                }
                Ok(value)
            }
            Err(e) => {
                let mut d = diag::from_runtime_error(&e, &self.sources);
                if !emitted.is_empty() {
                    d.notes.push(format!(
                        "the top level stopped here, so its {} message(s) were not enqueued",
                        emitted.len()
                    ));
                }
                Err(LoadError::Runtime(Box::new(d)))
            }
        }
    }

    /// Runs the engine until no work is left (or the step limit).
    pub fn run(&mut self) -> Finish {
        let finish = self.engine.run();
        self.engine.vm.host.flush();
        finish
    }

    pub fn flush(&mut self) {
        self.engine.vm.host.flush();
    }

    /// The first failed write of program output since the last call (the
    /// rest of the output was dropped after it).
    pub fn take_write_error(&mut self) -> Option<std::io::Error> {
        self.engine.vm.host.take_write_error()
    }

    /// Makes a Rust function callable from scripts loaded after it, as
    /// `name(args…)`, with `min` to `max` arguments. It runs on the
    /// interpreter's thread; an `Err` is a runtime error in the caller (a
    /// [`RuntimeError::retryable`](crate::vm::RuntimeError::retryable) one is
    /// retried like `retry(...)`).
    pub fn register_function(
        &mut self,
        name: &str,
        min: usize,
        max: usize,
        func: impl Fn(&[Value]) -> Result<Value, crate::vm::RuntimeError> + 'static,
    ) {
        let f = crate::vm::value::HostFn {
            name: Rc::from(name),
            min,
            max,
            func: Box::new(func),
        };
        let slot = self.declare_host_global(name, GlobalKind::Const);
        self.engine.vm.globals[slot] = Value::HostFn(Rc::new(f));
    }

    // --- Durable state (`state_get` / `state_put`) -------------------------

    /// `state_get(key[, default])` and `state_put(key, value)`: a map of
    /// plain data that outlives the process with `--store` (written in the
    /// same transaction as the step that changed it), in memory without.
    /// Values go in and out as JSON, so what comes out is a copy.
    fn register_state_functions(&mut self) {
        use crate::engine::serial;
        use crate::vm::RuntimeError;
        fn key(v: &Value, f: &str) -> Result<String, RuntimeError> {
            match v {
                Value::Str(s) => Ok(s.to_string()),
                other => Err(RuntimeError::type_error(format!(
                    "{f}: the key must be a string, got {} `{}`",
                    other.type_name(),
                    other.repr()
                ))),
            }
        }
        let state = self.engine.state.clone();
        self.register_function("state_get", 1, 2, move |args| {
            let k = key(&args[0], "state_get")?;
            let text = state.borrow_mut().read(&k).map_err(|why| {
                // (Another attempt reads it again.)
                RuntimeError::new(
                    crate::codes::STORE_FAILED,
                    format!("state_get: \"{k}\" cannot be read from the store: {why}"),
                )
                .retryable()
            })?;
            match text {
                Some(text) => crate::engine::store::state_json(&text)
                    .and_then(|j| serial::value_from_json(&j, &|_| None))
                    .map_err(|e| {
                        RuntimeError::new(
                            crate::codes::VALUE,
                            format!("state_get: the value of \"{k}\" cannot be read: {e}"),
                        )
                    }),
                None => Ok(args.get(1).cloned().unwrap_or(Value::Nil)),
            }
        });
        let state = self.engine.state.clone();
        self.register_function("state_put", 2, 2, move |args| {
            let k = key(&args[0], "state_put")?;
            let plain = serial::value_to_json(&args[1])
                .ok()
                .filter(|j| serial::value_from_json(j, &|_| None).is_ok());
            let Some(j) = plain else {
                return Err(RuntimeError::new(
                    crate::codes::VALUE,
                    format!(
                        "state_put: \"{k}\" can hold plain data (nil, booleans, numbers, strings, durations, times, lists and records of them), not {} `{}`",
                        args[1].type_name(),
                        args[1].repr()
                    ),
                ));
            };
            state.borrow_mut().put(&k, serial::to_line(&j));
            Ok(Value::Nil)
        });
    }

    // --- end of durable state ------------------------------------------------

    /// Declares an action written in Rust: scripts loaded after it can make
    /// `call(name, …)` messages (and match `call(name, …)` patterns), and
    /// the engine runs it like any action — its result becomes messages,
    /// and an `Err` fails the call (fatally, or retryably).
    pub fn register_action(
        &mut self,
        name: &str,
        arity: usize,
        func: impl Fn(&[Value]) -> Result<Value, crate::vm::RuntimeError> + 'static,
    ) {
        let body = crate::vm::value::ActionBody::Host {
            arity,
            func: Rc::new(func),
        };
        self.declare_native_action(name, arity, body);
    }

    /// A native action that runs as a job on the worker pool.
    fn register_job_action(
        &mut self,
        name: &str,
        min: usize,
        max: usize,
        builder: crate::engine::jobs::JobBuilder,
    ) {
        let job = crate::engine::jobs::JobAction {
            min,
            max,
            build: Rc::new(builder),
        };
        self.declare_native_action(name, min, crate::vm::value::ActionBody::Job(job));
    }

    /// Declares an action written in Rust that runs on the engine's worker
    /// pool, off the interpreter thread, like `sh` and `http`: while it runs
    /// its item is parked and the others go on. Arguments and result cross
    /// threads as JSON (the form of `--dead-letters` files: plain values,
    /// `{"$duration": ms}`, …); a function argument is refused. An `Err`
    /// fails the call, retryably or not.
    pub fn register_pool_action(
        &mut self,
        name: &str,
        arity: usize,
        func: impl Fn(Vec<serde_json::Value>) -> Result<serde_json::Value, crate::engine::jobs::JobFailure>
            + Send
            + Sync
            + 'static,
    ) {
        let func: std::sync::Arc<crate::engine::jobs::CustomJob> = std::sync::Arc::new(func);
        let action_name = name.to_string();
        let build = move |args: &[Value]| {
            let args = args
                .iter()
                .map(crate::engine::serial::value_to_json)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|why| {
                    crate::vm::RuntimeError::type_error(format!("{action_name}: {why}"))
                })?;
            Ok(crate::engine::jobs::JobSpec::Custom(
                crate::engine::jobs::Custom {
                    func: func.clone(),
                    args,
                },
            ))
        };
        let job = crate::engine::jobs::JobAction {
            min: arity,
            max: arity,
            build: Rc::new(build),
        };
        self.declare_native_action(name, arity, crate::vm::value::ActionBody::Job(job));
    }

    /// Declares an action whose body is Rust: a host function or a job.
    fn declare_native_action(
        &mut self,
        name: &str,
        arity: usize,
        body: crate::vm::value::ActionBody,
    ) {
        let id = self.globals.next_action_id;
        self.globals.next_action_id += 1;
        let action = crate::vm::value::ActionDef {
            id,
            name: Rc::from(name),
            body,
            limits: None,
            retry: None,
            priority: None,
        };
        let slot = self.declare_host_global(name, GlobalKind::Action(id, arity));
        self.engine.vm.globals[slot] = Value::Action(Rc::new(action));
    }

    fn declare_host_global(&mut self, name: &str, kind: GlobalKind) -> usize {
        // A host function named as a prelude function replaces it, as it
        // did when the whole prelude was loaded first.
        self.load_prelude_for(name);
        let slot = self.globals.slots;
        self.globals.slots += 1;
        self.globals.names.insert(
            name.to_string(),
            Global {
                slot: slot as u16,
                kind,
                loc: None,
            },
        );
        self.engine.vm.ensure_globals(self.globals.slots);
        slot
    }

    /// A `call(action, args…)` message for an action declared by a loaded
    /// script or registered from Rust.
    pub fn call_message(&self, action: &str, args: Vec<Value>) -> Option<crate::vm::message::Msg> {
        let action = self.action_named(action)?;
        Some(Rc::new(Message::Call {
            action,
            args: Args::from(args),
        }))
    }

    /// Enqueues a message (normalized and routed, as a script's top-level
    /// message would be). Run the engine with [`Voyager::run`] or step it
    /// with `engine.step_once()`.
    pub fn enqueue(&mut self, message: &crate::vm::message::Msg) {
        self.engine.enqueue(message);
    }

    /// What `print` wrote so far, for an instance made by
    /// [`Voyager::with_buffer`] (taken out: the buffer starts again empty).
    pub fn take_output(buffer: &Rc<RefCell<String>>) -> String {
        std::mem::take(&mut buffer.borrow_mut())
    }

    /// The action a name stands for now (for `--requeue` files).
    pub fn action_named(&self, name: &str) -> Option<Rc<crate::vm::value::ActionDef>> {
        let global = self.globals.lookup(name)?;
        match self.engine.vm.globals.get(global.slot as usize)? {
            Value::Action(a) => Some(a.clone()),
            _ => None,
        }
    }

    /// The value a top-level name stands for now (an action, a function,
    /// …), for `--requeue` files. A prelude function is found only once
    /// loaded: call [`Voyager::load_prelude`] before looking up names no
    /// compiled source wrote.
    pub fn global_named(&self, name: &str) -> Option<Value> {
        let global = self.globals.lookup(name)?;
        self.engine.vm.globals.get(global.slot as usize).cloned()
    }

    pub fn globals(&self) -> &Globals {
        &self.globals
    }

    /// Renders a diagnostic against this instance's sources.
    pub fn render(&self, d: &Diagnostic, color: bool) -> String {
        diag::render(d, &self.sources, color)
    }
}

/// Lexes and parses, turning every lexer and parser error into a diagnostic.
pub fn parse_source(
    source: crate::bytecode::chunk::SourceId,
    text: &str,
) -> Result<Vec<Stmt>, Vec<Diagnostic>> {
    let (tokens, lex_errors) = lexer::lex(text);
    let (stmts, parse_errors) = parser::parse(&tokens, text.len());
    let mut diags: Vec<Diagnostic> = lex_errors
        .iter()
        .map(|e| diag::from_lex_error(source, e))
        .collect();
    diags.extend(
        parse_errors
            .iter()
            .map(|e| diag::from_parse_error(source, e)),
    );
    if diags.is_empty() {
        Ok(stmts)
    } else {
        diags.sort_by_key(|d| d.loc.map(|l| l.span.start));
        Err(diags)
    }
}
