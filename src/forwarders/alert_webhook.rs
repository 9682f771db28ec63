//! The alerts' webhook: each at-risk and overdue alert POSTed as JSON, signed like the
//! forwarder's tickets (`X-Guichet-Signature: sha256=<hex HMAC-SHA256 of the body>`, with
//! `GUICHET__ALERTS__WEBHOOK_SECRET`), with the job id as `Idempotency-Key`.

use crate::config::{DeskSettings, Secret, Settings};
use crate::domain::outbox::{Attempt, DeliveryError, Job};
use crate::notices::{self, AlertFacts};

use super::webhook::{sign, SIGNATURE_HEADER};
use super::IDEMPOTENCY_HEADER;

pub struct AlertWebhook {
    url: reqwest::Url,
    secret: Secret,
    desk: DeskSettings,
}

impl AlertWebhook {
    /// The webhook, when `[alerts] webhook_url` is set.
    ///
    /// # Errors
    /// The URL does not parse.
    pub fn new(settings: &Settings) -> anyhow::Result<Option<AlertWebhook>> {
        let url = settings.alerts.webhook_url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        Ok(Some(AlertWebhook {
            url: url
                .parse()
                .map_err(|e| anyhow::anyhow!("alerts.webhook_url: {e}"))?,
            secret: settings.alerts.webhook_secret.clone(),
            desk: settings.desk.clone(),
        }))
    }

    /// The exact bytes sent for `job`: the same on every attempt.
    ///
    /// # Errors
    /// The job carries no alert.
    pub fn body(&self, job: &Job) -> Result<Vec<u8>, DeliveryError> {
        let facts = job
            .reply_payload()
            .and_then(|r| AlertFacts::of(r, &self.desk))
            .ok_or_else(|| DeliveryError::permanent("an alert webhook job carries no alert"))?;
        Ok(notices::alert_json(job.id.as_str(), &facts)
            .to_string()
            .into_bytes())
    }

    pub async fn attempt(&self, client: &reqwest::Client, job: &Job) -> Attempt {
        let body = match self.body(job) {
            Ok(b) => b,
            Err(e) => return Attempt::Failed(e),
        };
        let sent = client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(IDEMPOTENCY_HEADER, job.id.as_str())
            .header(SIGNATURE_HEADER, sign(&self.secret, &body))
            .body(body)
            .send()
            .await;
        match sent {
            Err(e) => Attempt::Failed(super::unreachable(&e)),
            Ok(r) if r.status().is_success() => Attempt::Delivered {
                ticket_id: None,
                token: None,
            },
            Ok(r) => Attempt::Failed(super::refused(r, &[]).await),
        }
    }
}
