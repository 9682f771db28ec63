//! What alerts and the daily digest say to staff outside Discord — an e-mail's subject and
//! body, the alerts webhook's JSON — and the digest's post for the Discord alerts channel.
//! French first, then English.
//!
//! Pure: the job's snapshot, the city's time zone and the desk's address in, text out. The
//! couriers (`forwarders::email`, `forwarders::alert_webhook`, the Discord alerts courier)
//! send it; nothing here reads the clock, so every attempt sends the same words.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::config::DeskSettings;
use crate::domain::digest::{Digest, Listed, RequestDue};
use crate::domain::outbox::Reply;
use crate::domain::privacy::RequestKind;
use crate::domain::thread::{Alerted, ThreadId};
use crate::domain::Category;

/// An e-mail as it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

/// A category in French and in English.
fn category_names(category: Category) -> (&'static str, &'static str) {
    match category {
        Category::Urgent => ("urgence", "urgent"),
        Category::Info => ("information", "information"),
        Category::Complaint => ("plainte", "complaint"),
    }
}

/// `2026-11-16 14:00` in the city's time.
fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// A span of time in French and in English: `2 j 3 h` / `2 d 3 h`, `1 h 05` / `1 h 05`,
/// `45 min`.
fn span(d: Duration) -> (String, String) {
    let minutes = d.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    if days > 0 {
        (format!("{days} j {hours} h"), format!("{days} d {hours} h"))
    } else if hours > 0 {
        let s = format!("{hours} h {mins:02}");
        (s.clone(), s)
    } else {
        let s = format!("{mins} min");
        (s.clone(), s)
    }
}

/// What an alert says, whatever carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertFacts {
    /// `at_risk` or `overdue`.
    pub level: &'static str,
    pub thread_id: ThreadId,
    pub category: Category,
    pub channel: String,
    pub due_at: DateTime<Utc>,
    /// When the watcher saw the transition.
    pub alerted_at: DateTime<Utc>,
    /// Minutes left before the target (at risk) or past it (overdue), at `alerted_at`.
    pub minutes: i64,
    /// The thread on the desk, when `[desk] public_url` is set.
    pub desk_url: Option<String>,
}

impl AlertFacts {
    /// The facts of an alert job's snapshot; `None` for a job that carries no alert.
    pub fn of(reply: &Reply, desk: &DeskSettings) -> Option<AlertFacts> {
        let (info, alerted) = (reply.post.as_ref()?, reply.alert?);
        let level = match alerted {
            Alerted::Overdue => "overdue",
            Alerted::AtRisk => "at_risk",
            Alerted::None => return None,
        };
        let gap = if alerted == Alerted::Overdue {
            reply.at - info.due_at
        } else {
            info.due_at - reply.at
        };
        Some(AlertFacts {
            level,
            thread_id: reply.thread_id,
            category: info.category,
            channel: reply.channel.clone(),
            due_at: info.due_at,
            alerted_at: reply.at,
            minutes: gap.num_minutes().max(0),
            desk_url: desk.thread_link(&reply.thread_id.to_string()),
        })
    }

    fn overdue(&self) -> bool {
        self.level == "overdue"
    }
}

/// The e-mail of an alert.
pub fn alert_mail(f: &AlertFacts, tz: Tz) -> Mail {
    let (cat_fr, cat_en) = category_names(f.category);
    let (gap_fr, gap_en) = span(Duration::minutes(f.minutes));
    let (state_fr, state_en, gap_label_fr, gap_label_en) = if f.overdue() {
        ("en retard", "overdue", "Retard", "Late by")
    } else {
        ("à risque", "at risk", "Temps restant", "Time left")
    };
    let reference = f.thread_id.to_string();
    let subject = format!("[guichet] {reference} {state_fr} ({cat_fr}) / {state_en} ({cat_en})");
    let due = local(f.due_at, tz);
    let seen = local(f.alerted_at, tz);
    let mut fr = format!(
        "Le fil {reference} ({cat_fr}, canal {channel}) est {state_fr}.\n\
         Échéance : {due} (heure locale)\n\
         {gap_label_fr} : {gap_fr} (à {seen}, au moment de l'alerte)\n",
        channel = f.channel
    );
    let mut en = format!(
        "Thread {reference} ({cat_en}, {channel} channel) is {state_en}.\n\
         Due: {due} (local time)\n\
         {gap_label_en}: {gap_en} (at {seen}, when the alert was raised)\n",
        channel = f.channel
    );
    if let Some(url) = &f.desk_url {
        fr.push_str(&format!("Ouvrir au bureau : {url}\n"));
        en.push_str(&format!("Open on the desk: {url}\n"));
    }
    Mail {
        subject,
        body: format!("{fr}\n---\n\n{en}"),
    }
}

/// The alerts webhook's body: the facts, and the job id to recognise a redelivery.
pub fn alert_json(idempotency_key: &str, f: &AlertFacts) -> serde_json::Value {
    serde_json::json!({
        "idempotency_key": idempotency_key,
        "alert": f.level,
        "thread_id": f.thread_id,
        "category": f.category,
        "channel": f.channel,
        "due_at": f.due_at,
        "alerted_at": f.alerted_at,
        "minutes": f.minutes,
        "desk_url": f.desk_url,
    })
}

/// One listed thread: reference, category, due time, and a desk link when there is one.
fn listed_line(l: &Listed, tz: Tz, desk: &DeskSettings, fr: bool) -> String {
    let (cat_fr, cat_en) = category_names(l.category);
    let reference = l.thread_id.to_string();
    let due = local(l.due_at, tz);
    let mut line = if fr {
        format!("  - {reference} ({cat_fr}), échéance {due}")
    } else {
        format!("  - {reference} ({cat_en}), due {due}")
    };
    if let Some(url) = desk.thread_link(&reference) {
        line.push_str(&format!(" — {url}"));
    }
    line
}

/// One request: its number, kind, due date and days left (or late).
fn request_line(r: &RequestDue, fr: bool) -> String {
    let kind = match (r.kind, fr) {
        (RequestKind::Access, true) => "accès",
        (RequestKind::Erasure, true) => "effacement",
        (RequestKind::Access, false) => "access",
        (RequestKind::Erasure, false) => "erasure",
    };
    let (id, due, days) = (r.id, r.due_on, r.days_left);
    match (fr, days < 0) {
        (true, false) => format!("  - demande n° {id} ({kind}) : due le {due}, dans {days} j"),
        (true, true) => format!(
            "  - demande n° {id} ({kind}) : due le {due}, en retard de {} j",
            -days
        ),
        (false, false) => format!("  - request #{id} ({kind}): due {due}, in {days} day(s)"),
        (false, true) => format!(
            "  - request #{id} ({kind}): due {due}, {} day(s) late",
            -days
        ),
    }
}

fn listed_block(items: &[Listed], total: u64, tz: Tz, desk: &DeskSettings, fr: bool) -> String {
    let mut out = String::new();
    for l in items {
        out.push_str(&listed_line(l, tz, desk, fr));
        out.push('\n');
    }
    let more = total.saturating_sub(items.len() as u64);
    if more > 0 {
        out.push_str(&if fr {
            format!("  … et {more} autre(s)\n")
        } else {
            format!("  … and {more} more\n")
        });
    }
    out
}

fn digest_text(d: &Digest, tz: Tz, desk: &DeskSettings, fr: bool) -> String {
    let mut out = if fr {
        format!(
            "Résumé du {day} — hier ({yesterday}) : {r} fil(s) reçu(s), {a} réponse(s) donnée(s), {m} échéance(s) manquée(s).\n\
             Maintenant : {o} fil(s) en retard, {k} à risque.\n",
            day = d.day,
            yesterday = d.yesterday,
            r = d.received,
            a = d.answered,
            m = d.missed,
            o = d.overdue,
            k = d.at_risk
        )
    } else {
        format!(
            "Digest of {day} — yesterday ({yesterday}): {r} thread(s) received, {a} response(s) given, {m} target(s) missed.\n\
             Now: {o} thread(s) overdue, {k} at risk.\n",
            day = d.day,
            yesterday = d.yesterday,
            r = d.received,
            a = d.answered,
            m = d.missed,
            o = d.overdue,
            k = d.at_risk
        )
    };
    if d.overdue > 0 {
        out.push_str(if fr { "En retard :\n" } else { "Overdue:\n" });
        out.push_str(&listed_block(&d.overdue_first, d.overdue, tz, desk, fr));
    }
    if d.at_risk > 0 {
        out.push_str(if fr { "À risque :\n" } else { "At risk:\n" });
        out.push_str(&listed_block(&d.at_risk_first, d.at_risk, tz, desk, fr));
    }
    if !d.requests_due.is_empty() {
        out.push_str(if fr {
            "Demandes de citoyens à échéance proche :\n"
        } else {
            "Citizens' requests nearing their due date:\n"
        });
        for r in &d.requests_due {
            out.push_str(&request_line(r, fr));
            out.push('\n');
        }
    }
    if let Some(base) = desk.home() {
        out.push_str(&if fr {
            format!("Le bureau : {base}\n")
        } else {
            format!("The desk: {base}\n")
        });
    }
    out
}

/// The digest's e-mail.
pub fn digest_mail(d: &Digest, tz: Tz, desk: &DeskSettings) -> Mail {
    Mail {
        subject: format!(
            "[guichet] Résumé du {day} : {o} en retard, {k} à risque / Digest: {o} overdue, {k} at risk",
            day = d.day,
            o = d.overdue,
            k = d.at_risk
        ),
        body: format!(
            "{}\n---\n\n{}",
            digest_text(d, tz, desk, true),
            digest_text(d, tz, desk, false)
        ),
    }
}

/// The digest's post in the Discord alerts channel (Discord's limit is 2,000 characters;
/// five listed threads of each kind keep well within it).
pub fn digest_post(d: &Digest, tz: Tz, desk: &DeskSettings) -> String {
    let text = format!(
        "📋 {}\n{}",
        digest_text(d, tz, desk, true),
        digest_text(d, tz, desk, false)
    );
    text.chars().take(2000).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::MessageKind;
    use crate::domain::outbox::PostInfo;
    use crate::domain::Language;
    use chrono::{NaiveDate, TimeZone};
    use chrono_tz::America::Toronto;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Toronto
            .with_ymd_and_hms(2026, 11, 16, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn desk() -> DeskSettings {
        DeskSettings {
            public_url: "https://guichet.ville.example/".into(),
            ..DeskSettings::default()
        }
    }

    fn alert(level: Alerted, now: DateTime<Utc>) -> Reply {
        Reply {
            thread_id: ThreadId::new(42),
            seq: 7,
            kind: MessageKind::Note,
            channel: "web".into(),
            recipient: "marie".into(),
            text: String::new(),
            language: Language::Fr,
            agent: None,
            last_citizen_at: at(9, 0),
            at: now,
            post: Some(PostInfo {
                opens: false,
                category: Category::Complaint,
                confidence: 0.9,
                reasons: String::new(),
                due_at: at(14, 0),
                needs_triage: false,
                abusive: false,
            }),
            post_id: None,
            alert: Some(level),
        }
    }

    #[test]
    fn an_overdue_alert_mail_says_how_late_in_french_first_with_the_desk_link() {
        let f = AlertFacts::of(&alert(Alerted::Overdue, at(15, 5)), &desk()).unwrap();
        let mail = alert_mail(&f, Toronto);
        assert_eq!(
            mail.subject,
            "[guichet] G-000042 en retard (plainte) / overdue (complaint)"
        );
        let fr = mail.body.find("Le fil G-000042").unwrap();
        let en = mail.body.find("Thread G-000042").unwrap();
        assert!(fr < en, "French first");
        assert!(mail.body.contains("Échéance : 2026-11-16 14:00"));
        assert!(mail.body.contains("Retard : 1 h 05"));
        assert!(mail.body.contains("Late by: 1 h 05"));
        assert!(mail
            .body
            .contains("https://guichet.ville.example/desk/threads/G-000042"));
        assert!(!mail.body.contains("marie"), "no sender identity");
    }

    #[test]
    fn an_at_risk_alert_says_the_time_left_and_has_no_link_without_a_public_url() {
        let f =
            AlertFacts::of(&alert(Alerted::AtRisk, at(11, 0)), &DeskSettings::default()).unwrap();
        assert_eq!(
            (f.level, f.minutes, f.desk_url.clone()),
            ("at_risk", 180, None)
        );
        let mail = alert_mail(&f, Toronto);
        assert!(mail.body.contains("Temps restant : 3 h 00"));
        assert!(mail.body.contains("Time left: 3 h 00"));
        assert!(!mail.body.contains("/desk/"));
        let json = alert_json("G-000042-7-alert_webhook", &f);
        assert_eq!(json["alert"], "at_risk");
        assert_eq!(json["thread_id"], "G-000042");
        assert_eq!(json["idempotency_key"], "G-000042-7-alert_webhook");
    }

    #[test]
    fn the_digest_counts_and_names_the_first_threads_with_links() {
        let listed = |n| Listed {
            thread_id: ThreadId::new(n),
            category: Category::Urgent,
            due_at: at(9, 0),
        };
        let d = Digest {
            day: NaiveDate::from_ymd_opt(2026, 11, 17).unwrap(),
            seq: 0,
            yesterday: NaiveDate::from_ymd_opt(2026, 11, 16).unwrap(),
            made_at: at(8, 0),
            received: 12,
            answered: 9,
            missed: 2,
            overdue: 7,
            at_risk: 1,
            overdue_first: (1..=5).map(listed).collect(),
            at_risk_first: vec![listed(9)],
            requests_due: vec![
                RequestDue {
                    id: 3,
                    kind: RequestKind::Access,
                    due_on: NaiveDate::from_ymd_opt(2026, 11, 15).unwrap(),
                    days_left: -2,
                },
                RequestDue {
                    id: 4,
                    kind: RequestKind::Erasure,
                    due_on: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
                    days_left: 3,
                },
            ],
        };
        let mail = digest_mail(&d, Toronto, &desk());
        assert!(mail.subject.contains("7 en retard, 1 à risque"));
        assert!(mail.body.starts_with("Résumé du 2026-11-17"));
        for line in [
            "12 fil(s) reçu(s), 9 réponse(s) donnée(s), 2 échéance(s) manquée(s)",
            "12 thread(s) received, 9 response(s) given, 2 target(s) missed",
            "… et 2 autre(s)",
            "… and 2 more",
            "G-000009 (urgence), échéance 2026-11-16 09:00 — https://guichet.ville.example/desk/threads/G-000009",
            "Le bureau : https://guichet.ville.example/desk\n",
            "demande n° 3 (accès) : due le 2026-11-15, en retard de 2 j\n",
            "demande n° 4 (effacement) : due le 2026-11-20, dans 3 j\n",
            "request #3 (access): due 2026-11-15, 2 day(s) late\n",
            "request #4 (erasure): due 2026-11-20, in 3 day(s)\n",
        ] {
            assert!(mail.body.contains(line), "{line:?} in {}", mail.body);
        }
        assert!(digest_post(&d, Toronto, &desk()).chars().count() <= 2000);
    }
}
