//! Named staff members: who they are, their role, and the hash of their token (the token
//! itself is shown once, when the member is added, and never kept). Pure.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a member may do. Agents read, answer, claim, resolve and recategorise; coordinators
/// also see reports, exports and the outbox, unblock senders and manage staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Coordinator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Coordinator => "coordinator",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        match s.trim() {
            "agent" => Ok(Role::Agent),
            "coordinator" => Ok(Role::Coordinator),
            other => Err(format!(
                "unknown role \"{}\": use agent or coordinator",
                other.chars().take(40).collect::<String>()
            )),
        }
    }
}

/// A member of the staff, as the store keeps them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    pub role: Role,
    /// SHA-256 of the token, hex.
    pub token_hash: String,
    pub added_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Who acts on a staff route or command: a named member, or the bootstrap coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

impl Actor {
    /// The holder of `GUICHET__STAFF__TOKEN`.
    pub fn bootstrap() -> Actor {
        Actor {
            name: "coordinator".into(),
            role: Role::Coordinator,
        }
    }
}

/// A member's name: 1 to 64 letters, digits, `.`, `-`, `_` or spaces inside.
///
/// # Errors
/// Anything else, as a sentence.
pub fn parse_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let ok = (1..=64).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' '));
    if ok {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "\"{}\" is not a staff member's name: 1 to 64 letters, digits, '.', '-', '_' or spaces",
            name.chars().take(64).collect::<String>()
        ))
    }
}

/// The hash a token is kept and looked up under.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_kept_only_as_its_hash() {
        let h = token_hash("s3cret");
        assert_eq!(h.len(), 64);
        assert!(!h.contains("s3cret"));
        assert_eq!(h, token_hash(" s3cret "));
    }

    #[test]
    fn names_and_roles_are_checked() {
        assert_eq!(parse_name(" Luc Tremblay ").unwrap(), "Luc Tremblay");
        assert!(parse_name("").is_err());
        assert!(parse_name("luc\u{1b}[2J").is_err());
        assert_eq!("agent".parse::<Role>(), Ok(Role::Agent));
        assert!("boss".parse::<Role>().is_err());
    }
}
