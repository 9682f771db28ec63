//! The real binary: durability across `kill -9`, the command line, `check`.

use std::process::Stdio;

use chrono::Utc;
use serde_json::{json, Value};

use crate::helpers::{guichet, manifest, send, serve};

#[tokio::test]
async fn a_message_answered_with_200_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let mut served = serve(dir.path());
    let sent_at = (Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    let r = client
        .post(served.url("/api/messages"))
        .json(&json!({
            "sender": "resident-9",
            "text": "My street still hasn't been plowed after three days, this is unacceptable.",
            "message_id": "fb-123",
            "sent_at": sent_at,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let answer: Value = r.json().await.unwrap();
    // Right after the answer, without a chance to shut down cleanly.
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    drop(served);

    // The store holds it: the command line reads it directly.
    let out = guichet(dir.path())
        .args(["overdue", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["threads"][0]["thread_id"], answer["thread_id"]);

    // And a restarted server knows the message id.
    let served = serve(dir.path());
    let body = json!({ "sender": "resident-9", "text": "again", "message_id": "fb-123" });
    let (_, again) = send(client.post(served.url("/api/messages")).json(&body)).await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["thread_id"], answer["thread_id"]);
}

#[tokio::test]
async fn the_command_line_reaches_a_running_server_through_its_staff_api() {
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path());
    let sent_at = (Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    let message = json!({
        "sender": "resident-10",
        "text": "I want to complain: the garbage truck skipped our street again and nobody called back.",
        "sent_at": sent_at,
    });
    let client = reqwest::Client::new();
    let (_, body) = send(client.post(served.url("/api/messages")).json(&message)).await;
    let id = body["thread_id"].as_str().unwrap();

    // The store is held by `serve`, on a port of its own choice; the commands find it from
    // the store's directory and go through the staff API.
    let with_server = |args: &[&str]| guichet(dir.path()).args(args).output().unwrap();
    let out = with_server(&["overdue"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(table.contains("THREAD") && table.contains(id), "{table}");
    assert!(table.contains("overdue"), "{table}");

    let out = with_server(&["show", id]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        shown.contains("audit") && shown.contains("acknowledged"),
        "{shown}"
    );

    let out = with_server(&["resolve", id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = with_server(&["threads", "--state", "resolved", "--json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["threads"][0]["thread_id"], id);

    let health = format!("http://{}/healthz", served.address);
    let out = guichet(dir.path())
        .args(["health", "--url", &health])
        .output()
        .unwrap();
    assert!(out.status.success());

    // Without the token the command says why it cannot go on.
    let out = guichet(dir.path())
        .env_remove("GUICHET__STAFF__TOKEN")
        .args(["overdue"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("GUICHET__STAFF__TOKEN"));
}

#[test]
fn check_passes_on_the_shipped_configuration_and_names_a_missing_template() {
    let dir = tempfile::tempdir().unwrap();
    let out = guichet(dir.path()).arg("check").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A copy of the tree without one template.
    let copy = tempfile::tempdir().unwrap();
    copy_tree(&manifest().join("responses"), copy.path());
    std::fs::remove_file(copy.path().join("en/ack_complaint.j2")).unwrap();
    let out = guichet(dir.path())
        .env("GUICHET__RESPONSES__DIR", copy.path())
        .arg("check")
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("en/ack_complaint.j2"), "{err}");
}

#[test]
fn check_fails_with_one_sentence_on_a_bad_setting() {
    let dir = tempfile::tempdir().unwrap();
    let out = guichet(dir.path())
        .env("GUICHET__SLA__AT_RISK_SHARE", "1.5")
        .arg("check")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config/default.toml") && err.contains("share"),
        "{err}"
    );
}

#[test]
fn classify_prints_one_json_object_a_line() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = guichet(dir.path())
        .arg("classify")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            "Ça sent le gaz dans ma rue!\n{\"text\": \"When is the library open on Sunday?\"}\n"
                .as_bytes(),
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["category"], "urgent");
    assert_eq!(lines[0]["language"], "fr");
    assert_eq!(lines[1]["category"], "info");
    assert_eq!(lines[1]["language"], "en");
    for l in &lines {
        let c = l["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c));
        assert!(l["abusive"].is_boolean());
        assert!(l["reasons"].is_array());
    }
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test]
async fn corrections_are_exported_as_labelled_jsonl_and_learned_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let text = "Le bac bleu est resté sur le bord du chemin depuis mardi";
    let served = serve(dir.path());
    let (_, outcome) = send(
        client
            .post(served.url("/api/messages"))
            .json(&json!({ "sender": "corr-1", "text": text })),
    )
    .await;
    let id = outcome["thread_id"].as_str().unwrap();
    let target = if outcome["category"] == "urgent" {
        "info"
    } else {
        "urgent"
    };
    let (status, _) = send(
        client
            .post(served.url(&format!("/api/threads/{id}/category")))
            .bearer_auth(crate::helpers::TOKEN)
            .json(&json!({ "category": target, "agent": "Ana" })),
    )
    .await;
    assert_eq!(status, 200);

    // Through the running server's staff API.
    let out = guichet(dir.path())
        .args(["corrections", "export"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![json!({ "label": target, "lang": "fr", "text": text })]
    );
    drop(served);

    // With the store free, the same, read directly, into a file `guichet eval` reads.
    let file = dir.path().join("corrections.jsonl");
    let out = guichet(dir.path())
        .args(["corrections", "export", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let eval = guichet(dir.path())
        .args(["eval", "data/corpus/test.jsonl", "--corrections"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    let report = String::from_utf8_lossy(&eval.stdout);
    assert!(
        report.contains("before") && report.contains("after learning 1 corrections"),
        "{report}"
    );

    // Learned at the next start.
    let served = crate::helpers::serve_with(
        dir.path(),
        &[("GUICHET__CLASSIFIER__LEARN_FROM_CORRECTIONS", "true".into())],
    );
    let (_, again) = send(
        client
            .post(served.url("/api/messages"))
            .json(&json!({ "sender": "corr-2", "text": text })),
    )
    .await;
    assert_eq!(again["category"], target, "{again}");
}

#[tokio::test]
async fn staff_are_added_listed_and_revoked_from_the_command_line_and_their_token_works() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = guichet(dir.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let added = run(&["staff", "add", "ana", "--role", "agent"]);
    let token = added.lines().last().unwrap().trim().to_owned();
    assert_eq!(token.len(), 48, "{added}");
    assert!(run(&["staff", "list"]).contains("ana"));

    // While serve holds the store, through its staff API.
    let served = serve(dir.path());
    let client = reqwest::Client::new();
    let (status, _) = send(client.get(served.url("/api/threads")).bearer_auth(&token)).await;
    assert_eq!(status, 200, "the member's token opens the staff API");
    let listed = run(&["staff", "list"]);
    assert!(
        listed.contains("ana") && listed.contains("active"),
        "{listed}"
    );
    assert!(run(&["staff", "revoke", "ana"]).contains("revoked"));
    let (status, _) = send(client.get(served.url("/api/threads")).bearer_auth(&token)).await;
    assert_eq!(status, 401, "a revoked token is refused");
    let bad = guichet(dir.path())
        .args(["staff", "add", "bob", "--role", "boss"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));
}

#[tokio::test]
async fn the_report_is_printed_as_text_csv_or_json_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    {
        let served = serve(dir.path());
        let client = reqwest::Client::new();
        let (status, _) = send(client.post(served.url("/api/messages")).json(&json!({
            "sender": "rep-1",
            "text": "Je veux porter plainte: les ordures n'ont pas été ramassées depuis deux semaines",
        })))
        .await;
        assert_eq!(status, 200);
        // Through the running server.
        let out = guichet(dir.path())
            .args(["report", "--format", "json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["channels"]["web"]["threads"], 1);
    }
    // And from the store itself.
    for format in ["text", "csv"] {
        let out = guichet(dir.path())
            .args(["report", "--format", format])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("web"), "{text}");
    }
    let bad = guichet(dir.path())
        .args(["report", "--from", "hier"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

#[tokio::test]
async fn the_export_is_written_from_the_command_line_through_the_server_or_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let text = "Je veux porter plainte: le déneigeur a brisé ma clôture au 12 rue des Érables";
    let csv_of = |out: &std::process::Output| -> Vec<Vec<String>> {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
        assert_eq!(&reader.headers().unwrap()[0], "reference");
        reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    };
    let served_rows = {
        let served = serve(dir.path());
        let client = reqwest::Client::new();
        let (status, _) = send(client.post(served.url("/api/messages")).json(&json!({
            "sender": "exp-1",
            "text": text,
        })))
        .await;
        assert_eq!(status, 200);
        csv_of(&guichet(dir.path()).args(["export"]).output().unwrap())
    };
    assert_eq!(served_rows.len(), 1, "{served_rows:?}");
    assert_eq!(served_rows[0][1], "web");
    assert_eq!(served_rows[0][2], "complaint");

    // The same rows from the store itself, into a file; never the text nor the sender.
    let file = dir.path().join("threads.csv");
    let out = guichet(dir.path())
        .args(["export", "--out", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 thread written"));
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(!written.contains("déneigeur") && !written.contains("exp-1"));
    let mut reader = csv::Reader::from_reader(written.as_bytes());
    let stored_rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(stored_rows, served_rows);

    // A range that holds none: the header alone. A bad date: a sentence and a failure.
    let none = guichet(dir.path())
        .args(["export", "--from", "2020-01-01", "--to", "2020-01-31"])
        .output()
        .unwrap();
    assert!(csv_of(&none).is_empty());
    let bad = guichet(dir.path())
        .args(["export", "--to", "demain"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("demain"));
}
