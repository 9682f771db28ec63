//! Discord's objects as JSON, complete as Discord's documentation shows them.
//!
//! serenity deserialises strictly and drops a gateway event it cannot read without a word, so
//! every builder here gives every field the documentation lists (nullable ones as `null`), not
//! only what serenity happens to require today. Snowflakes are strings, permissions are strings.

use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

/// Discord's epoch (2015-01-01T00:00:00Z) in Unix milliseconds.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// Permission bits (Discord's documentation, "Permissions").
pub mod permission {
    pub const CREATE_INSTANT_INVITE: u64 = 1 << 0;
    pub const MANAGE_CHANNELS: u64 = 1 << 4;
    pub const ADD_REACTIONS: u64 = 1 << 6;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const MANAGE_MESSAGES: u64 = 1 << 13;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const MENTION_EVERYONE: u64 = 1 << 17;
    pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
    pub const MANAGE_THREADS: u64 = 1 << 34;
    pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
    pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;

    /// What `@everyone` may do in the staff server: read and write, nothing more.
    pub const EVERYONE: u64 = CREATE_INSTANT_INVITE
        | ADD_REACTIONS
        | VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | SEND_MESSAGES_IN_THREADS;

    /// What the bot's own role grants: everything guichet does in the staff server.
    pub const BOT: u64 = EVERYONE | MANAGE_CHANNELS | MANAGE_MESSAGES | MANAGE_THREADS;
}

/// Gateway intent bits the fake looks at.
pub mod intent {
    pub const GUILDS: u64 = 1 << 0;
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    pub const DIRECT_MESSAGES: u64 = 1 << 12;
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
}

/// Channel types.
pub mod channel_type {
    pub const GUILD_TEXT: u64 = 0;
    pub const DM: u64 = 1;
    pub const PUBLIC_THREAD: u64 = 11;
    pub const GUILD_FORUM: u64 = 15;
}

/// A new snowflake: the time since Discord's epoch in the high bits, `counter` in the low ones,
/// so that ids grow with time the way Discord's do.
pub fn snowflake(counter: u64) -> u64 {
    let now = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(DISCORD_EPOCH_MS);
    (now.saturating_sub(DISCORD_EPOCH_MS) << 22) | (counter & 0x3F_FFFF)
}

/// Now, as Discord writes timestamps (ISO 8601 with microseconds and an offset).
pub fn timestamp() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Micros, false)
}

/// A user of the fake: the bot, a staff member or a citizen.
#[derive(Clone, Debug)]
pub struct FakeUser {
    pub id: u64,
    pub username: String,
    pub global_name: Option<String>,
    pub bot: bool,
    /// Roles in the staff server; empty for citizens, who are not members of it.
    pub roles: Vec<u64>,
}

impl FakeUser {
    pub fn new(id: u64, username: &str, global_name: Option<&str>, roles: Vec<u64>) -> Self {
        Self {
            id,
            username: username.to_owned(),
            global_name: global_name.map(str::to_owned),
            bot: false,
            roles,
        }
    }
}

/// The user object (Discord's "User Object").
pub fn user(u: &FakeUser) -> Value {
    json!({
        "id": u.id.to_string(),
        "username": u.username,
        "discriminator": "0",
        "global_name": u.global_name,
        "avatar": null,
        "bot": u.bot,
        "system": false,
        "banner": null,
        "accent_color": null,
        "public_flags": 0,
        "flags": 0,
        "avatar_decoration_data": null,
        "collectibles": null,
        "primary_guild": null,
    })
}

/// The bot as `GET /users/@me` and READY show it: with the fields only the owner sees.
pub fn current_user(u: &FakeUser) -> Value {
    let mut value = user(u);
    let object = value.as_object_mut().expect("a user is an object");
    object.insert("mfa_enabled".into(), json!(true));
    object.insert("locale".into(), json!("en-US"));
    object.insert("verified".into(), json!(true));
    object.insert("email".into(), Value::Null);
    object.insert("premium_type".into(), json!(0));
    value
}

/// A guild member (Discord's "Guild Member Object"), with its user.
pub fn member(u: &FakeUser, joined_at: &str) -> Value {
    json!({
        "user": user(u),
        "nick": null,
        "avatar": null,
        "banner": null,
        "roles": u.roles.iter().map(u64::to_string).collect::<Vec<_>>(),
        "joined_at": joined_at,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
        "avatar_decoration_data": null,
    })
}

/// A role (Discord's "Role Object"), `colors` included: serenity 0.12.5 requires it.
pub fn role(id: u64, name: &str, position: u64, permissions: u64, bot_id: Option<u64>) -> Value {
    let mut tags = json!({});
    if let Some(bot_id) = bot_id {
        tags = json!({ "bot_id": bot_id.to_string() });
    }
    json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": { "primary_color": 0, "secondary_color": null, "tertiary_color": null },
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": permissions.to_string(),
        "managed": bot_id.is_some(),
        "mentionable": bot_id.is_none(),
        "flags": 0,
        "tags": tags,
    })
}

/// A forum tag (Discord's "Forum Tag Object").
pub fn forum_tag(id: u64, name: &str) -> Value {
    json!({ "id": id.to_string(), "name": name, "moderated": false, "emoji_id": null, "emoji_name": null })
}

/// A text or forum channel of the guild (Discord's "Channel Object").
pub fn guild_channel(id: u64, guild_id: u64, kind: u64, name: &str, position: u64) -> Value {
    let mut channel = json!({
        "id": id.to_string(),
        "type": kind,
        "guild_id": guild_id.to_string(),
        "position": position,
        "permission_overwrites": [],
        "name": name,
        "topic": null,
        "nsfw": false,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "parent_id": null,
        "last_pin_timestamp": null,
        "flags": 0,
        "default_auto_archive_duration": 4320,
    });
    if kind == channel_type::GUILD_FORUM {
        let object = channel.as_object_mut().expect("a channel is an object");
        object.insert("available_tags".into(), json!([]));
        object.insert("default_reaction_emoji".into(), Value::Null);
        object.insert("default_thread_rate_limit_per_user".into(), json!(0));
        object.insert("default_sort_order".into(), Value::Null);
        object.insert("default_forum_layout".into(), json!(0));
    }
    channel
}

/// A direct-message channel with one recipient.
pub fn dm_channel(id: u64, recipient: &FakeUser) -> Value {
    json!({
        "id": id.to_string(),
        "type": channel_type::DM,
        "last_message_id": null,
        "recipients": [user(recipient)],
        "flags": 0,
    })
}

/// A public thread, as a forum post is (Discord's "Thread-specific Channel Fields").
pub fn thread(
    id: u64,
    guild_id: u64,
    parent_id: u64,
    owner_id: u64,
    name: &str,
    applied_tags: &[String],
) -> Value {
    let now = timestamp();
    json!({
        "id": id.to_string(),
        "type": channel_type::PUBLIC_THREAD,
        "guild_id": guild_id.to_string(),
        "parent_id": parent_id.to_string(),
        "owner_id": owner_id.to_string(),
        "name": name,
        "last_message_id": id.to_string(),
        "last_pin_timestamp": null,
        "rate_limit_per_user": 0,
        "flags": 0,
        "applied_tags": applied_tags,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "thread_metadata": {
            "archived": false,
            "auto_archive_duration": 4320,
            "archive_timestamp": now,
            "locked": false,
            "create_timestamp": now,
        },
    })
}

/// A message (Discord's "Message Object"). `guild_id` and `member` are set by the caller for
/// gateway dispatches of guild messages; REST answers carry neither, as on Discord.
pub fn message(id: u64, channel_id: u64, author: &FakeUser, content: &str) -> Value {
    json!({
        "id": id.to_string(),
        "channel_id": channel_id.to_string(),
        "author": user(author),
        "content": content,
        "timestamp": timestamp(),
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "reactions": [],
        "pinned": false,
        "type": 0,
        "flags": 0,
        "components": [],
    })
}

/// An attachment (Discord's "Attachment Object") hosted on Discord's CDN.
pub fn attachment(
    id: u64,
    channel_id: u64,
    filename: &str,
    content_type: &str,
    size: u64,
) -> Value {
    let url = format!("https://cdn.discordapp.com/attachments/{channel_id}/{id}/{filename}");
    let proxy_url =
        format!("https://media.discordapp.net/attachments/{channel_id}/{id}/{filename}");
    json!({
        "id": id.to_string(),
        "filename": filename,
        "content_type": content_type,
        "size": size,
        "url": url,
        "proxy_url": proxy_url,
        "ephemeral": false,
    })
}

/// The application (`GET /oauth2/applications/@me`).
pub fn application(id: u64, bot: &FakeUser, owner: &FakeUser) -> Value {
    json!({
        "id": id.to_string(),
        "name": bot.username,
        "icon": null,
        "description": "Le guichet de la ville",
        "rpc_origins": [],
        "bot_public": false,
        "bot_require_code_grant": false,
        "bot": user(bot),
        "terms_of_service_url": null,
        "privacy_policy_url": null,
        "owner": user(owner),
        "verify_key": "0f".repeat(32),
        "team": null,
        "flags": 0,
        "approximate_guild_count": 1,
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "integration_types_config": { "0": {} },
        "install_params": { "scopes": ["bot", "applications.commands"], "permissions": permission::BOT.to_string() },
    })
}

/// Discord's error body, `{"message", "code"}`.
pub fn error(message: &str, code: u64) -> Value {
    json!({ "message": message, "code": code })
}

/// The user and role mentions a message pings, given its content and `allowed_mentions`, as
/// Discord resolves them: without `allowed_mentions` everything written pings; with it, only
/// what its `parse` list or its `users`/`roles` ids allow.
pub fn resolve_mentions(content: &str, allowed: Option<&Value>) -> (bool, Vec<u64>, Vec<u64>) {
    let written_everyone = content.contains("@everyone") || content.contains("@here");
    let written_users = mention_ids(content, "<@");
    let written_roles = mention_ids(content, "<@&");
    let Some(allowed) = allowed else {
        return (written_everyone, written_users, written_roles);
    };
    let parse: Vec<&str> = allowed["parse"]
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let listed = |key: &str| -> Vec<u64> {
        allowed[key]
            .as_array()
            .map(|ids| ids.iter().filter_map(snowflake_of).collect())
            .unwrap_or_default()
    };
    let (users, roles) = (listed("users"), listed("roles"));
    let everyone = written_everyone && parse.contains(&"everyone");
    let users = written_users
        .into_iter()
        .filter(|id| parse.contains(&"users") || users.contains(id))
        .collect();
    let roles = written_roles
        .into_iter()
        .filter(|id| parse.contains(&"roles") || roles.contains(id))
        .collect();
    (everyone, users, roles)
}

/// The ids of `<@123>` (users, with `<@!123>` too) or `<@&123>` (roles) mentions.
fn mention_ids(content: &str, opening: &str) -> Vec<u64> {
    let mut ids = Vec::new();
    for piece in content.split(opening).skip(1) {
        let piece = if opening == "<@" {
            piece.trim_start_matches('!')
        } else {
            piece
        };
        if opening == "<@" && piece.starts_with('&') {
            continue;
        }
        if let Some((digits, _)) = piece.split_once('>') {
            if let Ok(id) = digits.parse() {
                ids.push(id);
            }
        }
    }
    ids
}

/// A snowflake written as a JSON string or number.
pub fn snowflake_of(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}
