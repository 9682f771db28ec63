//! The coordinators' routes for citizens' data: export, erasure, access and erasure
//! requests with their due dates, the retention purge, the register of confidentiality
//! incidents and the journal of these actions. Every route is for coordinators only.

use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;
use serde_json::json;

use super::{coordinator_only, json_body, ApiError, AppState};
use crate::domain::message::{Channel, Sender};
use crate::domain::privacy::{IncidentFields, IncidentSource, RequestKind, NEARING_DAYS};
use crate::domain::staff::Actor;
use crate::pipeline::PipelineError;

/// The routes, to be mounted among the staff routes (behind their authentication).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/citizens/{channel}/{sender}", get(export))
        .route("/api/citizens/{channel}/{sender}/erase", post(erase))
        .route(
            "/api/citizens/{channel}/{sender}/requests",
            post(record_request),
        )
        .route("/api/requests", get(list_requests))
        .route("/api/requests/{id}/extend", post(extend_request))
        .route("/api/requests/{id}/close", post(close_request))
        .route("/api/purge", post(purge))
        .route(
            "/api/privacy-incidents",
            get(list_incidents).post(add_incident),
        )
        .route("/api/privacy-journal", get(journal))
}

fn party(channel: &str, sender: &str) -> Result<(Channel, Sender), ApiError> {
    let channel = Channel::parse(channel).map_err(|e| ApiError::bad(e.to_string()))?;
    let sender = Sender::parse(sender).map_err(|e| ApiError::bad(e.to_string()))?;
    Ok((channel, sender))
}

async fn export(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Path((channel, sender)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let (channel, sender) = party(&channel, &sender)?;
    let document = state
        .pipeline
        .export_citizen(&channel, &sender, &by.name, Utc::now())
        .await?;
    Ok(Json(document).into_response())
}

async fn erase(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Path((channel, sender)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let (channel, sender) = party(&channel, &sender)?;
    let erasure = state
        .pipeline
        .erase_citizen(&channel, &sender, &by.name, Utc::now())
        .await?;
    Ok(Json(erasure).into_response())
}

#[derive(Deserialize)]
struct RequestBody {
    kind: Option<String>,
    received_on: Option<String>,
}

fn date(field: &str, raw: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::bad(format!(
            "{field} \"{}\" is not a date such as 2026-11-30",
            raw.chars().take(20).collect::<String>()
        ))
    })
}

async fn record_request(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Path((channel, sender)): Path<(String, String)>,
    request: Request,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let (channel, sender) = party(&channel, &sender)?;
    let body: RequestBody = json_body(&state, request.into_body()).await?;
    let kind = body
        .kind
        .as_deref()
        .unwrap_or("")
        .parse::<RequestKind>()
        .map_err(ApiError::bad)?;
    let received_on = body
        .received_on
        .as_deref()
        .map(|d| date("received_on", d))
        .transpose()?;
    let recorded = state
        .pipeline
        .record_request(&channel, &sender, kind, received_on, &by.name, Utc::now())
        .await
        .map_err(bad_input)?;
    Ok(Json(json!({ "request": recorded })).into_response())
}

/// A refusal of what was given is the caller's mistake (400), not a conflict.
fn bad_input(e: PipelineError) -> ApiError {
    match e {
        PipelineError::Job(message) => ApiError::bad(message),
        other => other.into(),
    }
}

#[derive(Deserialize)]
struct RequestsQuery {
    state: Option<String>,
    due_within: Option<String>,
}

async fn list_requests(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Query(q): Query<RequestsQuery>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let now = Utc::now();
    let today = state.pipeline.today(now);
    let nearing = match q.due_within.as_deref() {
        Some(days) => Some(
            days.trim()
                .parse::<i64>()
                .ok()
                .filter(|d| (0..=366).contains(d))
                .ok_or_else(|| ApiError::bad("due_within is a number of days from 0 to 366"))?,
        ),
        None if q.state.as_deref() == Some("nearing") => Some(NEARING_DAYS),
        None => None,
    };
    let requests = match (nearing, q.state.as_deref()) {
        (Some(days), None | Some("nearing" | "open")) => {
            state.pipeline.requests_nearing(days, now)?
        }
        (None, None | Some("open")) => state.pipeline.requests(true)?,
        (None, Some("all")) => state.pipeline.requests(false)?,
        _ => {
            return Err(ApiError::bad(
                "state is open, nearing or all (due_within goes with open or nearing)",
            ))
        }
    };
    let listed: Vec<_> = requests
        .iter()
        .map(|r| {
            let mut v = json!(r);
            v["due"] = json!(r.due());
            v["days_left"] = json!(r.days_left(today));
            v
        })
        .collect();
    Ok(Json(json!({ "today": today, "requests": listed })).into_response())
}

#[derive(Deserialize)]
struct ExtendBody {
    notice: Option<String>,
}

fn request_id(raw: &str) -> Result<u64, ApiError> {
    raw.trim().parse::<u64>().map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!(
                "\"{}\" is not a request number",
                raw.chars().take(20).collect::<String>()
            ),
        )
    })
}

async fn extend_request(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let id = request_id(&id)?;
    let body: ExtendBody = json_body(&state, request.into_body()).await?;
    let extended = state
        .pipeline
        .extend_request(
            id,
            body.notice.as_deref().unwrap_or(""),
            &by.name,
            Utc::now(),
        )
        .await?;
    Ok(Json(json!({ "request": extended })).into_response())
}

async fn close_request(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let id = request_id(&id)?;
    let closed = state
        .pipeline
        .close_request(id, &by.name, Utc::now())
        .await?;
    Ok(Json(json!({ "request": closed })).into_response())
}

#[derive(Deserialize)]
struct PurgeQuery {
    dry_run: Option<String>,
}

async fn purge(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    Query(q): Query<PurgeQuery>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let dry_run = match q.dry_run.as_deref() {
        None | Some("false") => false,
        Some("true") | Some("") => true,
        Some(_) => return Err(ApiError::bad("dry_run is true or false")),
    };
    let done = state.pipeline.purge(dry_run, &by.name, Utc::now()).await?;
    Ok(Json(done).into_response())
}

async fn list_incidents(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let incidents = state.pipeline.incidents()?;
    Ok(Json(json!({ "incidents": incidents })).into_response())
}

async fn add_incident(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
    request: Request,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let fields: IncidentFields = json_body(&state, request.into_body()).await?;
    let incident = state
        .pipeline
        .add_incident(fields, IncidentSource::Staff, &by.name, Utc::now())
        .await?;
    Ok(Json(json!({ "incident": incident })).into_response())
}

async fn journal(
    State(state): State<AppState>,
    Extension(by): Extension<Actor>,
) -> Result<Response, ApiError> {
    coordinator_only(&by)?;
    let entries = state.pipeline.privacy_journal()?;
    Ok(Json(json!({ "journal": entries })).into_response())
}
