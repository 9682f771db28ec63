//! The coordinator's daily digest: what was received, answered and missed the day before,
//! and what is overdue and at risk now; and when the next digest is due.
//!
//! Pure: threads, the calendar and `now` in, a [`Digest`] or an instant out. The digest task
//! (`crate::digest`) reads the clock and the store; the outbox sends the digest.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::calendar::Calendar;
use super::privacy::RequestKind;
use super::sla::SlaStatus;
use super::thread::{Thread, ThreadId};
use super::Category;

/// How many overdue (and at-risk) threads a digest names; the counts cover them all.
pub const LISTED: usize = 5;

/// Which days a digest goes out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestDays {
    /// The city's business days: its business weekdays, less the holidays.
    #[default]
    Business,
    /// Every day.
    Every,
}

/// A thread a digest names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listed {
    pub thread_id: ThreadId,
    pub category: Category,
    pub due_at: DateTime<Utc>,
}

/// One digest, as it is sent: a snapshot taken when it was queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    /// The city-local day it is sent for (its jobs are named after it).
    pub day: NaiveDate,
    /// Its number on that day: 0 for the first; `guichet digest --now` may add more.
    pub seq: u32,
    /// The day reported on: the one before `day`.
    pub yesterday: NaiveDate,
    pub made_at: DateTime<Utc>,
    /// Threads opened yesterday.
    pub received: u64,
    /// Responses given yesterday (a clock stopped by an answer or a resolution).
    pub answered: u64,
    /// Targets that passed yesterday without an answer.
    pub missed: u64,
    /// Running clocks past their target now.
    pub overdue: u64,
    /// Running clocks past their at-risk share now.
    pub at_risk: u64,
    /// The first overdue threads, the latest first.
    pub overdue_first: Vec<Listed>,
    /// The first threads at risk, the soonest due first.
    pub at_risk_first: Vec<Listed>,
    /// Citizens' access and erasure requests due within a few days, or late, soonest first
    /// (never who made them: a digest goes by e-mail).
    #[serde(default)]
    pub requests_due: Vec<RequestDue>,
}

/// An access or erasure request a digest names: its number, kind and legal due date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestDue {
    pub id: u64,
    pub kind: RequestKind,
    pub due_on: NaiveDate,
    /// Calendar days left on the digest's day (negative once late).
    pub days_left: i64,
}

/// What the store keeps of a day's digests, so that the day's is queued once, even across
/// restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestRecord {
    pub day: NaiveDate,
    /// Digests queued that day (the next one's `seq`).
    pub count: u32,
    pub last_at: DateTime<Utc>,
    /// Who asked for the last one: `schedule`, or the member who ran `guichet digest --now`.
    pub last_by: String,
}

/// The digest for the city-local day of `now`, over every thread.
pub fn build<T: std::borrow::Borrow<Thread>>(
    threads: impl IntoIterator<Item = T>,
    calendar: &Calendar,
    now: DateTime<Utc>,
    seq: u32,
) -> Digest {
    let tz = calendar.tz();
    let day = now.with_timezone(&tz).date_naive();
    let yesterday = day.pred_opt().unwrap_or(day);
    let on_yesterday = |at: DateTime<Utc>| at.with_timezone(&tz).date_naive() == yesterday;
    let mut digest = Digest {
        day,
        seq,
        yesterday,
        made_at: now,
        received: 0,
        answered: 0,
        missed: 0,
        overdue: 0,
        at_risk: 0,
        overdue_first: Vec::new(),
        at_risk_first: Vec::new(),
        requests_due: Vec::new(),
    };
    let mut overdue = Vec::new();
    let mut at_risk = Vec::new();
    for t in threads {
        let t = t.borrow();
        if on_yesterday(t.opened_at) {
            digest.received += 1;
        }
        for clock in t.clocks.iter().chain(std::iter::once(&t.clock)) {
            if clock.stopped_at.is_some_and(on_yesterday) {
                digest.answered += 1;
            }
            let unanswered_then = !matches!(clock.stopped_at, Some(s) if s <= clock.due_at);
            if on_yesterday(clock.due_at) && unanswered_then && clock.due_at <= now {
                digest.missed += 1;
            }
        }
        let listed = Listed {
            thread_id: t.id,
            category: t.category,
            due_at: t.clock.due_at,
        };
        match t.clock.status(now) {
            SlaStatus::Overdue => overdue.push(listed),
            SlaStatus::AtRisk => at_risk.push(listed),
            _ => {}
        }
    }
    digest.overdue = overdue.len() as u64;
    digest.at_risk = at_risk.len() as u64;
    // The latest overdue first: they have waited longest.
    overdue.sort_by_key(|l| (l.due_at, l.thread_id));
    at_risk.sort_by_key(|l| (l.due_at, l.thread_id));
    overdue.truncate(LISTED);
    at_risk.truncate(LISTED);
    digest.overdue_first = overdue;
    digest.at_risk_first = at_risk;
    digest
}

/// Whether a digest goes out on `date`.
pub fn is_digest_day(date: NaiveDate, days: DigestDays, calendar: &Calendar) -> bool {
    match days {
        DigestDays::Every => true,
        DigestDays::Business => {
            calendar.hours().days.contains(&date.weekday()) && !calendar.is_holiday(date)
        }
    }
}

/// When the next digest is due, seen at `now`: today's at `at` (city-local) if today is a
/// digest day and today's was not sent yet — possibly already past, when guichet was not
/// running at that time: it is then due at once — else the next digest day's. `None` only
/// when no digest day comes within a year.
pub fn next_run(
    now: DateTime<Utc>,
    at: NaiveTime,
    days: DigestDays,
    calendar: &Calendar,
    sent_today: bool,
) -> Option<DateTime<Utc>> {
    let tz = calendar.tz();
    let today = now.with_timezone(&tz).date_naive();
    (0..=366)
        .filter_map(|n| today.checked_add_signed(Duration::days(n)))
        .filter(|d| !(*d == today && sent_today))
        .find(|d| is_digest_day(*d, days, calendar))
        .map(|d| {
            let local = d.and_time(at);
            match tz.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
                // A time skipped by a change to summer time: an hour later.
                LocalResult::None => tz
                    .from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
                    .map_or(now, |t| t.with_timezone(&Utc)),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::BusinessHours;
    use crate::domain::message::{Channel, Sender};
    use crate::domain::sla::{ClockKind, Counting, SlaPolicy, Target};
    use crate::domain::thread::Triage;
    use crate::domain::Language;
    use chrono_tz::America::Toronto;

    fn calendar() -> Calendar {
        Calendar::new(Toronto, BusinessHours::default(), Vec::new()).unwrap()
    }

    /// City-local time on a day of November 2026 (Monday the 16th, Friday the 20th).
    fn local(day: u32, h: u32, m: u32) -> DateTime<Utc> {
        Toronto
            .with_ymd_and_hms(2026, 11, day, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn eight() -> NaiveTime {
        NaiveTime::from_hms_opt(8, 0, 0).unwrap()
    }

    #[test]
    fn the_digest_is_due_at_the_local_time_today_until_it_is_sent() {
        let c = calendar();
        let before = next_run(local(16, 7, 0), eight(), DigestDays::Business, &c, false);
        assert_eq!(before, Some(local(16, 8, 0)));
        let missed = next_run(local(16, 15, 0), eight(), DigestDays::Business, &c, false);
        assert_eq!(missed, Some(local(16, 8, 0)), "late, but still today's");
        let sent = next_run(local(16, 9, 0), eight(), DigestDays::Business, &c, true);
        assert_eq!(sent, Some(local(17, 8, 0)));
    }

    #[test]
    fn business_digests_skip_the_weekend_and_holidays_every_day_ones_do_not() {
        let c = calendar();
        // Friday the 20th, sent: Monday the 23rd.
        let friday = next_run(local(20, 9, 0), eight(), DigestDays::Business, &c, true);
        assert_eq!(friday, Some(local(23, 8, 0)));
        let every = next_run(local(20, 9, 0), eight(), DigestDays::Every, &c, true);
        assert_eq!(every, Some(local(21, 8, 0)));
        // Christmas 2026 is a Friday: from Thursday the 24th, the next is Monday the 28th.
        let christmas_eve = Toronto
            .with_ymd_and_hms(2026, 12, 24, 9, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let next = next_run(christmas_eve, eight(), DigestDays::Business, &c, true).unwrap();
        assert_eq!(
            next.with_timezone(&Toronto).date_naive(),
            NaiveDate::from_ymd_opt(2026, 12, 28).unwrap()
        );
    }

    fn policy() -> SlaPolicy {
        let t = |h| Target::new(Duration::hours(h), Counting::Calendar);
        SlaPolicy::new(
            calendar(),
            [
                (Category::Urgent, t(1)),
                (Category::Info, t(24)),
                (Category::Complaint, t(48)),
            ],
            0.75,
        )
        .unwrap()
    }

    fn thread(id: u64, category: Category, opened: DateTime<Utc>) -> Thread {
        Thread::open(
            ThreadId::new(id),
            Channel::parse("web").unwrap(),
            Sender::parse(&format!("s{id}")).unwrap(),
            opened,
            Triage {
                category,
                language: Language::Fr,
                confidence: 0.9,
            },
            &policy(),
        )
    }

    #[test]
    fn the_digest_counts_yesterday_and_lists_what_is_late_now() {
        let now = local(17, 8, 0);
        // Opened yesterday, answered in time yesterday.
        let mut met = thread(1, Category::Urgent, local(16, 10, 0));
        met.clock.stop(local(16, 10, 30));
        // Opened yesterday, answered late yesterday: answered and missed.
        let mut late = thread(2, Category::Urgent, local(16, 11, 0));
        late.clock.stop(local(16, 13, 0));
        // Opened yesterday, never answered: missed yesterday, overdue now.
        let open = thread(3, Category::Urgent, local(16, 12, 0));
        // Opened the day before, due now-ish: at risk now.
        let risky = thread(4, Category::Info, local(16, 9, 0));
        // Opened this morning: neither.
        let fresh = thread(5, Category::Complaint, local(17, 7, 0));
        let threads = [met, late, open, risky, fresh];
        let d = build(&threads, &calendar(), now, 0);
        assert_eq!(d.day, NaiveDate::from_ymd_opt(2026, 11, 17).unwrap());
        assert_eq!(d.yesterday, NaiveDate::from_ymd_opt(2026, 11, 16).unwrap());
        assert_eq!((d.received, d.answered, d.missed), (4, 2, 2));
        assert_eq!((d.overdue, d.at_risk), (1, 1));
        assert_eq!(d.overdue_first[0].thread_id, ThreadId::new(3));
        assert_eq!(d.at_risk_first[0].thread_id, ThreadId::new(4));
        assert_eq!(threads[0].clock.kind, ClockKind::FirstResponse);
    }
}
