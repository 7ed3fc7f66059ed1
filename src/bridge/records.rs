//! What the bridge keeps in the state store, and under which keys (issue 5 item 6).
//!
//! Keys are NUL-separated strings (account keys, book segments, names and Graph ids
//! never contain NUL). Values are JSON. One account's rows:
//!
//! | table | key | value |
//! |---|---|---|
//! | `Mirror` | `{acct}\0folders` | [`FolderTreeRec`]: the books, default first |
//! | `Mirror` | `{acct}\0c\0{book}\0{graph id}` | [`ContactRec`] |
//! | `Mirror` | `{acct}\0s\0{book}\0{graph id}` | [`SummaryRec`]: what a listing needs |
//! | `Hrefs` | `{acct}\0{book}\0{name}` | Graph id |
//! | `Journal` | `{acct}\0{book}\0{rev:016x}` | [`JournalRec`] |
//! | `Sync` | `{acct}\0{book}` | [`BookState`]: revision, floor, delta link, last refresh |
//! | `Meta` | `{acct}\0pending\0{book}\0{name}` | UID of a create whose outcome is unknown |
//! | `Meta` | `{acct}\0group\0{book}\0{name}` | [`GroupRec`]: a group card a client named |
//!
//! Everything one change touches (contact row, href, journal entry, book state) is
//! written in one [`crate::state::WriteBatch`], so a crash leaves the previous state.

use crate::graph::model::{Contact, Photo};
use crate::state::{StateError, Table};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn key(parts: &[&str]) -> Vec<u8> {
    parts.join("\0").into_bytes()
}

pub fn folders_key(acct: &str) -> Vec<u8> {
    key(&[acct, "folders"])
}
pub fn contacts_prefix(acct: &str, book: &str) -> Vec<u8> {
    let mut k = key(&[acct, "c", book]);
    k.push(0);
    k
}
pub fn contact_key(acct: &str, book: &str, id: &str) -> Vec<u8> {
    key(&[acct, "c", book, id])
}
pub fn summaries_prefix(acct: &str, book: &str) -> Vec<u8> {
    let mut k = key(&[acct, "s", book]);
    k.push(0);
    k
}
pub fn summary_key(acct: &str, book: &str, id: &str) -> Vec<u8> {
    key(&[acct, "s", book, id])
}
pub fn book_prefix(acct: &str, book: &str) -> Vec<u8> {
    let mut k = key(&[acct, book]);
    k.push(0);
    k
}
pub fn href_key(acct: &str, book: &str, name: &str) -> Vec<u8> {
    key(&[acct, book, name])
}
pub fn journal_key(acct: &str, book: &str, rev: u64) -> Vec<u8> {
    key(&[acct, book, &format!("{rev:016x}")])
}
pub fn journal_rev(k: &[u8]) -> Option<u64> {
    let pos = k.iter().rposition(|&b| b == 0)?;
    let text = std::str::from_utf8(&k[pos + 1..]).ok()?;
    u64::from_str_radix(text, 16).ok()
}
pub fn book_state_key(acct: &str, book: &str) -> Vec<u8> {
    key(&[acct, book])
}
pub fn pending_prefix(acct: &str, book: &str) -> Vec<u8> {
    let mut k = key(&[acct, "pending", book]);
    k.push(0);
    k
}
pub fn pending_key(acct: &str, book: &str, name: &str) -> Vec<u8> {
    key(&[acct, "pending", book, name])
}

pub fn group_prefix(acct: &str, book: &str) -> Vec<u8> {
    let mut k = key(&[acct, "group", book]);
    k.push(0);
    k
}
pub fn group_key(acct: &str, book: &str, name: &str) -> Vec<u8> {
    key(&[acct, "group", book, name])
}

/// The tables a book's rows live in, with the prefix to delete when the book goes.
pub fn book_prefixes(acct: &str, book: &str) -> [(Table, Vec<u8>); 6] {
    [
        (Table::Mirror, contacts_prefix(acct, book)),
        (Table::Mirror, summaries_prefix(acct, book)),
        (Table::Hrefs, book_prefix(acct, book)),
        (Table::Journal, book_prefix(acct, book)),
        (Table::Meta, pending_prefix(acct, book)),
        (Table::Meta, group_prefix(acct, book)),
    ]
}

/// A group card kept at the name and UID a client gave it (Graph has no group object:
/// the category is the truth for membership, this row only remembers the client's
/// href and UID, and keeps a group alive while it has no member).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRec {
    pub category: String,
    pub uid: String,
}

/// One address book = one contact folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookRec {
    /// Path segment under the user's home.
    pub segment: String,
    pub folder_id: String,
    pub display_name: String,
    /// Kept by the bridge (Graph folders have no description).
    #[serde(default)]
    pub description: Option<String>,
    /// Random per book; part of every sync token.
    pub instance: String,
    pub is_default: bool,
}

/// The folder tree of an account.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FolderTreeRec {
    pub books: Vec<BookRec>,
    /// When the tree was last read from Graph (Unix milliseconds).
    #[serde(default)]
    pub refreshed_ms: Option<u64>,
}

/// A book's sync bookkeeping.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookState {
    /// Current journal revision.
    pub rev: u64,
    /// Oldest revision a token may name (older entries were pruned).
    pub floor: u64,
    /// Graph's final `@odata.deltaLink` of the last round (graph.md §4.8).
    #[serde(default)]
    pub delta_link: Option<String>,
    /// When the folder was last refreshed from Graph (Unix milliseconds).
    #[serde(default)]
    pub refreshed_ms: Option<u64>,
    /// Every contact row of the book has its [`SummaryRec`] (false in state files of
    /// earlier versions: the book's rows are then migrated on load).
    #[serde(default)]
    pub summaries: bool,
}

/// What the mirror keeps of a contact in memory, stored next to its [`ContactRec`] so
/// that loading a book decodes neither the full contact nor renders its card (issue 9:
/// cold start). Written in the same batch as the contact row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryRec {
    pub name: String,
    #[serde(rename = "ck")]
    pub change_key: String,
    /// The UID stashed in Graph (`None`: derived from the Graph id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    #[serde(rename = "lm")]
    pub modified_ms: u64,
    #[serde(default)]
    pub has_photo: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_ck: Option<String>,
    /// Digest of what else changes the card without changing the changeKey (the photo,
    /// the extended properties).
    #[serde(rename = "fp")]
    pub fingerprint: u64,
    /// The renderer the ETag was computed with; another one ignores the summary.
    #[serde(rename = "rv")]
    pub rendering: u32,
    /// ETag and length of the vCard 3.0 rendering.
    pub etag3: String,
    pub len3: u64,
}

/// A contact's photo as stored (base64 in JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoRec {
    pub content_type: String,
    pub data: String,
}

impl PhotoRec {
    pub fn from_photo(p: &Photo) -> Self {
        Self {
            content_type: p.content_type.clone(),
            data: base64::engine::general_purpose::STANDARD.encode(&p.bytes),
        }
    }
    pub fn to_photo(&self) -> Option<Photo> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.data)
            .ok()?;
        Some(Photo {
            content_type: self.content_type.clone(),
            bytes: bytes.into(),
        })
    }
}

/// One mirrored contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactRec {
    /// Resource name in its book.
    pub name: String,
    /// The contact as Graph returned it, with the stash / UID extended properties.
    pub contact: Contact,
    /// Graph signals a photo (hint or the has-picture property).
    #[serde(default)]
    pub has_photo: bool,
    #[serde(default)]
    pub photo: Option<PhotoRec>,
    /// The changeKey at which `photo` was fetched (photos are fetched once per changeKey).
    #[serde(default)]
    pub photo_ck: Option<String>,
}

/// The contact as the bridge keeps it: Graph's read-only fields it never uses (the
/// `@odata.etag`, which repeats the changeKey; the creation time; the parent folder id,
/// which is the book's) are dropped, in the state store and in memory (issue 9: memory
/// per contact).
pub fn kept(mut c: Contact) -> Contact {
    c.odata_etag = None;
    c.created_date_time = None;
    c.parent_folder_id = None;
    c
}

impl ContactRec {
    pub fn id(&self) -> &str {
        self.contact.id.as_deref().unwrap_or_default()
    }
    pub fn change_key(&self) -> &str {
        self.contact.change_key.as_deref().unwrap_or_default()
    }
    /// The card's UID: the stashed client UID, or the one derived from the Graph id.
    pub fn uid(&self) -> String {
        self.contact
            .extended_property(crate::vcard::UID_PROPERTY_ID)
            .map(str::to_owned)
            .unwrap_or_else(|| crate::vcard::uid_for_graph_id(self.id()))
    }
    /// Whether the card's UID is `uid`, without deriving a UID from the Graph id when
    /// `uid` cannot be a derived one or `derived` is false (a PUT compares against every
    /// contact of the book; hashing each id made a PUT cost milliseconds).
    pub fn has_uid(&self, uid: &str, derived: bool) -> bool {
        match self
            .contact
            .extended_property(crate::vcard::UID_PROPERTY_ID)
        {
            Some(stashed) => stashed == uid,
            None => {
                derived
                    && crate::vcard::may_be_derived_uid(uid)
                    && crate::vcard::uid_for_graph_id(self.id()) == uid
            }
        }
    }
    pub fn last_modified(&self) -> SystemTime {
        self.contact
            .last_modified_date_time
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .and_then(|t| u64::try_from(t.timestamp_millis()).ok())
            .map(from_ms)
            .unwrap_or(UNIX_EPOCH)
    }
}

/// One journal entry: the member `name` was created / changed, or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalRec {
    pub name: String,
    pub deleted: bool,
}

pub fn to_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
pub fn from_ms(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

pub fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, StateError> {
    serde_json::to_vec(v).map_err(|e| StateError::Corrupt(e.to_string()))
}
pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, StateError> {
    serde_json::from_slice(bytes).map_err(|e| StateError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_keys_sort_by_revision_and_parse_back() {
        let a = journal_key("acct", "contacts", 9);
        let b = journal_key("acct", "contacts", 10);
        assert!(a < b);
        assert!(a.starts_with(&book_prefix("acct", "contacts")));
        assert_eq!(journal_rev(&b), Some(10));
    }

    #[test]
    fn book_prefixes_do_not_cover_sibling_books() {
        let p = contacts_prefix("acct", "f1");
        assert!(contact_key("acct", "f1", "id").starts_with(&p));
        assert!(!contact_key("acct", "f10", "id").starts_with(&p));
        assert!(!href_key("acct", "f10", "n").starts_with(&book_prefix("acct", "f1")));
    }

    #[test]
    fn contact_record_round_trips_with_extended_properties() {
        let rec = ContactRec {
            name: "a.vcf".into(),
            contact: Contact {
                id: Some("AAMk=".into()),
                change_key: Some("EQ/+".into()),
                given_name: Some("Ada".into()),
                last_modified_date_time: Some("2024-05-01T10:00:00Z".into()),
                single_value_extended_properties: vec![
                    crate::graph::model::SingleValueExtendedProperty {
                        id: crate::vcard::UID_PROPERTY_ID.into(),
                        value: Some("uid-1".into()),
                    },
                ],
                ..Default::default()
            },
            has_photo: true,
            photo: Some(PhotoRec::from_photo(&Photo {
                content_type: "image/png".into(),
                bytes: bytes::Bytes::from_static(b"\x89PNG"),
            })),
            photo_ck: Some("EQ/+".into()),
        };
        let back: ContactRec = decode(&encode(&rec).unwrap()).unwrap();
        assert_eq!(back, rec);
        assert_eq!(back.uid(), "uid-1");
        assert_eq!(
            back.photo.unwrap().to_photo().unwrap().bytes.as_ref(),
            b"\x89PNG"
        );
        assert_eq!(to_ms(rec.last_modified()), 1_714_557_600_000);
    }
}
