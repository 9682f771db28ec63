//! What customer-service agents and the coordinator see of threads and of the outbox:
//! filters and views.
//!
//! Read-only, shared by the staff HTTP API and the command line. Agents see the masked copy
//! of a message; the original stays in the store for the audit trail.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::message::{MessageKind, StoredMessage};
use crate::domain::outbox::{DeliveryError, Destination, Job, JobId, JobState, Phase};
use crate::domain::sla::SlaStatus;
use crate::domain::thread::{AuditEvent, Thread, ThreadId, ThreadState, TicketRef};
use crate::domain::{Category, Language};
use crate::store::{Store, StoreError};

/// The lists the staff ask for (`?state=` in the API, `--state` on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Waiting for the city: open, acknowledged or forwarded.
    Open,
    AtRisk,
    Overdue,
    Answered,
    Resolved,
    All,
}

impl FromStr for Filter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "open" => Filter::Open,
            "at_risk" | "at-risk" => Filter::AtRisk,
            "overdue" => Filter::Overdue,
            "answered" => Filter::Answered,
            "resolved" => Filter::Resolved,
            "all" => Filter::All,
            other => {
                return Err(format!(
                    "unknown state \"{}\": use open, at_risk, overdue, answered, resolved or all",
                    other.chars().take(40).collect::<String>()
                ))
            }
        })
    }
}

impl Filter {
    pub fn as_str(self) -> &'static str {
        match self {
            Filter::Open => "open",
            Filter::AtRisk => "at_risk",
            Filter::Overdue => "overdue",
            Filter::Answered => "answered",
            Filter::Resolved => "resolved",
            Filter::All => "all",
        }
    }

    /// The states a filter lists by thread id (none: every thread).
    fn states(self) -> &'static [ThreadState] {
        match self {
            Filter::Open => &[
                ThreadState::Open,
                ThreadState::Acknowledged,
                ThreadState::Forwarded,
            ],
            Filter::Answered => &[ThreadState::Answered],
            Filter::Resolved => &[ThreadState::Resolved],
            Filter::All | Filter::AtRisk | Filter::Overdue => &[],
        }
    }
}

/// Pages of a list: `limit` (1 to [`MAX_PAGE`]) and the opaque cursor of the last page.
pub const DEFAULT_PAGE: usize = 100;
pub const MAX_PAGE: usize = 1000;

/// A position in one filter's list: where the next page starts. It names its filter, so that
/// a cursor of one list is refused on another; it is a position in an index, not an offset,
/// so pages stay right while threads arrive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    filter: Filter,
    position: Vec<u8>,
}

impl Cursor {
    /// # Errors
    /// Not a cursor guichet gave, or one of another filter's list.
    pub fn parse(raw: &str, filter: Filter) -> Result<Cursor, String> {
        let bad = || {
            format!(
                "the cursor \"{}\" is not one guichet gave for state={}: start again without a cursor",
                raw.chars().take(60).collect::<String>(),
                filter.as_str()
            )
        };
        let (name, hex) = raw.trim().split_once('.').ok_or_else(bad)?;
        if name != filter.as_str() {
            return Err(bad());
        }
        let position = hex::decode(hex).map_err(|_| bad())?;
        let expected = match filter {
            Filter::AtRisk | Filter::Overdue => 17..=18,
            _ => 8..=8,
        };
        if !expected.contains(&position.len()) {
            return Err(bad());
        }
        Ok(Cursor { filter, position })
    }

    fn encode(filter: Filter, position: &[u8]) -> String {
        format!("{}.{}", filter.as_str(), hex::encode(position))
    }
}

/// One page of a list, and where the next one starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page {
    pub threads: Vec<Summary>,
    pub next_cursor: Option<String>,
}

/// One page of the threads matching `filter` at `now`: newest first (overdue and at-risk
/// threads: latest due first), read from the store's indexes.
///
/// # Errors
/// The store failed.
pub fn page(
    store: &Store,
    filter: Filter,
    now: DateTime<Utc>,
    cursor: Option<&Cursor>,
    limit: usize,
) -> Result<Page, StoreError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let position = cursor.map(|c| c.position.as_slice());
    let (threads, next) = match filter {
        Filter::Overdue | Filter::AtRisk => {
            let (threads, next) =
                store.page_by_time(filter == Filter::Overdue, now, position, limit)?;
            (threads, next.map(|k| Cursor::encode(filter, &k)))
        }
        _ => {
            let before =
                position.map(|p| ThreadId::new(u64::from_be_bytes(p.try_into().unwrap_or([0; 8]))));
            let (threads, next) = store.page_by_id(filter.states(), before, limit)?;
            (
                threads,
                next.map(|id| Cursor::encode(filter, &id.get().to_be_bytes())),
            )
        }
    };
    Ok(Page {
        threads: threads.iter().map(|t| Summary::of(t, now)).collect(),
        next_cursor: next,
    })
}

/// Threads matching `filter` at `now`, the most recent (or the latest due) first.
///
/// # Errors
/// The store failed.
pub fn list(store: &Store, filter: Filter, now: DateTime<Utc>) -> Result<Vec<Summary>, StoreError> {
    let threads = match filter {
        Filter::Overdue => store.overdue(now)?,
        Filter::AtRisk => store.at_risk(now)?,
        Filter::Answered => store.threads_in(ThreadState::Answered)?,
        Filter::Resolved => store.threads_in(ThreadState::Resolved)?,
        Filter::All => store.all_threads()?,
        Filter::Open => {
            let mut all = Vec::new();
            for state in [
                ThreadState::Open,
                ThreadState::Acknowledged,
                ThreadState::Forwarded,
            ] {
                all.extend(store.threads_in(state)?);
            }
            all.sort_by_key(|t| std::cmp::Reverse(t.last_message_at));
            all
        }
    };
    Ok(threads.iter().map(|t| Summary::of(t, now)).collect())
}

/// A thread in a list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub thread_id: ThreadId,
    pub channel: String,
    pub sender: String,
    pub category: Category,
    pub language: Language,
    pub confidence: f32,
    pub state: ThreadState,
    /// on_track, at_risk, overdue, met or missed.
    pub sla: SlaStatus,
    pub opened_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    pub at_risk_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub needs_triage: bool,
    pub abusive: bool,
    pub faq: Option<String>,
    /// The agent who took the thread in hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    /// Met or missed for each finished response clock, oldest first.
    pub history: Vec<SlaStatus>,
    /// The tickets forwarded to customer-service systems, with their references.
    #[serde(default)]
    pub tickets: Vec<TicketRef>,
}

impl Summary {
    pub fn of(t: &Thread, now: DateTime<Utc>) -> Summary {
        Summary {
            thread_id: t.id,
            channel: t.channel.to_string(),
            sender: t.sender.to_string(),
            category: t.category,
            language: t.language,
            confidence: t.confidence,
            state: t.state,
            sla: t.status(now),
            opened_at: t.opened_at,
            last_message_at: t.last_message_at,
            at_risk_at: t.clock.at_risk_at,
            due_at: t.clock.due_at,
            acknowledged_at: t.acknowledged_at,
            forwarded_at: t.forwarded_at,
            answered_at: t.answered_at,
            resolved_at: t.resolved_at,
            needs_triage: t.needs_triage,
            abusive: t.abusive,
            faq: t.faq.clone(),
            claimed_by: t.claimed_by.clone(),
            history: t.clocks.iter().map(|c| c.status(now)).collect(),
            tickets: t.tickets.clone(),
        }
    }
}

/// A message as agents see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageView {
    pub kind: MessageKind,
    pub author: String,
    pub at: DateTime<Utc>,
    /// The masked copy when moderation masked something.
    pub text: String,
    pub masked: bool,
    pub ignored: bool,
}

impl From<StoredMessage> for MessageView {
    fn from(m: StoredMessage) -> MessageView {
        MessageView {
            kind: m.kind,
            author: m.author,
            at: m.at,
            masked: m.masked.is_some(),
            text: m.masked.unwrap_or(m.text),
            ignored: m.ignored,
        }
    }
}

/// One thread in full: its summary, its messages and its audit log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Detail {
    #[serde(flatten)]
    pub summary: Summary,
    pub messages: Vec<MessageView>,
    pub audit: Vec<AuditEvent>,
}

/// # Errors
/// The store failed. `Ok(None)` for an unknown thread.
pub fn detail(
    store: &Store,
    id: ThreadId,
    now: DateTime<Utc>,
) -> Result<Option<Detail>, StoreError> {
    let Some(thread) = store.thread(id)? else {
        return Ok(None);
    };
    Ok(Some(Detail {
        summary: Summary::of(&thread, now),
        messages: store
            .messages(id)?
            .into_iter()
            .map(MessageView::from)
            .collect(),
        audit: store.audit(id)?,
    }))
}

/// Which outbox jobs to list (`?state=` in the API, `--state` on the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxFilter {
    /// What needs watching: pending and dead jobs.
    Attention,
    Pending,
    Tracking,
    Dead,
    All,
}

impl OutboxFilter {
    pub fn states(self) -> &'static [JobState] {
        match self {
            OutboxFilter::Attention => &[JobState::Pending, JobState::Dead],
            OutboxFilter::Pending => &[JobState::Pending],
            OutboxFilter::Tracking => &[JobState::Tracking],
            OutboxFilter::Dead => &[JobState::Dead],
            OutboxFilter::All => &JobState::LISTED,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxFilter::Attention => "pending,dead",
            OutboxFilter::Pending => "pending",
            OutboxFilter::Tracking => "tracking",
            OutboxFilter::Dead => "dead",
            OutboxFilter::All => "all",
        }
    }
}

impl FromStr for OutboxFilter {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "pending,dead" | "dead,pending" => OutboxFilter::Attention,
            "pending" => OutboxFilter::Pending,
            "tracking" => OutboxFilter::Tracking,
            "dead" => OutboxFilter::Dead,
            "all" => OutboxFilter::All,
            other => {
                return Err(format!(
                    "unknown outbox state \"{}\": use pending, tracking, dead or all",
                    other.chars().take(40).collect::<String>()
                ))
            }
        })
    }
}

/// An outbox job as the coordinator sees it: where it stands and why it failed, without the
/// ticket's text.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// Also the idempotency key sent to the destination.
    pub id: JobId,
    /// Absent for a job that belongs to no thread (a digest's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    pub destination: Destination,
    pub state: JobState,
    /// deliver, token or track.
    pub step: String,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    /// When the worker tries again (absent for a dead job).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<DeliveryError>,
    pub ticket_id: Option<String>,
}

impl OutboxEntry {
    pub fn of(job: &Job) -> OutboxEntry {
        OutboxEntry {
            id: job.id.clone(),
            thread_id: job.thread_id(),
            destination: job.destination,
            state: job.state,
            step: match job.phase {
                Phase::Deliver => "deliver",
                Phase::Token { .. } => "token",
                Phase::Track { .. } => "track",
            }
            .to_owned(),
            attempts: job.attempts,
            created_at: job.created_at,
            next_attempt_at: job.is_queued().then_some(job.next_attempt_at),
            last_attempt_at: job.last_attempt_at,
            last_error: job.last_error.clone(),
            ticket_id: job.ticket_id.clone(),
        }
    }
}
