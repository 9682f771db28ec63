//! The Discord adapter: citizens write to the city's bot in direct messages; agents work in a
//! forum of the staff server, one post per forwarded thread, and use slash commands there.
//!
//! # Layout
//!
//! - [`render`] — what a forum post, an appended citizen message and an alert look like, as
//!   values (title, content, components, allowed mentions). Pure.
//! - [`commands`] — the slash commands' definitions, staff interactions parsed into
//!   [`commands::StaffAction`]s, the role check and the ephemeral answers' text. Pure.
//! - [`courier`] — the REST client through which the outbox delivers jobs to Discord (DMs,
//!   forum posts, alerts), and the start-up calls (forum tags, commands). The only I/O here.
//!
//! This adapter never touches the store and never imports another adapter. Deliveries go
//! through [`courier::DiscordRest`] (plain `reqwest`), not serenity's `Http`: serenity loses a
//! 429's `retry_after`, and the outbox needs it. Everything sent carries `allowed_mentions`
//! that pings nobody, save an overdue alert, which pings the coordinator role by id.

pub mod commands;
pub mod courier;
pub mod delivery;
pub mod gateway;
pub mod render;

use serde_json::{json, Value};

/// Discord's limit on a message's content, in characters.
pub const MESSAGE_LIMIT: usize = 2000;

/// Discord's limit on a thread's (a forum post's) name, in characters.
pub const TITLE_LIMIT: usize = 100;

/// The channel name of threads that come from Discord.
pub const CHANNEL: &str = "discord";

/// `allowed_mentions` that pings nobody: not `@everyone`, no role, no user, whatever the
/// content says.
pub fn no_pings() -> Value {
    json!({ "parse": [] })
}

/// The link to a forum post (or any channel) of the staff server, as agents click it.
pub fn channel_link(guild_id: u64, channel_id: u64) -> String {
    format!("https://discord.com/channels/{guild_id}/{channel_id}")
}
