//! The HTTP adapter: the generic web inbox (`POST /api/messages`), the staff API, health and
//! metrics.
//!
//! Bodies are read and parsed here, by hand rather than through axum's extractors, so that
//! every refusal — too large, not JSON, a missing field — is a JSON `{"error": "…"}` sentence.
//! The staff routes require `Authorization: Bearer <staff.token>`; with no token configured
//! they refuse everyone.

use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use crate::adapters::web;
use crate::domain::message::{IncomingMessage, Limits, RawMessage};
use crate::domain::outbox::JobId;
use crate::domain::thread::ThreadId;
use crate::metrics::Metrics;
use crate::pipeline::{Pipeline, PipelineError};
use crate::staff::{Filter, OutboxEntry, OutboxFilter};

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub pipeline: Arc<Pipeline>,
    pub client: reqwest::Client,
}

/// A refusal or a failure, answered as `{"error": "…"}`.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl ApiError {
    fn bad(message: impl Into<String>) -> ApiError {
        ApiError(StatusCode::BAD_REQUEST, message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.0, Json(json!({ "error": self.1 }))).into_response();
        if self.0 == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                "Bearer".parse().expect("static header"),
            );
        }
        response
    }
}

impl From<PipelineError> for ApiError {
    fn from(e: PipelineError) -> ApiError {
        match e {
            PipelineError::UnknownThread(id) => {
                ApiError(StatusCode::NOT_FOUND, format!("there is no thread {id}"))
            }
            PipelineError::Transition(t) => ApiError(StatusCode::CONFLICT, t.to_string()),
            PipelineError::UnknownJob(id) => ApiError(
                StatusCode::NOT_FOUND,
                format!("there is no outbox job {id}"),
            ),
            PipelineError::Job(message) => ApiError(StatusCode::CONFLICT, message),
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the message could not be stored; nothing was recorded, please retry".into(),
                )
            }
        }
    }
}

/// The router, with the state it needs.
pub fn router(state: AppState) -> Router {
    let staff = Router::new()
        .route("/api/threads", get(list_threads))
        .route("/api/threads/{id}", get(show_thread))
        .route("/api/threads/{id}/replies", post(reply))
        .route("/api/threads/{id}/resolve", post(resolve))
        .route("/api/senders/{channel}/{sender}/unblock", post(unblock))
        .route("/api/outbox", get(list_outbox))
        .route("/api/outbox/{id}/retry", post(retry_job))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_staff));
    Router::new()
        .route("/api/messages", post(post_message))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(staff)
        .fallback(|| async { ApiError(StatusCode::NOT_FOUND, "no such route".into()) })
        .with_state(state)
}

async fn require_staff(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = &state.pipeline.settings().staff.token;
    if token.is_empty() {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "the staff API is disabled: no staff token is configured (GUICHET__STAFF__TOKEN)"
                .into(),
        ));
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(g) if token.matches(g) => Ok(next.run(request).await),
        _ => Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "a valid staff token is required: Authorization: Bearer <token>".into(),
        )),
    }
}

/// Reads and parses a JSON body within the configured size limit.
async fn json_body<T: DeserializeOwned>(state: &AppState, body: Body) -> Result<T, ApiError> {
    let limit = state.pipeline.settings().http.max_body_bytes;
    let bytes = to_bytes(body, limit).await.map_err(|_| {
        ApiError(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the body is larger than {limit} bytes"),
        )
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad(
            "the body is empty: a JSON object is expected",
        ));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad(format!("the body is not the JSON expected: {e}")))
}

fn reject(state: &AppState, e: ApiError) -> ApiError {
    Metrics::inc(&state.pipeline.metrics().rejected);
    e
}

async fn post_message(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let raw: RawMessage = json_body(&state, request.into_body())
        .await
        .map_err(|e| reject(&state, e))?;
    let settings = state.pipeline.settings();
    let limits = Limits {
        max_chars: settings.messages.max_chars,
        max_clock_skew: Duration::seconds(settings.messages.max_clock_skew_seconds),
    };
    let now = Utc::now();
    let message = IncomingMessage::parse(raw, now, limits)
        .map_err(|e| reject(&state, ApiError::bad(e.to_string())))?;
    let outcome = state.pipeline.receive(message, now).await?;
    Ok(Json(outcome).into_response())
}

#[derive(Deserialize)]
struct ListQuery {
    state: Option<String>,
}

async fn list_threads(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let filter = match q.state.as_deref() {
        None => Filter::Open,
        Some(s) => s.parse::<Filter>().map_err(ApiError::bad)?,
    };
    let threads = state.pipeline.threads(filter, Utc::now())?;
    Ok(Json(json!({ "threads": threads })).into_response())
}

fn thread_id(raw: &str) -> Result<ThreadId, ApiError> {
    ThreadId::parse(raw).map_err(|e| ApiError(StatusCode::NOT_FOUND, e))
}

async fn show_thread(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = thread_id(&id)?;
    match state.pipeline.thread_detail(id, Utc::now())? {
        Some(detail) => Ok(Json(detail).into_response()),
        None => Err(PipelineError::UnknownThread(id).into()),
    }
}

#[derive(Deserialize)]
struct ReplyBody {
    agent: Option<String>,
    text: Option<String>,
}

async fn reply(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let id = thread_id(&id)?;
    let body: ReplyBody = json_body(&state, request.into_body()).await?;
    let agent = body.agent.as_deref().map(str::trim).unwrap_or("");
    let text = body.text.as_deref().map(str::trim).unwrap_or("");
    if agent.is_empty() || agent.chars().count() > 100 || agent.chars().any(char::is_control) {
        return Err(ApiError::bad(
            "the field \"agent\" is required: the agent's name, at most 100 characters",
        ));
    }
    let max = state.pipeline.settings().messages.max_chars;
    if text.is_empty() || text.chars().count() > max {
        return Err(ApiError::bad(format!(
            "the field \"text\" is required and holds at most {max} characters"
        )));
    }
    let (thread, delivery) = state.pipeline.reply(id, agent, text, Utc::now()).await?;
    let url = state
        .pipeline
        .settings()
        .channels
        .web
        .callback_url
        .trim()
        .to_owned();
    let relayed = delivery.channel.as_str() == "web" && !url.is_empty();
    if relayed {
        tokio::spawn(web::deliver(state.client.clone(), url, delivery));
    }
    let summary = crate::staff::Summary::of(&thread, Utc::now());
    Ok(Json(json!({ "thread": summary, "relayed": relayed })).into_response())
}

async fn resolve(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = thread_id(&id)?;
    let thread = state.pipeline.resolve(id, "staff", Utc::now()).await?;
    Ok(Json(json!({ "thread": crate::staff::Summary::of(&thread, Utc::now()) })).into_response())
}

async fn unblock(
    State(state): State<AppState>,
    Path((channel, sender)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    use crate::domain::message::{Channel, Sender};
    let channel = Channel::parse(&channel).map_err(|e| ApiError::bad(e.to_string()))?;
    let sender = Sender::parse(&sender).map_err(|e| ApiError::bad(e.to_string()))?;
    let was_blocked = state.pipeline.unblock(&channel, &sender).await?;
    Ok(Json(json!({ "unblocked": was_blocked })).into_response())
}

async fn list_outbox(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let filter = match q.state.as_deref() {
        None => OutboxFilter::Attention,
        Some(s) => s.parse::<OutboxFilter>().map_err(ApiError::bad)?,
    };
    let jobs = state.pipeline.outbox_entries(filter)?;
    Ok(Json(json!({ "jobs": jobs })).into_response())
}

async fn retry_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = JobId::parse(&id).map_err(|e| ApiError(StatusCode::NOT_FOUND, e))?;
    let job = state
        .pipeline
        .retry_job(&id, "coordinator", Utc::now())
        .await?;
    Ok(Json(json!({ "job": OutboxEntry::of(&job) })).into_response())
}

async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.pipeline.store().instance_id();
    Json(json!({ "status": "ok", "store_id": store })).into_response()
}

async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let gauges = state.pipeline.gauges(Utc::now())?;
    let body = state.pipeline.metrics().render(&gauges);
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
