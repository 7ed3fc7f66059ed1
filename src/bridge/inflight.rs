//! Writes in flight in one book, so that card writes need the book's gate only to check
//! and to commit, not while Graph works (RELIABILITY.md §6: with the gate held across the
//! Graph round trips, every write and every refresh of a book queued behind each other).
//!
//! Two things must still not overlap once the gate is released during the Graph call:
//! - two writes of the same name (a client's retry while its first PUT is still in
//!   flight): a per-name async lock serialises them, so the second sees the first's
//!   result, exactly as before;
//! - two creates of the same UID under different names (RFC 6352 §6.3.2.1
//!   `no-uid-conflict`): the UID is reserved from the precondition check until the
//!   commit, and a second write claiming it is refused with the first's name.
//!
//! Entries exist only while a write holds them; both maps are empty when nothing is
//! being written. [`InFlight::busy`] lets a read that would refresh the book answer from
//! the mirror instead of queueing behind Graph (see `ensure_fresh`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type NameLock = Arc<tokio::sync::Mutex<()>>;

#[derive(Debug, Default)]
struct Inner {
    names: HashMap<String, NameLock>,
    /// UID → name of the write that claimed it.
    uids: HashMap<String, String>,
}

/// The writes in flight in one book.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    inner: Mutex<Inner>,
}

/// Held while a write of one name runs; releases the name (and its UID claim) on drop.
pub(crate) struct NameGuard<'a> {
    owner: &'a InFlight,
    name: String,
    lock: Option<tokio::sync::OwnedMutexGuard<()>>,
    uid: Option<String>,
}

impl InFlight {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait until no other write of `name` runs, then hold the name.
    pub(crate) async fn name(&self, name: &str) -> NameGuard<'_> {
        let lock = self
            .inner()
            .names
            .entry(name.to_owned())
            .or_default()
            .clone();
        let guard = lock.lock_owned().await;
        NameGuard {
            owner: self,
            name: name.to_owned(),
            lock: Some(guard),
            uid: None,
        }
    }

    /// Whether a card write of this book is under way (or waiting for its name).
    pub(crate) fn busy(&self) -> bool {
        !self.inner().names.is_empty()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        let i = self.inner();
        i.names.is_empty() && i.uids.is_empty()
    }
}

impl NameGuard<'_> {
    /// Claim `uid` for this write until the guard drops; `Err(other name)` when another
    /// write in flight claimed it first.
    pub(crate) fn claim_uid(&mut self, uid: &str) -> Result<(), String> {
        let mut i = self.owner.inner();
        match i.uids.get(uid) {
            Some(n) if *n != self.name => return Err(n.clone()),
            _ => {}
        }
        i.uids.insert(uid.to_owned(), self.name.clone());
        self.uid = Some(uid.to_owned());
        Ok(())
    }
}

impl Drop for NameGuard<'_> {
    fn drop(&mut self) {
        drop(self.lock.take());
        let mut i = self.owner.inner();
        if let Some(uid) = self.uid.take()
            && i.uids.get(&uid) == Some(&self.name)
        {
            i.uids.remove(&uid);
        }
        // Forget the name's lock when no other write holds or waits for it.
        if i.names
            .get(&self.name)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            i.names.remove(&self.name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn writes_of_one_name_wait_for_each_other_and_other_names_do_not() {
        let f = Arc::new(InFlight::default());
        let first = f.name("a.vcf").await;
        // Another name is free at once.
        let other = tokio::time::timeout(Duration::from_secs(5), f.name("b.vcf"))
            .await
            .expect("another name does not wait");
        drop(other);
        // The same name waits until the first is done.
        let f2 = f.clone();
        let second = tokio::spawn(async move {
            let _g = f2.name("a.vcf").await;
        });
        tokio::task::yield_now().await;
        assert!(!second.is_finished());
        drop(first);
        second.await.unwrap();
        assert!(f.is_empty());
    }

    #[tokio::test]
    async fn a_uid_is_claimed_by_one_name_until_its_write_ends() {
        let f = InFlight::default();
        let mut a = f.name("a.vcf").await;
        a.claim_uid("uid-1").unwrap();
        a.claim_uid("uid-1").unwrap(); // the same write again
        let mut b = f.name("b.vcf").await;
        assert_eq!(b.claim_uid("uid-1"), Err("a.vcf".into()));
        b.claim_uid("uid-2").unwrap();
        drop(a);
        let mut c = f.name("c.vcf").await;
        c.claim_uid("uid-1").unwrap(); // free again once a's write ended
        drop(b);
        drop(c);
        assert!(f.is_empty());
    }
}
