//! The webhook forwarder: a ticket POSTed as JSON, signed.
//!
//! Headers: `Idempotency-Key: <job id>` (the same on every attempt, so that the receiver can
//! recognise a redelivery) and `X-Guichet-Signature: sha256=<hex>`, the HMAC-SHA256 of the
//! exact body bytes with the configured secret. A 2xx answer delivers the ticket; a JSON body
//! with a `ticket_id` (string or number) gives the receiver's reference, kept on the thread.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::config::{Secret, WebhookSettings};
use crate::domain::outbox::{Attempt, DeliveryError, Job};
use crate::domain::thread::ThreadId;
use crate::domain::{Category, Language};

pub const SIGNATURE_HEADER: &str = "X-Guichet-Signature";
pub use super::IDEMPOTENCY_HEADER;

pub struct Webhook {
    url: reqwest::Url,
    secret: Secret,
    staff_url: String,
}

/// The JSON body: the ticket as customer service reads it.
#[derive(Debug, Serialize)]
pub struct Body<'a> {
    pub idempotency_key: &'a str,
    pub thread_id: ThreadId,
    /// The message's sequence number on the thread.
    pub message_seq: u32,
    pub category: Category,
    pub confidence: f32,
    pub language: Language,
    /// The copy agents see: insults masked.
    pub text: &'a str,
    pub masked: bool,
    /// The citizen's identity on their channel.
    pub sender: SenderIdentity<'a>,
    pub sent_at: chrono::DateTime<chrono::Utc>,
    pub due_at: chrono::DateTime<chrono::Utc>,
    pub needs_triage: bool,
    pub abusive: bool,
    /// A later message on a thread customer service already has.
    pub follow_up: bool,
    pub links: Links,
}

#[derive(Debug, Serialize)]
pub struct SenderIdentity<'a> {
    pub channel: &'a str,
    pub id: &'a str,
}

/// Where agents act on the thread in guichet's staff API.
#[derive(Debug, Serialize)]
pub struct Links {
    pub thread: String,
    pub replies: String,
    pub resolve: String,
}

impl Webhook {
    /// # Errors
    /// The URL does not parse.
    pub fn new(settings: &WebhookSettings, staff_url: String) -> anyhow::Result<Webhook> {
        Ok(Webhook {
            url: settings
                .url
                .trim()
                .parse()
                .map_err(|e| anyhow::anyhow!("forwarders.webhook.url: {e}"))?,
            secret: settings.secret.clone(),
            staff_url,
        })
    }

    /// The exact bytes sent for `job`: the same on every attempt.
    pub fn body(&self, job: &Job) -> Vec<u8> {
        let Some(t) = job.ticket() else {
            return Vec::new();
        };
        let thread = format!("{}/api/threads/{}", self.staff_url, t.thread_id);
        let body = Body {
            idempotency_key: job.id.as_str(),
            thread_id: t.thread_id,
            message_seq: t.seq,
            category: t.category,
            confidence: (t.confidence * 1000.0).round() / 1000.0,
            language: t.language,
            text: &t.text,
            masked: t.masked,
            sender: SenderIdentity {
                channel: &t.channel,
                id: &t.sender,
            },
            sent_at: t.sent_at,
            due_at: t.due_at,
            needs_triage: t.needs_triage,
            abusive: t.abusive,
            follow_up: t.follow_up,
            links: Links {
                replies: format!("{thread}/replies"),
                resolve: format!("{thread}/resolve"),
                thread,
            },
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }

    pub async fn attempt(&self, client: &reqwest::Client, job: &Job) -> Attempt {
        let body = self.body(job);
        let signature = sign(&self.secret, &body);
        let sent = client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, job.id.as_str())
            .header(SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Attempt::Failed(super::unreachable(&e)),
        };
        if !response.status().is_success() {
            return Attempt::Failed(super::refused(response, &[]).await);
        }
        let text = response.text().await.unwrap_or_default();
        let ticket_id = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| super::id_string(v.get("ticket_id")));
        Attempt::Delivered {
            ticket_id,
            token: None,
        }
    }
}

/// `sha256=<hex>` of the HMAC-SHA256 of `body` with `secret`.
pub fn sign(secret: &Secret, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature header against the body the way a receiver does (the comparison is
/// constant-time).
///
/// # Errors
/// The header is malformed or does not match.
pub fn verify(secret: &Secret, body: &[u8], header: &str) -> Result<(), DeliveryError> {
    let hex_part = header
        .strip_prefix("sha256=")
        .ok_or_else(|| DeliveryError::permanent("the signature is not sha256=<hex>"))?;
    let given =
        hex::decode(hex_part).map_err(|_| DeliveryError::permanent("the signature is not hex"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| DeliveryError::permanent("the signature does not match the body"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_sha256_of_the_body_in_hex() {
        // RFC 4231, test case 2.
        let secret = Secret::new("Jefe");
        assert_eq!(
            sign(&secret, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify(
            &secret,
            b"what do ya want for nothing?",
            &sign(&secret, b"what do ya want for nothing?")
        )
        .is_ok());
        assert!(verify(
            &secret,
            b"what do ya want for nothing!",
            &sign(&secret, b"what do ya want for nothing?")
        )
        .is_err());
        assert!(verify(&Secret::new("other"), b"x", &sign(&secret, b"x")).is_err());
    }
}
