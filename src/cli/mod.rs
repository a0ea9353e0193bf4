//! The `voyager` command line: a thin shell over [`crate::Voyager`].

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use clap::Parser;

// The command line's `print!`, `eprint!` and `eprintln!` (they shadow std's
// here and in the modules below): a closed standard output or error (`voyager
// check x.vy 2>&1 | head -1`) ends the process quietly, as it would a Unix
// tool, instead of panicking.
macro_rules! print {
    ($($arg:tt)*) => { $crate::cli::write_out(&mut std::io::stdout(), format_args!($($arg)*)) };
}
macro_rules! eprint {
    ($($arg:tt)*) => { $crate::cli::write_out(&mut std::io::stderr(), format_args!($($arg)*)) };
}
macro_rules! eprintln {
    () => { eprint!("\n") };
    ($($arg:tt)*) => { eprint!("{}\n", format_args!($($arg)*)) };
}

mod args;
mod dead_letters;
pub mod repl;
mod serve;
mod signals;
mod store;
mod tools;
mod worker;

pub use args::*;

use crate::bytecode::disasm::disassemble;
use crate::diag::Diagnostic;
use crate::engine::clock::Clock;
use crate::engine::{Config, Finish};
use crate::runtime::{LoadError, Options, Output, StdoutSink, Voyager};

/// Exit statuses, as the README lists them.
pub mod exit {
    pub const OK: u8 = 0;
    pub const DEAD_LETTERS: u8 = 1;
    pub const USAGE: u8 = 2;
    /// `enqueue --unique`: an unfinished item has the key.
    pub const UNIQUE_TAKEN: u8 = 3;
    pub const COMPILE: u8 = 65;
    pub const UNREADABLE: u8 = 66;
    pub const INTERNAL: u8 = 70;
    /// Stopped by SIGINT (Ctrl-C).
    pub const INTERRUPTED: u8 = 130;
    /// Stopped by SIGTERM.
    pub const TERMINATED: u8 = 143;
    /// Program output could not be written (sysexits' EX_IOERR).
    pub const OUTPUT: u8 = 74;
    /// Standard output or error was closed by its reader.
    pub const BROKEN_PIPE: u8 = crate::runtime::EXIT_BROKEN_PIPE;
}

/// Writes to standard output or error for `print!` and `eprint!`. A closed
/// pipe ends the process (status 141); another failure is ignored, since a
/// diagnostic that cannot be written has nowhere else to go (a failed write
/// of the program's own output is reported: see [`output_status`]).
pub(crate) fn write_out(out: &mut impl std::io::Write, args: std::fmt::Arguments) {
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        crate::runtime::exit_if_broken_pipe(&e);
    }
}

/// The exit status once the program's output is accounted for: a failed
/// write of it is an error of its own (74), reported on standard error.
fn output_status(v: &mut Voyager, status: u8) -> u8 {
    match v.take_write_error() {
        Some(e) => {
            eprintln!("error: cannot write standard output: {e} (later output was lost)");
            exit::OUTPUT
        }
        None => status,
    }
}

/// Runs the command line; returns the exit status.
pub fn main(cli: Cli) -> u8 {
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stderr().is_terminal()
        }
    };
    match cli.command {
        Some(Command::Run(args)) => run(&args, color),
        Some(Command::Check { file, params }) => check(&file, &params, color),
        Some(Command::Disasm { file }) => disasm(&file, color),
        Some(Command::Repl(args)) => repl_session(&args, color),
        Some(Command::Lsp) => crate::lsp::serve(),
        Some(Command::Explain { code }) => crate::explain::main(code.as_deref()),
        Some(Command::Status(args)) => store::status(&args),
        Some(Command::DeadLetters(args)) => store::dead_letters(&args),
        Some(Command::Requeue(args)) => store::requeue(&args),
        Some(Command::Cancel(args)) => store::cancel(&args),
        Some(Command::Worker(args)) => worker::worker(&args, color),
        Some(Command::Enqueue(args)) => worker::enqueue(&args, color),
        Some(Command::Serve(args)) => serve::serve(&args, color),
        Some(Command::Fmt { check, files }) => tools::fmt_files(&files, check, color),
        Some(Command::Graph { file, format }) => tools::graph_file(
            &file,
            match format {
                GraphFormat::Mermaid => crate::graph::Format::Mermaid,
                GraphFormat::Dot => crate::graph::Format::Dot,
            },
            color,
        ),
        None => repl_session(&ReplArgs::default(), color),
    }
}

fn repl_session(args: &ReplArgs, color: bool) -> u8 {
    repl::run(repl::ReplOptions {
        history: args.history.clone().or_else(repl::default_history),
        color,
        clock_virtual: args.clock == ClockChoice::Virtual,
        max_steps: args.max_steps,
    })
}

/// Reads a script: its display name, its text, and its folder (for imports).
pub(crate) fn read_script(file: &Path) -> Result<(String, String, Option<PathBuf>), u8> {
    if file == Path::new("-") {
        let mut text = String::new();
        return match std::io::stdin().read_to_string(&mut text) {
            Ok(_) => Ok(("<stdin>".into(), text, None)),
            Err(e) => {
                eprintln!("error: cannot read standard input: {e}");
                Err(exit::UNREADABLE)
            }
        };
    }
    match std::fs::read(file) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok((
                file.display().to_string(),
                text,
                file.parent().map(Path::to_path_buf),
            )),
            Err(e) => {
                eprintln!(
                    "error: cannot read {}: it is not UTF-8 text (invalid byte at offset {})",
                    file.display(),
                    e.utf8_error().valid_up_to()
                );
                Err(exit::UNREADABLE)
            }
        },
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            Err(exit::UNREADABLE)
        }
    }
}

/// How many diagnostics are rendered before the rest are only counted.
const MAX_REPORTED: usize = 50;

fn report(v: &Voyager, diags: &[Diagnostic], color: bool) {
    for d in diags.iter().take(MAX_REPORTED) {
        eprint!("{}", v.render(d, color));
    }
    if diags.len() > MAX_REPORTED {
        eprintln!("… and {} more", diags.len() - MAX_REPORTED);
    }
}

fn summary_line(diags: &[Diagnostic]) -> Option<String> {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    (errors > 1).then(|| format!("{errors} errors"))
}

fn check(file: &Path, params: &[String], color: bool) -> u8 {
    let (name, text, dir) = match read_script(file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (mut v, _) = Voyager::with_buffer(Config::default());
    match v.compile(&name, &text, dir.as_deref()) {
        Ok(_) => {
            let warnings = v.warnings.clone();
            report(&v, &warnings, color);
            if !params.is_empty() {
                if let Err(d) = v.bind_params(params, &name) {
                    report(&v, &[*d], color);
                    return exit::USAGE;
                }
            }
            exit::OK
        }
        Err(diags) => {
            report(&v, &diags, color);
            if let Some(line) = summary_line(&diags) {
                eprintln!("{line}");
            }
            exit::COMPILE
        }
    }
}

fn disasm(file: &Path, color: bool) -> u8 {
    let (name, text, dir) = match read_script(file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (mut v, _) = Voyager::with_buffer(Config::default());
    let units = match v.compile(&name, &text, dir.as_deref()) {
        Ok(units) => units,
        Err(diags) => {
            report(&v, &diags, color);
            return exit::COMPILE;
        }
    };
    let Some(unit) = units.last() else {
        return exit::OK;
    };
    let mut out = String::new();
    let globals = v.globals().slot_names();
    disassemble(&unit.script, &name, &text, &globals, &mut out);
    for action in &unit.actions {
        if let Some(proto) = action.proto() {
            out.push('\n');
            disassemble(proto, &action.name, &text, &globals, &mut out);
        }
    }
    for filter in &unit.filters {
        out.push('\n');
        disassemble(
            &filter.predicate,
            &filter.predicate.name,
            &text,
            &globals,
            &mut out,
        );
    }
    for pass in &unit.passes {
        out.push('\n');
        disassemble(&pass.body, &pass.body.name, &text, &globals, &mut out);
    }
    print!("{out}");
    exit::OK
}

fn run(args: &RunArgs, color: bool) -> u8 {
    let (name, text, dir) = match read_script(&args.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let config = Config {
        max_attempts: args.max_attempts,
        backoff: args.backoff,
        batch: args.batch as usize,
        max_steps: args.max_steps,
        trace: args.trace,
        ..Config::default()
    };
    let config = Config {
        jobs: args.jobs.map_or(config.jobs, |n| n as usize),
        job_limits: crate::engine::jobs::Limits {
            max_read: args.max_read,
            http_connect: std::time::Duration::from_millis(args.http_connect_timeout as u64),
            http_read: std::time::Duration::from_millis(args.http_read_timeout as u64),
        },
        ..config
    };
    let clock = match (args.clock, args.clock_start) {
        (ClockChoice::Real, None) => Clock::real(),
        (ClockChoice::Virtual, None) => Clock::virtual_at_epoch(),
        (ClockChoice::Virtual, Some(t)) => Clock::virtual_at(t),
        (ClockChoice::Real, Some(_)) => {
            eprintln!("error: --clock-start sets the virtual clock: add --clock virtual");
            return exit::USAGE;
        }
    };
    let mut stored = match &args.store {
        Some(path) => match store::open(path, args.sync, args.fresh, &name, &text) {
            Ok(opened) => Some(opened),
            Err(code) => return code,
        },
        None => None,
    };
    crate::engine::jobs::become_subreaper();
    let started = std::time::Instant::now();
    let show_progress = args.progress && std::io::stderr().is_terminal();
    // On a terminal shared with standard output, printed lines go above the
    // live line: the sink clears it before each print and draws it again.
    let progress_line = Rc::new(RefCell::new(String::new()));
    let output = if show_progress && std::io::stdout().is_terminal() {
        Output::Stdout(StdoutSink::with_progress_line(progress_line.clone()))
    } else {
        Output::stdout()
    };
    let mut v = Voyager::new(Options {
        clock,
        config,
        output,
    });
    // A requeue reruns what failed, not the whole workflow.
    v.enqueue_top_level = args.requeue.is_none() && !stored.as_ref().is_some_and(|s| s.resume);
    if let Some(opened) = &mut stored {
        if let Err(code) = store::load_state(&mut v, opened) {
            return code;
        }
    }
    v.engine.vm.fuel_limit = args.max_instructions;
    if let Some(limit) = args.max_memory {
        crate::memory::set_limit((limit != usize::MAX).then_some(limit));
    }
    v.set_interrupt(signals::install());
    if args.trace {
        v.engine.trace_sink = Some(Box::new(|line: &str| eprintln!("trace: {line}")));
    }
    if show_progress {
        let progress_line = progress_line.clone();
        v.engine.progress = Some(Box::new(move |p: &crate::engine::Progress| {
            let secs = started.elapsed().as_secs_f64().max(0.001);
            let mut line = progress_line.borrow_mut();
            line.clear();
            let _ = write!(
                line,
                "{} steps ({:.0}/s) | queued {} | timers {} | topics {} | jobs {} | dead {}",
                p.steps,
                p.steps as f64 / secs,
                p.queued,
                p.on_timers,
                p.in_topics,
                p.running_jobs,
                p.dead_letters
            );
            eprint!("\r\x1b[K{line}");
        }));
    }
    let loaded = match v.compile(&name, &text, dir.as_deref()) {
        Ok(units) => match params_status(&mut v, &args.params, &name, color) {
            Some(status) => return status,
            None => v.install_units(units),
        },
        Err(diags) => Err(LoadError::Compile(diags)),
    };
    match loaded {
        Ok(()) => {}
        Err(LoadError::Compile(diags)) => {
            report(&v, &diags, color);
            if let Some(line) = summary_line(&diags) {
                eprintln!("{line}");
            }
            return exit::COMPILE;
        }
        Err(LoadError::Runtime(d)) if v.exit_requested().is_some() => {
            v.flush();
            let code = v.exit_requested().unwrap_or(exit::OK);
            if let Some(dropped) = d.notes.first() {
                eprintln!(
                    "note[{}]: exit({code}) ended the run in its top level: {dropped}",
                    crate::codes::EXIT
                );
            }
            return output_status(&mut v, code);
        }
        Err(LoadError::Runtime(d)) => {
            v.flush();
            report(&v, &[*d], color);
            let status = signals::received().map_or(exit::DEAD_LETTERS, signals::exit_status);
            return output_status(&mut v, status);
        }
    }
    let warnings = v.warnings.clone();
    report(&v, &warnings, color);
    let mut skipped = Vec::new();
    if let Some(path) = &args.requeue {
        if v.skipped_top_level > 0 {
            eprintln!(
                "note: --requeue runs only the file's messages: the script's {} top-level message(s) were not enqueued",
                v.skipped_top_level
            );
        }
        match dead_letters::requeue(&mut v, path) {
            Ok(lines) => skipped = lines,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return exit::UNREADABLE;
            }
        }
    }
    let fires = args.schedules || args.for_time.is_some() || args.store.is_some();
    if fires && args.clock == args::ClockChoice::Virtual && args.for_time.is_none() {
        if let Some(s) = v.engine.schedules().next() {
            // Virtual time jumps to each firing at once: without an end it
            // would fire without end, as fast as it can.
            eprintln!(
                "error: under --clock virtual the schedules (`{}`…) would fire without end: give --for DURATION",
                s.name
            );
            return exit::USAGE;
        }
    }
    let mut pg = None;
    if let Some(opened) = stored {
        match store::attach(&mut v, opened) {
            Ok(shared) => pg = shared,
            Err(code) => return code,
        }
    }
    v.engine.schedules_on = args.schedules || args.for_time.is_some() || args.store.is_some();
    v.engine.schedules_for = args.for_time;
    let names: Vec<String> = v
        .engine
        .schedules()
        .map(|s| format!("`{}`", s.name))
        .collect();
    if !v.engine.schedules_on && !names.is_empty() {
        eprintln!(
            "note: {} schedule(s) ({}) do not fire in a plain run: --schedules (or --store) keeps the run going for them, --for DURATION for a while",
            names.len(),
            names.join(", ")
        );
    }
    let finish = match &pg {
        // Many workers may share a PostgreSQL store: its items are taken.
        Some(pg) => crate::worker::drive(&mut v, pg, true, false),
        None => v.run(),
    };
    if show_progress {
        progress_line.borrow_mut().clear();
        eprint!("\r\x1b[K");
    }
    let elapsed = started.elapsed();
    let mut status = exit::OK;
    let mut unfinished_messages = Vec::new();
    let mut unfinished_why = (
        crate::codes::MAX_STEPS,
        "unfinished when --max-steps stopped the run".to_string(),
    );
    if let Finish::StepLimit { unfinished } = finish {
        status = exit::DEAD_LETTERS;
        eprintln!(
            "error[{}]: stopped after {} steps (--max-steps); {unfinished} item(s) unfinished:",
            crate::codes::MAX_STEPS,
            v.engine.stats.work()
        );
        if let Some((pass, runs)) = v.engine.runaway_pass() {
            eprintln!(
                "  most of that work was passes: pass \"{pass}\" ran {runs} times (pass runs and the messages they return count as steps)"
            );
        }
        unfinished_messages = v.engine.drain_unfinished();
        list_unfinished(&unfinished_messages);
    }
    let exited = v.exit_requested();
    if let Some(code) = exited {
        status = code;
        v.engine.end_jobs();
        unfinished_messages = v.engine.drain_unfinished();
        unfinished_why = (
            crate::codes::EXIT,
            format!("unfinished when exit({code}) ended the run"),
        );
    } else if finish == Finish::Interrupted {
        let signal = signals::received().unwrap_or(libc::SIGINT);
        status = signals::exit_status(signal);
        let name = signals::name(signal);
        v.engine.end_jobs();
        unfinished_messages = v.engine.drain_unfinished();
        if v.engine.schedules_on && unfinished_messages.is_empty() {
            // A run kept going for its schedules ends this way: between
            // firings, with nothing left to do, it is a clean stop.
            status = exit::OK;
            let fired = v.engine.schedule_stats.fired;
            eprintln!(
                "note: stopped by {name} between firings ({fired} fired); nothing unfinished"
            );
        } else {
            eprintln!(
                "error[{}]: stopped by {name}; {} item(s) unfinished{}",
                crate::codes::INTERRUPTED,
                unfinished_messages.len(),
                if unfinished_messages.is_empty() {
                    ""
                } else {
                    ":"
                }
            );
        }
        list_unfinished(&unfinished_messages);
        unfinished_why = (
            crate::codes::INTERRUPTED,
            format!("unfinished when {name} stopped the run"),
        );
    }
    if let Finish::StoreFailed(why) = &finish {
        eprintln!("error[{}]: {why}", crate::codes::STORE_FAILED);
        status = status.max(exit::OUTPUT);
    }
    if let Some(path) = &args.store {
        if matches!(finish, Finish::StepLimit { .. } | Finish::Interrupted)
            && !unfinished_messages.is_empty()
        {
            eprintln!(
                "note: the unfinished items stay in {}: the same command resumes them",
                store::shown(path)
            );
        }
    }
    let mut dead = v.engine.take_dead_letters();
    if let Some(code) = exited {
        // The item whose action called exit(n) ended there; a pass's batch
        // that did never ran, so it is unfinished.
        let before = dead.len();
        let mut batch = Vec::new();
        dead.retain(|d| {
            if d.error.code != crate::codes::EXIT {
                return true;
            }
            if d.attempts == 0 {
                batch.push(d.message.clone());
            }
            false
        });
        let stats = &mut v.engine.stats;
        stats.dead_letters = stats
            .dead_letters
            .saturating_sub((before - dead.len()) as u64);
        unfinished_messages.extend(batch);
        if !unfinished_messages.is_empty() {
            eprintln!(
                "note[{}]: exit({code}) ended the run; {} item(s) left unfinished:",
                crate::codes::EXIT,
                unfinished_messages.len()
            );
            list_unfinished(&unfinished_messages);
        }
    }
    if let Some(path) = &args.dead_letters {
        if let Err(e) = dead_letters::write(
            &v,
            path,
            &dead,
            &unfinished_messages,
            &unfinished_why,
            &skipped,
        ) {
            eprintln!("error: cannot write {}: {e}", path.display());
            status = status.max(exit::DEAD_LETTERS);
        }
    }
    if !dead.is_empty() {
        status = status.max(exit::DEAD_LETTERS);
        dead_letters::list(&v, &dead, color);
    }
    if !skipped.is_empty() {
        status = status.max(exit::DEAD_LETTERS);
        let kept = match &args.dead_letters {
            Some(path) => format!(" (kept in {})", path.display()),
            None => String::new(),
        };
        eprintln!(
            "error: {} line(s) of the requeue file were skipped{kept}",
            skipped.len()
        );
    }
    let recovered = v.engine.stats.recovered;
    if recovered > 0 {
        eprintln!("note: {recovered} failure(s) recovered by a catch handler (not dead letters)");
    }
    let unclaimed = v.engine.stats.unclaimed_data;
    if unclaimed > 0 {
        eprintln!("note: {unclaimed} unclaimed data message(s) dropped");
    }
    for (topic, (n, first)) in &v.engine.stats.unrouted {
        let first = dead_letters::shorten(first);
        eprintln!(
            "warning: {n} call(s) that interest \"{topic}\" matches ran without being routed, because they were nested in another message (first: {first})\n  help: interests see only top-level messages: a nested call runs where it is (see \"Interests and passes\" in the README)"
        );
    }
    if args.stats {
        eprint!("{}", stats_text(&v, elapsed));
    }
    output_status(&mut v, status)
}

/// Binds the words after `--` to the script's parameters before anything
/// runs; `Some(status)` when the run ends here (`-- --help`, or words that
/// do not fit).
fn params_status(v: &mut Voyager, words: &[String], name: &str, color: bool) -> Option<u8> {
    let reads_help = v.globals().params.items.iter().any(|d| d.name == "help");
    let mut before_end = words.iter().take_while(|w| *w != "--");
    if !reads_help && before_end.any(|w| w == "--help") {
        print!("{}\n", v.params_usage(name));
        return Some(exit::OK);
    }
    match v.bind_params(words, name) {
        Ok(()) => None,
        Err(d) => {
            report(v, &[*d], color);
            Some(exit::USAGE)
        }
    }
}

/// The first 20 unfinished items, on stderr.
fn list_unfinished(messages: &[crate::vm::message::Msg]) {
    for m in messages.iter().take(20) {
        eprintln!("    {}", m.display());
    }
    if messages.len() > 20 {
        eprintln!("    … and {} more", messages.len() - 20);
    }
}

fn stats_text(v: &Voyager, elapsed: std::time::Duration) -> String {
    use std::fmt::Write as _;
    let s = &v.engine.stats;
    let mut out = String::new();
    let secs = elapsed.as_secs_f64();
    let _ = writeln!(out, "stats:");
    let _ = writeln!(out, "  steps:          {}", s.steps);
    let by_kind: Vec<String> = crate::engine::node::KINDS
        .iter()
        .zip(s.steps_by_kind.iter())
        .filter(|(_, n)| **n > 0)
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let _ = writeln!(out, "  steps by kind:  {}", by_kind.join(", "));
    let _ = writeln!(out, "  items enqueued: {}", s.enqueued);
    let _ = writeln!(out, "  retries:        {}", s.retries);
    let _ = writeln!(out, "  dead letters:   {}", s.dead_letters);
    let _ = writeln!(out, "  recovered:      {}", s.recovered);
    let _ = writeln!(out, "  unclaimed data: {}", s.unclaimed_data);
    let _ = writeln!(out, "  peak queue:     {}", s.peak_queue);
    if v.engine.schedules().next().is_some() {
        let f = v.engine.schedule_stats;
        let _ = writeln!(
            out,
            "  schedules:      {} fired, {} skipped",
            f.fired, f.skipped
        );
    }
    for (topic, n) in &s.topic_in {
        let (runs, time) = s.pass_runs.get(topic).copied().unwrap_or_default();
        let _ = writeln!(
            out,
            "  topic \"{topic}\":  {n} in, {runs} pass run(s), {:.3}ms in passes",
            time.as_secs_f64() * 1000.0
        );
    }
    for (topic, (n, _)) in &s.unrouted {
        let _ = writeln!(out, "  topic \"{topic}\":  {n} nested call(s) not routed");
    }
    let _ = writeln!(out, "  wall time:      {:.3}s", secs);
    let rate = if secs > 0.0 {
        s.steps as f64 / secs
    } else {
        0.0
    };
    let _ = writeln!(out, "  steps/second:   {rate:.0}");
    out
}

/// What Rust's own start-up does for a `main`, for the binary's C `main`
/// (see `src/main.rs`): standard streams that are closed are opened on
/// `/dev/null`, SIGPIPE is ignored (a write to a closed pipe is then an
/// `EPIPE` error, which ends the process with status 141), and a crash
/// (SIGSEGV or SIGBUS: in practice, the stack overflowing) says so and
/// ends with status 70, where Rust's start-up would have said "has
/// overflowed its stack" and aborted.
///
/// # Safety
///
/// Call it once, at the start of the process, before any thread starts.
pub unsafe fn prepare_process() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is three valid entries; open, signal, mmap and
    // sigaltstack are called with valid arguments, before any other thread
    // exists.
    unsafe {
        if libc::poll(fds.as_mut_ptr(), 3, 0) >= 0 {
            for fd in fds.iter().filter(|f| f.revents & libc::POLLNVAL != 0) {
                // `open` takes the lowest free descriptor: this one.
                if libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) != fd.fd {
                    libc::abort();
                }
            }
        }
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        // The crash handler runs on a stack of its own: the stack that
        // overflowed has no room left for it.
        const ALT: usize = 64 << 10;
        let alt = libc::mmap(
            std::ptr::null_mut(),
            ALT,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if alt != libc::MAP_FAILED {
            let stack = libc::stack_t {
                ss_sp: alt,
                ss_flags: 0,
                ss_size: ALT,
            };
            if libc::sigaltstack(&stack, std::ptr::null_mut()) == 0 {
                for signal in [libc::SIGSEGV, libc::SIGBUS] {
                    signals::handle(signal, on_crash, libc::SA_ONSTACK);
                }
            }
        }
    }
}

/// SIGSEGV or SIGBUS: says what most likely happened, and ends the process
/// with the internal-error status.
extern "C" fn on_crash(_signal: libc::c_int) {
    const MESSAGE: &[u8] = b"error: internal error: the process crashed, most likely by \
overflowing its stack (a value or a call nested too deep); this is a bug in Voyager: \
please report it with the script\n";
    // SAFETY: write and _exit are async-signal-safe.
    unsafe {
        libc::write(2, MESSAGE.as_ptr().cast(), MESSAGE.len());
        libc::_exit(i32::from(exit::INTERNAL));
    }
}

/// The process entry point; returns the exit status. The work runs on a
/// stack of 256 MiB (deeply nested input is refused with a diagnostic, but
/// parsing and compiling what is allowed still recurse), switched to on
/// this thread: a thread of its own cost more to start than the rest of
/// `voyager run hello.vy`. A panic is exit status 70.
pub fn start() -> u8 {
    let run = std::panic::AssertUnwindSafe(|| {
        let cli = match Cli::try_parse_run().map_or_else(Cli::try_parse, Ok) {
            Ok(cli) => cli,
            Err(e) => {
                let _ = e.print();
                return if e.use_stderr() {
                    exit::USAGE
                } else {
                    exit::OK
                };
            }
        };
        crate::memory::set_limit(Some(crate::memory::default_limit()));
        stacker::grow(256 << 20, move || main(cli))
    });
    std::panic::catch_unwind(run).unwrap_or_else(|_| {
        eprintln!(
            "error: internal error (this is a bug in Voyager; please report it with the script)"
        );
        exit::INTERNAL
    })
}
