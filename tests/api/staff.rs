//! The staff API: authentication, agents' answers, resolution.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::helpers::{message, spawn_app, spawn_app_with, TOKEN};
use guichet::config::Secret;

const COMPLAINT: &str = "Plainte: le déneigement de ma rue a encore été oublié, c'est inacceptable";

#[tokio::test]
async fn staff_routes_answer_401_without_the_token() {
    let app = spawn_app().await;
    for path in [
        "/api/threads",
        "/api/threads?state=overdue",
        "/api/threads/G-000001",
    ] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("token"));
        let r = app
            .client
            .get(app.url(path))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{path}");
    }
    let r = app
        .client
        .post(app.url("/api/threads/G-000001/resolve"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn without_a_configured_token_the_staff_routes_refuse_everyone() {
    let app = spawn_app_with(|s| s.staff.token = Secret::default()).await;
    let r = app
        .client
        .get(app.url("/api/threads"))
        .bearer_auth("")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = app
        .client
        .get(app.url("/api/threads"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn an_agent_reply_answers_the_thread_and_records_met() {
    let app = spawn_app().await;
    let (_, body) = app.post_message(message("c10", COMPLAINT)).await;
    let id = body["thread_id"].as_str().unwrap().to_owned();
    let (status, reply) = app
        .staff_post(
            &format!("/api/threads/{id}/replies"),
            json!({ "agent": "Luc", "text": "Bonjour, l'équipe passera demain matin." }),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["thread"]["state"], "answered");
    assert_eq!(reply["thread"]["sla"], "met");

    let (_, detail) = app.staff_get(&format!("/api/threads/{id}")).await;
    let messages = detail["messages"].as_array().unwrap();
    assert_eq!(messages.last().unwrap()["author"], "Luc");
    let answered = detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "answered")
        .expect("an answered event");
    assert_eq!(answered["detail"], "first response met");
}

#[tokio::test]
async fn a_late_agent_reply_records_missed() {
    let app = spawn_app().await;
    let sent_at = (Utc::now() - Duration::days(3)).to_rfc3339();
    let (_, body) = app
        .post_message(json!({ "sender": "c11", "text": COMPLAINT, "sent_at": sent_at }))
        .await;
    let id = body["thread_id"].as_str().unwrap().to_owned();
    let (status, reply) = app
        .staff_post(
            &format!("/api/threads/{id}/replies"),
            json!({ "agent": "Luc", "text": "Désolé du délai." }),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["thread"]["sla"], "missed");
    let (_, overdue) = app.staff_get("/api/threads?state=overdue").await;
    assert!(overdue["threads"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn a_resolved_thread_is_listed_as_resolved_and_cannot_be_resolved_twice() {
    let app = spawn_app().await;
    let (_, body) = app.post_message(message("c12", COMPLAINT)).await;
    let id = body["thread_id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .staff_post(&format!("/api/threads/{id}/resolve"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (_, list) = app.staff_get("/api/threads?state=resolved").await;
    assert_eq!(list["threads"][0]["thread_id"], body["thread_id"]);
    let (status, err) = app
        .staff_post(&format!("/api/threads/{id}/resolve"), json!({}))
        .await;
    assert_eq!(status, 409);
    assert!(err["error"].as_str().unwrap().contains("resolved"));
}

#[tokio::test]
async fn an_agent_answer_is_posted_to_the_web_callback() {
    use axum::{routing::post, Json, Router};
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<serde_json::Value>();
    let receiver = Router::new().route(
        "/callback",
        post(move |Json(v): Json<serde_json::Value>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let callback = format!("http://{}/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let app = spawn_app_with(|s| s.channels.web.callback_url = callback).await;
    let (_, body) = app.post_message(message("c13", COMPLAINT)).await;
    let id = body["thread_id"].as_str().unwrap().to_owned();
    let (_, reply) = app
        .staff_post(
            &format!("/api/threads/{id}/replies"),
            json!({ "agent": "Ana", "text": "C'est noté, merci." }),
        )
        .await;
    assert_eq!(reply["relayed"], true);
    let posted = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
        .await
        .expect("the callback is called")
        .unwrap();
    assert_eq!(posted["thread_id"], body["thread_id"]);
    assert_eq!(posted["sender"], "c13");
    assert_eq!(posted["text"], "C'est noté, merci.");
}

#[tokio::test]
async fn an_agent_answer_survives_a_callback_outage_of_a_minute() {
    use axum::{http::StatusCode, routing::post, Json, Router};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    let outage_until = Instant::now() + Duration::from_secs(60);
    let received: Arc<Mutex<Vec<(String, serde_json::Value)>>> = Arc::default();
    let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (r, n) = (Arc::clone(&received), Arc::clone(&refused));
    let receiver = Router::new().route(
        "/callback",
        post(
            move |headers: axum::http::HeaderMap, Json(v): Json<serde_json::Value>| {
                let (r, n) = (Arc::clone(&r), Arc::clone(&n));
                async move {
                    if Instant::now() < outage_until {
                        n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let key = headers
                        .get("idempotency-key")
                        .and_then(|k| k.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    r.lock().unwrap().push((key, v));
                    StatusCode::OK
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let callback = format!("http://{}/callback", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let app = spawn_app_with(|s| {
        s.channels.web.callback_url = callback;
        s.outbox.initial_backoff_ms = 500;
        s.outbox.max_backoff_seconds = 5;
        s.outbox.max_attempts = 1000;
    })
    .await;
    let (_, body) = app.post_message(message("c14", COMPLAINT)).await;
    let id = body["thread_id"].as_str().unwrap().to_owned();
    let (status, reply) = app
        .staff_post(
            &format!("/api/threads/{id}/replies"),
            json!({ "agent": "Ana", "text": "Nous passerons demain matin." }),
        )
        .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["relayed"], true);
    let arrived = crate::helpers::eventually(Duration::from_secs(90), || async {
        !received.lock().unwrap().is_empty()
    })
    .await;
    assert!(arrived, "the answer arrives once the site is back");
    assert!(
        refused.load(std::sync::atomic::Ordering::Relaxed) >= 3,
        "it was retried"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let received = received.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "delivered once: {received:?}");
    assert_eq!(received[0].1["text"], "Nous passerons demain matin.");
    assert_eq!(received[0].1["sender"], "c14");
    assert!(received[0].0.ends_with("-web"), "{}", received[0].0);
}

#[tokio::test]
async fn an_agent_claims_a_thread_and_corrects_its_category_which_replans_the_clock() {
    let app = spawn_app().await;
    let (_, body) = app
        .post_message(message(
            "c15",
            "Le lampadaire devant chez nous est brûlé depuis deux semaines, c'est dangereux le soir",
        ))
        .await;
    let id = body["thread_id"].as_str().unwrap().to_owned();
    let due_before = body["due_at"].as_str().unwrap().to_owned();
    let (status, claimed) = app
        .staff_post(
            &format!("/api/threads/{id}/claim"),
            json!({ "agent": "Ana" }),
        )
        .await;
    assert_eq!(status, 200, "{claimed}");
    assert_eq!(claimed["thread"]["claimed_by"], "Ana");

    let (status, refused) = app
        .staff_post(
            &format!("/api/threads/{id}/category"),
            json!({ "category": "grave" }),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let (status, corrected) = app
        .staff_post(
            &format!("/api/threads/{id}/category"),
            json!({ "category": "urgent", "agent": "Ana" }),
        )
        .await;
    assert_eq!(status, 200, "{corrected}");
    assert_eq!(corrected["thread"]["category"], "urgent");
    assert_ne!(corrected["thread"]["due_at"].as_str().unwrap(), due_before);
    let (_, detail) = app.staff_get(&format!("/api/threads/{id}")).await;
    let kinds: Vec<(String, String)> = detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("claimed".into(), "Ana".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("corrected".into(), "Ana".into())),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn paging_returns_every_thread_once_while_messages_keep_arriving() {
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let app = Arc::new(spawn_app().await);
    for i in 0..120 {
        let (status, _) = app
            .post_message(message(
                &format!("p-{i}"),
                "Le trottoir est brisé devant chez moi",
            ))
            .await;
        assert_eq!(status, 200);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (app, stop) = (Arc::clone(&app), Arc::clone(&stop));
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let _ = app
                    .post_message(message(&format!("late-{i}"), "Nid-de-poule rue King"))
                    .await;
                i += 1;
            }
        })
    };
    let mut seen = HashSet::new();
    let mut pages = 0;
    let mut path = "/api/threads?state=all&limit=7".to_owned();
    loop {
        let (status, body) = app.staff_get(&path).await;
        assert_eq!(status, 200, "{body}");
        let page = body["threads"].as_array().unwrap();
        assert!(page.len() <= 7);
        for t in page {
            let id = t["thread_id"].as_str().unwrap().to_owned();
            assert!(seen.insert(id.clone()), "{id} came twice");
        }
        pages += 1;
        match body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/threads?state=all&limit=7&cursor={c}"),
            None => break,
        }
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    for i in 0..120 {
        let mine = app
            .all_threads()
            .await
            .into_iter()
            .find(|t| t["sender"] == format!("p-{i}"))
            .unwrap();
        assert!(
            seen.contains(mine["thread_id"].as_str().unwrap()),
            "p-{i} was skipped"
        );
    }
    assert!(pages >= 18, "{pages} pages");
}

#[tokio::test]
async fn a_cursor_of_one_list_is_refused_on_another_and_limits_are_checked() {
    let app = spawn_app().await;
    for i in 0..3 {
        app.post_message(message(&format!("q-{i}"), "Le lampadaire est brûlé"))
            .await;
    }
    let (_, first) = app.staff_get("/api/threads?state=open&limit=1").await;
    let cursor = first["next_cursor"].as_str().expect("more than one page");
    let (status, body) = app
        .staff_get(&format!("/api/threads?state=resolved&cursor={cursor}"))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("cursor"));
    for bad in ["0", "1001", "beaucoup"] {
        let (status, _) = app.staff_get(&format!("/api/threads?limit={bad}")).await;
        assert_eq!(status, 400, "limit={bad}");
    }
    let (_, last) = app.staff_get("/api/threads?state=open&limit=3").await;
    assert!(last["next_cursor"].is_null(), "{last}");
}

#[tokio::test]
async fn the_outbox_list_is_paged_and_its_cursor_belongs_to_its_list() {
    use std::collections::HashSet;
    // A callback nobody answers: the answers wait in the outbox.
    let app = spawn_app_with(|s| {
        s.channels.web.callback_url = "http://127.0.0.1:9/callback".into();
        s.outbox.initial_backoff_ms = 60_000;
    })
    .await;
    for i in 0..5 {
        let (_, body) = app
            .post_message(message(&format!("o-{i}"), COMPLAINT))
            .await;
        let id = body["thread_id"].as_str().unwrap().to_owned();
        let (status, _) = app
            .staff_post(
                &format!("/api/threads/{id}/replies"),
                json!({ "agent": "Ana", "text": "Nous regardons." }),
            )
            .await;
        assert_eq!(status, 200);
    }
    let mut seen = HashSet::new();
    let mut path = "/api/outbox?state=pending&limit=2".to_owned();
    let mut first_cursor = None;
    loop {
        let (status, body) = app.staff_get(&path).await;
        assert_eq!(status, 200, "{body}");
        let jobs = body["jobs"].as_array().unwrap();
        assert!(jobs.len() <= 2);
        for j in jobs {
            assert!(seen.insert(j["id"].as_str().unwrap().to_owned()), "{j}");
        }
        match body["next_cursor"].as_str() {
            Some(c) => {
                first_cursor.get_or_insert(c.to_owned());
                path = format!("/api/outbox?state=pending&limit=2&cursor={c}");
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    let cursor = first_cursor.unwrap();
    let (status, body) = app
        .staff_get(&format!("/api/outbox?state=dead&cursor={cursor}"))
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn named_staff_act_under_their_names_agents_are_kept_from_coordinators_routes_and_revoked_tokens_fail(
) {
    let app = spawn_app().await;
    let add = |name: &'static str, role: &'static str| {
        let app = &app;
        async move {
            let (status, body) = app
                .staff_post("/api/staff", json!({ "name": name, "role": role }))
                .await;
            assert_eq!(status, 200, "{body}");
            body["token"].as_str().unwrap().to_owned()
        }
    };
    let luc = add("Luc", "agent").await;
    let marie = add("Marie", "coordinator").await;
    let (status, _) = app
        .staff_post("/api/staff", json!({ "name": "x\u{1b}", "role": "agent" }))
        .await;
    assert_eq!(status, 400);

    let (_, body) = app.post_message(message("n-1", COMPLAINT)).await;
    let id = body["thread_id"].as_str().unwrap().to_owned();
    let as_luc = |method: reqwest::Method, path: String| {
        app.client.request(method, app.url(&path)).bearer_auth(&luc)
    };
    // An agent reads, answers and resolves, under their own name.
    let (status, _) =
        crate::helpers::send(as_luc(reqwest::Method::GET, "/api/threads".into())).await;
    assert_eq!(status, 200);
    let (status, answered) = crate::helpers::send(
        as_luc(reqwest::Method::POST, format!("/api/threads/{id}/replies"))
            .json(&json!({ "agent": "Someone Else", "text": "C'est noté." })),
    )
    .await;
    assert_eq!(status, 200, "{answered}");
    let (status, _) = crate::helpers::send(
        as_luc(reqwest::Method::POST, format!("/api/threads/{id}/resolve")).json(&json!({})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, detail) = app.staff_get(&format!("/api/threads/{id}")).await;
    let actors: Vec<(String, String)> = detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().into(),
                e["actor"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        actors.contains(&("answered".into(), "Luc".into())),
        "{actors:?}"
    );
    assert!(
        actors.contains(&("resolved".into(), "Luc".into())),
        "{actors:?}"
    );

    // Coordinators' routes are refused to an agent.
    for (method, path) in [
        (reqwest::Method::GET, "/api/outbox".to_owned()),
        (
            reqwest::Method::POST,
            "/api/outbox/G-000001-1-webhook/retry".to_owned(),
        ),
        (
            reqwest::Method::POST,
            "/api/senders/web/n-1/unblock".to_owned(),
        ),
        (reqwest::Method::GET, "/api/staff".to_owned()),
        (reqwest::Method::POST, "/api/staff".to_owned()),
        (reqwest::Method::POST, "/api/staff/Marie/revoke".to_owned()),
        (reqwest::Method::GET, "/api/corrections".to_owned()),
    ] {
        let (status, body) = crate::helpers::send(
            as_luc(method.clone(), path.clone()).json(&json!({ "name": "Z", "role": "agent" })),
        )
        .await;
        assert_eq!(status, 403, "{method} {path}: {body}");
    }
    // A coordinator's token opens them; revoking Luc's token shuts it.
    let (status, list) =
        crate::helpers::send(app.client.get(app.url("/api/staff")).bearer_auth(&marie)).await;
    assert_eq!(status, 200);
    assert!(!list.to_string().contains(&luc), "no token is ever listed");
    let (status, revoked) = crate::helpers::send(
        app.client
            .post(app.url("/api/staff/Luc/revoke"))
            .bearer_auth(&marie),
    )
    .await;
    assert_eq!((status, revoked["revoked"].clone()), (200, json!(true)));
    let (status, _) =
        crate::helpers::send(as_luc(reqwest::Method::GET, "/api/threads".into())).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_report_is_for_coordinators_in_json_and_csv() {
    let app = spawn_app().await;
    let (_, body) = app.post_message(message("r-1", COMPLAINT)).await;
    let id = body["thread_id"].as_str().unwrap().to_owned();
    app.staff_post(
        &format!("/api/threads/{id}/replies"),
        json!({ "agent": "Ana", "text": "C'est noté." }),
    )
    .await;
    let (status, report) = app.staff_get("/api/report").await;
    assert_eq!(status, 200, "{report}");
    let c = &report["categories"]["complaint"];
    assert_eq!(
        (c["threads"].clone(), c["met"].clone()),
        (json!(1), json!(1)),
        "{report}"
    );
    assert_eq!(c["compliance_percent"], 100.0);
    assert_eq!(report["channels"]["web"]["threads"], 1);
    assert_eq!(report["agents"]["Ana"]["answers"], 1);
    assert!(report["weeks"].as_array().is_some_and(|w| w.len() == 1));

    let csv = crate::helpers::text(
        app.client
            .get(app.url("/api/report?format=csv"))
            .bearer_auth(crate::helpers::TOKEN),
    )
    .await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("group,name,threads"), "{csv}");
    assert!(lines.iter().all(|l| l.split(',').count() == 9), "{csv}");
    assert!(!csv.contains("noté"), "no message text");

    let (status, _) = app
        .staff_get("/api/report?from=2026-12-31&to=2026-01-01")
        .await;
    assert_eq!(status, 400);
    let (_, agent) = app
        .staff_post("/api/staff", json!({ "name": "Luc", "role": "agent" }))
        .await;
    let (status, _) = crate::helpers::send(
        app.client
            .get(app.url("/api/report"))
            .bearer_auth(agent["token"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 403);
}
