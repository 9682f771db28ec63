//! Citizens' data: export, erasure (also across a restart of the real binary, down to the
//! store's files), the retention purge, requests and their due dates, the register of
//! confidentiality incidents, and logs that never carry a citizen's words or identity.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::post;
use axum::Router;
use chrono::{Duration as Days, Utc};
use guichet::domain::staff::Role;
use serde_json::{json, Value};

use crate::helpers::{
    eventually, guichet, send, serve_with, spawn_app, spawn_app_with, Served, TestApp, TOKEN,
};

async fn staff_get_as(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    send(app.client.get(app.url(path)).bearer_auth(token)).await
}

async fn say(app: &TestApp, sender: &str, text: &str) -> String {
    let (status, body) = app
        .post_message(json!({ "sender": sender, "text": text }))
        .await;
    assert_eq!(status, 200, "{body}");
    body["thread_id"].as_str().unwrap().to_owned()
}

async fn answer(app: &TestApp, thread: &str, text: &str) {
    let (status, body) = app
        .staff_post(
            &format!("/api/threads/{thread}/replies"),
            json!({ "agent": "Luc", "text": text }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
}

/// Every string in a JSON document, for "does this text appear anywhere".
fn mentions(value: &Value, needle: &str) -> bool {
    value.to_string().contains(needle)
}

#[tokio::test]
async fn an_export_holds_every_message_and_answer_of_that_citizen_and_nothing_of_another() {
    let app = spawn_app().await;
    let (_, marie) = app
        .pipeline
        .add_member("Marie", Role::Coordinator, Utc::now())
        .await
        .unwrap();
    let (_, agent) = app
        .pipeline
        .add_member("Paul", Role::Agent, Utc::now())
        .await
        .unwrap();
    let alice = say(
        &app,
        "alice-export",
        "Le lampadaire du 12 rue des Érables est brisé",
    )
    .await;
    say(&app, "alice-export", "Il clignote aussi la nuit").await;
    answer(&app, &alice, "Merci, une équipe passera jeudi").await;
    say(&app, "bob-export", "Ma poubelle verte n'a pas été ramassée").await;

    let (status, _) = staff_get_as(&app, &agent, "/api/citizens/web/alice-export").await;
    assert_eq!(status, 403, "agents do not export citizens' data");

    let (status, doc) = staff_get_as(&app, &marie, "/api/citizens/web/alice-export").await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["schema"], "guichet.citizen-export");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["requested_by"], "Marie");
    assert!(doc["requested_at"].is_string());
    assert_eq!(doc["held"], true);
    assert!(doc["summary"]["fr"].as_str().unwrap().contains("détient"));
    let threads = doc["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 1);
    let messages = threads[0]["messages"].as_array().unwrap();
    let texts: Vec<&str> = messages
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"Le lampadaire du 12 rue des Érables est brisé"));
    assert!(texts.contains(&"Il clignote aussi la nuit"));
    assert!(texts.contains(&"Merci, une équipe passera jeudi"));
    assert!(
        messages.iter().any(|m| m["kind"] == "acknowledgment"),
        "the acknowledgment they received is there"
    );
    assert!(threads[0]["category"].is_string());
    assert!(!mentions(&doc, "poubelle") && !mentions(&doc, "bob-export"));

    // The export is in the thread's audit log, under the coordinator's name, and in the
    // journal.
    let (_, detail) = app.staff_get(&format!("/api/threads/{alice}")).await;
    let audit = detail["audit"].as_array().expect("an audit log");
    assert!(
        audit
            .iter()
            .any(|e| e["kind"] == "exported" && e["actor"] == "Marie"),
        "{audit:?}"
    );
    let (_, journal) = app.staff_get("/api/privacy-journal").await;
    assert!(journal["journal"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "export" && e["actor"] == "Marie"));

    let (status, nobody) = app.staff_get("/api/citizens/web/nobody-here").await;
    assert_eq!(status, 200);
    assert_eq!(nobody["held"], false);
    assert!(nobody["summary"]["en"]
        .as_str()
        .unwrap()
        .contains("holds no information"));
}

#[tokio::test]
async fn erasure_removes_the_citizen_from_every_staff_route_and_export_while_the_report_counts_the_same(
) {
    // A web callback that refuses: the answer's delivery stays pending, to be cancelled.
    let app = spawn_app_with(|s| {
        s.channels.web.callback_url = "http://127.0.0.1:9/closed".into();
    })
    .await;
    let alice = say(
        &app,
        "alice-erase",
        "Nid-de-poule énorme devant le 44 boulevard Zénith",
    )
    .await;
    answer(
        &app,
        &alice,
        "Réparation prévue pour le 44 boulevard Zénith",
    )
    .await;
    let bob = say(&app, "bob-erase", "Horaire de la bibliothèque?").await;
    let (_, report_before) = app.staff_get("/api/report").await;

    let (status, erased) = app
        .staff_post("/api/citizens/web/alice-erase/erase", json!({}))
        .await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["threads"], 1);
    assert_eq!(erased["erased_by"], "coordinator");
    assert!(
        erased["pending_jobs_cancelled"].as_u64().unwrap() >= 1,
        "{erased}"
    );

    for path in [
        "/api/threads?state=all".to_owned(),
        format!("/api/threads/{alice}"),
        "/api/outbox?state=all".to_owned(),
        "/api/corrections".to_owned(),
        "/api/report".to_owned(),
    ] {
        let (status, body) = app.staff_get(&path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(
            !mentions(&body, "Zénith") && !mentions(&body, "alice-erase"),
            "{path} still shows the erased citizen: {body}"
        );
    }
    // The export names whom it was asked about, and says nothing is held.
    let (_, export) = app.staff_get("/api/citizens/web/alice-erase").await;
    assert_eq!(export["held"], false);
    assert!(!mentions(&export, "Zénith"));
    assert_eq!(export["threads"], json!([]));
    let (_, report_after) = app.staff_get("/api/report").await;
    assert_eq!(report_before["categories"], report_after["categories"]);
    assert_eq!(report_before["channels"], report_after["channels"]);
    assert_eq!(report_before["agents"], report_after["agents"]);

    // The anonymised thread says what happened, without the data; another citizen's is intact.
    let (_, detail) = app.staff_get(&format!("/api/threads/{alice}")).await;
    assert!(detail["audit"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "erased" && e["actor"] == "coordinator"));
    let (_, other) = app.staff_get(&format!("/api/threads/{bob}")).await;
    assert!(mentions(&other, "Horaire de la bibliothèque?"));
    let (_, journal) = app.staff_get("/api/privacy-journal").await;
    let erasure = journal["journal"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "erasure")
        .cloned()
        .expect("the erasure is in the journal");
    assert!(erasure["detail"].as_str().unwrap().starts_with("1 thread"));
    assert!(!mentions(&journal, "alice-erase"));

    // An answer on the anonymised thread is kept but goes nowhere: nobody is left to send to.
    let (status, answered) = app
        .staff_post(
            &format!("/api/threads/{alice}/replies"),
            json!({ "agent": "Luc", "text": "Suivi" }),
        )
        .await;
    assert_eq!(status, 200, "{answered}");
    assert_eq!(answered["relayed"], false);

    // The citizen may write again: a new thread, nothing of the old one attached.
    let again = say(&app, "alice-erase", "Bonjour de nouveau").await;
    assert_ne!(again, alice);
}

/// Every file under `dir` that contains `needle`.
/// Whether `bytes` hold `needle` as it is, or inside one of the deflated values the store
/// writes (a 0x01 byte, then a deflate stream): each such start is inflated as far as it goes.
fn holds(bytes: &[u8], needle: &[u8]) -> bool {
    let plain = |b: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    if plain(bytes) {
        return true;
    }
    bytes.iter().enumerate().any(|(i, &b)| {
        if b != 0x01 {
            return false;
        }
        let mut inflater = flate2::read::DeflateDecoder::new(&bytes[i + 1..]);
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        while out.len() < 1 << 16 {
            match inflater.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&chunk[..n]),
            }
        }
        plain(&out)
    })
}

/// `guichet citizen erase web SENDER` on the store in `data` (through its running server, if
/// any): it succeeds, and what it said.
fn erase(data: &Path, sender: &str) -> String {
    let out = guichet(data)
        .args(["citizen", "erase", "web", sender])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let mut bytes = Vec::new();
                std::fs::File::open(&path)
                    .unwrap()
                    .read_to_end(&mut bytes)
                    .unwrap();
                if holds(&bytes, needle.as_bytes()) {
                    found.push(path.display().to_string());
                }
            }
        }
    }
    found
}

async fn post_to(served: &Served, path: &str, body: Value, token: Option<&str>) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.post(served.url(path)).json(&body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    send(request).await
}

async fn get_from(served: &Served, path: &str) -> (u16, Value) {
    send(
        reqwest::Client::new()
            .get(served.url(path))
            .bearer_auth(TOKEN),
    )
    .await
}

#[tokio::test]
async fn an_erasure_holds_after_a_restart_and_the_text_is_gone_from_the_store_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let secret_text = "Mon numéro d'assurance sociale est 123-456-789-QZX";
    let served = serve_with(&data, &[]);
    let (status, posted) = post_to(
        &served,
        "/api/messages",
        json!({ "sender": "carole-disk", "text": secret_text }),
        None,
    )
    .await;
    assert_eq!(status, 200, "{posted}");
    let thread = posted["thread_id"].as_str().unwrap().to_owned();
    post_to(
        &served,
        &format!("/api/threads/{thread}/replies"),
        json!({ "agent": "Luc", "text": "Ne nous envoyez jamais 123-456-789-QZX" }),
        Some(TOKEN),
    )
    .await;
    let (_, report_before) = get_from(&served, "/api/report").await;
    assert!(
        !files_containing(&data, "123-456-789-QZX").is_empty(),
        "the search finds the text in the store's files before the erasure"
    );

    // The coordinator's command reaches the running server.
    let said = erase(&data, "carole-disk");
    assert!(
        said.contains("effacé") && said.contains("erased: 1 thread"),
        "{said}"
    );
    drop(served);

    let served = serve_with(&data, &[]);
    assert!(
        files_containing(&data, "123-456-789-QZX").is_empty(),
        "the erased text is still in {:?}",
        files_containing(&data, "123-456-789-QZX")
    );
    assert!(files_containing(&data, "carole-disk").is_empty());
    let (_, detail) = get_from(&served, &format!("/api/threads/{thread}")).await;
    assert!(
        !mentions(&detail, "QZX") && !mentions(&detail, "carole-disk"),
        "{detail}"
    );
    let (_, export) = get_from(&served, "/api/citizens/web/carole-disk").await;
    assert_eq!(export["held"], false);
    let (_, report_after) = get_from(&served, "/api/report").await;
    assert_eq!(report_before["categories"], report_after["categories"]);
    assert_eq!(report_before["channels"], report_after["channels"]);
}

async fn snapshot(app: &TestApp, ids: &[String]) -> Vec<Value> {
    let mut all = Vec::new();
    for id in ids {
        all.push(app.staff_get(&format!("/api/threads/{id}")).await.1);
    }
    all
}

#[tokio::test]
async fn an_erasure_on_a_stopped_store_rewrites_its_files_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let served = serve_with(&data, &[]);
    let (status, _) = post_to(
        &served,
        "/api/messages",
        json!({ "sender": "david-offline", "text": "Mon code d'accès est KX-99-TRW" }),
        None,
    )
    .await;
    assert_eq!(status, 200);
    drop(served);
    assert!(
        !files_containing(&data, "KX-99-TRW").is_empty(),
        "the store holds the message"
    );

    assert!(erase(&data, "david-offline").contains("rewritten"));
    assert!(files_containing(&data, "KX-99-TRW").is_empty());
    assert!(files_containing(&data, "david-offline").is_empty());
    let export = guichet(&data)
        .args(["citizen", "export", "web", "david-offline"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(doc["held"], false);
}

#[tokio::test]
async fn the_purge_anonymises_only_resolved_threads_past_retention_and_its_dry_run_changes_nothing()
{
    let app = spawn_app_with(|s| {
        s.messages.max_age_hours = 24 * 365 * 5;
        s.retention.resolved_days = 730;
    })
    .await;
    // The start-up purge ran on the empty store before these old threads exist.
    let started = eventually(Duration::from_secs(30), || async {
        app.pipeline.last_purge().unwrap().is_some()
    })
    .await;
    assert!(started);
    let long_ago = (Utc::now() - Days::days(800)).to_rfc3339();
    let recently = (Utc::now() - Days::days(700)).to_rfc3339();
    let post = |sender: &'static str, text: &'static str, at: String| {
        let app = &app;
        async move {
            let (status, body) = app
                .post_message(json!({ "sender": sender, "text": text, "sent_at": at }))
                .await;
            assert_eq!(status, 200, "{body}");
            body["thread_id"].as_str().unwrap().to_owned()
        }
    };
    let old_resolved = post(
        "ancien-resolu",
        "Vieille plainte au 9 rue Quenouille",
        long_ago.clone(),
    )
    .await;
    let old_open = post(
        "ancien-ouvert",
        "Vieille demande au 3 rue Ruisseau",
        long_ago,
    )
    .await;
    let young_resolved = post("recent-resolu", "Demande récente rue Ormeau", recently).await;
    for id in [&old_resolved, &young_resolved] {
        let (status, body) = app
            .staff_post(&format!("/api/threads/{id}/resolve"), json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let ids = [
        old_resolved.clone(),
        old_open.clone(),
        young_resolved.clone(),
    ];
    let before = snapshot(&app, &ids).await;

    let (status, dry) = app.staff_post("/api/purge?dry_run=true", json!({})).await;
    assert_eq!(status, 200, "{dry}");
    assert_eq!(dry["dry_run"], true);
    let listed: Vec<&str> = dry["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["reference"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![old_resolved.as_str()]);
    assert_eq!(
        snapshot(&app, &ids).await,
        before,
        "a dry run changes nothing"
    );

    let (status, done) = app.staff_post("/api/purge", json!({})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["threads"].as_array().unwrap().len(), 1);
    let after = snapshot(&app, &ids).await;
    assert!(!mentions(&after[0], "Quenouille") && !mentions(&after[0], "ancien-resolu"));
    assert!(after[0]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "anonymised"));
    assert_eq!(after[0]["thread"]["state"], before[0]["thread"]["state"]);
    assert!(mentions(&after[1], "Ruisseau"), "an open thread is kept");
    assert!(
        mentions(&after[2], "Ormeau"),
        "a thread within retention is kept"
    );

    let (_, again) = app.staff_post("/api/purge", json!({})).await;
    assert_eq!(again["threads"].as_array().unwrap().len(), 0);
    let (_, journal) = app.staff_get("/api/privacy-journal").await;
    let purges: Vec<_> = journal["journal"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "purge")
        .collect();
    assert_eq!(purges.len(), 1, "{journal}");
}

#[tokio::test]
async fn a_request_is_due_twenty_calendar_days_after_receipt_and_is_shown_when_near() {
    let app = spawn_app().await;
    let today = app.pipeline.today(Utc::now());
    let near_received = today - Days::days(17);
    let (status, near) = app
        .staff_post(
            "/api/citizens/web/denise/requests",
            json!({ "kind": "access", "received_on": near_received.to_string() }),
        )
        .await;
    assert_eq!(status, 200, "{near}");
    assert_eq!(
        near["request"]["due_on"],
        (near_received + Days::days(20)).to_string()
    );
    let (status, far) = app
        .staff_post(
            "/api/citizens/messenger/4412/requests",
            json!({ "kind": "erasure" }),
        )
        .await;
    assert_eq!(status, 200, "{far}");
    assert_eq!(
        far["request"]["due_on"],
        (today + Days::days(20)).to_string()
    );

    let (_, nearing) = app.staff_get("/api/requests?state=nearing").await;
    let listed = nearing["requests"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{nearing}");
    assert_eq!(listed[0]["days_left"], 3);
    assert_eq!(listed[0]["sender"], "denise");
    let (_, open) = app.staff_get("/api/requests").await;
    assert_eq!(open["requests"].as_array().unwrap().len(), 2);

    let id = near["request"]["id"].as_u64().unwrap();
    let (status, extended) = app
        .staff_post(
            &format!("/api/requests/{id}/extend"),
            json!({ "notice": "Avis de prolongation envoyé par courriel le jour même" }),
        )
        .await;
    assert_eq!(status, 200, "{extended}");
    assert_eq!(
        extended["request"]["extension"]["due_on"],
        (near_received + Days::days(30)).to_string()
    );
    let (status, _) = app
        .staff_post(
            &format!("/api/requests/{id}/extend"),
            json!({ "notice": "x" }),
        )
        .await;
    assert_eq!(status, 409, "one extension only");
    let (_, nearing) = app.staff_get("/api/requests?due_within=5").await;
    assert_eq!(nearing["requests"].as_array().unwrap().len(), 0);

    let (status, _) = app
        .staff_post(&format!("/api/requests/{id}/close"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (_, open) = app.staff_get("/api/requests").await;
    assert_eq!(open["requests"].as_array().unwrap().len(), 1);

    let (status, bad) = app
        .staff_post(
            "/api/citizens/web/denise/requests",
            json!({ "kind": "copy" }),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    let tomorrow = (today + Days::days(1)).to_string();
    let (status, _) = app
        .staff_post(
            "/api/citizens/web/denise/requests",
            json!({ "kind": "access", "received_on": tomorrow }),
        )
        .await;
    assert_eq!(status, 400);
    let (_, all) = app.staff_get("/api/requests?state=all").await;
    assert_eq!(
        all["requests"].as_array().unwrap().len(),
        2,
        "refusals record nothing"
    );
}

#[tokio::test]
async fn a_confidentiality_incident_round_trips_with_all_its_fields() {
    let app = spawn_app().await;
    let entry = json!({
        "what": "Un courriel contenant une plainte a été transféré au mauvais service",
        "when": "2026-11-20..2026-11-21",
        "known_on": "2026-11-23",
        "data": "nom, adresse, texte de la plainte",
        "people": 1,
        "risk": "faible : destinataire interne, courriel supprimé",
        "serious": false,
        "measures": "courriel supprimé, rappel aux agents",
        "notifications": "aucun avis requis",
    });
    let (status, added) = app
        .staff_post("/api/privacy-incidents", entry.clone())
        .await;
    assert_eq!(status, 200, "{added}");
    let (_, list) = app.staff_get("/api/privacy-incidents").await;
    let got = &list["incidents"][0];
    for (key, value) in entry.as_object().unwrap() {
        assert_eq!(&got[key], value, "{key}");
    }
    assert_eq!(got["source"], "staff");
    assert_eq!(got["recorded_by"], "coordinator");

    let (status, refused) = app
        .staff_post(
            "/api/privacy-incidents",
            json!({ "what": "x", "when": "hier" }),
        )
        .await;
    assert_eq!(status, 400, "{refused}");
    let (_, list) = app.staff_get("/api/privacy-incidents").await;
    assert_eq!(list["incidents"].as_array().unwrap().len(), 1);
}

#[test]
fn the_register_is_kept_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let added = guichet(&data)
        .args([
            "privacy-incident",
            "add",
            "--what",
            "Liste d'envoi exposée",
            "--when",
            "2026-11-02",
            "--data",
            "adresses courriel",
            "--people",
            "40",
            "--risk",
            "modéré",
            "--serious",
            "--measures",
            "liste retirée",
            "--notifications",
            "Commission avisée le 2026-11-03",
        ])
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let listed = guichet(&data)
        .args(["privacy-incident", "list", "--json"])
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(list[0]["people"], 40);
    assert_eq!(list[0]["serious"], true);
    assert_eq!(list[0]["notifications"], "Commission avisée le 2026-11-03");
    let bad = guichet(&data)
        .args([
            "privacy-incident",
            "add",
            "--what",
            "x",
            "--when",
            "demain",
            "--data",
            "y",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert_eq!(String::from_utf8_lossy(&bad.stderr).lines().count(), 1);
}

#[tokio::test]
async fn a_forwarder_without_tls_to_another_host_is_refused_at_start_up_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = crate::helpers::default_settings();
    settings.store.path = dir.path().join("store");
    settings.responses.dir = Some(crate::helpers::manifest().join("responses"));
    settings.channels.web.callback_url = "http://citoyens.example.ca/reponses".into();
    let pipeline = guichet::server::build(settings).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let refused = guichet::server::run(listener, Arc::clone(&pipeline), async {}).await;
    let message = refused.expect_err("refused").to_string();
    assert!(message.contains("channels.web.callback_url"), "{message}");
    let incidents = pipeline.incidents().unwrap();
    assert_eq!(incidents.len(), 1);
    assert!(incidents[0].what.contains("citoyens.example.ca"));
    assert_eq!(
        incidents[0].source,
        guichet::domain::privacy::IncidentSource::Guichet
    );
}

/// A local receiver for the webhook forwarder and the web callback: answers 200, records.
async fn receiver() -> (SocketAddr, Arc<Mutex<Vec<Bytes>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let app = Router::new().route(
        "/{*path}",
        post(move |body: Bytes| {
            let log = Arc::clone(&log);
            async move {
                log.lock().unwrap().push(body);
                axum::Json(json!({ "ticket_id": "T-1" }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (address, seen)
}

#[tokio::test]
async fn logs_at_info_and_debug_carry_no_message_text_nor_sender_over_a_whole_scenario() {
    let (desk, tickets) = receiver().await;
    let (site, answers) = receiver().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let text = "Fuite d'eau chez Gisèle Tremblay au 77 rue Xylophone";
    let sender = "gisele-logs-5521";
    let reply = "Un plombier passera au 77 rue Xylophone";
    for level in ["info", "debug"] {
        let mut cmd = guichet(&data.join(level));
        cmd.env("RUST_LOG", level)
            .env(
                "GUICHET__FORWARDERS__WEBHOOK__URL",
                format!("http://{desk}/hook"),
            )
            .env("GUICHET__FORWARDERS__WEBHOOK__SECRET", "s3cret")
            .env(
                "GUICHET__CHANNELS__WEB__CALLBACK_URL",
                format!("http://{site}/answers"),
            )
            .args(["serve", "--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let collected = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&collected);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("guichet listening on http://") {
                    let _ = tx.send(addr.trim().to_owned());
                }
                let mut all = sink.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let address: SocketAddr = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap()
            .parse()
            .unwrap();
        let served = Served { child, address };
        let (status, posted) = post_to(
            &served,
            "/api/messages",
            json!({ "sender": sender, "text": text }),
            None,
        )
        .await;
        assert_eq!(status, 200, "{posted}");
        let thread = posted["thread_id"].as_str().unwrap().to_owned();
        let forwarded = eventually(Duration::from_secs(20), || async {
            !tickets.lock().unwrap().is_empty()
        })
        .await;
        assert!(forwarded, "the ticket reaches customer service");
        let (status, _) = post_to(
            &served,
            &format!("/api/threads/{thread}/replies"),
            json!({ "agent": "Luc", "text": reply }),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, 200);
        let relayed = eventually(Duration::from_secs(20), || async {
            !answers.lock().unwrap().is_empty()
        })
        .await;
        assert!(relayed, "the answer reaches the citizen's site");
        let (status, _) = post_to(
            &served,
            &format!("/api/citizens/web/{sender}/erase"),
            json!({}),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, 200);
        tickets.lock().unwrap().clear();
        answers.lock().unwrap().clear();
        drop(served);
        std::thread::sleep(Duration::from_millis(200));
        let logs = collected.lock().unwrap().clone();
        assert!(
            logs.lines().count() > 2,
            "{level} logs were captured: {logs}"
        );
        for secret in ["Xylophone", "Gisèle", sender, "plombier"] {
            assert!(
                !logs.contains(secret),
                "{level} logs carry \"{secret}\":\n{logs}"
            );
        }
    }
}

async fn still(app: &TestApp, thread: &str) -> bool {
    let (_, detail) = app.staff_get(&format!("/api/threads/{thread}")).await;
    mentions(&detail, "Vieillotte")
}

#[tokio::test]
async fn the_daily_purge_runs_when_its_hour_was_missed_and_only_then() {
    let app = spawn_app_with(|s| s.messages.max_age_hours = 24 * 365 * 5).await;
    let started = eventually(Duration::from_secs(30), || async {
        app.pipeline.last_purge().unwrap().is_some()
    })
    .await;
    assert!(
        started,
        "the server's start-up purge ran on its fresh store"
    );
    let long_ago = (Utc::now() - Days::days(900)).to_rfc3339();
    let (status, body) = app
        .post_message(
            json!({ "sender": "eve-daily", "text": "Rue Vieillotte", "sent_at": long_ago }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let thread = body["thread_id"].as_str().unwrap().to_owned();
    let (status, resolved) = app
        .staff_post(&format!("/api/threads/{thread}/resolve"), json!({}))
        .await;
    assert_eq!(status, 200, "{resolved}");

    // The start-up purge already ran today: a second job finds nothing overdue.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let job = tokio::spawn(guichet::retention::run(
        Arc::clone(&app.pipeline),
        stopped.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(still(&app, &thread).await, "nothing runs before its hour");

    // Its last run two days ago: the job is overdue and runs at once.
    let two_days_ago = Utc::now() - Days::days(2);
    app.pipeline
        .store()
        .set_last_purge(two_days_ago)
        .await
        .unwrap();
    let job2 = tokio::spawn(guichet::retention::run(Arc::clone(&app.pipeline), stopped));
    let purged = eventually(Duration::from_secs(30), || async {
        !still(&app, &thread).await
    })
    .await;
    assert!(purged, "the overdue purge anonymised the thread");
    // The run is recorded once its threads are done.
    let recorded = eventually(Duration::from_secs(30), || async {
        app.pipeline.last_purge().unwrap().unwrap() > two_days_ago
    })
    .await;
    assert!(recorded, "the purge recorded its run");
    stop.send(true).unwrap();
    job.await.unwrap();
    job2.await.unwrap();
}

#[tokio::test]
async fn the_coordinators_commands_reach_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    let served = serve_with(&data, &[]);
    let (status, _) = post_to(
        &served,
        "/api/messages",
        json!({ "sender": "francine-cli", "text": "Déneigement de la rue Farfadet" }),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let run = |args: &[&str]| {
        let out = guichet(&data).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let recorded = run(&[
        "citizen",
        "request",
        "web",
        "francine-cli",
        "--kind",
        "access",
    ]);
    assert!(
        recorded.contains("demande 1") && recorded.contains("request 1"),
        "{recorded}"
    );
    let nearing: Value =
        serde_json::from_str(&run(&["citizen", "requests", "--nearing", "20", "--json"])).unwrap();
    assert_eq!(nearing[0]["days_left"], 20);
    let out = dir.path().join("francine.json");
    run(&[
        "citizen",
        "export",
        "web",
        "francine-cli",
        "--out",
        out.to_str().unwrap(),
    ]);
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(mentions(&doc, "Farfadet"));
    assert_eq!(doc["requests"][0]["kind"], "access");
    let extended = run(&["citizen", "extend", "1", "--notice", "Avis envoyé"]);
    assert!(extended.contains("prolongée"), "{extended}");
    run(&["citizen", "close", "1"]);
    let dry = run(&["purge", "--dry-run"]);
    assert!(dry.contains("dry run: 0 resolved thread(s)"), "{dry}");
    let journal: Value = serde_json::from_str(&run(&["privacy-journal", "--json"])).unwrap();
    let kinds: Vec<&str> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in ["request", "export", "extension", "request_closed"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    let refused = guichet(&data)
        .args(["citizen", "extend", "1", "--notice", "encore"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("closed"));
}

#[tokio::test]
async fn a_rewrite_that_cannot_be_done_lets_guichet_run_and_is_recorded_in_the_register() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    drop(guichet::store::Store::open(&path).unwrap());
    std::fs::write(path.join(guichet::store::privacy::REWRITE_MARKER), b"").unwrap();
    // Where the rewrite builds its fresh copy, something that is not a directory.
    std::fs::write(dir.path().join("store.rewrite"), b"in the way").unwrap();
    let mut settings = crate::helpers::default_settings();
    settings.store.path = path;
    settings.responses.dir = Some(crate::helpers::manifest().join("responses"));
    let pipeline = guichet::server::build(settings).expect("guichet opens its store anyway");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stop = tokio::time::sleep(Duration::from_millis(300));
    guichet::server::run(listener, Arc::clone(&pipeline), stop)
        .await
        .expect("guichet runs");
    let incidents = pipeline.incidents().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert!(incidents[0].what.contains("could not be rewritten"));
}
