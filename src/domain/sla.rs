//! The SLA clock: each category's response target, and the clock that tells whether a thread
//! is on track, at risk, overdue, or was answered in time (met) or late (missed).
//!
//! Pure: no I/O, no clock reads, no environment. `now` is always a parameter, and a clock
//! stores the instants it was computed with, so that its status never depends on the
//! policy in force when it is read back.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::domain::calendar::Calendar;
use crate::domain::category::Category;

/// The longest target a policy accepts. A longer one is almost always a unit mistake (minutes
/// written as hours), and it bounds the work of counting business time.
const MAX_TARGET_DAYS: i64 = 365;

/// How a target's duration is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counting {
    /// Real elapsed time, nights, weekends and holidays included.
    Calendar,
    /// Only the time the city is open, per its [`Calendar`].
    Business,
}

/// A response target: how long the city has to answer, and how that time is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub duration: Duration,
    pub counting: Counting,
}

impl Target {
    pub fn new(duration: Duration, counting: Counting) -> Target {
        Target { duration, counting }
    }
}

/// Which answer a clock is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// The first answer from an agent on a new thread.
    FirstResponse,
    /// The next answer after the citizen wrote again following an agent's answer.
    NextResponse,
}

impl ClockKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockKind::FirstResponse => "first_response",
            ClockKind::NextResponse => "next_response",
        }
    }
}

impl fmt::Display for ClockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a thread stands against its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaStatus {
    /// Waiting for an answer, with less than the at-risk share of the target used.
    OnTrack,
    /// Waiting for an answer, past the at-risk share of the target.
    AtRisk,
    /// Waiting for an answer, past the target.
    Overdue,
    /// Answered by the due time.
    Met,
    /// Answered after the due time.
    Missed,
}

impl SlaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaStatus::OnTrack => "on_track",
            SlaStatus::AtRisk => "at_risk",
            SlaStatus::Overdue => "overdue",
            SlaStatus::Met => "met",
            SlaStatus::Missed => "missed",
        }
    }
}

impl fmt::Display for SlaStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy that cannot be used.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SlaError {
    #[error(
        "the at-risk share must be between 0 and 1 (for example 0.75 for 75 %), but it is {share}"
    )]
    AtRiskShareOutOfRange { share: f64 },
    #[error("no response target is set for {category} requests")]
    MissingTarget { category: Category },
    #[error("the response target for {category} requests must be longer than zero")]
    TargetNotPositive { category: Category },
    #[error("the response target for {category} requests is longer than {MAX_TARGET_DAYS} days; check its unit")]
    TargetTooLong { category: Category },
}

/// The response targets of every category, the calendar they are counted on, and the share
/// of a target after which a thread is at risk.
#[derive(Debug, Clone)]
pub struct SlaPolicy {
    calendar: Calendar,
    /// Indexed by [`slot`].
    targets: [Target; 3],
    at_risk_share: f64,
}

/// The index of a category's target in [`SlaPolicy::targets`].
fn slot(category: Category) -> usize {
    match category {
        Category::Info => 0,
        Category::Complaint => 1,
        Category::Urgent => 2,
    }
}

impl SlaPolicy {
    /// A policy with one target per category and the share of a target (strictly between 0
    /// and 1) after which a thread is at risk.
    ///
    /// # Errors
    ///
    /// [`SlaError::AtRiskShareOutOfRange`] unless `0 < at_risk_share < 1`;
    /// [`SlaError::MissingTarget`] when a category has no target (the list names one
    /// twice); [`SlaError::TargetNotPositive`] and [`SlaError::TargetTooLong`] when a
    /// duration is not more than zero or is more than a year.
    pub fn new(
        calendar: Calendar,
        targets: [(Category, Target); 3],
        at_risk_share: f64,
    ) -> Result<SlaPolicy, SlaError> {
        // Written so that NaN fails too: every comparison with NaN is false.
        if !(at_risk_share > 0.0 && at_risk_share < 1.0) {
            return Err(SlaError::AtRiskShareOutOfRange {
                share: at_risk_share,
            });
        }
        let mut by_slot: [Option<Target>; 3] = [None; 3];
        for (category, target) in targets {
            if target.duration <= Duration::zero() {
                return Err(SlaError::TargetNotPositive { category });
            }
            if target.duration > Duration::days(MAX_TARGET_DAYS) {
                return Err(SlaError::TargetTooLong { category });
            }
            by_slot[slot(category)] = Some(target);
        }
        let target_of = |category: Category| {
            by_slot[slot(category)].ok_or(SlaError::MissingTarget { category })
        };
        Ok(SlaPolicy {
            calendar,
            targets: [
                target_of(Category::Info)?,
                target_of(Category::Complaint)?,
                target_of(Category::Urgent)?,
            ],
            at_risk_share,
        })
    }

    pub fn target(&self, category: Category) -> &Target {
        &self.targets[slot(category)]
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The time between `start` and `end` as `category`'s target counts it: calendar or
    /// business time.
    pub fn elapsed(
        &self,
        category: Category,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Duration {
        match self.target(category).counting {
            Counting::Calendar => (end - start).max(Duration::zero()),
            Counting::Business => self.calendar.business_between(start, end),
        }
    }

    pub fn at_risk_share(&self) -> f64 {
        self.at_risk_share
    }

    /// A running clock for a thread of `category`, counted from `started_at` (the platform
    /// timestamp of the message that started it).
    pub fn start(&self, kind: ClockKind, category: Category, started_at: DateTime<Utc>) -> Clock {
        let target = self.target(category);
        Clock {
            kind,
            category,
            started_at,
            at_risk_at: self.add(target, started_at, self.at_risk_part(target.duration)),
            due_at: self.add(target, started_at, target.duration),
            stopped_at: None,
        }
    }

    /// The same clock held to `category`'s target: same start, same kind, same answer time
    /// if it was answered, new at-risk and due times.
    ///
    /// It applies whatever category it is given; keeping a thread's category from being
    /// lowered is the thread's rule, not the clock's.
    pub fn recategorize(&self, clock: &Clock, category: Category) -> Clock {
        Clock {
            stopped_at: clock.stopped_at,
            ..self.start(clock.kind, category, clock.started_at)
        }
    }

    /// The at-risk share of `duration`, to the millisecond.
    fn at_risk_part(&self, duration: Duration) -> Duration {
        // Durations are at most a year (checked in `new`), so the milliseconds are exact in
        // an f64 and the rounded product, smaller than the duration, fits in an i64.
        let millis = (duration.num_milliseconds() as f64 * self.at_risk_share).round() as i64;
        Duration::milliseconds(millis)
    }

    fn add(&self, target: &Target, start: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
        match target.counting {
            Counting::Calendar => self.calendar.add_calendar(start, d),
            Counting::Business => self.calendar.add_business(start, d),
        }
    }
}

/// One response clock of a thread, with the instants that decide its status.
///
/// The instants are fixed when the clock starts (or is recategorized), so a stored clock
/// reads the same after a restart, whatever the configuration became since.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Clock {
    pub kind: ClockKind,
    pub category: Category,
    pub started_at: DateTime<Utc>,
    /// From this instant a running clock is at risk.
    pub at_risk_at: DateTime<Utc>,
    /// From this instant a running clock is overdue; an answer by then meets the target.
    pub due_at: DateTime<Utc>,
    /// When an agent answered; `None` while the clock runs.
    pub stopped_at: Option<DateTime<Utc>>,
}

impl Clock {
    /// Where the clock stands at `now`. A stopped clock is met or missed whatever `now` is.
    pub fn status(&self, now: DateTime<Utc>) -> SlaStatus {
        match self.stopped_at {
            Some(stopped) if stopped <= self.due_at => SlaStatus::Met,
            Some(_) => SlaStatus::Missed,
            None if now >= self.due_at => SlaStatus::Overdue,
            None if now >= self.at_risk_at => SlaStatus::AtRisk,
            None => SlaStatus::OnTrack,
        }
    }

    pub fn is_running(&self) -> bool {
        self.stopped_at.is_none()
    }

    /// Stops the clock at `at`, the time of the agent's answer. A clock already stopped
    /// keeps its first answer time: a second answer does not turn a met target into a
    /// missed one.
    pub fn stop(&mut self, at: DateTime<Utc>) {
        if self.stopped_at.is_none() {
            self.stopped_at = Some(at);
        }
    }

    /// The next instant after `now` at which the status of this clock changes, for a watcher
    /// that sleeps until then; `None` once it is overdue or stopped.
    pub fn next_change(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.status(now) {
            SlaStatus::OnTrack => Some(self.at_risk_at),
            SlaStatus::AtRisk => Some(self.due_at),
            SlaStatus::Overdue | SlaStatus::Met | SlaStatus::Missed => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::BusinessHours;
    use crate::testing::{city, local, utc};
    use chrono_tz::America::Toronto;

    fn calendar_hours(h: i64) -> Target {
        Target::new(Duration::hours(h), Counting::Calendar)
    }

    fn business_hours(h: i64) -> Target {
        Target::new(Duration::hours(h), Counting::Business)
    }

    /// The defaults of the design: urgent 1 h, info 24 h, complaint 48 h, at risk at 75 %.
    /// Info is counted in business hours here so that both countings are exercised.
    fn policy() -> SlaPolicy {
        SlaPolicy::new(
            city(),
            [
                (Category::Urgent, calendar_hours(1)),
                (Category::Info, business_hours(24)),
                (Category::Complaint, calendar_hours(48)),
            ],
            0.75,
        )
        .expect("valid policy")
    }

    #[test]
    fn complaint_is_overdue_after_48_calendar_hours() {
        // Saturday, January 17, 2026, 10:00 EST: weekends count in calendar hours.
        let start = utc("2026-01-17T15:00:00Z");
        let clock = policy().start(ClockKind::FirstResponse, Category::Complaint, start);
        assert_eq!(clock.due_at, utc("2026-01-19T15:00:00Z"));
        assert_eq!(clock.status(utc("2026-01-19T14:59:59Z")), SlaStatus::AtRisk);
        assert_eq!(
            clock.status(utc("2026-01-19T15:00:00Z")),
            SlaStatus::Overdue
        );
        assert_eq!(
            clock.status(utc("2026-01-25T00:00:00Z")),
            SlaStatus::Overdue
        );
    }

    #[test]
    fn complaint_is_at_risk_after_75_percent_of_its_target() {
        let start = utc("2026-01-17T15:00:00Z");
        let clock = policy().start(ClockKind::FirstResponse, Category::Complaint, start);
        // 75 % of 48 hours is 36 hours.
        assert_eq!(clock.at_risk_at, utc("2026-01-19T03:00:00Z"));
        assert_eq!(clock.status(start), SlaStatus::OnTrack);
        assert_eq!(
            clock.status(utc("2026-01-19T02:59:59Z")),
            SlaStatus::OnTrack
        );
        assert_eq!(clock.status(utc("2026-01-19T03:00:00Z")), SlaStatus::AtRisk);
    }

    #[test]
    fn a_business_hours_target_is_at_risk_and_due_in_business_hours() {
        let policy = SlaPolicy::new(
            city(),
            [
                (Category::Urgent, calendar_hours(1)),
                (Category::Info, business_hours(8)),
                (Category::Complaint, calendar_hours(48)),
            ],
            0.75,
        )
        .expect("valid policy");
        // Friday, January 16, 2026, 15:30 EST: one business hour that day, then Monday.
        let clock = policy.start(
            ClockKind::FirstResponse,
            Category::Info,
            utc("2026-01-16T20:30:00Z"),
        );
        // 6 business hours (75 % of 8): 1 on Friday, 5 on Monday from 08:30.
        assert_eq!(local(clock.at_risk_at), "2026-01-19 13:30 EST");
        assert_eq!(local(clock.due_at), "2026-01-19 15:30 EST");
        assert_eq!(
            clock.status(utc("2026-01-18T12:00:00Z")),
            SlaStatus::OnTrack
        );
    }

    #[test]
    fn an_answer_by_the_due_time_is_met_and_one_after_is_missed() {
        let policy = policy();
        let start = utc("2026-01-13T14:00:00Z");
        let mut on_time = policy.start(ClockKind::FirstResponse, Category::Urgent, start);
        on_time.stop(utc("2026-01-13T15:00:00Z")); // exactly at the due time
        assert_eq!(on_time.status(utc("2026-02-01T00:00:00Z")), SlaStatus::Met);

        let mut late = policy.start(ClockKind::FirstResponse, Category::Urgent, start);
        late.stop(utc("2026-01-13T15:00:01Z"));
        assert_eq!(late.status(utc("2026-01-13T15:00:01Z")), SlaStatus::Missed);
        assert!(!late.is_running());
    }

    #[test]
    fn stopping_twice_keeps_the_first_answer_time() {
        let start = utc("2026-01-13T14:00:00Z");
        let mut clock = policy().start(ClockKind::FirstResponse, Category::Urgent, start);
        clock.stop(utc("2026-01-13T14:30:00Z"));
        clock.stop(utc("2026-01-13T18:00:00Z"));
        assert_eq!(clock.stopped_at, Some(utc("2026-01-13T14:30:00Z")));
        assert_eq!(clock.status(utc("2026-01-13T18:00:00Z")), SlaStatus::Met);
    }

    #[test]
    fn recategorizing_info_to_urgent_shortens_the_due_time() {
        let policy = policy();
        // Tuesday, January 13, 2026, 09:00 EST.
        let start = utc("2026-01-13T14:00:00Z");
        let info = policy.start(ClockKind::FirstResponse, Category::Info, start);
        // 24 business hours: three full days, so Friday at 09:00.
        assert_eq!(local(info.due_at), "2026-01-16 09:00 EST");

        let urgent = policy.recategorize(&info, Category::Urgent);
        assert_eq!(urgent.category, Category::Urgent);
        assert_eq!(urgent.kind, ClockKind::FirstResponse);
        assert_eq!(urgent.started_at, start);
        assert_eq!(urgent.due_at, utc("2026-01-13T15:00:00Z"));
        assert_eq!(urgent.at_risk_at, utc("2026-01-13T14:45:00Z"));
        assert!(urgent.due_at < info.due_at);
        // An hour and a half in, the raised thread is overdue while the info one was not.
        let now = utc("2026-01-13T15:30:00Z");
        assert_eq!(info.status(now), SlaStatus::OnTrack);
        assert_eq!(urgent.status(now), SlaStatus::Overdue);
    }

    #[test]
    fn recategorizing_an_answered_clock_keeps_its_answer_time() {
        let policy = policy();
        let mut info = policy.start(
            ClockKind::NextResponse,
            Category::Info,
            utc("2026-01-13T14:00:00Z"),
        );
        info.stop(utc("2026-01-13T16:00:00Z"));
        let urgent = policy.recategorize(&info, Category::Urgent);
        assert_eq!(urgent.kind, ClockKind::NextResponse);
        assert_eq!(urgent.stopped_at, info.stopped_at);
        assert_eq!(
            urgent.status(utc("2026-01-14T00:00:00Z")),
            SlaStatus::Missed
        );
    }

    #[test]
    fn next_change_is_when_the_clock_turns_at_risk_then_overdue() {
        let start = utc("2026-01-13T14:00:00Z");
        let mut clock = policy().start(ClockKind::FirstResponse, Category::Urgent, start);
        assert_eq!(clock.next_change(start), Some(utc("2026-01-13T14:45:00Z")));
        assert_eq!(
            clock.next_change(utc("2026-01-13T14:45:00Z")),
            Some(utc("2026-01-13T15:00:00Z"))
        );
        assert_eq!(clock.next_change(utc("2026-01-13T15:00:00Z")), None);
        clock.stop(utc("2026-01-13T14:10:00Z"));
        assert_eq!(clock.next_change(start), None);
    }

    #[test]
    fn policy_rejects_an_at_risk_share_of_0_or_1_5() {
        for share in [0.0, 1.0, 1.5, -0.25, f64::NAN] {
            let result = SlaPolicy::new(
                city(),
                [
                    (Category::Urgent, calendar_hours(1)),
                    (Category::Info, calendar_hours(24)),
                    (Category::Complaint, calendar_hours(48)),
                ],
                share,
            );
            assert!(
                matches!(result, Err(SlaError::AtRiskShareOutOfRange { .. })),
                "share {share} must be rejected"
            );
        }
        let err = SlaError::AtRiskShareOutOfRange { share: 1.5 };
        assert_eq!(
            err.to_string(),
            "the at-risk share must be between 0 and 1 (for example 0.75 for 75 %), but it is 1.5"
        );
    }

    #[test]
    fn policy_rejects_empty_or_overlong_targets() {
        let with_info = |info: Target| {
            SlaPolicy::new(
                city(),
                [
                    (Category::Urgent, calendar_hours(1)),
                    (Category::Info, info),
                    (Category::Complaint, calendar_hours(48)),
                ],
                0.75,
            )
        };
        assert!(matches!(
            with_info(calendar_hours(0)),
            Err(SlaError::TargetNotPositive {
                category: Category::Info
            })
        ));
        assert!(matches!(
            with_info(business_hours(-3)),
            Err(SlaError::TargetNotPositive { .. })
        ));
        assert!(matches!(
            with_info(Target::new(Duration::days(366), Counting::Calendar)),
            Err(SlaError::TargetTooLong { .. })
        ));
        assert!(with_info(Target::new(Duration::days(365), Counting::Business)).is_ok());
    }

    #[test]
    fn policy_rejects_a_category_without_a_target() {
        let result = SlaPolicy::new(
            city(),
            [
                (Category::Urgent, calendar_hours(1)),
                (Category::Info, calendar_hours(24)),
                (Category::Info, calendar_hours(12)),
            ],
            0.75,
        );
        let err = result.expect_err("complaint has no target");
        assert_eq!(
            err,
            SlaError::MissingTarget {
                category: Category::Complaint
            }
        );
        assert_eq!(
            err.to_string(),
            "no response target is set for complaint requests"
        );
    }

    #[test]
    fn policy_gives_each_category_its_own_target() {
        let policy = policy();
        assert_eq!(*policy.target(Category::Urgent), calendar_hours(1));
        assert_eq!(*policy.target(Category::Info), business_hours(24));
        assert_eq!(*policy.target(Category::Complaint), calendar_hours(48));
        assert_eq!(policy.at_risk_share(), 0.75);
        assert_eq!(policy.calendar().tz(), Toronto);
    }

    #[test]
    fn clock_survives_a_json_round_trip() {
        let mut clock = policy().start(
            ClockKind::NextResponse,
            Category::Complaint,
            utc("2026-01-13T14:00:00Z"),
        );
        clock.stop(utc("2026-01-14T09:15:30Z"));
        let json = serde_json::to_string(&clock).expect("a clock serializes");
        assert!(json.contains(r#""kind":"next_response""#), "{json}");
        assert!(json.contains(r#""category":"complaint""#), "{json}");
        let back: Clock = serde_json::from_str(&json).expect("a clock deserializes");
        assert_eq!(back, clock);

        let running = policy().start(
            ClockKind::FirstResponse,
            Category::Urgent,
            utc("2026-01-13T14:00:00Z"),
        );
        let json = serde_json::to_string(&running).expect("a clock serializes");
        assert!(json.contains(r#""stopped_at":null"#), "{json}");
        assert_eq!(
            serde_json::from_str::<Clock>(&json).expect("deserializes"),
            running
        );
    }

    #[test]
    fn a_clock_that_can_never_come_due_survives_a_json_round_trip_and_is_never_overdue() {
        // Every day off for four years: business counting saturates at the end of time.
        let first = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date");
        let closed = Calendar::new(
            Toronto,
            BusinessHours::default(),
            first.iter_days().take(4 * 366).collect(),
        )
        .expect("valid calendar");
        let policy = SlaPolicy::new(
            closed,
            [
                (Category::Urgent, calendar_hours(1)),
                (Category::Info, business_hours(24)),
                (Category::Complaint, calendar_hours(48)),
            ],
            0.75,
        )
        .expect("valid policy");
        let clock = policy.start(
            ClockKind::FirstResponse,
            Category::Info,
            utc("2026-01-13T14:00:00Z"),
        );
        assert_eq!(clock.due_at, DateTime::<Utc>::MAX_UTC);
        assert_eq!(
            clock.status(utc("2035-01-01T00:00:00Z")),
            SlaStatus::OnTrack
        );
        let json = serde_json::to_string(&clock).expect("a clock serializes");
        assert_eq!(
            serde_json::from_str::<Clock>(&json).expect("deserializes"),
            clock
        );
    }

    #[test]
    fn statuses_and_countings_use_their_snake_case_names() {
        for status in [
            SlaStatus::OnTrack,
            SlaStatus::AtRisk,
            SlaStatus::Overdue,
            SlaStatus::Met,
            SlaStatus::Missed,
        ] {
            let json = serde_json::to_string(&status).expect("serializes");
            assert_eq!(json, format!("\"{}\"", status.as_str()));
        }
        assert_eq!(SlaStatus::AtRisk.to_string(), "at_risk");
        assert_eq!(
            serde_json::from_str::<Counting>("\"business\"").expect("parses"),
            Counting::Business
        );
        assert_eq!(ClockKind::FirstResponse.as_str(), "first_response");
    }
}
