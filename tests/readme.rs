//! The README's commands work as shown: every shell command in its ```sh
//! blocks that can run offline runs against the built binary and exits 0,
//! and every `--flag` it names is accepted by the command it is shown with.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const README: &str = include_str!("../README.md");

const SUBCOMMANDS: [&str; 13] = [
    "run",
    "serve",
    "check",
    "disasm",
    "repl",
    "fmt",
    "graph",
    "status",
    "dead-letters",
    "requeue",
    "cancel",
    "worker",
    "enqueue",
];

/// How `cargo run` spells the binary in the set-up commands.
const CARGO_RUN: &str = "cargo run --release -- ";

/// Commands the test does not run, by their first word, and why. A command
/// with any other first word fails the test until it is classified here.
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo",
        "cargo test and cargo install build the project again",
    ),
    ("cd", "changes folder for the editor commands that follow"),
    ("npx", "downloads a package"),
    ("code", "needs VS Code"),
    ("mkdir", "installs into the home folder"),
    ("cp", "installs into the home folder"),
];

/// A fence line's info string (as in CommonMark, a backtick fence's info
/// has no backtick: ```` ```voyager ```` starting a line is a code span).
fn fence(line: &str) -> Option<&str> {
    let info = line.strip_prefix("```")?;
    (!info.contains('`')).then_some(info.trim())
}

/// The lines of the README's fenced blocks in `lang`.
fn fenced_lines(lang: &str) -> Vec<&'static str> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in README.lines() {
        if let Some(info) = fence(line) {
            inside = !inside && info == lang;
            continue;
        }
        if inside && !line.trim().is_empty() {
            lines.push(line.trim());
        }
    }
    lines
}

/// Runs `script` with `sh -c` in the project's folder, the built `voyager`
/// first on the PATH, no standard input; gives up after a minute.
fn run_shell(script: &str) -> Result<(), String> {
    let bin = Path::new(env!("CARGO_BIN_EXE_voyager"));
    let dir = bin.parent().expect("the binary's folder");
    let path = std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let history = std::env::temp_dir().join(format!("voyager-readme-{}", std::process::id()));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("PATH", path)
        .env("VOYAGER_HISTORY", &history)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("sh: {e}"))?;
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("still running after 60s".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = std::fs::remove_file(&history);
    if status.success() {
        return Ok(());
    }
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    Err(format!("{status}\n{stderr}"))
}

#[test]
fn every_offline_shell_command_in_the_readme_runs() {
    let mut ran = Vec::new();
    let mut failures = Vec::new();
    for line in fenced_lines("sh") {
        let command = match line.strip_prefix(CARGO_RUN) {
            Some(args) => format!("voyager {args}"),
            None => line.to_string(),
        };
        let first = command.split_whitespace().next().unwrap_or_default();
        if first != "voyager" && !command.contains("| voyager") {
            assert!(
                NOT_RUN.iter().any(|(word, _)| *word == first),
                "the README shows `{line}`: run it here, or say in NOT_RUN why not"
            );
            continue;
        }
        if let Err(e) = run_shell(&command) {
            failures.push(format!("`{line}`: {e}"));
        }
        ran.push(line);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        ran.len() >= 5,
        "only {} commands found to run: {ran:?}",
        ran.len()
    );
    assert!(ran.contains(&"cargo run --release -- run examples/hello.vy"));
}

/// The long options `voyager [sub] --help` lists.
fn options_of(sub: Option<&str>) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(sub)
        .arg("--help")
        .output()
        .expect("voyager --help");
    assert!(out.status.success(), "voyager {sub:?} --help");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let line = line.trim_start();
            let line = match line.strip_prefix('-') {
                Some(short) if !short.starts_with('-') => short.get(3..)?,
                _ => line,
            };
            let name = line.strip_prefix("--")?;
            let end = name
                .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
                .unwrap_or(name.len());
            Some(format!("--{}", &name[..end]))
        })
        .collect()
}

/// The `--flags` in a piece of text.
fn flags_in(text: &str) -> Vec<String> {
    // After a lone `--` the words are the script's own (its parameters).
    let text = if text.starts_with("-- ") {
        ""
    } else {
        text.split(" -- ").next().unwrap_or(text)
    };
    text.match_indices("--")
        .filter(|(i, _)| *i == 0 || text.as_bytes()[i - 1] == b' ')
        .map(|(i, _)| {
            let name = &text[i + 2..];
            let end = name
                .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
                .unwrap_or(name.len());
            format!("--{}", &name[..end])
        })
        .filter(|f| f.len() > 2)
        .collect()
}

/// Which command a `voyager …` line is: its subcommand, or None for plain
/// `voyager`.
fn command_of(text: &str) -> Option<&'static str> {
    let second = text.split_whitespace().nth(1).unwrap_or_default();
    SUBCOMMANDS.iter().copied().find(|s| *s == second)
}

/// The code spans of a paragraph, in order (a span opened by n backticks
/// closes at the next run of exactly n).
fn code_spans(paragraph: &str) -> Vec<&str> {
    let mut spans = Vec::new();
    let mut rest = paragraph;
    while let Some(open) = rest.find('`') {
        let ticks = rest[open..].chars().take_while(|c| *c == '`').count();
        let body = &rest[open + ticks..];
        let fence = "`".repeat(ticks);
        let close = body
            .match_indices(&fence)
            .find(|(i, _)| !body[i + ticks..].starts_with('`'))
            .map(|(i, _)| i);
        let Some(close) = close else { break };
        spans.push(body[..close].trim());
        rest = &body[close + ticks..];
    }
    spans
}

#[test]
fn every_flag_the_readme_names_is_accepted_by_its_command() {
    let mut options = std::collections::BTreeMap::new();
    options.insert(None, options_of(None));
    for sub in SUBCOMMANDS {
        options.insert(Some(sub), options_of(Some(sub)));
    }
    let any: BTreeSet<String> = options.values().flatten().cloned().collect();
    let mut wrong = Vec::new();
    let mut checked = 0;
    let mut check = |flag: &str, commands: &[Option<&'static str>]| {
        checked += 1;
        let accepted = if commands.is_empty() {
            any.contains(flag)
        } else {
            commands.iter().all(|c| options[c].contains(flag))
        };
        if !accepted {
            let shown: Vec<String> = commands
                .iter()
                .map(|c| format!("voyager {}", c.unwrap_or("")).trim().to_string())
                .collect();
            wrong.push(format!("{flag} (shown with {shown:?})"));
        }
    };

    // Commands in ```sh and ```text blocks.
    for line in fenced_lines("sh").into_iter().chain(fenced_lines("text")) {
        let line = line
            .strip_prefix(CARGO_RUN)
            .map_or(line.to_string(), |a| format!("voyager {a}"));
        if line.starts_with("voyager") {
            for flag in flags_in(&line) {
                check(&flag, &[command_of(&line)]);
            }
        }
    }

    // Prose: a flag in a `voyager …` span belongs to that command; a bare
    // `--flag` to every command the paragraph showed before it (or, if it
    // showed none, to some command).
    let mut prose = String::new();
    let mut in_fence = false;
    for line in README.lines() {
        if fence(line).is_some() {
            in_fence = !in_fence;
            prose.push('\n');
        } else if !in_fence && !line.starts_with("    ") {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    for paragraph in prose.split("\n\n") {
        let mut shown: Vec<Option<&'static str>> = Vec::new();
        for span in code_spans(paragraph) {
            if span.starts_with("voyager") {
                let command = command_of(span);
                for flag in flags_in(span) {
                    check(&flag, &[command]);
                }
                if !shown.contains(&command) {
                    shown.push(command);
                }
            } else if span.starts_with("--") {
                for flag in flags_in(span) {
                    check(&flag, &shown);
                }
            }
        }
    }
    assert!(wrong.is_empty(), "the CLI does not accept: {wrong:#?}");
    assert!(checked >= 15, "only {checked} flags found");
}

#[test]
fn the_flag_check_would_catch_a_flag_on_the_wrong_command() {
    let plain = options_of(None);
    assert!(
        !plain.contains("--history"),
        "plain voyager takes --history now: {plain:?}"
    );
    assert!(options_of(Some("repl")).contains("--history"));
    assert!(options_of(Some("run")).contains("--max-steps"));
    assert_eq!(
        code_spans("a `voyager repl --history F` and ```` ```voyager ```` b `--x`"),
        ["voyager repl --history F", "```voyager", "--x"]
    );
}

/// Every ```voyager block in the README passes `voyager check`, except a
/// block quoting an example (its first line `// from examples/NAME.vy`),
/// which must appear in that file word for word.
#[test]
fn every_voyager_block_in_the_readme_checks_or_quotes_its_example() {
    let mut blocks: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in README.lines() {
        match (fence(line), current.as_mut()) {
            (Some("voyager"), None) => current = Some(String::new()),
            (Some(_), Some(_)) => blocks.extend(current.take()),
            (None, Some(block)) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    assert!(blocks.len() >= 5, "only {} voyager blocks", blocks.len());
    let mut quoted = 0;
    for block in &blocks {
        if let Some(rest) = block.strip_prefix("// from ") {
            let (file, body) = rest.split_once('\n').expect("a quote has a body");
            let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(
                text.contains(body),
                "{file} does not hold the README's quote:\n{body}"
            );
            quoted += 1;
            continue;
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
            .args(["--color", "never", "check", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("voyager check");
        std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), block.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("check finishes");
        assert!(
            out.status.success(),
            "a README block does not check:\n{block}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert!(quoted >= 1);
}
