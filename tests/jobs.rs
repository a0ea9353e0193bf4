//! Native actions that run off the interpreter thread: commands and files.

use std::process::Command;

fn run(script: &str, extra: &[&str]) -> (String, String, i32) {
    let dir = std::env::temp_dir().join(format!(
        "voyager-jobs-{}-{}",
        std::process::id(),
        script.len()
    ));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("jobs.vy");
    std::fs::write(&file, script).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never", "run"])
        .args(extra)
        .arg(&file)
        .current_dir(&dir)
        .output()
        .expect("runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// Start and end times (ns) that two one-second commands print.
fn spans(extra: &[&str]) -> Vec<(u128, u128)> {
    let script = r#"
action report(results) { for r in results { print(trim(r.stdout)) } }
let cmd = "date +%s%N; sleep 1; date +%s%N"
promise([call(sh, cmd), call(sh, cmd)], report)
"#;
    let (out, err, code) = run(script, extra);
    assert_eq!(code, 0, "{err}");
    let times: Vec<u128> = out
        .split_whitespace()
        .map(|t| t.parse().expect("a time"))
        .collect();
    assert_eq!(times.len(), 4, "{out}");
    vec![(times[0], times[1]), (times[2], times[3])]
}

#[test]
fn commands_in_a_conc_really_run_at_once() {
    let s = spans(&[]);
    // Each started before the other ended: they overlapped.
    assert!(s[0].0 < s[1].1 && s[1].0 < s[0].1, "{s:?}");
}

#[test]
fn jobs_1_runs_them_one_after_the_other() {
    let s = spans(&["--jobs", "1"]);
    let (first, second) = if s[0].0 < s[1].0 {
        (s[0], s[1])
    } else {
        (s[1], s[0])
    };
    assert!(second.0 >= first.1, "{s:?}");
}

#[test]
fn results_options_and_files() {
    let script = r#"
action show(r) { print(r) }
action show_text(t) { print("read: {t}") }
seq([
  call(write_file, "out.txt", "hello file"),
  promise([call(read_file, "out.txt")], call(show, )),
  promise([call(sh, "cat; echo $GREETING; pwd", {stdin: "from stdin\n", env: {GREETING: "hi"}, cwd: "/"})], show),
  promise([call(sh, "echo oops >&2; exit 4", {check: false})], show),
])
"#;
    let (out, err, code) = run(script, &["--clock", "virtual"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "[\"hello file\"]\n\
         [{code: 0, stdout: \"from stdin\\nhi\\n/\\n\", stderr: \"\"}]\n\
         [{code: 4, stdout: \"\", stderr: \"oops\\n\"}]\n"
    );
}

#[test]
fn failures_are_clear_retried_when_it_may_help_and_never_lost() {
    let script = r#"
action log(x) { print(x) }
call(sh, "no_such_command_xyz")
call(sh, "echo failing >&2; exit 3")
call(read_file, "/no/such/file")
call(write_file, "/no/such/dir/f.txt", "x")
call(sh, 42)
call(log, "others still run")
"#;
    let (out, err, code) = run(script, &["--clock", "virtual", "--max-attempts", "3"]);
    assert_eq!(out, "others still run\n");
    assert_eq!(code, 1);
    assert!(err.contains("5 dead letter(s)"), "{err}");
    // Not found: fatal at once.
    assert!(
        err.contains("dead letter")
            && err.contains("call(sh, \"no_such_command_xyz\") (attempts: 1)")
    );
    assert!(err.contains("exited with status 127"));
    // A failing command: retried, then given up, with the tail of stderr.
    assert!(err.contains(
        "gave up after 3 attempts: `echo failing >&2; exit 3` exited with status 3: failing"
    ));
    assert!(err.contains("cannot read /no/such/file"));
    assert!(err.contains("cannot write /no/such/dir/f.txt"));
    assert!(err.contains("sh expects a command string, got 42"));
}

#[test]
fn huge_output_is_capped_and_says_so() {
    let script = r#"
action size(rs) { print("{len(rs[0].stdout)} {rs[0].truncated}") }
promise([call(sh, "head -c 3000000 /dev/zero | tr '\\0' x")], size)
"#;
    let (out, err, code) = run(script, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "1048576 true\n");
}

#[test]
fn a_timeout_cancels_its_command_and_kills_the_process() {
    let marker =
        std::env::temp_dir().join(format!("voyager-timeout-marker-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let script = format!(
        "action log(x) {{ print(x) }}\n\
         timeout(300ms, call(sh, \"sleep 7.31; touch {}\"))\n\
         call(log, \"others go on\")\n",
        marker.display()
    );
    let started = std::time::Instant::now();
    let (out, err, code) = run(&script, &["--max-attempts", "1"]);
    let took = started.elapsed();
    assert_eq!(out, "others go on\n");
    assert_eq!(code, 1);
    assert!(
        err.contains("gave up after 1 attempts: timed out after 300ms"),
        "{err}"
    );
    // Generous bound: the command would take 7 seconds.
    assert!(took < std::time::Duration::from_secs(4), "took {took:?}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let still = Command::new("pgrep").args(["-f", "sleep 7.31"]).output();
    if let Ok(still) = still {
        assert!(
            still.stdout.is_empty(),
            "the child still runs: {}",
            String::from_utf8_lossy(&still.stdout)
        );
    }
    assert!(!marker.exists(), "the command ran to its end");
}

/// A tiny HTTP/1.1 server on loopback, for `count` requests: `/ok` says
/// hello, `/flaky` fails with 503 the first time, `/missing` is a 404,
/// `/echo` returns the method, a header and the body; `/json` returns a JSON
/// body as JSON (a 415 unless the request said it sent JSON), `/bad-json`
/// text that says it is JSON but is not.
fn serve(count: usize) -> (String, std::thread::JoinHandle<()>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let handle = std::thread::spawn(move || {
        let mut flaky_failed = false;
        for stream in listener.incoming().take(count) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            reader.read_line(&mut request_line).expect("request line");
            let mut length = 0;
            let mut token = String::new();
            let mut sent_json = false;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("header");
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if let Some(v) = lower.strip_prefix("x-token:") {
                    token = v.trim().to_string();
                }
                if lower.starts_with("content-type:") {
                    sent_json |= lower.ends_with("application/json");
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            let mut parts = request_line.split_whitespace();
            let method = parts.next().unwrap_or("").to_string();
            let path = parts.next().unwrap_or("").to_string();
            let mut content_type = "text/plain";
            let (status, text) = match path.as_str() {
                "/json" if sent_json => {
                    content_type = "application/json; charset=utf-8";
                    ("200 OK", String::from_utf8_lossy(&body).into_owned())
                }
                "/json" => ("415 Unsupported Media Type", "send JSON".to_string()),
                "/bad-json" => {
                    content_type = "application/json";
                    ("200 OK", "{oops".to_string())
                }
                "/ok" => ("200 OK", "hello".to_string()),
                "/flaky" if !flaky_failed => {
                    flaky_failed = true;
                    ("503 Service Unavailable", "try later".to_string())
                }
                "/flaky" => ("200 OK", "recovered".to_string()),
                "/echo" => (
                    "200 OK",
                    format!("{method} {token} {}", String::from_utf8_lossy(&body)),
                ),
                _ => ("404 Not Found", "no such page".to_string()),
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    (base, handle)
}

#[test]
fn http_against_a_loopback_server() {
    let (base, server) = serve(5);
    let script = format!(
        r#"
action show(rs) {{ for r in rs {{ print("{{r.status}} {{r.body}} {{r.headers["content-type"]}}") }} }}
seq([
  promise([call(http, "{base}/ok")], show),
  promise([call(http, {{method: "post", url: "{base}/echo", headers: {{"X-Token": "abc"}}, body: "payload"}})], show),
  promise([call(http, "{base}/flaky")], show),
  call(http, "{base}/missing"),
])
"#
    );
    let (out, err, code) = run(&script, &["--backoff", "10ms"]);
    server.join().expect("server done");
    assert_eq!(
        out, "200 hello text/plain\n200 POST abc payload text/plain\n200 recovered text/plain\n",
        "{err}"
    );
    // The 503 was retried; the 404 is fatal at once, with the status.
    assert_eq!(code, 1);
    assert!(err.contains("404 Not Found: no such page"), "{err}");
    assert!(err.contains("(attempts: 1)"));
}

#[test]
fn http_sends_and_reads_json() {
    let (base, server) = serve(2);
    let script = format!(
        r#"
action show(rs) {{
  let r = rs[0]
  print(r.json.hosts[1])
  print(r.json == {{hosts: ["a", "b"], ratio: 1.5, on: nil}})
}}
seq([
  promise([call(http, {{method: "post", url: "{base}/json", json: {{hosts: ["a", "b"], ratio: 1.5, on: nil}}}})], show),
  call(http, "{base}/bad-json"),
])
"#
    );
    let (out, err, code) = run(&script, &["--max-attempts", "1"]);
    server.join().expect("server done");
    assert_eq!(out, "b\ntrue\n", "{err}");
    assert_eq!(code, 1);
    assert!(
        err.contains("the response says it is JSON but is not, at line 1, column 2"),
        "{err}"
    );
}

#[test]
fn http_json_needs_a_json_form_and_no_body() {
    let (_, err, code) = run(
        "call(http, {url: \"http://127.0.0.1:9/\", json: {wait: 5s}})\ncall(http, {url: \"http://127.0.0.1:9/\", json: 1, body: \"x\"})\n",
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("http json: a duration has no JSON form (at .wait)"),
        "{err}"
    );
    assert!(
        err.contains("http takes a body or a json, not both"),
        "{err}"
    );
}

#[test]
fn http_to_a_closed_port_is_a_retryable_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let script = format!("call(http, \"http://127.0.0.1:{port}/\")\ncall(http, \"not a url\")\n");
    let (_, err, code) = run(&script, &["--max-attempts", "2", "--backoff", "10ms"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("gave up after 2 attempts: GET http://127.0.0.1"),
        "{err}"
    );
    assert!(err.contains("GET not a url"), "{err}");
}

/// The step count `--stats` reports.
fn steps_of(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("steps:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no step count in {stderr}"))
}

#[test]
fn a_finished_job_wakes_only_its_own_item() {
    // Each item takes a step to start its job (one more if it found the
    // pool full) and one to finish: about three steps a job, not one step
    // of every parked item each time a job finishes.
    let script = "conc(map(range(0, 400), fn(i) { call(sh, \"true\") }))\n";
    let (_, err, code) = run(script, &["--stats", "--jobs", "4"]);
    assert_eq!(code, 0, "{err}");
    let steps = steps_of(&err);
    assert!(steps < 4 * 400, "{steps} steps for 400 jobs");
}

/// Processes whose command line contains `pattern` (by `pgrep -f`).
fn processes(pattern: &str) -> String {
    Command::new("pgrep")
        .args(["-f", pattern])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

#[test]
fn a_background_child_holding_the_output_neither_blocks_nor_outlives_the_run() {
    let script = r#"
action show(rs) { print(trim(rs[0].stdout)) }
seq([
  promise([timeout(5s, call(sh, "sleep 101.7 & echo hi"))], show),
  promise([call(sh, "setsid sleep 102.3 & echo away")], show),
])
"#;
    let started = std::time::Instant::now();
    let (out, err, code) = run(script, &["--max-attempts", "1"]);
    let took = started.elapsed();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "hi\naway\n");
    // Generous bound: the children would take 100 seconds.
    assert!(took < std::time::Duration::from_secs(4), "took {took:?}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(
        processes("sleep 101.7"),
        "",
        "the background child survived"
    );
    assert_eq!(processes("sleep 102.3"), "", "the setsid child survived");
}

/// A loopback server that accepts connections and never answers; it
/// holds them until the test process ends.
fn silent_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    base
}

#[test]
fn a_timeout_abandons_a_blocked_file_read_and_a_silent_server() {
    let dir = std::env::temp_dir().join(format!("voyager-fifo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let fifo = dir.join("nobody-writes");
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let base = silent_server();
    let script = format!(
        "action log(x) {{ print(x) }}\n\
         timeout(300ms, call(read_file, \"{}\"))\n\
         timeout(300ms, call(http, \"{base}/never\"))\n\
         call(log, \"others go on\")\n",
        fifo.display()
    );
    let started = std::time::Instant::now();
    let (out, err, code) = run(&script, &["--max-attempts", "1"]);
    let took = started.elapsed();
    assert_eq!(out, "others go on\n");
    assert_eq!(code, 1);
    assert!(err.contains("2 dead letter(s)"), "{err}");
    assert!(
        err.contains("timed out after 300ms: call(read_file"),
        "{err}"
    );
    assert!(err.contains("timed out after 300ms: call(http"), "{err}");
    // Generous bound: the read never ends, and ureq would wait 120 s.
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
}

#[test]
fn http_read_timeouts_per_call_and_per_run() {
    let base = silent_server();
    let per_call = format!("call(http, {{url: \"{base}/a\", read_timeout: 200ms}})\n");
    let started = std::time::Instant::now();
    let (_, err, code) = run(&per_call, &["--max-attempts", "2", "--backoff", "10ms"]);
    assert_eq!(code, 1);
    // A read timeout may pass: retried, then given up.
    assert!(err.contains("gave up after 2 attempts: GET"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let per_run = format!("call(http, \"{base}/b\")\n");
    let started = std::time::Instant::now();
    let (_, err, code) = run(
        &per_run,
        &["--max-attempts", "1", "--http-read-timeout", "200ms"],
    );
    assert_eq!(code, 1);
    assert!(err.contains("GET"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let (_, err, code) = run(
        &format!("call(http, {{url: \"{base}/c\", read_timeout: 3}})\n"),
        &[],
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("http read_timeout must be a positive duration"),
        "{err}"
    );
}

#[test]
fn read_file_stops_at_max_read_with_a_fatal_error() {
    let script = "call(read_file, \"/dev/zero\")\n";
    let started = std::time::Instant::now();
    let (_, err, code) = run(script, &["--max-read", "1MiB", "--max-attempts", "3"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot read /dev/zero: it is larger than 1 MiB (--max-read)"),
        "{err}"
    );
    assert!(err.contains("(attempts: 1)"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // The default (64 MiB) stops it too, without a flag.
    let (_, err, code) = run(script, &[]);
    assert_eq!(code, 1);
    assert!(err.contains("it is larger than 64 MiB"), "{err}");
}

/// A loopback server whose every response is cut off: `/short` announces
/// more than it sends, `/reset` resets the connection mid-body, `/chunked`
/// ends a chunked body without its last chunk.
fn cutting_server() -> String {
    use std::io::{BufRead, BufReader, Write};
    use std::os::fd::AsRawFd;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("");
            let head = "HTTP/1.1 200 OK\r\nConnection: close\r\n";
            match path {
                "/short" => {
                    let _ = write!(stream, "{head}Content-Length: 100\r\n\r\nonly ten b");
                }
                "/reset" => {
                    let _ = write!(stream, "{head}Content-Length: 100\r\n\r\npartial");
                    let _ = stream.flush();
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    // SO_LINGER with a zero timeout: close sends RST.
                    let linger = libc::linger {
                        l_onoff: 1,
                        l_linger: 0,
                    };
                    // SAFETY: setsockopt on a socket we own, with a local struct.
                    unsafe {
                        libc::setsockopt(
                            stream.as_raw_fd(),
                            libc::SOL_SOCKET,
                            libc::SO_LINGER,
                            (&linger as *const libc::linger).cast(),
                            std::mem::size_of::<libc::linger>() as libc::socklen_t,
                        );
                    }
                }
                _ => {
                    let _ = write!(
                        stream,
                        "{head}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
                    );
                }
            }
        }
    });
    base
}

#[test]
fn an_http_body_cut_off_is_a_retryable_error_not_a_success() {
    let base = cutting_server();
    let script = format!(
        "action show(rs) {{ print(rs) }}\n\
         promise([call(http, \"{base}/short\")], show)\n\
         promise([call(http, \"{base}/reset\")], show)\n\
         promise([call(http, \"{base}/chunked\")], show)\n"
    );
    let (out, err, code) = run(&script, &["--max-attempts", "2", "--backoff", "10ms"]);
    assert_eq!(out, "", "{err}");
    assert_eq!(code, 1);
    assert!(err.contains("3 dead letter(s)"), "{err}");
    for path in ["short", "reset", "chunked"] {
        assert!(
            err.contains(&format!(
                "gave up after 2 attempts: GET {base}/{path}: the response body was cut off"
            )),
            "{path}: {err}"
        );
    }
}

#[test]
fn virtual_time_passes_at_real_speed_while_jobs_run() {
    let script = "timeout(1s, call(sh, \"sleep 3\"))\n";
    for clock in ["real", "virtual"] {
        let started = std::time::Instant::now();
        let (_, err, code) = run(script, &["--clock", clock, "--max-attempts", "1"]);
        assert_eq!(code, 1, "--clock {clock}: {err}");
        assert!(
            err.contains("gave up after 1 attempts: timed out after 1s"),
            "--clock {clock}: {err}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(3));
    }
    // With no job out, virtual time still jumps: an hour's delay is instant.
    let script = "action log(x) { print(x) }\nseq([delay(1h), call(log, \"later\")])\n";
    let started = std::time::Instant::now();
    let (out, _, code) = run(script, &["--clock", "virtual"]);
    assert_eq!((out.as_str(), code), ("later\n", 0));
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}

#[test]
fn a_fan_out_of_a_few_commands_runs_at_once_by_default() {
    // Whatever the CPU count (the machine may have only one or two), four
    // commands all start before any of them ends.
    let script = r#"
action report(results) { for r in results { print(trim(r.stdout)) } }
let cmd = "date +%s%N; sleep 1; date +%s%N"
promise([call(sh, cmd), call(sh, cmd), call(sh, cmd), call(sh, cmd)], report)
"#;
    let (out, err, code) = run(script, &[]);
    assert_eq!(code, 0, "{err}");
    let times: Vec<u128> = out
        .split_whitespace()
        .map(|t| t.parse().expect("a time"))
        .collect();
    assert_eq!(times.len(), 8, "{out}");
    let last_start = times.iter().step_by(2).max();
    let first_end = times.iter().skip(1).step_by(2).min();
    assert!(last_start < first_end, "{times:?}");
}

#[test]
fn a_missing_cwd_folder_is_named_as_such() {
    let script = "call(sh, \"echo hi\", {cwd: \"/no/such/folder\"})\n";
    let (_, err, code) = run(script, &["--max-attempts", "3"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot run `echo hi`: its folder (cwd) /no/such/folder does not exist"),
        "{err}"
    );
    assert!(err.contains("(attempts: 1)"), "{err}");
    assert!(!err.contains("not found"), "{err}");
}

#[test]
fn an_endless_http_body_stops_at_the_cap() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
            }
            let _ = write!(stream, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let chunk = [b'x'; 8192];
            while stream.write_all(&chunk).is_ok() {}
        }
    });
    let script = format!(
        "action size(rs) {{ print(\"{{len(rs[0].body)}} {{rs[0].truncated}}\") }}\n\
         promise([call(http, \"{base}/endless\")], size)\n"
    );
    let (out, err, code) = run(&script, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "1048576 true\n");
}

#[test]
fn an_abandoned_job_frees_its_place_on_the_pool() {
    // With one place, a read that never ends holds it until its timeout;
    // then the next job runs at once, not when the read would end.
    let dir = std::env::temp_dir().join(format!("voyager-fifo-room-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let fifo = dir.join("nobody-writes");
    let _ = std::fs::remove_file(&fifo);
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let script = format!(
        "action show(rs) {{ print(trim(rs[0].stdout)) }}\n\
         timeout(300ms, call(read_file, \"{}\"))\n\
         promise([call(sh, \"echo next\")], show)\n",
        fifo.display()
    );
    let started = std::time::Instant::now();
    let (out, err, code) = run(&script, &["--jobs", "1", "--max-attempts", "1"]);
    assert_eq!(out, "next\n", "{err}");
    assert_eq!(code, 1);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
