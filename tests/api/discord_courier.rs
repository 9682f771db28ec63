//! The Discord courier against the fake Discord: what the outbox's deliveries send (nonces,
//! allowed mentions, tags, split texts), and how Discord's refusals come back as attempts
//! (429 with its wait, 5xx transient, 4xx permanent), the token never in an error.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use guichet::adapters::discord::commands::definitions;
use guichet::adapters::discord::courier::{nonce, outcome_unknown, DiscordRest};
use guichet::adapters::discord::render::{self, AlertLevel, PostView};
use guichet::adapters::discord::{channel_link, no_pings};
use guichet::config::{DiscordSettings, Secret};
use guichet::domain::outbox::{Attempt, DeliveryError};
use guichet::domain::{Category, Language};

use crate::fakes::discord::{FakeDiscord, Route};

fn settings(fake: &FakeDiscord) -> DiscordSettings {
    DiscordSettings {
        token: Secret::new(fake.token.clone()),
        api_url: fake.api_url(),
        guild_id: fake.guild_id,
        staff_forum_id: fake.staff_forum_id,
        alerts_channel_id: fake.alerts_channel_id,
        agent_role_id: fake.agent_role_id,
        coordinator_role_id: fake.coordinator_role_id,
        // The tests make bursts of requests; the default (5 a second) would only slow them.
        rate_per_second: 100,
        ..DiscordSettings::default()
    }
}

fn courier(fake: &FakeDiscord) -> DiscordRest {
    DiscordRest::new(&settings(fake), Duration::from_secs(5)).expect("a client")
}

fn delivered_id(attempt: &Attempt) -> u64 {
    match attempt {
        Attempt::Delivered {
            ticket_id: Some(id),
            ..
        } => id.parse().expect("a snowflake"),
        other => panic!("not delivered with an id: {other:?}"),
    }
}

fn failure(attempt: Attempt) -> DeliveryError {
    match attempt {
        Attempt::Failed(e) => e,
        other => panic!("not a failure: {other:?}"),
    }
}

fn view(reference: &str, category: Category, text: &str) -> PostView {
    PostView {
        reference: reference.into(),
        category,
        language: Language::Fr,
        confidence: 0.91,
        reasons: vec!["hazard: gas".into()],
        masked_text: text.into(),
        due_at: Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap(),
        channel: "discord".into(),
        needs_triage: false,
        abusive: false,
    }
}

fn messages_route() -> Route {
    Route::post("/channels/{channel}/messages")
}

#[tokio::test]
async fn a_dm_is_sent_once_with_its_nonce_enforced_and_pinging_nobody() {
    let fake = FakeDiscord::start().await;
    let rest = courier(&fake);
    let citizen = &fake.citizens[0];
    let n = nonce("G-000001-1-discord");

    let attempt = rest
        .send_dm(citizen.id, "Bien reçu. @everyone ne sonnera pas.", &n)
        .await;
    let id = delivered_id(&attempt);

    let dm = fake.dm_channel_of(citizen);
    let held = fake.messages_in(dm);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["id"], id.to_string());
    assert_eq!(held[0]["mention_everyone"], false, "nobody pinged");
    let sent = fake.requests_matching(&messages_route());
    assert_eq!(sent.len(), 1);
    let body = sent[0].json();
    assert_eq!(body["nonce"], n.as_str());
    assert!(n.chars().count() <= 25);
    assert_eq!(body["enforce_nonce"], true);
    assert_eq!(body["allowed_mentions"], json!({ "parse": [] }));
    assert!(!sent[0].multipart);
    let opened = fake.requests_matching(&Route::post("/users/@me/channels"));
    assert_eq!(opened[0].json()["recipient_id"], citizen.id.to_string());
}

#[tokio::test]
async fn the_same_nonce_sent_twice_creates_one_message() {
    let fake = FakeDiscord::start().await;
    let rest = courier(&fake);
    let citizen = &fake.citizens[1];
    let n = nonce("G-000002-1-discord");

    let first = delivered_id(&rest.send_dm(citizen.id, "Accusé de réception", &n).await);
    let again = delivered_id(&rest.send_dm(citizen.id, "Accusé de réception", &n).await);

    assert_eq!(
        first, again,
        "Discord returns the message the nonce created"
    );
    assert_eq!(fake.messages_in(fake.dm_channel_of(citizen)).len(), 1);
    assert_eq!(fake.requests_matching(&messages_route()).len(), 2);
}

#[tokio::test]
async fn a_429_fails_transiently_with_its_retry_after_rounded_up() {
    let fake = FakeDiscord::start().await;
    let rest = courier(&fake);
    fake.rate_limit_next(messages_route(), Duration::from_millis(1500), 1);
    let n = nonce("G-000003-1-discord");

    let e = failure(
        rest.send_message(fake.alerts_channel_id, "Alerte", &n, &no_pings(), None)
            .await,
    );
    assert_eq!(e.status, Some(429));
    assert_eq!(e.retry_after_secs, Some(2));
    assert!(!e.permanent);
    assert!(!outcome_unknown(&e), "a 429 created nothing");

    let retried = rest
        .send_message(fake.alerts_channel_id, "Alerte", &n, &no_pings(), None)
        .await;
    delivered_id(&retried);
    assert_eq!(fake.messages_in(fake.alerts_channel_id).len(), 1);
}

#[tokio::test]
async fn a_server_error_is_transient_and_a_refusal_permanent_without_the_token() {
    let fake = FakeDiscord::start().await;
    let rest = courier(&fake);
    let n = nonce("G-000004-1-discord");

    fake.fail_next(messages_route(), 500, 1);
    let e = failure(
        rest.send_message(fake.alerts_channel_id, "Alerte", &n, &no_pings(), None)
            .await,
    );
    assert_eq!(e.status, Some(500));
    assert!(!e.permanent);
    assert!(outcome_unknown(&e), "a 5xx may have created the message");

    fake.fail_next(messages_route(), 403, 1);
    let e = failure(
        rest.send_message(fake.alerts_channel_id, "Alerte", &n, &no_pings(), None)
            .await,
    );
    assert_eq!(e.status, Some(403));
    assert!(e.permanent);
    assert!(!e.to_string().contains(&fake.token));

    // A wrong token is refused for good, and not shown.
    let wrong = DiscordSettings {
        token: Secret::new("not-the-token.0000"),
        ..settings(&fake)
    };
    let rest = DiscordRest::new(&wrong, Duration::from_secs(5)).unwrap();
    let e = failure(rest.send_dm(fake.citizens[0].id, "x", &n).await);
    assert_eq!(e.status, Some(401));
    assert!(e.permanent);
    assert!(!e.to_string().contains("not-the-token"), "{e}");
}

#[tokio::test]
async fn no_answer_is_transient_and_a_refused_connection_created_nothing() {
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    // Accepts connections and never answers.
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            open.push(socket);
        }
    });
    let quiet = DiscordSettings {
        token: Secret::new("t"),
        api_url: format!("http://{addr}"),
        ..DiscordSettings::default()
    };
    let rest = DiscordRest::new(&quiet, Duration::from_millis(300)).unwrap();
    let e = failure(rest.send_message(1, "x", "n", &no_pings(), None).await);
    assert!(!e.permanent);
    assert_eq!(e.status, None);
    assert!(outcome_unknown(&e), "the request may have arrived: {e}");
    held.abort();

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let refused = DiscordSettings {
        api_url: format!("http://{closed}"),
        ..quiet
    };
    let rest = DiscordRest::new(&refused, Duration::from_millis(300)).unwrap();
    let e = failure(rest.send_message(1, "x", "n", &no_pings(), None).await);
    assert!(!e.permanent);
    assert!(!outcome_unknown(&e), "nothing reached Discord: {e}");
}

#[tokio::test]
async fn missing_tags_are_created_keeping_the_existing_ones_and_the_post_wears_its_tag() {
    let fake = FakeDiscord::start().await;
    let rest = courier(&fake);
    let (urgent, _) = fake.initial_tags[0].clone();

    let tags = rest.ensure_tags(fake.staff_forum_id).await.expect("tags");
    assert_eq!(
        tags[&Category::Urgent],
        urgent,
        "the urgent tag keeps its id"
    );
    assert_eq!(tags.len(), 3);
    let forum = fake.channel(fake.staff_forum_id).unwrap();
    let names: Vec<&str> = forum["available_tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["urgent", "info", "complaint"]);
    let patch = fake.requests_matching(&Route::patch("/channels/{channel}"));
    assert_eq!(patch.len(), 1);
    assert_eq!(
        patch[0].json()["available_tags"][0]["id"],
        urgent.to_string()
    );

    // Once they exist, nothing is edited.
    assert_eq!(rest.ensure_tags(fake.staff_forum_id).await.unwrap(), tags);
    assert_eq!(
        fake.requests_matching(&Route::patch("/channels/{channel}"))
            .len(),
        1
    );

    let spec = render::post(&view(
        "G-000042",
        Category::Urgent,
        "Ça sent le gaz @everyone",
    ));
    let attempt = rest
        .create_post(fake.staff_forum_id, &spec, Some(tags[&spec.tag]))
        .await;
    let post = delivered_id(&attempt);
    let thread = fake.channel(post).expect("the post exists");
    assert_eq!(thread["applied_tags"], json!([urgent.to_string()]));
    assert!(thread["name"]
        .as_str()
        .unwrap()
        .starts_with("G-000042 · urgent · Ça sent le gaz"));
    let starter = &fake.messages_in(post)[0];
    assert_eq!(starter["mention_everyone"], false);
    assert_eq!(
        starter["components"][0]["components"][0]["custom_id"],
        "guichet:claim:G-000042"
    );
    let created = fake.requests_matching(&Route::post("/channels/{channel}/threads"));
    assert!(
        !created[0].multipart,
        "a JSON body, not serenity's multipart"
    );
    assert_eq!(
        created[0].json()["message"]["allowed_mentions"],
        json!({ "parse": [] })
    );
}

#[tokio::test]
async fn a_post_after_an_uncertain_attempt_is_found_not_created_twice() {
    let fake = FakeDiscord::start().await;
    let rest = courier(&fake);
    let (urgent, _) = fake.initial_tags[0].clone();
    let spec = render::post(&view("G-000042", Category::Urgent, "Fuite de gaz"));
    let threads = Route::post("/channels/{channel}/threads");

    // The first attempt created the post, but its answer was lost.
    let first = delivered_id(
        &rest
            .create_post(fake.staff_forum_id, &spec, Some(urgent))
            .await,
    );
    let again = rest
        .deliver_post(
            fake.guild_id,
            fake.staff_forum_id,
            &spec,
            Some(urgent),
            true,
        )
        .await;
    assert_eq!(delivered_id(&again), first);
    assert_eq!(fake.threads_in(fake.staff_forum_id).len(), 1);
    assert_eq!(fake.requests_matching(&threads).len(), 1);

    // Archived meanwhile: still found.
    reqwest::Client::new()
        .patch(format!("{}/api/v10/channels/{first}", fake.api_url()))
        .header("Authorization", format!("Bot {}", fake.token))
        .json(&json!({ "archived": true }))
        .send()
        .await
        .unwrap();
    let again = rest
        .deliver_post(
            fake.guild_id,
            fake.staff_forum_id,
            &spec,
            Some(urgent),
            true,
        )
        .await;
    assert_eq!(delivered_id(&again), first);
    assert_eq!(fake.requests_matching(&threads).len(), 1);

    // Another thread's post, after an uncertain attempt that created nothing: created once.
    let other = render::post(&view("G-000043", Category::Urgent, "Panne de courant"));
    let created = rest
        .deliver_post(
            fake.guild_id,
            fake.staff_forum_id,
            &other,
            Some(urgent),
            true,
        )
        .await;
    assert_ne!(delivered_id(&created), first);
    assert_eq!(fake.threads_in(fake.staff_forum_id).len(), 2);

    // When the search fails, nothing is created.
    fake.fail_next(Route::get("/guilds/{guild}/threads/active"), 503, 1);
    let third = render::post(&view("G-000044", Category::Info, "Horaire"));
    let e = failure(
        rest.deliver_post(fake.guild_id, fake.staff_forum_id, &third, None, true)
            .await,
    );
    assert!(!e.permanent);
    assert_eq!(fake.threads_in(fake.staff_forum_id).len(), 2);
}

#[tokio::test]
async fn a_three_thousand_character_text_arrives_as_two_messages_in_order() {
    let fake = FakeDiscord::start().await;
    let rest = courier(&fake);
    let text = (1..=75)
        .map(|i| format!("Phrase numéro {i:02} de la réponse de l'agent. "))
        .collect::<String>();
    assert!(text.chars().count() > 3000);
    let n = nonce("G-000005-2-discord");

    let attempt = rest
        .send_message(fake.alerts_channel_id, &text, &n, &no_pings(), None)
        .await;
    let first = delivered_id(&attempt);

    let held = fake.messages_in(fake.alerts_channel_id);
    assert_eq!(held.len(), 2);
    assert_eq!(held[0]["id"], first.to_string());
    let first_text = held[0]["content"].as_str().unwrap();
    let second_text = held[1]["content"].as_str().unwrap();
    assert!(first_text.starts_with("Phrase numéro 01"));
    assert!(first_text.ends_with("agent."), "cut between sentences");
    assert!(second_text.ends_with("Phrase numéro 75 de la réponse de l'agent."));
    assert_eq!(format!("{first_text} {second_text}"), text.trim());
    let nonces: Vec<Value> = fake
        .requests_matching(&messages_route())
        .iter()
        .map(|r| r.json()["nonce"].clone())
        .collect();
    assert_eq!(nonces, [json!(n), json!(format!("{n}-2"))]);

    // Sent again (the outcome was unknown): the nonces give back the same two messages.
    let again = rest
        .send_message(fake.alerts_channel_id, &text, &n, &no_pings(), None)
        .await;
    assert_eq!(delivered_id(&again), first);
    assert_eq!(fake.messages_in(fake.alerts_channel_id).len(), 2);
}

#[tokio::test]
async fn every_post_pings_nobody_but_an_overdue_alert_the_coordinator_role() {
    let fake = FakeDiscord::start().await;
    let rest = courier(&fake);
    let due = Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap();

    rest.send_dm(fake.citizens[0].id, "@everyone <@&1>", &nonce("a"))
        .await;
    let spec = render::post(&view("G-000050", Category::Complaint, "@here"));
    let post = delivered_id(&rest.create_post(fake.staff_forum_id, &spec, None).await);
    let appended = render::appended(&view("G-000050", Category::Complaint, "@everyone encore"));
    rest.send_message(post, &appended, &nonce("b"), &no_pings(), None)
        .await;
    let link = channel_link(fake.guild_id, post);
    let (risk, risk_mentions) = render::alert(
        AlertLevel::AtRisk,
        "G-000050",
        Category::Complaint,
        due,
        Some(&link),
        fake.coordinator_role_id,
    );
    rest.send_message(
        fake.alerts_channel_id,
        &risk,
        &nonce("c"),
        &risk_mentions,
        None,
    )
    .await;
    let (late, late_mentions) = render::alert(
        AlertLevel::Overdue,
        "G-000050",
        Category::Complaint,
        due,
        Some(&link),
        fake.coordinator_role_id,
    );
    let overdue = rest
        .send_message(
            fake.alerts_channel_id,
            &format!("{late} @everyone"),
            &nonce("d"),
            &late_mentions,
            None,
        )
        .await;
    let overdue = delivered_id(&overdue);

    let posts: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path != "/users/@me/channels")
        .collect();
    assert_eq!(posts.len(), 5);
    for request in &posts {
        let body = request.json();
        let mentions = if request.path.ends_with("/threads") {
            &body["message"]["allowed_mentions"]
        } else {
            &body["allowed_mentions"]
        };
        assert_eq!(mentions["parse"], json!([]), "{} {}", request.path, body);
        let roles = mentions["roles"].as_array().map_or(0, Vec::len);
        assert!(roles == 0 || *mentions == late_mentions, "{mentions}");
    }
    let everyone_pinged = [
        fake.alerts_channel_id,
        post,
        fake.dm_channel_of(&fake.citizens[0]),
    ]
    .iter()
    .flat_map(|c| fake.messages_in(*c))
    .any(|m| m["mention_everyone"] == true);
    assert!(!everyone_pinged);
    let alert = fake
        .messages_in(fake.alerts_channel_id)
        .into_iter()
        .find(|m| m["id"].as_str().and_then(|id| id.parse().ok()) == Some(overdue))
        .unwrap();
    assert_eq!(
        alert["mention_roles"],
        json!([fake.coordinator_role_id.to_string()])
    );
}

#[tokio::test]
async fn the_slash_commands_are_set_idempotently() {
    let fake = FakeDiscord::start().await;
    let rest = courier(&fake);

    rest.put_commands(fake.application_id, fake.guild_id, &definitions())
        .await
        .expect("set");
    let first = fake.commands();
    rest.put_commands(fake.application_id, fake.guild_id, &definitions())
        .await
        .expect("set again");
    let second = fake.commands();

    let names = |list: &[Value]| -> Vec<(String, String)> {
        list.iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_owned(),
                    c["id"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(names(&first), names(&second), "same commands, same ids");
    assert_eq!(first.len(), 5);
    assert_eq!(second[0]["name_localizations"]["fr"], "en-retard");
}
