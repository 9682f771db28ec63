//! The outbox's jobs: everything guichet sends — a ticket for customer service, or a word for
//! a citizen on their channel — bound for one destination, its retry schedule, and what each
//! delivery attempt does to it.
//!
//! A job is created in the same write as its cause (the citizen's message, the agent's
//! answer) and carries a snapshot of what it sends, so that every attempt sends the same
//! thing under the same idempotency key. Pure: attempts, backoff and death take `now` and the jitter as
//! parameters; the outbox worker does the I/O.
//!
//! ```text
//!  pending ──► (delivered) ──► done
//!     │  ▲          └─► tracking (Open311: token, then status polls) ──► done (closed)
//!     ▼  │ retry by hand
//!    dead
//! ```

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::message::MessageKind;
use super::thread::{Alerted, ThreadId};
use super::{Category, Language};

/// Where a job goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    /// A customer-service system that takes a signed JSON POST.
    Webhook,
    /// A 311 system speaking Open311 GeoReport v2.
    Open311,
    /// A web citizen, through the site's callback URL.
    Web,
    /// A Discord citizen, in their direct messages.
    Discord,
    /// A Messenger citizen, through the page's Send API.
    Messenger,
    /// The agents' side on Discord: the thread's post in the staff forum.
    Forum,
    /// The coordinator's alerts channel on Discord.
    Alerts,
    /// Staff's e-mail: at-risk and overdue alerts (`[alerts] email_to`) and the daily digest
    /// (`[digest] email_to`).
    Email,
    /// The alerts' webhook (`[alerts] webhook_url`), signed like the forwarder's.
    AlertWebhook,
}

impl Destination {
    pub const ALL: [Destination; 9] = [
        Destination::Webhook,
        Destination::Open311,
        Destination::Web,
        Destination::Discord,
        Destination::Messenger,
        Destination::Forum,
        Destination::Alerts,
        Destination::Email,
        Destination::AlertWebhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Destination::Webhook => "webhook",
            Destination::Open311 => "open311",
            Destination::Web => "web",
            Destination::Discord => "discord",
            Destination::Messenger => "messenger",
            Destination::Forum => "forum",
            Destination::Alerts => "alerts",
            Destination::Email => "email",
            Destination::AlertWebhook => "alert_webhook",
        }
    }

    /// Where a citizen of `channel` is answered, for the channels guichet can write to.
    pub fn citizen(channel: &str) -> Option<Destination> {
        match channel {
            "web" => Some(Destination::Web),
            "discord" => Some(Destination::Discord),
            "messenger" => Some(Destination::Messenger),
            _ => None,
        }
    }

    /// Customer-service systems, which take tickets; the others take replies.
    pub fn takes_tickets(self) -> bool {
        matches!(self, Destination::Webhook | Destination::Open311)
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job's identity, which is also its idempotency key: `G-000042-3-webhook` for the
/// thread, the sequence number of the message on it (of the audit event, for an alert), and
/// the destination. Stable across retries and restarts, so a receiver can recognise a
/// delivery it already took. A daily digest belongs to no thread: `D20261117-0-email` is the
/// first digest of that city-local day for that destination.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(String);

impl JobId {
    pub fn new(thread: ThreadId, seq: u32, destination: Destination) -> JobId {
        JobId(format!("{thread}-{seq}-{destination}"))
    }

    /// The `seq`-th digest of the city-local `day` bound for `destination`.
    pub fn digest(day: NaiveDate, seq: u32, destination: Destination) -> JobId {
        JobId(format!("D{}-{seq}-{destination}", day.format("%Y%m%d")))
    }

    /// Accepts what [`JobId::new`] produces (the thread part in any form `ThreadId::parse`
    /// accepts is normalised).
    ///
    /// # Errors
    /// Anything else, as a sentence.
    pub fn parse(raw: &str) -> Result<JobId, String> {
        let s = raw.trim();
        let bad = || {
            format!(
                "\"{}\" is not an outbox job id such as G-000042-3-webhook",
                s.chars().take(60).collect::<String>()
            )
        };
        let (rest, destination) = s.rsplit_once('-').ok_or_else(bad)?;
        let destination = Destination::ALL
            .into_iter()
            .find(|d| d.as_str() == destination)
            .ok_or_else(bad)?;
        let (owner, seq) = rest.rsplit_once('-').ok_or_else(bad)?;
        let seq: u32 = seq.parse().map_err(|_| bad())?;
        if let Some(day) = digest_day(owner) {
            return Ok(JobId::digest(day, seq, destination));
        }
        let thread = ThreadId::parse(owner).map_err(|_| bad())?;
        Ok(JobId::new(thread, seq, destination))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The thread the job belongs to (none for a digest).
    pub fn thread_id(&self) -> Option<ThreadId> {
        let (rest, _) = self.0.rsplit_once('-')?;
        let (thread, _) = rest.rsplit_once('-')?;
        ThreadId::parse(thread).ok()
    }

    /// The day of a digest's job.
    pub fn digest_day(&self) -> Option<NaiveDate> {
        let (owner, _) = self.0.split_once('-')?;
        digest_day(owner)
    }
}

/// `D20261117` → the day.
fn digest_day(owner: &str) -> Option<NaiveDate> {
    let digits = owner
        .strip_prefix('D')
        .or_else(|| owner.strip_prefix('d'))?;
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDate::parse_from_str(digits, "%Y%m%d").ok()
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What customer service receives: a snapshot taken when the message was forwarded. Carries
/// the copy agents see (insults masked), never the original of a masked message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub thread_id: ThreadId,
    /// The message's sequence number on the thread.
    pub seq: u32,
    pub category: Category,
    pub confidence: f32,
    pub language: Language,
    /// The agents' copy of the message.
    pub text: String,
    /// Moderation masked something in `text`.
    pub masked: bool,
    pub channel: String,
    pub sender: String,
    /// The platform time of the message.
    pub sent_at: DateTime<Utc>,
    /// When the city's answer is due.
    pub due_at: DateTime<Utc>,
    pub needs_triage: bool,
    pub abusive: bool,
    /// A later message on a thread already in customer service's hands.
    pub follow_up: bool,
}

/// A word for a citizen (or a post for the agents), as it will be sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub thread_id: ThreadId,
    /// The sequence number of the message it sends, on the thread.
    pub seq: u32,
    /// acknowledgment, warning, agent (or citizen, for a message relayed to the agents).
    pub kind: MessageKind,
    pub channel: String,
    /// The citizen's id on their channel.
    pub recipient: String,
    pub text: String,
    pub language: Language,
    /// The agent who answered, for an agent's answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// When the citizen last wrote: platforms limit how long after it a page may answer.
    pub last_citizen_at: DateTime<Utc>,
    /// When the message was written (the agent's answer, guichet's acknowledgment).
    pub at: DateTime<Utc>,
    /// For the agents' forum: what the post shows besides the text (the first message of a
    /// forwarded thread opens the post; later ones are appended to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post: Option<PostInfo>,
    /// The thread's post in the agents' forum, when known when the job was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_id: Option<String>,
    /// For the alerts channel: which alert (at risk, overdue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<Alerted>,
}

/// The triage shown on the agents' forum post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostInfo {
    /// This message opens the thread's post (later ones are appended to it).
    #[serde(default)]
    pub opens: bool,
    pub category: Category,
    pub confidence: f32,
    /// The classifier's reasons, as staff may read them.
    pub reasons: String,
    pub due_at: DateTime<Utc>,
    pub needs_triage: bool,
    pub abusive: bool,
}

/// What a job sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Payload {
    Ticket(Ticket),
    Reply(Reply),
    /// The daily digest (tried last: its fields are unlike the others').
    Digest(Digest),
}

impl Payload {
    /// The thread the job belongs to (none for a digest).
    pub fn thread_id(&self) -> Option<ThreadId> {
        match self {
            Payload::Ticket(t) => Some(t.thread_id),
            Payload::Reply(r) => Some(r.thread_id),
            Payload::Digest(_) => None,
        }
    }

    fn job_id(&self, destination: Destination) -> JobId {
        match self {
            Payload::Ticket(t) => JobId::new(t.thread_id, t.seq, destination),
            Payload::Reply(r) => JobId::new(r.thread_id, r.seq, destination),
            Payload::Digest(d) => JobId::digest(d.day, d.seq, destination),
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Not delivered yet; the worker tries at `next_attempt_at`.
    Pending,
    /// Delivered; guichet follows the request in the remote system (Open311).
    Tracking,
    /// Gave up: kept for the coordinator, who can retry it by hand.
    Dead,
    /// Nothing left to do; the store forgets the job.
    Done,
}

impl JobState {
    pub const LISTED: [JobState; 3] = [JobState::Pending, JobState::Tracking, JobState::Dead];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Tracking => "tracking",
            JobState::Dead => "dead",
            JobState::Done => "done",
        }
    }

    /// A stable byte for the store's state index.
    pub fn code(self) -> u8 {
        match self {
            JobState::Pending => 1,
            JobState::Tracking => 2,
            JobState::Dead => 3,
            JobState::Done => 4,
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the next attempt does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum Phase {
    /// Send the ticket.
    Deliver,
    /// A batch 311 service answered with a token: ask for the request id it became.
    Token { token: String },
    /// Poll the 311 request until it is closed.
    Track { request_id: String },
}

/// One error reported by the remote system (Open311's `[{code, description}]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteError {
    pub code: String,
    pub description: String,
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryError {
    /// The HTTP status, when the remote system answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RemoteError>,
    /// Retrying the same request cannot succeed (bad key, unknown service): the job dies at
    /// once, to be retried by hand once the cause is fixed.
    #[serde(default)]
    pub permanent: bool,
    /// The remote system asked to wait this long (`Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl DeliveryError {
    pub fn transient(message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            status: None,
            message: message.into(),
            errors: Vec::new(),
            permanent: false,
            retry_after_secs: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> DeliveryError {
        DeliveryError {
            permanent: true,
            ..DeliveryError::transient(message)
        }
    }
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = self.status {
            write!(f, "HTTP {s}: ")?;
        }
        f.write_str(&self.message)?;
        for e in &self.errors {
            write!(f, "; [{}] {}", e.code, e.description)?;
        }
        Ok(())
    }
}

/// What one attempt achieved, as the forwarder reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// The ticket was taken. `ticket_id` is the receiver's reference (a webhook's
    /// `ticket_id`, Open311's `service_request_id`); `token` a batch 311 service's token.
    Delivered {
        ticket_id: Option<String>,
        token: Option<String>,
    },
    /// The token became this request id.
    TokenResolved {
        request_id: String,
    },
    /// Nothing new: the token is not resolved yet, or the request is still open.
    NotYet,
    /// The 311 system closed the request.
    Closed {
        notes: Option<String>,
    },
    Failed(DeliveryError),
    /// A message sent in parts (a platform's length limit) got only some of them through:
    /// `progress` is kept on the job (as its `ticket_id`), so that the next attempt resumes
    /// after the parts already sent instead of sending them twice.
    Partly {
        progress: String,
        error: DeliveryError,
    },
}

/// Retry parameters (from `[outbox]`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// The wait after the first failure; it doubles with each failure.
    pub initial: Duration,
    /// The longest wait between two attempts.
    pub max: Duration,
    /// After this many failed attempts the job is dead.
    pub max_attempts: u32,
    /// A job still failing this long after it was queued (or retried by hand) is dead.
    pub max_age: Duration,
    /// Between two polls of a token or a 311 request.
    pub poll: Duration,
    /// A 311 request followed this long without closing is no longer followed.
    pub track_for: Duration,
}

impl RetryPolicy {
    /// The wait after `failures` consecutive failures (1 for the first): `initial` doubled
    /// each time, capped at `max`, then jittered down by up to half ("equal jitter"), so that
    /// jobs failing together do not all come back together. `jitter` is in [0, 1].
    pub fn backoff(&self, failures: u32, jitter: f64) -> Duration {
        let exponent = failures.saturating_sub(1).min(30);
        let initial = self.initial.num_milliseconds().max(1);
        let capped = initial
            .saturating_mul(1_i64 << exponent)
            .min(self.max.num_milliseconds().max(1));
        let jitter = jitter.clamp(0.0, 1.0);
        let ms = (capped as f64 / 2.0) * (1.0 + jitter);
        Duration::milliseconds(ms.round() as i64)
    }

    /// The job gives up: too many failures, or failing for too long.
    pub fn is_dead(&self, job: &Job, now: DateTime<Utc>) -> bool {
        job.attempts >= self.max_attempts || now - job.since >= self.max_age
    }
}

/// A forwarding job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub destination: Destination,
    /// Stored as `ticket` by the first versions, which only forwarded tickets.
    #[serde(alias = "ticket")]
    pub payload: Payload,
    pub state: JobState,
    pub phase: Phase,
    pub created_at: DateTime<Utc>,
    /// Start of the current attempt window: creation, a phase change, or a retry by hand.
    pub since: DateTime<Utc>,
    /// Failed attempts in the current window.
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    #[serde(default)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub last_error: Option<DeliveryError>,
    #[serde(default)]
    pub delivered_at: Option<DateTime<Utc>>,
    /// The receiver's reference for the ticket, once known.
    #[serde(default)]
    pub ticket_id: Option<String>,
}

/// What applying an attempt did, for the thread's audit log and the metrics.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    Delivered {
        ticket_id: Option<String>,
    },
    /// A batch 311 service gave a token; the request id comes later.
    Batched {
        token: String,
    },
    TokenResolved {
        request_id: String,
    },
    /// The remote system closed the request: the thread is resolved.
    Closed {
        notes: Option<String>,
    },
    /// The request is no longer followed (`track_for` elapsed).
    Untracked,
    /// Still waiting for the token or for the request to close.
    Waiting,
    Failed {
        error: DeliveryError,
        retry_at: DateTime<Utc>,
    },
    Dead {
        error: DeliveryError,
    },
}

impl Job {
    /// A new job for a ticket, due at once.
    pub fn new(destination: Destination, ticket: Ticket, now: DateTime<Utc>) -> Job {
        Job::sending(destination, Payload::Ticket(ticket), now)
    }

    /// A new job for a reply, due at once.
    pub fn reply(destination: Destination, reply: Reply, now: DateTime<Utc>) -> Job {
        Job::sending(destination, Payload::Reply(reply), now)
    }

    /// A new job for a digest, due at once.
    pub fn digest(destination: Destination, digest: Digest, now: DateTime<Utc>) -> Job {
        Job::sending(destination, Payload::Digest(digest), now)
    }

    fn sending(destination: Destination, payload: Payload, now: DateTime<Utc>) -> Job {
        Job {
            id: payload.job_id(destination),
            destination,
            payload,
            state: JobState::Pending,
            phase: Phase::Deliver,
            created_at: now,
            since: now,
            attempts: 0,
            next_attempt_at: now,
            last_attempt_at: None,
            last_error: None,
            delivered_at: None,
            ticket_id: None,
        }
    }

    /// The thread the job belongs to (none for a digest).
    pub fn thread_id(&self) -> Option<ThreadId> {
        self.payload.thread_id()
    }

    /// The ticket, for a job bound for a customer-service system.
    pub fn ticket(&self) -> Option<&Ticket> {
        match &self.payload {
            Payload::Ticket(t) => Some(t),
            _ => None,
        }
    }

    /// The reply, for a job bound for a citizen (or the agents' forum, or an alert).
    pub fn reply_payload(&self) -> Option<&Reply> {
        match &self.payload {
            Payload::Reply(r) => Some(r),
            _ => None,
        }
    }

    /// The digest, for a digest's job.
    pub fn digest_payload(&self) -> Option<&Digest> {
        match &self.payload {
            Payload::Digest(d) => Some(d),
            _ => None,
        }
    }

    /// An alert for staff (at risk, overdue), not a word for a citizen or the agents.
    pub fn is_alert(&self) -> bool {
        self.reply_payload().is_some_and(|r| r.alert.is_some())
    }

    /// Applies the result of an attempt made at `now`. `jitter` in [0, 1] spreads retries.
    pub fn apply(
        &mut self,
        attempt: Attempt,
        now: DateTime<Utc>,
        policy: &RetryPolicy,
        jitter: f64,
    ) -> JobEvent {
        self.last_attempt_at = Some(now);
        match attempt {
            Attempt::Delivered { ticket_id, token } => {
                self.delivered_at = Some(now);
                self.last_error = None;
                self.ticket_id = ticket_id.clone();
                let next = match (&ticket_id, token) {
                    (_, Some(token)) if ticket_id.is_none() => Phase::Token { token },
                    (Some(id), _) if self.destination == Destination::Open311 => Phase::Track {
                        request_id: id.clone(),
                    },
                    _ => {
                        self.state = JobState::Done;
                        return JobEvent::Delivered { ticket_id };
                    }
                };
                let event = match &next {
                    Phase::Token { token } => JobEvent::Batched {
                        token: token.clone(),
                    },
                    _ => JobEvent::Delivered { ticket_id },
                };
                self.track(next, now, policy);
                event
            }
            Attempt::TokenResolved { request_id } => {
                self.ticket_id = Some(request_id.clone());
                self.last_error = None;
                self.track(
                    Phase::Track {
                        request_id: request_id.clone(),
                    },
                    now,
                    policy,
                );
                JobEvent::TokenResolved { request_id }
            }
            Attempt::NotYet => {
                self.attempts = 0;
                self.last_error = None;
                let tracked_since = self.delivered_at.unwrap_or(self.since);
                if now - tracked_since >= policy.track_for {
                    self.state = JobState::Done;
                    return JobEvent::Untracked;
                }
                self.next_attempt_at = now + policy.poll;
                JobEvent::Waiting
            }
            Attempt::Closed { notes } => {
                self.state = JobState::Done;
                self.last_error = None;
                JobEvent::Closed { notes }
            }
            Attempt::Partly { progress, error } => {
                self.ticket_id = Some(progress);
                self.apply(Attempt::Failed(error), now, policy, jitter)
            }
            Attempt::Failed(error) => {
                self.attempts += 1;
                self.last_error = Some(error.clone());
                if error.permanent || policy.is_dead(self, now) {
                    self.state = JobState::Dead;
                    return JobEvent::Dead { error };
                }
                let mut wait = policy.backoff(self.attempts, jitter);
                if let Some(secs) = error.retry_after_secs {
                    wait = wait.max(Duration::seconds(secs as i64).min(policy.max));
                }
                self.next_attempt_at = now + wait;
                JobEvent::Failed {
                    error,
                    retry_at: self.next_attempt_at,
                }
            }
        }
    }

    /// Delivered: follow the request from now on, polling.
    fn track(&mut self, phase: Phase, now: DateTime<Utc>, policy: &RetryPolicy) {
        self.phase = phase;
        self.state = JobState::Tracking;
        self.attempts = 0;
        self.since = now;
        self.next_attempt_at = now + policy.poll;
    }

    /// The coordinator asks for another try now: a dead job comes back to life with a fresh
    /// attempt window; a pending or tracking one is simply brought forward.
    ///
    /// # Errors
    /// The job is done.
    pub fn retry(&mut self, now: DateTime<Utc>) -> Result<(), String> {
        match self.state {
            JobState::Done => return Err(format!("job {} has nothing left to do", self.id)),
            JobState::Dead => {
                self.state = if self.phase == Phase::Deliver {
                    JobState::Pending
                } else {
                    JobState::Tracking
                };
                self.attempts = 0;
                self.since = now;
            }
            JobState::Pending | JobState::Tracking => {}
        }
        self.next_attempt_at = now;
        Ok(())
    }

    /// The job waits in the due index.
    pub fn is_queued(&self) -> bool {
        matches!(self.state, JobState::Pending | JobState::Tracking)
    }
}

impl JobEvent {
    /// Nothing happened that the thread's audit log should show.
    pub fn is_quiet(&self) -> bool {
        matches!(self, JobEvent::Waiting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 16, 9, 0, 0).unwrap() + Duration::seconds(s)
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            initial: Duration::seconds(2),
            max: Duration::seconds(60),
            max_attempts: 5,
            max_age: Duration::hours(1),
            poll: Duration::minutes(15),
            track_for: Duration::days(30),
        }
    }

    fn ticket() -> Ticket {
        Ticket {
            thread_id: ThreadId::new(42),
            seq: 3,
            category: Category::Complaint,
            confidence: 0.8,
            language: Language::Fr,
            text: "Le trottoir devant le 12 rue Principale est brisé".into(),
            masked: false,
            channel: "web".into(),
            sender: "marie".into(),
            sent_at: at(0),
            due_at: at(0) + Duration::hours(48),
            needs_triage: false,
            abusive: false,
            follow_up: false,
        }
    }

    fn failure(status: u16) -> Attempt {
        Attempt::Failed(DeliveryError {
            status: Some(status),
            ..DeliveryError::transient("unavailable")
        })
    }

    #[test]
    fn the_idempotency_key_names_the_thread_the_message_and_the_destination() {
        let id = JobId::new(ThreadId::new(42), 3, Destination::Webhook);
        assert_eq!(id.as_str(), "G-000042-3-webhook");
        assert_eq!(JobId::parse("g-42-3-webhook").unwrap(), id);
        assert_eq!(id.thread_id(), Some(ThreadId::new(42)));
        assert!(JobId::parse("G-000042-x-webhook").is_err());
        assert!(JobId::parse("G-000042-3-fax").is_err());
        assert!(JobId::parse("webhook").is_err());
    }

    #[test]
    fn a_digest_job_is_named_by_its_day_and_belongs_to_no_thread() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 17).unwrap();
        let id = JobId::digest(day, 0, Destination::Email);
        assert_eq!(id.as_str(), "D20261117-0-email");
        assert_eq!(JobId::parse("d20261117-0-email").unwrap(), id);
        assert_eq!(id.thread_id(), None);
        assert_eq!(id.digest_day(), Some(day));
        assert_eq!(
            JobId::parse("G-000042-7-alert_webhook")
                .unwrap()
                .thread_id(),
            Some(ThreadId::new(42))
        );
        assert!(JobId::parse("D20261317-0-email").is_err());
    }

    #[test]
    fn backoff_doubles_from_the_initial_wait_and_is_capped() {
        let p = policy();
        let full = |n| p.backoff(n, 1.0).num_seconds();
        assert_eq!(
            (1..=7).map(full).collect::<Vec<_>>(),
            vec![2, 4, 8, 16, 32, 60, 60]
        );
        assert_eq!(p.backoff(1000, 1.0), Duration::seconds(60));
    }

    #[test]
    fn jitter_takes_off_at_most_half_of_the_wait() {
        let p = policy();
        assert_eq!(p.backoff(3, 0.0), Duration::seconds(4));
        assert_eq!(p.backoff(3, 0.5), Duration::seconds(6));
        assert_eq!(p.backoff(3, 1.0), Duration::seconds(8));
        assert_eq!(p.backoff(3, 7.0), Duration::seconds(8));
    }

    #[test]
    fn a_failed_attempt_is_retried_after_the_backoff() {
        let mut job = Job::new(Destination::Webhook, ticket(), at(0));
        let event = job.apply(failure(503), at(1), &policy(), 1.0);
        assert_eq!(job.state, JobState::Pending);
        assert_eq!(job.attempts, 1);
        assert_eq!(job.next_attempt_at, at(3));
        assert!(matches!(event, JobEvent::Failed { retry_at, .. } if retry_at == at(3)));
        job.apply(failure(503), at(3), &policy(), 1.0);
        assert_eq!(job.next_attempt_at, at(7));
        assert_eq!(job.last_error.as_ref().unwrap().status, Some(503));
    }

    #[test]
    fn retry_after_from_the_receiver_lengthens_the_wait_up_to_the_cap() {
        let mut job = Job::new(Destination::Webhook, ticket(), at(0));
        let mut error = DeliveryError::transient("slow down");
        error.retry_after_secs = Some(30);
        job.apply(Attempt::Failed(error.clone()), at(0), &policy(), 1.0);
        assert_eq!(job.next_attempt_at, at(30));
        error.retry_after_secs = Some(3600);
        job.apply(Attempt::Failed(error), at(30), &policy(), 1.0);
        assert_eq!(job.next_attempt_at, at(90));
    }

    #[test]
    fn a_job_dies_after_the_configured_number_of_attempts() {
        let mut job = Job::new(Destination::Webhook, ticket(), at(0));
        for n in 1..5 {
            job.apply(failure(503), at(n), &policy(), 0.0);
            assert_eq!(job.state, JobState::Pending);
        }
        let event = job.apply(failure(503), at(5), &policy(), 0.0);
        assert_eq!(job.state, JobState::Dead);
        assert!(matches!(event, JobEvent::Dead { .. }));
        assert!(!job.is_queued());
    }

    #[test]
    fn a_job_dies_when_it_has_failed_for_longer_than_the_maximum_age() {
        let mut job = Job::new(Destination::Webhook, ticket(), at(0));
        job.apply(failure(503), at(10), &policy(), 0.0);
        assert_eq!(job.state, JobState::Pending);
        job.apply(failure(503), at(3600), &policy(), 0.0);
        assert_eq!(job.state, JobState::Dead);
    }

    #[test]
    fn a_permanent_error_kills_the_job_at_once() {
        let mut job = Job::new(Destination::Open311, ticket(), at(0));
        let mut error = DeliveryError::permanent("service_code not found");
        error.errors.push(RemoteError {
            code: "404".into(),
            description: "Service code 999 was not found".into(),
        });
        job.apply(Attempt::Failed(error), at(1), &policy(), 0.5);
        assert_eq!(job.state, JobState::Dead);
        assert_eq!(job.last_error.as_ref().unwrap().errors[0].code, "404");
    }

    #[test]
    fn a_dead_job_retried_by_hand_gets_a_fresh_window_and_is_due_now() {
        let mut job = Job::new(Destination::Webhook, ticket(), at(0));
        job.apply(
            Attempt::Failed(DeliveryError::permanent("bad")),
            at(1),
            &policy(),
            0.0,
        );
        job.retry(at(7200)).unwrap();
        assert_eq!(job.state, JobState::Pending);
        assert_eq!(
            (job.attempts, job.since, job.next_attempt_at),
            (0, at(7200), at(7200))
        );
        job.apply(failure(503), at(7201), &policy(), 0.0);
        assert_eq!(
            job.state,
            JobState::Pending,
            "the age counts from the retry"
        );
    }

    #[test]
    fn a_message_sent_in_part_keeps_its_progress_across_failures() {
        let p = policy();
        let mut job = Job::new(Destination::Messenger, ticket(), at(0));
        let event = job.apply(
            Attempt::Partly {
                progress: "parts:1".into(),
                error: DeliveryError::transient("timeout"),
            },
            at(0),
            &p,
            0.0,
        );
        assert!(matches!(event, JobEvent::Failed { .. }));
        assert_eq!(job.state, JobState::Pending);
        assert_eq!(job.attempts, 1);
        assert_eq!(job.ticket_id.as_deref(), Some("parts:1"));
        job.apply(
            Attempt::Failed(DeliveryError::transient("timeout")),
            at(10),
            &p,
            0.0,
        );
        assert_eq!(job.ticket_id.as_deref(), Some("parts:1"), "kept");
    }

    #[test]
    fn a_delivered_webhook_job_is_done_with_the_receivers_ticket_id() {
        let mut job = Job::new(Destination::Webhook, ticket(), at(0));
        let event = job.apply(
            Attempt::Delivered {
                ticket_id: Some("CS-17".into()),
                token: None,
            },
            at(1),
            &policy(),
            0.0,
        );
        assert_eq!(job.state, JobState::Done);
        assert_eq!(job.ticket_id.as_deref(), Some("CS-17"));
        assert_eq!(
            event,
            JobEvent::Delivered {
                ticket_id: Some("CS-17".into())
            }
        );
        assert!(job.retry(at(2)).is_err());
    }

    #[test]
    fn an_open311_request_is_followed_through_its_token_until_it_closes() {
        let p = policy();
        let mut job = Job::new(Destination::Open311, ticket(), at(0));
        let event = job.apply(
            Attempt::Delivered {
                ticket_id: None,
                token: Some("tok-1".into()),
            },
            at(1),
            &p,
            0.0,
        );
        assert_eq!(
            event,
            JobEvent::Batched {
                token: "tok-1".into()
            }
        );
        assert_eq!(job.state, JobState::Tracking);
        assert_eq!(job.next_attempt_at, at(1) + p.poll);

        let quiet = job.apply(Attempt::NotYet, at(901), &p, 0.0);
        assert!(quiet.is_quiet());
        assert_eq!(job.next_attempt_at, at(901) + p.poll);

        job.apply(
            Attempt::TokenResolved {
                request_id: "638344".into(),
            },
            at(1801),
            &p,
            0.0,
        );
        assert_eq!(
            job.phase,
            Phase::Track {
                request_id: "638344".into()
            }
        );
        assert_eq!(job.ticket_id.as_deref(), Some("638344"));

        let event = job.apply(
            Attempt::Closed {
                notes: Some("Repaired".into()),
            },
            at(2701),
            &p,
            0.0,
        );
        assert!(matches!(event, JobEvent::Closed { .. }));
        assert_eq!(job.state, JobState::Done);
    }

    #[test]
    fn a_311_request_that_never_closes_is_no_longer_followed_after_the_tracking_period() {
        let p = policy();
        let mut job = Job::new(Destination::Open311, ticket(), at(0));
        job.apply(
            Attempt::Delivered {
                ticket_id: Some("7".into()),
                token: None,
            },
            at(0),
            &p,
            0.0,
        );
        assert_eq!(job.state, JobState::Tracking);
        let later = at(0) + Duration::days(30);
        assert_eq!(
            job.apply(Attempt::NotYet, later, &p, 0.0),
            JobEvent::Untracked
        );
        assert_eq!(job.state, JobState::Done);
    }
}
