//! Fixtures shared by the crate's unit tests.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::America::Toronto;

use crate::domain::calendar::{BusinessHours, Calendar};
use crate::domain::sla::{Counting, SlaPolicy, Target};
use crate::domain::Category;

/// A timestamp written as RFC 3339 in a test.
pub fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test timestamps are RFC 3339")
        .with_timezone(&Utc)
}

/// Local wall time in Toronto, for asserting what a clerk would read on the clock.
pub fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Toronto)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// The city's default calendar: Toronto time, 08:30–16:30 on weekdays, statutory holidays.
pub fn city() -> Calendar {
    Calendar::new(Toronto, BusinessHours::default(), Vec::new()).expect("default is valid")
}

/// The shipped defaults: Montreal time, 08:30–16:30 on weekdays, urgent 1 h, info 24 h,
/// complaint 48 h in calendar hours, at risk at 75 %.
pub fn policy() -> SlaPolicy {
    let calendar = Calendar::new(
        chrono_tz::America::Toronto,
        BusinessHours::default(),
        vec![],
    )
    .expect("valid calendar");
    let target = |hours| Target {
        duration: Duration::hours(hours),
        counting: Counting::Calendar,
    };
    SlaPolicy::new(
        calendar,
        [
            (Category::Urgent, target(1)),
            (Category::Info, target(24)),
            (Category::Complaint, target(48)),
        ],
        0.75,
    )
    .expect("valid policy")
}
