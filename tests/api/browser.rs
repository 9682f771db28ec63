//! The desk in a real browser: headless Chromium driven over WebDriver (chromedriver) with
//! fantoccini. It signs in, finds the overdue thread at the top of the queue, answers it and
//! renders the report with its charts, saving a screenshot of each page under
//! `target/desk-screenshots/` (a phone-sized one of the queue too).
//!
//! Where Chromium or chromedriver is not installed (Debian: `chromium`, `chromium-driver`;
//! `.ci/run` installs them), the test says so and skips.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::desk::citizen;
use crate::helpers::{eventually, spawn_app, TOKEN};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn screenshots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("desk-screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshot directory");
    dir
}

async fn save(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(screenshots().join(name), png).expect("the screenshot is written");
}

/// Chromium with the flags it needs on a machine without network or display: nothing
/// reaches out, nothing waits for a GPU, and the profile is a new empty directory.
async fn open_browser(profile: &Path) -> Option<(Driver, Client)> {
    for program in [CHROMIUM, CHROMEDRIVER] {
        if !Path::new(program).exists() {
            eprintln!(
                "SKIPPED the desk's browser test: {program} is missing (install the Debian packages chromium and chromium-driver; .ci/run does)"
            );
            return None;
        }
    }
    let port = free_port();
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    let up = eventually(Duration::from_secs(20), || async move {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
    })
    .await;
    assert!(up, "chromedriver listens within 20 s");
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("chromedriver opens a Chromium session");
    Some((driver, client))
}

#[tokio::test]
async fn in_a_browser_a_coordinator_signs_in_answers_the_overdue_thread_first_and_reads_the_report()
{
    let profile = tempfile::tempdir().unwrap();
    let Some((_driver, client)) = open_browser(profile.path()).await else {
        return;
    };
    let app = spawn_app().await;
    let fresh = citizen(
        &app,
        "gisele",
        "Quelle est la date de la collecte des sapins?",
        0,
    )
    .await;
    let late = citizen(&app, "henri", "Quand ouvre l'écocentre cet hiver?", 60).await;
    let answered = citizen(&app, "ines", "Où payer mon compte de taxes?", 3).await;
    let (status, body) = app
        .staff_post(
            &format!("/api/threads/{answered}/replies"),
            json!({ "agent": "Luc", "text": "Au comptoir de l'hôtel de ville ou en ligne." }),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let outcome = drive(&client, &app.url(""), &late, &fresh).await;
    let _ = client.close().await;
    outcome.expect("the desk works in Chromium");

    let t = app.staff_get(&format!("/api/threads/{late}")).await.1;
    assert_eq!(t["state"], "answered");
    assert!(t["audit"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "answered" && e["actor"] == "coordinator"));
}

async fn drive(
    client: &Client,
    base: &str,
    late: &str,
    fresh: &str,
) -> Result<(), fantoccini::error::CmdError> {
    client.goto(&format!("{base}/desk/queue")).await?;
    // No session: the sign-in page.
    assert!(client
        .current_url()
        .await?
        .path()
        .ends_with("/desk/sign-in"));
    save(client, "sign-in.png").await;
    client
        .find(Locator::Css("#token"))
        .await?
        .send_keys(TOKEN)
        .await?;
    client
        .find(Locator::Css("main form button[type=submit]"))
        .await?
        .click()
        .await?;
    client.wait().for_element(Locator::Css("#queue")).await?;
    assert!(client.current_url().await?.path().ends_with("/desk/queue"));

    let rows = client.find_all(Locator::Css("#queue tbody tr")).await?;
    assert!(rows.len() >= 2, "both open threads are listed");
    let first = rows[0].text().await?;
    assert!(
        first.contains(late),
        "the overdue thread comes first: {first}"
    );
    assert!(first.contains("en retard de"), "{first}");
    let class = rows[0].attr("class").await?.unwrap_or_default();
    assert!(class.contains("sla-row-overdue"), "{class}");
    assert!(rows[1].text().await?.contains(fresh));
    save(client, "queue.png").await;
    client.set_window_size(390, 844).await?;
    save(client, "queue-phone.png").await;
    client.set_window_size(1280, 1000).await?;

    client.find(Locator::LinkText(late)).await?.click().await?;
    client.wait().for_element(Locator::Css("#answer")).await?;
    client
        .find(Locator::Css("#answer"))
        .await?
        .send_keys("Bonjour, l'écocentre ouvre le samedi de 9 h à 16 h tout l'hiver.")
        .await?;
    client
        .find(Locator::Css("form[action$='/answer'] button"))
        .await?
        .click()
        .await?;
    let flash = client.wait().for_element(Locator::Css(".flash")).await?;
    assert_eq!(flash.text().await?, "Réponse envoyée.");
    let page = client.source().await?;
    assert!(
        page.contains("l'écocentre ouvre le samedi")
            || page.contains("l&#x27;écocentre ouvre le samedi")
    );
    save(client, "thread.png").await;

    client
        .find(Locator::LinkText("Rapport"))
        .await?
        .click()
        .await?;
    client
        .wait()
        .for_element(Locator::Css("svg.chart polyline"))
        .await?;
    let charts = client.find_all(Locator::Css("svg.chart")).await?;
    assert_eq!(charts.len(), 2, "the week chart and the distribution");
    let bars = client.find_all(Locator::Css("svg.chart rect")).await?;
    assert_eq!(bars.len(), 6, "six buckets of first-response times");
    let heading = client.find(Locator::Css("h1")).await?.text().await?;
    assert_eq!(heading, "Rapport des délais de réponse");
    save(client, "report.png").await;

    // The language switch, kept in the session.
    client
        .find(Locator::Css("header form[action='/desk/language'] button"))
        .await?
        .click()
        .await?;
    client
        .wait()
        .for_element(Locator::Css("html[lang='en']"))
        .await?;
    let heading = client.find(Locator::Css("h1")).await?.text().await?;
    assert_eq!(heading, "Response-time report");
    Ok(())
}
