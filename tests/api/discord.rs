//! guichet on Discord, against the local fake with the real serenity client: a citizen's DM
//! is acknowledged once, agents get a forum post with buttons, answer from it, and act
//! through buttons and slash commands that guichet checks against their roles.

use std::time::{Duration, Instant};

use chrono::Utc;
use guichet::config::{Secret, Settings};
use serde_json::{json, Value};

use crate::fakes::discord::{FakeDiscord, IncomingInteraction, IncomingMessage, Route};
use crate::helpers::{eventually, spawn_app_with, TestApp};

const WAIT: Duration = Duration::from_secs(15);

/// Points guichet's Discord settings at the fake.
pub fn configure(settings: &mut Settings, fake: &FakeDiscord) {
    let f = fake.fixture();
    let d = &mut settings.channels.discord;
    d.token = Secret::new(f.token.clone());
    d.api_url = fake.api_url();
    d.guild_id = f.guild_id;
    d.staff_forum_id = f.staff_forum_id;
    d.alerts_channel_id = f.alerts_channel_id;
    d.agent_role_id = f.agent_role_id;
    d.coordinator_role_id = f.coordinator_role_id;
    settings.outbox.initial_backoff_ms = 200;
    settings.outbox.max_backoff_seconds = 2;
}

async fn discord_app(fake: &FakeDiscord) -> TestApp {
    let app = spawn_app_with(|s| configure(s, fake)).await;
    assert!(
        fake.wait_until_identified(WAIT).await,
        "guichet identifies on the gateway"
    );
    app
}

/// The bot's messages in a channel.
fn bot_messages(fake: &FakeDiscord, channel: u64) -> Vec<Value> {
    let bot = fake.fixture().bot.id.to_string();
    fake.messages_in(channel)
        .into_iter()
        .filter(|m| m["author"]["id"] == bot)
        .collect()
}

async fn wait_bot_messages(fake: &FakeDiscord, channel: u64, n: usize) -> bool {
    eventually(WAIT, || async { bot_messages(fake, channel).len() >= n }).await
}

fn id(v: &Value) -> u64 {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| v.as_u64())
        .expect("a snowflake")
}

async fn thread_of(app: &TestApp, sender: u64) -> Value {
    let threads = app.all_threads().await;
    let sender = sender.to_string();
    threads
        .into_iter()
        .find(|t| t["channel"] == "discord" && t["sender"].as_str() == Some(sender.as_str()))
        .expect("the citizen's thread")
}

async fn detail(app: &TestApp, thread: &Value) -> Value {
    let id = thread["thread_id"].as_str().unwrap();
    let (status, d) = app.staff_get(&format!("/api/threads/{id}")).await;
    assert_eq!(status, 200);
    d
}

#[tokio::test]
async fn a_citizen_on_discord_is_acknowledged_once_and_agents_work_from_the_forum() {
    let fake = FakeDiscord::start().await;
    let app = discord_app(&fake).await;
    let f = fake.fixture().clone();
    let citizen = &f.citizens[0];
    let dm = fake.dm_channel_of(citizen);

    // A French DM about a gas leak: one reply in the DM, the urgent acknowledgment.
    let started = Instant::now();
    let dispatched = fake.dispatch_message_create(IncomingMessage::dm(
        citizen,
        "ça sent le gaz dans mon sous-sol au 12 rue Principale, fuite de gaz je pense",
    ));
    assert!(
        wait_bot_messages(&fake, dm, 1).await,
        "the citizen is answered"
    );
    let took = started.elapsed();
    let acks = bot_messages(&fake, dm);
    assert_eq!(acks.len(), 1, "{acks:?}");
    let ack = acks[0]["content"].as_str().unwrap();
    assert!(ack.contains("911"), "the urgent acknowledgment: {ack}");
    // Measured around 0.1 s here; the bound leaves room for a loaded CI machine.
    assert!(took < Duration::from_secs(2), "acknowledged after {took:?}");

    // A post in the staff forum, tagged urgent, with the buttons.
    assert!(
        eventually(WAIT, || async {
            fake.threads_in(f.staff_forum_id).len() == 1
        })
        .await,
        "a post appears in the forum"
    );
    let post = fake.threads_in(f.staff_forum_id)[0].clone();
    let post_id = id(&post["id"]);
    let urgent_tag = fake.channel(f.staff_forum_id).unwrap()["available_tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "urgent")
        .map(|t| t["id"].clone())
        .unwrap();
    assert!(
        post["applied_tags"]
            .as_array()
            .unwrap()
            .contains(&urgent_tag),
        "{post}"
    );
    let thread = thread_of(&app, citizen.id).await;
    let reference = thread["thread_id"].as_str().unwrap().to_owned();
    assert!(post["name"].as_str().unwrap().starts_with(&reference));
    let starter = &fake.messages_in(post_id)[0];
    let custom_ids: Vec<String> = starter["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row["components"].as_array().unwrap().clone())
        .map(|c| c["custom_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        custom_ids.contains(&format!("guichet:claim:{reference}")),
        "{custom_ids:?}"
    );
    assert!(custom_ids.contains(&format!("guichet:resolve:{reference}")));

    // The same MESSAGE_CREATE again changes nothing.
    fake.replay(&dispatched);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(bot_messages(&fake, dm).len(), 1);
    assert_eq!(fake.threads_in(f.staff_forum_id).len(), 1);
    assert_eq!(app.all_threads().await.len(), 1);

    // A later message is appended to the same post, with no second acknowledgment.
    fake.dispatch_message_create(IncomingMessage::dm(
        citizen,
        "l'odeur est de plus en plus forte, on est sortis dehors",
    ));
    assert!(
        wait_bot_messages(&fake, post_id, 2).await,
        "the message is appended to the post"
    );
    let appended = bot_messages(&fake, post_id);
    assert!(appended[1]["content"]
        .as_str()
        .unwrap()
        .contains("de plus en plus forte"));
    assert_eq!(bot_messages(&fake, dm).len(), 1);

    // An agent's message in the post reaches the citizen once; the thread is answered, met.
    let answer = fake.dispatch_message_create(IncomingMessage::in_channel(
        &f.agent,
        post_id,
        "Une équipe de Gaz est en route, sortez de la maison en attendant.",
    ));
    assert!(
        wait_bot_messages(&fake, dm, 2).await,
        "the answer is relayed"
    );
    let relayed = bot_messages(&fake, dm);
    assert!(relayed[1]["content"]
        .as_str()
        .unwrap()
        .contains("Une équipe de Gaz est en route"));
    fake.replay(&answer);
    let d = detail(&app, &thread).await;
    assert_eq!(d["state"], "answered", "{d}");
    assert_eq!(d["sla"], "met", "{d}");

    // A note stays internal, and is recorded once however often Discord delivers it.
    let note = fake.dispatch_message_create(IncomingMessage::in_channel(
        &f.agent,
        post_id,
        "// vérifier avec Énergir si le compteur a été fermé",
    ));
    assert!(
        eventually(WAIT, || async {
            detail(&app, &thread).await["audit"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["kind"] == "note")
        })
        .await,
        "the note is recorded"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        bot_messages(&fake, dm).len(),
        2,
        "neither the replay nor the note is relayed"
    );
    fake.replay(&note);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let notes = detail(&app, &thread).await["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "note")
        .count();
    assert_eq!(notes, 1, "a replayed note is recorded once");

    // The category select: a correction under the agent's name.
    let starter_id = id(&starter["id"]);
    let chosen = fake.dispatch_interaction_create(IncomingInteraction::string_select(
        &f.agent,
        post_id,
        starter_id,
        &format!("guichet:category:{reference}"),
        &["complaint"],
    ));
    assert!(
        eventually(WAIT, || async {
            fake.interaction_response(&chosen).is_some()
        })
        .await
    );
    let d = detail(&app, &thread).await;
    assert_eq!(d["category"], "complaint", "{d}");
    let corrected = d["audit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "corrected")
        .unwrap()
        .clone();
    assert_eq!(corrected["detail"], "urgent -> complaint");
    assert_ne!(corrected["actor"], "guichet");

    // Resolve by a member without a staff role: refused, ephemerally; nothing changes.
    let resolve_id = format!("guichet:resolve:{reference}");
    let pressed = fake.dispatch_interaction_create(IncomingInteraction::button(
        &f.member,
        post_id,
        starter_id,
        &resolve_id,
    ));
    assert!(
        eventually(WAIT, || async {
            fake.interaction_response(&pressed).is_some()
        })
        .await,
        "the interaction is answered"
    );
    let refused = fake.interaction_response(&pressed).unwrap();
    assert_eq!(
        refused["flags"].as_u64().unwrap() & 64,
        64,
        "ephemeral: {refused}"
    );
    assert_ne!(detail(&app, &thread).await["state"], "resolved");

    // By an agent: resolved.
    let pressed = fake.dispatch_interaction_create(IncomingInteraction::button(
        &f.agent,
        post_id,
        starter_id,
        &resolve_id,
    ));
    assert!(
        eventually(WAIT, || async {
            fake.interaction_response(&pressed).is_some()
        })
        .await
    );
    let d = detail(&app, &thread).await;
    assert_eq!(d["state"], "resolved", "{d}");
    let resolved = d["audit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "resolved")
        .unwrap()
        .clone();
    assert_ne!(
        resolved["actor"], "guichet",
        "the agent is named: {resolved}"
    );
}

#[tokio::test]
async fn slash_commands_list_overdue_threads_for_staff_only() {
    let fake = FakeDiscord::start().await;
    let app = discord_app(&fake).await;
    let f = fake.fixture().clone();
    assert!(
        eventually(WAIT, || async { !fake.commands().is_empty() }).await,
        "the slash commands are set at start-up"
    );
    // A backdated complaint, overdue now.
    let sent_at = (Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    let (status, outcome) = app
        .post_message(json!({
            "sender": "web-late",
            "text": "Plainte: personne n'a déneigé notre rue depuis trois jours, c'est inacceptable",
            "sent_at": sent_at,
        }))
        .await;
    assert_eq!(status, 200, "{outcome}");
    let reference = outcome["thread_id"].as_str().unwrap();

    let asked =
        fake.dispatch_interaction_create(IncomingInteraction::command(&f.agent, "overdue", &[]));
    assert!(
        eventually(WAIT, || async {
            fake.interaction_response(&asked)
                .is_some_and(|r| r["content"].as_str().is_some_and(|c| c.contains(reference)))
        })
        .await,
        "/overdue lists the thread: {:?}",
        fake.interaction_response(&asked)
    );
    let answer = fake.interaction_response(&asked).unwrap();
    assert_eq!(
        answer["flags"].as_u64().unwrap_or(0) & 64,
        64,
        "ephemeral: {answer}"
    );

    let asked =
        fake.dispatch_interaction_create(IncomingInteraction::command(&f.member, "overdue", &[]));
    assert!(
        eventually(WAIT, || async {
            fake.interaction_response(&asked)
                .is_some_and(|r| r["content"].as_str().is_some_and(|c| !c.is_empty()))
        })
        .await
    );
    let refused = fake.interaction_response(&asked).unwrap();
    assert!(
        !refused["content"].as_str().unwrap().contains(reference),
        "a member without a staff role sees nothing: {refused}"
    );
}

#[tokio::test]
async fn everyone_in_a_citizen_text_pings_nobody() {
    let fake = FakeDiscord::start().await;
    let _app = discord_app(&fake).await;
    let f = fake.fixture().clone();
    let citizen = &f.citizens[1];
    fake.dispatch_message_create(IncomingMessage::dm(
        citizen,
        "@everyone @here <@&1234> mon entrée est inondée, il y a de l'eau partout au sous-sol",
    ));
    let dm = fake.dm_channel_of(citizen);
    assert!(wait_bot_messages(&fake, dm, 1).await);
    assert!(
        eventually(WAIT, || async {
            fake.threads_in(f.staff_forum_id).len() == 1
        })
        .await
    );
    let posts: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.starts_with("/channels/"))
        .collect();
    assert!(posts.len() >= 2, "{posts:?}");
    for r in posts {
        let body = r.json();
        let mentions = if body.get("message").is_some() {
            &body["message"]["allowed_mentions"]
        } else {
            &body["allowed_mentions"]
        };
        assert_eq!(mentions["parse"], json!([]), "{} {body}", r.path);
        assert!(
            mentions.get("roles").is_none_or(|r| r == &json!([])),
            "{body}"
        );
    }
    let starter = &fake.messages_in(id(&fake.threads_in(f.staff_forum_id)[0]["id"]))[0];
    assert_eq!(starter["mention_everyone"], false, "{starter}");
}

#[tokio::test]
async fn a_rate_limited_acknowledgment_waits_for_retry_after_and_arrives_once() {
    let fake = FakeDiscord::start().await;
    let _app = discord_app(&fake).await;
    let f = fake.fixture().clone();
    let citizen = &f.citizens[2];
    let dm = fake.dm_channel_of(citizen);
    fake.rate_limit_next(
        Route::post(&format!("/channels/{dm}/messages")),
        Duration::from_millis(1500),
        1,
    );
    let started = Instant::now();
    fake.dispatch_message_create(IncomingMessage::dm(
        citizen,
        "y'a pu d'eau au robinet depuis ce matin sur toute la rue",
    ));
    assert!(wait_bot_messages(&fake, dm, 1).await);
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "retry_after is honoured: {:?}",
        started.elapsed()
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bot_messages(&fake, dm).len(), 1);
    let attempts = fake.requests_matching(&Route::post(&format!("/channels/{dm}/messages")));
    assert_eq!(attempts.iter().filter(|r| r.status == 429).count(), 1);
}

#[tokio::test]
async fn without_a_token_no_connection_is_attempted() {
    let fake = FakeDiscord::start().await;
    let app = spawn_app_with(|s| {
        configure(s, &fake);
        s.channels.discord.token = Secret::default();
    })
    .await;
    let (status, _) = app
        .post_message(json!({ "sender": "w", "text": "pu d'eau" }))
        .await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
    assert_eq!(fake.gateway_counts().connections, 0);
    let (_, health) = crate::helpers::send(app.client.get(app.url("/healthz"))).await;
    assert!(health["channels"].get("discord").is_none(), "{health}");
}

/// guichet's Discord settings as environment variables, for the real binary.
fn discord_env(fake: &FakeDiscord) -> Vec<(&'static str, String)> {
    let f = fake.fixture();
    vec![
        ("GUICHET__CHANNELS__DISCORD__TOKEN", f.token.clone()),
        ("GUICHET__CHANNELS__DISCORD__API_URL", fake.api_url()),
        (
            "GUICHET__CHANNELS__DISCORD__GUILD_ID",
            f.guild_id.to_string(),
        ),
        (
            "GUICHET__CHANNELS__DISCORD__STAFF_FORUM_ID",
            f.staff_forum_id.to_string(),
        ),
        (
            "GUICHET__CHANNELS__DISCORD__AGENT_ROLE_ID",
            f.agent_role_id.to_string(),
        ),
        (
            "GUICHET__CHANNELS__DISCORD__COORDINATOR_ROLE_ID",
            f.coordinator_role_id.to_string(),
        ),
        ("GUICHET__OUTBOX__INITIAL_BACKOFF_MS", "300".into()),
        ("GUICHET__OUTBOX__MAX_BACKOFF_SECONDS", "2".into()),
    ]
}

#[tokio::test]
async fn discord_failing_for_ten_seconds_across_a_kill_9_loses_and_doubles_nothing() {
    let fake = FakeDiscord::start().await;
    let f = fake.fixture().clone();
    let dir = tempfile::tempdir().unwrap();
    let env = discord_env(&fake);
    fake.fail_for(
        Route::post("/channels/*/messages"),
        500,
        Duration::from_secs(10),
    );
    fake.fail_for(
        Route::post("/channels/*/threads"),
        500,
        Duration::from_secs(10),
    );
    let failing_since = Instant::now();
    let mut served = crate::helpers::serve_with(dir.path(), &env);
    assert!(fake.wait_until_identified(WAIT).await);

    let texts = [
        "pu d'eau depuis 6h dans tout le bloc, rue des Érables",
        "ça sent le gaz dans la cage d'escalier au 455 Principale",
        "un arbre est tombé sur les fils électriques devant chez nous, ça fait des étincelles",
    ];
    for (citizen, text) in f.citizens.iter().zip(texts) {
        fake.dispatch_message_create(IncomingMessage::dm(citizen, text));
    }
    let client = reqwest::Client::new();
    let url = served.url("/api/threads?state=all");
    assert!(
        eventually(WAIT, || async {
            let (_, body) =
                crate::helpers::send(client.get(&url).bearer_auth(crate::helpers::TOKEN)).await;
            body["threads"]
                .as_array()
                .is_some_and(|t| t.len() == texts.len())
        })
        .await,
        "every DM is stored"
    );
    // Attempts fail meanwhile; then guichet dies without a chance to tidy up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    drop(served);
    let _served = crate::helpers::serve_with(dir.path(), &env);
    assert!(
        fake.wait_for_sessions(2, WAIT).await,
        "the restarted guichet identifies"
    );

    let recovered = Duration::from_secs(10).saturating_sub(failing_since.elapsed());
    tokio::time::sleep(recovered).await;
    for citizen in f.citizens.iter().take(texts.len()) {
        let dm = fake.dm_channel_of(citizen);
        assert!(
            wait_bot_messages(&fake, dm, 1).await,
            "{} is answered",
            citizen.id
        );
    }
    assert!(
        eventually(WAIT, || async {
            fake.threads_in(f.staff_forum_id).len() >= texts.len()
        })
        .await
    );
    // Long enough for any duplicate to show.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for citizen in f.citizens.iter().take(texts.len()) {
        let dm = fake.dm_channel_of(citizen);
        assert_eq!(
            bot_messages(&fake, dm).len(),
            1,
            "one acknowledgment for {}",
            citizen.id
        );
    }
    let posts = fake.threads_in(f.staff_forum_id);
    assert_eq!(posts.len(), texts.len(), "each post exists once");
    let mut names: Vec<String> = posts
        .iter()
        .map(|p| p["name"].as_str().unwrap()[..8].to_owned())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), texts.len());
}

#[tokio::test]
async fn at_risk_and_overdue_are_posted_once_each_and_only_overdue_pings_the_coordinators() {
    let fake = FakeDiscord::start().await;
    let app = spawn_app_with(|s| {
        configure(s, &fake);
        // An urgent target of 3.6 s: at risk after 2.7 s, overdue after 3.6 s.
        s.sla.urgent.hours = 0.001;
    })
    .await;
    assert!(fake.wait_until_identified(WAIT).await);
    let f = fake.fixture().clone();
    fake.dispatch_message_create(IncomingMessage::dm(
        &f.citizens[0],
        "ça sent le gaz très fort dans l'entrée du bloc",
    ));
    assert!(
        wait_bot_messages(&fake, f.alerts_channel_id, 2).await,
        "both alerts are posted"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let alerts = bot_messages(&fake, f.alerts_channel_id);
    assert_eq!(alerts.len(), 2, "once each: {alerts:?}");
    let thread = thread_of(&app, f.citizens[0].id).await;
    let reference = thread["thread_id"].as_str().unwrap();
    assert!(alerts
        .iter()
        .all(|a| a["content"].as_str().unwrap().contains(reference)));
    let sent = fake.requests_matching(&Route::post(&format!(
        "/channels/{}/messages",
        f.alerts_channel_id
    )));
    let overdue: Vec<_> = sent
        .iter()
        .filter(|r| r.json()["content"].as_str().unwrap().contains("Overdue"))
        .collect();
    let at_risk: Vec<_> = sent
        .iter()
        .filter(|r| r.json()["content"].as_str().unwrap().contains("At risk"))
        .collect();
    assert_eq!((overdue.len(), at_risk.len()), (1, 1), "{sent:?}");
    assert_eq!(
        overdue[0].json()["allowed_mentions"],
        json!({ "parse": [], "roles": [f.coordinator_role_id.to_string()] })
    );
    assert_eq!(at_risk[0].json()["allowed_mentions"]["parse"], json!([]));
    assert!(at_risk[0].json()["allowed_mentions"]
        .get("roles")
        .is_none_or(|r| r == &json!([])));
}

#[tokio::test]
async fn discord_unreachable_at_start_up_leaves_the_inbox_serving_and_reconnects_later() {
    let fake = FakeDiscord::start().await;
    fake.refuse_connections(true);
    let app = spawn_app_with(|s| configure(s, &fake)).await;
    let (status, _) = app
        .post_message(json!({ "sender": "w-1", "text": "Quand ouvre la piscine municipale?" }))
        .await;
    assert_eq!(status, 200, "the web inbox serves");
    let (status, health) = crate::helpers::send(app.client.get(app.url("/healthz"))).await;
    assert_eq!(status, 200, "a platform down is not guichet down: {health}");
    assert_ne!(health["channels"]["discord"], "connected", "{health}");

    fake.refuse_connections(false);
    assert!(
        fake.wait_until_identified(Duration::from_secs(40)).await,
        "it reconnects"
    );
    assert!(
        eventually(WAIT, || async {
            let (_, h) = crate::helpers::send(app.client.get(app.url("/healthz"))).await;
            h["channels"]["discord"] == "connected"
        })
        .await
    );
}
