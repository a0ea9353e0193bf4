//! The server's standard input and output: Content-Length framed JSON-RPC.
//!
//! `lsp-server`'s own stdio threads stop the server at the first message
//! that is not valid JSON. These answer it instead, as JSON-RPC asks (parse
//! error, or invalid request, with a null id), and read on: one bad message
//! from an editor never takes the server down.

use std::io::{BufRead, Read, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use lsp_server::{Connection, ErrorCode, Message};

/// The largest message read; a larger one is skipped with an error.
const MAX_MESSAGE: usize = 64 << 20;

/// A connection over stdin and stdout, and the thread that writes (joined
/// at the end so that the last answers are flushed). The reading thread
/// ends at `exit` or at the end of the input; it is not joined, since an
/// editor may keep standard input open after `exit`.
pub fn stdio() -> (Connection, JoinHandle<()>) {
    let (server, client) = Connection::memory();
    let stdout = Arc::new(Mutex::new(std::io::stdout()));
    let out = stdout.clone();
    let to_server = client.sender;
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        read_messages(&mut stdin.lock(), &out, |message| {
            let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
            to_server.send(message).is_ok() && !exit
        });
    });
    let from_server = client.receiver;
    let writer = std::thread::spawn(move || {
        for message in from_server {
            let Ok(mut out) = stdout.lock() else { return };
            if message.write(&mut *out).is_err() {
                return;
            }
        }
    });
    (server, writer)
}

/// Reads framed messages and hands each to `deliver` until it returns
/// false or the input ends; answers malformed ones on `out`.
pub fn read_messages(
    input: &mut impl BufRead,
    out: &Mutex<impl Write>,
    mut deliver: impl FnMut(Message) -> bool,
) {
    loop {
        let length = match read_headers(input) {
            Headers::End => return,
            Headers::Length(n) if n <= MAX_MESSAGE => n,
            Headers::Length(n) => {
                let skipped = std::io::copy(&mut input.take(n as u64), &mut std::io::sink());
                if skipped.map_or(true, |s| s < n as u64) {
                    return;
                }
                reply_error(out, ErrorCode::InvalidRequest, "message too large");
                continue;
            }
            Headers::Missing => {
                reply_error(out, ErrorCode::ParseError, "no Content-Length header");
                continue;
            }
        };
        let mut body = vec![0; length];
        if input.read_exact(&mut body).is_err() {
            return;
        }
        match serde_json::from_slice::<Message>(&body) {
            Ok(message) => {
                if !deliver(message) {
                    return;
                }
            }
            Err(e) => {
                let code = match serde_json::from_slice::<serde_json::Value>(&body) {
                    Ok(_) => ErrorCode::InvalidRequest,
                    Err(_) => ErrorCode::ParseError,
                };
                reply_error(out, code, &format!("malformed message: {e}"));
            }
        }
    }
}

enum Headers {
    Length(usize),
    Missing,
    End,
}

/// Reads header lines up to the blank line that ends them.
fn read_headers(input: &mut impl BufRead) -> Headers {
    let mut length = None;
    let mut seen_any = false;
    loop {
        let mut line = Vec::new();
        // A header line longer than this is not a header: read it in pieces.
        match input.take(8 << 10).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return Headers::End,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if !seen_any {
                continue;
            }
            return length.map_or(Headers::Missing, Headers::Length);
        }
        seen_any = true;
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
}

/// An error response with a null id: the request's id is unknown.
fn reply_error(out: &Mutex<impl Write>, code: ErrorCode, message: &str) {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {"code": code as i32, "message": message},
    })
    .to_string();
    if let Ok(mut out) = out.lock() {
        let _ = write!(out, "Content-Length: {}\r\n\r\n{body}", body.len());
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &str) -> String {
        format!("Content-Length: {}\r\n\r\n{body}", body.len())
    }

    #[test]
    fn malformed_messages_are_answered_and_reading_goes_on() {
        let good = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let input = [
            frame("{oops"),
            frame(r#"{"no":"method"}"#),
            "X-Junk: 1\r\n\r\n".to_string(),
            frame(good),
            "Content-Length: 99999".to_string(),
        ]
        .concat();
        let out = Mutex::new(Vec::new());
        let mut delivered = Vec::new();
        read_messages(&mut input.as_bytes(), &out, |m| {
            delivered.push(m);
            true
        });
        assert_eq!(delivered.len(), 1);
        let written = String::from_utf8(out.into_inner().unwrap()).unwrap();
        assert_eq!(written.matches("\"id\":null").count(), 3, "{written}");
        assert!(written.contains("-32700"), "{written}");
        assert!(written.contains("-32600"), "{written}");
    }
}
