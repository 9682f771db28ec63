//! The city's business calendar: opening hours, Quebec statutory holidays, the city's own
//! days off, and the arithmetic that counts a response target in business time.
//!
//! Pure: no I/O, no clock reads, no environment. Every instant is a parameter, every result a
//! value. Business hours are wall-clock hours in the city's time zone, so each day's window is
//! converted to UTC on its own: the offset changes twice a year and a window must follow it.

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;
use thiserror::Error;

/// How many days in a row may pass without any business time before the search gives up.
///
/// A valid calendar has at least one business day a week and at most a dozen holidays a
/// year, so only a configuration that declares years of extra holidays reaches this bound.
/// It exists so that such a configuration ends the search instead of looping.
const MAX_DAYS_WITHOUT_BUSINESS_TIME: u32 = 3 * 366;

/// The hours during which the city answers messages, in local wall-clock time.
///
/// A window lies within one day (`open` < `close`); counting round the clock is
/// [`Calendar::add_calendar`]'s job, not a window that ends at midnight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    pub open: NaiveTime,
    pub close: NaiveTime,
    pub days: Vec<Weekday>,
}

impl Default for BusinessHours {
    /// Monday to Friday, 08:30 to 16:30.
    fn default() -> Self {
        // Provably infallible: both are valid times of day.
        let open = NaiveTime::from_hms_opt(8, 30, 0).expect("08:30 is a valid time");
        let close = NaiveTime::from_hms_opt(16, 30, 0).expect("16:30 is a valid time");
        BusinessHours {
            open,
            close,
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
        }
    }
}

/// A statutory holiday with its names in both languages the city answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name_fr: &'static str,
    pub name_en: &'static str,
}

/// How a statutory holiday's date is found in a given year.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// The same month and day every year.
    Fixed { month: u32, day: u32 },
    /// Whole days after Easter Sunday (negative: before).
    FromEaster { days: i64 },
    /// The last Monday strictly before this month and day.
    MondayBefore { month: u32, day: u32 },
    /// This month and day, or the Monday after when it falls on a Sunday.
    SundayMovesToMonday { month: u32, day: u32 },
    /// The n-th Monday of the month (1-based).
    NthMonday { month: u32, n: u8 },
}

impl Rule {
    /// `None` only for years chrono cannot represent.
    fn date(self, year: i32) -> Option<NaiveDate> {
        match self {
            Rule::Fixed { month, day } => NaiveDate::from_ymd_opt(year, month, day),
            Rule::FromEaster { days } => {
                easter_sunday(year)?.checked_add_signed(Duration::days(days))
            }
            Rule::MondayBefore { month, day } => {
                let before = NaiveDate::from_ymd_opt(year, month, day)?.pred_opt()?;
                let back = before.weekday().num_days_from_monday();
                before.checked_sub_signed(Duration::days(i64::from(back)))
            }
            Rule::SundayMovesToMonday { month, day } => {
                let date = NaiveDate::from_ymd_opt(year, month, day)?;
                if date.weekday() == Weekday::Sun {
                    date.succ_opt()
                } else {
                    Some(date)
                }
            }
            Rule::NthMonday { month, n } => {
                NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, n)
            }
        }
    }
}

/// Quebec's statutory holidays (Act respecting labour standards, s. 60, and the Fête
/// nationale Act), in calendar order.
const QUEBEC_STATUTORY: [(Rule, &str, &str); 9] = [
    (
        Rule::Fixed { month: 1, day: 1 },
        "Jour de l'An",
        "New Year's Day",
    ),
    (
        Rule::FromEaster { days: -2 },
        "Vendredi saint",
        "Good Friday",
    ),
    (
        Rule::FromEaster { days: 1 },
        "Lundi de Pâques",
        "Easter Monday",
    ),
    (
        Rule::MondayBefore { month: 5, day: 25 },
        "Journée nationale des patriotes",
        "National Patriots' Day",
    ),
    (
        Rule::SundayMovesToMonday { month: 6, day: 24 },
        "Fête nationale du Québec",
        "Fête nationale (Quebec's National Holiday)",
    ),
    (
        Rule::SundayMovesToMonday { month: 7, day: 1 },
        "Fête du Canada",
        "Canada Day",
    ),
    (
        Rule::NthMonday { month: 9, n: 1 },
        "Fête du Travail",
        "Labour Day",
    ),
    (
        Rule::NthMonday { month: 10, n: 2 },
        "Action de grâce",
        "Thanksgiving",
    ),
    (Rule::Fixed { month: 12, day: 25 }, "Noël", "Christmas Day"),
];

/// Easter Sunday in the Gregorian calendar (the anonymous Gregorian computus, as given by
/// Meeus). `None` only for years chrono cannot represent.
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let y = i64::from(year);
    let a = y.rem_euclid(19);
    let b = y.div_euclid(100);
    let c = y.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    // Both are small positive numbers by construction (month 3 or 4, day 1 to 31).
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// Quebec's statutory holidays of `year`, in calendar order.
///
/// Years chrono cannot represent have no holidays.
pub fn quebec_statutory_holidays(year: i32) -> Vec<Holiday> {
    QUEBEC_STATUTORY
        .iter()
        .filter_map(|&(rule, name_fr, name_en)| {
            Some(Holiday {
                date: rule.date(year)?,
                name_fr,
                name_en,
            })
        })
        .collect()
}

/// Whether `date` is one of Quebec's statutory holidays; computed from the rules, without
/// allocating, so that walking a calendar day by day stays cheap.
fn is_quebec_statutory_holiday(date: NaiveDate) -> bool {
    QUEBEC_STATUTORY
        .iter()
        .any(|&(rule, _, _)| rule.date(date.year()) == Some(date))
}

/// A business calendar that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CalendarError {
    #[error(
        "business hours must close after they open, but they open at {} and close at {}",
        .open.format("%H:%M"),
        .close.format("%H:%M")
    )]
    CloseNotAfterOpen { open: NaiveTime, close: NaiveTime },
    #[error("no business days are set: choose at least one day of the week when the city answers messages")]
    NoBusinessDays,
}

/// The city's business calendar: its time zone, opening hours, and days off (Quebec's
/// statutory holidays plus the ones the city adds).
///
/// Cheap to clone and safe to share between threads: it holds no cache, holidays are
/// computed from their rules when asked.
#[derive(Debug, Clone)]
pub struct Calendar {
    tz: Tz,
    hours: BusinessHours,
    /// Sorted and without duplicates, for binary search.
    extra_holidays: Vec<NaiveDate>,
}

impl Calendar {
    /// A calendar in `tz` with these business hours and these days off on top of Quebec's
    /// statutory holidays.
    ///
    /// # Errors
    ///
    /// [`CalendarError::CloseNotAfterOpen`] when the hours do not close after they open,
    /// [`CalendarError::NoBusinessDays`] when no day of the week is a business day.
    pub fn new(
        tz: Tz,
        hours: BusinessHours,
        mut extra_holidays: Vec<NaiveDate>,
    ) -> Result<Calendar, CalendarError> {
        if hours.close <= hours.open {
            return Err(CalendarError::CloseNotAfterOpen {
                open: hours.open,
                close: hours.close,
            });
        }
        if hours.days.is_empty() {
            return Err(CalendarError::NoBusinessDays);
        }
        extra_holidays.sort_unstable();
        extra_holidays.dedup();
        Ok(Calendar {
            tz,
            hours,
            extra_holidays,
        })
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    pub fn hours(&self) -> &BusinessHours {
        &self.hours
    }

    /// The days off the city added to the statutory holidays, sorted.
    pub fn extra_holidays(&self) -> &[NaiveDate] {
        &self.extra_holidays
    }

    /// Whether `date` is a statutory holiday or one of the city's extra days off.
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.extra_holidays.binary_search(&date).is_ok() || is_quebec_statutory_holiday(date)
    }

    /// Whether the city is open at `at`: a business day, not a holiday, and within the
    /// window (opening included, closing excluded).
    pub fn is_business_time(&self, at: DateTime<Utc>) -> bool {
        let date = at.with_timezone(&self.tz).date_naive();
        self.window(date)
            .is_some_and(|(open, close)| open <= at && at < close)
    }

    /// `start` plus `d` of business time: only the time inside business hours, in the city's
    /// local time, counts; non-business days and holidays are skipped.
    ///
    /// Counting starts at `start` when it is business time, otherwise at the next opening, so
    /// a zero (or negative) `d` gives the instant counting starts. A result that exhausts a
    /// day's window is that day's closing instant (Friday 09:30 plus 7 hours is Friday 16:30,
    /// not Monday 08:30).
    ///
    /// The walk goes a day at a time, so its cost grows with the number of days covered, not
    /// with `d`'s resolution. When no business time exists for three years in a row (only a
    /// calendar whose extra holidays cover years can do that) or the end of representable
    /// time is reached, the result saturates at [`DateTime::<Utc>::MAX_UTC`]: a target that
    /// can never be reached is never due. [`Calendar::next_business_time`] tells such a
    /// calendar apart by returning `None`.
    pub fn add_business(&self, start: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
        self.walk(start, d).unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The business time between `start` and `end`: only the time inside business hours,
    /// holidays and non-business days left out. Zero when `end` is not after `start`.
    pub fn business_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Duration {
        let mut total = Duration::zero();
        if end <= start {
            return total;
        }
        let mut date = start.with_timezone(&self.tz).date_naive();
        let last = end.with_timezone(&self.tz).date_naive();
        while date <= last {
            if let Some((open, close)) = self.window(date) {
                let (from, to) = (open.max(start), close.min(end));
                if to > from {
                    total += to - from;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// The first business instant at or after `at`: `at` itself during business hours,
    /// otherwise the next opening. `None` when there is none within three years.
    pub fn next_business_time(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.walk(at, Duration::zero())
    }

    /// `start` plus `d` of real elapsed time.
    ///
    /// Calendar hours are hours that pass, not hours on the wall clock: 24 calendar hours
    /// from noon on the Saturday before the spring change end at 13:00 local on Sunday. That
    /// is plain instant arithmetic; the time zone plays no part. Saturates at the ends of
    /// representable time.
    pub fn add_calendar(&self, start: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
        start
            .checked_add_signed(d)
            .unwrap_or(if d < Duration::zero() {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            })
    }

    /// Walks business windows from `start` until `d` of business time has been counted.
    fn walk(&self, start: DateTime<Utc>, d: Duration) -> Option<DateTime<Utc>> {
        let mut remaining = d.max(Duration::zero());
        let mut date = start.with_timezone(&self.tz).date_naive();
        let mut days_without_business_time = 0;
        loop {
            if let Some((open, close)) = self.window(date) {
                let from = open.max(start);
                if from < close {
                    let available = close - from;
                    if remaining <= available {
                        // Cannot overflow: the sum is at most `close`.
                        return Some(from + remaining);
                    }
                    remaining -= available;
                    days_without_business_time = 0;
                    date = date.succ_opt()?;
                    continue;
                }
            }
            days_without_business_time += 1;
            if days_without_business_time > MAX_DAYS_WITHOUT_BUSINESS_TIME {
                return None;
            }
            date = date.succ_opt()?;
        }
    }

    /// The business window of `date` in UTC, or `None` on a day the city is closed.
    fn window(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if !self.hours.days.contains(&date.weekday()) || self.is_holiday(date) {
            return None;
        }
        let open = self.to_utc(date.and_time(self.hours.open))?;
        let close = self.to_utc(date.and_time(self.hours.close))?;
        // A window that falls entirely in a spring-forward gap resolves to an empty one.
        (open < close).then_some((open, close))
    }

    /// The first instant at which the local clock reads `local` or later.
    ///
    /// On the autumn change a wall time happens twice: the first occurrence is taken, as an
    /// office opens (or closes) the first time its clock shows the hour. On the spring
    /// change a wall time never happens: the instant the clocks jump past it is taken.
    /// `None` only at the ends of representable time.
    fn to_utc(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.tz.from_local_datetime(&local) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(earliest, _) => Some(earliest.with_timezone(&Utc)),
            LocalResult::None => self.end_of_gap(local),
        }
    }

    /// The instant the clocks jump over `local`, a wall time inside a spring-forward gap.
    ///
    /// chrono-tz does not expose its transitions, so the instant is found by bisection over
    /// whole seconds (transitions happen on whole seconds), between bounds that hold for any
    /// UTC offset under 26 hours.
    fn end_of_gap(&self, local: NaiveDateTime) -> Option<DateTime<Utc>> {
        const BOUND: i64 = 26 * 3600;
        let wall = |secs: i64| -> Option<NaiveDateTime> {
            Some(
                DateTime::from_timestamp(secs, 0)?
                    .with_timezone(&self.tz)
                    .naive_local(),
            )
        };
        let naive_secs = local.and_utc().timestamp();
        // Invariant: the wall time at `lo` is before `local`, the one at `hi` is not.
        let mut lo = naive_secs.checked_sub(BOUND)?;
        let mut hi = naive_secs.checked_add(BOUND)?;
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if wall(mid)? >= local {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        DateTime::from_timestamp(hi, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{city, local, utc};
    use chrono_tz::America::Toronto;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test dates are valid")
    }

    fn time(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).expect("test times are valid")
    }

    fn hours(h: i64) -> Duration {
        Duration::hours(h)
    }

    #[test]
    fn easter_falls_on_the_known_dates() {
        assert_eq!(easter_sunday(2024), Some(date(2024, 3, 31)));
        assert_eq!(easter_sunday(2025), Some(date(2025, 4, 20)));
        assert_eq!(easter_sunday(2026), Some(date(2026, 4, 5)));
        assert_eq!(easter_sunday(2027), Some(date(2027, 3, 28)));
        // The extremes of the Gregorian range: as early as March 22, as late as April 25.
        assert_eq!(easter_sunday(1818), Some(date(1818, 3, 22)));
        assert_eq!(easter_sunday(2038), Some(date(2038, 4, 25)));
    }

    #[test]
    fn quebec_has_nine_statutory_holidays_in_2025() {
        let dates: Vec<NaiveDate> = quebec_statutory_holidays(2025)
            .iter()
            .map(|h| h.date)
            .collect();
        assert_eq!(
            dates,
            vec![
                date(2025, 1, 1),
                date(2025, 4, 18),
                date(2025, 4, 21),
                date(2025, 5, 19),
                date(2025, 6, 24),
                date(2025, 7, 1),
                date(2025, 9, 1),
                date(2025, 10, 13),
                date(2025, 12, 25),
            ]
        );
        let patriots = quebec_statutory_holidays(2025)[3];
        assert_eq!(patriots.name_fr, "Journée nationale des patriotes");
        assert_eq!(patriots.name_en, "National Patriots' Day");
    }

    #[test]
    fn patriots_day_is_the_week_before_when_may_25_is_a_monday() {
        // May 25, 2026 is a Monday; "the Monday before May 25" is May 18.
        assert_eq!(
            quebec_statutory_holidays(2026)[3].date,
            date(2026, 5, 18),
            "2026"
        );
        // May 25, 2025 is a Sunday: the Monday before is May 19.
        assert_eq!(quebec_statutory_holidays(2025)[3].date, date(2025, 5, 19));
    }

    #[test]
    fn fete_nationale_and_canada_day_move_to_monday_when_they_fall_on_a_sunday() {
        for year in [2018, 2029] {
            let calendar = city();
            assert!(!calendar.is_holiday(date(year, 6, 24)), "{year}-06-24");
            assert!(calendar.is_holiday(date(year, 6, 25)), "{year}-06-25");
            assert!(!calendar.is_holiday(date(year, 7, 1)), "{year}-07-01");
            assert!(calendar.is_holiday(date(year, 7, 2)), "{year}-07-02");
        }
    }

    #[test]
    fn extra_holidays_are_days_off_too() {
        let calendar = Calendar::new(
            Toronto,
            BusinessHours::default(),
            vec![date(2025, 12, 26), date(2025, 12, 26)],
        )
        .expect("valid");
        assert!(calendar.is_holiday(date(2025, 12, 26)));
        assert!(calendar.is_holiday(date(2025, 12, 25)));
        assert!(!calendar.is_holiday(date(2025, 12, 29)));
        assert_eq!(calendar.extra_holidays(), &[date(2025, 12, 26)]);
    }

    #[test]
    fn calendar_rejects_hours_that_close_before_they_open() {
        let hours = BusinessHours {
            open: time(16, 30),
            close: time(8, 30),
            ..BusinessHours::default()
        };
        let err = Calendar::new(Toronto, hours, Vec::new()).expect_err("must be rejected");
        assert_eq!(
            err.to_string(),
            "business hours must close after they open, but they open at 16:30 and close at 08:30"
        );
        let same = BusinessHours {
            open: time(9, 0),
            close: time(9, 0),
            ..BusinessHours::default()
        };
        assert!(matches!(
            Calendar::new(Toronto, same, Vec::new()),
            Err(CalendarError::CloseNotAfterOpen { .. })
        ));
    }

    #[test]
    fn calendar_rejects_a_week_without_business_days() {
        let hours = BusinessHours {
            days: Vec::new(),
            ..BusinessHours::default()
        };
        let err = Calendar::new(Toronto, hours, Vec::new()).expect_err("must be rejected");
        assert_eq!(err, CalendarError::NoBusinessDays);
        assert!(err.to_string().contains("at least one day of the week"));
    }

    #[test]
    fn calendar_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync + Clone>() {}
        shareable::<Calendar>();
    }

    #[test]
    fn business_time_includes_the_opening_and_excludes_the_closing() {
        let calendar = city();
        // Tuesday, January 13, 2026, EST (UTC-5): open 13:30Z, close 21:30Z.
        assert!(!calendar.is_business_time(utc("2026-01-13T13:29:59Z")));
        assert!(calendar.is_business_time(utc("2026-01-13T13:30:00Z")));
        assert!(calendar.is_business_time(utc("2026-01-13T21:29:59Z")));
        assert!(!calendar.is_business_time(utc("2026-01-13T21:30:00Z")));
        // Saturday and a statutory holiday (Good Friday 2026) at noon local.
        assert!(!calendar.is_business_time(utc("2026-01-17T17:00:00Z")));
        assert!(!calendar.is_business_time(utc("2026-04-03T16:00:00Z")));
    }

    #[test]
    fn friday_1630_plus_one_business_hour_is_monday_0930() {
        // Friday, January 16, 2026, 16:30 EST.
        let due = city().add_business(utc("2026-01-16T21:30:00Z"), hours(1));
        assert_eq!(due, utc("2026-01-19T14:30:00Z"));
        assert_eq!(local(due), "2026-01-19 09:30 EST");
    }

    #[test]
    fn a_target_that_uses_up_the_day_ends_at_closing_not_at_the_next_opening() {
        // Friday, January 16, 2026, 09:30 EST + 7 business hours = 16:30 the same day.
        let due = city().add_business(utc("2026-01-16T14:30:00Z"), hours(7));
        assert_eq!(local(due), "2026-01-16 16:30 EST");
    }

    #[test]
    fn eight_business_hours_from_the_thursday_before_easter_end_the_tuesday_after() {
        // Thursday, April 17, 2025, 09:00 EDT: 7.5 hours that day, then Good Friday, the
        // weekend and Easter Monday are skipped; the last half hour is Tuesday morning.
        let due = city().add_business(utc("2025-04-17T13:00:00Z"), hours(8));
        assert_eq!(due, utc("2025-04-22T13:00:00Z"));
        assert_eq!(local(due), "2025-04-22 09:00 EDT");
    }

    #[test]
    fn business_hours_skip_fete_nationale() {
        // Monday, June 23, 2025, 16:00 EDT + 1 business hour: Tuesday the 24th is off.
        let due = city().add_business(utc("2025-06-23T20:00:00Z"), hours(1));
        assert_eq!(local(due), "2025-06-25 09:00 EDT");
    }

    #[test]
    fn business_hours_skip_christmas_and_an_extra_holiday() {
        let calendar = Calendar::new(Toronto, BusinessHours::default(), vec![date(2025, 12, 26)])
            .expect("valid");
        // Wednesday, December 24, 2025, 15:30 EST + 2 business hours: one hour that day,
        // then Christmas (Thursday), the extra day off (Friday) and the weekend.
        let due = calendar.add_business(utc("2025-12-24T20:30:00Z"), hours(2));
        assert_eq!(due, utc("2025-12-29T14:30:00Z"));
        assert_eq!(local(due), "2025-12-29 09:30 EST");
    }

    #[test]
    fn a_start_outside_business_hours_counts_from_the_next_opening() {
        let calendar = city();
        // Saturday, January 17, 2026, 11:00 EST.
        let saturday = calendar.add_business(utc("2026-01-17T16:00:00Z"), hours(1));
        assert_eq!(local(saturday), "2026-01-19 09:30 EST");
        // Tuesday, January 13, 2026, 07:00 EST: before opening the same day.
        let early = calendar.add_business(utc("2026-01-13T12:00:00Z"), hours(1));
        assert_eq!(local(early), "2026-01-13 09:30 EST");
        // Tuesday, January 13, 2026, 20:00 EST: after closing, so Wednesday morning.
        let late = calendar.add_business(utc("2026-01-14T01:00:00Z"), hours(1));
        assert_eq!(local(late), "2026-01-14 09:30 EST");
        // With nothing to count, the result is the instant counting starts.
        assert_eq!(
            local(calendar.add_business(utc("2026-01-17T16:00:00Z"), Duration::zero())),
            "2026-01-19 08:30 EST"
        );
        assert_eq!(
            calendar.next_business_time(utc("2026-01-13T12:00:00Z")),
            Some(utc("2026-01-13T13:30:00Z"))
        );
        assert_eq!(
            calendar.next_business_time(utc("2026-01-13T15:00:00Z")),
            Some(utc("2026-01-13T15:00:00Z"))
        );
    }

    #[test]
    fn twenty_four_calendar_hours_across_the_spring_change_read_25_hours_on_the_clock() {
        // Saturday, March 8, 2025, 12:00 EST; clocks jump to EDT on Sunday at 02:00.
        let due = city().add_calendar(utc("2025-03-08T17:00:00Z"), hours(24));
        assert_eq!(due, utc("2025-03-09T17:00:00Z"));
        assert_eq!(local(due), "2025-03-09 13:00 EDT");
    }

    #[test]
    fn twenty_four_calendar_hours_across_the_autumn_change_read_23_hours_on_the_clock() {
        // Saturday, November 1, 2025, 12:00 EDT; clocks fall back to EST on Sunday at 02:00.
        let due = city().add_calendar(utc("2025-11-01T16:00:00Z"), hours(24));
        assert_eq!(due, utc("2025-11-02T16:00:00Z"));
        assert_eq!(local(due), "2025-11-02 11:00 EST");
    }

    #[test]
    fn one_business_hour_from_friday_1600_before_the_spring_change_is_monday_0900_edt() {
        // Friday, March 7, 2025, 16:00 EST (21:00Z).
        let due = city().add_business(utc("2025-03-07T21:00:00Z"), hours(1));
        assert_eq!(due, utc("2025-03-10T13:00:00Z"));
        assert_eq!(local(due), "2025-03-10 09:00 EDT");
    }

    #[test]
    fn one_business_hour_from_friday_1600_before_the_autumn_change_is_monday_0900_est() {
        // Friday, October 31, 2025, 16:00 EDT (20:00Z).
        let due = city().add_business(utc("2025-10-31T20:00:00Z"), hours(1));
        assert_eq!(due, utc("2025-11-03T14:00:00Z"));
        assert_eq!(local(due), "2025-11-03 09:00 EST");
    }

    #[test]
    fn an_opening_inside_the_spring_gap_starts_when_the_clocks_jump() {
        // Open every day 02:30-05:00. On March 9, 2025, 02:30 never happens in Toronto:
        // the clock goes from 01:59:59 EST to 03:00 EDT (07:00Z).
        let hours_in_gap = BusinessHours {
            open: time(2, 30),
            close: time(5, 0),
            days: vec![Weekday::Sun],
        };
        let calendar = Calendar::new(Toronto, hours_in_gap, Vec::new()).expect("valid");
        assert!(!calendar.is_business_time(utc("2025-03-09T06:59:59Z")));
        assert!(calendar.is_business_time(utc("2025-03-09T07:00:00Z")));
        // Two hours of window that day (03:00-05:00 EDT), then the next Sunday.
        let due = calendar.add_business(
            utc("2025-03-09T06:00:00Z"),
            hours(2) + Duration::minutes(30),
        );
        assert_eq!(local(due), "2025-03-16 03:00 EDT");
    }

    #[test]
    fn an_opening_repeated_by_the_autumn_change_is_its_first_occurrence() {
        // Open Sundays 01:30-03:00. On November 2, 2025, 01:30 happens at 05:30Z (EDT) and
        // again at 06:30Z (EST); the office opens the first time.
        let hours_in_overlap = BusinessHours {
            open: time(1, 30),
            close: time(3, 0),
            days: vec![Weekday::Sun],
        };
        let calendar = Calendar::new(Toronto, hours_in_overlap, Vec::new()).expect("valid");
        assert!(!calendar.is_business_time(utc("2025-11-02T05:29:59Z")));
        assert!(calendar.is_business_time(utc("2025-11-02T05:30:00Z")));
        // 01:30 EDT to 03:00 EST is two and a half real hours.
        let due = calendar.add_business(utc("2025-11-02T05:30:00Z"), Duration::minutes(150));
        assert_eq!(due, utc("2025-11-02T08:00:00Z"));
        assert_eq!(local(due), "2025-11-02 03:00 EST");
    }

    #[test]
    fn a_year_of_business_hours_ends_at_the_last_closing_of_the_year() {
        // 2026 has 261 weekdays; 9 statutory holidays fall on a weekday (Jan 1, Apr 3, Apr 6,
        // May 18, Jun 24, Jul 1, Sep 7, Oct 12, Dec 25), which leaves 252 business days.
        let start = utc("2026-01-01T05:00:00Z"); // midnight local
        let due = city().add_business(start, hours(8 * 252));
        assert_eq!(local(due), "2026-12-31 16:30 EST");
        assert_eq!(due, utc("2026-12-31T21:30:00Z"));
    }

    #[test]
    fn business_time_adds_up_in_any_split() {
        let calendar = city();
        let start = utc("2025-03-06T15:17:00Z");
        let whole = calendar.add_business(start, hours(37));
        for first in [1, 5, 8, 13, 20, 36] {
            let middle = calendar.add_business(start, hours(first));
            assert_eq!(
                calendar.add_business(middle, hours(37 - first)),
                whole,
                "split after {first} hours"
            );
        }
    }

    #[test]
    fn a_calendar_without_business_days_for_years_saturates_instead_of_looping() {
        let first = date(2025, 1, 1);
        let every_day: Vec<NaiveDate> = first.iter_days().take(4 * 366).collect();
        let calendar = Calendar::new(Toronto, BusinessHours::default(), every_day).expect("valid");
        let start = utc("2025-01-02T15:00:00Z");
        assert_eq!(
            calendar.add_business(start, hours(1)),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(calendar.next_business_time(start), None);
    }

    #[test]
    fn calendar_hours_saturate_at_the_end_of_time() {
        let calendar = city();
        assert_eq!(
            calendar.add_calendar(DateTime::<Utc>::MAX_UTC, hours(1)),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(
            calendar.add_calendar(DateTime::<Utc>::MIN_UTC, hours(-1)),
            DateTime::<Utc>::MIN_UTC
        );
    }
}
