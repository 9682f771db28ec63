//! The digest task: queues the coordinator's daily digest at `[digest] at` (city-local), on
//! the configured days, once a day even across restarts — the store records each day's
//! digest, and a day whose time passed while guichet was stopped gets its digest at start.
//!
//! The clock is injected: [`SystemClock`] in `serve`; tests move a clock of their own to see
//! the digest go at the configured time and not twice. What is due when is the pure [`next_run`](crate::domain::digest::next_run).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use crate::domain::digest::next_run;
use crate::forwarders::BoxFuture;
use crate::pipeline::{DigestOutcome, Pipeline};

/// Longest sleep on the wall clock: it may jump (suspend, NTP), so look again this often.
const MAX_SLEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// Where the task reads the time and how it waits for a moment to come.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// Completes at `at`, or earlier: the task looks at the clock again when it wakes.
    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()>;
}

/// The wall clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, at: DateTime<Utc>) -> BoxFuture<'_, ()> {
        let wait = (at - Utc::now())
            .to_std()
            .unwrap_or_default()
            .min(MAX_SLEEP);
        Box::pin(tokio::time::sleep(wait))
    }
}

/// Runs until `shutdown` turns true; returns at once when no digest time is configured.
pub async fn run(
    pipeline: Arc<Pipeline>,
    clock: Arc<dyn Clock>,
    mut shutdown: watch::Receiver<bool>,
) {
    let settings = pipeline.settings();
    let Some(at) = settings.digest.time() else {
        return;
    };
    let days = settings.digest.days;
    let calendar = pipeline.policy().calendar().clone();
    let tz = calendar.tz();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let now = clock.now();
        let today = now.with_timezone(&tz).date_naive();
        let wake = match pipeline.digest_record(today) {
            Ok(record) => match next_run(now, at, days, &calendar, record.is_some()) {
                Some(due) if due <= now => {
                    match pipeline.send_digest(now, "schedule", false).await {
                        Ok(DigestOutcome::Queued { jobs, .. }) => {
                            tracing::info!(day = %today, jobs = jobs.len(), "the daily digest is queued");
                            continue;
                        }
                        Ok(DigestOutcome::AlreadySent { .. }) => continue,
                        Ok(DigestOutcome::NoDestination) => {
                            tracing::warn!("digest.at is set but the digest has nowhere to go: set digest.email_to or a Discord alerts channel");
                            return;
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "the daily digest could not be queued; retrying");
                            now + chrono::Duration::seconds(5)
                        }
                    }
                }
                Some(due) => due,
                None => return,
            },
            Err(e) => {
                tracing::error!(error = %e, "the digest task could not read the store; retrying");
                now + chrono::Duration::seconds(5)
            }
        };
        tokio::select! {
            () = clock.sleep_until(wake) => {}
            _ = shutdown.changed() => return,
        }
    }
}
