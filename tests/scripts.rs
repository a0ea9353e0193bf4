//! The golden-script harness: every `tests/scripts/<feature>/*.vy` runs
//! through the real binary, and its comments say what must happen:
//!
//! - `// expect: TEXT` — the next line of stdout (all of stdout, in order);
//! - `// error: TEXT` — stderr contains TEXT; the script must not compile
//!   (exit 65) unless `// exit:` says otherwise;
//! - `// expect runtime error: TEXT` — stderr contains TEXT; exit 1;
//! - `// stderr: TEXT` — stderr contains TEXT (whatever the exit status);
//! - `// exit: N` — the exit status;
//! - `// args: …` — extra arguments to `voyager run` (before the file);
//! - `// command: check|disasm` — run that subcommand instead of `run`;
//! - `// params: …` — words after the file and `--` (the script's parameters);
//! - `// env: NAME=VALUE` — an environment variable for the run.
//!
//! Scripts run with `--clock virtual` so delays are instant and repeatable.

use std::path::Path;
use std::process::Command;

mod common;
use common::scripts;

struct Expectations {
    stdout: Vec<String>,
    stderr: Vec<String>,
    exit: i32,
    args: Vec<String>,
    command: String,
    params: Option<Vec<String>>,
    env: Vec<(String, String)>,
}

fn expectations(source: &str) -> Expectations {
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let mut exit = None;
    let mut args = Vec::new();
    let mut command = "run".to_string();
    let mut params = None;
    let mut env = Vec::new();
    let mut compile_error = false;
    let mut runtime_error = false;
    for line in source.lines() {
        let Some(at) = line.find("// ") else { continue };
        let comment = &line[at + 3..];
        if let Some(text) = comment.strip_prefix("expect: ") {
            stdout.push(text.to_string());
        } else if comment == "expect:" {
            stdout.push(String::new());
        } else if let Some(text) = comment.strip_prefix("error: ") {
            stderr.push(text.to_string());
            compile_error = true;
        } else if let Some(text) = comment.strip_prefix("expect runtime error: ") {
            stderr.push(text.to_string());
            runtime_error = true;
        } else if let Some(text) = comment.strip_prefix("stderr: ") {
            stderr.push(text.to_string());
        } else if let Some(text) = comment.strip_prefix("exit: ") {
            exit = Some(text.trim().parse().expect("exit status"));
        } else if let Some(text) = comment.strip_prefix("args: ") {
            args.extend(text.split_whitespace().map(str::to_string));
        } else if let Some(text) = comment.strip_prefix("command: ") {
            command = text.trim().to_string();
        } else if let Some(text) = comment.strip_prefix("params:") {
            params = Some(text.split_whitespace().map(str::to_string).collect());
        } else if let Some((name, value)) = comment
            .strip_prefix("env: ")
            .and_then(|t| t.trim().split_once('='))
        {
            env.push((name.to_string(), value.to_string()));
        }
    }
    let exit = exit.unwrap_or(if compile_error {
        65
    } else if runtime_error {
        1
    } else {
        0
    });
    Expectations {
        stdout,
        stderr,
        exit,
        args,
        command,
        params,
        env,
    }
}

fn check_script(path: &Path) -> Result<(), String> {
    let source = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let want = expectations(&source);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voyager"));
    cmd.arg("--color").arg("never").arg(&want.command);
    if want.command == "run" {
        cmd.arg("--clock").arg("virtual");
    }
    cmd.args(&want.args).arg(path);
    if let Some(params) = &want.params {
        cmd.arg("--").args(params);
    }
    cmd.envs(want.env.iter().map(|(k, v)| (k, v)));
    let output = cmd.output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let got_lines: Vec<&str> = stdout.lines().collect();
    let mut problems = Vec::new();
    if want.command == "run" && got_lines != want.stdout {
        problems.push(format!(
            "stdout differs\n--- expected\n{}\n--- got\n{}",
            want.stdout.join("\n"),
            stdout
        ));
    }
    for text in &want.stderr {
        if !stderr.contains(text.as_str()) {
            problems.push(format!("stderr lacks `{text}`"));
        }
    }
    let code = output.status.code().unwrap_or(-1);
    if code != want.exit {
        problems.push(format!("exit status {code}, expected {}", want.exit));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let disasm = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never", "disasm"])
        .arg(path)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    Err(format!(
        "{}:\n{}\n--- stderr\n{stderr}\n--- source\n{source}\n--- disassembly\n{disasm}",
        path.display(),
        problems.join("\n")
    ))
}

#[test]
fn golden_scripts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts");
    let mut all = Vec::new();
    scripts(&root, &mut all);
    assert!(
        all.len() > 20,
        "expected the golden scripts under {}",
        root.display()
    );
    let failures: Vec<String> = all.iter().filter_map(|p| check_script(p).err()).collect();
    if !failures.is_empty() {
        panic!(
            "{} of {} golden scripts failed:\n\n{}",
            failures.len(),
            all.len(),
            failures.join("\n\n========\n\n")
        );
    }
}

/// Every example runs, checks and disassembles.
#[test]
fn examples_check_disasm_and_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut all = Vec::new();
    scripts(&root, &mut all);
    assert!(!all.is_empty());
    for path in all {
        for command in ["check", "disasm"] {
            let out = Command::new(env!("CARGO_BIN_EXE_voyager"))
                .args(["--color", "never", command])
                .arg(&path)
                .output()
                .expect("runs");
            assert!(
                out.status.success(),
                "{command} {} failed: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let source = std::fs::read_to_string(&path).expect("readable");
        let want = expectations(&source);
        let mut run = Command::new(env!("CARGO_BIN_EXE_voyager"));
        run.args(["--color", "never", "run", "--clock", "virtual"])
            .arg(&path)
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if let Some(params) = &want.params {
            run.arg("--").args(params);
        }
        let out = run.output().expect("runs");
        assert_eq!(
            out.status.code(),
            Some(want.exit),
            "run {} : {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        // An example shows a working form: no call an interest matches
        // runs nested, out of its topic's reach.
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("without being routed"),
            "{}: {stderr}",
            path.display()
        );
        if !want.stdout.is_empty() {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                stdout.lines().collect::<Vec<_>>(),
                want.stdout,
                "{}",
                path.display()
            );
        }
    }
}
