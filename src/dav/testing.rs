//! [`MemoryBooks`]: an in-memory [`AddressBookStore`] for tests (this crate's and other
//! engineers'; hence public, not `cfg(test)`), with the behaviour the bridge promises:
//! journaled RFC 6578 sync tokens (with tombstones, continuation tokens under a
//! `limit`, and a way to forget history so old tokens become invalid), UID conflict
//! detection per book, strong ETags hashed from the served bytes, cards served in 3.0
//! or 4.0 (converted with calcard when the stored version differs), the default book
//! first and undeletable, and injectable failures ([`MemoryBooks::fail_with`]).
//!
//! Cards are kept byte for byte as PUT; the PUT's ETag is the ETag of those bytes.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::SystemTime;

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::dav::filter::parse_card;
use crate::dav::methods::etag_list_matches;
use crate::dav::store::{
    AddressBookStore, BookInfo, BookPatch, Card, CardMeta, Changes, Precondition, PutOutcome,
    StoreError, StoreResult, VCardVersion,
};

/// An in-memory store of users, books and cards.
pub struct MemoryBooks {
    state: Mutex<State>,
    /// Makes tokens of one instance invalid in another.
    epoch: u64,
    failure: Mutex<Option<StoreError>>,
}

#[derive(Default)]
struct State {
    users: BTreeMap<String, User>,
}

struct User {
    displayname: String,
    books: Vec<Book>,
}

struct Book {
    id: String,
    displayname: String,
    description: Option<String>,
    is_default: bool,
    rev: u64,
    /// Changes at or before this revision are forgotten: tokens older are invalid.
    floor: u64,
    cards: BTreeMap<String, Stored>,
    journal: Vec<Entry>,
}

struct Stored {
    body: Bytes,
    version: VCardVersion,
    uid: Option<String>,
    modified: SystemTime,
    rev: u64,
}

struct Entry {
    rev: u64,
    name: String,
    deleted: bool,
}

impl Default for MemoryBooks {
    fn default() -> Self {
        Self::new()
    }
}

/// The strong ETag of served bytes.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let mut s = String::with_capacity(34);
    s.push('"');
    for b in &digest[..10] {
        s.push_str(&format!("{b:02x}"));
    }
    s.push('"');
    s
}

/// Serve `body` (stored in `from`) in version `to`.
fn render(body: &Bytes, from: VCardVersion, to: VCardVersion) -> Bytes {
    if from == to {
        return body.clone();
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return body.clone();
    };
    let target = match to {
        VCardVersion::V3 => calcard::vcard::VCardVersion::V3_0,
        VCardVersion::V4 => calcard::vcard::VCardVersion::V4_0,
    };
    match calcard::vcard::VCard::parse(text) {
        Ok(card) => {
            let mut out = String::with_capacity(text.len() + 32);
            match card.write_to(&mut out, target) {
                Ok(()) => Bytes::from(out),
                Err(_) => body.clone(),
            }
        }
        Err(_) => body.clone(),
    }
}

impl Book {
    fn new(id: &str, displayname: &str, is_default: bool) -> Self {
        Book {
            id: id.to_owned(),
            displayname: displayname.to_owned(),
            description: None,
            is_default,
            rev: 0,
            floor: 0,
            cards: BTreeMap::new(),
            journal: Vec::new(),
        }
    }

    fn record(&mut self, name: &str, deleted: bool) -> u64 {
        self.rev += 1;
        self.journal.push(Entry {
            rev: self.rev,
            name: name.to_owned(),
            deleted,
        });
        self.rev
    }

    fn meta(&self, name: &str, s: &Stored, version: VCardVersion) -> (CardMeta, Bytes) {
        let body = render(&s.body, s.version, version);
        let meta = CardMeta {
            name: name.to_owned(),
            etag: etag_of(&body),
            content_length: body.len() as u64,
            last_modified: s.modified,
            version,
        };
        (meta, body)
    }

    /// Whether `if_match` names the current card in any version it is served in.
    fn if_match_ok(&self, name: &str, if_match: &str) -> bool {
        let Some(s) = self.cards.get(name) else {
            return false;
        };
        if if_match.trim() == "*" {
            return true;
        }
        [VCardVersion::V3, VCardVersion::V4]
            .into_iter()
            .any(|v| etag_list_matches(if_match, &self.meta(name, s, v).0.etag))
    }
}

impl MemoryBooks {
    /// An empty store (no users).
    pub fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Self {
            state: Mutex::new(State::default()),
            epoch: nanos ^ (rand::random::<u64>() >> 1),
            failure: Mutex::new(None),
        }
    }

    /// A store with one user who has a default book `contacts` ("Contacts").
    pub fn with_user(user: &str) -> Self {
        let s = Self::new();
        s.add_user(user, user);
        s.add_book(user, "contacts", "Contacts", true);
        s
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panicking test thread must not poison every other test's store.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Add a user (no books).
    pub fn add_user(&self, user: &str, displayname: &str) {
        self.lock().users.insert(
            user.to_owned(),
            User {
                displayname: displayname.to_owned(),
                books: Vec::new(),
            },
        );
    }

    /// Add a book to a user; a default book is listed first.
    pub fn add_book(&self, user: &str, id: &str, displayname: &str, is_default: bool) {
        let mut st = self.lock();
        if let Some(u) = st.users.get_mut(user) {
            let b = Book::new(id, displayname, is_default);
            if is_default {
                u.books.insert(0, b);
            } else {
                u.books.push(b);
            }
        }
    }

    /// Write a card directly, without preconditions or UID checks (an edit made
    /// "in Outlook"). Returns its ETag in the version it was written in.
    pub fn insert_card(
        &self,
        user: &str,
        book: &str,
        name: &str,
        body: impl Into<Bytes>,
    ) -> StoreResult<String> {
        let body = body.into();
        let (version, uid) = inspect(&body)?;
        let mut st = self.lock();
        let b = book_mut(&mut st, user, book)?;
        let rev = b.record(name, false);
        let etag = etag_of(&body);
        b.cards.insert(
            name.to_owned(),
            Stored {
                body,
                version,
                uid,
                modified: SystemTime::now(),
                rev,
            },
        );
        Ok(etag)
    }

    /// Remove a card directly (a deletion made "in Outlook").
    pub fn remove_card(&self, user: &str, book: &str, name: &str) -> StoreResult<()> {
        let mut st = self.lock();
        let b = book_mut(&mut st, user, book)?;
        b.cards.remove(name).ok_or(StoreError::NotFound)?;
        b.record(name, true);
        Ok(())
    }

    /// The stored bytes of a card.
    pub fn card_body(&self, user: &str, book: &str, name: &str) -> Option<Bytes> {
        let mut st = self.lock();
        let b = book_mut(&mut st, user, book).ok()?;
        b.cards.get(name).map(|s| s.body.clone())
    }

    /// Names of the cards of a book.
    pub fn card_names(&self, user: &str, book: &str) -> Vec<String> {
        let mut st = self.lock();
        book_mut(&mut st, user, book)
            .map(|b| b.cards.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Forget the journal of a book: every token issued so far becomes invalid.
    pub fn forget_history(&self, user: &str, book: &str) {
        let mut st = self.lock();
        if let Ok(b) = book_mut(&mut st, user, book) {
            b.floor = b.rev;
            b.journal.clear();
        }
    }

    /// Make every store call fail with `err` until [`MemoryBooks::clear_failure`].
    pub fn fail_with(&self, err: StoreError) {
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(err);
    }

    /// Stop failing.
    pub fn clear_failure(&self) {
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    fn check(&self) -> StoreResult<()> {
        match &*self.failure.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn token(&self, book: &str, rev: u64) -> String {
        format!("urn:cardbridge:memory:{:x}:{}:{}", self.epoch, book, rev)
    }

    fn parse_token(&self, book: &str, token: &str) -> Option<u64> {
        let prefix = format!("urn:cardbridge:memory:{:x}:{}:", self.epoch, book);
        token.strip_prefix(&prefix)?.parse().ok()
    }

    fn info(&self, b: &Book) -> BookInfo {
        BookInfo {
            id: b.id.clone(),
            displayname: b.displayname.clone(),
            description: b.description.clone(),
            sync_token: self.token(&b.id, b.rev),
            ctag: format!("{:x}-{}", self.epoch, b.rev),
            is_default: b.is_default,
        }
    }
}

fn book_mut<'a>(st: &'a mut State, user: &str, book: &str) -> StoreResult<&'a mut Book> {
    st.users
        .get_mut(user)
        .and_then(|u| u.books.iter_mut().find(|b| b.id == book))
        .ok_or(StoreError::NotFound)
}

/// Version and UID of a card, or why it is not a card.
fn inspect(body: &[u8]) -> StoreResult<(VCardVersion, Option<String>)> {
    if std::str::from_utf8(body).is_err() {
        return Err(StoreError::InvalidCard("not UTF-8".into()));
    }
    let props = parse_card(body);
    let first = props.first().map(|p| (p.name.as_str(), p.value.trim()));
    if first.is_none_or(|(n, v)| n != "BEGIN" || !v.eq_ignore_ascii_case("VCARD")) {
        return Err(StoreError::InvalidCard(
            "does not start with BEGIN:VCARD".into(),
        ));
    }
    if !props
        .iter()
        .any(|p| p.name == "END" && p.value.trim().eq_ignore_ascii_case("VCARD"))
    {
        return Err(StoreError::InvalidCard("no END:VCARD".into()));
    }
    let version = match props
        .iter()
        .find(|p| p.name == "VERSION")
        .map(|p| p.value.trim())
    {
        Some("3.0") => VCardVersion::V3,
        Some("4.0") => VCardVersion::V4,
        Some(v) => {
            return Err(StoreError::InvalidCard(format!(
                "vCard version {v} is not accepted"
            )));
        }
        None => return Err(StoreError::InvalidCard("no VERSION".into())),
    };
    let uid = props
        .iter()
        .find(|p| p.name == "UID")
        .map(|p| p.value.trim().to_owned());
    Ok((version, uid))
}

impl AddressBookStore for MemoryBooks {
    async fn principal_displayname(&self, user: &str) -> StoreResult<String> {
        self.check()?;
        self.lock()
            .users
            .get(user)
            .map(|u| u.displayname.clone())
            .ok_or(StoreError::NotFound)
    }

    async fn list_books(&self, user: &str) -> StoreResult<Vec<BookInfo>> {
        self.check()?;
        let st = self.lock();
        let u = st.users.get(user).ok_or(StoreError::NotFound)?;
        Ok(u.books.iter().map(|b| self.info(b)).collect())
    }

    async fn book(&self, user: &str, book: &str) -> StoreResult<BookInfo> {
        self.check()?;
        let mut st = self.lock();
        let b = book_mut(&mut st, user, book)?;
        Ok(self.info(b))
    }

    async fn list_cards(
        &self,
        user: &str,
        book: &str,
        version: VCardVersion,
    ) -> StoreResult<Vec<CardMeta>> {
        self.check()?;
        let mut st = self.lock();
        let b = book_mut(&mut st, user, book)?;
        Ok(b.cards
            .iter()
            .map(|(n, s)| b.meta(n, s, version).0)
            .collect())
    }

    async fn get_cards(
        &self,
        user: &str,
        book: &str,
        names: &[String],
        version: VCardVersion,
    ) -> StoreResult<Vec<Option<Card>>> {
        self.check()?;
        let mut st = self.lock();
        let b = book_mut(&mut st, user, book)?;
        Ok(names
            .iter()
            .map(|n| {
                b.cards.get(n).map(|s| {
                    let (meta, body) = b.meta(n, s, version);
                    Card { meta, body }
                })
            })
            .collect())
    }

    async fn changes_since(
        &self,
        user: &str,
        book: &str,
        token: Option<&str>,
        limit: Option<usize>,
        version: VCardVersion,
    ) -> StoreResult<Changes> {
        self.check()?;
        let since = match token {
            None => None,
            Some(t) => Some(
                self.parse_token(book, t)
                    .ok_or(StoreError::InvalidSyncToken)?,
            ),
        };
        let mut st = self.lock();
        let b = book_mut(&mut st, user, book)?;
        if since.is_some_and(|r| r > b.rev || (r < b.floor)) {
            return Err(StoreError::InvalidSyncToken);
        }
        // (latest revision, name, deleted), ordered by revision.
        let mut entries: Vec<(u64, String, bool)> = match since {
            None => b
                .cards
                .iter()
                .map(|(n, s)| (s.rev, n.clone(), false))
                .collect(),
            Some(r) => {
                let mut latest: BTreeMap<&str, (u64, bool)> = BTreeMap::new();
                for e in b.journal.iter().filter(|e| e.rev > r) {
                    latest.insert(&e.name, (e.rev, e.deleted));
                }
                latest
                    .into_iter()
                    .map(|(n, (rev, deleted))| (rev, n.to_owned(), deleted))
                    .collect()
            }
        };
        entries.sort();
        let truncated = limit.is_some_and(|l| entries.len() > l);
        if let Some(l) = limit {
            entries.truncate(l);
        }
        let new_rev = if truncated {
            entries.last().map_or(since.unwrap_or(0), |e| e.0)
        } else {
            b.rev
        };
        let mut changed = Vec::new();
        let mut deleted = Vec::new();
        for (_, name, gone) in entries {
            match b.cards.get(&name) {
                Some(s) if !gone => changed.push(b.meta(&name, s, version).0),
                _ => deleted.push(name),
            }
        }
        Ok(Changes {
            changed,
            deleted,
            new_token: self.token(book, new_rev),
            truncated,
        })
    }

    async fn put_card(
        &self,
        user: &str,
        book: &str,
        name: &str,
        body: Bytes,
        precondition: Precondition,
    ) -> StoreResult<PutOutcome> {
        self.check()?;
        let (version, uid) = inspect(&body)?;
        let mut st = self.lock();
        let b = book_mut(&mut st, user, book)?;
        let exists = b.cards.contains_key(name);
        if precondition.if_none_match_any && exists {
            return Err(StoreError::PreconditionFailed);
        }
        if let Some(im) = &precondition.if_match
            && !b.if_match_ok(name, im)
        {
            return Err(StoreError::PreconditionFailed);
        }
        if let Some(uid) = &uid
            && let Some((other, _)) = b
                .cards
                .iter()
                .find(|(n, s)| n.as_str() != name && s.uid.as_deref() == Some(uid))
        {
            return Err(StoreError::UidConflict {
                name: other.clone(),
            });
        }
        let rev = b.record(name, false);
        let etag = etag_of(&body);
        b.cards.insert(
            name.to_owned(),
            Stored {
                body,
                version,
                uid,
                modified: SystemTime::now(),
                rev,
            },
        );
        Ok(PutOutcome {
            created: !exists,
            etag: Some(etag),
        })
    }

    async fn delete_card(
        &self,
        user: &str,
        book: &str,
        name: &str,
        precondition: Precondition,
    ) -> StoreResult<()> {
        self.check()?;
        let mut st = self.lock();
        let b = book_mut(&mut st, user, book)?;
        if !b.cards.contains_key(name) {
            return Err(StoreError::NotFound);
        }
        if let Some(im) = &precondition.if_match
            && !b.if_match_ok(name, im)
        {
            return Err(StoreError::PreconditionFailed);
        }
        b.cards.remove(name);
        b.record(name, true);
        Ok(())
    }

    async fn create_book(&self, user: &str, book: &str, patch: BookPatch) -> StoreResult<BookInfo> {
        self.check()?;
        let mut st = self.lock();
        let u = st.users.get_mut(user).ok_or(StoreError::NotFound)?;
        if u.books.iter().any(|b| b.id == book) {
            return Err(StoreError::AlreadyExists);
        }
        let mut b = Book::new(book, patch.displayname.as_deref().unwrap_or(book), false);
        b.description = patch.description.flatten();
        let info = self.info(&b);
        u.books.push(b);
        Ok(info)
    }

    async fn update_book(&self, user: &str, book: &str, patch: BookPatch) -> StoreResult<BookInfo> {
        self.check()?;
        let mut st = self.lock();
        let b = book_mut(&mut st, user, book)?;
        if let Some(d) = patch.displayname {
            b.displayname = d;
        }
        if let Some(d) = patch.description {
            b.description = d;
        }
        Ok(self.info(b))
    }

    async fn delete_book(&self, user: &str, book: &str) -> StoreResult<()> {
        self.check()?;
        let mut st = self.lock();
        let u = st.users.get_mut(user).ok_or(StoreError::NotFound)?;
        let i = u
            .books
            .iter()
            .position(|b| b.id == book)
            .ok_or(StoreError::NotFound)?;
        if u.books[i].is_default {
            return Err(StoreError::Forbidden(
                "the default address book cannot be deleted".into(),
            ));
        }
        u.books.remove(i);
        Ok(())
    }
}
