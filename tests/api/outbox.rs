//! The outbox with the real binary and a local customer-service system (a webhook receiver):
//! an outage, a `kill -9` under load, a dead job retried by hand.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::helpers::{eventually, guichet, send, serve_with, Served, TOKEN};

const SECRET: &str = "webhook-test-secret";

/// One POST the desk received.
#[derive(Debug, Clone)]
struct Received {
    key: String,
    body: Bytes,
    signature_ok: bool,
    accepted: bool,
}

/// A customer-service system: it answers 503 while `down`, and otherwise creates one ticket
/// per idempotency key, answering a redelivery with the ticket it already made.
#[derive(Default)]
struct Desk {
    down: AtomicBool,
    log: Mutex<Vec<Received>>,
    tickets: Mutex<HashMap<String, String>>,
    next: AtomicUsize,
}

impl Desk {
    fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }

    fn tickets(&self) -> HashMap<String, String> {
        self.tickets.lock().unwrap().clone()
    }
}

/// The receiver's check: the HMAC-SHA256 of the exact body with the shared secret.
fn signature_matches(headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(header) = headers
        .get("x-guichet-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let expected = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    header == expected
}

async fn take_ticket(State(desk): State<Arc<Desk>>, headers: HeaderMap, body: Bytes) -> Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let signature_ok = signature_matches(&headers, &body);
    let down = desk.down.load(Ordering::SeqCst);
    desk.log.lock().unwrap().push(Received {
        key: key.clone(),
        body: body.clone(),
        signature_ok,
        accepted: !down,
    });
    if down {
        return (StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response();
    }
    let mut tickets = desk.tickets.lock().unwrap();
    let n = desk.next.fetch_add(1, Ordering::SeqCst);
    let id = tickets
        .entry(key)
        .or_insert_with(|| format!("CS-{}", n + 1))
        .clone();
    Json(json!({ "ticket_id": id })).into_response()
}

async fn spawn_desk(down: bool) -> (Arc<Desk>, SocketAddr) {
    let desk = Arc::new(Desk::default());
    desk.down.store(down, Ordering::SeqCst);
    let app = Router::new()
        .route("/tickets", post(take_ticket))
        .with_state(Arc::clone(&desk));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (desk, addr)
}

/// The settings of a guichet forwarding to `desk`, retrying fast.
fn webhook_env(desk: SocketAddr, max_attempts: u32) -> Vec<(&'static str, String)> {
    vec![
        (
            "GUICHET__FORWARDERS__WEBHOOK__URL",
            format!("http://{desk}/tickets"),
        ),
        ("GUICHET__FORWARDERS__WEBHOOK__SECRET", SECRET.to_owned()),
        (
            "GUICHET__FORWARDERS__WEBHOOK__RATE_PER_SECOND",
            "1000".into(),
        ),
        ("GUICHET__OUTBOX__INITIAL_BACKOFF_MS", "50".into()),
        ("GUICHET__OUTBOX__MAX_BACKOFF_SECONDS", "1".into()),
        ("GUICHET__OUTBOX__MAX_ATTEMPTS", max_attempts.to_string()),
        ("GUICHET__OUTBOX__REQUEST_TIMEOUT_SECONDS", "5".into()),
    ]
}

/// A command of the real binary, reaching the running server through its staff API.
fn cli(dir: &Path, served: &Served, env: &[(&str, String)], args: &[&str]) -> (bool, String) {
    let mut cmd = guichet(dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .env("GUICHET__HTTP__LISTEN", served.address.to_string())
        .args(args)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

async fn get(client: &reqwest::Client, served: &Served, path: &str) -> Value {
    send(client.get(served.url(path)).bearer_auth(TOKEN))
        .await
        .1
}

async fn post_message(client: &reqwest::Client, addr: SocketAddr, body: &Value) -> Option<Value> {
    let r = client
        .post(format!("http://{addr}/api/messages"))
        .json(body)
        .send()
        .await
        .ok()?;
    if r.status() != 200 {
        return None;
    }
    r.json().await.ok()
}

async fn outbox_is_empty(client: &reqwest::Client, served: &Served) -> bool {
    get(client, served, "/api/outbox?state=all").await["jobs"]
        .as_array()
        .is_some_and(Vec::is_empty)
}

/// Waits until every job is delivered, at most `timeout`.
async fn outbox_drains(client: &reqwest::Client, served: &Served, timeout: Duration) -> bool {
    eventually(timeout, || outbox_is_empty(client, served)).await
}

#[tokio::test]
async fn every_ticket_arrives_once_with_a_valid_signature_after_customer_service_recovers() {
    let (desk, desk_addr) = spawn_desk(true).await;
    let dir = tempfile::tempdir().unwrap();
    let env = webhook_env(desk_addr, 1000);
    let served = serve_with(dir.path(), &env);
    let client = reqwest::Client::new();

    let mut threads = Vec::new();
    for i in 0..10 {
        let body = json!({
            "sender": format!("resident-{i}"),
            "text": format!("I want to complain: the garbage truck skipped our street again ({i})."),
        });
        let answer = post_message(&client, served.address, &body).await.unwrap();
        assert_eq!(answer["forwarded"], true, "{answer}");
        threads.push(answer["thread_id"].as_str().unwrap().to_owned());
    }

    // While customer service is down, the jobs wait with the 503 recorded.
    assert!(
        eventually(Duration::from_secs(10), || async {
            let jobs = get(&client, &served, "/api/outbox").await;
            let jobs = jobs["jobs"].as_array().cloned().unwrap_or_default();
            jobs.len() == 10
                && jobs
                    .iter()
                    .all(|j| j["state"] == "pending" && j["last_error"]["status"] == 503)
        })
        .await,
        "the jobs record the outage"
    );
    let (ok, table) = cli(dir.path(), &served, &env, &["outbox"]);
    assert!(ok, "{table}");
    assert!(
        table.contains("pending") && table.contains("HTTP 503"),
        "{table}"
    );
    assert!(desk.tickets().is_empty());

    desk.down.store(false, Ordering::SeqCst);
    assert!(
        outbox_drains(&client, &served, Duration::from_secs(15)).await,
        "the outbox drains once customer service is back"
    );

    let tickets = desk.tickets();
    assert_eq!(tickets.len(), 10, "{tickets:?}");
    let received = desk.received();
    assert!(
        received.iter().all(|r| r.signature_ok),
        "every body is signed"
    );
    let mut accepted: HashMap<&str, usize> = HashMap::new();
    for r in received.iter().filter(|r| r.accepted) {
        *accepted.entry(r.key.as_str()).or_default() += 1;
    }
    assert!(accepted.values().all(|n| *n == 1), "{accepted:?}");

    // The ticket as sent, and the receiver's reference kept on the thread.
    let first = received.iter().find(|r| r.accepted).unwrap();
    let ticket: Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(ticket["idempotency_key"], first.key.as_str());
    assert_eq!(ticket["category"], "complaint");
    assert_eq!(ticket["sender"]["channel"], "web");
    assert!(ticket["links"]["thread"]
        .as_str()
        .unwrap()
        .ends_with(&format!(
            "/api/threads/{}",
            ticket["thread_id"].as_str().unwrap()
        )));
    for id in &threads {
        let detail = get(&client, &served, &format!("/api/threads/{id}")).await;
        let t = &detail["tickets"][0];
        assert_eq!(t["status"], "delivered", "{detail}");
        assert_eq!(
            t["ticket_id"].as_str(),
            tickets.get(t["job"].as_str().unwrap()).map(String::as_str)
        );
        let kinds: Vec<&str> = detail["audit"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["kind"].as_str())
            .collect();
        assert!(kinds.contains(&"queued") && kinds.contains(&"delivery_failed"));
        assert!(kinds.contains(&"delivered"), "{kinds:?}");
    }
    let metrics = crate::helpers::text(client.get(served.url("/metrics"))).await;
    assert!(
        metrics.contains("guichet_outbox_delivery_seconds_count 10"),
        "{metrics}"
    );
    assert!(metrics.contains("guichet_outbox_jobs{state=\"pending\"} 0"));
}

#[tokio::test]
async fn a_dead_job_is_listed_and_delivered_after_a_retry_by_hand() {
    let (desk, desk_addr) = spawn_desk(true).await;
    let dir = tempfile::tempdir().unwrap();
    let env = webhook_env(desk_addr, 2);
    let served = serve_with(dir.path(), &env);
    let client = reqwest::Client::new();
    let answer = post_message(
        &client,
        served.address,
        &json!({"sender": "resident-dead", "text": "Il y a une fuite d'eau majeure dans ma rue, l'eau monte"}),
    )
    .await
    .unwrap();
    let thread = answer["thread_id"].as_str().unwrap().to_owned();
    let job = format!("{thread}-0-webhook");

    let listed_dead = eventually(Duration::from_secs(10), || async {
        let (_, table) = cli(dir.path(), &served, &env, &["outbox"]);
        table.contains(&job) && table.contains("dead")
    })
    .await;
    let (ok, table) = cli(dir.path(), &served, &env, &["outbox"]);
    assert!(listed_dead && ok, "{table}");
    assert!(table.contains("HTTP 503"), "{table}");
    let (_, json_list) = cli(
        dir.path(),
        &served,
        &env,
        &["outbox", "--state", "dead", "--json"],
    );
    let listed: Value = serde_json::from_str(json_list.trim()).unwrap();
    assert_eq!(listed["jobs"][0]["id"], job.as_str());
    assert_eq!(listed["jobs"][0]["attempts"], 2);

    desk.down.store(false, Ordering::SeqCst);
    let (ok, said) = cli(dir.path(), &served, &env, &["outbox", "retry", &job]);
    assert!(ok, "{said}");
    assert!(
        eventually(Duration::from_secs(10), || async {
            desk.tickets().contains_key(&job)
        })
        .await,
        "the retried job is delivered"
    );
    assert!(outbox_drains(&client, &served, Duration::from_secs(5)).await);
    let detail = get(&client, &served, &format!("/api/threads/{thread}")).await;
    let kinds: Vec<&str> = detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    for kind in ["delivery_dead", "delivery_retried", "delivered"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let (ok, _) = cli(
        dir.path(),
        &served,
        &env,
        &["outbox", "retry", "G-999999-1-webhook"],
    );
    assert!(!ok, "an unknown job is refused");
}

/// A message the load sent, and what guichet answered with a 200.
struct Sent {
    body: Value,
    thread_id: String,
}

#[tokio::test]
async fn a_kill_9_under_load_loses_no_acknowledged_message_and_creates_no_ticket_twice() {
    let (desk, desk_addr) = spawn_desk(false).await;
    let dir = tempfile::tempdir().unwrap();
    let env = webhook_env(desk_addr, 1000);
    let mut served = serve_with(dir.path(), &env);
    let addr = served.address;
    let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let texts = [
        "I want to complain: the garbage truck skipped our street again",
        "Il y a une fuite d'eau majeure dans ma rue, l'eau monte",
        "C'est inacceptable, personne n'a déneigé notre rue depuis trois jours",
        "Est-ce que la ville organise une fête de quartier cet été?",
    ];
    let mut load = Vec::new();
    for c in 0..16 {
        let sent = Arc::clone(&sent);
        load.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0..1000 {
                let body = json!({
                    "sender": format!("load-{c}-{}", i % 4),
                    "message_id": format!("m-{c}-{i}"),
                    "text": format!("{} (réf {c}-{i})", texts[(c + i) % texts.len()]),
                });
                match post_message(&client, addr, &body).await {
                    Some(answer) => sent.lock().unwrap().push(Sent {
                        thread_id: answer["thread_id"].as_str().unwrap().to_owned(),
                        body,
                    }),
                    None => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        }));
    }
    assert!(
        eventually(Duration::from_secs(20), || async {
            sent.lock().unwrap().len() >= 150
        })
        .await,
        "the load gets going"
    );
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    // A client may still see a 200 that was written before the kill; give them a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for task in &load {
        task.abort();
    }
    drop(served);
    let sent = std::mem::take(&mut *sent.lock().unwrap());

    let served = serve_with(dir.path(), &env);
    let client = reqwest::Client::new();
    // Every message that got a 200 is in the store: a redelivery is recognised.
    for s in &sent {
        let again = post_message(&client, served.address, &s.body)
            .await
            .unwrap();
        assert_eq!(again["duplicate"], true, "{} was lost", s.body);
        assert_eq!(again["thread_id"], s.thread_id.as_str());
    }
    assert!(
        outbox_drains(&client, &served, Duration::from_secs(20)).await,
        "the restarted guichet delivers what was queued"
    );

    let tickets = desk.tickets();
    let received = desk.received();
    let threads = get(&client, &served, "/api/threads?state=all").await;
    let threads = threads["threads"].as_array().unwrap();
    assert!(!threads.is_empty());
    for t in threads {
        let id = t["thread_id"].as_str().unwrap();
        let detail = get(&client, &served, &format!("/api/threads/{id}")).await;
        let acks = detail["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["kind"] == "acknowledgment")
            .count();
        assert!(acks <= 1, "{id} has {acks} acknowledgments");
        if !t["forwarded_at"].is_null() {
            let prefix = format!("{id}-");
            assert!(
                tickets.keys().any(|k| k.starts_with(&prefix)),
                "{id} needed follow-up and never reached customer service"
            );
            for ticket in detail["tickets"].as_array().unwrap() {
                assert_eq!(ticket["status"], "delivered", "{detail}");
            }
        }
    }
    // A key delivered more than once (a delivery cut by the kill) carries the same ticket.
    let mut bodies: HashMap<&str, &Bytes> = HashMap::new();
    for r in &received {
        assert!(r.signature_ok);
        if let Some(first) = bodies.insert(r.key.as_str(), &r.body) {
            assert_eq!(
                first, &r.body,
                "{} was sent as two different tickets",
                r.key
            );
        }
    }
    assert_eq!(bodies.len(), tickets.len());
}

#[tokio::test]
async fn customer_service_receives_the_copy_agents_see_of_an_insulting_message() {
    let (desk, desk_addr) = spawn_desk(false).await;
    let app = crate::helpers::spawn_app_with(|s| {
        s.forwarders.webhook = Some(guichet::config::WebhookSettings {
            url: format!("http://{desk_addr}/tickets"),
            secret: guichet::config::Secret::new(SECRET),
            rate_per_second: 100,
        });
    })
    .await;
    let (status, answer) = app
        .post_message(crate::helpers::message(
            "grumpy",
            "Vous êtes des idiots, personne n'a déneigé ma rue depuis trois jours",
        ))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        eventually(Duration::from_secs(5), || async {
            !desk.tickets().is_empty()
        })
        .await,
        "the ticket is delivered"
    );
    let received = desk.received();
    assert!(received[0].signature_ok);
    let ticket: Value = serde_json::from_slice(&received[0].body).unwrap();
    // The moderation's masked copy, never the original, whatever the classifier masks.
    let id = answer["thread_id"].as_str().unwrap();
    let (_, detail) = app.staff_get(&format!("/api/threads/{id}")).await;
    let seen = &detail["messages"][0];
    assert_eq!(seen["masked"], true, "{detail}");
    assert_eq!(ticket["masked"], true, "{ticket}");
    assert_eq!(ticket["text"], seen["text"], "{ticket}");
    assert_eq!(ticket["abusive"], true);
    assert_eq!(ticket["sender"]["id"], "grumpy");
}
