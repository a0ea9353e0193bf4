//! `voyager explain CODE`: the long explanation of an error code, read
//! from the table in `crate::codes` (like `rustc --explain`).

pub use crate::codes::{lookup, Explanation, Reproduce, TABLE as EXPLANATIONS};

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// The text `voyager explain` prints.
pub fn render(e: &Explanation) -> String {
    let how = match e.reproduce {
        Reproduce::Check => "`voyager check` reports".to_string(),
        Reproduce::Run([]) => "`voyager run` reports".to_string(),
        Reproduce::Run(options) => format!("`voyager run {}` reports", options.join(" ")),
        Reproduce::Not(_) => "This program can get".to_string(),
    };
    format!(
        "{}: {}\n\n{}\n\n{how} {} for this program:\n\n{}\nFixed:\n\n{}",
        e.code,
        e.title,
        e.text,
        e.code,
        indent(e.example),
        indent(e.fix)
    )
}

/// `voyager explain CODE`, or the list of codes without one; returns the
/// exit status. A closed standard output (`voyager explain | head`) is not
/// an error.
pub fn main(code: Option<&str>) -> u8 {
    use std::io::Write as _;
    let Some(code) = code else {
        let mut text: String = EXPLANATIONS
            .iter()
            .map(|e| format!("{}  {}\n", e.code, e.title))
            .collect();
        text.push_str("\n`voyager explain CODE` tells more about one.\n");
        let _ = std::io::stdout().write_all(text.as_bytes());
        return 0;
    };
    match lookup(code) {
        Some(e) => {
            let _ = std::io::stdout().write_all(render(e).as_bytes());
            0
        }
        None => {
            let codes: Vec<&str> = EXPLANATIONS.iter().map(|e| e.code).collect();
            let _ = writeln!(
                std::io::stderr(),
                "error: there is no error code `{code}`\n  the codes are: {}",
                codes.join(", ")
            );
            2
        }
    }
}
