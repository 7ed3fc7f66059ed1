//! The bridge: implements [`crate::dav::AddressBookStore`] over `graph` + `vcard` +
//! `state` (DESIGN.md "The shape"; issues 5 and 7).
//!
//! Per Graph account the bridge keeps a mirror: the folder tree (each contact folder is
//! an address book, the default one first) and, per folder, every contact. The state
//! store holds each contact as Graph returned it with its stash / UID extended
//! properties, its resource name and its photo, plus a summary row; memory holds a lean
//! entry per contact ([`entry`]) with its cards rendered lazily and cached with their
//! ETags. Everything durable lives in the state store (see [`records`]), so a restart
//! serves at once, with every sync token still valid.
//!
//! Decisions this module carries out (DESIGN.md "Decisions"):
//! - *Reads come from the mirror*: within `freshness_secs` a read makes no Graph call;
//!   after it, one delta round per folder, single-flight ([`refresh`]). A failed refresh
//!   of a folder that was loaded before serves the mirror (and counts an error); only
//!   `SignInRequired` and a folder never loaded fail the read.
//! - *Sync tokens* are journal revisions ([`journal`], [`sync_token`]); Graph delta links
//!   stay inside; a 410 resync is diffed against the mirror ([`mirror`]).
//! - *Graph is the truth* for writes ([`writes`]), *hrefs and UIDs* ([`hrefs`]),
//!   *ETags* ([`etag`]), *address books = contact folders* ([`folders`]).
//!
//! Files, one job each: `config` (settings), `accounts` (user → mailbox), `records`
//! (state keys and rows), `entry` (one contact in memory), `mirror` (in-memory book +
//! atomic change plans), `journal`,
//! `sync_token`, `hrefs`, `etag`, `refresh` (Graph delta rounds), `folders`, `writes`,
//! `inflight` (writes waiting for Graph),
//! `groups` (categories as group vCards, DESIGN.md "Groups"), `photos` (photo removal),
//! `dav_store` (the trait impl), `errors` (Graph → `StoreError`), `polling`, `progress`
//! (warm-up observer for `cardbridge sync`), `status` (one user's mailbox for the
//! onboarding page).

pub mod accounts;
pub mod config;
mod dav_store;
pub mod entry;
pub mod errors;
pub mod etag;
mod folders;
pub mod groups;
pub mod hrefs;
mod inflight;
pub mod journal;
pub mod mirror;
pub mod photos;
mod polling;
pub mod progress;
pub mod records;
mod refresh;
pub mod status;
pub mod sync_token;
mod writes;

pub use accounts::{
    Account, AccountDirectory, OrganizationMailboxes, SingleMailbox, StaticAccounts,
};
pub use config::BridgeConfig;
pub use progress::Progress;
pub use status::{AccountStatus, BookStatus};

use crate::dav::store::{StoreError, StoreResult};
use crate::state::SharedStore;
use mirror::BookData;
use records::{BookRec, FolderTreeRec};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

/// Lock a std mutex / rwlock, turning poisoning into an internal error.
macro_rules! lock {
    ($e:expr) => {
        $e.map_err(|_| crate::dav::store::StoreError::Internal("bridge lock poisoned".into()))
    };
}
pub(crate) use lock;

/// Per-account figures for `/metrics`, `check` and logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountStats {
    pub key: String,
    pub books: usize,
    pub contacts: usize,
    /// Most recent successful refresh of any of its folders.
    pub last_sync: Option<SystemTime>,
    /// Failed refreshes and writes since start.
    pub errors: u64,
    pub last_error: Option<String>,
    /// The account's Graph sign-in is no longer valid.
    pub sign_in_required: bool,
}

/// Figures of every account the bridge has loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgeStats {
    pub accounts: Vec<AccountStats>,
}

/// Outcome of the last single-flight run, shared with the callers that waited for it.
#[derive(Debug)]
struct Flight {
    generation: u64,
    last: StoreResult<()>,
}

/// How old a book may get before a read waits for the card writes in flight to refresh it.
const STALE_UNDER_WRITES_SECS: u64 = 60;

/// Single-flight gate: concurrent callers share one run (DESIGN.md "single-flight").
///
/// It is also a fair reader-writer gate: a run (a refresh) and [`Self::exclusive`] are
/// alone in it, card writes hold it [`Self::shared`] so they overlap each other but never
/// a refresh. (A delta round that overlapped a write could apply the contact's previous
/// version after the write committed the new one, with a delta link already past it.)
#[derive(Debug)]
pub(crate) struct SingleFlight {
    generation: AtomicU64,
    slot: tokio::sync::RwLock<Flight>,
}

impl Default for SingleFlight {
    fn default() -> Self {
        Self {
            generation: AtomicU64::new(0),
            slot: tokio::sync::RwLock::new(Flight {
                generation: 0,
                last: Ok(()),
            }),
        }
    }
}

impl SingleFlight {
    /// Run `f` unless a run finished while this caller waited; then share its outcome.
    pub async fn run<F, Fut>(&self, f: F) -> StoreResult<()>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = StoreResult<()>>,
    {
        let seen = self.generation.load(Ordering::Acquire);
        let mut slot = self.slot.write().await;
        if slot.generation != seen {
            return slot.last.clone();
        }
        let out = f().await;
        slot.generation += 1;
        slot.last = out.clone();
        self.generation.store(slot.generation, Ordering::Release);
        out
    }

    /// Exclusive access without running (book and group writes, alone like a refresh).
    pub async fn exclusive(&self) -> tokio::sync::RwLockWriteGuard<'_, impl Sized> {
        self.slot.write().await
    }

    /// Shared access: card writes, concurrent with each other, never with a refresh.
    pub async fn shared(&self) -> tokio::sync::RwLockReadGuard<'_, impl Sized> {
        self.slot.read().await
    }
}

/// One address book of an account.
#[derive(Debug)]
pub(crate) struct Book {
    pub rec: RwLock<BookRec>,
    pub data: RwLock<BookData>,
    /// Refreshes run through it; card writes hold it only to check and to commit.
    pub flight: SingleFlight,
    /// Card writes waiting for Graph (per-name order, UID claims).
    pub writes: inflight::InFlight,
}

/// The mirror of one account.
pub(crate) struct AccountMirror {
    pub account: Account,
    pub tree: RwLock<TreeState>,
    pub tree_flight: SingleFlight,
    pub health: Mutex<AccountStats>,
}

pub(crate) struct TreeState {
    pub books: Vec<Arc<Book>>,
    pub refreshed: Option<SystemTime>,
}

impl AccountMirror {
    fn load(store: &SharedStore, account: Account) -> StoreResult<AccountMirror> {
        let key = account.key.clone();
        let tree: FolderTreeRec = match store
            .get(crate::state::Table::Mirror, &records::folders_key(&key))
            .map_err(errors::from_state)?
        {
            Some(v) => records::decode(&v).map_err(errors::from_state)?,
            None => FolderTreeRec::default(),
        };
        let mut books = Vec::new();
        for rec in tree.books {
            let data = BookData::load(store, &key, &rec.segment).map_err(errors::from_state)?;
            books.push(Arc::new(Book {
                rec: RwLock::new(rec),
                data: RwLock::new(data),
                flight: SingleFlight::default(),
                writes: Default::default(),
            }));
        }
        Ok(AccountMirror {
            health: Mutex::new(AccountStats {
                key: key.clone(),
                ..Default::default()
            }),
            account,
            tree: RwLock::new(TreeState {
                books,
                refreshed: tree.refreshed_ms.map(records::from_ms),
            }),
            tree_flight: SingleFlight::default(),
        })
    }

    pub fn books(&self) -> StoreResult<Vec<Arc<Book>>> {
        Ok(lock!(self.tree.read())?.books.clone())
    }

    pub fn book(&self, segment: &str) -> StoreResult<Arc<Book>> {
        let tree = lock!(self.tree.read())?;
        for b in &tree.books {
            if lock!(b.rec.read())?.segment == segment {
                return Ok(b.clone());
            }
        }
        Err(StoreError::NotFound)
    }

    /// Count an error (and remember a lost sign-in).
    pub fn record_error(&self, e: &StoreError) {
        if let Ok(mut h) = self.health.lock() {
            h.errors += 1;
            h.last_error = Some(e.to_string());
            if *e == StoreError::SignInRequired {
                h.sign_in_required = true;
            }
        }
        tracing::warn!(account = %self.account.key, error = %e, "bridge: upstream error");
    }

    pub fn record_sync(&self, at: SystemTime) {
        if let Ok(mut h) = self.health.lock() {
            h.last_sync = Some(h.last_sync.map_or(at, |t| t.max(at)));
            h.sign_in_required = false;
        }
    }
}

/// The bridge. Share it as `Arc<Bridge>`; `Dav<Bridge>` takes that `Arc`.
pub struct Bridge {
    store: SharedStore,
    config: BridgeConfig,
    accounts: Arc<dyn AccountDirectory>,
    mirrors: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Arc<AccountMirror>>>>>,
    limits: crate::vcard::Limits,
}

impl Bridge {
    pub fn new(
        store: SharedStore,
        config: BridgeConfig,
        accounts: Arc<dyn AccountDirectory>,
    ) -> Self {
        Self {
            store,
            config,
            accounts,
            mirrors: Mutex::new(HashMap::new()),
            limits: crate::vcard::Limits::default(),
        }
    }

    pub fn config(&self) -> &BridgeConfig {
        &self.config
    }

    /// Per-account figures of every loaded account.
    pub fn stats(&self) -> BridgeStats {
        let cells: Vec<_> = match self.mirrors.lock() {
            Ok(m) => m.values().cloned().collect(),
            Err(_) => return BridgeStats::default(),
        };
        let mut accounts = Vec::new();
        for cell in cells {
            let Some(m) = cell.get() else { continue };
            let mut s = m.health.lock().map(|h| h.clone()).unwrap_or_default();
            let books = m.books().unwrap_or_default();
            s.books = books.len();
            s.contacts = books
                .iter()
                .filter_map(|b| b.data.read().ok().map(|d| d.contacts.len()))
                .sum();
            accounts.push(s);
        }
        accounts.sort_by(|a, b| a.key.cmp(&b.key));
        BridgeStats { accounts }
    }

    /// Graph requests of every client the loaded accounts use, each client counted once
    /// (app-only mailboxes share one client). Cheap: no book is looked at.
    pub fn graph_stats(&self) -> crate::graph::ClientStats {
        let mut clients: Vec<crate::graph::GraphClient> = Vec::new();
        for m in self.loaded() {
            if !clients.iter().any(|c| c.same_client(&m.account.client)) {
                clients.push(m.account.client.clone());
            }
        }
        let mut total = crate::graph::ClientStats::default();
        for c in &clients {
            total.add(&c.stats());
        }
        total
    }

    /// Load the user's mirror and refresh its folder tree and every book now (startup,
    /// `check`, tests).
    pub async fn warm_up(&self, user: &str) -> StoreResult<()> {
        self.warm_up_with(user, &|_| {}).await.map(|_| ())
    }

    /// The account mirror of `user`, loaded from the store on first use.
    pub(crate) async fn mirror(&self, user: &str) -> StoreResult<Arc<AccountMirror>> {
        let account = self.accounts.account(user).ok_or(StoreError::NotFound)?;
        let cell = {
            let mut m = lock!(self.mirrors.lock())?;
            m.entry(account.key.clone()).or_default().clone()
        };
        let store = self.store.clone();
        cell.get_or_try_init(|| async move { AccountMirror::load(&store, account).map(Arc::new) })
            .await
            .cloned()
    }

    /// Every loaded account mirror (polling).
    pub(crate) fn loaded(&self) -> Vec<Arc<AccountMirror>> {
        match self.mirrors.lock() {
            Ok(m) => m.values().filter_map(|c| c.get().cloned()).collect(),
            Err(_) => Vec::new(),
        }
    }

    fn is_fresh(&self, at: Option<SystemTime>, window_secs: u64) -> bool {
        match at {
            None => false,
            Some(t) => SystemTime::now()
                .duration_since(t)
                .map(|age| age < Duration::from_secs(window_secs))
                .unwrap_or(true),
        }
    }

    /// Make sure the folder tree is no older than `folder_tree_secs` (or refresh now).
    pub(crate) async fn ensure_tree(&self, m: &Arc<AccountMirror>, force: bool) -> StoreResult<()> {
        let (refreshed, empty) = {
            let t = lock!(m.tree.read())?;
            (t.refreshed, t.books.is_empty())
        };
        if !force && self.is_fresh(refreshed, self.config.folder_tree_secs) {
            return Ok(());
        }
        let out = m.tree_flight.run(|| self.refresh_tree(m)).await;
        match out {
            Ok(()) => Ok(()),
            Err(e) => {
                m.record_error(&e);
                if empty || e == StoreError::SignInRequired {
                    Err(e)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Make sure `book` is no older than `freshness_secs` (or refresh now).
    pub(crate) async fn ensure_fresh(
        &self,
        m: &Arc<AccountMirror>,
        book: &Arc<Book>,
        force: bool,
    ) -> StoreResult<()> {
        let (refreshed, loaded) = {
            let d = lock!(book.data.read())?;
            (d.refreshed, d.delta_link.is_some())
        };
        if !force && self.is_fresh(refreshed, self.config.freshness_secs) {
            return Ok(());
        }
        // Card writes in flight hold the book's gate while Graph works, and a refresh must
        // not overlap them: a read then answers from the mirror as it stands (each write
        // commits its own result) rather than queue behind Graph, unless the mirror is
        // older than STALE_UNDER_WRITES_SECS, so a stream of writes cannot starve refreshes.
        if !force
            && loaded
            && book.writes.busy()
            && self.is_fresh(refreshed, STALE_UNDER_WRITES_SECS)
        {
            return Ok(());
        }
        let out = book.flight.run(|| self.refresh_book(m, book)).await;
        match out {
            Ok(()) => Ok(()),
            Err(e) => {
                m.record_error(&e);
                if !loaded || e == StoreError::SignInRequired {
                    Err(e)
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Resolve `user` and `segment` to a fresh book.
    pub(crate) async fn fresh_book(
        &self,
        user: &str,
        segment: &str,
    ) -> StoreResult<(Arc<AccountMirror>, Arc<Book>)> {
        let m = self.mirror(user).await?;
        self.ensure_tree(&m, false).await?;
        let b = m.book(segment)?;
        self.ensure_fresh(&m, &b, false).await?;
        Ok((m, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn single_flight_shares_one_run_among_waiters() {
        let f = Arc::new(SingleFlight::default());
        let runs = Arc::new(AtomicU64::new(0));
        let gate = Arc::new(tokio::sync::Notify::new());
        // The first caller holds the slot until released; the others queue behind it.
        let first = {
            let (f, runs, gate) = (f.clone(), runs.clone(), gate.clone());
            tokio::spawn(async move {
                f.run(|| async {
                    runs.fetch_add(1, Ordering::SeqCst);
                    gate.notified().await;
                    Err(StoreError::Unavailable {
                        retry_after_secs: Some(3),
                    })
                })
                .await
            })
        };
        while runs.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let waiters: Vec<_> = (0..5)
            .map(|_| {
                let (f, runs) = (f.clone(), runs.clone());
                tokio::spawn(async move {
                    f.run(|| async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    })
                    .await
                })
            })
            .collect();
        // Let the waiters reach the lock before releasing the first run.
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        gate.notify_one();
        let expected = Err(StoreError::Unavailable {
            retry_after_secs: Some(3),
        });
        assert_eq!(first.await.unwrap(), expected);
        for w in waiters {
            assert_eq!(w.await.unwrap(), expected, "waiters share the outcome");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // A caller arriving afterwards runs again.
        f.run(|| async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }
}
