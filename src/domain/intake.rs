//! What a citizen's message does to their thread, decided as a value: open, join or reopen
//! the thread, raise its category, moderate, acknowledge once, forward when a person must
//! follow up, and which outbox jobs carry guichet's words (to customer service, to the
//! citizen on their platform, to the agents' Discord forum).
//!
//! Pure: it takes what the pipeline read (the sender's latest thread and record, the
//! classifier's reading, the flood check), the rules from the configuration, the wording of
//! guichet's texts through [`Voice`], and `now`; it returns a [`Decision`] for the pipeline to
//! commit. No I/O, no clock.

use chrono::{DateTime, Duration, Utc};

use super::message::{IncomingMessage, MessageKind, StoredMessage};
use super::outbox::{Destination, Job, Reply, Ticket};
use super::sender::{SenderRecord, StrikeOutcome};
use super::sla::SlaPolicy;
use super::thread::{
    AuditEvent, AuditKind, Thread, ThreadId, ThreadState, TicketRef, TicketStatus, TransitionError,
    Triage,
};
use super::Category;

/// What moderation found in the message (the classifier's verdict, in the domain's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Abuse {
    Clean,
    /// Swearing used as an intensifier: masked, nothing more.
    Profanity,
    /// Aimed at people: masked, a strike, a warning the first time, a block at the limit.
    Insult,
    /// Violence: as an insult, and the thread is flagged for the coordinator at once.
    Threat,
}

/// What the classifier read in the message.
#[derive(Debug, Clone)]
pub struct Reading {
    pub triage: Triage,
    pub abuse: Abuse,
    /// The copy agents see, when moderation masked something.
    pub masked: Option<String>,
    /// Why, in words staff may read (masked words stay masked).
    pub reasons: String,
}

/// The rules of the city's configuration that shape a decision.
pub struct Rules<'a> {
    pub policy: &'a SlaPolicy,
    pub reopen_within: Duration,
    pub min_confidence: f32,
    pub strike_period: Duration,
    pub strikes_to_block: u32,
    /// The customer-service systems configured, in order.
    pub destinations: &'a [Destination],
    /// Whether Open311 takes this category (it has a service code for it).
    pub open311_takes: &'a dyn Fn(Category) -> bool,
    /// The agents' forum on Discord is configured: forwarded threads get a post there.
    pub forum: bool,
}

/// guichet's texts for the citizen, rendered from the city's templates.
pub trait Voice {
    /// The acknowledgment of a new thread, and the FAQ entry whose answer it carries.
    ///
    /// # Errors
    /// A template that fails to render.
    fn acknowledgment(
        &self,
        thread: &Thread,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, Option<String>), String>;

    /// The warning after a first insult.
    ///
    /// # Errors
    /// A template that fails to render.
    fn warning(&self, thread: &Thread, now: DateTime<Utc>) -> Result<String, String>;
}

/// Why no decision could be made.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("the answer could not be written: {0}")]
    Render(String),
}

/// Why a message was stored but not acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    Blocked,
    Flood,
}

/// What a message does, for the pipeline to write in one batch and report.
#[derive(Debug)]
pub struct Decision {
    /// The thread as it was, `None` for a new one.
    pub previous: Option<Thread>,
    pub thread: Thread,
    pub opened: bool,
    /// The citizen's message first, then guichet's answers, in the order they are numbered.
    pub messages: Vec<StoredMessage>,
    pub audit: Vec<AuditEvent>,
    pub jobs: Vec<Job>,
    /// The sender's record, when it changed (a strike).
    pub sender: Option<SenderRecord>,
    pub acknowledgment: Option<String>,
    pub warning: Option<String>,
    pub faq: bool,
    pub forwarded: bool,
    pub ignored: Option<Ignored>,
}

/// Decides what `msg` does to the sender's thread. `new_id` is called only when a thread
/// opens.
///
/// # Errors
/// A state transition the thread refuses, or a template that fails to render.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    msg: &IncomingMessage,
    reading: &Reading,
    latest: Option<Thread>,
    mut record: SenderRecord,
    flood: bool,
    new_id: impl FnOnce() -> ThreadId,
    rules: &Rules,
    voice: &dyn Voice,
    now: DateTime<Utc>,
) -> Result<Decision, IntakeError> {
    let blocked = record.is_blocked();
    let joinable = latest.filter(|t| {
        t.state != ThreadState::Resolved
            || blocked
            || t.resolved_at
                .is_some_and(|r| msg.sent_at <= r + rules.reopen_within)
    });
    let triage = reading.triage;
    let (previous, mut thread, opened) = match joinable {
        Some(t) => (Some(t.clone()), t, false),
        None => {
            let mut t = Thread::open(
                new_id(),
                msg.channel.clone(),
                msg.sender.clone(),
                msg.sent_at,
                triage,
                rules.policy,
            );
            t.needs_triage = triage.confidence < rules.min_confidence;
            (None, t, true)
        }
    };
    let mut d = Decision {
        previous,
        opened,
        thread: thread.clone(),
        messages: Vec::new(),
        audit: vec![AuditEvent::new(
            now,
            AuditKind::Received,
            "citizen",
            format!(
                "{} {:.2} {}",
                triage.category, triage.confidence, triage.language
            ),
        )],
        jobs: Vec::new(),
        sender: None,
        acknowledgment: None,
        warning: None,
        faq: false,
        forwarded: false,
        ignored: None,
    };
    let first_seq = thread.message_count;
    let citizen = StoredMessage {
        kind: MessageKind::Citizen,
        author: "citizen".into(),
        at: msg.sent_at,
        text: msg.text.as_str().to_owned(),
        masked: reading.masked.clone(),
        platform_id: msg.platform_id.as_ref().map(|p| p.to_string()),
        ignored: false,
    };

    if blocked || flood {
        // Stored, so that nothing is lost and the trace is complete, but not acted on.
        let (ignored, kind, detail) = if blocked {
            (
                Ignored::Blocked,
                AuditKind::Blocked,
                "blocked sender: no reply",
            )
        } else {
            (Ignored::Flood, AuditKind::Flood, "flood: no reply")
        };
        d.ignored = Some(ignored);
        d.audit.push(guichet(now, kind, detail));
        if opened {
            // A thread that nobody will answer must not run a clock towards "overdue".
            d.audit.push(thread.resolve(now, "guichet")?);
        } else {
            thread.last_message_at = thread.last_message_at.max(msg.sent_at);
        }
        d.messages.push(StoredMessage {
            ignored: true,
            ..citizen
        });
        d.thread = thread;
        return Ok(d);
    }

    let was_awaiting = thread.state.awaits_answer() && !opened;
    let was_forwarded = thread.forwarded_at.is_some() && !opened;
    if opened {
        d.audit
            .push(guichet(now, AuditKind::Classified, reading.reasons.clone()));
        if thread.needs_triage {
            d.audit.push(guichet(
                now,
                AuditKind::NeedsTriage,
                format!("confidence {:.2}", triage.confidence),
            ));
        }
    } else {
        d.audit
            .extend(thread.citizen_writes(msg.sent_at, rules.policy));
        d.audit.extend(thread.raise(triage, rules.policy, now));
    }

    let warned = moderate(
        &mut thread,
        &mut record,
        reading.abuse,
        rules,
        now,
        &mut d.audit,
    );
    if matches!(reading.abuse, Abuse::Insult | Abuse::Threat) {
        d.sender = Some(record);
    }
    d.messages.push(citizen);

    if opened {
        let (text, faq) = voice
            .acknowledgment(&thread, msg.text.as_str(), now)
            .map_err(IntakeError::Render)?;
        d.audit.push(thread.acknowledge(now)?);
        if let Some(id) = faq {
            d.audit
                .push(guichet(now, AuditKind::FaqAnswered, id.clone()));
            d.audit.push(thread.answer(now, "guichet")?);
            thread.faq = Some(id);
            d.faq = true;
        }
        d.messages
            .push(from_guichet(MessageKind::Acknowledgment, text.clone(), now));
        d.acknowledgment = Some(text);
    }
    if warned {
        let text = voice.warning(&thread, now).map_err(IntakeError::Render)?;
        d.audit.push(guichet(now, AuditKind::Warned, ""));
        d.messages
            .push(from_guichet(MessageKind::Warning, text.clone(), now));
        d.warning = Some(text);
    }

    // Forward what needs a person: complaints and urgent requests always, info when no FAQ
    // answered it, and any thread the citizen writes back on.
    let needs_forward = if opened {
        thread.state != ThreadState::Answered
    } else {
        !was_awaiting || thread.forwarded_at.is_none()
    };
    if needs_forward && thread.state != ThreadState::Resolved {
        d.audit.push(thread.forward(now)?);
        d.forwarded = true;
    }
    // Customer-service systems get the message too; a later message on a thread already in
    // their hands follows it there (and onto its forum post).
    if (needs_forward || was_forwarded) && thread.state != ThreadState::Resolved {
        d.jobs.extend(tickets(
            &mut thread,
            &d.messages[0],
            first_seq,
            !needs_forward,
            rules,
            now,
        ));
        if rules.forum {
            let opens = !thread
                .tickets
                .iter()
                .any(|t| t.destination == Destination::Forum);
            let post = forum_post(&thread, &d.messages[0], first_seq, reading, opens, now);
            if opens {
                thread.tickets.push(TicketRef {
                    destination: Destination::Forum,
                    job: post.id.clone(),
                    status: TicketStatus::Queued,
                    ticket_id: None,
                    updated_at: now,
                });
            }
            d.jobs.push(post);
        }
    }
    // guichet's words to the citizen go out on their platform; on the web they are in the
    // HTTP answer itself.
    if let Some(to) = Destination::citizen(msg.channel.as_str()).filter(|d| *d != Destination::Web)
    {
        for (i, m) in d.messages.iter().enumerate().skip(1) {
            d.jobs.push(Job::reply(
                to,
                Reply {
                    thread_id: thread.id,
                    seq: first_seq + i as u32,
                    kind: m.kind,
                    channel: msg.channel.to_string(),
                    recipient: msg.sender.to_string(),
                    text: m.text.clone(),
                    language: thread.language,
                    agent: None,
                    last_citizen_at: msg.sent_at,
                    at: now,
                    post: None,
                    post_id: None,
                    alert: None,
                },
                now,
            ));
        }
    }
    for job in &d.jobs {
        d.audit
            .push(guichet(now, AuditKind::Queued, job.id.to_string()));
    }
    d.thread = thread;
    Ok(d)
}

/// Applies the moderation verdict to the thread and the sender's record: profanity is only
/// noted; an insult or a threat marks the thread abusive and gives a strike (the first one
/// in the period earns a warning, returned as `true`; the last one blocks); a threat also
/// flags the thread for the coordinator at once, whatever its category.
fn moderate(
    thread: &mut Thread,
    record: &mut SenderRecord,
    abuse: Abuse,
    rules: &Rules,
    now: DateTime<Utc>,
    audit: &mut Vec<AuditEvent>,
) -> bool {
    let what = match abuse {
        Abuse::Clean => return false,
        Abuse::Profanity => {
            audit.push(guichet(now, AuditKind::Moderated, "profanity masked"));
            return false;
        }
        Abuse::Insult => "insult",
        Abuse::Threat => "threat",
    };
    thread.abusive = true;
    audit.push(guichet(
        now,
        AuditKind::Moderated,
        format!("{what} masked, strike recorded"),
    ));
    if abuse == Abuse::Threat {
        thread.needs_triage = true;
        audit.push(guichet(
            now,
            AuditKind::NeedsTriage,
            "threat of violence: coordinator alerted",
        ));
    }
    match record.strike(now, rules.strike_period, rules.strikes_to_block) {
        StrikeOutcome::Warned => true,
        StrikeOutcome::Recorded => false,
        StrikeOutcome::Blocked => {
            audit.push(guichet(
                now,
                AuditKind::Blocked,
                format!("{} strikes", rules.strikes_to_block),
            ));
            false
        }
    }
}

/// The tickets for a forwarded message, one per configured customer-service system, with the
/// thread's tickets updated. Open311 gets one service request per thread at a time (it has
/// no way to add to a request), and only for categories mapped to a service code.
fn tickets(
    thread: &mut Thread,
    message: &StoredMessage,
    seq: u32,
    follow_up: bool,
    rules: &Rules,
    now: DateTime<Utc>,
) -> Vec<Job> {
    let mut jobs = Vec::new();
    for &destination in rules.destinations {
        if destination == Destination::Open311
            && (!(rules.open311_takes)(thread.category)
                || thread.has_open_ticket(Destination::Open311))
        {
            continue;
        }
        let ticket = Ticket {
            thread_id: thread.id,
            seq,
            category: thread.category,
            confidence: thread.confidence,
            language: thread.language,
            text: agents_copy(message),
            masked: message.masked.is_some(),
            channel: thread.channel.to_string(),
            sender: thread.sender.to_string(),
            sent_at: message.at,
            due_at: thread.clock.due_at,
            needs_triage: thread.needs_triage,
            abusive: thread.abusive,
            follow_up,
        };
        let job = Job::new(destination, ticket, now);
        thread.tickets.push(TicketRef {
            destination,
            job: job.id.clone(),
            status: TicketStatus::Queued,
            ticket_id: None,
            updated_at: now,
        });
        jobs.push(job);
    }
    jobs
}

/// The citizen's message for the agents' forum: the post itself for a newly forwarded
/// thread, a message appended to it later.
fn forum_post(
    thread: &Thread,
    message: &StoredMessage,
    seq: u32,
    reading: &Reading,
    opens: bool,
    now: DateTime<Utc>,
) -> Job {
    Job::reply(
        Destination::Forum,
        Reply {
            thread_id: thread.id,
            seq,
            kind: MessageKind::Citizen,
            channel: thread.channel.to_string(),
            recipient: thread.sender.to_string(),
            text: agents_copy(message),
            language: thread.language,
            agent: None,
            last_citizen_at: message.at,
            at: now,
            post: Some(super::outbox::PostInfo {
                opens,
                category: thread.category,
                confidence: thread.confidence,
                reasons: reading.reasons.clone(),
                due_at: thread.clock.due_at,
                needs_triage: thread.needs_triage,
                abusive: thread.abusive,
            }),
            post_id: forum_post_id(thread),
            alert: None,
        },
        now,
    )
}

/// The thread's post in the agents' forum, once created.
pub fn forum_post_id(thread: &Thread) -> Option<String> {
    thread
        .tickets
        .iter()
        .find(|t| t.destination == Destination::Forum)
        .and_then(|t| t.ticket_id.clone())
}

/// What agents read of a citizen's message: the masked copy when there is one.
fn agents_copy(message: &StoredMessage) -> String {
    message
        .masked
        .clone()
        .unwrap_or_else(|| message.text.clone())
}

fn guichet(now: DateTime<Utc>, kind: AuditKind, detail: impl Into<String>) -> AuditEvent {
    AuditEvent::new(now, kind, "guichet", detail)
}

/// A message guichet sends the citizen (acknowledgment, warning), kept on the thread.
pub fn from_guichet(kind: MessageKind, text: String, now: DateTime<Utc>) -> StoredMessage {
    StoredMessage {
        kind,
        author: "guichet".into(),
        at: now,
        text,
        masked: None,
        platform_id: None,
        ignored: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::{Channel, MessageText, PlatformMessageId, Sender};
    use crate::domain::Language;
    use crate::testing::{policy, utc};

    struct Plain;

    impl Voice for Plain {
        fn acknowledgment(
            &self,
            thread: &Thread,
            text: &str,
            _: DateTime<Utc>,
        ) -> Result<(String, Option<String>), String> {
            let faq = text
                .contains("heures")
                .then(|| "city-hall-hours".to_owned());
            Ok((format!("ack {}", thread.id), faq))
        }

        fn warning(&self, thread: &Thread, _: DateTime<Utc>) -> Result<String, String> {
            Ok(format!("warning {}", thread.id))
        }
    }

    fn message(channel: &str, text: &str) -> IncomingMessage {
        IncomingMessage {
            channel: Channel::parse(channel).unwrap(),
            sender: Sender::parse("42").unwrap(),
            platform_id: Some(PlatformMessageId::parse("m-1").unwrap()),
            text: MessageText::parse(text, 5000).unwrap(),
            sent_at: utc("2026-11-23T14:00:00Z"),
        }
    }

    fn reading(category: Category, abuse: Abuse) -> Reading {
        Reading {
            triage: Triage {
                category,
                language: Language::Fr,
                confidence: 0.9,
            },
            abuse,
            masked: (abuse != Abuse::Clean).then(|| "t'es un c***".to_owned()),
            reasons: "model: test".into(),
        }
    }

    fn decide_with(
        msg: &IncomingMessage,
        reading: &Reading,
        latest: Option<Thread>,
        record: SenderRecord,
        forum: bool,
    ) -> Decision {
        let policy = policy();
        let takes = |_| false;
        let rules = Rules {
            policy: &policy,
            reopen_within: Duration::hours(72),
            min_confidence: 0.55,
            strike_period: Duration::days(90),
            strikes_to_block: 3,
            destinations: &[Destination::Webhook],
            open311_takes: &takes,
            forum,
        };
        let now = utc("2026-11-23T14:00:01Z");
        decide(
            msg,
            reading,
            latest,
            record,
            false,
            || ThreadId::new(7),
            &rules,
            &Plain,
            now,
        )
        .unwrap()
    }

    fn destinations(d: &Decision) -> Vec<Destination> {
        d.jobs.iter().map(|j| j.destination).collect()
    }

    #[test]
    fn a_discord_citizen_is_answered_through_the_outbox_and_agents_get_a_post() {
        let d = decide_with(
            &message("discord", "pu d'eau"),
            &reading(Category::Urgent, Abuse::Clean),
            None,
            SenderRecord::default(),
            true,
        );
        assert!(d.opened && d.forwarded);
        assert_eq!(
            destinations(&d),
            vec![
                Destination::Webhook,
                Destination::Forum,
                Destination::Discord
            ]
        );
        let ack = d.jobs[2].reply_payload().unwrap();
        assert_eq!((ack.kind, ack.seq), (MessageKind::Acknowledgment, 1));
        assert_eq!(ack.recipient, "42");
        let post = d.jobs[1].reply_payload().unwrap().post.clone().unwrap();
        assert!(post.opens, "the first message opens the post");
        assert!(d
            .thread
            .tickets
            .iter()
            .any(|t| t.destination == Destination::Forum));
    }

    #[test]
    fn a_web_citizen_reads_the_acknowledgment_in_the_http_answer_not_in_a_job() {
        let d = decide_with(
            &message("web", "pu d'eau"),
            &reading(Category::Urgent, Abuse::Clean),
            None,
            SenderRecord::default(),
            false,
        );
        assert_eq!(d.acknowledgment.as_deref(), Some("ack G-000007"));
        assert_eq!(destinations(&d), vec![Destination::Webhook]);
    }

    #[test]
    fn a_later_message_is_appended_to_the_post_and_gets_no_second_acknowledgment() {
        let first = decide_with(
            &message("discord", "pu d'eau"),
            &reading(Category::Urgent, Abuse::Clean),
            None,
            SenderRecord::default(),
            true,
        );
        let mut thread = first.thread;
        thread.message_count = 2;
        let d = decide_with(
            &message("discord", "toujours rien"),
            &reading(Category::Urgent, Abuse::Clean),
            Some(thread),
            SenderRecord::default(),
            true,
        );
        assert!(!d.opened && d.acknowledgment.is_none());
        let post = d
            .jobs
            .iter()
            .find(|j| j.destination == Destination::Forum)
            .and_then(|j| j.reply_payload().unwrap().post.clone())
            .unwrap();
        assert!(!post.opens);
        assert!(!d.jobs.iter().any(|j| j.destination == Destination::Discord));
    }

    #[test]
    fn an_insult_is_masked_for_agents_warned_and_the_warning_goes_out_on_the_platform() {
        let d = decide_with(
            &message("discord", "t'es un cave"),
            &reading(Category::Complaint, Abuse::Insult),
            None,
            SenderRecord::default(),
            true,
        );
        assert_eq!(d.warning.as_deref(), Some("warning G-000007"));
        assert!(d.sender.is_some(), "the strike is kept");
        let kinds: Vec<MessageKind> = d
            .jobs
            .iter()
            .filter(|j| j.destination == Destination::Discord)
            .map(|j| j.reply_payload().unwrap().kind)
            .collect();
        assert_eq!(
            kinds,
            vec![MessageKind::Acknowledgment, MessageKind::Warning]
        );
        let post = d.jobs[1].reply_payload().unwrap();
        assert_eq!(post.text, "t'es un c***", "agents read the masked copy");
    }

    #[test]
    fn a_blocked_sender_is_stored_but_nothing_is_sent() {
        let mut record = SenderRecord::default();
        let now = utc("2026-11-23T13:00:00Z");
        for _ in 0..3 {
            record.strike(now, Duration::days(90), 3);
        }
        assert!(record.is_blocked());
        let d = decide_with(
            &message("discord", "allo"),
            &reading(Category::Info, Abuse::Clean),
            None,
            record,
            true,
        );
        assert_eq!(d.ignored, Some(Ignored::Blocked));
        assert!(d.jobs.is_empty() && d.acknowledgment.is_none());
        assert_eq!(d.messages.len(), 1);
        assert!(d.messages[0].ignored);
    }

    #[test]
    fn an_info_request_answered_by_the_faq_is_not_forwarded() {
        let d = decide_with(
            &message("discord", "quelles sont les heures de l'hôtel de ville"),
            &reading(Category::Info, Abuse::Clean),
            None,
            SenderRecord::default(),
            true,
        );
        assert!(d.faq && !d.forwarded);
        assert_eq!(destinations(&d), vec![Destination::Discord]);
        assert_eq!(d.thread.state, ThreadState::Answered);
    }
}
