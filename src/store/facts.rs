//! Each thread's report facts, kept beside its opening-time index.
//!
//! The value of a thread's `O` entry (opening time, id) is its [`Facts`] in a compact binary
//! form, rewritten with every write of the thread: the thread's own fields, and its answers
//! (who, when) carried over from the record it replaces. Entries sort by opening time, so the
//! report of a range reads one range of small records and never a thread or an audit log.
//!
//! A store written before the records gets them once, at its opening, from its threads and
//! their audit logs.

use chrono::{DateTime, TimeZone, Utc};

use super::{decode_time, encode_time, key_time, read_u64, Op, Result, Store, StoreError};
use super::{INSTANCE, OPENED, THREAD};
use crate::domain::report::Facts;
use crate::domain::sla::{Clock, ClockKind};
use crate::domain::thread::{AuditEvent, AuditKind, Thread, ThreadId};
use crate::domain::Category;

/// The marker of a store whose threads all have their records.
const FACTS_DONE: [u8; 2] = [INSTANCE, b'Y'];
/// The version byte that starts every facts record.
const VERSION: u8 = 1;
/// How many threads a store's first indexing writes per batch.
const BACKFILL_BATCH: usize = 5_000;
/// "No instant" in a record.
const NONE: i64 = i64::MIN;

/// The record of `thread` once `audit` (the events this write adds) is recorded: its answers
/// are those of `previous` (the record it replaces, if any) followed by the new ones.
fn record(thread: &Thread, previous: Option<Facts>, audit: &[AuditEvent]) -> Op {
    let mut facts = Facts::of_thread(thread);
    facts.answers = previous.map(|p| p.answers).unwrap_or_default();
    facts.answers.extend(
        audit
            .iter()
            .filter(|e| e.kind == AuditKind::Answered)
            .map(|e| (e.actor.clone(), e.at)),
    );
    Op::Insert(
        key_time(OPENED, thread.opened_at, thread.id),
        encode(&facts),
    )
}

impl Store {
    /// The change that keeps `thread`'s record as this write leaves it: its answers are
    /// read from the record it replaces (rebuilt from the audit log when that does not read).
    pub(super) fn facts_op(&self, thread: &Thread, audit: &[AuditEvent]) -> Result<Op> {
        let key = key_time(OPENED, thread.opened_at, thread.id);
        let previous = match self.tree.get(&key)?.map(|v| decode(&key, &v)) {
            None => None,
            Some(Ok(facts)) => Some(facts),
            Some(Err(_)) => Some(Facts::of(thread, &self.audit(thread.id)?)),
        };
        Ok(record(thread, previous, audit))
    }

    /// The facts of the threads that opened from `from` to `to` (both included), oldest
    /// first, read from their records alone.
    ///
    /// # Errors
    /// The store failed, or a record does not read.
    pub fn facts_opened(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Facts>> {
        let bounds = |prefix: u8| {
            let mut start = vec![prefix];
            start.extend_from_slice(&encode_time(from));
            let mut end = vec![prefix];
            end.extend_from_slice(&encode_time(to));
            end.extend_from_slice(&[0xff; 13]);
            start..=end
        };
        let mut out = Vec::new();
        for entry in self.tree.range(bounds(OPENED)) {
            let (key, value) = entry?;
            out.push(decode(&key, &value)?);
        }
        Ok(out)
    }

    /// As [`Store::facts_opened`], the range cut in `slices` equal spans of time read side by
    /// side, one thread each.
    ///
    /// # Errors
    /// As [`Store::facts_opened`].
    pub fn facts_opened_in_slices(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        slices: usize,
    ) -> Result<Vec<Facts>> {
        let slices = i32::try_from(slices.clamp(1, 64)).unwrap_or(1);
        if slices == 1 || to <= from {
            return self.facts_opened(from, to);
        }
        let span = (to - from) / slices;
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0..slices)
                .map(|i| {
                    // Both ends of a slice are included; keys count milliseconds.
                    let start = from + span * i;
                    let end = if i == slices - 1 {
                        to
                    } else {
                        from + span * (i + 1) - chrono::Duration::milliseconds(1)
                    };
                    scope.spawn(move || self.facts_opened(start, end))
                })
                .collect();
            let mut all = Vec::new();
            for reader in readers {
                let part = reader.join().map_err(|_| {
                    StoreError::Corrupt("a reader of report records panicked".into())
                })??;
                all.extend(part);
            }
            Ok(all)
        })
    }

    /// A store written before the facts gets them once: every thread's record and answers,
    /// from the thread and its audit log, then the marker. Safe to run again after a crash.
    pub(super) fn index_facts(&self) -> Result<()> {
        if self.tree.get(FACTS_DONE)?.is_some() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        for value in self.tree.scan_prefix([THREAD]).values() {
            let thread: Thread = super::decode(&value?)?;
            let facts = Facts::of(&thread, &self.audit(thread.id)?);
            batch.insert(
                key_time(OPENED, thread.opened_at, thread.id),
                encode(&facts),
            );
            pending += 1;
            if pending == BACKFILL_BATCH {
                self.tree.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
            }
        }
        batch.insert(&FACTS_DONE[..], Vec::new());
        self.tree.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }
}

/// The record of `facts`: category, channel, resolution, claim, clocks, answers.
fn encode(facts: &Facts) -> Vec<u8> {
    let claimed = facts.claimed_by.as_deref().unwrap_or("");
    let mut v =
        Vec::with_capacity(16 + facts.channel.len() + claimed.len() + 34 * facts.clocks.len());
    v.push(VERSION);
    v.push(category_code(facts.category));
    push_str(&mut v, &facts.channel);
    push_time(&mut v, facts.resolved_at);
    push_str(&mut v, claimed);
    v.push(facts.clocks.len().min(usize::from(u8::MAX)) as u8);
    for c in facts.clocks.iter().take(usize::from(u8::MAX)) {
        v.push(match c.kind {
            ClockKind::FirstResponse => 0,
            ClockKind::NextResponse => 1,
        });
        v.push(category_code(c.category));
        push_time(&mut v, Some(c.started_at));
        push_time(&mut v, Some(c.at_risk_at));
        push_time(&mut v, Some(c.due_at));
        push_time(&mut v, c.stopped_at);
    }
    let answers = facts.answers.len().min(usize::from(u16::MAX));
    v.extend_from_slice(&(answers as u16).to_be_bytes());
    for (who, at) in facts.answers.iter().take(answers) {
        push_time(&mut v, Some(*at));
        push_str(&mut v, who);
    }
    v
}

/// The facts of an `O` entry: the thread's id and opening time from the key, the rest from
/// the record.
fn decode(key: &[u8], value: &[u8]) -> Result<Facts> {
    let corrupt = || StoreError::Corrupt("a thread's report record".into());
    if key.len() < 17 {
        return Err(corrupt());
    }
    let mut r = Reader { bytes: value };
    if r.byte().ok_or_else(corrupt)? != VERSION {
        return Err(corrupt());
    }
    let category = category_of(r.byte().ok_or_else(corrupt)?).ok_or_else(corrupt)?;
    let channel = r.str().ok_or_else(corrupt)?;
    let resolved_at = r.time().ok_or_else(corrupt)?;
    let claimed_by = Some(r.str().ok_or_else(corrupt)?).filter(|s| !s.is_empty());
    let count = r.byte().ok_or_else(corrupt)?;
    let mut clocks = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let kind = match r.byte().ok_or_else(corrupt)? {
            0 => ClockKind::FirstResponse,
            1 => ClockKind::NextResponse,
            _ => return Err(corrupt()),
        };
        let category = category_of(r.byte().ok_or_else(corrupt)?).ok_or_else(corrupt)?;
        let mut instant = || r.time().ok_or_else(corrupt)?.ok_or_else(corrupt);
        let (started_at, at_risk_at, due_at) = (instant()?, instant()?, instant()?);
        clocks.push(Clock {
            kind,
            category,
            started_at,
            at_risk_at,
            due_at,
            stopped_at: r.time().ok_or_else(corrupt)?,
        });
    }
    let count = u16::from_be_bytes(
        r.take(2)
            .ok_or_else(corrupt)?
            .try_into()
            .map_err(|_| corrupt())?,
    );
    let mut answers = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let at = r.time().ok_or_else(corrupt)?.ok_or_else(corrupt)?;
        answers.push((r.str().ok_or_else(corrupt)?, at));
    }
    if !r.bytes.is_empty() {
        return Err(corrupt());
    }
    Ok(Facts {
        id: ThreadId::new(read_u64(&key[9..17])),
        channel,
        category,
        opened_at: decode_time(&key[1..9]),
        resolved_at,
        claimed_by,
        clocks,
        answers,
    })
}

fn category_code(c: Category) -> u8 {
    match c {
        Category::Info => 0,
        Category::Complaint => 1,
        Category::Urgent => 2,
    }
}

fn category_of(code: u8) -> Option<Category> {
    match code {
        0 => Some(Category::Info),
        1 => Some(Category::Complaint),
        2 => Some(Category::Urgent),
        _ => None,
    }
}

fn push_str(v: &mut Vec<u8>, s: &str) {
    // Channel and staff names are short; a longer one is cut at a character boundary.
    let mut end = s.len().min(usize::from(u16::MAX));
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    v.extend_from_slice(&(end as u16).to_be_bytes());
    v.extend_from_slice(&s.as_bytes()[..end]);
}

fn push_time(v: &mut Vec<u8>, at: Option<DateTime<Utc>>) {
    v.extend_from_slice(&at.map_or(NONE, |t| t.timestamp_millis()).to_be_bytes());
}

fn instant(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// Reads a record front to back; `None` once it runs short.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = self.bytes.split_at_checked(n)?;
        self.bytes = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn str(&mut self) -> Option<String> {
        let len = u16::from_be_bytes(self.take(2)?.try_into().ok()?);
        let bytes = self.take(usize::from(len))?;
        std::str::from_utf8(bytes).ok().map(str::to_owned)
    }

    /// An instant, or `Some(None)` for "none".
    fn time(&mut self) -> Option<Option<DateTime<Utc>>> {
        let ms = i64::from_be_bytes(self.take(8)?.try_into().ok()?);
        if ms == NONE {
            return Some(None);
        }
        instant(ms).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::{Channel, Sender};
    use crate::domain::thread::Triage;
    use crate::domain::Language;
    use crate::store::ThreadWrite;
    use crate::testing::policy;
    use chrono::Duration;

    /// One step of a thread's life, and the event it records.
    type Step<'a> = dyn Fn(&mut Thread) -> Option<AuditEvent> + 'a;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 16, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    /// Writes a thread step by step, as the pipeline does: opened, claimed, answered, written
    /// to again (a second clock), answered by guichet, resolved. Returns it with its log.
    fn lived(store: &Store, sender: &str, opened: i64, steps: usize) -> Thread {
        let policy = policy();
        let mut t = Thread::open(
            store.next_thread_id(),
            Channel::parse("discord").unwrap(),
            Sender::parse(sender).unwrap(),
            at(opened),
            Triage {
                category: Category::Complaint,
                language: Language::Fr,
                confidence: 0.9,
            },
            &policy,
        );
        let write = |previous: Option<Thread>, t: &Thread, audit: Vec<AuditEvent>| {
            let mut w = ThreadWrite::new(previous, t.clone());
            w.audit = audit;
            store.write(w).unwrap()
        };
        let mut stored = write(None, &t, vec![]);
        let mut step = |t: &mut Thread, event: Option<AuditEvent>| {
            t.audit_count = stored.audit_count;
            t.message_count = stored.message_count;
            stored = write(Some(stored.clone()), t, event.into_iter().collect());
        };
        let h = |n: i64| at(opened + n);
        let actions: [&Step; 5] = [
            &|t| t.claim("Tremblay, Luc", h(1)).ok(),
            &|t| t.answer(h(2), "Tremblay, Luc").ok(),
            &|t| t.citizen_writes(h(3), &policy),
            &|t| t.answer(h(4), "guichet").ok(),
            &|t| t.resolve(h(5), "Amina").ok(),
        ];
        for action in actions.iter().take(steps) {
            let event = action(&mut t);
            step(&mut t, event);
        }
        stored
    }

    #[test]
    fn the_records_read_back_as_the_threads_and_their_logs_say() {
        let store = Store::temporary().unwrap();
        let threads: Vec<Thread> = (0..6)
            .map(|n| lived(&store, &format!("s{n}"), n as i64 * 10, n))
            .collect();
        let facts = store.facts_opened(at(0), at(60)).unwrap();
        let expected: Vec<Facts> = threads
            .iter()
            .map(|t| Facts::of(t, &store.audit(t.id).unwrap()))
            .collect();
        assert_eq!(facts, expected);
        let last = facts.last().unwrap();
        assert_eq!(last.clocks.len(), 2, "{last:?}");
        assert_eq!(last.answers.len(), 2);
        assert_eq!(last.answers[0].0, "Tremblay, Luc");
        assert_eq!(last.claimed_by.as_deref(), Some("Tremblay, Luc"));
        assert_eq!(last.resolved_at, Some(at(55)));
        assert_eq!(last.channel, "discord");

        // Read in slices side by side, the same, whatever the cut.
        for slices in 1..=7 {
            assert_eq!(
                store.facts_opened_in_slices(at(0), at(60), slices).unwrap(),
                expected,
                "{slices} slices"
            );
        }

        // Both ends are included, and a range holds only its own threads and answers.
        let middle = store.facts_opened(at(20), at(40)).unwrap();
        assert_eq!(middle, expected[2..5].to_vec());
        assert!(store.facts_opened(at(61), at(100)).unwrap().is_empty());
    }

    #[test]
    fn an_older_store_gets_its_records_once_and_they_equal_those_written_as_it_goes() {
        let store = Store::temporary().unwrap();
        for n in 0..6 {
            lived(&store, &format!("s{n}"), n as i64 * 10, n);
        }
        let written = store.facts_opened(at(0), at(100)).unwrap();

        // As a store written before the records: empty opening-time values, no marker.
        for entry in store.tree.scan_prefix([OPENED]) {
            store.tree.insert(entry.unwrap().0, Vec::new()).unwrap();
        }
        store.tree.remove(FACTS_DONE).unwrap();
        assert!(store.facts_opened(at(0), at(100)).is_err());

        store.index_facts().unwrap();
        assert_eq!(store.facts_opened(at(0), at(100)).unwrap(), written);
        assert!(store.tree.get(FACTS_DONE).unwrap().is_some());
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_guess() {
        let key = key_time(OPENED, at(0), ThreadId::new(1));
        let t = Thread::open(
            ThreadId::new(1),
            Channel::web(),
            Sender::parse("s").unwrap(),
            at(0),
            Triage {
                category: Category::Urgent,
                language: Language::En,
                confidence: 0.9,
            },
            &policy(),
        );
        let good = encode(&Facts::of_thread(&t));
        assert_eq!(decode(&key, &good).unwrap(), Facts::of_thread(&t));
        for cut in 0..good.len() {
            assert!(decode(&key, &good[..cut]).is_err(), "cut at {cut}");
        }
        let mut other_version = good.clone();
        other_version[0] = 9;
        assert!(decode(&key, &other_version).is_err());
        let mut longer = good.clone();
        longer.push(0);
        assert!(decode(&key, &longer).is_err(), "bytes left over");
    }
}
