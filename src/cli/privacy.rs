//! The coordinator's commands for citizens' data: `citizen export|erase|request|requests|
//! extend|close`, `purge`, `privacy-incident add|list` and `privacy-journal`. Like the other
//! staff commands they act on the store itself when it is free, else through the running
//! server's staff API. Messages for staff come in French, then English.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{anyhow, Context as _};
use chrono::{NaiveDate, Utc};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::{percent_encode, printable, Source, Staff};
use crate::config::Settings;
use crate::domain::message::{Channel, Sender};
use crate::domain::privacy::{IncidentFields, IncidentSource, RequestKind};
use crate::domain::staff::Actor;

#[derive(Debug, Subcommand)]
pub enum CitizenAction {
    /// Write everything held on one person as one JSON document (schema
    /// guichet.citizen-export, version 1; see docs/citizen-export.md).
    Export {
        channel: String,
        sender: String,
        /// The file to write (default: standard output).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Erase one person's data: their messages' text, identity and platform ids; their
    /// pending deliveries are cancelled. Anonymised threads stay for the reports.
    Erase { channel: String, sender: String },
    /// Record an access or erasure request, due 20 calendar days after its receipt.
    Request {
        channel: String,
        sender: String,
        /// access or erasure.
        #[arg(long)]
        kind: String,
        /// The day it was received (YYYY-MM-DD; default today).
        #[arg(long, value_name = "DATE")]
        received: Option<String>,
    },
    /// The requests: open ones (default), those nearing their due date, or all.
    Requests {
        /// Only the open requests due within this many days (late ones included).
        #[arg(long, value_name = "DAYS")]
        nearing: Option<i64>,
        /// Closed requests too.
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Extend a request's deadline by 10 days (once, before the first deadline).
    Extend {
        id: u64,
        /// The notice given to the citizen.
        #[arg(long)]
        notice: String,
    },
    /// Record that a request was answered.
    Close { id: u64 },
}

#[derive(Debug, Subcommand)]
pub enum IncidentAction {
    /// Add an entry to the register of confidentiality incidents.
    Add(IncidentArgs),
    /// The register.
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct IncidentArgs {
    /// What happened.
    #[arg(long)]
    what: String,
    /// When: a date, or a period YYYY-MM-DD..YYYY-MM-DD.
    #[arg(long)]
    when: String,
    /// The personal information concerned.
    #[arg(long)]
    data: String,
    /// When the city learned of it (default today).
    #[arg(long, value_name = "DATE")]
    known_on: Option<String>,
    /// The number of people concerned (an estimate if need be).
    #[arg(long, default_value_t = 0)]
    people: u64,
    /// The assessment of the risk of serious injury.
    #[arg(long, default_value = "")]
    risk: String,
    /// There is a risk of serious injury (the Commission and the people must be told).
    #[arg(long)]
    serious: bool,
    /// The measures taken.
    #[arg(long, default_value = "")]
    measures: String,
    /// The notices sent, with their dates.
    #[arg(long, default_value = "")]
    notifications: String,
}

fn party(channel: &str, sender: &str) -> anyhow::Result<(Channel, Sender)> {
    Ok((Channel::parse(channel)?, Sender::parse(sender)?))
}

fn path_of(channel: &Channel, sender: &Sender) -> String {
    format!(
        "/api/citizens/{}/{}",
        channel,
        percent_encode(sender.as_str())
    )
}

/// The name actions are recorded under when the command opens the store itself.
fn local_actor() -> String {
    Actor::bootstrap().name
}

pub async fn citizen(settings: Settings, action: CitizenAction) -> anyhow::Result<ExitCode> {
    let store_dir = settings.store.path.clone();
    let staff = Staff::connect(settings).await?;
    let now = Utc::now();
    match action {
        CitizenAction::Export {
            channel,
            sender,
            out,
        } => {
            let (channel, sender) = party(&channel, &sender)?;
            let document = match &staff.source {
                Source::Local(p) => serde_json::to_value(
                    p.export_citizen(&channel, &sender, &local_actor(), now)
                        .await?,
                )?,
                Source::Remote { .. } => {
                    staff
                        .call(reqwest::Method::GET, &path_of(&channel, &sender))
                        .await?
                }
            };
            let text = serde_json::to_string_pretty(&document)? + "\n";
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    eprintln!(
                        "export écrit dans / written to {} ({} conversation(s) / thread(s))",
                        path.display(),
                        document["threads"].as_array().map_or(0, Vec::len)
                    );
                }
                None => print!("{text}"),
            }
        }
        CitizenAction::Erase { channel, sender } => {
            let (channel, sender) = party(&channel, &sender)?;
            let erased = match &staff.source {
                Source::Local(p) => serde_json::to_value(
                    p.erase_citizen(&channel, &sender, &local_actor(), now)
                        .await?,
                )?,
                Source::Remote { .. } => {
                    let path = format!("{}/erase", path_of(&channel, &sender));
                    staff.call(reqwest::Method::POST, &path).await?
                }
            };
            let n = |k: &str| erased[k].as_u64().unwrap_or(0);
            println!(
                "effacé : {} conversation(s), {} message(s), {} envoi(s) en attente annulé(s)",
                n("threads"),
                n("messages"),
                n("pending_jobs_cancelled")
            );
            println!(
                "erased: {} thread(s), {} message(s), {} pending delivery(ies) cancelled",
                n("threads"),
                n("messages"),
                n("pending_jobs_cancelled")
            );
            if let Source::Local(_) = staff.source {
                // The erased text leaves the store's files when the store is rewritten, which
                // the next open does: do it now, once this command's handle is closed.
                drop(staff);
                rewrite_now(&store_dir).await?;
                println!("le stockage a été réécrit / the store was rewritten: the erased text is gone from its files");
            } else {
                println!("le texte effacé quittera les fichiers du stockage au prochain démarrage de guichet serve / the erased text leaves the store's files when guichet serve next starts");
            }
        }
        CitizenAction::Request {
            channel,
            sender,
            kind,
            received,
        } => {
            let (channel, sender) = party(&channel, &sender)?;
            let kind: RequestKind = kind.parse().map_err(|e: String| anyhow!(e))?;
            let received = received.as_deref().map(date).transpose()?;
            let request = match &staff.source {
                Source::Local(p) => serde_json::to_value(
                    p.record_request(&channel, &sender, kind, received, &local_actor(), now)
                        .await?,
                )?,
                Source::Remote { .. } => {
                    let path = format!("{}/requests", path_of(&channel, &sender));
                    let body = json!({ "kind": kind, "received_on": received });
                    staff
                        .call_with(reqwest::Method::POST, &path, Some(body))
                        .await?["request"]
                        .clone()
                }
            };
            println!(
                "demande {} ({}) reçue le {}, à traiter au plus tard le {} / request {} received {}, due {}",
                request["id"],
                kind,
                str_of(&request["received_on"]),
                str_of(&request["due_on"]),
                request["id"],
                str_of(&request["received_on"]),
                str_of(&request["due_on"]),
            );
        }
        CitizenAction::Requests { nearing, all, json } => {
            let (requests, today) = match &staff.source {
                Source::Local(p) => {
                    let list = match nearing {
                        Some(days) => p.requests_nearing(days, now)?,
                        None => p.requests(!all)?,
                    };
                    let today = p.today(now);
                    let values = list
                        .iter()
                        .map(|r| {
                            let mut v = json!(r);
                            v["due"] = json!(r.due());
                            v["days_left"] = json!(r.days_left(today));
                            v
                        })
                        .collect::<Vec<_>>();
                    (values, today.to_string())
                }
                Source::Remote { .. } => {
                    let query = match (nearing, all) {
                        (Some(days), _) => format!("due_within={days}"),
                        (None, true) => "state=all".to_owned(),
                        (None, false) => "state=open".to_owned(),
                    };
                    let body = staff
                        .call(reqwest::Method::GET, &format!("/api/requests?{query}"))
                        .await?;
                    (
                        body["requests"].as_array().cloned().unwrap_or_default(),
                        str_of(&body["today"]),
                    )
                }
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&requests)?);
            } else {
                println!("aujourd'hui / today {today}");
                println!("no  kind     channel    sender                    received    due         days left  state");
                for r in &requests {
                    let state = if r["closed_at"].is_null() {
                        "ouverte/open"
                    } else {
                        "fermée/closed"
                    };
                    println!(
                        "{:<3} {:<8} {:<10} {:<25} {:<11} {:<11} {:>9}  {state}",
                        r["id"],
                        str_of(&r["kind"]),
                        printable(&str_of(&r["channel"]), false),
                        printable(&str_of(&r["sender"]), false),
                        str_of(&r["received_on"]),
                        str_of(&r["due"]),
                        r["days_left"],
                    );
                }
            }
        }
        CitizenAction::Extend { id, notice } => {
            let request = match &staff.source {
                Source::Local(p) => {
                    serde_json::to_value(p.extend_request(id, &notice, &local_actor(), now).await?)?
                }
                Source::Remote { .. } => staff
                    .call_with(
                        reqwest::Method::POST,
                        &format!("/api/requests/{id}/extend"),
                        Some(json!({ "notice": notice })),
                    )
                    .await?["request"]
                    .clone(),
            };
            let due = str_of(&request["extension"]["due_on"]);
            println!("demande {id} prolongée jusqu'au {due} / request {id} extended to {due}");
        }
        CitizenAction::Close { id } => {
            match &staff.source {
                Source::Local(p) => {
                    p.close_request(id, &local_actor(), now).await?;
                }
                Source::Remote { .. } => {
                    staff
                        .call(reqwest::Method::POST, &format!("/api/requests/{id}/close"))
                        .await?;
                }
            }
            println!("demande {id} traitée / request {id} answered");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Opens the store once, which rewrites it when an erasure asked for it. The command's own
/// handle may take a moment to release sled's lock.
async fn rewrite_now(dir: &std::path::Path) -> anyhow::Result<()> {
    let mut waited = 0;
    loop {
        match crate::store::Store::open(dir) {
            Ok(store) => {
                drop(store);
                return Ok(());
            }
            Err(e) if waited < 50 && e.to_string().to_ascii_lowercase().contains("lock") => {
                waited += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e).context("the store could not be rewritten"),
        }
    }
}

fn date(raw: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| anyhow!("\"{raw}\" is not a date such as 2026-11-30"))
}

fn str_of(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

pub async fn purge(settings: Settings, dry_run: bool) -> anyhow::Result<ExitCode> {
    let staff = Staff::connect(settings).await?;
    let done = match &staff.source {
        Source::Local(p) => {
            serde_json::to_value(p.purge(dry_run, &local_actor(), Utc::now()).await?)?
        }
        Source::Remote { .. } => {
            let path = format!("/api/purge?dry_run={dry_run}");
            staff.call(reqwest::Method::POST, &path).await?
        }
    };
    let threads = done["threads"].as_array().cloned().unwrap_or_default();
    let days = &done["resolved_days"];
    if dry_run {
        println!("simulation : {} conversation(s) résolue(s) depuis plus de {days} jours seraient anonymisées; rien n'a changé", threads.len());
        println!(
            "dry run: {} resolved thread(s) past {days} days would be anonymised; nothing changed",
            threads.len()
        );
    } else {
        println!(
            "{} conversation(s) anonymisée(s) / thread(s) anonymised (retention {days} days)",
            threads.len()
        );
    }
    for t in &threads {
        println!(
            "  {}  {:<10} last message / dernier message {}",
            str_of(&t["reference"]),
            printable(&str_of(&t["channel"]), false),
            str_of(&t["last_message_at"])
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn incident(settings: Settings, action: IncidentAction) -> anyhow::Result<ExitCode> {
    let staff = Staff::connect(settings).await?;
    match action {
        IncidentAction::Add(a) => {
            let fields = IncidentFields {
                what: Some(a.what),
                when: Some(a.when),
                known_on: a.known_on,
                data: Some(a.data),
                people: Some(a.people),
                risk: Some(a.risk),
                serious: a.serious,
                measures: Some(a.measures),
                notifications: Some(a.notifications),
            };
            let id = match &staff.source {
                Source::Local(p) => {
                    p.add_incident(fields, IncidentSource::Staff, &local_actor(), Utc::now())
                        .await?
                        .id
                }
                Source::Remote { .. } => {
                    let body = json!({
                        "what": fields.what, "when": fields.when, "known_on": fields.known_on,
                        "data": fields.data, "people": fields.people, "risk": fields.risk,
                        "serious": fields.serious, "measures": fields.measures,
                        "notifications": fields.notifications,
                    });
                    let answer = staff
                        .call_with(reqwest::Method::POST, "/api/privacy-incidents", Some(body))
                        .await?;
                    answer["incident"]["id"].as_u64().unwrap_or(0)
                }
            };
            println!("incident {id} inscrit au registre / recorded in the register");
        }
        IncidentAction::List { json } => {
            let incidents = match &staff.source {
                Source::Local(p) => serde_json::to_value(p.incidents()?)?,
                Source::Remote { .. } => staff
                    .call(reqwest::Method::GET, "/api/privacy-incidents")
                    .await?["incidents"]
                    .clone(),
            };
            let list = incidents.as_array().cloned().unwrap_or_default();
            if json {
                println!("{}", serde_json::to_string_pretty(&list)?);
                return Ok(ExitCode::SUCCESS);
            }
            if list.is_empty() {
                println!("registre vide / the register is empty");
            }
            for i in &list {
                println!(
                    "#{} · {} · connu le / known {} · {} personne(s)/people · {}",
                    i["id"],
                    str_of(&i["when"]),
                    str_of(&i["known_on"]),
                    i["people"],
                    if i["serious"].as_bool() == Some(true) {
                        "risque de préjudice sérieux / risk of serious injury"
                    } else {
                        "pas de préjudice sérieux / no serious injury"
                    }
                );
                for (label, key) in [
                    ("quoi / what", "what"),
                    ("renseignements / data", "data"),
                    ("risque / risk", "risk"),
                    ("mesures / measures", "measures"),
                    ("avis / notifications", "notifications"),
                ] {
                    println!("    {label}: {}", printable(&str_of(&i[key]), false));
                }
                println!(
                    "    inscrit par / recorded by {} ({})",
                    printable(&str_of(&i["recorded_by"]), false),
                    str_of(&i["source"])
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn journal(settings: Settings, as_json: bool) -> anyhow::Result<ExitCode> {
    let staff = Staff::connect(settings).await?;
    let entries = match &staff.source {
        Source::Local(p) => serde_json::to_value(p.privacy_journal()?)?,
        Source::Remote { .. } => staff
            .call(reqwest::Method::GET, "/api/privacy-journal")
            .await?["journal"]
            .clone(),
    };
    let list = entries.as_array().cloned().unwrap_or_default();
    if as_json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    for e in &list {
        println!(
            "{}  {:<14} {:<20} {}",
            str_of(&e["at"]),
            str_of(&e["kind"]),
            printable(&str_of(&e["actor"]), false),
            printable(&str_of(&e["detail"]), false)
        );
    }
    if list.is_empty() {
        println!("le journal est vide / the journal is empty");
    }
    Ok(ExitCode::SUCCESS)
}
