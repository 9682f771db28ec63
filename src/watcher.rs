//! The SLA watcher: records at-risk and overdue transitions as time passes.
//!
//! The pattern of mini-redis's expiry task: record what is due, learn from the store's alert
//! index when the next thing is due, then sleep until then or until the pipeline signals that
//! a new clock may be due sooner. It never scans every thread and never polls in a loop.

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

use crate::pipeline::Pipeline;

/// Longest sleep: the process clock and the wall clock can drift apart (suspend, NTP), so
/// the watcher re-reads the wall clock at least this often.
const MAX_SLEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs until `shutdown` turns true.
pub async fn run(pipeline: Arc<Pipeline>, mut shutdown: watch::Receiver<bool>) {
    let wake = Arc::clone(pipeline.watcher());
    loop {
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
        tokio::select! {
            _ = sleep_until(Instant::now() + sleep) => {}
            _ = wake.notified() => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
