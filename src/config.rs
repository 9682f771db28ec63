//! Configuration: the settings a city tunes, loaded in layers and validated at start-up.
//!
//! Layers, later ones winning: the base configuration — the file given by `--config` or
//! `GUICHET_CONFIG`, else the shipped one compiled into the binary ([`EMBEDDED_CONFIG`], whose
//! readable copy is `config/default.toml`) — then an optional `local.toml` (beside the given
//! file; for the compiled-in one, `config/local.toml` of the working directory when it exists;
//! ignored by git: the place for secrets on one machine), then `GUICHET__SECTION__KEY`
//! environment variables. Secrets are typed as [`Secret`] so that they never reach a log. This
//! module reads files and the environment; it builds the domain's pure values (`SlaPolicy`)
//! but holds no state of its own.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::Deserialize;

use crate::domain::calendar::{BusinessHours, Calendar};
use crate::domain::outbox::{Destination, RetryPolicy};
use crate::domain::sla::{Counting, SlaPolicy, Target};
use crate::domain::Category;

/// The readable copy of the shipped configuration, relative to the source tree.
pub const DEFAULT_CONFIG: &str = "config/default.toml";

/// The shipped configuration, compiled into the binary so that `guichet` runs from any
/// directory (and from the Docker image) without a `config/` beside it.
pub const EMBEDDED_CONFIG: &str = include_str!("../config/default.toml");

/// Where the base layer of the configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// The shipped configuration compiled into the binary.
    Embedded,
    /// A file named by `--config` or `GUICHET_CONFIG`.
    File(PathBuf),
}

impl ConfigSource {
    /// The file named on the command line or in the environment, else the embedded one.
    pub fn new(file: Option<PathBuf>) -> ConfigSource {
        file.map_or(ConfigSource::Embedded, ConfigSource::File)
    }

    /// The `local.toml` layered over this source: beside the file, or, for the embedded
    /// configuration, `config/local.toml` of the working directory (a checkout's).
    pub fn local(&self) -> PathBuf {
        match self {
            ConfigSource::Embedded => Path::new("config").join("local.toml"),
            ConfigSource::File(path) => path.with_file_name("local.toml"),
        }
    }
}

impl fmt::Display for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigSource::Embedded => write!(f, "the embedded {DEFAULT_CONFIG}"),
            ConfigSource::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Everything that can go wrong while loading the configuration: one sentence each.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration file {0} does not exist")]
    Missing(PathBuf),
    /// `origin` names the file, or the embedded configuration.
    #[error("the configuration in {origin} is invalid: {message}")]
    Invalid { origin: String, message: String },
}

/// A secret value: shown as `[redacted]` by `Debug`, compared in constant time.
#[derive(Clone, Deserialize, Default)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// Compares without an early exit, so that timing does not reveal a prefix of the token.
    pub fn matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), candidate.as_bytes());
        let mut diff = a.len() ^ b.len();
        for (i, byte) in b.iter().enumerate() {
            diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ byte);
        }
        diff == 0 && !a.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_empty() {
            "[unset]"
        } else {
            "[redacted]"
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub city: City,
    pub phones: Phones,
    pub store: StoreSettings,
    pub http: HttpSettings,
    #[serde(default)]
    pub staff: StaffSettings,
    pub messages: MessageSettings,
    pub flood: FloodSettings,
    pub threads: ThreadSettings,
    pub sla: SlaSettings,
    pub business_hours: BusinessHoursSettings,
    #[serde(default)]
    pub holidays: HolidaySettings,
    pub classifier: ClassifierSettings,
    pub moderation: ModerationSettings,
    #[serde(default)]
    pub responses: ResponsesSettings,
    #[serde(default)]
    pub channels: ChannelSettings,
    #[serde(default)]
    pub outbox: OutboxSettings,
    #[serde(default)]
    pub forwarders: ForwarderSettings,
    #[serde(default)]
    pub alerts: AlertSettings,
    #[serde(default)]
    pub smtp: SmtpSettings,
    #[serde(default)]
    pub digest: DigestSettings,
    #[serde(default)]
    pub desk: DeskSettings,
    #[serde(default)]
    pub retention: RetentionSettings,
}

/// `[retention]`: how long citizens' resolved threads are kept before they are anonymised.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// A resolved thread whose last message is older than this many days is anonymised.
    #[serde(default = "default_resolved_days")]
    pub resolved_days: u32,
    /// The city-local time of the daily purge (`HH:MM`), a quiet hour.
    #[serde(default = "default_purge_at")]
    pub at: String,
}

impl Default for RetentionSettings {
    fn default() -> RetentionSettings {
        RetentionSettings {
            resolved_days: default_resolved_days(),
            at: default_purge_at(),
        }
    }
}

fn default_resolved_days() -> u32 {
    730
}

fn default_purge_at() -> String {
    "03:30".to_owned()
}

impl RetentionSettings {
    /// The time of the daily purge.
    ///
    /// # Errors
    /// `at` is not a time such as 03:30.
    pub fn purge_at(&self) -> Result<NaiveTime, String> {
        parse_time("retention.at", &self.at)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct City {
    pub name: String,
    pub timezone: Tz,
    pub website: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phones {
    pub customer_service: String,
    pub public_works: String,
    pub emergency: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    pub path: PathBuf,
    /// sled's page cache, in MiB: what the store may keep in memory of what it read or
    /// wrote. The process's resident memory is a few times this at most (sled counts pages
    /// as stored, not as allocated).
    #[serde(default = "default_cache_mb")]
    pub cache_mb: u64,
}

fn default_cache_mb() -> u64 {
    128
}

impl StoreSettings {
    /// The cache size in bytes, for [`crate::store::Store::open_with_cache`].
    pub fn cache_bytes(&self) -> u64 {
        self.cache_mb.saturating_mul(1024 * 1024)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    /// A request's head must arrive within this many seconds, and so must the next request
    /// on a kept-alive connection: slow or idle clients are closed.
    #[serde(default = "default_header_timeout")]
    pub header_timeout_seconds: u64,
    /// A request's body must arrive within this many seconds.
    #[serde(default = "default_body_timeout")]
    pub body_timeout_seconds: u64,
    /// A handler that has not answered within this many seconds answers 503.
    #[serde(default = "default_handler_timeout")]
    pub handler_timeout_seconds: u64,
    /// Connections served at once; more wait in the listen queue.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed; from anyone else
    /// the header is ignored and the peer address is the client's.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

fn default_header_timeout() -> u64 {
    10
}

fn default_body_timeout() -> u64 {
    10
}

fn default_handler_timeout() -> u64 {
    30
}

fn default_max_connections() -> usize {
    1024
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffSettings {
    /// Bearer token of the staff API; without it the staff routes refuse every request.
    #[serde(default)]
    pub token: Secret,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageSettings {
    pub max_chars: usize,
    pub max_clock_skew_seconds: i64,
    /// A message whose `sent_at` is older than this is refused (Meta retries for 36 h).
    #[serde(default = "default_max_age_hours")]
    pub max_age_hours: i64,
}

fn default_max_age_hours() -> i64 {
    168
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodSettings {
    pub burst: u32,
    pub per_seconds: u64,
    /// Per client address on the web channel, whatever sender names it uses: a burst of
    /// this many messages, then one more per `per_address_seconds`; beyond, 429.
    #[serde(default = "default_address_burst")]
    pub per_address_burst: u32,
    #[serde(default = "default_address_seconds")]
    pub per_address_seconds: u64,
}

fn default_address_burst() -> u32 {
    60
}

fn default_address_seconds() -> u64 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadSettings {
    pub reopen_within_hours: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSettings {
    pub at_risk_share: f64,
    pub urgent: TargetSettings,
    pub info: TargetSettings,
    pub complaint: TargetSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSettings {
    pub hours: f64,
    pub counting: Counting,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHoursSettings {
    pub open: String,
    pub close: String,
    pub days: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidaySettings {
    #[serde(default)]
    pub extra: Vec<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierSettings {
    pub min_confidence: f32,
    /// Train at start-up on the built-in corpus plus the staff's corrections of categories.
    #[serde(default)]
    pub learn_from_corrections: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationSettings {
    pub strikes_to_block: u32,
    pub strike_period_days: i64,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponsesSettings {
    /// The city's own template tree. Unset: `responses/` of the working directory when it
    /// exists (a checkout), else the shipped templates compiled into the binary.
    #[serde(default)]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSettings {
    #[serde(default)]
    pub web: WebChannelSettings,
    #[serde(default)]
    pub discord: DiscordSettings,
    #[serde(default)]
    pub messenger: MessengerSettings,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebChannelSettings {
    /// Agents' answers are POSTed here as JSON when set (empty means no callback).
    #[serde(default)]
    pub callback_url: String,
    /// How a web citizen's identity is vouched for.
    #[serde(default)]
    pub identity: WebIdentity,
    /// The key of the city site's `sender_signature` (HMAC-SHA256 of the sender id), for
    /// `identity = "signed"`; from the environment or local.toml only.
    #[serde(default)]
    pub sender_secret: Secret,
}

/// `[channels.discord]`: citizens write to the city's bot in direct messages; agents work in
/// a forum of the staff server. Enabled when the token is set, from
/// `GUICHET__CHANNELS__DISCORD__TOKEN` (never from the file under `--config`). Ids are
/// Discord snowflakes, written as numbers or strings; 0 means unset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordSettings {
    /// The bot's token, without the `Bot ` prefix.
    pub token: Secret,
    /// The REST base: requests go to `{api_url}/api/v10/...`; tests point it at a fake.
    pub api_url: String,
    /// The staff server.
    #[serde(deserialize_with = "snowflake")]
    pub guild_id: u64,
    /// The forum channel with one post per forwarded thread.
    #[serde(deserialize_with = "snowflake")]
    pub staff_forum_id: u64,
    /// Where at-risk and overdue alerts go (0: no alerts on Discord).
    #[serde(deserialize_with = "snowflake")]
    pub alerts_channel_id: u64,
    /// Members who may answer, claim, resolve and recategorise.
    #[serde(deserialize_with = "snowflake")]
    pub agent_role_id: u64,
    /// Members who may also see reports; overdue alerts ping this role.
    #[serde(deserialize_with = "snowflake")]
    pub coordinator_role_id: u64,
    /// An agent's message in a post that starts with this stays an internal note.
    pub note_prefix: String,
    /// Requests to Discord per second at most, all routes together.
    pub rate_per_second: u32,
}

impl Default for DiscordSettings {
    fn default() -> Self {
        DiscordSettings {
            token: Secret::default(),
            api_url: "https://discord.com".to_owned(),
            guild_id: 0,
            staff_forum_id: 0,
            alerts_channel_id: 0,
            agent_role_id: 0,
            coordinator_role_id: 0,
            note_prefix: "//".to_owned(),
            rate_per_second: 5,
        }
    }
}

impl DiscordSettings {
    /// The Discord channel runs: its token is set.
    pub fn enabled(&self) -> bool {
        !self.token.is_empty()
    }

    /// The REST base without a trailing slash, e.g. `https://discord.com`.
    pub fn api_url(&self) -> &str {
        self.api_url.trim().trim_end_matches('/')
    }

    fn validate(&self) -> Result<(), String> {
        if !self.enabled() {
            return Ok(());
        }
        let url = self.api_url();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "channels.discord.api_url \"{url}\" is not an http(s) URL"
            ));
        }
        if self.guild_id == 0 || self.staff_forum_id == 0 {
            return Err("channels.discord.token is set but guild_id or staff_forum_id is not: set both to the staff server's and its forum's ids".into());
        }
        if self.note_prefix.trim().is_empty() {
            return Err(
                "channels.discord.note_prefix is empty: every agent's message would be a note"
                    .into(),
            );
        }
        if self.rate_per_second == 0 {
            return Err("channels.discord.rate_per_second must be at least 1".into());
        }
        Ok(())
    }
}

/// `[channels.messenger]`: citizens write to the city's Facebook page; Meta's webhook brings
/// their messages, the Send API carries the answers. Enabled when the page token, the app
/// secret and the verify token are all set, from `GUICHET__CHANNELS__MESSENGER__PAGE_TOKEN`,
/// `…__APP_SECRET` and `…__VERIFY_TOKEN` (never from the file under `--config`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MessengerSettings {
    /// The page access token the Send API takes.
    pub page_token: Secret,
    /// The app secret that signs webhook deliveries (`X-Hub-Signature-256`).
    pub app_secret: Secret,
    /// What the webhook's verification handshake must present (`hub.verify_token`).
    pub verify_token: Secret,
    /// The Graph API base; requests go to `{graph_url}/{api_version}/...`. Tests use a fake.
    pub graph_url: String,
    pub api_version: String,
    /// The city's page.
    #[serde(deserialize_with = "graph_id")]
    pub page_id: String,
    /// guichet's own Meta app: echoes of what it sent carry this id and are ignored.
    #[serde(deserialize_with = "graph_id")]
    pub app_id: String,
    /// The page has Meta's Human Agent feature: an agent's answer may go out up to 7 days
    /// after the citizen's last message (24 hours otherwise).
    pub human_agent_tag: bool,
    /// Requests to the Send API per second at most.
    pub rate_per_second: u32,
}

impl Default for MessengerSettings {
    fn default() -> Self {
        MessengerSettings {
            page_token: Secret::default(),
            app_secret: Secret::default(),
            verify_token: Secret::default(),
            graph_url: "https://graph.facebook.com".to_owned(),
            api_version: "v21.0".to_owned(),
            page_id: String::new(),
            app_id: String::new(),
            human_agent_tag: false,
            rate_per_second: 20,
        }
    }
}

impl MessengerSettings {
    /// The Messenger channel runs: its three secrets are set.
    pub fn enabled(&self) -> bool {
        !self.page_token.is_empty() && !self.app_secret.is_empty() && !self.verify_token.is_empty()
    }

    /// The Graph API base without a trailing slash.
    pub fn graph_url(&self) -> &str {
        self.graph_url.trim().trim_end_matches('/')
    }

    fn validate(&self) -> Result<(), String> {
        if !self.enabled() {
            return Ok(());
        }
        let url = self.graph_url();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "channels.messenger.graph_url \"{url}\" is not an http(s) URL"
            ));
        }
        let version = self.api_version.trim();
        if version.is_empty() || version.contains('/') {
            return Err(format!(
                "channels.messenger.api_version \"{version}\" is not a Graph API version such as v21.0"
            ));
        }
        let page = self.page_id.trim();
        if page.is_empty() || !page.bytes().all(|b| b.is_ascii_digit()) {
            return Err(
                "channels.messenger is enabled but page_id is not the page's numeric id".into(),
            );
        }
        if self.rate_per_second == 0 {
            return Err("channels.messenger.rate_per_second must be at least 1".into());
        }
        Ok(())
    }
}

/// A Graph API id written as a string or, as the environment turns digits into, a number.
fn graph_id<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
    }
    Ok(match Raw::deserialize(deserializer)? {
        Raw::Number(n) => n.to_string(),
        Raw::Text(s) => s.trim().to_owned(),
    })
}

/// A snowflake written as a number (`123`) or a string (`"123"`, as Discord shows them).
fn snowflake<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u64),
        Text(String),
    }
    match Raw::deserialize(deserializer)? {
        Raw::Number(n) => Ok(n),
        Raw::Text(s) if s.trim().is_empty() => Ok(0),
        Raw::Text(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("\"{s}\" is not a Discord id"))),
    }
}

/// Who may say who a web citizen is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebIdentity {
    /// The `sender` the caller names is believed: only for a listener on loopback (a
    /// development machine, a trusted front end on the same host).
    #[default]
    Claimed,
    /// guichet issues an opaque sender token on a citizen's first message (sent without
    /// `sender`); later messages carry it; any other sender is refused.
    Token,
    /// The city's site signs the sender id with `sender_secret`; issued tokens are accepted
    /// too, an unsigned or badly signed sender is refused.
    Signed,
}

/// How the outbox retries deliveries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxSettings {
    /// The wait after a first failed attempt, in milliseconds; it doubles with each failure.
    pub initial_backoff_ms: u64,
    /// The longest wait between two attempts, in seconds.
    pub max_backoff_seconds: u64,
    /// A job is dead after this many failed attempts...
    pub max_attempts: u32,
    /// ...or after failing for this many hours.
    pub max_age_hours: f64,
    /// Each request to a destination gives up after this many seconds.
    pub request_timeout_seconds: u64,
    /// Deliveries in flight at once, all destinations together.
    pub concurrency: usize,
    /// The base URL of the staff API in the links sent with tickets; empty means
    /// `http://<http.listen>`.
    pub staff_url: String,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            initial_backoff_ms: 2000,
            max_backoff_seconds: 600,
            max_attempts: 12,
            max_age_hours: 48.0,
            request_timeout_seconds: 10,
            concurrency: 8,
            staff_url: String::new(),
        }
    }
}

/// The customer-service systems tickets are forwarded to, besides the built-in queue of the
/// staff API. None by default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwarderSettings {
    #[serde(default)]
    pub webhook: Option<WebhookSettings>,
    #[serde(default)]
    pub open311: Option<Open311Settings>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Where tickets are POSTed; empty disables the webhook.
    #[serde(default)]
    pub url: String,
    /// The HMAC-SHA256 key of `X-Guichet-Signature` (from the environment or local.toml).
    #[serde(default)]
    pub secret: Secret,
    /// Requests per second at most.
    #[serde(default = "default_webhook_rate")]
    pub rate_per_second: u32,
}

fn default_webhook_rate() -> u32 {
    20
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Open311Settings {
    /// The GeoReport v2 endpoint, e.g. `https://311.example.ca/open311/v2`; empty disables it.
    #[serde(default)]
    pub base_url: String,
    /// Sent as `api_key` (from the environment or local.toml).
    #[serde(default)]
    pub api_key: Secret,
    /// Sent when the endpoint serves several jurisdictions.
    #[serde(default)]
    pub jurisdiction_id: String,
    /// The 311 service code of each category; a category without one is not sent to 311.
    #[serde(default)]
    pub service_codes: ServiceCodes,
    #[serde(default = "default_open311_rate")]
    pub rate_per_second: u32,
    /// Between two polls of a token or of a request's status, in seconds.
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
    /// A request still open after this many days is no longer followed.
    #[serde(default = "default_track_days")]
    pub track_days: u64,
}

fn default_open311_rate() -> u32 {
    5
}

fn default_poll_seconds() -> u64 {
    900
}

fn default_track_days() -> u64 {
    90
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceCodes {
    #[serde(default)]
    pub urgent: String,
    #[serde(default)]
    pub info: String,
    #[serde(default)]
    pub complaint: String,
}

impl ServiceCodes {
    pub fn get(&self, category: Category) -> Option<&str> {
        let code = match category {
            Category::Urgent => &self.urgent,
            Category::Info => &self.info,
            Category::Complaint => &self.complaint,
        };
        Some(code.trim()).filter(|c| !c.is_empty())
    }
}

impl ForwarderSettings {
    /// The webhook, when its URL is set.
    pub fn webhook(&self) -> Option<&WebhookSettings> {
        self.webhook.as_ref().filter(|w| !w.url.trim().is_empty())
    }

    /// The Open311 endpoint, when its base URL is set.
    pub fn open311(&self) -> Option<&Open311Settings> {
        self.open311
            .as_ref()
            .filter(|o| !o.base_url.trim().is_empty())
    }

    /// The configured destinations.
    pub fn destinations(&self) -> Vec<Destination> {
        let mut out = Vec::new();
        if self.webhook().is_some() {
            out.push(Destination::Webhook);
        }
        if self.open311().is_some() {
            out.push(Destination::Open311);
        }
        out
    }
}

impl Settings {
    /// The outbox's retry schedule.
    pub fn retry_policy(&self) -> RetryPolicy {
        let o = &self.outbox;
        let poll = self
            .forwarders
            .open311
            .as_ref()
            .map(|x| (x.poll_seconds, x.track_days))
            .unwrap_or((default_poll_seconds(), default_track_days()));
        RetryPolicy {
            initial: Duration::milliseconds(o.initial_backoff_ms as i64),
            max: Duration::seconds(o.max_backoff_seconds as i64),
            max_attempts: o.max_attempts,
            max_age: Duration::seconds((o.max_age_hours * 3600.0).round() as i64),
            poll: Duration::seconds(poll.0 as i64),
            track_for: Duration::days(poll.1 as i64),
        }
    }

    /// The base of the links back to the staff API sent with tickets.
    pub fn staff_url(&self) -> String {
        let url = self.outbox.staff_url.trim().trim_end_matches('/');
        if url.is_empty() {
            format!("http://{}", self.http.listen)
        } else {
            url.to_owned()
        }
    }

    fn validate_web_identity(&self) -> Result<(), String> {
        let web = &self.channels.web;
        match web.identity {
            WebIdentity::Claimed if !self.http.listen.ip().is_loopback() => Err(format!(
                "channels.web.identity is \"claimed\" but http.listen {} is not a loopback address: anyone could write as any citizen; use identity = \"token\" or \"signed\"",
                self.http.listen
            )),
            WebIdentity::Signed if web.sender_secret.is_empty() => Err(
                "channels.web.identity is \"signed\" but channels.web.sender_secret is not set: set GUICHET__CHANNELS__WEB__SENDER_SECRET".into(),
            ),
            WebIdentity::Claimed | WebIdentity::Token if !web.sender_secret.is_empty() => Err(
                "channels.web.sender_secret is set but channels.web.identity is not \"signed\": set identity = \"signed\" so that signatures are checked".into(),
            ),
            _ => Ok(()),
        }
    }

    fn validate_forwarders(&self) -> Result<(), String> {
        let o = &self.outbox;
        if o.initial_backoff_ms == 0 || o.max_backoff_seconds == 0 {
            return Err(
                "outbox.initial_backoff_ms and outbox.max_backoff_seconds must be at least 1"
                    .into(),
            );
        }
        if o.max_attempts == 0 || !(o.max_age_hours.is_finite() && o.max_age_hours > 0.0) {
            return Err("outbox.max_attempts and outbox.max_age_hours must be positive".into());
        }
        if o.request_timeout_seconds == 0 || o.concurrency == 0 {
            return Err(
                "outbox.request_timeout_seconds and outbox.concurrency must be at least 1".into(),
            );
        }
        let url_ok = |u: &str| u.starts_with("http://") || u.starts_with("https://");
        if !o.staff_url.trim().is_empty() && !url_ok(o.staff_url.trim()) {
            return Err(format!(
                "outbox.staff_url \"{}\" is not an http(s) URL",
                o.staff_url
            ));
        }
        if let Some(w) = self.forwarders.webhook() {
            if !url_ok(w.url.trim()) {
                return Err(format!(
                    "forwarders.webhook.url \"{}\" is not an http(s) URL",
                    w.url
                ));
            }
            if w.secret.is_empty() {
                return Err("forwarders.webhook.secret is not set: tickets are signed; set GUICHET__FORWARDERS__WEBHOOK__SECRET".into());
            }
            if w.rate_per_second == 0 {
                return Err("forwarders.webhook.rate_per_second must be at least 1".into());
            }
        }
        if let Some(x) = self.forwarders.open311() {
            if !url_ok(x.base_url.trim()) {
                return Err(format!(
                    "forwarders.open311.base_url \"{}\" is not an http(s) URL",
                    x.base_url
                ));
            }
            if x.api_key.is_empty() {
                return Err("forwarders.open311.api_key is not set: set GUICHET__FORWARDERS__OPEN311__API_KEY".into());
            }
            if Category::ALL
                .iter()
                .all(|c| x.service_codes.get(*c).is_none())
            {
                return Err(
                    "forwarders.open311.service_codes maps no category to a 311 service code"
                        .into(),
                );
            }
            if x.rate_per_second == 0 || x.poll_seconds == 0 || x.track_days == 0 {
                return Err("forwarders.open311.rate_per_second, poll_seconds and track_days must be at least 1".into());
            }
        }
        Ok(())
    }
}

impl Settings {
    /// Loads the layered configuration over the file at `path` and validates it.
    ///
    /// # Errors
    /// A missing file, a syntax error, an unknown key, or a value out of range, each as one
    /// sentence naming the file.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        Self::load_from(&ConfigSource::File(path.to_path_buf()))
    }

    /// Loads the layered configuration over `source` (the embedded one, or a file) and
    /// validates it.
    ///
    /// # Errors
    /// As [`Settings::load`]; an error in the embedded configuration names it.
    pub fn load_from(source: &ConfigSource) -> Result<Settings, ConfigError> {
        Self::load_with_env(source, Env::prefixed("GUICHET__").split("__"))
    }

    fn load_with_env(source: &ConfigSource, env: Env) -> Result<Settings, ConfigError> {
        // `file_exact`, not `file`: figment's `file` would also search the parent
        // directories of a relative path.
        let base = match source {
            ConfigSource::Embedded => Toml::string(EMBEDDED_CONFIG),
            ConfigSource::File(path) if path.is_file() => Toml::file_exact(path),
            ConfigSource::File(path) => return Err(ConfigError::Missing(path.clone())),
        };
        let mut figment = Figment::new().merge(base);
        // The bot's token gives the city's Discord presence away: it never sits in the
        // configuration file, which is meant to be kept under version control (local.toml,
        // which git ignores, may hold it).
        let in_file = figment
            .find_value("channels.discord.token")
            .ok()
            .and_then(|v| v.into_string())
            .is_some_and(|t| !t.trim().is_empty());
        if in_file {
            return Err(invalid(
                source,
                "channels.discord.token is written in the file: remove it and set GUICHET__CHANNELS__DISCORD__TOKEN instead".into(),
            ));
        }
        // The same goes for the page's token and the app's secrets.
        for key in ["page_token", "app_secret", "verify_token"] {
            let written = figment
                .find_value(&format!("channels.messenger.{key}"))
                .ok()
                .and_then(|v| v.into_string())
                .is_some_and(|t| !t.trim().is_empty());
            if written {
                return Err(invalid(
                    source,
                    format!(
                        "channels.messenger.{key} is written in the file: remove it and set GUICHET__CHANNELS__MESSENGER__{} instead",
                        key.to_ascii_uppercase()
                    ),
                ));
            }
        }
        let local = source.local();
        if local.is_file() {
            figment = figment.merge(Toml::file_exact(local));
        }
        // The mail relay's password only ever comes from the environment.
        let password_in_file = figment
            .find_value("smtp.password")
            .ok()
            .and_then(|v| v.into_string())
            .is_some_and(|t| !t.trim().is_empty());
        if password_in_file {
            return Err(invalid(
                source,
                "smtp.password is written in a file: remove it and set GUICHET__SMTP__PASSWORD instead".into(),
            ));
        }
        let settings: Settings = figment
            .merge(env)
            .extract()
            .map_err(|e| invalid(source, figment_message(&e)))?;
        settings
            .validate()
            .map_err(|message| invalid(source, message))?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), String> {
        if self.city.name.trim().is_empty() {
            return Err("city.name is empty".into());
        }
        if self.http.max_body_bytes < 1024 {
            return Err("http.max_body_bytes must be at least 1024".into());
        }
        if !(1..=24 * 31).contains(&self.desk.session_hours) {
            return Err("desk.session_hours must be from 1 to 744 (31 days)".into());
        }
        if self.messages.max_chars == 0 {
            return Err("messages.max_chars must be at least 1".into());
        }
        if self.messages.max_clock_skew_seconds < 0 {
            return Err("messages.max_clock_skew_seconds cannot be negative".into());
        }
        if self.messages.max_age_hours < 1 {
            return Err("messages.max_age_hours must be at least 1".into());
        }
        let h = &self.http;
        if h.header_timeout_seconds == 0
            || h.body_timeout_seconds == 0
            || h.handler_timeout_seconds == 0
            || h.max_connections == 0
        {
            return Err("http.header_timeout_seconds, body_timeout_seconds, handler_timeout_seconds and max_connections must be at least 1".into());
        }
        if self.flood.per_address_burst == 0 || self.flood.per_address_seconds == 0 {
            return Err(
                "flood.per_address_burst and flood.per_address_seconds must be at least 1".into(),
            );
        }
        self.validate_web_identity()?;
        if self.flood.burst == 0 || self.flood.per_seconds == 0 {
            return Err("flood.burst and flood.per_seconds must be at least 1".into());
        }
        if self.threads.reopen_within_hours < 0 {
            return Err("threads.reopen_within_hours cannot be negative".into());
        }
        if !(0.0..=1.0).contains(&self.classifier.min_confidence) {
            return Err("classifier.min_confidence must be between 0 and 1".into());
        }
        if self.moderation.strikes_to_block == 0 || self.moderation.strike_period_days <= 0 {
            return Err(
                "moderation.strikes_to_block and moderation.strike_period_days must be at least 1"
                    .into(),
            );
        }
        let url = self.channels.web.callback_url.trim();
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!(
                "channels.web.callback_url \"{url}\" is not an http(s) URL"
            ));
        }
        if self.retention.resolved_days == 0 {
            return Err("retention.resolved_days must be at least 1".into());
        }
        self.retention.purge_at()?;
        if self.store.cache_mb == 0 {
            return Err("store.cache_mb must be at least 1 (MiB of sled's page cache)".into());
        }
        self.validate_forwarders()?;
        self.validate_alerts()?;
        self.channels.discord.validate()?;
        self.channels.messenger.validate()?;
        self.sla_policy().map(|_| ())
    }

    /// The city's business calendar: business hours, statutory and extra holidays.
    ///
    /// # Errors
    /// A time that does not parse, an unknown weekday, or hours that close before they open.
    pub fn calendar(&self) -> Result<Calendar, String> {
        let bh = &self.business_hours;
        let open = parse_time("business_hours.open", &bh.open)?;
        let close = parse_time("business_hours.close", &bh.close)?;
        let days = bh
            .days
            .iter()
            .map(|d| {
                d.parse::<Weekday>()
                    .map_err(|_| format!("business_hours.days has an unknown day \"{d}\""))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Calendar::new(
            self.city.timezone,
            BusinessHours { open, close, days },
            self.holidays.extra.clone(),
        )
        .map_err(|e| e.to_string())
    }

    /// The response-time policy built from `[sla]`, the business hours and the holidays.
    ///
    /// # Errors
    /// A target that is not a positive number of hours, or an at-risk share outside (0, 1).
    pub fn sla_policy(&self) -> Result<SlaPolicy, String> {
        let target = |name: &str, t: &TargetSettings| -> Result<Target, String> {
            if !(t.hours.is_finite() && t.hours > 0.0 && t.hours <= 24.0 * 366.0) {
                return Err(format!(
                    "sla.{name}.hours must be a positive number of hours (got {})",
                    t.hours
                ));
            }
            Ok(Target {
                duration: Duration::seconds((t.hours * 3600.0).round() as i64),
                counting: t.counting,
            })
        };
        let targets = [
            (Category::Urgent, target("urgent", &self.sla.urgent)?),
            (Category::Info, target("info", &self.sla.info)?),
            (
                Category::Complaint,
                target("complaint", &self.sla.complaint)?,
            ),
        ];
        SlaPolicy::new(self.calendar()?, targets, self.sla.at_risk_share).map_err(|e| e.to_string())
    }
}

fn parse_time(key: &str, value: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(value.trim(), "%H:%M")
        .map_err(|_| format!("{key} \"{value}\" is not a time like 08:30"))
}

fn invalid(source: &ConfigSource, message: String) -> ConfigError {
    ConfigError::Invalid {
        origin: source.to_string(),
        message,
    }
}

/// Figment's errors carry the key path; keep it, drop the provider noise.
fn figment_message(error: &figment::Error) -> String {
    let key = error.path.join(".");
    if key.is_empty() {
        error.kind.to_string()
    } else {
        format!("{key}: {}", error.kind)
    }
}

/// `[alerts]`: where each at-risk and overdue alert is pushed, once, besides the Discord
/// alerts channel. Nothing by default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertSettings {
    /// Staff addresses that receive each alert by e-mail (through `[smtp]`).
    pub email_to: Vec<String>,
    /// Where each alert is POSTed as signed JSON; empty: no webhook.
    pub webhook_url: String,
    /// The HMAC-SHA256 key of the webhook's `X-Guichet-Signature`, from
    /// `GUICHET__ALERTS__WEBHOOK_SECRET`.
    pub webhook_secret: Secret,
}

/// `[smtp]`: the mail relay for alerts and the digest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// The sender, e.g. `Guichet <guichet@ville.example>`.
    pub from: String,
    /// Empty: no authentication.
    pub username: String,
    /// From `GUICHET__SMTP__PASSWORD` only.
    pub password: Secret,
    /// Upgrade the connection with STARTTLS (required); false only for a relay on loopback.
    pub starttls: bool,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: String::new(),
            port: 587,
            from: String::new(),
            username: String::new(),
            password: Secret::default(),
            starttls: true,
        }
    }
}

impl SmtpSettings {
    /// The host is this machine: `localhost` or a loopback address.
    pub fn host_is_loopback(&self) -> bool {
        let host = self
            .host
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// `[digest]`: the coordinator's daily digest. Off while `at` is empty.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DigestSettings {
    /// City-local `HH:MM`.
    pub at: String,
    /// `business` (the calendar's business days, holidays excluded) or `every`.
    pub days: crate::domain::digest::DigestDays,
    /// Addresses that receive the digest by e-mail (through `[smtp]`).
    pub email_to: Vec<String>,
}

impl DigestSettings {
    /// The time of day, when the digest is on.
    pub fn time(&self) -> Option<NaiveTime> {
        NaiveTime::parse_from_str(self.at.trim(), "%H:%M").ok()
    }
}

/// `[desk]`: the web desk (`/desk`) as staff reach it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskSettings {
    /// The public base URL of this guichet (e.g. `https://guichet.ville.example`): alerts
    /// and digests link to `{public_url}/desk/threads/{id}`. Empty: no links.
    pub public_url: String,
    /// A sign-in lasts this many hours.
    pub session_hours: u32,
    /// Always mark the session cookie `Secure`. Otherwise it is `Secure` when the request
    /// came over HTTPS through a trusted proxy (`X-Forwarded-Proto: https`).
    pub secure_cookie: bool,
}

impl Default for DeskSettings {
    fn default() -> DeskSettings {
        DeskSettings {
            public_url: String::new(),
            session_hours: 12,
            secure_cookie: false,
        }
    }
}

impl DeskSettings {
    /// The desk's address, when the public URL is set.
    pub fn home(&self) -> Option<String> {
        let base = self.public_url.trim().trim_end_matches('/');
        (!base.is_empty()).then(|| format!("{base}/desk"))
    }

    /// The link to a thread on the desk, when the public URL is set.
    pub fn thread_link(&self, thread: &str) -> Option<String> {
        self.home().map(|home| format!("{home}/threads/{thread}"))
    }
}

impl Settings {
    /// Where alerts go: the Discord alerts channel, e-mail, the alerts' webhook.
    pub fn alert_destinations(&self) -> Vec<Destination> {
        let mut out = Vec::new();
        let discord = &self.channels.discord;
        if discord.enabled() && discord.alerts_channel_id != 0 {
            out.push(Destination::Alerts);
        }
        if !self.alerts.email_to.is_empty() {
            out.push(Destination::Email);
        }
        if !self.alerts.webhook_url.trim().is_empty() {
            out.push(Destination::AlertWebhook);
        }
        out
    }

    /// Where the digest goes: the Discord alerts channel and e-mail (whether or not it is
    /// scheduled: `guichet digest --now` sends it too).
    pub fn digest_destinations(&self) -> Vec<Destination> {
        let mut out = Vec::new();
        let discord = &self.channels.discord;
        if discord.enabled() && discord.alerts_channel_id != 0 {
            out.push(Destination::Alerts);
        }
        if !self.digest.email_to.is_empty() {
            out.push(Destination::Email);
        }
        out
    }

    fn validate_alerts(&self) -> Result<(), String> {
        let addresses = self.alerts.email_to.iter().map(|a| ("alerts", a));
        for (section, address) in
            addresses.chain(self.digest.email_to.iter().map(|a| ("digest", a)))
        {
            if address.trim().parse::<lettre::message::Mailbox>().is_err() {
                return Err(format!(
                    "{section}.email_to has \"{}\", which is not an e-mail address",
                    address.chars().take(80).collect::<String>()
                ));
            }
        }
        let smtp = &self.smtp;
        let mails = !self.alerts.email_to.is_empty() || !self.digest.email_to.is_empty();
        if mails && (smtp.host.trim().is_empty() || smtp.from.trim().is_empty()) {
            return Err("alerts.email_to or digest.email_to is set but smtp.host or smtp.from is not: set the mail relay and the sender".into());
        }
        if !smtp.host.trim().is_empty() {
            if smtp
                .from
                .trim()
                .parse::<lettre::message::Mailbox>()
                .is_err()
            {
                return Err(format!(
                    "smtp.from \"{}\" is not an e-mail address",
                    smtp.from.chars().take(80).collect::<String>()
                ));
            }
            if !smtp.starttls && !smtp.host_is_loopback() {
                return Err(format!(
                    "smtp.starttls is false but smtp.host \"{}\" is not a loopback address: mail would cross the network in clear; set starttls = true",
                    smtp.host.trim()
                ));
            }
            if !smtp.username.trim().is_empty() && smtp.password.is_empty() {
                return Err(
                    "smtp.username is set but the password is not: set GUICHET__SMTP__PASSWORD"
                        .into(),
                );
            }
        }
        let url = self.alerts.webhook_url.trim();
        if !url.is_empty() {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "alerts.webhook_url \"{url}\" is not an http(s) URL"
                ));
            }
            if self.alerts.webhook_secret.is_empty() {
                return Err("alerts.webhook_url is set but its secret is not: alerts are signed; set GUICHET__ALERTS__WEBHOOK_SECRET".into());
            }
        }
        if !self.digest.at.trim().is_empty() && self.digest.time().is_none() {
            return Err(format!(
                "digest.at \"{}\" is not a time of day such as 08:00",
                self.digest.at.chars().take(20).collect::<String>()
            ));
        }
        let desk = self.desk.public_url.trim();
        if !(desk.is_empty() || desk.starts_with("http://") || desk.starts_with("https://")) {
            return Err(format!("desk.public_url \"{desk}\" is not an http(s) URL"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CONFIG)
    }

    fn shipped() -> ConfigSource {
        ConfigSource::File(shipped_path())
    }

    fn no_env() -> Env {
        Env::prefixed("GUICHET_TEST_UNUSED__").split("__")
    }

    #[test]
    fn the_shipped_configuration_loads_without_secrets() {
        let s = Settings::load_with_env(&shipped(), no_env()).expect("valid");
        assert_eq!(s.city.timezone, chrono_tz::America::Toronto);
        assert!(s.staff.token.is_empty());
        assert_eq!(s.sla.urgent.hours, 1.0);
        assert_eq!(s.sla.info.hours, 24.0);
        assert_eq!(s.sla.complaint.hours, 48.0);
        assert_eq!(s.sla.at_risk_share, 0.75);
    }

    #[test]
    fn a_bad_value_is_reported_with_its_key_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("city.toml");
        let text = std::fs::read_to_string(shipped_path())
            .unwrap()
            .replace("open = \"08:30\"", "open = \"8h30\"");
        std::fs::write(&path, text).unwrap();
        let err = Settings::load_with_env(&ConfigSource::File(path), no_env())
            .unwrap_err()
            .to_string();
        assert!(err.contains("city.toml"), "{err}");
        assert!(err.contains("business_hours.open"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("city.toml");
        let text = std::fs::read_to_string(shipped_path()).unwrap() + "\n[city2]\nname = \"x\"\n";
        std::fs::write(&path, text).unwrap();
        let err = Settings::load_with_env(&ConfigSource::File(path), no_env())
            .unwrap_err()
            .to_string();
        assert!(err.contains("city2"), "{err}");
    }

    fn with_smtp(host: &str, starttls: bool) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("city.toml");
        let text = std::fs::read_to_string(shipped_path()).unwrap()
            + &format!(
                "\n[alerts]\nemail_to = [\"coordination@ville.example\"]\n[smtp]\nhost = \"{host}\"\nport = 25\nfrom = \"guichet@ville.example\"\nstarttls = {starttls}\n"
            );
        std::fs::write(&path, text).unwrap();
        Settings::load_with_env(&ConfigSource::File(path), no_env())
    }

    #[test]
    fn smtp_without_starttls_is_refused_unless_the_relay_is_on_loopback() {
        let err = with_smtp("mail.ville.example", false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("smtp.starttls is false") && err.contains("mail.ville.example"),
            "{err}"
        );
        assert!(with_smtp("10.0.0.5", false).is_err());
        for host in ["127.0.0.1", "localhost", "::1"] {
            let s = with_smtp(host, false).unwrap_or_else(|e| panic!("{host}: {e}"));
            assert_eq!(s.alert_destinations(), vec![Destination::Email]);
        }
        assert!(with_smtp("mail.ville.example", true).is_ok());
    }

    #[test]
    fn the_smtp_password_is_refused_in_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("city.toml");
        let text = std::fs::read_to_string(shipped_path()).unwrap()
            + "\n[smtp]\nhost = \"localhost\"\nfrom = \"g@ville.example\"\npassword = \"hunter2\"\n";
        std::fs::write(&path, text).unwrap();
        let err = Settings::load_with_env(&ConfigSource::File(path), no_env())
            .unwrap_err()
            .to_string();
        assert!(err.contains("GUICHET__SMTP__PASSWORD"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn alerts_and_the_digest_are_off_by_default() {
        let s = Settings::load_with_env(&shipped(), no_env()).expect("valid");
        assert!(s.alert_destinations().is_empty());
        assert!(s.digest_destinations().is_empty());
        assert!(s.smtp.starttls);
        assert_eq!(s.desk.thread_link("G-000001"), None);
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = Settings::load(Path::new("/nonexistent/guichet.toml")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/guichet.toml"));
    }

    #[test]
    fn no_forwarder_is_configured_by_default() {
        let s = Settings::load_with_env(&shipped(), no_env()).expect("valid");
        assert!(s.forwarders.destinations().is_empty());
        assert_eq!(s.outbox.max_attempts, 12);
        let p = s.retry_policy();
        assert_eq!(p.initial, Duration::seconds(2));
        assert_eq!(p.max, Duration::minutes(10));
    }

    #[test]
    fn the_production_example_loads_with_its_secrets_from_the_environment() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/production.example.toml");
        let path = ConfigSource::File(path);
        std::env::set_var("GUICHET_TEST_PROD__FORWARDERS__WEBHOOK__SECRET", "s3cret");
        std::env::set_var("GUICHET_TEST_PROD__FORWARDERS__OPEN311__API_KEY", "k3y");
        std::env::set_var("GUICHET_TEST_PROD__CHANNELS__WEB__SENDER_SECRET", "s1te");
        std::env::set_var("GUICHET_TEST_PROD__CHANNELS__DISCORD__TOKEN", "b0t");
        std::env::set_var("GUICHET_TEST_PROD__SMTP__PASSWORD", "m4il");
        std::env::set_var("GUICHET_TEST_PROD__ALERTS__WEBHOOK_SECRET", "al3rt");
        let env = Env::prefixed("GUICHET_TEST_PROD__").split("__");
        let s = Settings::load_with_env(&path, env).expect("valid");
        assert_eq!(
            s.forwarders.destinations(),
            vec![Destination::Webhook, Destination::Open311]
        );
        let o = s.forwarders.open311().unwrap();
        assert_eq!(o.service_codes.get(Category::Urgent), Some("TP-URGENCE"));
        assert_eq!(o.service_codes.get(Category::Info), None);
        assert_eq!(s.staff_url(), "https://guichet.saint-exemple.qc.ca");
        assert_eq!(s.channels.web.identity, WebIdentity::Signed);
        let discord = &s.channels.discord;
        assert!(discord.enabled());
        assert_eq!(discord.staff_forum_id, 1_180_000_000_000_000_002);
        assert_eq!(discord.coordinator_role_id, 1_180_000_000_000_000_005);
        assert_eq!(
            s.alert_destinations(),
            vec![
                Destination::Alerts,
                Destination::Email,
                Destination::AlertWebhook
            ]
        );
        assert_eq!(
            s.digest_destinations(),
            vec![Destination::Alerts, Destination::Email]
        );
        assert_eq!(
            s.desk.thread_link("G-000042").as_deref(),
            Some("https://guichet.saint-exemple.qc.ca/desk/threads/G-000042")
        );
    }

    #[test]
    fn claimed_web_identities_are_refused_on_a_public_listener() {
        std::env::set_var("GUICHET_TEST_CLAIMED__HTTP__LISTEN", "0.0.0.0:8080");
        let env = Env::prefixed("GUICHET_TEST_CLAIMED__").split("__");
        let err = Settings::load_with_env(&shipped(), env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a loopback address"), "{err}");
        std::env::set_var("GUICHET_TEST_TOKEN__HTTP__LISTEN", "0.0.0.0:8080");
        std::env::set_var("GUICHET_TEST_TOKEN__CHANNELS__WEB__IDENTITY", "token");
        let env = Env::prefixed("GUICHET_TEST_TOKEN__").split("__");
        assert!(Settings::load_with_env(&shipped(), env).is_ok());
    }

    #[test]
    fn a_webhook_without_a_secret_is_refused() {
        std::env::set_var(
            "GUICHET_TEST_NOSECRET__FORWARDERS__WEBHOOK__URL",
            "http://127.0.0.1:9/x",
        );
        let env = Env::prefixed("GUICHET_TEST_NOSECRET__").split("__");
        let err = Settings::load_with_env(&shipped(), env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("forwarders.webhook.secret"), "{err}");
    }

    #[test]
    fn a_store_cache_of_zero_is_refused() {
        std::env::set_var("GUICHET_TEST_NOCACHE__STORE__CACHE_MB", "0");
        let env = Env::prefixed("GUICHET_TEST_NOCACHE__").split("__");
        let err = Settings::load_with_env(&shipped(), env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("store.cache_mb"), "{err}");
    }

    #[test]
    fn the_embedded_configuration_loads_without_a_config_directory() {
        assert!(EMBEDDED_CONFIG.contains("[city]"));
        let s = Settings::load_with_env(&ConfigSource::Embedded, no_env()).expect("valid");
        assert_eq!(s.http.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.store.path, Path::new("data/store"));
        assert_eq!(s.store.cache_bytes(), 128 * 1024 * 1024);
        assert_eq!(ConfigSource::new(None), ConfigSource::Embedded);
    }

    #[test]
    fn an_error_in_the_embedded_configuration_names_it() {
        std::env::set_var("GUICHET_TEST_EMBEDDED__SLA__AT_RISK_SHARE", "1.5");
        let env = Env::prefixed("GUICHET_TEST_EMBEDDED__").split("__");
        let err = Settings::load_with_env(&ConfigSource::Embedded, env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("the embedded config/default.toml"), "{err}");
        assert!(err.contains("at-risk share"), "{err}");
    }

    #[test]
    fn a_local_toml_beside_a_given_file_is_layered_over_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("city.toml");
        std::fs::copy(shipped_path(), &path).unwrap();
        std::fs::write(dir.path().join("local.toml"), "[city]\nname = \"Alma\"\n").unwrap();
        let source = ConfigSource::new(Some(path));
        let s = Settings::load_with_env(&source, no_env()).expect("valid");
        assert_eq!(s.city.name, "Alma");
        assert_eq!(source.local(), dir.path().join("local.toml"));
    }

    #[test]
    fn discord_is_off_without_a_token_and_its_defaults_hold() {
        let s = Settings::load_with_env(&shipped(), no_env()).expect("valid");
        let d = &s.channels.discord;
        assert!(!d.enabled());
        assert_eq!(d.api_url(), "https://discord.com");
        assert_eq!(d.note_prefix, "//");
        assert_eq!(d.rate_per_second, 5);
        assert_eq!(d.guild_id, 0);
    }

    #[test]
    fn messenger_is_off_without_its_three_secrets_and_its_defaults_hold() {
        let s = Settings::load_with_env(&shipped(), no_env()).expect("valid");
        let mut m = s.channels.messenger.clone();
        assert!(!m.enabled());
        assert_eq!(m.graph_url(), "https://graph.facebook.com");
        assert_eq!(m.api_version, "v21.0");
        assert_eq!(m.rate_per_second, 20);
        assert!(!m.human_agent_tag);
        m.page_token = Secret::new("p");
        m.app_secret = Secret::new("a");
        assert!(!m.enabled(), "the verify token is missing");
        m.verify_token = Secret::new("v");
        assert!(m.enabled());
        assert!(m.validate().unwrap_err().contains("page_id"));
        m.page_id = "1234".into();
        assert!(m.validate().is_ok());
    }

    #[test]
    fn a_discord_token_needs_the_staff_server_and_its_forum() {
        std::env::set_var(
            "GUICHET_TEST_DISCORD_BARE__CHANNELS__DISCORD__TOKEN",
            "t0ken",
        );
        let env = Env::prefixed("GUICHET_TEST_DISCORD_BARE__").split("__");
        let err = Settings::load_with_env(&shipped(), env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("staff_forum_id"), "{err}");

        let prefix = "GUICHET_TEST_DISCORD_FULL__CHANNELS__DISCORD__";
        std::env::set_var(format!("{prefix}TOKEN"), "t0ken");
        std::env::set_var(format!("{prefix}GUILD_ID"), "1100000000000000001");
        std::env::set_var(format!("{prefix}STAFF_FORUM_ID"), "1100000000000000002");
        std::env::set_var(format!("{prefix}API_URL"), "http://127.0.0.1:9/");
        let env = Env::prefixed("GUICHET_TEST_DISCORD_FULL__").split("__");
        let s = Settings::load_with_env(&shipped(), env).expect("valid");
        let d = &s.channels.discord;
        assert!(d.enabled());
        assert_eq!(d.guild_id, 1_100_000_000_000_000_001);
        assert_eq!(d.api_url(), "http://127.0.0.1:9");
        let shown = format!("{d:?}");
        assert!(!shown.contains("t0ken"), "{shown}");

        std::env::set_var(
            "GUICHET_TEST_DISCORD_FTP__CHANNELS__DISCORD__TOKEN",
            "t0ken",
        );
        std::env::set_var("GUICHET_TEST_DISCORD_FTP__CHANNELS__DISCORD__GUILD_ID", "1");
        std::env::set_var(
            "GUICHET_TEST_DISCORD_FTP__CHANNELS__DISCORD__STAFF_FORUM_ID",
            "2",
        );
        std::env::set_var(
            "GUICHET_TEST_DISCORD_FTP__CHANNELS__DISCORD__API_URL",
            "ftp://x",
        );
        let env = Env::prefixed("GUICHET_TEST_DISCORD_FTP__").split("__");
        let err = Settings::load_with_env(&shipped(), env)
            .unwrap_err()
            .to_string();
        assert!(err.contains("channels.discord.api_url"), "{err}");
    }

    #[test]
    fn a_discord_token_written_in_the_configuration_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("city.toml");
        let text = std::fs::read_to_string(shipped_path()).unwrap()
            + "\n[channels.discord]\ntoken = \"s3cret-in-git\"\nguild_id = \"1\"\nstaff_forum_id = 2\n";
        std::fs::write(&path, text).unwrap();
        let err = Settings::load_with_env(&ConfigSource::new(Some(path)), no_env())
            .unwrap_err()
            .to_string();
        assert!(err.contains("GUICHET__CHANNELS__DISCORD__TOKEN"), "{err}");
        assert!(!err.contains("s3cret-in-git"), "{err}");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret = Secret::new("hunter2");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert!(secret.matches("hunter2"));
        assert!(!secret.matches("hunter"));
        assert!(!Secret::default().matches(""));
    }
}
