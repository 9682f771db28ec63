//! The fake's gateway: one WebSocket task per connection, speaking Discord's gateway v10 in
//! JSON text frames.
//!
//! Hello (op 10) on connect; Identify (op 2) → READY then GUILD_CREATE; Heartbeat (op 1) →
//! Heartbeat ACK (op 11); Resume (op 6) → the missed dispatches, then RESUMED, or Invalid
//! Session (op 9) when the session is unknown. serenity asks `compress: true` in Identify, so
//! READY and GUILD_CREATE are then sent zlib-compressed in binary messages, as Discord may;
//! serenity does not ask for `zlib-stream` transport compression (its URL is only `?v=10`).
//! Dispatches themselves are made by `Inner::dispatch`, which writes to the current
//! connection's channel; this task only moves frames between that channel and the socket.

use std::io::Write;
use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use flate2::write::ZlibEncoder;
use flate2::Compression;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::world::guild_create;
use super::{objects, Outgoing, Shared};

/// Gateway opcodes the fake answers or sends.
const HEARTBEAT: u64 = 1;
const IDENTIFY: u64 = 2;
const RESUME: u64 = 6;
const INVALID_SESSION: u64 = 9;
const HELLO: u64 = 10;
const HEARTBEAT_ACK: u64 = 11;

/// Close code for a bad token in Identify.
const AUTHENTICATION_FAILED: u16 = 4004;

pub(super) async fn upgrade(
    State(shared): State<Arc<Shared>>,
    RawQuery(query): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    {
        let mut inner = shared.lock();
        if inner.gateway.refuse {
            inner.gateway.refused += 1;
            drop(inner);
            shared.changed.notify_waiters();
            let body = objects::error("503: Service Unavailable", 0);
            return (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        }
    }
    ws.on_upgrade(move |socket| run(shared, socket, query))
}

async fn run(shared: Arc<Shared>, mut socket: WebSocket, query: Option<String>) {
    let (sender, mut outgoing) = mpsc::unbounded_channel();
    let (connection, heartbeat_interval) = {
        let mut inner = shared.lock();
        let gateway = &mut inner.gateway;
        gateway.connections += 1;
        gateway.ready = false;
        gateway.queries.push(query);
        if let Some((_, previous)) = gateway
            .socket
            .replace((gateway.connections, sender.clone()))
        {
            let _ = previous.send(Outgoing::Close(4000, "replaced"));
        }
        (gateway.connections, gateway.heartbeat_interval)
    };
    shared.changed.notify_waiters();

    let hello = json!({
        "op": HELLO,
        "d": { "heartbeat_interval": heartbeat_interval.as_millis() },
        "s": null,
        "t": null,
    });
    let _ = sender.send(Outgoing::Frame(hello));

    loop {
        tokio::select! {
            received = socket.recv() => match received {
                Some(Ok(Message::Text(text))) => {
                    if let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) {
                        handle(&shared, connection, &sender, frame);
                        shared.changed.notify_waiters();
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            next = outgoing.recv() => match next {
                Some(Outgoing::Frame(frame)) => {
                    if socket.send(Message::Text(frame.to_string().into())).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Compressed(frame)) => {
                    let bytes = compress(&frame);
                    if socket.send(Message::Binary(bytes.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Close(code, reason)) => {
                    let frame = CloseFrame { code, reason: reason.into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    break;
                }
                None => break,
            },
        }
    }

    let mut inner = shared.lock();
    if inner
        .gateway
        .socket
        .as_ref()
        .is_some_and(|(id, _)| *id == connection)
    {
        inner.gateway.socket = None;
        inner.gateway.ready = false;
    }
    drop(inner);
    shared.changed.notify_waiters();
}

/// Handles one frame from the client; answers go through `sender` or `Inner::dispatch`, so
/// that they leave in order.
fn handle(
    shared: &Shared,
    connection: u64,
    sender: &mpsc::UnboundedSender<Outgoing>,
    frame: Value,
) {
    let fixture = &shared.fixture;
    let mut inner = shared.lock();
    inner.gateway.received.push(frame.clone());
    let current = inner
        .gateway
        .socket
        .as_ref()
        .is_some_and(|(id, _)| *id == connection);
    if !current {
        return;
    }
    let token_ok = |d: &Value| {
        let token = d["token"].as_str().unwrap_or_default();
        // serenity sends its HTTP token, "Bot …", in Identify and Resume; Discord accepts it.
        token.strip_prefix("Bot ").unwrap_or(token) == fixture.token
    };
    match frame["op"].as_u64() {
        Some(HEARTBEAT) => {
            inner.gateway.heartbeats += 1;
            if !inner.gateway.acknowledge_heartbeats {
                return;
            }
            let _ = sender.send(Outgoing::Frame(json!({
                "op": HEARTBEAT_ACK, "d": null, "s": null, "t": null,
            })));
        }
        Some(IDENTIFY) => {
            let d = &frame["d"];
            if !token_ok(d) {
                let _ = sender.send(Outgoing::Close(
                    AUTHENTICATION_FAILED,
                    "Authentication failed.",
                ));
                return;
            }
            let session_id = format!("fake-session-{}", inner.next_id());
            let gateway = &mut inner.gateway;
            gateway.identifies += 1;
            gateway.intents = d["intents"].as_u64().unwrap_or(0);
            gateway.compress = d["compress"].as_bool().unwrap_or(false);
            gateway.session_id = Some(session_id.clone());
            gateway.seq = 0;
            gateway.sent.clear();
            gateway.ready = true;
            let ready = json!({
                "v": 10,
                "user": objects::current_user(&fixture.bot),
                "private_channels": [],
                "guilds": [{ "id": fixture.guild_id.to_string(), "unavailable": true }],
                "session_id": session_id,
                "resume_gateway_url": shared.ws_url(),
                "session_type": "normal",
                "shard": [0, 1],
                "application": { "id": fixture.application_id.to_string(), "flags": 0 },
            });
            inner.dispatch("READY", ready);
            let guild = guild_create(fixture, &inner);
            inner.dispatch("GUILD_CREATE", guild);
        }
        Some(RESUME) => {
            let d = &frame["d"];
            let known = inner.gateway.session_id.is_some()
                && inner.gateway.session_id.as_deref() == d["session_id"].as_str();
            if !token_ok(d) || !known {
                let _ = sender.send(Outgoing::Frame(json!({
                    "op": INVALID_SESSION, "d": false, "s": null, "t": null,
                })));
                return;
            }
            let after = d["seq"].as_u64().unwrap_or(0);
            inner.gateway.resumes += 1;
            inner.gateway.ready = true;
            for missed in inner
                .gateway
                .sent
                .iter()
                .filter(|f| f["s"].as_u64() > Some(after))
            {
                let _ = sender.send(Outgoing::Frame(missed.clone()));
            }
            inner.dispatch("RESUMED", json!({}));
        }
        // Presence updates, member requests and the rest are only recorded.
        _ => {}
    }
}

fn compress(frame: &Value) -> Vec<u8> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(frame.to_string().as_bytes())
        .expect("writing to a Vec does not fail");
    encoder.finish().expect("finishing a Vec does not fail")
}
