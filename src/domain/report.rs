//! The response-time report: per category, per channel, per agent and per week, how many
//! threads opened, how many first responses met or missed their target, the compliance,
//! and the median and 90th percentile first-response times, counted as each category's
//! target counts them (calendar or business hours).
//!
//! Pure: each thread's [`Facts`] and the policy in, a [`Report`] out. Threads count for the
//! city-local day they opened; `from` and `to` are both included.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::sla::{Clock, ClockKind, SlaPolicy, SlaStatus};
use super::thread::{AuditEvent, AuditKind, Thread, ThreadId};
use super::Category;

/// What the report and the per-thread export need of one thread: where and when it opened,
/// its category, its response clocks, who answered it and when, who claimed it and when it
/// was resolved. Never a message, nor the sender. The store keeps it beside its opening-time
/// index, so that a report reads a few dozen bytes per thread rather than the thread and
/// its audit log.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub id: ThreadId,
    pub channel: String,
    pub category: Category,
    pub opened_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub claimed_by: Option<String>,
    /// Every response clock of the thread, the running (or last) one last.
    pub clocks: Vec<Clock>,
    /// Each answer: who gave it (`guichet` for its own) and when, oldest first.
    pub answers: Vec<(String, DateTime<Utc>)>,
}

impl Facts {
    /// The facts of a thread and its audit log.
    pub fn of(thread: &Thread, audit: &[AuditEvent]) -> Facts {
        Facts {
            answers: audit
                .iter()
                .filter(|e| e.kind == AuditKind::Answered)
                .map(|e| (e.actor.clone(), e.at))
                .collect(),
            ..Facts::of_thread(thread)
        }
    }

    /// The facts the thread itself holds: all but its answers.
    pub fn of_thread(thread: &Thread) -> Facts {
        Facts {
            id: thread.id,
            channel: thread.channel.to_string(),
            category: thread.category,
            opened_at: thread.opened_at,
            resolved_at: thread.resolved_at,
            claimed_by: thread.claimed_by.clone(),
            clocks: thread
                .clocks
                .iter()
                .chain(std::iter::once(&thread.clock))
                .cloned()
                .collect(),
            answers: Vec::new(),
        }
    }

    /// The clock of the first response (the last clock of a thread that has none).
    pub fn first_clock(&self) -> Option<&Clock> {
        self.clocks
            .iter()
            .find(|c| c.kind == ClockKind::FirstResponse)
            .or(self.clocks.last())
    }
}

/// One group's figures (a category, a channel, a week's category).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub threads: u64,
    pub met: u64,
    pub missed: u64,
    /// met / (met + missed), one decimal; `None` before any first response is due.
    pub compliance_percent: Option<f64>,
    pub first_response_median_minutes: Option<u64>,
    pub first_response_p90_minutes: Option<u64>,
    /// Still waiting for their first response, past its target.
    pub overdue_open: u64,
    #[serde(skip)]
    minutes: Vec<u64>,
}

/// One agent's answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AgentFigures {
    pub answers: u64,
    pub median_minutes: Option<u64>,
    pub met_percent: Option<f64>,
    #[serde(skip)]
    minutes: Vec<u64>,
    #[serde(skip)]
    met: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Week {
    /// ISO week, e.g. `2026-W48`.
    pub week: String,
    pub categories: BTreeMap<Category, Figures>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub categories: BTreeMap<Category, Figures>,
    pub channels: BTreeMap<String, Figures>,
    pub agents: BTreeMap<String, AgentFigures>,
    pub weeks: Vec<Week>,
}

/// The report of the threads that opened from `from` to `to` (city-local days, included).
pub fn build(
    threads: &[Facts],
    policy: &SlaPolicy,
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
    now: DateTime<Utc>,
) -> Report {
    let mut categories: BTreeMap<Category, Figures> = Category::ALL
        .into_iter()
        .map(|c| (c, Figures::default()))
        .collect();
    let mut channels: BTreeMap<String, Figures> = BTreeMap::new();
    let mut agents: BTreeMap<String, AgentFigures> = BTreeMap::new();
    let mut weeks: BTreeMap<(i32, u32), BTreeMap<Category, Figures>> = BTreeMap::new();
    for thread in threads {
        let opened = thread.opened_at.with_timezone(&tz).date_naive();
        if opened < from || opened > to {
            continue;
        }
        let Some(first) = thread.first_clock() else {
            continue;
        };
        let status = first.status(now);
        let minutes = first.stopped_at.map(|at| {
            policy
                .elapsed(first.category, first.started_at, at)
                .num_minutes() as u64
        });
        let week = opened.iso_week();
        let week = (week.year(), week.week());
        let groups = [
            categories.entry(thread.category).or_default(),
            channels.entry(thread.channel.clone()).or_default(),
        ];
        for figures in groups {
            figures.count(status, minutes);
        }
        weeks
            .entry(week)
            .or_default()
            .entry(thread.category)
            .or_default()
            .count(status, minutes);

        // Each agent's answers: the clock an answer stopped, met or missed.
        for (actor, at) in thread.answers.iter().filter(|(a, _)| a != "guichet") {
            let clock = thread.clocks.iter().find(|c| c.stopped_at == Some(*at));
            let a = match agents.get_mut(actor) {
                Some(a) => a,
                None => agents.entry(actor.clone()).or_default(),
            };
            a.answers += 1;
            if let Some(c) = clock {
                a.minutes
                    .push(policy.elapsed(c.category, c.started_at, *at).num_minutes() as u64);
                if c.status(now) == SlaStatus::Met {
                    a.met += 1;
                }
            }
        }
    }
    for f in categories.values_mut().chain(channels.values_mut()) {
        f.finish();
    }
    for a in agents.values_mut() {
        a.minutes.sort_unstable();
        a.median_minutes = percentile(&a.minutes, 50);
        a.met_percent =
            (a.answers > 0).then(|| one_decimal(a.met as f64 * 100.0 / a.answers as f64));
    }
    Report {
        from,
        to,
        categories,
        channels,
        agents,
        weeks: weeks
            .into_iter()
            .map(|((year, week), mut categories)| {
                categories.values_mut().for_each(Figures::finish);
                Week {
                    week: format!("{year}-W{week:02}"),
                    categories,
                }
            })
            .collect(),
    }
}

impl Figures {
    /// The first-response times counted, in minutes (sorted once the report is built).
    pub fn first_response_minutes(&self) -> &[u64] {
        &self.minutes
    }

    fn count(&mut self, status: SlaStatus, minutes: Option<u64>) {
        self.threads += 1;
        match status {
            SlaStatus::Met => self.met += 1,
            SlaStatus::Missed => self.missed += 1,
            SlaStatus::Overdue => self.overdue_open += 1,
            _ => {}
        }
        self.minutes.extend(minutes);
    }

    fn finish(&mut self) {
        self.minutes.sort_unstable();
        let decided = self.met + self.missed;
        self.compliance_percent =
            (decided > 0).then(|| one_decimal(self.met as f64 * 100.0 / decided as f64));
        self.first_response_median_minutes = percentile(&self.minutes, 50);
        self.first_response_p90_minutes = percentile(&self.minutes, 90);
    }
}

impl Report {
    /// One line per category and per channel, as CSV with a header.
    pub fn csv(&self) -> String {
        let mut out = String::from("group,name,threads,met,missed,compliance_percent,first_response_median_minutes,first_response_p90_minutes,overdue_open\n");
        let num = |o: Option<u64>| o.map(|v| v.to_string()).unwrap_or_default();
        let rows = self
            .categories
            .iter()
            .map(|(c, f)| ("category", c.as_str().to_owned(), f))
            .chain(self.channels.iter().map(|(c, f)| ("channel", c.clone(), f)));
        for (group, name, f) in rows {
            out.push_str(&format!(
                "{group},{name},{},{},{},{},{},{},{}\n",
                f.threads,
                f.met,
                f.missed,
                f.compliance_percent
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                num(f.first_response_median_minutes),
                num(f.first_response_p90_minutes),
                f.overdue_open
            ));
        }
        out
    }
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: usize) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

fn one_decimal(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{BusinessHours, Calendar};
    use crate::domain::message::{Channel, Sender};
    use crate::domain::sla::{Counting, Target};
    use crate::domain::thread::{ThreadId, Triage};
    use crate::domain::Language;
    use crate::testing::utc;
    use chrono::Duration;
    use chrono_tz::America::Toronto;

    /// Complaints in business hours (08:30–16:30 weekdays), 8 hours; urgent 1 calendar hour.
    fn policy() -> SlaPolicy {
        let calendar = Calendar::new(Toronto, BusinessHours::default(), vec![]).unwrap();
        SlaPolicy::new(
            calendar,
            [
                (
                    Category::Urgent,
                    Target::new(Duration::hours(1), Counting::Calendar),
                ),
                (
                    Category::Info,
                    Target::new(Duration::hours(24), Counting::Calendar),
                ),
                (
                    Category::Complaint,
                    Target::new(Duration::hours(8), Counting::Business),
                ),
            ],
            0.75,
        )
        .unwrap()
    }

    fn thread(n: u64, category: Category, opened: &str, answer: Option<(&str, &str)>) -> Facts {
        let p = policy();
        let mut t = Thread::open(
            ThreadId::new(n),
            Channel::web(),
            Sender::parse(&format!("s{n}")).unwrap(),
            utc(opened),
            Triage {
                category,
                language: Language::Fr,
                confidence: 0.9,
            },
            &p,
        );
        let mut audit = Vec::new();
        if let Some((agent, at)) = answer {
            audit.push(t.answer(utc(at), agent).unwrap());
        }
        Facts::of(&t, &audit)
    }

    #[test]
    fn figures_count_business_hours_across_a_weekend_per_category_and_agent() {
        // Friday 2026-11-20 16:00 Toronto = 21:00 UTC; Monday 2026-11-23 09:30 = 14:30 UTC.
        let threads = vec![
            // Complaint opened Friday 16:00, answered Monday 09:30: 30 + 60 = 90 business
            // minutes across the weekend, met.
            thread(
                1,
                Category::Complaint,
                "2026-11-20T21:00:00Z",
                Some(("luc", "2026-11-23T14:30:00Z")),
            ),
            // Complaint opened Friday 09:00, answered Monday 10:30: 450 + 120 = 570 > 480, missed.
            thread(
                2,
                Category::Complaint,
                "2026-11-20T14:00:00Z",
                Some(("ana", "2026-11-23T15:30:00Z")),
            ),
            // Complaint opened Monday 09:00, answered at 11:00: 120 minutes, met.
            thread(
                3,
                Category::Complaint,
                "2026-11-23T14:00:00Z",
                Some(("luc", "2026-11-23T16:00:00Z")),
            ),
            // Urgent, never answered: overdue by the report's time.
            thread(4, Category::Urgent, "2026-11-23T14:00:00Z", None),
            // Opened the day after `to`: left out.
            thread(
                5,
                Category::Complaint,
                "2026-11-25T14:00:00Z",
                Some(("luc", "2026-11-25T15:00:00Z")),
            ),
        ];
        let from = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let r = build(
            &threads,
            &policy(),
            Toronto,
            from,
            to,
            utc("2026-11-24T20:00:00Z"),
        );
        let c = &r.categories[&Category::Complaint];
        assert_eq!((c.threads, c.met, c.missed, c.overdue_open), (3, 2, 1, 0));
        assert_eq!(c.compliance_percent, Some(66.7));
        // Sorted minutes 90, 120, 570: median 120, p90 570.
        assert_eq!(c.first_response_median_minutes, Some(120));
        assert_eq!(c.first_response_p90_minutes, Some(570));
        let u = &r.categories[&Category::Urgent];
        assert_eq!(
            (u.threads, u.overdue_open, u.compliance_percent),
            (1, 1, None)
        );
        assert_eq!(r.channels["web"].threads, 4);
        assert_eq!(r.agents["luc"].answers, 2);
        assert_eq!(r.agents["luc"].median_minutes, Some(90));
        assert_eq!(r.agents["luc"].met_percent, Some(100.0));
        assert_eq!(r.agents["ana"].met_percent, Some(0.0));
        let weeks: Vec<&str> = r.weeks.iter().map(|w| w.week.as_str()).collect();
        assert_eq!(weeks, vec!["2026-W47", "2026-W48"]);
        assert_eq!(r.weeks[0].categories[&Category::Complaint].met, 1);
    }

    #[test]
    fn percentiles_take_the_nearest_rank() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 90), Some(7));
        let ten: Vec<u64> = (1..=10).collect();
        assert_eq!(percentile(&ten, 50), Some(5));
        assert_eq!(percentile(&ten, 90), Some(9));
    }
}
