//! The store's side of citizens' data: finding everything held on one person, anonymising
//! threads in place (erasure, retention), the access and erasure requests, the register of
//! confidentiality incidents and the journal of privacy actions; and the rewrite of the store's
//! files that makes deleted data unreadable on disk.
//!
//! Everything here lives under one key prefix, `P`, with a second byte for its kind:
//!
//! | key                 | value                                        |
//! |---------------------|----------------------------------------------|
//! | `P r` ++ id         | an access or erasure request                  |
//! | `P x` ++ id         | a confidentiality incident                    |
//! | `P j` ++ time ++ n  | a journal entry (who did what, never whose)   |
//! | `P p`               | when the retention purge last ran             |
//!
//! sled never overwrites in place: a deleted or replaced value stays in its old log segment
//! until sled happens to reuse that segment. After an anonymisation the store leaves a marker
//! file, [`REWRITE_MARKER`], and the next [`Store::open`] rewrites every record into fresh
//! files (sled's export and import) and deletes the old ones, so that the erased text is gone
//! from the disk too.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::{
    encode, job_index_keys, key_id, key_job, key_party, key_remote, key_seq, read_u64, Op, Result,
    Store, StoreError, AUDIT, CORRECTION, DEDUPE, JOB, LATEST, MESSAGE, SENDER, THREAD,
};
use crate::domain::message::{Channel, Sender, StoredMessage};
use crate::domain::outbox::{Destination, Job, JobState};
use crate::domain::privacy::{self, DataRequest, JournalEntry, PrivacyIncident};
use crate::domain::sender::SenderRecord;
use crate::domain::thread::{AuditEvent, Thread, ThreadId};

const PRIVACY: u8 = b'P';
const REQUEST: u8 = b'r';
const INCIDENT: u8 = b'x';
const JOURNAL: u8 = b'j';
const LAST_PURGE: u8 = b'p';

/// The file that asks the next open to rewrite the store (see the module's documentation).
pub const REWRITE_MARKER: &str = "rewrite-pending";

/// Everything the store holds on one person.
#[derive(Debug, Default)]
pub struct Held {
    /// Each thread with its messages and audit log, oldest first.
    pub threads: Vec<(Thread, Vec<StoredMessage>, Vec<AuditEvent>)>,
    pub sender: Option<SenderRecord>,
    /// Outbox jobs of their threads that are still kept (pending, followed, dead).
    pub jobs: Vec<Job>,
    /// Platform message ids remembered to recognise redeliveries.
    pub platform_ids: Vec<String>,
    pub requests: Vec<DataRequest>,
}

/// What an anonymisation removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Removed {
    pub threads: usize,
    pub messages: usize,
    /// Jobs waiting to be delivered that will now never be.
    pub pending_jobs_cancelled: usize,
    /// Other jobs deleted (followed or dead).
    pub other_jobs_deleted: usize,
    pub platform_ids: usize,
}

/// What to anonymise in one batch.
pub struct Anonymisation<'a> {
    pub threads: &'a [ThreadId],
    /// The person whose own records go too (sender record, latest-thread and dedupe index,
    /// requests' identity): an erasure. `None` for the retention purge, which removes only
    /// what belongs to the threads.
    pub party: Option<(&'a Channel, &'a Sender)>,
    /// The audit event recorded on each thread.
    pub event: &'a (dyn Fn(&Removed) -> AuditEvent + Sync),
    /// The journal's entry for this batch, if it has one of its own.
    pub journal: Option<&'a (dyn Fn(&Removed) -> JournalEntry + Sync)>,
    /// Who closes the party's open erasure requests, and when (an erasure answers them).
    pub closing: Option<(&'a str, DateTime<Utc>)>,
}

fn privacy_key(kind: u8, rest: &[u8]) -> Vec<u8> {
    [&[PRIVACY, kind][..], rest].concat()
}

impl Store {
    /// Every thread of `sender` on `channel`, oldest first. Reads every thread: for the
    /// coordinator's rare requests, off the async workers.
    ///
    /// # Errors
    /// The store failed.
    pub fn threads_of(&self, channel: &Channel, sender: &Sender) -> Result<Vec<Thread>> {
        let mut out: Vec<Thread> = self.scan_values(&[THREAD])?;
        out.retain(|t| &t.channel == channel && &t.sender == sender);
        Ok(out)
    }

    /// Everything held on `sender` on `channel`.
    ///
    /// # Errors
    /// The store failed.
    pub fn held(&self, channel: &Channel, sender: &Sender) -> Result<Held> {
        let mut held = Held::default();
        for t in self.threads_of(channel, sender)? {
            held.jobs.extend(self.jobs_of(t.id)?);
            let messages = self.messages(t.id)?;
            let audit = self.audit(t.id)?;
            held.threads.push((t, messages, audit));
        }
        held.sender = self.get(&key_party(SENDER, channel, sender.as_str()))?;
        for prefix in dedupe_prefixes(channel, sender) {
            for key in self.tree.scan_prefix(&prefix).keys() {
                let key = key?;
                held.platform_ids
                    .push(String::from_utf8_lossy(&key[prefix.len()..]).into_owned());
            }
        }
        held.requests = self
            .requests()?
            .into_iter()
            .filter(|r| r.channel == channel.as_str() && r.sender == sender.as_str())
            .collect();
        Ok(held)
    }

    /// The jobs of one thread still kept in the outbox.
    ///
    /// # Errors
    /// The store failed.
    pub fn jobs_of(&self, id: ThreadId) -> Result<Vec<Job>> {
        self.scan_values(&job_prefix(id))
    }

    /// Resolved threads whose last message is older than `days` at `now`, not yet anonymised.
    ///
    /// # Errors
    /// The store failed.
    pub fn past_retention(&self, days: u32, now: DateTime<Utc>) -> Result<Vec<Thread>> {
        let mut out = self.threads_in(crate::domain::thread::ThreadState::Resolved)?;
        out.retain(|t| privacy::past_retention(t, days, now));
        out.reverse();
        Ok(out)
    }

    /// Anonymises threads in one durable batch: their messages lose their text and platform
    /// ids, the threads their sender and remote references; their outbox jobs, dedupe
    /// entries, forum-post index entries and category corrections are deleted. With a
    /// `party`, that person's sender record, latest-thread entry, every dedupe entry, and the
    /// identity on their requests go too. Dates, categories, states, clocks and audit logs
    /// stay, so that reports count the same. Leaves the marker that has the next open
    /// rewrite the store's files.
    ///
    /// Callers hold the senders' locks, so that no message of theirs lands in between.
    ///
    /// # Errors
    /// The store failed: nothing was changed.
    pub async fn anonymise(&self, plan: Anonymisation<'_>) -> Result<Removed> {
        let mut ops = Vec::new();
        let mut removed = Removed::default();
        let mut threads = Vec::new();
        for &id in plan.threads {
            let Some(thread) = self.thread(id)? else {
                continue;
            };
            removed.threads += 1;
            for (seq, m) in self.messages(id)?.iter().enumerate() {
                removed.messages += 1;
                ops.push(Op::Insert(
                    key_seq(MESSAGE, id, seq as u32),
                    encode(&privacy::anonymise_message(m))?,
                ));
            }
            for job in self.jobs_of(id)? {
                if job.state == JobState::Pending {
                    removed.pending_jobs_cancelled += 1;
                } else {
                    removed.other_jobs_deleted += 1;
                }
                ops.extend(job_index_keys(&job).into_iter().map(Op::Remove));
                ops.push(Op::Remove(key_job(&[JOB], &job.id)));
            }
            if self.tree.contains_key(key_id(CORRECTION, id))? {
                ops.push(Op::Remove(key_id(CORRECTION, id)));
            }
            for r in thread
                .tickets
                .iter()
                .filter(|r| r.destination == Destination::Forum)
            {
                if let Some(remote) = &r.ticket_id {
                    ops.push(Op::Remove(key_remote(r.destination, remote)));
                }
            }
            for prefix in dedupe_prefixes(&thread.channel, &thread.sender) {
                for entry in self.tree.scan_prefix(prefix) {
                    let (key, value) = entry?;
                    if read_u64(&value) == id.get() {
                        removed.platform_ids += 1;
                        ops.push(Op::Remove(key.to_vec()));
                    }
                }
            }
            let latest = key_party(LATEST, &thread.channel, thread.sender.as_str());
            if self
                .tree
                .get(&latest)?
                .is_some_and(|v| read_u64(&v) == id.get())
            {
                ops.push(Op::Remove(latest));
            }
            threads.push(thread);
        }
        if let Some((channel, sender)) = plan.party {
            let keys = dedupe_prefixes(channel, sender)
                .into_iter()
                .flat_map(|prefix| self.tree.scan_prefix(prefix).keys());
            for key in keys {
                let key = key?.to_vec();
                if !ops
                    .iter()
                    .any(|op| matches!(op, Op::Remove(k) if *k == key))
                {
                    removed.platform_ids += 1;
                    ops.push(Op::Remove(key));
                }
            }
            let latest = key_party(LATEST, channel, sender.as_str());
            if self.tree.contains_key(&latest)?
                && !ops
                    .iter()
                    .any(|op| matches!(op, Op::Remove(k) if *k == latest))
            {
                ops.push(Op::Remove(latest));
            }
            ops.push(Op::Remove(key_party(SENDER, channel, sender.as_str())));
            for mut r in self.requests()? {
                if r.channel == channel.as_str() && r.sender == sender.as_str() {
                    r.sender = privacy::ANONYMOUS.to_owned();
                    if let Some((by, at)) = plan.closing {
                        if r.kind == privacy::RequestKind::Erasure && r.is_open() {
                            r.closed_at = Some(at);
                            r.closed_by = Some(by.to_owned());
                        }
                    }
                    ops.push(Op::Insert(
                        privacy_key(REQUEST, &r.id.to_be_bytes()),
                        encode(&r)?,
                    ));
                }
            }
        }
        for thread in threads {
            let mut t = privacy::anonymise_thread(&thread);
            ops.push(Op::Insert(
                key_seq(AUDIT, t.id, t.audit_count),
                encode(&(plan.event)(&removed))?,
            ));
            t.audit_count += 1;
            ops.push(Op::Insert(key_id(THREAD, t.id), encode(&t)?));
        }
        if let Some(journal) = plan.journal {
            let entry = journal(&removed);
            ops.push(Op::Insert(self.journal_key(entry.at), encode(&entry)?));
        }
        self.commit_ops(ops).await?;
        if removed.threads > 0 || plan.party.is_some() {
            self.ask_for_rewrite()?;
        }
        Ok(removed)
    }

    /// An erasure or a purge asked for a rewrite of the store's files that has not happened
    /// yet. Right after [`Store::open`], that means the rewrite failed.
    pub fn rewrite_pending(&self) -> bool {
        self.inner
            .dir
            .as_ref()
            .is_some_and(|dir| dir.join(REWRITE_MARKER).exists())
    }

    fn ask_for_rewrite(&self) -> Result<()> {
        if let Some(dir) = &self.inner.dir {
            std::fs::write(dir.join(REWRITE_MARKER), b"")
                .map_err(|e| StoreError::Flush(format!("the rewrite marker: {e}")))?;
        }
        Ok(())
    }

    /// A key for a journal entry at `at`: in time order, two entries of one instant apart.
    fn journal_key(&self, at: DateTime<Utc>) -> Vec<u8> {
        let mut rest = super::encode_time(at).to_vec();
        rest.extend_from_slice(&rand::random::<u64>().to_be_bytes());
        privacy_key(JOURNAL, &rest)
    }

    /// Adds an entry to the journal of privacy actions, durably.
    ///
    /// # Errors
    /// As [`Store::commit`].
    pub async fn journal(&self, entry: &JournalEntry) -> Result<()> {
        let op = Op::Insert(self.journal_key(entry.at), encode(entry)?);
        self.commit_ops(vec![op]).await
    }

    /// Audit events added to threads, durably, each after the thread's existing ones. The
    /// caller holds the threads' senders' locks.
    ///
    /// # Errors
    /// As [`Store::commit`].
    pub async fn append_audit(
        &self,
        events: &[(ThreadId, AuditEvent)],
        entry: &JournalEntry,
    ) -> Result<()> {
        let mut ops = Vec::new();
        let mut threads: Vec<Thread> = Vec::new();
        for (id, event) in events {
            let t = match threads.iter_mut().find(|t| t.id == *id) {
                Some(t) => t,
                None => match self.thread(*id)? {
                    Some(t) => {
                        threads.push(t);
                        threads.last_mut().expect("just pushed")
                    }
                    None => continue,
                },
            };
            ops.push(Op::Insert(
                key_seq(AUDIT, t.id, t.audit_count),
                encode(event)?,
            ));
            t.audit_count += 1;
        }
        for t in &threads {
            ops.push(Op::Insert(key_id(THREAD, t.id), encode(t)?));
        }
        ops.push(Op::Insert(self.journal_key(entry.at), encode(entry)?));
        self.commit_ops(ops).await
    }

    /// The journal of privacy actions, oldest first.
    ///
    /// # Errors
    /// The store failed.
    pub fn journal_entries(&self) -> Result<Vec<JournalEntry>> {
        self.scan_values(&[PRIVACY, JOURNAL])
    }

    fn next_privacy_id(&self, kind: u8) -> Result<u64> {
        Ok(self
            .tree
            .scan_prefix([PRIVACY, kind])
            .keys()
            .next_back()
            .transpose()?
            .map_or(1, |k| read_u64(&k[2..10]) + 1))
    }

    /// The id the next request gets. Callers serialise request writes (the pipeline's lock).
    ///
    /// # Errors
    /// The store failed.
    pub fn next_request_id(&self) -> Result<u64> {
        self.next_privacy_id(REQUEST)
    }

    /// The id the next incident gets. Callers serialise incident writes.
    ///
    /// # Errors
    /// The store failed.
    pub fn next_incident_id(&self) -> Result<u64> {
        self.next_privacy_id(INCIDENT)
    }

    /// Writes a request (new or changed) and its journal entry, durably.
    ///
    /// # Errors
    /// As [`Store::commit`].
    pub async fn put_request(&self, r: &DataRequest, entry: &JournalEntry) -> Result<()> {
        let ops = vec![
            Op::Insert(privacy_key(REQUEST, &r.id.to_be_bytes()), encode(r)?),
            Op::Insert(self.journal_key(entry.at), encode(entry)?),
        ];
        self.commit_ops(ops).await
    }

    pub fn request(&self, id: u64) -> Result<Option<DataRequest>> {
        self.get(&privacy_key(REQUEST, &id.to_be_bytes()))
    }

    /// Every request, oldest first.
    ///
    /// # Errors
    /// The store failed.
    pub fn requests(&self) -> Result<Vec<DataRequest>> {
        self.scan_values(&[PRIVACY, REQUEST])
    }

    /// Writes a confidentiality incident and its journal entry, durably.
    ///
    /// # Errors
    /// As [`Store::commit`].
    pub async fn put_incident(&self, i: &PrivacyIncident, entry: &JournalEntry) -> Result<()> {
        let ops = vec![
            Op::Insert(privacy_key(INCIDENT, &i.id.to_be_bytes()), encode(i)?),
            Op::Insert(self.journal_key(entry.at), encode(entry)?),
        ];
        self.commit_ops(ops).await
    }

    /// The register of confidentiality incidents, oldest first.
    ///
    /// # Errors
    /// The store failed.
    pub fn incidents(&self) -> Result<Vec<PrivacyIncident>> {
        self.scan_values(&[PRIVACY, INCIDENT])
    }

    /// When the retention purge last ran.
    ///
    /// # Errors
    /// The store failed.
    pub fn last_purge(&self) -> Result<Option<DateTime<Utc>>> {
        self.get(&[PRIVACY, LAST_PURGE])
    }

    /// Records when the retention purge ran, durably.
    ///
    /// # Errors
    /// As [`Store::commit`].
    pub async fn set_last_purge(&self, at: DateTime<Utc>) -> Result<()> {
        self.commit_ops(vec![Op::Insert(vec![PRIVACY, LAST_PURGE], encode(&at)?)])
            .await
    }
}

/// Where a sender's dedupe entries are: beside their latest-thread entry, and under the
/// older `DEDUPE` prefix in stores written before that layout.
fn dedupe_prefixes(channel: &Channel, sender: &Sender) -> [Vec<u8>; 2] {
    [LATEST, DEDUPE].map(|prefix| {
        let mut k = key_party(prefix, channel, sender.as_str());
        k.push(0);
        k
    })
}

/// The keys of a thread's jobs: job ids are `G-000042-<seq>-<destination>`.
fn job_prefix(id: ThreadId) -> Vec<u8> {
    [&[JOB][..], format!("{id}-").as_bytes()].concat()
}

/// Rewrites the store in `dir` into fresh files when an anonymisation asked for it (the
/// marker exists): every record is exported and imported into a new database beside it,
/// which then replaces the old one, whose files are deleted. Returns whether it rewrote.
///
/// Called by [`Store::open`] before sled opens the directory for use, so no other handle
/// of this process holds it.
///
/// # Errors
/// The store cannot be read or the new one written; the old one is then left in place.
pub(super) fn rewrite_if_asked(dir: &Path) -> Result<bool> {
    let fresh = sibling(dir, "rewrite");
    let old = sibling(dir, "old");
    let io = |what: &str, e: std::io::Error| StoreError::Flush(format!("{what}: {e}"));
    // A rewrite cut short by a crash: between the two renames the store is only in `old`
    // (bring it back, the marker with it: it is rewritten again); after them, `old` is a
    // leftover to delete.
    if old.exists() {
        if dir.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| io("deleting the old store's files", e))?;
        } else {
            std::fs::rename(&old, dir).map_err(|e| io("restoring the store", e))?;
        }
    }
    let marker = dir.join(REWRITE_MARKER);
    if !marker.exists() {
        return Ok(false);
    }
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).map_err(|e| io("a leftover rewrite", e))?;
    }
    {
        let source = sled::Config::new()
            .path(dir)
            .open()
            .map_err(|source| StoreError::Open {
                path: dir.display().to_string(),
                source,
            })?;
        let target = sled::Config::new()
            .path(&fresh)
            .mode(sled::Mode::HighThroughput)
            .open()?;
        target.import(source.export());
        target.flush()?;
    }
    // Only sled's files are in the directory: a running serve's address file is removed when
    // it stops, and the directory was free.
    std::fs::rename(dir, &old).map_err(|e| io("moving the old store aside", e))?;
    if let Err(e) = std::fs::rename(&fresh, dir) {
        let _ = std::fs::rename(&old, dir);
        return Err(io("putting the rewritten store in place", e));
    }
    std::fs::remove_dir_all(&old).map_err(|e| io("deleting the old store's files", e))?;
    tracing::info!("the store was rewritten: erased data is gone from its files");
    Ok(true)
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".into());
    dir.with_file_name(format!("{name}.{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::{MessageKind, PlatformMessageId};
    use crate::domain::outbox::Reply;
    use crate::domain::thread::{AuditKind, Triage};
    use crate::domain::{Category, Language};
    use crate::store::ThreadWrite;
    use crate::testing::policy;
    use chrono::TimeZone;

    fn first(store: &Store, sender: &str, text: &str) -> ThreadId {
        let at = Utc.with_ymd_and_hms(2026, 11, 16, 14, 0, 0).unwrap();
        let t = Thread::open(
            store.next_thread_id(),
            Channel::web(),
            Sender::parse(sender).unwrap(),
            at,
            Triage {
                category: Category::Complaint,
                language: Language::Fr,
                confidence: 0.9,
            },
            &policy(),
        );
        let id = t.id;
        let job = Job::reply(
            Destination::Web,
            Reply {
                thread_id: id,
                seq: 1,
                kind: MessageKind::Acknowledgment,
                channel: "web".into(),
                recipient: sender.into(),
                text: format!("accusé: {text}"),
                language: Language::Fr,
                agent: None,
                last_citizen_at: at,
                at,
                post: None,
                post_id: None,
                alert: None,
            },
            at,
        );
        let mut w = ThreadWrite::new(None, t);
        w.messages.push(StoredMessage {
            kind: MessageKind::Citizen,
            author: "citizen".into(),
            at,
            text: text.into(),
            masked: None,
            platform_id: Some(format!("pid-{sender}")),
            ignored: false,
        });
        w.audit
            .push(AuditEvent::new(at, AuditKind::Received, "citizen", ""));
        w.dedupe = Some(PlatformMessageId::parse(&format!("pid-{sender}")).unwrap());
        w.sender = Some(SenderRecord {
            strikes: vec![at],
            warned_at: Some(at),
            blocked_at: None,
        });
        w.jobs.push(job);
        store.write(w).unwrap();
        id
    }

    #[tokio::test]
    async fn an_erasure_leaves_no_identity_nor_text_and_keeps_the_counted_indexes_right() {
        let store = Store::temporary().unwrap();
        let alice = first(&store, "alice", "rue des Érables");
        let bob = first(&store, "bob", "rue des Pins");
        let (web, who) = (Channel::web(), Sender::parse("alice").unwrap());
        assert_eq!(store.held(&web, &who).unwrap().threads.len(), 1);
        let at = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
        let event = |_: &Removed| AuditEvent::new(at, AuditKind::Erased, "Marie", "");
        let removed = store
            .anonymise(Anonymisation {
                threads: &[alice],
                party: Some((&web, &who)),
                event: &event,
                journal: None,
                closing: None,
            })
            .await
            .unwrap();
        assert_eq!(removed.threads, 1);
        assert_eq!(removed.pending_jobs_cancelled, 1);
        assert_eq!(removed.platform_ids, 1);

        let held = store.held(&web, &who).unwrap();
        assert!(held.threads.is_empty() && held.jobs.is_empty() && held.platform_ids.is_empty());
        assert!(held.sender.is_none());
        assert!(store.latest_thread(&web, &who).unwrap().is_none());
        let pid = PlatformMessageId::parse("pid-alice").unwrap();
        assert!(store.seen(&web, &who, &pid).unwrap().is_none());
        let thread = store.thread(alice).unwrap().unwrap();
        assert_eq!(thread.sender.as_str(), privacy::ANONYMOUS);
        let messages = store.messages(alice).unwrap();
        assert_eq!(messages[0].text, privacy::ERASED_TEXT);
        assert!(messages[0].platform_id.is_none());
        assert_eq!(
            store.audit(alice).unwrap().last().unwrap().kind,
            AuditKind::Erased
        );
        // Nothing of the raw bytes is left readable in the live tree.
        for entry in store.tree.iter() {
            let (k, v) = entry.unwrap();
            for needle in ["alice", "Érables"] {
                assert!(
                    !String::from_utf8_lossy(&k).contains(needle)
                        && !String::from_utf8_lossy(&v).contains(needle),
                    "{needle} is still in the store"
                );
            }
        }
        // Bob is untouched, and the counted indexes still equal a recount.
        assert_eq!(
            store
                .held(&web, &Sender::parse("bob").unwrap())
                .unwrap()
                .threads[0]
                .0
                .id,
            bob
        );
        let recount = store.recount().unwrap();
        for state in JobState::LISTED {
            assert_eq!(
                store.count_jobs(state) as i64,
                recount
                    .get(&[super::super::JOB_STATE, state.code()])
                    .copied()
                    .unwrap_or(0)
            );
        }
        assert_eq!(store.count_jobs(JobState::Pending), 1);
    }

    #[test]
    fn a_rewrite_cut_short_between_its_renames_loses_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let id = {
            let store = Store::open(&path).unwrap();
            let id = first(&store, "carole", "rue des Saules");
            store.flush().unwrap();
            std::fs::write(path.join(REWRITE_MARKER), b"").unwrap();
            id
        };
        // The crash: the store moved aside, the fresh copy not yet in place.
        std::fs::rename(&path, sibling(&path, "old")).unwrap();
        let store = Store::open(&path).unwrap();
        assert!(store.thread(id).unwrap().is_some(), "the store came back");
        assert!(!path.join(REWRITE_MARKER).exists(), "and was rewritten");
        assert!(!sibling(&path, "old").exists());
    }
}
