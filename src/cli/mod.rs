//! The `voyager` command line: a thin shell over [`crate::Voyager`].

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub mod repl;

use crate::bytecode::disasm::disassemble;
use crate::diag::Diagnostic;
use crate::engine::clock::Clock;
use crate::engine::{Config, Finish};
use crate::runtime::{LoadError, Options, Output, Voyager};

/// Exit statuses (SPEC §6.7).
pub mod exit {
    pub const OK: u8 = 0;
    pub const DEAD_LETTERS: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const COMPILE: u8 = 65;
    pub const UNREADABLE: u8 = 66;
    pub const INTERNAL: u8 = 70;
}

const AFTER_HELP: &str = "\
Examples:
  voyager run examples/hello.vy             run a script
  voyager run --clock virtual --stats x.vy  delays are instant; print counts
  echo 'print(1 + 2)' | voyager run -       run standard input
  voyager check x.vy                        report errors without running
  voyager disasm x.vy                       show the bytecode
  voyager                                   an interactive session (:help)

Exit status: 0 done, 1 dead letters or a runtime error, 2 bad command line,
65 the script does not compile, 66 the script cannot be read, 70 internal error.";

#[derive(Parser, Debug)]
#[command(
    name = "voyager",
    version,
    about = "Voyager: workflows as trees of messages — a small language and a message engine",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// When to colour diagnostics (NO_COLOR turns `auto` off).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a script, then the engine until no work is left.
    Run(RunArgs),
    /// Report a script's errors and warnings without running it.
    Check {
        /// The script (`-` for standard input).
        file: PathBuf,
    },
    /// Print a script's bytecode with its source lines.
    Disasm {
        /// The script (`-` for standard input).
        file: PathBuf,
    },
    /// An interactive session (also plain `voyager`). Reads statements from
    /// standard input, without prompts, when it is not a terminal.
    Repl(ReplArgs),
    /// Rewrite scripts in the canonical layout (`-` formats standard input
    /// to standard output).
    Fmt {
        /// Only list the files that would change; exit 1 if any would.
        #[arg(long)]
        check: bool,
        /// The scripts.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Draw a script's top-level messages as a flowchart.
    Graph {
        /// The script (`-` for standard input).
        file: PathBuf,
        /// `mermaid` (a `flowchart TD`, as GitHub renders) or Graphviz `dot`.
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(Args, Debug, Default)]
pub struct ReplArgs {
    /// Where to keep the history (default: $VOYAGER_HISTORY, or
    /// ~/.local/share/voyager/history).
    #[arg(long, value_name = "FILE")]
    pub history: Option<PathBuf>,
    /// Start on the virtual clock.
    #[arg(long, value_enum, default_value_t = ClockChoice::Real)]
    pub clock: ClockChoice,
    /// Stop each run after this many steps (the rest stays queued).
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The script (`-` for standard input).
    pub file: PathBuf,
    /// One line per step on stderr.
    #[arg(long)]
    pub trace: bool,
    /// Counts and timings on stderr at the end.
    #[arg(long)]
    pub stats: bool,
    /// `virtual` starts at the Unix epoch and skips waits: instant and deterministic.
    #[arg(long, value_enum, default_value_t = ClockChoice::Real)]
    pub clock: ClockChoice,
    /// Stop after this many steps (the rest is reported as unfinished).
    #[arg(long, value_name = "N")]
    pub max_steps: Option<u64>,
    /// Attempts in all for a call that fails retryably.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_attempts: u32,
    /// The first retry wait (doubling, capped at 30s), e.g. 100ms or 2s.
    #[arg(long, value_name = "DURATION", default_value = "100ms", value_parser = parse_duration)]
    pub backoff: i64,
    /// A topic's pass runs as soon as it holds this many messages.
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// Stop any one action after this many loop iterations and calls
    /// (guards against a runaway loop). No limit by default.
    #[arg(long, value_name = "N")]
    pub max_instructions: Option<u64>,
    /// Growing a value past this much heap is a runtime error (E0211)
    /// instead of an abort: e.g. 512MiB, 4GiB; `none` for no limit
    /// (default: half of the machine's memory).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<usize>,
    /// A live line on stderr while running (only when stderr is a terminal).
    #[arg(long)]
    pub progress: bool,
    /// Most native jobs (commands, file reads and writes) in flight at once
    /// (default: the number of CPUs).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// Also write the dead letters (and any unfinished items) to FILE, one
    /// JSON object a line.
    #[arg(long, value_name = "FILE")]
    pub dead_letters: Option<PathBuf>,
    /// Enqueue the messages of a dead-letters FILE after the script's top level.
    #[arg(long, value_name = "FILE")]
    pub requeue: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq, Default)]
pub enum ClockChoice {
    #[default]
    Real,
    Virtual,
}

/// A size for `--max-memory`: a number of bytes with an optional unit (`KiB`,
/// `MiB`, `GiB`, or `K`, `M`, `G` for the same), or `none` (`usize::MAX`).
fn parse_size(text: &str) -> Result<usize, String> {
    if text == "none" {
        return Ok(usize::MAX);
    }
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: usize = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (try 512MiB, 4GiB or none)"))?;
    let scale: usize = match unit {
        "" | "B" => 1,
        "K" | "KiB" => 1 << 10,
        "M" | "MiB" => 1 << 20,
        "G" | "GiB" => 1 << 30,
        _ => return Err(format!("unknown unit `{unit}` (use B, KiB, MiB or GiB)")),
    };
    number
        .checked_mul(scale)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// A duration as the language writes one: `250ms`, `2s`, `5m`, `1h`. A bare
/// number is refused: `5` could mean any unit.
fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: i64 = digits
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (write one as 250ms, 2s, 5m or 1h)"))?;
    if unit.is_empty() {
        return Err(format!(
            "`{s}` has no unit (write {s}ms, {s}s, {s}m or {s}h)"
        ));
    }
    let scale = crate::syntax::lexer::duration_unit(unit)
        .ok_or_else(|| format!("`{unit}` is not a duration unit (ms, s, m or h)"))?;
    n.checked_mul(scale)
        .ok_or_else(|| format!("`{s}` is too long"))
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
        Some(Command::Check { file }) => check(&file, color),
        Some(Command::Disasm { file }) => disasm(&file, color),
        Some(Command::Repl(args)) => repl_session(&args, color),
        Some(Command::Fmt { check, files }) => crate::fmt::run(&files, check, color),
        Some(Command::Graph { file, format }) => crate::graph::run(
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
fn read_script(file: &Path) -> Result<(String, String, Option<PathBuf>), u8> {
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

fn check(file: &Path, color: bool) -> u8 {
    let (name, text, dir) = match read_script(file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let (mut v, _) = Voyager::with_buffer(Config::default());
    match v.compile(&name, &text, dir.as_deref()) {
        Ok(_) => {
            let warnings = v.warnings.clone();
            report(&v, &warnings, color);
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
        out.push('\n');
        disassemble(&action.proto, &action.name, &text, &globals, &mut out);
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
        ..config
    };
    let clock = match args.clock {
        ClockChoice::Real => Clock::real(),
        ClockChoice::Virtual => Clock::virtual_at_epoch(),
    };
    let mut v = Voyager::new(Options {
        clock,
        config,
        output: Output::Stdout(std::io::BufWriter::new(std::io::stdout())),
    });
    v.engine.vm.fuel_limit = args.max_instructions;
    if let Some(limit) = args.max_memory {
        crate::memory::set_limit((limit != usize::MAX).then_some(limit));
    }
    if args.trace {
        v.engine.trace_sink = Some(Box::new(|line: &str| eprintln!("trace: {line}")));
    }
    let started = std::time::Instant::now();
    let show_progress = args.progress && std::io::stderr().is_terminal();
    if show_progress {
        v.engine.progress = Some(Box::new(move |p: &crate::engine::Progress| {
            let secs = started.elapsed().as_secs_f64().max(0.001);
            eprint!(
                "\r\x1b[K{} steps ({:.0}/s) | queued {} | timers {} | topics {} | jobs {} | dead {}",
                p.steps,
                p.steps as f64 / secs,
                p.queued,
                p.on_timers,
                p.in_topics,
                p.running_jobs,
                p.dead_letters
            );
        }));
    }
    match v.load(&name, &text, dir.as_deref()) {
        Ok(()) => {}
        Err(LoadError::Compile(diags)) => {
            report(&v, &diags, color);
            if let Some(line) = summary_line(&diags) {
                eprintln!("{line}");
            }
            return exit::COMPILE;
        }
        Err(LoadError::Runtime(d)) => {
            v.flush();
            report(&v, &[*d], color);
            return exit::DEAD_LETTERS;
        }
    }
    let warnings = v.warnings.clone();
    report(&v, &warnings, color);
    if let Some(path) = &args.requeue {
        if let Err(code) = requeue(&mut v, path) {
            return code;
        }
    }
    let finish = v.run();
    if show_progress {
        eprint!("\r\x1b[K");
    }
    let elapsed = started.elapsed();
    let mut status = exit::OK;
    let mut unfinished_messages = Vec::new();
    if let Finish::StepLimit { unfinished } = finish {
        status = exit::DEAD_LETTERS;
        eprintln!(
            "error[E0304]: stopped after {} steps (--max-steps); {unfinished} item(s) unfinished:",
            v.engine.stats.work()
        );
        if let Some((pass, runs)) = v.engine.runaway_pass() {
            eprintln!(
                "  most of that work was passes: pass \"{pass}\" ran {runs} times (pass runs and the messages they return count as steps)"
            );
        }
        unfinished_messages = v.engine.drain_unfinished();
        for m in unfinished_messages.iter().take(20) {
            eprintln!("    {}", m.display());
        }
        if unfinished > 20 {
            eprintln!("    … and {} more", unfinished - 20);
        }
    }
    let dead = v.engine.take_dead_letters();
    if let Some(path) = &args.dead_letters {
        if let Err(e) = write_dead_letters(&v, path, &dead, &unfinished_messages) {
            eprintln!("error: cannot write {}: {e}", path.display());
            status = exit::DEAD_LETTERS;
        }
    }
    if !dead.is_empty() {
        status = exit::DEAD_LETTERS;
        eprintln!("{} dead letter(s):", dead.len());
        for (i, d) in dead.iter().enumerate() {
            eprintln!(
                "dead letter {} of {}: {} (attempts: {})",
                i + 1,
                dead.len(),
                d.message.display(),
                d.attempts
            );
            let diag = crate::diag::from_runtime_error(&d.error, &v.sources);
            eprint!("{}", v.render(&diag, color));
        }
    }
    let unclaimed = v.engine.stats.unclaimed_data;
    if unclaimed > 0 {
        eprintln!("note: {unclaimed} unclaimed data message(s) dropped");
    }
    for (topic, (n, first)) in &v.engine.stats.unrouted {
        eprintln!(
            "warning: {n} call(s) that interest \"{topic}\" matches ran without being routed, because they were nested in another message (first: {first})\n  help: interests see only top-level messages; put the calls at the top level or let an action return them"
        );
    }
    if args.stats {
        eprint!("{}", stats_text(&v, elapsed));
    }
    status
}

/// One JSON object a line: the message (as `--requeue` reads it), its
/// display form, the error, the attempts and where it failed.
fn write_dead_letters(
    v: &Voyager,
    path: &Path,
    dead: &[crate::engine::DeadLetter],
    unfinished: &[crate::vm::message::Msg],
) -> std::io::Result<()> {
    use crate::engine::serial::message_to_json;
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let line = |m: &crate::vm::message::Msg,
                error: serde_json::Value,
                attempts: u32,
                at: Option<String>| {
        let mut record = serde_json::json!({
            "shown": m.display(),
            "error": error,
            "attempts": attempts,
            "at": at,
        });
        match message_to_json(m) {
            Ok(j) => record["message"] = j,
            Err(why) => {
                record["message"] = serde_json::Value::Null;
                record["unwritable"] = serde_json::Value::String(why);
            }
        }
        record
    };
    for d in dead {
        let error = serde_json::json!({
            "code": d.error.code,
            "message": d.error.message,
            "severity": d.error.severity,
        });
        let at = d.error.loc.map(|l| v.sources.position(l));
        writeln!(out, "{}", line(&d.message, error, d.attempts, at))?;
    }
    for m in unfinished {
        let error = serde_json::json!({
            "code": "E0304",
            "message": "unfinished when --max-steps stopped the run",
            "severity": "fatal",
        });
        writeln!(out, "{}", line(m, error, 0, None))?;
    }
    out.flush()
}

/// Reads a dead-letters file and enqueues its messages.
fn requeue(v: &mut Voyager, path: &Path) -> Result<(), u8> {
    use crate::engine::serial::message_from_json;
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", path.display());
        exit::UNREADABLE
    })?;
    let mut messages = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: String| {
            eprintln!("error: {}:{}: {why}", path.display(), i + 1);
            exit::UNREADABLE
        };
        let record: serde_json::Value =
            serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
        let message = match record.get("message") {
            Some(serde_json::Value::Null) => {
                eprintln!(
                    "warning: {}:{}: skipped: {}",
                    path.display(),
                    i + 1,
                    record
                        .get("unwritable")
                        .and_then(|w| w.as_str())
                        .unwrap_or("no message")
                );
                continue;
            }
            Some(m) => m.clone(),
            None => record,
        };
        let lookup = |name: &str| v.action_named(name);
        messages.push(message_from_json(&message, &lookup).map_err(bad)?);
    }
    for m in &messages {
        v.engine.enqueue(m);
    }
    Ok(())
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
    let _ = writeln!(out, "  unclaimed data: {}", s.unclaimed_data);
    let _ = writeln!(out, "  peak queue:     {}", s.peak_queue);
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

/// The process entry point: runs on a thread with a large stack (deeply
/// nested input is refused with a diagnostic, but parsing and compiling
/// what is allowed still recurse), and turns a panic into exit status 70.
pub fn start() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    crate::memory::set_limit(Some(crate::memory::default_limit()));
    let worker = std::thread::Builder::new()
        .name("voyager".into())
        .stack_size(256 << 20)
        .spawn(move || main(cli));
    let code = match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("error: internal error (this is a bug in Voyager; please report it with the script)");
            exit::INTERNAL
        }
    };
    ExitCode::from(code)
}
