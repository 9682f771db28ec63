//! Concurrent senders for `POST /api/messages`, shared by the load generator and the scale
//! benchmark: each message comes from a new sender, so each opens, classifies, acknowledges
//! and durably stores a thread.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

/// What one run measured.
pub struct Run {
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Latencies of the successful requests, in microseconds, sorted.
    pub latencies: Vec<u32>,
}

impl Run {
    pub fn per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1] as f64 / 1000.0
    }

    pub fn line(&self, what: &str) -> String {
        format!(
            "{what:<8} {:>9.0}/s  p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms  ({} ok, {} errors, {:.1} s)",
            self.per_second(),
            self.percentile_ms(50.0),
            self.percentile_ms(95.0),
            self.percentile_ms(99.0),
            self.ok,
            self.errors,
            self.elapsed.as_secs_f64()
        )
    }
}

pub const TEXTS: [&str; 6] = [
    "I want to complain: the garbage truck skipped our street again and nobody called back.",
    "Il y a une fuite d'eau majeure dans ma rue, l'eau monte vite",
    "C'est inacceptable, personne n'a déneigé notre rue depuis trois jours",
    "Est-ce que la ville organise une fête de quartier cet été?",
    "Quelles sont les heures d'ouverture de l'hôtel de ville?",
    "There is a huge pothole in front of 55 Maple Ave, a car hit it this morning",
];

/// Sends up to `count` messages from `concurrency` senders for at most `duration`.
pub async fn drive(
    client: &reqwest::Client,
    url: &str,
    concurrency: usize,
    count: u64,
    duration: Duration,
    run_id: u64,
) -> Run {
    let issued = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let client = client.clone();
        let url = url.to_owned();
        let issued = Arc::clone(&issued);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            loop {
                let n = issued.fetch_add(1, Ordering::Relaxed);
                if n >= count || Instant::now() >= deadline {
                    break;
                }
                // A new sender for every message: each one opens, classifies, acknowledges
                // and durably stores a thread.
                let body = json!({
                    "sender": format!("load-{run_id}-{worker}-{n}"),
                    "text": TEXTS[(n % TEXTS.len() as u64) as usize],
                    "message_id": format!("load-{run_id}-{n}"),
                });
                let sent = Instant::now();
                match client.post(&url).json(&body).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(sent.elapsed().as_micros().min(u32::MAX as u128) as u32);
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            latencies.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();
    Run {
        ok: latencies.len() as u64,
        errors,
        elapsed,
        latencies,
    }
}
