//! The HTTP adapter: the generic web inbox (`POST /api/messages`), the staff API, health and
//! metrics. The platforms' webhooks (Messenger's) are their adapters' routers, which the
//! server mounts beside these under the same limits.
//!
//! Bodies are read and parsed here, by hand rather than through axum's extractors, so that
//! every refusal — too large, not JSON, a missing field — is a JSON `{"error": "…"}` sentence.
//! The staff routes require `Authorization: Bearer <staff.token>`; with no token configured
//! they refuse everyone.
//!
//! `POST /api/messages` is the web channel only: its sender is vouched for (see
//! [`web::Identities`]) and its client address is flood-limited whatever sender names it
//! uses. Every handler is bounded in time; a store that cannot take writes is a 503 with
//! `Retry-After`, and `/healthz` says so.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{Duration, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use crate::adapters::web::{self, Identities, Vouched};
use crate::domain::message::{Channel, IncomingMessage, Limits, MessageText, RawMessage, Sender};
use crate::domain::outbox::JobId;
use crate::domain::staff::{Actor, Role};
use crate::domain::thread::ThreadId;
use crate::metrics::Metrics;
use crate::pipeline::{Pipeline, PipelineError};
use crate::staff::{Filter, OutboxEntry, OutboxFilter};
use crate::status::Connections;

mod privacy;

/// Seconds a client is told to wait when the store cannot take writes.
const RETRY_AFTER_UNAVAILABLE: u64 = 30;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    pub pipeline: Arc<Pipeline>,
    pub client: reqwest::Client,
    identities: Arc<Identities>,
    /// The platforms' connections, reported by `/healthz`.
    connections: Arc<Connections>,
    /// The web channel's flood limit per client address.
    addresses: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl AppState {
    /// # Errors
    /// The flood settings cannot make a quota (`Settings::load` already checked them).
    pub fn new(
        pipeline: Arc<Pipeline>,
        client: reqwest::Client,
        connections: Arc<Connections>,
    ) -> anyhow::Result<AppState> {
        let settings = pipeline.settings();
        let web = &settings.channels.web;
        let identities = Identities::new(
            web.identity,
            web.sender_secret.clone(),
            pipeline.store().secret_key(),
        );
        let flood = &settings.flood;
        let burst = NonZeroU32::new(flood.per_address_burst)
            .ok_or_else(|| anyhow::anyhow!("flood.per_address_burst must be at least 1"))?;
        let quota = Quota::with_period(StdDuration::from_secs(flood.per_address_seconds.max(1)))
            .ok_or_else(|| anyhow::anyhow!("flood.per_address_seconds must be at least 1"))?
            .allow_burst(burst);
        Ok(AppState {
            connections,
            identities: Arc::new(identities),
            addresses: Arc::new(RateLimiter::keyed(quota)),
            pipeline,
            client,
        })
    }

    /// Forgets the flood limiters' keys (addresses, senders) back to a full allowance.
    pub fn forget_idle_clients(&self) {
        self.addresses.retain_recent();
        self.addresses.shrink_to_fit();
        self.pipeline.forget_idle_senders();
    }
}

/// A refusal or a failure, answered as `{"error": "…"}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    /// Seconds for `Retry-After` (429, 503).
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, message: String) -> ApiError {
        ApiError {
            status,
            message,
            retry_after: None,
        }
    }

    fn bad(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message.into())
    }

    fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError {
            retry_after: Some(RETRY_AFTER_UNAVAILABLE),
            ..ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message.into())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                "Bearer".parse().expect("static header"),
            );
        }
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

impl From<PipelineError> for ApiError {
    fn from(e: PipelineError) -> ApiError {
        match e {
            PipelineError::UnknownThread(id) => {
                ApiError::new(StatusCode::NOT_FOUND, format!("there is no thread {id}"))
            }
            PipelineError::Transition(t) => ApiError::new(StatusCode::CONFLICT, t.to_string()),
            PipelineError::UnknownJob(id) => ApiError::new(
                StatusCode::NOT_FOUND,
                format!("there is no outbox job {id}"),
            ),
            PipelineError::Job(message) => ApiError::new(StatusCode::CONFLICT, message),
            PipelineError::NotFound(message) => ApiError::new(StatusCode::NOT_FOUND, message),
            PipelineError::Invalid(message) => ApiError::bad(message),
            PipelineError::Duplicate(id) => ApiError::new(
                StatusCode::CONFLICT,
                format!("this message was already recorded on {id}"),
            ),
            e if e.is_unavailable() => ApiError::unavailable(
                "guichet cannot store anything right now (its disk is full or failing); nothing was recorded, please retry later",
            ),
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the message could not be stored; nothing was recorded, please retry".into(),
                )
            }
        }
    }
}

/// The router, with the state it needs, and the routes of the platforms' adapters that
/// take webhooks (`platforms`, each with its own state), under the same limits.
pub fn router(state: AppState, platforms: Router) -> Router {
    let staff = Router::new()
        .route("/api/threads", get(list_threads))
        .route("/api/threads/{id}", get(show_thread))
        .route("/api/threads/{id}/replies", post(reply))
        .route("/api/threads/{id}/resolve", post(resolve))
        .route("/api/threads/{id}/claim", post(claim))
        .route("/api/threads/{id}/category", post(correct))
        .route("/api/senders/{channel}/{sender}/unblock", post(unblock))
        .route("/api/outbox", get(list_outbox))
        .route("/api/corrections", get(list_corrections))
        .route("/api/outbox/{id}/retry", post(retry_job))
        .route("/api/report", get(report))
        .route("/api/digest", post(send_digest))
        .route("/api/export.csv", get(export_csv))
        .route("/api/staff", get(list_staff).post(add_staff))
        .route("/api/staff/{name}/revoke", post(revoke_staff))
        .merge(privacy::routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), require_staff));
    Router::new()
        .route("/api/messages", post(post_message))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .merge(staff)
        .with_state(state.clone())
        .merge(platforms)
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such route".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "this route does not take that method".into(),
            )
        })
        .layer(middleware::from_fn_with_state(state, bounded))
}

/// Answers 503 when a handler takes longer than `http.handler_timeout_seconds`. Work that
/// must complete (a message's write) runs detached in the pipeline and still completes.
async fn bounded(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = StdDuration::from_secs(state.pipeline.settings().http.handler_timeout_seconds);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::unavailable(format!(
            "the request took longer than {} s; if it was a message, send it again with the same message_id",
            limit.as_secs()
        ))
        .into_response(),
    }
}

/// Who is calling a staff route: the bootstrap coordinator (`staff.token`) or a named
/// member; their [`Actor`] goes with the request for the handlers' role checks and records.
async fn require_staff(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // The scheme is case-insensitive (RFC 7235).
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty());
    let actor = match given {
        Some(token) => state.pipeline.authenticate(token)?,
        None => None,
    };
    match actor {
        Some(actor) => {
            request.extensions_mut().insert(actor);
            Ok(next.run(request).await)
        }
        None if state.pipeline.settings().staff.token.is_empty() && given.is_none() => {
            Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "the staff API needs a staff token: the bootstrap one (GUICHET__STAFF__TOKEN) or a member's from `guichet staff add`".into(),
            ))
        }
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a valid staff token is required: Authorization: Bearer <token>".into(),
        )),
    }
}

/// Refuses (403) what only coordinators may do.
fn coordinator_only(actor: &Actor) -> Result<(), ApiError> {
    if actor.role == Role::Coordinator {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "{} is an agent: this is for coordinators (reports, exports, the outbox, unblocking senders, staff)",
                actor.name
            ),
        ))
    }
}

/// Reads and parses a JSON body within the configured size limit.
async fn json_body<T: DeserializeOwned>(state: &AppState, body: Body) -> Result<T, ApiError> {
    let bytes = raw_body(state, body, state.pipeline.settings().http.max_body_bytes).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad(
            "the body is empty: a JSON object is expected",
        ));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad(format!("the body is not the JSON expected: {e}")))
}

/// Reads a body's bytes within `limit` and the configured time limit.
async fn raw_body(
    state: &AppState,
    body: Body,
    limit: usize,
) -> Result<axum::body::Bytes, ApiError> {
    let http = &state.pipeline.settings().http;
    let deadline = StdDuration::from_secs(http.body_timeout_seconds);
    let bytes = match tokio::time::timeout(deadline, to_bytes(body, limit)).await {
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!("the body did not arrive within {} s", deadline.as_secs()),
            ))
        }
        Ok(read) => read.map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {limit} bytes"),
            )
        })?,
    };
    Ok(bytes)
}

fn reject(state: &AppState, e: ApiError) -> ApiError {
    Metrics::inc(&state.pipeline.metrics().rejected);
    e
}

/// The client's address: the peer's, or, behind a trusted proxy, the last address in
/// `X-Forwarded-For` that is not one of the trusted proxies.
fn client_address(state: &AppState, request: &Request) -> Option<IpAddr> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())?;
    let trusted = &state.pipeline.settings().http.trusted_proxies;
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let forwarded = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|a| !trusted.contains(a))
            .unwrap_or(peer),
    )
}

async fn post_message(
    State(state): State<AppState>,
    request: Request,
) -> Result<Response, ApiError> {
    let address = client_address(&state, &request);
    if let Some(address) = address {
        if let Err(not_until) = state.addresses.check_key(&address) {
            Metrics::inc(&state.pipeline.metrics().floods);
            let wait = not_until
                .wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ))
                .as_secs()
                .max(1);
            return Err(reject(
                &state,
                ApiError {
                    retry_after: Some(wait),
                    ..ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too many messages from this address; please wait before writing again"
                            .into(),
                    )
                },
            ));
        }
    }
    let mut raw: RawMessage = json_body(&state, request.into_body())
        .await
        .map_err(|e| reject(&state, e))?;
    // Platforms' citizens arrive through their adapters, never by naming their channel here.
    if let Some(channel) = raw.channel.as_deref().filter(|c| *c != "web") {
        return Err(reject(
            &state,
            ApiError::bad(format!(
                "the channel \"{}\" cannot be written to here: POST /api/messages is the web channel only",
                channel.chars().take(40).collect::<String>()
            )),
        ));
    }
    let vouched = state
        .identities
        .vouch(raw.sender.as_deref(), raw.sender_signature.as_deref())
        .map_err(|e| {
            let status = match e {
                web::IdentityError::BadSignature => StatusCode::FORBIDDEN,
                _ => StatusCode::UNAUTHORIZED,
            };
            reject(&state, ApiError::new(status, e.to_string()))
        })?;
    raw.sender = Some(vouched.sender().to_owned());
    if state.pipeline.store().failure().is_some() {
        return Err(ApiError::unavailable(
            "guichet cannot store anything right now (its disk is full or failing); nothing was recorded, please retry later",
        ));
    }
    let settings = state.pipeline.settings();
    let limits = Limits {
        max_chars: settings.messages.max_chars,
        max_clock_skew: Duration::seconds(settings.messages.max_clock_skew_seconds),
        max_age: Duration::hours(settings.messages.max_age_hours),
    };
    let now = Utc::now();
    let message = IncomingMessage::parse(raw, now, limits)
        .map_err(|e| reject(&state, ApiError::bad(e.to_string())))?;
    let outcome = state.pipeline.receive(message, now).await?;
    let mut body = serde_json::to_value(&outcome).map_err(|e| ApiError::bad(e.to_string()))?;
    if let Vouched::Issued(token) = vouched {
        body["sender_token"] = json!(token);
    }
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
struct ListQuery {
    state: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// `?limit=` (default 100, at most 1000).
fn page_limit(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(crate::staff::DEFAULT_PAGE),
        Some(l) => l
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=crate::staff::MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::bad(format!(
                    "limit must be a whole number from 1 to {}",
                    crate::staff::MAX_PAGE
                ))
            }),
    }
}

async fn list_threads(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let filter = match q.state.as_deref() {
        None => Filter::Open,
        Some(s) => s.parse::<Filter>().map_err(ApiError::bad)?,
    };
    let limit = page_limit(q.limit.as_deref())?;
    let cursor = q
        .cursor
        .as_deref()
        .map(|c| crate::staff::Cursor::parse(c, filter))
        .transpose()
        .map_err(ApiError::bad)?;
    // Store reads block: off the async workers, so that health checks answer meanwhile.
    let pipeline = Arc::clone(&state.pipeline);
    let page = tokio::task::spawn_blocking(move || {
        pipeline.threads_page(filter, Utc::now(), cursor.as_ref(), limit)
    })
    .await
    .map_err(|e| PipelineError::Aborted(e.to_string()))??;
    Ok(Json(page).into_response())
}

fn thread_id(raw: &str) -> Result<ThreadId, ApiError> {
    ThreadId::parse(raw).map_err(|e| ApiError::new(StatusCode::NOT_FOUND, e))
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
    Extension(by): Extension<Actor>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let id = thread_id(&id)?;
    let body: ReplyBody = json_body(&state, request.into_body()).await?;
    // A named member answers under their own name; the bootstrap token names the agent.
    let named = (by != Actor::bootstrap()).then(|| by.name.clone());
    let agent = named
        .as_deref()
        .unwrap_or_else(|| body.agent.as_deref().map(str::trim).unwrap_or(""));
    if agent.is_empty() || agent.chars().count() > 100 || agent.chars().any(char::is_control) {
        return Err(ApiError::bad(
            "the field \"agent\" is required: the agent's name, at most 100 characters",
        ));
    }
    let max = state.pipeline.settings().messages.max_chars;
    let text = MessageText::parse(body.text.as_deref().unwrap_or(""), max).map_err(|_| {
        ApiError::bad(format!(
            "the field \"text\" is required and holds at most {max} characters"
        ))
    })?;
    let (thread, delivery) = state
        .pipeline
        .reply(id, agent, text.as_str(), Utc::now())
        .await?;
    let relayed = delivery.relayed;
    let summary = crate::staff::Summary::of(&thread, Utc::now());
    Ok(Json(json!({ "thread": summary, "relayed": relayed })).into_response())
}

async fn resolve(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = thread_id(&id)?;
    let thread = state.pipeline.resolve(id, &by.name, Utc::now()).await?;
    Ok(Json(json!({ "thread": crate::staff::Summary::of(&thread, Utc::now()) })).into_response())
}

#[derive(Deserialize)]
struct ActionBody {
    agent: Option<String>,
    category: Option<String>,
}

/// The staff member acting: a named member, or with the bootstrap token the `agent` named in
/// the body, else the coordinator.
fn actor(by: &Actor, body: &ActionBody) -> Result<String, ApiError> {
    if *by != Actor::bootstrap() {
        return Ok(by.name.clone());
    }
    match body.agent.as_deref().map(str::trim) {
        None | Some("") => Ok(by.name.clone()),
        Some(a) if a.chars().count() <= 100 && !a.chars().any(char::is_control) => Ok(a.to_owned()),
        Some(_) => Err(ApiError::bad(
            "the field \"agent\" is the agent's name, at most 100 characters",
        )),
    }
}

async fn claim(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let id = thread_id(&id)?;
    let body: ActionBody = json_body(&state, request.into_body()).await?;
    let agent = actor(&by, &body)?;
    let thread = state.pipeline.claim(id, &agent, Utc::now()).await?;
    Ok(Json(json!({ "thread": crate::staff::Summary::of(&thread, Utc::now()) })).into_response())
}

/// A person corrects the category: the clock is re-planned, the correction kept.
async fn correct(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    let id = thread_id(&id)?;
    let body: ActionBody = json_body(&state, request.into_body()).await?;
    let agent = actor(&by, &body)?;
    let category = body
        .category
        .as_deref()
        .and_then(|c| c.parse::<crate::domain::Category>().ok())
        .ok_or_else(|| {
            ApiError::bad("the field \"category\" is required: urgent, info or complaint")
        })?;
    let thread = state
        .pipeline
        .correct(id, category, &agent, Utc::now())
        .await?;
    Ok(Json(json!({ "thread": crate::staff::Summary::of(&thread, Utc::now()) })).into_response())
}

async fn unblock(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Path((channel, sender)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let channel = Channel::parse(&channel).map_err(|e| ApiError::bad(e.to_string()))?;
    let sender = Sender::parse(&sender).map_err(|e| ApiError::bad(e.to_string()))?;
    let was_blocked = state.pipeline.unblock(&channel, &sender).await?;
    Ok(Json(json!({ "unblocked": was_blocked })).into_response())
}

async fn list_corrections(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let corrections = state.pipeline.corrections()?;
    Ok(Json(json!({ "corrections": corrections })).into_response())
}

async fn list_outbox(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let filter = match q.state.as_deref() {
        None => OutboxFilter::Attention,
        Some(s) => s.parse::<OutboxFilter>().map_err(ApiError::bad)?,
    };
    let limit = page_limit(q.limit.as_deref())?;
    // The cursor names its list and the last job of the page before.
    let after = match q.cursor.as_deref() {
        None => None,
        Some(c) => {
            let bad = || {
                ApiError::bad(format!(
                    "the cursor \"{}\" is not one guichet gave for this outbox list: start again without a cursor",
                    c.chars().take(60).collect::<String>()
                ))
            };
            let (name, hex) = c.trim().split_once('.').ok_or_else(bad)?;
            if name != filter.as_str() {
                return Err(bad());
            }
            let raw = hex::decode(hex).map_err(|_| bad())?;
            let id = String::from_utf8(raw).map_err(|_| bad())?;
            Some(JobId::parse(&id).map_err(|_| bad())?)
        }
    };
    let (jobs, next) = state.pipeline.outbox_page(filter, after.as_ref(), limit)?;
    let next_cursor = next.map(|id| format!("{}.{}", filter.as_str(), hex::encode(id.as_str())));
    Ok(Json(json!({ "jobs": jobs, "next_cursor": next_cursor })).into_response())
}

async fn retry_job(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let id = JobId::parse(&id).map_err(|e| ApiError::new(StatusCode::NOT_FOUND, e))?;
    let job = state.pipeline.retry_job(&id, &by.name, Utc::now()).await?;
    Ok(Json(json!({ "job": OutboxEntry::of(&job) })).into_response())
}

/// The daily digest, queued at once (coordinators): `{"outcome":"queued","digest":{…},
/// "jobs":[…]}`; 409 when it has nowhere to go.
async fn send_digest(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    match state
        .pipeline
        .send_digest(Utc::now(), &by.name, true)
        .await?
    {
        crate::pipeline::DigestOutcome::NoDestination => Err(ApiError::new(
            StatusCode::CONFLICT,
            "the digest has nowhere to go: set digest.email_to or a Discord alerts channel".into(),
        )),
        outcome => Ok(Json(outcome).into_response()),
    }
}

#[derive(Deserialize)]
struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    format: Option<String>,
}

/// The response-time report (coordinators): `?from=YYYY-MM-DD&to=YYYY-MM-DD` (city-local,
/// both included; default the last 30 days), `&format=json|csv`.
async fn report(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let (from, to) = date_range(&state, &q)?;
    let csv = match q.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::bad("format is json or csv")),
    };
    let pipeline = Arc::clone(&state.pipeline);
    let report = tokio::task::spawn_blocking(move || pipeline.report(from, to, Utc::now()))
        .await
        .map_err(|e| PipelineError::Aborted(e.to_string()))??;
    if csv {
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            report.csv(),
        )
            .into_response());
    }
    Ok(Json(report).into_response())
}

/// The days of `?from=&to=` (city-local, both included; default the last 30 days).
fn date_range(
    state: &AppState,
    q: &ReportQuery,
) -> Result<(chrono::NaiveDate, chrono::NaiveDate), ApiError> {
    let tz = state.pipeline.settings().city.timezone;
    let today = Utc::now().with_timezone(&tz).date_naive();
    crate::domain::export::date_range(q.from.as_deref(), q.to.as_deref(), today)
        .map_err(ApiError::bad)
}

/// One line per thread opened in `?from=&to=` (coordinators): no message text.
async fn export_csv(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let (from, to) = date_range(&state, &q)?;
    let pipeline = Arc::clone(&state.pipeline);
    let rows = tokio::task::spawn_blocking(move || pipeline.export_rows(from, to, Utc::now()))
        .await
        .map_err(|e| PipelineError::Aborted(e.to_string()))??;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        crate::domain::export::csv(&rows),
    )
        .into_response())
}

#[derive(Deserialize)]
struct StaffBody {
    name: Option<String>,
    role: Option<String>,
}

/// Staff members (coordinators only): names, roles, when added or revoked; never tokens.
async fn list_staff(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let members: Vec<_> = state
        .pipeline
        .members()?
        .into_iter()
        .map(|m| json!({ "name": m.name, "role": m.role, "added_at": m.added_at, "revoked_at": m.revoked_at }))
        .collect();
    Ok(Json(json!({ "staff": members })).into_response())
}

/// Adds a member; the answer holds their token, shown this once.
async fn add_staff(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    request: Request,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let body: StaffBody = json_body(&state, request.into_body()).await?;
    let role = body
        .role
        .as_deref()
        .unwrap_or("")
        .parse::<Role>()
        .map_err(ApiError::bad)?;
    let name = crate::domain::staff::parse_name(body.name.as_deref().unwrap_or(""))
        .map_err(ApiError::bad)?;
    let (member, token) = state.pipeline.add_member(&name, role, Utc::now()).await?;
    Ok(Json(json!({ "name": member.name, "role": member.role, "token": token })).into_response())
}

async fn revoke_staff(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let revoked = state.pipeline.revoke_member(&name, Utc::now()).await?;
    Ok(Json(json!({ "revoked": revoked })).into_response())
}

/// 200 only while guichet can store a message; 503 with the reason once a write failed.
async fn healthz(State(state): State<AppState>) -> Response {
    let store = state.pipeline.store();
    match store.failure() {
        None => Json(json!({
            "status": "ok",
            "store_id": store.instance_id(),
            "channels": state.connections.snapshot(),
        }))
        .into_response(),
        Some(reason) => {
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unhealthy",
                    "reason": format!("the store cannot take writes: {reason}"),
                    "store_id": store.instance_id(),
                    "channels": state.connections.snapshot(),
                })),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, RETRY_AFTER_UNAVAILABLE.into());
            response
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let gauges = state.pipeline.gauges()?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::responses::Responses;
    use crate::store::Store;

    #[tokio::test]
    async fn the_address_limiter_forgets_idle_addresses() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut settings = Settings::load(&root.join("config/default.toml")).unwrap();
        settings.flood.per_address_burst = 1;
        settings.flood.per_address_seconds = 1;
        let pipeline = Pipeline::new(
            Store::temporary().unwrap(),
            Arc::new(settings),
            Responses::load(&root.join("responses")).unwrap(),
            Arc::new(Metrics::default()),
        )
        .unwrap();
        let state = AppState::new(
            Arc::new(pipeline),
            reqwest::Client::new(),
            Arc::new(Connections::default()),
        )
        .unwrap();
        for i in 0..1000u32 {
            let [_, _, a, b] = i.to_be_bytes();
            let _ = state.addresses.check_key(&IpAddr::from([10, 0, a, b]));
        }
        assert_eq!(state.addresses.len(), 1000);
        state.forget_idle_clients();
        assert_eq!(state.addresses.len(), 1000, "recent keys are kept");
        // A key is back to a full allowance one period after its allowance refilled.
        tokio::time::sleep(StdDuration::from_millis(2100)).await;
        state.forget_idle_clients();
        assert_eq!(state.addresses.len(), 0, "idle keys are forgotten");
    }
}
