//! The command line as staff use it: from any directory, finding the running server from the
//! store's directory (and refusing another store's), stopping on SIGTERM, and never writing a
//! citizen's control characters to the terminal.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use guichet::domain::message::{Channel, MessageKind, Sender, StoredMessage};
use guichet::domain::thread::{AuditEvent, AuditKind, Thread, Triage};
use guichet::domain::{Category, Language};
use guichet::store::{Store, ThreadWrite};
use serde_json::{json, Value};

use crate::helpers::{default_settings, guichet, guichet_in, send, serve, spawn_serve};

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn address_file(store: &Path) -> Value {
    let text = std::fs::read_to_string(store.join("serve.json")).expect("serve.json exists");
    serde_json::from_str(&text).expect("serve.json is JSON")
}

/// A complaint sent three days ago: overdue at once.
async fn post_overdue_complaint(url: &str, sender: &str) -> String {
    let message = json!({
        "sender": sender,
        "text": "I want to complain: the garbage truck skipped our street again and nobody called back.",
        "sent_at": (Utc::now() - chrono::Duration::days(3)).to_rfc3339(),
    });
    let (status, body) = send(reqwest::Client::new().post(url).json(&message)).await;
    assert_eq!(status, 200, "{body}");
    body["thread_id"].as_str().unwrap().to_owned()
}

#[test]
fn check_classify_and_overdue_run_from_a_directory_without_configuration() {
    let cwd = tempfile::tempdir().unwrap();

    let out = guichet_in(cwd.path()).arg("check").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains("the embedded config/default.toml")
            && said.contains("the embedded responses/"),
        "{said}"
    );

    let mut child = guichet_in(cwd.path())
        .arg("classify")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        "Ça sent le gaz dans ma rue!\n".as_bytes(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let line: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(line["category"], "urgent");

    // The store's default path is relative to the working directory.
    let out = guichet_in(cwd.path())
        .args(["overdue", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(cwd.path().join("data/store").is_dir());
}

#[test]
fn guichet_config_names_the_configuration_file() {
    let cwd = tempfile::tempdir().unwrap();
    let file = cwd.path().join("alma.toml");
    let shipped = std::fs::read_to_string(crate::helpers::manifest().join("config/default.toml"))
        .unwrap()
        .replace("Ville de Saint-Exemple", "Ville d'Alma");
    std::fs::write(&file, shipped).unwrap();
    let out = guichet_in(cwd.path())
        .env("GUICHET_CONFIG", &file)
        .arg("check")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Ville d'Alma"), "{}", stdout(&out));

    let out = guichet_in(cwd.path())
        .env("GUICHET_CONFIG", cwd.path().join("missing.toml"))
        .arg("check")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("missing.toml"), "{}", stderr(&out));
}

#[tokio::test]
async fn serve_records_its_address_and_sigterm_stops_it_with_exit_0_removing_the_record() {
    let cwd = tempfile::tempdir().unwrap();
    let mut served = spawn_serve(guichet_in(cwd.path()));
    let store = cwd.path().join("data/store");
    let recorded = address_file(&store);
    assert_eq!(recorded["address"], served.address.to_string());
    assert_eq!(recorded["pid"], served.child.id());
    let (_, health) = send(reqwest::Client::new().get(served.url("/healthz"))).await;
    assert_eq!(recorded["store_id"], health["store_id"]);

    // A staff command in the same directory finds it, on its own port.
    let id = post_overdue_complaint(&served.url("/api/messages"), "resident-20").await;
    let out = guichet_in(cwd.path()).arg("overdue").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&id), "{}", stdout(&out));

    // The shell's own `kill`: no procps needed.
    let kill = Command::new("sh")
        .args(["-c", &format!("kill -TERM {}", served.child.id())])
        .status()
        .unwrap();
    assert!(kill.success());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = served.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "serve still runs 15 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(!store.join("serve.json").exists());
}

#[tokio::test]
async fn staff_commands_refuse_a_server_of_another_store_or_one_that_does_not_answer() {
    let (ours, theirs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let our_server = serve(ours.path());
    let their_server = serve(theirs.path());
    post_overdue_complaint(&their_server.url("/api/messages"), "resident-21").await;

    // Our store's record now points to their server: it answers, with their store's id.
    let mut record = address_file(ours.path());
    record["address"] = json!(their_server.address.to_string());
    std::fs::write(ours.path().join("serve.json"), record.to_string()).unwrap();
    let out = guichet(ours.path()).arg("overdue").output().unwrap();
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let said = stderr(&out);
    assert!(
        said.contains("another guichet answers at") && said.contains("refusing"),
        "{said}"
    );
    assert_eq!(said.lines().count(), 1, "{said}");

    // And to an address where nothing listens.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let nowhere = closed.local_addr().unwrap();
    drop(closed);
    record["address"] = json!(nowhere.to_string());
    std::fs::write(ours.path().join("serve.json"), record.to_string()).unwrap();
    let out = guichet(ours.path())
        .args(["resolve", "G-000001"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = stderr(&out);
    assert!(
        said.contains(&format!("the running guichet recorded at {nowhere}"))
            && said.contains("did not answer"),
        "{said}"
    );
    drop(our_server);
}

#[test]
fn logs_written_to_a_pipe_carry_no_colour_codes() {
    use std::io::{BufRead, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = guichet(dir.path())
        .env("RUST_LOG", "info")
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("guichet listening on");
        lines.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let logged = lines.join("\n");
    assert!(logged.contains("INFO"), "{logged}");
    assert!(!logged.contains('\x1b'), "{logged:?}");
}

#[tokio::test]
async fn a_second_serve_on_the_same_store_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path());
    let out = guichet(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = stderr(&out);
    let errors: Vec<&str> = said.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{said}");
    assert!(
        errors[0].contains("in use by a running guichet")
            && errors[0].contains(&served.address.to_string()),
        "{said}"
    );
    assert_eq!(errors[0].matches("lock").count(), 0, "{said}");
}

#[tokio::test]
async fn health_prints_one_line_when_healthy_and_a_sentence_when_nothing_answers() {
    let dir = tempfile::tempdir().unwrap();
    let served = serve(dir.path());
    // Without --url: the address the store's server recorded.
    let out = guichet(dir.path()).arg("health").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("healthy: http://{}/healthz\n", served.address)
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/healthz", closed.local_addr().unwrap());
    drop(closed);
    let out = guichet(dir.path())
        .args(["health", "--url", &url])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(stdout(&out).is_empty());
    let said = stderr(&out);
    assert!(
        said.contains("nothing answered at") && said.contains(&url),
        "{said}"
    );
}

#[tokio::test]
async fn health_gives_the_reason_of_an_unhealthy_server_and_fails() {
    // A server that answers every request as an unhealthy guichet does.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/healthz", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let body = r#"{"status":"unhealthy","reason":"the disk is full","store_id":"abc"}"#;
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let response = format!(
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::task::spawn_blocking(move || {
        guichet(dir.path())
            .args(["health", "--url", &url])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let said = stderr(&out);
    assert!(
        said.contains("unhealthy: the disk is full") && said.contains("503"),
        "{said}"
    );
}

#[test]
fn show_writes_no_raw_escape_sequence_a_citizen_typed() {
    let dir = tempfile::tempdir().unwrap();
    // Written straight into the store, as text stored before input was cleaned would be.
    let id = {
        let store = Store::open(dir.path()).unwrap();
        let at = Utc::now() - chrono::Duration::hours(2);
        let thread = Thread::open(
            store.next_thread_id(),
            Channel::web(),
            Sender::parse("resident-22").unwrap(),
            at,
            Triage {
                category: Category::Complaint,
                language: Language::Fr,
                confidence: 0.9,
            },
            &default_settings().sla_policy().unwrap(),
        );
        let mut write = ThreadWrite::new(None, thread);
        write.messages.push(StoredMessage {
            kind: MessageKind::Citizen,
            author: "citizen".into(),
            at,
            text: "Bonjour\x1b[2J\x1b[H\nligne deux \u{9b}31m fin\x07".into(),
            masked: None,
            platform_id: None,
            ignored: false,
        });
        write.audit.push(AuditEvent::new(
            at,
            AuditKind::Received,
            "citizen",
            "\x1b]0;titre\x07",
        ));
        let thread = store.write(write).unwrap();
        store.flush().unwrap();
        thread.id.to_string()
    };

    let out = guichet(dir.path()).args(["show", &id]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let shown = stdout(&out);
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\n'),
        "{shown:?}"
    );
    assert!(shown.contains("Bonjour\\x1b[2J\\x1b[H"), "{shown}");
    assert!(shown.contains("ligne deux"), "{shown}");

    let out = guichet(dir.path()).arg("threads").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains(&id));

    // JSON stays JSON: the text comes back exactly, escaped by the encoder.
    let out = guichet(dir.path())
        .args(["show", &id, "--json"])
        .output()
        .unwrap();
    assert!(!stdout(&out).contains('\x1b'));
    let detail: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(detail["messages"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Bonjour\x1b[2J"));
}

#[test]
fn lists_are_printed_page_by_page_to_the_end_or_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    // More overdue threads than one page of the store holds (1000).
    const THREADS: usize = 1_205;
    {
        let store = Store::open(dir.path()).unwrap();
        let policy = default_settings().sla_policy().unwrap();
        for n in 0..THREADS {
            let at = Utc::now() - chrono::Duration::days(3) + chrono::Duration::seconds(n as i64);
            let thread = Thread::open(
                store.next_thread_id(),
                Channel::web(),
                Sender::parse(&format!("resident-{n}")).unwrap(),
                at,
                Triage {
                    category: Category::Info,
                    language: Language::Fr,
                    confidence: 0.9,
                },
                &policy,
            );
            store.write(ThreadWrite::new(None, thread)).unwrap();
        }
        store.flush().unwrap();
    }

    let out = guichet(dir.path())
        .args(["overdue", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = all["threads"].as_array().unwrap().clone();
    let ids: std::collections::HashSet<_> = all.iter().map(|t| t["thread_id"].clone()).collect();
    assert_eq!((all.len(), ids.len()), (THREADS, THREADS));
    let due: Vec<&str> = all.iter().map(|t| t["due_at"].as_str().unwrap()).collect();
    assert!(due.windows(2).all(|w| w[0] >= w[1]), "latest due first");

    let out = guichet(dir.path())
        .args(["overdue", "--json", "--limit", "3"])
        .output()
        .unwrap();
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(first["threads"].as_array().unwrap()[..], all[..3]);

    let out = guichet(dir.path())
        .args(["threads", "--state", "all", "--limit", "1001"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    assert_eq!(table.matches("THREAD").count(), 1, "one header");
    assert_eq!(table.lines().count(), 1 + 1001);

    let out = guichet(dir.path())
        .args(["threads", "--state", "answered", "--json"])
        .output()
        .unwrap();
    let none: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(none, json!({ "threads": [] }));
}
