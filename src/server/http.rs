//! The HTTP side: axum routes on a one-thread tokio runtime. Each handler
//! checks what it can alone (the body's JSON, ids), then asks the engine
//! thread and awaits the answer.

use std::collections::HashMap;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json as JsonBody, Router};
use serde_json::{json, Value as Json};

use super::engine::{Job, Side};
use super::ApiError;
use crate::codes;

const DASHBOARD: &str = include_str!("dashboard.html");
const OPENAPI: &str = include_str!("openapi.json");

/// Items a list shows unless `limit` says otherwise, and at most.
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 10_000;

#[derive(Clone)]
pub struct App {
    pub engine: SyncSender<Job>,
    pub token: Option<Arc<str>>,
    pub call_timeout: Duration,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST);
        let busy = self.code == codes::API_BUSY;
        let mut response = (status, JsonBody(self.to_json())).into_response();
        if busy {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

fn stopped() -> ApiError {
    ApiError::new(
        503,
        codes::API_UNAVAILABLE,
        "the engine has stopped (the server is shutting down)",
    )
}

impl App {
    /// Runs `f` on the engine thread and awaits its answer.
    async fn ask<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Side) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |side| {
            let answer = f(side);
            side.answer(Box::new(move || {
                let _ = tx.send(answer);
            }));
        });
        match self.engine.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(ApiError::new(
                    503,
                    codes::API_BUSY,
                    "too many requests are waiting for the engine",
                )
                .hint("send it again after the Retry-After seconds; --max-pending admits more"))
            }
            Err(TrySendError::Disconnected(_)) => return Err(stopped()),
        }
        rx.await.map_err(|_| stopped())
    }
}

/// Serves on `listener` until SIGINT or SIGTERM; then the engine is told
/// to stop, and the open requests end.
pub fn run(listener: std::net::TcpListener, app: App, max_body: usize) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async move {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let engine = app.engine.clone();
        let router = router(app, max_body);
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                stop_signal().await;
                eprintln!("voyager serve: stopping");
                let mut job: Job = Box::new(|side| side.stop = true);
                // The queue may be full: the stop waits for room.
                while let Err(TrySendError::Full(back)) = engine.try_send(job) {
                    job = back;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .await
    })
}

async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // No signal handling: serve until killed.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
}

fn router(app: App, max_body: usize) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/stats", get(stats))
        .route("/v1/messages", post(submit))
        .route("/v1/items", get(items))
        .route("/v1/items/{id}", get(item))
        .route("/v1/items/{id}/cancel", post(cancel))
        .route("/v1/dead-letters", get(dead_letters))
        .route("/v1/dead-letters/{id}/requeue", post(requeue))
        .route("/v1/call/{action}", post(call))
        .route("/v1/pause", get(pause_state).post(pause))
        .route("/v1/resume", post(resume))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), authorize))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(app)
}

/// With a token, every request but the dashboard's page itself (which
/// holds no data) must carry it.
async fn authorize(State(app): State<App>, request: Request, next: Next) -> Response {
    if let Some(token) = &app.token {
        let open = request.uri().path() == "/";
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if !open && !given.is_some_and(|g| same(g.as_bytes(), token.as_bytes())) {
            let mut response = ApiError::new(
                401,
                codes::API_UNAUTHORIZED,
                "this server needs a bearer token",
            )
            .hint("send the header `Authorization: Bearer <token>` with the server's --token")
            .into_response();
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    next.run(request).await
}

/// Compares in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn not_found() -> ApiError {
    ApiError::new(404, codes::API_NOT_FOUND, "no such endpoint")
        .hint("GET /openapi.json lists the endpoints")
}

async fn dashboard() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        DASHBOARD,
    )
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn healthz(State(app): State<App>) -> Result<JsonBody<Json>, ApiError> {
    let steps = app.ask(|side| side.v.engine.stats.steps).await?;
    Ok(JsonBody(json!({"status": "ok", "steps": steps})))
}

async fn metrics(State(app): State<App>) -> Result<Response, ApiError> {
    let text = app.ask(|side| side.metrics()).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

async fn stats(State(app): State<App>) -> Result<JsonBody<Json>, ApiError> {
    Ok(JsonBody(app.ask(|side| side.counts()).await?))
}

/// The body as JSON, or the API's error for a body too large or not JSON.
fn json_body(body: Result<Bytes, BytesRejection>) -> Result<Json, ApiError> {
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(413, codes::API_TOO_LARGE, "the request body is too large")
                .hint("send less, or start the server with a larger --max-body")
        } else {
            ApiError::new(
                400,
                codes::API_BAD_REQUEST,
                "the request body cannot be read",
            )
        }
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(
            400,
            codes::API_BAD_REQUEST,
            format!("the body is not JSON: {e}"),
        )
    })
}

async fn submit(
    State(app): State<App>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let mut j = json_body(body)?;
    let priority = match j.as_object_mut().and_then(|o| o.remove("priority")) {
        None | Some(Json::Null) => 0,
        Some(p) => p
            .as_i64()
            .and_then(|p| i16::try_from(p).ok())
            .filter(|p| p.abs() <= crate::vm::value::MAX_PRIORITY)
            .ok_or_else(|| {
                ApiError::new(
                    400,
                    codes::API_BAD_REQUEST,
                    format!(
                        "\"priority\" must be a whole number from -{max} to {max}, not {p}",
                        max = crate::vm::value::MAX_PRIORITY
                    ),
                )
                .hint("higher steps first; leave it out for 0")
            })?,
    };
    let message = j.as_object_mut().and_then(|o| o.remove("message"));
    let id = match message {
        Some(Json::String(text)) => app.ask(move |side| side.submit(&text, priority)).await??,
        // The JSON form `--dead-letters` writes: a record's `message`.
        Some(m @ (Json::Object(_) | Json::Array(_))) => {
            app.ask(move |side| side.submit_json(&m, priority))
                .await??
        }
        _ => {
            return Err(ApiError::new(
                400,
                codes::API_BAD_REQUEST,
                "the body must be an object with a \"message\": an expression, or a message in the JSON form of a --dead-letters file",
            )
            .hint("send e.g. {\"message\": \"call(build, 1)\"}"));
        }
    };
    Ok((
        StatusCode::ACCEPTED,
        JsonBody(json!({"id": id, "state": "queued"})),
    )
        .into_response())
}

fn parse_id(text: &str, what: &str) -> Result<u64, ApiError> {
    text.parse().map_err(|_| {
        ApiError::new(
            400,
            codes::API_BAD_REQUEST,
            format!("`{}` is not {what} id (a whole number)", short(text)),
        )
    })
}

/// A piece of a request, shown in an error: cut short.
fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

async fn item(State(app): State<App>, Path(id): Path<String>) -> Result<JsonBody<Json>, ApiError> {
    let id = parse_id(&id, "an item")?;
    Ok(JsonBody(app.ask(move |side| side.item(id)).await??))
}

async fn cancel(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<JsonBody<Json>, ApiError> {
    let id = parse_id(&id, "an item")?;
    Ok(JsonBody(app.ask(move |side| side.cancel(id)).await??))
}

async fn pause_state(State(app): State<App>) -> Result<JsonBody<Json>, ApiError> {
    Ok(JsonBody(app.ask(|side| side.pause_state()).await?))
}

/// The action a pause or resume names, if any: an empty body, `{}` or
/// `{"action": null}` means everything.
fn pause_target(body: Result<Bytes, BytesRejection>) -> Result<Option<String>, ApiError> {
    if body
        .as_ref()
        .is_ok_and(|b| b.iter().all(u8::is_ascii_whitespace))
    {
        return Ok(None);
    }
    let j = json_body(body)?;
    let bad = || {
        ApiError::new(
            400,
            codes::API_BAD_REQUEST,
            "the body must be empty or an object with an optional string \"action\"",
        )
        .hint("send {} for everything, or {\"action\": \"deploy\"}")
    };
    let Json::Object(map) = &j else {
        return Err(bad());
    };
    // A misspelt key would otherwise pause everything.
    if map.keys().any(|k| k != "action") {
        return Err(bad());
    }
    match map.get("action") {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(name)) => Ok(Some(name.clone())),
        Some(_) => Err(bad()),
    }
}

async fn pause(
    State(app): State<App>,
    body: Result<Bytes, BytesRejection>,
) -> Result<JsonBody<Json>, ApiError> {
    set_paused(app, body, true).await
}

async fn resume(
    State(app): State<App>,
    body: Result<Bytes, BytesRejection>,
) -> Result<JsonBody<Json>, ApiError> {
    set_paused(app, body, false).await
}

/// Pauses (`paused`) or resumes everything or the action the body names.
async fn set_paused(
    app: App,
    body: Result<Bytes, BytesRejection>,
    paused: bool,
) -> Result<JsonBody<Json>, ApiError> {
    let action = pause_target(body)?;
    Ok(JsonBody(
        app.ask(move |side| side.pause(action.as_deref(), paused))
            .await??,
    ))
}

fn limit(query: &HashMap<String, String>) -> Result<usize, ApiError> {
    match query.get("limit") {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(ApiError::new(
                400,
                codes::API_BAD_REQUEST,
                format!("limit must be a whole number from 1 to {MAX_LIMIT}"),
            )),
        },
    }
}

async fn items(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<JsonBody<Json>, ApiError> {
    let limit = limit(&query)?;
    let state = match query.get("state") {
        None => None,
        Some(s) => match super::STATES.iter().find(|k| **k == s.as_str()) {
            Some(k) => Some(*k),
            None => {
                return Err(ApiError::new(
                    400,
                    codes::API_BAD_REQUEST,
                    format!("state must be one of {}", super::STATES.join(", ")),
                ))
            }
        },
    };
    Ok(JsonBody(
        app.ask(move |side| side.items(state, limit)).await?,
    ))
}

async fn dead_letters(
    State(app): State<App>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<JsonBody<Json>, ApiError> {
    let limit = limit(&query)?;
    Ok(JsonBody(
        app.ask(move |side| side.dead_letters(limit)).await?,
    ))
}

async fn requeue(State(app): State<App>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let id = parse_id(&id, "a dead letter")?;
    let item = app.ask(move |side| side.requeue(id)).await??;
    Ok((
        StatusCode::ACCEPTED,
        JsonBody(json!({"id": item, "state": "queued"})),
    )
        .into_response())
}

async fn call(
    State(app): State<App>,
    Path(action): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let args = json_body(body)?;
    let (tx, rx) = tokio::sync::oneshot::channel::<Json>();
    let id = app
        .ask(move |side| {
            let id = side.call(&action, &args)?;
            side.tracker.borrow_mut().on_finish(
                id,
                Box::new(move |sub| {
                    let _ = tx.send(sub.detail());
                }),
            );
            Ok::<u64, ApiError>(id)
        })
        .await??;
    match tokio::time::timeout(app.call_timeout, rx).await {
        Ok(Ok(detail)) => {
            let status = if detail["state"] == "dead" {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            Ok((status, JsonBody(detail)).into_response())
        }
        Ok(Err(_)) => Err(stopped()),
        Err(_) => Err(ApiError::new(
            504,
            codes::API_TIMEOUT,
            format!("item #{id} did not finish within the call timeout; it goes on"),
        )
        .hint(format!(
            "GET /v1/items/{id} shows it; --call-timeout waits longer"
        ))),
    }
}
