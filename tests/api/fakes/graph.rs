//! A fake of Meta's Graph API, as far as the Send API goes: `POST /{version}/{page}/messages`
//! records each request (path, query, JSON body) and answers a `message_id`, or the failure a
//! test asked for, with Meta's exact error JSON. Anything else is answered 404 as Graph does
//! (an `OAuthException`), and recorded all the same.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct SentRequest {
    pub method: String,
    pub path: String,
    /// The `access_token` query parameter.
    pub access_token: Option<String>,
    pub body: Value,
}

/// A failure to answer instead of a success.
#[derive(Debug, Clone)]
struct Failure {
    status: u16,
    code: i64,
    subcode: Option<i64>,
    message: String,
    /// Fails every request until then, or
    until: Option<Instant>,
    /// the next `count` requests,
    count: u32,
    /// once `skip` more requests have succeeded.
    skip: u32,
}

#[derive(Default)]
struct Inner {
    requests: Vec<SentRequest>,
    /// What was accepted: each text with its recipient, in order.
    delivered: Vec<(String, Value)>,
    failure: Option<Failure>,
    next_id: u64,
}

#[derive(Clone)]
pub struct FakeGraph {
    address: std::net::SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGraph { address, inner }
    }

    /// The base guichet's `graph_url` points at.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn requests(&self) -> Vec<SentRequest> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// The messages accepted (answered 200), in order: (recipient PSID, body).
    pub fn delivered(&self) -> Vec<(String, Value)> {
        self.inner.lock().unwrap().delivered.clone()
    }

    /// The texts accepted for `psid`, in order.
    pub fn texts_to(&self, psid: &str) -> Vec<String> {
        self.delivered()
            .into_iter()
            .filter(|(r, _)| r == psid)
            .filter_map(|(_, b)| b["message"]["text"].as_str().map(str::to_owned))
            .collect()
    }

    /// Fails every Send API request for `duration` with Meta's error `code` (`subcode`).
    pub fn fail_for(&self, duration: Duration, status: u16, code: i64, subcode: Option<i64>) {
        self.inner.lock().unwrap().failure = Some(Failure {
            status,
            code,
            subcode,
            message: message_of(code, subcode),
            until: Some(Instant::now() + duration),
            count: 0,
            skip: 0,
        });
    }

    /// Fails the next `count` Send API requests with Meta's error `code` (`subcode`).
    pub fn fail_next(&self, count: u32, status: u16, code: i64, subcode: Option<i64>) {
        self.fail_after(0, count, status, code, subcode);
    }

    /// Lets `skip` Send API requests succeed, then fails the `count` next ones.
    pub fn fail_after(&self, skip: u32, count: u32, status: u16, code: i64, subcode: Option<i64>) {
        self.inner.lock().unwrap().failure = Some(Failure {
            status,
            code,
            subcode,
            message: message_of(code, subcode),
            until: None,
            count,
            skip,
        });
    }
}

/// Meta's wording for the errors tests use.
fn message_of(code: i64, subcode: Option<i64>) -> String {
    match (code, subcode) {
        (613, _) => "Calls to this api have exceeded the rate limit.".into(),
        (10, Some(2_018_278)) => "(#10) This message is sent outside of allowed window.".into(),
        (10, Some(2_018_300)) => "(#10) Another app is controlling this thread now.".into(),
        (551, _) => "This person isn't available right now.".into(),
        _ => "An unexpected error has occurred. Please retry your request later.".into(),
    }
}

fn error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> Response {
    let mut body = json!({"error": {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "AbCdEfGhIjK",
    }});
    if let Some(s) = subcode {
        body["error"]["error_subcode"] = json!(s);
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        axum::Json(body),
    )
        .into_response()
}

async fn handle(State(inner): State<Arc<Mutex<Inner>>>, request: Request<Body>) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let access_token = request.uri().query().and_then(|q| {
        q.split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == "access_token")
            .map(|(_, v)| v.to_owned())
    });
    let bytes = to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let mut inner = inner.lock().unwrap();
    inner.requests.push(SentRequest {
        method: method.clone(),
        path: path.clone(),
        access_token,
        body: body.clone(),
    });
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if method != "POST" || segments.len() != 3 || segments[2] != "messages" {
        return error(
            404,
            803,
            None,
            "(#803) Some of the aliases you requested do not exist",
        );
    }
    if let Some(f) = inner.failure.as_mut().filter(|f| f.skip > 0) {
        f.skip -= 1;
    } else if let Some(f) = inner.failure.clone() {
        let active = match f.until {
            Some(until) => Instant::now() < until,
            None => f.count > 0,
        };
        if active {
            if let Some(stored) = inner.failure.as_mut() {
                stored.count = stored.count.saturating_sub(1);
            }
            return error(f.status, f.code, f.subcode, &f.message);
        }
        inner.failure = None;
    }
    let Some(recipient) = body["recipient"]["id"].as_str().map(str::to_owned) else {
        return error(400, 100, None, "(#100) The parameter recipient is required");
    };
    inner.next_id += 1;
    let message_id = format!("m_fake{}", inner.next_id);
    inner.delivered.push((recipient.clone(), body));
    axum::Json(json!({ "recipient_id": recipient, "message_id": message_id })).into_response()
}
