//! The REPL: scripted through standard input (no prompts, no colours), and
//! driven through a real pseudo-terminal.

use std::io::Write;
use std::process::{Command, Stdio};

fn transcript(input: &str) -> (String, String, i32) {
    transcript_with(input, &[])
}

fn transcript_with(input: &str, extra: &[&str]) -> (String, String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never", "repl", "--clock", "virtual"])
        .args(extra)
        .env(
            "VOYAGER_HISTORY",
            std::env::temp_dir().join("voyager-test-history"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("writes");
    let out = child.wait_with_output().expect("finishes");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn values_declarations_and_messages() {
    let (out, err, code) = transcript(
        "let xs = [1, 2, 3]\nxs\nmap(xs, fn(x) {\n  x * 2\n})\naction greet(who) {\n  print(\"hello, {who}\")\n}\ncall(greet, \"A\")\n\"a\" + \"b\"\n",
    );
    assert_eq!(
        out, "=> [1, 2, 3]\n=> [2, 4, 6]\nhello, A\n=> \"ab\"\n",
        "stderr: {err}"
    );
    assert_eq!(code, 0);
}

#[test]
fn errors_do_not_end_the_session() {
    let (out, err, code) = transcript("prnt(1)\nlet y = (1 +\n  2)\ny\n1 / 0\ny + 1\n");
    assert_eq!(out, "=> 3\n=> 4\n");
    assert!(err.contains("[E0100] Error: I don't know the name `prnt`"));
    assert!(err.contains("did you mean `print`?"));
    assert!(err.contains("[E0202] Error: division by zero"));
    assert_eq!(code, 1, "a scripted session with errors ends with status 1");
}

#[test]
fn redeclaring_replaces_for_earlier_code() {
    let (out, _, _) = transcript("fn f() { 1 }\nfn g() { f() }\ng()\nfn f() { 2 }\ng()\n");
    assert_eq!(out, "=> 1\n=> 2\n");
}

#[test]
fn queue_step_and_run() {
    let (out, _, _) = transcript(
        "action log(x) { print(x) }\n:step\nseq([call(log, 1), call(log, 2)])\n:queue\n:step\n:run\n",
    );
    let expected = "(nothing to step)\n\
        (1 waiting: :step or :run)\n\
        main queue: 1 item(s)\n  #1 seq([call(log, 1), call(log, 2)])\ntimers: 0 item(s)\n\
        1\ntrace: step 1 #1 seq([call(log, 1), call(log, 2)]) -> [(continues) call(log, 2)]\n\
        2\n";
    assert_eq!(out, expected);
}

#[test]
fn queue_shows_what_waits_on_which_resource() {
    let (out, err, _) = transcript(
        "action deploy(host, n) limit 1 per host { seq([delay(1s), data(n)]) }\n:step\n\
         conc([call(deploy, \"a\", 1), call(deploy, \"a\", 2), call(deploy, \"b\", 3), call(deploy, \"a\", 4)])\n\
         :step 4\n:queue\n",
    );
    let expected = "resources: 2 in use\n\
        \x20 deploy \"a\": 1 running, 2 waiting: #2 #4\n\
        \x20 deploy \"b\": 1 running, 0 waiting\n\
        on jobs or resources: 2 item(s)\n\
        \x20 #2 call(deploy, \"a\", 2)\n\
        \x20 #4 call(deploy, \"a\", 4)";
    assert!(out.contains(expected), "stdout: {out}\nstderr: {err}");
}

#[test]
fn commands() {
    let (out, err, _) = transcript(
        ":help\nfn sq(x) { x * x }\n:disasm sq\n:clock real\n:clock virtual\n:trace on\naction a() { }\ncall(a)\n:trace off\n:stats\n:nope\n:quit\nprint(\"never\")\n",
    );
    assert!(out.contains(":step [N]"));
    assert!(out.contains("== fn sq (arity 1) =="));
    assert!(out.contains("MUL"));
    assert!(out.contains("trace: step 1 #1 call(a) -> []"));
    assert!(out.contains("steps 1, items enqueued 1"));
    assert!(!out.contains("never"));
    assert!(err.contains("unknown command :nope"));
}

#[test]
fn a_mistyped_command_gets_a_suggestion() {
    let (_, err, _) = transcript("fn sq(x) { x * x }\n:disasn sq\n");
    assert!(
        err.contains("unknown command :disasn; did you mean :disasm?"),
        "{err}"
    );
}

#[test]
fn disasm_names_the_globals_it_reads_and_writes() {
    let (out, err, _) = transcript(
        "let total = 0\nfn sq(x) { x * x }\nfn add(n) { total = total + sq(n) }\n:disasm add\n",
    );
    assert!(
        out.lines()
            .any(|l| l.contains("GET_GLOBAL") && l.ends_with("; total")),
        "{out}{err}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("SET_GLOBAL") && l.ends_with("; total")),
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.contains("GET_GLOBAL") && l.ends_with("; sq")),
        "{out}"
    );
}

#[test]
fn load_and_reset() {
    let dir = std::env::temp_dir().join(format!("voyager-repl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("lib.vy");
    std::fs::write(&file, "fn triple(x) { x * 3 }\nprint(\"loaded\")\n").expect("write");
    let (out, err, _) = transcript(&format!(
        ":load {}\ntriple(5)\n:reset\ntriple(5)\n",
        file.display()
    ));
    assert_eq!(out, "loaded\n=> 15\n(reset)\n");
    assert!(err.contains("I don't know the name `triple`"));
}

#[test]
fn a_runaway_program_is_stopped_by_max_steps_and_the_session_goes_on() {
    let (stdout, _, _) = transcript_with(
        "action again() { call(again) }\ncall(again)\n1 + 1\n",
        &["--max-steps", "100"],
    );
    assert!(
        stdout.contains("stopped at the step limit; 1 item(s) still waiting"),
        "{stdout}"
    );
    assert!(stdout.contains("=> 2"));
}

/// The real terminal mode, through a pseudo-terminal: a multi-line action,
/// a message and its output, `:queue` and `:step`, Ctrl-C, Ctrl-D.
#[test]
fn terminal_session() {
    let history = std::env::temp_dir().join(format!("voyager-pty-history-{}", std::process::id()));
    let command = format!(
        "{} --color never repl --clock virtual --history {}",
        env!("CARGO_BIN_EXE_voyager"),
        history.display()
    );
    let mut p = rexpect::spawn(&command, Some(10_000)).expect("spawns in a pty");
    p.exp_string("vy> ").expect("prompt");
    settle();
    p.send_line("action greet(who) {").expect("send");
    p.exp_string("...> ")
        .expect("a continuation prompt for the unfinished input");
    settle();
    p.send_line("  print(\"hello, {who}\")").expect("send");
    p.exp_string("...> ").expect("still unfinished");
    settle();
    p.send_line("}").expect("send");
    p.exp_string("vy> ")
        .expect("prompt after the multi-line action");
    settle();
    p.send_line("call(greet, \"pty\")").expect("send");
    p.exp_string("hello, pty").expect("the action ran");
    settle();
    p.send_line(":step").expect("send");
    p.exp_string("(nothing to step)").expect("step");
    settle();
    p.send_line("call(greet, \"later\")").expect("send");
    p.exp_string("waiting: :step or :run").expect("queued");
    settle();
    p.send_line(":queue").expect("send");
    p.exp_string("call(greet, \"later\")")
        .expect("queue listing");
    settle();
    p.send_line(":step").expect("send");
    p.exp_string("hello, later").expect("stepped");
    // Ctrl-C cancels the input being typed; the session goes on.
    p.exp_string("vy> ").expect("prompt after the step");
    settle();
    p.send("1 + ").expect("send");
    p.flush().expect("flush");
    p.exp_string("1 + ").expect("echoed");
    settle();
    p.send_control('c').expect("ctrl-c");
    p.exp_string("vy> ").expect("a fresh prompt");
    settle();
    p.send_line("40 + 2").expect("send");
    p.exp_string("=> 42").expect("still alive");
    // Ctrl-C stops a runaway action; the session goes on.
    settle();
    p.send_line("action spin() { while true { } }")
        .expect("send");
    p.exp_string("vy> ").expect("prompt");
    settle();
    // Back from stepping: inputs run at once again.
    p.send_line(":run").expect("send");
    p.exp_string("vy> ").expect("prompt");
    settle();
    p.send_line("call(spin)").expect("send");
    std::thread::sleep(std::time::Duration::from_millis(300));
    p.send_control('c').expect("ctrl-c");
    p.exp_string("interrupted (Ctrl-C)")
        .expect("the loop was stopped");
    p.exp_string("vy> ").expect("prompt");
    settle();
    p.send_line("1 + 1").expect("send");
    p.exp_string("=> 2").expect("alive after the interrupt");
    settle();
    p.send_control('d').expect("ctrl-d");
    p.exp_eof().expect("exits");
    let saved = std::fs::read_to_string(&history).expect("history saved");
    assert!(saved.contains("40 + 2"));
}

/// rustyline switches the terminal to raw mode after it draws the prompt,
/// discarding input typed in between: give it a moment, as a person would.
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(150));
}

#[test]
fn items_waiting_on_a_job_show_in_queue_and_stats() {
    let (out, err, _) =
        transcript(":step\ncall(sh, \"sleep 0.5\")\n:step\n:queue\n:stats\n:run\n:stats\n");
    assert!(
        out.contains("on jobs or resources: 1 item(s)\n  #1 call(sh, \"sleep 0.5\")"),
        "{out}{err}"
    );
    assert!(out.contains("0 in topics, 1 on jobs"), "{out}");
    assert!(out.contains("0 in topics, 0 on jobs"), "{out}");
}
