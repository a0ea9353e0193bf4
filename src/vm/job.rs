//! Native jobs as data: what a call of `sh`, `read_file`, `write_file`,
//! `http` or an embedder's pool action asks to be done. The interpreter
//! builds a [`JobSpec`] from a call's arguments; the engine's job pool
//! (`engine::jobs`) runs it off the interpreter thread.

use std::sync::Arc;
use std::time::Duration;

use super::error::{codes, RuntimeError};
use super::value::Value;

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
        /// Overrides the run's connect timeout.
        connect_timeout: Option<Duration>,
        /// Overrides the run's read timeout.
        read_timeout: Option<Duration>,
    },
    /// A file operation beside reading and writing.
    File(FileOp),
    /// An action an embedding program registered for the pool.
    Custom(Custom),
}

/// `list_dir`, `glob`, `path_exists`, `append_file`, `make_dir`,
/// `remove_file`, `remove_dir`.
#[derive(Debug, Clone)]
pub enum FileOp {
    List(String),
    Glob(String),
    Exists(String),
    Append(String, String),
    MakeDir(String),
    RemoveFile(String),
    RemoveDir(String),
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
