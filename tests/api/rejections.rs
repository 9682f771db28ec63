//! Bad input gets a 4xx with a JSON error sentence, stores nothing, and the server stays up.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::helpers::{message, spawn_app, TestApp};

async fn assert_refused(app: &TestApp, status: u16, body: &serde_json::Value, what: &str) {
    assert!((400..500).contains(&status), "{what}: got {status} {body}");
    let error = body["error"].as_str().unwrap_or_default();
    assert!(
        error.len() > 10,
        "{what}: a sentence is expected, got {body}"
    );
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "{what}: the server stays up");
}

#[tokio::test]
async fn bad_messages_are_refused_with_a_json_sentence_and_store_nothing() {
    let app = spawn_app().await;
    let future = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let cases = vec![
        (
            "malformed JSON",
            "{\"sender\": \"a\", \"text\": ".to_owned(),
        ),
        ("not an object", "[1, 2, 3]".to_owned()),
        ("empty body", String::new()),
        ("missing text", json!({ "sender": "a" }).to_string()),
        (
            "empty text",
            json!({ "sender": "a", "text": "" }).to_string(),
        ),
        (
            "whitespace-only text",
            json!({ "sender": "a", "text": " \n\t  " }).to_string(),
        ),
        (
            "over-long text",
            json!({ "sender": "a", "text": "é".repeat(5001) }).to_string(),
        ),
        (
            "text of the wrong type",
            json!({ "sender": "a", "text": 42 }).to_string(),
        ),
        (
            "unparseable sent_at",
            json!({ "sender": "a", "text": "allo", "sent_at": "hier soir" }).to_string(),
        ),
        (
            "future sent_at",
            json!({ "sender": "a", "text": "allo", "sent_at": future }).to_string(),
        ),
        (
            "a platform's channel",
            json!({ "sender": "a", "text": "allo", "channel": "discord" }).to_string(),
        ),
        (
            "sent_at of year 1",
            json!({ "sender": "a", "text": "allo", "sent_at": "0001-01-01T00:00:00Z" }).to_string(),
        ),
        (
            "bad channel",
            json!({ "sender": "a", "text": "allo", "channel": "Web Site!" }).to_string(),
        ),
    ];
    for (what, body) in cases {
        let (status, answer) = app.post_raw(body).await;
        assert_refused(&app, status, &answer, what).await;
    }
    assert!(app.all_threads().await.is_empty(), "nothing was stored");
}

#[tokio::test]
async fn a_two_megabyte_body_is_refused_with_413() {
    let app = spawn_app().await;
    let huge = json!({ "sender": "a", "text": "x".repeat(2 * 1024 * 1024) }).to_string();
    let (status, body) = app.post_raw(huge).await;
    assert_eq!(status, 413, "{body}");
    assert_refused(&app, status, &body, "2 MB body").await;
    assert!(app.all_threads().await.is_empty());
}

#[tokio::test]
async fn an_unknown_thread_is_a_404_with_a_sentence() {
    let app = spawn_app().await;
    for path in ["/api/threads/G-999999", "/api/threads/not-a-thread"] {
        let (status, body) = app.staff_get(path).await;
        assert_eq!(status, 404, "{path}");
        assert_refused(&app, status, &body, path).await;
    }
    let (status, body) = app
        .staff_post(
            "/api/threads/G-999999/replies",
            json!({ "agent": "Luc", "text": "Bonjour" }),
        )
        .await;
    assert_eq!(status, 404);
    assert_refused(&app, status, &body, "reply to an unknown thread").await;
    let (status, body) = app
        .staff_post("/api/threads/G-999999/resolve", json!({}))
        .await;
    assert_eq!(status, 404);
    assert_refused(&app, status, &body, "resolve an unknown thread").await;
}

#[tokio::test]
async fn a_bad_reply_or_filter_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let (_, body) = app
        .post_message(message(
            "c20",
            "Ma rue n'a pas été déneigée depuis trois jours, c'est inacceptable",
        ))
        .await;
    let id = body["thread_id"].as_str().unwrap().to_owned();
    let path = format!("/api/threads/{id}/replies");
    for bad in [
        json!({ "agent": "Luc" }),
        json!({ "text": "Bonjour" }),
        json!({ "agent": " ", "text": "x" }),
    ] {
        let (status, answer) = app.staff_post(&path, bad.clone()).await;
        assert_eq!(status, 400, "{bad}");
        assert_refused(&app, status, &answer, "bad reply").await;
    }
    let (_, detail) = app.staff_get(&format!("/api/threads/{id}")).await;
    assert_ne!(detail["state"], "answered");
    let (status, answer) = app.staff_get("/api/threads?state=lost").await;
    assert_eq!(status, 400);
    assert_refused(&app, status, &answer, "bad filter").await;
}

/// Bounded fuzzing of the inbox's body parser: random bytes and random JSON objects built
/// from the message's fields with values of every type (control characters, huge numbers,
/// nesting). None may get a 5xx or bring the server down.
#[test]
fn random_bodies_never_get_a_5xx() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let app = runtime.block_on(spawn_app());
    let key = prop_oneof![
        Just("sender".to_owned()),
        Just("text".to_owned()),
        Just("message_id".to_owned()),
        Just("sent_at".to_owned()),
        Just("channel".to_owned()),
        Just("sender_signature".to_owned()),
        "\\PC{0,12}",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        "\\PC{0,40}".prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("2026-11-21T14:30:00-05:00")),
        Just(serde_json::Value::from("+275760-09-13T00:00:00Z")),
        Just(serde_json::Value::from("web")),
    ];
    let value = leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map("\\PC{0,6}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    });
    let object = prop::collection::btree_map(key, value, 0..7).prop_map(|m| {
        serde_json::Value::Object(m.into_iter().collect())
            .to_string()
            .into_bytes()
    });
    let body = prop_oneof![prop::collection::vec(any::<u8>(), 0..300), object];
    let mut runner = TestRunner::new(Config {
        cases: 400,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&body, |bytes| {
            let (status, answer) = runtime.block_on(app.post_raw(bytes));
            prop_assert!(status < 500, "{} {}", status, answer);
            Ok(())
        })
        .unwrap();
    let health = runtime
        .block_on(app.client.get(app.url("/healthz")).send())
        .unwrap();
    assert_eq!(health.status(), 200);
}
