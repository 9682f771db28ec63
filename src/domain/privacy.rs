//! Citizens' personal information under Quebec's access-to-information act: what an
//! anonymised thread keeps, the legal due dates of access and erasure requests, the register
//! of confidentiality incidents, the journal of privacy actions, and when the retention purge
//! is due. Pure: `now` and the city's time zone are parameters.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::message::{Sender, StoredMessage};
use super::thread::{Thread, ThreadState};

/// The sender of an anonymised thread. Export, erasure and requests refuse it as a sender.
pub const ANONYMOUS: &str = "~anonymised";

/// What an anonymised message holds instead of its text.
pub const ERASED_TEXT: &str = "[effacé · erased]";

/// Calendar days the city has to answer a request (access-to-information act, s. 47).
pub const DUE_DAYS: i64 = 20;
/// Calendar days one extension adds, given with notice before the first deadline.
pub const EXTENSION_DAYS: i64 = 10;

/// The name and version of the export document (see `docs/citizen-export.md`).
pub const EXPORT_SCHEMA: &str = "guichet.citizen-export";
pub const EXPORT_VERSION: u32 = 1;

/// The sender every anonymised thread gets.
pub fn anonymous() -> Sender {
    Sender::parse(ANONYMOUS).expect("a valid sender")
}

/// Whether `sender` names a person (not the placeholder of anonymised threads).
pub fn is_person(sender: &Sender) -> bool {
    sender.as_str() != ANONYMOUS
}

/// The thread without what identifies its citizen: the sender, and the remote references
/// that lead to copies of their messages. Its dates, category, state and clocks (the
/// report's statistics) are kept.
pub fn anonymise_thread(t: &Thread) -> Thread {
    let mut out = t.clone();
    out.sender = anonymous();
    for ticket in &mut out.tickets {
        ticket.ticket_id = None;
    }
    out
}

/// The message without its text, its masked copy or its platform id; who wrote it (the
/// citizen, guichet, an agent) and when are kept.
pub fn anonymise_message(m: &StoredMessage) -> StoredMessage {
    StoredMessage {
        text: ERASED_TEXT.to_owned(),
        masked: None,
        platform_id: None,
        ..m.clone()
    }
}

/// A resolved thread whose last message is older than `days` at `now`, not yet anonymised.
pub fn past_retention(t: &Thread, days: u32, now: DateTime<Utc>) -> bool {
    t.state == ThreadState::Resolved
        && is_person(&t.sender)
        && t.last_message_at < now - Duration::days(i64::from(days))
}

/// The purge's time on a city-local day (an hour later when a daylight-saving change skips it).
fn scheduled_on(day: NaiveDate, at: NaiveTime, tz: Tz) -> DateTime<Utc> {
    let local = day.and_time(at);
    tz.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&local))
}

/// The latest time the daily purge was scheduled for, at or before `now` (city-local `at`).
pub fn last_scheduled_purge(at: NaiveTime, tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    let today_at = scheduled_on(today, at, tz);
    if today_at <= now {
        today_at
    } else {
        scheduled_on(today - Duration::days(1), at, tz)
    }
}

/// The next time the daily purge is scheduled for, after `now`.
pub fn next_scheduled_purge(at: NaiveTime, tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    let today_at = scheduled_on(today, at, tz);
    if today_at > now {
        today_at
    } else {
        scheduled_on(today + Duration::days(1), at, tz)
    }
}

/// The purge missed its last scheduled time (guichet was not running, or never purged).
pub fn purge_overdue(
    last_run: Option<DateTime<Utc>>,
    at: NaiveTime,
    tz: Tz,
    now: DateTime<Utc>,
) -> bool {
    last_run.map_or(true, |last| last < last_scheduled_purge(at, tz, now))
}

/// What a citizen asked the city for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// What the city holds on them.
    Access,
    /// That the city destroy what it holds on them.
    Erasure,
}

impl RequestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Access => "access",
            RequestKind::Erasure => "erasure",
        }
    }
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RequestKind {
    type Err = String;

    fn from_str(s: &str) -> Result<RequestKind, String> {
        match s.trim() {
            "access" => Ok(RequestKind::Access),
            "erasure" => Ok(RequestKind::Erasure),
            other => Err(format!(
                "unknown request kind \"{}\": use access or erasure",
                other.chars().take(40).collect::<String>()
            )),
        }
    }
}

/// The one extension the act allows, with the notice given to the citizen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extension {
    pub notice: String,
    pub by: String,
    pub at: DateTime<Utc>,
    pub due_on: NaiveDate,
}

/// Days ahead of its due date an open request is shown as nearing it (on the desk, in the
/// digest, and by `GET /api/requests?state=nearing`).
pub const NEARING_DAYS: i64 = 5;

/// A citizen's access or erasure request, with its legal due date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRequest {
    pub id: u64,
    pub channel: String,
    /// The citizen's identity on the channel ([`ANONYMOUS`] once they are erased).
    pub sender: String,
    pub kind: RequestKind,
    /// The city-local day the request was received.
    pub received_on: NaiveDate,
    /// `received_on` plus 20 calendar days.
    pub due_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<Extension>,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_by: Option<String>,
}

impl DataRequest {
    /// A request received on `received_on`, due 20 calendar days later (weekends and
    /// holidays count).
    pub fn new(
        id: u64,
        channel: &str,
        sender: &str,
        kind: RequestKind,
        received_on: NaiveDate,
        by: &str,
        now: DateTime<Utc>,
    ) -> DataRequest {
        DataRequest {
            id,
            channel: channel.to_owned(),
            sender: sender.to_owned(),
            kind,
            received_on,
            due_on: received_on + Duration::days(DUE_DAYS),
            extension: None,
            recorded_by: by.to_owned(),
            recorded_at: now,
            closed_at: None,
            closed_by: None,
        }
    }

    /// The date the answer is due: the first deadline, or the extended one.
    pub fn due(&self) -> NaiveDate {
        self.extension.as_ref().map_or(self.due_on, |e| e.due_on)
    }

    pub fn is_open(&self) -> bool {
        self.closed_at.is_none()
    }

    /// Calendar days from `today` to the due date (negative once late).
    pub fn days_left(&self, today: NaiveDate) -> i64 {
        (self.due() - today).num_days()
    }

    /// Open, and due within `days` of `today` (late ones included).
    pub fn nearing(&self, today: NaiveDate, days: i64) -> bool {
        self.is_open() && self.days_left(today) <= days
    }

    /// Extends the deadline by 10 days, with the notice given to the citizen.
    ///
    /// # Errors
    /// Closed, already extended, past the first deadline, or an empty notice.
    pub fn extend(
        &mut self,
        notice: &str,
        by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<(), String> {
        let notice = notice.trim();
        if notice.is_empty() {
            return Err("the extension needs the notice given to the citizen (--notice)".into());
        }
        if !self.is_open() {
            return Err(format!("request {} is closed", self.id));
        }
        if self.extension.is_some() {
            return Err(format!(
                "request {} was already extended: the act allows one extension",
                self.id
            ));
        }
        if today > self.due_on {
            return Err(format!(
                "request {} was due on {}: an extension must be given before the first deadline",
                self.id, self.due_on
            ));
        }
        self.extension = Some(Extension {
            notice: notice.chars().take(2000).collect(),
            by: by.to_owned(),
            at: now,
            due_on: self.due_on + Duration::days(EXTENSION_DAYS),
        });
        Ok(())
    }

    /// Records that the city answered.
    ///
    /// # Errors
    /// Already closed.
    pub fn close(&mut self, by: &str, now: DateTime<Utc>) -> Result<(), String> {
        if !self.is_open() {
            return Err(format!("request {} is already closed", self.id));
        }
        self.closed_at = Some(now);
        self.closed_by = Some(by.to_owned());
        Ok(())
    }
}

/// Who recorded a confidentiality incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentSource {
    /// A staff member, by hand.
    Staff,
    /// guichet, on detecting personal data about to leave where it should not.
    Guichet,
}

/// An entry of the register of confidentiality incidents, with what Quebec's regulation
/// respecting confidentiality incidents asks the register to hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivacyIncident {
    pub id: u64,
    /// The circumstances: what happened.
    pub what: String,
    /// When it happened: a date, or a period `YYYY-MM-DD..YYYY-MM-DD`.
    pub when: String,
    /// When the city learned of it.
    pub known_on: NaiveDate,
    /// The personal information concerned.
    pub data: String,
    /// The number of people concerned (an estimate when not known exactly).
    pub people: u64,
    /// The assessment of the risk of serious injury.
    pub risk: String,
    /// A risk of serious injury: the Commission and the people must be told.
    pub serious: bool,
    /// The measures taken to reduce the risk and prevent another incident.
    pub measures: String,
    /// The notices sent (to the Commission, to the people, public notice), with dates.
    pub notifications: String,
    pub source: IncidentSource,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// The fields of a new incident, as a person or guichet gives them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IncidentFields {
    pub what: Option<String>,
    pub when: Option<String>,
    pub known_on: Option<String>,
    pub data: Option<String>,
    pub people: Option<u64>,
    pub risk: Option<String>,
    #[serde(default)]
    pub serious: bool,
    pub measures: Option<String>,
    pub notifications: Option<String>,
}

fn date(field: &str, raw: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        format!(
            "{field} \"{}\" is not a date such as 2026-11-30",
            raw.chars().take(30).collect::<String>()
        )
    })
}

/// A date, or a period `YYYY-MM-DD..YYYY-MM-DD` that does not end before it starts.
///
/// # Errors
/// Anything else, as a sentence.
pub fn parse_when(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    match raw.split_once("..") {
        None => Ok(date("--when", raw)?.to_string()),
        Some((a, b)) => {
            let (a, b) = (date("--when", a)?, date("--when", b)?);
            if b < a {
                return Err(format!("the period {a}..{b} ends before it starts"));
            }
            Ok(format!("{a}..{b}"))
        }
    }
}

impl IncidentFields {
    /// The register's entry, once every required field is there.
    ///
    /// # Errors
    /// A missing or empty field, a bad date, as one sentence.
    pub fn parse(
        self,
        id: u64,
        source: IncidentSource,
        by: &str,
        today: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<PrivacyIncident, String> {
        let text = |name: &str, v: Option<String>, required: bool| -> Result<String, String> {
            let v = v.unwrap_or_default().trim().to_owned();
            if required && v.is_empty() {
                return Err(format!("the field {name} is required"));
            }
            if v.chars().count() > 4000 {
                return Err(format!("the field {name} holds at most 4000 characters"));
            }
            Ok(v)
        };
        let known_on = match self.known_on.as_deref().map(str::trim) {
            None | Some("") => today,
            Some(d) => date("known_on", d)?,
        };
        Ok(PrivacyIncident {
            id,
            what: text("what", self.what, true)?,
            when: parse_when(&text("when", self.when, true)?)?,
            known_on,
            data: text("data", self.data, true)?,
            people: self.people.unwrap_or(0),
            risk: text("risk", self.risk, false)?,
            serious: self.serious,
            measures: text("measures", self.measures, false)?,
            notifications: text("notifications", self.notifications, false)?,
            source,
            recorded_by: by.to_owned(),
            recorded_at: now,
        })
    }
}

/// What a privacy action was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JournalKind {
    Export,
    Erasure,
    Purge,
    Request,
    Extension,
    RequestClosed,
    Incident,
}

/// One line of the journal of privacy actions: who did what, when, and how much, never
/// whose data (an erasure's entry says how many threads, not whose).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub at: DateTime<Utc>,
    pub kind: JournalKind,
    pub actor: String,
    pub detail: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 15, 0, 0).unwrap()
    }

    #[test]
    fn a_request_is_due_twenty_calendar_days_later_across_weekends_and_holidays() {
        // Received on a Friday before Christmas: weekends and holidays count.
        let r = DataRequest::new(
            1,
            "web",
            "a",
            RequestKind::Access,
            day(2026, 12, 18),
            "x",
            now(),
        );
        assert_eq!(r.due(), day(2027, 1, 7));
        assert_eq!(r.days_left(day(2027, 1, 2)), 5);
        assert!(r.nearing(day(2027, 1, 2), 5));
        assert!(!r.nearing(day(2027, 1, 1), 5));
        assert!(r.nearing(day(2027, 1, 20), 5), "a late request stays shown");
    }

    #[test]
    fn one_extension_of_ten_days_only_before_the_first_deadline() {
        let mut r = DataRequest::new(
            1,
            "web",
            "a",
            RequestKind::Erasure,
            day(2026, 11, 2),
            "x",
            now(),
        );
        assert!(r.extend("", "x", day(2026, 11, 10), now()).is_err());
        let mut late = r.clone();
        assert!(late.extend("avis", "x", day(2026, 11, 23), now()).is_err());
        r.extend("avis envoyé", "x", day(2026, 11, 22), now())
            .unwrap();
        assert_eq!(r.due(), day(2026, 12, 2));
        assert!(r.extend("encore", "x", day(2026, 11, 22), now()).is_err());
        r.close("x", now()).unwrap();
        assert!(!r.nearing(day(2026, 12, 2), 5));
    }

    #[test]
    fn an_incident_needs_what_when_and_data() {
        let ok = IncidentFields {
            what: Some("courriel envoyé au mauvais destinataire".into()),
            when: Some("2026-11-28..2026-11-29".into()),
            data: Some("nom, adresse".into()),
            people: Some(2),
            ..IncidentFields::default()
        };
        let i = ok
            .clone()
            .parse(1, IncidentSource::Staff, "m", day(2026, 12, 1), now())
            .unwrap();
        assert_eq!(i.when, "2026-11-28..2026-11-29");
        assert_eq!(i.known_on, day(2026, 12, 1));
        let missing = IncidentFields {
            data: None,
            ..ok.clone()
        };
        assert!(missing
            .parse(1, IncidentSource::Staff, "m", day(2026, 12, 1), now())
            .unwrap_err()
            .contains("data"));
        let backwards = IncidentFields {
            when: Some("2026-11-29..2026-11-28".into()),
            ..ok
        };
        assert!(backwards
            .parse(1, IncidentSource::Staff, "m", day(2026, 12, 1), now())
            .is_err());
    }

    #[test]
    fn the_daily_purge_is_overdue_once_its_local_hour_passed_since_the_last_run() {
        let tz: Tz = "America/Toronto".parse().unwrap();
        let at = NaiveTime::from_hms_opt(3, 30, 0).unwrap();
        // 15:00 UTC is 10:00 in Toronto: today's 03:30 (08:30 UTC) has passed.
        let last = last_scheduled_purge(at, tz, now());
        assert_eq!(last, Utc.with_ymd_and_hms(2026, 12, 1, 8, 30, 0).unwrap());
        assert!(purge_overdue(None, at, tz, now()));
        assert!(purge_overdue(
            Some(last - Duration::minutes(1)),
            at,
            tz,
            now()
        ));
        assert!(!purge_overdue(Some(last), at, tz, now()));
        assert_eq!(
            next_scheduled_purge(at, tz, now()),
            Utc.with_ymd_and_hms(2026, 12, 2, 8, 30, 0).unwrap()
        );
    }
}
