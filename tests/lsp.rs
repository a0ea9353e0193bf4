//! `voyager lsp` as an editor sees it: the real binary, JSON-RPC with
//! Content-Length framing over its standard input and output. Every read has
//! a timeout, so a server that hangs fails the test instead of hanging it.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(20);

struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    next_id: i64,
}

/// Reads framed messages until the stream ends or a frame is malformed.
fn read_frames(stdout: impl Read, sender: mpsc::Sender<Value>) {
    let mut reader = BufReader::new(stdout);
    loop {
        let mut length = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse::<usize>().ok();
            }
        }
        let Some(length) = length else { return };
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let Ok(message) = serde_json::from_slice(&body) else {
            return;
        };
        if sender.send(message).is_err() {
            return;
        }
    }
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("voyager lsp starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, incoming) = mpsc::channel();
        std::thread::spawn(move || read_frames(stdout, sender));
        Client {
            stdin: child.stdin.take(),
            child,
            incoming,
            next_id: 0,
        }
    }

    fn send_raw(&mut self, body: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("the server reads");
        stdin.flush().expect("the server reads");
    }

    fn send(&mut self, message: Value) {
        self.send_raw(&message.to_string());
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn recv(&self) -> Value {
        self.incoming
            .recv_timeout(TIMEOUT)
            .expect("the server answers in time")
    }

    /// Sends a request and returns its response (notifications meanwhile
    /// are skipped).
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.recv();
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// The next publishDiagnostics notification.
    fn diagnostics(&self) -> Value {
        loop {
            let message = self.recv();
            if message["method"] == "textDocument/publishDiagnostics" {
                return message["params"].clone();
            }
        }
    }

    fn initialize(&mut self) {
        let result = self.result(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        assert_eq!(result["capabilities"]["textDocumentSync"], 1, "full sync");
        assert_eq!(result["capabilities"]["hoverProvider"], true);
        self.notify("initialized", json!({}));
    }

    /// shutdown, exit, and the exit status.
    fn shut_down(mut self) -> i32 {
        let response = self.request("shutdown", Value::Null);
        assert_eq!(response["result"], Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                return status.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("the server did not exit after `exit`");
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const URI: &str = "file:///tmp/voyager-lsp-test/greet.vy";

/// The line with the error has an emoji before it: two UTF-16 units.
const BROKEN: &str = r#"// Says hello.
action greet(who) { print("héllo, {who}") }
fn shout(s) { upper(s) }
interest "w" when call(greet, _)
pass "w" (msgs) { msgs }
print("😀"); call(gret, shout("x"))
"#;

fn position(line: u32, character: u32) -> Value {
    json!({"textDocument": {"uri": URI}, "position": {"line": line, "character": character}})
}

fn open(client: &mut Client, text: &str) -> Value {
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": URI, "languageId": "voyager", "version": 1, "text": text}}),
    );
    client.diagnostics()
}

#[test]
fn diagnostics_as_you_type_cleared_when_fixed_and_pointing_at_both_places() {
    let mut client = Client::start();
    client.initialize();
    let published = open(&mut client, BROKEN);
    assert_eq!(published["uri"], URI);
    let diagnostics = published["diagnostics"].as_array().expect("a list");
    assert_eq!(diagnostics.len(), 1, "{published}");
    let d = &diagnostics[0];
    assert_eq!(d["code"], "E0101");
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "voyager");
    // `print("😀"); call(` is 18 UTF-16 units.
    assert_eq!(
        d["range"],
        json!({"start": {"line": 5, "character": 18}, "end": {"line": 5, "character": 22}})
    );
    let message = d["message"].as_str().expect("a message");
    assert!(
        message.starts_with("There is no action `gret`"),
        "{message}"
    );
    assert!(message.contains("help: did you mean `greet`?"), "{message}");

    // A change with a range (the server asks for full text, but copes):
    // `gret` becomes `greet` by inserting one `e`.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 2}, "contentChanges": [{
            "range": {"start": {"line": 5, "character": 21}, "end": {"line": 5, "character": 21}},
            "text": "e"
        }]}),
    );
    let published = client.diagnostics();
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    assert_eq!(published["version"], 2);

    // Full text: a name declared twice points at both places.
    let fixed = BROKEN.replace("gret,", "greet,") + "fn shout(t) { t }\n";
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": URI, "version": 3}, "contentChanges": [{"text": fixed}]}),
    );
    let published = client.diagnostics();
    let d = &published["diagnostics"][0];
    assert_eq!(d["code"], "E0103", "{published}");
    assert_eq!(d["range"]["start"], json!({"line": 6, "character": 3}));
    let related = &d["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], URI);
    assert_eq!(
        related["location"]["range"],
        json!({"start": {"line": 2, "character": 3}, "end": {"line": 2, "character": 8}})
    );
    assert_eq!(published["version"], 3);
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn hover_definition_references_completion_and_symbols() {
    let mut client = Client::start();
    client.initialize();
    open(&mut client, &BROKEN.replace("gret,", "greet,"));

    // Hover on `greet` in `call(greet, …)` on the last line.
    let hover = client.result("textDocument/hover", position(5, 20));
    let text = hover["contents"]["value"].as_str().expect("markdown");
    assert!(text.contains("action greet(who)"), "{text}");
    assert!(text.contains("Says hello."), "{text}");
    // Native prelude functions.
    let hover = client.result("textDocument/hover", position(2, 15));
    let text = hover["contents"]["value"].as_str().expect("markdown");
    assert!(
        text.contains("upper(s)") && text.contains("upper case"),
        "{text}"
    );
    let hover = client.result("textDocument/hover", position(1, 21));
    let text = hover["contents"]["value"].as_str().expect("markdown");
    assert!(text.contains("print(v)"), "{text}");

    // Definition of `greet` from its use: its name on line 1.
    let location = client.result("textDocument/definition", position(5, 20));
    assert_eq!(location["uri"], URI);
    assert_eq!(
        location["range"],
        json!({"start": {"line": 1, "character": 7}, "end": {"line": 1, "character": 12}})
    );

    // References: the declaration, the interest's pattern, the call.
    let mut params = position(1, 8);
    params["context"] = json!({"includeDeclaration": true});
    let refs = client.result("textDocument/references", params);
    let lines: Vec<u64> = refs
        .as_array()
        .expect("a list")
        .iter()
        .map(|l| l["range"]["start"]["line"].as_u64().expect("a line"))
        .collect();
    assert_eq!(lines, [1, 3, 5]);

    // Completion anywhere: the script's names, the prelude, keywords.
    let items = client.result("textDocument/completion", position(5, 0));
    let labels: Vec<&str> = items
        .as_array()
        .expect("a list")
        .iter()
        .map(|i| i["label"].as_str().expect("a label"))
        .collect();
    for expected in ["greet", "shout", "map", "print", "seq", "while", "sh"] {
        assert!(labels.contains(&expected), "no {expected} in {labels:?}");
    }
    // After `call(`: actions only.
    let items = client.result("textDocument/completion", position(5, 18));
    let labels: Vec<&str> = items
        .as_array()
        .expect("a list")
        .iter()
        .map(|i| i["label"].as_str().expect("a label"))
        .collect();
    assert!(
        labels.contains(&"greet") && labels.contains(&"sh"),
        "{labels:?}"
    );
    assert!(
        !labels.contains(&"shout") && !labels.contains(&"while"),
        "{labels:?}"
    );

    let symbols = client.result(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": URI}}),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["name"].as_str().expect("a name"))
        .collect();
    assert_eq!(names, ["greet", "shout", "interest \"w\"", "pass \"w\""]);
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn hover_on_prelude_functions_written_in_voyager_and_native_actions() {
    let mut client = Client::start();
    client.initialize();
    let published = open(&mut client, "map([1], fn(x) { x })\ncall(sh, \"ls\")\n");
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    let hover = client.result("textDocument/hover", position(0, 1));
    let text = hover["contents"]["value"].as_str().expect("markdown");
    assert!(
        text.contains("fn map(xs, f)") && text.contains("f(x)"),
        "{text}"
    );
    let hover = client.result("textDocument/hover", position(1, 6));
    let text = hover["contents"]["value"].as_str().expect("markdown");
    assert!(text.contains("action sh(command, options)"), "{text}");
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn an_imported_module_s_functions_on_hover_and_after_the_dot() {
    let mut client = Client::start();
    client.initialize();
    let text = "import passes\naction a(x) { print(x) }\ninterest \"t\" when call(a, _)\npass \"t\" (msgs) { passes.dedupe(msgs) }\n";
    let published = open(&mut client, text);
    assert_eq!(published["diagnostics"], json!([]), "{published}");
    // `dedupe` in `passes.dedupe(msgs)` on line 3.
    let hover = client.result("textDocument/hover", position(3, 27));
    let value = hover["contents"]["value"].as_str().expect("markdown");
    assert!(value.contains("fn passes.dedupe(msgs)"), "{value}");
    let items = client.result("textDocument/completion", position(3, 25));
    let labels: Vec<&str> = items
        .as_array()
        .expect("a list")
        .iter()
        .map(|i| i["label"].as_str().expect("a label"))
        .collect();
    assert!(
        labels.contains(&"dedupe") && labels.contains(&"batch"),
        "{labels:?}"
    );
    assert!(!labels.contains(&"print"), "{labels:?}");
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn bad_requests_get_errors_and_the_server_stays_up() {
    let mut client = Client::start();
    client.initialize();
    let response = client.request("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(response["error"]["code"], -32602, "{response}");
    let response = client.request("voyager/unknown", json!({}));
    assert_eq!(response["error"]["code"], -32601, "{response}");
    // Not JSON at all: a parse error with a null id, and the server reads on.
    client.send_raw("{oops");
    let response = client.recv();
    assert_eq!(response["id"], Value::Null, "{response}");
    assert_eq!(response["error"]["code"], -32700, "{response}");
    // A notification that cannot be read is ignored.
    client.notify("textDocument/didOpen", json!({"textDocument": 7}));
    // A document the server has not seen: no answer, not an error.
    let hover = client.result("textDocument/hover", position(0, 0));
    assert_eq!(hover, Value::Null);
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn exit_without_shutdown_is_status_1() {
    let mut client = Client::start();
    client.initialize();
    client.notify("exit", Value::Null);
    drop(client.stdin.take());
    for _ in 0..200 {
        if let Some(status) = client.child.try_wait().expect("wait works") {
            assert_eq!(status.code(), Some(1));
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the server did not exit");
}

/// Every cut of the examples (half-typed programs, unclosed strings and
/// brackets), asked everything at many places: each request is answered,
/// none with an error.
#[test]
fn half_typed_programs_get_answers_everywhere() {
    let mut client = Client::start();
    client.initialize();
    open(&mut client, "");
    let mut version = 1;
    for example in ["tour.vy", "workflow.vy", "batching.vy"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(example);
        let full = std::fs::read_to_string(path).expect("the example");
        let cuts: Vec<usize> = (1..8)
            .map(|i| full.len() * i / 8)
            .filter(|&c| full.is_char_boundary(c))
            .collect();
        for cut in cuts {
            let text = &full[..cut];
            version += 1;
            client.notify(
                "textDocument/didChange",
                json!({"textDocument": {"uri": URI, "version": version}, "contentChanges": [{"text": text}]}),
            );
            client.diagnostics();
            let lines = text.lines().count() as u32;
            for line in (0..=lines).step_by(3) {
                for character in [0, 3, 9, 20, 200] {
                    for method in [
                        "textDocument/hover",
                        "textDocument/definition",
                        "textDocument/completion",
                    ] {
                        client.result(method, position(line, character));
                    }
                    let mut params = position(line, character);
                    params["context"] = json!({"includeDeclaration": true});
                    client.result("textDocument/references", params);
                }
            }
            client.result(
                "textDocument/documentSymbol",
                json!({"textDocument": {"uri": URI}}),
            );
        }
    }
    assert_eq!(client.shut_down(), 0);
}
