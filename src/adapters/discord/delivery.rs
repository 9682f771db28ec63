//! The outbox's couriers for Discord: a word for a citizen goes to their DM; a forwarded
//! thread's messages go to its post in the staff forum (the first one opens the post, tagged
//! with its category; later ones are appended).
//!
//! One attempt per call, through [`DiscordRest`]: nothing here retries or sleeps on a rate
//! limit (the outbox does, from the `retry_after` in the error). A post is looked up by its
//! reference before it is created, so that an attempt whose outcome was lost (a timeout, a
//! crash) never leaves two posts; messages carry a nonce derived from their job, which
//! Discord enforces.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::config::{DeskSettings, DiscordSettings};
use crate::domain::outbox::{Attempt, DeliveryError, Job, PostInfo, Reply};
use crate::domain::thread::Alerted;
use crate::domain::Category;
use crate::forwarders::{BoxFuture, Courier};

use super::courier::{nonce, DiscordRest};
use super::no_pings;
use super::render::{self, AlertLevel, PostView};

/// What both couriers share: the REST client, the settings, the forum's tags once known.
pub struct Shared {
    rest: DiscordRest,
    settings: DiscordSettings,
    tags: Mutex<Option<HashMap<Category, u64>>>,
}

impl Shared {
    pub fn new(rest: DiscordRest, settings: DiscordSettings) -> Arc<Shared> {
        Arc::new(Shared {
            rest,
            settings,
            tags: Mutex::new(None),
        })
    }

    pub fn rest(&self) -> &DiscordRest {
        &self.rest
    }

    /// The forum's category tags, created the first time they are needed.
    async fn tags(&self) -> Result<HashMap<Category, u64>, DeliveryError> {
        let mut tags = self.tags.lock().await;
        if let Some(t) = tags.as_ref() {
            return Ok(t.clone());
        }
        let found = self.rest.ensure_tags(self.settings.staff_forum_id).await?;
        *tags = Some(found.clone());
        Ok(found)
    }
}

/// Citizens' direct messages.
pub struct DirectMessages(pub Arc<Shared>);

/// The staff forum: one post per forwarded thread.
pub struct Forum(pub Arc<Shared>);

fn reply_of(job: &Job) -> Result<&Reply, Attempt> {
    job.reply_payload().ok_or_else(|| {
        Attempt::Failed(DeliveryError::permanent(
            "a Discord job carries no message to send",
        ))
    })
}

impl Courier for DirectMessages {
    fn attempt<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Attempt> {
        Box::pin(async move {
            let reply = match reply_of(job) {
                Ok(r) => r,
                Err(a) => return a,
            };
            let Ok(user) = reply.recipient.parse::<u64>() else {
                return Attempt::Failed(DeliveryError::permanent(
                    "the citizen's Discord id is not a number",
                ));
            };
            self.0
                .rest
                .send_dm(user, &reply.text, &nonce(job.id.as_str()))
                .await
        })
    }
}

impl Courier for Forum {
    fn attempt<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Attempt> {
        Box::pin(async move {
            let reply = match reply_of(job) {
                Ok(r) => r,
                Err(a) => return a,
            };
            let Some(info) = &reply.post else {
                return Attempt::Failed(DeliveryError::permanent(
                    "a forum job carries no triage to show",
                ));
            };
            let view = view(reply, info);
            let s = &self.0.settings;
            if info.opens {
                let tags = match self.0.tags().await {
                    Ok(t) => t,
                    Err(e) => return Attempt::Failed(e),
                };
                let spec = render::post(&view);
                let tag = tags.get(&spec.tag).copied();
                // Always look first: a crash may have cut short an attempt that created it.
                return self
                    .0
                    .rest
                    .deliver_post(s.guild_id, s.staff_forum_id, &spec, tag, true)
                    .await;
            }
            let post = match reply.post_id.as_deref().and_then(|p| p.parse::<u64>().ok()) {
                Some(p) => p,
                None => match self
                    .0
                    .rest
                    .find_post(s.guild_id, s.staff_forum_id, &view.reference)
                    .await
                {
                    Ok(Some(p)) => p,
                    Ok(None) => {
                        return Attempt::Failed(DeliveryError {
                            retry_after_secs: Some(2),
                            ..DeliveryError::transient("the thread's post is not created yet")
                        })
                    }
                    Err(e) => return Attempt::Failed(e),
                },
            };
            self.0
                .rest
                .send_message(
                    post,
                    &render::appended(&view),
                    &nonce(job.id.as_str()),
                    &no_pings(),
                    None,
                )
                .await
        })
    }
}

/// The coordinator's alerts channel: at-risk and overdue transitions, once each, and the
/// daily digest.
pub struct Alerts {
    pub shared: Arc<Shared>,
    /// The city's time zone and the desk's address, for the digest.
    pub tz: chrono_tz::Tz,
    pub desk: DeskSettings,
}

impl Courier for Alerts {
    fn attempt<'a>(&'a self, job: &'a Job) -> BoxFuture<'a, Attempt> {
        Box::pin(async move {
            let s = &self.shared.settings;
            if let Some(digest) = job.digest_payload() {
                let content = crate::notices::digest_post(digest, self.tz, &self.desk);
                return self
                    .shared
                    .rest
                    .send_message(
                        s.alerts_channel_id,
                        &content,
                        &nonce(job.id.as_str()),
                        &no_pings(),
                        None,
                    )
                    .await;
            }
            let reply = match reply_of(job) {
                Ok(r) => r,
                Err(a) => return a,
            };
            let (Some(info), Some(alerted)) = (&reply.post, reply.alert) else {
                return Attempt::Failed(DeliveryError::permanent("an alert job carries no alert"));
            };
            let level = match alerted {
                Alerted::Overdue => AlertLevel::Overdue,
                _ => AlertLevel::AtRisk,
            };
            let link = reply
                .post_id
                .as_deref()
                .and_then(|p| p.parse::<u64>().ok())
                .map(|p| super::channel_link(s.guild_id, p));
            let (content, mentions) = render::alert(
                level,
                &reply.thread_id.to_string(),
                info.category,
                info.due_at,
                link.as_deref(),
                s.coordinator_role_id,
            );
            self.shared
                .rest
                .send_message(
                    s.alerts_channel_id,
                    &content,
                    &nonce(job.id.as_str()),
                    &mentions,
                    None,
                )
                .await
        })
    }
}

/// What the post shows of a reply bound for the forum.
fn view(reply: &Reply, info: &PostInfo) -> PostView {
    PostView {
        reference: reply.thread_id.to_string(),
        category: info.category,
        language: reply.language,
        confidence: info.confidence,
        reasons: info
            .reasons
            .split("; ")
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        masked_text: reply.text.clone(),
        due_at: info.due_at,
        channel: reply.channel.clone(),
        needs_triage: info.needs_triage,
        abusive: info.abusive,
    }
}
