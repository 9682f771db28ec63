//! Configuration: the settings a city tunes, loaded in layers and validated at start-up.
//!
//! Layers, later ones winning: the file given by `--config` (default `config/default.toml`),
//! an optional `local.toml` beside it (ignored by git: the place for secrets on one machine),
//! then `GUICHET__SECTION__KEY` environment variables. Secrets are typed as [`Secret`] so that
//! they never reach a log. This module reads files and the environment; it builds the domain's
//! pure values (`SlaPolicy`) but holds no state of its own.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::Deserialize;

use crate::domain::calendar::{BusinessHours, Calendar};
use crate::domain::sla::{Counting, SlaPolicy, Target};
use crate::domain::Category;

/// The default configuration file, relative to the working directory.
pub const DEFAULT_CONFIG: &str = "config/default.toml";

/// Everything that can go wrong while loading the configuration: one sentence each.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration file {0} does not exist")]
    Missing(PathBuf),
    #[error("the configuration in {path} is invalid: {message}")]
    Invalid { path: PathBuf, message: String },
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
    pub responses: ResponsesSettings,
    #[serde(default)]
    pub channels: ChannelSettings,
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodSettings {
    pub burst: u32,
    pub per_seconds: u64,
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationSettings {
    pub strikes_to_block: u32,
    pub strike_period_days: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponsesSettings {
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSettings {
    #[serde(default)]
    pub web: WebChannelSettings,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebChannelSettings {
    /// Agents' answers are POSTed here as JSON when set (empty means no callback).
    #[serde(default)]
    pub callback_url: String,
}

impl Settings {
    /// Loads the layered configuration and validates it.
    ///
    /// # Errors
    /// A missing file, a syntax error, an unknown key, or a value out of range, each as one
    /// sentence naming the file.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        Self::load_with_env(path, Env::prefixed("GUICHET__").split("__"))
    }

    fn load_with_env(path: &Path, env: Env) -> Result<Settings, ConfigError> {
        if !path.is_file() {
            return Err(ConfigError::Missing(path.to_path_buf()));
        }
        let local = path.with_file_name("local.toml");
        let settings: Settings = Figment::new()
            .merge(Toml::file(path))
            .merge(Toml::file(&local))
            .merge(env)
            .extract()
            .map_err(|e| invalid(path, figment_message(&e)))?;
        settings
            .validate()
            .map_err(|message| invalid(path, message))?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), String> {
        if self.city.name.trim().is_empty() {
            return Err("city.name is empty".into());
        }
        if self.http.max_body_bytes < 1024 {
            return Err("http.max_body_bytes must be at least 1024".into());
        }
        if self.messages.max_chars == 0 {
            return Err("messages.max_chars must be at least 1".into());
        }
        if self.messages.max_clock_skew_seconds < 0 {
            return Err("messages.max_clock_skew_seconds cannot be negative".into());
        }
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

fn invalid(path: &Path, message: String) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CONFIG)
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
        let text = std::fs::read_to_string(shipped())
            .unwrap()
            .replace("open = \"08:30\"", "open = \"8h30\"");
        std::fs::write(&path, text).unwrap();
        let err = Settings::load_with_env(&path, no_env())
            .unwrap_err()
            .to_string();
        assert!(err.contains("city.toml"), "{err}");
        assert!(err.contains("business_hours.open"), "{err}");
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("city.toml");
        let text = std::fs::read_to_string(shipped()).unwrap() + "\n[city2]\nname = \"x\"\n";
        std::fs::write(&path, text).unwrap();
        let err = Settings::load_with_env(&path, no_env())
            .unwrap_err()
            .to_string();
        assert!(err.contains("city2"), "{err}");
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = Settings::load(Path::new("/nonexistent/guichet.toml")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/guichet.toml"));
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
