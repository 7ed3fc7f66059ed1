//! The boundary between the CardDAV protocol layer and whatever holds the address books.
//!
//! `dav` knows nothing of Graph: it asks an [`AddressBookStore`] for books, cards,
//! changes and writes, and turns the answers (and the typed [`StoreError`]s) into
//! RFC 4918 / 6352 / 6578 responses. The bridge implements this trait over its Graph
//! mirror; tests implement it in memory.
//!
//! Names: `user` is the authenticated CardDAV user (already verified by `server`);
//! `book` is the address book's path segment (no `/`); `name` is a card's resource
//! name inside its book (the last path segment, for example `3F2A.vcf`), never
//! percent-encoded here: `dav` encodes and decodes hrefs.

use bytes::Bytes;
use std::future::Future;
use std::time::SystemTime;

pub use crate::vcard::VCardVersion;

/// One address book as listed in the home set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookInfo {
    /// Path segment of the book under the user's home (ASCII, URL-safe, no `/`).
    pub id: String,
    pub displayname: String,
    pub description: Option<String>,
    /// RFC 6578 sync token (a URI), which changes with every member change.
    pub sync_token: String,
    /// CalendarServer `getctag`: changes whenever `sync_token` does.
    pub ctag: String,
    /// The default Contacts folder: listed first, cannot be deleted.
    pub is_default: bool,
}

/// What a listing needs to know about a card without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardMeta {
    /// Resource name inside the book (decoded, no `/`).
    pub name: String,
    /// Strong ETag, already quoted (`"…"`), for the representation of `version`.
    pub etag: String,
    /// Length in bytes of the representation of `version`.
    pub content_length: u64,
    pub last_modified: SystemTime,
    pub version: VCardVersion,
}

/// A card with its body in the requested version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub meta: CardMeta,
    /// The vCard bytes served (and hashed into the ETag).
    pub body: Bytes,
}

/// Result of `changes_since` (RFC 6578 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Members created or changed since the token, with their current meta.
    pub changed: Vec<CardMeta>,
    /// Resource names removed since the token.
    pub deleted: Vec<String>,
    /// Token to hand the client: the book's current token, or a continuation token
    /// when `truncated`.
    pub new_token: String,
    /// More changes remain (the `limit` was reached): answer 507 for the collection.
    pub truncated: bool,
}

/// Preconditions of a write, taken from the request headers (RFC 7232 / RFC 4918).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Precondition {
    /// `If-Match` value(s) as sent (quotes and `W/` not yet stripped), or `*`.
    pub if_match: Option<String>,
    /// `If-None-Match: *`: the write must create.
    pub if_none_match_any: bool,
}

/// Outcome of a successful PUT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    pub created: bool,
    /// Strong quoted ETag of the card as it will now be served in the PUT's version,
    /// or `None` when the served bytes differ from what was PUT in a way the client
    /// must re-read (RFC 6352 §6.3.2.3).
    pub etag: Option<String>,
}

/// Properties a PROPPATCH or extended MKCOL may set on a book.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BookPatch {
    pub displayname: Option<String>,
    /// `Some(None)` removes the description.
    pub description: Option<Option<String>>,
}

/// Why a store call failed; `dav::error` maps each to a status and `<D:error>` body in
/// one place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// If-Match / If-None-Match failed, or Graph reported a concurrent change (412).
    #[error("precondition failed")]
    PreconditionFailed,
    /// Another card in the book has this UID (RFC 6352 §6.3.2.1 `no-uid-conflict`).
    #[error("UID already used by {name}")]
    UidConflict { name: String },
    /// The body is not a valid vCard (`valid-address-data`), with the reason.
    #[error("invalid vCard: {0}")]
    InvalidCard(String),
    /// The card is larger than the store accepts (`max-resource-size`).
    #[error("card too large")]
    TooLarge,
    /// The operation is not allowed on this resource (for example deleting the default
    /// book), with the reason.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// A sync token the store did not issue or no longer honours (`valid-sync-token`).
    #[error("invalid sync token")]
    InvalidSyncToken,
    /// A resource with this name already exists (MKCOL on an existing book).
    #[error("already exists")]
    AlreadyExists,
    /// The upstream is throttling or unavailable: 503 with Retry-After.
    #[error("upstream unavailable")]
    Unavailable { retry_after_secs: Option<u64> },
    /// The account's upstream sign-in is no longer valid; an administrator or the user
    /// must sign in again.
    #[error("sign-in required for this account")]
    SignInRequired,
    /// Anything else; logged, answered with 500.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result alias for store calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// What `dav` needs from the keeper of address books. All methods are scoped to one
/// authenticated `user`; a book or card of another user is [`StoreError::NotFound`].
pub trait AddressBookStore: Send + Sync + 'static {
    /// Display name of the user's principal.
    fn principal_displayname(&self, user: &str)
    -> impl Future<Output = StoreResult<String>> + Send;

    /// All books of the user, the default book first.
    fn list_books(&self, user: &str) -> impl Future<Output = StoreResult<Vec<BookInfo>>> + Send;

    /// One book, or `NotFound`.
    fn book(&self, user: &str, book: &str) -> impl Future<Output = StoreResult<BookInfo>> + Send;

    /// Every member of a book, as served in `version`.
    fn list_cards(
        &self,
        user: &str,
        book: &str,
        version: VCardVersion,
    ) -> impl Future<Output = StoreResult<Vec<CardMeta>>> + Send;

    /// The cards with these names, in the same order; `None` for a name that does not
    /// exist. The book itself missing is `NotFound`.
    fn get_cards(
        &self,
        user: &str,
        book: &str,
        names: &[String],
        version: VCardVersion,
    ) -> impl Future<Output = StoreResult<Vec<Option<Card>>>> + Send;

    /// Changes since `token` (`None`: everything, as for an empty RFC 6578 token), at
    /// most `limit` entries.
    fn changes_since(
        &self,
        user: &str,
        book: &str,
        token: Option<&str>,
        limit: Option<usize>,
        version: VCardVersion,
    ) -> impl Future<Output = StoreResult<Changes>> + Send;

    /// Create or replace the card `name` with `body` (vCard 3.0 or 4.0 bytes). Only
    /// answers once the upstream has confirmed the write.
    fn put_card(
        &self,
        user: &str,
        book: &str,
        name: &str,
        body: Bytes,
        precondition: Precondition,
    ) -> impl Future<Output = StoreResult<PutOutcome>> + Send;

    /// Delete the card `name`, honouring `If-Match`.
    fn delete_card(
        &self,
        user: &str,
        book: &str,
        name: &str,
        precondition: Precondition,
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Create a book with the client-chosen path segment `book` (extended MKCOL).
    fn create_book(
        &self,
        user: &str,
        book: &str,
        patch: BookPatch,
    ) -> impl Future<Output = StoreResult<BookInfo>> + Send;

    /// Change a book's display name or description (PROPPATCH).
    fn update_book(
        &self,
        user: &str,
        book: &str,
        patch: BookPatch,
    ) -> impl Future<Output = StoreResult<BookInfo>> + Send;

    /// Delete a book and its cards (the default book: `Forbidden`).
    fn delete_book(&self, user: &str, book: &str) -> impl Future<Output = StoreResult<()>> + Send;
}
