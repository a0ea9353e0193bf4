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
    let hint = "call(http, url) or call(http, {method, url, headers, body, connect_timeout, read_timeout})";
    match args.first() {
        Some(Value::Str(url)) => Ok(JobSpec::Http {
            method: "GET".into(),
            url: url.to_string(),
            headers: vec![],
            body: None,
            connect_timeout: None,
            read_timeout: None,
        }),
        Some(Value::Record(r)) => {
            let r = r.borrow();
            for key in r.keys() {
                if !matches!(
                    &**key,
                    "url" | "method" | "headers" | "body" | "connect_timeout" | "read_timeout"
                ) {
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
            let timeout = |key: &str| match r.get(key) {
                None | Some(Value::Nil) => Ok(None),
                Some(Value::Duration(ms)) if *ms > 0 => Ok(Some(Duration::from_millis(*ms as u64))),
                Some(other) => Err(RuntimeError::type_error(format!(
                    "http {key} must be a positive duration (like 5s), got {}",
                    other.repr()
                ))),
            };
            Ok(JobSpec::Http {
                method,
                url,
                headers,
                body,
                connect_timeout: timeout("connect_timeout")?,
                read_timeout: timeout("read_timeout")?,
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
