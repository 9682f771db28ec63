//! The coordinator's daily digest: sent at the configured city-local time, on business days,
//! once a day even across restarts, and at once with `guichet digest --now`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::America::Toronto;
use guichet::config::Settings;
use guichet::digest::Clock;
use guichet::forwarders::{BoxFuture, Forwarders};
use guichet::pipeline::Pipeline;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::fakes::smtp::SmtpSink;
use crate::helpers::{default_settings, eventually, guichet, manifest, spawn_serve, Served};

const TO: &str = "coordination@ville.example";

/// A clock the test sets; the digest task's sleeps end when it reaches their time.
struct ManualClock {
    now: watch::Sender<DateTime<Utc>>,
}

impl ManualClock {
    fn new(at: DateTime<Utc>) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            now: watch::channel(at).0,
        })
    }

    fn set(&self, at: DateTime<Utc>) {
        self.now.send_replace(at);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.borrow()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let mut now = self.now.subscribe();
        Box::pin(async move {
            while *now.borrow_and_update() < at {
                if now.changed().await.is_err() {
                    return;
                }
            }
        })
    }
}

/// City-local time in January 2025 (Monday the 13th, Saturday the 18th).
fn local(day: u32, h: u32, m: u32) -> DateTime<Utc> {
    Toronto
        .with_ymd_and_hms(2025, 1, day, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn digest_settings(store: &Path, sink: &SmtpSink) -> Settings {
    let mut s = default_settings();
    s.store.path = store.to_path_buf();
    s.responses.dir = Some(manifest().join("responses"));
    s.digest.at = "08:00".into();
    s.digest.email_to = vec![TO.into()];
    s.smtp.host = "127.0.0.1".into();
    s.smtp.port = sink.port;
    s.smtp.from = "guichet@ville.example".into();
    s.smtp.starttls = false;
    s.desk.public_url = "https://guichet.ville.example".into();
    s
}

/// guichet's digest task and outbox worker on a store, with an injected clock.
struct Running {
    pipeline: Arc<Pipeline>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

fn start(settings: &Settings, clock: Arc<ManualClock>) -> Running {
    let pipeline = guichet::server::build(settings.clone()).expect("guichet builds");
    let forwarders = Arc::new(Forwarders::new(settings).unwrap());
    let (stop, stopped) = watch::channel(false);
    let tasks = vec![
        tokio::spawn(guichet::digest::run(
            Arc::clone(&pipeline),
            clock,
            stopped.clone(),
        )),
        tokio::spawn(guichet::outbox::run(
            Arc::clone(&pipeline),
            forwarders,
            stopped,
        )),
    ];
    Running {
        pipeline,
        stop,
        tasks,
    }
}

impl Running {
    /// Stops the tasks and closes the store, as a process exit would.
    async fn shut_down(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            task.await.unwrap();
        }
        self.pipeline.store().flush().unwrap();
        drop(self.pipeline);
    }
}

fn digest_ids(sink: &SmtpSink) -> Vec<String> {
    sink.accepted().iter().map(|m| m.message_id()).collect()
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

async fn expect_digests(sink: &SmtpSink, ids: &[&str]) {
    let want: Vec<String> = ids.iter().map(|i| format!("{i}@ville.example")).collect();
    let ok = eventually(Duration::from_secs(10), || async {
        digest_ids(sink).len() >= want.len()
    })
    .await;
    assert!(ok, "expected {want:?}, got {:?}", digest_ids(sink));
    settle().await;
    assert_eq!(digest_ids(sink), want);
}

#[tokio::test]
async fn the_digest_goes_at_the_local_time_on_business_days_and_once_across_a_restart() {
    let sink = SmtpSink::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = digest_settings(&dir.path().join("store"), &sink);
    let clock = ManualClock::new(local(13, 7, 0));
    let running = start(&settings, Arc::clone(&clock));

    settle().await;
    assert!(sink.received().is_empty(), "nothing before 08:00");
    clock.set(local(13, 7, 59));
    settle().await;
    assert!(sink.received().is_empty(), "nothing at 07:59");

    clock.set(local(13, 8, 0));
    expect_digests(&sink, &["D20250113-0-email"]).await;
    let mail = &sink.accepted()[0];
    assert_eq!(mail.to, vec![TO.to_owned()]);
    assert!(
        mail.subject().contains("Résumé du 2025-01-13"),
        "{}",
        mail.subject()
    );
    let text = mail.text();
    assert!(
        text.starts_with("Résumé du 2025-01-13 — hier (2025-01-12)"),
        "{text}"
    );
    assert!(
        text.contains("Digest of 2025-01-13 — yesterday (2025-01-12)"),
        "{text}"
    );
    assert!(
        text.contains("https://guichet.ville.example/desk"),
        "{text}"
    );

    clock.set(local(13, 12, 0));
    settle().await;
    assert_eq!(digest_ids(&sink).len(), 1, "once a day");

    // A restart later that day: the store remembers the day's digest.
    running.shut_down().await;
    let clock = ManualClock::new(local(13, 13, 0));
    let running = start(&settings, Arc::clone(&clock));
    settle().await;
    assert_eq!(digest_ids(&sink).len(), 1, "not again after a restart");
    let record = running
        .pipeline
        .digest_record(NaiveDate::from_ymd_opt(2025, 1, 13).unwrap())
        .unwrap()
        .expect("the day's digest is recorded");
    assert_eq!((record.count, record.last_by.as_str()), (1, "schedule"));

    clock.set(local(14, 8, 0));
    expect_digests(&sink, &["D20250113-0-email", "D20250114-0-email"]).await;

    // Saturday is not a business day; Monday is.
    clock.set(local(18, 8, 0));
    settle().await;
    assert_eq!(digest_ids(&sink).len(), 2, "no digest on a Saturday");
    clock.set(local(20, 8, 30));
    expect_digests(
        &sink,
        &[
            "D20250113-0-email",
            "D20250114-0-email",
            "D20250120-0-email",
        ],
    )
    .await;
    running.shut_down().await;
}

fn config_file(dir: &Path, sink: &SmtpSink, at: &str) -> PathBuf {
    let text = std::fs::read_to_string(manifest().join("config/default.toml")).unwrap()
        + &format!(
            "\n[digest]\nat = \"{at}\"\ndays = \"every\"\nemail_to = [\"{TO}\"]\n\n[smtp]\nhost = \"localhost\"\nport = {}\nfrom = \"guichet@ville.example\"\nstarttls = false\n",
            sink.port
        );
    let path = dir.join("guichet.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn with_config(data: &Path, config: &Path) -> std::process::Command {
    let mut cmd = guichet(data);
    cmd.arg("--config").arg(config);
    cmd
}

/// The digest by e-mail to the local relay, over plain SMTP on loopback.
fn mail_digest_to_relay(s: &mut Settings, sink: &SmtpSink) {
    s.digest.email_to = vec![TO.into()];
    s.smtp.host = "127.0.0.1".into();
    s.smtp.port = sink.port;
    s.smtp.from = "guichet@ville.example".into();
    s.smtp.starttls = false;
}

fn today() -> String {
    Utc::now()
        .with_timezone(&Toronto)
        .date_naive()
        .format("%Y%m%d")
        .to_string()
}

// Multi-threaded: the fakes keep answering while the test waits on the binary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sends_a_missed_digest_at_start_once_and_digest_now_sends_one_at_once() {
    let sink = SmtpSink::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("store");
    // 00:00 every day: today's time has passed, so serve sends today's digest at start.
    let config = config_file(dir.path(), &sink, "00:00");
    let day = today();

    let served: Served = spawn_serve(with_config(&data, &config));
    expect_digests(&sink, &[&format!("D{day}-0-email")]).await;
    drop(served);
    let served = spawn_serve(with_config(&data, &config));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(digest_ids(&sink).len(), 1, "not twice across a restart");

    // Through the running server's staff API.
    let out = with_config(&data, &config)
        .args(["digest", "--now"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    expect_digests(
        &sink,
        &[&format!("D{day}-0-email"), &format!("D{day}-1-email")],
    )
    .await;
    drop(served);

    // With no server running, the command sends it itself.
    let out = with_config(&data, &config)
        .args(["digest", "--now"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("D{day}-2-email: sent")),
        "{stdout}"
    );
    expect_digests(
        &sink,
        &[
            &format!("D{day}-0-email"),
            &format!("D{day}-1-email"),
            &format!("D{day}-2-email"),
        ],
    )
    .await;

    let out = with_config(&data, &config).arg("digest").output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--now"), "{stderr}");
}

#[tokio::test]
async fn a_coordinator_posts_the_digest_to_the_discord_alerts_channel_and_an_agent_cannot() {
    let fake = crate::fakes::discord::FakeDiscord::start().await;
    let app = crate::helpers::spawn_app_with(|s| crate::discord::configure(s, &fake)).await;
    assert!(fake.wait_until_identified(Duration::from_secs(15)).await);
    let f = fake.fixture().clone();

    let (status, body) = app
        .staff_post(
            "/api/staff",
            serde_json::json!({"name": "luc", "role": "agent"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let agent = body["token"].as_str().unwrap().to_owned();
    let (status, body) =
        crate::helpers::send(app.client.post(app.url("/api/digest")).bearer_auth(&agent)).await;
    assert_eq!(status, 403, "{body}");

    let (status, body) = app.staff_post("/api/digest", serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "queued");
    let job = format!("D{}-0-alerts", today());
    assert_eq!(body["jobs"], serde_json::json!([job]));
    let posted = eventually(Duration::from_secs(15), || async {
        !fake.messages_in(f.alerts_channel_id).is_empty()
    })
    .await;
    assert!(posted, "the digest is posted to the alerts channel");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let messages = fake.messages_in(f.alerts_channel_id);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let content = messages[0]["content"].as_str().unwrap();
    let french = content.find("Résumé du").expect("French");
    let english = content.find("Digest of").expect("English");
    assert!(french < english, "{content}");
    let sent = fake.requests_matching(&crate::fakes::discord::Route::post(&format!(
        "/channels/{}/messages",
        f.alerts_channel_id
    )));
    assert_eq!(
        sent[0].json()["allowed_mentions"],
        serde_json::json!({ "parse": [] })
    );
}

#[tokio::test]
async fn a_digest_the_relay_refused_is_dead_in_the_outbox_and_a_retry_by_hand_sends_it_once() {
    let sink = SmtpSink::spawn().await;
    sink.set_busy(true);
    let app = crate::helpers::spawn_app_with(|s| {
        mail_digest_to_relay(s, &sink);
        s.outbox.max_attempts = 1;
    })
    .await;
    let (status, body) = app.staff_post("/api/digest", serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    let job = format!("D{}-0-email", today());
    assert_eq!(body["jobs"], serde_json::json!([job]));

    let dead = eventually(Duration::from_secs(15), || async {
        let (_, outbox) = app.staff_get("/api/outbox?state=dead").await;
        outbox["jobs"]
            .as_array()
            .is_some_and(|jobs| jobs.iter().any(|j| j["id"] == job.as_str()))
    })
    .await;
    assert!(dead, "one refused attempt kills the job");
    let (_, outbox) = app.staff_get("/api/outbox?state=dead").await;
    let entry = &outbox["jobs"][0];
    assert!(
        entry.get("thread_id").is_none(),
        "a digest belongs to no thread: {entry}"
    );
    assert!(
        entry["last_error"]["message"]
            .as_str()
            .unwrap()
            .contains("451"),
        "{entry}"
    );
    assert!(sink.accepted().is_empty());

    sink.set_busy(false);
    let (status, body) = app
        .staff_post(&format!("/api/outbox/{job}/retry"), serde_json::json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    expect_digests(&sink, &[&job]).await;
    let (_, outbox) = app.staff_get("/api/outbox?state=all").await;
    assert_eq!(
        outbox["jobs"],
        serde_json::json!([]),
        "delivered, the job is gone"
    );
}

#[tokio::test]
async fn the_digest_names_citizens_requests_nearing_their_due_date_but_never_who_made_them() {
    let sink = SmtpSink::spawn().await;
    let app = crate::helpers::spawn_app_with(|s| {
        mail_digest_to_relay(s, &sink);
    })
    .await;
    let local_today = Utc::now().with_timezone(&Toronto).date_naive();
    let record = |sender: &'static str, days_ago: i64| {
        let received = local_today - chrono::Duration::days(days_ago);
        let app = &app;
        async move {
            let (status, body) = app
                .staff_post(
                    &format!("/api/citizens/web/{sender}/requests"),
                    serde_json::json!({ "kind": "access", "received_on": received.to_string() }),
                )
                .await;
            assert_eq!(status, 200, "{body}");
            body["request"]["id"].as_u64().unwrap()
        }
    };
    // Due in 3 days, 2 days late, and in 15 days (not yet near).
    let near = record("nadia.tremblay", 17).await;
    let late = record("omar.haddad", 22).await;
    let far = record("paul.gagnon", 5).await;

    let (status, body) = app.staff_post("/api/digest", serde_json::json!({})).await;
    assert_eq!(status, 200, "{body}");
    let due: Vec<(u64, i64)> = body["digest"]["requests_due"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_u64().unwrap(), r["days_left"].as_i64().unwrap()))
        .collect();
    assert_eq!(due, vec![(late, -2), (near, 3)], "{body}");

    let arrived = eventually(Duration::from_secs(15), || async {
        !sink.accepted().is_empty()
    })
    .await;
    assert!(arrived, "the digest reaches the relay");
    let text = sink.accepted()[0].text();
    assert!(
        text.contains(&format!("demande n° {near} (accès)")),
        "{text}"
    );
    assert!(
        text.contains(&format!("request #{late} (access)")),
        "{text}"
    );
    assert!(!text.contains(&format!("#{far} ")), "{text}");
    for who in ["nadia.tremblay", "omar.haddad", "paul.gagnon"] {
        assert!(!text.contains(who), "a digest names no citizen: {text}");
    }
}
