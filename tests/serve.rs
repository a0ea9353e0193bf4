//! `voyager serve` over a real socket: the binary is started on a free
//! loopback port (the address it prints is read back), and requests go
//! through a small HTTP/1.1 client.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

const SCRIPT: &str = r#"
action double(n) { n * 2 }
action boom(why) { fail("boom: {why}") }
action pair(a, b) { [a, b] }
action later() { seq([delay(1h), call(double, 1)]) }
"#;

/// A running `voyager serve`, killed when dropped.
struct Server {
    child: Child,
    addr: String,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "voyager-serve-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Server {
    fn start(tag: &str, extra: &[&str]) -> Server {
        Server::start_in(TempDir::new(tag), SCRIPT, extra, &[])
    }

    fn start_in(dir: TempDir, script: &str, extra: &[&str], envs: &[(&str, &str)]) -> Server {
        let path = dir.0.join("api.vy");
        std::fs::write(&path, script).expect("write the script");
        let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
            .args(["--color", "never", "serve"])
            .arg(&path)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("VOYAGER_TOKEN")
            .envs(envs.iter().copied())
            .current_dir(&dir.0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("voyager serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(addr.trim().to_string());
                } else {
                    eprintln!("server: {line}");
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("voyager serve did not print its address within 60s");
            }
        };
        Server {
            child,
            addr,
            _dir: dir,
        }
    }

    fn client(&self) -> Client {
        Client::connect(&self.addr)
    }

    fn get(&self, path: &str) -> Reply {
        self.client().request("GET", path, &[], b"")
    }

    fn post(&self, path: &str, body: &Json) -> Reply {
        self.client()
            .request("POST", path, &[], body.to_string().as_bytes())
    }

    fn submit(&self, message: &str) -> Reply {
        self.post("/v1/messages", &json!({ "message": message }))
    }

    /// Submits `text` and asserts the status and error code it gets.
    fn refuses(&self, text: &str, status: u16, code: &str) -> Reply {
        let r = self.submit(text);
        assert_eq!(
            (r.status, r.code().as_str()),
            (status, code),
            "{text}: {}",
            r.text
        );
        r
    }

    /// Polls item `id` until `done(state)` or a generous deadline.
    fn wait_for(&self, id: u64, want: &[&str]) -> Json {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = self.get(&format!("/v1/items/{id}"));
            assert_eq!(r.status, 200, "{}", r.text);
            let item = r.json();
            if want.iter().any(|w| item["state"] == *w) {
                return item;
            }
            assert!(
                Instant::now() < deadline,
                "item {id} never reached {want:?}: {item}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Client {
    reader: BufReader<TcpStream>,
    host: String,
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    text: String,
}

impl Reply {
    fn json(&self) -> Json {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// The error code of an API error body.
    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.text))
            .to_string()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Client {
    fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to the server");
        stream.set_nodelay(true).expect("no delay");
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .expect("a timeout");
        Client {
            reader: BufReader::new(stream),
            host: addr.to_string(),
        }
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        if !body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        // One write: a head and body sent apart would wait out Nagle's
        // algorithm and a delayed ACK on each request.
        let mut all = head.into_bytes();
        all.extend_from_slice(body);
        // A refused body may be answered before it is all sent.
        let _ = self.reader.get_mut().write_all(&all);
        self.read_reply()
    }

    fn read_reply(&mut self) -> Reply {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a status line");
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a status line, got {line:?}"));
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).expect("a header");
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let find = |name: &str| {
            headers
                .iter()
                .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if let Some(n) = find("content-length") {
            let n: usize = n.parse().expect("a length");
            body.resize(n, 0);
            self.reader.read_exact(&mut body).expect("the body");
        } else if find("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size).expect("a chunk size");
                let n = usize::from_str_radix(size.trim(), 16).expect("a hex size");
                let mut chunk = vec![0; n + 2];
                self.reader.read_exact(&mut chunk).expect("a chunk");
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        Reply {
            status,
            headers,
            text: String::from_utf8_lossy(&body).into_owned(),
        }
    }
}

fn id_of(r: &Reply) -> u64 {
    assert_eq!(r.status, 202, "{}", r.text);
    r.json()["id"].as_u64().expect("an id")
}

#[test]
fn a_submitted_message_runs_and_its_data_is_its_result() {
    let s = Server::start("submit", &[]);
    let id = id_of(&s.submit("seq([call(double, 21), call(pair, \"a\", [1, 2])])"));
    let item = s.wait_for(id, &["done"]);
    assert_eq!(item["result"], json!([42, ["a", [1, 2]]]), "{item}");
    assert_eq!(item["tree"]["op"], "seq", "{item}");
    assert_eq!(item["tree"]["children"].as_array().map(Vec::len), Some(2));
    let listed = s.get("/v1/items?state=done").json();
    assert!(
        listed["items"]
            .as_array()
            .expect("a list")
            .iter()
            .any(|i| i["id"] == id),
        "{listed}"
    );
}

#[test]
fn bad_requests_get_400_with_a_diagnostic() {
    let s = Server::start("bad", &[]);
    let mut c = s.client();
    let r = c.request("POST", "/v1/messages", &[], b"{\"message\": ");
    assert_eq!((r.status, r.code().as_str()), (400, "E0500"), "{}", r.text);
    let r = s.post("/v1/messages", &json!({"msg": "call(double, 1)"}));
    assert_eq!((r.status, r.code().as_str()), (400, "E0500"), "{}", r.text);
    // An unknown action: the compiler's diagnostic, with its place.
    let r = s.submit("seq([call(double, 1),\n  call(tripple, 2)])");
    assert_eq!(r.status, 400, "{}", r.text);
    let e = &r.json()["error"];
    assert_eq!(e["code"], "E0101", "{e}");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(2), Some(8)),
        "{e}"
    );
    assert!(
        e["message"].as_str().is_some_and(|m| m.contains("tripple")),
        "{e}"
    );
    assert!(e["hint"].as_str().is_some(), "{e}");
    let r = s.submit("call(double, n)");
    assert_eq!((r.status, r.code().as_str()), (400, "E0100"), "{}", r.text);
    // A parse error.
    let r = s.submit("call(double, ");
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json()["error"]["line"], 1);
    // Declarations and statements are not requests.
    for text in [
        "action evil() { 1 }",
        "let x = 1",
        "1 + 2",
        "call(double, 1)\ncall(double, 2)",
    ] {
        s.refuses(text, 400, "E0501");
    }
    // A runaway expression stops at --max-instructions.
    let r = s.submit("{ let n = 0; while true { n += 1 }; call(double, n) }");
    assert_eq!(r.status, 400, "{}", r.text);
    // Ids and queries.
    assert_eq!(s.get("/v1/items/abc").code(), "E0500");
    assert_eq!(s.get("/v1/items?limit=0").code(), "E0500");
    assert_eq!(s.get("/v1/items?state=lost").code(), "E0500");
}

#[test]
fn a_body_over_the_limit_gets_413() {
    let s = Server::start("huge", &["--max-body", "64KiB"]);
    let big = json!({ "message": format!("call(double, \"{}\")", "x".repeat(100_000)) });
    let r = s.post("/v1/messages", &big);
    assert_eq!((r.status, r.code().as_str()), (413, "E0505"), "{}", r.text);
    assert!(
        r.text.len() < 500,
        "the error echoes no more than itself: {}",
        r.text
    );
    // The server goes on.
    assert_eq!(s.get("/healthz").status, 200);
}

#[test]
fn unknown_things_get_404() {
    let s = Server::start("unknown", &[]);
    let r = s.get("/v1/items/999999");
    assert_eq!((r.status, r.code().as_str()), (404, "E0503"));
    let r = s.post("/v1/call/nope", &json!([]));
    assert_eq!((r.status, r.code().as_str()), (404, "E0503"));
    let r = s.post("/v1/dead-letters/77/requeue", &json!(null));
    assert_eq!((r.status, r.code().as_str()), (404, "E0503"));
    let r = s.get("/v2/nothing");
    assert_eq!((r.status, r.code().as_str()), (404, "E0503"));
}

#[test]
fn a_call_waits_for_its_data_or_its_error() {
    let s = Server::start("call", &[]);
    let r = s.post("/v1/call/double", &json!([21]));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["result"], json!([42]));
    assert_eq!(r.json()["state"], "done");
    let r = s.post("/v1/call/pair", &json!(["x", {"k": [true, null]}]));
    assert_eq!(
        r.json()["result"],
        json!([["x", {"k": [true, null]}]]),
        "{}",
        r.text
    );
    // Wrong arity: the runtime's code.
    let r = s.post("/v1/call/double", &json!([]));
    assert_eq!((r.status, r.code().as_str()), (400, "E0207"), "{}", r.text);
    let r = s.post("/v1/call/double", &json!({"n": 1}));
    assert_eq!((r.status, r.code().as_str()), (400, "E0500"), "{}", r.text);
    // A failing call: 422, with the error.
    let r = s.post("/v1/call/boom", &json!(["now"]));
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.json()["state"], "dead");
    assert!(r.json()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("boom: now")));
}

#[test]
fn a_call_that_does_not_finish_in_time_gets_504_and_goes_on() {
    let s = Server::start("slow", &["--call-timeout", "300ms"]);
    let r = s.post("/v1/call/later", &json!([]));
    assert_eq!((r.status, r.code().as_str()), (504, "E0506"), "{}", r.text);
    let listed = s.get("/v1/items?state=timer").json();
    assert_eq!(listed["items"][0]["message"], "call(later)", "{listed}");
}

#[test]
fn a_port_in_use_is_refused_with_status_75() {
    let s = Server::start("port", &[]);
    let dir = TempDir::new("port2");
    std::fs::write(dir.0.join("api.vy"), SCRIPT).expect("write the script");
    let script = dir.0.join("api.vy").display().to_string();
    let out = common::voyager(&["serve", &script, "--listen", &s.addr], &[], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{stderr}");
    assert!(stderr.contains("E0508"), "{stderr}");
}

#[test]
fn native_actions_are_refused_unless_allowed() {
    let s = Server::start("native", &[]);
    for text in [
        "call(sh, \"echo hi\")",
        "seq([call(double, 1), call(write_file, \"x\", \"y\")])",
        "call(pair, sh, 1)",
        "promise([call(double, 1)], call(http))",
        // A callback's body runs later, as the item steps: it is checked
        // by name before anything is evaluated.
        "then(call(double, 1), fn(r) { call(sh, \"echo hi\") })",
        "promise([call(double, 1)], fn(xs) { call(sh, \"echo hi\") })",
        "catch(call(double, 1), sh)",
        "ensure(call(double, 1), call(sh, \"rm -rf /\"))",
    ] {
        s.refuses(text, 403, "E0502");
    }
    let r = s.post("/v1/call/sh", &json!(["echo hi"]));
    assert_eq!((r.status, r.code().as_str()), (403, "E0502"));
    // The server's environment and command line are not a request's to read.
    for text in ["data(env(\"HOME\"))", "data(args())"] {
        s.refuses(text, 403, "E0502");
    }
    // Nested deeper than the check looks: refused, not let through.
    let deep = format!("{}call(double, 1){}", "seq([".repeat(300), "])".repeat(300));
    let r = s.submit(&deep);
    assert!(r.status == 403 || r.status == 400, "{}", r.text);
    drop(s);
    let s = Server::start("allowed", &["--allow-native", "sh"]);
    let r = s.post("/v1/call/sh", &json!(["echo hi"]));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["result"][0]["stdout"], "hi\n", "{}", r.text);
    let r = s.submit("call(read_file, \"/etc/hostname\")");
    assert_eq!(r.status, 403, "{}", r.text);
}

/// A script whose globals hold native actions (in a record, in a
/// function, in a message) and a helper that reads the environment: a
/// request may call `apply` with its own values, but none of them may
/// reach those.
const SMUGGLE: &str = r#"
let tools = {deploy: sh}
let cleanup = call(sh, "echo cleanup")
let cmd = "echo hi"
let hosts = ["a"]
fn run_it(c) { call(sh, c) }
fn home() { env("HOME") }
fn twice(n) { call(double, n) }
action double(n) { n * 2 }
action apply(f, x) { f(x) }
action show() { print(cmd) }
"#;

#[test]
fn native_actions_cannot_be_smuggled_in_as_values() {
    let s = Server::start_in(TempDir::new("smuggle"), SMUGGLE, &[], &[]);
    for text in [
        // A field holding a native action, as a value and in a lambda.
        "call(apply, tools.deploy, \"echo hi\")",
        "call(apply, fn(x) { call(tools.deploy, x) }, \"echo hi\")",
        "call(apply, fn(x) { get(tools, \"deploy\") }, 1)",
        // A function value that reaches one, alone, in a record, in a list.
        "call(apply, run_it, \"echo hi\")",
        "call(double, {f: run_it})",
        "call(double, [1, [run_it]])",
        "data({nested: {f: run_it}})",
        // A global message holding a native call, reached from a lambda.
        "call(apply, fn(x) { cleanup }, 1)",
        // Callbacks, handlers and continuations.
        "promise([call(double, 1)], call(apply, fn(r) { call(tools.deploy, \"echo\") }))",
        "then(call(double, 1), call(apply, fn(r) { run_it(\"echo hi\") }))",
        "catch(call(double, 1), call(apply, fn(e) { cleanup }))",
        "promise([call(double, 1)], tools.deploy)",
        // A lambda's captured value.
        "call(apply, (fn(t) { fn(x) { call(t, x) } })(tools.deploy), \"echo\")",
        // The environment, through a function of the script's.
        "call(apply, fn(x) { home() }, 1)",
        "call(apply, home, 1)",
    ] {
        s.refuses(text, 403, "E0502");
    }
    // A script's global is not a request's to change.
    for text in [
        "[(fn() { cmd = \"rm -rf /\" })(), call(show)][1]",
        "call(apply, fn(x) { cmd = x }, \"rm -rf /\")",
        "call(apply, fn(x) { tools.deploy = x }, 1)",
        // Nor are its lists, changed in place.
        "[push(hosts, \"evil\"), call(double, 1)][1]",
        "call(apply, fn(x) { push(hosts, x) }, \"evil\")",
        "call(apply, fn(x) { pop(hosts) }, 1)",
        "promise([call(double, 1)], fn(r) { push(hosts, r) })",
    ] {
        let r = s.refuses(text, 403, "E0502");
        assert!(r.text.contains("change the script's global"), "{}", r.text);
    }
    // A request's own list is its own.
    let id = id_of(
        &s.submit("call(apply, fn(x) { let l = [x]\n push(l, x)\n call(double, len(l)) }, 21)"),
    );
    assert_eq!(s.wait_for(id, &["done"])["result"], json!([4]));
    // The JSON form of values in POST /v1/call: functions, actions and
    // messages named there are looked through the same way.
    for args in [
        json!([{"$function": "run_it"}, "echo hi"]),
        json!([{"$function": "home"}, 1]),
        json!([{"$action": "sh"}, "echo hi"]),
        json!([{"f": {"$function": "run_it"}}, 1]),
        json!([[{"$action": "sh"}], 1]),
    ] {
        let r = s.post("/v1/call/apply", &args);
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "E0502"),
            "{args}: {}",
            r.text
        );
    }
    // A prelude function is not a global: it cannot be named there at all.
    let r = s.post("/v1/call/apply", &json!([{"$function": "env"}, "HOME"]));
    assert_eq!((r.status, r.code().as_str()), (400, "E0500"), "{}", r.text);
    // What reaches only the script's own actions still runs.
    let id = id_of(&s.submit("call(apply, fn(x) { call(double, x) }, 21)"));
    assert_eq!(s.wait_for(id, &["done"])["result"], json!([42]));
    let r = s.post("/v1/call/apply", &json!([{"$function": "twice"}, 4]));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["result"], json!([8]), "{}", r.text);
    drop(s);
    // Allowed by name, the same lambda runs.
    let s = Server::start_in(
        TempDir::new("smuggle-allowed"),
        SMUGGLE,
        &["--allow-native", "sh"],
        &[],
    );
    let r = s.submit("call(apply, fn(x) { call(tools.deploy, x) }, \"echo hi\")");
    let item = s.wait_for(id_of(&r), &["done"]);
    assert_eq!(item["result"][0]["stdout"], "hi\n", "{item}");
}

#[test]
fn a_request_is_bounded_in_memory() {
    let s = Server::start("memory", &["--max-request-memory", "16MiB"]);
    for text in [
        "data(range(100000000))",
        "data(map(range(10000000), fn(i) { [i, i] }))",
    ] {
        s.refuses(text, 400, "E0211");
    }
    // The server goes on, and what fits runs.
    let id = id_of(&s.submit("data(len(range(1000)))"));
    assert_eq!(s.wait_for(id, &["done"])["result"], json!([1000]));
}

/// Sends `GET /healthz` on a connection of its own; the reply arrives on
/// `tx` whenever it comes.
fn healthz_in_background(addr: &str, tx: &std::sync::mpsc::Sender<Reply>) {
    let mut c = Client::connect(addr);
    let tx = tx.clone();
    std::thread::spawn(move || {
        let r = c.request("GET", "/healthz", &[], b"");
        let _ = tx.send(r);
    });
}

#[test]
fn a_full_engine_queue_gets_503_with_retry_after() {
    let script = "action spin() { let i = 0\n  while true { i = i + 1 } }\n";
    let s = Server::start_in(
        TempDir::new("busy"),
        script,
        &[
            "--max-pending",
            "1",
            "--max-instructions",
            "1000000000000000",
        ],
        &[],
    );
    // The engine steps `spin` for ever: requests wait for it.
    id_of(&s.submit("call(spin)"));
    let (tx, rx) = std::sync::mpsc::channel();
    // Two requests are always out: while the engine answers, each reply
    // sends another; once it is stuck, one waits in the queue (room for
    // one) and the other is turned away.
    healthz_in_background(&s.addr, &tx);
    healthz_in_background(&s.addr, &tx);
    let busy = loop {
        let r = rx.recv().expect("a reply");
        if r.status == 503 {
            break r;
        }
        assert_eq!(r.status, 200, "{}", r.text);
        healthz_in_background(&s.addr, &tx);
    };
    assert_eq!(busy.code(), "E0510", "{}", busy.text);
    assert_eq!(busy.header("retry-after"), Some("1"), "{:?}", busy.headers);
}

#[test]
fn forgotten_items_and_dead_letters_get_410() {
    let s = Server::start("keep", &["--keep", "2"]);
    let ids: Vec<u64> = (0..3)
        .map(|i| id_of(&s.submit(&format!("data({i})"))))
        .collect();
    s.wait_for(ids[2], &["done"]);
    let r = s.get(&format!("/v1/items/{}", ids[0]));
    assert_eq!((r.status, r.code().as_str()), (410, "E0511"), "{}", r.text);
    assert_eq!(s.get(&format!("/v1/items/{}", ids[2])).status, 200);
    let r = s.get("/v1/items/999999");
    assert_eq!((r.status, r.code().as_str()), (404, "E0503"), "{}", r.text);
    // Dead letters likewise: three fail, the newest two are kept.
    for i in 0..3 {
        let id = id_of(&s.submit(&format!("call(boom, {i})")));
        s.wait_for(id, &["dead"]);
    }
    let letters = s.get("/v1/dead-letters").json();
    assert_eq!(letters["total"], 2, "{letters}");
    let r = s.post("/v1/dead-letters/1/requeue", &json!({}));
    assert_eq!((r.status, r.code().as_str()), (410, "E0511"), "{}", r.text);
}

#[test]
fn an_unfinished_item_is_cancelled_and_its_command_ended() {
    let script = "action slow() { call(sh, \"echo $$ > pid.txt; exec sleep 300\") }\naction later() { seq([delay(1h), data(1)]) }\naction double(n) { n * 2 }\n";
    let s = Server::start_in(TempDir::new("cancel"), script, &[], &[]);
    let id = id_of(&s.submit("seq([call(slow), call(double, 1)])"));
    s.wait_for(id, &["job"]);
    let pid_file = s._dir.0.join("pid.txt");
    let deadline = Instant::now() + Duration::from_secs(60);
    let pid = loop {
        if let Ok(text) = std::fs::read_to_string(&pid_file) {
            if let Ok(pid) = text.trim().parse::<u32>() {
                break pid;
            }
        }
        assert!(Instant::now() < deadline, "the command never wrote its pid");
        std::thread::sleep(Duration::from_millis(20));
    };
    let r = s.post(&format!("/v1/items/{id}/cancel"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["state"], "cancelled", "{}", r.text);
    // The command's process is ended (gone, or a zombie until reaped).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat.rsplit(") ").next().and_then(|r| r.chars().next());
        if stat.is_empty() || state == Some('Z') {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "process {pid} still runs: {stat}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        s.get(&format!("/v1/items/{id}")).json()["state"],
        "cancelled"
    );
    // A waiting item too; a finished one, or an unknown one, cannot be.
    let waiting = id_of(&s.submit("call(later)"));
    s.wait_for(waiting, &["timer"]);
    let r = s.post(&format!("/v1/items/{waiting}/cancel"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.post(&format!("/v1/items/{waiting}/cancel"), &json!({}));
    assert_eq!((r.status, r.code().as_str()), (409, "E0512"), "{}", r.text);
    let done = id_of(&s.submit("data(1)"));
    s.wait_for(done, &["done"]);
    let r = s.post(&format!("/v1/items/{done}/cancel"), &json!({}));
    assert_eq!((r.status, r.code().as_str()), (409, "E0512"), "{}", r.text);
    let r = s.post("/v1/items/999999/cancel", &json!({}));
    assert_eq!((r.status, r.code().as_str()), (404, "E0503"), "{}", r.text);
    let listed = s.get("/v1/items?state=cancelled").json();
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    let metrics = s.get("/metrics").text;
    assert!(metrics.contains("voyager_cancelled_total 2"), "{metrics}");
    assert!(
        metrics.contains("voyager_items{state=\"cancelled\"} 2"),
        "{metrics}"
    );
    // The cancelled wait on the command is one observation of the
    // job-wait histogram.
    assert!(
        metrics.contains("voyager_job_wait_seconds_count 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("voyager_job_wait_seconds_bucket{le=\"+Inf\"} 1"),
        "{metrics}"
    );
    // The rest of the cancelled seq never ran, and the engine goes on.
    let after = id_of(&s.submit("call(double, 4)"));
    assert_eq!(s.wait_for(after, &["done"])["result"], json!([8]));
}

#[test]
fn pause_and_resume_everything_or_one_action() {
    let s = Server::start("pause", &[]);
    // Everything: nothing steps, requests are still answered.
    let r = s.post("/v1/pause", &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({"all": true, "actions": []}));
    let id = id_of(&s.submit("call(double, 1)"));
    assert_eq!(s.get(&format!("/v1/items/{id}")).json()["state"], "queued");
    assert_eq!(s.get("/v1/pause").json()["all"], true);
    assert_eq!(s.get("/v1/stats").json()["paused"]["all"], true);
    let r = s.post("/v1/resume", &json!({}));
    assert_eq!(r.json()["all"], false, "{}", r.text);
    assert_eq!(s.wait_for(id, &["done"])["result"], json!([2]));
    // One action: its calls wait, the rest go on, nothing is lost.
    let r = s.post("/v1/pause", &json!({"action": "double"}));
    assert_eq!(
        r.json(),
        json!({"all": false, "actions": ["double"]}),
        "{}",
        r.text
    );
    let metrics = s.get("/metrics").text;
    assert!(
        metrics.contains("voyager_paused{action=\"double\"} 1"),
        "{metrics}"
    );
    let id = id_of(&s.submit("conc([call(double, 21), call(pair, 1, 2)])"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let item = s.get(&format!("/v1/items/{id}")).json();
        if item["result"] == json!([[1, 2]]) {
            assert_ne!(item["state"], "done", "{item}");
            break;
        }
        assert!(Instant::now() < deadline, "pair never ran: {item}");
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = s.post("/v1/resume", &json!({"action": "double"}));
    assert_eq!(r.json()["actions"], json!([]), "{}", r.text);
    let item = s.wait_for(id, &["done"]);
    assert_eq!(item["result"], json!([[1, 2], 42]), "{item}");
    // An unknown action, a body of the wrong shape.
    let r = s.post("/v1/pause", &json!({"action": "nope"}));
    assert_eq!((r.status, r.code().as_str()), (404, "E0503"), "{}", r.text);
    let r = s.post("/v1/pause", &json!({"action": 1}));
    assert_eq!((r.status, r.code().as_str()), (400, "E0500"), "{}", r.text);
    // A misspelt key is refused, not taken as "pause everything".
    let r = s.post("/v1/pause", &json!({"acton": "double"}));
    assert_eq!((r.status, r.code().as_str()), (400, "E0500"), "{}", r.text);
    assert_eq!(s.get("/v1/pause").json()["all"], false);
    let r = s.client().request("POST", "/v1/resume", &[], b"");
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Under the virtual clock a paused action's calls wait for the resume
/// without running time on (they used to look again every 200ms, which
/// the virtual clock made a busy loop).
#[test]
fn a_paused_call_under_the_virtual_clock_holds_time_still() {
    let script = "action double(n) { n * 2 }\naction stamp() { now() }\n";
    let s = Server::start_in(
        TempDir::new("pausevirtual"),
        script,
        &["--clock", "virtual"],
        &[],
    );
    let stamp = || {
        let r = s.post("/v1/call/stamp", &json!([]));
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["result"][0]["$time"].as_i64().expect("a time")
    };
    let before = stamp();
    s.post("/v1/pause", &json!({"action": "double"}));
    let id = id_of(&s.submit("call(double, 21)"));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(stamp(), before, "virtual time ran on while a call was held");
    let item = s.get(&format!("/v1/items/{id}")).json();
    assert_eq!(item["state"], "queued", "{item}");
    s.post("/v1/resume", &json!({"action": "double"}));
    assert_eq!(s.wait_for(id, &["done"])["result"], json!([42]));
}

#[test]
fn a_submission_with_a_priority_steps_before_earlier_ones() {
    let script = "let n = 0\naction rank(x) { n = n + 1\n  n }\n";
    let s = Server::start_in(TempDir::new("priority"), script, &[], &[]);
    // Paused, so that all three are ready together when it resumes.
    s.post("/v1/pause", &json!({}));
    let low = id_of(&s.submit("call(rank, 1)"));
    let high = id_of(&s.post(
        "/v1/messages",
        &json!({"message": "call(rank, 2)", "priority": 5}),
    ));
    let high2 = id_of(&s.post(
        "/v1/messages",
        &json!({"message": {"call": {"action": "rank", "args": [3]}}, "priority": 5}),
    ));
    for bad in [json!(101), json!(-101), json!("high"), json!(1.5)] {
        let r = s.post(
            "/v1/messages",
            &json!({"message": "call(rank, 4)", "priority": bad}),
        );
        assert_eq!((r.status, r.code().as_str()), (400, "E0500"), "{}", r.text);
    }
    s.post("/v1/resume", &json!({}));
    assert_eq!(s.wait_for(high, &["done"])["result"], json!([1]));
    assert_eq!(s.wait_for(high2, &["done"])["result"], json!([2]));
    assert_eq!(s.wait_for(low, &["done"])["result"], json!([3]));
}

#[test]
fn an_item_reports_its_calls_done_running_waiting_and_dead() {
    let script = "action hold(n) limit 1 { seq([delay(300ms), data(n)]) }\naction ok() { 1 }\naction bad() { 1 + \"a\" }\n";
    let s = Server::start_in(TempDir::new("group"), script, &[], &[]);
    let id = id_of(&s.submit("conc([call(ok), call(bad), call(hold, 1), call(hold, 2)])"));
    // The first hold runs (its action returned: done; what it returned
    // waits for its delay), the second waits for the resource.
    let item = s.wait_for(id, &["resource"]);
    assert_eq!(
        item["calls"],
        json!({"done": 2, "running": 0, "resource": 1, "waiting": 1, "dead": 1}),
        "{item}"
    );
    let item = s.wait_for(id, &["dead"]);
    assert_eq!(
        item["calls"],
        json!({"done": 3, "running": 0, "resource": 0, "waiting": 0, "dead": 1}),
        "{item}"
    );
}

#[test]
fn a_paused_call_waiting_for_its_resource_does_not_start() {
    let script = "action hold(n) limit 1 { seq([delay(300ms), data(n)]) }\n";
    let s = Server::start_in(TempDir::new("pause-turn"), script, &[], &[]);
    let first = id_of(&s.submit("call(hold, 1)"));
    let second = id_of(&s.submit("call(hold, 2)"));
    s.wait_for(second, &["resource"]);
    let r = s.post("/v1/pause", &json!({"action": "hold"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.wait_for(first, &["done"])["result"], json!([1]));
    // Its turn came while paused: it waits (unpaused, it would end 300ms
    // after the first).
    std::thread::sleep(Duration::from_millis(1200));
    let item = s.get(&format!("/v1/items/{second}")).json();
    assert_ne!(item["state"], "done", "{item}");
    s.post("/v1/resume", &json!({"action": "hold"}));
    assert_eq!(s.wait_for(second, &["done"])["result"], json!([2]));
}

/// A pass that waits for a paused action's work is not stuck: its
/// messages wait for the resume, they do not become dead letters.
#[test]
fn a_pass_waiting_on_a_paused_action_keeps_its_messages() {
    let script = "let state = {open: false}\naction open_gate() { state.open = true }\naction work(x) { x }\ninterest \"g\" when call(work, _)\npass \"g\" (msgs) { if state.open { msgs } else { {ready: [], further: msgs} } }\n";
    let s = Server::start_in(TempDir::new("pause-pass"), script, &[], &[]);
    s.post("/v1/pause", &json!({"action": "open_gate"}));
    let gate = id_of(&s.submit("call(open_gate)"));
    let work = id_of(&s.submit("call(work, 1)"));
    std::thread::sleep(Duration::from_millis(500));
    let letters = s.get("/v1/dead-letters").json();
    assert_eq!(letters["dead_letters"], json!([]), "{letters}");
    s.post("/v1/resume", &json!({"action": "open_gate"}));
    s.wait_for(gate, &["done"]);
    let item = s.wait_for(work, &["done", "topic"]);
    assert_eq!(
        s.get("/v1/dead-letters").json()["dead_letters"],
        json!([]),
        "{item}"
    );
}

/// With a store, what a pass gave back is one item (a group of the
/// store's) and keeps its id across a restart, all its parts with it.
#[test]
fn a_pass_output_keeps_its_id_across_a_restart() {
    let script = "action work(x) { x }\naction a(x) { x }\ninterest \"g\" when call(work, _)\npass \"g\" (msgs) { [seq([delay(1h), call(a, 1)]), seq([delay(1h), call(a, 2)])] }\n";
    let dir = TempDir::new("pass-ids");
    let db_arg = dir.0.join("run.db").display().to_string();
    let mut s = Server::start_in(dir, script, &["--store", &db_arg], &[]);
    id_of(&s.submit("call(work, 1)"));
    let deadline = Instant::now() + Duration::from_secs(60);
    let (id, live) = loop {
        let items = s.get("/v1/items?limit=10").json();
        let engine: Vec<&Json> = items["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|i| i["origin"] == "engine" && i["state"] == "timer")
            .collect();
        if let [one] = engine[..] {
            let id = one["id"].as_u64().expect("an id");
            let live = s.get(&format!("/v1/items/{id}")).json()["live"].clone();
            if live.as_array().is_some_and(|l| l.len() == 2) {
                break (id, live);
            }
        }
        assert!(Instant::now() < deadline, "no pass output: {items}");
        std::thread::sleep(Duration::from_millis(20));
    };
    stop(&mut s);
    let dir = std::mem::replace(&mut s._dir, TempDir(PathBuf::new()));
    drop(s);
    let s = Server::start_in(dir, script, &["--store", &db_arg], &[]);
    let r = s.get(&format!("/v1/items/{id}"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["live"].as_array().map(Vec::len),
        Some(2),
        "{} (before: {live})",
        r.text
    );
}

/// A server fires the script's schedules while it runs.
#[test]
fn a_server_fires_its_schedules() {
    let script = "action tick() { state_put(\"n\", state_get(\"n\", 0) + 1) }\naction count() { state_get(\"n\", 0) }\nschedule beat every 100ms { call(tick) }\n";
    let s = Server::start_in(TempDir::new("schedules"), script, &[], &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = s.post("/v1/call/count", &json!([]));
        assert_eq!(r.status, 200, "{}", r.text);
        if r.json()["result"][0].as_i64().is_some_and(|n| n >= 3) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "fewer than 3 firings: {}",
            r.text
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_scripts_parameters_follow_the_double_dash() {
    let script = "let target = param(\"target\")\nlet port = flag(\"port\", 80)\naction where() { \"{target}:{port}\" }\n";
    let s = Server::start_in(
        TempDir::new("params"),
        script,
        &["--", "prod", "--port", "8080"],
        &[],
    );
    let r = s.post("/v1/call/where", &json!([]));
    assert_eq!(r.json()["result"], json!(["prod:8080"]), "{}", r.text);
    // A required parameter missing: a usage error before the server starts.
    let dir = TempDir::new("params-missing");
    let path = dir.0.join("api.vy");
    std::fs::write(&path, script).expect("write the script");
    let out = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never", "serve"])
        .arg(&path)
        .args(["--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .output()
        .expect("voyager serve runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("target"), "{stderr}");
}

#[test]
fn a_message_in_the_dead_letters_json_form_is_taken() {
    let s = Server::start("json-form", &[]);
    let m = json!({"seq": [{"call": {"action": "double", "args": [21]}}, {"data": 2}]});
    let id = id_of(&s.post("/v1/messages", &json!({ "message": m })));
    assert_eq!(s.wait_for(id, &["done"])["result"], json!([42, 2]));
    // A whole record of a --dead-letters file, as `voyager run` writes it.
    let record = json!({
        "shown": "call(double, 4)",
        "error": {"code": "E0300", "message": "x", "severity": "fatal"},
        "attempts": 1,
        "at": "api.vy:1",
        "message": {"call": {"action": "double", "args": [4]}},
    });
    let id = id_of(&s.post("/v1/messages", &record));
    assert_eq!(s.wait_for(id, &["done"])["result"], json!([8]));
    // Checked as an expression's message is.
    let r = s.post(
        "/v1/messages",
        &json!({"message": {"call": {"action": "sh", "args": ["echo hi"]}}}),
    );
    assert_eq!((r.status, r.code().as_str()), (403, "E0502"), "{}", r.text);
    for bad in [
        json!({"message": {"call": {"action": "nope", "args": []}}}),
        json!({"message": {"what": 1}}),
        json!({"message": 5}),
    ] {
        let r = s.post("/v1/messages", &bad);
        assert_eq!(
            (r.status, r.code().as_str()),
            (400, "E0500"),
            "{bad}: {}",
            r.text
        );
    }
}

#[test]
fn a_token_is_needed_off_loopback_and_then_on_every_request() {
    let out = common::voyager(&["serve", "api.vy", "--listen", "0.0.0.0:0"], &[], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("E0509"), "{stderr}");
    let s = Server::start_in(
        TempDir::new("token"),
        SCRIPT,
        &[],
        &[("VOYAGER_TOKEN", "s3cret")],
    );
    let r = s.get("/v1/items");
    assert_eq!((r.status, r.code().as_str()), (401, "E0504"));
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let r = s.client().request(
        "GET",
        "/v1/items",
        &[("Authorization", "Bearer wrong")],
        b"",
    );
    assert_eq!(r.status, 401);
    let r = s.client().request(
        "GET",
        "/v1/items",
        &[("Authorization", "Bearer s3cret")],
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text);
    // The dashboard's page holds no data; its requests carry the token.
    assert_eq!(s.get("/").status, 200);
}

#[test]
fn dead_letters_are_listed_and_requeued() {
    let s = Server::start("dead", &[]);
    let id = id_of(&s.submit("seq([call(double, 1), call(boom, \"x\")])"));
    let item = s.wait_for(id, &["dead"]);
    assert_eq!(item["error"]["code"], "E0300", "{item}");
    let letters = s.get("/v1/dead-letters").json();
    let letter = &letters["dead_letters"][0];
    assert_eq!(letter["item"], id, "{letters}");
    assert!(letter["message"]
        .as_str()
        .is_some_and(|m| m.contains("boom")));
    let again = s.post(
        &format!("/v1/dead-letters/{}/requeue", letter["id"]),
        &json!(null),
    );
    let new_id = id_of(&again);
    s.wait_for(new_id, &["dead"]);
    // The requeued letter left the list; the new failure joined it.
    let letters = s.get("/v1/dead-letters").json();
    assert_eq!(letters["total"], 1, "{letters}");
    assert_eq!(letters["dead_letters"][0]["item"], new_id, "{letters}");
}

#[test]
fn a_request_wakes_an_engine_waiting_for_a_timer() {
    let s = Server::start("timer", &[]);
    let waiting = id_of(&s.submit("seq([delay(1h), call(double, 1)])"));
    assert_eq!(s.wait_for(waiting, &["timer"])["state"], "timer");
    let started = Instant::now();
    let r = s.post("/v1/call/double", &json!([5]));
    assert_eq!(r.json()["result"], json!([10]), "{}", r.text);
    // Well within the hour the engine was waiting for (generous bound).
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn metrics_health_and_the_openapi_document() {
    let s = Server::start("meta", &[]);
    s.post("/v1/call/double", &json!([1]));
    let health = s.get("/healthz");
    assert_eq!(
        (health.status, &health.json()["status"]),
        (200, &json!("ok"))
    );
    let metrics = s.get("/metrics");
    assert!(metrics
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/plain")));
    assert!(metrics.text.contains("# TYPE voyager_steps_total counter"));
    assert!(
        metrics.text.contains("voyager_items{state=\"done\"} 1"),
        "{}",
        metrics.text
    );
    let doc = s.get("/openapi.json").json();
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/v1/messages",
        "/v1/items/{id}",
        "/v1/call/{action}",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    let page = s.get("/");
    assert!(page.text.contains("<title>Voyager</title>"));
    assert!(
        !page.text.contains("http://") && !page.text.contains("https://"),
        "nothing loads from the internet"
    );
}

/// SIGTERM with --store: the server stops cleanly, and what waited is in
/// the store (a new server resumes it).
#[test]
fn sigterm_with_a_store_leaves_the_waiting_work_queued() {
    let dir = TempDir::new("store");
    let db = dir.0.join("run.db");
    let db_arg = db.display().to_string();
    let mut s = Server::start_in(dir, SCRIPT, &["--store", &db_arg], &[]);
    let id = id_of(&s.submit("seq([delay(1h), call(double, 1)])"));
    s.wait_for(id, &["timer"]);
    let pid = s.child.id() as i32;
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = s.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let out = common::voyager(&["status", "--json", &db_arg], &[], None);
    let status: Json = serde_json::from_slice(&out.stdout).expect("status JSON");
    assert_eq!(status["items"]["timer"], 1, "{status}");
}

#[test]
fn a_requeue_through_the_api_leaves_the_stores_dead_letters() {
    let script = "action flaky() {\n  let n = state_get(\"n\", 0)\n  state_put(\"n\", n + 1)\n  if n == 0 { fail(\"first\") }\n  n\n}\n";
    let dir = TempDir::new("requeue-store");
    let db = dir.0.join("run.db");
    let db_arg = db.display().to_string();
    let mut s = Server::start_in(
        dir,
        script,
        &["--store", &db_arg, "--max-attempts", "1"],
        &[],
    );
    let id = id_of(&s.submit("call(flaky)"));
    s.wait_for(id, &["dead"]);
    let letter = s.get("/v1/dead-letters").json()["dead_letters"][0]["id"]
        .as_u64()
        .expect("a letter");
    let r = s.post(&format!("/v1/dead-letters/{letter}/requeue"), &json!({}));
    let again = id_of(&r);
    assert_eq!(s.wait_for(again, &["done"])["result"], json!([1]));
    stop(&mut s);
    let out = common::voyager(&["status", "--json", &db_arg], &[], None);
    let status: Json = serde_json::from_slice(&out.stdout).expect("status JSON");
    assert_eq!(status["dead_letters"], 0, "{status}");
}

/// Stops a server with SIGTERM and waits for it.
fn stop(s: &mut Server) {
    let pid = s.child.id() as i32;
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.child.try_wait().expect("wait").is_none() {
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// With a store, an unfinished submission keeps its id across a restart,
/// and a restarted server hands out no id it handed out before.
#[test]
fn ids_hold_across_a_restart_with_a_store() {
    let dir = TempDir::new("ids-restart");
    let db_arg = dir.0.join("run.db").display().to_string();
    let mut s = Server::start_in(dir, SCRIPT, &["--store", &db_arg], &[]);
    let data = id_of(&s.submit("data(7)"));
    let done = id_of(&s.submit("call(double, 1)"));
    assert_eq!(s.wait_for(done, &["done"])["result"], json!([2]));
    let waiting = id_of(&s.submit("seq([delay(2s), call(double, 2)])"));
    s.wait_for(waiting, &["timer"]);
    let before = [data, done, waiting];
    stop(&mut s);
    let dir = std::mem::replace(&mut s._dir, TempDir(PathBuf::new()));
    drop(s);
    let s = Server::start_in(dir, SCRIPT, &["--store", &db_arg], &[]);
    // Known from the start, not only once it steps again.
    let r = s.get(&format!("/v1/items/{waiting}"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json()["message"],
        "seq([delay(2s), call(double, 2)])",
        "{}",
        r.text
    );
    let item = s.wait_for(waiting, &["done"]);
    assert_eq!(item["result"], json!([4]), "{item}");
    // What finished before the restart is forgotten, not someone else's.
    for id in [data, done] {
        let r = s.get(&format!("/v1/items/{id}"));
        assert_eq!((r.status, r.code().as_str()), (410, "E0511"), "{}", r.text);
    }
    let new = id_of(&s.submit("call(double, 3)"));
    assert!(
        !before.contains(&new),
        "{new} was handed out before: {before:?}"
    );
    assert_eq!(s.wait_for(new, &["done"])["result"], json!([6]));
}

#[test]
fn a_cancel_is_kept_in_the_store_and_voyager_cancel_cancels_there() {
    let dir = TempDir::new("cancel-store");
    let db = dir.0.join("run.db");
    let db_arg = db.display().to_string();
    let mut s = Server::start_in(dir, SCRIPT, &["--store", &db_arg], &[]);
    let kept = id_of(&s.submit("seq([delay(1h), call(double, 1)])"));
    let cancelled = id_of(&s.submit("seq([delay(1h), call(double, 2)])"));
    let item = s.wait_for(kept, &["timer"]);
    let store_id = item["live"][0]["item"].as_u64().expect("a live item");
    s.wait_for(cancelled, &["timer"]);
    let r = s.post(&format!("/v1/items/{cancelled}/cancel"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    stop(&mut s);
    // Only the one not cancelled is left to resume.
    let out = common::voyager(&["status", "--json", &db_arg], &[], None);
    let status: Json = serde_json::from_slice(&out.stdout).expect("status JSON");
    assert_eq!(status["items"]["timer"], 1, "{status}");
    // `voyager cancel` on the store: the other goes too.
    let out = common::voyager(&["cancel", &db_arg, &store_id.to_string()], &[], None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = common::voyager(&["status", "--json", &db_arg], &[], None);
    let status: Json = serde_json::from_slice(&out.stdout).expect("status JSON");
    assert_eq!(status["unfinished"], 0, "{status}");
    let out = common::voyager(&["cancel", &db_arg, &store_id.to_string()], &[], None);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no unfinished item"),
        "{out:?}"
    );
}

fn load_test(s: &Server, total: usize, threads: usize) -> f64 {
    let started = Instant::now();
    let per = total / threads;
    let ids: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let mut c = s.client();
                    (0..per)
                        .map(|i| {
                            let body =
                                json!({ "message": format!("call(double, {})", t * per + i) });
                            let r =
                                c.request("POST", "/v1/messages", &[], body.to_string().as_bytes());
                            id_of(&r)
                        })
                        .collect::<Vec<u64>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a client thread"))
            .collect()
    });
    let rate = ids.len() as f64 / started.elapsed().as_secs_f64();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        per * threads,
        "every submission has its own id"
    );
    // Every one ends done, with its data.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let stats = s.get("/v1/stats").json();
        if stats["items"]["done"] == per * threads {
            break;
        }
        assert!(Instant::now() < deadline, "not all finished: {stats}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let done = s.get("/v1/items?state=done&limit=10000").json();
    let done = done["items"].as_array().expect("a list").len();
    assert_eq!(done, per * threads);
    rate
}

#[test]
fn load_every_submission_ends_done() {
    let s = Server::start("load", &[]);
    let rate = load_test(&s, 4000, 4);
    eprintln!("load: 4,000 submissions over 4 keep-alive connections, {rate:.0} requests/s");
}

#[test]
fn load_with_a_store_nothing_lost() {
    let dir = TempDir::new("loadstore");
    let db = dir.0.join("run.db").display().to_string();
    let s = Server::start_in(dir, SCRIPT, &["--store", &db], &[]);
    let rate = load_test(&s, 2000, 4);
    eprintln!("load with --store: 2,000 submissions, {rate:.0} requests/s");
}

/// The dashboard in headless Chromium (Debian's, driven by playwright-core
/// from tests/browser): submit, see it finish, requeue a dead letter, and
/// a screenshot in target/dashboard.png. Skipped loudly without Chromium
/// or `npm ci` in tests/browser; under CI=true that fails instead.
#[test]
fn the_dashboard_works_in_a_browser() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let browser_dir = root.join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing = if !std::path::Path::new(&chromium).exists() {
        Some(format!(
            "{chromium} is not installed (apt-get install chromium)"
        ))
    } else if !browser_dir.join("node_modules/playwright-core").exists() {
        Some("playwright-core is not installed (npm ci in tests/browser)".to_string())
    } else {
        None
    };
    if let Some(why) = missing {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the browser test cannot run under CI: {why}"
        );
        eprintln!("SKIPPED: the dashboard browser test: {why}");
        return;
    }
    let s = Server::start("browser", &[]);
    let screenshot = root.join("target/dashboard.png");
    let _ = std::fs::remove_file(&screenshot);
    let out = Command::new("node")
        .arg(browser_dir.join("dashboard.mjs"))
        .arg(format!("http://{}/", s.addr))
        .arg(&screenshot)
        .env("CHROMIUM", &chromium)
        .current_dir(&browser_dir)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "the browser test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(screenshot.exists(), "a screenshot was saved");
}

/// `voyager serve --store postgres://…`: a server on a fresh database of
/// the test cluster (None, loudly, without one).
fn pg_server(tag: &str, extra: &[&str]) -> Option<(Server, String)> {
    let url = common::pg_database(&format!("serve_{tag}"))?;
    let mut args = vec!["--store", url.as_str()];
    args.extend_from_slice(extra);
    let s = Server::start_in(TempDir::new(&format!("pg-{tag}")), SCRIPT, &args, &[]);
    Some((s, url))
}

/// `voyager ARGS` beside a copy of the tests' script (its path is `{}`
/// in ARGS).
fn voyager_with_script(args: &[&str]) -> std::process::Output {
    let dir = TempDir::new("pg-cli");
    let path = dir.0.join("api.vy");
    std::fs::write(&path, SCRIPT).expect("write the script");
    let shown = path.display().to_string();
    let args: Vec<&str> = args
        .iter()
        .map(|a| if *a == "{}" { shown.as_str() } else { a })
        .collect();
    common::voyager(&args, &[], None)
}

#[test]
fn with_postgres_a_submitted_message_is_enqueued_there_and_run_here() {
    let Some((s, url)) = pg_server("submit", &[]) else {
        return;
    };
    let id = id_of(&s.submit("seq([call(double, 21), call(pair, \"a\", [1, 2])])"));
    let item = s.wait_for(id, &["done"]);
    assert_eq!(item["result"], json!([42, ["a", [1, 2]]]), "{item}");
    assert_eq!(item["origin"], "message", "{item}");
    // The id is the item's row in PostgreSQL, and it is done there too.
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
    let left: i64 = c
        .query_one("SELECT count(*) FROM voyager.items", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, 0);
    // A second one gets the next row's id.
    let again = id_of(&s.submit("call(double, 2)"));
    assert!(again > id, "{again} after {id}");
    assert_eq!(s.wait_for(again, &["done"])["result"], json!([4]));
}

#[test]
fn with_postgres_a_call_returns_its_data() {
    let Some((s, _url)) = pg_server("call", &[]) else {
        return;
    };
    let r = s.post("/v1/call/double", &json!([21]));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["result"], json!([42]), "{}", r.text);
    let r = s.post("/v1/call/boom", &json!(["x"]));
    assert_eq!(r.status, 422, "{}", r.text);
}

#[test]
fn with_postgres_an_item_enqueued_by_voyager_enqueue_is_run_by_the_server() {
    let Some((s, url)) = pg_server("enqueue", &[]) else {
        return;
    };
    let out = voyager_with_script(&["enqueue", "--store", &url, "{}", "call(double, 5)"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    let id: u64 = said
        .trim()
        .trim_start_matches("enqueued item #")
        .parse()
        .expect("an id");
    // The server takes it (woken by NOTIFY) and knows it by its row id.
    let deadline = Instant::now() + Duration::from_secs(60);
    let item = loop {
        let r = s.get(&format!("/v1/items/{id}"));
        if r.status == 200 && r.json()["state"] == "done" {
            break r.json();
        }
        assert!(Instant::now() < deadline, "never done: {}", r.text);
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(item["result"], json!([10]), "{item}");
    assert_eq!(item["origin"], "engine", "{item}");
}

#[test]
fn with_postgres_sigterm_hands_a_delayed_item_back_to_the_queue() {
    let Some((mut s, url)) = pg_server("sigterm", &[]) else {
        return;
    };
    let id = id_of(&s.submit("seq([delay(1s), call(double, 4)])"));
    s.wait_for(id, &["timer"]);
    stop(&mut s);
    assert_eq!(s.child.wait().expect("exited").code(), Some(0));
    let out = common::voyager(&["status", "--json", &url], &[], None);
    let status: Json = serde_json::from_slice(&out.stdout).expect("status JSON");
    assert_eq!(status["unfinished"], 1, "{status}");
    assert_eq!(status["items"]["timer"], 1, "{status}");
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
    let row = c
        .query_one("SELECT id, lease_owner FROM voyager.items", &[])
        .unwrap();
    assert_eq!(row.get::<_, i64>(0) as u64, id, "the item keeps its row");
    assert_eq!(
        row.get::<_, Option<i64>>(1),
        None,
        "the lease is handed back"
    );
    let out = voyager_with_script(&["worker", "--until-idle", "--store", &url, "{}"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let left: i64 = c
        .query_one("SELECT count(*) FROM voyager.items", &[])
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "the worker finished it");
}

/// What the API says of an item submitted here that another worker runs:
/// queued while its row is in PostgreSQL, then `elsewhere` (its result is
/// not known here). One not taken yet may be cancelled.
#[test]
fn with_postgres_an_item_another_worker_ran_is_elsewhere() {
    let Some((s, url)) = pg_server("elsewhere", &[]) else {
        return;
    };
    // Paused: this server's engine takes nothing.
    assert_eq!(s.post("/v1/pause", &json!({})).status, 200);
    let id = id_of(&s.submit("call(double, 3)"));
    let item = s.get(&format!("/v1/items/{id}")).json();
    assert_eq!(item["state"], "queued", "{item}");
    let cancelled = id_of(&s.submit("call(double, 4)"));
    let r = s.post(&format!("/v1/items/{cancelled}/cancel"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["state"], "cancelled", "{}", r.text);
    let out = voyager_with_script(&["worker", "--until-idle", "--store", &url, "{}"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let item = s.get(&format!("/v1/items/{id}")).json();
    assert_eq!(item["state"], "elsewhere", "{item}");
    let r = s.post(&format!("/v1/items/{id}/cancel"), &json!({}));
    assert_eq!((r.status, r.code().as_str()), (409, "E0512"), "{}", r.text);
}

/// A dead letter requeued through the API leaves the store's dead letters
/// and runs again as a new item of the queue.
#[test]
fn with_postgres_a_requeue_through_the_api_requeues_in_the_store() {
    let script = "action flaky() {\n  let n = state_get(\"n\", 0)\n  state_put(\"n\", n + 1)\n  if n == 0 { fail(\"first\") }\n  n\n}\n";
    let Some(url) = common::pg_database("serve_requeue") else {
        return;
    };
    let s = Server::start_in(
        TempDir::new("pg-requeue"),
        script,
        &["--store", &url, "--max-attempts", "1"],
        &[],
    );
    let id = id_of(&s.submit("call(flaky)"));
    s.wait_for(id, &["dead"]);
    let letter = s.get("/v1/dead-letters").json()["dead_letters"][0]["id"]
        .as_u64()
        .expect("a letter");
    let again = id_of(&s.post(&format!("/v1/dead-letters/{letter}/requeue"), &json!({})));
    assert!(again > id, "a new row: {again} after {id}");
    assert_eq!(s.wait_for(again, &["done"])["result"], json!([1]));
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
    let letters: i64 = c
        .query_one("SELECT count(*) FROM voyager.dead_letters", &[])
        .unwrap()
        .get(0);
    assert_eq!(letters, 0);
    // Requeued once only.
    let r = s.post(&format!("/v1/dead-letters/{letter}/requeue"), &json!({}));
    assert_eq!(r.status, 404, "{}", r.text);
}

/// An item this server took is cancelled here, and its row leaves the
/// queue.
#[test]
fn with_postgres_a_cancel_of_an_item_taken_here_removes_its_row() {
    let Some((s, url)) = pg_server("cancel", &[]) else {
        return;
    };
    let id = id_of(&s.submit("seq([delay(1h), call(double, 1)])"));
    s.wait_for(id, &["timer"]);
    let r = s.post(&format!("/v1/items/{id}/cancel"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["state"], "cancelled", "{}", r.text);
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("connects");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left: i64 = c
            .query_one("SELECT count(*) FROM voyager.items", &[])
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the row is still queued");
        std::thread::sleep(Duration::from_millis(50));
    }
}
