//! The Messenger channel against a local fake of the Graph API, with webhook deliveries built
//! and signed as Meta builds them.

use std::time::Duration;

use chrono::Utc;
use guichet::adapters::messenger::webhook::sign;
use guichet::config::{Secret, Settings};
use serde_json::{json, Value};

use crate::fakes::graph::FakeGraph;
use crate::helpers::{eventually, send, serve_with, spawn_app, spawn_app_with, TestApp, TOKEN};

const PAGE_ID: &str = "104000000000001";
const APP_ID: &str = "555000000000001";
/// Meta's Page inbox, an app of its own.
const INBOX_APP_ID: i64 = 263_902_037_430_900;
const APP_SECRET: &str = "test-app-secret";
const VERIFY_TOKEN: &str = "test-verify-token";
const PAGE_TOKEN: &str = "test-page-token";

const COMPLAINT: &str = "Le nid-de-poule devant chez moi n'est toujours pas réparé depuis trois semaines, c'est inacceptable.";
const COMPLAINT_2: &str = "Et la chaussée s'est encore affaissée ce matin, c'est pire qu'avant.";

fn messenger(s: &mut Settings, graph: &FakeGraph) {
    let m = &mut s.channels.messenger;
    m.page_token = Secret::new(PAGE_TOKEN);
    m.app_secret = Secret::new(APP_SECRET);
    m.verify_token = Secret::new(VERIFY_TOKEN);
    m.graph_url = graph.url();
    m.page_id = PAGE_ID.into();
    m.app_id = APP_ID.into();
    s.outbox.initial_backoff_ms = 200;
    s.outbox.max_backoff_seconds = 2;
}

async fn app_with(graph: &FakeGraph, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let graph = graph.clone();
    spawn_app_with(move |s| {
        messenger(s, &graph);
        adjust(s);
    })
    .await
}

fn millis(at: chrono::DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// A citizen's message event, as Meta sends it.
fn citizen(psid: &str, mid: &str, text: &str, at: chrono::DateTime<Utc>) -> Value {
    json!({
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": millis(at),
        "message": {"mid": mid, "text": text}
    })
}

/// An echo of a message the page sent to `psid` through the app `app_id`.
fn echo(psid: &str, mid: &str, text: &str, app_id: i64) -> Value {
    json!({
        "sender": {"id": PAGE_ID},
        "recipient": {"id": psid},
        "timestamp": millis(Utc::now()),
        "message": {"mid": mid, "text": text, "is_echo": true, "app_id": app_id}
    })
}

/// A delivery: one entry per list of events.
fn delivery(entries: Vec<Vec<Value>>) -> Vec<u8> {
    let time = millis(Utc::now());
    let entry: Vec<Value> = entries
        .into_iter()
        .map(|events| json!({"id": PAGE_ID, "time": time, "messaging": events}))
        .collect();
    serde_json::to_vec(&json!({"object": "page", "entry": entry})).unwrap()
}

async fn post_signed(app: &TestApp, body: &[u8]) -> (u16, String) {
    post_with(app, body, Some(sign(APP_SECRET, body))).await
}

async fn post_with(app: &TestApp, body: &[u8], signature: Option<String>) -> (u16, String) {
    let mut request = app
        .client
        .post(app.url("/webhooks/messenger"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        request = request.header("X-Hub-Signature-256", s);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap_or_default())
}

async fn thread_of(app: &TestApp, psid: &str) -> Option<Value> {
    let id = app
        .all_threads()
        .await
        .into_iter()
        .find(|t| t["sender"] == psid)?["thread_id"]
        .clone();
    let (status, detail) = app
        .staff_get(&format!("/api/threads/{}", id.as_str().unwrap()))
        .await;
    assert_eq!(status, 200, "{detail}");
    Some(detail)
}

/// Lets the outbox run a little longer, so that a second delivery would have happened.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

#[tokio::test]
async fn the_handshake_echoes_the_challenge_for_the_right_token_only() {
    let graph = FakeGraph::start().await;
    let app = app_with(&graph, |_| {}).await;
    let url = |token: &str| {
        app.url(&format!(
            "/webhooks/messenger?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444"
        ))
    };
    let r = app.client.get(url(VERIFY_TOKEN)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    assert_eq!(r.text().await.unwrap(), "1158201444");
    let (status, body) = send(app.client.get(url("guessed"))).await;
    assert_eq!(status, 403);
    assert!(body["error"].is_string(), "{body}");
}

#[tokio::test]
async fn a_forged_or_missing_signature_is_refused_and_nothing_is_stored() {
    let graph = FakeGraph::start().await;
    let app = app_with(&graph, |_| {}).await;
    let body = delivery(vec![vec![citizen(
        "9001",
        "m_forged",
        COMPLAINT,
        Utc::now(),
    )]]);
    let (status, _) = post_with(&app, &body, Some(sign("not-the-secret", &body))).await;
    assert_eq!(status, 403);
    let (status, _) = post_with(&app, &body, None).await;
    assert_eq!(status, 403);
    // Signed, then altered.
    let signature = sign(APP_SECRET, &body);
    let mut altered = body.clone();
    let at = altered.iter().position(|b| *b == b'9').unwrap();
    altered[at] = b'8';
    let (status, _) = post_with(&app, &altered, Some(signature)).await;
    assert_eq!(status, 403);
    assert!(app.all_threads().await.is_empty());
    settle().await;
    assert!(graph.requests().is_empty());
}

#[tokio::test]
async fn a_batch_is_stored_and_each_new_thread_acknowledged_once_and_a_retry_changes_nothing() {
    let graph = FakeGraph::start().await;
    let app = app_with(&graph, |_| {}).await;
    let now = Utc::now() - chrono::Duration::seconds(5);
    let body = delivery(vec![
        vec![
            citizen("7001", "m_a1", COMPLAINT, now),
            citizen("7002", "m_b1", COMPLAINT, now),
        ],
        vec![
            citizen(
                "7001",
                "m_a2",
                COMPLAINT_2,
                now + chrono::Duration::seconds(1),
            ),
            citizen("7003", "m_c1", COMPLAINT, now),
        ],
    ]);
    let (status, text) = post_signed(&app, &body).await;
    assert_eq!((status, text.as_str()), (200, "EVENT_RECEIVED"));
    // Stored before the 200.
    let threads = app.all_threads().await;
    assert_eq!(threads.len(), 3, "{threads:?}");
    assert!(threads.iter().all(|t| t["channel"] == "messenger"));
    let a = thread_of(&app, "7001").await.unwrap();
    let citizen_messages = |d: &Value| {
        d["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "citizen")
            .count()
    };
    assert_eq!(citizen_messages(&a), 2, "{a}");

    assert!(
        eventually(Duration::from_secs(10), || async {
            graph.delivered().len() >= 3
        })
        .await
    );
    settle().await;
    let delivered = graph.delivered();
    assert_eq!(delivered.len(), 3, "{delivered:?}");
    for psid in ["7001", "7002", "7003"] {
        assert_eq!(
            graph.texts_to(psid).len(),
            1,
            "one acknowledgment for {psid}"
        );
    }
    assert!(delivered
        .iter()
        .all(|(_, b)| b["messaging_type"] == "RESPONSE" && b.get("tag").is_none()));
    let requests = graph.requests();
    assert!(requests
        .iter()
        .all(|r| r.path == format!("/v21.0/{PAGE_ID}/messages")
            && r.access_token.as_deref() == Some(PAGE_TOKEN)));

    // Meta delivers the same batch again.
    let (status, _) = post_signed(&app, &body).await;
    assert_eq!(status, 200);
    assert_eq!(app.all_threads().await.len(), 3);
    assert_eq!(citizen_messages(&thread_of(&app, "7001").await.unwrap()), 2);
    settle().await;
    assert_eq!(graph.delivered().len(), 3);
}

#[tokio::test]
async fn an_answer_typed_in_the_page_inbox_answers_the_thread_and_is_not_sent_again() {
    let graph = FakeGraph::start().await;
    let app = app_with(&graph, |_| {}).await;
    let body = delivery(vec![vec![citizen("7101", "m_1", COMPLAINT, Utc::now())]]);
    assert_eq!(post_signed(&app, &body).await.0, 200);
    assert!(
        eventually(Duration::from_secs(10), || async {
            graph.delivered().len() == 1
        })
        .await
    );
    // guichet's own acknowledgment comes back as an echo of its app: ignored.
    let own = delivery(vec![vec![echo(
        "7101",
        "m_own",
        "Accusé de réception",
        APP_ID.parse().unwrap(),
    )]]);
    assert_eq!(post_signed(&app, &own).await.0, 200);
    let d = thread_of(&app, "7101").await.unwrap();
    assert_ne!(d["sla"], "met", "{d}");

    let answer = "Bonjour, une équipe passera demain matin réparer la chaussée.";
    let inbox = delivery(vec![vec![echo("7101", "m_inbox", answer, INBOX_APP_ID)]]);
    assert_eq!(post_signed(&app, &inbox).await.0, 200);
    let d = thread_of(&app, "7101").await.unwrap();
    assert_eq!(d["sla"], "met", "{d}");
    let agent: Vec<&Value> = d["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "agent")
        .collect();
    assert_eq!(agent.len(), 1, "{d}");
    assert_eq!(agent[0]["author"], "page inbox");
    assert_eq!(agent[0]["text"], answer);
    // Meta delivers the echo again: nothing changes.
    assert_eq!(post_signed(&app, &inbox).await.0, 200);
    settle().await;
    let d = thread_of(&app, "7101").await.unwrap();
    assert_eq!(
        d["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "agent")
            .count(),
        1
    );
    // The citizen already has the answer: only the acknowledgment went out.
    assert_eq!(graph.delivered().len(), 1);
    assert!(!graph.texts_to("7101").iter().any(|t| t == answer));
}

#[tokio::test]
async fn an_answer_30_hours_later_goes_with_the_human_agent_tag_and_8_days_later_is_dead() {
    let graph = FakeGraph::start().await;
    let app = app_with(&graph, |s| {
        s.channels.messenger.human_agent_tag = true;
        s.messages.max_age_hours = 24 * 9;
    })
    .await;
    let late = Utc::now() - chrono::Duration::hours(30);
    let old = Utc::now() - chrono::Duration::days(8);
    let body = delivery(vec![vec![
        citizen("7201", "m_30h", COMPLAINT, late),
        citizen("7202", "m_8d", COMPLAINT, old),
    ]]);
    assert_eq!(post_signed(&app, &body).await.0, 200);
    for psid in ["7201", "7202"] {
        let id = thread_of(&app, psid).await.unwrap()["thread_id"].clone();
        let (status, r) = app
            .staff_post(
                &format!("/api/threads/{}/replies", id.as_str().unwrap()),
                json!({"agent": "luc", "text": "Bonjour, une équipe passera demain."}),
            )
            .await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(r["relayed"], true);
    }
    assert!(
        eventually(Duration::from_secs(10), || async {
            !graph.texts_to("7201").is_empty()
        })
        .await
    );
    settle().await;
    // The automatic acknowledgment may not use the tag: only the agent's answer went out.
    let to_30h: Vec<Value> = graph
        .delivered()
        .into_iter()
        .filter(|(r, _)| r == "7201")
        .map(|(_, b)| b)
        .collect();
    assert_eq!(to_30h.len(), 1, "{to_30h:?}");
    assert_eq!(to_30h[0]["messaging_type"], "MESSAGE_TAG");
    assert_eq!(to_30h[0]["tag"], "HUMAN_AGENT");
    assert_eq!(
        to_30h[0]["message"]["text"],
        "Bonjour, une équipe passera demain."
    );

    assert!(graph.texts_to("7202").is_empty());
    let (_, dead) = app.staff_get("/api/outbox?state=dead").await;
    let thread = thread_of(&app, "7202").await.unwrap();
    let answer_job = dead["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| {
            j["thread_id"] == thread["thread_id"]
                && j["destination"] == "messenger"
                && j["id"].as_str().unwrap().ends_with("-messenger")
                && j["last_error"]["message"] == "outside Messenger's reply window"
        })
        .cloned();
    assert!(answer_job.is_some(), "{dead}");
    // The coordinator sees it on the thread too.
    assert!(
        thread["audit"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["detail"]
                .as_str()
                .is_some_and(|d| d.contains("outside Messenger's reply window"))),
        "{thread}"
    );
    // And it is flagged for the coordinator: the citizen must be called back.
    assert_eq!(thread["needs_triage"], true, "{thread}");
    assert!(thread["audit"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "needs_triage"
            && e["detail"]
                .as_str()
                .is_some_and(|d| d.contains("call them back"))));
}

#[tokio::test]
async fn a_rate_limit_for_a_few_seconds_delays_the_acknowledgment_which_arrives_once() {
    let graph = FakeGraph::start().await;
    let app = app_with(&graph, |_| {}).await;
    graph.fail_for(Duration::from_secs(3), 400, 613, None);
    let body = delivery(vec![vec![citizen("7301", "m_1", COMPLAINT, Utc::now())]]);
    assert_eq!(post_signed(&app, &body).await.0, 200);
    assert!(
        eventually(Duration::from_secs(15), || async {
            graph.delivered().len() == 1
        })
        .await
    );
    settle().await;
    assert_eq!(graph.texts_to("7301").len(), 1);
    assert!(
        graph.requests().len() >= 2,
        "the first attempts were refused"
    );
}

#[tokio::test]
async fn a_long_answer_arrives_as_two_messages_in_order() {
    let graph = FakeGraph::start().await;
    let app = app_with(&graph, |_| {}).await;
    let body = delivery(vec![vec![citizen("7401", "m_1", COMPLAINT, Utc::now())]]);
    assert_eq!(post_signed(&app, &body).await.0, 200);
    assert!(
        eventually(Duration::from_secs(10), || async {
            graph.delivered().len() == 1
        })
        .await
    );
    let sentence = "Nous avons bien noté votre demande concernant la chaussée. ";
    let long: String = sentence.repeat(51).trim().to_owned();
    assert!(long.chars().count() >= 3000);
    let id = thread_of(&app, "7401").await.unwrap()["thread_id"].clone();
    let (status, _) = app
        .staff_post(
            &format!("/api/threads/{}/replies", id.as_str().unwrap()),
            json!({"agent": "luc", "text": long}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        eventually(Duration::from_secs(10), || async {
            graph.texts_to("7401").len() >= 3
        })
        .await
    );
    settle().await;
    let texts = graph.texts_to("7401");
    assert_eq!(texts.len(), 3, "the acknowledgment and two parts");
    assert!(texts[1..].iter().all(|t| t.chars().count() <= 2000));
    assert_eq!(format!("{} {}", texts[1], texts[2]), long);
}

#[tokio::test]
async fn a_part_that_failed_is_sent_again_without_the_parts_before_it() {
    let graph = FakeGraph::start().await;
    let app = app_with(&graph, |_| {}).await;
    let body = delivery(vec![vec![citizen("7501", "m_1", COMPLAINT, Utc::now())]]);
    assert_eq!(post_signed(&app, &body).await.0, 200);
    assert!(
        eventually(Duration::from_secs(10), || async {
            graph.delivered().len() == 1
        })
        .await
    );
    let long: String = "Une phrase de réponse assez longue pour remplir. "
        .repeat(60)
        .trim()
        .to_owned();
    let id = thread_of(&app, "7501").await.unwrap()["thread_id"].clone();
    // Meta takes the first part, then fails twice: the first part is not sent again.
    graph.fail_after(1, 2, 500, 1, None);
    let (status, _) = app
        .staff_post(
            &format!("/api/threads/{}/replies", id.as_str().unwrap()),
            json!({"agent": "luc", "text": long}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        eventually(Duration::from_secs(15), || async {
            graph.texts_to("7501").len() >= 3
        })
        .await
    );
    settle().await;
    let texts = graph.texts_to("7501");
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(format!("{} {}", texts[1], texts[2]), long);
    assert!(graph.requests().len() >= 5, "two attempts were refused");
}

#[tokio::test]
async fn without_the_secrets_the_webhook_routes_do_not_exist() {
    let app = spawn_app().await;
    let (status, _) =
        send(app.client.get(
            app.url("/webhooks/messenger?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1"),
        ))
        .await;
    assert_eq!(status, 404);
    let body = delivery(vec![vec![citizen("1", "m_1", COMPLAINT, Utc::now())]]);
    let (status, _) = post_signed(&app, &body).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_kill_9_around_the_answer_then_metas_retry_stores_and_acknowledges_once() {
    let graph = FakeGraph::start().await;
    // The acknowledgment cannot leave before the kill: the page is rate-limited for a while.
    graph.fail_for(Duration::from_secs(6), 400, 613, None);
    let dir = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "GUICHET__CHANNELS__MESSENGER__PAGE_TOKEN",
            PAGE_TOKEN.to_owned(),
        ),
        (
            "GUICHET__CHANNELS__MESSENGER__APP_SECRET",
            APP_SECRET.to_owned(),
        ),
        (
            "GUICHET__CHANNELS__MESSENGER__VERIFY_TOKEN",
            VERIFY_TOKEN.to_owned(),
        ),
        ("GUICHET__CHANNELS__MESSENGER__GRAPH_URL", graph.url()),
        ("GUICHET__CHANNELS__MESSENGER__PAGE_ID", PAGE_ID.to_owned()),
        ("GUICHET__CHANNELS__MESSENGER__APP_ID", APP_ID.to_owned()),
        ("GUICHET__OUTBOX__INITIAL_BACKOFF_MS", "200".to_owned()),
        ("GUICHET__OUTBOX__MAX_BACKOFF_SECONDS", "2".to_owned()),
    ];
    let client = reqwest::Client::new();
    let body = delivery(vec![vec![
        citizen("7601", "m_k1", COMPLAINT, Utc::now()),
        citizen("7602", "m_k2", COMPLAINT, Utc::now()),
    ]]);
    let signature = sign(APP_SECRET, &body);
    let post = |url: String| {
        client
            .post(url)
            .header("content-type", "application/json")
            .header("X-Hub-Signature-256", signature.clone())
            .body(body.clone())
            .send()
    };

    let mut served = serve_with(dir.path(), &env);
    let answer = post(served.url("/webhooks/messenger")).await.unwrap();
    assert_eq!(answer.status(), 200);
    // Killed right after the answer: as if the 200 had been lost on the way to Meta.
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    drop(served);

    let served = serve_with(dir.path(), &env);
    let retry = post(served.url("/webhooks/messenger")).await.unwrap();
    assert_eq!(retry.status(), 200);
    let (status, threads) = send(
        client
            .get(served.url("/api/threads?state=all"))
            .bearer_auth(TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{threads}");
    let threads = threads["threads"].as_array().unwrap().clone();
    assert_eq!(threads.len(), 2, "{threads:?}");
    for t in &threads {
        let (_, d) = send(
            client
                .get(served.url(&format!(
                    "/api/threads/{}",
                    t["thread_id"].as_str().unwrap()
                )))
                .bearer_auth(TOKEN),
        )
        .await;
        let citizen_messages = d["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "citizen")
            .count();
        assert_eq!(citizen_messages, 1, "{d}");
    }
    assert!(
        eventually(Duration::from_secs(20), || async {
            graph.delivered().len() >= 2
        })
        .await
    );
    settle().await;
    assert_eq!(graph.texts_to("7601").len(), 1);
    assert_eq!(graph.texts_to("7602").len(), 1);

    // Killed while the delivery is in flight, stored or not yet: Meta's retry stores it once.
    graph.fail_for(Duration::from_secs(6), 400, 613, None);
    let body = delivery(vec![vec![citizen("7603", "m_k3", COMPLAINT, Utc::now())]]);
    let signature = sign(APP_SECRET, &body);
    let mut served = served;
    let in_flight = tokio::spawn(
        client
            .post(served.url("/webhooks/messenger"))
            .header("content-type", "application/json")
            .header("X-Hub-Signature-256", signature.clone())
            .body(body.clone())
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(15)).await;
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    drop(served);
    let _ = in_flight.await;
    let served = serve_with(dir.path(), &env);
    let retry = client
        .post(served.url("/webhooks/messenger"))
        .header("content-type", "application/json")
        .header("X-Hub-Signature-256", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 200);
    let (_, threads) = send(
        client
            .get(served.url("/api/threads?state=all"))
            .bearer_auth(TOKEN),
    )
    .await;
    let mine: Vec<&Value> = threads["threads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["sender"] == "7603")
        .collect();
    assert_eq!(mine.len(), 1, "{threads}");
    let (_, d) = send(
        client
            .get(served.url(&format!(
                "/api/threads/{}",
                mine[0]["thread_id"].as_str().unwrap()
            )))
            .bearer_auth(TOKEN),
    )
    .await;
    let stored = d["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "citizen")
        .count();
    assert_eq!(stored, 1, "{d}");
    assert!(
        eventually(Duration::from_secs(20), || async {
            !graph.texts_to("7603").is_empty()
        })
        .await
    );
    settle().await;
    assert_eq!(graph.texts_to("7603").len(), 1);
}

#[tokio::test]
async fn a_delivery_larger_than_a_web_message_may_be_is_stored_whole() {
    let graph = FakeGraph::start().await;
    let app = app_with(&graph, |_| {}).await;
    let long = format!("{COMPLAINT} ").repeat(20);
    let events: Vec<Value> = (0..40)
        .map(|i| {
            citizen(
                &format!("78{i:02}"),
                &format!("m_big{i}"),
                &long,
                Utc::now(),
            )
        })
        .collect();
    let body = delivery(vec![events]);
    assert!(body.len() > 65_536, "{}", body.len());
    let (status, text) = post_signed(&app, &body).await;
    assert_eq!((status, text.as_str()), (200, "EVENT_RECEIVED"));
    assert_eq!(app.all_threads().await.len(), 40);
}

#[tokio::test]
async fn an_agent_answering_in_the_discord_forum_reaches_the_citizen_on_messenger() {
    use crate::fakes::discord::{FakeDiscord, IncomingMessage};
    let graph = FakeGraph::start().await;
    let discord = FakeDiscord::start().await;
    let app = app_with(&graph, |s| crate::discord::configure(s, &discord)).await;
    assert!(discord.wait_until_identified(Duration::from_secs(15)).await);
    let f = discord.fixture().clone();
    let body = delivery(vec![vec![citizen("7901", "m_1", COMPLAINT, Utc::now())]]);
    assert_eq!(post_signed(&app, &body).await.0, 200);
    assert!(
        eventually(Duration::from_secs(15), || async {
            !discord.threads_in(f.staff_forum_id).is_empty()
        })
        .await,
        "the thread gets its post in the staff forum"
    );
    let post = discord.threads_in(f.staff_forum_id)[0].clone();
    let post_id: u64 = post["id"].as_str().unwrap().parse().unwrap();
    let answer = "Une équipe passera demain matin réparer la chaussée.";
    discord.dispatch_message_create(IncomingMessage::in_channel(&f.agent, post_id, answer));
    assert!(
        eventually(Duration::from_secs(15), || async {
            graph.texts_to("7901").iter().any(|t| t == answer)
        })
        .await,
        "the answer reaches the citizen on Messenger"
    );
    let d = thread_of(&app, "7901").await.unwrap();
    assert_eq!(d["sla"], "met", "{d}");
    settle().await;
    assert_eq!(
        graph.texts_to("7901").len(),
        2,
        "the acknowledgment and the answer"
    );
}
