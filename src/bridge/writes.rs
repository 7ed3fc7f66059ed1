//! Write-through of cards (DESIGN.md "Graph is the truth", "ETags"; issue 7; graph.md
//! §4.3–4.5, §4.9).
//!
//! A PUT or DELETE answers success only after Graph confirmed it; the mirror and the
//! journal are then updated from Graph's answer in one batch. Preconditions are checked
//! against the mirror after refreshing the book when it may be stale, and `If-Match` is
//! also sent to Graph, so an Outlook edit in between gives 412, never a lost update.
//! Card writes of a book run concurrently with each other but never with its refreshes
//! (the book's gate, held shared); writes of one name wait for each other and a UID is
//! claimed by one write at a time (`inflight`).
//!
//! An update whose PATCH answered 412 is checked once more: a retried PATCH whose first
//! attempt landed (answer lost) fails its own If-Match, so when Graph now holds exactly
//! the card PUT, the write is acknowledged instead.
//!
//! Creates are not idempotent: before the POST a *pending* row (book, name → UID) is
//! committed. If the POST's outcome is unknown (`GraphError::Transport`) the contact is
//! looked up by its UID extended property before anything else; if Graph has it, it is
//! adopted, otherwise the client gets 503 and the pending row stays, so a later delta
//! round (or the client's retry) gives the contact the client's name: never a duplicate.
//!
//! ETag on PUT: the new strong ETag is returned when the card now served in the PUT's
//! version has the same content lines as the body PUT (folding and line endings aside);
//! otherwise `None`, so the client re-reads (RFC 6352 §6.3.2.3). With the lossless stash
//! this is the normal case; it is `None` for example when Graph cannot store a photo.

use super::errors::from_graph;
use super::etag::IfMatch;
use super::hrefs::valid_name;
use super::mirror::{Change, PlanOptions};
use super::records::{self, ContactRec, PhotoRec};
use super::refresh::EXPAND;
use super::{AccountMirror, Book, Bridge, lock};
use crate::dav::store::{Precondition, PutOutcome, StoreError, StoreResult};
use crate::graph::GraphError;
use crate::graph::model::{Contact, Photo};
use crate::state::Table;
use crate::vcard::{ParsedCard, UID_PROPERTY_ID, VCardError, VCardVersion};
use bytes::Bytes;
use std::sync::Arc;

/// Mark a book stale so that the next read runs a delta round.
fn invalidate(book: &Book) {
    if let Ok(mut d) = book.data.write() {
        d.refreshed = None;
    }
}

/// The `If-Match` value Graph gets for a contact at `change_key` (graph.md §2.5).
fn graph_etag(change_key: &str) -> String {
    format!("W/\"{change_key}\"")
}

fn card_error(e: VCardError) -> StoreError {
    match e {
        VCardError::TooLarge { .. } | VCardError::StashTooLarge { .. } => StoreError::TooLarge,
        other => StoreError::InvalidCard(other.to_string()),
    }
}

/// The vCard version of a PUT body (its `VERSION` line; 3.0 when absent).
pub(crate) fn body_version(body: &[u8]) -> VCardVersion {
    let text = String::from_utf8_lossy(body);
    let v4 = text.lines().any(|l| {
        let l = l.trim_end_matches('\r');
        l.len() >= 8 && l[..8].eq_ignore_ascii_case("VERSION:") && l[8..].trim() == "4.0"
    });
    if v4 {
        VCardVersion::V4
    } else {
        VCardVersion::V3
    }
}

/// Content lines of a card, unfolded, without line-ending differences or blank lines.
fn content_lines(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(body).replace("\r\n", "\n");
    let unfolded = text.replace("\n ", "").replace("\n\t", "");
    unfolded
        .split('\n')
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether the client may keep its own bytes as the served representation.
pub(crate) fn same_card(put: &[u8], served: &[u8]) -> bool {
    content_lines(put) == content_lines(served)
}

/// Graph's answer to a write, completed with what it does not echo: the extended
/// properties sent (graph.md §4.3, §5.1).
fn confirmed(mut answer: Contact, sent: &Contact) -> Contact {
    if answer.single_value_extended_properties.is_empty() {
        answer.single_value_extended_properties = sent.single_value_extended_properties.clone();
    }
    answer
}

impl Bridge {
    pub(crate) async fn put_card_impl(
        &self,
        user: &str,
        segment: &str,
        name: &str,
        body: Bytes,
        pre: Precondition,
    ) -> StoreResult<PutOutcome> {
        if !valid_name(name) {
            return Err(StoreError::Forbidden("invalid resource name".into()));
        }
        let parsed = crate::vcard::card_to_contact(&body, &self.limits).map_err(card_error)?;
        let version = body_version(&body);
        let (m, book) = self.fresh_book(user, segment).await?;
        let out = self
            .put_locked(&m, &book, name, &body, version, parsed, &pre)
            .await;
        if let Err(e) = &out
            && matches!(
                e,
                StoreError::Unavailable { .. } | StoreError::SignInRequired
            )
        {
            m.record_error(e);
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    async fn put_locked(
        &self,
        m: &Arc<AccountMirror>,
        book: &Arc<Book>,
        name: &str,
        body: &[u8],
        version: VCardVersion,
        parsed: ParsedCard,
        pre: &Precondition,
    ) -> StoreResult<PutOutcome> {
        // One write per name at a time (a client's retry waits for its first attempt);
        // then the book's gate, shared with other card writes, never with a refresh.
        let mut claim = book.writes.name(name).await;
        let _gate = book.flight.shared().await;
        let (key, segment, folder_id) = {
            let r = lock!(book.rec.read())?;
            (
                m.account.key.clone(),
                r.segment.clone(),
                r.folder_id.clone(),
            )
        };
        // An earlier create of this name whose outcome was unknown: settle it first.
        let pending_key = records::pending_key(&key, &segment, name);
        let pending = self
            .store
            .get(Table::Meta, &pending_key)
            .map_err(super::errors::from_state)?;
        let mut adopted = false;
        if let Some(uid) = pending
            && lock!(book.data.read())?.by_name(name).is_none()
        {
            let uid = String::from_utf8_lossy(&uid).into_owned();
            if let Some(found) = self.lookup_uid(m, &folder_id, &uid).await? {
                self.commit_contact(m, book, name, found, None, true)?;
                adopted = true;
            }
        }
        let existing = lock!(book.data.read())?.by_name(name).cloned();
        // UID conflicts within the book (RFC 6352 §6.3.2.1 no-uid-conflict), with the
        // cards in the mirror and with the writes in flight. A card that keeps its own
        // UID derived from its Graph id cannot share it with another contact's derived
        // UID (different ids), only with a stashed one.
        {
            let own_derived = existing
                .as_ref()
                .is_some_and(|e| !e.uid_is_stashed() && e.uid() == parsed.uid);
            let d = lock!(book.data.read())?;
            if let Some(other) = d
                .contacts
                .values()
                .find(|e| e.name != name && e.has_uid(&parsed.uid, !own_derived))
            {
                return Err(StoreError::UidConflict {
                    name: other.name.clone(),
                });
            }
        }
        claim
            .claim_uid(&parsed.uid)
            .map_err(|other| StoreError::UidConflict { name: other })?;
        let if_match = pre.if_match.as_deref().map(IfMatch::parse);
        match existing {
            Some(e) => {
                if pre.if_none_match_any && !adopted {
                    return Err(StoreError::PreconditionFailed);
                }
                if let Some(im) = &if_match
                    && !adopted
                    && !im.matches(
                        e.etags()
                            .map_err(super::errors::from_state)?
                            .iter()
                            .map(String::as_str),
                    )
                {
                    return Err(StoreError::PreconditionFailed);
                }
                let id = e.id.to_string();
                let answer = match m
                    .account
                    .client
                    .update_contact(
                        &m.account.mailbox,
                        &id,
                        &parsed.contact,
                        Some(&graph_etag(e.change_key())),
                    )
                    .await
                {
                    Ok(c) => c,
                    Err(GraphError::NotFound { .. }) => {
                        // Deleted in Outlook meanwhile.
                        self.commit_remove(m, book, &id)?;
                        return Err(StoreError::PreconditionFailed);
                    }
                    Err(GraphError::PreconditionFailed) => {
                        // Changed in Outlook meanwhile — or an earlier attempt of this
                        // PATCH landed and its answer was lost (the retry then fails
                        // If-Match): if Graph now holds exactly what was PUT, it is this
                        // write. Otherwise the next read refreshes.
                        match self.landed(m, &id, body, version, &parsed).await {
                            Some(c) => c,
                            None => {
                                invalidate(book);
                                return Err(StoreError::PreconditionFailed);
                            }
                        }
                    }
                    Err(err) => return Err(from_graph(err)),
                };
                let contact = confirmed(answer, &parsed.contact);
                let old_photo = e.rec().map_err(super::errors::from_state)?.photo;
                self.finish_put(
                    m, book, name, contact, parsed, old_photo, body, version, false,
                )
                .await
            }
            None => {
                if if_match.is_some() {
                    return Err(StoreError::PreconditionFailed);
                }
                let answer = self
                    .create(m, &key, &segment, &folder_id, name, &parsed)
                    .await?;
                self.finish_put(m, book, name, answer, parsed, None, body, version, true)
                    .await
            }
        }
    }

    /// POST with the pending row and the unknown-outcome lookup.
    async fn create(
        &self,
        m: &AccountMirror,
        key: &str,
        segment: &str,
        folder_id: &str,
        name: &str,
        parsed: &ParsedCard,
    ) -> StoreResult<Contact> {
        let pending_key = records::pending_key(key, segment, name);
        self.store
            .put(Table::Meta, &pending_key, parsed.uid.as_bytes())
            .map_err(super::errors::from_state)?;
        let acct = &m.account;
        match acct
            .client
            .create_contact(&acct.mailbox, folder_id, &parsed.contact)
            .await
        {
            Ok(c) => Ok(confirmed(c, &parsed.contact)),
            Err(GraphError::Transport(why)) => {
                tracing::warn!(account = %acct.key, %why, "create outcome unknown; looking the UID up");
                match self.lookup_uid(m, folder_id, &parsed.uid).await {
                    Ok(Some(c)) => Ok(c),
                    Ok(None) | Err(_) => Err(StoreError::Unavailable {
                        retry_after_secs: None,
                    }),
                }
            }
            Err(e) => {
                let _ = self.store.delete(Table::Meta, &pending_key);
                Err(from_graph(e))
            }
        }
    }

    /// The contact `id` as Graph holds it, if it renders exactly as the card PUT.
    async fn landed(
        &self,
        m: &AccountMirror,
        id: &str,
        body: &[u8],
        version: VCardVersion,
        parsed: &ParsedCard,
    ) -> Option<Contact> {
        let acct = &m.account;
        let c = acct
            .client
            .get_contact(&acct.mailbox, id, &EXPAND)
            .await
            .ok()?;
        let rendered = crate::vcard::contact_to_card(&c, parsed.photo.as_ref(), version);
        same_card(body, rendered.as_bytes()).then_some(c)
    }

    /// The contact of this folder carrying `uid` in the UID extended property.
    async fn lookup_uid(
        &self,
        m: &AccountMirror,
        folder_id: &str,
        uid: &str,
    ) -> StoreResult<Option<Contact>> {
        let acct = &m.account;
        let found = acct
            .client
            .find_by_extended_property(&acct.mailbox, folder_id, UID_PROPERTY_ID, uid, &EXPAND)
            .await
            .map_err(from_graph)?;
        Ok(found.into_iter().next())
    }

    /// Photo, mirror, journal, ETag after Graph confirmed the contact.
    #[allow(clippy::too_many_arguments)]
    async fn finish_put(
        &self,
        m: &Arc<AccountMirror>,
        book: &Arc<Book>,
        name: &str,
        mut contact: Contact,
        parsed: ParsedCard,
        old_photo: Option<PhotoRec>,
        body: &[u8],
        version: VCardVersion,
        created: bool,
    ) -> StoreResult<PutOutcome> {
        let acct = &m.account;
        let id = contact
            .id
            .clone()
            .ok_or_else(|| StoreError::Internal("Graph answered without an id".into()))?;
        let new_photo = parsed.photo.as_ref().map(PhotoRec::from_photo);
        let mut photo_stored: Option<PhotoRec> = old_photo.clone();
        let mut photo_error = None;
        // A PUT without PHOTO of a contact that has one removes it: Graph cannot delete
        // a contact photo, so it is replaced by the placeholder (see `photos`).
        let removal = (parsed.photo.is_none() && !parsed.has_photo_property && old_photo.is_some())
            .then(super::photos::placeholder);
        if let Some(p) = parsed.photo.as_ref().or(removal.as_ref())
            && new_photo != old_photo
        {
            match acct.client.put_photo(&acct.mailbox, &id, p).await {
                Ok(()) => {
                    photo_stored = new_photo.clone();
                    // The photo may have bumped the changeKey: re-read so the next
                    // If-Match sent to Graph is current.
                    match acct.client.get_contact(&acct.mailbox, &id, &EXPAND).await {
                        Ok(c) => contact = confirmed(c, &parsed.contact),
                        Err(e) => photo_error = Some(from_graph(e)),
                    }
                }
                Err(GraphError::AccessDenied { message }) => {
                    // Personal accounts cannot store contact photos (graph.md §4.6).
                    tracing::info!(account = %acct.key, %message, "photo not stored by Graph");
                }
                Err(e) => photo_error = Some(from_graph(e)),
            }
        }
        let photo = photo_stored.as_ref().and_then(PhotoRec::to_photo);
        let entry = self.commit_contact(m, book, name, contact, photo, true)?;
        if let Some(e) = photo_error {
            // The contact is stored; the photo is not: the client must retry.
            return Err(e);
        }
        let served = entry.card(version).map_err(super::errors::from_state)?;
        let etag = same_card(body, &served.body).then_some(served.meta.etag);
        Ok(PutOutcome { created, etag })
    }

    /// Put one contact confirmed by Graph into the mirror (journal, href, pending row).
    fn commit_contact(
        &self,
        m: &AccountMirror,
        book: &Book,
        name: &str,
        contact: Contact,
        photo: Option<Photo>,
        journal: bool,
    ) -> StoreResult<Arc<super::mirror::Entry>> {
        let id = contact.id.clone().unwrap_or_default();
        let ck = contact.change_key.clone();
        let rec = ContactRec {
            name: name.to_owned(),
            has_photo: photo.is_some() || super::refresh::has_photo(&contact),
            photo: photo.as_ref().map(PhotoRec::from_photo),
            photo_ck: ck,
            contact: records::kept(contact),
        };
        let segment = lock!(book.rec.read())?.segment.clone();
        let pending = records::pending_key(&m.account.key, &segment, name);
        let mut data = lock!(book.data.write())?;
        let mut plan = data
            .plan(
                &m.account.key,
                &segment,
                vec![Change::Upsert(Box::new(rec))],
                PlanOptions {
                    journal,
                    retention: self.config.journal_retention,
                    groups: self.config.any_group_cards(),
                    ..Default::default()
                },
            )
            .map_err(super::errors::from_state)?;
        plan.batch.delete(Table::Meta, pending);
        self.store
            .commit(std::mem::take(&mut plan.batch))
            .map_err(super::errors::from_state)?;
        data.apply(plan);
        data.contacts
            .get(id.as_str())
            .cloned()
            .ok_or_else(|| StoreError::Internal("contact missing after commit".into()))
    }

    fn commit_remove(&self, m: &AccountMirror, book: &Book, id: &str) -> StoreResult<()> {
        self.commit_changes(
            m,
            book,
            vec![Change::Remove(id.to_owned())],
            PlanOptions {
                journal: true,
                retention: self.config.journal_retention,
                groups: self.config.any_group_cards(),
                ..Default::default()
            },
            false,
        )
        .map(|_| ())
    }

    pub(crate) async fn delete_card_impl(
        &self,
        user: &str,
        segment: &str,
        name: &str,
        pre: Precondition,
    ) -> StoreResult<()> {
        let (m, book) = self.fresh_book(user, segment).await?;
        let _name = book.writes.name(name).await;
        let _gate = book.flight.shared().await;
        let e = lock!(book.data.read())?
            .by_name(name)
            .cloned()
            .ok_or(StoreError::NotFound)?;
        if let Some(im) = pre.if_match.as_deref().map(IfMatch::parse)
            && !im.matches(
                e.etags()
                    .map_err(super::errors::from_state)?
                    .iter()
                    .map(String::as_str),
            )
        {
            return Err(StoreError::PreconditionFailed);
        }
        let acct = &m.account;
        let id = e.id.to_string();
        match acct
            .client
            .delete_contact(&acct.mailbox, &id, Some(&graph_etag(e.change_key())))
            .await
        {
            Ok(()) | Err(GraphError::NotFound { .. }) => {}
            Err(err) => {
                if err == GraphError::PreconditionFailed {
                    invalidate(&book);
                }
                let err = from_graph(err);
                if matches!(
                    err,
                    StoreError::Unavailable { .. } | StoreError::SignInRequired
                ) {
                    m.record_error(&err);
                }
                return Err(err);
            }
        }
        self.commit_remove(&m, &book, &id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_of_a_body() {
        assert_eq!(
            body_version(b"BEGIN:VCARD\r\nVERSION:4.0\r\nEND:VCARD\r\n"),
            VCardVersion::V4
        );
        assert_eq!(
            body_version(b"BEGIN:VCARD\nversion:4.0\nEND:VCARD\n"),
            VCardVersion::V4
        );
        assert_eq!(
            body_version(b"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n"),
            VCardVersion::V3
        );
        assert_eq!(
            body_version(b"BEGIN:VCARD\r\nEND:VCARD\r\n"),
            VCardVersion::V3
        );
    }

    #[test]
    fn same_card_ignores_folding_and_line_endings_only() {
        let a = b"BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:a long\r\n  line\r\nEND:VCARD\r\n";
        let b = b"BEGIN:VCARD\nVERSION:3.0\nNOTE:a long line\nEND:VCARD\n";
        assert!(same_card(a, b));
        let c = b"BEGIN:VCARD\nVERSION:3.0\nNOTE:a long line!\nEND:VCARD\n";
        assert!(!same_card(a, c));
        let d = b"BEGIN:VCARD\nNOTE:a long line\nVERSION:3.0\nEND:VCARD\n";
        assert!(!same_card(b, d), "order matters");
    }

    #[test]
    fn round_trip_of_a_parsed_card_keeps_its_etag_promise() {
        // What finish_put does, without Graph: parse, "store", render, compare.
        let body = b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u-1\r\nFN:Ada Lovelace\r\nN:Lovelace;Ada;;;\r\nEMAIL;TYPE=INTERNET:ada@example.org\r\nX-CUSTOM:kept\r\nEND:VCARD\r\n";
        let parsed = crate::vcard::card_to_contact(body, &crate::vcard::Limits::default()).unwrap();
        let mut c = parsed.contact.clone();
        c.id = Some("AAMk1".into());
        c.change_key = Some("EQ1".into());
        let served = crate::vcard::contact_to_card(&c, None, VCardVersion::V3);
        assert!(same_card(body, served.as_bytes()), "{served}");
    }
}
