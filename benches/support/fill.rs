//! Filling a store to a given number of threads through the pipeline's own API, without
//! HTTP: every thread is what a citizen's first message makes of it (classified,
//! acknowledged, indexed, durably committed), a share of them already overdue. Benchmarks
//! that need a large store start from here.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use guichet::domain::message::{Channel, IncomingMessage, MessageText, PlatformMessageId, Sender};
use guichet::domain::thread::ThreadState;
use guichet::pipeline::Pipeline;

use crate::driver::TEXTS;

/// How a store is filled.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Threads the store holds at the end (threads already there count).
    pub threads: u64,
    /// One thread in this many is overdue (sent three days ago, past every target).
    pub overdue_every: u64,
    /// Messages in flight at once (their commits share flushes).
    pub concurrency: usize,
}

/// What filling took.
#[derive(Debug, Clone, Copy)]
pub struct Filled {
    /// Threads written by this fill.
    pub written: u64,
    pub elapsed: Duration,
    /// Messages per second over the first and the last tenth of the fill.
    pub first_rate: f64,
    pub last_rate: f64,
    /// Time the watcher's pass took to record the overdue transitions.
    pub alerts: Duration,
}

/// The message that opens thread number `n` of a fill; `overdue` ones were sent three days
/// before `now`.
fn message(n: u64, overdue: bool) -> anyhow::Result<IncomingMessage> {
    let now = Utc::now();
    Ok(IncomingMessage {
        channel: Channel::web(),
        sender: Sender::parse(&format!("scale-{n}"))?,
        platform_id: Some(PlatformMessageId::parse(&format!("scale-{n}"))?),
        text: MessageText::parse(TEXTS[(n % TEXTS.len() as u64) as usize], 5000)?,
        sent_at: if overdue {
            now - chrono::Duration::days(3)
        } else {
            now
        },
    })
}

/// Sends first messages until the store holds `plan.threads` threads, then lets the watcher
/// record what is overdue. `progress` is called with the threads written so far, every
/// 100,000.
///
/// # Errors
/// A message was refused or the store failed.
pub async fn fill(
    pipeline: &Arc<Pipeline>,
    plan: Plan,
    progress: impl Fn(u64, Duration) + Send + Sync + 'static,
) -> anyhow::Result<Filled> {
    let store = pipeline.store();
    let start: u64 = ThreadState::ALL
        .iter()
        .map(|s| store.count_in(*s) as u64)
        .sum();
    let total = plan.threads.saturating_sub(start);
    let issued = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    let marks = Arc::new(std::sync::Mutex::new(Vec::<(u64, Instant)>::new()));
    let progress = Arc::new(progress);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..plan.concurrency.max(1) {
        let (pipeline, issued, done) = (Arc::clone(pipeline), issued.clone(), done.clone());
        let (marks, progress) = (marks.clone(), progress.clone());
        tasks.spawn(async move {
            loop {
                let i = issued.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return anyhow::Ok(());
                }
                let n = start + i + 1;
                let msg = message(n, n % plan.overdue_every.max(1) == 0)?;
                pipeline.receive(msg, Utc::now()).await?;
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if d % (total / 10).max(1) == 0 || d == total {
                    if let Ok(mut m) = marks.lock() {
                        m.push((d, Instant::now()));
                    }
                }
                if d % 100_000 == 0 {
                    progress(start + d, started.elapsed());
                }
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined??;
    }
    let elapsed = started.elapsed();
    let marks = marks.lock().map(|m| m.clone()).unwrap_or_default();
    let rate = |from: (u64, Instant), to: (u64, Instant)| {
        (to.0 - from.0) as f64 / (to.1 - from.1).as_secs_f64().max(1e-9)
    };
    let (first_rate, last_rate) = match marks.as_slice() {
        [first, .., before_last, last] => (rate((0, started), *first), rate(*before_last, *last)),
        _ => (0.0, 0.0),
    };
    let watcher = Instant::now();
    pipeline.record_alerts(Utc::now()).await?;
    Ok(Filled {
        written: total,
        elapsed,
        first_rate,
        last_rate,
        alerts: watcher.elapsed(),
    })
}
