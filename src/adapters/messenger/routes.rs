//! Meta's webhook for the page (`GET`/`POST /webhooks/messenger`): the verification
//! handshake, and deliveries whose signature is checked over the raw bytes before any event
//! is stored. Mounted by the server beside the HTTP inbox, only when Messenger is configured
//! (without its secrets the routes do not exist: 404).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use axum::body::{to_bytes, Body};
use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{Duration, Utc};
use serde_json::json;

use crate::domain::message::{
    Channel, IncomingMessage, Limits, PlatformMessageId, RawMessage, Sender,
};
use crate::metrics::Metrics;
use crate::pipeline::{Pipeline, PipelineError};

use super::webhook::Event;
use super::{webhook, CHANNEL, PAGE_INBOX};

/// Meta batches many events in one delivery: a citizen's message is limited, a batch less so.
const BODY_BYTES: usize = 1024 * 1024;

/// The webhook's routes.
pub fn router(pipeline: Arc<Pipeline>) -> Router {
    Router::new()
        .route("/webhooks/messenger", get(handshake).post(deliveries))
        .with_state(pipeline)
}

/// A refusal, answered as `{"error": "…"}` like every other route's.
struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal {
            status,
            message: message.into(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, 30u64.into());
        }
        response
    }
}

impl From<PipelineError> for Refusal {
    fn from(e: PipelineError) -> Refusal {
        if e.is_unavailable() {
            return Refusal::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "guichet cannot store anything right now (its disk is full or failing); nothing was recorded, please retry later",
            );
        }
        tracing::error!(error = %e, "a Messenger delivery failed");
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the delivery could not be stored; please retry",
        )
    }
}

/// The raw body within the size and time limits.
async fn read_body(
    pipeline: &Pipeline,
    body: Body,
    limit: usize,
) -> Result<axum::body::Bytes, Refusal> {
    let deadline = StdDuration::from_secs(pipeline.settings().http.body_timeout_seconds);
    match tokio::time::timeout(deadline, to_bytes(body, limit)).await {
        Err(_) => Err(Refusal::new(
            StatusCode::REQUEST_TIMEOUT,
            format!("the body did not arrive within {} s", deadline.as_secs()),
        )),
        Ok(read) => read.map_err(|_| {
            Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than {limit} bytes"),
            )
        }),
    }
}

/// Meta's verification handshake: the challenge, as text, for the right verify token.
async fn handshake(
    State(pipeline): State<Arc<Pipeline>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Refusal> {
    let token = &pipeline.settings().channels.messenger.verify_token;
    match webhook::handshake(
        q.get("hub.mode").map(String::as_str),
        q.get("hub.verify_token").map(String::as_str),
        q.get("hub.challenge").map(String::as_str),
        token,
    ) {
        Some(challenge) => Ok((
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge.to_owned(),
        )
            .into_response()),
        None => Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "the verification handshake needs hub.mode=subscribe and the configured hub.verify_token",
        )),
    }
}

/// What one sender's events of a delivery become, in their order.
enum Step {
    Message(IncomingMessage),
    Echo {
        mid: PlatformMessageId,
        text: String,
        at: chrono::DateTime<Utc>,
    },
}

/// Meta's webhook: the signature over the raw bytes (403 and nothing stored when it does
/// not match), then every event stored before the 200. Each sender's events are stored in
/// their order; different senders' concurrently, so that the store's group commit writes
/// them together. An event that cannot be read or is refused is logged and skipped: a 4xx
/// would make Meta send the whole batch again for 36 hours. A store failure is a 503, and
/// Meta's retry is then harmless: a `mid` already stored changes nothing.
async fn deliveries(
    State(pipeline): State<Arc<Pipeline>>,
    request: Request,
) -> Result<Response, Refusal> {
    let settings = pipeline.settings();
    let m = &settings.channels.messenger;
    let signature = request
        .headers()
        .get(webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Meta batches many events in one delivery: a citizen's message is limited, a batch less so.
    let limit = settings.http.max_body_bytes.max(BODY_BYTES);
    let bytes = read_body(&pipeline, request.into_body(), limit).await?;
    if !webhook::signature_matches(&m.app_secret, &bytes, signature.as_deref()) {
        Metrics::inc(&pipeline.metrics().rejected);
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "the X-Hub-Signature-256 header does not sign this body with the app secret",
        ));
    }
    if pipeline.store().failure().is_some() {
        return Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "guichet cannot store anything right now (its disk is full or failing); nothing was recorded, please retry later",
        ));
    }
    let events = match webhook::read(&bytes) {
        Ok(events) => events,
        Err(e) => {
            tracing::warn!(error = %e, "a Messenger delivery was skipped");
            return Ok(event_received());
        }
    };
    let limits = Limits {
        max_chars: settings.messages.max_chars,
        max_clock_skew: Duration::seconds(settings.messages.max_clock_skew_seconds),
        max_age: Duration::hours(settings.messages.max_age_hours),
    };
    let now = Utc::now();
    let mut senders: Vec<(String, Vec<Step>)> = Vec::new();
    for event in events {
        let (psid, step) = match event {
            Err(e) => {
                tracing::warn!(error = %e, "a Messenger event was skipped");
                continue;
            }
            Ok(Event::Ignored(what)) => {
                tracing::debug!(what, "a Messenger event was ignored");
                continue;
            }
            Ok(Event::Citizen {
                psid,
                mid,
                text,
                at,
            }) => {
                let raw = RawMessage {
                    sender: Some(psid.clone()),
                    text: Some(text),
                    message_id: Some(mid),
                    sent_at: Some(at.to_rfc3339()),
                    channel: Some(CHANNEL.to_owned()),
                    sender_signature: None,
                };
                match IncomingMessage::parse(raw, now, limits) {
                    Ok(message) => (psid, Step::Message(message)),
                    Err(e) => {
                        Metrics::inc(&pipeline.metrics().rejected);
                        tracing::warn!(error = %e, "a Messenger message was refused");
                        continue;
                    }
                }
            }
            Ok(Event::Echo {
                psid,
                mid,
                text,
                at,
                app_id,
            }) => {
                // Without guichet's own app id its echoes cannot be told from the agents':
                // none is taken for an answer.
                let own = m.app_id.trim();
                if own.is_empty() || app_id.as_deref() == Some(own) {
                    continue;
                }
                let Ok(mid) = PlatformMessageId::parse(&mid) else {
                    continue;
                };
                (
                    psid,
                    Step::Echo {
                        mid,
                        text,
                        at: at.min(now),
                    },
                )
            }
        };
        match senders.iter_mut().find(|(p, _)| *p == psid) {
            Some((_, steps)) => steps.push(step),
            None => senders.push((psid, vec![step])),
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (psid, steps) in senders {
        let pipeline = Arc::clone(&pipeline);
        tasks.spawn(async move { store_steps(&pipeline, &psid, steps, now).await });
    }
    let mut failed = None;
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failed = Some(e),
            Err(e) => {
                tracing::error!(error = %e, "storing a Messenger event panicked");
                failed = Some(PipelineError::Aborted(e.to_string()));
            }
        }
    }
    match failed {
        Some(e) => Err(e.into()),
        None => Ok(event_received()),
    }
}

/// A failure of the store (or of the work itself), which Meta's retry may get past; any
/// other refusal would be the same the next time.
fn worth_a_retry(e: &PipelineError) -> bool {
    matches!(e, PipelineError::Store(_) | PipelineError::Aborted(_))
}

fn event_received() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "EVENT_RECEIVED",
    )
        .into_response()
}

/// One sender's events, in order. A store failure stops them (Meta retries the delivery);
/// an echo that answers no thread (none, or one resolved) is logged and skipped.
async fn store_steps(
    pipeline: &Arc<Pipeline>,
    psid: &str,
    steps: Vec<Step>,
    now: chrono::DateTime<Utc>,
) -> Result<(), PipelineError> {
    for step in steps {
        match step {
            Step::Message(message) => match pipeline.receive(message, now).await {
                Ok(_) => {}
                Err(e) if worth_a_retry(&e) => return Err(e),
                Err(e) => tracing::warn!(error = %e, "a Messenger message was not recorded"),
            },
            Step::Echo { mid, text, at } => {
                let (Ok(channel), Ok(sender)) = (Channel::parse(CHANNEL), Sender::parse(psid))
                else {
                    continue;
                };
                let Some(thread) = pipeline.latest_thread(&channel, &sender)? else {
                    tracing::debug!("an answer from the Page inbox to no thread was ignored");
                    continue;
                };
                match pipeline
                    .record_platform_answer(thread.id, PAGE_INBOX, &text, mid, at)
                    .await
                {
                    Ok(_) => {}
                    Err(e) if worth_a_retry(&e) => return Err(e),
                    Err(e) => {
                        tracing::info!(thread = %thread.id, error = %e, "an answer from the Page inbox was not recorded");
                    }
                }
            }
        }
    }
    Ok(())
}
