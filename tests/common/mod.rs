//! Helpers shared by the integration tests (each test crate uses some).
#![allow(dead_code)]

/// A small deterministic PRNG (xorshift64*), so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Every `.vy` file under `dir`, at any depth, in a stable order.
pub fn scripts(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("the folder exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            scripts(&path, out);
        } else if path.extension().is_some_and(|e| e == "vy") {
            out.push(path);
        }
    }
}

/// Runs `voyager --color never ARGS` with `envs` set and `stdin` written
/// to its standard input (closed at once without one), and waits for it.
pub fn voyager(
    args: &[&str],
    envs: &[(&str, &std::ffi::OsStr)],
    stdin: Option<&str>,
) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_voyager"))
        .args(["--color", "never"])
        .args(args)
        .envs(envs.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("voyager starts");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        // voyager may exit before reading its input (a bad flag): the
        // pipe is closed then, which is not the test's failure.
        if let Err(e) = input.write_all(text.as_bytes()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
        }
    }
    drop(input);
    child.wait_with_output().expect("voyager finishes")
}

/// The test PostgreSQL server's URL (VOYAGER_TEST_PG_URL; `.ci/postgres.sh
/// start` sets one up), or None, said loudly, on a developer machine
/// without one; with CI=true a missing server fails the test.
pub fn pg_server() -> Option<String> {
    match std::env::var("VOYAGER_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true but VOYAGER_TEST_PG_URL is not set: .ci/run starts PostgreSQL");
            }
            eprintln!(
                "SKIPPED: no PostgreSQL (set VOYAGER_TEST_PG_URL; `eval \"$(bash .ci/postgres.sh start)\"` starts one)"
            );
            None
        }
    }
}

/// A fresh database of the test server for one test (named after `name`
/// and the test process); its URL. None (loudly) without a server.
pub fn pg_database(name: &str) -> Option<String> {
    let url = pg_server()?;
    let db = format!("voyager_{name}_{}", std::process::id());
    let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("the test server");
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
        .expect("no database left over");
    // (CREATE DATABASE copies template1, one at a time: tests retry.)
    let mut tries = 0;
    while let Err(e) = c.batch_execute(&format!("CREATE DATABASE {db}")) {
        tries += 1;
        assert!(tries < 50, "cannot create a database: {e}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    Some(format!("{base}/{db}"))
}
