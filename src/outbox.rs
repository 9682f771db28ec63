//! The outbox worker: delivers the jobs the pipeline queued, retrying with backoff.
//!
//! The watcher's pattern: take what is due from the store's due index, learn when the next
//! job is due, then sleep until then, until the pipeline signals a new job, or until a
//! delivery in flight finishes. Deliveries run concurrently (bounded by
//! `outbox.concurrency`), each behind its destination's rate limit; every result is written
//! through the pipeline under the thread's lock before the job can be picked again. Jobs
//! live in sled, so a restart resumes them: at worst a delivery whose result was not yet
//! written is made again, under the same idempotency key.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{sleep_until, Instant};

use crate::domain::outbox::{Attempt, JobEvent, JobId};
use crate::forwarders::Forwarders;
use crate::pipeline::Pipeline;

/// Longest sleep: the wall clock may jump (suspend, NTP), so look again at least this often.
const MAX_SLEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs until `shutdown` turns true. Deliveries still in flight then are abandoned; their
/// jobs stay queued and are attempted again at the next start.
pub async fn run(
    pipeline: Arc<Pipeline>,
    forwarders: Arc<Forwarders>,
    mut shutdown: watch::Receiver<bool>,
) {
    let wake = Arc::clone(pipeline.outbox());
    let capacity = pipeline.settings().outbox.concurrency.max(1);
    let mut in_flight: HashSet<JobId> = HashSet::new();
    let mut tasks: JoinSet<JobId> = JoinSet::new();
    loop {
        let now = Utc::now();
        let mut next = None;
        if in_flight.len() < capacity {
            match pipeline.queue_head(in_flight.len() + capacity) {
                Ok(head) => {
                    for (at, id) in head {
                        if in_flight.contains(&id) {
                            continue;
                        }
                        if at > now {
                            next = Some(at);
                            break;
                        }
                        if in_flight.len() >= capacity {
                            break;
                        }
                        in_flight.insert(id.clone());
                        tasks.spawn(deliver(Arc::clone(&pipeline), Arc::clone(&forwarders), id));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "the outbox could not read its queue; retrying");
                    next = Some(now + chrono::Duration::seconds(5));
                }
            }
        }
        let sleep = next
            .map(|at| (at - Utc::now()).to_std().unwrap_or_default())
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP);
        tokio::select! {
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                match done {
                    Ok(id) => { in_flight.remove(&id); }
                    Err(e) => {
                        // A panicking delivery loses its id; start over from the store.
                        tracing::error!(error = %e, "an outbox delivery failed unexpectedly");
                        in_flight.clear();
                        tasks.abort_all();
                    }
                }
            }
            _ = sleep_until(Instant::now() + sleep) => {}
            _ = wake.notified() => {}
            _ = shutdown.changed() => break,
        }
        if *shutdown.borrow() {
            break;
        }
    }
    tasks.shutdown().await;
}

/// One attempt for one job, its result recorded. Returns the job's id for the worker's
/// bookkeeping.
async fn deliver(pipeline: Arc<Pipeline>, forwarders: Arc<Forwarders>, id: JobId) -> JobId {
    let job = match pipeline.job(&id) {
        Ok(Some(job)) if job.is_queued() => job,
        Ok(_) => return id,
        Err(e) => {
            tracing::error!(job = %id, error = %e, "the outbox could not read a job");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            return id;
        }
    };
    let attempt = forwarders.attempt(&job).await;
    let failed = matches!(attempt, Attempt::Failed(_));
    let jitter: f64 = rand::random();
    match pipeline
        .record_attempt(&id, &job.phase, attempt, Utc::now(), jitter)
        .await
    {
        Ok(Some(JobEvent::Dead { error })) => {
            tracing::error!(job = %id, destination = %job.destination, error = %error, "delivery abandoned: the job is dead");
        }
        Ok(Some(JobEvent::Failed { error, retry_at })) => {
            tracing::warn!(job = %id, destination = %job.destination, error = %error, retry_at = %retry_at, "delivery failed; will retry");
        }
        Ok(Some(event)) if !failed && !event.is_quiet() => {
            tracing::info!(job = %id, destination = %job.destination, "delivered");
        }
        Ok(_) => {}
        Err(e) => {
            // The job stays due: it is attempted again, under the same idempotency key.
            tracing::error!(job = %id, error = %e, "the outbox could not record a delivery");
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
    }
    id
}
