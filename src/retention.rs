//! The daily retention purge: at `retention.at` (city-local, a quiet hour), and at start-up
//! when the last scheduled purge was missed, anonymises the resolved threads past
//! `retention.resolved_days` (see [`Pipeline::purge`]).

use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;

use crate::domain::privacy;
use crate::pipeline::Pipeline;

/// Longest sleep: the wall clock is read again at least this often (suspend, NTP).
const MAX_SLEEP: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Runs until `shutdown` turns true.
pub async fn run(pipeline: Arc<Pipeline>, mut shutdown: watch::Receiver<bool>) {
    let settings = pipeline.settings();
    let Ok(at) = settings.retention.purge_at() else {
        // `Settings::load` refuses a bad time: nothing to schedule.
        return;
    };
    let tz = settings.city.timezone;
    loop {
        let now = Utc::now();
        let overdue = match pipeline.last_purge() {
            Ok(last) => privacy::purge_overdue(last, at, tz, now),
            Err(e) => {
                tracing::error!(error = %e, "the retention purge could not read when it last ran");
                false
            }
        };
        if overdue {
            match pipeline.purge(false, "guichet", now).await {
                Ok(p) => tracing::info!(
                    threads = p.threads.len(),
                    days = p.resolved_days,
                    "retention purge: resolved threads past the retention period anonymised"
                ),
                Err(e) => tracing::error!(error = %e, "the retention purge failed; retrying later"),
            }
        }
        let next = privacy::next_scheduled_purge(at, tz, Utc::now());
        let sleep = (next - Utc::now())
            .to_std()
            .unwrap_or_default()
            .min(MAX_SLEEP);
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
