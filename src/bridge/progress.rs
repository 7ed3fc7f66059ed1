//! Progress of a warm-up (the initial or catch-up load of a user's mirror), for the
//! `cardbridge sync` progress bar (issue 11 item 4).
//!
//! The observer is told after the folder tree is read (how many books there are) and
//! after each book is loaded (books done, contacts in the mirror so far). It is called
//! per book, not per Graph page: a page-level hook would have to reach into the Graph
//! client's paging, while a book is the unit the bridge commits atomically, so every
//! figure reported is one that the state store already holds.

use super::{Bridge, lock};
use crate::dav::store::StoreResult;

/// Where a warm-up stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Address books (contact folders) of the account.
    pub books_total: usize,
    /// Books loaded so far.
    pub books_done: usize,
    /// Contacts in the books loaded so far.
    pub contacts: usize,
    /// Display name of the book just loaded (`None` in the first report).
    pub book: Option<String>,
}

impl Bridge {
    /// [`Bridge::warm_up`] with an observer called after the folder tree and after each
    /// book; returns the final figures.
    pub async fn warm_up_with(
        &self,
        user: &str,
        observe: &(dyn Fn(&Progress) + Sync),
    ) -> StoreResult<Progress> {
        let m = self.mirror(user).await?;
        self.ensure_tree(&m, true).await?;
        let books = m.books()?;
        let mut p = Progress {
            books_total: books.len(),
            ..Progress::default()
        };
        observe(&p);
        for b in books {
            self.ensure_fresh(&m, &b, true).await?;
            p.books_done += 1;
            p.contacts += lock!(b.data.read())?.contacts.len();
            p.book = Some(lock!(b.rec.read())?.display_name.clone());
            observe(&p);
        }
        Ok(p)
    }
}
