//! The Send API, as the outbox uses it: which `messaging_type` an answer may go out with
//! (Meta's reply window), a long text cut into parts, Meta's errors mapped to retry or give
//! up, and the one client that posts to `{graph_url}/{api_version}/{page_id}/messages`.
//!
//! Each call makes one attempt and reports it; nothing here retries or sleeps on Meta's rate
//! limits (the outbox does). The page token travels in the query string, as Meta documents
//! it; it is never put in an error or a log line (reqwest's errors, which carry the URL, are
//! reduced to their kind).

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Duration as Span, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::{json, Value};

use crate::config::{MessengerSettings, Secret};
use crate::domain::outbox::{DeliveryError, RemoteError};

/// Meta's limit on a message's text, in characters.
pub const TEXT_LIMIT: usize = 2000;

/// What a job that missed the window dies with.
pub const OUTSIDE_WINDOW: &str = "outside Messenger's reply window";

/// How an answer may be sent, given when the citizen last wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Within 24 hours: `messaging_type: RESPONSE`.
    Response,
    /// Within 7 days, with the page's Human Agent feature: `MESSAGE_TAG` + `HUMAN_AGENT`.
    HumanAgent,
    /// Too late: Meta would refuse it; the citizen must be called back.
    Closed,
}

impl Window {
    /// The window at `now` for a citizen who last wrote at `last_citizen_at`.
    pub fn at(last_citizen_at: DateTime<Utc>, now: DateTime<Utc>, human_agent_tag: bool) -> Window {
        let since = now - last_citizen_at;
        if since <= Span::hours(24) {
            Window::Response
        } else if human_agent_tag && since <= Span::days(7) {
            Window::HumanAgent
        } else {
            Window::Closed
        }
    }
}

/// The Send API's body for one text.
pub fn body(recipient: &str, text: &str, window: Window) -> Value {
    match window {
        Window::HumanAgent => json!({
            "recipient": { "id": recipient },
            "messaging_type": "MESSAGE_TAG",
            "tag": "HUMAN_AGENT",
            "message": { "text": text },
        }),
        _ => json!({
            "recipient": { "id": recipient },
            "messaging_type": "RESPONSE",
            "message": { "text": text },
        }),
    }
}

/// Cuts `text` into parts of at most `limit` characters, at a paragraph, a line, a
/// sentence, a clause or a word when one falls in the second half of the part; in the middle
/// of a word only when nothing else does.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((window_end, _)) = rest.char_indices().nth(limit) else {
            parts.push(rest.to_owned());
            break;
        };
        let window = &rest[..window_end];
        let half = window.len() / 2;
        let cut = ["\n\n", "\n", ". ", "! ", "? ", "… ", "; ", ", ", " "]
            .iter()
            .find_map(|sep| {
                window
                    .rfind(sep)
                    .map(|at| at + sep.len())
                    .filter(|at| *at > half)
            })
            .unwrap_or(window_end);
        let part = rest[..cut].trim_end();
        if !part.is_empty() {
            parts.push(part.to_owned());
        }
        rest = rest[cut..].trim_start();
    }
    parts
}

/// Meta's error codes that mean "too many requests, later".
const RATE_LIMITED: [i64; 5] = [4, 17, 32, 613, 80006];

/// How long to wait after a rate limit, Meta giving no figure.
const RATE_LIMIT_WAIT_SECS: u64 = 60;

/// Meta's answer outside 2xx as a delivery error: rate limits (613, 4, 17, 32, 80006) and
/// server errors are transient; the closed window (10/2018278), an unavailable person (551),
/// a conversation another app controls (10/2018300) and any other 4xx are permanent. The
/// message is Meta's, never the request (which holds the token).
pub fn refusal(status: u16, retry_after_header: Option<u64>, body: &str) -> DeliveryError {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let error = json.as_ref().map(|v| &v["error"]);
    let code = error.and_then(|e| e["code"].as_i64());
    let subcode = error.and_then(|e| e["error_subcode"].as_i64());
    let said: Option<String> = error
        .and_then(|e| e["message"].as_str())
        .map(|m| m.chars().take(200).collect());
    let (message, permanent, retry_after) = match (code, subcode) {
        (Some(c), _) if RATE_LIMITED.contains(&c) => (
            "Meta's rate limit: later".to_owned(),
            false,
            Some(retry_after_header.unwrap_or(RATE_LIMIT_WAIT_SECS)),
        ),
        (Some(10), Some(2_018_278)) => (OUTSIDE_WINDOW.to_owned(), true, None),
        (Some(10), Some(2_018_300)) => (
            "another app controls this conversation (Messenger's handover protocol)".to_owned(),
            true,
            None,
        ),
        (Some(551), _) => (
            "this person is not available on Messenger".to_owned(),
            true,
            None,
        ),
        _ if status >= 500 || status == 408 || status == 429 => (
            said.clone()
                .unwrap_or_else(|| "Meta did not take it".into()),
            false,
            retry_after_header,
        ),
        _ => (
            said.clone().unwrap_or_else(|| "Meta refused it".into()),
            true,
            None,
        ),
    };
    let errors = match (code, said) {
        (Some(c), Some(m)) => vec![RemoteError {
            code: match subcode {
                Some(s) => format!("{c}/{s}"),
                None => c.to_string(),
            },
            description: m,
        }],
        _ => Vec::new(),
    };
    DeliveryError {
        status: Some(status),
        message,
        errors,
        permanent,
        retry_after_secs: retry_after,
    }
}

/// The page's Send API.
pub struct SendApi {
    client: reqwest::Client,
    /// `{graph_url}/{api_version}/{page_id}/messages`, without the token.
    url: String,
    token: Secret,
    limiter: DefaultDirectRateLimiter,
    human_agent_tag: bool,
}

impl fmt::Debug for SendApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendApi")
            .field("url", &self.url)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl SendApi {
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(settings: &MessengerSettings, timeout: Duration) -> anyhow::Result<SendApi> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("guichet/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("the Messenger HTTP client could not be built")?;
        let rate = NonZeroU32::new(settings.rate_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        Ok(SendApi {
            client,
            url: format!(
                "{}/{}/{}/messages",
                settings.graph_url(),
                settings.api_version.trim(),
                settings.page_id.trim()
            ),
            token: settings.page_token.clone(),
            limiter: RateLimiter::direct(Quota::per_second(rate)),
            human_agent_tag: settings.human_agent_tag,
        })
    }

    pub fn human_agent_tag(&self) -> bool {
        self.human_agent_tag
    }

    /// Sends one text; the message id Meta gave it.
    ///
    /// # Errors
    /// Meta refused it or did not answer, as [`refusal`] maps it.
    pub async fn send(
        &self,
        recipient: &str,
        text: &str,
        window: Window,
    ) -> Result<Option<String>, DeliveryError> {
        self.limiter.until_ready().await;
        let response = self
            .client
            .post(&self.url)
            .query(&[("access_token", self.token.expose())])
            .json(&body(recipient, text, window))
            .send()
            .await
            .map_err(|e| {
                // reqwest's message carries the URL, and with it the token: keep the kind.
                DeliveryError::transient(if e.is_timeout() {
                    "no answer from Meta before the timeout"
                } else if e.is_connect() {
                    "could not connect to Meta"
                } else {
                    "the request to Meta failed"
                })
            })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(refusal(status.as_u16(), retry_after, &text));
        }
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(answer["message_id"].as_str().map(str::to_owned))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hours: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 16, 9, 0, 0).unwrap() + Span::hours(hours)
    }

    #[test]
    fn the_window_is_24_hours_or_7_days_with_the_human_agent_tag() {
        assert_eq!(Window::at(at(0), at(24), false), Window::Response);
        assert_eq!(Window::at(at(0), at(30), false), Window::Closed);
        assert_eq!(Window::at(at(0), at(30), true), Window::HumanAgent);
        assert_eq!(Window::at(at(0), at(7 * 24), true), Window::HumanAgent);
        assert_eq!(Window::at(at(0), at(8 * 24), true), Window::Closed);
    }

    #[test]
    fn the_body_says_response_or_the_human_agent_tag() {
        let r = body("111", "Bonjour", Window::Response);
        assert_eq!(r["messaging_type"], "RESPONSE");
        assert!(r.get("tag").is_none());
        assert_eq!(r["recipient"]["id"], "111");
        let h = body("111", "Bonjour", Window::HumanAgent);
        assert_eq!(h["messaging_type"], "MESSAGE_TAG");
        assert_eq!(h["tag"], "HUMAN_AGENT");
        assert_eq!(h["message"]["text"], "Bonjour");
    }

    #[test]
    fn a_long_text_is_cut_on_sentences_within_the_limit() {
        let sentence = "La collecte des ordures est reportée à jeudi. ";
        let text = sentence.repeat(70);
        let parts = split(&text, TEXT_LIMIT);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.chars().count() <= TEXT_LIMIT));
        assert!(parts[0].ends_with('.'));
        assert_eq!(parts.join(" "), text.trim());
        assert_eq!(split("court", TEXT_LIMIT), vec!["court".to_owned()]);
    }

    #[test]
    fn metas_errors_are_mapped_to_retry_or_give_up() {
        let err = |code: i64, sub: Option<i64>| {
            let mut e = json!({"error":{"message":"m","type":"OAuthException","code":code,"fbtrace_id":"A"}});
            if let Some(s) = sub {
                e["error"]["error_subcode"] = json!(s);
            }
            e.to_string()
        };
        let rate = refusal(400, None, &err(613, None));
        assert!(!rate.permanent);
        assert_eq!(rate.retry_after_secs, Some(RATE_LIMIT_WAIT_SECS));
        assert!(!refusal(400, Some(3), &err(4, None)).permanent);
        assert_eq!(
            refusal(400, Some(3), &err(80006, None)).retry_after_secs,
            Some(3)
        );
        let window = refusal(400, None, &err(10, Some(2_018_278)));
        assert!(window.permanent);
        assert_eq!(window.message, OUTSIDE_WINDOW);
        assert_eq!(window.errors[0].code, "10/2018278");
        assert!(refusal(400, None, &err(551, None)).permanent);
        assert!(refusal(400, None, &err(10, Some(2_018_300))).permanent);
        assert!(refusal(400, None, &err(100, None)).permanent);
        assert!(!refusal(500, None, "oops").permanent);
        assert!(!refusal(503, None, &err(2, None)).permanent);
    }
}
