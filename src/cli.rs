//! The `guichet` command line: `serve`, `classify`, `eval`, `overdue`, `threads`, `show`,
//! `resolve`, `unblock`, `outbox`, `check`.
//!
//! The staff commands read the store directly; while `guichet serve` holds the store (sled
//! allows one process), they ask the running server's staff API instead, with the same
//! configuration and token. Errors end the command with one sentence and a non-zero exit.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use serde_json::json;

use crate::classify::{self, Classifier};
use crate::config::{Settings, DEFAULT_CONFIG};
use crate::domain::message::{Channel, Sender};
use crate::domain::outbox::JobId;
use crate::domain::thread::ThreadId;
use crate::pipeline::Pipeline;
use crate::responses::Responses;
use crate::server;
use crate::staff::{Detail, Filter, OutboxEntry, OutboxFilter, Summary};
use crate::store::StoreError;

#[derive(Debug, Parser)]
#[command(
    name = "guichet",
    version,
    about = "Triage of the private messages citizens send to their city's page"
)]
pub struct Cli {
    /// The configuration file.
    #[arg(long, global = true, default_value = DEFAULT_CONFIG, value_name = "PATH")]
    config: PathBuf,
    /// The store's directory (overrides store.path).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the inboxes, the staff API and the SLA watcher.
    Serve {
        /// Address to listen on (overrides http.listen).
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Classify messages read from stdin, one a line (text, or JSON with a "text" field).
    Classify,
    /// Score the classifier on a labelled file (TSV label<TAB>lang<TAB>text, or JSONL).
    Eval {
        file: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The overdue threads, latest first.
    Overdue {
        #[arg(long)]
        json: bool,
        /// Also list the threads at risk.
        #[arg(long)]
        at_risk: bool,
    },
    /// List threads.
    Threads {
        /// open, at_risk, overdue, answered, resolved or all.
        #[arg(long, default_value = "open")]
        state: String,
        #[arg(long)]
        json: bool,
    },
    /// Show one thread with its messages and audit log.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Resolve a thread.
    Resolve { id: String },
    /// Lift a sender's block.
    Unblock {
        sender: String,
        /// The sender's channel.
        #[arg(long, default_value = "web")]
        channel: String,
    },
    /// The outbox: pending and dead forwarding jobs with their last error.
    Outbox {
        #[command(subcommand)]
        action: Option<OutboxAction>,
        /// pending, tracking, dead or all (default: pending and dead).
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Validate the configuration and every response template.
    Check,
    /// Exit 0 when a running guichet answers its health check (for container health checks).
    Health {
        #[arg(long, default_value = "http://127.0.0.1:8080/healthz")]
        url: String,
    },
}

#[derive(Debug, Subcommand)]
enum OutboxAction {
    /// Attempt a job again now; a dead job comes back to life.
    Retry {
        /// The job's id, e.g. G-000042-3-webhook.
        id: String,
    },
}

/// Runs the command line and turns an error into one sentence and exit code 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Command::Serve { .. }) {
        "info"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: the runtime could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = || server::settings(&cli.config, cli.data_dir.as_deref());
    match cli.command {
        Command::Serve { listen } => serve(settings()?, listen).await,
        Command::Classify => classify_stdin(),
        Command::Eval { file, json } => eval(&file, json),
        Command::Check => check(&cli.config, cli.data_dir.as_deref()),
        Command::Health { url } => {
            let client = reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(3))
                .build()?;
            let status = client
                .get(&url)
                .send()
                .await
                .with_context(|| format!("{url} did not answer"))?
                .status();
            if !status.is_success() {
                bail!("{url} answered {status}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Overdue { json, at_risk } => {
            let staff = Staff::connect(settings()?)?;
            let mut threads = staff.list(Filter::Overdue).await?;
            if at_risk {
                threads.extend(staff.list(Filter::AtRisk).await?);
            }
            print_list(&staff.settings, &threads, json)
        }
        Command::Threads { state, json } => {
            let filter: Filter = state.parse().map_err(|e: String| anyhow!(e))?;
            let staff = Staff::connect(settings()?)?;
            let threads = staff.list(filter).await?;
            print_list(&staff.settings, &threads, json)
        }
        Command::Show { id, json } => {
            let id = ThreadId::parse(&id).map_err(|e| anyhow!(e))?;
            let staff = Staff::connect(settings()?)?;
            let detail = staff.show(id).await?;
            print_detail(&staff.settings, &detail, json)
        }
        Command::Resolve { id } => {
            let id = ThreadId::parse(&id).map_err(|e| anyhow!(e))?;
            let staff = Staff::connect(settings()?)?;
            staff.resolve(id).await?;
            println!("{id} resolved");
            Ok(ExitCode::SUCCESS)
        }
        Command::Outbox {
            action: Some(OutboxAction::Retry { id }),
            ..
        } => {
            let id = JobId::parse(&id).map_err(|e| anyhow!(e))?;
            let staff = Staff::connect(settings()?)?;
            let job = staff.retry(&id).await?;
            match job.next_attempt_at {
                Some(at) => println!(
                    "{id} is {}: next attempt {}",
                    job.state,
                    local(&staff.settings, at)
                ),
                None => println!("{id} is {}", job.state),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Outbox {
            action: None,
            state,
            json,
        } => {
            let filter: OutboxFilter = match state {
                Some(s) => s.parse().map_err(|e: String| anyhow!(e))?,
                None => OutboxFilter::Attention,
            };
            let staff = Staff::connect(settings()?)?;
            let jobs = staff.outbox(filter).await?;
            print_outbox(&staff.settings, &jobs, json)
        }
        Command::Unblock { sender, channel } => {
            let channel = Channel::parse(&channel)?;
            let sender = Sender::parse(&sender)?;
            let staff = Staff::connect(settings()?)?;
            if staff.unblock(&channel, &sender).await? {
                println!("{sender} on {channel} is no longer blocked");
            } else {
                println!("{sender} on {channel} was not blocked");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(
    mut settings: Settings,
    listen: Option<std::net::SocketAddr>,
) -> anyhow::Result<ExitCode> {
    if let Some(addr) = listen {
        settings.http.listen = addr;
    }
    let addr = settings.http.listen;
    let pipeline = server::build(settings)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    tracing::info!(address = %local, "guichet is serving");
    eprintln!("guichet listening on http://{local}");
    server::run(listener, pipeline, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

fn classify_stdin() -> anyhow::Result<ExitCode> {
    let classifier = Classifier::builtin();
    let stdin = std::io::stdin();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut failed = 0usize;
    for (n, line) in stdin.lock().lines().enumerate() {
        let line = line.context("stdin could not be read")?;
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        let text = if trimmed.starts_with('{') {
            match serde_json::from_str::<serde_json::Value>(trimmed) {
                Ok(v) => match v.get("text").and_then(|t| t.as_str()) {
                    Some(t) => t.to_owned(),
                    None => {
                        eprintln!("line {}: the JSON object has no \"text\" string", n + 1);
                        failed += 1;
                        continue;
                    }
                },
                // Text that merely starts with a brace is still text.
                Err(_) => line.clone(),
            }
        } else {
            line.clone()
        };
        let c = classifier.classify(&text);
        let value = json!({
            "category": c.category,
            "confidence": (f64::from(c.confidence) * 1000.0).round() / 1000.0,
            "language": c.language,
            "abusive": c.abusive,
            "reasons": c.reasons,
        });
        writeln!(out, "{value}")?;
    }
    out.flush()?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn eval(file: &Path, as_json: bool) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let examples = classify::parse_labelled(&text)
        .with_context(|| format!("{} is not a labelled file", file.display()))?;
    if examples.is_empty() {
        bail!("{} holds no labelled message", file.display());
    }
    let started = std::time::Instant::now();
    let classifier = Classifier::builtin();
    let startup = started.elapsed();
    let report = classify::eval::evaluate(classifier, &examples);
    // One pass over a few hundred messages lasts milliseconds: repeat for a stable rate.
    let timed = std::time::Instant::now();
    let mut classified = 0usize;
    while classified == 0 || timed.elapsed() < std::time::Duration::from_millis(300) {
        for e in &examples {
            std::hint::black_box(classifier.classify(&e.text));
        }
        classified += examples.len();
    }
    let per_second = classified as f64 / timed.elapsed().as_secs_f64();
    let startup_ms = startup.as_secs_f64() * 1000.0;
    if as_json {
        let mut value = serde_json::to_value(&report)?;
        value["timing"] = json!({
            "startup_ms": startup_ms,
            "messages_per_second": per_second.round(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        println!("{report}");
        println!(
            "model start-up {startup_ms:.0} ms; {per_second:.0} messages/s on one thread ({classified} classified)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn check(config: &Path, data_dir: Option<&Path>) -> anyhow::Result<ExitCode> {
    let settings = server::settings(config, data_dir)?;
    Responses::load(&settings.responses.dir)?;
    println!(
        "configuration OK: {} ({}, {}); templates OK: {}",
        config.display(),
        settings.city.name,
        settings.city.timezone,
        settings.responses.dir.display()
    );
    if settings.staff.token.is_empty() {
        println!("note: no staff token is set (GUICHET__STAFF__TOKEN): the staff API refuses every request");
    }
    Ok(ExitCode::SUCCESS)
}

/// Where the staff commands read from: the store itself, or the running server.
struct Staff {
    settings: Settings,
    source: Source,
}

enum Source {
    Local(Arc<Pipeline>),
    Remote {
        base: String,
        client: reqwest::Client,
    },
}

impl Staff {
    fn connect(settings: Settings) -> anyhow::Result<Staff> {
        match server::build(settings.clone()) {
            Ok(pipeline) => Ok(Staff {
                settings,
                source: Source::Local(pipeline),
            }),
            Err(e) if is_locked(&e) => {
                if settings.staff.token.is_empty() {
                    bail!(
                        "the store {} is in use by a running guichet serve; set GUICHET__STAFF__TOKEN to reach it through its staff API",
                        settings.store.path.display()
                    );
                }
                let mut addr = settings.http.listen;
                if addr.ip().is_unspecified() {
                    addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                let client = reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(10))
                    .build()?;
                Ok(Staff {
                    settings,
                    source: Source::Remote {
                        base: format!("http://{addr}"),
                        client,
                    },
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str) -> anyhow::Result<serde_json::Value> {
        let Source::Remote { base, client } = &self.source else {
            unreachable!("only called for a remote source")
        };
        let response = client
            .request(method, format!("{base}{path}"))
            .bearer_auth(self.settings.staff.token.expose())
            .send()
            .await
            .with_context(|| format!("the running guichet at {base} did not answer"))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            let message = body["error"].as_str().unwrap_or("no detail");
            bail!("the running guichet refused: {message} ({status})");
        }
        Ok(body)
    }

    async fn list(&self, filter: Filter) -> anyhow::Result<Vec<Summary>> {
        match &self.source {
            Source::Local(p) => Ok(p.threads(filter, Utc::now())?),
            Source::Remote { .. } => {
                let state = match filter {
                    Filter::Open => "open",
                    Filter::AtRisk => "at_risk",
                    Filter::Overdue => "overdue",
                    Filter::Answered => "answered",
                    Filter::Resolved => "resolved",
                    Filter::All => "all",
                };
                let body = self
                    .call(reqwest::Method::GET, &format!("/api/threads?state={state}"))
                    .await?;
                Ok(serde_json::from_value(body["threads"].clone())?)
            }
        }
    }

    async fn show(&self, id: ThreadId) -> anyhow::Result<Detail> {
        match &self.source {
            Source::Local(p) => p
                .thread_detail(id, Utc::now())?
                .ok_or_else(|| anyhow!("there is no thread {id}")),
            Source::Remote { .. } => {
                let body = self
                    .call(reqwest::Method::GET, &format!("/api/threads/{id}"))
                    .await?;
                Ok(serde_json::from_value(body)?)
            }
        }
    }

    async fn resolve(&self, id: ThreadId) -> anyhow::Result<()> {
        match &self.source {
            Source::Local(p) => {
                p.resolve(id, "coordinator", Utc::now()).await?;
            }
            Source::Remote { .. } => {
                self.call(reqwest::Method::POST, &format!("/api/threads/{id}/resolve"))
                    .await?;
            }
        }
        Ok(())
    }

    async fn unblock(&self, channel: &Channel, sender: &Sender) -> anyhow::Result<bool> {
        match &self.source {
            Source::Local(p) => Ok(p.unblock(channel, sender).await?),
            Source::Remote { .. } => {
                let path = format!(
                    "/api/senders/{}/{}/unblock",
                    channel,
                    percent_encode(sender.as_str())
                );
                let body = self.call(reqwest::Method::POST, &path).await?;
                Ok(body["unblocked"].as_bool().unwrap_or(false))
            }
        }
    }
}

impl Staff {
    async fn outbox(&self, filter: OutboxFilter) -> anyhow::Result<Vec<OutboxEntry>> {
        match &self.source {
            Source::Local(p) => Ok(p.outbox_entries(filter)?),
            Source::Remote { .. } => {
                let body = self
                    .call(
                        reqwest::Method::GET,
                        &format!("/api/outbox?state={}", filter.as_str()),
                    )
                    .await?;
                Ok(serde_json::from_value(body["jobs"].clone())?)
            }
        }
    }

    async fn retry(&self, id: &JobId) -> anyhow::Result<OutboxEntry> {
        match &self.source {
            Source::Local(p) => {
                let job = p.retry_job(id, "coordinator", Utc::now()).await?;
                Ok(OutboxEntry::of(&job))
            }
            Source::Remote { .. } => {
                let body = self
                    .call(
                        reqwest::Method::POST,
                        &format!("/api/outbox/{}/retry", percent_encode(id.as_str())),
                    )
                    .await?;
                Ok(serde_json::from_value(body["job"].clone())?)
            }
        }
    }
}

fn print_outbox(
    settings: &Settings,
    jobs: &[OutboxEntry],
    as_json: bool,
) -> anyhow::Result<ExitCode> {
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "jobs": jobs }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if jobs.is_empty() {
        println!("the outbox is empty");
        return Ok(ExitCode::SUCCESS);
    }
    let now = Utc::now();
    let mut rows = vec![vec![
        "JOB".to_owned(),
        "STATE".into(),
        "STEP".into(),
        "ATTEMPTS".into(),
        format!("NEXT ATTEMPT ({})", settings.city.timezone),
        "".into(),
        "LAST ERROR".into(),
    ]];
    for j in jobs {
        let error = j
            .last_error
            .as_ref()
            .map(|e| {
                let text = e.to_string();
                if text.chars().count() > 100 {
                    text.chars().take(99).chain(['…']).collect()
                } else {
                    text
                }
            })
            .unwrap_or_default();
        rows.push(vec![
            j.id.to_string(),
            j.state.to_string(),
            j.step.clone(),
            j.attempts.to_string(),
            j.next_attempt_at
                .map(|at| local(settings, at))
                .unwrap_or_else(|| "-".into()),
            j.next_attempt_at
                .map(|at| relative(at, now))
                .unwrap_or_default(),
            error,
        ]);
    }
    print!("{}", table(&rows));
    Ok(ExitCode::SUCCESS)
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn is_locked(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<StoreError>(),
            Some(StoreError::Open { .. })
        ) && cause.to_string().to_ascii_lowercase().contains("lock")
    })
}

fn local(settings: &Settings, at: DateTime<Utc>) -> String {
    at.with_timezone(&settings.city.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// "in 3 h 05 min" or "4 d 2 h ago".
fn relative(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = at - now;
    let (past, d) = if d < chrono::Duration::zero() {
        (true, -d)
    } else {
        (false, d)
    };
    let mins = d.num_minutes();
    let text = if mins >= 24 * 60 {
        format!("{} d {} h", mins / (24 * 60), (mins / 60) % 24)
    } else if mins >= 60 {
        format!("{} h {:02} min", mins / 60, mins % 60)
    } else {
        format!("{mins} min")
    };
    if past {
        format!("{text} ago")
    } else {
        format!("in {text}")
    }
}

fn table(rows: &[Vec<String>]) -> String {
    let mut widths = Vec::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            let w = cell.chars().count();
            if widths.len() <= i {
                widths.push(w);
            } else {
                widths[i] = widths[i].max(w);
            }
        }
    }
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn print_list(settings: &Settings, threads: &[Summary], as_json: bool) -> anyhow::Result<ExitCode> {
    if as_json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "threads": threads }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if threads.is_empty() {
        println!("no thread");
        return Ok(ExitCode::SUCCESS);
    }
    let now = Utc::now();
    let tz = settings.city.timezone;
    let mut rows = vec![vec![
        "THREAD".to_owned(),
        "CATEGORY".into(),
        "STATE".into(),
        "SLA".into(),
        format!("DUE ({tz})"),
        "".into(),
        "LANG".into(),
        "CHANNEL".into(),
        "FLAGS".into(),
    ]];
    for t in threads {
        let mut flags = Vec::new();
        if t.needs_triage {
            flags.push("triage");
        }
        if t.abusive {
            flags.push("abusive");
        }
        rows.push(vec![
            t.thread_id.to_string(),
            t.category.to_string(),
            t.state.to_string(),
            t.sla.as_str().to_owned(),
            local(settings, t.due_at),
            relative(t.due_at, now),
            t.language.to_string(),
            t.channel.clone(),
            flags.join(","),
        ]);
    }
    print!("{}", table(&rows));
    Ok(ExitCode::SUCCESS)
}

fn print_detail(settings: &Settings, d: &Detail, as_json: bool) -> anyhow::Result<ExitCode> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(d)?);
        return Ok(ExitCode::SUCCESS);
    }
    let s = &d.summary;
    let now = Utc::now();
    println!(
        "{}  {}  {}  sla {}",
        s.thread_id,
        s.category,
        s.state,
        s.sla.as_str()
    );
    println!("  channel   {} / {}", s.channel, s.sender);
    println!(
        "  language  {}   confidence {:.2}",
        s.language, s.confidence
    );
    println!("  opened    {}", local(settings, s.opened_at));
    println!(
        "  due       {} ({})",
        local(settings, s.due_at),
        relative(s.due_at, now)
    );
    if let Some(faq) = &s.faq {
        println!("  faq       {faq}");
    }
    println!("\nmessages");
    for m in &d.messages {
        let flags = match (m.masked, m.ignored) {
            (true, true) => " [masked, no reply]",
            (true, false) => " [masked]",
            (false, true) => " [no reply]",
            _ => "",
        };
        println!("  {}  {}{}", local(settings, m.at), m.author, flags);
        for line in m.text.lines() {
            println!("      {line}");
        }
    }
    println!("\naudit");
    let rows: Vec<Vec<String>> = d
        .audit
        .iter()
        .map(|e| {
            vec![
                format!("  {}", local(settings, e.at)),
                serde_json::to_value(e.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                e.actor.clone(),
                e.detail.clone(),
            ]
        })
        .collect();
    print!("{}", table(&rows));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn relative_times_read_naturally() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        assert_eq!(
            relative(now + chrono::Duration::minutes(185), now),
            "in 3 h 05 min"
        );
        assert_eq!(
            relative(now - chrono::Duration::hours(74), now),
            "3 d 2 h ago"
        );
        assert_eq!(
            relative(now + chrono::Duration::minutes(5), now),
            "in 5 min"
        );
    }

    #[test]
    fn tables_align_their_columns() {
        let t = table(&[
            vec!["A".into(), "BB".into()],
            vec!["ccc".into(), "d".into()],
        ]);
        assert_eq!(t, "A    BB\nccc  d\n");
    }

    #[test]
    fn sender_ids_are_percent_encoded_in_paths() {
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
    }
}
