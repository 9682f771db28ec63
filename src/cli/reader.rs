//! Staff commands that only read: they open the store alone, with a small page cache, when
//! it is free (no classifier trained, no templates loaded: what a read does not need), and
//! reach the running server through its staff API when it holds the store.

use std::process::ExitCode;

use anyhow::anyhow;
use chrono::{DateTime, Utc};

use super::{is_locked, ListPrinter, Staff};
use crate::config::Settings;
use crate::domain::thread::{Correction, ThreadId};
use crate::staff::{Cursor, Detail, Filter, Page, MAX_PAGE};
use crate::store::Store;

/// sled's page cache for a command that reads: enough for a page of a list and its threads,
/// however large the store (`store.cache_mb` is sized for a server that writes).
const READ_CACHE_BYTES: u64 = 16 * 1024 * 1024;

pub(super) struct Reader {
    settings: Settings,
    source: Source,
}

enum Source {
    Store(Store),
    Server(Box<Staff>),
}

impl Reader {
    /// The store itself when it is free; else the running server that holds it (as
    /// [`Staff::connect`] finds it).
    pub(super) async fn connect(settings: Settings) -> anyhow::Result<Reader> {
        let source = match Store::open_with_cache(&settings.store.path, READ_CACHE_BYTES) {
            Ok(store) => Source::Store(store),
            Err(e) => {
                let e = anyhow::Error::new(e);
                if !is_locked(&e) {
                    return Err(e);
                }
                Source::Server(Box::new(Staff::connect(settings.clone()).await?))
            }
        };
        Ok(Reader { settings, source })
    }

    pub(super) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Prints the threads of `filters`, one list after the other, page by page as they are
    /// read (a page of the store or of the running server's API), at most `limit` of each:
    /// memory holds one page, however long the lists.
    pub(super) async fn print_lists(
        &self,
        filters: &[Filter],
        limit: Option<usize>,
        as_json: bool,
    ) -> anyhow::Result<ExitCode> {
        let mut out = ListPrinter::new(&self.settings, as_json);
        let now = Utc::now();
        for &filter in filters {
            let mut left = limit.unwrap_or(usize::MAX);
            let mut cursor: Option<String> = None;
            while left > 0 {
                let page = self
                    .page(filter, now, cursor.as_deref(), left.min(MAX_PAGE))
                    .await?;
                left = left.saturating_sub(page.threads.len());
                out.page(&page.threads)?;
                match page.next_cursor {
                    Some(c) => cursor = Some(c),
                    None => break,
                }
            }
        }
        out.finish()?;
        Ok(ExitCode::SUCCESS)
    }

    async fn page(
        &self,
        filter: Filter,
        now: DateTime<Utc>,
        cursor: Option<&str>,
        limit: usize,
    ) -> anyhow::Result<Page> {
        match &self.source {
            Source::Store(store) => page_of(store, filter, now, cursor, limit),
            Source::Server(staff) => staff.page(filter, now, cursor, limit).await,
        }
    }

    pub(super) async fn show(&self, id: ThreadId) -> anyhow::Result<Detail> {
        let detail = match &self.source {
            Source::Store(store) => crate::staff::detail(store, id, Utc::now())?,
            Source::Server(staff) => Some(staff.show(id).await?),
        };
        detail.ok_or_else(|| anyhow!("there is no thread {id}"))
    }

    /// Every correction of a category by staff.
    pub(super) async fn corrections(&self) -> anyhow::Result<Vec<Correction>> {
        match &self.source {
            Source::Store(store) => Ok(store.corrections()?),
            Source::Server(staff) => staff.corrections().await,
        }
    }
}

/// A page of threads read from the store itself, after the cursor of a previous page.
pub(super) fn page_of(
    store: &crate::store::Store,
    filter: Filter,
    now: DateTime<Utc>,
    cursor: Option<&str>,
    limit: usize,
) -> anyhow::Result<Page> {
    let cursor = cursor
        .map(|c| Cursor::parse(c, filter))
        .transpose()
        .map_err(|e| anyhow!(e))?;
    Ok(crate::staff::page(
        store,
        filter,
        now,
        cursor.as_ref(),
        limit,
    )?)
}
