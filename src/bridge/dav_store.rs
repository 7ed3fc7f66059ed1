//! [`AddressBookStore`] for [`Bridge`]: the answers `dav` turns into CardDAV responses.
//!
//! Every read first makes its book fresh (no Graph call within the freshness window,
//! see `Bridge::ensure_fresh`), then answers from the mirror. Listing the home refreshes
//! each book so that ctags and sync tokens in a Depth-1 PROPFIND of the home move when
//! Outlook changed something.
//!
//! For users with group cards (`BridgeConfig::group_cards_for`), each book's members are
//! its contacts plus its category groups (see `groups`), and a group card PUT or DELETE
//! goes to `groups`.

use super::folders::book_info;
use super::groups::groups_of;
use super::sync_token::SyncToken;
use super::{Bridge, lock};
use crate::dav::store::{
    AddressBookStore, BookInfo, BookPatch, Card, CardMeta, Changes, Precondition, PutOutcome,
    StoreError, StoreResult, VCardVersion,
};
use bytes::Bytes;

impl AddressBookStore for Bridge {
    async fn principal_displayname(&self, user: &str) -> StoreResult<String> {
        let m = self.mirror(user).await?;
        Ok(m.account.display_name.clone())
    }

    async fn list_books(&self, user: &str) -> StoreResult<Vec<BookInfo>> {
        let m = self.mirror(user).await?;
        self.ensure_tree(&m, false).await?;
        let books = m.books()?;
        let refreshed =
            futures_util::future::join_all(books.iter().map(|b| self.ensure_fresh(&m, b, false)))
                .await;
        if let Some(Err(e)) = refreshed.into_iter().find(Result::is_err) {
            return Err(e);
        }
        let mut out = Vec::with_capacity(books.len());
        for b in &books {
            out.push(book_info(b)?);
        }
        // The default book first (macOS uses only the first one).
        out.sort_by_key(|b| !b.is_default);
        Ok(out)
    }

    async fn book(&self, user: &str, book: &str) -> StoreResult<BookInfo> {
        let (_, b) = self.fresh_book(user, book).await?;
        book_info(&b)
    }

    async fn list_cards(
        &self,
        user: &str,
        book: &str,
        version: VCardVersion,
    ) -> StoreResult<Vec<CardMeta>> {
        let (_, b) = self.fresh_book(user, book).await?;
        let d = lock!(b.data.read())?;
        let mut out: Vec<CardMeta> = d
            .names
            .values()
            .filter_map(|id| d.contacts.get(id))
            .map(|e| e.meta(version).map_err(super::errors::from_state))
            .collect::<StoreResult<_>>()?;
        if self.config.group_cards_for(user) {
            out.extend(groups_of(&d).values().map(|g| g.meta(version)));
        }
        Ok(out)
    }

    async fn get_cards(
        &self,
        user: &str,
        book: &str,
        names: &[String],
        version: VCardVersion,
    ) -> StoreResult<Vec<Option<Card>>> {
        let (_, b) = self.fresh_book(user, book).await?;
        let d = lock!(b.data.read())?;
        let groups = if self.config.group_cards_for(user) {
            groups_of(&d)
        } else {
            Default::default()
        };
        names
            .iter()
            .map(|n| match d.by_name(n) {
                Some(e) => e.card(version).map(Some).map_err(super::errors::from_state),
                None => Ok(groups.get(n).map(|g| g.card(version))),
            })
            .collect()
    }

    async fn changes_since(
        &self,
        user: &str,
        book: &str,
        token: Option<&str>,
        limit: Option<usize>,
        version: VCardVersion,
    ) -> StoreResult<Changes> {
        let since = match token.map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some(SyncToken::parse(t).ok_or(StoreError::InvalidSyncToken)?),
        };
        let (_, b) = self.fresh_book(user, book).await?;
        let instance = lock!(b.rec.read())?.instance.clone();
        let limit = limit.or((self.config.sync_limit > 0).then_some(self.config.sync_limit));
        let d = lock!(b.data.read())?;
        let groups = if self.config.group_cards_for(user) {
            groups_of(&d)
        } else {
            Default::default()
        };
        let sel = if groups.is_empty() {
            d.journal.select(&instance, since.as_ref(), &d.names, limit)
        } else {
            let mut members: std::collections::BTreeMap<&str, ()> =
                d.names.keys().map(|n| (n.as_str(), ())).collect();
            members.extend(groups.keys().map(|n| (n.as_str(), ())));
            let members: std::collections::BTreeMap<String, ()> =
                members.into_keys().map(|n| (n.to_owned(), ())).collect();
            d.journal.select(&instance, since.as_ref(), &members, limit)
        }
        .map_err(|_| StoreError::InvalidSyncToken)?;
        let mut changes = Changes {
            changed: Vec::new(),
            deleted: Vec::new(),
            new_token: sel.next.to_uri(),
            truncated: sel.truncated,
        };
        for name in sel.names {
            match (d.by_name(&name), groups.get(&name)) {
                (Some(e), _) => changes
                    .changed
                    .push(e.meta(version).map_err(super::errors::from_state)?),
                (None, Some(g)) => changes.changed.push(g.meta(version)),
                (None, None) => changes.deleted.push(name),
            }
        }
        Ok(changes)
    }

    async fn put_card(
        &self,
        user: &str,
        book: &str,
        name: &str,
        body: Bytes,
        precondition: Precondition,
    ) -> StoreResult<PutOutcome> {
        if self.config.group_cards_for(user) && crate::vcard::group::is_group_card(&body) {
            return self
                .put_group_impl(user, book, name, &body, precondition)
                .await;
        }
        self.put_card_impl(user, book, name, body, precondition)
            .await
    }

    async fn delete_card(
        &self,
        user: &str,
        book: &str,
        name: &str,
        precondition: Precondition,
    ) -> StoreResult<()> {
        match self
            .delete_card_impl(user, book, name, precondition.clone())
            .await
        {
            Err(StoreError::NotFound) if self.config.group_cards_for(user) => {
                self.delete_group_impl(user, book, name, precondition).await
            }
            other => other,
        }
    }

    async fn create_book(&self, user: &str, book: &str, patch: BookPatch) -> StoreResult<BookInfo> {
        self.create_book_impl(user, book, patch).await
    }

    async fn update_book(&self, user: &str, book: &str, patch: BookPatch) -> StoreResult<BookInfo> {
        self.update_book_impl(user, book, patch).await
    }

    async fn delete_book(&self, user: &str, book: &str) -> StoreResult<()> {
        self.delete_book_impl(user, book).await
    }
}
