//! The file operations beside `read_file` and `write_file`: list a folder,
//! match a glob, test a path, append, make and remove. Each is a job on the
//! pool (a slow disk or network mount parks only its item) with the same
//! rules: a missing path or a permission problem is fatal, another I/O error
//! retryable.

use super::{io_failure, path_arg, JobOutcome, Plain};
use crate::vm::error::RuntimeError;
use crate::vm::job::{FileOp, JobFailure, JobSpec};
use crate::vm::value::Value;

/// More paths than this from one `glob` is an error (a pattern like `/**`
/// would otherwise walk the whole disk into memory).
const MAX_GLOB: usize = 100_000;

pub fn run(op: &FileOp) -> JobOutcome {
    match op {
        FileOp::List(dir) => list_dir(dir),
        FileOp::Glob(pattern) => glob(pattern),
        FileOp::Exists(path) => Ok(Plain::Bool(std::path::Path::new(path).exists())),
        FileOp::Append(path, text) => {
            use std::io::Write;
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .and_then(|mut f| f.write_all(text.as_bytes()))
                .map(|_| Plain::Nil)
                .map_err(|e| io_failure(&format!("cannot append to {path}"), &e))
        }
        FileOp::MakeDir(path) => std::fs::create_dir_all(path)
            .map(|_| Plain::Nil)
            .map_err(|e| io_failure(&format!("cannot make the folder {path}"), &e)),
        FileOp::RemoveFile(path) => std::fs::remove_file(path)
            .map(|_| Plain::Nil)
            .map_err(|e| io_failure(&format!("cannot remove {path}"), &e)),
        FileOp::RemoveDir(path) => std::fs::remove_dir_all(path)
            .map(|_| Plain::Nil)
            .map_err(|e| io_failure(&format!("cannot remove the folder {path}"), &e)),
    }
}

fn strings(items: Vec<String>) -> Plain {
    Plain::Document(serde_json::Value::Array(
        items.into_iter().map(serde_json::Value::String).collect(),
    ))
}

fn list_dir(dir: &str) -> JobOutcome {
    let what = format!("cannot list {dir}");
    let entries = std::fs::read_dir(dir).map_err(|e| io_failure(&what, &e))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_failure(&what, &e))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(strings(names))
}

fn glob(pattern: &str) -> JobOutcome {
    let paths = ::glob::glob(pattern).map_err(|e| JobFailure {
        message: format!("glob: `{pattern}` is not a pattern: {e}"),
        retryable: false,
    })?;
    let mut found = Vec::new();
    for path in paths {
        let path = path.map_err(|e| io_failure(&format!("glob {pattern}"), e.error()))?;
        if found.len() == MAX_GLOB {
            return Err(JobFailure {
                message: format!("glob: `{pattern}` matches more than {MAX_GLOB} paths"),
                retryable: false,
            });
        }
        found.push(path.to_string_lossy().into_owned());
    }
    found.sort();
    Ok(strings(found))
}

fn one_path(
    what: &'static str,
    make: fn(String) -> FileOp,
) -> impl Fn(&[Value]) -> Result<JobSpec, RuntimeError> {
    move |args| Ok(JobSpec::File(make(path_arg(what, args.first())?)))
}

pub fn list_dir_spec(args: &[Value]) -> Result<JobSpec, RuntimeError> {
    one_path("list_dir", FileOp::List)(args)
}

pub fn glob_spec(args: &[Value]) -> Result<JobSpec, RuntimeError> {
    match args.first() {
        Some(Value::Str(p)) => Ok(JobSpec::File(FileOp::Glob(p.to_string()))),
        other => Err(RuntimeError::type_error(format!(
            "glob expects a pattern string (such as \"logs/*.txt\"), got {}",
            other.map_or("nothing".to_string(), Value::repr)
        ))),
    }
}

pub fn path_exists_spec(args: &[Value]) -> Result<JobSpec, RuntimeError> {
    one_path("path_exists", FileOp::Exists)(args)
}

pub fn make_dir_spec(args: &[Value]) -> Result<JobSpec, RuntimeError> {
    one_path("make_dir", FileOp::MakeDir)(args)
}

pub fn remove_file_spec(args: &[Value]) -> Result<JobSpec, RuntimeError> {
    one_path("remove_file", FileOp::RemoveFile)(args)
}

pub fn remove_dir_spec(args: &[Value]) -> Result<JobSpec, RuntimeError> {
    match path_arg("remove_dir", args.first())? {
        p if p.trim_end_matches('/').is_empty() || p == "." || p == ".." => {
            Err(RuntimeError::type_error(format!(
                "remove_dir refuses `{p}`: name the folder to remove"
            )))
        }
        p => Ok(JobSpec::File(FileOp::RemoveDir(p))),
    }
}

pub fn append_file_spec(args: &[Value]) -> Result<JobSpec, RuntimeError> {
    let path = path_arg("append_file", args.first())?;
    let text = match args.get(1) {
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => other.display(),
        None => String::new(),
    };
    Ok(JobSpec::File(FileOp::Append(path, text)))
}
