//! What the city knows of one sender on one channel: moderation strikes and blocks.
//!
//! Pure: the strike window and the block threshold come in as arguments.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A sender's moderation record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SenderRecord {
    /// When each strike was given (insults, harassment, threats).
    #[serde(default)]
    pub strikes: Vec<DateTime<Utc>>,
    #[serde(default)]
    pub warned_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub blocked_at: Option<DateTime<Utc>>,
}

/// What a strike led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrikeOutcome {
    /// The first strike in the period: the sender gets the warning.
    Warned,
    /// A later strike below the threshold: recorded, no second warning.
    Recorded,
    /// The threshold was reached within the period: the sender is now blocked.
    Blocked,
}

impl SenderRecord {
    pub fn is_blocked(&self) -> bool {
        self.blocked_at.is_some()
    }

    /// Strikes within `period` before `now`.
    pub fn recent_strikes(&self, now: DateTime<Utc>, period: Duration) -> usize {
        self.strikes.iter().filter(|s| **s > now - period).count()
    }

    /// Records a strike; strikes older than the period are forgotten.
    pub fn strike(&mut self, now: DateTime<Utc>, period: Duration, limit: u32) -> StrikeOutcome {
        self.strikes.retain(|s| *s > now - period);
        self.strikes.push(now);
        if self.strikes.len() >= limit as usize {
            self.blocked_at.get_or_insert(now);
            StrikeOutcome::Blocked
        } else if self.strikes.len() == 1 {
            self.warned_at = Some(now);
            StrikeOutcome::Warned
        } else {
            StrikeOutcome::Recorded
        }
    }

    /// Lifts a block and clears the strikes that led to it. Returns false if not blocked.
    pub fn unblock(&mut self) -> bool {
        let was = self.blocked_at.take().is_some();
        if was {
            self.strikes.clear();
        }
        was
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 10, d, 12, 0, 0).unwrap()
    }

    #[test]
    fn the_first_strike_warns_and_the_third_within_the_period_blocks() {
        let mut r = SenderRecord::default();
        let period = Duration::days(90);
        assert_eq!(r.strike(day(1), period, 3), StrikeOutcome::Warned);
        assert_eq!(r.strike(day(2), period, 3), StrikeOutcome::Recorded);
        assert!(!r.is_blocked());
        assert_eq!(r.strike(day(3), period, 3), StrikeOutcome::Blocked);
        assert!(r.is_blocked());
        assert!(r.unblock());
        assert!(!r.is_blocked());
        assert!(!r.unblock());
    }

    #[test]
    fn strikes_older_than_the_period_do_not_count() {
        let mut r = SenderRecord::default();
        let period = Duration::days(1);
        r.strike(day(1), period, 2);
        assert_eq!(r.strike(day(5), period, 2), StrikeOutcome::Warned);
        assert_eq!(r.recent_strikes(day(5), period), 1);
    }
}
