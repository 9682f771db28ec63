//! A thread: one citizen's conversation with the city on one channel, and its state machine.
//!
//! ```text
//!  open ──► acknowledged ──► forwarded ──► answered ──► resolved
//!   │            │  └──────────┬──────────────▲  │          │
//!   └────────────┴─────────────┘ (agent or FAQ)  └─◄ citizen writes back (next-response clock)
//!                                                           └─► reopened (forwarded) when the
//!                                                               citizen writes within the window
//! ```
//!
//! Transitions are methods that check the current state and return the audit event they
//! caused; they take `now` and never do I/O. The SLA clock lives on the thread: the current
//! one in `clock`, finished ones in `clocks`.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::message::{Channel, Sender};
use super::outbox::{Destination, JobId};
use super::sla::{Clock, ClockKind, SlaPolicy, SlaStatus};
use super::{Category, Language};

/// A thread's identity; shown to citizens and agents as its reference, `G-000042`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct ThreadId(u64);

impl ThreadId {
    pub fn new(n: u64) -> ThreadId {
        ThreadId(n)
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// Accepts `G-000042`, `g-42` or `42`.
    ///
    /// # Errors
    /// Anything else, as a sentence.
    pub fn parse(raw: &str) -> Result<ThreadId, String> {
        let s = raw.trim();
        let digits = s
            .strip_prefix("G-")
            .or_else(|| s.strip_prefix("g-"))
            .unwrap_or(s);
        digits
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0 && !digits.starts_with('+'))
            .map(ThreadId)
            .ok_or_else(|| {
                format!(
                    "\"{}\" is not a thread reference such as G-000042",
                    short(s)
                )
            })
    }
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

impl fmt::Display for ThreadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "G-{:06}", self.0)
    }
}

impl From<ThreadId> for String {
    fn from(id: ThreadId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for ThreadId {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        ThreadId::parse(&s)
    }
}

/// Where a thread stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreadState {
    Open,
    Acknowledged,
    Forwarded,
    Answered,
    Resolved,
}

impl ThreadState {
    pub const ALL: [ThreadState; 5] = [
        ThreadState::Open,
        ThreadState::Acknowledged,
        ThreadState::Forwarded,
        ThreadState::Answered,
        ThreadState::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ThreadState::Open => "open",
            ThreadState::Acknowledged => "acknowledged",
            ThreadState::Forwarded => "forwarded",
            ThreadState::Answered => "answered",
            ThreadState::Resolved => "resolved",
        }
    }

    /// Waiting for the city: nobody has answered the citizen's latest message yet.
    pub fn awaits_answer(self) -> bool {
        matches!(
            self,
            ThreadState::Open | ThreadState::Acknowledged | ThreadState::Forwarded
        )
    }

    /// A stable byte for the store's state index.
    pub fn code(self) -> u8 {
        match self {
            ThreadState::Open => 1,
            ThreadState::Acknowledged => 2,
            ThreadState::Forwarded => 3,
            ThreadState::Answered => 4,
            ThreadState::Resolved => 5,
        }
    }
}

impl fmt::Display for ThreadState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ThreadState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ThreadState::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown thread state \"{}\"", short(s)))
    }
}

/// What happened to a thread, for its audit log. Never carries message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    Received,
    Flood,
    Acknowledged,
    Classified,
    Reclassified,
    FaqAnswered,
    Forwarded,
    Answered,
    Resolved,
    Reopened,
    Moderated,
    Warned,
    Blocked,
    Unblocked,
    AtRisk,
    Overdue,
    NeedsTriage,
    /// A ticket was queued in the outbox for a destination.
    Queued,
    /// A destination took the ticket.
    Delivered,
    /// An attempt to deliver failed; it will be retried.
    DeliveryFailed,
    /// The outbox gave up on a ticket; the coordinator can retry it.
    DeliveryDead,
    /// The coordinator asked for another delivery attempt.
    DeliveryRetried,
    /// An agent took the thread in hand.
    Claimed,
    /// A person changed the thread's category (a correction of the classifier).
    Corrected,
    /// An agent's internal note, never sent to the citizen.
    Note,
    /// A coordinator exported what guichet holds on the thread's citizen.
    Exported,
    /// The citizen's data was erased on their request: text, identity and platform ids.
    Erased,
    /// The retention period ended: text, identity and platform ids were removed.
    Anonymised,
}

/// One line of a thread's audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub at: DateTime<Utc>,
    pub kind: AuditKind,
    /// Who acted: `citizen`, `guichet`, an agent's name, `coordinator`.
    pub actor: String,
    /// A short detail (category, confidence, agent): never the message's text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl AuditEvent {
    pub fn new(at: DateTime<Utc>, kind: AuditKind, actor: &str, detail: impl Into<String>) -> Self {
        AuditEvent {
            at,
            kind,
            actor: actor.to_owned(),
            detail: detail.into(),
        }
    }
}

/// A person's correction of a thread's category, kept to learn from: the citizen's first
/// message as agents read it (masked), and the category it should have had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    pub thread_id: ThreadId,
    pub category: Category,
    pub language: Language,
    /// The agents' copy of the message that opened the thread.
    pub text: String,
    pub actor: String,
    pub at: DateTime<Utc>,
}

/// A transition that the current state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("thread {id} is {state}: it cannot be {action}")]
pub struct TransitionError {
    pub id: ThreadId,
    pub state: ThreadState,
    pub action: &'static str,
}

/// How far the SLA watcher has reported on the current clock, so that each alert is
/// recorded once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Alerted {
    #[default]
    None,
    AtRisk,
    Overdue,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    pub id: ThreadId,
    pub channel: Channel,
    pub sender: Sender,
    pub category: Category,
    pub language: Language,
    pub confidence: f32,
    pub state: ThreadState,
    /// The platform timestamp of the first message.
    pub opened_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub forwarded_at: Option<DateTime<Utc>>,
    pub answered_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The running (or last) response clock.
    pub clock: Clock,
    /// Earlier clocks of this thread, finished.
    #[serde(default)]
    pub clocks: Vec<Clock>,
    #[serde(default)]
    pub alerted: Alerted,
    /// Low classifier confidence: a person should confirm the category.
    #[serde(default)]
    pub needs_triage: bool,
    #[serde(default)]
    pub abusive: bool,
    /// The FAQ entry that answered the citizen, if any.
    #[serde(default)]
    pub faq: Option<String>,
    /// The agent who took the thread in hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    /// The tickets sent (or being sent) to customer-service systems.
    #[serde(default)]
    pub tickets: Vec<TicketRef>,
    /// Number of messages (citizen, acknowledgment, agent) kept on the thread.
    pub message_count: u32,
    /// Number of audit events kept on the thread.
    pub audit_count: u32,
}

/// Where a ticket stands in a customer-service system, as guichet knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    /// In the outbox, not delivered yet.
    Queued,
    /// The destination took it (an Open311 request is open and followed).
    Delivered,
    /// The outbox gave up; the coordinator can retry the job.
    Dead,
    /// The 311 system closed the request.
    Closed,
    /// Delivered, but no longer followed.
    Untracked,
}

/// A ticket sent to a customer-service system for this thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketRef {
    pub destination: Destination,
    /// The outbox job, which is also the idempotency key.
    pub job: JobId,
    pub status: TicketStatus,
    /// The receiver's reference (ticket id, 311 service request id), once known.
    #[serde(default)]
    pub ticket_id: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// The classifier's view of one message, as the thread needs it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Triage {
    pub category: Category,
    pub language: Language,
    pub confidence: f32,
}

impl Thread {
    /// A new thread for a first message; its first-response clock starts at the message's
    /// platform time.
    pub fn open(
        id: ThreadId,
        channel: Channel,
        sender: Sender,
        sent_at: DateTime<Utc>,
        triage: Triage,
        policy: &SlaPolicy,
    ) -> Thread {
        Thread {
            id,
            channel,
            sender,
            category: triage.category,
            language: triage.language,
            confidence: triage.confidence,
            state: ThreadState::Open,
            opened_at: sent_at,
            last_message_at: sent_at,
            acknowledged_at: None,
            forwarded_at: None,
            answered_at: None,
            resolved_at: None,
            clock: policy.start(ClockKind::FirstResponse, triage.category, sent_at),
            clocks: Vec::new(),
            alerted: Alerted::None,
            needs_triage: false,
            abusive: false,
            faq: None,
            claimed_by: None,
            tickets: Vec::new(),
            message_count: 0,
            audit_count: 0,
        }
    }

    pub fn status(&self, now: DateTime<Utc>) -> SlaStatus {
        self.clock.status(now)
    }

    /// The clock is running: an answer from the city is due.
    pub fn clock_running(&self) -> bool {
        self.clock.stopped_at.is_none()
    }

    fn refuse(&self, action: &'static str) -> TransitionError {
        TransitionError {
            id: self.id,
            state: self.state,
            action,
        }
    }

    /// The automatic acknowledgment went out: only once, right after opening.
    ///
    /// # Errors
    /// The thread is past `open`.
    pub fn acknowledge(&mut self, at: DateTime<Utc>) -> Result<AuditEvent, TransitionError> {
        if self.state != ThreadState::Open || self.acknowledged_at.is_some() {
            return Err(self.refuse("acknowledged"));
        }
        self.state = ThreadState::Acknowledged;
        self.acknowledged_at = Some(at);
        Ok(AuditEvent::new(
            at,
            AuditKind::Acknowledged,
            "guichet",
            self.language.as_str(),
        ))
    }

    /// Handed to customer service.
    ///
    /// # Errors
    /// The thread is resolved.
    pub fn forward(&mut self, at: DateTime<Utc>) -> Result<AuditEvent, TransitionError> {
        if self.state == ThreadState::Resolved {
            return Err(self.refuse("forwarded"));
        }
        self.state = ThreadState::Forwarded;
        self.forwarded_at = Some(at);
        Ok(AuditEvent::new(
            at,
            AuditKind::Forwarded,
            "guichet",
            "customer service",
        ))
    }

    /// Someone answered the citizen (an agent, or guichet with a FAQ answer): the running
    /// clock stops and records met or missed.
    ///
    /// # Errors
    /// The thread is resolved.
    pub fn answer(
        &mut self,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Result<AuditEvent, TransitionError> {
        if self.state == ThreadState::Resolved {
            return Err(self.refuse("answered"));
        }
        self.state = ThreadState::Answered;
        self.answered_at = Some(at);
        self.clock.stop(at);
        let outcome = self.clock.status(at);
        Ok(AuditEvent::new(
            at,
            AuditKind::Answered,
            actor,
            format!("{} {}", clock_name(self.clock.kind), outcome.as_str()),
        ))
    }

    /// The coordinator or an agent closes the thread; a running clock stops.
    ///
    /// # Errors
    /// The thread is already resolved.
    pub fn resolve(
        &mut self,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Result<AuditEvent, TransitionError> {
        if self.state == ThreadState::Resolved {
            return Err(self.refuse("resolved again"));
        }
        self.state = ThreadState::Resolved;
        self.resolved_at = Some(at);
        self.clock.stop(at);
        Ok(AuditEvent::new(at, AuditKind::Resolved, actor, ""))
    }

    /// The citizen wrote again on this thread. After an answer (or a resolution within the
    /// reopen window) a next-response clock starts; while an answer is still due, the running
    /// clock goes on. Returns the audit event of a reopening, if any.
    pub fn citizen_writes(
        &mut self,
        sent_at: DateTime<Utc>,
        policy: &SlaPolicy,
    ) -> Option<AuditEvent> {
        self.last_message_at = self.last_message_at.max(sent_at);
        let reopened = self.state == ThreadState::Resolved;
        if self.state.awaits_answer() {
            return None;
        }
        let finished = std::mem::replace(
            &mut self.clock,
            policy.start(ClockKind::NextResponse, self.category, sent_at),
        );
        self.clocks.push(finished);
        self.alerted = Alerted::None;
        self.state = ThreadState::Forwarded;
        self.resolved_at = None;
        reopened.then(|| AuditEvent::new(sent_at, AuditKind::Reopened, "citizen", ""))
    }

    /// Raises the category when a later message is more pressing; never lowers it. The
    /// running clock is re-targeted from its own start.
    pub fn raise(
        &mut self,
        triage: Triage,
        policy: &SlaPolicy,
        at: DateTime<Utc>,
    ) -> Option<AuditEvent> {
        if triage.category <= self.category {
            return None;
        }
        let from = self.category;
        self.category = triage.category;
        self.confidence = triage.confidence;
        if self.clock_running() {
            self.clock = policy.recategorize(&self.clock, triage.category);
            self.alerted = Alerted::None;
        }
        Some(AuditEvent::new(
            at,
            AuditKind::Reclassified,
            "guichet",
            format!("{from} -> {}", triage.category),
        ))
    }

    /// An agent takes the thread in hand.
    ///
    /// # Errors
    /// A resolved thread.
    pub fn claim(&mut self, agent: &str, at: DateTime<Utc>) -> Result<AuditEvent, TransitionError> {
        if self.state == ThreadState::Resolved {
            return Err(self.refuse("claimed"));
        }
        let detail = match self.claimed_by.replace(agent.to_owned()) {
            Some(before) if before != agent => format!("from {before}"),
            _ => String::new(),
        };
        Ok(AuditEvent::new(at, AuditKind::Claimed, agent, detail))
    }

    /// A person corrects the category, up or down: the running clock is re-planned for the new
    /// category from its own start. Returns `None` when the category does not change.
    pub fn correct(
        &mut self,
        category: Category,
        policy: &SlaPolicy,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Option<AuditEvent> {
        if category == self.category {
            return None;
        }
        let from = self.category;
        self.category = category;
        self.needs_triage = false;
        if self.clock_running() {
            self.clock = policy.recategorize(&self.clock, category);
            self.alerted = Alerted::None;
        }
        Some(AuditEvent::new(
            at,
            AuditKind::Corrected,
            actor,
            format!("{from} -> {category}"),
        ))
    }

    /// Records that the watcher reported this level; returns the event to log, once.
    pub fn alert(&mut self, now: DateTime<Utc>) -> Option<AuditEvent> {
        if !self.clock_running() {
            return None;
        }
        let (level, kind) = match self.clock.status(now) {
            SlaStatus::Overdue => (Alerted::Overdue, AuditKind::Overdue),
            SlaStatus::AtRisk => (Alerted::AtRisk, AuditKind::AtRisk),
            _ => return None,
        };
        if level <= self.alerted {
            return None;
        }
        self.alerted = level;
        let due = self.clock.due_at.to_rfc3339();
        Some(AuditEvent::new(now, kind, "guichet", format!("due {due}")))
    }

    /// The times at which the watcher must look at this thread again, with the level each
    /// one reports. Empty once the clock stopped or everything was reported.
    pub fn pending_alerts(&self) -> Vec<(DateTime<Utc>, Alerted)> {
        if !self.clock_running() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(2);
        if self.alerted < Alerted::AtRisk {
            out.push((self.clock.at_risk_at, Alerted::AtRisk));
        }
        if self.alerted < Alerted::Overdue {
            out.push((self.clock.due_at, Alerted::Overdue));
        }
        out
    }
}

impl Thread {
    /// A request for `destination` is queued or open: a new one would duplicate it.
    pub fn has_open_ticket(&self, destination: Destination) -> bool {
        self.tickets.iter().any(|t| {
            t.destination == destination
                && matches!(t.status, TicketStatus::Queued | TicketStatus::Delivered)
        })
    }

    /// The ticket of an outbox job, to update as the job moves.
    pub fn ticket_mut(&mut self, job: &JobId) -> Option<&mut TicketRef> {
        self.tickets.iter_mut().find(|t| &t.job == job)
    }
}

fn clock_name(kind: ClockKind) -> &'static str {
    match kind {
        ClockKind::FirstResponse => "first response",
        ClockKind::NextResponse => "next response",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::policy;
    use chrono::{Duration, TimeZone};

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 16, h, 0, 0).unwrap()
    }

    fn thread(category: Category) -> Thread {
        Thread::open(
            ThreadId::new(7),
            Channel::web(),
            Sender::parse("marie").unwrap(),
            at(10),
            Triage {
                category,
                language: Language::Fr,
                confidence: 0.9,
            },
            &policy(),
        )
    }

    #[test]
    fn thread_references_read_and_parse_the_same_way() {
        assert_eq!(ThreadId::new(42).to_string(), "G-000042");
        assert_eq!(ThreadId::parse("G-000042"), Ok(ThreadId::new(42)));
        assert_eq!(ThreadId::parse("g-42"), Ok(ThreadId::new(42)));
        assert_eq!(ThreadId::parse("42"), Ok(ThreadId::new(42)));
        assert!(ThreadId::parse("G-").is_err());
        assert!(ThreadId::parse("0").is_err());
        assert!(ThreadId::parse("../etc").is_err());
    }

    #[test]
    fn a_thread_is_acknowledged_exactly_once() {
        let mut t = thread(Category::Info);
        assert!(t.acknowledge(at(10)).is_ok());
        assert_eq!(t.state, ThreadState::Acknowledged);
        assert!(t.acknowledge(at(11)).is_err());
    }

    #[test]
    fn an_agent_answer_stops_the_clock_and_records_met_or_missed() {
        let mut t = thread(Category::Urgent);
        t.forward(at(10)).unwrap();
        let event = t.answer(at(12), "agent-luc").unwrap();
        assert_eq!(t.state, ThreadState::Answered);
        assert_eq!(t.status(at(20)), SlaStatus::Missed);
        assert_eq!(event.detail, "first response missed");

        let mut t = thread(Category::Info);
        t.answer(at(12), "agent-luc").unwrap();
        assert_eq!(t.status(at(23)), SlaStatus::Met);
    }

    #[test]
    fn writing_after_an_answer_starts_a_next_response_clock() {
        let mut t = thread(Category::Complaint);
        t.answer(at(12), "agent").unwrap();
        assert!(t.citizen_writes(at(13), &policy()).is_none());
        assert_eq!(t.state, ThreadState::Forwarded);
        assert_eq!(t.clock.kind, ClockKind::NextResponse);
        assert_eq!(t.clock.started_at, at(13));
        assert_eq!(t.clocks.len(), 1);
        assert_eq!(t.clocks[0].kind, ClockKind::FirstResponse);
    }

    #[test]
    fn writing_while_an_answer_is_due_keeps_the_running_clock() {
        let mut t = thread(Category::Complaint);
        let before = t.clock.clone();
        t.citizen_writes(at(11), &policy());
        assert_eq!(t.clock, before);
        assert_eq!(t.last_message_at, at(11));
    }

    #[test]
    fn a_resolved_thread_reopens_when_the_citizen_writes() {
        let mut t = thread(Category::Info);
        t.resolve(at(12), "coordinator").unwrap();
        assert!(t.resolve(at(13), "coordinator").is_err());
        let event = t.citizen_writes(at(14), &policy()).unwrap();
        assert_eq!(event.kind, AuditKind::Reopened);
        assert_eq!(t.state, ThreadState::Forwarded);
        assert!(t.clock_running());
    }

    #[test]
    fn a_later_urgent_message_raises_the_category_and_shortens_the_clock() {
        let mut t = thread(Category::Info);
        let urgent = Triage {
            category: Category::Urgent,
            language: Language::Fr,
            confidence: 0.95,
        };
        assert!(t.raise(urgent, &policy(), at(10)).is_some());
        assert_eq!(t.category, Category::Urgent);
        assert_eq!(t.clock.due_at, at(11));
        let info = Triage {
            category: Category::Info,
            ..urgent
        };
        assert!(t.raise(info, &policy(), at(10)).is_none());
        assert_eq!(t.category, Category::Urgent);
    }

    #[test]
    fn the_watcher_reports_at_risk_then_overdue_once_each() {
        let mut t = thread(Category::Urgent);
        assert_eq!(t.pending_alerts().len(), 2);
        assert!(t.alert(at(10)).is_none());
        let risk = t.alert(at(10) + Duration::minutes(46)).unwrap();
        assert_eq!(risk.kind, AuditKind::AtRisk);
        assert!(t.alert(at(10) + Duration::minutes(50)).is_none());
        let late = t.alert(at(11)).unwrap();
        assert_eq!(late.kind, AuditKind::Overdue);
        assert!(t.alert(at(12)).is_none());
        assert!(t.pending_alerts().is_empty());
    }
}
