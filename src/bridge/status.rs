//! What a person sees of their own mailbox on the onboarding page (issue 11 item 2):
//! the account's health (last sync, errors, lost sign-in) and, per address book, its
//! contacts and last refresh. Read from the loaded mirror only; never calls Graph.

use super::{AccountStats, Bridge};
use std::time::SystemTime;

/// One address book of the mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookStatus {
    pub name: String,
    pub contacts: usize,
    /// Last successful delta round of this book.
    pub last_sync: Option<SystemTime>,
}

/// The mailbox a CardDAV user reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountStatus {
    pub account: AccountStats,
    /// In the order clients see them (the default book first).
    pub books: Vec<BookStatus>,
}

impl Bridge {
    /// Status of the mailbox `user` reads; `None` while it has no account or its mirror
    /// was not loaded yet (before the first sync).
    pub fn account_status(&self, user: &str) -> Option<AccountStatus> {
        let key = self.accounts.account(user)?.key;
        let mirror = self.mirrors.lock().ok()?.get(&key)?.get()?.clone();
        let mut account = mirror.health.lock().ok()?.clone();
        let books: Vec<BookStatus> = mirror
            .books()
            .ok()?
            .iter()
            .filter_map(|b| {
                let name = b.rec.read().ok()?.display_name.clone();
                let data = b.data.read().ok()?;
                Some(BookStatus {
                    name,
                    contacts: data.contacts.len(),
                    last_sync: data.refreshed,
                })
            })
            .collect();
        account.books = books.len();
        account.contacts = books.iter().map(|b| b.contacts).sum();
        Some(AccountStatus { account, books })
    }
}
