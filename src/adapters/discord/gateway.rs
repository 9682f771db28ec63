//! The Discord gateway, through serenity: citizens' DMs become incoming messages; agents'
//! messages in a thread's forum post become its answers (or internal notes); buttons, the
//! category select and slash commands become staff actions, checked against the member's
//! roles by guichet on every interaction.
//!
//! What guichet sends in return goes through the outbox (see `delivery`), never from here,
//! except the ephemeral answers to interactions, which Discord wants within three seconds.
//! Bots' messages, guichet's own included, are ignored; a replayed dispatch changes nothing
//! (the pipeline recognises the message id).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serenity::all::{
    CommandInteraction, ComponentInteraction, Context, CreateAllowedMentions,
    CreateInteractionResponse, CreateInteractionResponseMessage, EditInteractionResponse,
    EventHandler, GatewayIntents, Interaction, Message, Ready,
};
use tokio::sync::watch;

use crate::config::DiscordSettings;
use crate::domain::message::{IncomingMessage, Limits, MessageKind, PlatformMessageId, RawMessage};
use crate::domain::outbox::Destination;
use crate::domain::sla::SlaStatus;
use crate::domain::thread::ThreadId;
use crate::forwarders::Forwarders;
use crate::pipeline::{Pipeline, PipelineError};
use crate::staff::Filter;
use crate::status::Connections;

use super::commands::{self, Row, StaffAction, StaffRole, ThreadSummary};
use super::courier::DiscordRest;
use super::delivery::{Alerts, DirectMessages, Forum, Shared};
use super::{channel_link, CHANNEL};

/// The intents guichet needs: DMs, and the staff server's messages with their content.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

struct Handler {
    pipeline: Arc<Pipeline>,
    settings: DiscordSettings,
    shared: Arc<Shared>,
    connections: Arc<Connections>,
}

/// Connects to Discord and serves it until `stop` turns true: registers the couriers, then
/// connects (and reconnects, with backoff, when Discord is unreachable or drops the session).
pub async fn run(
    pipeline: Arc<Pipeline>,
    forwarders: Arc<Forwarders>,
    connections: Arc<Connections>,
    mut stop: watch::Receiver<bool>,
) {
    let settings = pipeline.settings().channels.discord.clone();
    let timeout = Duration::from_secs(pipeline.settings().outbox.request_timeout_seconds);
    let rest = match DiscordRest::new(&settings, timeout) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "the Discord adapter cannot start");
            connections.set(CHANNEL, "failed");
            return;
        }
    };
    let shared = Shared::new(rest, settings.clone());
    forwarders.register(
        Destination::Discord,
        Arc::new(DirectMessages(Arc::clone(&shared))),
    );
    forwarders.register(Destination::Forum, Arc::new(Forum(Arc::clone(&shared))));
    let alerts = Alerts {
        shared: Arc::clone(&shared),
        tz: pipeline.settings().city.timezone,
        desk: pipeline.settings().desk.clone(),
    };
    forwarders.register(Destination::Alerts, Arc::new(alerts));
    pipeline.outbox().notify_one();

    let mut wait = Duration::from_secs(1);
    loop {
        connections.set(CHANNEL, "connecting");
        let handler = Handler {
            pipeline: Arc::clone(&pipeline),
            settings: settings.clone(),
            shared: Arc::clone(&shared),
            connections: Arc::clone(&connections),
        };
        let mut builder = serenity::http::HttpBuilder::new(settings.token.expose());
        if settings.api_url() != "https://discord.com" {
            // serenity's rate limiter builds its requests without the proxy: off, then.
            builder = builder.proxy(settings.api_url()).ratelimiter_disabled(true);
        }
        let built = serenity::client::ClientBuilder::new_with_http(builder.build(), intents())
            .event_handler(handler)
            .await;
        let started = std::time::Instant::now();
        match built {
            Ok(mut client) => {
                let shards = Arc::clone(&client.shard_manager);
                tokio::select! {
                    result = client.start() => {
                        if let Err(e) = result {
                            tracing::warn!(error = %e, "the Discord gateway stopped; reconnecting");
                        }
                    }
                    _ = stop.changed() => {
                        shards.shutdown_all().await;
                        connections.set(CHANNEL, "stopped");
                        return;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "Discord is unreachable; retrying"),
        }
        connections.set(CHANNEL, "disconnected");
        if started.elapsed() > Duration::from_secs(60) {
            wait = Duration::from_secs(1);
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        wait = (wait * 2).min(Duration::from_secs(60));
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _: Context, ready: Ready) {
        self.connections.set(CHANNEL, "connected");
        // Idempotent: setting the same commands again changes nothing.
        let definitions = commands::definitions();
        let app = ready.application.id.get();
        if let Err(e) = self
            .shared
            .rest()
            .put_commands(app, self.settings.guild_id, &definitions)
            .await
        {
            tracing::warn!(error = %e, "the slash commands could not be set");
        }
    }

    async fn message(&self, ctx: Context, message: Message) {
        if message.author.bot {
            return;
        }
        match message.guild_id {
            None => self.citizen_wrote(&message).await,
            Some(g) if g.get() == self.settings.guild_id => self.staff_wrote(&ctx, &message).await,
            Some(_) => {}
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match interaction {
            Interaction::Component(c) => self.component(&ctx, &c).await,
            Interaction::Command(c) => self.command(&ctx, &c).await,
            _ => {}
        }
    }
}

impl Handler {
    /// A citizen's DM: a message on the `discord` channel.
    async fn citizen_wrote(&self, message: &Message) {
        let mut text = message.content.clone();
        for a in &message.attachments {
            // Kept as links: agents open them on Discord.
            text.push_str(&format!("\n[pièce jointe / attachment] {}", a.url));
        }
        let raw = RawMessage {
            sender: Some(message.author.id.to_string()),
            text: Some(text),
            message_id: Some(message.id.to_string()),
            sent_at: Some(message.timestamp.to_string()),
            channel: Some(CHANNEL.to_owned()),
            sender_signature: None,
        };
        let settings = self.pipeline.settings();
        let limits = Limits {
            max_chars: settings.messages.max_chars,
            max_clock_skew: chrono::Duration::seconds(settings.messages.max_clock_skew_seconds),
            max_age: chrono::Duration::hours(settings.messages.max_age_hours),
        };
        let now = Utc::now();
        let incoming = match IncomingMessage::parse(raw, now, limits) {
            Ok(m) => m,
            Err(e) => {
                tracing::info!(problem = %e, "a Discord message was not taken");
                return;
            }
        };
        if let Err(e) = self.pipeline.receive(incoming, now).await {
            // Discord does not redeliver: the citizen sees no acknowledgment and writes again.
            tracing::error!(error = %e, "a Discord message could not be stored");
        }
    }

    /// A staff member's message in a thread's forum post: the agent's answer, relayed to the
    /// citizen, or an internal note when it starts with the note prefix.
    async fn staff_wrote(&self, ctx: &Context, message: &Message) {
        let post = message.channel_id.get().to_string();
        let thread = match self.pipeline.thread_of_post(&post) {
            Ok(Some(t)) => t,
            // The post may be so new that its delivery is not recorded yet: its title starts
            // with the thread's reference.
            Ok(None) => match self.reference_of_post(ctx, message).await {
                Some(t) => t,
                None => return,
            },
            Err(e) => {
                tracing::error!(error = %e, "the thread of a forum post could not be read");
                return;
            }
        };
        let roles: Vec<u64> = message
            .member
            .as_ref()
            .map(|m| m.roles.iter().map(|r| r.get()).collect())
            .unwrap_or_default();
        if commands::role_of(&roles, &self.settings).is_none() {
            return;
        }
        let agent = message
            .member
            .as_ref()
            .and_then(|m| m.nick.clone())
            .or_else(|| message.author.global_name.clone())
            .unwrap_or_else(|| message.author.name.clone());
        let Ok(platform_id) = PlatformMessageId::parse(&message.id.to_string()) else {
            return;
        };
        let text = message.content.trim();
        if text.is_empty() {
            return;
        }
        let now = Utc::now();
        let result = match text.strip_prefix(self.settings.note_prefix.as_str()) {
            Some(note) => self
                .pipeline
                .note(thread, &agent, note.trim(), Some(platform_id), now)
                .await
                .map(|_| ()),
            None => self
                .pipeline
                .reply_from_platform(thread, &agent, text, platform_id, now)
                .await
                .map(|_| ()),
        };
        if let Err(e) = result {
            tracing::warn!(thread = %thread, error = %e, "an agent's message in a post was not taken");
        }
    }

    /// The thread a post of the staff forum names in its title (`G-000042 · …`).
    async fn reference_of_post(&self, ctx: &Context, message: &Message) -> Option<ThreadId> {
        let channel = message.channel_id.to_channel(ctx).await.ok()?.guild()?;
        if channel.parent_id.map(|p| p.get()) != Some(self.settings.staff_forum_id) {
            return None;
        }
        let reference = channel.name.split_whitespace().next()?;
        let id = ThreadId::parse(reference).ok()?;
        self.pipeline.thread(id).ok().flatten().map(|t| t.id)
    }

    async fn component(&self, ctx: &Context, c: &ComponentInteraction) {
        let roles = member_roles(c.member.as_ref().map(|m| &m.roles));
        let name = display_name(c.member.as_ref().and_then(|m| m.nick.clone()), &c.user);
        let answer = match commands::from_component(&c.data) {
            Err(e) => commands::error_answer(&e),
            Ok(action) => {
                self.act(action, commands::role_of(&roles, &self.settings), &name)
                    .await
            }
        };
        let response = CreateInteractionResponse::Message(
            CreateInteractionResponseMessage::new()
                .content(answer)
                .ephemeral(true)
                .allowed_mentions(CreateAllowedMentions::new()),
        );
        if let Err(e) = c.create_response(&ctx.http, response).await {
            tracing::warn!(error = %e, "an interaction could not be answered");
        }
    }

    async fn command(&self, ctx: &Context, c: &CommandInteraction) {
        // Lists may take longer than Discord's three seconds: say "thinking" first.
        if let Err(e) = c.defer_ephemeral(&ctx.http).await {
            tracing::warn!(error = %e, "an interaction could not be deferred");
            return;
        }
        let roles = member_roles(c.member.as_ref().map(|m| &m.roles));
        let name = display_name(c.member.as_ref().and_then(|m| m.nick.clone()), &c.user);
        let answer = match commands::from_command(&c.data) {
            Err(e) => commands::error_answer(&e),
            Ok(action) => {
                self.act(action, commands::role_of(&roles, &self.settings), &name)
                    .await
            }
        };
        let edit = EditInteractionResponse::new()
            .content(answer)
            .allowed_mentions(CreateAllowedMentions::new());
        if let Err(e) = c.edit_response(&ctx.http, edit).await {
            tracing::warn!(error = %e, "an interaction could not be answered");
        }
    }

    /// Does what a staff member asked, when their role allows it; returns the answer.
    async fn act(&self, action: StaffAction, role: Option<StaffRole>, name: &str) -> String {
        let required = action.required_role();
        match role {
            Some(r) if r.may(&action) => {}
            _ => return commands::refused_answer(required),
        }
        let now = Utc::now();
        let parse = |r: &str| ThreadId::parse(r).ok();
        let result: Result<String, PipelineError> = match &action {
            StaffAction::Overdue | StaffAction::AtRisk => {
                let filter = if action == StaffAction::Overdue {
                    Filter::Overdue
                } else {
                    Filter::AtRisk
                };
                self.pipeline.threads(filter, now).map(|threads| {
                    let rows: Vec<Row> = threads
                        .iter()
                        .map(|t| Row {
                            reference: t.thread_id.to_string(),
                            category: t.category,
                            due_at: t.due_at,
                            post_link: self.post_link(&t.tickets),
                        })
                        .collect();
                    if filter == Filter::Overdue {
                        commands::overdue_answer(&rows, now)
                    } else {
                        commands::at_risk_answer(&rows, now)
                    }
                })
            }
            StaffAction::Thread(r) => match parse(r) {
                None => Ok(commands::unknown_thread_answer(r)),
                Some(id) => self.pipeline.thread_detail(id, now).map(|d| match d {
                    None => commands::unknown_thread_answer(r),
                    Some(d) => {
                        let s = &d.summary;
                        commands::thread_answer(&ThreadSummary {
                            reference: s.thread_id.to_string(),
                            category: s.category,
                            state: s.sla.to_string(),
                            language: s.language,
                            channel: s.channel.clone(),
                            opened_at: s.opened_at,
                            due_at: (s.state.awaits_answer()).then_some(s.due_at),
                            messages: d
                                .messages
                                .iter()
                                .filter(|m| m.kind != MessageKind::Note)
                                .count() as u32,
                            claimed_by: s.claimed_by.clone(),
                            post_link: self.post_link(&s.tickets),
                        })
                    }
                }),
            },
            StaffAction::Resolve(r) | StaffAction::ResolveButton(r) => match parse(r) {
                None => Ok(commands::unknown_thread_answer(r)),
                Some(id) => self
                    .pipeline
                    .resolve(id, name, now)
                    .await
                    .map(|_| commands::resolved_answer(r)),
            },
            StaffAction::Claim(r) => match parse(r) {
                None => Ok(commands::unknown_thread_answer(r)),
                Some(id) => self
                    .pipeline
                    .claim(id, name, now)
                    .await
                    .map(|_| commands::claimed_answer(r, name)),
            },
            StaffAction::Recategorise(r, category) => match parse(r) {
                None => Ok(commands::unknown_thread_answer(r)),
                Some(id) => {
                    let before = self.pipeline.thread(id).ok().flatten().map(|t| t.category);
                    self.pipeline
                        .correct(id, *category, name, now)
                        .await
                        .map(|t| {
                            commands::recategorised_answer(
                                r,
                                before.unwrap_or(t.category),
                                t.category,
                            )
                        })
                }
            },
            StaffAction::Stats => self.stats(now),
        };
        match result {
            Ok(answer) => answer,
            Err(PipelineError::UnknownThread(id)) => {
                commands::unknown_thread_answer(&id.to_string())
            }
            Err(e) => commands::error_answer(&commands::ActionError::Failed(e.to_string())),
        }
    }

    fn stats(&self, now: chrono::DateTime<Utc>) -> Result<String, PipelineError> {
        let open = self.pipeline.threads(Filter::Open, now)?;
        let count = |f: Filter| self.pipeline.threads(f, now).map(|t| t.len() as u64);
        let mut stats = commands::Stats {
            open: open.len() as u64,
            at_risk: count(Filter::AtRisk)?,
            overdue: count(Filter::Overdue)?,
            ..commands::Stats::default()
        };
        for t in self.pipeline.threads(Filter::All, now)? {
            for s in t.history.iter().chain(std::iter::once(&t.sla)) {
                match s {
                    SlaStatus::Met => stats.met += 1,
                    SlaStatus::Missed => stats.missed += 1,
                    _ => {}
                }
            }
        }
        Ok(commands::stats_answer(&stats))
    }

    fn post_link(&self, tickets: &[crate::domain::thread::TicketRef]) -> Option<String> {
        tickets
            .iter()
            .find(|t| t.destination == Destination::Forum)
            .and_then(|t| t.ticket_id.as_deref())
            .and_then(|p| p.parse::<u64>().ok())
            .map(|p| channel_link(self.settings.guild_id, p))
    }
}

fn member_roles(roles: Option<&Vec<serenity::all::RoleId>>) -> Vec<u64> {
    roles
        .map(|r| r.iter().map(|r| r.get()).collect())
        .unwrap_or_default()
}

fn display_name(nick: Option<String>, user: &serenity::all::User) -> String {
    nick.or_else(|| user.global_name.clone())
        .unwrap_or_else(|| user.name.clone())
}
