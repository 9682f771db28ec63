//! The triage pipeline: what happens to a citizen's message, and to a thread when staff act.
//!
//! For a message: dedupe → flood check → open or join the thread → classify → moderate →
//! acknowledge once per thread → forward when follow-up is needed → schedule the SLA clock,
//! all written in one atomic batch and flushed before the caller is answered. Adapters call
//! [`Pipeline::receive`] and turn the returned [`Outcome`] into platform replies; they never
//! see the store. One sender's messages are handled one at a time (striped locks), so that
//! two deliveries racing cannot open two threads or send two acknowledgments.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use tokio::sync::{Mutex, MutexGuard, Notify};

use crate::classify::{self, Classification, Classifier, Verdict};
use crate::config::Settings;
use crate::domain::intake::{self, Abuse, Decision, Ignored, IntakeError, Reading, Rules, Voice};
use crate::domain::message::{
    Channel, IncomingMessage, MessageKind, PlatformMessageId, Sender, StoredMessage,
};
use crate::domain::outbox::{
    Attempt, Destination, Job, JobEvent, JobId, JobState, Phase, Reply, RetryPolicy,
};
use crate::domain::sender::SenderRecord;
use crate::domain::sla::SlaPolicy;
use crate::domain::staff::{self, Actor, Member, Role};
use crate::domain::thread::{
    Alerted, AuditEvent, AuditKind, Correction, Thread, ThreadId, ThreadState, TicketStatus, Triage,
};
use crate::domain::{Category, Language};
use crate::metrics::{Gauge, Metrics};
use crate::responses::{Context, Responses};
use crate::store::{Store, StoreError, ThreadWrite};
use crate::watcher::Alarm;

mod digests;

pub use digests::DigestOutcome;

mod privacy;
pub use privacy::{CitizenExport, Erasure, Purge};

const LOCK_STRIPES: usize = 256;

/// Why the pipeline could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("no thread {0}")]
    UnknownThread(ThreadId),
    #[error("there is no outbox job {0}")]
    UnknownJob(JobId),
    #[error("{0}")]
    Job(String),
    #[error(transparent)]
    Transition(#[from] crate::domain::thread::TransitionError),
    #[error("the answer could not be written: {0}")]
    Render(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the work stopped before it ended: {0}")]
    Aborted(String),
    /// A record asked for by its id does not exist (a request).
    #[error("{0}")]
    NotFound(String),
    /// What was given cannot be recorded, as a sentence.
    #[error("{0}")]
    Invalid(String),
    /// The platform message that caused this action was recorded before: nothing changed.
    #[error("the platform message was already recorded on {0}")]
    Duplicate(ThreadId),
}

impl From<IntakeError> for PipelineError {
    fn from(e: IntakeError) -> PipelineError {
        match e {
            IntakeError::Transition(t) => PipelineError::Transition(t),
            IntakeError::Render(r) => PipelineError::Render(r),
        }
    }
}

impl PipelineError {
    /// The store cannot take writes now: the caller should come back later (503).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            PipelineError::Store(StoreError::Unavailable(_) | StoreError::Flush(_))
        )
    }
}

/// What became of a citizen's message: the adapter's material for its reply.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub thread_id: ThreadId,
    pub category: Category,
    pub language: Language,
    /// The automatic acknowledgment to send, only on the message that opened the thread.
    pub acknowledgment: Option<String>,
    /// The moderation warning to send, on the first strike.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The thread is in customer service's hands.
    pub forwarded: bool,
    pub due_at: DateTime<Utc>,
    /// The platform delivered this message before; nothing changed.
    pub duplicate: bool,
}

/// An answer for a citizen, for the adapter of the thread's channel to deliver.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub thread_id: ThreadId,
    pub channel: Channel,
    pub sender: Sender,
    pub agent: String,
    pub text: String,
    pub at: DateTime<Utc>,
    /// An outbox job carries the answer to the citizen on their channel.
    pub relayed: bool,
}

pub struct Pipeline {
    store: Store,
    settings: Arc<Settings>,
    policy: SlaPolicy,
    responses: Responses,
    classifier: &'static Classifier,
    flood: DefaultKeyedRateLimiter<String>,
    locks: Vec<Mutex<()>>,
    metrics: Arc<Metrics>,
    /// Wakes the SLA watcher when a write holds an alert due before it means to look.
    alarm: Arc<Alarm>,
    /// Where forwarded messages go besides the built-in queue (none by default).
    destinations: Vec<Destination>,
    /// The agents' forum on Discord is configured: forwarded threads get a post there.
    forum: bool,
    /// Where at-risk and overdue alerts go: Discord's alerts channel, e-mail, a webhook.
    alert_destinations: Vec<Destination>,
    /// Serialises the digests' writes (a digest and its jobs belong to no thread's lock).
    digest_lock: Mutex<()>,
    retry: RetryPolicy,
    /// Wakes the outbox worker: a job was queued or brought forward.
    outbox: Arc<Notify>,
}

/// What one step of a thread's life adds to the thread's write.
#[derive(Debug, Default)]
struct Step {
    audit: Vec<AuditEvent>,
    messages: Vec<StoredMessage>,
    jobs: Vec<Job>,
    correction: Option<Correction>,
}

impl Step {
    /// A step that only records an audit event.
    fn audit(event: AuditEvent) -> Step {
        Step {
            audit: vec![event],
            ..Step::default()
        }
    }
}

impl Pipeline {
    /// # Errors
    /// The configuration's SLA policy is invalid (`Settings::load` already checked it).
    pub fn new(
        store: Store,
        settings: Arc<Settings>,
        responses: Responses,
        metrics: Arc<Metrics>,
    ) -> Result<Pipeline, String> {
        let policy = settings.sla_policy()?;
        let burst =
            NonZeroU32::new(settings.flood.burst).ok_or("flood.burst must be at least 1")?;
        let period = std::time::Duration::from_secs(settings.flood.per_seconds.max(1));
        let quota = Quota::with_period(period)
            .ok_or("flood.per_seconds must be at least 1")?
            .allow_burst(burst);
        let classifier = classifier(&store, &settings)?;
        Ok(Pipeline {
            store,
            destinations: settings.forwarders.destinations(),
            forum: settings.channels.discord.enabled()
                && settings.channels.discord.staff_forum_id != 0,
            alert_destinations: settings.alert_destinations(),
            digest_lock: Mutex::new(()),
            retry: settings.retry_policy(),
            settings,
            policy,
            responses,
            classifier,
            flood: RateLimiter::keyed(quota),
            locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
            metrics,
            alarm: Arc::new(Alarm::default()),
            outbox: Arc::new(Notify::new()),
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn policy(&self) -> &SlaPolicy {
        &self.policy
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn alarm(&self) -> &Arc<Alarm> {
        &self.alarm
    }

    /// Tells the watcher about the thread's next alert, if it comes before its planned look.
    fn schedule(&self, thread: &Thread) {
        if let Some(at) = thread.pending_alerts().into_iter().map(|(at, _)| at).min() {
            self.alarm.due(at);
        }
    }

    pub fn outbox(&self) -> &Arc<Notify> {
        &self.outbox
    }

    async fn lock(&self, channel: &Channel, sender: &Sender) -> MutexGuard<'_, ()> {
        let mut h = DefaultHasher::new();
        (channel, sender).hash(&mut h);
        self.locks[(h.finish() as usize) % LOCK_STRIPES]
            .lock()
            .await
    }

    fn context<'a>(
        &'a self,
        reference: &'a str,
        due_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Context<'a> {
        let s = &self.settings;
        Context {
            late: due_at <= now,
            city: &s.city.name,
            reference,
            due_at,
            tz: s.city.timezone,
            customer_service_phone: &s.phones.customer_service,
            public_works_phone: &s.phones.public_works,
            emergency_number: &s.phones.emergency,
            website: &s.city.website,
        }
    }

    /// Handles one citizen's message. Returns only once the message and everything it
    /// caused are on disk.
    ///
    /// Cancellation-safe: the work runs in a task of its own, so a caller that goes away
    /// (a client hanging up) neither cuts it short nor releases the sender's lock before the
    /// write is applied; a retry then finds the message stored.
    ///
    /// # Errors
    /// The store failed; nothing was acknowledged.
    pub async fn receive(
        self: &Arc<Self>,
        msg: IncomingMessage,
        now: DateTime<Utc>,
    ) -> Result<Outcome, PipelineError> {
        let this = Arc::clone(self);
        detached(async move { this.receive_now(msg, now).await }).await
    }

    async fn receive_now(
        &self,
        msg: IncomingMessage,
        now: DateTime<Utc>,
    ) -> Result<Outcome, PipelineError> {
        let _guard = self.lock(&msg.channel, &msg.sender).await;

        if let Some(pid) = &msg.platform_id {
            if let Some(id) = self.store.seen(&msg.channel, &msg.sender, pid)? {
                let thread = self
                    .store
                    .thread(id)?
                    .ok_or(PipelineError::UnknownThread(id))?;
                Metrics::inc(&self.metrics.duplicates);
                return Ok(Outcome::duplicate(&thread));
            }
        }

        let classification = self.classifier.classify(msg.text.as_str());
        let reading = Reading {
            triage: Triage {
                category: classification.category,
                language: classification.language,
                confidence: classification.confidence,
            },
            abuse: match classification.moderation.verdict {
                Verdict::Clean => Abuse::Clean,
                Verdict::Profanity => Abuse::Profanity,
                Verdict::Insult => Abuse::Insult,
                Verdict::Threat => Abuse::Threat,
            },
            masked: masked_copy(&classification),
            reasons: staff_safe_reasons(&classification, msg.text.as_str()),
        };
        let record = self.store.sender(&msg.channel, &msg.sender)?;
        let flood_key = format!("{}\u{0}{}", msg.channel, msg.sender);
        let flood = self.flood.check_key(&flood_key).is_err();
        let latest = self.store.latest_thread(&msg.channel, &msg.sender)?;
        // Decided in a block: the rules borrow a closure that must not live across the commit.
        let d = {
            let open311_takes = |category| {
                self.settings
                    .forwarders
                    .open311()
                    .is_some_and(|o| o.service_codes.get(category).is_some())
            };
            let m = &self.settings.moderation;
            let rules = Rules {
                policy: &self.policy,
                reopen_within: Duration::hours(self.settings.threads.reopen_within_hours),
                min_confidence: self.settings.classifier.min_confidence,
                strike_period: Duration::days(m.strike_period_days),
                strikes_to_block: m.strikes_to_block,
                destinations: &self.destinations,
                open311_takes: &open311_takes,
                forum: self.forum,
            };
            intake::decide(
                &msg,
                &reading,
                latest,
                record,
                flood,
                || self.store.next_thread_id(),
                &rules,
                self,
                now,
            )?
        };
        self.count(&d);

        let mut write = ThreadWrite::new(d.previous, d.thread);
        write.messages = d.messages;
        write.audit = d.audit;
        write.dedupe = msg.platform_id.clone();
        write.sender = d.sender;
        let queued = !d.jobs.is_empty();
        write.jobs = d.jobs;
        let thread = self.store.commit(write).await?;
        self.metrics.received(thread.category);
        self.schedule(&thread);
        if queued {
            self.outbox.notify_one();
        }

        Ok(Outcome {
            thread_id: thread.id,
            category: thread.category,
            language: thread.language,
            acknowledgment: d.acknowledgment,
            warning: d.warning,
            forwarded: thread.forwarded_at.is_some() && thread.state != ThreadState::Resolved,
            due_at: thread.clock.due_at,
            duplicate: false,
        })
    }

    /// The metrics of what a message did.
    fn count(&self, d: &Decision) {
        let m = &self.metrics;
        match d.ignored {
            Some(Ignored::Blocked) => Metrics::inc(&m.blocked_messages),
            Some(Ignored::Flood) => Metrics::inc(&m.floods),
            None => {}
        }
        if d.acknowledgment.is_some() {
            Metrics::inc(&m.acknowledgments);
        }
        if d.faq {
            Metrics::inc(&m.faq_answers);
        }
        if d.warning.is_some() {
            Metrics::inc(&m.warnings);
        }
        if d.forwarded {
            Metrics::inc(&m.forwarded);
        }
    }

    /// [`Pipeline::act`] in a task of its own (see [`Pipeline::receive`]): a staff action that
    /// completes whether or not its caller still waits.
    async fn act_detached(
        self: &Arc<Self>,
        id: ThreadId,
        action: impl FnOnce(&Pipeline, &mut Thread) -> Result<Step, PipelineError> + Send + 'static,
    ) -> Result<Thread, PipelineError> {
        let this = Arc::clone(self);
        detached(async move {
            let (thread, ()) = this
                .act(id, |t| action(&this, t).map(|step| (step, ())))
                .await?;
            Ok(thread)
        })
        .await
    }

    /// Runs a staff action on a thread under its sender's lock, writes and flushes it.
    async fn act<T>(
        &self,
        id: ThreadId,
        action: impl FnOnce(&mut Thread) -> Result<(Step, T), PipelineError>,
    ) -> Result<(Thread, T), PipelineError> {
        self.act_deduped(id, None, action).await
    }

    /// As [`Pipeline::act`], remembering the platform message that caused the action.
    async fn act_deduped<T>(
        &self,
        id: ThreadId,
        platform_id: Option<PlatformMessageId>,
        action: impl FnOnce(&mut Thread) -> Result<(Step, T), PipelineError>,
    ) -> Result<(Thread, T), PipelineError> {
        let peek = self
            .store
            .thread(id)?
            .ok_or(PipelineError::UnknownThread(id))?;
        let _guard = self.lock(&peek.channel, &peek.sender).await;
        let previous = self
            .store
            .thread(id)?
            .ok_or(PipelineError::UnknownThread(id))?;
        // Checked under the lock, so that two deliveries of one platform message racing
        // cannot both be recorded.
        if let Some(pid) = &platform_id {
            if self
                .store
                .seen(&previous.channel, &previous.sender, pid)?
                .is_some()
            {
                return Err(PipelineError::Duplicate(id));
            }
        }
        let mut thread = previous.clone();
        let (step, value) = action(&mut thread)?;
        let mut write = ThreadWrite::new(Some(previous), thread);
        write.dedupe = platform_id;
        write.correction = step.correction;
        write.audit = step.audit;
        write.messages = step.messages;
        write.jobs = step.jobs;
        let thread = self.store.commit(write).await?;
        self.schedule(&thread);
        Ok((thread, value))
    }

    /// An agent's answer: kept on the thread, stops the running clock (met or missed), and
    /// returned for the channel's adapter to deliver.
    ///
    /// # Errors
    /// Unknown thread, a resolved thread, or the store failed.
    pub async fn reply(
        self: &Arc<Self>,
        id: ThreadId,
        agent: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(Thread, Delivery), PipelineError> {
        let this = Arc::clone(self);
        let (agent, text) = (agent.to_owned(), text.to_owned());
        detached(async move { this.reply_now(id, &agent, &text, None, true, now).await }).await
    }

    /// `relay`: queue a job that sends the answer to the citizen (false when the citizen
    /// already has it, as for an answer typed in the platform's own inbox).
    async fn reply_now(
        &self,
        id: ThreadId,
        agent: &str,
        text: &str,
        platform_id: Option<PlatformMessageId>,
        relay: bool,
        now: DateTime<Utc>,
    ) -> Result<(Thread, Delivery), PipelineError> {
        let (thread, relayed) = self
            .act_deduped(id, platform_id, |t| {
                let event = t.answer(now, agent)?;
                let message = StoredMessage {
                    kind: MessageKind::Agent,
                    author: agent.to_owned(),
                    at: now,
                    text: text.to_owned(),
                    masked: None,
                    platform_id: None,
                    ignored: false,
                };
                let mut step = Step {
                    audit: vec![event],
                    messages: vec![message],
                    jobs: Vec::new(),
                    correction: None,
                };
                // Relayed to the citizen on their channel through the outbox (on the web only
                // when the site has a callback to receive it).
                // An erased or anonymised citizen has no address left to answer to.
                let to = Destination::citizen(t.channel.as_str())
                    .filter(|_| relay && crate::domain::privacy::is_person(&t.sender))
                    .filter(|d| {
                        *d != Destination::Web
                            || !self.settings.channels.web.callback_url.trim().is_empty()
                    });
                if let Some(to) = to {
                    let job = Job::reply(
                        to,
                        Reply {
                            thread_id: t.id,
                            seq: t.message_count,
                            kind: MessageKind::Agent,
                            channel: t.channel.to_string(),
                            recipient: t.sender.to_string(),
                            text: text.to_owned(),
                            language: t.language,
                            agent: Some(agent.to_owned()),
                            last_citizen_at: t.last_message_at,
                            at: now,
                            post: None,
                            post_id: None,
                            alert: None,
                        },
                        now,
                    );
                    step.audit
                        .push(guichet_event(now, AuditKind::Queued, job.id.to_string()));
                    step.jobs.push(job);
                }
                let relayed = !step.jobs.is_empty();
                Ok((step, relayed))
            })
            .await?;
        Metrics::inc(&self.metrics.agent_replies);
        if relayed {
            self.outbox.notify_one();
        }
        let delivery = Delivery {
            thread_id: thread.id,
            channel: thread.channel.clone(),
            sender: thread.sender.clone(),
            agent: agent.to_owned(),
            text: text.to_owned(),
            at: now,
            relayed,
        };
        Ok((thread, delivery))
    }

    /// An agent's answer given on a platform (a message in the thread's forum post):
    /// as [`Pipeline::reply`], and a redelivery of the same platform message changes nothing.
    ///
    /// # Errors
    /// As [`Pipeline::reply`].
    pub async fn reply_from_platform(
        self: &Arc<Self>,
        id: ThreadId,
        agent: &str,
        text: &str,
        platform_id: PlatformMessageId,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>, PipelineError> {
        self.platform_answer(id, agent, text, platform_id, true, now)
            .await
    }

    /// An agent's answer the citizen already received, typed in the platform's own tools
    /// (Meta's Page inbox, seen as a Messenger echo): kept on the thread and stopping the
    /// clock as [`Pipeline::reply`] does, but never sent again. A redelivery of the same
    /// platform message changes nothing.
    ///
    /// # Errors
    /// As [`Pipeline::reply`].
    pub async fn record_platform_answer(
        self: &Arc<Self>,
        id: ThreadId,
        agent: &str,
        text: &str,
        platform_id: PlatformMessageId,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>, PipelineError> {
        self.platform_answer(id, agent, text, platform_id, false, now)
            .await
    }

    async fn platform_answer(
        self: &Arc<Self>,
        id: ThreadId,
        agent: &str,
        text: &str,
        platform_id: PlatformMessageId,
        relay: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<Delivery>, PipelineError> {
        let this = Arc::clone(self);
        let (agent, text) = (agent.to_owned(), text.to_owned());
        detached(async move {
            match this
                .reply_now(id, &agent, &text, Some(platform_id), relay, now)
                .await
            {
                Ok((_, delivery)) => Ok(Some(delivery)),
                Err(PipelineError::Duplicate(_)) => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// An agent's internal note on a thread: kept for staff, recorded in the audit, never
    /// sent. A redelivery of the same platform message changes nothing.
    ///
    /// # Errors
    /// Unknown thread, or the store failed.
    pub async fn note(
        self: &Arc<Self>,
        id: ThreadId,
        agent: &str,
        text: &str,
        platform_id: Option<PlatformMessageId>,
        now: DateTime<Utc>,
    ) -> Result<Thread, PipelineError> {
        let this = Arc::clone(self);
        let (agent, text) = (agent.to_owned(), text.to_owned());
        detached(async move {
            let noted = this
                .act_deduped(id, platform_id, |_| {
                    let step = Step {
                        audit: vec![AuditEvent::new(now, AuditKind::Note, &agent, "")],
                        messages: vec![StoredMessage {
                            kind: MessageKind::Note,
                            author: agent.clone(),
                            at: now,
                            text: text.clone(),
                            masked: None,
                            platform_id: None,
                            ignored: false,
                        }],
                        jobs: Vec::new(),
                        correction: None,
                    };
                    Ok((step, ()))
                })
                .await;
            match noted {
                Ok((thread, ())) => Ok(thread),
                Err(PipelineError::Duplicate(id)) => this
                    .store
                    .thread(id)?
                    .ok_or(PipelineError::UnknownThread(id)),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// An agent takes a thread in hand.
    ///
    /// # Errors
    /// Unknown or resolved thread, or the store failed.
    pub async fn claim(
        self: &Arc<Self>,
        id: ThreadId,
        agent: &str,
        now: DateTime<Utc>,
    ) -> Result<Thread, PipelineError> {
        let agent = agent.to_owned();
        self.act_detached(id, move |_, t| Ok(Step::audit(t.claim(&agent, now)?)))
            .await
    }

    /// A person corrects a thread's category: its clock is re-planned, and the correction
    /// is recorded under their name (and kept to learn from).
    ///
    /// # Errors
    /// Unknown thread, or the store failed.
    pub async fn correct(
        self: &Arc<Self>,
        id: ThreadId,
        category: Category,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Thread, PipelineError> {
        let actor = actor.to_owned();
        self.act_detached(id, move |this, t| {
            let Some(event) = t.correct(category, &this.policy, &actor, now) else {
                return Ok(Step::default());
            };
            // What the classifier read: the message that opened the thread, as agents see it
            // (insults masked).
            let text = this
                .store
                .messages(id)?
                .into_iter()
                .find(|m| m.kind == MessageKind::Citizen)
                .map(|m| m.masked.unwrap_or(m.text))
                .unwrap_or_default();
            Ok(Step {
                correction: Some(Correction {
                    thread_id: id,
                    category,
                    language: t.language,
                    text,
                    actor: actor.clone(),
                    at: now,
                }),
                ..Step::audit(event)
            })
        })
        .await
    }

    /// Closes a thread.
    ///
    /// # Errors
    /// Unknown or already resolved thread, or the store failed.
    pub async fn resolve(
        self: &Arc<Self>,
        id: ThreadId,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Thread, PipelineError> {
        let actor = actor.to_owned();
        self.act_detached(id, move |_, t| Ok(Step::audit(t.resolve(now, &actor)?)))
            .await
    }

    /// Records the at-risk and overdue transitions due at `now`; returns when the watcher
    /// must look again. The threads' writes run together, so that they share group commits
    /// (a few flushes per wake-up, not one per alert) and the watcher keeps up under load.
    ///
    /// # Errors
    /// The store failed.
    pub async fn record_alerts(
        self: &Arc<Self>,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, PipelineError> {
        const AT_ONCE: usize = 512;
        let due = self.store.alerts_due(now)?;
        for chunk in due.chunks(AT_ONCE) {
            let mut writes = tokio::task::JoinSet::new();
            for &id in chunk {
                let this = Arc::clone(self);
                writes.spawn(async move { this.record_alert(id, now).await });
            }
            while let Some(done) = writes.join_next().await {
                match done.map_err(|e| PipelineError::Aborted(e.to_string()))? {
                    Ok(()) => Metrics::inc(&self.metrics.alerts),
                    Err(PipelineError::UnknownThread(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        self.outbox.notify_one();
        Ok(self.store.next_alert()?)
    }

    /// One thread's alert, with one job for each alert destination configured, written with
    /// the transition: the alert is pushed once, even across restarts.
    async fn record_alert(&self, id: ThreadId, now: DateTime<Utc>) -> Result<(), PipelineError> {
        self.act(id, |t| {
            let mut step = Step::default();
            if let Some(event) = t.alert(now) {
                step.audit.push(event);
                for &destination in &self.alert_destinations {
                    let job = alert_job(t, now, destination);
                    step.audit
                        .push(guichet_event(now, AuditKind::Queued, job.id.to_string()));
                    step.jobs.push(job);
                }
            }
            Ok((step, ()))
        })
        .await
        .map(|_| ())
    }

    /// Lifts a sender's block.
    ///
    /// # Errors
    /// The store failed. Returns false when the sender was not blocked.
    pub async fn unblock(
        self: &Arc<Self>,
        channel: &Channel,
        sender: &Sender,
    ) -> Result<bool, PipelineError> {
        let this = Arc::clone(self);
        let (channel, sender) = (channel.clone(), sender.clone());
        detached(async move {
            let _guard = this.lock(&channel, &sender).await;
            let mut record: SenderRecord = this.store.sender(&channel, &sender)?;
            if !record.unblock() {
                return Ok(false);
            }
            this.store.commit_sender(&channel, &sender, &record).await?;
            Ok(true)
        })
        .await
    }

    /// Forgets the flood limiter's senders that are back to a full allowance, so that its
    /// memory follows the senders active now, not every sender ever seen.
    pub fn forget_idle_senders(&self) {
        self.flood.retain_recent();
        self.flood.shrink_to_fit();
    }
}

/// The outbox: what the worker and the coordinator do to jobs. Every change to a job is a
/// step of its thread's life, written with the thread's audit log under the sender's lock.
impl Pipeline {
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The first `limit` queued jobs, soonest due first.
    ///
    /// # Errors
    /// The store failed.
    pub fn queue_head(&self, limit: usize) -> Result<Vec<(DateTime<Utc>, JobId)>, PipelineError> {
        Ok(self.store.queue_head(limit)?)
    }

    /// # Errors
    /// The store failed.
    pub fn job(&self, id: &JobId) -> Result<Option<Job>, PipelineError> {
        Ok(self.store.job(id)?)
    }

    /// The outbox jobs `filter` selects, oldest first.
    ///
    /// # Errors
    /// The store failed.
    pub fn outbox_entries(
        &self,
        filter: crate::staff::OutboxFilter,
    ) -> Result<Vec<crate::staff::OutboxEntry>, PipelineError> {
        let mut jobs = Vec::new();
        for state in filter.states() {
            jobs.extend(self.store.jobs_in(*state)?);
        }
        jobs.sort_by_key(|j| j.created_at);
        Ok(jobs.iter().map(crate::staff::OutboxEntry::of).collect())
    }

    /// One page of the outbox jobs `filter` selects, in job-id order, after the job `after`.
    ///
    /// # Errors
    /// The store failed.
    pub fn outbox_page(
        &self,
        filter: crate::staff::OutboxFilter,
        after: Option<&JobId>,
        limit: usize,
    ) -> Result<(Vec<crate::staff::OutboxEntry>, Option<JobId>), PipelineError> {
        let (jobs, next) = self.store.jobs_page(filter.states(), after, limit)?;
        Ok((
            jobs.iter().map(crate::staff::OutboxEntry::of).collect(),
            next,
        ))
    }

    /// Records the result of an attempt made on `job` in `phase`: the job moves on (done,
    /// retried later, tracked, dead), the thread's ticket and audit log follow, and a 311
    /// request closed by the city resolves the thread. An attempt on a job that changed
    /// meanwhile (done, or in another phase) is dropped.
    ///
    /// # Errors
    /// The store failed.
    pub async fn record_attempt(
        &self,
        id: &JobId,
        phase: &Phase,
        attempt: Attempt,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> Result<Option<JobEvent>, PipelineError> {
        let Some(thread_id) = id.thread_id() else {
            return self
                .record_digest_attempt(id, phase, attempt, now, jitter)
                .await;
        };
        let (_, event) = self
            .act(thread_id, |thread| {
                let Some(mut job) = self.store.job(id)? else {
                    return Ok((Step::default(), None));
                };
                if !job.is_queued() || &job.phase != phase {
                    return Ok((Step::default(), None));
                }
                let event = job.apply(attempt, now, &self.retry, jitter);
                let mut step = Step::default();
                self.job_moved(thread, &job, &event, now, &mut step.audit)?;
                step.jobs.push(job);
                Ok((step, Some(event)))
            })
            .await?;
        Ok(event)
    }

    /// The thread's side of a job's move: its ticket, its audit log, the metrics.
    fn job_moved(
        &self,
        thread: &mut Thread,
        job: &Job,
        event: &JobEvent,
        now: DateTime<Utc>,
        audit: &mut Vec<AuditEvent>,
    ) -> Result<(), PipelineError> {
        let dest = job.destination;
        let mut status = None;
        match event {
            JobEvent::Delivered { ticket_id } => {
                status = Some(TicketStatus::Delivered);
                let detail = match ticket_id {
                    Some(t) => format!("{dest}: ticket {t}"),
                    None => format!("{dest}"),
                };
                audit.push(guichet_event(now, AuditKind::Delivered, detail));
                Metrics::inc(&self.metrics.outbox_delivered);
                self.metrics
                    .delivery_latency
                    .observe((now - job.created_at).num_milliseconds() as f64 / 1000.0);
            }
            JobEvent::Batched { token } => {
                status = Some(TicketStatus::Delivered);
                audit.push(guichet_event(
                    now,
                    AuditKind::Delivered,
                    format!("{dest}: batch token {token}"),
                ));
                Metrics::inc(&self.metrics.outbox_delivered);
                self.metrics
                    .delivery_latency
                    .observe((now - job.created_at).num_milliseconds() as f64 / 1000.0);
            }
            JobEvent::TokenResolved { request_id } => {
                audit.push(guichet_event(
                    now,
                    AuditKind::Delivered,
                    format!("{dest}: service request {request_id}"),
                ));
            }
            JobEvent::Closed { notes } => {
                status = Some(TicketStatus::Closed);
                let detail = format!(
                    "{dest} closed the request{}",
                    notes
                        .as_deref()
                        .map(|n| format!(": {}", n.chars().take(200).collect::<String>()))
                        .unwrap_or_default()
                );
                if thread.state == ThreadState::Resolved {
                    audit.push(AuditEvent::new(
                        now,
                        AuditKind::Delivered,
                        dest.as_str(),
                        detail,
                    ));
                } else {
                    let mut event = thread.resolve(now, dest.as_str())?;
                    event.detail = detail;
                    audit.push(event);
                }
            }
            JobEvent::Untracked => status = Some(TicketStatus::Untracked),
            JobEvent::Waiting => {}
            JobEvent::Failed { error, retry_at } => {
                audit.push(guichet_event(
                    now,
                    AuditKind::DeliveryFailed,
                    format!(
                        "{dest} attempt {}: {}; next attempt {}",
                        job.attempts,
                        short(&error.to_string()),
                        retry_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                ));
                Metrics::inc(&self.metrics.outbox_failures);
            }
            JobEvent::Dead { error } => {
                status = Some(TicketStatus::Dead);
                audit.push(guichet_event(
                    now,
                    AuditKind::DeliveryDead,
                    format!(
                        "{dest} gave up after {} attempts: {}",
                        job.attempts,
                        short(&error.to_string())
                    ),
                ));
                Metrics::inc(&self.metrics.outbox_failures);
                Metrics::inc(&self.metrics.outbox_dead);
                // A word that never reached the citizen: the coordinator must see the thread
                // and have the citizen called back.
                if job.reply_payload().is_some() && !job.is_alert() && !thread.needs_triage {
                    thread.needs_triage = true;
                    audit.push(guichet_event(
                        now,
                        AuditKind::NeedsTriage,
                        format!("{dest} could not reach the citizen: call them back"),
                    ));
                }
            }
        }
        if let Some(t) = thread.ticket_mut(&job.id) {
            if let Some(s) = status {
                t.status = s;
            }
            if job.ticket_id.is_some() {
                t.ticket_id = job.ticket_id.clone();
            }
            t.updated_at = now;
        }
        Ok(())
    }

    /// The coordinator asks for another attempt now (a dead job comes back to life).
    ///
    /// # Errors
    /// Unknown job, a job with nothing left to do, or the store failed.
    pub async fn retry_job(
        self: &Arc<Self>,
        id: &JobId,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Job, PipelineError> {
        let this = Arc::clone(self);
        let (id, actor) = (id.clone(), actor.to_owned());
        detached(async move { this.retry_job_now(&id, &actor, now).await }).await
    }

    async fn retry_job_now(
        &self,
        id: &JobId,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Job, PipelineError> {
        let Some(thread_id) = id.thread_id() else {
            return self.retry_digest_job(id, now).await;
        };
        if self.store.job(id)?.is_none() {
            return Err(PipelineError::UnknownJob(id.clone()));
        }
        let (_, job) = self
            .act(thread_id, |thread| {
                let mut job = self
                    .store
                    .job(id)?
                    .ok_or_else(|| PipelineError::UnknownJob(id.clone()))?;
                job.retry(now).map_err(PipelineError::Job)?;
                if let Some(t) = thread.ticket_mut(&job.id) {
                    if t.status == TicketStatus::Dead {
                        t.status = if job.state == JobState::Pending {
                            TicketStatus::Queued
                        } else {
                            TicketStatus::Delivered
                        };
                        t.updated_at = now;
                    }
                }
                let step = Step {
                    audit: vec![AuditEvent::new(
                        now,
                        AuditKind::DeliveryRetried,
                        actor,
                        job.id.to_string(),
                    )],
                    jobs: vec![job.clone()],
                    ..Step::default()
                };
                Ok((step, job))
            })
            .await?;
        self.outbox.notify_one();
        Ok(job)
    }
}

/// guichet's texts, rendered from the city's templates.
impl Voice for Pipeline {
    /// An info request that matches a FAQ entry gets that answer in its acknowledgment.
    fn acknowledgment(
        &self,
        thread: &Thread,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<(String, Option<String>), String> {
        let reference = thread.id.to_string();
        let ctx = self.context(&reference, thread.clock.due_at, now);
        let faq = if thread.category == Category::Info {
            let normalized = classify::normalize(text);
            self.responses
                .faq(thread.language, &normalized, &ctx)
                .map_err(|e| e.to_string())?
        } else {
            None
        };
        let text = self
            .responses
            .acknowledgment(
                thread.language,
                thread.category,
                &ctx,
                faq.as_ref().map(|f| f.answer.as_str()),
            )
            .map_err(|e| e.to_string())?;
        Ok((text, faq.map(|f| f.id)))
    }

    fn warning(&self, thread: &Thread, now: DateTime<Utc>) -> Result<String, String> {
        let reference = thread.id.to_string();
        let ctx = self.context(&reference, thread.clock.due_at, now);
        self.responses
            .warning(thread.language, &ctx)
            .map_err(|e| e.to_string())
    }
}

/// The built-in classifier, or, with `classifier.learn_from_corrections`, one trained once
/// at start-up on the built-in corpus and the staff's corrections kept in the store.
fn classifier(store: &Store, settings: &Settings) -> Result<&'static Classifier, String> {
    if !settings.classifier.learn_from_corrections {
        return Ok(Classifier::builtin());
    }
    let corrections = store.corrections().map_err(|e| e.to_string())?;
    if corrections.is_empty() {
        return Ok(Classifier::builtin());
    }
    let extra: Vec<classify::Example> = corrections
        .into_iter()
        .filter(|c| !c.text.trim().is_empty())
        .map(|c| classify::Example {
            label: c.category,
            lang: c.language,
            text: c.text,
        })
        .collect();
    let trained = Classifier::train_with(&extra).map_err(|e| e.to_string())?;
    tracing::info!(
        corrections = extra.len(),
        "the classifier learned from staff corrections"
    );
    // Trained once per process, shared like the built-in one.
    Ok(Box::leak(Box::new(trained)))
}

/// The alert for the level `thread` just reached, bound for `destination`, numbered after
/// the thread's audit events (each alert has its own job per destination).
fn alert_job(thread: &Thread, now: DateTime<Utc>, destination: Destination) -> Job {
    Job::reply(
        destination,
        Reply {
            thread_id: thread.id,
            seq: thread.audit_count,
            kind: MessageKind::Note,
            channel: thread.channel.to_string(),
            recipient: thread.sender.to_string(),
            text: String::new(),
            language: thread.language,
            agent: None,
            last_citizen_at: thread.last_message_at,
            at: now,
            post: Some(crate::domain::outbox::PostInfo {
                opens: false,
                category: thread.category,
                confidence: thread.confidence,
                reasons: String::new(),
                due_at: thread.clock.due_at,
                needs_triage: thread.needs_triage,
                abusive: thread.abusive,
            }),
            post_id: intake::forum_post_id(thread),
            alert: Some(thread.alerted),
        },
        now,
    )
}

/// Runs `work` in a task of its own and waits for it: dropping the wait does not stop the
/// work (see [`Pipeline::receive`]).
async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, PipelineError>> + Send + 'static,
) -> Result<T, PipelineError> {
    tokio::spawn(work)
        .await
        .map_err(|e| PipelineError::Aborted(e.to_string()))?
}

fn short(s: &str) -> String {
    if s.chars().count() > 300 {
        s.chars().take(299).chain(['…']).collect()
    } else {
        s.to_owned()
    }
}

/// An audit event of guichet's own doing.
fn guichet_event(now: DateTime<Utc>, kind: AuditKind, detail: impl Into<String>) -> AuditEvent {
    AuditEvent::new(now, kind, "guichet", detail)
}

impl Outcome {
    /// The answer to a redelivered message: the thread as it stands, nothing new to send.
    fn duplicate(thread: &Thread) -> Outcome {
        Outcome {
            thread_id: thread.id,
            category: thread.category,
            language: thread.language,
            acknowledgment: None,
            warning: None,
            forwarded: thread.forwarded_at.is_some(),
            due_at: thread.clock.due_at,
            duplicate: true,
        }
    }
}

/// The classifier's reasons as staff may read them: words moderation masked in the message
/// (quoted in a moderation reason, or among the model's top features) are masked there too.
fn staff_safe_reasons(c: &Classification, text: &str) -> String {
    let reasons = c.reasons.join("; ");
    match masked_copy(c) {
        Some(masked) => {
            let hidden = crate::domain::text::masked_words(text, &masked);
            crate::domain::text::redact(&reasons, &hidden)
        }
        None => reasons,
    }
}

/// The copy agents see: present only when moderation masked something.
fn masked_copy(c: &Classification) -> Option<String> {
    (c.moderation.verdict != Verdict::Clean).then(|| c.moderation.masked.clone())
}

/// Named staff and their tokens.
impl Pipeline {
    /// Who holds `token`: the bootstrap coordinator (`staff.token`), or a named member whose
    /// token is not revoked.
    ///
    /// # Errors
    /// The store failed.
    pub fn authenticate(&self, token: &str) -> Result<Option<Actor>, PipelineError> {
        let bootstrap = &self.settings.staff.token;
        if !bootstrap.is_empty() && bootstrap.matches(token) {
            return Ok(Some(Actor::bootstrap()));
        }
        Ok(self
            .store
            .member_by_token(&staff::token_hash(token))?
            .map(|m| Actor {
                name: m.name,
                role: m.role,
            }))
    }

    /// Adds a member with a new random token, returned once (only its hash is kept); an
    /// existing member of that name gets a new token and role, the old token stops working.
    ///
    /// # Errors
    /// A bad name, or the store failed.
    pub async fn add_member(
        &self,
        name: &str,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<(Member, String), PipelineError> {
        let name = staff::parse_name(name).map_err(PipelineError::Job)?;
        let token = hex::encode(rand::random::<[u8; 24]>());
        let previous = self.store.member(&name)?;
        let member = Member {
            name,
            role,
            token_hash: staff::token_hash(&token),
            added_at: now,
            revoked_at: None,
        };
        self.store.put_member(&member, previous.as_ref()).await?;
        Ok((member, token))
    }

    /// Revokes a member's token. Returns false when there was no such active member.
    ///
    /// # Errors
    /// The store failed.
    pub async fn revoke_member(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, PipelineError> {
        let Some(member) = self.store.member(name.trim())? else {
            return Ok(false);
        };
        if member.revoked_at.is_some() {
            return Ok(false);
        }
        let revoked = Member {
            revoked_at: Some(now),
            ..member.clone()
        };
        self.store.put_member(&revoked, Some(&member)).await?;
        Ok(true)
    }

    /// Every member, revoked ones included.
    ///
    /// # Errors
    /// The store failed.
    pub fn members(&self) -> Result<Vec<Member>, PipelineError> {
        Ok(self.store.members()?)
    }
}

/// Read access for the staff, so that adapters never hold the store.
impl Pipeline {
    /// The thread whose agents' forum post is `post_id`.
    ///
    /// # Errors
    /// The store failed.
    pub fn thread_of_post(&self, post_id: &str) -> Result<Option<ThreadId>, PipelineError> {
        Ok(self.store.thread_by_remote(Destination::Forum, post_id)?)
    }

    /// The response-time report of the threads opened from `from` to `to` (city-local days,
    /// both included). Reads the range's report records: run it off the async workers.
    ///
    /// # Errors
    /// The store failed.
    pub fn report(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<crate::domain::report::Report, PipelineError> {
        let tz = self.settings.city.timezone;
        let threads = self.facts_opened(from, to)?;
        Ok(crate::domain::report::build(
            &threads,
            &self.policy,
            tz,
            from,
            to,
            now,
        ))
    }

    /// Every correction of a category by staff.
    ///
    /// # Errors
    /// The store failed.
    pub fn corrections(&self) -> Result<Vec<Correction>, PipelineError> {
        Ok(self.store.corrections()?)
    }

    /// The thread, as it is now.
    ///
    /// # Errors
    /// The store failed.
    /// The sender's latest thread on a channel, whatever its state.
    ///
    /// # Errors
    /// The store failed.
    pub fn latest_thread(
        &self,
        channel: &Channel,
        sender: &Sender,
    ) -> Result<Option<Thread>, PipelineError> {
        Ok(self.store.latest_thread(channel, sender)?)
    }

    pub fn thread(&self, id: ThreadId) -> Result<Option<Thread>, PipelineError> {
        Ok(self.store.thread(id)?)
    }

    /// # Errors
    /// The store failed.
    pub fn threads(
        &self,
        filter: crate::staff::Filter,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::staff::Summary>, PipelineError> {
        Ok(crate::staff::list(&self.store, filter, now)?)
    }

    /// One page of a list (see [`crate::staff::page`]).
    ///
    /// # Errors
    /// The store failed.
    pub fn threads_page(
        &self,
        filter: crate::staff::Filter,
        now: DateTime<Utc>,
        cursor: Option<&crate::staff::Cursor>,
        limit: usize,
    ) -> Result<crate::staff::Page, PipelineError> {
        Ok(crate::staff::page(&self.store, filter, now, cursor, limit)?)
    }

    /// # Errors
    /// The store failed; `Ok(None)` for an unknown thread.
    pub fn thread_detail(
        &self,
        id: ThreadId,
        now: DateTime<Utc>,
    ) -> Result<Option<crate::staff::Detail>, PipelineError> {
        Ok(crate::staff::detail(&self.store, id, now)?)
    }

    /// Gauges for `/metrics`, from the store's counted indexes: constant time, however many
    /// threads. Overdue and at-risk threads are those the watcher recorded (it records a
    /// transition within moments of its time).
    ///
    /// # Errors
    /// The store failed.
    pub fn gauges(&self) -> Result<Vec<Gauge>, PipelineError> {
        let by_state = ThreadState::ALL
            .iter()
            .map(|s| (format!("state=\"{s}\""), self.store.count_in(*s) as u64))
            .collect();
        let single = |value: usize| vec![(String::new(), value as u64)];
        Ok(vec![
            Gauge {
                name: "guichet_threads",
                help: "Threads by state.",
                samples: by_state,
            },
            Gauge {
                name: "guichet_threads_overdue",
                help: "Threads whose response is overdue.",
                samples: single(self.store.count_alerted(Alerted::Overdue)),
            },
            Gauge {
                name: "guichet_threads_at_risk",
                help: "Threads past their at-risk time, not yet overdue.",
                samples: single(self.store.count_alerted(Alerted::AtRisk)),
            },
            Gauge {
                name: "guichet_outbox_jobs",
                help: "Outbox jobs: pending delivery, delivered and followed (tracking), or dead.",
                samples: JobState::LISTED
                    .iter()
                    .map(|s| (format!("state=\"{s}\""), self.store.count_jobs(*s) as u64))
                    .collect(),
            },
        ])
    }
}
