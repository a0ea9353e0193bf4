//! `voyager repl`: an interactive session on rustyline, and the same loop
//! reading statements from standard input when it is not a terminal.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::{Context, Editor, Helper, Hinter, Validator};

use crate::bytecode::disasm::disassemble;
use crate::engine::clock::Clock;
use crate::engine::{Config, Finish};
use crate::runtime::{LoadError, Options, Output, Voyager};
use crate::syntax::lexer::{self, Token};
use crate::syntax::words::{self, CONSTRUCTORS, KEYWORDS};
use crate::vm::natives::NATIVES;
use crate::vm::value::Value;

const COMMANDS: &[(&str, &str)] = &[
    (":help", "this list"),
    (":load FILE", "load a script into the session"),
    (":reset", "forget everything: declarations, queues, stats"),
    (":disasm NAME", "the bytecode of a function or action"),
    (
        ":queue",
        "what waits in the main queue, on timers, in each topic",
    ),
    (
        ":step [N]",
        "run one (or N) steps, printing each; new messages then wait for :step or :run",
    ),
    (
        ":run",
        "run until no work is left, and again after every input",
    ),
    (":trace on|off", "print a line per step"),
    (":clock virtual|real", "virtual time skips waits"),
    (":stats", "what the engine has done"),
    (":quit", "leave (Ctrl-D too)"),
];

/// What Tab completes before anything is declared: keywords, message
/// constructors, prelude natives and `:` commands.
pub fn builtin_completions() -> Vec<&'static str> {
    let mut list: Vec<&'static str> = KEYWORDS.to_vec();
    list.extend(CONSTRUCTORS.iter().map(|c| c.name));
    // A schedule's words complete (they start or continue a declaration),
    // though they are names elsewhere.
    list.extend(crate::syntax::words::SCHEDULE.iter().copied());
    list.extend(NATIVES.iter().map(|n| n.name));
    list.extend(
        COMMANDS
            .iter()
            .map(|(c, _)| c.split(' ').next().unwrap_or(c)),
    );
    list.sort_unstable();
    list.dedup();
    list
}

/// Settings of a session.
pub struct ReplOptions {
    pub history: Option<PathBuf>,
    pub color: bool,
    pub clock_virtual: bool,
    pub max_steps: Option<u64>,
}

struct Session {
    v: Voyager,
    options: ReplOptions,
    /// Run the engine to idle after every input (off after `:step`).
    auto_run: bool,
    trace: Rc<RefCell<bool>>,
    interrupt: Arc<AtomicBool>,
    inputs: usize,
    /// Names for completion, refreshed after every input.
    names: Rc<RefCell<Vec<String>>>,
    errors: usize,
}

impl Session {
    fn new(
        options: ReplOptions,
        interrupt: Arc<AtomicBool>,
        names: Rc<RefCell<Vec<String>>>,
    ) -> Session {
        let trace = Rc::new(RefCell::new(false));
        let v = new_instance(&options, &interrupt, &trace);
        let mut s = Session {
            v,
            options,
            auto_run: true,
            trace,
            interrupt,
            inputs: 0,
            names,
            errors: 0,
        };
        s.refresh_names();
        s
    }

    fn refresh_names(&mut self) {
        let mut names: Vec<String> = builtin_completions()
            .into_iter()
            .map(str::to_string)
            .collect();
        names.extend(self.v.globals().names.keys().cloned());
        // The prelude's functions, loaded when an input first names them.
        names.extend(crate::runtime::prelude_names().map(str::to_string));
        names.sort();
        names.dedup();
        *self.names.borrow_mut() = names;
    }

    fn out(&mut self, text: &str) {
        self.v.flush();
        print!("{text}");
        let _ = std::io::stdout().flush();
    }

    fn error(&mut self, d: &crate::diag::Diagnostic) {
        self.v.flush();
        self.errors += 1;
        eprint!("{}", self.v.render(d, self.options.color));
    }

    /// Handles one complete input: a `:` command or statements.
    /// Returns false to end the session.
    fn handle(&mut self, input: &str) -> bool {
        self.interrupt.store(false, Ordering::Relaxed);
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return true;
        }
        if trimmed.starts_with(':') {
            return self.command(trimmed);
        }
        self.inputs += 1;
        let name = format!("<repl {}>", self.inputs);
        match self.v.eval(&name, input) {
            Ok(value) => {
                if !matches!(value, Value::Nil | Value::Message(_)) {
                    self.out(&format!("=> {}\n", value.repr()));
                }
            }
            Err(LoadError::Compile(diags)) => {
                for d in &diags {
                    self.error(d);
                }
            }
            Err(LoadError::Runtime(d)) => self.error(&d),
        }
        let warnings = std::mem::take(&mut self.v.warnings);
        for w in &warnings {
            eprint!("{}", self.v.render(w, self.options.color));
        }
        self.refresh_names();
        if self.auto_run {
            self.run();
        } else {
            self.v.flush();
            let queued = self.v.engine.pending();
            if queued > 0 {
                self.out(&format!("({queued} waiting: :step or :run)\n"));
            }
        }
        true
    }

    fn run(&mut self) {
        let finish = self.v.run();
        self.after_run(finish);
    }

    fn after_run(&mut self, finish: Finish) {
        self.v.flush();
        match finish {
            // (The REPL runs without a store.)
            Finish::Idle | Finish::StoreFailed(_) => {}
            Finish::StepLimit { unfinished } => {
                self.out(&format!(
                    "stopped at the step limit; {unfinished} item(s) still waiting (:queue, :run)\n"
                ));
            }
            Finish::Interrupted => {
                self.interrupt.store(false, Ordering::Relaxed);
                // Running commands stop too; their calls wait for :run.
                self.v.engine.requeue_jobs();
                let left = self.v.engine.pending();
                self.out(&format!(
                    "interrupted; {left} item(s) still waiting (:queue, :run)\n"
                ));
            }
        }
        for dead in self.v.engine.take_dead_letters() {
            self.errors += 1;
            eprintln!(
                "dead letter: {} (attempts: {})",
                dead.message.display(),
                dead.attempts
            );
            let d = crate::diag::from_runtime_error(&dead.error, &self.v.sources);
            eprint!("{}", self.v.render(&d, self.options.color));
        }
        let unclaimed = std::mem::take(&mut self.v.engine.stats.unclaimed_data);
        if unclaimed > 0 {
            eprintln!("note: {unclaimed} unclaimed data message(s) dropped");
        }
    }

    fn command(&mut self, line: &str) -> bool {
        let mut parts = line.splitn(2, char::is_whitespace);
        let name = parts.next().unwrap_or("");
        let arg = parts.next().unwrap_or("").trim();
        match name {
            ":help" | ":h" => {
                let mut text = String::from(
                    "Type statements: declarations stay, expressions show their value, messages run.\n",
                );
                for (c, what) in COMMANDS {
                    text.push_str(&format!("  {c:<22}{what}\n"));
                }
                self.out(&text);
            }
            ":quit" | ":q" | ":exit" => return false,
            ":load" => match std::fs::read_to_string(arg) {
                Ok(text) => {
                    let dir = std::path::Path::new(arg).parent().map(|p| p.to_path_buf());
                    match self.v.load(arg, &text, dir.as_deref()) {
                        Ok(()) => {
                            self.refresh_names();
                            if self.auto_run {
                                self.run();
                            }
                        }
                        Err(LoadError::Compile(diags)) => diags.iter().for_each(|d| self.error(d)),
                        Err(LoadError::Runtime(d)) => self.error(&d),
                    }
                }
                Err(e) => {
                    self.errors += 1;
                    eprintln!("error: cannot read {arg}: {e}");
                }
            },
            ":reset" => {
                self.v = new_instance(&self.options, &self.interrupt, &self.trace);
                self.auto_run = true;
                self.inputs = 0;
                self.refresh_names();
                self.out("(reset)\n");
            }
            ":disasm" => self.disasm(arg),
            ":queue" => {
                let text = self.v.engine.describe_queues(20);
                self.out(&text);
            }
            ":step" => {
                let n: u64 = if arg.is_empty() {
                    1
                } else {
                    arg.parse().unwrap_or(0)
                };
                if n == 0 {
                    self.errors += 1;
                    eprintln!("error: :step takes a positive number of steps");
                    return true;
                }
                self.auto_run = false;
                let was = self.v.engine.config.trace;
                self.v.engine.config.trace = true;
                let mut ran = 0;
                for _ in 0..n {
                    if self.v.engine.is_idle() || self.interrupt.load(Ordering::Relaxed) {
                        break;
                    }
                    if !self.v.engine.step_once() {
                        break;
                    }
                    ran += 1;
                }
                self.v.engine.config.trace = was;
                self.after_run(Finish::Idle);
                if ran == 0 {
                    self.out("(nothing to step)\n");
                }
            }
            ":run" => {
                self.auto_run = true;
                self.run();
            }
            ":trace" => match arg {
                "on" => *self.trace.borrow_mut() = true,
                "off" => *self.trace.borrow_mut() = false,
                _ => {
                    self.errors += 1;
                    eprintln!("error: :trace on|off");
                }
            },
            ":clock" => match arg {
                "virtual" => self.v.engine.clock.set_virtual(true),
                "real" => self.v.engine.clock.set_virtual(false),
                _ => {
                    self.errors += 1;
                    eprintln!("error: :clock virtual|real");
                }
            },
            ":stats" => {
                let s = &self.v.engine.stats;
                let text = format!(
                    "steps {}, items enqueued {}, retries {}, dead letters {}, recovered {}, peak queue {}\nwaiting: {} in the main queue, {} on timers, {} in topics, {} on jobs\n",
                    s.steps,
                    s.enqueued,
                    s.retries,
                    s.dead_letters,
                    s.recovered,
                    s.peak_queue,
                    self.v.engine.queued(),
                    self.v.engine.waiting(),
                    self.v.engine.in_topics(),
                    self.v.engine.parked()
                );
                self.out(&text);
            }
            other => {
                self.errors += 1;
                // Compared without the `:`, which no name has.
                let known: Vec<&str> = COMMANDS
                    .iter()
                    .map(|(c, _)| c.split(' ').next().unwrap_or(c).trim_start_matches(':'))
                    .collect();
                let typed = other.trim_start_matches(':');
                match crate::compile::did_you_mean(typed, known.iter().copied()) {
                    Some(s) => eprintln!("error: unknown command {other}; did you mean :{s}?"),
                    None => eprintln!("error: unknown command {other}; :help lists them"),
                }
            }
        }
        // The trace setting follows the :trace switch.
        self.v.engine.config.trace = *self.trace.borrow();
        true
    }

    fn disasm(&mut self, name: &str) {
        self.v.load_prelude_for(name);
        let proto = self
            .v
            .globals()
            .lookup(name)
            .map(|g| g.slot as usize)
            .and_then(|slot| match self.v.engine.vm.globals.get(slot) {
                Some(Value::Func(f)) => Some(f.proto.clone()),
                Some(Value::Action(a)) => a.proto().cloned(),
                _ => None,
            });
        match proto {
            Some(proto) => {
                let mut text = String::new();
                let source = self.v.sources.text(proto.source).to_string();
                let globals = self.v.globals().slot_names();
                disassemble(&proto, name, &source, &globals, &mut text);
                self.out(&text);
            }
            None => {
                self.errors += 1;
                eprintln!("error: `{name}` is not a declared function or action");
            }
        }
    }
}

fn new_instance(
    options: &ReplOptions,
    interrupt: &Arc<AtomicBool>,
    trace: &Rc<RefCell<bool>>,
) -> Voyager {
    let clock = if options.clock_virtual {
        Clock::virtual_at_epoch()
    } else {
        Clock::real()
    };
    let config = Config {
        max_steps: None,
        trace: *trace.borrow(),
        ..Config::default()
    };
    let mut v = Voyager::new(Options {
        clock,
        config,
        // Unbuffered here: what the program prints and the session's own
        // lines (values, traces) reach the terminal in order.
        output: Output::stdout(),
    });
    v.engine.interrupt = Some(interrupt.clone());
    v.engine.vm.interrupt = Some(interrupt.clone());
    // In a session, steps are part of the conversation: on stdout.
    v.engine.trace_sink = Some(Box::new(|line: &str| println!("trace: {line}")));
    if let Some(limit) = options.max_steps {
        v.engine.config.max_steps = Some(limit);
    }
    v
}

/// Whether an input is unfinished: an open bracket, block or string
/// interpolation, an unterminated block comment, or a trailing operator.
pub fn is_incomplete(input: &str) -> bool {
    let (tokens, errors) = lexer::lex(input);
    if errors
        .iter()
        .any(|e| matches!(e.kind, lexer::LexErrorKind::UnterminatedComment))
    {
        return true;
    }
    let mut depth: i64 = 0;
    for (t, _) in &tokens {
        match t {
            Token::LParen | Token::LBracket | Token::LBrace | Token::StrStart(_) => depth += 1,
            Token::RParen | Token::RBracket | Token::RBrace | Token::StrEnd(_) => depth -= 1,
            _ => {}
        }
    }
    if depth > 0 {
        return true;
    }
    matches!(
        tokens.last().map(|(t, _)| t),
        Some(
            Token::Plus
                | Token::Minus
                | Token::Star
                | Token::Slash
                | Token::Percent
                | Token::Comma
                | Token::Assign
                | Token::FatArrow
                | Token::And
                | Token::Or
                | Token::Dot
                | Token::EqEq
                | Token::NotEq
                | Token::Lt
                | Token::Le
                | Token::Gt
                | Token::Ge
        )
    )
}

/// An unfinished input is read line by line in `terminal` (so that its
/// continuation lines get their own prompt), not by a validator.
#[derive(Helper, Hinter, Validator)]
struct ReplHelper {
    names: Rc<RefCell<Vec<String>>>,
    color: bool,
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.' || c == ':'))
            .map_or(0, |i| i + 1);
        let word = &line[start..pos];
        if word.is_empty() {
            return Ok((pos, vec![]));
        }
        let candidates = self
            .names
            .borrow()
            .iter()
            .filter(|n| n.starts_with(word))
            .map(|n| Pair {
                display: n.clone(),
                replacement: n.clone(),
            })
            .collect();
        Ok((start, candidates))
    }
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color || line.trim_start().starts_with(':') {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight(line))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, _kind: CmdKind) -> bool {
        self.color
    }
}

/// Colours a line by its tokens (ANSI escapes).
pub fn highlight(line: &str) -> String {
    let (tokens, _) = lexer::lex(line);
    let mut out = String::with_capacity(line.len() * 2);
    let mut at = 0;
    for (token, span) in tokens {
        let (start, end) = (span.start as usize, span.end as usize);
        if start < at
            || end > line.len()
            || !line.is_char_boundary(start)
            || !line.is_char_boundary(end)
        {
            continue;
        }
        push_gap(&mut out, &line[at..start]);
        let colour = match &token {
            Token::Str(_) | Token::StrStart(_) | Token::StrMid(_) | Token::StrEnd(_) => Some("32"),
            Token::Int(_) | Token::Float(_) | Token::Duration(_) => Some("36"),
            Token::Ident(name) if words::is_constructor(name) => Some("33"),
            Token::Ident(_) => None,
            Token::Error => Some("31"),
            t if lexer::keyword_text(t).is_some() => Some("35;1"),
            _ => None,
        };
        match colour {
            Some(c) => out.push_str(&format!("\x1b[{c}m{}\x1b[0m", &line[start..end])),
            None => out.push_str(&line[start..end]),
        }
        at = end;
    }
    push_gap(&mut out, &line[at..]);
    out
}

/// White space and comments between tokens; comments dimmed.
fn push_gap(out: &mut String, gap: &str) {
    match gap.find("//").or_else(|| gap.find("/*")) {
        Some(i) => {
            out.push_str(&gap[..i]);
            out.push_str(&format!("\x1b[2m{}\x1b[0m", &gap[i..]));
        }
        None => out.push_str(gap),
    }
}

/// Where history is kept: `$VOYAGER_HISTORY`, or the user's data folder.
pub fn default_history() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("VOYAGER_HISTORY") {
        return Some(PathBuf::from(path));
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(data.join("voyager").join("history"))
}

/// Runs a session; returns the exit status.
pub fn run(options: ReplOptions) -> u8 {
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    // Ctrl-C while code runs stops it; while typing, rustyline sees the key.
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed));
    let names = Rc::new(RefCell::new(Vec::new()));
    if std::io::stdin().is_terminal() {
        terminal(options, interrupt, names)
    } else {
        let options = ReplOptions {
            color: false,
            ..options
        };
        piped(options, interrupt, names)
    }
}

fn terminal(
    options: ReplOptions,
    interrupt: Arc<AtomicBool>,
    names: Rc<RefCell<Vec<String>>>,
) -> u8 {
    let color = options.color;
    let history = options.history.clone();
    let mut session = Session::new(options, interrupt, names.clone());
    let config = rustyline::Config::builder()
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor: Editor<ReplHelper, rustyline::history::DefaultHistory> =
        match Editor::with_config(config) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: cannot start the line editor: {e}");
                return super::exit::INTERNAL;
            }
        };
    editor.set_helper(Some(ReplHelper { names, color }));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!(
        "Voyager {} — :help for commands, Ctrl-D to leave",
        env!("CARGO_PKG_VERSION")
    );
    // The lines of an input that is not finished yet (an open bracket, a
    // trailing operator).
    let mut buffer = String::new();
    loop {
        let prompt = match (buffer.is_empty(), color) {
            (true, true) => "\x1b[1;34mvy>\x1b[0m ",
            (true, false) => "vy> ",
            (false, true) => "\x1b[1;34m...>\x1b[0m ",
            (false, false) => "...> ",
        };
        match editor.readline(prompt) {
            Ok(line) => {
                buffer.push_str(&line);
                buffer.push('\n');
                if !buffer.trim_start().starts_with(':') && is_incomplete(&buffer) {
                    continue;
                }
                let input = std::mem::take(&mut buffer);
                let _ = editor.add_history_entry(input.trim_end());
                if !session.handle(&input) {
                    break;
                }
            }
            // Ctrl-C drops the whole unfinished input.
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(path);
    }
    super::exit::OK
}

/// Reads statements from a pipe: no prompts, no colours; each complete
/// input runs as it would at the prompt.
fn piped(options: ReplOptions, interrupt: Arc<AtomicBool>, names: Rc<RefCell<Vec<String>>>) -> u8 {
    let mut session = Session::new(options, interrupt, names);
    let mut buffer = String::new();
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        buffer.push_str(&line);
        buffer.push('\n');
        let is_command = buffer.trim_start().starts_with(':');
        if !is_command && is_incomplete(&buffer) {
            continue;
        }
        let input = std::mem::take(&mut buffer);
        if !session.handle(&input) {
            break;
        }
    }
    if !buffer.trim().is_empty() {
        session.handle(&buffer);
    }
    session.v.flush();
    if session.errors > 0 {
        super::exit::DEAD_LETTERS
    } else {
        super::exit::OK
    }
}
