//! Forwarders: the senders of outbox jobs — the HTTP clients that hand tickets to
//! customer-service systems (a signed webhook, Open311 GeoReport v2), the web channel's
//! callback, staff's alerts and digests (e-mail over SMTP, a signed alerts webhook), and the
//! platforms' couriers that their adapters register (Discord, Messenger).
//!
//! A forwarder makes one attempt for one job and reports what happened as an
//! [`Attempt`]; it never retries, never reads the store and never decides a job's fate (the
//! pure [`Job::apply`](crate::domain::outbox::Job::apply) does). Each destination has its own
//! rate limit; every request has the configured timeout.

pub mod alert_webhook;
pub mod callback;
pub mod email;
pub mod open311;
pub mod webhook;

use std::collections::HashMap;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::{Response, StatusCode};

use crate::config::Settings;
use crate::domain::outbox::{Attempt, DeliveryError, Destination, Job, RemoteError};

pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// A boxed future, for couriers behind `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A platform's sender of jobs, provided by its adapter: one attempt per call, its outcome
/// as an [`Attempt`] (rate limits and `retry_after` reported in the error, never slept on).
pub trait Courier: Send + Sync {
    fn attempt<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Attempt>;
}

/// The configured forwarders, with their rate limiters and one shared HTTP client.
pub struct Forwarders {
    client: reqwest::Client,
    webhook: Option<(webhook::Webhook, DefaultDirectRateLimiter)>,
    open311: Option<(open311::Open311, DefaultDirectRateLimiter)>,
    callback: Option<callback::Callback>,
    email: Option<email::Email>,
    alert_webhook: Option<alert_webhook::AlertWebhook>,
    /// Registered by the platforms' adapters once they start.
    couriers: RwLock<HashMap<Destination, Arc<dyn Courier>>>,
    /// The platforms configured: their jobs wait for the adapter to connect.
    platforms: Vec<Destination>,
}

fn limiter(per_second: u32) -> DefaultDirectRateLimiter {
    let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
    RateLimiter::direct(Quota::per_second(rate))
}

impl Forwarders {
    /// # Errors
    /// The HTTP client cannot be built, or a URL does not parse.
    pub fn new(settings: &Settings) -> anyhow::Result<Forwarders> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.outbox.request_timeout_seconds))
            .connect_timeout(Duration::from_secs(
                settings.outbox.request_timeout_seconds.min(5),
            ))
            .user_agent(concat!("guichet/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("the forwarders' HTTP client could not be built")?;
        let webhook = match settings.forwarders.webhook() {
            Some(w) => Some((
                webhook::Webhook::new(w, settings.staff_url())?,
                limiter(w.rate_per_second),
            )),
            None => None,
        };
        let open311 = match settings.forwarders.open311() {
            Some(o) => Some((open311::Open311::new(o)?, limiter(o.rate_per_second))),
            None => None,
        };
        let callback = match settings.channels.web.callback_url.trim() {
            "" => None,
            url => Some(callback::Callback::new(url)?),
        };
        Ok(Forwarders {
            client,
            webhook,
            open311,
            callback,
            email: email::Email::new(settings)?,
            alert_webhook: alert_webhook::AlertWebhook::new(settings)?,
            couriers: RwLock::new(HashMap::new()),
            platforms: {
                let mut p = Vec::new();
                if settings.channels.discord.enabled() {
                    p.extend([
                        Destination::Discord,
                        Destination::Forum,
                        Destination::Alerts,
                    ]);
                }
                if settings.channels.messenger.enabled() {
                    p.push(Destination::Messenger);
                }
                p
            },
        })
    }

    /// Delivers `destination`'s jobs through `courier` from now on.
    pub fn register(&self, destination: Destination, courier: Arc<dyn Courier>) {
        if let Ok(mut couriers) = self.couriers.write() {
            couriers.insert(destination, courier);
        }
    }

    /// One attempt for `job`, after waiting for the destination's rate limit.
    pub async fn attempt(&self, job: &Job) -> Attempt {
        match job.destination {
            Destination::Webhook => match &self.webhook {
                Some((w, limit)) => {
                    limit.until_ready().await;
                    w.attempt(&self.client, job).await
                }
                None => not_configured(job.destination),
            },
            Destination::Open311 => match &self.open311 {
                Some((o, limit)) => {
                    limit.until_ready().await;
                    o.attempt(&self.client, job).await
                }
                None => not_configured(job.destination),
            },
            Destination::Web => match &self.callback {
                Some(c) => c.attempt(&self.client, job).await,
                None => not_configured(job.destination),
            },
            Destination::Email => match &self.email {
                Some(e) => e.attempt(job).await,
                None => not_configured(job.destination),
            },
            Destination::AlertWebhook => match &self.alert_webhook {
                Some(w) => w.attempt(&self.client, job).await,
                None => not_configured(job.destination),
            },
            Destination::Discord
            | Destination::Messenger
            | Destination::Forum
            | Destination::Alerts => {
                let courier = self
                    .couriers
                    .read()
                    .ok()
                    .and_then(|c| c.get(&job.destination).cloned());
                match courier {
                    Some(c) => c.attempt(job).await,
                    None if !self.platforms.contains(&job.destination) => {
                        not_configured(job.destination)
                    }
                    // The adapter has not connected yet (or lost its configuration): wait.
                    None => Attempt::Failed(DeliveryError {
                        retry_after_secs: Some(5),
                        ..DeliveryError::transient(format!(
                            "the {} channel is not connected",
                            job.destination
                        ))
                    }),
                }
            }
        }
    }
}

/// A job queued for a destination that was removed from the configuration since: it dies,
/// visible to the coordinator, rather than waiting forever.
fn not_configured(destination: Destination) -> Attempt {
    Attempt::Failed(DeliveryError::permanent(format!(
        "the {destination} forwarder is no longer configured"
    )))
}

/// A request that got no answer (refused connection, timeout): always worth retrying.
fn unreachable(e: &reqwest::Error) -> DeliveryError {
    let what = if e.is_timeout() {
        "no answer before the timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // reqwest's message can carry the URL, with an Open311 api_key in a query string: keep
    // only the kind of failure.
    DeliveryError::transient(what)
}

/// An answer outside 2xx: retryable (408, 409, 425, 429, 5xx, and what `retryable_4xx`
/// adds) or permanent, with the remote errors in Open311's `[{code, description}]` form
/// when the body holds them.
async fn refused(response: Response, retryable_4xx: &[u16]) -> DeliveryError {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = response.text().await.unwrap_or_default();
    let errors = remote_errors(&body);
    let transient = status.is_server_error()
        || matches!(
            status,
            StatusCode::REQUEST_TIMEOUT
                | StatusCode::CONFLICT
                | StatusCode::TOO_EARLY
                | StatusCode::TOO_MANY_REQUESTS
        )
        || retryable_4xx.contains(&status.as_u16());
    let message = if errors.is_empty() {
        let snippet: String = body.trim().chars().take(200).collect();
        if snippet.is_empty() {
            status
                .canonical_reason()
                .unwrap_or("refused")
                .to_ascii_lowercase()
        } else {
            snippet
        }
    } else {
        "the receiver refused the request".to_owned()
    };
    DeliveryError {
        status: Some(status.as_u16()),
        message,
        errors,
        permanent: !transient,
        retry_after_secs: retry_after,
    }
}

/// Open311's error list: `[{"code": 403, "description": "..."}]` (or one object, or the
/// XML-to-JSON wrapping `{"errors": [...]}`); an empty list for anything else.
pub fn remote_errors(body: &str) -> Vec<RemoteError> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
        return Vec::new();
    };
    let items = match &value {
        serde_json::Value::Array(a) => a.clone(),
        serde_json::Value::Object(o) => match o.get("errors") {
            Some(serde_json::Value::Array(a)) => a.clone(),
            _ => vec![value.clone()],
        },
        _ => return Vec::new(),
    };
    items
        .iter()
        .filter_map(|e| {
            let description = e.get("description")?.as_str()?.to_owned();
            let code = match e.get("code") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            Some(RemoteError {
                code,
                description: description.chars().take(300).collect(),
            })
        })
        .collect()
}

/// A JSON value that is an id, whether the server sent it as a string or a number.
fn id_string(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open311_errors_are_read_in_their_documented_forms() {
        let list = remote_errors(r#"[{"code":403,"description":"Invalid api_key"}]"#);
        assert_eq!(
            list,
            vec![RemoteError {
                code: "403".into(),
                description: "Invalid api_key".into()
            }]
        );
        let wrapped =
            remote_errors(r#"{"errors":[{"code":"BAD","description":"service_code missing"}]}"#);
        assert_eq!(wrapped[0].code, "BAD");
        assert!(remote_errors("<html>down</html>").is_empty());
        assert!(remote_errors(r#"{"ok":true}"#).is_empty());
    }

    #[test]
    fn ids_are_accepted_as_strings_or_numbers() {
        let v: serde_json::Value = serde_json::json!({"a": 638344, "b": " x1 ", "c": ""});
        assert_eq!(id_string(v.get("a")).as_deref(), Some("638344"));
        assert_eq!(id_string(v.get("b")).as_deref(), Some("x1"));
        assert_eq!(id_string(v.get("c")), None);
        assert_eq!(id_string(v.get("d")), None);
    }
}
