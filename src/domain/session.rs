//! A desk session: who signed in, until when, the token that checks its forms, and the
//! language chosen. Pure: the id is drawn and hashed by the caller's helpers below, the store
//! keeps the record under the hash of the id (never the id itself), and `now` is a parameter.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Language;

/// What the store keeps of a signed-in member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The member's name (`coordinator` for the bootstrap token).
    pub member: String,
    /// The hash of the token that signed in: a revoked or replaced token ends the session.
    pub token_hash: String,
    /// Sent in every form and compared on every POST.
    pub csrf: String,
    pub language: Language,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Session {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }

    /// Whether a form's token is this session's, compared in constant time.
    pub fn accepts(&self, csrf: &str) -> bool {
        same(self.csrf.as_bytes(), csrf.trim().as_bytes())
    }
}

/// A new random secret: a session id, a CSRF token (32 hex digits, 128 bits).
pub fn secret() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The hash a session is kept under: a copy of the store does not hand out live sessions.
pub fn id_hash(id: &str) -> String {
    hex::encode(Sha256::digest(id.trim().as_bytes()))
}

/// Byte strings compared in time independent of where they differ.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && !a.is_empty() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn session(csrf: &str) -> Session {
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        Session {
            member: "luc".into(),
            token_hash: "h".into(),
            csrf: csrf.into(),
            language: Language::Fr,
            created_at: at,
            expires_at: at + Duration::hours(12),
        }
    }

    #[test]
    fn a_form_is_accepted_only_with_the_sessions_token() {
        let s = session("abc123");
        assert!(s.accepts("abc123"));
        assert!(!s.accepts("abc124"));
        assert!(!s.accepts(""));
        assert!(!session("").accepts(""), "an empty token never matches");
    }

    #[test]
    fn a_session_ends_at_its_expiry() {
        let s = session("x");
        assert!(s.is_live(s.expires_at - Duration::seconds(1)));
        assert!(!s.is_live(s.expires_at));
    }

    #[test]
    fn sessions_are_kept_under_a_hash_of_their_id() {
        let id = secret();
        assert_eq!(id.len(), 32);
        assert_ne!(secret(), id);
        assert_eq!(id_hash(&id).len(), 64);
        assert!(!id_hash(&id).contains(&id));
    }
}
