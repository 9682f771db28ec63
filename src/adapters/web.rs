//! The generic web channel: who a web citizen is. (Agents' answers reach the site's callback
//! through the outbox: see `forwarders::callback`.)
//!
//! A web citizen's identity is vouched for, never merely claimed (except on a loopback
//! development listener, `identity = "claimed"`): either the city's site signs the sender id
//! (`sender_signature`, an HMAC-SHA256 with `channels.web.sender_secret`), or guichet issues
//! an opaque sender token on the citizen's first message, which their browser sends back.
//! Tokens carry their own MAC under a key kept in the store, so checking one reads nothing.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::{Secret, WebIdentity};

type HmacSha256 = Hmac<Sha256>;

const TOKEN_PREFIX: &str = "w-";

/// Why a web message's sender was not believed: a sentence for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("this sender is not vouched for: send the message without \"sender\" to receive a sender token, or with the \"sender\" token guichet issued")]
    Unvouched,
    #[error("\"sender_signature\" is required: the city's site signs each sender id (HMAC-SHA256 with the shared secret, hex)")]
    MissingSignature,
    #[error("\"sender_signature\" does not match this sender")]
    BadSignature,
}

/// How the web channel vouches for its citizens.
pub struct Identities {
    mode: WebIdentity,
    site_secret: Secret,
    token_key: Vec<u8>,
}

/// Who wrote a web message, once vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vouched {
    /// A sender the caller named, believed (claimed mode, a valid signature or token).
    Known(String),
    /// A new citizen: this token was issued for them and is returned in the answer.
    Issued(String),
}

impl Vouched {
    pub fn sender(&self) -> &str {
        match self {
            Vouched::Known(s) | Vouched::Issued(s) => s,
        }
    }
}

impl Identities {
    pub fn new(mode: WebIdentity, site_secret: Secret, token_key: &[u8]) -> Identities {
        Identities {
            mode,
            site_secret,
            token_key: token_key.to_vec(),
        }
    }

    /// Vouches for the sender of a web message, or issues a token when there is none.
    ///
    /// # Errors
    /// A sender that is neither a token guichet issued nor, in signed mode, correctly signed.
    pub fn vouch(
        &self,
        sender: Option<&str>,
        signature: Option<&str>,
    ) -> Result<Vouched, IdentityError> {
        let Some(sender) = sender.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(Vouched::Issued(self.issue(rand::random::<[u8; 12]>())));
        };
        if self.mode == WebIdentity::Claimed || self.is_issued(sender) {
            return Ok(Vouched::Known(sender.to_owned()));
        }
        match self.mode {
            WebIdentity::Signed => {
                let signature = signature
                    .map(|s| s.trim().trim_start_matches("sha256="))
                    .filter(|s| !s.is_empty())
                    .ok_or(IdentityError::MissingSignature)?;
                let given = hex::decode(signature).map_err(|_| IdentityError::BadSignature)?;
                let mut mac = HmacSha256::new_from_slice(self.site_secret.expose().as_bytes())
                    .expect("HMAC takes keys of any length");
                mac.update(sender.as_bytes());
                mac.verify_slice(&given)
                    .map_err(|_| IdentityError::BadSignature)?;
                Ok(Vouched::Known(sender.to_owned()))
            }
            _ => Err(IdentityError::Unvouched),
        }
    }

    fn issue(&self, nonce: [u8; 12]) -> String {
        let body = hex::encode(nonce);
        let tag = self.tag(&body);
        format!("{TOKEN_PREFIX}{body}.{tag}")
    }

    fn is_issued(&self, sender: &str) -> bool {
        let Some((body, tag)) = sender
            .strip_prefix(TOKEN_PREFIX)
            .and_then(|rest| rest.split_once('.'))
        else {
            return false;
        };
        let Ok(given) = hex::decode(tag) else {
            return false;
        };
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        given.len() == 16 && mac.verify_truncated_left(&given).is_ok()
    }

    fn tag(&self, body: &str) -> String {
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        hex::encode(&mac.finalize().into_bytes()[..16])
    }

    fn mac(&self) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(&self.token_key).expect("HMAC takes keys of any length");
        mac.update(b"guichet web sender token\0");
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, sender: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(sender.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn ids(mode: WebIdentity) -> Identities {
        Identities::new(mode, Secret::new("site-secret"), b"store key")
    }

    #[test]
    fn a_message_without_sender_gets_a_token_that_is_then_believed() {
        let token = ids(WebIdentity::Token);
        let Vouched::Issued(t) = token.vouch(None, None).unwrap() else {
            panic!("a token is issued")
        };
        assert!(t.starts_with("w-"));
        assert_eq!(token.vouch(Some(&t), None), Ok(Vouched::Known(t.clone())));
        // Another store's key did not issue it.
        let other = Identities::new(WebIdentity::Token, Secret::default(), b"other key");
        assert_eq!(other.vouch(Some(&t), None), Err(IdentityError::Unvouched));
    }

    #[test]
    fn token_mode_refuses_claimed_and_forged_senders() {
        let token = ids(WebIdentity::Token);
        assert_eq!(
            token.vouch(Some("marie"), None),
            Err(IdentityError::Unvouched)
        );
        let forged = format!("w-{}.{}", "00".repeat(12), "00".repeat(16));
        assert_eq!(
            token.vouch(Some(&forged), None),
            Err(IdentityError::Unvouched)
        );
    }

    #[test]
    fn signed_mode_needs_the_site_signature() {
        let signed = ids(WebIdentity::Signed);
        assert_eq!(
            signed.vouch(Some("user-42"), None),
            Err(IdentityError::MissingSignature)
        );
        let good = sign("site-secret", "user-42");
        assert_eq!(
            signed.vouch(Some("user-42"), Some(&format!("sha256={good}"))),
            Ok(Vouched::Known("user-42".into()))
        );
        assert_eq!(
            signed.vouch(Some("user-43"), Some(&good)),
            Err(IdentityError::BadSignature)
        );
        assert_eq!(
            signed.vouch(Some("user-42"), Some(&sign("wrong", "user-42"))),
            Err(IdentityError::BadSignature)
        );
        assert_eq!(
            signed.vouch(Some("user-42"), Some("not hex")),
            Err(IdentityError::BadSignature)
        );
    }

    #[test]
    fn claimed_mode_believes_the_name() {
        assert_eq!(
            ids(WebIdentity::Claimed).vouch(Some("marie"), None),
            Ok(Vouched::Known("marie".into()))
        );
    }
}
