//! Every error response of the DAV layer, in one place: typed pre- and postconditions
//! ([`Condition`], RFC 4918 §16, RFC 6352 §6.3.2.1 / §8.6 / §8.7, RFC 6578 §3.2,
//! RFC 5689 §3, RFC 3253 §3.6, RFC 3744 §7.1.1) rendered as `<D:error>` bodies with an
//! XML content type (DAVx5 reads the condition only then; reference/clients.md §3.2),
//! and the mapping of [`StoreError`] to statuses.
//!
//! Status choices (RFC 4918 §16 leaves 403 / 409 to the server):
//! - `valid-sync-token`: 403, except for Thunderbird which recovers only from 400
//!   (reference/clients.md §0.7); the handler picks.
//! - `supported-address-data`: 415; `max-resource-size`: 413 (issue 7).
//! - `valid-address-data`: 403 (a precondition, not a syntax error of the HTTP request).
//! - `no-uid-conflict`: 409, with the conflicting card's href inside (RFC 6352 §6.3.2.1).
//! - `StoreError::Unavailable`: 503 + `Retry-After` (DAVx5 retries 503, not 429);
//!   `SignInRequired`: 503 with an explanation and a long `Retry-After`; `Internal`:
//!   500, logged (the reason never reaches the client).

use http::{Response, StatusCode, header};

use super::DavBody;
use super::response;
use super::store::StoreError;
use super::xml::write::error_body;

/// Seconds suggested in `Retry-After` when the store gave none.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 30;
/// `Retry-After` while the account needs a new Microsoft sign-in.
pub const SIGN_IN_RETRY_AFTER_SECS: u64 = 900;

/// A typed precondition or postcondition element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `DAV:propfind-finite-depth` (RFC 4918 §9.1).
    PropfindFiniteDepth,
    /// `DAV:valid-sync-token` (RFC 6578 §3.2).
    ValidSyncToken,
    /// `DAV:cannot-modify-protected-property` (RFC 4918 §16).
    CannotModifyProtectedProperty,
    /// `DAV:valid-resourcetype` (RFC 5689 §3.3).
    ValidResourcetype,
    /// `DAV:supported-report` (RFC 3253 §3.6).
    SupportedReport,
    /// `DAV:need-privileges` (RFC 3744 §7.1.1); DAVx5 skips these gracefully.
    NeedPrivileges,
    /// `CARDDAV:supported-address-data` (RFC 6352 §6.3.2.1).
    SupportedAddressData,
    /// `CARDDAV:valid-address-data` (RFC 6352 §6.3.2.1).
    ValidAddressData,
    /// `CARDDAV:no-uid-conflict` with the href of the card that has the UID.
    NoUidConflict { href: String },
    /// `CARDDAV:max-resource-size` (RFC 6352 §6.3.2.1).
    MaxResourceSize,
    /// `CARDDAV:supported-collation` (RFC 6352 §8.3).
    SupportedCollation,
    /// `CARDDAV:supported-filter` (RFC 6352 §8.6).
    SupportedFilter,
    /// `CARDDAV:supported-address-data-conversion` (RFC 6352 §8.7).
    SupportedAddressDataConversion,
}

impl Condition {
    /// The element(s) written inside `<d:error>`.
    pub fn xml(&self) -> String {
        match self {
            Condition::PropfindFiniteDepth => "<d:propfind-finite-depth/>".into(),
            Condition::ValidSyncToken => "<d:valid-sync-token/>".into(),
            Condition::CannotModifyProtectedProperty => {
                "<d:cannot-modify-protected-property/>".into()
            }
            Condition::ValidResourcetype => "<d:valid-resourcetype/>".into(),
            Condition::SupportedReport => "<d:supported-report/>".into(),
            Condition::NeedPrivileges => "<d:need-privileges/>".into(),
            Condition::SupportedAddressData => "<card:supported-address-data/>".into(),
            Condition::ValidAddressData => "<card:valid-address-data/>".into(),
            Condition::NoUidConflict { href } => {
                let mut out = Vec::new();
                super::xml::write::escape_into(&mut out, href.as_bytes());
                format!(
                    "<card:no-uid-conflict><d:href>{}</d:href></card:no-uid-conflict>",
                    String::from_utf8_lossy(&out)
                )
            }
            Condition::MaxResourceSize => "<card:max-resource-size/>".into(),
            Condition::SupportedCollation => "<card:supported-collation/>".into(),
            Condition::SupportedFilter => "<card:supported-filter/>".into(),
            Condition::SupportedAddressDataConversion => {
                "<card:supported-address-data-conversion/>".into()
            }
        }
    }
}

/// Anything a handler answers with instead of success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DavError {
    /// A typed condition as `<d:error>` with `status`.
    Condition {
        status: StatusCode,
        condition: Condition,
        message: String,
    },
    /// 400 with an explanation (malformed XML, bad headers, bad paths).
    BadRequest(String),
    /// 401: the request needs credentials the server layer did not provide.
    Unauthorized,
    /// 403 with an explanation.
    Forbidden(String),
    /// 404.
    NotFound,
    /// 405 with `Allow`.
    MethodNotAllowed { allow: &'static str },
    /// 409 with an explanation.
    Conflict(String),
    /// 415: a request body of a media type the method does not take (RFC 4918 §9.3).
    UnsupportedMediaType(String),
    /// 412 (RFC 9110 §15.5.13).
    PreconditionFailed,
    /// 502 with an explanation (MOVE to another server, RFC 4918 §9.9.4).
    BadGateway(String),
    /// 501 with an explanation.
    NotImplemented(String),
    /// 503 + `Retry-After`.
    Unavailable { retry_after_secs: Option<u64> },
    /// 503: the account must sign in to Microsoft again.
    SignInRequired,
    /// 500, logged.
    Internal(String),
}

pub type DavResult<T> = Result<T, DavError>;

impl DavError {
    /// A condition with its usual status.
    pub fn condition(condition: Condition, message: impl Into<String>) -> Self {
        let status = match condition {
            Condition::SupportedAddressData => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Condition::MaxResourceSize => StatusCode::PAYLOAD_TOO_LARGE,
            Condition::NoUidConflict { .. } => StatusCode::CONFLICT,
            _ => StatusCode::FORBIDDEN,
        };
        DavError::Condition {
            status,
            condition,
            message: message.into(),
        }
    }

    /// Map a store error; `uid_href` turns a conflicting card's name into its href.
    pub fn from_store(e: StoreError, uid_href: impl FnOnce(&str) -> String) -> Self {
        match e {
            StoreError::NotFound => DavError::NotFound,
            StoreError::PreconditionFailed => DavError::PreconditionFailed,
            StoreError::UidConflict { name } => DavError::condition(
                Condition::NoUidConflict {
                    href: uid_href(&name),
                },
                "another card in this address book has the same UID",
            ),
            StoreError::InvalidCard(why) => DavError::condition(Condition::ValidAddressData, why),
            StoreError::TooLarge => {
                DavError::condition(Condition::MaxResourceSize, "card too large")
            }
            StoreError::Forbidden(why) => DavError::Forbidden(why),
            StoreError::InvalidSyncToken => DavError::condition(
                Condition::ValidSyncToken,
                "sync token unknown or expired; sync again from an empty token",
            ),
            StoreError::AlreadyExists => DavError::MethodNotAllowed {
                allow: super::methods::ALLOW,
            },
            StoreError::Unavailable { retry_after_secs } => {
                DavError::Unavailable { retry_after_secs }
            }
            StoreError::SignInRequired => DavError::SignInRequired,
            StoreError::Internal(why) => DavError::Internal(why),
        }
    }

    /// The HTTP response; 500s are logged here, once.
    pub fn into_response(self) -> Response<DavBody> {
        match self {
            DavError::Condition {
                status,
                condition,
                message,
            } => {
                let body = error_body(&condition.xml(), Some(&message));
                response::full(status, response::XML, body)
            }
            DavError::BadRequest(m) => response::text(StatusCode::BAD_REQUEST, m),
            DavError::Unauthorized => {
                let mut r = response::text(StatusCode::UNAUTHORIZED, "authentication required");
                response::set_header(
                    &mut r,
                    header::WWW_AUTHENTICATE,
                    "Basic realm=\"cardbridge\", charset=\"UTF-8\"",
                );
                r
            }
            DavError::Forbidden(m) => response::text(StatusCode::FORBIDDEN, m),
            DavError::NotFound => response::text(StatusCode::NOT_FOUND, "not found"),
            DavError::MethodNotAllowed { allow } => {
                let mut r = response::text(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method not allowed on this resource",
                );
                response::set_header(&mut r, header::ALLOW, allow);
                r
            }
            DavError::Conflict(m) => response::text(StatusCode::CONFLICT, m),
            DavError::UnsupportedMediaType(m) => {
                response::text(StatusCode::UNSUPPORTED_MEDIA_TYPE, m)
            }
            DavError::PreconditionFailed => {
                response::text(StatusCode::PRECONDITION_FAILED, "precondition failed")
            }
            DavError::BadGateway(m) => response::text(StatusCode::BAD_GATEWAY, m),
            DavError::NotImplemented(m) => response::text(StatusCode::NOT_IMPLEMENTED, m),
            DavError::Unavailable { retry_after_secs } => {
                let mut r = response::text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the address book service is busy or unavailable; retry later",
                );
                let secs = retry_after_secs.unwrap_or(DEFAULT_RETRY_AFTER_SECS);
                response::set_header(&mut r, header::RETRY_AFTER, &secs.to_string());
                r
            }
            DavError::SignInRequired => {
                let mut r = response::text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "this account's Microsoft 365 sign-in has expired or was revoked; \
                     the account owner or an administrator must sign in again (cardbridge login)",
                );
                // A long back-off: nothing changes until someone signs in.
                response::set_header(
                    &mut r,
                    header::RETRY_AFTER,
                    &SIGN_IN_RETRY_AFTER_SECS.to_string(),
                );
                r
            }
            DavError::Internal(why) => {
                tracing::error!(error = %why, "internal error answering a CardDAV request");
                response::text(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
            }
        }
    }
}

impl From<super::xml::XmlError> for DavError {
    fn from(e: super::xml::XmlError) -> Self {
        tracing::info!(error = %e, "refused a request body");
        DavError::BadRequest(e.to_string())
    }
}

impl From<super::path::PathError> for DavError {
    fn from(e: super::path::PathError) -> Self {
        DavError::BadRequest(e.to_string())
    }
}
