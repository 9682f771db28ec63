//! The store: the only module that knows sled.
//!
//! Everything lives in one sled tree, under one-byte key prefixes, so that a thread and all
//! its indexes change in one atomic batch:
//!
//! | prefix | key                                | value                         |
//! |--------|------------------------------------|-------------------------------|
//! | `t`    | thread id                          | the thread (JSON)             |
//! | `m`    | thread id ++ seq                   | a message kept on the thread  |
//! | `a`    | thread id ++ seq of its first event | a step's audit events (or one) |
//! | `l`    | channel 0 sender                   | the sender's latest thread id |
//! | `l`    | channel 0 sender 0 platform msg id | thread id (dedupe)            |
//! | `d`    | channel 0 sender 0 platform msg id | thread id (dedupe, older stores) |
//! | `s`    | channel 0 sender                   | the sender's record           |
//! | `u`    | due_at ++ thread id                | (running clocks, by due time) |
//! | `r`    | at_risk_at ++ thread id            | (running clocks, by risk time)|
//! | `w`    | alert time ++ thread id            | the level the watcher reports |
//! | `z`    | state ++ thread id                 | (threads by state)            |
//! | `o`    | job id (its idempotency key)       | an outbox job (JSON)          |
//! | `q`    | next_attempt_at ++ job id          | (queued jobs, by due time)    |
//! | `k`    | job state ++ job id                | (jobs by state)               |
//! | `i`    | `i` / `k` / `c`                    | instance id / token key / counts |
//! | `p`    | destination ++ 0 ++ remote id      | thread id (a forum post's)    |
//! | `c`    | thread id                          | its category's correction     |
//! | `v`    | alert level ++ thread id           | (running clocks at risk/late) |
//! | `n`    | member name                        | a staff member                |
//! | `h`    | token hash                         | the member's name             |
//! | `g`    | city-local day (`YYYYMMDD`)        | the digests queued that day   |
//! | `O`    | opened_at ++ thread id             | (threads by opening time)     |
//! | `S`    | hash of a desk session's id        | the session                   |
//! | `P`    | kind ++ id                         | requests, incidents, journal (see [`privacy`]) |
//!
//! The entries of the `z`, `k` and `v` indexes are also counted as batches apply, so that
//! `/metrics` reads its gauges without a scan, however large the store. The counts are kept
//! in memory and under `i` `c`, written in the same batch as the entries they count (so a
//! crash keeps both or neither); a store written before they were kept is counted once, by a
//! scan, when it is first opened.
//!
//! An outbox job is written in the same batch as the message that caused it, so a crash
//! cannot keep one without the other; a job that is done is deleted with its index entries.
//!
//! Numbers are big-endian and times are milliseconds with the sign bit flipped, so that a
//! range scan in key order is a scan in time order: "what is overdue now" reads only the
//! overdue entries. The pipeline writes with [`Store::commit`], which returns once the write
//! is on disk; concurrent commits share one sled batch and one flush (group commit), because
//! sled's cost is largely per batch. Callers serialise the read-modify-write of one sender's
//! threads (the pipeline's per-sender locks); the store itself only guarantees that each
//! [`ThreadWrite`] lands whole or not at all. [`Store::write`] applies at once without
//! flushing, for tests and tools.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::domain::digest::DigestRecord;
use crate::domain::message::{Channel, PlatformMessageId, Sender, StoredMessage};
use crate::domain::outbox::{Destination, Job, JobId, JobState};
use crate::domain::sender::SenderRecord;
use crate::domain::session::Session;
use crate::domain::staff::Member;
use crate::domain::thread::{Alerted, AuditEvent, Correction, Thread, ThreadId, ThreadState};

mod dictionary;
mod facts;
pub mod privacy;
pub use privacy::{Anonymisation, Held, Removed};

/// Errors of the store. The caller decides: a request gets a 500, a command exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store at {path} cannot be opened: {source}")]
    Open {
        path: String,
        #[source]
        source: sled::Error,
    },
    #[error("the store failed: {0}")]
    Sled(#[from] sled::Error),
    #[error(
        "the store holds a record that cannot be read ({0}); was it written by a newer guichet?"
    )]
    Corrupt(String),
    #[error("the store could not be flushed to disk: {0}")]
    Flush(String),
    /// A write failed earlier and sled cannot be trusted with another one in this process.
    #[error("the store is unavailable since a write failed: {0}")]
    Unavailable(String),
}

/// The page cache of [`Store::open`], as `store.cache_mb` defaults to.
const DEFAULT_CACHE_BYTES: u64 = 128 * 1024 * 1024;

/// The page cache of [`Store::checkpoint`], which reads nothing but sled's own structures.
const CHECKPOINT_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// How long a group commit may take before the disk is deemed not to answer.
const COMMIT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(20);

pub type Result<T> = std::result::Result<T, StoreError>;

const THREAD: u8 = b't';
const MESSAGE: u8 = b'm';
const AUDIT: u8 = b'a';
const LATEST: u8 = b'l';
const DEDUPE: u8 = b'd';
const SENDER: u8 = b's';
const DUE: u8 = b'u';
const RISK: u8 = b'r';
const ALERT: u8 = b'w';
const STATE: u8 = b'z';
const JOB: u8 = b'o';
const QUEUE: u8 = b'q';
const JOB_STATE: u8 = b'k';
const INSTANCE: u8 = b'i';
const REMOTE: u8 = b'p';
const CORRECTION: u8 = b'c';
const LEVEL: u8 = b'v';
const MEMBER: u8 = b'n';
const TOKEN: u8 = b'h';
const DIGEST: u8 = b'g';
const OPENED: u8 = b'O';
const SESSION: u8 = b'S';
/// The indexes whose entries are counted, by their first two bytes.
const COUNTED: [u8; 3] = [STATE, JOB_STATE, LEVEL];
/// Where the counts of the counted indexes are kept.
const COUNTS: [u8; 2] = [INSTANCE, b'c'];

/// Everything one step of a thread's life writes, applied atomically by [`Store::write`].
#[derive(Debug)]
pub struct ThreadWrite {
    /// The thread as it was read before the change (`None` for a new thread): the store
    /// derives the index entries to remove from it.
    pub previous: Option<Thread>,
    pub thread: Thread,
    pub messages: Vec<StoredMessage>,
    pub audit: Vec<AuditEvent>,
    /// The platform message id to remember, so that a redelivery is recognised.
    pub dedupe: Option<PlatformMessageId>,
    /// The sender's record, when it changed.
    pub sender: Option<SenderRecord>,
    /// Outbox jobs created or changed by this step; a job in state `Done` is deleted.
    pub jobs: Vec<Job>,
    /// A person corrected the thread's category (the latest correction is kept).
    pub correction: Option<Correction>,
}

impl ThreadWrite {
    pub fn new(previous: Option<Thread>, thread: Thread) -> ThreadWrite {
        ThreadWrite {
            previous,
            thread,
            messages: Vec::new(),
            audit: Vec::new(),
            dedupe: None,
            sender: None,
            jobs: Vec::new(),
            correction: None,
        }
    }
}

/// What the group commit did: how many writes each flush covered, and what a flush costs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlushStats {
    pub writes: u64,
    pub flushes: u64,
    pub flush_time: std::time::Duration,
}

/// What the entries under one key prefix take: see [`Store::footprint`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrefixFootprint {
    pub entries: u64,
    pub key_bytes: u64,
    pub value_bytes: u64,
}

/// The store's contents by key prefix, and its size on disk.
#[derive(Debug, Clone, Default)]
pub struct Footprint {
    pub prefixes: Vec<(char, PrefixFootprint)>,
    pub on_disk: u64,
}

/// The sled store. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    tree: sled::Tree,
    inner: Arc<Inner>,
}

struct Inner {
    /// A random id given to the store when it was created: staff commands compare it with the
    /// running server's, so that they never act on another guichet's store.
    instance: String,
    /// A random secret created with the store: the key of the web channel's sender tokens.
    key: Vec<u8>,
    dir: Option<std::path::PathBuf>,
    next_id: AtomicU64,
    /// Writes applied so far; a flush that starts after reading `written = n` makes the first
    /// n writes durable.
    written: AtomicU64,
    flushed: AtomicU64,
    /// Flushes made by [`Store::durable`] and their total time, for the load generator.
    flushes: AtomicU64,
    flush_micros: AtomicU64,
    /// Held by the one caller that flushes; the others queue and usually find their write
    /// already covered by that flush.
    flush_lock: tokio::sync::Mutex<()>,
    /// Writes waiting for the next group commit, in the order they were committed.
    pending: std::sync::Mutex<Pending>,
    /// The last commit ticket applied and flushed (or failed).
    applied: AtomicU64,
    /// Ticket ranges whose group failed, with the reason; kept short.
    failures: std::sync::Mutex<Vec<(u64, u64, String)>>,
    /// Set by the first failed write, never cleared: after an I/O error sled 0.34 cannot be
    /// trusted in the same process (its next flush never returns, and its lock stays held,
    /// so it cannot be reopened either). The server answers 503 and exits for a restart.
    broken: std::sync::Mutex<Option<String>>,
    broken_notify: tokio::sync::Notify,
    /// Entries of the counted indexes.
    counts: std::sync::Mutex<Tally>,
    /// Held while a batch that changes the counts is applied with their new record, so that
    /// concurrent batches write the records in the order they apply.
    count_writer: std::sync::Mutex<()>,
    /// The store holds dedupe entries in their former place (`d`), read as a fallback.
    legacy_dedupe: bool,
}

#[derive(Default)]
struct Pending {
    ops: Vec<Op>,
    /// What the pending ops add to and remove from the counted indexes.
    tally: Tally,
    last_ticket: u64,
}

/// Entries added to (or removed from) the counted indexes, by their first two key bytes.
type Tally = std::collections::HashMap<[u8; 2], i64>;

fn tally(ops: &[Op], into: &mut Tally) {
    for op in ops {
        let (key, delta) = match op {
            Op::Insert(k, _) => (k, 1),
            Op::Remove(k) => (k, -1),
        };
        if key.len() >= 2 && COUNTED.contains(&key[0]) {
            *into.entry([key[0], key[1]]).or_default() += delta;
        }
    }
}

/// One change of a batch, kept in our hands so that several commits can share one
/// `sled::Batch`.
enum Op {
    Insert(Vec<u8>, Vec<u8>),
    Remove(Vec<u8>),
}

fn to_batch(ops: impl IntoIterator<Item = Op>) -> sled::Batch {
    let mut batch = sled::Batch::default();
    for op in ops {
        match op {
            Op::Insert(k, v) => batch.insert(k, v),
            Op::Remove(k) => batch.remove(k),
        }
    }
    batch
}

impl Store {
    /// Opens (or creates) the store in `dir`, first rewriting its files when an erasure
    /// asked for it (see [`privacy`]).
    ///
    /// # Errors
    /// The directory cannot be created or is locked by another running guichet.
    pub fn open(dir: &Path) -> Result<Store> {
        Self::open_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// Opens (or creates) the store in `dir` with a page cache of `cache_bytes` (sled's
    /// `cache_capacity`: what it keeps in memory of the pages it read or wrote), first
    /// rewriting its files when an erasure asked for it.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<Store> {
        match privacy::rewrite_if_asked(dir) {
            // Locked by another process, or unreadable: as opening it would be.
            Err(e @ StoreError::Open { .. }) => return Err(e),
            // The store itself is intact: guichet runs, and the server records the failure in
            // the register of confidentiality incidents (see `rewrite_pending`).
            Err(e) => tracing::error!(
                error = %e,
                "the store could not be rewritten: erased data stays in its files"
            ),
            Ok(_) => {}
        }
        // sled 0.34 reads its `mode` nowhere: HighThroughput only records the intent.
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|source| StoreError::Open {
                path: dir.display().to_string(),
                source,
            })?;
        Self::from_db(db, Some(dir.to_path_buf()))
    }

    /// Has sled write its snapshot of the store in `dir`, which no handle may hold any more,
    /// so that the next open reads the snapshot instead of replaying the log written since
    /// the store was last opened (sled 0.34 writes its snapshot only at an open). Called once
    /// a process that wrote has let its store go: the cost moves from the next command to
    /// this stop. Returns whether it ran: a store still held (by a handle of this process that
    /// outlived its task, or by another process) is left as it is.
    ///
    /// # Errors
    /// sled could not read the store or write the snapshot.
    pub fn checkpoint(dir: &Path) -> Result<bool> {
        match sled::Config::new()
            .path(dir)
            .cache_capacity(CHECKPOINT_CACHE_BYTES)
            .open()
        {
            Ok(db) => {
                drop(db);
                Ok(true)
            }
            Err(sled::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
            Err(e) if e.to_string().to_ascii_lowercase().contains("lock") => Ok(false),
            Err(source) => Err(StoreError::Open {
                path: dir.display().to_string(),
                source,
            }),
        }
    }

    /// A store that lives in memory and disappears with the process (tests, `classify`).
    ///
    /// # Errors
    /// Only if sled cannot allocate its temporary files.
    pub fn temporary() -> Result<Store> {
        Self::from_db(sled::Config::new().temporary(true).open()?, None)
    }

    fn from_db(db: sled::Db, dir: Option<std::path::PathBuf>) -> Result<Store> {
        let tree = db.open_tree("guichet")?;
        let last = tree
            .scan_prefix([THREAD])
            .keys()
            .next_back()
            .transpose()?
            .map(|k| read_u64(&k[1..9]))
            .unwrap_or(0);
        let instance = String::from_utf8_lossy(&once(&db, &tree, b'i', || {
            format!("{:032x}", rand::random::<u128>()).into_bytes()
        })?)
        .into_owned();
        let key = once(&db, &tree, b'k', || rand::random::<[u8; 32]>().to_vec())?;
        let legacy_dedupe = tree.scan_prefix([DEDUPE]).next().is_some();
        let store = Store {
            db,
            tree,
            inner: Arc::new(Inner {
                instance,
                key,
                dir,
                next_id: AtomicU64::new(last + 1),
                written: AtomicU64::new(0),
                flushed: AtomicU64::new(0),
                flushes: AtomicU64::new(0),
                flush_micros: AtomicU64::new(0),
                flush_lock: tokio::sync::Mutex::new(()),
                pending: std::sync::Mutex::new(Pending::default()),
                applied: AtomicU64::new(0),
                failures: std::sync::Mutex::new(Vec::new()),
                broken: std::sync::Mutex::new(None),
                broken_notify: tokio::sync::Notify::new(),
                counts: std::sync::Mutex::new(Tally::new()),
                count_writer: std::sync::Mutex::new(()),
                legacy_dedupe,
            }),
        };
        let counted = match store.tree.get(COUNTS)? {
            Some(record) => decode_tally(&record)?,
            None => {
                // Written before the counts were kept: counted once, and kept from now on.
                let counted = store.recount()?;
                store.tree.insert(COUNTS, encode_tally(&counted))?;
                store.db.flush()?;
                counted
            }
        };
        store.count(&counted);
        store.index_opening_times()?;
        store.index_facts()?;
        Ok(store)
    }

    /// A store written before threads were indexed by opening time gets the index once.
    fn index_opening_times(&self) -> Result<()> {
        let done = [INSTANCE, OPENED];
        if self.tree.get(done)?.is_some() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for value in self.tree.scan_prefix([THREAD]).values() {
            let t: Thread = decode(&value?)?;
            batch.insert(key_time(OPENED, t.opened_at, t.id), Vec::new());
        }
        batch.insert(&done[..], Vec::new());
        self.tree.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// The store's instance id: random, given once when the store was created.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance
    }

    /// A secret created with the store (for MACs that must survive restarts).
    pub fn secret_key(&self) -> &[u8] {
        &self.inner.key
    }

    /// The directory the store lives in (`None` for a temporary store).
    pub fn dir(&self) -> Option<std::path::PathBuf> {
        self.inner.dir.clone()
    }

    /// A fresh thread id, never handed out before in this store.
    pub fn next_thread_id(&self) -> ThreadId {
        ThreadId::new(self.inner.next_id.fetch_add(1, Ordering::SeqCst))
    }

    pub fn thread(&self, id: ThreadId) -> Result<Option<Thread>> {
        self.get(&key_id(THREAD, id))
    }

    /// The sender's most recent thread on this channel, whatever its state.
    pub fn latest_thread(&self, channel: &Channel, sender: &Sender) -> Result<Option<Thread>> {
        match self.tree.get(key_party(LATEST, channel, sender.as_str()))? {
            Some(id) => self.thread(ThreadId::new(read_u64(&id))),
            None => Ok(None),
        }
    }

    /// Adds (or replaces) a staff member and the index of their token, durably. A replaced
    /// member's old token stops working.
    ///
    /// # Errors
    /// As [`Store::commit`].
    pub async fn put_member(&self, member: &Member, previous: Option<&Member>) -> Result<()> {
        let mut ops = Vec::new();
        if let Some(p) = previous {
            ops.push(Op::Remove([&[TOKEN][..], p.token_hash.as_bytes()].concat()));
        }
        ops.push(Op::Insert(
            [&[MEMBER][..], member.name.as_bytes()].concat(),
            encode(member)?,
        ));
        if member.revoked_at.is_none() {
            ops.push(Op::Insert(
                [&[TOKEN][..], member.token_hash.as_bytes()].concat(),
                member.name.as_bytes().to_vec(),
            ));
        }
        self.commit_ops(ops).await
    }

    pub fn member(&self, name: &str) -> Result<Option<Member>> {
        self.get(&[&[MEMBER][..], name.as_bytes()].concat())
    }

    /// The member whose token hashes to `hash`, unless revoked.
    pub fn member_by_token(&self, hash: &str) -> Result<Option<Member>> {
        match self.tree.get([&[TOKEN][..], hash.as_bytes()].concat())? {
            Some(name) => Ok(self
                .member(&String::from_utf8_lossy(&name))?
                .filter(|m| m.revoked_at.is_none())),
            None => Ok(None),
        }
    }

    /// Every member, revoked ones included, by name.
    pub fn members(&self) -> Result<Vec<Member>> {
        self.scan_values(&[MEMBER])
    }

    /// Every correction of a category by staff, oldest thread first.
    pub fn corrections(&self) -> Result<Vec<Correction>> {
        self.scan_values(&[CORRECTION])
    }

    /// The thread a destination knows by `remote` (the thread of a Discord forum post).
    pub fn thread_by_remote(
        &self,
        destination: Destination,
        remote: &str,
    ) -> Result<Option<ThreadId>> {
        Ok(self
            .tree
            .get(key_remote(destination, remote))?
            .map(|v| ThreadId::new(read_u64(&v))))
    }

    /// The thread a platform message of this sender was already stored on, if it was.
    /// Platform ids are unique per sender only as far as guichet may trust them: a message
    /// id that another sender already used is another message.
    pub fn seen(
        &self,
        channel: &Channel,
        sender: &Sender,
        id: &PlatformMessageId,
    ) -> Result<Option<ThreadId>> {
        let mut found = self.tree.get(key_dedupe(LATEST, channel, sender, id))?;
        if found.is_none() && self.inner.legacy_dedupe {
            found = self.tree.get(key_dedupe(DEDUPE, channel, sender, id))?;
        }
        Ok(found.map(|v| ThreadId::new(read_u64(&v))))
    }

    pub fn sender(&self, channel: &Channel, sender: &Sender) -> Result<SenderRecord> {
        Ok(self
            .get(&key_party(SENDER, channel, sender.as_str()))?
            .unwrap_or_default())
    }

    /// Applies one step of a thread's life atomically: the thread, its new messages and
    /// audit events (numbered after the existing ones), and every index it moves in.
    /// Returns the thread as stored.
    ///
    /// # Errors
    /// sled refused the batch; nothing was written.
    pub fn write(&self, mut w: ThreadWrite) -> Result<Thread> {
        self.check_usable()?;
        let ops = self.ops(&mut w)?;
        let mut counted = Tally::new();
        tally(&ops, &mut counted);
        self.apply_counted(ops, &counted)?;
        self.inner.written.fetch_add(1, Ordering::SeqCst);
        Ok(w.thread)
    }

    /// Like [`Store::write`] followed by [`Store::durable`], but concurrent commits also share
    /// the sled batch: one caller (the leader) applies every pending commit in one batch, then
    /// flushes once. sled's cost is largely per batch, so this is what lets many senders go
    /// faster than one batch each (see BENCHMARKS.md). Callers must serialise commits that
    /// touch the same thread (the pipeline's per-sender locks): a commit is visible to reads
    /// only once it returns.
    ///
    /// # Errors
    /// sled refused the batch or the flush failed: nothing of this commit is acknowledged.
    pub async fn commit(&self, mut w: ThreadWrite) -> Result<Thread> {
        let ops = self.ops(&mut w)?;
        self.commit_ops(ops).await?;
        Ok(w.thread)
    }

    /// Writes a sender's record on its own (an unblock, outside any thread), durably.
    ///
    /// # Errors
    /// As [`Store::commit`].
    pub async fn commit_sender(
        &self,
        channel: &Channel,
        sender: &Sender,
        record: &SenderRecord,
    ) -> Result<()> {
        let key = key_party(SENDER, channel, sender.as_str());
        self.commit_ops(vec![Op::Insert(key, encode(record)?)])
            .await
    }

    /// Why the store refuses writes, once a write has failed.
    pub fn failure(&self) -> Option<String> {
        self.inner.broken.lock().ok().and_then(|b| b.clone())
    }

    /// Completes once a write has failed (at once if one already has).
    pub async fn failed(&self) {
        loop {
            let notified = self.inner.broken_notify.notified();
            if self.failure().is_some() {
                return;
            }
            notified.await;
        }
    }

    fn break_down(&self, reason: &str) {
        if let Ok(mut broken) = self.inner.broken.lock() {
            if broken.is_none() {
                tracing::error!(reason, "a store write failed: intake stops");
                *broken = Some(reason.to_owned());
            }
        }
        self.inner.broken_notify.notify_waiters();
    }

    fn check_usable(&self) -> Result<()> {
        match self.failure() {
            Some(reason) => Err(StoreError::Unavailable(reason)),
            None => Ok(()),
        }
    }

    async fn commit_ops(&self, ops: Vec<Op>) -> Result<()> {
        self.check_usable()?;
        let ticket = {
            let mut pending = self.inner.pending.lock().map_err(poisoned)?;
            let mut t = std::mem::take(&mut pending.tally);
            tally(&ops, &mut t);
            pending.tally = t;
            pending.ops.extend(ops);
            pending.last_ticket += 1;
            pending.last_ticket
        };
        let _leader = self.inner.flush_lock.lock().await;
        if self.inner.applied.load(Ordering::SeqCst) < ticket {
            self.apply_pending().await;
        }
        self.outcome(ticket)
    }

    /// Applies and flushes everything pending, as the leader; records a failure against the
    /// tickets it covered.
    async fn apply_pending(&self) {
        let first = self.inner.applied.load(Ordering::SeqCst) + 1;
        let (ops, counted, last) = match self.inner.pending.lock() {
            Ok(mut pending) => (
                std::mem::take(&mut pending.ops),
                std::mem::take(&mut pending.tally),
                pending.last_ticket,
            ),
            Err(_) => return,
        };
        let store = self.clone();
        let started = std::time::Instant::now();
        let result = match self.check_usable() {
            Err(e) => Err(e),
            Ok(()) => {
                let write = tokio::task::spawn_blocking(move || -> Result<()> {
                    store.apply_counted(ops, &counted)?;
                    store.db.flush()?;
                    Ok(())
                });
                match tokio::time::timeout(COMMIT_DEADLINE, write).await {
                    Ok(joined) => joined
                        .map_err(|e| StoreError::Flush(e.to_string()))
                        .and_then(|r| r),
                    Err(_) => Err(StoreError::Flush(format!(
                        "the disk did not complete a write within {} s",
                        COMMIT_DEADLINE.as_secs()
                    ))),
                }
            }
        };
        if let Err(e) = &result {
            if !matches!(e, StoreError::Unavailable(_)) {
                self.break_down(&e.to_string());
            }
            if let Ok(mut failures) = self.inner.failures.lock() {
                if failures.len() >= 64 {
                    failures.remove(0);
                }
                failures.push((first, last, e.to_string()));
            }
        }
        self.inner
            .written
            .fetch_add(last + 1 - first, Ordering::SeqCst);
        self.inner.applied.store(last, Ordering::SeqCst);
        self.inner.flushes.fetch_add(1, Ordering::Relaxed);
        self.inner
            .flush_micros
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    fn outcome(&self, ticket: u64) -> Result<()> {
        let failures = self.inner.failures.lock().map_err(poisoned)?;
        match failures
            .iter()
            .find(|(a, b, _)| (*a..=*b).contains(&ticket))
        {
            Some((_, _, reason)) => Err(StoreError::Flush(reason.clone())),
            None => Ok(()),
        }
    }

    /// The changes one step of a thread's life makes, with its messages and audit events
    /// numbered after the existing ones.
    fn ops(&self, w: &mut ThreadWrite) -> Result<Vec<Op>> {
        let mut ops = Vec::with_capacity(16 + w.messages.len() + w.audit.len());
        let t = &mut w.thread;
        for m in &w.messages {
            ops.push(Op::Insert(
                key_seq(MESSAGE, t.id, t.message_count),
                encode(m)?,
            ));
            t.message_count += 1;
        }
        // A step's events share one key (numbered as its first event), so that they deflate
        // together and cost sled one entry; a step of one event stays a single event.
        match w.audit.as_slice() {
            [] => {}
            [one] => ops.push(Op::Insert(
                key_seq(AUDIT, t.id, t.audit_count),
                encode(one)?,
            )),
            events => ops.push(Op::Insert(
                key_seq(AUDIT, t.id, t.audit_count),
                encode(&events)?,
            )),
        }
        t.audit_count += w.audit.len() as u32;
        if let Some(prev) = &w.previous {
            ops.extend(index_keys(prev).into_iter().map(Op::Remove));
        }
        ops.extend(index_keys(t).into_iter().map(|k| Op::Insert(k, Vec::new())));
        ops.push(Op::Insert(key_id(THREAD, t.id), encode(&*t)?));
        ops.push(self.facts_op(t, &w.audit)?);
        let id = t.id.get().to_be_bytes().to_vec();
        ops.push(Op::Insert(
            key_party(LATEST, &t.channel, t.sender.as_str()),
            id.clone(),
        ));
        if let Some(c) = &w.correction {
            ops.push(Op::Insert(key_id(CORRECTION, t.id), encode(c)?));
        }
        // Where a platform names the thread by its own id (a forum post), find it back.
        for r in t
            .tickets
            .iter()
            .filter(|r| r.destination == Destination::Forum)
        {
            if let Some(remote) = &r.ticket_id {
                ops.push(Op::Insert(key_remote(r.destination, remote), id.clone()));
            }
        }
        if let Some(pid) = &w.dedupe {
            ops.push(Op::Insert(
                key_dedupe(LATEST, &t.channel, &t.sender, pid),
                id,
            ));
        }
        if let Some(record) = &w.sender {
            ops.push(Op::Insert(
                key_party(SENDER, &t.channel, t.sender.as_str()),
                encode(record)?,
            ));
        }
        // Jobs change only under their thread's sender lock (as the thread does), so the
        // records read here are the ones this batch replaces.
        self.job_ops(&w.jobs, &mut ops)?;
        Ok(ops)
    }

    /// The changes that write `jobs` (a job in state `Done` is deleted) with their indexes.
    fn job_ops(&self, jobs: &[Job], ops: &mut Vec<Op>) -> Result<()> {
        for job in jobs {
            if let Some(previous) = self.job(&job.id)? {
                ops.extend(job_index_keys(&previous).into_iter().map(Op::Remove));
            }
            if job.state == JobState::Done {
                ops.push(Op::Remove(key_job(&[JOB], &job.id)));
            } else {
                ops.push(Op::Insert(key_job(&[JOB], &job.id), encode(job)?));
                ops.extend(
                    job_index_keys(job)
                        .into_iter()
                        .map(|k| Op::Insert(k, Vec::new())),
                );
            }
        }
        Ok(())
    }

    /// The digests queued on a city-local day, if any.
    pub fn digest_record(&self, day: chrono::NaiveDate) -> Result<Option<DigestRecord>> {
        self.get(&key_digest(day))
    }

    /// Records the day's digest and queues its jobs in one durable batch, so that a crash
    /// keeps both or neither. Callers serialise digests (the pipeline's digest lock).
    ///
    /// # Errors
    /// As [`Store::commit`].
    pub async fn commit_digest(&self, record: &DigestRecord, jobs: &[Job]) -> Result<()> {
        let mut ops = vec![Op::Insert(key_digest(record.day), encode(record)?)];
        self.job_ops(jobs, &mut ops)?;
        self.commit_ops(ops).await
    }

    /// Writes jobs that belong to no thread (a digest's), durably. Callers serialise the
    /// read-modify-write of one job (the pipeline's digest lock).
    ///
    /// # Errors
    /// As [`Store::commit`].
    pub async fn commit_jobs(&self, jobs: &[Job]) -> Result<()> {
        let mut ops = Vec::new();
        self.job_ops(jobs, &mut ops)?;
        self.commit_ops(ops).await
    }

    pub fn job(&self, id: &JobId) -> Result<Option<Job>> {
        self.get(&key_job(&[JOB], id))
    }

    /// Jobs in one state, oldest first.
    pub fn jobs_in(&self, state: JobState) -> Result<Vec<Job>> {
        let mut out = Vec::new();
        for key in self.tree.scan_prefix([JOB_STATE, state.code()]).keys() {
            let key = key?;
            let id = job_id_from(&key[2..])?;
            if let Some(job) = self.job(&id)? {
                out.push(job);
            }
        }
        out.sort_by_key(|j: &Job| j.created_at);
        Ok(out)
    }

    /// One page of the jobs in `states`, in job-id order (a thread's jobs together, oldest
    /// thread first): at most `limit`, with ids after `after`. Reads only the page's index
    /// entries. Returns the page and the id to continue after, if more.
    pub fn jobs_page(
        &self,
        states: &[JobState],
        after: Option<&JobId>,
        limit: usize,
    ) -> Result<(Vec<Job>, Option<JobId>)> {
        let mut ids: Vec<JobId> = Vec::new();
        for state in states {
            let prefix = vec![JOB_STATE, state.code()];
            let start = match after {
                Some(id) => {
                    let mut k = key_job(&prefix, id);
                    k.push(0);
                    k
                }
                None => prefix.clone(),
            };
            let mut end = prefix.clone();
            end.push(0xff);
            for key in self.tree.range(start..end).keys().take(limit + 1) {
                ids.push(job_id_from(&key?[2..])?);
            }
        }
        ids.sort();
        ids.dedup();
        let more = ids.len() > limit;
        ids.truncate(limit);
        let next = if more { ids.last().cloned() } else { None };
        let mut jobs = Vec::with_capacity(ids.len());
        for id in &ids {
            if let Some(job) = self.job(id)? {
                jobs.push(job);
            }
        }
        Ok((jobs, next))
    }

    /// Jobs in one state, counted as writes apply: no scan.
    pub fn count_jobs(&self, state: JobState) -> usize {
        self.counted([JOB_STATE, state.code()])
    }

    /// Running clocks the watcher recorded at this level (at risk, overdue): no scan.
    pub fn count_alerted(&self, level: Alerted) -> usize {
        self.counted([LEVEL, level as u8])
    }

    fn counted(&self, key: [u8; 2]) -> usize {
        self.inner
            .counts
            .lock()
            .map(|c| c.get(&key).copied().unwrap_or(0).max(0) as usize)
            .unwrap_or(0)
    }

    /// Applies `ops` in one batch and, when they change the counted indexes by `deltas`, the
    /// new counts' record with them; the counts in memory follow once the batch applied.
    fn apply_counted(&self, mut ops: Vec<Op>, deltas: &Tally) -> Result<()> {
        if deltas.values().all(|d| *d == 0) {
            self.tree.apply_batch(to_batch(ops))?;
            return Ok(());
        }
        let _writer = self.inner.count_writer.lock().map_err(poisoned)?;
        let mut totals = self.inner.counts.lock().map_err(poisoned)?.clone();
        for (k, d) in deltas {
            *totals.entry(*k).or_default() += d;
        }
        ops.push(Op::Insert(COUNTS.to_vec(), encode_tally(&totals)));
        self.tree.apply_batch(to_batch(ops))?;
        *self.inner.counts.lock().map_err(poisoned)? = totals;
        Ok(())
    }

    fn count(&self, deltas: &Tally) {
        if let Ok(mut counts) = self.inner.counts.lock() {
            for (k, d) in deltas {
                *counts.entry(*k).or_default() += d;
            }
        }
    }

    /// The counted indexes' entries, by a scan: what the counts of a store written before
    /// they were kept are built from, and what tests compare them with.
    pub fn recount(&self) -> Result<Tally> {
        let mut counts = Tally::new();
        for prefix in COUNTED {
            for key in self.tree.scan_prefix([prefix]).keys() {
                let key = key?;
                if key.len() >= 2 {
                    *counts.entry([key[0], key[1]]).or_default() += 1;
                }
            }
        }
        Ok(counts)
    }

    /// What the store holds, by key prefix (one byte, the table at the top of this module):
    /// entries, key bytes and value bytes, and sled's size on disk. A full scan: for the
    /// scale benchmark and for tools, never for a request.
    ///
    /// # Errors
    /// The store failed.
    pub fn footprint(&self) -> Result<Footprint> {
        let mut prefixes = std::collections::BTreeMap::<u8, PrefixFootprint>::new();
        for entry in self.tree.iter() {
            let (k, v) = entry?;
            let p = prefixes.entry(k.first().copied().unwrap_or(0)).or_default();
            p.entries += 1;
            p.key_bytes += k.len() as u64;
            p.value_bytes += v.len() as u64;
        }
        Ok(Footprint {
            prefixes: prefixes
                .into_iter()
                .map(|(p, f)| (char::from(p), f))
                .collect(),
            on_disk: self.db.size_on_disk()?,
        })
    }

    /// The first `limit` queued jobs by due time, soonest first.
    pub fn queue_head(&self, limit: usize) -> Result<Vec<(DateTime<Utc>, JobId)>> {
        let mut out = Vec::with_capacity(limit.min(256));
        for key in self.tree.scan_prefix([QUEUE]).keys().take(limit) {
            let key = key?;
            out.push((decode_time(&key[1..9]), job_id_from(&key[9..])?));
        }
        Ok(out)
    }

    /// Returns once every write applied before the call is on disk. Concurrent callers share
    /// flushes: while one flush runs, the writes that arrive queue for the next one, so a
    /// burst of messages costs a few fsyncs, not one each.
    ///
    /// # Errors
    /// The flush failed; the caller must not acknowledge the write.
    pub async fn durable(&self) -> Result<()> {
        self.check_usable()?;
        let target = self.inner.written.load(Ordering::SeqCst);
        if self.inner.flushed.load(Ordering::SeqCst) >= target {
            return Ok(());
        }
        let _leader = self.inner.flush_lock.lock().await;
        if self.inner.flushed.load(Ordering::SeqCst) >= target {
            return Ok(());
        }
        let covers = self.inner.written.load(Ordering::SeqCst);
        let db = self.db.clone();
        let started = std::time::Instant::now();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|e| StoreError::Flush(e.to_string()))??;
        self.inner.flushed.fetch_max(covers, Ordering::SeqCst);
        self.inner.flushes.fetch_add(1, Ordering::Relaxed);
        self.inner
            .flush_micros
            .fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        Ok(())
    }

    /// Writes applied, group-commit flushes made, and the time spent flushing, since the
    /// store was opened.
    pub fn flush_stats(&self) -> FlushStats {
        FlushStats {
            writes: self.inner.written.load(Ordering::Relaxed),
            flushes: self.inner.flushes.load(Ordering::Relaxed),
            flush_time: std::time::Duration::from_micros(
                self.inner.flush_micros.load(Ordering::Relaxed),
            ),
        }
    }

    /// Flushes from synchronous code (the command line).
    ///
    /// # Errors
    /// The flush failed.
    pub fn flush(&self) -> Result<()> {
        self.check_usable()?;
        self.db.flush()?;
        Ok(())
    }

    pub fn messages(&self, id: ThreadId) -> Result<Vec<StoredMessage>> {
        self.scan_values(&key_id(MESSAGE, id))
    }

    /// The thread's audit events, oldest first: each entry holds one event, or the events
    /// of one step (see [`Store::write`]).
    pub fn audit(&self, id: ThreadId) -> Result<Vec<AuditEvent>> {
        let mut events = Vec::new();
        for entry in self.scan_values::<AuditEntry>(&key_id(AUDIT, id))? {
            match entry {
                AuditEntry::One(e) => events.push(e),
                AuditEntry::Step(step) => events.extend(step),
            }
        }
        Ok(events)
    }

    /// Threads whose running clock is past due at `now`, latest due first.
    pub fn overdue(&self, now: DateTime<Utc>) -> Result<Vec<Thread>> {
        let mut out = self.threads_before(DUE, now)?;
        out.reverse();
        Ok(out)
    }

    /// Threads past their at-risk time but not yet overdue at `now`, latest first.
    pub fn at_risk(&self, now: DateTime<Utc>) -> Result<Vec<Thread>> {
        let mut out = self.threads_before(RISK, now)?;
        out.retain(|t| t.clock.due_at > now);
        out.reverse();
        Ok(out)
    }

    /// One page of the threads in `states` (all threads when empty), newest first: at most
    /// `limit`, with ids below `before`. Reads only the index entries of the page, however
    /// many threads the store holds. Returns the page and the id to continue below, if more.
    pub fn page_by_id(
        &self,
        states: &[ThreadState],
        before: Option<ThreadId>,
        limit: usize,
    ) -> Result<(Vec<Thread>, Option<ThreadId>)> {
        let below = |prefix: Vec<u8>| -> Result<Vec<u64>> {
            let mut end = prefix.clone();
            match before {
                Some(id) => end.extend_from_slice(&id.get().to_be_bytes()),
                None => end.push(0xff),
            }
            let mut ids = Vec::with_capacity(limit + 1);
            for key in self
                .tree
                .range(prefix.clone()..end)
                .keys()
                .rev()
                .take(limit + 1)
            {
                let key = key?;
                ids.push(read_u64(&key[prefix.len()..prefix.len() + 8]));
            }
            Ok(ids)
        };
        let mut ids: Vec<u64> = Vec::new();
        if states.is_empty() {
            ids = below(vec![THREAD])?;
        } else {
            for state in states {
                ids.extend(below(vec![STATE, state.code()])?);
            }
            ids.sort_unstable_by(|a, b| b.cmp(a));
            ids.dedup();
        }
        let more = ids.len() > limit;
        ids.truncate(limit);
        let next = more
            .then(|| ids.last().copied())
            .flatten()
            .map(ThreadId::new);
        let threads = self.threads_by_id(ids.into_iter().map(ThreadId::new).collect())?;
        Ok((threads, next))
    }

    /// One page of the threads whose running clock passed its due time (`overdue`) or its
    /// at-risk time (`at_risk`, overdue ones left out) at `now`, latest first, below the index
    /// key `before`. Returns the page and the key to continue below, if more.
    pub fn page_by_time(
        &self,
        overdue: bool,
        now: DateTime<Utc>,
        before: Option<&[u8]>,
        limit: usize,
    ) -> Result<(Vec<Thread>, Option<Vec<u8>>)> {
        let prefix = if overdue { DUE } else { RISK };
        let range = time_range(prefix, now);
        let end = match before {
            Some(b) if b < range.end().as_slice() && b.first() == Some(&prefix) => b.to_vec(),
            Some(_) => return Ok((Vec::new(), None)),
            None => {
                let mut e = range.end().clone();
                e.push(0xff);
                e
            }
        };
        let mut out = Vec::with_capacity(limit.min(256));
        let mut last = None;
        for key in self.tree.range(vec![prefix]..end).keys().rev() {
            let key = key?;
            if out.len() == limit {
                return Ok((out, last));
            }
            last = Some(key.to_vec());
            let Some(t) = self.thread(ThreadId::new(read_u64(&key[9..17])))? else {
                continue;
            };
            if overdue || t.clock.due_at > now {
                out.push(t);
            }
        }
        Ok((out, None))
    }

    /// Threads in one state, newest first.
    pub fn threads_in(&self, state: ThreadState) -> Result<Vec<Thread>> {
        let mut ids = Vec::new();
        for key in self.tree.scan_prefix([STATE, state.code()]).keys() {
            ids.push(ThreadId::new(read_u64(&key?[2..10])));
        }
        ids.reverse();
        self.threads_by_id(ids)
    }

    /// The threads that opened from `from` to `to` (both included), oldest first, read
    /// through the opening-time index: a range costs its own threads, not the store's.
    pub fn threads_opened(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Thread>> {
        self.threads_by_id(self.opened_between(from, to)?)
    }

    /// The ids of the threads that opened from `from` to `to` (both included), oldest first.
    pub fn opened_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<ThreadId>> {
        let mut start = vec![OPENED];
        start.extend_from_slice(&encode_time(from));
        let mut ids = Vec::new();
        for key in self
            .tree
            .range(start..=time_range(OPENED, to).end().clone())
            .keys()
        {
            ids.push(ThreadId::new(read_u64(&key?[9..17])));
        }
        Ok(ids)
    }

    /// Keeps a desk session under the hash of its id, durably.
    ///
    /// # Errors
    /// As [`Store::commit`].
    pub async fn put_session(&self, hash: &str, session: &Session) -> Result<()> {
        let key = [&[SESSION][..], hash.as_bytes()].concat();
        self.commit_ops(vec![Op::Insert(key, encode(session)?)])
            .await
    }

    pub fn session(&self, hash: &str) -> Result<Option<Session>> {
        self.get(&[&[SESSION][..], hash.as_bytes()].concat())
    }

    /// Forgets the sessions whose hash is in `hashes`, durably.
    ///
    /// # Errors
    /// As [`Store::commit`].
    pub async fn remove_sessions(&self, hashes: &[String]) -> Result<()> {
        let ops = hashes
            .iter()
            .map(|h| Op::Remove([&[SESSION][..], h.as_bytes()].concat()))
            .collect();
        self.commit_ops(ops).await
    }

    /// Every session kept, with the hash it is kept under.
    pub fn sessions(&self) -> Result<Vec<(String, Session)>> {
        self.tree
            .scan_prefix([SESSION])
            .map(|entry| {
                let (k, v) = entry?;
                Ok((String::from_utf8_lossy(&k[1..]).into_owned(), decode(&v)?))
            })
            .collect()
    }

    /// Every thread, newest first.
    pub fn all_threads(&self) -> Result<Vec<Thread>> {
        let mut out: Vec<Thread> = self.scan_values(&[THREAD])?;
        out.reverse();
        Ok(out)
    }

    /// Every thread, oldest first, read as the iteration goes (a daily pass over a large
    /// store without holding it all in memory).
    pub fn each_thread(&self) -> impl Iterator<Item = Result<Thread>> + '_ {
        self.tree
            .scan_prefix([THREAD])
            .values()
            .map(|v| decode(&v?))
    }

    /// Threads in one state, counted as writes apply: no scan.
    pub fn count_in(&self, state: ThreadState) -> usize {
        self.counted([STATE, state.code()])
    }

    /// The earliest moment the SLA watcher has something to report.
    pub fn next_alert(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .tree
            .scan_prefix([ALERT])
            .keys()
            .next()
            .transpose()?
            .map(|k| decode_time(&k[1..9])))
    }

    /// Threads with an alert due at or before `now`.
    pub fn alerts_due(&self, now: DateTime<Utc>) -> Result<Vec<ThreadId>> {
        let mut ids = Vec::new();
        for key in self.tree.range(time_range(ALERT, now)).keys() {
            let id = ThreadId::new(read_u64(&key?[9..17]));
            if ids.last() != Some(&id) {
                ids.push(id);
            }
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    fn threads_before(&self, prefix: u8, now: DateTime<Utc>) -> Result<Vec<Thread>> {
        let mut ids = Vec::new();
        for key in self.tree.range(time_range(prefix, now)).keys() {
            ids.push(ThreadId::new(read_u64(&key?[9..17])));
        }
        self.threads_by_id(ids)
    }

    fn threads_by_id(&self, ids: Vec<ThreadId>) -> Result<Vec<Thread>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(t) = self.thread(id)? {
                out.push(t);
            }
        }
        Ok(out)
    }

    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        self.tree.get(key)?.map(|v| decode(&v)).transpose()
    }

    fn scan_values<T: DeserializeOwned>(&self, prefix: &[u8]) -> Result<Vec<T>> {
        self.tree
            .scan_prefix(prefix)
            .values()
            .map(|v| decode(&v?))
            .collect()
    }
}

/// What an audit entry holds: one event (every entry of stores written before events were
/// grouped), or the events of one step.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum AuditEntry {
    One(AuditEvent),
    Step(Vec<AuditEvent>),
}

/// The index entries a thread occupies (its opening-time entry apart, which holds its report
/// facts and never moves): its state, and while its clock runs, its due time,
/// its at-risk time and the alerts the watcher has yet to report (the level is the last
/// byte of the key, so that both alerts of one instant stay distinct).
fn index_keys(t: &Thread) -> Vec<Vec<u8>> {
    let mut keys = vec![[&[STATE, t.state.code()][..], &t.id.get().to_be_bytes()].concat()];
    if t.clock_running() {
        keys.push(key_time(DUE, t.clock.due_at, t.id));
        keys.push(key_time(RISK, t.clock.at_risk_at, t.id));
        for (at, level) in t.pending_alerts() {
            let mut key = key_time(ALERT, at, t.id);
            key.push(level as u8);
            keys.push(key);
        }
        if t.alerted != Alerted::None {
            keys.push([&[LEVEL, t.alerted as u8][..], &t.id.get().to_be_bytes()].concat());
        }
    }
    keys
}

/// The index entries of a job: its state, and its due time while it is queued.
fn job_index_keys(job: &Job) -> Vec<Vec<u8>> {
    let mut keys = vec![key_job(&[JOB_STATE, job.state.code()], &job.id)];
    if job.is_queued() {
        let mut k = vec![QUEUE];
        k.extend_from_slice(&encode_time(job.next_attempt_at));
        k.extend_from_slice(job.id.as_str().as_bytes());
        keys.push(k);
    }
    keys
}

/// The value of a meta key, created by `make` and flushed the first time.
fn once(
    db: &sled::Db,
    tree: &sled::Tree,
    name: u8,
    make: impl FnOnce() -> Vec<u8>,
) -> Result<Vec<u8>> {
    let key = [INSTANCE, name];
    if let Some(v) = tree.get(key)? {
        return Ok(v.to_vec());
    }
    let value = make();
    tree.insert(key, value.clone())?;
    db.flush()?;
    Ok(value)
}

fn key_job(prefix: &[u8], id: &JobId) -> Vec<u8> {
    [prefix, id.as_str().as_bytes()].concat()
}

fn key_digest(day: chrono::NaiveDate) -> Vec<u8> {
    [&[DIGEST][..], day.format("%Y%m%d").to_string().as_bytes()].concat()
}

fn job_id_from(bytes: &[u8]) -> Result<JobId> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| JobId::parse(s).ok())
        .ok_or_else(|| StoreError::Corrupt("an outbox index entry".into()))
}

fn key_id(prefix: u8, id: ThreadId) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(prefix);
    k.extend_from_slice(&id.get().to_be_bytes());
    k
}

fn key_seq(prefix: u8, id: ThreadId, seq: u32) -> Vec<u8> {
    let mut k = key_id(prefix, id);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn key_party(prefix: u8, channel: &Channel, party: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(2 + channel.as_str().len() + party.len());
    k.push(prefix);
    k.extend_from_slice(channel.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(party.as_bytes());
    k
}

fn key_remote(destination: Destination, remote: &str) -> Vec<u8> {
    let mut k = vec![REMOTE];
    k.extend_from_slice(destination.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(remote.as_bytes());
    k
}

/// Under `LATEST`, a sender's dedupe entries sort right after its latest-thread entry, so that
/// the lookups and writes of one message touch one leaf of the tree rather than two far
/// apart (sender names hold no control character, so the keys cannot collide). Stores written
/// before keep their entries under `DEDUPE`.
fn key_dedupe(prefix: u8, channel: &Channel, sender: &Sender, id: &PlatformMessageId) -> Vec<u8> {
    let mut k = key_party(prefix, channel, sender.as_str());
    k.push(0);
    k.extend_from_slice(id.as_str().as_bytes());
    k
}

fn key_time(prefix: u8, at: DateTime<Utc>, id: ThreadId) -> Vec<u8> {
    let mut k = Vec::with_capacity(18);
    k.push(prefix);
    k.extend_from_slice(&encode_time(at));
    k.extend_from_slice(&id.get().to_be_bytes());
    k
}

/// All keys of `prefix` with a time at or before `now`.
fn time_range(prefix: u8, now: DateTime<Utc>) -> std::ops::RangeInclusive<Vec<u8>> {
    let mut end = vec![prefix];
    end.extend_from_slice(&encode_time(now));
    end.extend_from_slice(&[0xff; 9]);
    vec![prefix]..=end
}

/// Milliseconds since the epoch with the sign bit flipped: byte order is time order,
/// before 1970 included.
fn encode_time(at: DateTime<Utc>) -> [u8; 8] {
    ((at.timestamp_millis() as u64) ^ (1 << 63)).to_be_bytes()
}

fn decode_time(bytes: &[u8]) -> DateTime<Utc> {
    let ms = (read_u64(bytes) ^ (1 << 63)) as i64;
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn read_u64(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    let n = bytes.len().min(8);
    buf[..n].copy_from_slice(&bytes[..n]);
    u64::from_be_bytes(buf)
}

/// The counts' record: each counted key (two bytes) and its count (eight, big-endian), in key
/// order.
fn encode_tally(counts: &Tally) -> Vec<u8> {
    let mut keys: Vec<_> = counts.keys().copied().collect();
    keys.sort_unstable();
    let mut out = Vec::with_capacity(keys.len() * 10);
    for k in keys {
        out.extend_from_slice(&k);
        out.extend_from_slice(&counts[&k].to_be_bytes());
    }
    out
}

fn decode_tally(bytes: &[u8]) -> Result<Tally> {
    if bytes.len() % 10 != 0 {
        return Err(StoreError::Corrupt("the counts of the indexes".into()));
    }
    Ok(bytes
        .chunks_exact(10)
        .map(|c| ([c[0], c[1]], read_u64(&c[2..]) as i64))
        .collect())
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> StoreError {
    StoreError::Flush("a writer panicked while holding the commit queue".into())
}

/// The first byte of a value stored deflated by an older guichet (values are now compressed
/// by zstd, see [`dictionary`]). A JSON value never starts with it, so values written before
/// compression (plain JSON) read as they always did.
const DEFLATED: u8 = 0x01;

/// Shorter values are stored as plain JSON: compressing gains nothing on them.
const COMPRESS_FROM: usize = 96;

/// A value as stored: its JSON, compressed by zstd after the store's dictionary when that
/// makes it smaller. A thread's record, its audit events and guichet's acknowledgments are
/// mostly field names, timestamps and the templates' sentences, all of which the dictionary
/// holds: they shrink to a third or less, and more of the store fits in the page cache.
fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if json.len() < COMPRESS_FROM {
        return Ok(json);
    }
    let compressed = dictionary::compress(&json).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // A value that does not shrink is stored as its JSON.
    Ok(if compressed.len() < json.len() {
        compressed
    } else {
        json
    })
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(e.to_string());
    match bytes.split_first() {
        Some((&dictionary::ZSTD_TAG, stored)) => {
            let json = dictionary::decompress(stored).map_err(|e| corrupt(&e))?;
            serde_json::from_slice(&json).map_err(|e| corrupt(&e))
        }
        Some((&dictionary::TAG, stored)) => {
            let json = dictionary::inflate(stored).map_err(|e| corrupt(&e))?;
            serde_json::from_slice(&json).map_err(|e| corrupt(&e))
        }
        Some((&DEFLATED, deflated)) => {
            use std::io::Read as _;
            let mut json = Vec::with_capacity(deflated.len() * 3);
            flate2::read::DeflateDecoder::new(deflated)
                .read_to_end(&mut json)
                .map_err(|e| corrupt(&e))?;
            serde_json::from_slice(&json).map_err(|e| corrupt(&e))
        }
        _ => serde_json::from_slice(bytes).map_err(|e| corrupt(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::MessageKind;
    use crate::domain::thread::{AuditKind, Triage};
    use crate::domain::{Category, Language};
    use crate::testing::policy;
    use chrono::Duration;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 16, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn new_thread(store: &Store, sender: &str, category: Category, sent: DateTime<Utc>) -> Thread {
        store
            .write(first_message(store, sender, category, sent))
            .unwrap()
    }

    fn first_message(
        store: &Store,
        sender: &str,
        category: Category,
        sent: DateTime<Utc>,
    ) -> ThreadWrite {
        let t = Thread::open(
            store.next_thread_id(),
            Channel::web(),
            Sender::parse(sender).unwrap(),
            sent,
            Triage {
                category,
                language: Language::Fr,
                confidence: 0.9,
            },
            &policy(),
        );
        let mut w = ThreadWrite::new(None, t);
        w.messages.push(StoredMessage {
            kind: MessageKind::Citizen,
            author: "citizen".into(),
            at: sent,
            text: "allo".into(),
            masked: None,
            platform_id: None,
            ignored: false,
        });
        w.audit
            .push(AuditEvent::new(sent, AuditKind::Received, "citizen", ""));
        w
    }

    /// The counts in memory and the record kept in the store equal a recount of the
    /// indexes.
    fn agrees_with_a_recount(
        store: &Store,
    ) -> std::result::Result<(), proptest::test_runner::TestCaseError> {
        use proptest::prop_assert_eq;
        let recount = store.recount().unwrap();
        let count = |key: [u8; 2]| recount.get(&key).copied().unwrap_or(0);
        for state in ThreadState::ALL {
            prop_assert_eq!(store.count_in(state) as i64, count([STATE, state.code()]));
        }
        for level in [Alerted::AtRisk, Alerted::Overdue] {
            prop_assert_eq!(
                store.count_alerted(level) as i64,
                count([LEVEL, level as u8])
            );
        }
        for state in JobState::LISTED {
            prop_assert_eq!(
                store.count_jobs(state) as i64,
                count([JOB_STATE, state.code()])
            );
        }
        let kept = decode_tally(&store.tree.get(COUNTS).unwrap().unwrap()).unwrap();
        let nonzero = |t: &Tally| -> std::collections::BTreeMap<[u8; 2], i64> {
            t.iter()
                .filter(|(_, n)| **n != 0)
                .map(|(k, n)| (*k, *n))
                .collect()
        };
        prop_assert_eq!(nonzero(&kept), nonzero(&recount));
        Ok(())
    }

    /// The counts in memory and the record kept with them equal a recount of the indexes
    /// after any sequence of steps, committed one by one or in groups, and once the store is
    /// reopened (from the record, without a scan).
    #[test]
    fn counted_indexes_equal_a_recount_after_random_steps_and_a_restart() {
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};

        // (sender, action): 0 a message, 1 an answer, 2 resolve, 3 an alert, 4 a job moves.
        let steps = prop::collection::vec((0u8..6, 0u8..5, 0i64..96), 1..60);
        let mut runner = TestRunner::new(Config {
            cases: 24,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&steps, |steps| {
                let dir = tempfile::tempdir().unwrap();
                {
                    let store = Store::open(dir.path()).unwrap();
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    for (sender, action, hour) in steps {
                        let name = format!("s{sender}");
                        let now = at(hour);
                        let latest = store
                            .latest_thread(&Channel::web(), &Sender::parse(&name).unwrap())
                            .unwrap();
                        let Some(previous) = latest else {
                            let w = first_message(&store, &name, Category::Complaint, now);
                            runtime.block_on(store.commit(w)).unwrap();
                            continue;
                        };
                        let mut t = previous.clone();
                        let mut w_jobs = Vec::new();
                        match action {
                            0 => {
                                t.citizen_writes(now, &policy());
                            }
                            1 => {
                                let _ = t.answer(now, "Luc");
                            }
                            2 => {
                                let _ = t.resolve(now, "Luc");
                            }
                            3 => {
                                let _ = t.alert(now + Duration::hours(100));
                            }
                            _ => {
                                let ticket = crate::domain::outbox::Ticket {
                                    thread_id: t.id,
                                    seq: t.message_count,
                                    category: t.category,
                                    confidence: 0.9,
                                    language: Language::Fr,
                                    text: "x".into(),
                                    masked: false,
                                    channel: "web".into(),
                                    sender: name.clone(),
                                    sent_at: now,
                                    due_at: now,
                                    needs_triage: false,
                                    abusive: false,
                                    follow_up: false,
                                };
                                let mut job = Job::new(
                                    crate::domain::outbox::Destination::Webhook,
                                    ticket,
                                    now,
                                );
                                if hour % 2 == 0 {
                                    job.state = JobState::Dead;
                                }
                                w_jobs.push(job);
                            }
                        }
                        let mut w = ThreadWrite::new(Some(previous), t);
                        w.jobs = w_jobs;
                        if hour % 3 == 0 {
                            store.write(w).unwrap();
                        } else {
                            runtime.block_on(store.commit(w)).unwrap();
                        }
                    }
                    agrees_with_a_recount(&store)?;
                    store.flush().unwrap();
                }
                // sled lets go of its files' lock a moment after the last handle is dropped.
                let reopened = (0..100)
                    .find_map(|_| {
                        Store::open(dir.path()).ok().or_else(|| {
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            None
                        })
                    })
                    .expect("the store reopens once its first handle is dropped");
                agrees_with_a_recount(&reopened)?;
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_steps_audit_events_share_one_entry_and_single_events_of_older_stores_still_read() {
        let store = Store::temporary().unwrap();
        let mut w = first_message(&store, "a", Category::Info, at(0));
        w.audit.push(AuditEvent::new(
            at(0),
            AuditKind::Classified,
            "guichet",
            "info",
        ));
        w.audit.push(AuditEvent::new(
            at(0),
            AuditKind::Acknowledged,
            "guichet",
            "",
        ));
        let t = store.write(w).unwrap();
        assert_eq!(t.audit_count, 3);
        assert_eq!(store.tree.scan_prefix(key_id(AUDIT, t.id)).count(), 1);
        // A store written before kept one event per entry, numbered by event.
        let old = AuditEvent::new(at(1), AuditKind::AtRisk, "guichet", "");
        store
            .tree
            .insert(key_seq(AUDIT, t.id, 3), encode(&old).unwrap())
            .unwrap();
        let mut next = t.clone();
        next.audit_count = 4;
        let mut w = ThreadWrite::new(Some(t.clone()), next);
        w.audit = vec![
            AuditEvent::new(at(2), AuditKind::Overdue, "guichet", ""),
            AuditEvent::new(at(2), AuditKind::Queued, "guichet", "webhook"),
        ];
        let t = store.write(w).unwrap();
        let kinds: Vec<_> = store
            .audit(t.id)
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                AuditKind::Received,
                AuditKind::Classified,
                AuditKind::Acknowledged,
                AuditKind::AtRisk,
                AuditKind::Overdue,
                AuditKind::Queued
            ]
        );
        assert_eq!(t.audit_count, 6);
    }

    #[test]
    fn a_store_written_before_the_counts_were_kept_is_counted_once_at_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            new_thread(&store, "a", Category::Info, at(0));
            new_thread(&store, "b", Category::Urgent, at(0));
            store.tree.remove(COUNTS).unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.count_in(ThreadState::Open), 2);
        let kept = decode_tally(&store.tree.get(COUNTS).unwrap().unwrap()).unwrap();
        assert_eq!(kept.get(&[STATE, ThreadState::Open.code()]), Some(&2));
        assert!(matches!(
            decode_tally(&[STATE, 0, 1]),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn long_values_are_stored_compressed_and_older_formats_still_read() {
        let store = Store::temporary().unwrap();
        let t = new_thread(&store, "a", Category::Info, at(0));
        let json = serde_json::to_vec(&t).unwrap();
        let stored = store.tree.get(key_id(THREAD, t.id)).unwrap().unwrap();
        assert_eq!(stored[0], dictionary::ZSTD_TAG);
        assert!(
            stored.len() * 2 < json.len(),
            "{} bytes compressed from {}",
            stored.len(),
            json.len()
        );
        assert_eq!(store.thread(t.id).unwrap().as_ref(), Some(&t));
        // A store written before values were compressed holds plain JSON.
        store
            .tree
            .insert(key_id(THREAD, t.id), json.clone())
            .unwrap();
        assert_eq!(store.thread(t.id).unwrap().as_ref(), Some(&t));
        // Then came plain deflate, behind its own tag.
        let mut deflated = vec![DEFLATED];
        let mut encoder =
            flate2::write::DeflateEncoder::new(&mut deflated, flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, &json).unwrap();
        encoder.finish().unwrap();
        store.tree.insert(key_id(THREAD, t.id), deflated).unwrap();
        assert_eq!(store.thread(t.id).unwrap(), Some(t));
        for corrupt in [
            &[DEFLATED, 0xff, 0x00][..],
            &[dictionary::ZSTD_TAG, 0x28, 0xb5],
        ] {
            assert!(matches!(
                decode::<Thread>(corrupt),
                Err(StoreError::Corrupt(_))
            ));
        }
    }

    #[test]
    fn dedupe_entries_sit_beside_the_latest_thread_and_older_stores_still_recognise_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let (channel, sender) = (Channel::web(), Sender::parse("a").unwrap());
        let pid = |s: &str| PlatformMessageId::parse(s).unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let mut w = first_message(&store, "a", Category::Info, at(0));
            w.dedupe = Some(pid("new"));
            let t = store.write(w).unwrap();
            assert_eq!(
                store.seen(&channel, &sender, &pid("new")).unwrap(),
                Some(t.id)
            );
            assert!(store.tree.scan_prefix([DEDUPE]).next().is_none());
            // As a store written before kept it.
            let old = key_dedupe(DEDUPE, &channel, &sender, &pid("old"));
            store
                .tree
                .insert(old, t.id.get().to_be_bytes().to_vec())
                .unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let t = store.latest_thread(&channel, &sender).unwrap().unwrap();
        assert_eq!(
            store.seen(&channel, &sender, &pid("old")).unwrap(),
            Some(t.id)
        );
        assert_eq!(
            store.seen(&channel, &sender, &pid("new")).unwrap(),
            Some(t.id)
        );
        assert_eq!(store.seen(&channel, &sender, &pid("other")).unwrap(), None);
    }

    #[test]
    fn times_encode_in_byte_order() {
        let early = Utc.with_ymd_and_hms(1969, 1, 1, 0, 0, 0).unwrap();
        assert!(encode_time(early) < encode_time(at(0)));
        assert!(encode_time(at(0)) < encode_time(at(1)));
        assert_eq!(decode_time(&encode_time(at(5))), at(5));
    }

    #[test]
    fn a_written_thread_is_read_back_with_its_messages_and_audit() {
        let store = Store::temporary().unwrap();
        let t = new_thread(&store, "marie", Category::Info, at(0));
        assert_eq!(t.message_count, 1);
        assert_eq!(store.thread(t.id).unwrap().unwrap(), t);
        assert_eq!(store.messages(t.id).unwrap()[0].text, "allo");
        assert_eq!(store.audit(t.id).unwrap()[0].kind, AuditKind::Received);
        let latest = store
            .latest_thread(&Channel::web(), &Sender::parse("marie").unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(latest.id, t.id);
    }

    #[test]
    fn overdue_is_a_range_scan_of_running_clocks_latest_first() {
        let store = Store::temporary().unwrap();
        let a = new_thread(&store, "a", Category::Urgent, at(0)); // due at(1)
        let b = new_thread(&store, "b", Category::Urgent, at(2)); // due at(3)
        let _c = new_thread(&store, "c", Category::Info, at(0)); // due at(24)
        let ids: Vec<_> = store.overdue(at(5)).unwrap().iter().map(|t| t.id).collect();
        assert_eq!(ids, vec![b.id, a.id]);
        assert!(store.overdue(at(0)).unwrap().is_empty());

        let mut answered = a.clone();
        answered.answer(at(4), "agent").unwrap();
        store.write(ThreadWrite::new(Some(a), answered)).unwrap();
        let ids: Vec<_> = store.overdue(at(5)).unwrap().iter().map(|t| t.id).collect();
        assert_eq!(ids, vec![b.id]);
        assert_eq!(store.count_in(ThreadState::Answered), 1);
        assert_eq!(store.count_in(ThreadState::Open), 2);
    }

    #[test]
    fn at_risk_excludes_what_is_already_overdue() {
        let store = Store::temporary().unwrap();
        let a = new_thread(&store, "a", Category::Info, at(0)); // risk at(18), due at(24)
        let _b = new_thread(&store, "b", Category::Urgent, at(0));
        let ids: Vec<_> = store
            .at_risk(at(20))
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, vec![a.id]);
    }

    #[test]
    fn alerts_are_indexed_until_reported() {
        let store = Store::temporary().unwrap();
        let t = new_thread(&store, "a", Category::Urgent, at(0));
        assert_eq!(
            store.next_alert().unwrap(),
            Some(at(0) + Duration::minutes(45))
        );
        assert!(store.alerts_due(at(0)).unwrap().is_empty());
        assert_eq!(store.alerts_due(at(2)).unwrap(), vec![t.id]);
        let mut reported = t.clone();
        reported.alert(at(2)).unwrap();
        store.write(ThreadWrite::new(Some(t), reported)).unwrap();
        assert_eq!(store.next_alert().unwrap(), None);
    }

    #[test]
    fn thread_ids_continue_after_reopening_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let first = {
            let store = Store::open(dir.path()).unwrap();
            let t = new_thread(&store, "a", Category::Info, at(0));
            store.flush().unwrap();
            t.id
        };
        let store = Store::open(dir.path()).unwrap();
        assert!(store.thread(first).unwrap().is_some());
        assert!(store.next_thread_id() > first);
    }

    #[test]
    fn a_checkpoint_writes_the_snapshot_of_a_store_let_go_and_leaves_a_held_one_alone() {
        let snapshots = |dir: &Path| -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("snap."))
                .collect();
            names.sort();
            names
        };
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let t = new_thread(&store, "a", Category::Urgent, at(0));
        store.flush().unwrap();
        let before = snapshots(dir.path());

        // Held: nothing happens, and the store goes on.
        assert!(!Store::checkpoint(dir.path()).unwrap());
        assert_eq!(snapshots(dir.path()), before);
        new_thread(&store, "b", Category::Info, at(1));
        store.flush().unwrap();
        drop(store);

        // Let go: a snapshot that covers the writes since the open, and the same store.
        assert!(Store::checkpoint(dir.path()).unwrap());
        let after = snapshots(dir.path());
        assert_ne!(after, before, "a new snapshot");
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.thread(t.id).unwrap().unwrap().id, t.id);
        assert_eq!(store.all_threads().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn concurrent_writers_share_flushes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut tasks = Vec::new();
        for i in 0..32 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                new_thread(&store, &format!("s{i}"), Category::Info, at(0));
                store.durable().await.unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            store.inner.flushed.load(Ordering::SeqCst),
            store.inner.written.load(Ordering::SeqCst)
        );
        assert_eq!(store.all_threads().unwrap().len(), 32);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_commits_share_batches_and_are_all_durable() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut tasks = Vec::new();
        for i in 0..64 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let w = first_message(&store, &format!("s{i}"), Category::Urgent, at(0));
                store.commit(w).await.unwrap().id
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        let stats = store.flush_stats();
        assert_eq!(stats.writes, 64);
        assert!(stats.flushes >= 1 && stats.flushes <= 64);
        // Every commit that returned is readable, with its indexes; the kill -9 tests in
        // tests/api show that it is on disk too.
        for id in &ids {
            assert!(store.thread(*id).unwrap().is_some());
        }
        assert_eq!(store.overdue(at(2)).unwrap().len(), 64);
    }

    #[test]
    fn threads_are_read_by_opening_time_and_an_older_store_gets_the_index_once() {
        let store = Store::temporary().unwrap();
        for (sender, hour) in [("a", 1), ("b", 30), ("c", 60)] {
            new_thread(&store, sender, Category::Info, at(hour));
        }
        let senders = |store: &Store, from, to| -> Vec<String> {
            store
                .threads_opened(from, to)
                .unwrap()
                .into_iter()
                .map(|t| t.sender.to_string())
                .collect()
        };
        assert_eq!(
            senders(&store, at(1), at(30)),
            ["a", "b"],
            "both ends included"
        );
        assert_eq!(senders(&store, at(2), at(100)), ["b", "c"]);
        assert!(senders(&store, at(61), at(100)).is_empty());

        // A store written before the index: its entries and the marker are not there yet.
        let stale: Vec<_> = store
            .tree
            .scan_prefix([OPENED])
            .keys()
            .map(|k| k.unwrap())
            .collect();
        assert_eq!(stale.len(), 3);
        for key in stale {
            store.tree.remove(key).unwrap();
        }
        store.tree.remove([INSTANCE, OPENED]).unwrap();
        assert!(senders(&store, at(0), at(100)).is_empty());
        store.index_opening_times().unwrap();
        assert_eq!(senders(&store, at(0), at(100)), ["a", "b", "c"]);
    }

    #[test]
    fn a_job_is_queued_by_due_time_and_forgotten_once_done() {
        use crate::domain::outbox::{Attempt, Destination, Job, RetryPolicy, Ticket};
        let store = Store::temporary().unwrap();
        let t = new_thread(&store, "a", Category::Complaint, at(0));
        let ticket = Ticket {
            thread_id: t.id,
            seq: 0,
            category: Category::Complaint,
            confidence: 0.9,
            language: Language::Fr,
            text: "allo".into(),
            masked: false,
            channel: "web".into(),
            sender: "a".into(),
            sent_at: at(0),
            due_at: at(48),
            needs_triage: false,
            abusive: false,
            follow_up: false,
        };
        let late = Job::new(Destination::Open311, ticket.clone(), at(2));
        let soon = Job::new(Destination::Webhook, ticket, at(1));
        let mut w = ThreadWrite::new(Some(t.clone()), t.clone());
        w.jobs = vec![late.clone(), soon.clone()];
        let t = store.write(w).unwrap();
        let head: Vec<_> = store.queue_head(10).unwrap();
        assert_eq!(
            head,
            vec![(at(1), soon.id.clone()), (at(2), late.id.clone())]
        );
        assert_eq!(store.count_jobs(JobState::Pending), 2);

        let policy = RetryPolicy {
            initial: Duration::seconds(1),
            max: Duration::seconds(10),
            max_attempts: 1,
            max_age: Duration::hours(1),
            poll: Duration::minutes(1),
            track_for: Duration::days(1),
        };
        let mut dead = soon.clone();
        dead.apply(
            Attempt::Failed(crate::domain::outbox::DeliveryError::transient("x")),
            at(3),
            &policy,
            0.0,
        );
        let mut done = late.clone();
        done.apply(
            Attempt::Delivered {
                ticket_id: None,
                token: None,
            },
            at(3),
            &policy,
            0.0,
        );
        assert_eq!(
            done.state,
            JobState::Done,
            "a blackbox 311 service gives no id"
        );
        let mut w = ThreadWrite::new(Some(t.clone()), t);
        w.jobs = vec![dead.clone(), done];
        store.write(w).unwrap();
        assert!(store.queue_head(10).unwrap().is_empty());
        assert_eq!(store.jobs_in(JobState::Dead).unwrap(), vec![dead]);
        assert!(store.job(&late.id).unwrap().is_none());
        assert_eq!(store.count_jobs(JobState::Pending), 0);
    }

    /// How sled's cost splits between each batch and each key, on this machine: the same
    /// 15 keys a new thread writes, applied one message per batch or several per batch,
    /// without flushing. Prints figures for BENCHMARKS.md; asserts nothing about speed.
    /// `cargo test --release --lib sled_batch_cost -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement, not a check"]
    fn sled_batch_cost() {
        for per_batch in [1u64, 8, 32] {
            let dir = tempfile::tempdir().unwrap();
            let db = sled::Config::new()
                .path(dir.path())
                .mode(sled::Mode::HighThroughput)
                .open()
                .unwrap();
            let tree = db.open_tree("guichet").unwrap();
            let value = vec![7u8; 300];
            let messages = 20_000u64;
            let started = std::time::Instant::now();
            for first in (0..messages).step_by(per_batch as usize) {
                let mut batch = sled::Batch::default();
                for n in first..first + per_batch {
                    for prefix in 0..15u8 {
                        let mut key = vec![b'a' + prefix];
                        key.extend_from_slice(&n.to_be_bytes());
                        batch.insert(key, value.clone());
                    }
                }
                tree.apply_batch(batch).unwrap();
            }
            let rate = messages as f64 / started.elapsed().as_secs_f64();
            println!("{per_batch:>2} message(s) of 15 keys per batch: {rate:>6.0} messages/s");
        }
    }
}
