//! The `guichet` command line: `serve`, `classify`, `eval`, `overdue`, `threads`, `show`,
//! `resolve`, `unblock`, `outbox`, `check`; citizens' data in [`privacy`].
//!
//! The staff commands read the store directly; while `guichet serve` holds the store (sled
//! allows one process), they ask the running server's staff API instead, with the same
//! configuration and token, at the address that server recorded in the store's directory
//! (see [`crate::address_file`]) and only after its `/healthz` has shown the same store. Errors
//! end the command with one sentence and a non-zero exit.
//!
//! What a citizen wrote reaches the coordinator's terminal: human output escapes control
//! characters (see [`printable`]); JSON output is escaped by serde.

use std::borrow::Cow;
use std::io::{BufRead, IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _};
use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use serde_json::json;

use crate::address_file::{self, AddressFile};
use crate::classify::{self, Classifier};
use crate::config::{ConfigSource, Settings};
use crate::domain::message::{Channel, Sender};
use crate::domain::outbox::JobId;
use crate::domain::thread::{Correction, ThreadId};
use crate::pipeline::Pipeline;
use crate::responses::{Origin, Responses};
use crate::server;
use crate::staff::{Detail, Filter, OutboxEntry, OutboxFilter, Page, Summary};
use crate::store::StoreError;
use reader::Reader;

mod privacy;
mod reader;

#[derive(Debug, Parser)]
#[command(
    name = "guichet",
    version,
    about = "Triage of the private messages citizens send to their city's page"
)]
pub struct Cli {
    /// The configuration file (default: the shipped configuration, compiled in; its readable
    /// copy is config/default.toml).
    #[arg(long, global = true, env = "GUICHET_CONFIG", value_name = "PATH")]
    config: Option<PathBuf>,
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
        /// Also score a classifier trained with these corrections (a labelled file, e.g. from
        /// `guichet corrections export`), and show both: before and after.
        #[arg(long, value_name = "FILE")]
        corrections: Option<PathBuf>,
    },
    /// The overdue threads, latest first.
    Overdue {
        #[arg(long)]
        json: bool,
        /// Also list the threads at risk.
        #[arg(long)]
        at_risk: bool,
        /// At most this many threads of each list (default: all, printed page by page).
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// List threads.
    Threads {
        /// open, at_risk, overdue, answered, resolved or all.
        #[arg(long, default_value = "open")]
        state: String,
        #[arg(long)]
        json: bool,
        /// At most this many threads (default: all, printed page by page).
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
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
    /// The response-time report: per category, channel, agent and week.
    Report {
        /// First day (city-local, YYYY-MM-DD); default 29 days before --to.
        #[arg(long)]
        from: Option<String>,
        /// Last day, included; default today.
        #[arg(long)]
        to: Option<String>,
        /// text, csv or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// One row per thread opened in the range, as CSV for a spreadsheet: reference,
    /// channel, category, opened, first response (met or missed), resolved, agent. No
    /// message text, no sender.
    Export {
        /// First day (city-local, YYYY-MM-DD); default 29 days before --to.
        #[arg(long)]
        from: Option<String>,
        /// Last day, included; default today.
        #[arg(long)]
        to: Option<String>,
        /// Write the CSV to this file rather than to standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Named staff members and their tokens.
    Staff {
        #[command(subcommand)]
        action: StaffAction,
    },
    /// Staff's corrections of categories, to learn from.
    Corrections {
        #[command(subcommand)]
        action: CorrectionsAction,
    },
    /// Citizens' data: export, erase, and their access and erasure requests.
    Citizen {
        #[command(subcommand)]
        action: privacy::CitizenAction,
    },
    /// Anonymise the resolved threads past retention.resolved_days now.
    Purge {
        /// Only print what would be anonymised; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// The register of confidentiality incidents.
    PrivacyIncident {
        #[command(subcommand)]
        action: privacy::IncidentAction,
    },
    /// The journal of privacy actions: exports, erasures, purges, requests, incidents.
    PrivacyJournal {
        #[arg(long)]
        json: bool,
    },
    /// Validate the configuration and every response template.
    Check,
    /// The coordinator's daily digest: `--now` queues it and sends it at once (`serve` sends
    /// it by itself at `[digest] at`).
    Digest {
        /// Send it now.
        #[arg(long)]
        now: bool,
    },
    /// Print "healthy: URL" and exit 0 when a running guichet answers its health check;
    /// otherwise its reason and a non-zero exit (for container health checks).
    Health {
        /// The health check's URL (default: the address recorded by the store's running
        /// serve, else http.listen).
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum StaffAction {
    /// Add a member (or give an existing one a new token): prints the token, once.
    Add {
        name: String,
        /// agent or coordinator.
        #[arg(long)]
        role: String,
    },
    /// The members, their roles, and whether revoked.
    List,
    /// Revoke a member's token.
    Revoke { name: String },
}

#[derive(Debug, Subcommand)]
enum CorrectionsAction {
    /// Write every correction as labelled JSONL (`{"label","lang","text"}`, the masked text),
    /// the format `guichet eval` and the classifier's corpus read.
    Export {
        /// The file to write (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
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
        .with_ansi(std::io::stderr().is_terminal())
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
            eprintln!("error: {}", sentence(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes as one line, each cause said once: many errors repeat their
/// source's text in their own.
fn sentence(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    printable(&text, false).into_owned()
}

/// The innermost cause, the one that says what happened ("Connection refused").
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = ConfigSource::new(cli.config.clone());
    let settings = || server::settings(&config, cli.data_dir.as_deref());
    match cli.command {
        Command::Serve { listen } => serve(settings()?, listen).await,
        Command::Classify => classify_stdin(),
        Command::Eval {
            file,
            json,
            corrections,
        } => eval(&file, json, corrections.as_deref()),
        Command::Check => check(settings()?, &config),
        Command::Citizen { action } => privacy::citizen(settings()?, action).await,
        Command::Purge { dry_run } => privacy::purge(settings()?, dry_run).await,
        Command::PrivacyIncident { action } => privacy::incident(settings()?, action).await,
        Command::PrivacyJournal { json } => privacy::journal(settings()?, json).await,
        Command::Export { from, to, out } => {
            let staff = Staff::connect(settings()?).await?;
            let csv = staff.export(&range_query(&from, &to)).await?;
            match out {
                None => print!("{csv}"),
                Some(path) => {
                    std::fs::write(&path, &csv)
                        .with_context(|| format!("could not write {}", path.display()))?;
                    let rows = ::csv::Reader::from_reader(csv.as_bytes()).records().count();
                    let noun = if rows == 1 { "thread" } else { "threads" };
                    eprintln!("{rows} {noun} written to {}", path.display());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Report { from, to, format } => {
            if !matches!(format.as_str(), "text" | "csv" | "json") {
                bail!("--format is text, csv or json");
            }
            let staff = Staff::connect(settings()?).await?;
            let report = staff.report(&range_query(&from, &to)).await?;
            match format.as_str() {
                "json" => println!("{}", serde_json::to_string_pretty(&report)?),
                csv_or_text => {
                    let csv = csv_or_text == "csv";
                    if !csv {
                        println!(
                            "{} → {}",
                            report["from"].as_str().unwrap_or(""),
                            report["to"].as_str().unwrap_or("")
                        );
                    }
                    println!(
                        "{}",
                        if csv {
                            "group,name,threads,met,missed,compliance_percent,first_response_median_minutes,first_response_p90_minutes,overdue_open"
                        } else {
                            "group      name        threads  met  missed  compliance  median min  p90 min  overdue"
                        }
                    );
                    for group in ["categories", "channels"] {
                        if let Some(map) = report[group].as_object() {
                            for (name, f) in map {
                                let n = |k: &str| {
                                    f[k].as_u64().map(|v| v.to_string()).unwrap_or_default()
                                };
                                let pct = f["compliance_percent"]
                                    .as_f64()
                                    .map(|v| v.to_string())
                                    .unwrap_or_default();
                                let g =
                                    group.trim_end_matches('s').replace("categorie", "category");
                                if csv {
                                    println!(
                                        "{g},{name},{},{},{},{pct},{},{},{}",
                                        n("threads"),
                                        n("met"),
                                        n("missed"),
                                        n("first_response_median_minutes"),
                                        n("first_response_p90_minutes"),
                                        n("overdue_open")
                                    );
                                } else {
                                    println!("{g:<10} {:<11} {:>7}  {:>3}  {:>6}  {:>10}  {:>10}  {:>7}  {:>7}", printable(name, false), n("threads"), n("met"), n("missed"), pct, n("first_response_median_minutes"), n("first_response_p90_minutes"), n("overdue_open"));
                                }
                            }
                        }
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Staff { action } => {
            let staff = Staff::connect(settings()?).await?;
            match action {
                StaffAction::Add { name, role } => {
                    let role: crate::domain::staff::Role =
                        role.parse().map_err(|e: String| anyhow!(e))?;
                    let name = crate::domain::staff::parse_name(&name).map_err(|e| anyhow!(e))?;
                    let token = staff.add_member(&name, role).await?;
                    println!("{name} ({role}) added; their token, shown only now:");
                    println!("{token}");
                }
                StaffAction::List => {
                    for m in staff.members().await? {
                        let state = if m["revoked_at"].is_null() {
                            "active"
                        } else {
                            "revoked"
                        };
                        println!(
                            "{:<24} {:<12} {}",
                            printable(m["name"].as_str().unwrap_or(""), false),
                            m["role"].as_str().unwrap_or(""),
                            state
                        );
                    }
                }
                StaffAction::Revoke { name } => {
                    if staff.revoke_member(&name).await? {
                        println!("{name}'s token is revoked");
                    } else {
                        println!("{name} has no active token");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Corrections {
            action: CorrectionsAction::Export { out },
        } => {
            let reader = Reader::connect(settings()?).await?;
            let corrections = reader.corrections().await?;
            let mut lines = String::new();
            for c in &corrections {
                let line = json!({ "label": c.category, "lang": c.language, "text": c.text });
                lines.push_str(&line.to_string());
                lines.push('\n');
            }
            match out {
                Some(path) => {
                    std::fs::write(&path, lines)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!(
                        "{} corrections written to {}",
                        corrections.len(),
                        path.display()
                    );
                }
                None => print!("{lines}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Health { url } => health(url, settings).await,
        Command::Digest { now } => {
            if !now {
                bail!(
                    "guichet serve sends the digest at [digest] at; use --now to send it at once"
                );
            }
            let staff = Staff::connect(settings()?).await?;
            staff.digest_now().await
        }
        Command::Overdue {
            json,
            at_risk,
            limit,
        } => {
            let reader = Reader::connect(settings()?).await?;
            let mut filters = vec![Filter::Overdue];
            if at_risk {
                filters.push(Filter::AtRisk);
            }
            reader.print_lists(&filters, limit, json).await
        }
        Command::Threads { state, json, limit } => {
            let filter: Filter = state.parse().map_err(|e: String| anyhow!(e))?;
            let reader = Reader::connect(settings()?).await?;
            reader.print_lists(&[filter], limit, json).await
        }
        Command::Show { id, json } => {
            let id = ThreadId::parse(&id).map_err(|e| anyhow!(e))?;
            let reader = Reader::connect(settings()?).await?;
            let detail = reader.show(id).await?;
            print_detail(reader.settings(), &detail, json)
        }
        Command::Resolve { id } => {
            let id = ThreadId::parse(&id).map_err(|e| anyhow!(e))?;
            let staff = Staff::connect(settings()?).await?;
            staff.resolve(id).await?;
            println!("{id} resolved");
            Ok(ExitCode::SUCCESS)
        }
        Command::Outbox {
            action: Some(OutboxAction::Retry { id }),
            ..
        } => {
            let id = JobId::parse(&id).map_err(|e| anyhow!(e))?;
            let staff = Staff::connect(settings()?).await?;
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
            let staff = Staff::connect(settings()?).await?;
            let jobs = staff.outbox(filter).await?;
            print_outbox(&staff.settings, &jobs, json)
        }
        Command::Unblock { sender, channel } => {
            let channel = Channel::parse(&channel)?;
            let sender = Sender::parse(&sender)?;
            let staff = Staff::connect(settings()?).await?;
            let who = printable(sender.as_str(), false);
            if staff.unblock(&channel, &sender).await? {
                println!("{who} on {channel} is no longer blocked");
            } else {
                println!("{who} on {channel} was not blocked");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(
    mut settings: Settings,
    listen: Option<std::net::SocketAddr>,
) -> anyhow::Result<ExitCode> {
    // Before anything slow: a SIGTERM during start-up then stops the server cleanly once it
    // runs, instead of killing the process.
    let shutdown = shutdown_signal()?;
    if let Some(addr) = listen {
        settings.http.listen = addr;
    }
    let addr = settings.http.listen;
    let store_dir = settings.store.path.clone();
    let pipeline = match server::build(settings) {
        Err(e) if is_locked(&e) => bail!(
            "{}; give this one another --data-dir, or stop that one first",
            in_use(&store_dir)
        ),
        built => built?,
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let record = AddressFile {
        address: local,
        pid: std::process::id(),
        store_id: pipeline.store().instance_id().to_owned(),
    };
    // Removed when `serve` returns, whether it stopped cleanly or failed.
    let _recorded = record.record(&store_dir)?;
    tracing::info!(address = %local, "guichet is serving");
    eprintln!("guichet listening on http://{local}");
    server::run(listener, pipeline, shutdown).await?;
    tracing::info!("guichet stopped");
    Ok(ExitCode::SUCCESS)
}

/// Who holds the store in `dir`, as one clause.
fn in_use(dir: &Path) -> String {
    match AddressFile::read(dir) {
        Ok(Some(running)) => format!(
            "the store {} is in use by a running guichet (pid {}, listening on {})",
            dir.display(),
            running.pid,
            running.address
        ),
        _ => format!(
            "the store {} is in use by another guichet process",
            dir.display()
        ),
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C). The handlers are installed by this call, not
/// when the future is first polled.
#[cfg(unix)]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("SIGTERM cannot be handled")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("SIGINT cannot be handled")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: stopping"),
            _ = interrupt.recv() => tracing::info!("interrupted: stopping"),
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

/// What a guichet's `/healthz` said.
struct Health {
    status: reqwest::StatusCode,
    store_id: Option<String>,
    reason: Option<String>,
}

/// Asks `url` (a `/healthz`) how the server is; a 503 carries the reason, and either answer
/// the store's id.
async fn probe(client: &reqwest::Client, url: &str) -> Result<Health, reqwest::Error> {
    let response = client.get(url).send().await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let field = |name: &str| body[name].as_str().map(str::to_owned);
    Ok(Health {
        status,
        store_id: field("store_id"),
        reason: field("reason"),
    })
}

/// `guichet health`: one line and exit 0 when the server is healthy; its reason and a
/// non-zero exit otherwise.
async fn health(
    url: Option<String>,
    settings: impl FnOnce() -> anyhow::Result<Settings>,
) -> anyhow::Result<ExitCode> {
    // With an explicit URL nothing else is read: a container's health check needs no
    // configuration.
    let (url, expected) = match url {
        Some(url) => (url, None),
        None => {
            let settings = settings()?;
            match AddressFile::read(&settings.store.path)? {
                Some(running) => (
                    format!("http://{}/healthz", running.connect_to()),
                    Some(running.store_id),
                ),
                None => (
                    format!(
                        "http://{}/healthz",
                        address_file::reachable(settings.http.listen)
                    ),
                    None,
                ),
            }
        }
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()?;
    let health = probe(&client, &url)
        .await
        .map_err(|e| anyhow!("nothing answered at {url}: {}", root_cause(&e)))?;
    if let (Some(expected), Some(found)) = (&expected, &health.store_id) {
        if expected != found {
            bail!("another guichet answers at {url}: its store is {found}, not {expected}, the one that recorded this address");
        }
    }
    if health.status.is_success() {
        println!("healthy: {url}");
        return Ok(ExitCode::SUCCESS);
    }
    match health.reason {
        Some(reason) => bail!("unhealthy: {reason} ({url} answered {})", health.status),
        None => bail!("{url} answered {}", health.status),
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

/// The labelled messages of a file.
fn labelled(file: &Path) -> anyhow::Result<Vec<classify::Example>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let examples = classify::parse_labelled(&text)
        .with_context(|| format!("{} is not a labelled file", file.display()))?;
    if examples.is_empty() {
        bail!("{} holds no labelled message", file.display());
    }
    Ok(examples)
}

fn eval(file: &Path, as_json: bool, corrections: Option<&Path>) -> anyhow::Result<ExitCode> {
    let examples = labelled(file)?;
    if let Some(corrections) = corrections {
        let extra = labelled(corrections)?;
        let learned = Classifier::train_with(&extra)
            .map_err(|e| anyhow!("the classifier could not learn the corrections: {e}"))?;
        let before = classify::eval::evaluate(Classifier::builtin(), &examples);
        let after = classify::eval::evaluate(&learned, &examples);
        if as_json {
            let value = json!({ "corrections": extra.len(), "before": before, "after": after });
            println!("{}", serde_json::to_string_pretty(&value)?);
        } else {
            println!("before, the built-in classifier:\n{before}\n");
            println!("after learning {} corrections:\n{after}\n", extra.len());
            println!(
                "macro-F1 {:.3} -> {:.3}; accuracy {:.3} -> {:.3}",
                before.macro_f1, after.macro_f1, before.accuracy, after.accuracy
            );
        }
        return Ok(ExitCode::SUCCESS);
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

fn check(settings: Settings, config: &ConfigSource) -> anyhow::Result<ExitCode> {
    let responses = Responses::load_from(Origin::configured(settings.responses.dir.as_deref()))?;
    println!(
        "configuration OK: {config} ({}, {}); templates OK: {}",
        settings.city.name,
        settings.city.timezone,
        responses.origin()
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
    /// The store itself when it is free; else the running server that recorded its address
    /// in the store's directory, once its health check shows that it holds this store.
    async fn connect(settings: Settings) -> anyhow::Result<Staff> {
        match server::build(settings.clone()) {
            Ok(pipeline) => Ok(Staff {
                settings,
                source: Source::Local(pipeline),
            }),
            Err(e) if is_locked(&e) => {
                if settings.staff.token.is_empty() {
                    bail!(
                        "{}; set GUICHET__STAFF__TOKEN to reach it through its staff API",
                        in_use(&settings.store.path)
                    );
                }
                let base = running_server(&settings).await?;
                let client = reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(10))
                    .build()?;
                Ok(Staff {
                    settings,
                    source: Source::Remote { base, client },
                })
            }
            Err(e) => Err(e),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str) -> anyhow::Result<serde_json::Value> {
        self.call_with(method, path, None).await
    }

    /// Every item of a paged list (`path` with its query), following the cursors to the end.
    async fn every_page<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        field: &str,
    ) -> anyhow::Result<Vec<T>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = match &cursor {
                None => format!("{path}&limit=1000"),
                Some(c) => format!("{path}&limit=1000&cursor={}", percent_encode(c)),
            };
            let body = self.call(reqwest::Method::GET, &page).await?;
            items.extend(serde_json::from_value::<Vec<T>>(body[field].clone())?);
            match body["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return Ok(items),
            }
        }
    }

    /// A staff API call with a JSON body.
    async fn call_with(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<serde_json::Value> {
        let response = self.send(method, path, body).await?;
        Ok(response.json().await.unwrap_or_default())
    }

    /// Sends a request to the running guichet as the staff token's holder: its answer when
    /// it succeeded, else the server's reason as the error.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<reqwest::Response> {
        let Source::Remote { base, client } = &self.source else {
            unreachable!("only called for a remote source")
        };
        let mut request = client
            .request(method, format!("{base}{path}"))
            .bearer_auth(self.settings.staff.token.expose());
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| {
            anyhow!(
                "the running guichet at {base} did not answer: {}",
                root_cause(&e)
            )
        })?;
        let status = response.status();
        if !status.is_success() {
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            let message = body["error"].as_str().unwrap_or("no detail");
            bail!("the running guichet refused: {message} ({status})");
        }
        Ok(response)
    }

    /// The city-local days of a `from=…&to=…` query, for a command that reads the store
    /// itself.
    fn local_range(&self, query: &str) -> anyhow::Result<(chrono::NaiveDate, chrono::NaiveDate)> {
        let tz = self.settings.city.timezone;
        let today = Utc::now().with_timezone(&tz).date_naive();
        let mut from = None;
        let mut to = today;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let d = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| anyhow!("\"{v}\" is not a date such as 2026-11-30"))?;
            if k == "from" {
                from = Some(d);
            } else {
                to = d;
            }
        }
        let from = from.unwrap_or(to - chrono::Duration::days(29));
        if from > to {
            bail!("--from comes after --to");
        }
        Ok((from, to))
    }

    /// The per-thread CSV of a range (`from=…&to=…`).
    async fn export(&self, query: &str) -> anyhow::Result<String> {
        match &self.source {
            Source::Local(p) => {
                let (from, to) = self.local_range(query)?;
                let rows = p.export_rows(from, to, Utc::now())?;
                Ok(crate::domain::export::csv(&rows))
            }
            Source::Remote { .. } => Ok(self
                .send(
                    reqwest::Method::GET,
                    &format!("/api/export.csv?{query}"),
                    None,
                )
                .await?
                .text()
                .await?),
        }
    }

    async fn report(&self, query: &str) -> anyhow::Result<serde_json::Value> {
        match &self.source {
            Source::Local(p) => {
                let (from, to) = self.local_range(query)?;
                Ok(serde_json::to_value(p.report(from, to, Utc::now())?)?)
            }
            Source::Remote { .. } => {
                self.call(reqwest::Method::GET, &format!("/api/report?{query}"))
                    .await
            }
        }
    }

    async fn add_member(
        &self,
        name: &str,
        role: crate::domain::staff::Role,
    ) -> anyhow::Result<String> {
        match &self.source {
            Source::Local(p) => Ok(p.add_member(name, role, Utc::now()).await?.1),
            Source::Remote { .. } => {
                let body = self
                    .call_with(
                        reqwest::Method::POST,
                        "/api/staff",
                        Some(json!({ "name": name, "role": role })),
                    )
                    .await?;
                Ok(body["token"].as_str().unwrap_or_default().to_owned())
            }
        }
    }

    async fn members(&self) -> anyhow::Result<Vec<serde_json::Value>> {
        match &self.source {
            Source::Local(p) => Ok(p
                .members()?
                .into_iter()
                .map(|m| json!({ "name": m.name, "role": m.role, "revoked_at": m.revoked_at }))
                .collect()),
            Source::Remote { .. } => {
                let body = self.call(reqwest::Method::GET, "/api/staff").await?;
                Ok(body["staff"].as_array().cloned().unwrap_or_default())
            }
        }
    }

    async fn revoke_member(&self, name: &str) -> anyhow::Result<bool> {
        match &self.source {
            Source::Local(p) => Ok(p.revoke_member(name, Utc::now()).await?),
            Source::Remote { .. } => {
                let path = format!("/api/staff/{}/revoke", percent_encode(name));
                let body = self.call(reqwest::Method::POST, &path).await?;
                Ok(body["revoked"].as_bool().unwrap_or(false))
            }
        }
    }

    async fn corrections(&self) -> anyhow::Result<Vec<Correction>> {
        match &self.source {
            Source::Local(p) => Ok(p.corrections()?),
            Source::Remote { .. } => {
                let body = self.call(reqwest::Method::GET, "/api/corrections").await?;
                Ok(serde_json::from_value(body["corrections"].clone())?)
            }
        }
    }

    async fn page(
        &self,
        filter: Filter,
        now: DateTime<Utc>,
        cursor: Option<&str>,
        limit: usize,
    ) -> anyhow::Result<Page> {
        match &self.source {
            Source::Local(p) => reader::page_of(p.store(), filter, now, cursor, limit),
            Source::Remote { .. } => {
                let mut path = format!("/api/threads?state={}&limit={limit}", filter.as_str());
                if let Some(c) = cursor {
                    path.push_str(&format!("&cursor={}", percent_encode(c)));
                }
                Ok(serde_json::from_value(
                    self.call(reqwest::Method::GET, &path).await?,
                )?)
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

/// The base URL of the server that holds the store of `settings`: the address it recorded,
/// never a guess from `http.listen`, and only when its `/healthz` names the recorded store.
async fn running_server(settings: &Settings) -> anyhow::Result<String> {
    let dir = &settings.store.path;
    let file = AddressFile::path(dir);
    let Some(running) = AddressFile::read(dir)? else {
        bail!(
            "the store {} is in use, but no running guichet recorded its address in {}: a serve that is starting, or another command, holds it; try again",
            dir.display(),
            file.display()
        );
    };
    let base = format!("http://{}", running.connect_to());
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(3))
        .build()?;
    let health = probe(&client, &format!("{base}/healthz"))
        .await
        .map_err(|e| {
            anyhow!(
                "the running guichet recorded at {} (pid {}, in {}) did not answer: {}",
                running.address,
                running.pid,
                file.display(),
                root_cause(&e)
            )
        })?;
    match &health.store_id {
        Some(id) if *id == running.store_id => {}
        Some(id) => bail!(
            "another guichet answers at {}: its store is {id}, not {}, the store of {}; refusing to act on it",
            running.address,
            running.store_id,
            dir.display()
        ),
        None => bail!(
            "{base} answers without a store id: it is not the guichet recorded in {}; refusing to act on it",
            file.display()
        ),
    }
    if !health.status.is_success() {
        let reason = health.reason.as_deref().unwrap_or("no reason given");
        eprintln!(
            "warning: the running guichet is unhealthy: {}",
            printable(reason, false)
        );
    }
    Ok(base)
}

impl Staff {
    /// Queues a digest; delivers it here when no server runs (what needs a platform's
    /// connection, the Discord alerts channel, waits in the outbox for `serve`).
    async fn digest_now(&self) -> anyhow::Result<ExitCode> {
        let outcome = match &self.source {
            Source::Local(p) => p.send_digest(Utc::now(), "coordinator", true).await?,
            Source::Remote { .. } => {
                let body = self.call(reqwest::Method::POST, "/api/digest").await?;
                for job in body["jobs"].as_array().into_iter().flatten() {
                    println!(
                        "{}: queued; the running guichet sends it now",
                        job.as_str().unwrap_or("")
                    );
                }
                return Ok(ExitCode::SUCCESS);
            }
        };
        let Source::Local(p) = &self.source else {
            return Ok(ExitCode::SUCCESS);
        };
        let jobs = match outcome {
            crate::pipeline::DigestOutcome::Queued { jobs, .. } => jobs,
            _ => bail!(
                "the digest has nowhere to go: set digest.email_to or a Discord alerts channel"
            ),
        };
        let forwarders = crate::forwarders::Forwarders::new(&self.settings)?;
        let mut failed = false;
        for id in jobs {
            let Some(job) = p.job(&id)? else { continue };
            let attempt = forwarders.attempt(&job).await;
            match p
                .record_attempt(&id, &job.phase, attempt, Utc::now(), rand::random())
                .await?
            {
                Some(crate::domain::outbox::JobEvent::Delivered { .. }) => println!("{id}: sent"),
                Some(crate::domain::outbox::JobEvent::Failed { error, .. }) => {
                    println!("{id}: not sent yet ({error}); guichet serve will retry it");
                }
                Some(crate::domain::outbox::JobEvent::Dead { error }) => {
                    failed = true;
                    println!("{id}: failed ({error})");
                }
                _ => {}
            }
        }
        Ok(if failed {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    }

    async fn outbox(&self, filter: OutboxFilter) -> anyhow::Result<Vec<OutboxEntry>> {
        match &self.source {
            Source::Local(p) => Ok(p.outbox_entries(filter)?),
            Source::Remote { .. } => {
                let path = format!("/api/outbox?state={}", filter.as_str());
                self.every_page(&path, "jobs").await
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

/// The `from=…&to=…` query of `--from` and `--to`.
fn range_query(from: &Option<String>, to: &Option<String>) -> String {
    let mut query = Vec::new();
    if let Some(f) = from {
        query.push(format!("from={}", percent_encode(f)));
    }
    if let Some(t) = to {
        query.push(format!("to={}", percent_encode(t)));
    }
    query.join("&")
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

/// `text` as it may reach a terminal: control characters (C0, DEL, C1: escape sequences
/// start with one) and the bidirectional overrides are written as visible escapes (`\x1b`,
/// `\u{202e}`), so that a citizen's text can neither drive the coordinator's terminal nor
/// reorder what it shows. `multiline` keeps newlines and tabs (a message's body); elsewhere
/// they are escaped too, so that one value stays on its line.
fn printable(text: &str, multiline: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        let kept = multiline && (c == '\n' || c == '\t');
        (c.is_control() && !kept)
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !unsafe_char(c) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// Aligned columns; every cell is made [`printable`] on one line.
fn table(rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| printable(cell, false)).collect())
        .collect();
    let mut widths = Vec::new();
    for row in &rows {
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
    for row in &rows {
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

/// Prints a list of threads as its pages arrive: as JSON (`{"threads": [...]}`, the items
/// written one by one) or as a table whose header comes once.
struct ListPrinter<'a> {
    settings: &'a Settings,
    as_json: bool,
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    printed: usize,
    now: DateTime<Utc>,
}

impl<'a> ListPrinter<'a> {
    fn new(settings: &'a Settings, as_json: bool) -> ListPrinter<'a> {
        ListPrinter {
            settings,
            as_json,
            out: std::io::BufWriter::new(std::io::stdout().lock()),
            printed: 0,
            now: Utc::now(),
        }
    }

    fn page(&mut self, threads: &[Summary]) -> anyhow::Result<()> {
        if self.as_json {
            for t in threads {
                let item = serde_json::to_string_pretty(t)?.replace('\n', "\n    ");
                let lead = if self.printed == 0 {
                    "{\n  \"threads\": [\n    "
                } else {
                    ",\n    "
                };
                write!(self.out, "{lead}{item}")?;
                self.printed += 1;
            }
        } else if !threads.is_empty() {
            let tz = self.settings.city.timezone;
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
                    local(self.settings, t.due_at),
                    relative(t.due_at, self.now),
                    t.language.to_string(),
                    t.channel.clone(),
                    flags.join(","),
                ]);
            }
            let text = table(&rows);
            // Each page is aligned on its own; the header is printed once.
            let body = match self.printed {
                0 => text.as_str(),
                _ => text.split_once('\n').map_or("", |(_, rest)| rest),
            };
            write!(self.out, "{body}")?;
            self.printed += threads.len();
        }
        self.out.flush()?;
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        match (self.as_json, self.printed) {
            (true, 0) => writeln!(self.out, "{{\n  \"threads\": []\n}}")?,
            (true, _) => writeln!(self.out, "\n  ]\n}}")?,
            (false, 0) => writeln!(self.out, "no thread")?,
            (false, _) => {}
        }
        self.out.flush()?;
        Ok(())
    }
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
    println!(
        "  channel   {} / {}",
        printable(&s.channel, false),
        printable(&s.sender, false)
    );
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
        println!("  faq       {}", printable(faq, false));
    }
    println!("\nmessages");
    for m in &d.messages {
        let flags = match (m.masked, m.ignored) {
            (true, true) => " [masked, no reply]",
            (true, false) => " [masked]",
            (false, true) => " [no reply]",
            _ => "",
        };
        println!(
            "  {}  {}{}",
            local(settings, m.at),
            printable(&m.author, false),
            flags
        );
        let text = m.text.replace("\r\n", "\n");
        for line in printable(&text, true).lines() {
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
    fn control_characters_are_shown_as_visible_escapes() {
        assert_eq!(
            printable("a\u{1b}[2J\u{1b}[Hb\u{7f}\u{9b}c", false),
            "a\\x1b[2J\\x1b[Hb\\x7f\\u{9b}c"
        );
        assert_eq!(printable("x\u{202e}y", false), "x\\u{202e}y");
        assert_eq!(printable("one\ntwo\tthree", false), "one\\x0atwo\\x09three");
        assert_eq!(printable("one\ntwo\tthree\r", true), "one\ntwo\tthree\\x0d");
        // Accents, emojis and quotes are printable.
        assert!(matches!(
            printable("Érable 🍁 « oui »", false),
            Cow::Borrowed("Érable 🍁 « oui »")
        ));
    }

    #[test]
    fn tables_escape_control_characters_in_their_cells() {
        let t = table(&[vec!["\u{1b}[2J".into(), "b".into()]]);
        assert_eq!(t, "\\x1b[2J  b\n");
    }

    #[test]
    fn an_error_sentence_says_each_cause_once() {
        let inner = std::io::Error::other("could not acquire lock");
        let e = anyhow::Error::new(inner)
            .context("the store at s cannot be opened: could not acquire lock")
            .context("serve failed");
        assert_eq!(
            sentence(&e),
            "serve failed: the store at s cannot be opened: could not acquire lock"
        );
        let e = anyhow!("bad sender \u{1b}]0;title\u{7}");
        assert_eq!(sentence(&e), "bad sender \\x1b]0;title\\x07");
    }

    #[test]
    fn sender_ids_are_percent_encoded_in_paths() {
        assert_eq!(percent_encode("a b/c"), "a%20b%2Fc");
    }
}
