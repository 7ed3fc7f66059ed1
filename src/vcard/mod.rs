//! vCard 3.0 / 4.0 ⇄ Graph contact, without losing what the client wrote.
//!
//! STUB: the API agreed between `vcard` and `bridge`; the vCard work replaces the bodies.
//! Keep the signatures stable (add items freely).

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
}

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
pub fn card_to_contact(_bytes: &[u8], _limits: &Limits) -> Result<ParsedCard, VCardError> {
    todo!()
}

/// Render a Graph contact (with its stash extended property if present) as a vCard.
pub fn contact_to_card(
    _contact: &Contact,
    _photo: Option<&Photo>,
    _version: VCardVersion,
) -> String {
    todo!()
}

/// Stable UID for a contact created in Outlook, derived from its immutable id.
pub fn uid_for_graph_id(_id: &str) -> String {
    todo!()
}

/// Pick the version to serve from an `Accept` header and / or an `address-data`
/// `version` attribute; 3.0 by default.
pub fn negotiate_version(
    _accept: Option<&str>,
    _address_data_version: Option<&str>,
) -> VCardVersion {
    todo!()
}
