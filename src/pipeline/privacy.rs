//! Citizens' data requests and the city's duties under Quebec's access-to-information act:
//! export everything held on one person, erase it, anonymise threads past the retention
//! period, track requests against their legal due date, keep the register of
//! confidentiality incidents and the journal of these actions.
//!
//! Each action on a person runs under that sender's lock, as messages do, so that no message
//! of theirs lands halfway through an export or an erasure.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::{detached, Pipeline, PipelineError};
use crate::domain::message::{Channel, MessageKind, Sender, StoredMessage};
use crate::domain::outbox::{Job, Payload};
use crate::domain::privacy::{
    self, DataRequest, IncidentFields, IncidentSource, JournalEntry, JournalKind, PrivacyIncident,
    RequestKind, EXPORT_SCHEMA, EXPORT_VERSION,
};
use crate::domain::sender::SenderRecord;
use crate::domain::thread::{AuditEvent, AuditKind, Thread, TicketRef};
use crate::domain::{Category, Language};
use crate::store::{Anonymisation, Held, Removed};

/// Writes to the requests and the register take their ids one at a time.
static REGISTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The document `guichet citizen export` writes: everything held on one person
/// (`docs/citizen-export.md` describes it field by field).
#[derive(Debug, Clone, Serialize)]
pub struct CitizenExport {
    pub schema: &'static str,
    pub version: u32,
    /// When the export was made, on whose request.
    pub requested_at: DateTime<Utc>,
    pub requested_by: String,
    pub city: String,
    pub channel: String,
    pub sender: String,
    /// Whether guichet holds anything on this person.
    pub held: bool,
    /// What the document holds, French first.
    pub summary: Summary,
    pub threads: Vec<ExportedThread>,
    /// Moderation: strikes, warning, block.
    pub moderation: Option<SenderRecord>,
    /// Deliveries still kept in the outbox (pending, followed or dead) for this person.
    pub outbox: Vec<ExportedJob>,
    /// The platforms' ids of their messages, kept to recognise a redelivery.
    pub platform_message_ids: Vec<String>,
    /// Their access and erasure requests.
    pub requests: Vec<DataRequest>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub fr: String,
    pub en: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedThread {
    pub reference: String,
    pub category: Category,
    pub language: Language,
    pub state: String,
    pub opened_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub abusive: bool,
    pub faq: Option<String>,
    /// Every message, in order: theirs (original text), guichet's acknowledgment and
    /// warnings, the agents' answers and internal notes.
    pub messages: Vec<StoredMessage>,
    pub audit: Vec<AuditEvent>,
    pub tickets: Vec<TicketRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedJob {
    pub id: String,
    pub destination: String,
    pub state: String,
    /// `ticket` (to customer service) or the reply's kind (`acknowledgment`, `agent`, …).
    pub kind: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub attempts: u32,
    pub last_error: Option<String>,
}

impl ExportedJob {
    fn of(job: &Job) -> ExportedJob {
        let (kind, text) = match &job.payload {
            Payload::Ticket(t) => ("ticket".to_owned(), t.text.clone()),
            Payload::Reply(r) => (kind_name(r.kind), r.text.clone()),
            // A digest names no citizen: it is never among a person's jobs.
            Payload::Digest(_) => ("digest".to_owned(), String::new()),
        };
        ExportedJob {
            id: job.id.to_string(),
            destination: job.destination.to_string(),
            state: job.state.to_string(),
            kind,
            text,
            created_at: job.created_at,
            delivered_at: job.delivered_at,
            attempts: job.attempts,
            last_error: job.last_error.as_ref().map(|e| e.to_string()),
        }
    }
}

fn kind_name(kind: MessageKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The export document of what the store holds on one person. Pure.
pub fn export_document(
    held: Held,
    channel: &Channel,
    sender: &Sender,
    city: &str,
    by: &str,
    now: DateTime<Utc>,
) -> CitizenExport {
    let threads: Vec<ExportedThread> = held
        .threads
        .into_iter()
        .map(|(t, messages, audit)| ExportedThread {
            reference: t.id.to_string(),
            category: t.category,
            language: t.language,
            state: t.state.to_string(),
            opened_at: t.opened_at,
            last_message_at: t.last_message_at,
            acknowledged_at: t.acknowledged_at,
            forwarded_at: t.forwarded_at,
            answered_at: t.answered_at,
            resolved_at: t.resolved_at,
            abusive: t.abusive,
            faq: t.faq,
            messages,
            audit,
            tickets: t.tickets,
        })
        .collect();
    let moderation = held.sender.filter(|r| *r != SenderRecord::default());
    let held_anything = !threads.is_empty()
        || moderation.is_some()
        || !held.platform_ids.is_empty()
        || !held.requests.is_empty();
    let messages: usize = threads.iter().map(|t| t.messages.len()).sum();
    let summary = if held_anything {
        Summary {
            fr: format!(
                "{city} détient {} conversation(s) et {messages} message(s) de cette personne sur le canal {channel}, avec leur historique.",
                threads.len()
            ),
            en: format!(
                "{city} holds {} conversation(s) and {messages} message(s) of this person on the {channel} channel, with their history.",
                threads.len()
            ),
        }
    } else {
        Summary {
            fr: format!(
                "{city} ne détient aucun renseignement sur cette personne dans guichet (canal {channel})."
            ),
            en: format!("{city} holds no information on this person in guichet ({channel} channel)."),
        }
    };
    CitizenExport {
        schema: EXPORT_SCHEMA,
        version: EXPORT_VERSION,
        requested_at: now,
        requested_by: by.to_owned(),
        city: city.to_owned(),
        channel: channel.to_string(),
        sender: sender.to_string(),
        held: held_anything,
        summary,
        threads,
        moderation,
        outbox: held.jobs.iter().map(ExportedJob::of).collect(),
        platform_message_ids: held.platform_ids,
        requests: held.requests,
    }
}

/// What an erasure did.
#[derive(Debug, Clone, Serialize)]
pub struct Erasure {
    pub erased_at: DateTime<Utc>,
    pub erased_by: String,
    #[serde(flatten)]
    pub removed: Removed,
}

/// One thread the retention purge anonymises (or would).
#[derive(Debug, Clone, Serialize)]
pub struct Purged {
    pub reference: String,
    pub channel: String,
    pub resolved_at: Option<DateTime<Utc>>,
    pub last_message_at: DateTime<Utc>,
}

/// What a purge did, or would do in a dry run.
#[derive(Debug, Clone, Serialize)]
pub struct Purge {
    pub dry_run: bool,
    pub resolved_days: u32,
    pub threads: Vec<Purged>,
    pub messages: usize,
    pub pending_jobs_cancelled: usize,
}

fn refuse(sender: &Sender) -> Result<(), PipelineError> {
    if privacy::is_person(sender) {
        Ok(())
    } else {
        Err(PipelineError::Job(format!(
            "\"{}\" stands for anonymised threads, not a person",
            privacy::ANONYMOUS
        )))
    }
}

fn journal(at: DateTime<Utc>, kind: JournalKind, actor: &str, detail: String) -> JournalEntry {
    JournalEntry {
        at,
        kind,
        actor: actor.to_owned(),
        detail,
    }
}

impl Pipeline {
    /// The city-local day of `now`.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.settings.city.timezone).date_naive()
    }

    /// Everything held on `sender` on `channel`, as the export document; the export is
    /// recorded under `by` on each of their threads' audit logs and in the journal.
    ///
    /// # Errors
    /// The anonymised placeholder as a sender, or the store failed.
    pub async fn export_citizen(
        self: &Arc<Self>,
        channel: &Channel,
        sender: &Sender,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<CitizenExport, PipelineError> {
        refuse(sender)?;
        let this = Arc::clone(self);
        let (channel, sender, by) = (channel.clone(), sender.clone(), by.to_owned());
        detached(async move {
            let _guard = this.lock(&channel, &sender).await;
            let threads = this.store.threads_of(&channel, &sender)?;
            let events: Vec<_> = threads
                .iter()
                .map(|t| {
                    let detail = "export on the citizen's request / à la demande du citoyen";
                    (t.id, AuditEvent::new(now, AuditKind::Exported, &by, detail))
                })
                .collect();
            let entry = journal(
                now,
                JournalKind::Export,
                &by,
                format!("{} thread(s)", threads.len()),
            );
            this.store.append_audit(&events, &entry).await?;
            let held = this.store.held(&channel, &sender)?;
            Ok(export_document(
                held,
                &channel,
                &sender,
                &this.settings.city.name,
                &by,
                now,
            ))
        })
        .await
    }

    /// Erases what is held on `sender` on `channel`: the text of every message of their
    /// threads, their identity and platform ids, their sender record, index and dedupe
    /// entries; their pending deliveries are cancelled. The threads stay, anonymised, so that
    /// reports count the same; each records the erasure under `by`, and the journal says
    /// who, when and how many threads. Their open erasure requests are closed.
    ///
    /// # Errors
    /// The anonymised placeholder as a sender, or the store failed (nothing changed).
    pub async fn erase_citizen(
        self: &Arc<Self>,
        channel: &Channel,
        sender: &Sender,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Erasure, PipelineError> {
        refuse(sender)?;
        let this = Arc::clone(self);
        let (channel, sender, by) = (channel.clone(), sender.clone(), by.to_owned());
        detached(async move {
            let _guard = this.lock(&channel, &sender).await;
            let _register = REGISTER.lock().await;
            let ids: Vec<_> = this
                .store
                .threads_of(&channel, &sender)?
                .iter()
                .map(|t| t.id)
                .collect();
            let event = |r: &Removed| {
                AuditEvent::new(
                    now,
                    AuditKind::Erased,
                    &by,
                    format!(
                        "on the citizen's request: {} thread(s), {} message(s), {} pending delivery(ies) cancelled",
                        r.threads, r.messages, r.pending_jobs_cancelled
                    ),
                )
            };
            let entry = |r: &Removed| {
                journal(
                    now,
                    JournalKind::Erasure,
                    &by,
                    format!(
                        "{} thread(s), {} message(s), {} pending delivery(ies) cancelled",
                        r.threads, r.messages, r.pending_jobs_cancelled
                    ),
                )
            };
            let removed = this
                .store
                .anonymise(Anonymisation {
                    threads: &ids,
                    party: Some((&channel, &sender)),
                    event: &event,
                    journal: Some(&entry),
                    closing: Some((&by, now)),
                })
                .await?;
            Ok(Erasure {
                erased_at: now,
                erased_by: by,
                removed,
            })
        })
        .await
    }

    /// Anonymises the resolved threads whose last message is older than
    /// `retention.resolved_days`; a dry run only says which. The purge is recorded in the
    /// journal and on each thread's audit log, which are kept.
    ///
    /// # Errors
    /// The store failed; the threads anonymised before the failure stay anonymised.
    pub async fn purge(
        self: &Arc<Self>,
        dry_run: bool,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<Purge, PipelineError> {
        let this = Arc::clone(self);
        let by = by.to_owned();
        detached(async move {
            let days = this.settings.retention.resolved_days;
            let due = {
                let store = this.store.clone();
                tokio::task::spawn_blocking(move || store.past_retention(days, now))
                    .await
                    .map_err(|e| PipelineError::Aborted(e.to_string()))??
            };
            let mut purge = Purge {
                dry_run,
                resolved_days: days,
                threads: Vec::new(),
                messages: 0,
                pending_jobs_cancelled: 0,
            };
            for t in due {
                if dry_run {
                    purge.messages += t.message_count as usize;
                    purge.threads.push(purged(&t));
                    continue;
                }
                let _guard = this.lock(&t.channel, &t.sender).await;
                // Read again under the lock: the citizen may have written since.
                let Some(current) = this.store.thread(t.id)? else {
                    continue;
                };
                if !privacy::past_retention(&current, days, now) {
                    continue;
                }
                let event = |_: &Removed| {
                    AuditEvent::new(
                        now,
                        AuditKind::Anonymised,
                        &by,
                        format!("retention: resolved, last message over {days} days ago"),
                    )
                };
                let removed = this
                    .store
                    .anonymise(Anonymisation {
                        threads: &[t.id],
                        party: None,
                        event: &event,
                        journal: None,
                        closing: None,
                    })
                    .await?;
                purge.messages += removed.messages;
                purge.pending_jobs_cancelled += removed.pending_jobs_cancelled;
                purge.threads.push(purged(&current));
            }
            if !dry_run {
                if !purge.threads.is_empty() {
                    let entry = journal(
                        now,
                        JournalKind::Purge,
                        &by,
                        format!(
                            "{} thread(s) past {days} days anonymised, {} message(s)",
                            purge.threads.len(),
                            purge.messages
                        ),
                    );
                    this.store.journal(&entry).await?;
                }
                this.store.set_last_purge(now).await?;
            }
            Ok(purge)
        })
        .await
    }

    /// When the retention purge last ran.
    ///
    /// # Errors
    /// The store failed.
    pub fn last_purge(&self) -> Result<Option<DateTime<Utc>>, PipelineError> {
        Ok(self.store.last_purge()?)
    }

    /// Records an access or erasure request received on `received_on` (default: today),
    /// due 20 calendar days later.
    ///
    /// # Errors
    /// A date in the future, the placeholder as a sender, or the store failed.
    pub async fn record_request(
        &self,
        channel: &Channel,
        sender: &Sender,
        kind: RequestKind,
        received_on: Option<NaiveDate>,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<DataRequest, PipelineError> {
        refuse(sender)?;
        let today = self.today(now);
        let received_on = received_on.unwrap_or(today);
        if received_on > today {
            return Err(PipelineError::Job(format!(
                "a request cannot be received on {received_on}, after today ({today})"
            )));
        }
        let _register = REGISTER.lock().await;
        let id = self.store.next_request_id()?;
        let request = DataRequest::new(
            id,
            channel.as_str(),
            sender.as_str(),
            kind,
            received_on,
            by,
            now,
        );
        let entry = journal(
            now,
            JournalKind::Request,
            by,
            format!("request {id} ({kind}), due {}", request.due()),
        );
        self.store.put_request(&request, &entry).await?;
        Ok(request)
    }

    /// Extends a request's deadline by 10 days, with the notice given to the citizen.
    ///
    /// # Errors
    /// Unknown, closed or already extended request, past its first deadline, or the store
    /// failed.
    pub async fn extend_request(
        &self,
        id: u64,
        notice: &str,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<DataRequest, PipelineError> {
        let _register = REGISTER.lock().await;
        let mut request = self.known_request(id)?;
        request
            .extend(notice, by, self.today(now), now)
            .map_err(PipelineError::Job)?;
        let entry = journal(
            now,
            JournalKind::Extension,
            by,
            format!("request {id} extended to {}", request.due()),
        );
        self.store.put_request(&request, &entry).await?;
        Ok(request)
    }

    /// Records that a request was answered.
    ///
    /// # Errors
    /// Unknown or closed request, or the store failed.
    pub async fn close_request(
        &self,
        id: u64,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<DataRequest, PipelineError> {
        let _register = REGISTER.lock().await;
        let mut request = self.known_request(id)?;
        request.close(by, now).map_err(PipelineError::Job)?;
        let entry = journal(
            now,
            JournalKind::RequestClosed,
            by,
            format!("request {id} answered"),
        );
        self.store.put_request(&request, &entry).await?;
        Ok(request)
    }

    fn known_request(&self, id: u64) -> Result<DataRequest, PipelineError> {
        self.store
            .request(id)?
            .ok_or_else(|| PipelineError::NotFound(format!("there is no request {id}")))
    }

    /// The requests, oldest first; only the open ones with `open_only`.
    ///
    /// # Errors
    /// The store failed.
    pub fn requests(&self, open_only: bool) -> Result<Vec<DataRequest>, PipelineError> {
        let mut out = self.store.requests()?;
        out.retain(|r| !open_only || r.is_open());
        Ok(out)
    }

    /// Open requests due within `days` calendar days of today (late ones included), soonest
    /// due first: what the desk and the daily digest show.
    ///
    /// # Errors
    /// The store failed.
    pub fn requests_nearing(
        &self,
        days: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<DataRequest>, PipelineError> {
        let today = self.today(now);
        let mut out = self.store.requests()?;
        out.retain(|r| r.nearing(today, days));
        out.sort_by_key(|r| (r.due(), r.id));
        Ok(out)
    }

    /// Adds an entry to the register of confidentiality incidents.
    ///
    /// # Errors
    /// A missing field or a bad date, or the store failed.
    pub async fn add_incident(
        &self,
        fields: IncidentFields,
        source: IncidentSource,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<PrivacyIncident, PipelineError> {
        let _register = REGISTER.lock().await;
        let id = self.store.next_incident_id()?;
        let incident = fields
            .parse(id, source, by, self.today(now), now)
            .map_err(PipelineError::Invalid)?;
        let entry = journal(
            now,
            JournalKind::Incident,
            by,
            format!("incident {id} recorded"),
        );
        self.store.put_incident(&incident, &entry).await?;
        Ok(incident)
    }

    /// The register of confidentiality incidents, oldest first.
    ///
    /// # Errors
    /// The store failed.
    pub fn incidents(&self) -> Result<Vec<PrivacyIncident>, PipelineError> {
        Ok(self.store.incidents()?)
    }

    /// The journal of privacy actions (exports, erasures, purges, requests, incidents).
    ///
    /// # Errors
    /// The store failed.
    pub fn privacy_journal(&self) -> Result<Vec<JournalEntry>, PipelineError> {
        Ok(self.store.journal_entries()?)
    }

    /// At start-up, just after the store was opened: when the rewrite an erasure or a purge
    /// asked for could not be done, erased text is still in the store's files. That is
    /// recorded in the register of confidentiality incidents (once a day), and guichet runs.
    ///
    /// # Errors
    /// The store failed.
    pub async fn record_unfinished_rewrite(&self, now: DateTime<Utc>) -> Result<(), PipelineError> {
        if !self.store.rewrite_pending() {
            return Ok(());
        }
        self.add_incident_once(
            GuichetIncident {
                what: "the store could not be rewritten at start-up: the text of erased or anonymised messages remains in its files (see the log for the cause) / le stockage n'a pu être réécrit au démarrage : le texte effacé demeure dans ses fichiers".into(),
                data: "text of erased or anonymised messages, in the store's files on this machine / texte de messages effacés, dans les fichiers du stockage",
                risk: "low: the files stay on the city's machine, unreadable through guichet / faible : fichiers sur le serveur de la ville, illisibles par guichet",
                measures: "fix the cause in the log and restart guichet, which rewrites the store / corriger la cause et redémarrer guichet".into(),
            },
            now,
        )
        .await
    }

    /// Adds guichet's own entry unless the same one was recorded within a day (a supervisor's
    /// restarts must not fill the register).
    async fn add_incident_once(
        &self,
        incident: GuichetIncident,
        now: DateTime<Utc>,
    ) -> Result<(), PipelineError> {
        let recent = self.store.incidents()?.into_iter().any(|i| {
            i.source == IncidentSource::Guichet
                && i.what == incident.what
                && now - i.recorded_at < chrono::Duration::hours(24)
        });
        if recent {
            return Ok(());
        }
        let fields = IncidentFields {
            what: Some(incident.what),
            when: Some(self.today(now).to_string()),
            known_on: None,
            data: Some(incident.data.into()),
            // Found before anything left: nobody's data went anywhere.
            people: Some(0),
            risk: Some(incident.risk.into()),
            serious: false,
            measures: Some(incident.measures),
            notifications: Some("none required / aucun avis requis".into()),
        };
        self.add_incident(fields, IncidentSource::Guichet, "guichet", now)
            .await?;
        Ok(())
    }

    /// Refuses to start when a destination that receives citizens' messages is configured
    /// without TLS on a host other than this machine, and records the refusal in the
    /// register of confidentiality incidents (once a day for the same cause, so that a
    /// supervisor's restarts do not fill it).
    ///
    /// # Errors
    /// The refusal, as a sentence; or the store failed.
    pub async fn refuse_plaintext_destinations(&self, now: DateTime<Utc>) -> anyhow::Result<()> {
        let Some((key, url)) = plaintext_destination(&self.settings) else {
            return Ok(());
        };
        let what = format!(
            "{key} ({url}) is a non-loopback host without TLS: citizens' messages would cross the network in clear. guichet refused to start; nothing was sent. / {key} désigne un hôte distant sans TLS : guichet a refusé de démarrer, rien n'a été transmis."
        );
        let incident = GuichetIncident {
            what,
            data: "messages of citizens, their identifiers on the platforms, agents' answers (none sent) / messages des citoyens, leurs identifiants, réponses des agents (aucun transmis)",
            risk: "no risk of serious injury: the start-up was refused before any delivery / aucun risque de préjudice sérieux : démarrage refusé avant tout envoi",
            measures: format!("start-up refused until {key} uses https / démarrage refusé tant que {key} n'utilise pas https"),
        };
        self.add_incident_once(incident, now).await?;
        anyhow::bail!(
            "{key} ({url}) would send citizens' messages without TLS to a host other than this machine: use https (recorded in the register of confidentiality incidents, `guichet privacy-incident list`)"
        )
    }
}

/// An incident guichet records itself, found before any data left.
struct GuichetIncident {
    what: String,
    data: &'static str,
    risk: &'static str,
    measures: String,
}

fn purged(t: &Thread) -> Purged {
    Purged {
        reference: t.id.to_string(),
        channel: t.channel.to_string(),
        resolved_at: t.resolved_at,
        last_message_at: t.last_message_at,
    }
}

/// The first configured destination of citizens' data that speaks plain HTTP to a host
/// other than this machine: its configuration key and its URL.
pub fn plaintext_destination(s: &crate::config::Settings) -> Option<(&'static str, String)> {
    let mut urls: Vec<(&'static str, String)> = vec![(
        "channels.web.callback_url",
        s.channels.web.callback_url.clone(),
    )];
    if let Some(w) = s.forwarders.webhook() {
        urls.push(("forwarders.webhook.url", w.url.clone()));
    }
    if let Some(o) = s.forwarders.open311() {
        urls.push(("forwarders.open311.base_url", o.base_url.clone()));
    }
    if !s.alerts.webhook_url.trim().is_empty() {
        urls.push(("alerts.webhook_url", s.alerts.webhook_url.clone()));
    }
    if s.channels.discord.enabled() {
        urls.push((
            "channels.discord.api_url",
            s.channels.discord.api_url().to_owned(),
        ));
    }
    if s.channels.messenger.enabled() {
        urls.push((
            "channels.messenger.graph_url",
            s.channels.messenger.graph_url().to_owned(),
        ));
    }
    urls.into_iter()
        .map(|(k, u)| (k, u.trim().to_owned()))
        .find(|(_, u)| !u.is_empty() && !private_or_tls(u))
}

/// `https`, or `http` to this machine (a loopback address or `localhost`).
fn private_or_tls(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        // Not a URL: the configuration's own checks refuse it.
        return true;
    };
    if parsed.scheme() != "http" {
        return true;
    }
    let host = parsed.host_str().unwrap_or("");
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_may_carry_citizens_messages() {
        assert!(private_or_tls("https://service.example.ca/hook"));
        assert!(private_or_tls("http://127.0.0.1:9000/hook"));
        assert!(private_or_tls("http://localhost:9000/hook"));
        assert!(private_or_tls("http://[::1]:9000/hook"));
        assert!(!private_or_tls("http://service.example.ca/hook"));
        assert!(!private_or_tls("http://10.0.0.5/hook"));
    }
}
