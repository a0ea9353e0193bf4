//! The subcommands over the library's tools: `voyager fmt` and `voyager
//! graph` read their files, print, and choose the exit status here; the
//! formatter and the grapher themselves only turn text into text.

use std::io::Write;
use std::path::Path;

use super::{exit, read_script};

/// `voyager fmt [--check] FILE…`: the exit status.
pub(super) fn fmt_files(files: &[std::path::PathBuf], check: bool, color: bool) -> u8 {
    let mut status = exit::OK;
    let worse = |now: u8, code: u8| {
        // The most serious outcome wins: unreadable, then syntax, then changes.
        let rank = |c: u8| {
            [
                exit::OK,
                exit::DEAD_LETTERS,
                exit::COMPILE,
                exit::INTERNAL,
                exit::UNREADABLE,
            ]
            .iter()
            .position(|&x| x == c)
            .unwrap_or(0)
        };
        if rank(code) > rank(now) {
            code
        } else {
            now
        }
    };
    for file in files {
        let stdin = file == Path::new("-");
        let (name, text) = match read_script(file) {
            Ok((name, text, _)) => (name, text),
            Err(code) => {
                status = worse(status, code);
                continue;
            }
        };
        let formatted = match crate::fmt::format_source(&name, &text, color) {
            Ok(formatted) => formatted,
            Err(crate::fmt::FmtError::Syntax(diags)) => {
                eprint!("{diags}");
                eprintln!("error: {name} does not parse; it was left as it is");
                status = worse(status, exit::COMPILE);
                continue;
            }
            Err(crate::fmt::FmtError::Internal(why)) => {
                eprintln!("error: {name}: {why}");
                status = worse(status, exit::INTERNAL);
                continue;
            }
        };
        if check {
            if formatted != text {
                println!("{name}");
                status = worse(status, exit::DEAD_LETTERS);
            }
        } else if stdin {
            let _ = std::io::stdout().write_all(formatted.as_bytes());
        } else if formatted != text {
            if let Err(e) = std::fs::write(file, formatted) {
                eprintln!("error: cannot write {name}: {e}");
                status = worse(status, exit::UNREADABLE);
            }
        }
    }
    status
}

/// `voyager graph FILE [--format mermaid|dot]`: the exit status.
pub(super) fn graph_file(file: &Path, format: crate::graph::Format, color: bool) -> u8 {
    let (name, text, dir) = match read_script(file) {
        Ok(read) => read,
        Err(code) => return code,
    };
    match crate::graph::graph_source(&name, &text, dir.as_deref(), format, color) {
        Ok(graph) => {
            print!("{graph}");
            exit::OK
        }
        Err(e) => {
            eprint!("{}", e.message);
            if e.failed_to_run {
                exit::DEAD_LETTERS
            } else {
                exit::COMPILE
            }
        }
    }
}
