//! One refresh of a folder from Graph (graph.md §4.8 delta, §5 extended properties,
//! §4.6 photos; DESIGN.md "Reads come from the mirror").
//!
//! - **Initial load** (no delta link yet): one delta round (`Prefer: odata.maxpagesize`)
//!   names every contact and yields the link; delta pages carry no extended properties,
//!   so the contacts are then read with the list endpoint and `$expand` (1 request per
//!   1000). 10,000 contacts ≈ 10,000/page + 10 requests. Nothing is journaled: the
//!   journal floor moves up, a token-less sync lists everything.
//! - **Later rounds**: the delta round from the stored link; tombstones remove; contacts
//!   whose changeKey differs from the mirror are re-read by id with `$batch` (20 per
//!   request, extended properties expanded), or with the list endpoint when many
//!   changed. An unchanged folder costs exactly one request.
//! - **410 SyncStateNotFound**: a fresh round, diffed against the mirror by changeKey;
//!   only real differences are journaled, so clients' tokens stay valid.
//! - **Photos** are read once per changeKey for contacts Graph marks as having one, 20
//!   per `$batch` (photos are not in delta; graph.md §4.6, §6).
//! - A contact whose UID matches a create of unknown outcome (see `writes`) gets the
//!   name the client chose.

use super::errors::from_graph;
use super::mirror::{BookData, Change, PlanOptions};
use super::records::{self, ContactRec, PhotoRec};
use super::{AccountMirror, Book, Bridge, lock};
use crate::dav::store::StoreResult;
use crate::graph::model::Contact;
use crate::graph::{DeltaRound, GraphError};
use crate::state::Table;
use crate::vcard::{STASH_PROPERTY_ID, UID_PROPERTY_ID};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

/// MAPI "has picture" flag of the address-book property set (graph.md §5.1).
pub const HAS_PICTURE_PROPERTY_ID: &str =
    "Boolean {00062004-0000-0000-C000-000000000046} Id 0x8015";

/// Extended properties read with every contact.
pub const EXPAND: [&str; 3] = [STASH_PROPERTY_ID, UID_PROPERTY_ID, HAS_PICTURE_PROPERTY_ID];

/// Contacts per `$batch` request and per list page (graph.md §4.1, §6).
const PER_BATCH: usize = 20;
const PER_LIST_PAGE: usize = 1000;

/// Whether reading `wanted` contacts of a folder of `folder_size` is cheaper with the
/// list endpoint (whole folder, 1000 per request) than with `$batch` (20 per request).
pub fn list_is_cheaper(wanted: usize, folder_size: usize) -> bool {
    let batches = wanted.div_ceil(PER_BATCH);
    let pages = folder_size.max(wanted).max(1).div_ceil(PER_LIST_PAGE);
    pages < batches
}

/// Whether a failed photo read fails the refresh (to be retried) rather than serving the
/// card without its photo.
fn photo_error_is_fatal(e: &GraphError) -> bool {
    matches!(
        e,
        GraphError::Throttled { .. } | GraphError::Transport(_) | GraphError::SignInRequired { .. }
    )
}

/// Whether Graph says the contact has a photo.
pub fn has_photo(c: &Contact) -> bool {
    c.has_photo_hint
        || c.extended_property(HAS_PICTURE_PROPERTY_ID)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

impl Bridge {
    /// One refresh round of a book (called through its single-flight gate).
    pub(crate) async fn refresh_book(
        &self,
        m: &Arc<AccountMirror>,
        book: &Arc<Book>,
    ) -> StoreResult<()> {
        let acct = &m.account;
        let (folder_id, segment) = {
            let r = lock!(book.rec.read())?;
            (r.folder_id.clone(), r.segment.clone())
        };
        let (link, never_loaded) = {
            let d = lock!(book.data.read())?;
            (
                d.delta_link.clone(),
                d.delta_link.is_none() && d.journal.rev == 0,
            )
        };
        let page = self.config.delta_page_size;
        let started = SystemTime::now();
        let (changes, delta_link, journal) = match link {
            Some(link) => match acct
                .client
                .contacts_delta(&acct.mailbox, &folder_id, Some(&link), page)
                .await
            {
                Ok(round) => {
                    let changes = self
                        .incremental(m, book, &folder_id, round.upserts, round.removed)
                        .await?;
                    (changes, round.delta_link, true)
                }
                Err(GraphError::SyncStateNotFound) => {
                    tracing::info!(account = %acct.key, book = %segment, "delta chain expired; resyncing");
                    let (c, l) = self.full_round(m, book, &folder_id).await?;
                    (c, l, true)
                }
                Err(e) => return Err(from_graph(e)),
            },
            None => {
                let (c, l) = self.full_round(m, book, &folder_id).await?;
                (c, l, !never_loaded)
            }
        };
        let compact = never_loaded && changes.len() >= self.config.compact_first_load_above.max(1);
        self.commit_changes(
            m,
            book,
            changes,
            PlanOptions {
                journal,
                retention: self.config.journal_retention,
                groups: self.config.any_group_cards(),
                delta_link: Some(Some(delta_link)),
                refreshed: Some(started),
            },
            true,
        )?;
        if compact {
            // The first load of a large book allocated and freed several times its final
            // size (Graph pages, the plan, the write batch); the entries built in between
            // pin those pages. Rebuilt from the rows just committed, as a restart would
            // load them, they sit together: at 100,000 contacts 300 → 241 MiB of RSS.
            let mut fresh = BookData::load(&self.store, &m.account.key, &segment)
                .map_err(super::errors::from_state)?;
            fresh.refreshed = Some(started);
            *lock!(book.data.write())? = fresh;
        }
        m.record_sync(started);
        Ok(())
    }

    /// Apply a change set to a book: plan, commit atomically, then update memory.
    /// With `adopt_pending`, new contacts whose UID matches an unknown-outcome create get
    /// the client's name, and those pending rows go in the same batch.
    pub(crate) fn commit_changes(
        &self,
        m: &AccountMirror,
        book: &Book,
        mut changes: Vec<Change>,
        options: PlanOptions,
        adopt_pending: bool,
    ) -> StoreResult<super::mirror::Applied> {
        let key = &m.account.key;
        let segment = lock!(book.rec.read())?.segment.clone();
        let mut data = lock!(book.data.write())?;
        let mut adopted = Vec::new();
        if adopt_pending {
            let pending = self
                .store
                .scan_prefix(Table::Meta, &records::pending_prefix(key, &segment))
                .map_err(super::errors::from_state)?;
            if !pending.is_empty() {
                let by_uid: HashMap<String, (Vec<u8>, String)> = pending
                    .into_iter()
                    .filter_map(|(k, v)| {
                        let name =
                            String::from_utf8(k.rsplit(|&b| b == 0).next()?.to_vec()).ok()?;
                        Some((String::from_utf8(v).ok()?, (k, name)))
                    })
                    .collect();
                for c in &mut changes {
                    if let Change::Upsert(rec) = c
                        && !data.contacts.contains_key(rec.id())
                        && let Some((k, name)) = by_uid.get(&rec.uid())
                    {
                        rec.name = name.clone();
                        adopted.push(k.clone());
                    }
                }
            }
        }
        let mut plan = data
            .plan(key, &segment, changes, options)
            .map_err(super::errors::from_state)?;
        for k in adopted {
            plan.batch.delete(Table::Meta, k);
        }
        self.store
            .commit(std::mem::take(&mut plan.batch))
            .map_err(super::errors::from_state)?;
        let applied = super::mirror::Applied {
            names: plan.names.clone(),
            changes: plan.changes,
        };
        data.apply(plan);
        Ok(applied)
    }

    /// A later delta round: re-read what changed.
    async fn incremental(
        &self,
        m: &AccountMirror,
        book: &Book,
        folder_id: &str,
        upserts: Vec<Contact>,
        removed: Vec<String>,
    ) -> StoreResult<Vec<Change>> {
        let mut changes: Vec<Change> = removed.into_iter().map(Change::Remove).collect();
        let mut wanted = Vec::new();
        {
            let d = lock!(book.data.read())?;
            let mut seen = HashSet::new();
            for c in upserts {
                let Some(id) = c.id.clone() else { continue };
                let same = d
                    .contacts
                    .get(id.as_str())
                    .is_some_and(|e| Some(e.change_key()) == c.change_key.as_deref());
                if !same && seen.insert(id.clone()) {
                    wanted.push(id);
                }
            }
        }
        if wanted.is_empty() {
            return Ok(changes);
        }
        let size = lock!(book.data.read())?.contacts.len();
        let fetched = self.read_contacts(m, folder_id, &wanted, size).await?;
        let mut by_id: HashMap<String, Contact> = fetched
            .into_iter()
            .filter_map(|c| Some((c.id.clone()?, c)))
            .collect();
        let mut recs = Vec::new();
        for id in wanted {
            match by_id.remove(&id) {
                Some(c) => recs.push(c),
                // Gone between the delta round and the read.
                None => changes.push(Change::Remove(id)),
            }
        }
        let recs = self.with_photos(m, book, recs).await?;
        changes.extend(recs.into_iter().map(|r| Change::Upsert(Box::new(r))));
        Ok(changes)
    }

    /// A fresh delta round (initial load or 410 resync), diffed against the mirror.
    async fn full_round(
        &self,
        m: &AccountMirror,
        book: &Book,
        folder_id: &str,
    ) -> StoreResult<(Vec<Change>, String)> {
        let acct = &m.account;
        let round = acct
            .client
            .contacts_delta(&acct.mailbox, folder_id, None, self.config.delta_page_size)
            .await
            .map_err(from_graph)?;
        let present: HashSet<String> = round.upserts.iter().filter_map(|c| c.id.clone()).collect();
        let (wanted, gone): (Vec<String>, Vec<String>) = {
            let d = lock!(book.data.read())?;
            let wanted = round
                .upserts
                .iter()
                .filter(|c| {
                    c.id.as_ref().is_some_and(|id| {
                        d.contacts
                            .get(id.as_str())
                            .is_none_or(|e| Some(e.change_key()) != c.change_key.as_deref())
                    })
                })
                .filter_map(|c| c.id.clone())
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let gone = d
                .contacts
                .keys()
                .filter(|id| !present.contains(&***id))
                .map(|id| id.to_string())
                .collect();
            (wanted, gone)
        };
        // The delta objects are not needed any more: free them before the contacts are
        // read again with their extended properties, so both sets are not held at once.
        let DeltaRound { delta_link, .. } = round;
        let mut changes: Vec<Change> = gone.into_iter().map(Change::Remove).collect();
        if !wanted.is_empty() {
            let wanted_set: HashSet<&String> = wanted.iter().collect();
            let fetched = self
                .read_contacts(m, folder_id, &wanted, present.len())
                .await?;
            let recs: Vec<Contact> = fetched
                .into_iter()
                .filter(|c| c.id.as_ref().is_some_and(|id| wanted_set.contains(id)))
                .collect();
            let fetched_ids: HashSet<String> = recs.iter().filter_map(|c| c.id.clone()).collect();
            for id in &wanted {
                if !fetched_ids.contains(id) {
                    changes.push(Change::Remove(id.clone()));
                }
            }
            let recs = self.with_photos(m, book, recs).await?;
            changes.extend(recs.into_iter().map(|r| Change::Upsert(Box::new(r))));
        }
        Ok((changes, delta_link))
    }

    /// Read contacts with their extended properties: `$batch` by id for a few, the list
    /// endpoint for many. A stash that a list view truncated is re-read by id.
    async fn read_contacts(
        &self,
        m: &AccountMirror,
        folder_id: &str,
        ids: &[String],
        folder_size: usize,
    ) -> StoreResult<Vec<Contact>> {
        let acct = &m.account;
        if !list_is_cheaper(ids.len(), folder_size) {
            return acct
                .client
                .get_contacts(&acct.mailbox, ids, &EXPAND)
                .await
                .map_err(from_graph);
        }
        let wanted: HashSet<&String> = ids.iter().collect();
        let mut listed: Vec<Contact> = acct
            .client
            .list_contacts(&acct.mailbox, folder_id, &EXPAND)
            .await
            .map_err(from_graph)?
            .into_iter()
            .filter(|c| c.id.as_ref().is_some_and(|id| wanted.contains(id)))
            .collect();
        let truncated: Vec<String> = listed
            .iter()
            .filter(|c| {
                c.extended_property(STASH_PROPERTY_ID)
                    .is_some_and(|s| !crate::vcard::stash_is_complete(s))
            })
            .filter_map(|c| c.id.clone())
            .collect();
        if !truncated.is_empty() {
            let again = acct
                .client
                .get_contacts(&acct.mailbox, &truncated, &EXPAND)
                .await
                .map_err(from_graph)?;
            let again: HashMap<String, Contact> = again
                .into_iter()
                .filter_map(|c| Some((c.id.clone()?, c)))
                .collect();
            for c in &mut listed {
                if let Some(full) = c.id.as_ref().and_then(|id| again.get(id)) {
                    *c = full.clone();
                }
            }
        }
        Ok(listed)
    }

    /// Turn fetched contacts into records, with photos read once per changeKey.
    async fn with_photos(
        &self,
        m: &AccountMirror,
        book: &Book,
        contacts: Vec<Contact>,
    ) -> StoreResult<Vec<ContactRec>> {
        let mut recs = Vec::with_capacity(contacts.len());
        let mut to_fetch = Vec::new();
        {
            let d = lock!(book.data.read())?;
            for c in contacts {
                let id = c.id.clone().unwrap_or_default();
                let mut rec = ContactRec {
                    name: String::new(),
                    has_photo: has_photo(&c),
                    contact: records::kept(c),
                    photo: None,
                    photo_ck: None,
                };
                let old = d.contacts.get(id.as_str());
                if let Some(old) = old
                    && old.photo_ck() == Some(rec.change_key())
                {
                    // The photo is in the stored record (read only for this case).
                    let stored = old.rec().map_err(super::errors::from_state)?;
                    rec.photo = stored.photo;
                    rec.photo_ck = stored.photo_ck;
                } else if rec.has_photo {
                    to_fetch.push(recs.len());
                }
                recs.push(rec);
            }
        }
        if to_fetch.is_empty() {
            return Ok(recs);
        }
        let acct = &m.account;
        let ids: Vec<String> = to_fetch.iter().map(|&i| recs[i].id().to_owned()).collect();
        let answers = match acct.client.get_photos(&acct.mailbox, &ids).await {
            Ok(a) => a,
            Err(e) if photo_error_is_fatal(&e) => return Err(from_graph(e)),
            // The batch itself failed for another reason: each photo gets that error.
            Err(e) => ids
                .iter()
                .map(|_| Err(GraphError::Decode(e.to_string())))
                .collect(),
        };
        let results = to_fetch.into_iter().zip(answers);
        for (i, r) in results {
            match r {
                Ok(p) => {
                    // The placeholder of a removed photo is no photo (see `photos`).
                    let p = p.filter(|p| !super::photos::is_placeholder(&p.bytes));
                    recs[i].photo = p.as_ref().map(PhotoRec::from_photo);
                    recs[i].photo_ck = Some(recs[i].change_key().to_owned());
                }
                Err(GraphError::NotFound { .. }) => {
                    recs[i].photo_ck = Some(recs[i].change_key().to_owned());
                }
                Err(e) if photo_error_is_fatal(&e) => return Err(from_graph(e)),
                Err(e) => {
                    tracing::warn!(account = %acct.key, error = %e, "bridge: photo not readable; serving the card without it");
                    recs[i].photo_ck = Some(recs[i].change_key().to_owned());
                }
            }
        }
        Ok(recs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_or_batch_by_request_count() {
        assert!(!list_is_cheaper(1, 10_000));
        assert!(!list_is_cheaper(20, 50));
        assert!(list_is_cheaper(21, 50), "2 batches vs 1 page");
        assert!(!list_is_cheaper(200, 10_000), "10 batches vs 10 pages");
        assert!(list_is_cheaper(10_000, 10_000));
    }

    #[test]
    fn photo_flag_from_hint_or_mapi_property() {
        let mut c = Contact::default();
        assert!(!has_photo(&c));
        c.single_value_extended_properties
            .push(crate::graph::model::SingleValueExtendedProperty {
                id: HAS_PICTURE_PROPERTY_ID.into(),
                value: Some("True".into()),
            });
        assert!(has_photo(&c));
    }
}
