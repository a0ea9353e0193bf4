//! `call(http, …)`: one request on ureq, on a worker, and the request
//! record it is built from. A JSON body goes out with `json`; a JSON
//! response comes back decoded too.

use std::time::Duration;

use super::{capped, tail, JobFailure, JobOutcome, JobSpec, Plain};
use crate::vm::error::RuntimeError;
use crate::vm::value::Value;

/// One HTTP request on ureq (blocking, on the worker). A 5xx status, a
/// connection error or a body cut off may pass (retryable); a 4xx or a bad
/// URL will not.
pub fn http(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&str>,
    connect_timeout: Duration,
    read_timeout: Duration,
) -> JobOutcome {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_resolve(Some(connect_timeout))
        .timeout_connect(Some(connect_timeout))
        .timeout_per_read(Some(read_timeout))
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
    let (text, cut) = capped(response.body_mut().as_reader()).map_err(|e| JobFailure {
        message: format!("{what}: the response body was cut off: {e}"),
        retryable: true,
    })?;
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
    let is_json = header_fields.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("content-type") && {
            let media = v.split(';').next().unwrap_or("").trim();
            media.eq_ignore_ascii_case("application/json") || media.ends_with("+json")
        }
    });
    // A JSON response comes decoded as well; a cut body is no document.
    let document = if is_json && !cut && !text.trim().is_empty() {
        let json = serde_json::from_str(&text).map_err(|e| JobFailure {
            message: format!(
                "{what}: the response says it is JSON but is not, at line {}, column {}",
                e.line(),
                e.column()
            ),
            retryable: false,
        })?;
        Some(Plain::Document(json))
    } else {
        None
    };
    let mut fields = vec![
        ("status", Plain::Int(status.as_u16() as i64)),
        ("headers", Plain::Map(header_fields)),
        ("body", Plain::Str(text)),
    ];
    if let Some(document) = document {
        fields.push(("json", document));
    }
    if cut {
        fields.push(("truncated", Plain::Bool(true)));
    }
    Ok(Plain::Record(fields))
}

/// `call(http, url)` (a GET) or `call(http, {method, url, headers, body})`.
pub fn http_spec(args: &[Value]) -> Result<JobSpec, RuntimeError> {
    let hint = "call(http, url) or call(http, {method, url, headers, body, json, connect_timeout, read_timeout})";
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
                    "url"
                        | "method"
                        | "headers"
                        | "body"
                        | "json"
                        | "connect_timeout"
                        | "read_timeout"
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
            let mut headers: Vec<(String, String)> = match r.get("headers") {
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
            let mut body = match r.get("body") {
                None | Some(Value::Nil) => None,
                Some(Value::Str(s)) => Some(s.to_string()),
                Some(other) => Some(other.display()),
            };
            if let Some(value) = r.get("json") {
                if body.is_some() {
                    return Err(
                        RuntimeError::type_error("http takes a body or a json, not both")
                            .with_hint(hint),
                    );
                }
                let json = crate::vm::natives::to_json(value)
                    .map_err(|why| RuntimeError::type_error(format!("http json: {why}")))?;
                body = Some(json.to_string());
                for (name, value) in [
                    ("content-type", "application/json"),
                    ("accept", "application/json"),
                ] {
                    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)) {
                        headers.push((name.to_string(), value.to_string()));
                    }
                }
            }
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
