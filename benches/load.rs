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

#[path = "support/driver.rs"]
mod driver;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context as _};
use axum::routing::post;
use axum::{Json, Router};
use clap::Parser;
use driver::drive;
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
