//! The modules are layers that import only downward: syntax, then bytecode,
//! then the interpreter (vm), then diagnostics, then the compiler and the
//! engine (side by side, neither using the other), then the runtime that
//! joins them, then the command line and the tools on top. This test reads
//! every `crate::…` path in `src/` and fails on one that points up or
//! sideways, so that a store, a server or a language server can be added on
//! top without pulling the layers into one knot.

use std::path::Path;

/// Each top-level module and its layer; a module may use only modules of a
/// lower layer.
const LAYERS: &[(&str, u32)] = &[
    ("memory", 0),
    ("codes", 0),
    ("cron", 0),
    ("explain", 1),
    ("syntax", 1),
    ("bytecode", 2),
    ("vm", 3),
    ("diag", 4),
    ("compile", 5),
    ("engine", 5),
    ("runtime", 6),
    // The durable store, beside the runtime that drives it.
    ("store", 6),
    // The tools over a loaded program, side by side.
    ("fmt", 7),
    ("graph", 7),
    ("lsp", 7),
    // A worker's loop on a shared (PostgreSQL) queue.
    ("worker", 7),
    // `voyager serve`: an HTTP API over a loaded program and its store.
    ("server", 8),
    ("cli", 9),
];

/// Paths a module may not use even from a lower layer.
const FORBIDDEN: &[(&str, &str)] = &[
    // The engine works on compiled programs, never on the syntax tree.
    ("engine", "syntax::ast"),
];

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_import_points_down_the_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut wrong = Vec::new();
    for path in &all {
        let rel = path.strip_prefix(&src).expect("under src");
        let module = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|m| m.trim_end_matches(".rs"))
            .expect("a module");
        let Some(own) = layer(module) else {
            continue; // lib.rs, main.rs and the tools on top use anything
        };
        let text = std::fs::read_to_string(path).expect("readable");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for (at, _) in code.match_indices("crate::") {
                let rest = &code[at + "crate::".len()..];
                let target: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let top = target.split("::").next().unwrap_or("");
                let Some(theirs) = layer(top) else { continue };
                if top == module {
                    continue;
                }
                let forbidden = FORBIDDEN
                    .iter()
                    .any(|(m, t)| *m == module && target.starts_with(t));
                if theirs >= own || forbidden {
                    wrong.push(format!(
                        "{}:{}: `{module}` uses `crate::{target}`",
                        rel.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up or sideways:\n{}",
        wrong.join("\n")
    );
}
