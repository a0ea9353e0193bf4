//! The command line's words: subcommands, their flags, and the parsers for
//! durations and sizes (a bare number without a unit is refused).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::store;

const AFTER_HELP: &str = "\
Examples:
  voyager run examples/hello.vy             run a script
  voyager run --clock virtual --stats x.vy  delays are instant; print counts
  echo 'print(1 + 2)' | voyager run -       run standard input
  voyager check x.vy                        report errors without running
  voyager disasm x.vy                       show the bytecode
  voyager                                   an interactive session (:help)

Exit status: 0 done, 1 dead letters or a runtime error, 2 bad command line,
3 enqueue --unique refused (an unfinished item has the key), 65 the script does not compile (or no longer fits its --store run), 66 the script
or store cannot be read, 70 internal error,
74 output (or --store) could not be written, 75 the store is in use by another
process, 69 a PostgreSQL store cannot be reached, 130 stopped by SIGINT (Ctrl-C),
141 standard output or error was closed, 143 stopped by SIGTERM.";

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

impl Cli {
    /// `voyager run …` parsed with only the `run` subcommand built: clap
    /// building every subcommand's arguments was 0.43 M of the 1.9 M
    /// instructions of `voyager run hello.vy`. `None` when the first word
    /// is not `run` or the words do not parse as a run (`--help` included):
    /// then [`Cli::try_parse`] parses them again, with its own messages
    /// and exit statuses.
    pub fn try_parse_run() -> Option<Cli> {
        if std::env::args_os().nth(1)? != "run" {
            return None;
        }
        if let Some(cli) = Cli::plain_run(std::env::args_os().skip(2)) {
            return Some(cli);
        }
        let only = RunOnly::try_parse().ok()?;
        let RunOnlyCommand::Run(args) = only.command;
        Some(Cli {
            color: only.color,
            command: Some(Command::Run(args)),
        })
    }
}

impl Cli {
    /// `voyager run FILE`, the plainest and most common command line,
    /// without clap: building even the `run` subcommand's parser was a fifth
    /// of the instructions of `voyager run hello.vy`. `words` are those
    /// after `run`; `None` unless they are one word that is not a flag.
    /// The defaults are [`RunArgs`]'s, written out: a test holds them to
    /// what clap parses from the same words.
    pub fn plain_run(mut words: impl Iterator<Item = std::ffi::OsString>) -> Option<Cli> {
        let file = words.next()?;
        if words.next().is_some() || file.as_encoded_bytes().starts_with(b"-") {
            return None;
        }
        Some(Cli {
            color: ColorChoice::Auto,
            command: Some(Command::Run(RunArgs {
                file: PathBuf::from(file),
                trace: false,
                stats: false,
                clock: ClockChoice::Real,
                max_steps: None,
                max_attempts: 5,
                backoff: 100,
                batch: 1024,
                max_instructions: None,
                max_memory: None,
                progress: false,
                jobs: None,
                http_connect_timeout: 10_000,
                http_read_timeout: 30_000,
                max_read: 64 << 20,
                dead_letters: None,
                requeue: None,
                params: Vec::new(),
                store: None,
                sync: store::SyncChoice::Interval,
                fresh: false,
                schedules: false,
                for_time: None,
                clock_start: None,
            })),
        })
    }
}

/// [`Cli`] with the `run` subcommand alone (see [`Cli::try_parse_run`]).
#[derive(Parser, Debug)]
#[command(name = "voyager")]
struct RunOnly {
    /// As [`Cli::color`].
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,
    #[command(subcommand)]
    command: RunOnlyCommand,
}

#[derive(Subcommand, Debug)]
enum RunOnlyCommand {
    Run(RunArgs),
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
        /// Words to check against the script's parameters, as `run` takes them.
        #[arg(last = true, value_name = "WORDS")]
        params: Vec<String>,
    },
    /// Print a script's bytecode with its source lines.
    Disasm {
        /// The script (`-` for standard input).
        file: PathBuf,
    },
    /// An interactive session (also plain `voyager`). Reads statements from
    /// standard input, without prompts, when it is not a terminal.
    Repl(ReplArgs),
    /// A language server over standard input and output, for editors.
    Lsp,
    /// Explain an error code, with an example and its fix (`voyager explain E0100`);
    /// without a code, list them all.
    Explain {
        /// The code, as diagnostics show it: E0100, W0001, …
        code: Option<String>,
    },
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
    /// What a store (`run --store FILE`) holds: items by state, the oldest
    /// waiting item, the next timer, dead letters, the last run's throughput.
    Status(store::StatusArgs),
    /// List a store's dead letters (with the ids `requeue` takes).
    DeadLetters(store::StatusArgs),
    /// Put a store's dead letters back in its run, to run again with
    /// `voyager run --store FILE SCRIPT`.
    Requeue(store::RequeueArgs),
    /// Cancel unfinished items of a store's run (their rows are deleted:
    /// nothing resumes them).
    Cancel(store::CancelArgs),
    /// Work a PostgreSQL store's queue (`--store postgres://…`) beside
    /// other workers, without enqueuing the script's top level.
    Worker(super::worker::WorkerArgs),
    /// Add a message (an expression of the script's) to a PostgreSQL
    /// store's queue.
    Enqueue(super::worker::EnqueueArgs),
    /// Serve a script over HTTP: submit messages, call actions, watch items
    /// and dead letters (a JSON API and a dashboard at /).
    Serve(super::serve::ServeArgs),
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
    #[arg(long, value_name = "SIZE", value_parser = parse_memory_limit)]
    pub max_memory: Option<usize>,
    /// A live line on stderr while running (only when stderr is a terminal).
    #[arg(long)]
    pub progress: bool,
    /// Most native jobs (commands, file reads and writes, requests) in
    /// flight at once (default: 64, whatever the CPU count: jobs mostly
    /// wait; lower it for CPU-heavy commands).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// The longest an HTTP request may take to connect (per call:
    /// `connect_timeout` in the request record).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_positive_duration)]
    pub http_connect_timeout: i64,
    /// The longest an HTTP response may go without sending anything (per
    /// call: `read_timeout` in the request record).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_positive_duration)]
    pub http_read_timeout: i64,
    /// The largest file `read_file` reads (larger is a fatal error), in
    /// bytes or with a unit: 64MiB, 512KiB, 1GiB.
    #[arg(long, value_name = "SIZE", default_value = "64MiB", value_parser = parse_size)]
    pub max_read: u64,
    /// Also write the dead letters (and any unfinished items) to FILE, one
    /// JSON object a line.
    #[arg(long, value_name = "FILE")]
    pub dead_letters: Option<PathBuf>,
    /// Run the items of a dead-letters FILE: the script's declarations and
    /// top-level code run, but not the messages its top level makes. The
    /// file is trusted input (its items may call any action, `sh` included).
    #[arg(long, value_name = "FILE")]
    pub requeue: Option<PathBuf>,
    /// The script's parameters, after `--`: words for `param`, `--name VALUE`
    /// for `flag`, the rest for `args()` (`-- --help` lists them).
    #[arg(last = true, value_name = "WORDS")]
    pub params: Vec<String>,
    /// Keep the run in a SQLite file: killed, it resumes where it was with
    /// the same command (see "Durable runs" in the README).
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// With --store: commit in groups (`interval`: after 10ms or 1,024
    /// steps, or once the disk has written the last group) or after every
    /// step (`step`).
    #[arg(long, value_enum, default_value_t = store::SyncChoice::Interval, requires = "store")]
    pub sync: store::SyncChoice,
    /// With --store: start a new run even if the store holds one.
    #[arg(long, requires = "store")]
    pub fresh: bool,
    /// Fire the script's schedules and keep running for them, until
    /// stopped (Ctrl-C) or --for runs out. A run with --store fires them
    /// without it.
    #[arg(long)]
    pub schedules: bool,
    /// Fire schedules for this long of clock time (instant on the virtual
    /// clock), then finish the work started and end; implies --schedules.
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_positive_duration)]
    pub for_time: Option<i64>,
    /// With --clock virtual: start the clock at this RFC 3339 time
    /// (2026-01-05T08:00:00Z) instead of the Unix epoch.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub clock_start: Option<i64>,
}

/// `--clock-start`: an RFC 3339 time, as ms since the epoch.
fn parse_time(text: &str) -> Result<i64, String> {
    text.trim()
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .map_err(|e| format!("not an RFC 3339 time (2026-01-05T08:00:00Z): {e}"))
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq, Default)]
pub enum ClockChoice {
    #[default]
    Real,
    Virtual,
}

/// `--max-memory`: a size as for `--max-read`, or `none` (`usize::MAX`).
fn parse_memory_limit(text: &str) -> Result<usize, String> {
    if text.trim() == "none" {
        return Ok(usize::MAX);
    }
    parse_size(text).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
}

/// A duration as the language writes one: `250ms`, `2s`, `5m`, `1h`. A bare
/// number is refused: `5` could mean any unit.
pub(super) fn parse_duration(s: &str) -> Result<i64, String> {
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

/// `worker --lease`: at least 300ms (it is renewed every third of it).
pub(super) fn parse_lease(s: &str) -> Result<i64, String> {
    match parse_duration(s)? {
        n if n < 300 => Err("a lease must be at least 300ms".into()),
        n => Ok(n),
    }
}

fn parse_positive_duration(s: &str) -> Result<i64, String> {
    match parse_duration(s)? {
        0 => Err("the duration must be more than 0".into()),
        n => Ok(n),
    }
}

/// `4096`, `512KiB`, `64MiB`, `1GiB` (KB, MB and GB are taken as the same).
pub(super) fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{s}` is not a size (try 4096, 512KiB, 64MiB)"))?;
    let shift = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("`{unit}` is not a size unit (KiB, MiB, GiB)")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("`{s}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<std::ffi::OsString> {
        w.iter().map(Into::into).collect()
    }

    /// `plain_run`'s written-out defaults are clap's, field for field.
    #[test]
    fn the_plain_run_is_what_clap_parses() {
        for file in ["x.vy", "dir/a b.vy", "run"] {
            let fast = Cli::plain_run(words(&[file]).into_iter()).expect("a plain run");
            let clap = Cli::try_parse_from(words(&["voyager", "run", file])).unwrap();
            assert_eq!(format!("{fast:?}"), format!("{clap:?}"));
        }
    }

    /// Anything but one word that is not a flag goes to clap.
    #[test]
    fn flags_and_more_words_are_left_to_clap() {
        for w in [
            &[][..],
            &["-"],
            &["--stats"],
            &["x.vy", "--stats"],
            &["x.vy", "--", "a"],
        ] {
            assert!(Cli::plain_run(words(w).into_iter()).is_none(), "{w:?}");
        }
    }
}
