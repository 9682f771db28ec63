//! Meta's webhook deliveries, as values: the signature check over the raw body, the
//! verification handshake, and a delivery's `messaging` events turned into what guichet
//! records. Pure: no I/O, no clock; the HTTP adapter stores what this returns.
//!
//! One event that cannot be read is reported as an error of its own and never spoils the
//! others: refusing the batch would make Meta retry it for 36 hours.
//!
//! What the events become:
//! - a citizen's message: its text, then one line per attachment (`[image] https://…`); a
//!   quick reply is its text;
//! - a postback (a button of the page's menu or of a template): a message of the button's
//!   title (or its payload when it has none), with the postback's `mid` (or one made of the
//!   sender and the timestamp) as its platform id, since the citizen chose those words;
//! - an echo (`is_echo`): a message the page sent; the HTTP adapter ignores guichet's own
//!   (its `app_id`) and records the others as the agent's answer;
//! - reads, deliveries, reactions and anything else: ignored.

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;

use crate::config::Secret;

/// The header Meta signs deliveries with.
pub const SIGNATURE_HEADER: &str = "x-hub-signature-256";

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under `app_secret`,
/// compared in constant time.
pub fn signature_matches(app_secret: &Secret, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(given) = hex::decode(hex_sig.trim()) else {
        return false;
    };
    if app_secret.is_empty() {
        return false;
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.expose().as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// The signature header for `body`, as Meta computes it (for tests and tools).
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The verification handshake: the challenge to echo when the mode is `subscribe` and the
/// token is the configured one; `None` otherwise.
pub fn handshake<'a>(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&'a str>,
    verify_token: &Secret,
) -> Option<&'a str> {
    let ok = mode == Some("subscribe") && token.is_some_and(|t| verify_token.matches(t));
    challenge.filter(|_| ok)
}

/// What one `messaging` event is to guichet.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The citizen wrote (a message, or a postback).
    Citizen {
        psid: String,
        mid: String,
        text: String,
        at: DateTime<Utc>,
    },
    /// The page wrote to the citizen: from guichet itself or from a person in Meta's tools,
    /// which `app_id` tells apart.
    Echo {
        psid: String,
        mid: String,
        text: String,
        at: DateTime<Utc>,
        app_id: Option<String>,
    },
    /// Read receipts, deliveries, reactions, …: nothing to record.
    Ignored(&'static str),
}

#[derive(Deserialize)]
struct Delivery {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    messaging: Vec<Value>,
}

#[derive(Deserialize)]
struct RawEvent {
    sender: Party,
    recipient: Party,
    timestamp: i64,
    message: Option<RawMessage>,
    postback: Option<Postback>,
    read: Option<Value>,
    delivery: Option<Value>,
    reaction: Option<Value>,
}

#[derive(Deserialize)]
struct Party {
    #[serde(deserialize_with = "id")]
    id: String,
}

#[derive(Deserialize)]
struct RawMessage {
    mid: String,
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
    #[serde(default, deserialize_with = "optional_id")]
    app_id: Option<String>,
    #[serde(default)]
    attachments: Vec<Attachment>,
}

#[derive(Deserialize)]
struct Attachment {
    #[serde(rename = "type")]
    kind: String,
    payload: Option<Value>,
}

#[derive(Deserialize)]
struct Postback {
    mid: Option<String>,
    title: Option<String>,
    payload: Option<String>,
}

/// A Graph id, sent as a string (or, for an `app_id`, a number).
fn id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("not an id")),
    }
}

fn optional_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// Reads a delivery: every `messaging` event of every entry, each read on its own.
///
/// # Errors
/// The body is not a page delivery at all (not JSON, or another `object`); one event that
/// cannot be read is an `Err` in the list instead.
pub fn read(body: &[u8]) -> Result<Vec<Result<Event, String>>, String> {
    let delivery: Delivery =
        serde_json::from_slice(body).map_err(|e| format!("not a webhook delivery: {e}"))?;
    if delivery.object != "page" {
        return Err(format!(
            "a delivery for \"{}\", not for a page",
            delivery.object.chars().take(40).collect::<String>()
        ));
    }
    Ok(delivery
        .entry
        .into_iter()
        .flat_map(|e| e.messaging)
        .map(event)
        .collect())
}

fn event(raw: Value) -> Result<Event, String> {
    let e: RawEvent =
        serde_json::from_value(raw).map_err(|e| format!("an event that cannot be read: {e}"))?;
    let at = Utc
        .timestamp_millis_opt(e.timestamp)
        .single()
        .ok_or_else(|| format!("the timestamp {} is not a time", e.timestamp))?;
    if let Some(m) = e.message {
        let text = message_text(m.text.as_deref(), &m.attachments);
        if text.is_empty() {
            return Ok(Event::Ignored("a message with nothing to show"));
        }
        return Ok(if m.is_echo {
            Event::Echo {
                psid: e.recipient.id,
                mid: m.mid,
                text,
                at,
                app_id: m.app_id,
            }
        } else {
            Event::Citizen {
                psid: e.sender.id,
                mid: m.mid,
                text,
                at,
            }
        });
    }
    if let Some(p) = e.postback {
        let text = p
            .title
            .filter(|t| !t.trim().is_empty())
            .or(p.payload)
            .unwrap_or_default();
        if text.trim().is_empty() {
            return Ok(Event::Ignored("a postback without a title or a payload"));
        }
        let mid = p
            .mid
            .unwrap_or_else(|| format!("postback-{}-{}", e.sender.id, e.timestamp));
        return Ok(Event::Citizen {
            psid: e.sender.id,
            mid,
            text,
            at,
        });
    }
    Ok(Event::Ignored(if e.read.is_some() {
        "a read receipt"
    } else if e.delivery.is_some() {
        "a delivery receipt"
    } else if e.reaction.is_some() {
        "a reaction"
    } else {
        "an event guichet does not record"
    }))
}

/// The text, then one line per attachment: its kind and its link when it has one.
fn message_text(text: Option<&str>, attachments: &[Attachment]) -> String {
    let mut lines: Vec<String> = text
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| vec![t.to_owned()])
        .unwrap_or_default();
    for a in attachments {
        let payload = a.payload.as_ref();
        let url = payload.and_then(|p| p["url"].as_str());
        let line = match (url, payload.and_then(|p| p["coordinates"].as_object())) {
            (Some(url), _) => format!("[{}] {url}", a.kind),
            (None, Some(c)) => format!(
                "[{}] {}, {}",
                a.kind,
                c.get("lat").cloned().unwrap_or(Value::Null),
                c.get("long").cloned().unwrap_or(Value::Null)
            ),
            (None, None) => format!("[{}]", a.kind),
        };
        lines.push(line);
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn delivery(events: Vec<Value>) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "object": "page",
            "entry": [{"id": "1234", "time": 1_764_500_000_000_i64, "messaging": events}]
        }))
        .unwrap()
    }

    #[test]
    fn a_signature_is_checked_over_the_raw_body() {
        let secret = Secret::new("app-secret");
        let body = br#"{"object":"page","entry":[]}"#;
        let good = sign("app-secret", body);
        assert!(signature_matches(&secret, body, Some(&good)));
        assert!(!signature_matches(
            &secret,
            b"{\"object\":\"page\"}",
            Some(&good)
        ));
        assert!(!signature_matches(
            &secret,
            body,
            Some(&sign("other", body))
        ));
        assert!(!signature_matches(&secret, body, Some("sha256=zz")));
        assert!(!signature_matches(
            &secret,
            body,
            Some(good.trim_start_matches("sha256="))
        ));
        assert!(!signature_matches(&secret, body, None));
        assert!(!signature_matches(
            &Secret::default(),
            body,
            Some(&sign("", body))
        ));
    }

    #[test]
    fn the_handshake_echoes_the_challenge_only_for_the_right_token() {
        let token = Secret::new("verify-me");
        assert_eq!(
            handshake(Some("subscribe"), Some("verify-me"), Some("42"), &token),
            Some("42")
        );
        assert_eq!(
            handshake(Some("subscribe"), Some("wrong"), Some("42"), &token),
            None
        );
        assert_eq!(
            handshake(Some("unsubscribe"), Some("verify-me"), Some("42"), &token),
            None
        );
        assert_eq!(handshake(Some("subscribe"), None, Some("42"), &token), None);
    }

    #[test]
    fn messages_attachments_postbacks_echoes_and_reads_are_told_apart() {
        let body = delivery(vec![
            json!({"sender":{"id":"111"},"recipient":{"id":"1234"},"timestamp":1_764_500_000_000_i64,
                   "message":{"mid":"m_1","text":"Bonjour","quick_reply":{"payload":"X"}}}),
            json!({"sender":{"id":"111"},"recipient":{"id":"1234"},"timestamp":1_764_500_000_001_i64,
                   "message":{"mid":"m_2","attachments":[{"type":"image","payload":{"url":"https://cdn/x.jpg"}}]}}),
            json!({"sender":{"id":"111"},"recipient":{"id":"1234"},"timestamp":1_764_500_000_002_i64,
                   "postback":{"mid":"m_3","title":"Horaire des collectes","payload":"COLLECTES"}}),
            json!({"sender":{"id":"1234"},"recipient":{"id":"111"},"timestamp":1_764_500_000_003_i64,
                   "message":{"mid":"m_4","text":"C'est réglé","is_echo":true,"app_id":263902037430900_i64}}),
            json!({"sender":{"id":"111"},"recipient":{"id":"1234"},"timestamp":1_764_500_000_004_i64,
                   "read":{"watermark":1_764_500_000_000_i64}}),
            json!({"sender":{"id":"111"},"timestamp":"soon"}),
        ]);
        let events = read(&body).unwrap();
        assert_eq!(events.len(), 6);
        let at = |ms| Utc.timestamp_millis_opt(ms).unwrap();
        assert_eq!(
            events[0],
            Ok(Event::Citizen {
                psid: "111".into(),
                mid: "m_1".into(),
                text: "Bonjour".into(),
                at: at(1_764_500_000_000)
            })
        );
        assert!(
            matches!(&events[1], Ok(Event::Citizen { text, .. }) if text == "[image] https://cdn/x.jpg")
        );
        assert!(
            matches!(&events[2], Ok(Event::Citizen { text, mid, .. }) if text == "Horaire des collectes" && mid == "m_3")
        );
        assert!(matches!(
            &events[3],
            Ok(Event::Echo { psid, app_id: Some(app), .. }) if psid == "111" && app == "263902037430900"
        ));
        assert_eq!(events[4], Ok(Event::Ignored("a read receipt")));
        assert!(events[5].is_err(), "one bad event is reported on its own");
    }

    #[test]
    fn a_delivery_for_something_else_than_a_page_is_refused_whole() {
        assert!(read(br#"{"object":"instagram","entry":[]}"#).is_err());
        assert!(read(b"not json").is_err());
        assert_eq!(read(br#"{"object":"page","entry":[]}"#).unwrap(), vec![]);
    }
}
