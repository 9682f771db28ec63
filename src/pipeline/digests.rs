//! The digests' side of the pipeline: the day's digest queued once (even across restarts),
//! and its jobs' attempts recorded. A digest belongs to no thread, so its writes are
//! serialised by the pipeline's digest lock rather than a sender's.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{detached, Pipeline, PipelineError};
use crate::domain::digest::{self, Digest, DigestRecord, RequestDue};
use crate::domain::outbox::{Attempt, Job, JobEvent, JobId, Phase};
use crate::domain::privacy::NEARING_DAYS;
use crate::metrics::Metrics;
use crate::store::StoreError;

/// What asking for a digest did.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum DigestOutcome {
    /// Queued: its jobs go out through the outbox.
    Queued {
        digest: Box<Digest>,
        jobs: Vec<JobId>,
    },
    /// The day's digest was queued already.
    AlreadySent { record: DigestRecord },
    /// No destination is configured: neither `[digest] email_to` nor a Discord alerts
    /// channel.
    NoDestination,
}

impl Pipeline {
    /// Queues the digest of the city-local day of `now`, unless that day's was queued
    /// already; with `again`, queues one more all the same (`guichet digest --now`). `by`
    /// names who asked (`schedule`, or a member).
    ///
    /// Cancellation-safe: the work runs in a task of its own.
    ///
    /// # Errors
    /// The store failed; nothing was queued.
    pub async fn send_digest(
        self: &Arc<Self>,
        now: DateTime<Utc>,
        by: &str,
        again: bool,
    ) -> Result<DigestOutcome, PipelineError> {
        let this = Arc::clone(self);
        let by = by.to_owned();
        detached(async move { this.send_digest_now(now, &by, again).await }).await
    }

    async fn send_digest_now(
        &self,
        now: DateTime<Utc>,
        by: &str,
        again: bool,
    ) -> Result<DigestOutcome, PipelineError> {
        let destinations = self.settings.digest_destinations();
        if destinations.is_empty() {
            return Ok(DigestOutcome::NoDestination);
        }
        let _guard = self.digest_lock.lock().await;
        let day = now.with_timezone(&self.settings.city.timezone).date_naive();
        let record = self.store.digest_record(day)?;
        if let (Some(record), false) = (&record, again) {
            return Ok(DigestOutcome::AlreadySent {
                record: record.clone(),
            });
        }
        let seq = record.map_or(0, |r| r.count);
        let store = self.store.clone();
        let calendar = self.policy.calendar().clone();
        // A pass over every thread: off the async workers.
        let digest = tokio::task::spawn_blocking(move || -> Result<Digest, StoreError> {
            let mut failed = None;
            let threads = store.each_thread().map_while(|t| match t {
                Ok(t) => Some(t),
                Err(e) => {
                    failed = Some(e);
                    None
                }
            });
            let digest = digest::build(threads, &calendar, now, seq);
            match failed {
                Some(e) => Err(e),
                None => Ok(digest),
            }
        })
        .await
        .map_err(|e| PipelineError::Aborted(e.to_string()))??;
        let mut digest = digest;
        digest.requests_due = self
            .requests_nearing(NEARING_DAYS, now)?
            .into_iter()
            .map(|r| RequestDue {
                id: r.id,
                kind: r.kind,
                due_on: r.due(),
                days_left: r.days_left(day),
            })
            .collect();
        let jobs: Vec<Job> = destinations
            .iter()
            .map(|&d| Job::digest(d, digest.clone(), now))
            .collect();
        let record = DigestRecord {
            day,
            count: seq + 1,
            last_at: now,
            last_by: by.to_owned(),
        };
        self.store.commit_digest(&record, &jobs).await?;
        self.outbox.notify_one();
        Ok(DigestOutcome::Queued {
            digest: Box::new(digest),
            jobs: jobs.into_iter().map(|j| j.id).collect(),
        })
    }

    /// The result of an attempt at a digest's job (see [`Pipeline::record_attempt`]).
    pub(super) async fn record_digest_attempt(
        &self,
        id: &JobId,
        phase: &Phase,
        attempt: Attempt,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> Result<Option<JobEvent>, PipelineError> {
        let _guard = self.digest_lock.lock().await;
        let Some(mut job) = self.store.job(id)? else {
            return Ok(None);
        };
        if !job.is_queued() || &job.phase != phase {
            return Ok(None);
        }
        let event = job.apply(attempt, now, &self.retry, jitter);
        match &event {
            JobEvent::Delivered { .. } => {
                Metrics::inc(&self.metrics.outbox_delivered);
                self.metrics
                    .delivery_latency
                    .observe((now - job.created_at).num_milliseconds() as f64 / 1000.0);
            }
            JobEvent::Failed { .. } => Metrics::inc(&self.metrics.outbox_failures),
            JobEvent::Dead { .. } => {
                Metrics::inc(&self.metrics.outbox_failures);
                Metrics::inc(&self.metrics.outbox_dead);
            }
            _ => {}
        }
        self.store.commit_jobs(&[job]).await?;
        Ok(Some(event))
    }

    /// Another attempt now at a digest's job (see [`Pipeline::retry_job`]).
    pub(super) async fn retry_digest_job(
        &self,
        id: &JobId,
        now: DateTime<Utc>,
    ) -> Result<Job, PipelineError> {
        let job = {
            let _guard = self.digest_lock.lock().await;
            let mut job = self
                .store
                .job(id)?
                .ok_or_else(|| PipelineError::UnknownJob(id.clone()))?;
            job.retry(now).map_err(PipelineError::Job)?;
            self.store.commit_jobs(std::slice::from_ref(&job)).await?;
            job
        };
        self.outbox.notify_one();
        Ok(job)
    }

    /// The digest queued on a city-local day, if any.
    ///
    /// # Errors
    /// The store failed.
    pub fn digest_record(
        &self,
        day: chrono::NaiveDate,
    ) -> Result<Option<DigestRecord>, PipelineError> {
        Ok(self.store.digest_record(day)?)
    }
}
