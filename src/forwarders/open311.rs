//! The Open311 GeoReport v2 forwarder.
//!
//! - Deliver: `POST {base}/requests.json`, form-encoded: `api_key`, `jurisdiction_id` when
//!   configured, `service_code` (the category's, from the configuration), `description`
//!   (the agents' copy without HTML, at most 4,000 characters), `address_string` when the
//!   message holds a civic address, `email` and `phone` when the message gives them. The
//!   answer holds a `service_request_id`, or the `token` of a batch service.
//! - Token: `GET {base}/tokens/{token}.json` until it names the `service_request_id`.
//! - Track: `GET {base}/requests/{id}.json` until its `status` is `closed`.
//!
//! Errors come back as `[{"code", "description"}]` and are recorded on the job. A 400 is
//! retried (the spec uses it for "the CRM is down" too); 401, 403 and 404 (bad key, unknown
//! service code) are permanent until someone fixes the configuration and retries by hand.
//! GeoReport v2 has no idempotency key; the `Idempotency-Key` header is sent anyway, and
//! the description carries the thread's reference so that a duplicate can be recognised.

use crate::config::{Open311Settings, Secret, ServiceCodes};
use crate::domain::outbox::{Attempt, DeliveryError, Job, Phase};

/// The longest description GeoReport v2 accepts, in characters.
pub const MAX_DESCRIPTION: usize = 4000;

pub struct Open311 {
    base: reqwest::Url,
    api_key: Secret,
    jurisdiction_id: String,
    service_codes: ServiceCodes,
}

impl Open311 {
    /// # Errors
    /// The base URL does not parse.
    pub fn new(settings: &Open311Settings) -> anyhow::Result<Open311> {
        let base = settings.base_url.trim().trim_end_matches('/');
        Ok(Open311 {
            base: format!("{base}/")
                .parse()
                .map_err(|e| anyhow::anyhow!("forwarders.open311.base_url: {e}"))?,
            api_key: settings.api_key.clone(),
            jurisdiction_id: settings.jurisdiction_id.trim().to_owned(),
            service_codes: settings.service_codes.clone(),
        })
    }

    /// `{base}/{dir}/{name}.json` (or `{base}/requests.json`), with each part escaped.
    fn url(&self, dir: &str, name: Option<&str>) -> reqwest::Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            match name {
                Some(name) => {
                    segments.push(dir);
                    segments.push(&format!("{name}.json"));
                }
                None => {
                    segments.push(&format!("{dir}.json"));
                }
            }
        }
        if !self.jurisdiction_id.is_empty() && name.is_some() {
            url.query_pairs_mut()
                .append_pair("jurisdiction_id", &self.jurisdiction_id);
        }
        url
    }

    /// The form of `POST requests.json` for `job`.
    ///
    /// # Errors
    /// The ticket's category has no service code.
    pub fn form(&self, job: &Job) -> Result<Vec<(&'static str, String)>, DeliveryError> {
        let t = job
            .ticket()
            .ok_or_else(|| DeliveryError::permanent("an Open311 job carries no ticket"))?;
        let code = self.service_codes.get(t.category).ok_or_else(|| {
            DeliveryError::permanent(format!(
                "forwarders.open311.service_codes has no code for {}",
                t.category
            ))
        })?;
        let mut form = vec![
            ("api_key", self.api_key.expose().to_owned()),
            ("service_code", code.to_owned()),
        ];
        if !self.jurisdiction_id.is_empty() {
            form.push(("jurisdiction_id", self.jurisdiction_id.clone()));
        }
        let text = strip_html(&t.text);
        let reference = format!("\n\n[guichet {} · {}]", t.thread_id, t.channel);
        form.push(("description", description(&text, &reference)));
        if let Some(address) = find_address(&text) {
            form.push(("address_string", address));
        }
        if let Some(email) = find_email(&text) {
            form.push(("email", email));
        }
        if let Some(phone) = find_phone(&text) {
            form.push(("phone", phone));
        }
        Ok(form)
    }

    pub async fn attempt(&self, client: &reqwest::Client, job: &Job) -> Attempt {
        match &job.phase {
            Phase::Deliver => self.post(client, job).await,
            Phase::Token { token } => self.token(client, token).await,
            Phase::Track { request_id } => self.track(client, request_id).await,
        }
    }

    async fn post(&self, client: &reqwest::Client, job: &Job) -> Attempt {
        let form = match self.form(job) {
            Ok(f) => f,
            Err(e) => return Attempt::Failed(e),
        };
        let sent = client
            .post(self.url("requests", None))
            .header(super::webhook::IDEMPOTENCY_HEADER, job.id.as_str())
            .form(&form)
            .send()
            .await;
        let first = match answer(sent).await {
            Ok(v) => v,
            Err(e) => return Attempt::Failed(e),
        };
        let ticket_id = super::id_string(first.as_ref().and_then(|r| r.get("service_request_id")));
        let token = super::id_string(first.as_ref().and_then(|r| r.get("token")));
        Attempt::Delivered { ticket_id, token }
    }

    async fn token(&self, client: &reqwest::Client, token: &str) -> Attempt {
        let sent = client.get(self.url("tokens", Some(token))).send().await;
        match sent {
            // Not processed yet: some batch services answer 404 until then.
            Ok(r) if r.status() == reqwest::StatusCode::NOT_FOUND => Attempt::NotYet,
            other => match answer(other).await {
                Ok(first) => {
                    match super::id_string(first.as_ref().and_then(|r| r.get("service_request_id")))
                    {
                        Some(request_id) => Attempt::TokenResolved { request_id },
                        None => Attempt::NotYet,
                    }
                }
                Err(e) => Attempt::Failed(e),
            },
        }
    }

    async fn track(&self, client: &reqwest::Client, request_id: &str) -> Attempt {
        let sent = client
            .get(self.url("requests", Some(request_id)))
            .send()
            .await;
        match answer(sent).await {
            Ok(Some(request)) => {
                let closed = request
                    .get("status")
                    .and_then(|s| s.as_str())
                    .is_some_and(|s| s.eq_ignore_ascii_case("closed"));
                if closed {
                    let notes = request
                        .get("status_notes")
                        .and_then(|n| n.as_str())
                        .map(str::trim)
                        .filter(|n| !n.is_empty())
                        .map(str::to_owned);
                    Attempt::Closed { notes }
                } else {
                    Attempt::NotYet
                }
            }
            Ok(None) => Attempt::NotYet,
            Err(e) => Attempt::Failed(e),
        }
    }
}

/// The first element of a successful GeoReport answer (`[{...}]`, or a bare object, or the
/// XML-to-JSON wrapping `{"service_requests": [...]}`).
async fn answer(
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<Option<serde_json::Value>, DeliveryError> {
    let response = sent.map_err(|e| super::unreachable(&e))?;
    if !response.status().is_success() {
        return Err(super::refused(response, &[400]).await);
    }
    let value: serde_json::Value = response.json().await.map_err(|_| {
        DeliveryError::transient("the answer is not the JSON GeoReport v2 describes")
    })?;
    let list = match value {
        serde_json::Value::Object(mut o) => match o.remove("service_requests") {
            Some(serde_json::Value::Array(a)) => a,
            Some(other) => vec![other],
            None => vec![serde_json::Value::Object(o)],
        },
        serde_json::Value::Array(a) => a,
        _ => Vec::new(),
    };
    Ok(list.into_iter().next())
}

/// `text`, then `suffix`, within [`MAX_DESCRIPTION`] characters: the text is cut first.
fn description(text: &str, suffix: &str) -> String {
    let room = MAX_DESCRIPTION.saturating_sub(suffix.chars().count());
    let mut out: String = if text.chars().count() > room {
        text.chars()
            .take(room.saturating_sub(1))
            .chain(['…'])
            .collect()
    } else {
        text.to_owned()
    };
    out.push_str(suffix);
    out
}

/// The text without HTML tags and with the common entities decoded; line breaks stay. A `<`
/// that does not open a tag ("2 < 3") is kept.
pub fn strip_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '<'
            && chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '/' || *n == '!')
        {
            let mut tag = String::new();
            for t in chars.by_ref() {
                if t == '>' {
                    break;
                }
                tag.push(t);
            }
            let name = tag.trim_start_matches('/').to_ascii_lowercase();
            if name.starts_with("br") || name.starts_with("p") || name.starts_with("div") {
                out.push('\n');
            }
            continue;
        }
        out.push(c);
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    decoded.trim().to_owned()
}

const FRENCH_STREET_TYPES: &[&str] = &[
    "rue",
    "avenue",
    "av",
    "boulevard",
    "boul",
    "bd",
    "chemin",
    "ch",
    "rang",
    "route",
    "place",
    "montée",
    "montee",
    "côte",
    "cote",
    "impasse",
    "croissant",
    "promenade",
    "allée",
    "allee",
    "ruelle",
    "terrasse",
    "carré",
    "carre",
    "autoroute",
    "square",
    "voie",
    "sentier",
    "parc",
];

const ENGLISH_STREET_TYPES: &[&str] = &[
    "street",
    "st",
    "avenue",
    "ave",
    "av",
    "road",
    "rd",
    "boulevard",
    "blvd",
    "drive",
    "dr",
    "lane",
    "ln",
    "court",
    "ct",
    "crescent",
    "cres",
    "place",
    "pl",
    "way",
    "terrace",
    "highway",
    "hwy",
    "circle",
    "cir",
    "parkway",
    "pkwy",
];

/// Words that may sit between a French street type and the name ("rue de la Gare").
const FRENCH_PARTICLES: &[&str] = &["de", "du", "des", "la", "le", "les", "l'", "d'"];

/// A civic address in the text: a civic number followed by a French street type and a name
/// ("1234 rue Principale", "12, boulevard de la Cité-des-Jeunes"), or by a name and an
/// English street type ("55 Maple Ave", "120 North 5th Street"). The first one found.
pub fn find_address(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    for (i, word) in words.iter().enumerate() {
        let number = word.trim_end_matches(',');
        if !is_civic_number(number) {
            continue;
        }
        if let Some(a) = french_address(number, &words[i + 1..]) {
            return Some(a);
        }
        if word.ends_with(',') {
            continue;
        }
        if let Some(a) = english_address(number, &words[i + 1..]) {
            return Some(a);
        }
    }
    None
}

/// 1 to 5 digits, optionally a letter or a unit ("12A", "1234-B").
fn is_civic_number(word: &str) -> bool {
    let digits = word.chars().take_while(char::is_ascii_digit).count();
    let rest = &word[digits..];
    (1..=5).contains(&digits)
        && (rest.is_empty()
            || (rest.chars().count() <= 2
                && rest
                    .trim_start_matches('-')
                    .chars()
                    .all(|c| c.is_ascii_alphabetic())))
}

/// The word without the punctuation that may follow it, and whether there was some (which
/// ends an address, except after an abbreviated street type).
fn bare(word: &str) -> (&str, bool) {
    let trimmed = word.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '"', '»']);
    (trimmed, trimmed.len() != word.len())
}

fn starts_upper(word: &str) -> bool {
    word.chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
}

fn french_address(number: &str, rest: &[&str]) -> Option<String> {
    let (kind, _) = bare(rest.first()?);
    if !FRENCH_STREET_TYPES.contains(&kind.to_lowercase().as_str()) {
        return None;
    }
    let mut parts = vec![number.to_owned(), kind.to_owned()];
    let mut named = false;
    for word in rest.iter().skip(1).take(6) {
        let (w, ended) = bare(word);
        let lower = w.to_lowercase();
        // "rue de l'Église": an elided article glued to the name.
        let elided = (lower.starts_with("l'") || lower.starts_with("d'"))
            && w.get(2..).is_some_and(starts_upper);
        if starts_upper(w) || elided {
            parts.push(w.to_owned());
            named = true;
        } else if !named && FRENCH_PARTICLES.contains(&lower.as_str()) {
            parts.push(w.to_owned());
        } else {
            break;
        }
        if ended {
            break;
        }
    }
    named.then(|| parts.join(" "))
}

fn english_address(number: &str, rest: &[&str]) -> Option<String> {
    let mut parts = vec![number.to_owned()];
    for (n, word) in rest.iter().take(4).enumerate() {
        let (w, ended) = bare(word);
        if n > 0 && ENGLISH_STREET_TYPES.contains(&w.to_lowercase().as_str()) {
            parts.push(w.to_owned());
            return Some(parts.join(" "));
        }
        if !starts_upper(w) || ended {
            return None;
        }
        parts.push(w.to_owned());
    }
    None
}

/// An e-mail address in the text.
pub fn find_email(text: &str) -> Option<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !(c.is_alphanumeric() || "@._-+".contains(c))))
        .map(|w| w.trim_end_matches('.'))
        .find(|w| {
            let Some((local, domain)) = w.split_once('@') else {
                return false;
            };
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
        .map(str::to_owned)
}

/// A North American phone number in the text ("819 555-0100", "(819) 555-0100",
/// "1-819-555-0100"), as written.
pub fn find_phone(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() || (chars[i] == '(' || chars[i] == '+') {
            let start = i;
            let mut j = i;
            let mut digits = 0;
            while j < chars.len() && (chars[j].is_ascii_digit() || " ()-.+".contains(chars[j])) {
                if chars[j].is_ascii_digit() {
                    digits += 1;
                }
                j += 1;
            }
            let candidate: String = chars[start..j].iter().collect();
            let candidate = candidate.trim();
            let all: String = candidate.chars().filter(char::is_ascii_digit).collect();
            let separated = candidate.contains(['-', ' ', '.', '(']);
            if separated && (digits == 10 || (digits == 11 && all.starts_with('1'))) {
                return Some(candidate.to_owned());
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_civic_addresses_are_found() {
        assert_eq!(
            find_address("Le trottoir devant le 1234 rue Principale est brisé").as_deref(),
            Some("1234 rue Principale")
        );
        assert_eq!(
            find_address("Nid-de-poule au 12, boulevard de la Cité-des-Jeunes, près du parc")
                .as_deref(),
            Some("12 boulevard de la Cité-des-Jeunes")
        );
        assert_eq!(
            find_address("fuite au 45 chemin du Lac-Beauport.").as_deref(),
            Some("45 chemin du Lac-Beauport")
        );
        assert_eq!(
            find_address("Coin 8 avenue Saint-Jean Baptiste et rue X").as_deref(),
            Some("8 avenue Saint-Jean Baptiste")
        );
    }

    #[test]
    fn english_civic_addresses_are_found() {
        assert_eq!(
            find_address("There is a pothole in front of 55 Maple Ave. Please fix").as_deref(),
            Some("55 Maple Ave")
        );
        assert_eq!(
            find_address("streetlight out at 120 North 5th Street tonight").as_deref(),
            Some("120 North 5th Street")
        );
    }

    #[test]
    fn numbers_that_are_not_addresses_are_ignored() {
        assert_eq!(find_address("J'attends depuis 3 jours pour la rue"), None);
        assert_eq!(find_address("I called 3 times about my street"), None);
        assert_eq!(find_address("rue Principale, sans numéro"), None);
        assert_eq!(find_address("le 2024 rue de la"), None);
    }

    #[test]
    fn html_is_stripped_and_plain_less_than_signs_are_kept() {
        assert_eq!(
            strip_html("<p>Bonjour&nbsp;<b>Ville</b></p><br/>2 < 3 &amp; fin"),
            "Bonjour Ville\n\n2 < 3 & fin"
        );
    }

    #[test]
    fn the_description_fits_in_4000_characters_with_its_reference() {
        let long = "é".repeat(5000);
        let d = description(&long, "\n\n[guichet G-000001 · web]");
        assert_eq!(d.chars().count(), MAX_DESCRIPTION);
        assert!(d.ends_with("[guichet G-000001 · web]"));
        assert_eq!(description("court", " x"), "court x");
    }

    #[test]
    fn contact_details_written_in_the_message_are_found() {
        assert_eq!(
            find_email("écrivez-moi à marie.tremblay@example.ca.").as_deref(),
            Some("marie.tremblay@example.ca")
        );
        assert_eq!(find_email("pas de courriel @ ici"), None);
        assert_eq!(
            find_phone("rappelez-moi au (819) 555-0123 svp").as_deref(),
            Some("(819) 555-0123")
        );
        assert_eq!(
            find_phone("call 1-819-555-0123").as_deref(),
            Some("1-819-555-0123")
        );
        assert_eq!(find_phone("au 1234 rue Principale, 3 fois"), None);
    }
}
