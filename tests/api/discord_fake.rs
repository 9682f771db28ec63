//! The fake Discord against the real serenity 0.12 client: what guichet's Discord adapter will
//! rely on holds (connection, cache, DMs, enforce_nonce, forum posts, interactions, 429s,
//! resume), so that a failing adapter test points at the adapter, not at the fake.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use serenity::all::{
    ChannelId, ClientBuilder, ComponentInteractionDataKind, Context, CreateActionRow,
    CreateAllowedMentions, CreateButton, CreateCommand, CreateForumPost, CreateForumTag,
    CreateInteractionResponse, CreateInteractionResponseMessage, CreateMessage, CreateSelectMenu,
    CreateSelectMenuKind, CreateSelectMenuOption, EditChannel, EventHandler, ForumTagId,
    GatewayIntents, GetMessages, Guild, GuildId, HttpBuilder, Interaction, Message, Nonce, Ready,
    UserId,
};
use serenity::Error as SerenityError;
use tokio::sync::mpsc;

use crate::fakes::discord::{FakeDiscord, IncomingInteraction, IncomingMessage, Route};

const WAIT: Duration = Duration::from_secs(10);

/// What the test's event handler saw or did.
#[derive(Debug)]
enum Seen {
    Ready { session_id: String },
    GuildCreate { id: GuildId, channels: usize },
    DirectMessage { content: String },
    GuildMessage { channel: u64, content: String },
    Replied { id: u64 },
    ReplyFailed(String),
    Answered { kind: &'static str, detail: String },
    AnswerFailed(String),
}

/// A minimal bot: acknowledges DMs the way guichet's outbox will (a nonce derived from the
/// cause, `enforce_nonce`, mentions pinging nobody) and answers every interaction ephemerally.
struct Handler {
    seen: mpsc::UnboundedSender<Seen>,
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _: Context, ready: Ready) {
        let _ = self.seen.send(Seen::Ready {
            session_id: ready.session_id,
        });
    }

    async fn guild_create(&self, _: Context, guild: Guild, _: Option<bool>) {
        let _ = self.seen.send(Seen::GuildCreate {
            id: guild.id,
            channels: guild.channels.len(),
        });
    }

    async fn message(&self, ctx: Context, message: Message) {
        if message.author.bot {
            return;
        }
        if message.guild_id.is_some() {
            let _ = self.seen.send(Seen::GuildMessage {
                channel: message.channel_id.get(),
                content: message.content,
            });
            return;
        }
        let _ = self.seen.send(Seen::DirectMessage {
            content: message.content.clone(),
        });
        let reply = CreateMessage::new()
            .content(format!("Bien reçu, @everyone : {}", message.content))
            .nonce(Nonce::String(format!("ack-{}", message.id)))
            .enforce_nonce(true)
            .allowed_mentions(CreateAllowedMentions::new());
        let _ = self
            .seen
            .send(match message.channel_id.send_message(&ctx, reply).await {
                Ok(sent) => Seen::Replied { id: sent.id.get() },
                Err(error) => Seen::ReplyFailed(error.to_string()),
            });
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let answer = |text: String| {
            CreateInteractionResponse::Message(
                CreateInteractionResponseMessage::new()
                    .content(text)
                    .ephemeral(true)
                    .allowed_mentions(CreateAllowedMentions::new()),
            )
        };
        let (kind, detail, result) = match interaction {
            Interaction::Component(component) => {
                let (kind, detail) = match &component.data.kind {
                    ComponentInteractionDataKind::StringSelect { values } => {
                        ("select", values.join(","))
                    }
                    _ => ("button", component.data.custom_id.clone()),
                };
                let by = component
                    .member
                    .as_ref()
                    .map(|m| m.roles.len())
                    .unwrap_or(0);
                let result = component
                    .create_response(&ctx, answer(format!("{detail} par {by} rôle(s)")))
                    .await;
                (kind, detail, result)
            }
            Interaction::Command(command) => {
                let detail = format!("{} {}", command.data.name, command.locale);
                let result = command.create_response(&ctx, answer(detail.clone())).await;
                ("command", detail, result)
            }
            _ => return,
        };
        let _ = self.seen.send(match result {
            Ok(()) => Seen::Answered { kind, detail },
            Err(error) => Seen::AnswerFailed(error.to_string()),
        });
    }
}

/// The next event the handler reports that `pick` keeps, or a panic after `WAIT`.
async fn next<T>(seen: &mut mpsc::UnboundedReceiver<Seen>, pick: impl Fn(Seen) -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, seen.recv()).await {
            Ok(Some(event)) => {
                if let Some(found) = pick(event) {
                    return found;
                }
            }
            Ok(None) => panic!("the event handler is gone"),
            Err(_) => panic!("the event handler reported nothing expected within {WAIT:?}"),
        }
    }
}

/// A serenity client pointed at the fake the way guichet's adapter will be, started in a task.
struct Bot {
    client: tokio::task::JoinHandle<()>,
    shards: Arc<serenity::gateway::ShardManager>,
    cache: Arc<serenity::cache::Cache>,
    http: Arc<serenity::http::Http>,
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl Bot {
    async fn start(fake: &FakeDiscord) -> Self {
        let (sender, seen) = mpsc::unbounded_channel();
        // The proxy only applies with the rate limiter off: serenity's rate limiter builds its
        // requests without it, and would reach the real Discord.
        let http = HttpBuilder::new(&fake.token)
            .proxy(fake.api_url())
            .ratelimiter_disabled(true)
            .build();
        let intents = GatewayIntents::GUILDS
            | GatewayIntents::GUILD_MESSAGES
            | GatewayIntents::DIRECT_MESSAGES
            | GatewayIntents::MESSAGE_CONTENT;
        let mut client = ClientBuilder::new_with_http(http, intents)
            .event_handler(Handler { seen: sender })
            .await
            .expect("the client builds against the fake");
        let shards = Arc::clone(&client.shard_manager);
        let cache = Arc::clone(&client.cache);
        let http = Arc::clone(&client.http);
        let client = tokio::spawn(async move {
            let _ = client.start().await;
        });
        Self {
            client,
            shards,
            cache,
            http,
            seen,
        }
    }

    async fn stop(self) {
        self.shards.shutdown_all().await;
        self.client.abort();
    }
}

#[tokio::test]
async fn serenity_connects_receives_the_guild_and_answers_a_dm_once() {
    let fake = FakeDiscord::start().await;
    let mut bot = Bot::start(&fake).await;

    assert!(
        fake.wait_until_identified(WAIT).await,
        "serenity identifies"
    );
    let session = next(&mut bot.seen, |s| match s {
        Seen::Ready { session_id } => Some(session_id),
        _ => None,
    })
    .await;
    assert!(session.starts_with("fake-session-"));
    let (guild, channels) = next(&mut bot.seen, |s| match s {
        Seen::GuildCreate { id, channels } => Some((id, channels)),
        _ => None,
    })
    .await;
    assert_eq!(guild.get(), fake.guild_id);
    assert_eq!(channels, 2, "the forum and the alerts channel");
    let cached = bot.cache.guild(fake.guild_id).expect("the guild is cached");
    assert!(
        cached.members.contains_key(&UserId::new(fake.bot.id)),
        "the bot is a cached member"
    );
    drop(cached);

    // What serenity asked on the way.
    let gateway = fake.requests_matching(&Route::get("/gateway"));
    assert_eq!(gateway.len(), 1);
    assert_eq!(
        gateway[0].headers["authorization"],
        format!("Bot {}", fake.token)
    );
    assert_eq!(fake.gateway_queries(), vec![Some("v=10".to_owned())]);
    let intents = fake.intents();
    assert_ne!(intents & (1 << 12), 0, "direct messages");
    assert_ne!(intents & (1 << 15), 0, "message content");
    let identify = fake
        .gateway_frames()
        .into_iter()
        .find(|f| f["op"] == 2)
        .expect("an Identify frame");
    // serenity asks for payload compression (READY and GUILD_CREATE then come as zlib binary
    // messages) and sends its HTTP token, "Bot " prefix included.
    assert_eq!(identify["d"]["compress"], true);
    assert_eq!(identify["d"]["token"], format!("Bot {}", fake.token));

    // A citizen's DM, answered in the DM channel with the body guichet's outbox will send.
    let citizen = fake.citizens[0].clone();
    let dm = fake.dispatch_message_create(IncomingMessage::dm(&citizen, "Fuite de gaz rue Racine"));
    assert!(dm.data().get("guild_id").is_none());
    let content = next(&mut bot.seen, |s| match s {
        Seen::DirectMessage { content } => Some(content),
        _ => None,
    })
    .await;
    assert_eq!(content, "Fuite de gaz rue Racine");
    let first = next(&mut bot.seen, replied).await;

    let dm_channel = fake.dm_channel_of(&citizen);
    let sends = Route::post(&format!("/channels/{dm_channel}/messages"));
    let reply = fake
        .wait_for_request(&sends, WAIT)
        .await
        .expect("the reply is posted");
    assert_eq!(reply.status, 200);
    let expected_nonce = format!("ack-{}", dm.data()["id"].as_str().unwrap());
    assert_eq!(reply.json()["nonce"], expected_nonce.as_str());
    assert_eq!(reply.json()["enforce_nonce"], true);
    assert_eq!(
        reply.json()["allowed_mentions"],
        json!({ "parse": [], "users": [], "roles": [] })
    );
    assert!(reply.json()["content"]
        .as_str()
        .unwrap()
        .contains("Fuite de gaz"));

    // The same MESSAGE_CREATE again: serenity hands it over again, the nonce makes Discord
    // return the first reply instead of a second one.
    fake.replay(&dm);
    let second = next(&mut bot.seen, replied).await;
    assert_eq!(second, first, "enforce_nonce returned the same message");
    assert_eq!(
        fake.wait_for_requests(&sends, 2, WAIT)
            .await
            .map(|r| r.len()),
        Some(2)
    );
    let held = fake.messages_in(dm_channel);
    let from_bot: Vec<&Value> = held.iter().filter(|m| m["author"]["bot"] == true).collect();
    assert_eq!(from_bot.len(), 1, "one reply in the DM: {held:#?}");
    assert_eq!(
        from_bot[0]["mention_everyone"], false,
        "@everyone pinged nobody"
    );

    bot.stop().await;
}

fn replied(seen: Seen) -> Option<u64> {
    match seen {
        Seen::Replied { id } => Some(id),
        Seen::ReplyFailed(error) => panic!("the reply failed: {error}"),
        _ => None,
    }
}

fn answered(seen: Seen) -> Option<(&'static str, String)> {
    match seen {
        Seen::Answered { kind, detail } => Some((kind, detail)),
        Seen::AnswerFailed(error) => panic!("the interaction answer failed: {error}"),
        _ => None,
    }
}

#[tokio::test]
async fn serenity_posts_in_the_forum_registers_commands_and_answers_interactions() {
    let fake = FakeDiscord::start().await;
    let mut bot = Bot::start(&fake).await;
    assert!(fake.wait_until_identified(WAIT).await);
    next(&mut bot.seen, |s| {
        matches!(s, Seen::GuildCreate { .. }).then_some(())
    })
    .await;

    // A forum post, tagged, with buttons and a select: serenity sends it as multipart.
    let (urgent, _) = fake.initial_tags[0].clone();
    let buttons = CreateActionRow::Buttons(vec![
        CreateButton::new("claim:T-1").label("Prendre"),
        CreateButton::new("resolve:T-1").label("Résoudre"),
    ]);
    let select = CreateActionRow::SelectMenu(CreateSelectMenu::new(
        "category:T-1",
        CreateSelectMenuKind::String {
            options: vec![
                CreateSelectMenuOption::new("Urgent", "urgent"),
                CreateSelectMenuOption::new("Plainte", "complaint"),
            ],
        },
    ));
    let post = CreateForumPost::new(
        "T-1 · urgent · Fuite de gaz",
        CreateMessage::new()
            .content("Fuite de gaz rue Racine")
            .components(vec![buttons, select])
            .allowed_mentions(CreateAllowedMentions::new()),
    )
    .add_applied_tag(ForumTagId::new(urgent));
    let thread = ChannelId::new(fake.staff_forum_id)
        .create_forum_post(&bot.http, post)
        .await
        .expect("the forum post is created");
    let created = fake
        .wait_for_request(&Route::post("/channels/{forum}/threads"), WAIT)
        .await
        .unwrap();
    assert!(
        created.multipart,
        "serenity sends forum posts as multipart/form-data"
    );
    assert_eq!(created.json()["applied_tags"], json!([urgent.to_string()]));
    assert_eq!(fake.threads_in(fake.staff_forum_id).len(), 1);
    let events: Vec<Value> = fake
        .dispatches()
        .iter()
        .map(|d| d.frame["t"].clone())
        .collect();
    assert!(
        events.ends_with(&[json!("THREAD_CREATE"), json!("MESSAGE_CREATE")]),
        "{events:?}"
    );
    let active = bot
        .http
        .get_guild_active_threads(GuildId::new(fake.guild_id))
        .await
        .unwrap();
    assert_eq!(active.threads[0].name, "T-1 · urgent · Fuite de gaz");
    let starter = thread.id.get();

    // An agent writes in the post; the bot's own starter message was not handed over.
    let in_post = IncomingMessage::in_channel(&fake.agent, starter, "Équipe envoyée");
    fake.dispatch_message_create(in_post);
    let (channel, content) = next(&mut bot.seen, |s| match s {
        Seen::GuildMessage { channel, content } => Some((channel, content)),
        _ => None,
    })
    .await;
    assert_eq!((channel, content.as_str()), (starter, "Équipe envoyée"));

    // Slash commands set at start-up, twice: the ids stay.
    let commands = || vec![CreateCommand::new("overdue").description("Overdue threads")];
    let guild = GuildId::new(fake.guild_id);
    let once = guild.set_commands(&bot.http, commands()).await.unwrap();
    let twice = guild.set_commands(&bot.http, commands()).await.unwrap();
    assert_eq!(once[0].id, twice[0].id);

    // A button, a select and a command, each answered ephemerally within the callback.
    let press = fake.dispatch_interaction_create(IncomingInteraction::button(
        &fake.agent,
        starter,
        starter,
        "resolve:T-1",
    ));
    assert_eq!(
        next(&mut bot.seen, answered).await,
        ("button", "resolve:T-1".to_owned())
    );
    let callback = Route::post("/interactions/{id}/{token}/callback");
    let recorded = fake.wait_for_request(&callback, WAIT).await.unwrap();
    assert_eq!(recorded.status, 204);
    assert_eq!(recorded.json()["type"], 4);
    assert_eq!(recorded.json()["data"]["flags"], 64, "ephemeral");
    let original = fake
        .interaction_response(&press)
        .expect("the answer is kept");
    assert_eq!(original["content"], "resolve:T-1 par 1 rôle(s)");
    let in_post = fake.messages_in(starter);
    assert!(
        in_post.iter().all(|m| m["id"] != original["id"]),
        "an ephemeral answer is not posted"
    );

    fake.dispatch_interaction_create(IncomingInteraction::string_select(
        &fake.coordinator,
        starter,
        starter,
        "category:T-1",
        &["complaint"],
    ));
    assert_eq!(
        next(&mut bot.seen, answered).await,
        ("select", "complaint".to_owned())
    );
    fake.dispatch_interaction_create(IncomingInteraction::command(&fake.member, "overdue", &[]));
    assert_eq!(
        next(&mut bot.seen, answered).await,
        ("command", "overdue fr".to_owned())
    );
    assert_eq!(
        fake.wait_for_requests(&callback, 3, WAIT)
            .await
            .map(|r| r.len()),
        Some(3)
    );

    // A second answer to the same interaction is refused, as Discord does.
    fake.replay(&press);
    let refused = next(&mut bot.seen, |s| match s {
        Seen::AnswerFailed(error) => Some(error),
        _ => None,
    })
    .await;
    assert!(refused.contains("already been acknowledged"), "{refused}");

    bot.stop().await;
}

#[tokio::test]
async fn a_rate_limited_send_fails_with_discords_429_and_the_retry_succeeds() {
    let fake = FakeDiscord::start().await;
    let http = HttpBuilder::new(&fake.token)
        .proxy(fake.api_url())
        .ratelimiter_disabled(true)
        .build();
    let channel = fake.alerts_channel_id;
    let sends = Route::post("/channels/{channel}/messages");
    fake.rate_limit_next(sends.clone(), Duration::from_millis(1500), 1);

    let message = || {
        CreateMessage::new()
            .content("Alerte")
            .allowed_mentions(CreateAllowedMentions::new())
    };
    let error = ChannelId::new(channel)
        .send_message(&http, message())
        .await
        .expect_err("the first send is rate limited");
    let SerenityError::Http(serenity::http::HttpError::UnsuccessfulRequest(response)) = error
    else {
        panic!("not an unsuccessful request: {error:?}");
    };
    assert_eq!(response.status_code.as_u16(), 429);
    // serenity keeps neither the headers nor `retry_after`: its error JSON needs a `code`,
    // which a 429 body lacks. A caller that honours `retry_after` must read it elsewhere.
    assert_eq!(response.error.code, -1);

    let sent = ChannelId::new(channel)
        .send_message(&http, message())
        .await
        .expect("the retry succeeds");
    assert_eq!(sent.content, "Alerte");
    let statuses: Vec<u16> = fake
        .requests_matching(&sends)
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![429, 200]);

    // The 429 itself, as Discord shapes it.
    fake.rate_limit_next(sends, Duration::from_millis(1500), 1);
    let raw = reqwest::Client::new()
        .post(format!(
            "{}/api/v10/channels/{channel}/messages",
            fake.api_url()
        ))
        .header("authorization", format!("Bot {}", fake.token))
        .json(&json!({ "content": "Alerte" }))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 429);
    assert_eq!(raw.headers()["retry-after"], "2");
    assert_eq!(raw.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(raw.headers()["x-ratelimit-reset-after"], "1.500");
    assert_eq!(
        raw.json::<Value>().await.unwrap(),
        json!({ "message": "You are being rate limited.", "retry_after": 1.5, "global": false })
    );
}

#[tokio::test]
async fn serenity_resumes_after_a_disconnection_and_gets_what_it_missed() {
    let fake = FakeDiscord::start().await;
    let mut bot = Bot::start(&fake).await;
    assert!(fake.wait_until_identified(WAIT).await);
    next(&mut bot.seen, |s| {
        matches!(s, Seen::GuildCreate { .. }).then_some(())
    })
    .await;

    fake.disconnect();
    let citizen = fake.citizens[1].clone();
    fake.dispatch_message_create(IncomingMessage::dm(&citizen, "Nid-de-poule"));
    assert!(fake.wait_for_sessions(2, WAIT).await, "serenity resumes");
    let counts = fake.gateway_counts();
    assert_eq!((counts.identifies, counts.resumes), (1, 1));
    let content = next(&mut bot.seen, |s| match s {
        Seen::DirectMessage { content } => Some(content),
        _ => None,
    })
    .await;
    assert_eq!(
        content, "Nid-de-poule",
        "the missed dispatch is replayed on resume"
    );
    next(&mut bot.seen, replied).await;

    bot.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_bad_tokens_get_discords_errors() {
    let fake = FakeDiscord::start().await;
    let client = reqwest::Client::new();
    let unknown = client
        .get(format!("{}/api/v10/voice/regions", fake.api_url()))
        .header("authorization", format!("Bot {}", fake.token))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        json!({ "message": "404: Not Found", "code": 0 })
    );
    let unauthorised = client
        .get(format!("{}/api/v10/users/@me", fake.api_url()))
        .header("authorization", "Bot wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorised.status().as_u16(), 401);
    let statuses: Vec<(String, u16)> = fake
        .requests()
        .into_iter()
        .map(|r| (r.path, r.status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("/voice/regions".to_owned(), 404),
            ("/users/@me".to_owned(), 401)
        ]
    );
}

#[tokio::test]
async fn every_object_the_fake_sends_reads_as_serenity_models() {
    use serenity::all::{
        CurrentApplicationInfo, CurrentUser, GuildChannel, PartialGuild, PrivateChannel,
    };
    let fake = FakeDiscord::start().await;
    let http = reqwest::Client::new();
    let get = |path: &str| {
        http.get(format!("{}/api/v10{path}", fake.api_url()))
            .header("authorization", format!("Bot {}", fake.token))
            .send()
    };
    let read = |response: reqwest::Response| async move { response.json::<Value>().await.unwrap() };
    serde_json::from_value::<CurrentUser>(read(get("/users/@me").await.unwrap()).await).unwrap();
    serde_json::from_value::<CurrentApplicationInfo>(
        read(get("/oauth2/applications/@me").await.unwrap()).await,
    )
    .unwrap();
    let guild = read(get(&format!("/guilds/{}", fake.guild_id)).await.unwrap()).await;
    serde_json::from_value::<PartialGuild>(guild).unwrap();
    let forum = read(
        get(&format!("/channels/{}", fake.staff_forum_id))
            .await
            .unwrap(),
    )
    .await;
    let forum: GuildChannel = serde_json::from_value(forum).unwrap();
    assert_eq!(forum.available_tags.len(), 1);
    let dm = fake.channel(fake.dm_channel_of(&fake.citizens[2])).unwrap();
    serde_json::from_value::<PrivateChannel>(dm).unwrap();

    let in_post = fake.dispatch_message_create(
        IncomingMessage::in_channel(&fake.agent, fake.alerts_channel_id, "Je m'en occupe <@&1>")
            .attachment("photo.jpg", "image/jpeg", 48_213),
    );
    let message: Message = serde_json::from_value(in_post.data().clone()).unwrap();
    assert_eq!(message.guild_id.map(|g| g.get()), Some(fake.guild_id));
    assert_eq!(message.attachments.len(), 1);
    for incoming in [
        IncomingInteraction::button(&fake.agent, fake.alerts_channel_id, 1, "claim:T-1"),
        IncomingInteraction::string_select(&fake.agent, fake.alerts_channel_id, 1, "c", &["info"]),
        IncomingInteraction::command(&fake.coordinator, "thread", &[("id", json!("T-1"))]),
    ] {
        let dispatched = fake.dispatch_interaction_create(incoming);
        let interaction: Interaction = serde_json::from_value(dispatched.data().clone())
            .unwrap_or_else(|e| panic!("{e}: {:#}", dispatched.data()));
        if let Interaction::Command(command) = interaction {
            assert_eq!(command.data.options[0].value.as_str(), Some("T-1"));
            assert_eq!(command.user.id.get(), fake.coordinator.id);
        }
    }
}

/// serenity's HTTP client alone, pointed at the fake.
fn rest_only(fake: &FakeDiscord) -> serenity::http::Http {
    HttpBuilder::new(&fake.token)
        .proxy(fake.api_url())
        .ratelimiter_disabled(true)
        .build()
}

#[tokio::test]
async fn forum_tags_keep_their_ids_only_when_the_edit_sends_them() {
    let fake = FakeDiscord::start().await;
    let http = rest_only(&fake);
    let forum = ChannelId::new(fake.staff_forum_id);
    let (urgent, _) = fake.initial_tags[0].clone();
    let post = CreateForumPost::new("T-7 · urgent · Gaz", CreateMessage::new().content("Gaz"))
        .add_applied_tag(ForumTagId::new(urgent));
    let post = forum.create_forum_post(&http, post).await.unwrap();

    // A raw body that lists the tag with its id keeps it, and adds the new one.
    let tags = json!({ "available_tags": [{ "id": urgent.to_string(), "name": "urgent" }, { "name": "info" }] });
    let edited = http.edit_channel(forum, &tags, None).await.unwrap();
    let names: Vec<(u64, &str)> = edited
        .available_tags
        .iter()
        .map(|t| (t.id.get(), t.name.as_str()))
        .collect();
    assert_eq!(names[0], (urgent, "urgent"));
    assert_eq!(names[1].1, "info");
    assert_eq!(
        fake.channel(post.id.get()).unwrap()["applied_tags"],
        json!([urgent.to_string()])
    );

    // serenity's builder sends tags without ids: every tag is renewed, posts lose theirs.
    let renewed = EditChannel::new()
        .available_tags([CreateForumTag::new("urgent"), CreateForumTag::new("info")]);
    let edited = forum.edit(&http, renewed).await.unwrap();
    assert_ne!(edited.available_tags[0].id.get(), urgent);
    assert_eq!(
        fake.channel(post.id.get()).unwrap()["applied_tags"],
        json!([])
    );
}

#[tokio::test]
async fn a_post_is_found_by_its_title_among_active_then_archived_threads() {
    let fake = FakeDiscord::start().await;
    let http = rest_only(&fake);
    let forum = ChannelId::new(fake.staff_forum_id);
    let post = CreateForumPost::new(
        "T-9 · info · Horaire",
        CreateMessage::new().content("Horaire"),
    );
    let post = forum.create_forum_post(&http, post).await.unwrap();
    let guild = GuildId::new(fake.guild_id);

    let active = http.get_guild_active_threads(guild).await.unwrap();
    assert_eq!(
        active
            .threads
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["T-9 · info · Horaire"]
    );

    http.edit_channel(post.id, &json!({ "archived": true }), None)
        .await
        .unwrap();
    assert!(http
        .get_guild_active_threads(guild)
        .await
        .unwrap()
        .threads
        .is_empty());
    let archived = http
        .get_channel_archived_public_threads(forum, None, None)
        .await
        .unwrap();
    assert_eq!(archived.threads[0].id, post.id);

    // The post's messages read back; serenity writes its query as `?&limit=…`.
    let messages = post
        .id
        .messages(&http, GetMessages::new().limit(10))
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(
        messages[0].id.get(),
        post.id.get(),
        "the starter message has the post's id"
    );
    let listed = fake.requests_matching(&Route::get("/channels/{channel}/messages"));
    assert_eq!(listed[0].query.as_deref(), Some("&limit=10"));
}

#[tokio::test]
async fn a_server_error_lasts_as_long_as_asked() {
    let fake = FakeDiscord::start().await;
    let http = rest_only(&fake);
    let alerts = ChannelId::new(fake.alerts_channel_id);
    let window = Duration::from_millis(200);
    fake.fail_for(Route::post("/channels/{channel}/messages"), 500, window);
    let message = || {
        CreateMessage::new()
            .content("Alerte")
            .allowed_mentions(CreateAllowedMentions::new())
    };

    let error = alerts
        .send_message(&http, message())
        .await
        .expect_err("500 during the window");
    let SerenityError::Http(serenity::http::HttpError::UnsuccessfulRequest(response)) = error
    else {
        panic!("not an unsuccessful request: {error:?}");
    };
    assert_eq!(response.status_code.as_u16(), 500);
    assert!(
        fake.messages_in(fake.alerts_channel_id).is_empty(),
        "a failed send creates nothing"
    );

    tokio::time::sleep(window).await;
    alerts
        .send_message(&http, message())
        .await
        .expect("sent once the window is over");
    assert_eq!(fake.messages_in(fake.alerts_channel_id).len(), 1);
}

#[tokio::test]
async fn serenity_heartbeats_and_identifies_anew_when_its_heartbeats_go_unanswered() {
    let fake = FakeDiscord::start().await;
    fake.set_heartbeat_interval(Duration::from_millis(300));
    let mut bot = Bot::start(&fake).await;
    assert!(fake.wait_until_identified(WAIT).await);
    next(&mut bot.seen, |s| {
        matches!(s, Seen::Ready { .. }).then_some(())
    })
    .await;

    assert!(
        fake.wait_for_gateway(WAIT, |c| c.heartbeats >= 2).await,
        "heartbeats flow"
    );
    assert_eq!(
        fake.gateway_counts().connections,
        1,
        "acknowledged heartbeats keep the connection"
    );

    // A zombied connection: serenity restarts the shard, which identifies anew (not a Resume)
    // after its 5 s pause between shard starts, and READY comes again.
    fake.acknowledge_heartbeats(false);
    assert!(
        fake.wait_for_gateway(WAIT, |c| c.connections >= 2).await,
        "a new connection"
    );
    fake.acknowledge_heartbeats(true);
    assert!(
        fake.wait_for_sessions(2, WAIT).await,
        "the new connection identifies"
    );
    let counts = fake.gateway_counts();
    assert_eq!((counts.identifies, counts.resumes), (2, 0));
    next(&mut bot.seen, |s| {
        matches!(s, Seen::Ready { .. }).then_some(())
    })
    .await;

    bot.stop().await;
}

#[tokio::test]
async fn serenity_keeps_trying_while_the_gateway_refuses_connections() {
    let fake = FakeDiscord::start().await;
    fake.refuse_connections(true);
    fake.fail_for(Route::any("/**"), 503, Duration::from_secs(60));
    let mut bot = Bot::start(&fake).await;
    assert!(
        fake.wait_for_gateway(WAIT, |c| c.refused >= 1).await,
        "serenity tries"
    );
    assert!(!fake.identified());

    fake.refuse_connections(false);
    fake.heal();
    assert!(
        fake.wait_until_identified(WAIT).await,
        "and connects once the gateway is back"
    );
    next(&mut bot.seen, |s| {
        matches!(s, Seen::GuildCreate { .. }).then_some(())
    })
    .await;
    let gateway = fake.requests_matching(&Route::get("/gateway"));
    assert_eq!(
        gateway[0].status, 200,
        "faults spare GET /gateway: serenity would go to Discord"
    );

    bot.stop().await;
}

#[test]
fn routes_match_segments_wildcards_and_the_rest_of_a_path() {
    let messages = Route::post("/channels/{channel}/messages");
    assert!(messages.matches("POST", "/channels/12/messages"));
    assert!(!messages.matches("GET", "/channels/12/messages"));
    assert!(!messages.matches("POST", "/channels/12/messages/34"));
    assert!(!messages.matches("POST", "/channels/12"));
    let everything = Route::any("/**");
    assert!(everything.matches("PATCH", "/webhooks/1/token/messages/@original"));
    assert!(
        Route::get("/channels/*/threads/**").matches("GET", "/channels/1/threads/archived/public")
    );
}
