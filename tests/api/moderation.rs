//! Moderation per the city's netiquette, in both languages: intensifiers masked, insults
//! warned then blocked, threats flagged, blocks lifted by staff.

use serde_json::{json, Value};

use crate::helpers::{message, spawn_app, spawn_app_with, TestApp};

async fn detail(app: &TestApp, outcome: &Value) -> Value {
    let id = outcome["thread_id"].as_str().expect("a thread id");
    let (status, detail) = app.staff_get(&format!("/api/threads/{id}")).await;
    assert_eq!(status, 200, "{detail}");
    detail
}

fn audit_kinds(detail: &Value) -> Vec<String> {
    detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_intensifier_is_masked_for_agents_without_a_strike() {
    let app = spawn_app().await;
    for (sender, text, masked) in [
        (
            "fr-1",
            "Ça fait 3 semaines, c'est tabarnak de long pour mon permis de rénovation",
            "t*******",
        ),
        (
            "en-1",
            "The damn pothole on Maple Ave is still there after a month",
            "d***",
        ),
    ] {
        let (status, outcome) = app.post_message(message(sender, text)).await;
        assert_eq!(status, 200, "{outcome}");
        assert!(
            outcome.get("warning").is_none(),
            "no warning for an intensifier: {outcome}"
        );
        let detail = detail(&app, &outcome).await;
        let first = &detail["messages"][0];
        assert_eq!(first["masked"], true);
        assert!(first["text"].as_str().unwrap().contains(masked), "{first}");
        let kinds = audit_kinds(&detail);
        assert!(kinds.contains(&"moderated".to_owned()));
        assert!(!kinds.contains(&"warned".to_owned()));
        assert_eq!(detail["abusive"], false);
    }
}

#[tokio::test]
async fn an_insult_to_an_employee_gets_one_warning_and_a_strike() {
    let app = spawn_app().await;
    for (sender, text, lang) in [
        (
            "fr-2",
            "Vous êtes des incompétents, ma rue est jamais déneigée",
            "fr",
        ),
        (
            "en-2",
            "You idiots can't plow a street, mine is still full of snow",
            "en",
        ),
    ] {
        let (status, outcome) = app.post_message(message(sender, text)).await;
        assert_eq!(status, 200, "{outcome}");
        assert_eq!(outcome["language"], lang);
        let warning = outcome["warning"].as_str().expect("a warning");
        let expected = if lang == "fr" {
            "nétiquette"
        } else {
            "netiquette"
        };
        assert!(warning.contains(expected), "{warning}");
        assert!(
            outcome["acknowledgment"].is_string(),
            "the request itself is still acknowledged"
        );
        let detail = detail(&app, &outcome).await;
        assert_eq!(detail["abusive"], true);
        assert!(audit_kinds(&detail).contains(&"warned".to_owned()));
        // Agents read the masked copy; the original stays in the store.
        let first = detail["messages"][0]["text"].as_str().unwrap();
        assert!(
            !first.contains("incompétents") && !first.contains("idiots"),
            "{first}"
        );
    }
}

#[tokio::test]
async fn the_third_strike_blocks_and_a_blocked_sender_is_stored_without_a_reply() {
    let app = spawn_app().await;
    let insults = [
        "Vous êtes des incompétents à l'hôtel de ville",
        "Gang de caves, ma rue est encore pas déneigée",
        "Le maire est un mongol pis vous êtes des voleurs",
    ];
    let mut outcomes = Vec::new();
    for text in insults {
        let (status, outcome) = app.post_message(message("fr-3", text)).await;
        assert_eq!(status, 200, "{outcome}");
        outcomes.push(outcome);
    }
    assert!(outcomes[0]["warning"].is_string(), "the first strike warns");
    assert!(outcomes[1].get("warning").is_none(), "one warning only");
    assert!(outcomes[2].get("warning").is_none());
    let thread = detail(&app, &outcomes[2]).await;
    assert!(audit_kinds(&thread).contains(&"blocked".to_owned()));

    let (status, after) = app
        .post_message(message(
            "fr-3",
            "Bonjour, quand passe le camion de recyclage?",
        ))
        .await;
    assert_eq!(status, 200, "{after}");
    assert!(
        after["acknowledgment"].is_null(),
        "no reply to a blocked sender"
    );
    assert!(after.get("warning").is_none());
    let thread = detail(&app, &after).await;
    let last = thread["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["text"], "Bonjour, quand passe le camion de recyclage?");
    assert_eq!(
        last["ignored"], true,
        "stored, nothing lost, but not acted on"
    );
}

#[tokio::test]
async fn unblocking_a_sender_lets_their_next_thread_be_acknowledged() {
    let app = spawn_app_with(|s| s.threads.reopen_within_hours = 0).await;
    for text in [
        "You idiots never answer",
        "Your lazy staff never answers the phone",
        "Fuck you and your parking tickets",
    ] {
        app.post_message(message("en-4", text)).await;
    }
    let (_, blocked) = app
        .post_message(message("en-4", "When is the library open?"))
        .await;
    assert!(blocked["acknowledgment"].is_null());

    let (status, body) = app
        .staff_post("/api/senders/web/en-4/unblock", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["unblocked"], true);
    let id = blocked["thread_id"].as_str().unwrap();
    app.staff_post(&format!("/api/threads/{id}/resolve"), json!({}))
        .await;

    let (_, again) = app
        .post_message(message("en-4", "When is the library open on Sunday?"))
        .await;
    assert_ne!(again["thread_id"], blocked["thread_id"]);
    assert!(again["acknowledgment"].is_string(), "{again}");

    let (_, twice) = app
        .staff_post("/api/senders/web/en-4/unblock", json!({}))
        .await;
    assert_eq!(twice["unblocked"], false);
}

#[tokio::test]
async fn a_threat_of_violence_is_flagged_for_the_coordinator_at_once() {
    let app = spawn_app().await;
    let (status, outcome) = app
        .post_message(message(
            "fr-5",
            "Si personne répare ma rue je vais vous tuer",
        ))
        .await;
    assert_eq!(status, 200, "{outcome}");
    let detail = detail(&app, &outcome).await;
    assert_eq!(detail["needs_triage"], true);
    assert_eq!(detail["abusive"], true);
    let flagged =
        detail["audit"].as_array().unwrap().iter().any(|e| {
            e["kind"] == "needs_triage" && e["detail"].as_str().unwrap().contains("threat")
        });
    assert!(flagged, "{detail}");
}
