//! `voyager serve` under load (not a timed test).
//!
//! `cargo bench --bench serve` starts the release binary on a loopback
//! port, sends 10,000 `POST /v1/messages` over 4 keep-alive connections,
//! then waits until every submitted id is listed as done. It prints the
//! submission rate and the time until the last one finished, in memory and
//! with `--store` (SQLite, group commit). Nothing may be lost: every id is
//! distinct and every one ends done, or the benchmark fails.
//!
//! `cargo test` runs it once on small sizes (debug builds) as a smoke test.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value as Json};

const SCRIPT: &str = "action double(n) { n * 2 }\n";
const CONNECTIONS: usize = 4;

fn size(full: usize, smoke: usize) -> usize {
    if cfg!(debug_assertions) {
        smoke
    } else {
        full
    }
}

/// A running `voyager serve` in its own directory, killed when dropped.
struct Server {
    child: Child,
    addr: String,
    dir: PathBuf,
}

impl Server {
    fn start(tag: &str, extra: &[&str]) -> Server {
        let dir =
            std::env::temp_dir().join(format!("voyager-bench-serve-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temp dir");
        std::fs::write(dir.join("api.vy"), SCRIPT).expect("write the script");
        let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
            .args(["--color", "never", "serve", "api.vy"])
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .env_remove("VOYAGER_TOKEN")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("voyager serve starts");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let mut addr = None;
        for line in stderr.by_ref().map_while(Result::ok) {
            if let Some(a) = line.split("listening on http://").nth(1) {
                addr = Some(a.trim().to_string());
                break;
            }
            eprintln!("server: {line}");
        }
        let Some(addr) = addr else {
            let _ = child.kill();
            panic!("voyager serve ended before it printed its address");
        };
        // Keep reading: a server writing to a closed pipe would fail.
        std::thread::spawn(move || {
            for line in stderr.map_while(Result::ok) {
                eprintln!("server: {line}");
            }
        });
        Server { child, addr, dir }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One keep-alive HTTP/1.1 connection; the server answers with a length.
struct Client {
    reader: BufReader<TcpStream>,
    head: String,
}

impl Client {
    fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to the server");
        stream.set_nodelay(true).expect("no delay");
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .expect("a timeout");
        Client {
            reader: BufReader::new(stream),
            head: format!("Host: {addr}\r\n"),
        }
    }

    fn request(&mut self, method: &str, path: &str, body: &str) -> (u16, Json) {
        let request = format!(
            "{method} {path} HTTP/1.1\r\n{}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.head,
            body.len()
        );
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .expect("send a request");
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("a status line");
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("a status line, got {line:?}"));
        let mut length = 0;
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).expect("a header");
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().expect("a length");
                }
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("the body");
        let json = serde_json::from_slice(&body).unwrap_or(Json::Null);
        (status, json)
    }
}

/// Submits `total` calls over [`CONNECTIONS`] connections; waits until all
/// are done. Returns (requests/s while submitting, seconds to the last done).
fn load(server: &Server, total: usize) -> (f64, f64) {
    let started = Instant::now();
    let per = total / CONNECTIONS;
    let ids: Vec<u64> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..CONNECTIONS)
            .map(|t| {
                let addr = server.addr.clone();
                scope.spawn(move || {
                    let mut c = Client::connect(&addr);
                    (0..per)
                        .map(|i| {
                            let body =
                                json!({ "message": format!("call(double, {})", t * per + i) });
                            let (status, reply) =
                                c.request("POST", "/v1/messages", &body.to_string());
                            assert_eq!(status, 202, "a submission is taken: {reply}");
                            reply["id"].as_u64().expect("an id")
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
    let submitted = started.elapsed().as_secs_f64();
    let total = per * CONNECTIONS;
    let mut wanted: HashSet<u64> = ids.iter().copied().collect();
    assert_eq!(wanted.len(), total, "every submission has its own id");
    let mut c = Client::connect(&server.addr);
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (_, stats) = c.request("GET", "/v1/stats", "");
        if stats["items"]["done"] == total {
            break;
        }
        assert!(Instant::now() < deadline, "not all finished: {stats}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let finished = started.elapsed().as_secs_f64();
    let (_, done) = c.request("GET", &format!("/v1/items?state=done&limit={total}"), "");
    for item in done["items"].as_array().expect("a list of items") {
        wanted.remove(&item["id"].as_u64().expect("an id"));
    }
    assert!(wanted.is_empty(), "submitted but not done: {wanted:?}");
    (total as f64 / submitted, finished)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test` runs the smoke size.
    let n = size(10_000, 400);
    let memory = Server::start("memory", &["--keep", "20000"]);
    let (rate, all) = load(&memory, n);
    println!(
        "{n} submissions, {CONNECTIONS} connections, in memory: {rate:.0} requests/s, all done after {all:.2}s"
    );
    drop(memory);
    let stored = Server::start("store", &["--keep", "20000", "--store", "run.db"]);
    let (rate, all) = load(&stored, n);
    println!(
        "{n} submissions, {CONNECTIONS} connections, --store run.db: {rate:.0} requests/s, all done after {all:.2}s"
    );
}
