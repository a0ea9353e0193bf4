//! The fused instructions lowering emits (ADD_CONST, SUB_CONST, LT_JUMP, …)
//! change nothing a program can see: generated programs print the same,
//! report the same errors and exit with the same status with them and
//! without them (`VOYAGER_NO_FUSE=1`).

use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;
use common::Rng;

const NAMES: [&str; 3] = ["a", "b", "c"];
const INTS: [&str; 5] = ["0", "1", "2", "-3", "1000"];
/// Operands that make the fused instructions take their slow paths: an
/// overflow, a float, and type errors.
const ODD: [&str; 5] = ["9223372036854775807", "1.5", "\"s\"", "nil", "true"];

fn pick<'a>(rng: &mut Rng, from: &[&'a str]) -> &'a str {
    from[rng.below(from.len())]
}

/// An int literal for the right of `+` or `-` (what ADD_CONST takes).
fn int_literal(rng: &mut Rng) -> &'static str {
    match rng.below(30) {
        0 => "9223372036854775807",
        _ => pick(rng, &["0", "1", "2", "7"]),
    }
}

fn expr(rng: &mut Rng, depth: u32) -> String {
    if depth == 0 || rng.below(3) == 0 {
        return match rng.below(40) {
            0 => pick(rng, &ODD).to_string(),
            1..=12 => pick(rng, &INTS).to_string(),
            _ => pick(rng, &NAMES).to_string(),
        };
    }
    match rng.below(6) {
        0 | 1 => format!(
            "({} {} {})",
            expr(rng, depth - 1),
            pick(rng, &["+", "-"]),
            int_literal(rng)
        ),
        2 => format!("f({})", expr(rng, depth - 1)),
        _ => format!(
            "({} {} {})",
            expr(rng, depth - 1),
            pick(rng, &["+", "-", "*", "+", "-"]),
            expr(rng, depth - 1)
        ),
    }
}

fn condition(rng: &mut Rng) -> String {
    format!(
        "{} {} {}",
        expr(rng, 2),
        pick(rng, &["<", "<=", ">", ">="]),
        expr(rng, 2)
    )
}

fn program(rng: &mut Rng) -> String {
    let mut src = String::new();
    for name in NAMES {
        src += &format!("let {name} = {}\n", pick(rng, &["0", "1", "5", "-2"]));
    }
    src += &format!(
        "fn f(n) {{ if {} {{ n - 1 }} else {{ n + 1 }} }}\n",
        pick(rng, &["n < 3", "n >= 0", "n > 1", "n <= 2"])
    );
    for round in 0..4 {
        let target = pick(rng, &NAMES);
        match rng.below(3) {
            0 => src += &format!("{target} = {}\n", expr(rng, 3)),
            1 => {
                src += &format!(
                    "if {} {{ {target} = {} }} else {{ print({}) }}\n",
                    condition(rng),
                    expr(rng, 2),
                    expr(rng, 2)
                )
            }
            _ => {
                src += &format!(
                    "let i{round} = 0\nwhile i{round} < 4 and {} {{ {target} = {}; i{round} = i{round} + 1 }}\n",
                    condition(rng),
                    expr(rng, 2)
                );
                src += &format!("while {} {{ {target} = {target} + 1 }}\n", {
                    // A loop that ends: count up to a small bound.
                    format!("{target} < {}", pick(rng, &["3", "10"]))
                });
            }
        }
        src += &format!("print({target})\n");
    }
    src
}

fn run(src: &str, fuse: bool) -> (String, String, Option<i32>) {
    // One file per run: the tests run in parallel.
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!("voyager-optimizer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join(format!("p{}.vy", RUNS.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&file, src).expect("write script");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voyager"));
    cmd.args(["run", "--color", "never", "--max-instructions", "10000"])
        .arg(&file);
    if !fuse {
        cmd.env("VOYAGER_NO_FUSE", "1");
    }
    let out = cmd.output().expect("run voyager");
    // Diagnostics name the file: give both runs the same name.
    let stderr = String::from_utf8_lossy(&out.stderr).replace(&*file.to_string_lossy(), "p.vy");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        out.status.code(),
    )
}

#[test]
fn fused_instructions_change_nothing_a_program_sees() {
    let mut rng = Rng(0x0f75_ed01);
    for _ in 0..150 {
        let src = program(&mut rng);
        let fused = run(&src, true);
        let plain = run(&src, false);
        assert_eq!(fused, plain, "program:\n{src}");
    }
}

#[test]
fn the_switch_changes_the_bytecode() {
    let src = "fn f(n) { if n < 2 { n } else { f(n - 1) + 2 } }\nprint(f(5))\n";
    let disasm = |fuse: bool| {
        let dir = std::env::temp_dir().join(format!("voyager-opt-disasm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("f.vy");
        std::fs::write(&file, src).expect("write script");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_voyager"));
        cmd.arg("disasm").arg(&file);
        if !fuse {
            cmd.env("VOYAGER_NO_FUSE", "1");
        }
        String::from_utf8_lossy(&cmd.output().expect("disasm").stdout).into_owned()
    };
    let (fused, plain) = (disasm(true), disasm(false));
    assert!(fused.contains("LT_JUMP") && fused.contains("SUB_CONST"));
    assert!(!plain.contains("LT_JUMP") && !plain.contains("SUB_CONST"));
    // `{ n }` returned at once: GET_LOCAL and RETURN in one.
    assert!(fused.contains("RETURN_LOCAL"), "{fused}");
    assert!(!plain.contains("RETURN_LOCAL"), "{plain}");
}

/// RETURN_LOCAL (a local returned at once) on what the generated programs
/// do not return as they are: non-int locals, a captured local, a local
/// returned from inside a loop, a parameter that is the whole body, and
/// deep recursion that returns strings.
#[test]
fn returned_locals_are_the_same_fused_or_not() {
    let programs = [
        "fn id(x) { x }\nprint([id(1), id(\"s\"), id([1, 2]), id(nil), id(2.5), id({a: 1})])\n",
        "fn pick(n) { let s = \"small\"\n let b = \"big\"\n if n < 10 { s } else { b } }\nprint([pick(3), pick(30)])\n",
        "fn counter() { let n = 0\n let inc = fn() { n = n + 1\n n }\n inc(); inc() }\nprint(counter())\n",
        "fn first_over(xs, k) { for x in xs { if x > k { return x } }\n let none = nil\n none }\nprint([first_over([1, 5, 9], 4), first_over([1], 4)])\n",
        "fn deep(n, s) { if n < 1 { s } else { deep(n - 1, s) } }\nprint(deep(3000, \"down and back\"))\n",
        "fn f(n) { if n < 2 { n } else { f(n - 1) + f(n - 2) } }\nprint([f(15), f(1.5)])\n",
    ];
    for src in programs {
        let fused = run(src, true);
        assert_eq!(fused, run(src, false), "{src}");
        assert_eq!(fused.2, Some(0), "{src}: {fused:?}");
        assert!(!fused.0.is_empty(), "{src}: {fused:?}");
    }
}

#[test]
fn most_generated_programs_run_to_the_end() {
    let mut rng = Rng(0x0f75_ed01);
    let finished = (0..40)
        .filter(|_| run(&program(&mut rng), true).2 == Some(0))
        .count();
    assert!(finished >= 10, "only {finished} of 40 programs ran cleanly");
}
