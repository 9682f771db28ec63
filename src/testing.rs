//! Fixtures shared by the crate's unit tests.

use chrono::Duration;

use crate::domain::calendar::{BusinessHours, Calendar};
use crate::domain::sla::{Counting, SlaPolicy, Target};
use crate::domain::Category;

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
