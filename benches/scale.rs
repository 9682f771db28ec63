//! The scale benchmark: fills a store to N threads (a tenth of them overdue), then measures
//! in one run what staff and citizens feel on a store that large.
//!
//! ```text
//! cargo bench --bench scale                          # 100,000 threads
//! cargo bench --bench scale -- --threads 1000000
//! cargo bench --bench scale -- --threads 1000000 --store /tmp/scale-1m   # keep and reuse
//! ```
//!
//! The fill runs in a child process (this binary with `--fill-only`) through the pipeline's
//! own API, so that its memory is measured apart and the store is closed when it ends. Then:
//! `guichet overdue --json` (the release binary, beside this one's target directory) with no
//! server running; then guichet serves the filled store in this process, beside a second
//! guichet on an empty store, and the figures are taken over HTTP: the first page of each
//! list, `/metrics`, `/healthz` while two clients page through lists, POST throughput in
//! alternating rounds against the empty store, and how long after its due time an overdue
//! transition is recorded while 64 senders write; last, `guichet overdue --json` again once
//! that server has stopped as `guichet serve` does. Resident memory is read from /proc.

#[path = "support/driver.rs"]
mod driver;
#[path = "support/fill.rs"]
mod fill;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use chrono::{DateTime, Utc};
use clap::Parser;
use guichet::config::{Secret, Settings};
use guichet::domain::thread::{Alerted, ThreadId};
use guichet::pipeline::Pipeline;
use serde_json::{json, Value};

const TOKEN: &str = "scale-benchmark-token";

#[derive(Debug, Parser)]
#[command(about = "Fill a store to N threads and measure lists, metrics, ingest and alerts")]
struct Args {
    /// Threads in the store (a tenth of them overdue).
    #[arg(long, default_value_t = 100_000)]
    threads: u64,
    /// Concurrent senders (fill, POST rounds, alert delay).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Keep the store in this directory (a store already filled there is reused, and grown
    /// to --threads if smaller); default: a temporary directory.
    #[arg(long)]
    store: Option<PathBuf>,
    /// Alternating POST rounds (filled store, then empty store), each this many seconds.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    #[arg(long, default_value_t = 5)]
    round_seconds: u64,
    /// How long the two clients page through lists while /healthz is probed.
    #[arg(long, default_value_t = 10)]
    page_seconds: u64,
    /// The guichet binary for the command-line figures.
    #[arg(long)]
    binary: Option<PathBuf>,
    /// Fill the store and exit (the child process).
    #[arg(long, hide = true)]
    fill_only: bool,
    /// Accepted and ignored (cargo bench passes it).
    #[arg(long, hide = true)]
    bench: bool,
}

fn settings(store: &Path) -> anyhow::Result<Settings> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut settings = Settings::load(&root.join("config/default.toml"))?;
    settings.store.path = store.to_path_buf();
    settings.responses.dir = Some(root.join("responses"));
    // The load comes from one address: measure the store, not the per-address limit.
    settings.flood.per_address_burst = u32::MAX;
    settings.staff.token = Secret::new(TOKEN);
    Ok(settings)
}

/// A line of /proc/self/status, in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Bytes the files of `dir` occupy on disk (allocated blocks).
fn disk_usage(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(entry.path()),
                Ok(m) => total += m.blocks() * 512,
                Err(_) => {}
            }
        }
    }
    total
}

/// The child: fills the store, prints what it took and what the store holds.
async fn fill_only(args: &Args, dir: &Path) -> anyhow::Result<()> {
    let pipeline = guichet::server::build(settings(dir)?)?;
    let plan = fill::Plan {
        threads: args.threads,
        overdue_every: 10,
        concurrency: args.concurrency,
    };
    let filled = fill::fill(&pipeline, plan, |n, at| {
        eprintln!("  filled {n} threads in {:.0} s", at.as_secs_f64());
    })
    .await?;
    // The pipeline's own peak, before the table of prefixes reads the whole store.
    let filled_peak = status_kib("VmHWM:");
    let footprint = pipeline.store().footprint()?;
    let threads: u64 = footprint
        .prefixes
        .iter()
        .find(|(p, _)| *p == 't')
        .map_or(0, |(_, f)| f.entries);
    let prefixes: Vec<Value> = footprint
        .prefixes
        .iter()
        .map(|(p, f)| json!([p.to_string(), f.entries, f.key_bytes, f.value_bytes]))
        .collect();
    println!(
        "{}",
        json!({
            "written": filled.written,
            "seconds": filled.elapsed.as_secs_f64(),
            "first_rate": filled.first_rate,
            "last_rate": filled.last_rate,
            "alert_seconds": filled.alerts.as_secs_f64(),
            "threads": threads,
            "on_disk": footprint.on_disk,
            "prefixes": prefixes,
            "filled_peak_kib": filled_peak,
            "peak_kib": status_kib("VmHWM:"),
        })
    );
    Ok(())
}

/// Runs the fill child and returns its report.
fn run_fill(args: &Args, dir: &Path) -> anyhow::Result<Value> {
    let out = Command::new(std::env::current_exe()?)
        .arg("--fill-only")
        .arg("--store")
        .arg(dir)
        .args(["--threads", &args.threads.to_string()])
        .args(["--concurrency", &args.concurrency.to_string()])
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        bail!("the fill failed: {}", String::from_utf8_lossy(&out.stdout));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default()).context("the fill's report")
}

/// Runs the guichet binary on the stopped store: wall time, peak RSS (KiB) and bytes printed.
fn run_cli(binary: &Path, dir: &Path, args: &[&str]) -> anyhow::Result<(Duration, u64, usize)> {
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "peak-kib %M"])
        .arg(binary)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .context("/usr/bin/time and the guichet binary are needed for the command-line figures")?;
    let elapsed = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        bail!("guichet {} failed: {err}", args.join(" "));
    }
    let peak = err
        .lines()
        .filter_map(|l| l.strip_prefix("peak-kib "))
        .next_back()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    Ok((elapsed, peak, out.stdout.len()))
}

struct Server {
    addr: SocketAddr,
    pipeline: Arc<Pipeline>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn serve(dir: &Path) -> anyhow::Result<Server> {
    let pipeline = guichet::server::build(settings(dir)?)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(guichet::server::run(
        listener,
        Arc::clone(&pipeline),
        async move {
            let _ = stopped.await;
        },
    ));
    Ok(Server {
        addr,
        pipeline,
        stop,
        task,
    })
}

/// A staff GET: time to the whole body, and the body's size.
async fn get(client: &reqwest::Client, url: &str) -> anyhow::Result<(Duration, Vec<u8>)> {
    let started = Instant::now();
    let response = client.get(url).bearer_auth(TOKEN).send().await?;
    if !response.status().is_success() {
        bail!("GET {url}: {}", response.status());
    }
    let body = response.bytes().await?.to_vec();
    Ok((started.elapsed(), body))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The median and the largest of `runs` timings of `url`, and the body's size.
async fn timed(
    client: &reqwest::Client,
    url: &str,
    runs: usize,
) -> anyhow::Result<(f64, f64, usize, usize)> {
    let mut times = Vec::with_capacity(runs);
    let mut size = 0;
    let mut items = 0;
    for _ in 0..runs {
        let (t, body) = get(client, url).await?;
        size = body.len();
        if let Ok(v) = serde_json::from_slice::<Value>(&body) {
            items = v["threads"].as_array().map_or(0, Vec::len);
        }
        times.push(ms(t));
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], times[times.len() - 1], size, items))
}

/// Two clients page through lists for `seconds` while a third probes /healthz every 10 ms:
/// returns the probes' p99 and max in ms, and the pages read.
async fn health_under_paging(
    client: &reqwest::Client,
    base: &str,
    seconds: u64,
) -> anyhow::Result<(f64, f64, u64)> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut pagers = Vec::new();
    for state in ["open", "all"] {
        let (client, base) = (client.clone(), base.to_owned());
        pagers.push(tokio::spawn(async move {
            let mut pages = 0u64;
            let mut cursor: Option<String> = None;
            while Instant::now() < deadline {
                let mut query = vec![("state", state.to_owned()), ("limit", "1000".into())];
                if let Some(c) = &cursor {
                    query.push(("cursor", c.clone()));
                }
                let url = reqwest::Url::parse_with_params(&format!("{base}/api/threads"), &query)?;
                let (_, body) = get(&client, url.as_str()).await?;
                pages += 1;
                let v: Value = serde_json::from_slice(&body)?;
                // At the end of the list, start again from its first page.
                cursor = v["next_cursor"].as_str().map(str::to_owned);
            }
            anyhow::Ok(pages)
        }));
    }
    let mut probes = Vec::new();
    while Instant::now() < deadline {
        let started = Instant::now();
        let r = client.get(format!("{base}/healthz")).send().await?;
        let _ = r.bytes().await?;
        probes.push(ms(started.elapsed()));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut pages = 0;
    for p in pagers {
        pages += p.await??;
    }
    probes.sort_by(f64::total_cmp);
    let p99 = probes[((probes.len() as f64 * 0.99).ceil() as usize).clamp(1, probes.len()) - 1];
    Ok((p99, probes[probes.len() - 1], pages))
}

/// How long after their due time overdue transitions are recorded while `concurrency`
/// senders write: `probes` urgent threads come due a few seconds apart during the load.
/// Returns the delays in ms, sorted.
async fn alert_delays(
    client: &reqwest::Client,
    server: &Server,
    concurrency: usize,
    probes: usize,
) -> anyhow::Result<Vec<f64>> {
    let base = format!("http://{}", server.addr);
    let load_for = Duration::from_secs(8 + probes as u64 / 2);
    let load = {
        let (client, url) = (client.clone(), format!("{base}/api/messages"));
        tokio::spawn(async move {
            driver::drive(&client, &url, concurrency, u64::MAX, load_for, 9_000).await
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut waiting: Vec<(ThreadId, DateTime<Utc>)> = Vec::new();
    for i in 0..probes {
        // An urgent message (a one-hour target) sent an hour ago, less a few seconds.
        let due = Utc::now() + chrono::Duration::milliseconds(3_000 + 500 * i as i64);
        let sent = due - chrono::Duration::hours(1);
        let r: Value = client
            .post(format!("{base}/api/messages"))
            .json(&json!({
                "sender": format!("scale-probe-{i}-{}", Utc::now().timestamp_millis()),
                "text": "Il y a une fuite d'eau majeure dans ma rue, l'eau monte vite",
                "sent_at": sent.to_rfc3339(),
            }))
            .send()
            .await?
            .json()
            .await?;
        let id = ThreadId::parse(r["thread_id"].as_str().unwrap_or_default())
            .map_err(|e| anyhow::anyhow!("{e}: {r}"))?;
        let due_at: DateTime<Utc> = serde_json::from_value(r["due_at"].clone())?;
        if due_at > Utc::now() + chrono::Duration::seconds(60) {
            bail!("the probe message was not classified urgent: {r}");
        }
        waiting.push((id, due_at));
    }
    let mut delays = Vec::new();
    let give_up = Instant::now() + Duration::from_secs(120);
    while !waiting.is_empty() && Instant::now() < give_up {
        let now = Utc::now();
        let store = server.pipeline.store();
        waiting.retain(|(id, due)| match store.thread(*id) {
            Ok(Some(t)) if t.alerted == Alerted::Overdue => {
                delays.push((now - *due).num_milliseconds() as f64);
                false
            }
            _ => true,
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let run = load.await?;
    println!("  load during the alert probes: {}", run.line("guichet"));
    if !waiting.is_empty() {
        bail!("{} overdue transitions never recorded", waiting.len());
    }
    delays.sort_by(f64::total_cmp);
    Ok(delays)
}

fn row(figure: &str, value: String) {
    println!("| {figure} | {value} |");
}

async fn measure(args: &Args, dir: &Path) -> anyhow::Result<()> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "guichet scale: {} threads, {} cores, store {}",
        args.threads,
        cores,
        dir.display()
    );
    let filled = run_fill(args, dir)?;
    println!(
        "fill: {} threads written in {:.0} s ({:.0}/s in the first tenth, {:.0}/s in the last), overdue recorded in {:.1} s, peak RSS {:.0} MiB through the fill and the watcher's pass, {:.0} MiB once the table of prefixes read the whole store",
        filled["written"],
        filled["seconds"].as_f64().unwrap_or(0.0),
        filled["first_rate"].as_f64().unwrap_or(0.0),
        filled["last_rate"].as_f64().unwrap_or(0.0),
        filled["alert_seconds"].as_f64().unwrap_or(0.0),
        mib(filled["filled_peak_kib"].as_u64().unwrap_or(0)),
        mib(filled["peak_kib"].as_u64().unwrap_or(0)),
    );
    let threads = filled["threads"].as_u64().unwrap_or(1).max(1);
    let on_disk = filled["on_disk"].as_u64().unwrap_or(0);
    println!(
        "store: {threads} threads, by key prefix (entries, key bytes, value bytes per thread):"
    );
    for p in filled["prefixes"].as_array().into_iter().flatten() {
        println!(
            "  {}  {:>9}  {:>6.1}  {:>7.1}",
            p[0].as_str().unwrap_or("?"),
            p[1],
            p[2].as_f64().unwrap_or(0.0) / threads as f64,
            p[3].as_f64().unwrap_or(0.0) / threads as f64
        );
    }
    let allocated = disk_usage(dir);
    println!(
        "  on disk: sled {:.0} bytes per thread, files {:.0} bytes per thread",
        on_disk as f64 / threads as f64,
        allocated as f64 / threads as f64
    );

    let binary = args.binary.clone().unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/release/guichet")
    });
    let (cli_first, cli_first_peak, _) =
        run_cli(&binary, dir, &["overdue", "--json", "--limit", "100"])?;
    let (cli_all, cli_all_peak, cli_all_bytes) = run_cli(&binary, dir, &["overdue", "--json"])?;

    let opening = Instant::now();
    let server = serve(dir).await?;
    let opened = opening.elapsed();
    let empty_dir = tempfile::tempdir()?;
    let empty = serve(empty_dir.path()).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_kib = status_kib("VmRSS:");
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;

    let overdue = timed(&client, &format!("{base}/api/threads?state=overdue"), 21).await?;
    let open = timed(&client, &format!("{base}/api/threads"), 21).await?;
    let metrics = timed(&client, &format!("{base}/metrics"), 21).await?;
    let (health_p99, health_max, pages) =
        health_under_paging(&client, &base, args.page_seconds).await?;

    // Alternating rounds: the filled store, then the empty one, each after a warm-up.
    let filled_url = format!("{base}/api/messages");
    let empty_url = format!("http://{}/api/messages", empty.addr);
    let warm = Duration::from_secs(2);
    driver::drive(&client, &filled_url, args.concurrency, u64::MAX, warm, 1).await;
    driver::drive(&client, &empty_url, args.concurrency, u64::MAX, warm, 1).await;
    let (mut big, mut small) = ((0u64, 0f64), (0u64, 0f64));
    let round = Duration::from_secs(args.round_seconds);
    for r in 0..args.rounds {
        let run_id = 100 + u64::from(r);
        let b = driver::drive(
            &client,
            &filled_url,
            args.concurrency,
            u64::MAX,
            round,
            run_id,
        )
        .await;
        let s = driver::drive(
            &client,
            &empty_url,
            args.concurrency,
            u64::MAX,
            round,
            run_id,
        )
        .await;
        println!("  round {}: {}", r + 1, b.line("filled"));
        println!("  round {}: {}", r + 1, s.line("empty"));
        big = (big.0 + b.ok, big.1 + b.elapsed.as_secs_f64());
        small = (small.0 + s.ok, small.1 + s.elapsed.as_secs_f64());
    }
    let (big_rate, small_rate) = (big.0 as f64 / big.1, small.0 as f64 / small.1);

    let delays = alert_delays(&client, &server, 64, 16).await?;
    let peak_kib = status_kib("VmHWM:");

    // The filled store's server stops as `guichet serve` does: once its last handle is let
    // go, it has sled write its snapshot. Then the command line runs on the stopped store.
    let Server {
        pipeline,
        stop,
        task,
        ..
    } = server;
    drop(pipeline);
    let _ = stop.send(());
    let _ = empty.stop.send(());
    task.await??;
    empty.task.await??;
    let (cli_stopped, cli_stopped_peak, _) =
        run_cli(&binary, dir, &["overdue", "--json", "--limit", "100"])?;

    println!("\n| figure | {} threads |", args.threads);
    println!("|---|--:|");
    let page = |(p50, max, size, items): (f64, f64, usize, usize)| {
        format!(
            "{p50:.1} ms median, {max:.1} ms max, {:.1} KB, {items} items",
            size as f64 / 1000.0
        )
    };
    row(
        "`GET /api/threads?state=overdue` (first page)",
        page(overdue),
    );
    row("`GET /api/threads` (open, first page)", page(open));
    row(
        "`GET /metrics`",
        format!("{:.1} ms median, {:.1} ms max", metrics.0, metrics.1),
    );
    row(
        "`/healthz` while two clients page through lists",
        format!("p99 {health_p99:.1} ms, max {health_max:.1} ms ({pages} pages of 1000 read)"),
    );
    row(
        "`guichet overdue --json --limit 100`, after the server's clean stop",
        format!(
            "{:.2} s, {:.0} MiB peak",
            cli_stopped.as_secs_f64(),
            mib(cli_stopped_peak)
        ),
    );
    row(
        "`guichet overdue --json --limit 100`, right after the fill process",
        format!(
            "{:.2} s, {:.0} MiB peak",
            cli_first.as_secs_f64(),
            mib(cli_first_peak)
        ),
    );
    row(
        "`guichet overdue --json` (every page), server stopped",
        format!(
            "{:.2} s, {:.0} MiB peak, {:.1} MB printed",
            cli_all.as_secs_f64(),
            mib(cli_all_peak),
            cli_all_bytes as f64 / 1e6
        ),
    );
    row(
        "server RSS",
        format!(
            "{:.0} MiB idle after opening ({:.1} s), {:.0} MiB peak through listings, load and alerts; fill process {:.0} MiB peak through the fill and the watcher's pass ({:.0} MiB with the table of prefixes)",
            mib(idle_kib),
            opened.as_secs_f64(),
            mib(peak_kib),
            mib(filled["filled_peak_kib"].as_u64().unwrap_or(0)),
            mib(filled["peak_kib"].as_u64().unwrap_or(0))
        ),
    );
    row(
        "POST throughput vs an empty store (alternating rounds)",
        format!(
            "{:.2} ({big_rate:.0}/s vs {small_rate:.0}/s, {} rounds of {} s)",
            big_rate / small_rate.max(1e-9),
            args.rounds,
            args.round_seconds
        ),
    );
    row(
        "store on disk",
        format!(
            "{:.0} bytes per thread ({:.2} GB)",
            allocated as f64 / threads as f64,
            allocated as f64 / 1e9
        ),
    );
    row(
        "overdue recorded after its due time, 64 senders",
        format!(
            "median {:.0} ms, max {:.0} ms ({} threads)",
            delays[delays.len() / 2],
            delays[delays.len() - 1],
            delays.len()
        ),
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let temporary = tempfile::tempdir()?;
    let dir = args
        .store
        .clone()
        .unwrap_or_else(|| temporary.path().join("store"));
    if args.fill_only {
        return fill_only(&args, &dir).await;
    }
    measure(&args, &dir).await
}
