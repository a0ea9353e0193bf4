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
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::vm::error::RuntimeError;
mod files;
mod http;
pub use crate::vm::job::{Custom, CustomJob, JobAction, JobFailure, JobSpec, MakeJob};
use crate::vm::natives::record;
use crate::vm::value::Value;

mod spec;
use spec::path_arg;
pub use spec::{read_file_spec, sh_spec, write_file_spec, JobBuilder, JOB_ACTIONS};

/// Output beyond this many bytes (per stream) is cut, and the result says so.
pub const MAX_OUTPUT: usize = 1 << 20;

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
    /// A JSON document, as `json_decode` reads one (an HTTP response).
    Document(serde_json::Value),
}

impl Plain {
    pub fn into_value(self) -> Value {
        match self {
            Plain::Nil => Value::Nil,
            Plain::Int(n) => Value::Int(n),
            Plain::Bool(b) => Value::Bool(b),
            Plain::Str(s) => Value::str(&s),
            Plain::Document(j) => crate::vm::natives::from_json(&j),
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
pub type JobOutcome = Result<Plain, JobFailure>;

/// How a run's jobs are bounded (`voyager run --max-read`, `--http-connect-timeout`,
/// `--http-read-timeout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes `read_file` reads: a larger file is a fatal error.
    pub max_read: u64,
    /// The longest an HTTP request may take to resolve and connect.
    pub http_connect: Duration,
    /// The longest an HTTP response may go without sending a byte.
    pub http_read: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_read: 64 << 20,
            http_connect: Duration::from_secs(10),
            http_read: Duration::from_secs(30),
        }
    }
}

/// After a command's shell exits, how long its output may still come
/// (from children it left behind) before the job ends without it.
const OUTPUT_GRACE: Duration = Duration::from_millis(200);

/// After SIGTERM, how long a process group has to end before SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_millis(500);

/// What the engine and a job's worker share: the cancel flag, and the
/// process group of a running command (0: none).
#[derive(Default)]
struct Control {
    cancel: AtomicBool,
    group: AtomicI32,
    /// Set when the cancel ended the job (its outcome is not its own).
    ended: AtomicBool,
}

/// Runs jobs, each on a thread of its own, at most `capacity` at once.
///
/// A job that is cancelled (its timeout ran out) no longer counts: its
/// command's process group is ended, and work that cannot be interrupted
/// (a read from a FIFO that no one writes, a stalled request) is abandoned
/// to finish on its own thread while the run goes on. Nothing waits for
/// such a thread, so the process exits promptly.
pub struct JobPool {
    done: Sender<(u64, JobOutcome)>,
    from_workers: Receiver<(u64, JobOutcome)>,
    running: HashMap<u64, Arc<Control>>,
    /// Cancelled jobs not yet ended: their commands' groups may still be
    /// there (ended at shutdown at the latest).
    cancelled: HashMap<u64, Arc<Control>>,
    /// Process groups of commands whose shell exited: children they left
    /// running are ended when the pool is.
    lingering: Arc<Mutex<Vec<i32>>>,
    limits: Limits,
    next_id: u64,
    /// Jobs counted as in flight but not started yet (with a store, a job
    /// starts once the step that made it is committed).
    held: Vec<(u64, JobSpec, Arc<Control>)>,
    /// Most jobs in flight at once.
    pub capacity: usize,
}

impl JobPool {
    pub fn new(capacity: usize, limits: Limits) -> JobPool {
        let (done, from_workers) = channel();
        JobPool {
            done,
            from_workers,
            running: HashMap::new(),
            cancelled: HashMap::new(),
            lingering: Arc::new(Mutex::new(Vec::new())),
            limits,
            next_id: 0,
            held: Vec::new(),
            capacity: capacity.max(1),
        }
    }

    pub fn in_flight(&self) -> usize {
        self.running.len()
    }

    pub fn has_room(&self) -> bool {
        self.in_flight() < self.capacity
    }

    /// Starts a job; returns its id.
    pub fn submit(&mut self, spec: JobSpec) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let control = Arc::new(Control::default());
        self.running.insert(id, control.clone());
        self.spawn(id, spec, control);
        id
    }

    /// Takes a job as [`JobPool::submit`] does, but starts it only at
    /// [`JobPool::start_held`].
    pub fn hold(&mut self, spec: JobSpec) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let control = Arc::new(Control::default());
        self.running.insert(id, control.clone());
        self.held.push((id, spec, control));
        id
    }

    pub fn has_held(&self) -> bool {
        !self.held.is_empty()
    }

    /// Starts the held jobs (not those cancelled meanwhile).
    pub fn start_held(&mut self) {
        for (id, spec, control) in std::mem::take(&mut self.held) {
            if control.cancel.load(Ordering::Relaxed) {
                self.cancelled.remove(&id);
                continue;
            }
            self.spawn(id, spec, control);
        }
    }

    fn spawn(&mut self, id: u64, spec: JobSpec, control: Arc<Control>) {
        let done = self.done.clone();
        let lingering = self.lingering.clone();
        let limits = self.limits;
        let started = std::thread::Builder::new()
            .name(format!("voyager-job-{id}"))
            .spawn(move || {
                let outcome = run(&spec, &control, &lingering, &limits);
                let _ = done.send((id, outcome));
                // (Only now: a shutdown waits for commands with a group.)
                control.group.store(0, Ordering::Relaxed);
            });
        if let Err(e) = started {
            let _ = self.done.send((
                id,
                Err(JobFailure {
                    message: format!("cannot start a worker thread: {e}"),
                    retryable: true,
                }),
            ));
        }
    }

    /// Stops a running job: a command's process group is ended; other work
    /// is abandoned. Either way it no longer takes a place on the pool.
    pub fn cancel(&mut self, id: u64) {
        if let Some(control) = self.running.remove(&id) {
            control.cancel.store(true, Ordering::Relaxed);
            self.cancelled.insert(id, control);
        }
    }

    /// A finished job, waiting at most `timeout` (`None`: not at all).
    pub fn next_done(&mut self, timeout: Option<Duration>) -> Option<(u64, JobOutcome)> {
        let got = match timeout {
            None => self.from_workers.try_recv().ok(),
            Some(t) => self.from_workers.recv_timeout(t).ok(),
        };
        if let Some((id, _)) = &got {
            self.running.remove(id);
            self.cancelled.remove(id);
        }
        got
    }

    /// Ends every job: running commands' process groups, and what commands
    /// left running, get SIGTERM, then SIGKILL after [`KILL_GRACE`]. Other
    /// work is abandoned. Returns once the processes are gone (or killed),
    /// with the ids of the jobs whose outcomes will not be collected.
    pub fn shutdown(&mut self) -> Vec<u64> {
        self.shutdown_keeping().0
    }

    /// As [`JobPool::shutdown`], also returning the outcomes of jobs that
    /// finished by themselves meanwhile (a command that exited on its own,
    /// even on the SIGTERM; not one the signal killed).
    pub fn shutdown_keeping(&mut self) -> (Vec<u64>, Vec<(u64, JobOutcome)>) {
        let mut kept = Vec::new();
        self.running.extend(self.cancelled.drain());
        let mut groups: Vec<i32> = self
            .running
            .values()
            .map(|c| {
                c.cancel.store(true, Ordering::Relaxed);
                c.group.load(Ordering::Relaxed)
            })
            .filter(|g| *g > 0)
            .collect();
        if let Ok(mut lingering) = self.lingering.lock() {
            groups.append(&mut lingering);
        }
        groups.retain(|g| signal_group(*g, libc::SIGTERM));
        for pid in inherited_orphans() {
            signal_process(pid, libc::SIGTERM);
        }
        let deadline = std::time::Instant::now() + KILL_GRACE;
        loop {
            while let Ok((id, outcome)) = self.from_workers.try_recv() {
                if let Some(c) = self.running.remove(&id) {
                    if !c.ended.load(Ordering::Relaxed) {
                        kept.push((id, outcome));
                    }
                }
            }
            // Adopted processes that ended are reaped, so that a group of
            // nothing but zombies counts as gone.
            let mut orphans = inherited_orphans();
            orphans.retain(|&pid| !reaped(pid));
            groups.retain(|g| signal_group(*g, 0));
            let commands_left = self
                .running
                .values()
                .any(|c| c.group.load(Ordering::Relaxed) > 0);
            if !commands_left && groups.is_empty() && orphans.is_empty() {
                break;
            }
            if std::time::Instant::now() >= deadline {
                for g in groups {
                    signal_group(g, libc::SIGKILL);
                }
                for c in self.running.values() {
                    signal_group(c.group.load(Ordering::Relaxed), libc::SIGKILL);
                }
                for pid in orphans {
                    signal_process(pid, libc::SIGKILL);
                    reaped(pid);
                }
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        (self.running.drain().map(|(id, _)| id).collect(), kept)
    }
}

impl Drop for JobPool {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Whether [`become_subreaper`] made this process adopt orphans.
static SUBREAPER: AtomicBool = AtomicBool::new(false);

/// Makes this process adopt the orphaned descendants of its commands (a
/// `setsid` child leaves its command's process group, but not this
/// process's family), so that they can be ended when the pool is. Linux
/// only; elsewhere such a descendant outlives the run. Only for a process
/// that owns all its children (the command line), not a library's host.
pub fn become_subreaper() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl(PR_SET_CHILD_SUBREAPER) sets a flag of this
        // process; it reads and writes no memory of ours.
        let ok = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } == 0;
        SUBREAPER.store(ok, Ordering::Relaxed);
    }
}

/// Processes this process adopted (when it is a subreaper): its children
/// that are not commands it started itself. Called once every command's
/// shell has been waited for, so any child left is an orphan.
fn inherited_orphans() -> Vec<i32> {
    if !SUBREAPER.load(Ordering::Relaxed) {
        return vec![];
    }
    let me = std::process::id().to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                // The fields after the command name (in parentheses):
                // state, then the parent's pid.
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .is_some_and(|ppid| ppid == me)
            })
        })
        .collect()
}

/// Whether an adopted process has ended (and is reaped, if it had).
fn reaped(pid: i32) -> bool {
    // SAFETY: waitpid on one pid of ours, without blocking; the status
    // goes to a local.
    let mut status = 0;
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    r == pid || r < 0
}

/// Sends a signal to a process group; returns whether the group exists.
fn signal_group(group: i32, signal: i32) -> bool {
    // SAFETY: kill(2) with a negative pid signals that process group; it
    // touches no memory of ours.
    group > 0 && unsafe { libc::kill(-group, signal) } == 0
}

fn signal_process(pid: i32, signal: i32) {
    // SAFETY: kill(2) signals one process; no memory of ours is touched.
    unsafe {
        libc::kill(pid, signal);
    }
}

fn run(
    spec: &JobSpec,
    control: &Control,
    lingering: &Mutex<Vec<i32>>,
    limits: &Limits,
) -> JobOutcome {
    match spec {
        JobSpec::Sh {
            command,
            cwd,
            env,
            stdin,
            check,
        } => sh(
            &ShJob {
                command,
                cwd: cwd.as_deref(),
                env,
                stdin: stdin.as_deref(),
                check: *check,
            },
            control,
            lingering,
        ),
        JobSpec::ReadFile(path) => read_file(path, limits.max_read),
        JobSpec::WriteFile(path, text) => std::fs::write(path, text)
            .map(|_| Plain::Nil)
            .map_err(|e| io_failure(&format!("cannot write {path}"), &e)),
        JobSpec::Http {
            method,
            url,
            headers,
            body,
            connect_timeout,
            read_timeout,
        } => http::http(
            method,
            url,
            headers,
            body.as_deref(),
            connect_timeout.unwrap_or(limits.http_connect),
            read_timeout.unwrap_or(limits.http_read),
        ),
        JobSpec::File(op) => files::run(op),
        JobSpec::Custom(custom) => (custom.func)(custom.args.clone()).map(Plain::Json),
    }
}

/// Reads a whole file, refusing one larger than `max` bytes (fatally: it
/// will not shrink by trying again).
fn read_file(path: &str, max: u64) -> JobOutcome {
    let file =
        std::fs::File::open(path).map_err(|e| io_failure(&format!("cannot read {path}"), &e))?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| io_failure(&format!("cannot read {path}"), &e))?;
    if bytes.len() as u64 > max {
        return Err(JobFailure {
            message: format!(
                "cannot read {path}: it is larger than {} (--max-read)",
                show_size(max)
            ),
            retryable: false,
        });
    }
    String::from_utf8(bytes)
        .map(Plain::Str)
        .map_err(|e| JobFailure {
            message: format!(
                "cannot read {path}: it is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            retryable: false,
        })
}

/// `1048576` as `1 MiB`, `1500` as `1500 bytes`.
pub fn show_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
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

/// Reads a stream to its end, or to just past [`MAX_OUTPUT`] bytes (an
/// endless body stops there, cut). A read error (a connection reset, a body
/// shorter than announced) is an error, never the end of the text.
fn capped(mut stream: impl Read) -> std::io::Result<(String, bool)> {
    let mut kept = Output::default();
    let mut buf = [0u8; 8192];
    while !kept.cut {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => kept.push(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(kept.finish())
}

/// Output kept up to [`MAX_OUTPUT`] bytes; what comes after is counted out.
#[derive(Default)]
struct Output {
    kept: Vec<u8>,
    cut: bool,
}

impl Output {
    fn push(&mut self, bytes: &[u8]) {
        let room = MAX_OUTPUT.saturating_sub(self.kept.len());
        if bytes.len() > room {
            self.cut = true;
        }
        self.kept.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn finish(self) -> (String, bool) {
        (String::from_utf8_lossy(&self.kept).into_owned(), self.cut)
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.trim_end().lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

struct ShJob<'a> {
    command: &'a str,
    cwd: Option<&'a str>,
    env: &'a [(String, String)],
    stdin: Option<&'a str>,
    check: bool,
}

/// A command's output pipe, read without blocking.
struct Pipe {
    file: Option<std::fs::File>,
    out: Output,
}

impl Pipe {
    fn new(fd: Option<std::os::fd::OwnedFd>) -> Pipe {
        let file = fd.map(|fd| {
            use std::os::fd::AsRawFd;
            // SAFETY: fcntl on a descriptor we own, setting O_NONBLOCK so a
            // read never waits for a child that keeps the pipe open.
            unsafe {
                let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
                libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
            }
            std::fs::File::from(fd)
        });
        Pipe {
            file,
            out: Output::default(),
        }
    }

    fn poll_fd(&self) -> libc::pollfd {
        use std::os::fd::AsRawFd;
        libc::pollfd {
            fd: self.file.as_ref().map_or(-1, |f| f.as_raw_fd()),
            events: libc::POLLIN,
            revents: 0,
        }
    }

    /// Reads what is there; closes the pipe at its end.
    fn drain(&mut self) {
        let mut buf = [0u8; 8192];
        while let Some(file) = &mut self.file {
            match file.read(&mut buf) {
                Ok(0) => self.file = None,
                Ok(n) => self.out.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(_) => self.file = None,
            }
        }
    }
}

/// Ends a process group: SIGTERM, then SIGKILL if the shell is still there
/// after [`KILL_GRACE`].
/// Returns how the shell ended, if that is known.
fn end_group(child: &mut std::process::Child, group: i32) -> Option<std::process::ExitStatus> {
    signal_group(group, libc::SIGTERM);
    let deadline = std::time::Instant::now() + KILL_GRACE;
    let mut status = None;
    while std::time::Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(s)) => {
                status = Some(s);
                break;
            }
            Ok(None) => {}
            // The shutdown's reaping of adopted children took it.
            Err(_) => break,
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    signal_group(group, libc::SIGKILL);
    if status.is_none() {
        let _ = child.kill();
        status = child.wait().ok();
    }
    status
}

fn sh(job: &ShJob, control: &Control, lingering: &Mutex<Vec<i32>>) -> JobOutcome {
    let command = job.command;
    if let Some(dir) = job.cwd {
        if !std::path::Path::new(dir).is_dir() {
            let why = if std::path::Path::new(dir).exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            return Err(JobFailure {
                message: format!("cannot run `{command}`: its folder (cwd) {dir} {why}"),
                retryable: false,
            });
        }
    }
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(if job.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dir) = job.cwd {
        cmd.current_dir(dir);
    }
    // Its own process group, so that ending the job ends the command's
    // children too (a shell's `sleep`, a build's compilers).
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    for (k, v) in job.env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| io_failure(&format!("cannot run `{command}`"), &e))?;
    let group = i32::try_from(child.id()).unwrap_or(0);
    control.group.store(group, Ordering::Relaxed);
    if let (Some(text), Some(mut pipe)) = (job.stdin, child.stdin.take()) {
        let text = text.to_string();
        std::thread::spawn(move || {
            let _ = pipe.write_all(text.as_bytes());
        });
    }
    let mut out = Pipe::new(child.stdout.take().map(Into::into));
    let mut err = Pipe::new(child.stderr.take().map(Into::into));
    let mut exited: Option<(std::process::ExitStatus, std::time::Instant)> = None;
    loop {
        if control.cancel.load(Ordering::Relaxed) && exited.is_none() {
            // A command that exits by itself (before the SIGTERM, or on
            // it) finished: its outcome stands. One the signal killed did
            // not finish.
            match end_group(&mut child, group) {
                Some(status) if status.code().is_some() => {
                    out.drain();
                    err.drain();
                    exited = Some((status, std::time::Instant::now()));
                    break;
                }
                _ => {
                    control.ended.store(true, Ordering::Relaxed);
                    return Err(JobFailure {
                        message: format!("`{command}` was cancelled"),
                        retryable: true,
                    });
                }
            }
        }
        let mut fds = [out.poll_fd(), err.poll_fd()];
        // Once both pipes are closed only the exit is awaited: look often,
        // so a short command's job ends soon after it.
        let wait_ms = if out.file.is_none() && err.file.is_none() {
            5
        } else {
            20
        };
        // SAFETY: poll over two pollfd structs we own (a negative fd is
        // ignored), for a bounded time, so the cancel flag is seen.
        unsafe {
            libc::poll(fds.as_mut_ptr(), 2, wait_ms);
        }
        out.drain();
        err.drain();
        if exited.is_none() {
            match child.try_wait() {
                Ok(Some(status)) => exited = Some((status, std::time::Instant::now())),
                Ok(None) => {}
                Err(e) => return Err(io_failure(&format!("waiting for `{command}`"), &e)),
            }
        }
        if let Some((_, at)) = exited {
            let closed = out.file.is_none() && err.file.is_none();
            if closed || at.elapsed() >= OUTPUT_GRACE {
                break;
            }
        }
    }
    let Some((status, _)) = exited else {
        unreachable!("the loop ends only after the shell exited")
    };
    // Children the command left running are ended with the pool.
    if signal_group(group, 0) {
        if let Ok(mut groups) = lingering.lock() {
            groups.push(group);
        }
    }
    let (stdout, out_cut) = out.out.finish();
    let (stderr, err_cut) = err.out.finish();
    let code = status.code().unwrap_or(-1);
    if job.check && code != 0 {
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
