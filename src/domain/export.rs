//! The per-thread export: one row per thread (its reference, channel, category, when it
//! opened, its first response and whether it met its target, when it was resolved, and the
//! agent who answered), for a spreadsheet. Never a message's text, nor the sender.
//!
//! Pure: each thread's [`Facts`] and the policy in, rows out; [`csv`] writes them with
//! the `csv` crate's quoting, so that a channel or an agent's name holding a comma or a quote
//! stays one field.

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

use super::report::Facts;
use super::sla::{SlaPolicy, SlaStatus};
use super::Category;

/// One thread in the export.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub reference: String,
    pub channel: String,
    pub category: Category,
    pub opened_at: DateTime<Utc>,
    pub first_response_at: Option<DateTime<Utc>>,
    /// In the category's counting (business or calendar minutes).
    pub first_response_minutes: Option<u64>,
    /// The first response against its target: met or missed, else where it stands
    /// (on_track, at_risk, overdue).
    pub first_response: SlaStatus,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who gave the first response, else who claimed the thread.
    pub agent: Option<String>,
}

/// The days a report or an export covers, from `?from=` and `?to=` (`YYYY-MM-DD`, city-local,
/// both included): by default the 30 days up to `today`.
///
/// # Errors
/// A date that does not parse, or `from` after `to`, as a sentence.
pub fn date_range(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), String> {
    let date = |raw: Option<&str>, default: NaiveDate| match raw.map(str::trim) {
        None | Some("") => Ok(default),
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            format!(
                "\"{}\" is not a date such as 2026-11-30",
                d.chars().take(20).collect::<String>()
            )
        }),
    };
    let to = date(to, today)?;
    let from = date(from, to - Duration::days(29))?;
    if from > to {
        return Err("from comes after to".into());
    }
    Ok((from, to))
}

/// The row of one thread at `now`.
pub fn row(facts: &Facts, policy: &SlaPolicy, now: DateTime<Utc>) -> Row {
    let first = facts.first_clock();
    let stopped = first.and_then(|c| c.stopped_at);
    let answered_by = stopped.and_then(|at| {
        facts
            .answers
            .iter()
            .find(|(_, when)| *when == at)
            .map(|(who, _)| who.clone())
    });
    Row {
        reference: facts.id.to_string(),
        channel: facts.channel.clone(),
        category: facts.category,
        opened_at: facts.opened_at,
        first_response_at: stopped,
        first_response_minutes: first.zip(stopped).map(|(c, at)| {
            policy
                .elapsed(c.category, c.started_at, at)
                .num_minutes()
                .max(0) as u64
        }),
        first_response: first.map_or(SlaStatus::OnTrack, |c| c.status(now)),
        resolved_at: facts.resolved_at,
        agent: answered_by.or_else(|| facts.claimed_by.clone()),
    }
}

/// The rows as CSV, with a header line.
pub fn csv(rows: &[Row]) -> String {
    let mut out = ::csv::Writer::from_writer(Vec::new());
    let time = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    // Writing to a Vec cannot fail.
    let _ = out.write_record([
        "reference",
        "channel",
        "category",
        "opened_at",
        "first_response_at",
        "first_response_minutes",
        "first_response",
        "resolved_at",
        "agent",
    ]);
    for r in rows {
        let _ = out.write_record([
            r.reference.as_str(),
            &r.channel,
            r.category.as_str(),
            &time(Some(r.opened_at)),
            &time(r.first_response_at),
            &r.first_response_minutes
                .map(|m| m.to_string())
                .unwrap_or_default(),
            r.first_response.as_str(),
            &time(r.resolved_at),
            r.agent.as_deref().unwrap_or(""),
        ]);
    }
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::{Channel, Sender};
    use crate::domain::thread::{Thread, ThreadId, Triage};
    use crate::domain::Language;
    use crate::testing::{policy, utc};
    use chrono::Duration;

    #[test]
    fn a_range_defaults_to_the_last_30_days_and_refuses_a_reversed_one() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let (from, to) = date_range(None, None, today).unwrap();
        assert_eq!((from.to_string(), to), ("2026-11-01".to_owned(), today));
        assert!(date_range(Some("2026-12-01"), Some("2026-11-01"), today).is_err());
        assert!(date_range(Some("30/11/2026"), None, today)
            .unwrap_err()
            .contains("30/11/2026"));
    }

    #[test]
    fn a_row_names_the_agent_who_answered_first_and_a_name_with_a_comma_stays_one_field() {
        let opened = utc("2026-11-24T14:00:00Z");
        let mut t = Thread::open(
            ThreadId::new(7),
            Channel::web(),
            Sender::parse("someone").unwrap(),
            opened,
            Triage {
                category: Category::Info,
                language: Language::Fr,
                confidence: 0.9,
            },
            &policy(),
        );
        let answered = opened + Duration::hours(2);
        let event = t.answer(answered, "Tremblay, Luc \"LT\"").unwrap();
        let r = row(
            &Facts::of(&t, &[event]),
            &policy(),
            answered + Duration::hours(1),
        );
        assert_eq!(r.reference, "G-000007");
        assert_eq!(r.first_response, SlaStatus::Met);
        assert_eq!(r.agent.as_deref(), Some("Tremblay, Luc \"LT\""));
        let text = csv(&[r]);
        let mut reader = ::csv::Reader::from_reader(text.as_bytes());
        let records: Vec<_> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 1);
        assert_eq!(&records[0][8], "Tremblay, Luc \"LT\"");
        assert_eq!(&records[0][6], "met");
    }
}
