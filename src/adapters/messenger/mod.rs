//! The Messenger adapter: citizens write to the city's Facebook page; Meta's webhook brings
//! their messages (and the answers agents type in Meta's Page inbox, as echoes), the Send API
//! carries guichet's words back.
//!
//! # Layout
//!
//! - [`webhook`] — the signature check, the verification handshake, and a delivery's events
//!   as values. Pure.
//! - [`send`] — the reply window, long texts cut into parts, Meta's errors mapped, and the
//!   Send API client. The only I/O here.
//! - [`Replies`] — the outbox's courier for [`Destination::Messenger`] jobs.
//!
//! The routes themselves (`/webhooks/messenger`) live in the HTTP adapter, which stores what
//! [`webhook::read`] returns through the pipeline. This adapter never touches the store and
//! never imports another adapter.
//!
//! [`Destination::Messenger`]: crate::domain::outbox::Destination::Messenger

pub mod routes;
pub mod send;
pub mod webhook;

use chrono::Utc;

use crate::domain::message::MessageKind;
use crate::domain::outbox::{Attempt, DeliveryError, Job};
use crate::forwarders::{BoxFuture, Courier};

use send::{SendApi, Window, OUTSIDE_WINDOW, TEXT_LIMIT};

/// The channel name of threads that come from Messenger.
pub const CHANNEL: &str = "messenger";

/// The agent named on answers typed in Meta's Page inbox.
pub const PAGE_INBOX: &str = "page inbox";

/// Delivers words to citizens through the Send API: the window decides the
/// `messaging_type` (the Human Agent tag only for an agent's answer) or that the answer can no longer be sent: the job dies with
/// [`OUTSIDE_WINDOW`], listed in the outbox and on the thread's audit for the coordinator to
/// call the citizen back). A long text goes in parts, in order; the parts already sent are
/// kept on the job ([`progress`]) so that a retry resumes after them. A part whose outcome
/// was lost (a timeout after Meta took it) may arrive twice: the Send API has no
/// idempotency key.
pub struct Replies(pub SendApi);

/// The progress of a job sent in parts: `parts:N` once N parts went out.
pub fn progress(sent: usize) -> String {
    format!("parts:{sent}")
}

/// The parts a job already sent, from its progress.
pub fn parts_sent(job: &Job) -> usize {
    job.ticket_id
        .as_deref()
        .and_then(|p| p.strip_prefix("parts:"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

impl Courier for Replies {
    fn attempt<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Attempt> {
        Box::pin(async move {
            let Some(reply) = job.reply_payload() else {
                return Attempt::Failed(DeliveryError::permanent(
                    "a Messenger job carries no message to send",
                ));
            };
            // Meta's Human Agent tag is for a person's answer, never for guichet's own words.
            let human = self.0.human_agent_tag() && reply.kind == MessageKind::Agent;
            let window = Window::at(reply.last_citizen_at, Utc::now(), human);
            if window == Window::Closed {
                return Attempt::Failed(DeliveryError::permanent(OUTSIDE_WINDOW));
            }
            let parts = send::split(&reply.text, TEXT_LIMIT);
            if parts.is_empty() {
                return Attempt::Failed(DeliveryError::permanent("the message is empty"));
            }
            let already = parts_sent(job);
            let mut last_mid = None;
            for (index, part) in parts.iter().enumerate().skip(already) {
                match self.0.send(&reply.recipient, part, window).await {
                    Ok(mid) => last_mid = mid,
                    Err(error) if index > already => {
                        return Attempt::Partly {
                            progress: progress(index),
                            error,
                        }
                    }
                    Err(error) => return Attempt::Failed(error),
                }
            }
            Attempt::Delivered {
                ticket_id: last_mid.or_else(|| job.ticket_id.clone()),
                token: None,
            }
        })
    }
}
