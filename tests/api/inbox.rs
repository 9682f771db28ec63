//! A citizen's messages through `POST /api/messages`.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use crate::helpers::{message, spawn_app};

const WATER_MAIN: &str = "Bonjour, il y a un bris d'aqueduc sur la rue Principale, l'eau sort de la chaussée et on a plus d'eau chez nous!";

#[tokio::test]
async fn a_french_water_main_break_is_urgent_and_acknowledged_in_french() {
    let app = spawn_app().await;
    let (status, body) = app.post_message(message("citoyen-1", WATER_MAIN)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["category"], "urgent");
    assert_eq!(body["language"], "fr");
    assert_eq!(body["duplicate"], false);
    assert_eq!(body["forwarded"], true);
    let ack = body["acknowledgment"].as_str().expect("an acknowledgment");
    let settings = app.pipeline.settings();
    assert!(ack.contains(&settings.phones.emergency), "{ack}");
    assert!(ack.contains(&settings.phones.public_works), "{ack}");
    assert!(ack.contains(body["thread_id"].as_str().unwrap()), "{ack}");
    assert!(
        !ack.contains("48"),
        "an urgent acknowledgment promises no delay: {ack}"
    );
    // French, not English.
    assert!(
        ack.to_lowercase().contains("merci") || ack.contains("Bonjour"),
        "{ack}"
    );

    let due: DateTime<Utc> = body["due_at"].as_str().unwrap().parse().unwrap();
    let until_due = due - Utc::now();
    assert!(until_due <= Duration::hours(1) && until_due > Duration::minutes(55));
}

#[tokio::test]
async fn a_second_message_joins_the_thread_without_a_second_acknowledgment() {
    let app = spawn_app().await;
    let (_, first) = app.post_message(message("citoyen-2", WATER_MAIN)).await;
    let (status, second) = app
        .post_message(message(
            "citoyen-2",
            "C'est au coin de la 3e avenue, faites vite svp",
        ))
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["thread_id"], first["thread_id"]);
    assert!(second["acknowledgment"].is_null());
    assert_eq!(second["category"], "urgent");
    assert_eq!(app.all_threads().await.len(), 1);
}

#[tokio::test]
async fn the_same_message_id_again_is_a_duplicate_and_changes_nothing() {
    let app = spawn_app().await;
    let body = json!({ "sender": "c3", "text": WATER_MAIN, "message_id": "m-1" });
    let (_, first) = app.post_message(body.clone()).await;
    let id = first["thread_id"].as_str().unwrap().to_owned();
    let (_, before) = app.staff_get(&format!("/api/threads/{id}")).await;

    let (status, again) = app.post_message(body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["thread_id"], first["thread_id"]);
    assert!(again["acknowledgment"].is_null());
    let (_, after) = app.staff_get(&format!("/api/threads/{id}")).await;
    assert_eq!(before, after, "a duplicate must change nothing");
}

#[tokio::test]
async fn an_old_english_complaint_is_overdue() {
    let app = spawn_app().await;
    let sent_at = (Utc::now() - Duration::days(3)).to_rfc3339();
    let (status, body) = app
        .post_message(json!({
            "sender": "resident-4",
            "text": "I'm really unhappy: my garbage was not picked up again this week. This is unacceptable, I pay my taxes.",
            "sent_at": sent_at,
        }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["category"], "complaint");
    assert_eq!(body["language"], "en");
    let id = body["thread_id"].clone();

    let (status, list) = app.staff_get("/api/threads?state=overdue").await;
    assert_eq!(status, 200);
    let threads = list["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0]["thread_id"], id);
    assert_eq!(threads[0]["sla"], "overdue");
}

#[tokio::test]
async fn the_watcher_records_an_overdue_thread_in_its_audit_log() {
    let app = spawn_app().await;
    let sent_at = (Utc::now() - Duration::hours(2)).to_rfc3339();
    let (_, body) = app
        .post_message(json!({ "sender": "c5", "text": WATER_MAIN, "sent_at": sent_at }))
        .await;
    let path = format!("/api/threads/{}", body["thread_id"].as_str().unwrap());
    let recorded = crate::helpers::eventually(std::time::Duration::from_secs(10), || async {
        let (_, detail) = app.staff_get(&path).await;
        let kinds: Vec<_> = detail["audit"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap().to_owned())
            .collect();
        kinds.contains(&"overdue".to_owned())
    })
    .await;
    assert!(recorded, "the watcher records the overdue transition");
}

#[tokio::test]
async fn an_info_question_with_a_faq_answer_is_answered_and_forwarded_only_when_the_citizen_writes_back(
) {
    let app = spawn_app().await;
    let (status, body) = app
        .post_message(message(
            "c6",
            "Bonjour, quelles sont les heures d'ouverture de l'hotel de ville?",
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["category"], "info");
    assert_eq!(body["forwarded"], false);
    let id = body["thread_id"].as_str().unwrap().to_owned();
    let (_, detail) = app.staff_get(&format!("/api/threads/{id}")).await;
    assert_eq!(detail["faq"], "city-hall-hours");
    assert_eq!(detail["state"], "answered");
    assert_eq!(detail["sla"], "met");

    let (_, again) = app
        .post_message(message("c6", "Merci mais est-ce ouvert le samedi aussi?"))
        .await;
    assert_eq!(again["thread_id"], body["thread_id"]);
    assert_eq!(again["forwarded"], true);
    assert!(again["acknowledgment"].is_null());
    let (_, detail) = app.staff_get(&format!("/api/threads/{id}")).await;
    assert_eq!(detail["state"], "forwarded");
    assert_eq!(detail["history"], json!(["met"]));
}

#[tokio::test]
async fn health_and_metrics_answer() {
    let app = spawn_app().await;
    app.post_message(message("c7", WATER_MAIN)).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let metrics = crate::helpers::text(app.client.get(app.url("/metrics"))).await;
    assert!(
        metrics.contains("guichet_messages_received_total{category=\"urgent\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("guichet_acknowledgments_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("guichet_threads{state=\"forwarded\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_message_too_vague_to_classify_is_flagged_for_human_triage() {
    let app = spawn_app().await;
    let (status, body) = app.post_message(message("c8", "allo?")).await;
    assert_eq!(status, 200, "{body}");
    let id = body["thread_id"].as_str().unwrap();
    let (_, detail) = app.staff_get(&format!("/api/threads/{id}")).await;
    assert_eq!(detail["needs_triage"], true, "{detail}");
    assert!(detail["confidence"].as_f64().unwrap() < 0.55);
    let flagged = detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "needs_triage");
    assert!(flagged);

    let (_, clear) = app.post_message(message("c9", WATER_MAIN)).await;
    let id = clear["thread_id"].as_str().unwrap();
    let (_, detail) = app.staff_get(&format!("/api/threads/{id}")).await;
    assert_eq!(detail["needs_triage"], false);
}
