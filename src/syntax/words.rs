//! The words the REPL and the editor grammars colour and complete, in one
//! place: the keywords (the lexer's own list) and the message constructors
//! with their arity. tests/grammar.rs checks grammar/voyager.ebnf, the VS
//! Code grammar, the Vim syntax, the REPL and the prelude against these.

pub use super::lexer::KEYWORDS;

/// Words that are keywords in one place only, an action's resource clause
/// (`action deploy(host) limit 1 per host rate 2/s priority 5 { … }`), and names
/// everywhere else (`passes.limit`, `let rate = 2`): the editor grammars
/// colour them there, the REPL does not.
pub const CONTEXTUAL: &[&str] = &["limit", "per", "priority", "rate", "retry", "backoff"];

/// A schedule's words (`schedule report cron "0 9 * * MON-FRI" tz
/// "Europe/Paris" overlap skip { … }`): keywords in that declaration only,
/// names everywhere else, as [`CONTEXTUAL`].
pub const SCHEDULE: &[&str] = &[
    "schedule", "every", "cron", "tz", "overlap", "skip", "allow",
];

/// How many arguments a message constructor takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arity {
    /// Written bare, without parentheses: `noop`.
    Bare,
    Exactly(usize),
    /// `call(action, args…)`: this many, then any number more.
    AtLeast(usize),
}

/// A message constructor: an ordinary prelude name, not a keyword, but the
/// one vocabulary of messages (and of message patterns).
#[derive(Clone, Copy, Debug)]
pub struct Constructor {
    pub name: &'static str,
    pub arity: Arity,
}

const fn constructor(name: &'static str, arity: Arity) -> Constructor {
    Constructor { name, arity }
}

pub const CONSTRUCTORS: &[Constructor] = &[
    constructor("call", Arity::AtLeast(1)),
    constructor("data", Arity::Exactly(1)),
    constructor("seq", Arity::Exactly(1)),
    constructor("conc", Arity::Exactly(1)),
    constructor("promise", Arity::Exactly(2)),
    constructor("defer", Arity::Exactly(1)),
    constructor("delay", Arity::Exactly(1)),
    constructor("void", Arity::Exactly(1)),
    constructor("timeout", Arity::Exactly(2)),
    constructor("catch", Arity::Exactly(2)),
    constructor("ensure", Arity::Exactly(2)),
    constructor("then", Arity::Exactly(2)),
    constructor("retrying", Arity::Exactly(2)),
    constructor("noop", Arity::Bare),
];

pub fn is_constructor(word: &str) -> bool {
    CONSTRUCTORS.iter().any(|c| c.name == word)
}
