//! A local webhook receiver for guichet's alerts: it checks each POST's
//! `X-Guichet-Signature` (HMAC-SHA256 of the raw body with the shared secret), records it,
//! and answers 503 while down.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// One POST received.
#[derive(Debug, Clone)]
pub struct Post {
    pub idempotency_key: String,
    pub body: Value,
    pub signature_ok: bool,
    /// Answered 2xx.
    pub accepted: bool,
}

struct Receiver {
    secret: String,
    down: AtomicBool,
    posts: Mutex<Vec<Post>>,
}

#[derive(Clone)]
pub struct Hook {
    pub address: SocketAddr,
    receiver: Arc<Receiver>,
}

fn signature_ok(secret: &str, headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(given) = headers
        .get("x-guichet-signature")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

async fn take(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let accepted = !r.down.load(Ordering::SeqCst);
    r.posts.lock().unwrap().push(Post {
        idempotency_key: headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        signature_ok: signature_ok(&r.secret, &headers, &body),
        accepted,
    });
    if accepted {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

impl Hook {
    pub async fn spawn(secret: &str) -> Hook {
        let receiver = Arc::new(Receiver {
            secret: secret.to_owned(),
            down: AtomicBool::new(false),
            posts: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/alerts", post(take))
            .with_state(Arc::clone(&receiver));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Hook { address, receiver }
    }

    pub fn url(&self) -> String {
        format!("http://{}/alerts", self.address)
    }

    pub fn set_down(&self, down: bool) {
        self.receiver.down.store(down, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Post> {
        self.receiver.posts.lock().unwrap().clone()
    }

    pub fn accepted(&self) -> Vec<Post> {
        self.received().into_iter().filter(|p| p.accepted).collect()
    }
}
