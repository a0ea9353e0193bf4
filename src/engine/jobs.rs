//! Native actions that do real work off the interpreter thread: commands and
//! files, on a bounded pool of worker threads.
//!
//! The interpreter builds a [`JobSpec`] (plain, `Send` data) from a call's
//! arguments; a worker runs it and sends back a [`JobOutcome`]; the engine
//! turns that into values again. Meanwhile the item that made the call is
//! parked, and every other item goes on.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::vm::error::{codes, RuntimeError};
use crate::vm::natives::record;
use crate::vm::value::Value;

/// Output beyond this many bytes (per stream) is cut, and the result says so.
pub const MAX_OUTPUT: usize = 1 << 20;

/// What a job does, as plain data that can cross threads.
#[derive(Debug, Clone)]
pub enum JobSpec {
    Sh {
        command: String,
        cwd: Option<String>,
        env: Vec<(String, String)>,
        stdin: Option<String>,
        /// A non-zero exit fails the call (retryably).
        check: bool,
    },
    ReadFile(String),
    WriteFile(String, String),
    Http {
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: Option<String>,
    },
    /// An action an embedding program registered for the pool.
    Custom(Custom),
}

/// What an embedding program's pool action is.
pub type CustomJob =
    dyn Fn(Vec<serde_json::Value>) -> Result<serde_json::Value, JobFailure> + Send + Sync;

#[derive(Clone)]
pub struct Custom {
    pub func: Arc<CustomJob>,
    pub args: Vec<serde_json::Value>,
}

impl std::fmt::Debug for Custom {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "Custom({:?})", self.args)
    }
}

/// Makes a job from a call's arguments (on the interpreter thread).
pub type MakeJob = dyn Fn(&[Value]) -> Result<JobSpec, RuntimeError>;

/// How a native action makes its job from a call's arguments, and how
/// many arguments it takes.
#[derive(Clone)]
pub struct JobAction {
    pub min: usize,
    pub max: usize,
    pub build: std::rc::Rc<MakeJob>,
}

/// What a job yields, as plain data.
#[derive(Debug, Clone, PartialEq)]
pub enum Plain {
    Nil,
    Int(i64),
    Bool(bool),
    Str(String),
    Record(Vec<(&'static str, Plain)>),
    /// A record with keys known only at run time (HTTP headers).
    Map(Vec<(String, String)>),
    /// What an embedding program's pool action returned.
    Json(serde_json::Value),
}

impl Plain {
    pub fn into_value(self) -> Value {
        match self {
            Plain::Nil => Value::Nil,
            Plain::Int(n) => Value::Int(n),
            Plain::Bool(b) => Value::Bool(b),
            Plain::Str(s) => Value::str(&s),
            Plain::Json(j) => crate::engine::serial::value_from_json(&j, &|_| None)
                .unwrap_or_else(|_| Value::str(&j.to_string())),
            Plain::Map(pairs) => Value::record(
                pairs
                    .into_iter()
                    .map(|(k, v)| (crate::vm::value::Str::from(k), Value::str(&v)))
                    .collect(),
            ),
            Plain::Record(fields) => record(
                fields
                    .into_iter()
                    .map(|(k, v)| (k, v.into_value()))
                    .collect(),
            ),
        }
    }
}

/// A job's failure: what happened, and whether trying again may help.
#[derive(Debug, Clone, PartialEq)]
pub struct JobFailure {
    pub message: String,
    pub retryable: bool,
}

impl JobFailure {
    pub fn into_error(self) -> RuntimeError {
        let e = RuntimeError::new(codes::JOB, self.message);
        if self.retryable {
            e.retryable()
        } else {
            e
        }
    }
}

pub type JobOutcome = Result<Plain, JobFailure>;

struct Job {
    id: u64,
    spec: JobSpec,
    cancel: Arc<AtomicBool>,
}

/// A fixed set of worker threads fed by one queue.
pub struct JobPool {
    to_workers: Option<Sender<Job>>,
    from_workers: Receiver<(u64, JobOutcome)>,
    workers: Vec<JoinHandle<()>>,
    cancels: HashMap<u64, Arc<AtomicBool>>,
    next_id: u64,
    /// Most jobs in flight at once.
    pub capacity: usize,
}

impl JobPool {
    pub fn new(capacity: usize) -> JobPool {
        let capacity = capacity.max(1);
        let (to_workers, jobs) = channel::<Job>();
        let (done, from_workers) = channel();
        let jobs = Arc::new(Mutex::new(jobs));
        let workers = (0..capacity)
            .map(|i| {
                let jobs = jobs.clone();
                let done = done.clone();
                std::thread::Builder::new()
                    .name(format!("voyager-job-{i}"))
                    .spawn(move || loop {
                        let job = match jobs.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        let outcome = run(&job.spec, &job.cancel);
                        if done.send((job.id, outcome)).is_err() {
                            return;
                        }
                    })
                    .expect("a worker thread starts")
            })
            .collect();
        JobPool {
            to_workers: Some(to_workers),
            from_workers,
            workers,
            cancels: HashMap::new(),
            next_id: 0,
            capacity,
        }
    }

    pub fn in_flight(&self) -> usize {
        self.cancels.len()
    }

    pub fn has_room(&self) -> bool {
        self.in_flight() < self.capacity
    }

    /// Starts a job; returns its id.
    pub fn submit(&mut self, spec: JobSpec) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let cancel = Arc::new(AtomicBool::new(false));
        self.cancels.insert(id, cancel.clone());
        if let Some(tx) = &self.to_workers {
            let _ = tx.send(Job { id, spec, cancel });
        }
        id
    }

    /// Asks a running job to stop (a command's process is killed).
    pub fn cancel(&mut self, id: u64) {
        if let Some(flag) = self.cancels.get(&id) {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// A finished job, waiting at most `timeout` (`None`: not at all).
    pub fn next_done(&mut self, timeout: Option<Duration>) -> Option<(u64, JobOutcome)> {
        let got = match timeout {
            None => self.from_workers.try_recv().ok(),
            Some(t) => self.from_workers.recv_timeout(t).ok(),
        };
        if let Some((id, _)) = &got {
            self.cancels.remove(id);
        }
        got
    }
}

impl Drop for JobPool {
    fn drop(&mut self) {
        for flag in self.cancels.values() {
            flag.store(true, Ordering::Relaxed);
        }
        self.to_workers = None;
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

fn run(spec: &JobSpec, cancel: &AtomicBool) -> JobOutcome {
    match spec {
        JobSpec::Sh {
            command,
            cwd,
            env,
            stdin,
            check,
        } => sh(
            command,
            cwd.as_deref(),
            env,
            stdin.as_deref(),
            *check,
            cancel,
        ),
        JobSpec::ReadFile(path) => std::fs::read_to_string(path)
            .map(Plain::Str)
            .map_err(|e| io_failure(&format!("cannot read {path}"), &e)),
        JobSpec::WriteFile(path, text) => std::fs::write(path, text)
            .map(|_| Plain::Nil)
            .map_err(|e| io_failure(&format!("cannot write {path}"), &e)),
        JobSpec::Http {
            method,
            url,
            headers,
            body,
        } => http(method, url, headers, body.as_deref()),
        JobSpec::Custom(custom) => (custom.func)(custom.args.clone()).map(Plain::Json),
    }
}

/// One HTTP request on ureq (blocking, on the worker). A 5xx status or a
/// connection error may pass (retryable); a 4xx or a bad URL will not.
fn http(method: &str, url: &str, headers: &[(String, String)], body: Option<&str>) -> JobOutcome {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(Duration::from_secs(10)))
        .timeout_global(Some(Duration::from_secs(120)))
        .http_status_as_error(false)
        .build()
        .into();
    let what = format!("{method} {url}");
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        request = request.header(k.as_str(), v.as_str());
    }
    let request = request
        .body(body.unwrap_or("").to_string())
        .map_err(|e| JobFailure {
            message: format!("{what}: {e}"),
            retryable: false,
        })?;
    let mut response = agent.run(request).map_err(|e| {
        let retryable = !matches!(e, ureq::Error::BadUri(_) | ureq::Error::Http(_));
        JobFailure {
            message: format!("{what}: {e}"),
            retryable,
        }
    })?;
    let status = response.status();
    let mut header_fields = Vec::new();
    for (name, value) in response.headers() {
        if let Ok(v) = value.to_str() {
            header_fields.push((name.as_str().to_string(), v.to_string()));
        }
    }
    let (text, cut) = capped(response.body_mut().as_reader());
    if status.is_client_error() || status.is_server_error() {
        let mut message = format!("{what}: {status}");
        let detail = tail(&text, 3);
        if !detail.is_empty() {
            message.push_str(": ");
            message.push_str(&detail);
        }
        return Err(JobFailure {
            message,
            retryable: status.is_server_error(),
        });
    }
    let mut fields = vec![
        ("status", Plain::Int(status.as_u16() as i64)),
        ("headers", Plain::Map(header_fields)),
        ("body", Plain::Str(text)),
    ];
    if cut {
        fields.push(("truncated", Plain::Bool(true)));
    }
    Ok(Plain::Record(fields))
}

/// A missing file or folder, or a permission problem, will not go away by
/// itself (fatal); other I/O errors may (retryable).
fn io_failure(what: &str, e: &std::io::Error) -> JobFailure {
    use std::io::ErrorKind::*;
    let retryable = !matches!(
        e.kind(),
        NotFound | PermissionDenied | InvalidInput | InvalidData | IsADirectory
    );
    JobFailure {
        message: format!("{what}: {e}"),
        retryable,
    }
}

/// Reads a stream to its end, keeping at most [`MAX_OUTPUT`] bytes.
fn capped(mut stream: impl Read) -> (String, bool) {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    let mut cut = false;
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = MAX_OUTPUT.saturating_sub(kept.len());
                if n > room {
                    cut = true;
                }
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    (String::from_utf8_lossy(&kept).into_owned(), cut)
}

/// Kills a whole process group (the command and everything it started).
fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals that process group;
        // it touches no memory of ours.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn sh(
    command: &str,
    cwd: Option<&str>,
    env: &[(String, String)],
    stdin: Option<&str>,
    check: bool,
    cancel: &AtomicBool,
) -> JobOutcome {
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    // Its own process group, so that cancelling kills the command's
    // children too (a shell's `sleep`, a build's compilers).
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| io_failure(&format!("cannot run `{command}`"), &e))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        let text = text.to_string();
        std::thread::spawn(move || {
            let _ = pipe.write_all(text.as_bytes());
        });
    }
    let out = child
        .stdout
        .take()
        .map(|s| std::thread::spawn(move || capped(s)));
    let err = child
        .stderr
        .take()
        .map(|s| std::thread::spawn(move || capped(s)));
    let status = loop {
        if cancel.load(Ordering::Relaxed) {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            return Err(JobFailure {
                message: format!("`{command}` was cancelled"),
                retryable: true,
            });
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(io_failure(&format!("waiting for `{command}`"), &e)),
        }
    };
    let (stdout, out_cut) = out.and_then(|h| h.join().ok()).unwrap_or_default();
    let (stderr, err_cut) = err.and_then(|h| h.join().ok()).unwrap_or_default();
    let code = status.code().unwrap_or(-1);
    if check && code != 0 {
        let detail = tail(&stderr, 5);
        // 126 and 127: not executable, not found — trying again will not help.
        let retryable = !matches!(code, 126 | 127);
        let mut message = format!("`{command}` exited with status {code}");
        if !detail.is_empty() {
            message.push_str(": ");
            message.push_str(&detail);
        }
        return Err(JobFailure { message, retryable });
    }
    let mut fields = vec![
        ("code", Plain::Int(code as i64)),
        ("stdout", Plain::Str(stdout)),
        ("stderr", Plain::Str(stderr)),
    ];
    if out_cut || err_cut {
        fields.push(("truncated", Plain::Bool(true)));
    }
    Ok(Plain::Record(fields))
}

/// `call(sh, cmd)` or `call(sh, cmd, {cwd, env, stdin, check})`.
pub fn sh_spec(args: &[Value]) -> Result<JobSpec, RuntimeError> {
    let command = match args.first() {
        Some(Value::Str(s)) => s.to_string(),
        other => {
            return Err(RuntimeError::type_error(format!(
                "sh expects a command string, got {}",
                other.map_or("nothing".to_string(), Value::repr)
            )))
        }
    };
    let mut spec = JobSpec::Sh {
        command,
        cwd: None,
        env: vec![],
        stdin: None,
        check: true,
    };
    if let Some(opts) = args.get(1) {
        let Value::Record(opts) = opts else {
            return Err(RuntimeError::type_error(
                "sh options must be a record: {cwd, env, stdin, check}",
            ));
        };
        let JobSpec::Sh {
            cwd,
            env,
            stdin,
            check,
            ..
        } = &mut spec
        else {
            unreachable!("built above")
        };
        for (k, v) in opts.borrow().iter() {
            match (&**k, v) {
                ("cwd", Value::Str(s)) => *cwd = Some(s.to_string()),
                ("stdin", Value::Str(s)) => *stdin = Some(s.to_string()),
                ("check", v) => *check = v.is_truthy(),
                ("env", Value::Record(r)) => {
                    for (name, value) in r.borrow().iter() {
                        env.push((name.to_string(), value.display()));
                    }
                }
                (key, value) => {
                    return Err(RuntimeError::type_error(format!(
                        "sh option `{key}` cannot be {} `{}`",
                        value.type_name(),
                        value.repr()
                    ))
                    .with_hint(
                        "the options are cwd (string), env (record), stdin (string), check (bool)",
                    ))
                }
            }
        }
    }
    Ok(spec)
}

fn path_arg(what: &str, v: Option<&Value>) -> Result<String, RuntimeError> {
    match v {
        Some(Value::Str(s)) => Ok(s.to_string()),
        other => Err(RuntimeError::type_error(format!(
            "{what} expects a path string, got {}",
            other.map_or("nothing".to_string(), Value::repr)
        ))),
    }
}

pub fn read_file_spec(args: &[Value]) -> Result<JobSpec, RuntimeError> {
    Ok(JobSpec::ReadFile(path_arg("read_file", args.first())?))
}

pub fn write_file_spec(args: &[Value]) -> Result<JobSpec, RuntimeError> {
    let path = path_arg("write_file", args.first())?;
    let text = match args.get(1) {
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => other.display(),
        None => String::new(),
    };
    Ok(JobSpec::WriteFile(path, text))
}

/// `call(http, url)` (a GET) or `call(http, {method, url, headers, body})`.
pub fn http_spec(args: &[Value]) -> Result<JobSpec, RuntimeError> {
    let hint = "call(http, url) or call(http, {method, url, headers, body})";
    match args.first() {
        Some(Value::Str(url)) => Ok(JobSpec::Http {
            method: "GET".into(),
            url: url.to_string(),
            headers: vec![],
            body: None,
        }),
        Some(Value::Record(r)) => {
            let r = r.borrow();
            for key in r.keys() {
                if !matches!(&**key, "url" | "method" | "headers" | "body") {
                    return Err(
                        RuntimeError::type_error(format!("http has no option `{key}`"))
                            .with_hint(hint),
                    );
                }
            }
            let url = match r.get("url") {
                Some(Value::Str(u)) => u.to_string(),
                _ => {
                    return Err(RuntimeError::type_error("http needs a url string").with_hint(hint))
                }
            };
            let method = match r.get("method") {
                Some(Value::Str(m)) => m.to_uppercase(),
                None | Some(Value::Nil) => "GET".into(),
                Some(other) => {
                    return Err(RuntimeError::type_error(format!(
                        "http method must be a string, got {}",
                        other.repr()
                    )))
                }
            };
            let headers = match r.get("headers") {
                Some(Value::Record(h)) => h
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.display()))
                    .collect(),
                None | Some(Value::Nil) => vec![],
                Some(other) => {
                    return Err(RuntimeError::type_error(format!(
                        "http headers must be a record, got {}",
                        other.repr()
                    )))
                }
            };
            let body = match r.get("body") {
                None | Some(Value::Nil) => None,
                Some(Value::Str(s)) => Some(s.to_string()),
                Some(other) => Some(other.display()),
            };
            Ok(JobSpec::Http {
                method,
                url,
                headers,
                body,
            })
        }
        other => Err(RuntimeError::type_error(format!(
            "http expects a url or a request record, got {}",
            other.map_or("nothing".to_string(), Value::repr)
        ))
        .with_hint(hint)),
    }
}

/// Builds a job from a call's arguments (on the interpreter thread).
pub type JobBuilder = fn(&[Value]) -> Result<JobSpec, RuntimeError>;

/// The native actions that run as jobs: name, arity, builder.
pub const JOB_ACTIONS: &[(&str, usize, usize, JobBuilder)] = &[
    ("sh", 1, 2, sh_spec),
    ("read_file", 1, 1, read_file_spec),
    ("write_file", 2, 2, write_file_spec),
    ("http", 1, 1, http_spec),
];
