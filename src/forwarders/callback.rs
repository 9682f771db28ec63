//! The web channel's outgoing side: an answer for a web citizen POSTed as JSON to the site's
//! callback URL (`channels.web.callback_url`), the way Rasa's callback channel does it.
//!
//! `Idempotency-Key: <job id>` is the same on every attempt, so that the site shows an answer
//! once even when an attempt's outcome was lost. One attempt per call; the outbox retries.

use serde::Serialize;

use crate::domain::message::MessageKind;
use crate::domain::outbox::{Attempt, DeliveryError, Job};
use crate::domain::thread::ThreadId;

use super::IDEMPOTENCY_HEADER;

pub struct Callback {
    url: reqwest::Url,
}

/// The JSON body: what the site shows the citizen.
#[derive(Debug, Serialize)]
pub struct Body<'a> {
    pub idempotency_key: &'a str,
    pub thread_id: ThreadId,
    pub kind: MessageKind,
    pub channel: &'a str,
    /// The citizen's sender id (or token) on the web channel.
    pub sender: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<&'a str>,
    pub text: &'a str,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl Callback {
    /// # Errors
    /// The URL does not parse.
    pub fn new(url: &str) -> anyhow::Result<Callback> {
        Ok(Callback {
            url: url
                .trim()
                .parse()
                .map_err(|e| anyhow::anyhow!("channels.web.callback_url: {e}"))?,
        })
    }

    pub async fn attempt(&self, client: &reqwest::Client, job: &Job) -> Attempt {
        let Some(reply) = job.reply_payload() else {
            return Attempt::Failed(DeliveryError::permanent(
                "a web callback job carries no reply",
            ));
        };
        let body = Body {
            idempotency_key: job.id.as_str(),
            thread_id: reply.thread_id,
            kind: reply.kind,
            channel: &reply.channel,
            sender: &reply.recipient,
            agent: reply.agent.as_deref(),
            text: &reply.text,
            at: reply.at,
        };
        let sent = client
            .post(self.url.clone())
            .header(IDEMPOTENCY_HEADER, job.id.as_str())
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => Attempt::Delivered {
                ticket_id: None,
                token: None,
            },
            Ok(r) => Attempt::Failed(super::refused(r, &[]).await),
            Err(e) => Attempt::Failed(super::unreachable(&e)),
        }
    }
}
