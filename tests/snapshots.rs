//! Snapshots of what users read: diagnostics (colour off, a fixed file
//! name) and the disassembly of a few key programs.

use voyager::bytecode::disasm::disassemble;
use voyager::engine::Config;
use voyager::{LoadError, Voyager};

/// Every diagnostic a script gets from `check`, rendered as the CLI does.
fn diagnostics(src: &str) -> String {
    let (mut v, _) = Voyager::with_buffer(Config::default());
    match v.compile("test.vy", src, None) {
        Ok(_) => v.warnings.iter().map(|d| v.render(d, false)).collect(),
        Err(diags) => diags.iter().map(|d| v.render(d, false)).collect(),
    }
}

/// The runtime error a script's top level ends in.
fn runtime_error(src: &str) -> String {
    let (mut v, _) = Voyager::with_buffer(Config::default());
    match v.load("test.vy", src, None) {
        Err(LoadError::Runtime(d)) => v.render(&d, false),
        other => panic!("expected a runtime error, got {other:?}"),
    }
}

fn disasm(src: &str) -> String {
    let (mut v, _) = Voyager::with_buffer(Config::default());
    let units = v.compile("test.vy", src, None).expect("compiles");
    let unit = units.last().expect("a unit");
    let mut out = String::new();
    let globals = v.globals().slot_names();
    disassemble(&unit.script, "test.vy", src, &globals, &mut out);
    for action in &unit.actions {
        let proto = action.proto().expect("a script's actions have bodies");
        out.push('\n');
        disassemble(proto, &action.name, src, &globals, &mut out);
    }
    out
}

#[test]
fn unknown_name_with_suggestion() {
    insta::assert_snapshot!(diagnostics(
        "action greet(who) { print(\"hi {who}\") }\nprnt(1)\n"
    ));
}

#[test]
fn unknown_action_in_call() {
    insta::assert_snapshot!(diagnostics("action greet(who) { }\ncall(gret, \"x\")\n"));
}

#[test]
fn wrong_arity() {
    insta::assert_snapshot!(diagnostics("fn square(x) { x * x }\nprint(square(1, 2))\n"));
}

#[test]
fn duplicate_declaration() {
    insta::assert_snapshot!(diagnostics("fn f(x) { x }\naction f(y) { y }\n"));
}

#[test]
fn several_syntax_errors_in_one_run() {
    insta::assert_snapshot!(diagnostics(
        "let = 1\nlet b = [1, 2\nprint(b)\nlet c = \"open\n"
    ));
}

#[test]
fn interest_without_a_pass() {
    insta::assert_snapshot!(diagnostics(
        "action write(x) { }\ninterest \"w\" when call(write, _)\n"
    ));
}

#[test]
fn unknown_name_in_a_match_guard() {
    // A one-letter name is one edit from the compiler's unnamed locals, and
    // from no name here: no "did you mean ``".
    insta::assert_snapshot!(diagnostics(
        "action write(val) { }\nfn kind(msg) {\n  match msg {\n    call(write, val) if q > 1 => 1,\n    _ => 2\n  }\n}\n"
    ));
}

#[test]
fn assigning_a_builtin() {
    // `sh` and `noop` are built in: no place in any file is theirs.
    insta::assert_snapshot!(diagnostics("sh = 1\nnoop = 2\n"));
}

#[test]
fn declared_in_the_prelude() {
    // The second snippet is in std/prelude.vy, after non-ASCII comments:
    // its header must give the line and column of `reduce` there.
    insta::assert_snapshot!(diagnostics("reduce = 1\n"));
}

#[test]
fn runtime_arity_of_a_function_in_a_variable() {
    insta::assert_snapshot!(runtime_error(
        "fn square(x) { x * x }\nlet f = square\nprint(f(1, 2))\n"
    ));
}

#[test]
fn runtime_error_with_trace() {
    insta::assert_snapshot!(runtime_error(
        "fn half(x) { x / 0 }\nfn twice(x) { half(x) + half(x) }\nprint(twice(4))\n"
    ));
}

#[test]
fn disasm_seed_example() {
    insta::assert_snapshot!(disasm(
        "action greet(who) { print(\"hello, {who}\") }\n\nseq([call(greet, \"A\"), conc([call(greet, \"B\"), call(greet, \"C\")])])\n"
    ));
}

#[test]
fn disasm_closures_and_loops() {
    insta::assert_snapshot!(disasm(
        "fn counter() {\n  let n = 0\n  fn() { n = n + 1; n }\n}\nlet total = 0\nfor i in range(3) {\n  if i == 1 { continue }\n  total += i\n}\n"
    ));
}

#[test]
fn disasm_match() {
    insta::assert_snapshot!(disasm(
        "action w(x) { }\nfn kind(m) {\n  match m {\n    call(w, x) if x > 1 => \"big\",\n    [a, ..rest] => a,\n    _ => nil\n  }\n}\n"
    ));
}

#[test]
fn bad_unicode_escape_is_one_error() {
    insta::assert_snapshot!(diagnostics(
        "print(\"caf\\u{e9} \\u{zz} and \\u{110000}\")\nlet x = {a: 1}\nprint(x.a)\n"
    ));
}

#[test]
fn unterminated_string_is_one_error() {
    insta::assert_snapshot!(diagnostics(
        "let who = \"A\"\nprint(\"hello {who})\nfn f(x) { [x, x + 1] }\nlet r = {a: f(1), b: \"ok\"}\nprint(r)\n"
    ));
}

#[test]
fn reserved_word_as_a_name() {
    insta::assert_snapshot!(diagnostics(
        "let when = 1\nfn match() { 2 }\nfn f(in) { 3 }\nfor pass in [1] { }\n"
    ));
}

#[test]
fn unterminated_multiline_string() {
    insta::assert_snapshot!(diagnostics(
        "let help = \"\"\"\n  usage: deploy\nprint(help)\n"
    ));
}

// Issue 14's diagnostics, each as a newcomer meets it.

#[test]
fn a_string_where_an_action_belongs() {
    insta::assert_snapshot!(diagnostics(
        "action greet(who) { print(who) }\ncall(\"greet\")\n"
    ));
}

#[test]
fn call_with_a_count_its_action_never_takes() {
    insta::assert_snapshot!(diagnostics(
        "action deploy(target, region) { print(target) }\ncall(deploy, \"web\", \"eu\", \"now\")\n"
    ));
}

#[test]
fn call_one_argument_short_is_a_warning() {
    insta::assert_snapshot!(diagnostics(
        "action deploy(target, region) { print(target) }\ncall(deploy, \"web\")\n"
    ));
}

#[test]
fn promise_callback_with_the_wrong_arity() {
    insta::assert_snapshot!(diagnostics(
        "action report(results) { print(results) }\naction notify(channel, results) { print(channel) }\npromise([data(1)], notify)\npromise([data(2)], call(report, \"ops\"))\n"
    ));
}

#[test]
fn promise_callback_in_a_variable_with_the_wrong_arity() {
    insta::assert_snapshot!(runtime_error(
        "action report(results) { print(results) }\nlet cb = report\npromise([data(1)], call(cb, \"ops\"))\n"
    ));
}

#[test]
fn call_of_an_action_in_a_variable_with_too_many_arguments() {
    insta::assert_snapshot!(runtime_error(
        "action deploy(target) { print(target) }\nlet step = deploy\ncall(step, \"web\", \"eu\")\n"
    ));
}

#[test]
fn int_of_a_float_outside_the_int_range() {
    insta::assert_snapshot!(runtime_error("let big = 1e300\nprint(int(big))\n"));
}

#[test]
fn syntax_errors_after_an_unterminated_string_are_still_found() {
    insta::assert_snapshot!(diagnostics(
        "print(\"hello {who})\nlet total = 1 + * 2\nlet xs = [1, 2\nprint(xs)\n"
    ));
}

#[test]
fn syntax_errors_after_a_bad_unicode_escape_are_still_found() {
    insta::assert_snapshot!(diagnostics("print(\"caf\\u{zz}\")\nlet total = 1 + * 2\n"));
}
