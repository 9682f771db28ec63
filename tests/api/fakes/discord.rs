//! A local fake Discord: REST under `/api/v10` and a gateway WebSocket, on 127.0.0.1, for the
//! real serenity client to talk to.
//!
//! It owns one staff server (a forum for forwarded threads, an alerts channel, an agent and a
//! coordinator role, four members including the bot) and a few citizens who write in direct
//! messages. Every REST request is recorded (method, path, query, headers, JSON body, answer's
//! status); what the bot creates (messages, forum posts, tags, commands, interaction answers)
//! is kept and served back by the GET routes, so the fake stays self-consistent. Tests drive
//! the gateway (`dispatch_message_create`, `dispatch_interaction_create`, `replay`,
//! `disconnect`), inject faults (`fail_next`, `fail_for`, `rate_limit_next`) and read the
//! recording (`requests`, `wait_for_request`, `messages_in`, …), never the fake's internals.
//!
//! Point serenity at it with `HttpBuilder::new(token).proxy(fake.api_url())
//! .ratelimiter_disabled(true)`: serenity replaces `https://discord.com` in each URL with the
//! proxy, and only when its rate limiter is off (the rate limiter builds its own requests).
//! The gateway URL is then discovered with `GET /api/v10/gateway`, which answers `ws://`.
//!
//! The fake never reaches the network: it binds 127.0.0.1 and answers everything it does not
//! know with Discord's 404 JSON.
//!
//! Layout: this file holds the state and the API tests use; `rest` answers `/api/v10`,
//! `gateway` runs the WebSocket, `objects` builds Discord's JSON objects, `world` sets up the
//! staff server and its people, `incoming` describes what tests dispatch.
//!
//! ```text
//! let fake = FakeDiscord::start().await;
//! let http = HttpBuilder::new(&fake.token)
//!     .proxy(fake.api_url())
//!     .ratelimiter_disabled(true)
//!     .build();
//! let mut client = ClientBuilder::new_with_http(http, intents)   // asks GET /gateway here
//!     .event_handler(handler)
//!     .await?;
//! tokio::spawn(async move { client.start().await });
//! assert!(fake.wait_until_identified(Duration::from_secs(10)).await);
//! let dm = fake.dispatch_message_create(IncomingMessage::dm(&fake.citizens[0], "Bonjour"));
//! let reply = fake.wait_for_request(&Route::post("/channels/{id}/messages"), timeout).await;
//! ```
//!
//! What serenity 0.12.5 does that a client of the fake must know:
//! - `ClientBuilder` asks `GET /gateway` (not `/gateway/bot`) and, when it fails, silently
//!   uses `wss://gateway.discord.gg`: faults here never apply to that request.
//! - It connects to `{url}?v=10`, JSON, no `zlib-stream`, but Identify says `compress: true`:
//!   READY and GUILD_CREATE come back zlib-compressed in binary messages, as Discord may.
//! - Identify and Resume carry the HTTP token, `Bot ` prefix included.
//! - Resume goes to the same URL (`resume_gateway_url` is ignored); a missed heartbeat ACK
//!   restarts the shard, which identifies anew after a 5 s pause.
//! - Query strings are written `?&limit=…`; forum posts are sent as multipart with
//!   `payload_json`; a 429's body has no `code`, so serenity's error keeps neither
//!   `retry_after` nor the headers.
//! - A gateway event that does not deserialise is dropped with a log line only: the objects
//!   in `objects` are complete for that reason.

mod gateway;
mod incoming;
pub mod objects;
mod rest;
mod world;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;

use incoming::InteractionKind;
pub use incoming::{IncomingInteraction, IncomingMessage};
pub use objects::FakeUser;
use objects::{channel_type, snowflake};
pub use world::Fixture;
use world::{member_permissions, JOINED_AT};

/// The heartbeat interval the fake announces in Hello by default, Discord's usual value.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(41_250);

/// How long Discord keeps a nonce for `enforce_nonce` ("within the past few minutes").
const NONCE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// One REST request as the fake received it, and the status it answered.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// The path after `/api/v10` (`/channels/1/messages`); the full path when outside it.
    pub path: String,
    /// The raw query string, as sent (serenity writes `?&limit=50`).
    pub query: Option<String>,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    /// The JSON body, or the `payload_json` part of a multipart form.
    pub body: Option<Value>,
    /// Whether the body came as `multipart/form-data`.
    pub multipart: bool,
    /// File names of a multipart form's file parts.
    pub files: Vec<String>,
    /// The status the fake answered (a fault's status when one was injected).
    pub status: u16,
}

impl RecordedRequest {
    /// The request's JSON body, or `null`.
    pub fn json(&self) -> &Value {
        self.body.as_ref().unwrap_or(&Value::Null)
    }
}

/// Which requests a fault or a wait applies to: a method (or any) and a path pattern relative
/// to `/api/v10`, where a segment written `*` or `{name}` matches any one segment and a last
/// segment `**` matches the rest of the path.
///
/// `Route::post("/channels/{channel}/messages")` matches every message creation;
/// `Route::any("/**")` matches everything.
#[derive(Clone, Debug)]
pub struct Route {
    method: Option<String>,
    segments: Vec<String>,
}

impl Route {
    pub fn new(method: &str, pattern: &str) -> Self {
        Self {
            method: Some(method.to_ascii_uppercase()),
            segments: split_path(pattern).map(str::to_owned).collect(),
        }
    }

    /// Any method.
    pub fn any(pattern: &str) -> Self {
        Self {
            method: None,
            ..Self::new("GET", pattern)
        }
    }

    pub fn get(pattern: &str) -> Self {
        Self::new("GET", pattern)
    }

    pub fn post(pattern: &str) -> Self {
        Self::new("POST", pattern)
    }

    pub fn put(pattern: &str) -> Self {
        Self::new("PUT", pattern)
    }

    pub fn patch(pattern: &str) -> Self {
        Self::new("PATCH", pattern)
    }

    pub fn matches(&self, method: &str, path: &str) -> bool {
        if self.method.as_deref().is_some_and(|m| m != method) {
            return false;
        }
        let mut segments = split_path(path);
        for pattern in &self.segments {
            if pattern == "**" {
                return true;
            }
            let Some(segment) = segments.next() else {
                return false;
            };
            let wildcard = pattern == "*" || (pattern.starts_with('{') && pattern.ends_with('}'));
            if !wildcard && pattern != segment {
                return false;
            }
        }
        segments.next().is_none()
    }
}

fn split_path(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|s| !s.is_empty())
}

/// A gateway event the fake sent: its sequence number and the whole frame (`op`, `t`, `s`, `d`).
#[derive(Clone, Debug)]
pub struct Dispatched {
    pub seq: u64,
    pub frame: Value,
}

impl Dispatched {
    /// The event's data (`d`).
    pub fn data(&self) -> &Value {
        &self.frame["d"]
    }
}

/// An injected failure.
#[derive(Clone, Debug)]
struct Fault {
    route: Route,
    status: u16,
    remaining: Option<u32>,
    until: Option<Instant>,
    retry_after: f64,
}

/// What the gateway task of one connection sends.
#[derive(Debug)]
enum Outgoing {
    Frame(Value),
    /// A frame sent zlib-compressed in a binary message (`compress: true` in Identify).
    Compressed(Value),
    Close(u16, &'static str),
}

struct GatewayState {
    /// The current connection's id and its sender.
    socket: Option<(u64, mpsc::UnboundedSender<Outgoing>)>,
    connections: u64,
    /// The current connection has identified or resumed.
    ready: bool,
    identifies: u64,
    resumes: u64,
    heartbeats: u64,
    intents: u64,
    compress: bool,
    session_id: Option<String>,
    seq: u64,
    /// Every dispatch of the session, for Resume to replay what was missed.
    sent: Vec<Value>,
    /// Every frame the clients sent, in order.
    received: Vec<Value>,
    /// The query strings of the WebSocket connections (`v=10`).
    queries: Vec<Option<String>>,
    /// Announced in the next Hello.
    heartbeat_interval: Duration,
    /// False: heartbeats go unanswered, as with a zombied connection.
    acknowledge_heartbeats: bool,
    /// True: connections are refused.
    refuse: bool,
    refused: u64,
}

impl Default for GatewayState {
    fn default() -> Self {
        Self {
            socket: None,
            connections: 0,
            ready: false,
            identifies: 0,
            resumes: 0,
            heartbeats: 0,
            intents: 0,
            compress: false,
            session_id: None,
            seq: 0,
            sent: Vec::new(),
            received: Vec::new(),
            queries: Vec::new(),
            heartbeat_interval: HEARTBEAT_INTERVAL,
            acknowledge_heartbeats: true,
            refuse: false,
            refused: 0,
        }
    }
}

struct InteractionState {
    token: String,
    channel_id: u64,
    acknowledged: bool,
    original: Option<Value>,
}

struct Inner {
    counter: u64,
    requests: Vec<RecordedRequest>,
    faults: Vec<Fault>,
    /// Guild channels, threads and DM channels, by id.
    channels: BTreeMap<u64, Value>,
    /// Messages by channel, oldest first.
    messages: BTreeMap<u64, Vec<Value>>,
    /// A citizen's DM channel, by user id.
    dm_channels: HashMap<u64, u64>,
    /// `(author, nonce)` → the message it created and when.
    nonces: HashMap<(u64, String), (u64, u64, Instant)>,
    commands: Vec<Value>,
    interactions: HashMap<u64, InteractionState>,
    gateway: GatewayState,
}

/// State shared by the server tasks and the test.
struct Shared {
    fixture: Fixture,
    addr: SocketAddr,
    inner: Mutex<Inner>,
    /// Woken on every recorded request and gateway change, for the wait helpers.
    changed: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    fn user(&self, id: u64) -> Option<&FakeUser> {
        let f = &self.fixture;
        [&f.bot, &f.agent, &f.coordinator, &f.member]
            .into_iter()
            .chain(&f.citizens)
            .find(|u| u.id == id)
    }
}

impl Inner {
    fn next_id(&mut self) -> u64 {
        self.counter += 1;
        snowflake(self.counter)
    }

    /// Sends a dispatch to the identified connection, or keeps it for a Resume to replay.
    fn dispatch(&mut self, event: &str, data: Value) -> Dispatched {
        let gateway = &mut self.gateway;
        gateway.seq += 1;
        let frame = json!({ "op": 0, "t": event, "s": gateway.seq, "d": data });
        gateway.sent.push(frame.clone());
        if gateway.ready {
            if let Some((_, socket)) = &gateway.socket {
                let big = matches!(event, "READY" | "GUILD_CREATE");
                let _ = socket.send(if gateway.compress && big {
                    Outgoing::Compressed(frame.clone())
                } else {
                    Outgoing::Frame(frame.clone())
                });
            }
        }
        Dispatched {
            seq: gateway.seq,
            frame,
        }
    }

    /// The DM channel between the bot and `user`, opened if needed.
    fn dm_channel(&mut self, user: &FakeUser) -> u64 {
        if let Some(id) = self.dm_channels.get(&user.id) {
            return *id;
        }
        let id = self.next_id();
        self.channels.insert(id, objects::dm_channel(id, user));
        self.dm_channels.insert(user.id, id);
        id
    }
}

/// The fake Discord server. Dropping it stops it.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.server.abort();
        if let Some((_, socket)) = self.shared.lock().gateway.socket.take() {
            let _ = socket.send(Outgoing::Close(1001, "going away"));
        }
    }
}

impl Deref for FakeDiscord {
    type Target = Fixture;

    /// The fixture's ids and people: `fake.guild_id`, `fake.agent`, …
    fn deref(&self) -> &Fixture {
        &self.shared.fixture
    }
}

impl FakeDiscord {
    /// Binds 127.0.0.1 on a free port and serves REST and the gateway there.
    ///
    /// # Panics
    ///
    /// When no port can be bound on the loopback interface.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the fake Discord binds a loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");

        let mut inner = Inner {
            counter: 0,
            requests: Vec::new(),
            faults: Vec::new(),
            channels: BTreeMap::new(),
            messages: BTreeMap::new(),
            dm_channels: HashMap::new(),
            nonces: HashMap::new(),
            commands: Vec::new(),
            interactions: HashMap::new(),
            gateway: GatewayState::default(),
        };
        let fixture = world::fixture(&mut inner);
        world::seed_channels(&fixture, &mut inner);

        let shared = Arc::new(Shared {
            fixture,
            addr,
            inner: Mutex::new(inner),
            changed: Notify::new(),
        });
        let app = axum::Router::new()
            .route("/", axum::routing::get(gateway::upgrade))
            .fallback(rest::handle)
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { shared, server }
    }

    /// The base to give guichet as `channels.discord.api_url` and serenity as its proxy:
    /// `http://127.0.0.1:PORT` (REST lives under `/api/v10` there).
    pub fn api_url(&self) -> String {
        format!("http://{}", self.shared.addr)
    }

    /// The gateway URL `GET /gateway` answers: `ws://127.0.0.1:PORT`.
    pub fn gateway_url(&self) -> String {
        self.shared.ws_url()
    }

    /// The ids and people of the fake's world (also reachable through `Deref`).
    pub fn fixture(&self) -> &Fixture {
        &self.shared.fixture
    }

    /// The direct-message channel between the bot and `user`, opened if needed (the same id
    /// `POST /users/@me/channels` answers).
    pub fn dm_channel_of(&self, user: &FakeUser) -> u64 {
        self.shared.lock().dm_channel(user)
    }

    // ---- The recording -------------------------------------------------------------------

    /// Every REST request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The REST requests that `route` matches, in order.
    pub fn requests_matching(&self, route: &Route) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| route.matches(&r.method, &r.path))
            .cloned()
            .collect()
    }

    /// Waits until `count` requests matching `route` have been received (counting those
    /// already there), and returns them; `None` after `timeout`.
    pub async fn wait_for_requests(
        &self,
        route: &Route,
        count: usize,
        timeout: Duration,
    ) -> Option<Vec<RecordedRequest>> {
        self.wait_until(timeout, || {
            let found = self.requests_matching(route);
            (found.len() >= count).then_some(found)
        })
        .await
    }

    /// Waits for the first request matching `route` (one already received counts).
    pub async fn wait_for_request(
        &self,
        route: &Route,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        self.wait_for_requests(route, 1, timeout)
            .await
            .and_then(|found| found.into_iter().next())
    }

    /// The messages of a channel or thread as Discord holds them, oldest first: what the bot
    /// created, what was dispatched, with edits applied.
    pub fn messages_in(&self, channel_id: u64) -> Vec<Value> {
        self.shared
            .lock()
            .messages
            .get(&channel_id)
            .cloned()
            .unwrap_or_default()
    }

    /// The channel (guild channel, thread or DM channel) as Discord holds it.
    pub fn channel(&self, channel_id: u64) -> Option<Value> {
        self.shared.lock().channels.get(&channel_id).cloned()
    }

    /// The posts (threads) of a forum, oldest first.
    pub fn threads_in(&self, forum_id: u64) -> Vec<Value> {
        let parent = forum_id.to_string();
        self.shared
            .lock()
            .channels
            .values()
            .filter(|c| c["parent_id"] == parent.as_str())
            .cloned()
            .collect()
    }

    /// The guild's application commands as last overwritten by the bot.
    pub fn commands(&self) -> Vec<Value> {
        self.shared.lock().commands.clone()
    }

    /// The original answer to an interaction (its callback's message, with later edits).
    pub fn interaction_response(&self, dispatched: &Dispatched) -> Option<Value> {
        let id = objects::snowflake_of(&dispatched.data()["id"])?;
        self.shared
            .lock()
            .interactions
            .get(&id)
            .and_then(|i| i.original.clone())
    }

    // ---- Faults --------------------------------------------------------------------------

    /// The next `count` requests matching `route` fail with `status` and Discord's error JSON
    /// (a 429 gets Discord's rate-limit body and headers, `retry_after` 1.5 s). A failed
    /// request changes nothing and is recorded with that status.
    ///
    /// Faults never apply to `GET /gateway` and `/gateway/bot`: when that request fails,
    /// serenity's `ClientBuilder` falls back to `wss://gateway.discord.gg`, the real Discord.
    /// Use `refuse_connections` for a gateway outage.
    pub fn fail_next(&self, route: Route, status: u16, count: u32) {
        self.add_fault(Fault {
            route,
            status,
            remaining: Some(count),
            until: None,
            retry_after: 1.5,
        });
    }

    /// Every request matching `route` fails with `status` for `duration` from now.
    pub fn fail_for(&self, route: Route, status: u16, duration: Duration) {
        self.add_fault(Fault {
            route,
            status,
            remaining: None,
            until: Some(Instant::now() + duration),
            retry_after: 1.5,
        });
    }

    /// The next `count` requests matching `route` are rate limited: 429, body
    /// `{"message": "You are being rate limited.", "retry_after": …, "global": false}`, with
    /// `Retry-After` and the `X-RateLimit-*` headers.
    pub fn rate_limit_next(&self, route: Route, retry_after: Duration, count: u32) {
        self.add_fault(Fault {
            route,
            status: 429,
            remaining: Some(count),
            until: None,
            retry_after: retry_after.as_secs_f64(),
        });
    }

    /// While true, WebSocket connections are refused (503 to the upgrade), as during a gateway
    /// outage; serenity retries, pausing 5 s between attempts.
    pub fn refuse_connections(&self, refuse: bool) {
        self.shared.lock().gateway.refuse = refuse;
        self.shared.changed.notify_waiters();
    }

    /// Removes every injected fault.
    pub fn heal(&self) {
        self.shared.lock().faults.clear();
    }

    fn add_fault(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    // ---- The gateway ---------------------------------------------------------------------

    /// A client holds a WebSocket connection.
    pub fn connected(&self) -> bool {
        self.shared.lock().gateway.socket.is_some()
    }

    /// The current connection has identified (or resumed) and receives dispatches.
    pub fn identified(&self) -> bool {
        let gateway = &self.shared.lock().gateway;
        gateway.socket.is_some() && gateway.ready
    }

    /// How many connections were opened or refused, and Identify, Resume and Heartbeat frames
    /// received.
    pub fn gateway_counts(&self) -> GatewayCounts {
        let gateway = &self.shared.lock().gateway;
        GatewayCounts {
            connections: gateway.connections,
            identifies: gateway.identifies,
            resumes: gateway.resumes,
            heartbeats: gateway.heartbeats,
            refused: gateway.refused,
        }
    }

    /// The dispatches of the current session, in order: those of the tests and those the
    /// bot's REST calls caused (MESSAGE_CREATE of its own messages, THREAD_CREATE, …).
    pub fn dispatches(&self) -> Vec<Dispatched> {
        self.shared
            .lock()
            .gateway
            .sent
            .iter()
            .map(|frame| Dispatched {
                seq: frame["s"].as_u64().unwrap_or(0),
                frame: frame.clone(),
            })
            .collect()
    }

    /// Every frame the client sent on the gateway, in order (Identify's token included).
    pub fn gateway_frames(&self) -> Vec<Value> {
        self.shared.lock().gateway.received.clone()
    }

    /// The query strings of the gateway connections, in order (serenity sends `v=10`).
    pub fn gateway_queries(&self) -> Vec<Option<String>> {
        self.shared.lock().gateway.queries.clone()
    }

    /// The heartbeat interval announced by the next Hello (serenity sends its first heartbeat
    /// one interval after Identify, so a test that wants heartbeats shortens it first).
    pub fn set_heartbeat_interval(&self, interval: Duration) {
        self.shared.lock().gateway.heartbeat_interval = interval;
    }

    /// Whether heartbeats get their ACK (op 11). Without ACKs serenity takes the connection
    /// for dead at its next heartbeat and reconnects (resuming).
    pub fn acknowledge_heartbeats(&self, acknowledge: bool) {
        self.shared.lock().gateway.acknowledge_heartbeats = acknowledge;
    }

    /// The intents of the last Identify.
    pub fn intents(&self) -> u64 {
        self.shared.lock().gateway.intents
    }

    /// Waits until a connection has identified or resumed; false after `timeout`.
    pub async fn wait_until_identified(&self, timeout: Duration) -> bool {
        self.wait_until(timeout, || self.identified().then_some(()))
            .await
            .is_some()
    }

    /// Waits until at least `count` Identify or Resume frames were handled in all, and a
    /// connection is identified.
    pub async fn wait_for_sessions(&self, count: u64, timeout: Duration) -> bool {
        self.wait_for_gateway(timeout, |c| {
            c.identifies + c.resumes >= count && self.identified()
        })
        .await
    }

    /// Waits until the gateway's counters satisfy `check` (`|c| c.heartbeats >= 1`).
    pub async fn wait_for_gateway(
        &self,
        timeout: Duration,
        check: impl Fn(GatewayCounts) -> bool,
    ) -> bool {
        self.wait_until(timeout, || check(self.gateway_counts()).then_some(()))
            .await
            .is_some()
    }

    /// Dispatches a MESSAGE_CREATE: a citizen's DM (no `guild_id`, the DM channel, no member)
    /// or a member's message in a guild channel (`guild_id` and `member` set). The message is
    /// kept in its channel. Returns the dispatch, for `replay`.
    pub fn dispatch_message_create(&self, incoming: IncomingMessage) -> Dispatched {
        let fixture = &self.shared.fixture;
        let mut inner = self.shared.lock();
        let channel_id = match incoming.channel_id {
            Some(id) => id,
            None => inner.dm_channel(&incoming.author),
        };
        let id = inner.next_id();
        let mut message = objects::message(id, channel_id, &incoming.author, &incoming.content);
        let (everyone, users, roles) = objects::resolve_mentions(&incoming.content, None);
        message["mention_everyone"] = json!(everyone);
        message["mentions"] = users
            .iter()
            .filter_map(|u| self.shared.user(*u))
            .map(objects::user)
            .collect();
        message["mention_roles"] = roles.iter().map(u64::to_string).collect();
        let mut attachments = Vec::new();
        for (filename, content_type, size) in &incoming.attachments {
            let attachment_id = inner.next_id();
            attachments.push(objects::attachment(
                attachment_id,
                channel_id,
                filename,
                content_type,
                *size,
            ));
        }
        message["attachments"] = json!(attachments);
        inner
            .messages
            .entry(channel_id)
            .or_default()
            .push(message.clone());
        touch_channel(&mut inner, channel_id, id);

        let mut data = message;
        let in_guild = inner
            .channels
            .get(&channel_id)
            .is_some_and(|c| c["type"] != channel_type::DM);
        if in_guild {
            data["guild_id"] = json!(fixture.guild_id.to_string());
            let mut member = objects::member(&incoming.author, JOINED_AT);
            member
                .as_object_mut()
                .expect("a member is an object")
                .remove("user");
            data["member"] = member;
            // Without the privileged MESSAGE_CONTENT intent, Discord blanks guild messages
            // that do not mention the bot for the identified client (DMs keep their content).
            let mentions_bot = users.contains(&fixture.bot.id);
            let gateway = &inner.gateway;
            let without_content = gateway.session_id.is_some()
                && gateway.intents & objects::intent::MESSAGE_CONTENT == 0;
            if without_content && !mentions_bot {
                data["content"] = json!("");
                for key in ["embeds", "attachments", "components"] {
                    data[key] = json!([]);
                }
            }
        }
        let dispatched = inner.dispatch("MESSAGE_CREATE", data);
        drop(inner);
        self.shared.changed.notify_waiters();
        dispatched
    }

    /// Dispatches an INTERACTION_CREATE (button, string select or slash command) by a member,
    /// complete as Discord sends it (`member` with its roles and permissions, `locale`,
    /// `guild_locale`, `app_permissions`, `entitlements`, `authorizing_integration_owners`,
    /// `context`, `attachment_size_limit`). Its token is accepted once by the callback route.
    pub fn dispatch_interaction_create(&self, incoming: IncomingInteraction) -> Dispatched {
        let fixture = &self.shared.fixture;
        let mut inner = self.shared.lock();
        let id = inner.next_id();
        let token = format!("aW50ZXJhY3Rpb246{id}:fake-interaction-token");
        let channel_id = incoming.channel_id.unwrap_or(fixture.alerts_channel_id);
        let channel = inner
            .channels
            .get(&channel_id)
            .cloned()
            .unwrap_or(Value::Null);
        let member_permissions = member_permissions(fixture, &incoming.by);
        let mut member = objects::member(&incoming.by, JOINED_AT);
        member["permissions"] = json!(member_permissions.to_string());

        let (kind, data, message) = match &incoming.kind {
            InteractionKind::Button { custom_id, message } => (
                3,
                json!({ "custom_id": custom_id, "component_type": 2 }),
                Some(*message),
            ),
            InteractionKind::StringSelect {
                custom_id,
                values,
                message,
            } => (
                3,
                json!({ "custom_id": custom_id, "component_type": 3, "values": values }),
                Some(*message),
            ),
            InteractionKind::Command { name, options } => {
                let registered = inner
                    .commands
                    .iter()
                    .find(|c| c["name"] == name.as_str())
                    .and_then(|c| objects::snowflake_of(&c["id"]));
                let command_id = registered.unwrap_or_else(|| inner.next_id()).to_string();
                let options: Vec<Value> = options
                    .iter()
                    .map(|(name, value)| {
                        let kind = match value {
                            Value::Number(n) if n.is_i64() || n.is_u64() => 4,
                            Value::Number(_) => 10,
                            Value::Bool(_) => 5,
                            _ => 3,
                        };
                        json!({ "name": name, "type": kind, "value": value })
                    })
                    .collect();
                (
                    2,
                    json!({
                        "id": command_id,
                        "name": name,
                        "type": 1,
                        "guild_id": fixture.guild_id.to_string(),
                        "options": options,
                    }),
                    None,
                )
            }
        };

        let mut interaction = json!({
            "id": id.to_string(),
            "application_id": fixture.application_id.to_string(),
            "type": kind,
            "data": data,
            "guild": { "id": fixture.guild_id.to_string(), "locale": "fr", "features": [] },
            "guild_id": fixture.guild_id.to_string(),
            "channel": partial_channel(&channel, member_permissions),
            "channel_id": channel_id.to_string(),
            "member": member,
            "token": token,
            "version": 1,
            "app_permissions": objects::permission::BOT.to_string(),
            "locale": "fr",
            "guild_locale": "fr",
            "entitlements": [],
            "authorizing_integration_owners": { "0": fixture.guild_id.to_string() },
            "context": 0,
            "attachment_size_limit": 10_485_760,
        });
        if let Some((message_channel, message_id)) = message {
            let held = inner
                .messages
                .get(&message_channel)
                .and_then(|m| {
                    m.iter()
                        .find(|m| m["id"] == message_id.to_string().as_str())
                })
                .cloned();
            interaction["message"] = held
                .unwrap_or_else(|| objects::message(message_id, message_channel, &fixture.bot, ""));
        }
        inner.interactions.insert(
            id,
            InteractionState {
                token,
                channel_id,
                acknowledged: false,
                original: None,
            },
        );
        let dispatched = inner.dispatch("INTERACTION_CREATE", interaction);
        drop(inner);
        self.shared.changed.notify_waiters();
        dispatched
    }

    /// Dispatches any event with data `d`, as Discord would (for events without a helper).
    pub fn dispatch(&self, event: &str, data: Value) -> Dispatched {
        let dispatched = self.shared.lock().dispatch(event, data);
        self.shared.changed.notify_waiters();
        dispatched
    }

    /// Sends the same event again under a new sequence number, as a gateway does after a
    /// reconnection.
    pub fn replay(&self, dispatched: &Dispatched) -> Dispatched {
        let event = dispatched.frame["t"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.dispatch(&event, dispatched.data().clone())
    }

    /// Closes the connection with code 4000 ("unknown error", resumable): serenity reconnects
    /// and resumes the session; dispatches made meanwhile are replayed on Resume.
    pub fn disconnect(&self) {
        let mut inner = self.shared.lock();
        inner.gateway.ready = false;
        if let Some((_, socket)) = inner.gateway.socket.take() {
            let _ = socket.send(Outgoing::Close(4000, "unknown error"));
        }
        drop(inner);
        self.shared.changed.notify_waiters();
    }

    /// Closes the connection and forgets the session (code 4009, session timed out): the
    /// client must identify anew and gets a fresh READY and GUILD_CREATE.
    pub fn drop_session(&self) {
        let mut inner = self.shared.lock();
        inner.gateway.ready = false;
        inner.gateway.session_id = None;
        if let Some((_, socket)) = inner.gateway.socket.take() {
            let _ = socket.send(Outgoing::Close(4009, "session timed out"));
        }
        drop(inner);
        self.shared.changed.notify_waiters();
    }

    /// Polls `check` each time the fake's state changes, until it gives a value or `timeout`
    /// passes.
    async fn wait_until<T>(&self, timeout: Duration, check: impl Fn() -> Option<T>) -> Option<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if let Some(found) = check() {
                return Some(found);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return check();
            }
        }
    }
}

/// Counters of the gateway's traffic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GatewayCounts {
    pub connections: u64,
    pub identifies: u64,
    pub resumes: u64,
    pub heartbeats: u64,
    /// Connections refused by `refuse_connections`.
    pub refused: u64,
}

/// The partial channel an interaction carries.
fn partial_channel(channel: &Value, permissions: u64) -> Value {
    let mut partial = json!({
        "id": channel["id"],
        "type": channel["type"],
        "name": channel["name"],
        "guild_id": channel["guild_id"],
        "parent_id": channel["parent_id"],
        "flags": 0,
        "permissions": permissions.to_string(),
    });
    if let Some(metadata) = channel.get("thread_metadata") {
        partial["thread_metadata"] = metadata.clone();
    }
    partial
}

/// Records `message_id` as the channel's last message, and counts it in a thread.
fn touch_channel(inner: &mut Inner, channel_id: u64, message_id: u64) {
    if let Some(channel) = inner.channels.get_mut(&channel_id) {
        channel["last_message_id"] = json!(message_id.to_string());
        if channel["type"] == channel_type::PUBLIC_THREAD {
            let count = channel["message_count"].as_u64().unwrap_or(0) + 1;
            channel["message_count"] = json!(count);
            channel["total_message_sent"] = json!(count);
        }
    }
}
