//! The courier of the Discord channel: the REST calls through which the outbox delivers jobs
//! to Discord (a citizen's DM, a forum post, a message appended to it, an alert), and the
//! start-up calls (the forum's tags, the slash commands).
//!
//! It speaks to `{api_url}/api/v10` with `reqwest`, not with serenity's `Http`: on a 429
//! serenity keeps neither the body's `retry_after` nor the headers, and the outbox must wait
//! that long. Each call makes one attempt and reports it ([`Attempt`] or a
//! [`DeliveryError`]): a 429 is transient with its `retry_after` (rounded up), a 5xx or no
//! answer is transient, any other 4xx is permanent. It never retries, never reads the store,
//! never decides a job's fate, and never puts the token in an error or a log line.
//!
//! Exactly once as the recipient sees it: a message carries a `nonce` derived from its job
//! ([`nonce`]) with `enforce_nonce`, so that Discord returns the message a lost attempt
//! already created (within the few minutes Discord keeps nonces); a forum post takes no
//! nonce, so after an attempt whose outcome is unknown, [`DiscordRest::deliver_post`] looks
//! for the post by its reference before creating it again.

use std::collections::HashMap;
use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use anyhow::Context as _;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::{HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::render::PostSpec;
use super::{no_pings, MESSAGE_LIMIT};
use crate::config::{DiscordSettings, Secret};
use crate::domain::outbox::{Attempt, DeliveryError};
use crate::domain::Category;

/// Discord's limit on a nonce, in characters.
pub const NONCE_LIMIT: usize = 25;

/// The length of [`nonce`]'s answer: room is left for the `-2`…`-99` of a long text's parts.
const NONCE_CHARS: usize = 22;

/// Archived posts looked through, 100 a page, before giving up on finding a post.
const ARCHIVED_PAGES: usize = 5;

/// What a failed request that never reached Discord says (nothing was created).
const NOT_CONNECTED: &str = "could not connect to Discord";

/// Discord's REST API, as the outbox uses it.
pub struct DiscordRest {
    client: reqwest::Client,
    /// `{api_url}/api/v10`.
    api_base: String,
    token: Secret,
    limiter: DefaultDirectRateLimiter,
}

impl fmt::Debug for DiscordRest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiscordRest")
            .field("api_base", &self.api_base)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

impl DiscordRest {
    /// A client for `settings.api_url`, each request giving up after `timeout`, at most
    /// `settings.rate_per_second` requests a second.
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(settings: &DiscordSettings, timeout: Duration) -> anyhow::Result<DiscordRest> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            // Discord asks bots to name themselves this way.
            .user_agent(concat!(
                "DiscordBot (https://github.com/guichet/guichet, ",
                env!("CARGO_PKG_VERSION"),
                ")"
            ))
            .build()
            .context("the Discord HTTP client could not be built")?;
        let rate = NonZeroU32::new(settings.rate_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        Ok(DiscordRest {
            client,
            api_base: format!("{}/api/v10", settings.api_url()),
            token: settings.token.clone(),
            limiter: RateLimiter::direct(Quota::per_second(rate)),
        })
    }

    /// `{api_url}/api/v10`.
    pub fn api_base(&self) -> &str {
        &self.api_base
    }

    /// The DM channel with a user, opened if needed (`POST /users/@me/channels`).
    ///
    /// # Errors
    /// Discord refused (an unknown user is permanent) or did not answer.
    pub async fn open_dm(&self, user_id: u64) -> Result<u64, DeliveryError> {
        let body = json!({ "recipient_id": user_id.to_string() });
        let channel = self
            .call(Method::POST, "/users/@me/channels", Some(&body))
            .await?;
        id_of(&channel)
    }

    /// Sends `content` in a channel: one message, or several in order when it is longer than
    /// Discord allows (cut between paragraphs, lines or sentences). Each carries a nonce —
    /// `nonce` for the first, `nonce-2`, `nonce-3`… for the next ones, all within 25
    /// characters — with `enforce_nonce`, and `allowed_mentions`; the components go with the
    /// last. Delivered with the first message's id.
    pub async fn send_message(
        &self,
        channel_id: u64,
        content: &str,
        nonce: &str,
        allowed_mentions: &Value,
        components: Option<&Value>,
    ) -> Attempt {
        let parts = split_message(content, MESSAGE_LIMIT);
        if parts.is_empty() && components.is_none() {
            return Attempt::Failed(DeliveryError::permanent("the message is empty"));
        }
        let parts = if parts.is_empty() {
            vec![String::new()]
        } else {
            parts
        };
        let path = format!("/channels/{channel_id}/messages");
        let mut first = None;
        let last = parts.len() - 1;
        for (index, part) in parts.iter().enumerate() {
            let mut body = json!({
                "content": part,
                "nonce": part_nonce(nonce, index),
                "enforce_nonce": true,
                "allowed_mentions": allowed_mentions,
            });
            if let Some(components) = components.filter(|_| index == last) {
                body["components"] = components.clone();
            }
            let id = match self.call(Method::POST, &path, Some(&body)).await {
                Ok(message) => id_of(&message),
                Err(e) => Err(e),
            };
            match id {
                Ok(id) => {
                    first.get_or_insert(id);
                }
                Err(e) => return Attempt::Failed(e),
            }
        }
        delivered(first)
    }

    /// Sends `content` to a user's DM, pinging nobody: [`open_dm`](Self::open_dm), then
    /// [`send_message`](Self::send_message).
    pub async fn send_dm(&self, user_id: u64, content: &str, nonce: &str) -> Attempt {
        match self.open_dm(user_id).await {
            Ok(channel) => {
                self.send_message(channel, content, nonce, &no_pings(), None)
                    .await
            }
            Err(e) => Attempt::Failed(e),
        }
    }

    /// The post of a forum whose title starts with `reference`: among the guild's active
    /// threads, then the forum's archived posts (the most recently archived first, a few
    /// pages at most).
    ///
    /// # Errors
    /// Discord refused or did not answer: whether the post exists is then unknown.
    pub async fn find_post(
        &self,
        guild_id: u64,
        forum_id: u64,
        reference: &str,
    ) -> Result<Option<u64>, DeliveryError> {
        let active = self
            .call(
                Method::GET,
                &format!("/guilds/{guild_id}/threads/active"),
                None,
            )
            .await?;
        if let Some(id) = matching_post(&active["threads"], forum_id, reference) {
            return Ok(Some(id));
        }
        let mut before: Option<String> = None;
        for _ in 0..ARCHIVED_PAGES {
            let mut path = format!("/channels/{forum_id}/threads/archived/public?limit=100");
            if let Some(before) = &before {
                path.push_str("&before=");
                path.push_str(&encode_query(before));
            }
            let page = self.call(Method::GET, &path, None).await?;
            if let Some(id) = matching_post(&page["threads"], forum_id, reference) {
                return Ok(Some(id));
            }
            let threads = page["threads"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            before = threads
                .last()
                .and_then(|t| t["thread_metadata"]["archive_timestamp"].as_str())
                .map(str::to_owned);
            if page["has_more"] != true || before.is_none() {
                break;
            }
        }
        Ok(None)
    }

    /// Creates a forum post (`POST /channels/{forum}/threads`, JSON): the spec's title,
    /// content, components and allowed mentions, with the tag when one is given. Delivered
    /// with the post's id (a thread's id, which is also its starter message's).
    pub async fn create_post(
        &self,
        forum_id: u64,
        spec: &PostSpec,
        tag_id: Option<u64>,
    ) -> Attempt {
        let body = json!({
            "name": spec.title,
            "message": {
                "content": spec.content,
                "components": spec.components,
                "allowed_mentions": spec.allowed_mentions,
            },
            "applied_tags": tag_id.map(|t| t.to_string()).into_iter().collect::<Vec<_>>(),
        });
        let created = self
            .call(
                Method::POST,
                &format!("/channels/{forum_id}/threads"),
                Some(&body),
            )
            .await;
        match created.and_then(|post| id_of(&post)) {
            Ok(id) => delivered(Some(id)),
            Err(e) => Attempt::Failed(e),
        }
    }

    /// Delivers a post once: after an attempt whose outcome is unknown (see
    /// [`outcome_unknown`]), looks for it by its reference first and answers with the
    /// existing post's id instead of creating a second one; when the search itself fails,
    /// creates nothing and fails, to be tried again.
    pub async fn deliver_post(
        &self,
        guild_id: u64,
        forum_id: u64,
        spec: &PostSpec,
        tag_id: Option<u64>,
        after_uncertain_attempt: bool,
    ) -> Attempt {
        if after_uncertain_attempt {
            match self.find_post(guild_id, forum_id, &spec.reference).await {
                Ok(Some(id)) => return delivered(Some(id)),
                Ok(None) => {}
                Err(e) => return Attempt::Failed(e),
            }
        }
        self.create_post(forum_id, spec, tag_id).await
    }

    /// The forum's tag of each category, creating those that are missing. A tag is a
    /// category's when its name is the category's (`urgent`, `info`, `complaint`) or its
    /// French name (`urgence`, `information`, `plainte`), in any case. Missing tags are added
    /// by `PATCH /channels/{forum}` with the whole list, existing tags sent with their ids so
    /// that they — and the posts wearing them — keep them.
    ///
    /// # Errors
    /// Discord refused (no permission to manage the forum, too many tags) or did not answer.
    pub async fn ensure_tags(
        &self,
        forum_id: u64,
    ) -> Result<HashMap<Category, u64>, DeliveryError> {
        let path = format!("/channels/{forum_id}");
        let forum = self.call(Method::GET, &path, None).await?;
        let existing = forum["available_tags"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let found = tags_by_category(&existing);
        let missing: Vec<Category> = Category::ALL
            .into_iter()
            .filter(|c| !found.contains_key(c))
            .collect();
        if missing.is_empty() {
            return Ok(found);
        }
        if existing.len() + missing.len() > 20 {
            return Err(DeliveryError::permanent(
                "the staff forum has no room for the category tags (20 tags at most)",
            ));
        }
        let mut tags: Vec<Value> = existing
            .iter()
            .map(|t| {
                let mut kept = json!({ "id": t["id"], "name": t["name"] });
                for key in ["moderated", "emoji_id", "emoji_name"] {
                    if let Some(value) = t.get(key) {
                        kept[key] = value.clone();
                    }
                }
                kept
            })
            .collect();
        tags.extend(missing.iter().map(|c| json!({ "name": c.as_str() })));
        let edited = self
            .call(
                Method::PATCH,
                &path,
                Some(&json!({ "available_tags": tags })),
            )
            .await?;
        let now = tags_by_category(
            edited["available_tags"]
                .as_array()
                .map_or(&[], Vec::as_slice),
        );
        match missing.iter().find(|c| !now.contains_key(c)) {
            Some(c) => Err(DeliveryError::transient(format!(
                "the staff forum's tag \"{c}\" was not created"
            ))),
            None => Ok(now),
        }
    }

    /// Sets the guild's slash commands to `definitions`
    /// (`PUT /applications/{app}/guilds/{guild}/commands`): a bulk overwrite, so running it
    /// at every start leaves the same commands.
    ///
    /// # Errors
    /// Discord refused (the bot lacks the `applications.commands` scope, a bad definition)
    /// or did not answer.
    pub async fn put_commands(
        &self,
        application_id: u64,
        guild_id: u64,
        definitions: &Value,
    ) -> Result<(), DeliveryError> {
        self.call(
            Method::PUT,
            &format!("/applications/{application_id}/guilds/{guild_id}/commands"),
            Some(definitions),
        )
        .await
        .map(|_| ())
    }

    /// One request, after the rate limit: the answer's JSON (`null` for none), or why not.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, DeliveryError> {
        self.limiter.until_ready().await;
        let mut authorization = HeaderValue::from_str(&format!("Bot {}", self.token.expose()))
            .map_err(|_| DeliveryError::permanent("the Discord token is not a valid header"))?;
        authorization.set_sensitive(true);
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.api_base))
            .header(AUTHORIZATION, authorization);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| unreachable(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.map_err(|e| unreachable(&e))?;
        if !status.is_success() {
            return Err(self.redact(refusal(status, retry_after.as_deref(), &text)));
        }
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .map_err(|_| DeliveryError::transient("Discord's answer is not JSON"))
    }

    /// Belt and braces: whatever Discord echoed, the token never leaves in an error.
    fn redact(&self, mut error: DeliveryError) -> DeliveryError {
        let token = self.token.expose().trim();
        if !token.is_empty() && error.message.contains(token) {
            error.message = error.message.replace(token, "[redacted]");
        }
        error
    }
}

/// A job's nonce: 22 hex characters of the SHA-256 of its id. Stable across attempts and
/// restarts, so that Discord recognises a repeated attempt (`enforce_nonce`); short enough for
/// Discord's 25 characters with a part's `-2`…`-99` suffix.
pub fn nonce(job_id: &str) -> String {
    let digest = Sha256::digest(job_id.as_bytes());
    let mut hex = hex::encode(digest);
    hex.truncate(NONCE_CHARS);
    hex
}

/// The nonce of a message's `index`-th part (0 for the first): `nonce`, `nonce-2`, `nonce-3`…,
/// cut so that it stays within Discord's 25 characters.
pub fn part_nonce(nonce: &str, index: usize) -> String {
    let suffix = if index == 0 {
        String::new()
    } else {
        format!("-{}", index + 1)
    };
    let room = NONCE_LIMIT.saturating_sub(suffix.chars().count());
    let mut part: String = nonce.chars().take(room).collect();
    part.push_str(&suffix);
    part
}

/// Cuts a text into messages of at most `limit` characters, in order: between paragraphs
/// where it can, else between lines, sentences, then words, in the second half of a part;
/// a word longer than a whole part is cut where it must. Blank parts are dropped.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((window_end, _)) = rest.char_indices().nth(limit) else {
            parts.push(rest.to_owned());
            break;
        };
        let window = &rest[..window_end];
        let half = window.len() / 2;
        let cut = ["\n\n", "\n", ". ", "! ", "? ", "… ", "; ", " "]
            .iter()
            .find_map(|sep| {
                window
                    .rfind(sep)
                    .map(|at| at + sep.len())
                    .filter(|at| *at > half)
            })
            .unwrap_or(window_end);
        let part = rest[..cut].trim_end();
        if !part.is_empty() {
            parts.push(part.to_owned());
        }
        rest = rest[cut..].trim_start();
    }
    parts
}

/// Whether a failed attempt may have taken effect all the same: no answer once connected (a
/// timeout, a dropped connection) or a server error. A refused connection or any 4xx
/// (including a 429) created nothing.
pub fn outcome_unknown(error: &DeliveryError) -> bool {
    match error.status {
        None => error.message != NOT_CONNECTED,
        Some(status) => status >= 500,
    }
}

/// Discord's answer outside 2xx as a delivery error: a 429 waits `retry_after` (the body's
/// seconds, else the `Retry-After` header), rounded up; 429, 408 and 5xx are transient; any
/// other status is permanent. The message is Discord's (`Missing Access (code 50001)`),
/// never the request.
pub fn refusal(status: StatusCode, retry_after_header: Option<&str>, body: &str) -> DeliveryError {
    let json: Option<Value> = serde_json::from_str(body).ok();
    let from_body = json
        .as_ref()
        .and_then(|v| v["retry_after"].as_f64())
        .filter(|s| s.is_finite() && *s >= 0.0);
    let from_header = retry_after_header
        .and_then(|h| h.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0);
    let retry_after = if status == StatusCode::TOO_MANY_REQUESTS {
        from_body.or(from_header)
    } else {
        from_header
    }
    .map(|s| s.ceil() as u64);
    let said = json
        .as_ref()
        .and_then(|v| v["message"].as_str())
        .map(|m| m.chars().take(200).collect::<String>());
    let code = json
        .as_ref()
        .and_then(|v| v["code"].as_u64())
        .filter(|c| *c != 0);
    let message = match (said, code) {
        (Some(m), Some(c)) => format!("Discord: {m} (code {c})"),
        (Some(m), None) => format!("Discord: {m}"),
        (None, _) => format!(
            "Discord: {}",
            status
                .canonical_reason()
                .unwrap_or("refused")
                .to_ascii_lowercase()
        ),
    };
    let transient = status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error();
    DeliveryError {
        status: Some(status.as_u16()),
        message,
        errors: Vec::new(),
        permanent: !transient,
        retry_after_secs: retry_after,
    }
}

/// A request that got no answer: always worth retrying. reqwest's own message is left out
/// (it names the URL); only the kind of failure is kept.
fn unreachable(e: &reqwest::Error) -> DeliveryError {
    let what = if e.is_connect() {
        NOT_CONNECTED
    } else if e.is_timeout() {
        "no answer from Discord before the timeout"
    } else {
        "the request to Discord failed"
    };
    DeliveryError::transient(what)
}

fn delivered(id: Option<u64>) -> Attempt {
    Attempt::Delivered {
        ticket_id: id.map(|id| id.to_string()),
        token: None,
    }
}

/// The `id` of a Discord object (a snowflake, as a string).
fn id_of(object: &Value) -> Result<u64, DeliveryError> {
    snowflake(&object["id"]).ok_or_else(|| DeliveryError::transient("Discord's answer has no id"))
}

fn snowflake(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// The oldest thread of `forum_id` in `threads` whose name is `reference` or starts with
/// `reference ` (so that `G-000042` does not match `G-0000421`).
fn matching_post(threads: &Value, forum_id: u64, reference: &str) -> Option<u64> {
    let prefix = format!("{reference} ");
    threads
        .as_array()?
        .iter()
        .filter(|t| snowflake(&t["parent_id"]) == Some(forum_id))
        .filter(|t| {
            t["name"]
                .as_str()
                .is_some_and(|n| n == reference || n.starts_with(&prefix))
        })
        .filter_map(|t| snowflake(&t["id"]))
        .min()
}

/// The forum's tags that name a category, by category (the first of each).
fn tags_by_category(tags: &[Value]) -> HashMap<Category, u64> {
    let mut found = HashMap::new();
    for tag in tags {
        let name = tag["name"]
            .as_str()
            .unwrap_or_default()
            .trim()
            .to_lowercase();
        let category = match name.as_str() {
            "urgent" | "urgence" => Category::Urgent,
            "info" | "information" => Category::Info,
            "complaint" | "plainte" => Category::Complaint,
            _ => continue,
        };
        if let Some(id) = snowflake(&tag["id"]) {
            found.entry(category).or_insert(id);
        }
    }
    found
}

/// Percent-encodes a query value (an ISO 8601 timestamp's `+` and `:`).
fn encode_query(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_stable_short_and_distinct_per_job() {
        let a = nonce("G-000042-1-discord");
        assert_eq!(a, nonce("G-000042-1-discord"));
        assert_ne!(a, nonce("G-000042-2-discord"));
        assert_eq!(a.chars().count(), 22);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(part_nonce(&a, 0), a);
        assert_eq!(part_nonce(&a, 1), format!("{a}-2"));
        assert!(part_nonce(&a, 98).chars().count() <= NONCE_LIMIT);
        assert!(part_nonce(&"x".repeat(40), 0).chars().count() <= NONCE_LIMIT);
        assert!(part_nonce(&"x".repeat(40), 5).ends_with("-6"));
    }

    #[test]
    fn a_long_text_is_split_between_sentences_in_order() {
        let sentence = "Le bac n'a pas été ramassé cette semaine. ";
        let text = sentence.repeat(72); // about 3,000 characters
        let parts = split_message(&text, MESSAGE_LIMIT);
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.chars().count() <= MESSAGE_LIMIT));
        assert!(
            parts[0].ends_with("semaine."),
            "{}",
            &parts[0][parts[0].len() - 20..]
        );
        assert_eq!(parts.join(" "), text.trim());
    }

    #[test]
    fn a_split_prefers_paragraphs_then_lines_and_cuts_a_word_only_when_it_must() {
        let text = format!("{}\n\n{}", "a ".repeat(30).trim(), "b ".repeat(30).trim());
        assert_eq!(split_message(&text, 80).len(), 2);
        assert!(split_message(&text, 80)[1].starts_with('b'));
        let word = "é".repeat(250);
        let parts = split_message(&word, 100);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.chars().count() <= 100));
        assert!(split_message("  \n ", 100).is_empty());
        assert_eq!(split_message("court", 100), ["court"]);
    }

    #[test]
    fn a_429_waits_the_bodys_retry_after_rounded_up() {
        let body =
            r#"{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}"#;
        let e = refusal(StatusCode::TOO_MANY_REQUESTS, Some("1"), body);
        assert_eq!(e.retry_after_secs, Some(2));
        assert!(!e.permanent);
        assert_eq!(e.status, Some(429));
        let e = refusal(StatusCode::TOO_MANY_REQUESTS, Some("3"), "");
        assert_eq!(
            e.retry_after_secs,
            Some(3),
            "the header when the body has none"
        );
        assert!(!outcome_unknown(&e));
    }

    #[test]
    fn server_errors_are_transient_and_other_refusals_permanent() {
        let e = refusal(StatusCode::INTERNAL_SERVER_ERROR, None, "");
        assert!(!e.permanent);
        assert!(outcome_unknown(&e));
        let e = refusal(
            StatusCode::FORBIDDEN,
            None,
            r#"{"message": "Cannot send messages to this user", "code": 50007}"#,
        );
        assert!(e.permanent);
        assert_eq!(
            e.message,
            "Discord: Cannot send messages to this user (code 50007)"
        );
        assert!(!outcome_unknown(&e));
        assert!(refusal(StatusCode::NOT_FOUND, None, "<html>").permanent);
        assert!(outcome_unknown(&DeliveryError::transient(
            "no answer from Discord before the timeout"
        )));
        assert!(!outcome_unknown(&DeliveryError::transient(NOT_CONNECTED)));
    }

    #[test]
    fn a_post_is_recognised_by_its_reference_in_its_forum_only() {
        let threads = json!([
            { "id": "30", "parent_id": "9", "name": "G-000042 · urgent · Gaz" },
            { "id": "31", "parent_id": "9", "name": "G-0000421 · info · Horaire" },
            { "id": "32", "parent_id": "8", "name": "G-000043 · info · Ailleurs" },
            { "id": "29", "parent_id": "9", "name": "G-000043" },
        ]);
        assert_eq!(matching_post(&threads, 9, "G-000042"), Some(30));
        assert_eq!(matching_post(&threads, 9, "G-000043"), Some(29));
        assert_eq!(matching_post(&threads, 9, "G-000044"), None);
        assert_eq!(matching_post(&json!(null), 9, "G-000042"), None);
    }

    #[test]
    fn tags_are_matched_to_categories_in_english_or_french() {
        let tags = [
            json!({ "id": "1", "name": "Urgence" }),
            json!({ "id": "2", "name": "plainte" }),
            json!({ "id": "3", "name": "autre" }),
        ];
        let found = tags_by_category(&tags);
        assert_eq!(found.get(&Category::Urgent), Some(&1));
        assert_eq!(found.get(&Category::Complaint), Some(&2));
        assert_eq!(found.get(&Category::Info), None);
    }

    #[test]
    fn the_courier_shows_no_token_in_its_debug_output() {
        let settings = DiscordSettings {
            token: Secret::new("very-secret-token"),
            ..DiscordSettings::default()
        };
        let rest = DiscordRest::new(&settings, Duration::from_secs(1)).unwrap();
        let shown = format!("{rest:?}");
        assert!(!shown.contains("very-secret-token"), "{shown}");
        assert_eq!(rest.api_base(), "https://discord.com/api/v10");
        assert_eq!(
            encode_query("2026-11-30T15:00:00+00:00"),
            "2026-11-30T15%3A00%3A00%2B00%3A00"
        );
    }
}
