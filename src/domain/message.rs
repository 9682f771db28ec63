//! A citizen's message, parsed from raw input into types that cannot hold bad values.
//!
//! Parse, don't validate: every newtype has a private field and a `parse` constructor, so a
//! `Sender` or a `MessageText` that exists is known to be well-formed. No I/O; `now` is a
//! parameter.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Why a raw message was refused: one sentence, safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("the field \"{0}\" is required and cannot be empty")]
    Empty(&'static str),
    #[error("the field \"{field}\" is too long ({len} characters, at most {max})")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("the field \"{0}\" contains control characters")]
    ControlCharacters(&'static str),
    #[error("the channel \"{0}\" is not valid: use 1 to 32 lowercase letters, digits, '-' or '_'")]
    BadChannel(String),
    #[error("sent_at \"{0}\" is not an RFC 3339 timestamp such as 2026-11-21T14:30:00-05:00")]
    BadTimestamp(String),
    #[error("sent_at {0} is in the future")]
    FutureTimestamp(String),
    #[error("sent_at {at} is older than {days} days: a message that old is not accepted (write again, or call customer service)")]
    StaleTimestamp { at: String, days: i64 },
}

fn check_identifier(field: &'static str, raw: &str, max: usize) -> Result<String, MessageError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(MessageError::Empty(field));
    }
    let len = value.chars().count();
    if len > max {
        return Err(MessageError::TooLong { field, len, max });
    }
    if value.chars().any(char::is_control) {
        return Err(MessageError::ControlCharacters(field));
    }
    Ok(value.to_owned())
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// # Errors
            /// Empty (after trimming), too long, or containing control characters.
            pub fn parse(raw: &str) -> Result<Self, MessageError> {
                check_identifier($field, raw, $max).map($name)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

identifier!(
    /// The citizen's identity on a channel (a Discord user id, a Messenger PSID, a web id).
    Sender,
    "sender",
    256
);
identifier!(
    /// The platform's own id for a message, used to recognise a duplicated delivery.
    PlatformMessageId,
    "message_id",
    256
);

/// The channel a message came from (`web`, `discord`, `messenger`, …).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Channel(String);

impl Channel {
    pub fn web() -> Channel {
        Channel("web".into())
    }

    /// # Errors
    /// Anything but 1 to 32 lowercase ASCII letters, digits, `-` or `_`.
    pub fn parse(raw: &str) -> Result<Channel, MessageError> {
        let ok = (1..=32).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(Channel(raw.to_owned()))
        } else {
            Err(MessageError::BadChannel(raw.chars().take(40).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The text of a message: not blank, at most the configured number of characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MessageText(String);

impl MessageText {
    /// Escape sequences and control characters are removed first (see
    /// [`crate::domain::text::sanitize`]): what staff read is what the citizen wrote.
    ///
    /// # Errors
    /// Blank (empty or whitespace only) or longer than `max_chars` characters.
    pub fn parse(raw: &str, max_chars: usize) -> Result<MessageText, MessageError> {
        let clean;
        let raw = if super::text::needs_sanitizing(raw) {
            clean = super::text::sanitize(raw);
            clean.as_str()
        } else {
            raw
        };
        let text = raw.trim();
        if text.is_empty() {
            return Err(MessageError::Empty("text"));
        }
        let len = text.chars().count();
        if len > max_chars {
            return Err(MessageError::TooLong {
                field: "text",
                len,
                max: max_chars,
            });
        }
        Ok(MessageText(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The limits a raw message is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_chars: usize,
    pub max_clock_skew: Duration,
    /// A `sent_at` older than this is refused: platforms retry for a day or two, not more.
    pub max_age: Duration,
}

/// A message as a platform adapter hands it over, before any check.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawMessage {
    pub sender: Option<String>,
    pub text: Option<String>,
    pub message_id: Option<String>,
    pub sent_at: Option<String>,
    pub channel: Option<String>,
    /// The city site's signature of `sender` (web channel), when it signs identities.
    pub sender_signature: Option<String>,
}

/// A citizen's message, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingMessage {
    pub channel: Channel,
    pub sender: Sender,
    pub platform_id: Option<PlatformMessageId>,
    pub text: MessageText,
    /// The platform's timestamp: the SLA clock starts here, not when guichet saw it.
    pub sent_at: DateTime<Utc>,
}

impl IncomingMessage {
    /// Checks a raw message; `sent_at` defaults to `now` and may not be in the future
    /// beyond the allowed clock skew.
    ///
    /// # Errors
    /// The first problem found, as a sentence naming the field.
    pub fn parse(
        raw: RawMessage,
        now: DateTime<Utc>,
        limits: Limits,
    ) -> Result<IncomingMessage, MessageError> {
        let sender = Sender::parse(raw.sender.as_deref().unwrap_or(""))?;
        let text = MessageText::parse(raw.text.as_deref().unwrap_or(""), limits.max_chars)?;
        let platform_id = raw
            .message_id
            .as_deref()
            .map(PlatformMessageId::parse)
            .transpose()?;
        let channel = match raw.channel.as_deref() {
            None => Channel::web(),
            Some(c) => Channel::parse(c)?,
        };
        let sent_at = match raw.sent_at.as_deref() {
            None => now,
            Some(s) => {
                let at = DateTime::parse_from_rfc3339(s.trim())
                    .map_err(|_| MessageError::BadTimestamp(s.chars().take(64).collect()))?
                    .with_timezone(&Utc);
                if at > now + limits.max_clock_skew {
                    return Err(MessageError::FutureTimestamp(s.trim().to_owned()));
                }
                if at < now - limits.max_age {
                    return Err(MessageError::StaleTimestamp {
                        at: s.trim().chars().take(64).collect(),
                        days: limits.max_age.num_days(),
                    });
                }
                at
            }
        };
        Ok(IncomingMessage {
            channel,
            sender,
            platform_id,
            text,
            sent_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn limits() -> Limits {
        Limits {
            max_chars: 20,
            max_clock_skew: Duration::minutes(5),
            max_age: Duration::days(7),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 15, 0, 0).unwrap()
    }

    fn raw(sender: &str, text: &str) -> RawMessage {
        RawMessage {
            sender: Some(sender.into()),
            text: Some(text.into()),
            ..RawMessage::default()
        }
    }

    #[test]
    fn a_minimal_message_defaults_to_the_web_channel_and_now() {
        let m = IncomingMessage::parse(raw(" marie ", " allo "), now(), limits()).unwrap();
        assert_eq!(m.channel, Channel::web());
        assert_eq!(m.sender.as_str(), "marie");
        assert_eq!(m.text.as_str(), "allo");
        assert_eq!(m.sent_at, now());
    }

    #[test]
    fn whitespace_only_text_is_refused() {
        let err = IncomingMessage::parse(raw("a", " \n\t "), now(), limits()).unwrap_err();
        assert_eq!(err, MessageError::Empty("text"));
    }

    #[test]
    fn text_longer_than_the_limit_is_refused_counting_characters() {
        assert!(IncomingMessage::parse(raw("a", &"é".repeat(20)), now(), limits()).is_ok());
        let err = IncomingMessage::parse(raw("a", &"é".repeat(21)), now(), limits()).unwrap_err();
        assert!(err.to_string().contains("21 characters, at most 20"));
    }

    #[test]
    fn a_missing_sender_is_refused() {
        let r = RawMessage {
            text: Some("allo".into()),
            ..RawMessage::default()
        };
        assert_eq!(
            IncomingMessage::parse(r, now(), limits()).unwrap_err(),
            MessageError::Empty("sender")
        );
    }

    #[test]
    fn sent_at_keeps_the_platform_time_and_refuses_the_future() {
        let mut r = raw("a", "allo");
        r.sent_at = Some("2026-11-18T09:00:00-05:00".into());
        let m = IncomingMessage::parse(r.clone(), now(), limits()).unwrap();
        assert_eq!(
            m.sent_at,
            Utc.with_ymd_and_hms(2026, 11, 18, 14, 0, 0).unwrap()
        );

        r.sent_at = Some("2026-11-21T15:04:00Z".into());
        assert!(IncomingMessage::parse(r.clone(), now(), limits()).is_ok());
        r.sent_at = Some("2026-11-21T16:00:00Z".into());
        assert!(matches!(
            IncomingMessage::parse(r.clone(), now(), limits()),
            Err(MessageError::FutureTimestamp(_))
        ));
        r.sent_at = Some("yesterday".into());
        assert!(matches!(
            IncomingMessage::parse(r, now(), limits()),
            Err(MessageError::BadTimestamp(_))
        ));
    }

    #[test]
    fn sent_at_older_than_the_bound_is_refused_year_one_included() {
        let mut r = raw("a", "allo");
        r.sent_at = Some("0001-01-01T00:00:00Z".into());
        let err = IncomingMessage::parse(r.clone(), now(), limits()).unwrap_err();
        assert!(err.to_string().contains("older than 7 days"), "{err}");
        r.sent_at = Some("2026-11-14T14:00:00Z".into());
        assert!(IncomingMessage::parse(r.clone(), now(), limits()).is_err());
        r.sent_at = Some("2026-11-18T15:00:00Z".into());
        assert!(IncomingMessage::parse(r, now(), limits()).is_ok());
    }

    #[test]
    fn escape_sequences_are_stripped_from_the_text_on_input() {
        let m =
            IncomingMessage::parse(raw("a", "\u{1b}[2J\u{1b}[Hpu d'eau"), now(), limits()).unwrap();
        assert_eq!(m.text.as_str(), "pu d'eau");
        let err = IncomingMessage::parse(raw("a", "\u{1b}[2J"), now(), limits()).unwrap_err();
        assert_eq!(err, MessageError::Empty("text"));
    }

    #[test]
    fn channels_are_short_lowercase_names() {
        assert!(Channel::parse("messenger").is_ok());
        assert!(Channel::parse("Web").is_err());
        assert!(Channel::parse("").is_err());
        assert!(Channel::parse(&"a".repeat(33)).is_err());
    }
}

/// Who wrote a message kept on a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// The citizen's own message.
    Citizen,
    /// guichet's automatic acknowledgment.
    Acknowledgment,
    /// guichet's moderation warning.
    Warning,
    /// An agent's answer.
    Agent,
    /// An agent's internal note: kept for staff, never sent to the citizen.
    Note,
}

/// A message kept on a thread, in either direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub kind: MessageKind,
    /// `citizen`, `guichet` or the agent's name.
    pub author: String,
    /// The platform time for citizens' messages, the sending time for the others.
    pub at: DateTime<Utc>,
    pub text: String,
    /// The copy agents see, insults masked; absent when nothing was masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masked: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_id: Option<String>,
    /// Stored but not acted on (flood, blocked sender).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
}
