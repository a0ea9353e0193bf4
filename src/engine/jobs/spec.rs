//! The native job actions' arguments: each call's values checked and
//! turned into a [`JobSpec`] (plain, `Send` data a worker runs).

use super::*;

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

pub(super) fn path_arg(what: &str, v: Option<&Value>) -> Result<String, RuntimeError> {
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

/// Builds a job from a call's arguments (on the interpreter thread).
pub type JobBuilder = fn(&[Value]) -> Result<JobSpec, RuntimeError>;

/// The native actions that run as jobs: name, arity, builder.
pub const JOB_ACTIONS: &[(&str, usize, usize, JobBuilder)] = &[
    ("sh", 1, 2, sh_spec),
    ("read_file", 1, 1, read_file_spec),
    ("write_file", 2, 2, write_file_spec),
    ("http", 1, 1, super::http::http_spec),
    ("list_dir", 1, 1, super::files::list_dir_spec),
    ("glob", 1, 1, super::files::glob_spec),
    ("path_exists", 1, 1, super::files::path_exists_spec),
    ("append_file", 2, 2, super::files::append_file_spec),
    ("make_dir", 1, 1, super::files::make_dir_spec),
    ("remove_file", 1, 1, super::files::remove_file_spec),
    ("remove_dir", 1, 1, super::files::remove_dir_spec),
];
