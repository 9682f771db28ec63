//! guichet under faults and abuse: clients that hang up and retry, senders that share a
//! message id, stalled requests, spoofed identities, floods from one address, stale
//! timestamps, escape codes and insults on their way to staff.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use guichet::config::{Secret, WebIdentity};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{message, send, spawn_app, spawn_app_with, TestApp, TOKEN};

async fn detail(app: &TestApp, id: &str) -> Value {
    let (status, detail) = app.staff_get(&format!("/api/threads/{id}")).await;
    assert_eq!(status, 200, "{detail}");
    detail
}

fn count_kind(detail: &Value, field: &str, kind: &str) -> usize {
    detail[field]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == kind)
        .count()
}

/// Writes a whole request on a raw connection and hangs up without reading the answer.
async fn post_and_hang_up(app: &TestApp, body: &Value) {
    let body = body.to_string();
    let request = format!(
        "POST /api/messages HTTP/1.1\r\nHost: guichet\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    stream.flush().await.unwrap();
    // Give the server the time to start on it, then go away mid-request.
    tokio::time::sleep(Duration::from_millis(2)).await;
    drop(stream);
}

#[tokio::test]
async fn a_client_that_hangs_up_and_retries_under_load_gets_one_thread_and_one_acknowledgment() {
    let app = Arc::new(spawn_app().await);
    // Background load keeps the group commit busy, as on a Monday morning.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for c in 0..16 {
        let (app, stop) = (Arc::clone(&app), Arc::clone(&stop));
        load.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 2_000 {
                let body = message(&format!("load-{c}-{i}"), "La collecte a oublié ma rue");
                let _ = app.post_message(body).await;
                i += 1;
            }
        }));
    }
    let mut retries = Vec::new();
    for c in 0..20 {
        let app = Arc::clone(&app);
        retries.push(tokio::spawn(async move {
            for i in 0..10 {
                let sender = format!("retry-{c}-{i}");
                let body = json!({
                    "sender": sender,
                    "message_id": format!("mid-{c}-{i}"),
                    "text": "Il y a une fuite d'eau dans la rue, ça coule depuis ce matin",
                });
                post_and_hang_up(&app, &body).await;
                let (status, answer) = app.post_message(body).await;
                assert_eq!(status, 200, "{answer}");
            }
        }));
    }
    for r in retries {
        r.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
    let threads = app.all_threads().await;
    for c in 0..20 {
        for i in 0..10 {
            let sender = format!("retry-{c}-{i}");
            let mine: Vec<&Value> = threads.iter().filter(|t| t["sender"] == sender).collect();
            assert_eq!(mine.len(), 1, "{sender} has one thread: {mine:?}");
            let d = detail(&app, mine[0]["thread_id"].as_str().unwrap()).await;
            assert_eq!(count_kind(&d, "messages", "citizen"), 1, "{d}");
            assert_eq!(count_kind(&d, "messages", "acknowledgment"), 1, "{d}");
            assert_eq!(count_kind(&d, "audit", "forwarded"), 1, "{d}");
        }
    }
}

#[tokio::test]
async fn two_senders_using_one_message_id_get_their_own_threads() {
    let app = spawn_app().await;
    let first = json!({ "sender": "alice", "message_id": "m-1", "text": "Nid-de-poule énorme rue King, c'est dangereux pour les vélos" });
    let second = json!({ "sender": "bob", "message_id": "m-1", "text": "When is the library open on Sunday?" });
    let (_, a) = app.post_message(first).await;
    let (status, b) = app.post_message(second).await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(
        b["duplicate"], false,
        "another sender's message is stored: {b}"
    );
    assert_ne!(
        a["thread_id"], b["thread_id"],
        "no other citizen's reference"
    );
    assert_eq!(app.all_threads().await.len(), 2);
    // The same sender's redelivery is still recognised.
    let again = json!({ "sender": "alice", "message_id": "m-1", "text": "x" });
    let (_, c) = app.post_message(again).await;
    assert_eq!(c["duplicate"], true);
    assert_eq!(c["thread_id"], a["thread_id"]);
}

#[tokio::test]
async fn a_stalled_request_is_closed_within_the_time_limit() {
    let app = spawn_app_with(|s| {
        s.http.header_timeout_seconds = 1;
        s.http.body_timeout_seconds = 1;
    })
    .await;
    // A head that never ends.
    let started = Instant::now();
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream
        .write_all(b"POST /api/messages HTTP/1.1\r\nHost: guichet\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the connection is closed by the server");
    assert!(started.elapsed() < Duration::from_secs(4));

    // A body that never ends: 408 with a sentence.
    let started = Instant::now();
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream
        .write_all(b"POST /api/messages HTTP/1.1\r\nHost: guichet\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"sender\":")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    let answer = String::from_utf8_lossy(&buf);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("did not arrive within 1 s"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(4));

    // An idle kept-alive connection is closed too.
    let mut stream = TcpStream::connect(app.address).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: guichet\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = stream.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let rest = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
    assert!(
        matches!(rest, Ok(Ok(0)) | Ok(Err(_))),
        "the idle connection is closed"
    );
    assert!(app.all_threads().await.is_empty(), "nothing was stored");
}

#[tokio::test]
async fn a_web_message_naming_a_platform_channel_is_refused() {
    let app = spawn_app().await;
    for channel in ["discord", "messenger"] {
        let body = json!({ "sender": "123", "text": "pu d'eau", "channel": channel });
        let (status, answer) = app.post_message(body).await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer["error"]
            .as_str()
            .unwrap()
            .contains("web channel only"));
    }
    let body = json!({ "sender": "w1", "text": "pu d'eau", "channel": "web" });
    assert_eq!(app.post_message(body).await.0, 200);
    assert_eq!(app.all_threads().await.len(), 1);
}

fn sign(secret: &str, sender: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(sender.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn when_the_site_signs_senders_a_forged_or_missing_signature_is_refused() {
    let app = spawn_app_with(|s| {
        s.channels.web.identity = WebIdentity::Signed;
        s.channels.web.sender_secret = Secret::new("city-site-secret");
    })
    .await;
    let text = "Quelqu'un m'a insulté au comptoir, je veux porter plainte";
    let cases = [
        (json!({ "sender": "user-7", "text": text }), 401),
        (
            json!({ "sender": "user-7", "text": text, "sender_signature": sign("guess", "user-7") }),
            403,
        ),
        (
            json!({ "sender": "user-7", "text": text, "sender_signature": sign("city-site-secret", "user-8") }),
            403,
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = app.post_message(body.clone()).await;
        assert_eq!(status, expected, "{body} → {answer}");
        assert!(answer["error"]
            .as_str()
            .unwrap()
            .contains("sender_signature"));
    }
    assert!(app.all_threads().await.is_empty(), "nothing was stored");
    let signed = json!({ "sender": "user-7", "text": text, "sender_signature": sign("city-site-secret", "user-7") });
    let (status, answer) = app.post_message(signed).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("sender_token").is_none());
}

#[tokio::test]
async fn in_token_mode_guichet_issues_the_identity_and_refuses_claimed_names() {
    let app = spawn_app_with(|s| s.channels.web.identity = WebIdentity::Token).await;
    let (status, first) = app
        .post_message(json!({ "text": "C'est quand la collecte des feuilles?" }))
        .await;
    assert_eq!(status, 200, "{first}");
    let token = first["sender_token"].as_str().expect("a sender token");
    let (status, second) = app
        .post_message(json!({ "sender": token, "text": "Et pour les branches?" }))
        .await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["thread_id"], first["thread_id"]);
    assert!(second.get("sender_token").is_none());
    let (status, spoofed) = app
        .post_message(json!({ "sender": "marie", "text": "t'es un cave" }))
        .await;
    assert_eq!(status, 401, "{spoofed}");
    assert_eq!(app.all_threads().await.len(), 1);
}

#[tokio::test]
async fn a_flood_from_one_address_under_many_sender_names_is_limited() {
    let app = spawn_app_with(|s| {
        s.flood.per_address_burst = 5;
        s.flood.per_address_seconds = 60;
    })
    .await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for i in 0..40 {
        let r = app
            .client
            .post(app.url("/api/messages"))
            .json(&message(&format!("name-{i}"), "allo la ville"))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            retry_after = r.headers().get("retry-after").cloned();
            let body: Value = r.json().await.unwrap();
            assert!(body["error"].as_str().unwrap().contains("too many"));
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 5);
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 35);
    assert!(retry_after.is_some(), "429 says when to come back");
    assert_eq!(app.all_threads().await.len(), 5);
}

#[tokio::test]
async fn x_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    // From an untrusted peer, the header cannot buy a fresh allowance.
    let app = spawn_app_with(|s| {
        s.flood.per_address_burst = 2;
        s.flood.per_address_seconds = 60;
    })
    .await;
    let mut ok = 0;
    for i in 0..6 {
        let r = app
            .client
            .post(app.url("/api/messages"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .json(&message(&format!("n-{i}"), "allo"))
            .send()
            .await
            .unwrap();
        ok += usize::from(r.status() == 200);
    }
    assert_eq!(ok, 2);

    // Behind a trusted proxy, each forwarded client has its own allowance.
    let app = spawn_app_with(|s| {
        s.flood.per_address_burst = 2;
        s.flood.per_address_seconds = 60;
        s.http.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let mut ok = 0;
    for i in 0..6 {
        let r = app
            .client
            .post(app.url("/api/messages"))
            .header("x-forwarded-for", format!("203.0.113.{i}"))
            .json(&message(&format!("n-{i}"), "allo"))
            .send()
            .await
            .unwrap();
        ok += usize::from(r.status() == 200);
    }
    assert_eq!(ok, 6);
}

#[tokio::test]
async fn sent_at_of_year_one_is_refused_and_a_late_acknowledgment_promises_nothing_past() {
    let app = spawn_app().await;
    let body = json!({ "sender": "old", "text": "allo", "sent_at": "0001-01-01T00:00:00Z" });
    let (status, answer) = app.post_message(body).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"]
        .as_str()
        .unwrap()
        .contains("older than 7 days"));

    let three_days_ago = (Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    for (sender, text, priority) in [
        (
            "late-fr",
            "C'est inacceptable, personne n'a déneigé notre rue depuis trois jours",
            "traitée en priorité",
        ),
        (
            "late-en",
            "I want to complain: the garbage truck skipped our street again and nobody called back",
            "handled as a priority",
        ),
    ] {
        let body = json!({ "sender": sender, "text": text, "sent_at": three_days_ago });
        let (status, answer) = app.post_message(body).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["category"], "complaint");
        let ack = answer["acknowledgment"].as_str().unwrap();
        assert!(ack.contains(priority), "{ack}");
        assert!(!ack.contains("d’ici") && !ack.contains("By "), "{ack}");
        // The clock still starts at the platform time: the delay was guichet's.
        let due: chrono::DateTime<Utc> = answer["due_at"].as_str().unwrap().parse().unwrap();
        assert!(due < Utc::now());
    }
}

#[tokio::test]
async fn escape_codes_never_reach_staff_and_insults_stay_masked_in_the_audit() {
    let app = spawn_app().await;
    let text = "\u{1b}[2J\u{1b}[HMon voisin est un crisse de cave, il bloque encore mon entrée";
    let (status, outcome) = app.post_message(message("esc-1", text)).await;
    assert_eq!(status, 200, "{outcome}");
    let d = detail(&app, outcome["thread_id"].as_str().unwrap()).await;
    let shown = d.to_string();
    assert!(
        !shown.contains('\u{1b}') && !shown.contains("\\u001b"),
        "{shown}"
    );
    assert!(
        !shown.contains("[2J"),
        "the whole sequence is gone: {shown}"
    );
    let audit = d["audit"].to_string().to_lowercase();
    assert!(audit.contains("moderat"), "{audit}");
    for insult in ["crisse", "cave"] {
        assert!(!audit.contains(insult), "the audit holds {insult}: {audit}");
    }
    assert!(!d["messages"][0]["text"].as_str().unwrap().contains("cave"));
}

#[tokio::test]
async fn staff_routes_take_the_bearer_scheme_in_any_case_and_405_has_a_json_sentence() {
    let app = spawn_app().await;
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let r = app
            .client
            .get(app.url("/api/threads"))
            .header("authorization", format!("{scheme} {TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{scheme}");
    }
    let (status, body) = send(app.client.get(app.url("/api/messages"))).await;
    assert_eq!(status, 405);
    assert!(body["error"].as_str().unwrap().len() > 10, "{body}");
}

#[tokio::test]
async fn resolving_through_the_api_records_the_coordinator() {
    let app = spawn_app().await;
    let (_, outcome) = app
        .post_message(message("res-1", "Le lampadaire devant chez nous est brûlé"))
        .await;
    let id = outcome["thread_id"].as_str().unwrap();
    let (status, _) = app
        .staff_post(&format!("/api/threads/{id}/resolve"), json!({}))
        .await;
    assert_eq!(status, 200);
    let d = detail(&app, id).await;
    let resolved = d["audit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "resolved")
        .unwrap()
        .clone();
    assert_eq!(resolved["actor"], "coordinator", "{resolved}");
}
