//! One mirrored contact as kept in memory: only what the hot paths need (issue 9:
//! memory per contact).
//!
//! Listing, GET, sync-collection, UID checks and group cards read the name, the Graph
//! id (one `Arc<str>` shared with the book's index), the changeKey, the UID, the
//! categories, the photo flags and the rendered cards with their ETags. The full Graph
//! contact ([`ContactRec`]) stays in the state store and is read back on the rare paths
//! that need it: rendering a version not cached yet, writes, group edits, photo reuse.
//!
//! An entry loaded from a [`SummaryRec`] knows its vCard 3.0 ETag and length without
//! rendering (a cold start lists a book without decoding its contacts); the bytes are
//! rendered from the stored record on first GET.

use super::etag::etag;
use super::records::{self, ContactRec, SummaryRec, contact_key};
use crate::dav::store::{Card, CardMeta};
use crate::state::{SharedStore, StateError, Table};
use crate::vcard::{RENDERING_VERSION, VCardVersion};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

/// Where a book's full contact records are read back from.
pub struct RecSource {
    store: SharedStore,
    acct: String,
    book: String,
}

impl std::fmt::Debug for RecSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecSource")
            .field("acct", &self.acct)
            .field("book", &self.book)
            .finish_non_exhaustive()
    }
}

impl RecSource {
    pub fn new(store: SharedStore, acct: &str, book: &str) -> Arc<RecSource> {
        Arc::new(RecSource {
            store,
            acct: acct.to_owned(),
            book: book.to_owned(),
        })
    }

    /// The stored record of contact `id`.
    pub fn rec(&self, id: &str) -> Result<ContactRec, StateError> {
        match self
            .store
            .get(Table::Mirror, &contact_key(&self.acct, &self.book, id))?
        {
            Some(v) => records::decode(&v),
            None => Err(StateError::Corrupt(format!(
                "contact row of {id} missing in book {}",
                self.book
            ))),
        }
    }
}

/// ETag and length of one rendering.
#[derive(Debug)]
struct Known {
    etag: String,
    len: u64,
}

/// One vCard version of an entry: its ETag and length, and the bytes once rendered.
#[derive(Debug, Default)]
struct Slot {
    known: OnceLock<Known>,
    body: OnceLock<Bytes>,
}

/// One mirrored contact.
#[derive(Debug)]
pub struct Entry {
    pub id: Arc<str>,
    pub name: String,
    change_key: Box<str>,
    /// The UID stashed in Graph; `None` = derived from the Graph id.
    stashed_uid: Option<Box<str>>,
    pub categories: Box<[String]>,
    modified_ms: u64,
    has_photo: bool,
    photo_ck: Option<Box<str>>,
    fingerprint: u64,
    source: Option<Arc<RecSource>>,
    slots: [Slot; 2],
}

fn slot_index(version: VCardVersion) -> usize {
    match version {
        VCardVersion::V3 => 0,
        VCardVersion::V4 => 1,
    }
}

/// Digest of what changes a card besides the changeKey: photo and extended properties.
pub fn fingerprint(rec: &ContactRec) -> u64 {
    let mut h = Sha256::new();
    if let Some(p) = &rec.photo {
        h.update(p.content_type.as_bytes());
        h.update([0]);
        h.update(p.data.as_bytes());
    }
    h.update([1]);
    for p in &rec.contact.single_value_extended_properties {
        h.update(p.id.as_bytes());
        h.update([0]);
        h.update(p.value.as_deref().unwrap_or_default().as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_be_bytes(b)
}

/// The card of `rec` in `version`.
fn render(rec: &ContactRec, version: VCardVersion) -> Bytes {
    let photo = rec.photo.as_ref().and_then(|p| p.to_photo());
    Bytes::from(crate::vcard::contact_to_card(
        &rec.contact,
        photo.as_ref(),
        version,
    ))
}

impl Entry {
    /// The entry of a full record; its vCard 3.0 card is rendered at once (the summary
    /// row written with it needs the ETag).
    pub fn from_rec(rec: &ContactRec, source: Option<Arc<RecSource>>) -> Entry {
        let e = Entry {
            id: Arc::from(rec.id()),
            name: rec.name.clone(),
            change_key: rec.change_key().into(),
            stashed_uid: rec
                .contact
                .extended_property(crate::vcard::UID_PROPERTY_ID)
                .map(Into::into),
            categories: rec.contact.categories.clone().into_boxed_slice(),
            modified_ms: records::to_ms(rec.last_modified()),
            has_photo: rec.has_photo,
            photo_ck: rec.photo_ck.as_deref().map(Into::into),
            fingerprint: fingerprint(rec),
            source,
            slots: Default::default(),
        };
        e.fill(rec, VCardVersion::V3);
        e
    }

    /// The entry of a summary row; `None` when it was written by another renderer.
    pub fn from_summary(id: &str, s: SummaryRec, source: Option<Arc<RecSource>>) -> Option<Entry> {
        if s.rendering != RENDERING_VERSION {
            return None;
        }
        let e = Entry {
            id: Arc::from(id),
            name: s.name,
            change_key: s.change_key.into(),
            stashed_uid: s.uid.map(Into::into),
            categories: s.categories.into_boxed_slice(),
            modified_ms: s.modified_ms,
            has_photo: s.has_photo,
            photo_ck: s.photo_ck.map(Into::into),
            fingerprint: s.fingerprint,
            source,
            slots: Default::default(),
        };
        let _ = e.slots[0].known.set(Known {
            etag: s.etag3,
            len: s.len3,
        });
        Some(e)
    }

    /// The summary row of this entry (its vCard 3.0 ETag is known from construction).
    pub fn summary(&self) -> Result<SummaryRec, StateError> {
        let k = self.known(VCardVersion::V3)?;
        Ok(SummaryRec {
            name: self.name.clone(),
            change_key: self.change_key.to_string(),
            uid: self.stashed_uid.as_deref().map(str::to_owned),
            categories: self.categories.to_vec(),
            modified_ms: self.modified_ms,
            has_photo: self.has_photo,
            photo_ck: self.photo_ck.as_deref().map(str::to_owned),
            fingerprint: self.fingerprint,
            rendering: RENDERING_VERSION,
            etag3: k.etag.clone(),
            len3: k.len,
        })
    }

    fn fill(&self, rec: &ContactRec, version: VCardVersion) -> &Bytes {
        let slot = &self.slots[slot_index(version)];
        slot.body.get_or_init(|| {
            let body = render(rec, version);
            let _ = slot.known.set(Known {
                etag: etag(&self.change_key, version, &body),
                len: body.len() as u64,
            });
            body
        })
    }

    /// The full record, read from the state store.
    pub fn rec(&self) -> Result<ContactRec, StateError> {
        match &self.source {
            Some(s) => s.rec(&self.id),
            None => Err(StateError::Corrupt(format!(
                "no state store behind contact {}",
                self.id
            ))),
        }
    }

    fn body(&self, version: VCardVersion) -> Result<&Bytes, StateError> {
        let slot = &self.slots[slot_index(version)];
        if let Some(b) = slot.body.get() {
            return Ok(b);
        }
        let rec = self.rec()?;
        Ok(self.fill(&rec, version))
    }

    fn known(&self, version: VCardVersion) -> Result<&Known, StateError> {
        let slot = &self.slots[slot_index(version)];
        if let Some(k) = slot.known.get() {
            return Ok(k);
        }
        self.body(version)?;
        slot.known
            .get()
            .ok_or_else(|| StateError::Corrupt("rendering left no ETag".into()))
    }

    pub fn change_key(&self) -> &str {
        &self.change_key
    }

    pub fn photo_ck(&self) -> Option<&str> {
        self.photo_ck.as_deref()
    }

    /// The card's UID: the stashed client UID, or the one derived from the Graph id.
    pub fn uid(&self) -> String {
        match &self.stashed_uid {
            Some(u) => u.to_string(),
            None => crate::vcard::uid_for_graph_id(&self.id),
        }
    }

    /// Whether the UID is stashed in Graph (not derived from the Graph id).
    pub fn uid_is_stashed(&self) -> bool {
        self.stashed_uid.is_some()
    }

    /// Whether the card's UID is `uid`, without deriving a UID from the Graph id when
    /// `uid` cannot be a derived one or `derived` is false (a PUT compares against every
    /// contact of the book).
    pub fn has_uid(&self, uid: &str, derived: bool) -> bool {
        match &self.stashed_uid {
            Some(stashed) => &**stashed == uid,
            None => {
                derived
                    && crate::vcard::may_be_derived_uid(uid)
                    && crate::vcard::uid_for_graph_id(&self.id) == uid
            }
        }
    }

    pub fn last_modified(&self) -> SystemTime {
        records::from_ms(self.modified_ms)
    }

    pub fn meta(&self, version: VCardVersion) -> Result<CardMeta, StateError> {
        let k = self.known(version)?;
        Ok(CardMeta {
            name: self.name.clone(),
            etag: k.etag.clone(),
            content_length: k.len,
            last_modified: self.last_modified(),
            version,
        })
    }

    pub fn card(&self, version: VCardVersion) -> Result<Card, StateError> {
        let body = self.body(version)?.clone();
        Ok(Card {
            meta: self.meta(version)?,
            body,
        })
    }

    /// The ETags of every version (for `If-Match`, which may name either).
    pub fn etags(&self) -> Result<[String; 2], StateError> {
        Ok([
            self.known(VCardVersion::V3)?.etag.clone(),
            self.known(VCardVersion::V4)?.etag.clone(),
        ])
    }

    /// Whether `other` would serve the same cards as this entry.
    pub fn same_as(&self, other: &ContactRec) -> bool {
        *self.change_key == *other.change_key()
            && self.has_photo == other.has_photo
            && self.fingerprint == fingerprint(other)
    }
}
