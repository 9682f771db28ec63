//! The SLA watcher: records at-risk and overdue transitions as time passes.
//!
//! The pattern of mini-redis's expiry task: record what is due, learn from the store's alert
//! index when the next thing is due, then sleep until then or until a writer signals, through
//! the [`Alarm`], an alert due sooner. It never scans every thread and never polls in a loop.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::{watch, Notify};
use tokio::time::{sleep_until, Instant};

use crate::pipeline::Pipeline;

/// Longest sleep: the process clock and the wall clock can drift apart (suspend, NTP), so
/// the watcher re-reads the wall clock at least this often.
const MAX_SLEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// When the watcher means to look next, so that writers wake it only for an alert due
/// sooner, not on every message (a hot path at thousands of messages a second).
#[derive(Debug)]
pub struct Alarm {
    /// Milliseconds since the epoch; `i64::MAX` while the watcher is scanning, so that a
    /// write the scan may have missed always wakes it again.
    next_ms: AtomicI64,
    notify: Notify,
}

impl Default for Alarm {
    fn default() -> Alarm {
        Alarm {
            next_ms: AtomicI64::new(i64::MAX),
            notify: Notify::new(),
        }
    }
}

impl Alarm {
    /// A writer stored an alert due at `at`: wake the watcher if it would sleep past it.
    pub fn due(&self, at: DateTime<Utc>) {
        if at.timestamp_millis() < self.next_ms.load(Ordering::SeqCst) {
            self.notify.notify_one();
        }
    }

    fn scanning(&self) {
        self.next_ms.store(i64::MAX, Ordering::SeqCst);
    }

    fn sleeping_until(&self, at: DateTime<Utc>) {
        self.next_ms.store(at.timestamp_millis(), Ordering::SeqCst);
    }
}

/// Runs until `shutdown` turns true.
pub async fn run(pipeline: Arc<Pipeline>, mut shutdown: watch::Receiver<bool>) {
    let alarm = Arc::clone(pipeline.alarm());
    loop {
        alarm.scanning();
        let next = match pipeline.record_alerts(Utc::now()).await {
            Ok(next) => next,
            Err(e) => {
                tracing::error!(error = %e, "the SLA watcher could not record alerts; retrying");
                Some(Utc::now() + chrono::Duration::seconds(5))
            }
        };
        let sleep = next
            .map(|at| (at - Utc::now()).to_std().unwrap_or_default())
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP);
        let wake_at = Utc::now() + chrono::Duration::from_std(sleep).unwrap_or_default();
        alarm.sleeping_until(wake_at);
        tokio::select! {
            _ = sleep_until(Instant::now() + sleep) => {}
            _ = alarm.notify.notified() => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn the_alarm_rings_only_for_an_alert_due_before_the_planned_wake() {
        let alarm = Alarm::default();
        let at = |h| Utc.with_ymd_and_hms(2026, 11, 21, h, 0, 0).unwrap();
        alarm.sleeping_until(at(12));
        alarm.due(at(13));
        let later = tokio::time::timeout(
            std::time::Duration::from_millis(20),
            alarm.notify.notified(),
        );
        assert!(
            later.await.is_err(),
            "an alert after the wake-up rings nothing"
        );
        alarm.due(at(11));
        alarm.notify.notified().await;
        alarm.scanning();
        alarm.due(at(23));
        alarm.notify.notified().await;
    }
}
