//! What the web desk asks of guichet beyond the staff API: sessions (kept in the store under
//! a hash of their id, so that they survive a restart and a copy of the store hands out none)
//! and the facts of a date range's threads read through the opening-time index, for the
//! report and the per-thread export.
//!
//! A session is checked against the token that opened it on every request: a member revoked
//! (or given a new token) is signed out everywhere at once, and so is the bootstrap
//! coordinator when `GUICHET__STAFF__TOKEN` changes. It renders nothing: the pages are the
//! desk adapter's.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

use crate::domain::export::{self, Row};
use crate::domain::report::Facts;
use crate::domain::session::{self, Session};
use crate::domain::staff::{token_hash, Actor};
use crate::domain::Language;
use crate::pipeline::{Pipeline, PipelineError};

/// Ranges shorter than this many days are read by one thread: splitting costs more than it
/// saves.
const SLICE_DAYS: i64 = 7;

/// A new session: its id (for the cookie, never stored) and what is kept.
pub struct Opened {
    pub id: String,
    pub session: Session,
    pub actor: Actor,
}

impl Pipeline {
    /// Signs in with a staff token: `None` when the token is no one's.
    ///
    /// # Errors
    /// The store failed.
    pub async fn open_session(
        &self,
        token: &str,
        language: Language,
        now: DateTime<Utc>,
    ) -> Result<Option<Opened>, PipelineError> {
        let Some(actor) = self.authenticate(token)? else {
            return Ok(None);
        };
        let hours = i64::from(self.settings().desk.session_hours);
        let session = Session {
            member: actor.name.clone(),
            token_hash: token_hash(token),
            csrf: session::secret(),
            language,
            created_at: now,
            expires_at: now + Duration::hours(hours),
        };
        let id = session::secret();
        self.forget_expired_sessions(now).await?;
        self.store()
            .put_session(&session::id_hash(&id), &session)
            .await?;
        Ok(Some(Opened { id, session, actor }))
    }

    /// The live session of a cookie's id and who holds it now (their current role), or
    /// `None`: unknown, expired, or its token revoked or replaced.
    ///
    /// # Errors
    /// The store failed.
    pub fn session(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(Session, Actor)>, PipelineError> {
        let Some(session) = self.store().session(&session::id_hash(id))? else {
            return Ok(None);
        };
        if !session.is_live(now) {
            return Ok(None);
        }
        let bootstrap = &self.settings().staff.token;
        let actor = if !bootstrap.is_empty()
            && session::same(
                token_hash(bootstrap.expose()).as_bytes(),
                session.token_hash.as_bytes(),
            ) {
            Some(Actor::bootstrap())
        } else {
            self.store()
                .member_by_token(&session.token_hash)?
                .map(|m| Actor {
                    name: m.name,
                    role: m.role,
                })
        };
        Ok(actor.map(|a| (session, a)))
    }

    /// Keeps the language chosen in the session.
    ///
    /// # Errors
    /// The store failed.
    pub async fn set_session_language(
        &self,
        id: &str,
        session: &Session,
        language: Language,
    ) -> Result<(), PipelineError> {
        let changed = Session {
            language,
            ..session.clone()
        };
        Ok(self
            .store()
            .put_session(&session::id_hash(id), &changed)
            .await?)
    }

    /// Signs out: the session is forgotten.
    ///
    /// # Errors
    /// The store failed.
    pub async fn close_session(&self, id: &str) -> Result<(), PipelineError> {
        Ok(self
            .store()
            .remove_sessions(&[session::id_hash(id)])
            .await?)
    }

    async fn forget_expired_sessions(&self, now: DateTime<Utc>) -> Result<(), PipelineError> {
        let expired: Vec<String> = self
            .store()
            .sessions()?
            .into_iter()
            .filter(|(_, s)| !s.is_live(now))
            .map(|(hash, _)| hash)
            .collect();
        if !expired.is_empty() {
            self.store().remove_sessions(&expired).await?;
        }
        Ok(())
    }

    /// The facts of the threads that opened on the city-local days `from` to `to` (both
    /// included), oldest first: only the range's compact records are read.
    ///
    /// # Errors
    /// The store failed.
    pub fn facts_opened(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<Facts>, PipelineError> {
        let tz = self.settings().city.timezone;
        let start_of = |day: NaiveDate| {
            let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
            // A day that starts in a daylight-saving gap starts at its first valid instant.
            tz.from_local_datetime(&midnight)
                .earliest()
                .unwrap_or_else(|| tz.from_utc_datetime(&midnight))
                .with_timezone(&Utc)
        };
        let (start, end) = (
            start_of(from),
            start_of(to + Duration::days(1)) - Duration::milliseconds(1),
        );
        // A long range is read in as many time slices as there are cores, side by side.
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let slices = if end - start < Duration::days(SLICE_DAYS) {
            1
        } else {
            workers
        };
        Ok(self.store().facts_opened_in_slices(start, end, slices)?)
    }

    /// One row per thread opened in the range, oldest first.
    ///
    /// # Errors
    /// The store failed.
    pub fn export_rows(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Vec<Row>, PipelineError> {
        Ok(self
            .facts_opened(from, to)?
            .iter()
            .map(|f| export::row(f, self.policy(), now))
            .collect())
    }
}
