//! The report's figures from a seeded store, over HTTP, against values computed by hand:
//! complaints counted in business hours (08:30–16:30, Monday to Friday) across a weekend,
//! urgent requests in calendar hours, per category, channel, agent and ISO week, and the
//! per-thread export of the same threads.

use chrono::{DateTime, Utc};
use guichet::config::Settings;
use guichet::domain::message::{Channel, Sender};
use guichet::domain::sla::Counting;
use guichet::domain::thread::{Thread, Triage};
use guichet::domain::{Category, Language};
use guichet::store::{Store, ThreadWrite};
use serde_json::{json, Value};

use crate::helpers::{self, spawn_app_with, TOKEN};

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Complaints: 8 business hours; urgent: 1 calendar hour (the shipped business hours).
fn targets(settings: &mut Settings) {
    settings.sla.complaint.hours = 8.0;
    settings.sla.complaint.counting = Counting::Business;
    settings.sla.urgent.hours = 1.0;
    settings.sla.urgent.counting = Counting::Calendar;
}

/// Writes a thread opened at `opened`, answered at `answered` by `agent` if given, step by
/// step as the pipeline does.
fn seed(
    store: &Store,
    settings: &Settings,
    category: Category,
    opened: &str,
    answer: Option<(&str, &str)>,
) {
    let policy = settings.sla_policy().unwrap();
    let id = store.next_thread_id();
    let mut t = Thread::open(
        id,
        Channel::web(),
        Sender::parse(&format!("seeded-{}", id.get())).unwrap(),
        utc(opened),
        Triage {
            category,
            language: Language::Fr,
            confidence: 0.9,
        },
        &policy,
    );
    let stored = store.write(ThreadWrite::new(None, t.clone())).unwrap();
    if let Some((agent, at)) = answer {
        t.audit_count = stored.audit_count;
        let claimed = t.claim(agent, utc(at)).unwrap();
        let answered = t.answer(utc(at), agent).unwrap();
        let mut w = ThreadWrite::new(Some(stored), t);
        w.audit = vec![claimed, answered];
        store.write(w).unwrap();
    }
}

#[tokio::test]
async fn the_report_of_a_seeded_store_equals_the_figures_computed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = helpers::default_settings();
    targets(&mut settings);
    {
        let store = Store::open(dir.path()).unwrap();
        // Friday 2026-11-20 16:00 (21:00Z), answered Monday 09:30 (14:30Z): 30 + 60 = 90
        // business minutes, met.
        seed(
            &store,
            &settings,
            Category::Complaint,
            "2026-11-20T21:00:00Z",
            Some(("Luc", "2026-11-23T14:30:00Z")),
        );
        // Friday 09:00, answered Monday 10:30: 450 + 120 = 570 > 480, missed.
        seed(
            &store,
            &settings,
            Category::Complaint,
            "2026-11-20T14:00:00Z",
            Some(("Ana", "2026-11-23T15:30:00Z")),
        );
        // Saturday 10:00, answered Monday 08:45: 15 business minutes, met.
        seed(
            &store,
            &settings,
            Category::Complaint,
            "2026-11-21T15:00:00Z",
            Some(("Ana", "2026-11-23T13:45:00Z")),
        );
        // Monday 09:00, answered 11:00: 120, met.
        seed(
            &store,
            &settings,
            Category::Complaint,
            "2026-11-23T14:00:00Z",
            Some(("Luc", "2026-11-23T16:00:00Z")),
        );
        // Urgent, Sunday 03:00, answered 04:30: 90 calendar minutes, missed.
        seed(
            &store,
            &settings,
            Category::Urgent,
            "2026-11-22T08:00:00Z",
            Some(("Luc", "2026-11-22T09:30:00Z")),
        );
        // Urgent, Monday 10:00, never answered: overdue.
        seed(
            &store,
            &settings,
            Category::Urgent,
            "2026-11-23T15:00:00Z",
            None,
        );
        // Thursday 23:30 in the city (Friday 04:30Z): the day before the range.
        seed(
            &store,
            &settings,
            Category::Complaint,
            "2026-11-20T04:30:00Z",
            Some(("Luc", "2026-11-20T14:00:00Z")),
        );
    }
    let store_path = dir.path().to_path_buf();
    let app = spawn_app_with(move |s| {
        targets(s);
        s.store.path = store_path;
    })
    .await;

    let (status, report) = app
        .staff_get("/api/report?from=2026-11-20&to=2026-11-23")
        .await;
    assert_eq!(status, 200, "{report}");
    let figures = |f: &Value| {
        json!([
            f["threads"],
            f["met"],
            f["missed"],
            f["compliance_percent"],
            f["first_response_median_minutes"],
            f["first_response_p90_minutes"],
            f["overdue_open"]
        ])
    };
    // Complaints: minutes 15, 90, 120, 570; nearest-rank median the 2nd, p90 the 4th.
    assert_eq!(
        figures(&report["categories"]["complaint"]),
        json!([4, 3, 1, 75.0, 90, 570, 0])
    );
    assert_eq!(
        figures(&report["categories"]["urgent"]),
        json!([2, 0, 1, 0.0, 90, 90, 1])
    );
    assert_eq!(
        figures(&report["channels"]["web"]),
        json!([6, 3, 2, 60.0, 90, 570, 1])
    );
    // Luc: 90 (business), 120 (business), 90 (calendar), two met; Ana: 570 and 15, one met.
    assert_eq!(
        report["agents"],
        json!({
            "Luc": { "answers": 3, "median_minutes": 90, "met_percent": 66.7 },
            "Ana": { "answers": 2, "median_minutes": 15, "met_percent": 50.0 },
        })
    );
    let weeks: Vec<Value> = report["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            json!([
                w["week"],
                w["categories"]["complaint"]["compliance_percent"],
                w["categories"]["urgent"]["compliance_percent"]
            ])
        })
        .collect();
    assert_eq!(
        weeks,
        [
            json!(["2026-W47", 66.7, 0.0]),
            json!(["2026-W48", 100.0, null])
        ]
    );

    // A longer range (read in slices side by side) holding the same threads: the same report.
    let (_, longer) = app
        .staff_get("/api/report?from=2026-11-20&to=2026-11-30")
        .await;
    for group in ["categories", "channels", "agents", "weeks"] {
        assert_eq!(longer[group], report[group], "{group}");
    }

    // The export: one row per thread of the range, the agent who answered, met or missed.
    let csv = helpers::text(
        app.client
            .get(app.url("/api/export.csv?from=2026-11-20&to=2026-11-23"))
            .bearer_auth(TOKEN),
    )
    .await;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<(String, String, String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[2].to_owned(),
                r[5].to_owned(),
                r[6].to_owned(),
                r[8].to_owned(),
            )
        })
        .collect();
    let row = |c: &str, m: &str, s: &str, a: &str| (c.into(), m.into(), s.into(), a.into());
    assert_eq!(
        rows,
        [
            row("complaint", "570", "missed", "Ana"),
            row("complaint", "90", "met", "Luc"),
            row("complaint", "15", "met", "Ana"),
            row("urgent", "90", "missed", "Luc"),
            row("complaint", "120", "met", "Luc"),
            row("urgent", "", "overdue", ""),
        ]
    );
}
