//! vCard 3.0 / 4.0 ⇄ Graph contact, without losing what the client wrote.
//!
//! Why: Graph holds only some of a vCard (3 emails, 2 + 2 + 1 phones, fixed address
//! slots…; reference/graph.md §2, §8). Sync clients compare what they PUT with what they
//! GET, so everything Graph cannot hold is kept in one extended property (the stash,
//! graph.md §5.3) and merged back; a field edited in Outlook wins over the stash.
//!
//! Layout, one job per file:
//! - `line.rs`: content lines (RFC 6350 §3.3), folding; byte-faithful.
//! - `text.rs`: escaping and structured values (RFC 6350 §3.4).
//! - `mapping.rs`: **the field table** (vCard property ⇄ Graph field, rule when full).
//! - `parse.rs`: card → Graph fields + stash (PUT).
//! - `render.rs`: Graph fields + stash → card (GET).
//! - `stash.rs`: the stash text format and fingerprints.
//! - `version.rs`: 3.0 ⇄ 4.0 through calcard; `photo.rs`: PHOTO ⇄ contact photo.
//! - `negotiate.rs`: version to serve; `legacy.rs`: Outlook REST v2.0 / Live v5.0 JSON;
//!   `convert.rs`: the `cardbridge convert` command; `group.rs`: group vCards
//!   (categories served as groups).

mod line;
mod mapping;
mod parse;
mod photo;
mod render;
mod stash;
mod text;
mod version;

pub mod convert;
pub mod group;
pub mod legacy;
pub mod negotiate;

pub use mapping::Field;
pub use negotiate::negotiate_version;
pub use parse::split_cards;

use crate::graph::model::{Contact, Photo};

/// vCard version of a served or stored representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VCardVersion {
    /// vCard 3.0 (RFC 2426): the default, because macOS Contacts drops 4.0 cards.
    #[default]
    V3,
    /// vCard 4.0 (RFC 6350): served only when the client asks for it.
    V4,
}

impl VCardVersion {
    /// The `version` string used in `address-data` and `Content-Type` parameters.
    pub fn as_str(self) -> &'static str {
        match self {
            VCardVersion::V3 => "3.0",
            VCardVersion::V4 => "4.0",
        }
    }
}

/// Bumped whenever the mapping changes what is rendered, so ETags (which include it) change.
pub const RENDERING_VERSION: u32 = 1;

/// Id of the one String extended property holding what Graph fields cannot (reference/graph.md §5.3).
pub const STASH_PROPERTY_ID: &str =
    "String {6b3f2a9e-52c4-4d8e-9f0a-1c7d5e3b8a21} Name cardbridge-vcard";

/// Id of the small String extended property holding the client's UID (for lookups with `$filter`).
pub const UID_PROPERTY_ID: &str =
    "String {6b3f2a9e-52c4-4d8e-9f0a-1c7d5e3b8a21} Name cardbridge-uid";

/// Limits applied when parsing a client's card.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest accepted card in bytes (including an inline photo).
    pub max_card_bytes: usize,
    /// Largest accepted decoded photo in bytes (Graph's request cap is 4 MB).
    pub max_photo_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_card_bytes: 4 * 1024 * 1024,
            max_photo_bytes: 4 * 1024 * 1024 - 64 * 1024,
        }
    }
}

/// Why a card was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VCardError {
    #[error("not a vCard: {0}")]
    Invalid(String),
    #[error("card larger than {max} bytes")]
    TooLarge { max: usize },
    #[error("unsupported photo: {0}")]
    Photo(String),
    /// The properties Graph cannot hold need more room than one extended property
    /// should carry (reference/graph.md §5.1).
    #[error("unmapped properties need more than {max} bytes")]
    StashTooLarge { max: usize },
}

/// Largest stash written (graph.md §5.1: no documented cap; EWS list views truncate
/// long values, so the bridge reads the stash with single-item GETs).
pub const MAX_STASH_BYTES: usize = 64 * 1024;

/// A client's card translated for Graph.
#[derive(Debug, Clone)]
pub struct ParsedCard {
    /// The card's UID (always present: generated when the card had none).
    pub uid: String,
    /// Writable Graph fields, plus the stash and UID extended properties, ready to POST / PATCH.
    pub contact: Contact,
    /// The inline photo, if the card had one.
    pub photo: Option<Photo>,
    /// The card had a PHOTO property (even an unsupported URL one).
    pub has_photo_property: bool,
}

/// Parse a vCard 3.0 / 4.0 and map it to Graph fields + stash.
pub fn card_to_contact(bytes: &[u8], limits: &Limits) -> Result<ParsedCard, VCardError> {
    parse::card_to_contact(bytes, limits)
}

/// Render a Graph contact (with its stash extended property if present) as a vCard.
pub fn contact_to_card(contact: &Contact, photo: Option<&Photo>, version: VCardVersion) -> String {
    render::contact_to_card(contact, photo, version)
}

/// Whether `text` (the stash extended property's value) is a complete stash: list views
/// may truncate long values (reference/graph.md §5.1), and the bridge re-reads those.
pub fn stash_is_complete(text: &str) -> bool {
    stash::Stash::decode(text).is_some()
}

/// Stable UID for a contact created in Outlook, derived from its immutable id.
pub fn uid_for_graph_id(id: &str) -> String {
    uuid_from_digest(b"cardbridge graph id\0", id.as_bytes())
}

/// Whether `uid` could be one of [`uid_for_graph_id`]'s (a hyphenated version-8 UUID):
/// anything else cannot be, so a UID comparison can skip hashing the Graph id.
pub fn may_be_derived_uid(uid: &str) -> bool {
    uid.len() == 36 && uid.as_bytes()[14] == b'8'
}

/// UID given to a client's card that had none: derived from the card's bytes, so the
/// same card always gets the same UID.
pub(crate) fn uid_from_bytes(card: &[u8]) -> String {
    uuid_from_digest(b"cardbridge card\0", card)
}

/// A UUID (RFC 9562 version 8, name-based with SHA-256) from a domain tag and a name
/// (contact UIDs here, group-card UIDs in `bridge::groups`).
pub(crate) fn uuid_from_digest(domain: &[u8], name: &[u8]) -> String {
    crate::guid::name_based(domain, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_uids_are_recognisable_as_possibly_derived() {
        assert!(may_be_derived_uid(&uid_for_graph_id("AAMkAGI2TG93AAA=")));
        assert!(may_be_derived_uid(&uid_from_bytes(b"BEGIN:VCARD")));
        assert!(!may_be_derived_uid("2b1e5c0a-6f4e-4d5b-9a1c-3e2f1d0c9b8a"));
        assert!(!may_be_derived_uid("client-uid-1"));
    }

    #[test]
    fn uid_for_graph_id_is_stable_and_distinct() {
        let a = uid_for_graph_id("AAMkAGI2TAAA=");
        assert_eq!(a, uid_for_graph_id("AAMkAGI2TAAA="));
        assert_ne!(a, uid_for_graph_id("AAMkAGI2TAAB="));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
    }
}
