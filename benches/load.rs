//! The load generator: N concurrent senders POST citizens' messages to guichet and the
//! same load goes to a bare axum handler that answers 200 at once, in the same process and
//! the same run, so that the ratio shows how close guichet comes to the HTTP limit.
//!
//! ```text
//! cargo bench --bench load -- --concurrency 16,64 --count 20000
//! cargo bench --bench load -- --url http://127.0.0.1:8080 --duration 10
//! ```
//!
//! By default guichet runs in-process on 127.0.0.1 port 0 with a temporary store and the
//! shipped configuration (no forwarder): every 200 is a message durably stored (a new
//! thread, classified, acknowledged, flushed). `--url` targets a running guichet instead;
//! only loopback addresses are accepted. Each run is bounded by `--count` and `--duration`,
//! whichever comes first.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use axum::routing::post;
use axum::{Json, Router};
use clap::Parser;
use serde_json::json;

#[derive(Debug, Parser)]
#[command(about = "Drive POST /api/messages with concurrent senders; compare with bare axum")]
struct Args {
    /// Concurrent senders; several comma-separated values run one after the other.
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    concurrency: Vec<usize>,
    /// Messages per run (at most).
    #[arg(long, default_value_t = 20_000)]
    count: u64,
    /// Seconds per run (at most).
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// A running guichet to target instead of an in-process one (loopback only).
    #[arg(long)]
    url: Option<String>,
    /// Messages sent before measuring, to warm connections and caches.
    #[arg(long, default_value_t = 500)]
    warmup: u64,
    /// Accepted and ignored (cargo bench passes it).
    #[arg(long, hide = true)]
    bench: bool,
}

/// What one run measured.
struct Run {
    ok: u64,
    errors: u64,
    elapsed: Duration,
    /// Latencies of the successful requests, in microseconds, sorted.
    latencies: Vec<u32>,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1] as f64 / 1000.0
    }

    fn line(&self, what: &str) -> String {
        format!(
            "{what:<8} {:>9.0}/s  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  ({} ok, {} errors, {:.1} s)",
            self.per_second(),
            self.percentile_ms(50.0),
            self.percentile_ms(95.0),
            self.percentile_ms(99.0),
            self.ok,
            self.errors,
            self.elapsed.as_secs_f64()
        )
    }
}

const TEXTS: [&str; 6] = [
    "I want to complain: the garbage truck skipped our street again and nobody called back.",
    "Il y a une fuite d'eau majeure dans ma rue, l'eau monte vite",
    "C'est inacceptable, personne n'a déneigé notre rue depuis trois jours",
    "Est-ce que la ville organise une fête de quartier cet été?",
    "Quelles sont les heures d'ouverture de l'hôtel de ville?",
    "There is a huge pothole in front of 55 Maple Ave, a car hit it this morning",
];

/// Sends up to `count` messages from `concurrency` senders for at most `duration`.
async fn drive(
    client: &reqwest::Client,
    url: &str,
    concurrency: usize,
    count: u64,
    duration: Duration,
    run_id: u64,
) -> Run {
    let issued = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let client = client.clone();
        let url = url.to_owned();
        let issued = Arc::clone(&issued);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            loop {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= count || Instant::now() >= deadline {
                    break;
                }
                // A new sender for every message: each one opens, classifies, acknowledges
                // and durably stores a thread.
                let body = json!({
                    "sender": format!("load-{run_id}-{worker}-{n}"),
                    "text": TEXTS[(n % TEXTS.len() as u64) as usize],
                    "message_id": format!("load-{run_id}-{n}"),
                });
                let sent = Instant::now();
                match client.post(&url).json(&body).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            latencies.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Run {
        ok: latencies.len() as u64,
        errors,
        elapsed,
        latencies,
    }
}

/// The HTTP limit of this machine: a handler that reads the body and answers 200 at once.
async fn bare_axum() -> anyhow::Result<SocketAddr> {
    let app = Router::new().route(
        "/api/messages",
        post(|_body: axum::body::Bytes| async { Json(json!({ "ok": true })) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

/// guichet itself, on 127.0.0.1 port 0 with a temporary store.
async fn in_process_guichet(
    store: &std::path::Path,
) -> anyhow::Result<(SocketAddr, Arc<guichet::pipeline::Pipeline>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut settings = guichet::config::Settings::load(&root.join("config/default.toml"))?;
    settings.store.path = store.to_path_buf();
    settings.responses.dir = Some(root.join("responses"));
    // The load comes from one address: measure the pipeline, not the per-address limit.
    settings.flood.per_address_burst = u32::MAX;
    let pipeline = guichet::server::build(settings)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let p = Arc::clone(&pipeline);
    tokio::spawn(async move {
        let _ = guichet::server::run(listener, p, std::future::pending()).await;
    });
    Ok((addr, pipeline))
}

/// CPU time this process has used so far (all threads, user and system), from
/// `/proc/self/stat`; `None` where that file does not exist. CPU per message varies less than
/// messages per second on a shared machine: another build slows the run down but does not
/// make guichet's work bigger.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after it are plain numbers.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the file, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports them in USER_HZ, 100 per second on every architecture it runs on.
    Some(Duration::from_millis(ticks * 10))
}

fn loopback_only(url: &str) -> anyhow::Result<()> {
    let parsed: reqwest::Url = url.parse().context("--url is not a URL")?;
    let host = parsed.host_str().unwrap_or_default();
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1") {
        bail!("--url must be a loopback address (127.0.0.1, localhost or [::1]), not {host}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let (target, pipeline) = match &args.url {
        Some(url) => {
            loopback_only(url)?;
            (format!("{}/api/messages", url.trim_end_matches('/')), None)
        }
        None => {
            let (addr, pipeline) = in_process_guichet(&dir.path().join("store")).await?;
            (format!("http://{addr}/api/messages"), Some(pipeline))
        }
    };
    let bare = format!("http://{}/api/messages", bare_axum().await?);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let duration = Duration::from_secs(args.duration);
    println!(
        "guichet load: {} cores, up to {} messages or {} s per run, target {target}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        args.count,
        args.duration
    );
    let mut run_id = 0;
    for &concurrency in &args.concurrency {
        run_id += 1;
        drive(&client, &target, concurrency, args.warmup, duration, run_id).await;
        drive(&client, &bare, concurrency, args.warmup, duration, run_id).await;
        let before = pipeline.as_ref().map(|p| p.store().flush_stats());
        run_id += 1;
        let cpu_before = process_cpu();
        let g = drive(&client, &target, concurrency, args.count, duration, run_id).await;
        let cpu_after = process_cpu();
        let after = pipeline.as_ref().map(|p| p.store().flush_stats());
        let b = drive(&client, &bare, concurrency, args.count, duration, run_id).await;
        let cpu_bare = process_cpu();
        println!("\n{concurrency} concurrent senders");
        println!("  {}", g.line("guichet"));
        println!("  {}", b.line("bare"));
        println!(
            "  ratio    {:.2} (guichet / bare axum, durable messages per second)",
            g.per_second() / b.per_second().max(1e-9)
        );
        if let (Some(before), Some(after), Some(bare)) = (cpu_before, cpu_after, cpu_bare) {
            // Client and server together, in both figures: the bare one is the client's share
            // plus the HTTP floor.
            println!(
                "  cpu      {:.0} µs per message (bare axum: {:.0} µs per request, client included)",
                (after - before).as_secs_f64() * 1e6 / g.ok.max(1) as f64,
                (bare - after).as_secs_f64() * 1e6 / b.ok.max(1) as f64
            );
        }
        if let (Some(before), Some(after)) = (before, after) {
            let flushes = after.flushes - before.flushes;
            let writes = after.writes - before.writes;
            let time = after.flush_time - before.flush_time;
            if flushes > 0 {
                println!(
                    "  flushes  {flushes} ({:.1} writes each, {:.2} ms each, {:.0} % of the run flushing)",
                    writes as f64 / flushes as f64,
                    time.as_secs_f64() * 1000.0 / flushes as f64,
                    100.0 * time.as_secs_f64() / g.elapsed.as_secs_f64()
                );
            }
        }
    }
    Ok(())
}
