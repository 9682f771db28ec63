//! The e-mail courier: alerts and digests for staff, through the configured SMTP relay.
//!
//! lettre speaks SMTP, upgraded with STARTTLS (required: a relay that does not offer it is
//! refused) unless `smtp.starttls` is false, which configuration allows only for a relay on
//! loopback. Each message's `Message-ID` is derived from its job, the same on every attempt,
//! so that a redelivery after an attempt whose outcome was lost (a connection cut after the
//! message's end) is the same message to the recipients' mail systems. A 4xx reply or a
//! connection failure is retried by the outbox; a 5xx reply kills the job (retry by hand).

use std::time::Duration;

use chrono_tz::Tz;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{DeskSettings, Settings};
use crate::domain::outbox::{Attempt, DeliveryError, Job};
use crate::notices::{self, AlertFacts, Mail};

pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    alerts_to: Vec<Mailbox>,
    digest_to: Vec<Mailbox>,
    tz: Tz,
    desk: DeskSettings,
}

fn mailboxes(list: &[String]) -> anyhow::Result<Vec<Mailbox>> {
    list.iter()
        .map(|a| {
            a.trim()
                .parse()
                .map_err(|e| anyhow::anyhow!("\"{a}\" is not an e-mail address: {e}"))
        })
        .collect()
}

impl Email {
    /// The courier, when e-mail is configured (a relay, and someone to write to).
    ///
    /// # Errors
    /// An address does not parse, or the relay's TLS settings cannot be built.
    pub fn new(settings: &Settings) -> anyhow::Result<Option<Email>> {
        let smtp = &settings.smtp;
        let host = smtp.host.trim();
        if host.is_empty()
            || (settings.alerts.email_to.is_empty() && settings.digest.email_to.is_empty())
        {
            return Ok(None);
        }
        let builder = if smtp.starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| anyhow::anyhow!("smtp.host \"{host}\": {e}"))?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        };
        let mut builder = builder.port(smtp.port).timeout(Some(Duration::from_secs(
            settings.outbox.request_timeout_seconds,
        )));
        if !smtp.username.trim().is_empty() {
            builder = builder.credentials(Credentials::new(
                smtp.username.trim().to_owned(),
                smtp.password.expose().to_owned(),
            ));
        }
        Ok(Some(Email {
            transport: builder.build(),
            from: smtp
                .from
                .trim()
                .parse()
                .map_err(|e| anyhow::anyhow!("smtp.from: {e}"))?,
            alerts_to: mailboxes(&settings.alerts.email_to)?,
            digest_to: mailboxes(&settings.digest.email_to)?,
            tz: settings.city.timezone,
            desk: settings.desk.clone(),
        }))
    }

    /// What `job` sends, and to whom.
    fn mail(&self, job: &Job) -> Result<(Mail, &[Mailbox]), DeliveryError> {
        if let Some(digest) = job.digest_payload() {
            return Ok((
                notices::digest_mail(digest, self.tz, &self.desk),
                &self.digest_to,
            ));
        }
        let facts = job
            .reply_payload()
            .and_then(|r| AlertFacts::of(r, &self.desk))
            .ok_or_else(|| DeliveryError::permanent("an e-mail job carries no alert nor digest"))?;
        Ok((notices::alert_mail(&facts, self.tz), &self.alerts_to))
    }

    /// The message for `job`, its `Message-ID` derived from the job.
    ///
    /// # Errors
    /// No recipient is configured for it any more, or the message cannot be built.
    pub fn message(&self, job: &Job) -> Result<Message, DeliveryError> {
        let (mail, to) = self.mail(job)?;
        if to.is_empty() {
            return Err(DeliveryError::permanent(
                "no e-mail address is configured for this job any more",
            ));
        }
        let domain = self.from.email.domain().to_owned();
        let mut builder = Message::builder()
            .from(self.from.clone())
            .message_id(Some(format!("<{}@{domain}>", job.id)))
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN);
        for mailbox in to {
            builder = builder.to(mailbox.clone());
        }
        builder
            .body(mail.body)
            .map_err(|e| DeliveryError::permanent(format!("the e-mail cannot be built: {e}")))
    }

    pub async fn attempt(&self, job: &Job) -> Attempt {
        let message = match self.message(job) {
            Ok(m) => m,
            Err(e) => return Attempt::Failed(e),
        };
        match self.transport.send(message).await {
            Ok(_) => Attempt::Delivered {
                ticket_id: None,
                token: None,
            },
            Err(e) => Attempt::Failed(refused(&e)),
        }
    }
}

/// A 5xx reply is permanent; a 4xx, a timeout, a refused connection or a TLS failure may
/// pass with time.
fn refused(e: &lettre::transport::smtp::Error) -> DeliveryError {
    let code = e.status().map(|c| c.to_string());
    let what = match &code {
        Some(c) => format!("the mail relay answered {c}"),
        None if e.is_timeout() => "the mail relay did not answer before the timeout".to_owned(),
        None if e.is_tls() => "the TLS handshake with the mail relay failed".to_owned(),
        None => "the mail relay could not be reached".to_owned(),
    };
    let message = format!(
        "{what}: {}",
        e.to_string().chars().take(200).collect::<String>()
    );
    if e.is_permanent() {
        DeliveryError::permanent(message)
    } else {
        DeliveryError::transient(message)
    }
}
