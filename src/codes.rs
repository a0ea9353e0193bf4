//! Every error code, once: its code, the name the sources use for it, a
//! title and the long explanation `voyager explain` prints, with a small
//! program that gets it and the same program fixed. Compile errors
//! (`crate::diag`), runtime errors (`crate::vm::error`) and the command line
//! all name their codes through the constants this table yields;
//! tests/explain.rs checks that every code is used and no other file spells
//! one.

/// How an example shows its code.
#[derive(Clone, Copy, Debug)]
pub enum Reproduce {
    /// `voyager check` reports it.
    Check,
    /// `voyager run --clock virtual` with these extra options reports it.
    Run(&'static [&'static str]),
    /// Not by a short program; the reason is shown.
    Not(&'static str),
}

pub struct Explanation {
    /// The constant the sources use (`UNKNOWN_NAME`).
    pub name: &'static str,
    pub code: &'static str,
    pub title: &'static str,
    pub text: &'static str,
    pub example: &'static str,
    pub fix: &'static str,
    pub reproduce: Reproduce,
    /// For a code only a large program gets: builds one (the example then
    /// describes it).
    pub generate: Option<fn() -> String>,
}

const fn e(
    code: &'static str,
    title: &'static str,
    text: &'static str,
    example: &'static str,
    fix: &'static str,
    reproduce: Reproduce,
) -> Explanation {
    Explanation {
        name: "",
        code,
        title,
        text,
        example,
        fix,
        reproduce,
        generate: None,
    }
}

use Reproduce::{Check, Run};

const RUN: Reproduce = Run(&[]);

fn deep_nesting() -> String {
    format!("let x = {}1{}", "[".repeat(300), "]".repeat(300))
}

fn many_constants() -> String {
    let items: Vec<String> = (0..70_000).map(|i| format!("\"s{i}\"")).collect();
    format!("let xs = [{}]", items.join(", "))
}

/// Declares the table: each row `NAME = explanation` yields the constant
/// `NAME` (the code's text, such as `"E0100"`) and a row of [`TABLE`].
macro_rules! codes {
    ($($name:ident = $row:expr,)*) => {
        $(pub const $name: &str = $row.code;)*

        /// Every code, in order.
        pub static TABLE: &[Explanation] = &[$(Explanation {
            name: stringify!($name),
            ..$row
        }),*];
    };
}

codes! {
    UNEXPECTED_TOKEN = e("E0001", "a token where the grammar does not allow it",
      "The parser found a word or symbol it did not expect at that point: often a missing\n`)`, `]` or `}`, an operator with nothing after it, or a statement that a newline\nended early. The label says what was expected instead.",
      "print(1 +)", "print(1 + 2)", Check),
    UNTERMINATED_STRING = e("E0002", "a string that never ends",
      "A string opened with `\"` has no closing `\"` on the same line.",
      "print(\"hello)", "print(\"hello\")", Check),
    UNTERMINATED_COMMENT = e("E0003", "a block comment that never ends",
      "A `/*` has no matching `*/`. Block comments nest, so each inner `/*` needs its own `*/`.",
      "/* a note\nprint(1)", "/* a note */\nprint(1)", Check),
    INVALID_ESCAPE = e("E0004", "an unknown escape in a string",
      "The escapes are \\n \\t \\r \\\\ \\\" \\{ \\}. A backslash before any other character is an error.",
      "print(\"a\\qb\")", "print(\"a\\\\qb\")", Check),
    INVALID_NUMBER = e("E0005", "a malformed number or duration",
      "A number that does not read as one (`0xzz`), that does not fit in 64 bits, or a\nduration with an unknown unit (`5y`). Durations are written 250ms, 2s, 5m or 1h.",
      "let n = 99999999999999999999", "let n = 9999999999", Check),
    UNEXPECTED_CHAR = e("E0006", "a character that is not part of the language",
      "The lexer found a character that starts no token, such as `#` or `@` outside a string\nor comment. Comments start with `//`.",
      "let x = 1 # one", "let x = 1 // one", Check),
    TOO_DEEP = Explanation {
        generate: Some(deep_nesting),
        ..e("E0007", "a program nested too deeply",
      "More brackets are open at once than the parser allows. Split the expression with\n`let` or functions. (The example is 300 nested lists.)",
      "let x = [[[[ … 300 levels … 1 ]]]]", "let inner = [[1]]\nlet x = [[inner]]", Check)
    },
    RESERVED_WORD = e("E0008", "a reserved word used as a name",
      "Keywords (`let`, `fn`, `action`, `when`, `match`, `in`, …) cannot name a variable,\nparameter, function or action. Pick another name, such as `when_` or `at`.",
      "let when = 1\nprint(when)", "let at = 1\nprint(at)", Check),
    UNKNOWN_NAME = e("E0100", "an unknown name",
      "A name is used that no declaration, parameter, `let` in scope, import or prelude\nfunction defines. Names are resolved when the script is checked, before it runs; the\nhint suggests a close name when there is one.",
      "let total = 1\nprint(totl)", "let total = 1\nprint(total)", Check),
    NOT_AN_ACTION = e("E0101", "`call(...)` of something that is not an action",
      "The first argument of `call` must be a declared action (or a value that may hold one).\nA `fn` is called directly; an `action` runs through a message.",
      "fn greet(who) { print(who) }\ncall(greet, \"A\")", "action greet(who) { print(who) }\ncall(greet, \"A\")", Check),
    FN_ARITY = e("E0102", "a function called with the wrong number of arguments",
      "A declared `fn` (or prelude function) is called with more or fewer arguments than it\ntakes. (For `call(action, …)` see E0113 and E0207.)",
      "fn square(x) { x * x }\nprint(square(1, 2))", "fn square(x) { x * x }\nprint(square(2))", Check),
    DUPLICATE = e("E0103", "a name declared twice",
      "Two top-level declarations use the same name, or two passes serve the same topic.\nDeclarations are hoisted, so their order does not make either one win.",
      "action greet() { print(1) }\naction greet() { print(2) }", "action greet() { print(1) }\naction greet_again() { print(2) }", Check),
    BAD_ASSIGN = e("E0104", "an assignment to something that cannot be assigned",
      "Only a variable, a field (`r.k = v`) or an item (`xs[i] = v`) can be assigned, and\nnot a function, an action, a module or a built-in.",
      "let x = 1\n1 = x", "let x = 1\nx = 2", Check),
    OUTSIDE_LOOP = e("E0105", "`break` or `continue` outside a loop",
      "`break` and `continue` only make sense inside `for` or `while`.",
      "break", "for i in range(3) { if i == 1 { break } }", Check),
    OUTSIDE_FN = e("E0106", "`return` outside a function",
      "`return` ends a `fn`, an action or a lambda; the top level has nothing to return from.",
      "return 1", "fn one() { return 1 }\nprint(one())", Check),
    MISPLACED_DECL = e("E0107", "a declaration that must be at the top level",
      "`action`, `interest`, `observe`, `pass` and `import` declare things for the whole\nprogram, so they cannot be inside a function or block.",
      "fn setup() { action go() { print(1) } }", "action go() { print(1) }\nfn setup() { call(go) }", Check),
    UNKNOWN_MODULE = e("E0108", "an unknown module",
      "`import name` finds `std/name.vy` (embedded in the binary, such as `passes`) or\n`name.vy` next to the script. Neither exists.",
      "import nowhere", "import passes", Check),
    NO_PASS = e("E0109", "an interest whose topic has no pass",
      "An `interest` takes matching messages into its topic; without a `pass` for that topic\nnothing would ever take them out again.",
      "interest \"w\" when call(_, ..)", "interest \"w\" when call(_, ..)\npass \"w\" (msgs) { msgs }", Check),
    ACTION_CALLED = e("E0110", "an action called like a function",
      "An action runs through a message, which the engine runs later: write\n`call(name, args…)` and let it be enqueued (or returned), not `name(args…)`.",
      "action greet(who) { print(who) }\ngreet(\"A\")", "action greet(who) { print(who) }\ncall(greet, \"A\")", Check),
    TOO_LARGE = Explanation {
        generate: Some(many_constants),
        ..e("E0111", "a function too large for the bytecode",
      "One function (or the top level) needs more than 65535 constants, locals or jump\ndistance. Split it into smaller functions, or read large data from a file.\n(The example is a list literal of 70,000 different strings.)",
      "let xs = [\"s0\", \"s1\", … \"s69999\"]", "let xs = map(range(70000), fn(i) { \"s{i}\" })", Check)
    },
    BAD_PATTERN = e("E0112", "a pattern that can never match",
      "A `call(action, …)` pattern names an action with a different number of parameters, or\nnames something that is not an action. End the pattern with `..` to match any count.",
      "action greet(who) { print(who) }\ninterest \"t\" when call(greet, a, b)\npass \"t\" (msgs) { msgs }",
      "action greet(who) { print(who) }\ninterest \"t\" when call(greet, a)\npass \"t\" (msgs) { msgs }", Check),
    ACTION_ARITY = e("E0113", "a `call` of a declared action with a count of arguments it never takes",
      "`call(action, …)` of an action the script declares holds more arguments than it takes,\nor fewer by two or more. (A promise's callback is written with one fewer: the promise\nappends the list it collected; there, any other count is this error.) For an action\nin a variable, the same is checked when `call` runs: see E0207.",
      "action deploy(target, region) { print(target) }\ncall(deploy, \"web\", \"eu\", \"now\")",
      "action deploy(target, region) { print(target) }\ncall(deploy, \"web\", \"eu\")", Check),
    PARAM_DECL = e("E0120", "a parameter read in a way that cannot be checked",
      "`param`, `flag` and `env` name what a script takes (voyager run FILE -- words), so the\nnames are checked before anything runs: the name must be a string literal, one name\nmust not be both a `param` and a `flag`, a `flag` must be a switch (a bool default)\neverywhere or nowhere, and a required `param` cannot come after one with a default.",
      "let name = \"env\"\nprint(param(name))", "print(param(\"env\", \"dev\"))", Check),
    MISPLACED_SPREAD = e("E0121", "`..xs` outside a call's arguments",
      "`f(a, ..xs)` spreads the items of the list `xs` into a call's arguments. Anywhere\nelse `..` means nothing; lists are joined with `+`.",
      "let xs = [1, 2]\nlet ys = [0, ..xs]", "let xs = [1, 2]\nlet ys = [0] + xs", Check),
    IMPORT = e("E0122", "an import that cannot be loaded",
      "`import \"lib/x.vy\"` loads that file (relative to the importing file) into the\nnamespace `x`. A file that imports itself, directly or through others, two files that\nwould share one namespace, or a namespace that is already a name is an error; the\nreport shows both places.",
      "import \"example.vy\"\nprint(1)", "print(1)", Check),
    RESOURCE_KEY = e("E0123", "a resource key that names no parameter",
      "`action deploy(host) limit 1 per host { … }` keys the action's resource by the value of\none of its parameters: `per` must name one. Without `per` the limit holds for all of\nthe action's calls together.",
      "action deploy(host) limit 1 per server { print(host) }", "action deploy(host) limit 1 per host { print(host) }", Check),
    BAD_LIMIT = e("E0124", "a resource limit or rate that cannot be",
      "An action's resource clause takes `limit n` (at most n calls at once, n at least 1),\n`rate n/s`, `rate n/m` or `rate n/h` (at most n starts a second, minute or hour, n at\nleast 1), `per name` and `priority n` (from -100 to 100), each at most once, and a\nlimit or a rate with `per`.",
      "action fetch(url) rate 0/s { print(url) }", "action fetch(url) rate 10/s { print(url) }", Check),
    PASS_UNFED = e("W0001", "a pass that nothing feeds (a warning)",
      "A `pass` serves a topic that no `interest` or `observe` sends messages to, so it never runs.",
      "pass \"t\" (msgs) { msgs }", "observe \"t\" when data(_)\npass \"t\" (msgs) { [] }", Check),
    CALL_ONE_SHORT = e("W0002", "a `call` one argument short of its action (a warning)",
      "`call(action, …)` holds one argument fewer than the declared action takes. That is right\nonly for a promise's callback, to which the promise appends the list it collected;\nwritten inside `promise(…, call(action, …))` it is not warned about. Anywhere else the\ncall fails when it runs (E0207): add the missing argument.",
      "action deploy(target, region) { print(target) }\ncall(deploy, \"web\")",
      "action deploy(target, region) { print(target) }\ncall(deploy, \"web\", \"eu\")", Check),
    TYPE = e("E0200", "a value of the wrong type",
      "An operator or built-in got a value of a type it does not take, such as `1 + \"a\"`.\nConvert first with `str`, `int` or `float`.",
      "print(1 + \"a\")", "print(str(1) + \"a\")", RUN),
    OVERFLOW = e("E0201", "integer overflow",
      "Ints are 64-bit; an operation whose result does not fit is an error rather than a\nwrap-around. Use floats for values that large.",
      "print(9223372036854775807 + 1)", "print(9223372036854775807.0 + 1)", RUN),
    DIVISION_BY_ZERO = e("E0202", "division by zero",
      "`/` or `%` of an int by zero. Check the divisor first.",
      "let n = 0\nprint(10 / n)", "let n = 0\nprint(if n == 0 { 0 } else { 10 / n })", RUN),
    INDEX = e("E0203", "an index out of range",
      "`xs[i]` with `i` outside the list (or string). Check `len(xs)` first.",
      "print([1, 2][5])", "let xs = [1, 2]\nprint(if len(xs) > 5 { xs[5] } else { nil })", RUN),
    MISSING_KEY = e("E0204", "a missing record key",
      "`r.k` or `r[\"k\"]` where the record has no such key. `get(r, k, default)` gives a\ndefault instead of an error.",
      "print({a: 1}.b)", "print(get({a: 1}, \"b\", 0))", RUN),
    STACK_OVERFLOW = e("E0205", "too deep a recursion",
      "The call stack grew past its limit, usually through a recursion without a base case.",
      "fn f(n) { f(n + 1) }\nprint(f(0))", "fn f(n) { if n > 10 { n } else { f(n + 1) } }\nprint(f(0))", RUN),
    ASSERTION = e("E0206", "a failed assertion",
      "`assert(c, msg)` found `c` falsy. It fails fatally, with `msg`.",
      "assert(1 == 2, \"math\")", "assert(1 + 1 == 2, \"math\")", RUN),
    ARITY = e("E0207", "an action run with the wrong number of arguments",
      "A `call(action, …)` message holds more or fewer arguments than the action takes. A\ncount no run can accept is refused where `call(…)` is evaluated (so the error points\nthere); one fewer is allowed there, since a promise appends the list it collected to\nits callback's arguments, and fails when the call runs (for a declared action\n`voyager check` warns first: W0002). The example picks the action at run time.",
      "action greet(who) { print(who) }\nlet a = greet\ncall(a)", "action greet(who) { print(who) }\nlet a = greet\ncall(a, \"A\")", RUN),
    NOT_CALLABLE = e("E0208", "a call of something that is not a function",
      "Only functions (and lambdas) can be called with `f(…)`.",
      "let x = 1\nx()", "let x = fn() { 1 }\nprint(x())", RUN),
    NO_MATCH = e("E0209", "no arm of a `match` matched",
      "A `match` has no arm for the value. End it with `_ => …` to catch the rest.",
      "print(match 3 { 1 => \"one\" })", "print(match 3 { 1 => \"one\", _ => \"other\" })", RUN),
    VALUE = e("E0210", "a value a built-in cannot take",
      "The type is right but the value is not: `int(\"abc\")`, `replace(s, \"\", t)`.",
      "print(int(\"abc\"))", "print(int(\"42\"))", RUN),
    JSON = e("E0212", "invalid JSON",
      "`json_decode` got text that is not JSON; the message says the line and column where\nit stops making sense. (A value with no JSON form, such as a duration, is E0200.)",
      "print(json_decode(\"[1, 2,]\"))", "print(json_decode(\"[1, 2]\"))", RUN),
    REGEX = e("E0213", "an invalid regular expression",
      "A `regex_*` function got a pattern the regex crate cannot compile: an unclosed group,\na bad escape, or a look-around or backreference, which it does not have (it matches in\nlinear time). The message shows the pattern and where it goes wrong.",
      "print(regex_match(\"a(b\", \"(b\"))", "print(regex_match(\"a(b\", \"\\\\(b\"))", RUN),
    MEMORY = e("E0211", "out of memory (--max-memory)",
      "A value grew past the heap limit (`--max-memory`, by default half of the machine's\nmemory). It is an error of the action, not a crash. The example doubles a list forever\nunder `--max-memory 16MiB`.",
      "let xs = [\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]\nwhile true { xs = xs + xs }",
      "let xs = [\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]\nfor i in range(10) { xs = xs + xs }", Run(&["--max-memory", "16MiB"])),
    FAIL = e("E0300", "fail(reason)",
      "An action called `fail(reason)`: a fatal error. Its whole item becomes a dead letter,\nlisted at the end of the run (exit status 1).",
      "action deploy() { fail(\"no target\") }\ncall(deploy)", "action deploy() { print(\"deployed\") }\ncall(deploy)", RUN),
    RETRY = e("E0301", "retry(reason), out of attempts",
      "An action called `retry(reason)`: the call runs again after a backoff (5 attempts in\nall by default: `--max-attempts`, `--backoff`); when the attempts are used up the\nerror is fatal and the item becomes a dead letter.",
      "action flaky() { retry(\"service down\") }\ncall(flaky)", "let tries = 0\naction flaky() { tries = tries + 1; if tries < 3 { retry(\"service down\") } }\ncall(flaky)", RUN),
    BAD_RESULT = e("E0302", "a pass that returned something else than messages",
      "A pass must return a list of messages, or `{ready: […], further: […]}` of them.",
      "action a(x) { print(x) }\ninterest \"t\" when call(a, _)\npass \"t\" (msgs) { [1] }\ncall(a, 1)",
      "action a(x) { print(x) }\ninterest \"t\" when call(a, _)\npass \"t\" (msgs) { msgs }\ncall(a, 1)", RUN),
    BAD_MESSAGE = e("E0303", "a message built from values that are not messages",
      "`seq`, `conc` and `promise` take lists of messages, `call` an action first, and a\npromise's callback is an action or a `call(...)`. Wrap plain values in `data(...)`.",
      "seq([1, 2])", "seq([data(1), data(2)])", RUN),
    MAX_STEPS = e("E0304", "stopped by --max-steps",
      "The run took more steps than `--max-steps` allows: a runaway program, such as an\naction that always calls itself. The unfinished items are listed, not lost.",
      "action spin() { call(spin) }\ncall(spin)", "action spin(n) { if n > 0 { call(spin, n - 1) } }\ncall(spin, 3)", Run(&["--max-steps", "10"])),
    PASS = e("E0305", "a pass that never lets anything through",
      "A pass returned every message as `further` round after round while nothing else could\nrun, so the run could never end; its messages become dead letters.",
      "action a(x) { print(x) }\ninterest \"t\" when call(a, _)\npass \"t\" (msgs) { {ready: [], further: msgs} }\ncall(a, 1)",
      "action a(x) { print(x) }\ninterest \"t\" when call(a, _)\npass \"t\" (msgs) { {ready: msgs, further: []} }\ncall(a, 1)", RUN),
    INTERRUPTED = e("E0306", "interrupted (Ctrl-C)",
      "The run was interrupted with Ctrl-C while an action was running; what was running is\nreported as interrupted.",
      "action spin() { while true { } }\ncall(spin)", "action spin() { for i in range(10) { } }\ncall(spin)", Reproduce::Not("it needs a Ctrl-C")),
    JOB = e("E0307", "a native job failed",
      "A command (`sh`), a file read or write, or an HTTP request failed: a non-zero exit\nstatus, an I/O error, a bad status. Most are retried; the last error is in the dead\nletter. `call(sh, cmd, {check: false})` yields the exit code instead of failing.",
      "call(sh, \"exit 3\")", "call(sh, \"exit 3\", {check: false})", Run(&["--max-attempts", "1"])),
    PARAMETER = e("E0309", "a missing or malformed parameter",
      "The words after `--` in `voyager run FILE -- …` do not fit what the script reads: a\nrequired `param`, `flag` or `env` is missing, a word does not convert to its default's\ntype, or a `--flag` is one the script never reads. Nothing has run yet (exit status 2).\n`voyager run FILE -- --help` lists what the script takes.",
      "let target = param(\"env\")\nprint(target)", "let target = param(\"env\", \"dev\")\nprint(target)", Run(&[])),
    EXIT = e("E0310", "exit(n) ended the run",
      "`exit(n)` ends a run with status n once the running step is over: the action that\ncalled it stops there, and work still queued does not run. If any was queued it is\nlisted as unfinished (and written to --dead-letters FILE, to requeue); otherwise the\nrun ends quietly. Outside `voyager run` there is no run to end.",
      "action stop() { exit(3) }\naction later() { print(\"later\") }\ncall(stop)\ncall(later)",
      "action stop() { exit(3) }\naction later() { print(\"later\") }\ncall(later)\ncall(stop)", Run(&[])),
    RETRY_POLICY = e("E0311", "a retry policy that is not one",
      "`retrying(m, policy)` takes a number of attempts in all (`1`: no retry) or a record\n`{attempts: 5, backoff: 2s, max_backoff: 1m, on: [\"E0307\"]}`: the first wait, doubling up\nto `max_backoff`, and the error codes that retry (others are fatal at once). Any other\nkey or value is an error.",
      "retrying(noop, {tries: 3})", "retrying(noop, {attempts: 3})", RUN),
    RESOURCE_DEADLOCK = e("E0312", "calls waiting for resources that nothing will free",
      "Every item left waits for its turn on a limited action's resource, and the calls that\nhold those resources wait too: for each other, or for themselves (a call of an action\nwith `limit 1` whose result calls the same action on the same key waits for the first\ncall, which holds the key until its result has run). The newest waiting item becomes a\ndead letter, which frees what it held, and the others go on.",
      "action walk(n) limit 1 { if n > 0 { call(walk, n - 1) } }\ncall(walk, 2)",
      "action walk(n) { if n > 0 { call(walk, n - 1) } }\ncall(walk, 2)", RUN),
    TIMEOUT = e("E0308", "timeout(d, m) ran out of time",
      "The message inside `timeout(d, m)` did not finish within `d`. It is retried from the\nstart after a backoff, then fatal when the attempts are used up.",
      "timeout(10ms, delay(1s))", "timeout(2s, delay(1s))", Run(&["--max-attempts", "1"])),
    STORE_UNREADABLE = e("E0400", "a file that is not a usable store",
      "`--store FILE` (or `voyager status FILE`, …) names a file that is not a Voyager store: not a\nSQLite database, another program's database, or a store that is truncated or damaged.\nThe file is left exactly as it was. Exit status 66.",
      "voyager run --store notes.txt job.vy", "voyager run --store job.db job.vy", Reproduce::Not("it needs a damaged file")),
    STORE_NEWER = e("E0401", "a store written by a newer Voyager",
      "The store's schema version is newer than this Voyager knows: a newer Voyager wrote it.\nOlder stores are upgraded in place; newer ones are refused untouched. Exit status 66.",
      "voyager run --store from-the-future.db job.vy", "(run it with the newer Voyager)", Reproduce::Not("it needs a store from a newer Voyager")),
    STORE_LOCKED = e("E0402", "a store in use by another process",
      "One process at a time runs on a store: a second `voyager run --store` (or `requeue`) on the\nsame file is refused while the first holds it. `voyager status` may read it meanwhile.\nExit status 75: try again later.",
      "voyager run --store job.db job.vy &  voyager run --store job.db job.vy", "(wait for the first to finish)", Reproduce::Not("it needs two processes")),
    STORE_SCRIPT_CHANGED = e("E0403", "a script that no longer fits its stored run",
      "A run resumed from a store names actions in its unfinished items; the script was changed\nsince the run began and some of them are gone, or take another number of arguments. They\nare listed; nothing has run. Exit status 65.",
      "(job.vy lost `action fetch(url)` since the run began)", "(put the action back, or start anew with --fresh)", Reproduce::Not("it needs a store and a changed script")),
    STORE_FAILED = e("E0404", "a store that could not be written during a run",
      "Writing a run's changes to its store failed (the disk is full, the file was removed, …).\nThe run stops at once; what was committed before stays, and the same command resumes\nfrom there once the cause is fixed.",
      "(the disk fills up during voyager run --store job.db job.vy)", "(free space, run the same command again)", Reproduce::Not("it needs a failing disk")),
    STORE_UNREACHABLE = e("E0405", "a PostgreSQL store that cannot be reached",
      "`--store postgres://…` (or `voyager status URL`, `worker`, `enqueue`) could not connect:\nthe server is down, the host, port, user or database in the URL is wrong, or a password\nis missing. Nothing was read or written. Exit status 69.",
      "voyager worker --store postgres://localhost:1/none job.vy", "voyager worker --store postgres://app@db.internal/app job.vy", Reproduce::Not("it needs a PostgreSQL URL")),
    ITEM_ABANDONED = e("E0406", "an item whose workers kept stopping while they held it",
      "With a PostgreSQL store, an item whose worker stopped (killed, cut off) while it held the\nitem is taken again by another worker, with the attempt counted. An item taken 5 times\nwithout finishing is a dead letter with this code, so that one item that crashes every\nworker it meets cannot stop them all. `voyager requeue` puts it back.",
      "(an action that makes the worker process crash, every time)", "(fix the action, then voyager requeue URL ID)", Reproduce::Not("it needs workers that crash")),
    ENQUEUED_INVALID = e("E0407", "an enqueued expression that is not a message of the script",
      "`SELECT voyager.enqueue('…')` adds an expression as text; the worker that takes it compiles\nit against its script. One that does not compile, fails, or is not a message is a dead\nletter with this code and the error.",
      "SELECT voyager.enqueue('call(no_such_action, 1)');", "SELECT voyager.enqueue('call(work, 1)');", Reproduce::Not("it needs a PostgreSQL store")),
    UNIQUE_TAKEN = e("E0408", "an enqueue refused: an unfinished item has its unique key",
      "`voyager enqueue --unique KEY` adds an item only if no unfinished item holds KEY (a unique\nindex decides, so two concurrent enqueues cannot both get in). Once that item is finished\nthe key is free again. Exit status 3; nothing was added.",
      "voyager enqueue --store URL --unique report-42 job.vy 'call(report, 42)'  # twice", "(wait for the first to finish, or use another key)", Reproduce::Not("it needs a PostgreSQL store")),
    API_BAD_REQUEST = e("E0500", "a request to `voyager serve` that cannot be read",
      "The body is not JSON, not of the shape the endpoint takes (`{\"message\": \"…\"}` for\nPOST /v1/messages, an array of arguments for POST /v1/call/{action}), an argument cannot\nbe read as a value, or an id or query parameter is malformed. HTTP status 400.",
      "(POST /v1/messages with the body {\"msg\": 1})", "(POST /v1/messages with the body {\"message\": \"call(build)\"})", Reproduce::Not("it needs a running server")),
    API_NOT_A_MESSAGE = e("E0501", "a request whose expression is not a message",
      "POST /v1/messages takes one expression, evaluated against the script's declarations,\nwhose value is a message. Statements and declarations (`let`, `action`, …) are refused:\nthe script declares what requests may use. HTTP status 400.",
      "(POST /v1/messages {\"message\": \"1 + 2\"})", "(POST /v1/messages {\"message\": \"call(build, 1 + 2)\"})", Reproduce::Not("it needs a running server")),
    API_NATIVE_REFUSED = e("E0502", "a request that calls a native action",
      "A message from a request may call only the script's own actions: the native ones\n(`sh`, the file actions, `http`) would let a request run what the script's author never\nwrote. The operator can allow some by name: `voyager serve --allow-native sh,http`.\nThe functions that read the server's environment and command line (`env`, `args`,\n`param`, `flag`) are refused the same way. HTTP status 403.",
      "(POST /v1/messages {\"message\": \"call(sh, \\\"ls\\\")\"})", "(declare `action list() { call(sh, \"ls\") }` in the script and call it)", Reproduce::Not("it needs a running server")),
    API_NOT_FOUND = e("E0503", "a request for something the server does not have",
      "No item or dead letter has that id (finished items are forgotten, oldest first, past\n--keep), the script has no action of that name, or there is no such endpoint\n(GET /openapi.json lists them). HTTP status 404.",
      "(GET /v1/items/999999)", "(GET /v1/items/1, an id POST /v1/messages returned)", Reproduce::Not("it needs a running server")),
    API_UNAUTHORIZED = e("E0504", "a request without the server's token",
      "A server started with --token (or VOYAGER_TOKEN) answers only requests that carry\n`Authorization: Bearer <token>`. HTTP status 401.",
      "(curl http://host:7700/v1/items)", "(curl -H 'Authorization: Bearer …' http://host:7700/v1/items)", Reproduce::Not("it needs a running server")),
    API_TOO_LARGE = e("E0505", "a request body over the size limit",
      "Request bodies are limited (--max-body, 1MiB by default). HTTP status 413.",
      "(POST /v1/messages with a 5 MiB body)", "(send less, or start the server with --max-body 8MiB)", Reproduce::Not("it needs a running server")),
    API_TIMEOUT = e("E0506", "a call that did not finish within the call timeout",
      "POST /v1/call/{action} waits for its item to finish, up to --call-timeout (30s by\ndefault). The item goes on; GET /v1/items/{id} shows it later. HTTP status 504.",
      "(POST /v1/call/slow [] where slow waits a minute)", "(GET /v1/items/{id} later, or --call-timeout 2m)", Reproduce::Not("it needs a running server")),
    API_UNAVAILABLE = e("E0507", "a request while the server is stopping",
      "The engine has stopped (SIGINT or SIGTERM, or its store failed): the request was not\ntaken. HTTP status 503.",
      "(a request during shutdown)", "(send it again once the server runs)", Reproduce::Not("it needs a running server")),
    SERVE_LISTEN = e("E0508", "an address `voyager serve` cannot listen on",
      "The --listen address is in use by another process, or not an address of this machine.\nExit status 75.",
      "(voyager serve job.vy --listen 127.0.0.1:7700 while another server uses the port)", "(voyager serve job.vy --listen 127.0.0.1:7701)", Reproduce::Not("it needs a port in use")),
    SERVE_NEEDS_TOKEN = e("E0509", "a server on a non-loopback address without a token",
      "`voyager serve` listens on loopback (127.0.0.1) unless told otherwise; listening on any\nother address lets other machines submit work, so it needs --token (or the environment\nvariable VOYAGER_TOKEN), and then every request must carry it as a bearer token.\nExit status 2.",
      "(voyager serve job.vy --listen 0.0.0.0:7700)", "(VOYAGER_TOKEN=… voyager serve job.vy --listen 0.0.0.0:7700)", Reproduce::Not("it needs a running server")),
    API_BUSY = e("E0510", "a request while too many wait for the engine",
      "Requests reach the engine one at a time, between its steps; at most --max-pending (1024)\nwait for it. Past that the server answers 503 with a Retry-After header instead of\nqueueing without bound: the engine is busy (a long step) or requests come faster than it\ntakes them.",
      "(a burst of requests while the engine runs a long step)", "(send it again after Retry-After seconds, or --max-pending 4096)", Reproduce::Not("it needs a running server")),
    API_GONE = e("E0511", "a request for an item or dead letter the server has forgotten",
      "The server remembers the newest --keep (100,000) finished items and as many dead letters;\nolder ones are forgotten, oldest first, so that a long-running server's memory stays\nbounded. With --store, the store still has what was committed. HTTP status 410.",
      "(GET /v1/items/1 after more than --keep items finished)", "(GET /v1/items/{id} soon after it finished, or --keep 1000000)", Reproduce::Not("it needs a running server")),
    API_FINISHED = e("E0512", "a cancel for an item that has finished",
      "POST /v1/items/{id}/cancel stops an unfinished item: its queued, waiting and parked parts\nare taken out and its running commands' process groups ended. An item that is done, dead,\ncancelled or handed to a topic has nothing left to stop. HTTP status 409.",
      "(POST /v1/items/1/cancel after item 1 is done)", "(GET /v1/items/1 to see its state first)", Reproduce::Not("it needs a running server")),
}

/// The explanation of a code (`E0100`, or `e0100`).
pub fn lookup(code: &str) -> Option<&'static Explanation> {
    TABLE
        .iter()
        .find(|e| e.code.eq_ignore_ascii_case(code.trim()))
}
