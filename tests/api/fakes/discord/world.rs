//! The fake's world: one staff server with its roles, channels and members, the bot, and
//! citizens; the guild as GUILD_CREATE and REST show it.

use serde_json::{json, Value};

use super::objects::{self, channel_type, FakeUser};
use super::Inner;

/// The bot token the fake accepts, without serenity's `Bot ` prefix.
const BOT_TOKEN: &str = "fake-bot-token.guichet.0000";

/// When the members joined the staff server (and the bot was added to it).
pub(super) const JOINED_AT: &str = "2024-01-15T14:00:00.000000+00:00";

/// The ids and people of the fake's world, fixed at start.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// The token as guichet is given it (`GUICHET__CHANNELS__DISCORD__TOKEN`).
    pub token: String,
    pub application_id: u64,
    /// The staff server (`channels.discord.guild_id`).
    pub guild_id: u64,
    /// The forum with one post per forwarded thread (`staff_forum_id`).
    pub staff_forum_id: u64,
    /// Where alerts go (`alerts_channel_id`).
    pub alerts_channel_id: u64,
    pub agent_role_id: u64,
    pub coordinator_role_id: u64,
    /// The role Discord gives the bot when it joins, granting what guichet needs.
    pub bot_role_id: u64,
    /// The forum's tags at start, by name (`urgent` exists; other categories do not yet).
    pub initial_tags: Vec<(u64, String)>,
    /// The bot itself (`bot: true`), a member of the staff server.
    pub bot: FakeUser,
    /// A member with the agent role.
    pub agent: FakeUser,
    /// A member with the coordinator role (and the server's owner).
    pub coordinator: FakeUser,
    /// A member of the staff server with no staff role.
    pub member: FakeUser,
    /// Citizens: not members of the server, they write to the bot in direct messages.
    pub citizens: Vec<FakeUser>,
}

/// A member's permissions in the server: `@everyone`'s and their roles' (no overwrites).
pub(super) fn member_permissions(fixture: &Fixture, user: &FakeUser) -> u64 {
    let mut permissions = objects::permission::EVERYONE;
    if user.id == fixture.bot.id {
        permissions |= objects::permission::BOT;
    }
    if user.roles.contains(&fixture.coordinator_role_id) {
        permissions |= objects::permission::MANAGE_MESSAGES | objects::permission::MANAGE_THREADS;
    }
    permissions
}

/// The fake's world: ids drawn like Discord's snowflakes, names that read like the city's.
pub(super) fn fixture(inner: &mut Inner) -> Fixture {
    let mut id = || inner.next_id();
    let (application_id, guild_id, staff_forum_id, alerts_channel_id) = (id(), id(), id(), id());
    let (agent_role_id, coordinator_role_id, bot_role_id, urgent_tag) = (id(), id(), id(), id());
    let mut bot = FakeUser::new(
        application_id,
        "guichet",
        Some("Guichet"),
        vec![bot_role_id],
    );
    bot.bot = true;
    let agent = FakeUser::new(id(), "luc.agent", Some("Luc"), vec![agent_role_id]);
    let coordinator = FakeUser::new(
        id(),
        "marie.coord",
        Some("Marie"),
        vec![coordinator_role_id],
    );
    let member = FakeUser::new(id(), "paul.membre", Some("Paul"), vec![]);
    let citizens = vec![
        FakeUser::new(id(), "citoyenne.a", Some("Amélie"), vec![]),
        FakeUser::new(id(), "citoyen.b", Some("Bruno"), vec![]),
        FakeUser::new(id(), "citoyenne.c", None, vec![]),
    ];
    Fixture {
        token: BOT_TOKEN.to_owned(),
        application_id,
        guild_id,
        staff_forum_id,
        alerts_channel_id,
        agent_role_id,
        coordinator_role_id,
        bot_role_id,
        initial_tags: vec![(urgent_tag, "urgent".to_owned())],
        bot,
        agent,
        coordinator,
        member,
        citizens,
    }
}

pub(super) fn seed_channels(fixture: &Fixture, inner: &mut Inner) {
    let mut forum = objects::guild_channel(
        fixture.staff_forum_id,
        fixture.guild_id,
        channel_type::GUILD_FORUM,
        "dossiers",
        0,
    );
    forum["topic"] = json!("Un fil par demande transmise");
    forum["available_tags"] = fixture
        .initial_tags
        .iter()
        .map(|(id, name)| objects::forum_tag(*id, name))
        .collect();
    inner.channels.insert(fixture.staff_forum_id, forum);
    inner.channels.insert(
        fixture.alerts_channel_id,
        objects::guild_channel(
            fixture.alerts_channel_id,
            fixture.guild_id,
            channel_type::GUILD_TEXT,
            "alertes",
            1,
        ),
    );
}

/// The whole guild as GUILD_CREATE sends it: roles, the bot and staff as members, channels
/// and active threads.
pub(super) fn guild_create(fixture: &Fixture, inner: &Inner) -> Value {
    let mut guild = guild_base(fixture);
    let joined = JOINED_AT;
    let members: Vec<Value> = [
        &fixture.bot,
        &fixture.agent,
        &fixture.coordinator,
        &fixture.member,
    ]
    .into_iter()
    .map(|u| objects::member(u, joined))
    .collect();
    let guild_id = fixture.guild_id.to_string();
    let in_guild = |c: &&Value| c["guild_id"] == guild_id.as_str();
    let channels: Vec<Value> = inner
        .channels
        .values()
        .filter(in_guild)
        .filter(|c| c["type"] != channel_type::PUBLIC_THREAD)
        .cloned()
        .collect();
    let threads: Vec<Value> = inner
        .channels
        .values()
        .filter(in_guild)
        .filter(|c| c["type"] == channel_type::PUBLIC_THREAD)
        .filter(|c| c["thread_metadata"]["archived"] == false)
        .cloned()
        .collect();
    let object = guild.as_object_mut().expect("a guild is an object");
    object.insert("joined_at".into(), json!(joined));
    object.insert("large".into(), json!(false));
    object.insert("unavailable".into(), json!(false));
    object.insert("member_count".into(), json!(members.len()));
    object.insert("voice_states".into(), json!([]));
    object.insert("members".into(), json!(members));
    object.insert("channels".into(), json!(channels));
    object.insert("threads".into(), json!(threads));
    object.insert("presences".into(), json!([]));
    object.insert("stage_instances".into(), json!([]));
    object.insert("guild_scheduled_events".into(), json!([]));
    object.insert("soundboard_sounds".into(), json!([]));
    guild
}

/// The guild object as REST answers it (`GET /guilds/{id}`).
pub(super) fn guild_base(fixture: &Fixture) -> Value {
    use objects::permission;
    let roles = vec![
        objects::role(fixture.guild_id, "@everyone", 0, permission::EVERYONE, None),
        objects::role(
            fixture.agent_role_id,
            "agent",
            1,
            permission::EVERYONE,
            None,
        ),
        objects::role(
            fixture.coordinator_role_id,
            "coordination",
            2,
            permission::EVERYONE | permission::MANAGE_MESSAGES | permission::MANAGE_THREADS,
            None,
        ),
        objects::role(
            fixture.bot_role_id,
            "guichet",
            3,
            permission::BOT,
            Some(fixture.bot.id),
        ),
    ];
    json!({
        "id": fixture.guild_id.to_string(),
        "name": "Ville — personnel",
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": fixture.coordinator.id.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": roles,
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500_000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "fr",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "incidents_data": null,
    })
}
