//! The generic web channel's outgoing side: agents' answers POSTed to a callback URL, the
//! way Rasa's callback channel does it.

use std::time::Duration;

use crate::pipeline::Delivery;

/// Posts `delivery` as JSON to `url`, retrying a few times with backoff. Failures are
/// logged, never raised: the answer is already kept on the thread.
pub async fn deliver(client: reqwest::Client, url: String, delivery: Delivery) {
    let mut wait = Duration::from_millis(200);
    for attempt in 1..=4 {
        match client.post(&url).json(&delivery).send().await {
            Ok(r) if r.status().is_success() => return,
            Ok(r) => {
                tracing::warn!(thread = %delivery.thread_id, status = %r.status(), attempt, "web callback refused the answer")
            }
            Err(e) => {
                tracing::warn!(thread = %delivery.thread_id, error = %e, attempt, "web callback unreachable")
            }
        }
        tokio::time::sleep(wait).await;
        wait *= 4;
    }
    tracing::error!(thread = %delivery.thread_id, "the answer could not be delivered to the web callback");
}
