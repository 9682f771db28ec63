//! The fake's REST API under `/api/v10`: records each request, applies injected faults, and
//! answers the routes guichet uses with the objects Discord would return.
//!
//! Requests must carry `Authorization: Bot <token>`, except the interaction callback and the
//! interaction webhooks, which Discord authenticates by their token in the path. Anything the
//! fake does not know is answered 404 with Discord's error JSON, and recorded all the same.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::objects::{self, channel_type, intent, snowflake_of};
use super::world::{guild_base, JOINED_AT};
use super::{Inner, RecordedRequest, Shared, NONCE_WINDOW};

const PREFIX: &str = "/api/v10";

/// Discord refuses bodies over 25 MiB; the fake, over 8 MiB, which no test needs.
const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// An answer before it becomes an HTTP response.
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Option<Value>,
}

impl Answer {
    fn ok(body: Value) -> Self {
        Self::with_status(200, body)
    }

    fn with_status(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    fn no_content() -> Self {
        Self {
            status: 204,
            headers: Vec::new(),
            body: None,
        }
    }

    fn error(status: u16, message: &str, code: u64) -> Self {
        Self::with_status(status, objects::error(message, code))
    }

    fn not_found() -> Self {
        Self::error(404, "404: Not Found", 0)
    }

    fn unknown_channel() -> Self {
        Self::error(404, "Unknown Channel", 10003)
    }

    fn unknown_message() -> Self {
        Self::error(404, "Unknown Message", 10008)
    }

    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = match self.body {
            Some(body) => (status, axum::Json(body)).into_response(),
            None => status.into_response(),
        };
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

pub(super) async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, BODY_LIMIT).await.unwrap_or_default();
    let full_path = parts.uri.path().to_owned();
    let path = full_path
        .strip_prefix(PREFIX)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        .map_or_else(|| full_path.clone(), str::to_owned);
    let (body, multipart, files) = parse_body(&parts.headers, &bytes);
    let mut recorded = RecordedRequest {
        method: parts.method.as_str().to_owned(),
        path: path.clone(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect::<BTreeMap<_, _>>(),
        body,
        multipart,
        files,
        status: 0,
    };

    let answer = {
        let mut inner = shared.lock();
        let answer = if !full_path.starts_with(PREFIX) {
            Answer::not_found()
        } else if let Some(fault) = take_fault(&mut inner, &recorded) {
            fault
        } else if !authorised(&shared, &recorded) {
            Answer::error(401, "401: Unauthorized", 0)
        } else {
            route(&shared, &mut inner, &parts.method, &recorded)
        };
        recorded.status = answer.status;
        inner.requests.push(recorded);
        answer
    };
    shared.changed.notify_waiters();
    answer.into_response()
}

/// The body as JSON: the JSON body itself, or a multipart form's `payload_json` part (serenity
/// sends forum posts, and messages with files, as `multipart/form-data`).
fn parse_body(headers: &HeaderMap, bytes: &[u8]) -> (Option<Value>, bool, Vec<String>) {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if let Some(boundary) = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| rest.split("boundary=").nth(1))
    {
        let boundary = boundary.trim_matches('"');
        let (payload, files) = parse_multipart(bytes, boundary);
        return (payload, true, files);
    }
    if bytes.is_empty() {
        return (None, false, Vec::new());
    }
    (serde_json::from_slice(bytes).ok(), false, Vec::new())
}

/// A minimal `multipart/form-data` reader: the `payload_json` part, and the file names.
fn parse_multipart(bytes: &[u8], boundary: &str) -> (Option<Value>, Vec<String>) {
    let text = String::from_utf8_lossy(bytes);
    let delimiter = format!("--{boundary}");
    let mut payload = None;
    let mut files = Vec::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        let Some((head, content)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let content = content.strip_suffix("\r\n").unwrap_or(content);
        if head.contains("name=\"payload_json\"") {
            payload = serde_json::from_str(content).ok();
        } else if let Some(filename) = head.split("filename=\"").nth(1) {
            files.push(filename.split('"').next().unwrap_or_default().to_owned());
        }
    }
    (payload, files)
}

fn authorised(shared: &Shared, request: &RecordedRequest) -> bool {
    let by_path_token =
        request.path.starts_with("/interactions/") || request.path.starts_with("/webhooks/");
    by_path_token
        || request.headers.get("authorization").map(String::as_str)
            == Some(format!("Bot {}", shared.fixture.token).as_str())
}

/// The first injected fault that applies, consumed, as the answer to give.
fn take_fault(inner: &mut Inner, request: &RecordedRequest) -> Option<Answer> {
    // serenity falls back to the real gateway's URL when this request fails.
    if request.method == "GET" && matches!(request.path.as_str(), "/gateway" | "/gateway/bot") {
        return None;
    }
    let now = Instant::now();
    inner
        .faults
        .retain(|f| f.remaining != Some(0) && f.until.map_or(true, |until| until > now));
    let fault = inner
        .faults
        .iter_mut()
        .find(|f| f.route.matches(&request.method, &request.path))?;
    if let Some(remaining) = &mut fault.remaining {
        *remaining -= 1;
    }
    Some(if fault.status == 429 {
        rate_limited(fault.retry_after)
    } else {
        let reason = StatusCode::from_u16(fault.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        Answer::error(fault.status, &format!("{}: {reason}", fault.status), 0)
    })
}

/// Discord's 429: the JSON body with `retry_after` in seconds, `Retry-After` in whole seconds,
/// and the bucket headers.
fn rate_limited(retry_after: f64) -> Answer {
    let reset = SystemTime::now()
        .checked_add(Duration::from_secs_f64(retry_after))
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64());
    Answer {
        status: 429,
        headers: vec![
            ("retry-after", format!("{}", retry_after.ceil())),
            ("x-ratelimit-limit", "5".to_owned()),
            ("x-ratelimit-remaining", "0".to_owned()),
            ("x-ratelimit-reset", format!("{reset:.3}")),
            ("x-ratelimit-reset-after", format!("{retry_after:.3}")),
            ("x-ratelimit-bucket", "fake0000bucket0000hash".to_owned()),
            ("x-ratelimit-scope", "user".to_owned()),
        ],
        body: Some(json!({
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": false,
        })),
    }
}

fn route(shared: &Shared, inner: &mut Inner, method: &Method, request: &RecordedRequest) -> Answer {
    let fixture = &shared.fixture;
    let segments: Vec<&str> = request.path.split('/').filter(|s| !s.is_empty()).collect();
    let body = request.json();
    let id = |s: &str| s.parse::<u64>().ok();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["gateway"]) => Answer::ok(json!({ "url": shared.ws_url() })),
        ("GET", ["gateway", "bot"]) => Answer::ok(json!({
            "url": shared.ws_url(),
            "shards": 1,
            "session_start_limit": {
                "total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1,
            },
        })),
        ("GET", ["users", "@me"]) => Answer::ok(objects::current_user(&fixture.bot)),
        ("GET", ["oauth2", "applications", "@me"]) => Answer::ok(objects::application(
            fixture.application_id,
            &fixture.bot,
            &fixture.coordinator,
        )),
        ("POST", ["users", "@me", "channels"]) => {
            let Some(user) = snowflake_of(&body["recipient_id"]).and_then(|u| shared.user(u))
            else {
                return Answer::error(400, "Invalid Recipient(s)", 50033);
            };
            let channel_id = inner.dm_channel(user);
            Answer::ok(inner.channels[&channel_id].clone())
        }
        ("GET", ["guilds", guild]) if id(guild) == Some(fixture.guild_id) => {
            Answer::ok(guild_base(fixture))
        }
        ("GET", ["guilds", guild, "channels"]) if id(guild) == Some(fixture.guild_id) => {
            let channels: Vec<Value> = inner
                .channels
                .values()
                .filter(|c| c["guild_id"] == guild.to_string().as_str())
                .filter(|c| c["type"] != channel_type::PUBLIC_THREAD)
                .cloned()
                .collect();
            Answer::ok(json!(channels))
        }
        ("GET", ["guilds", guild, "members", user]) if id(guild) == Some(fixture.guild_id) => {
            let staff = [
                &fixture.bot,
                &fixture.agent,
                &fixture.coordinator,
                &fixture.member,
            ];
            match staff.into_iter().find(|u| id(user) == Some(u.id)) {
                Some(u) => Answer::ok(objects::member(u, JOINED_AT)),
                None => Answer::error(404, "Unknown Member", 10007),
            }
        }
        ("GET", ["guilds", guild, "threads", "active"]) if id(guild) == Some(fixture.guild_id) => {
            Answer::ok(json!({ "threads": threads(inner, None, false), "members": [] }))
        }
        ("GET", ["channels", channel, "threads", "archived", "public"]) => Answer::ok(json!({
            "threads": threads(inner, id(channel), true),
            "members": [],
            "has_more": false,
        })),
        ("GET", ["channels", channel]) => match id(channel).and_then(|c| inner.channels.get(&c)) {
            Some(channel) => Answer::ok(channel.clone()),
            None => Answer::unknown_channel(),
        },
        ("PATCH", ["channels", channel]) => edit_channel(inner, id(channel), body),
        ("POST", ["channels", channel, "threads"]) => {
            create_thread(shared, inner, id(channel), body)
        }
        ("POST", ["channels", channel, "messages"]) => {
            create_message(shared, inner, id(channel), body)
        }
        ("GET", ["channels", channel, "messages"]) => {
            list_messages(inner, id(channel), request.query.as_deref())
        }
        ("GET", ["channels", channel, "messages", message]) => {
            match find_message(inner, id(channel), id(message)) {
                Some(message) => Answer::ok(message.clone()),
                None => Answer::unknown_message(),
            }
        }
        ("PATCH", ["channels", channel, "messages", message]) => {
            match find_message(inner, id(channel), id(message)) {
                Some(message) => {
                    apply_edit(message, body);
                    Answer::ok(message.clone())
                }
                None => Answer::unknown_message(),
            }
        }
        ("PUT", ["channels", channel, "pins", message]) => {
            match find_message(inner, id(channel), id(message)) {
                Some(message) => {
                    message["pinned"] = json!(true);
                    Answer::no_content()
                }
                None => Answer::unknown_message(),
            }
        }
        ("PUT", ["applications", app, "guilds", guild, "commands"])
            if id(app) == Some(fixture.application_id) && id(guild) == Some(fixture.guild_id) =>
        {
            overwrite_commands(shared, inner, body)
        }
        ("GET", ["applications", app, "guilds", guild, "commands"])
            if id(app) == Some(fixture.application_id) && id(guild) == Some(fixture.guild_id) =>
        {
            Answer::ok(json!(inner.commands))
        }
        ("POST", ["interactions", interaction, token, "callback"]) => {
            interaction_callback(shared, inner, id(interaction), token, body)
        }
        ("GET" | "PATCH", ["webhooks", app, token, "messages", "@original"])
            if id(app) == Some(fixture.application_id) =>
        {
            original_response(inner, method, token, body)
        }
        ("POST", ["webhooks", app, token]) if id(app) == Some(fixture.application_id) => {
            follow_up(shared, inner, token, body)
        }
        _ => Answer::not_found(),
    }
}

/// The threads of the guild (or of one forum), archived or not.
fn threads(inner: &Inner, parent: Option<u64>, archived: bool) -> Vec<Value> {
    let parent = parent.map(|p| p.to_string());
    let mut threads: Vec<Value> = inner
        .channels
        .values()
        .filter(|c| c["type"] == channel_type::PUBLIC_THREAD)
        .filter(|c| {
            parent
                .as_ref()
                .map_or(true, |p| c["parent_id"] == p.as_str())
        })
        .filter(|c| c["thread_metadata"]["archived"] == archived)
        .cloned()
        .collect();
    // Discord lists archived threads most recently archived first.
    if archived {
        threads.reverse();
    }
    threads
}

fn find_message(
    inner: &mut Inner,
    channel: Option<u64>,
    message: Option<u64>,
) -> Option<&mut Value> {
    let message = message?.to_string();
    inner
        .messages
        .get_mut(&channel?)?
        .iter_mut()
        .find(|m| m["id"] == message.as_str())
}

/// `GET /channels/{id}/messages`: newest first, `limit` (default 50, at most 100), `before`,
/// `after`.
fn list_messages(inner: &Inner, channel: Option<u64>, query: Option<&str>) -> Answer {
    let Some(channel) = channel.filter(|c| inner.channels.contains_key(c)) else {
        return Answer::unknown_channel();
    };
    let params: BTreeMap<&str, &str> = query
        .unwrap_or_default()
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .collect();
    let number = |key: &str| params.get(key).and_then(|v| v.parse::<u64>().ok());
    let limit = number("limit").unwrap_or(50).clamp(1, 100);
    let limit = usize::try_from(limit).unwrap_or(50);
    let messages: Vec<Value> = inner
        .messages
        .get(&channel)
        .into_iter()
        .flatten()
        .rev()
        .filter(|m| {
            let id = snowflake_of(&m["id"]).unwrap_or(0);
            number("before").map_or(true, |b| id < b) && number("after").map_or(true, |a| id > a)
        })
        .take(limit)
        .cloned()
        .collect();
    Answer::ok(json!(messages))
}

/// Builds a message by the bot from a create-message body (content, embeds, components,
/// allowed mentions, nonce, message reference, flags).
fn bot_message(shared: &Shared, id: u64, channel: u64, body: &Value) -> Value {
    let content = body["content"].as_str().unwrap_or_default();
    let mut message = objects::message(id, channel, &shared.fixture.bot, content);
    let (everyone, users, roles) = objects::resolve_mentions(content, body.get("allowed_mentions"));
    message["mention_everyone"] = json!(everyone);
    message["mentions"] = users
        .iter()
        .filter_map(|u| shared.user(*u))
        .map(objects::user)
        .collect();
    message["mention_roles"] = roles.iter().map(u64::to_string).collect();
    for key in ["embeds", "components"] {
        if let Some(value) = body.get(key).filter(|v| v.is_array()) {
            message[key] = value.clone();
        }
    }
    if let Some(flags) = body["flags"].as_u64() {
        message["flags"] = json!(flags);
    }
    if let Some(nonce) = body.get("nonce").filter(|n| !n.is_null()) {
        message["nonce"] = nonce.clone();
    }
    if let Some(reference) = body.get("message_reference").filter(|r| r.is_object()) {
        message["type"] = json!(19);
        message["message_reference"] = reference.clone();
    }
    message
}

/// A message by the bot in a guild channel as MESSAGE_CREATE carries it: with `guild_id` and
/// the author's `member` (without its `user`).
fn guild_message_event(shared: &Shared, mut message: Value) -> Value {
    message["guild_id"] = json!(shared.fixture.guild_id.to_string());
    let mut member = objects::member(&shared.fixture.bot, JOINED_AT);
    if let Some(fields) = member.as_object_mut() {
        fields.remove("user");
    }
    message["member"] = member;
    message
}

/// The gateway intent needed to see a message in `channel`, if it is a known channel.
fn message_intent(inner: &Inner, channel: u64) -> u64 {
    match inner.channels.get(&channel).map(|c| c["type"].clone()) {
        Some(kind) if kind == channel_type::DM => intent::DIRECT_MESSAGES,
        _ => intent::GUILD_MESSAGES,
    }
}

/// `POST /channels/{id}/messages`, honouring `enforce_nonce`: the same nonce from the same
/// author within minutes returns the message it created instead of a second one.
fn create_message(
    shared: &Shared,
    inner: &mut Inner,
    channel: Option<u64>,
    body: &Value,
) -> Answer {
    let Some(channel) = channel.filter(|c| inner.channels.contains_key(c)) else {
        return Answer::unknown_channel();
    };
    if inner.channels[&channel]["type"] == channel_type::GUILD_FORUM {
        return Answer::error(400, "Cannot send messages in a non-text channel", 50008);
    }
    let content = body["content"].as_str().unwrap_or_default();
    let has_embeds = body["embeds"].as_array().is_some_and(|e| !e.is_empty());
    let has_components = body["components"].as_array().is_some_and(|c| !c.is_empty());
    if content.is_empty() && !has_embeds && !has_components && body.get("sticker_ids").is_none() {
        return Answer::error(400, "Cannot send an empty message", 50006);
    }
    if content.chars().count() > 2000 {
        return Answer::error(400, "Invalid Form Body", 50035);
    }
    let nonce = body.get("nonce").filter(|n| !n.is_null()).map(|n| match n {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    if nonce.as_ref().is_some_and(|n| n.chars().count() > 25) {
        return Answer::error(400, "Invalid Form Body", 50035);
    }
    let author = shared.fixture.bot.id;
    let now = Instant::now();
    inner
        .nonces
        .retain(|_, (_, _, at)| now.duration_since(*at) < NONCE_WINDOW);
    if body["enforce_nonce"] == true {
        if let Some(nonce) = &nonce {
            if let Some((held_channel, held_message, _)) =
                inner.nonces.get(&(author, nonce.clone())).copied()
            {
                if let Some(existing) = find_message(inner, Some(held_channel), Some(held_message))
                {
                    return Answer::ok(existing.clone());
                }
            }
        }
    }
    let id = inner.next_id();
    let message = bot_message(shared, id, channel, body);
    inner
        .messages
        .entry(channel)
        .or_default()
        .push(message.clone());
    super::touch_channel(inner, channel, id);
    if let Some(nonce) = nonce {
        inner.nonces.insert((author, nonce), (channel, id, now));
    }
    // Discord tells the bot of its own messages too; guichet must ignore them.
    if inner.gateway.intents & message_intent(inner, channel) != 0 {
        let event = if inner.channels[&channel]["type"] == channel_type::DM {
            message.clone()
        } else {
            guild_message_event(shared, message.clone())
        };
        inner.dispatch("MESSAGE_CREATE", event);
    }
    Answer::ok(message)
}

/// `POST /channels/{forum}/threads`: a forum post (`name`, `message`, `applied_tags`,
/// `auto_archive_duration`), answered with the thread and its starter `message`; emits
/// THREAD_CREATE. In a text channel, a thread without a starter message.
fn create_thread(shared: &Shared, inner: &mut Inner, channel: Option<u64>, body: &Value) -> Answer {
    let fixture = &shared.fixture;
    let Some(parent) = channel.filter(|c| inner.channels.contains_key(c)) else {
        return Answer::unknown_channel();
    };
    let name = body["name"].as_str().unwrap_or_default();
    if name.is_empty() || name.chars().count() > 100 {
        return Answer::error(400, "Invalid Form Body", 50035);
    }
    let forum = inner.channels[&parent]["type"] == channel_type::GUILD_FORUM;
    let applied_tags: Vec<String> = body["applied_tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(snowflake_of)
                .map(|t| t.to_string())
                .collect()
        })
        .unwrap_or_default();
    if forum {
        let known: Vec<Value> = inner.channels[&parent]["available_tags"]
            .as_array()
            .map(|tags| tags.iter().map(|t| t["id"].clone()).collect())
            .unwrap_or_default();
        if applied_tags.iter().any(|t| !known.contains(&json!(t))) || applied_tags.len() > 5 {
            return Answer::error(400, "Invalid Form Body", 50035);
        }
        if !body["message"].is_object() {
            return Answer::error(400, "Invalid Form Body", 50035);
        }
    }
    let id = inner.next_id();
    let mut thread = objects::thread(
        id,
        fixture.guild_id,
        parent,
        fixture.bot.id,
        name,
        &applied_tags,
    );
    if let Some(duration) = body["auto_archive_duration"].as_u64() {
        thread["thread_metadata"]["auto_archive_duration"] = json!(duration);
    }
    inner.channels.insert(id, thread.clone());
    let mut answer = thread.clone();
    if forum {
        // A forum post's starter message has the thread's id.
        let message = bot_message(shared, id, id, &body["message"]);
        inner.messages.entry(id).or_default().push(message.clone());
        answer["message"] = message;
    }
    let mut event = thread;
    event["newly_created"] = json!(true);
    inner.dispatch("THREAD_CREATE", event);
    if forum && inner.gateway.intents & intent::GUILD_MESSAGES != 0 {
        let starter = guild_message_event(shared, answer["message"].clone());
        inner.dispatch("MESSAGE_CREATE", starter);
    }
    Answer::with_status(201, answer)
}

/// `PATCH /channels/{id}`: name, topic, a forum's `available_tags`, a thread's
/// `applied_tags`, `archived` and `locked`. Emits CHANNEL_UPDATE or THREAD_UPDATE.
///
/// `available_tags` replaces the forum's tags, as on Discord: a tag sent with its `id` is kept,
/// one without an id is created with a new id, one left out is deleted (and taken off posts).
/// serenity's `CreateForumTag` has no id, so `EditChannel::available_tags` renews every tag;
/// keeping ids takes a raw `Http::edit_channel` body.
fn edit_channel(inner: &mut Inner, channel: Option<u64>, body: &Value) -> Answer {
    let Some(channel) = channel.filter(|c| inner.channels.contains_key(c)) else {
        return Answer::unknown_channel();
    };
    let mut new_ids = Vec::new();
    if let Some(tags) = body["available_tags"].as_array() {
        for _ in tags.iter().filter(|t| t["id"].is_null()) {
            new_ids.push(inner.next_id());
        }
    }
    let edited = inner
        .channels
        .get_mut(&channel)
        .expect("the channel was found above");
    let is_thread = edited["type"] == channel_type::PUBLIC_THREAD;
    for key in ["name", "topic"] {
        if let Some(value) = body.get(key) {
            edited[key] = value.clone();
        }
    }
    if let Some(tags) = body["available_tags"].as_array() {
        if edited["type"] != channel_type::GUILD_FORUM || tags.len() > 20 {
            return Answer::error(400, "Invalid Form Body", 50035);
        }
        let mut new_ids = new_ids.into_iter();
        edited["available_tags"] = tags
            .iter()
            .map(|t| {
                let id = snowflake_of(&t["id"])
                    .or_else(|| new_ids.next())
                    .unwrap_or(0);
                let mut tag = objects::forum_tag(id, t["name"].as_str().unwrap_or_default());
                for key in ["moderated", "emoji_id", "emoji_name"] {
                    if let Some(value) = t.get(key) {
                        tag[key] = value.clone();
                    }
                }
                tag
            })
            .collect();
    }
    if is_thread {
        if let Some(tags) = body.get("applied_tags") {
            edited["applied_tags"] = tags.clone();
        }
        for key in ["archived", "locked"] {
            if let Some(value) = body.get(key) {
                edited["thread_metadata"][key] = value.clone();
            }
        }
        if body.get("archived").is_some() {
            edited["thread_metadata"]["archive_timestamp"] = json!(objects::timestamp());
        }
    }
    let edited = edited.clone();
    let event = if is_thread {
        "THREAD_UPDATE"
    } else {
        "CHANNEL_UPDATE"
    };
    inner.dispatch(event, edited.clone());
    if body["available_tags"].is_array() {
        // A tag left out of the list is deleted, and taken off the forum's posts.
        let kept: Vec<Value> = edited["available_tags"]
            .as_array()
            .map(|tags| tags.iter().map(|t| t["id"].clone()).collect())
            .unwrap_or_default();
        let parent = json!(channel.to_string());
        for post in inner
            .channels
            .values_mut()
            .filter(|c| c["parent_id"] == parent)
        {
            if let Some(applied) = post["applied_tags"].as_array_mut() {
                applied.retain(|t| kept.contains(t));
            }
        }
    }
    Answer::ok(edited)
}

/// Applies a message edit (content, embeds, components, flags).
fn apply_edit(message: &mut Value, body: &Value) {
    for key in ["content", "embeds", "components", "flags"] {
        if let Some(value) = body.get(key).filter(|v| !v.is_null()) {
            message[key] = value.clone();
        }
    }
    message["edited_timestamp"] = json!(objects::timestamp());
}

/// `PUT /applications/{app}/guilds/{guild}/commands`: replaces the guild's commands. A command
/// keeps its id across overwrites when its name is unchanged, as on Discord.
fn overwrite_commands(shared: &Shared, inner: &mut Inner, body: &Value) -> Answer {
    let Some(list) = body.as_array() else {
        return Answer::error(400, "Invalid Form Body", 50035);
    };
    let fixture = &shared.fixture;
    let mut commands = Vec::new();
    for command in list {
        let Some(name) = command["name"].as_str() else {
            return Answer::error(400, "Invalid Form Body", 50035);
        };
        let existing = inner.commands.iter().find(|c| c["name"] == name).cloned();
        let id = existing
            .as_ref()
            .and_then(|c| snowflake_of(&c["id"]))
            .unwrap_or_else(|| inner.next_id());
        let version = inner.next_id();
        let mut registered = json!({
            "id": id.to_string(),
            "type": 1,
            "application_id": fixture.application_id.to_string(),
            "guild_id": fixture.guild_id.to_string(),
            "name": name,
            "name_localizations": null,
            "description": "",
            "description_localizations": null,
            "options": [],
            "default_member_permissions": null,
            "dm_permission": false,
            "nsfw": false,
            "version": version.to_string(),
        });
        if let Some(fields) = command.as_object() {
            for (key, value) in fields {
                if !matches!(
                    key.as_str(),
                    "id" | "application_id" | "guild_id" | "version"
                ) {
                    registered[key] = value.clone();
                }
            }
        }
        commands.push(registered);
    }
    inner.commands = commands.clone();
    Answer::ok(json!(commands))
}

/// `POST /interactions/{id}/{token}/callback`: accepted once per interaction (a second answer
/// is Discord's 40060). Type 4 keeps the message as the original response (and posts it in
/// the channel unless ephemeral); type 5 a deferred one, filled by a later edit.
fn interaction_callback(
    shared: &Shared,
    inner: &mut Inner,
    interaction: Option<u64>,
    token: &str,
    body: &Value,
) -> Answer {
    let next = inner.next_id();
    let Some(state) = interaction
        .and_then(|i| inner.interactions.get_mut(&i))
        .filter(|s| s.token == token)
    else {
        return Answer::error(404, "Unknown interaction", 10062);
    };
    if state.acknowledged {
        return Answer::error(400, "Interaction has already been acknowledged.", 40060);
    }
    state.acknowledged = true;
    let data = &body["data"];
    let channel = state.channel_id;
    match body["type"].as_u64() {
        Some(4) => {
            let mut message = bot_message(shared, next, channel, data);
            message["type"] = json!(20);
            message["application_id"] = json!(shared.fixture.application_id.to_string());
            message["webhook_id"] = json!(shared.fixture.application_id.to_string());
            state.original = Some(message.clone());
            // Only a public answer appears in the channel; an ephemeral one (flag 64) is seen
            // by the member alone.
            if data["flags"].as_u64().unwrap_or(0) & 64 == 0 {
                inner.messages.entry(channel).or_default().push(message);
            }
        }
        Some(5) => {
            let mut message =
                bot_message(shared, next, state.channel_id, &json!({ "content": "" }));
            message["flags"] = json!(data["flags"].as_u64().unwrap_or(0) | 128);
            state.original = Some(message);
        }
        Some(1 | 6 | 7 | 8 | 9 | 10 | 12) => {}
        _ => {
            state.acknowledged = false;
            return Answer::error(400, "Invalid Form Body", 50035);
        }
    }
    Answer::no_content()
}

/// `GET`/`PATCH /webhooks/{app}/{token}/messages/@original`.
fn original_response(inner: &mut Inner, method: &Method, token: &str, body: &Value) -> Answer {
    let Some(state) = inner.interactions.values_mut().find(|s| s.token == token) else {
        return Answer::error(404, "Unknown Webhook", 10015);
    };
    let Some(original) = state.original.as_mut() else {
        return Answer::unknown_message();
    };
    if method == Method::PATCH {
        apply_edit(original, body);
        let flags = original["flags"].as_u64().unwrap_or(0) & !128;
        original["flags"] = json!(flags);
    }
    Answer::ok(original.clone())
}

/// `POST /webhooks/{app}/{token}`: a follow-up message to an interaction.
fn follow_up(shared: &Shared, inner: &mut Inner, token: &str, body: &Value) -> Answer {
    let id = inner.next_id();
    let Some(state) = inner.interactions.values().find(|s| s.token == token) else {
        return Answer::error(404, "Unknown Webhook", 10015);
    };
    if !state.acknowledged {
        return Answer::error(404, "Unknown Webhook", 10015);
    }
    let channel = state.channel_id;
    let mut message = bot_message(shared, id, channel, body);
    message["webhook_id"] = json!(shared.fixture.application_id.to_string());
    message["application_id"] = json!(shared.fixture.application_id.to_string());
    if body["flags"].as_u64().unwrap_or(0) & 64 == 0 {
        inner
            .messages
            .entry(channel)
            .or_default()
            .push(message.clone());
    }
    Answer::ok(message)
}
