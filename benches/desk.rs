//! The desk's pages at scale: a store filled with 100,000 threads (a year of a city's
//! messages), served by guichet in-process, and each page of the desk timed as a signed-in
//! coordinator's browser would ask for it.
//!
//! ```text
//! cargo bench --bench desk
//! cargo bench --bench desk -- --threads 100000 --days 365 --rounds 30
//! ```
//!
//! The store is filled through the store's own writes (`Store::write`, one batch per thread,
//! with its messages, its audit log and its indexes), each thread opened, acknowledged,
//! answered and resolved by the domain's own transitions, at times spread over `--days`:
//! most answered within their target, some late, the last days' still open, some of them
//! overdue. Then guichet serves that store and the bench signs in and times, over HTTP: the
//! queue's first page, a thread, the next page of the queue, the report of the last 30 days
//! (the default) and of the whole year, and the year's CSV export.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{Duration as Span, Utc};
use clap::Parser;
use guichet::config::{Secret, Settings};
use guichet::domain::message::{Channel, MessageKind, Sender, StoredMessage};
use guichet::domain::thread::{AuditEvent, AuditKind, Thread, Triage};
use guichet::domain::{Category, Language};
use guichet::store::{Store, ThreadWrite};
use reqwest::header::{COOKIE, SET_COOKIE};

const TOKEN: &str = "bench-staff-token";

#[derive(Debug, Parser)]
#[command(about = "Time the desk's pages on a store of many threads")]
struct Args {
    /// Threads in the store.
    #[arg(long, default_value_t = 100_000)]
    threads: u64,
    /// Days the threads' opening times are spread over, up to now.
    #[arg(long, default_value_t = 365)]
    days: i64,
    /// Requests per page; the figures are their median, 90th percentile and maximum.
    #[arg(long, default_value_t = 30)]
    rounds: usize,
    /// Accepted and ignored (cargo bench passes it).
    #[arg(long, hide = true)]
    bench: bool,
}

fn settings(store: &Path) -> anyhow::Result<Settings> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut settings = Settings::load(&root.join("config/default.toml"))?;
    settings.store.path = store.to_path_buf();
    settings.responses.dir = Some(root.join("responses"));
    settings.staff.token = Secret::new(TOKEN);
    Ok(settings)
}

/// Writes `n` threads over the last `days`.
fn fill(store: &Store, settings: &Settings, n: u64, days: i64) -> anyhow::Result<()> {
    let policy = settings.sla_policy().map_err(anyhow::Error::msg)?;
    let now = Utc::now();
    let start = now - Span::days(days);
    let step = Span::days(days).num_milliseconds() / n as i64;
    let agents = ["Luc", "Marie", "Amina", "Jean-François", "Sophie"];
    let channels = ["web", "messenger", "discord"];
    for i in 0..n {
        let opened = start + Span::milliseconds(step * i as i64);
        let category = match i % 10 {
            0 => Category::Urgent,
            1..=3 => Category::Complaint,
            _ => Category::Info,
        };
        let mut t = Thread::open(
            store.next_thread_id(),
            Channel::parse(channels[(i % 3) as usize])?,
            Sender::parse(&format!("citizen-{}", i % 40_000))?,
            opened,
            Triage {
                category,
                language: if i % 4 == 0 {
                    Language::En
                } else {
                    Language::Fr
                },
                confidence: 0.9,
            },
            &policy,
        );
        let mut audit = vec![AuditEvent::new(opened, AuditKind::Received, "citizen", "")];
        let mut messages = vec![message(
            MessageKind::Citizen,
            "citizen",
            opened,
            "Bonjour, le lampadaire devant le 123 rue Principale est éteint depuis trois jours.",
        )];
        audit.push(t.acknowledge(opened + Span::seconds(1))?);
        messages.push(message(
            MessageKind::Acknowledgment,
            "guichet",
            opened + Span::seconds(1),
            "Merci, nous avons bien reçu votre message.",
        ));
        // The last two days' threads are still open (those older than their target are
        // overdue); the others were answered, one in eight late, and most resolved.
        if now - opened > Span::days(2) {
            let hours = if i % 8 == 0 { 60 } else { 1 + (i % 20) as i64 };
            let agent = agents[(i % agents.len() as u64) as usize];
            let answered = opened + Span::hours(hours) + Span::minutes((i % 50) as i64);
            audit.push(t.claim(agent, answered - Span::minutes(5))?);
            audit.push(t.answer(answered, agent)?);
            messages.push(message(
                MessageKind::Agent,
                agent,
                answered,
                "Une équipe passera cette semaine. Merci de votre patience.",
            ));
            if i % 5 != 0 {
                audit.push(t.resolve(answered + Span::hours(1), agent)?);
            }
        }
        let mut w = ThreadWrite::new(None, t);
        w.messages = messages;
        w.audit = audit;
        store.write(w)?;
    }
    store.flush()?;
    Ok(())
}

fn message(
    kind: MessageKind,
    author: &str,
    at: chrono::DateTime<Utc>,
    text: &str,
) -> StoredMessage {
    StoredMessage {
        kind,
        author: author.into(),
        at,
        text: text.into(),
        masked: None,
        platform_id: None,
        ignored: false,
    }
}

/// Signs in as the bootstrap coordinator; returns the session cookie.
async fn sign_in(client: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let form = client.get(format!("{base}/desk/sign-in")).send().await?;
    let cookie = form
        .headers()
        .get(SET_COOKIE)
        .context("the sign-in form's cookie")?
        .to_str()?
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    let body = form.text().await?;
    let csrf = body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("the sign-in form's token")?
        .to_owned();
    let signed = client
        .post(format!("{base}/desk/sign-in"))
        .header(COOKIE, cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("token", TOKEN),
            ("language", "fr"),
        ])
        .send()
        .await?;
    signed
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("guichet_desk="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .context("a session cookie")
}

/// Times `rounds` GETs of `path`; returns (median, p90, max) and the last body.
async fn time(
    client: &reqwest::Client,
    url: &str,
    cookie: &str,
    rounds: usize,
) -> anyhow::Result<([Duration; 3], String)> {
    let mut times = Vec::with_capacity(rounds);
    let mut body = String::new();
    for _ in 0..rounds.max(1) {
        let started = Instant::now();
        let r = client.get(url).header(COOKIE, cookie).send().await?;
        anyhow::ensure!(r.status() == 200, "{url} answered {}", r.status());
        body = r.text().await?;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    let at = |p: usize| times[((p * times.len()).div_ceil(100)).max(1) - 1];
    Ok(([at(50), at(90), times[times.len() - 1]], body))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("store");
    let settings = settings(&path)?;
    let started = Instant::now();
    {
        let store = Store::open(&path)?;
        fill(&store, &settings, args.threads, args.days)?;
    }
    println!(
        "guichet desk: {} threads over {} days written in {:.1} s; {} cores",
        args.threads,
        args.days,
        started.elapsed().as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let pipeline = guichet::server::build(settings)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let p = Arc::clone(&pipeline);
    tokio::spawn(async move {
        let _ = guichet::server::run(listener, p, std::future::pending()).await;
    });
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let cookie = sign_in(&client, &base).await?;

    let (queue, body) = time(&client, &format!("{base}/desk/queue"), &cookie, args.rounds).await?;
    let next = body
        .split("rel=\"next\" href=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("the queue has a next page")?
        .replace("&#x2f;", "/")
        .replace("&amp;", "&");
    let thread = body
        .split("href=\"/desk/threads/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .context("the queue lists a thread")?
        .to_owned();
    let today = Utc::now().date_naive();
    let year_ago = today - Span::days(args.days);
    let pages = [
        ("queue, first page (overdue first)", queue),
        (
            "queue, next page",
            time(&client, &format!("{base}{next}"), &cookie, args.rounds)
                .await?
                .0,
        ),
        (
            "a thread (messages, audit, forms)",
            time(
                &client,
                &format!("{base}/desk/threads/{thread}"),
                &cookie,
                args.rounds,
            )
            .await?
            .0,
        ),
        (
            "report, last 30 days (default)",
            time(
                &client,
                &format!("{base}/desk/report"),
                &cookie,
                args.rounds,
            )
            .await?
            .0,
        ),
        (
            "report, the whole year",
            time(
                &client,
                &format!("{base}/desk/report?from={year_ago}&to={today}"),
                &cookie,
                args.rounds,
            )
            .await?
            .0,
        ),
        (
            "export.csv, the whole year",
            time(
                &client,
                &format!("{base}/desk/export.csv?from={year_ago}&to={today}"),
                &cookie,
                args.rounds.min(5),
            )
            .await?
            .0,
        ),
    ];
    println!(
        "{:<36} {:>10} {:>10} {:>10}",
        "page", "median", "p90", "max"
    );
    for (name, [median, p90, max]) in pages {
        println!(
            "{name:<36} {:>10} {:>10} {:>10}",
            ms(median),
            ms(p90),
            ms(max)
        );
    }
    Ok(())
}
