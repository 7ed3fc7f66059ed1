//! PUT of a card (RFC 9110 §9.3.4, RFC 4918 §9.7, RFC 6352 §6.3.2).
//!
//! - Size first: a body over `max_resource_size` → 413 `CARDDAV:max-resource-size`.
//! - Media type (`CARDDAV:supported-address-data`, 415): `text/vcard`, `text/x-vcard`
//!   and `text/directory` are accepted; any other (or no) `Content-Type` is accepted
//!   when the body itself starts with `BEGIN:VCARD`, because clients mislabel cards
//!   (pimsync sends `text/calendar`; reference/clients.md §5, §10.10). Only a body that
//!   is neither labelled nor shaped like a vCard is refused.
//! - `If-Match` / `If-None-Match: *` become a [`Precondition`] for the store (412 on
//!   failure); neither is required (Thunderbird sends none).
//! - Store errors: `InvalidCard` → 403 `valid-address-data`, `UidConflict` → 409
//!   `no-uid-conflict` with the other card's href, `NotFound` (no such book) → 409
//!   (RFC 4918 §9.7.1: the parent collection must exist).
//! - 201 (created) or 204 (replaced), with `ETag` when the store can name the
//!   representation it will serve (RFC 6352 §6.3.2.3).

use http::{Response, StatusCode, header};

use super::Ctx;
use crate::dav::DavBody;
use crate::dav::error::{Condition, DavError, DavResult};
use crate::dav::path::DavPath;
use crate::dav::response;
use crate::dav::store::{AddressBookStore, Precondition, StoreError};

pub async fn handle<S: AddressBookStore>(ctx: &Ctx<'_, S>) -> DavResult<Response<DavBody>> {
    let DavPath::Card { book, name, .. } = &ctx.path else {
        return Err(DavError::MethodNotAllowed {
            allow: "OPTIONS, GET, HEAD, DELETE, PROPFIND, PROPPATCH, REPORT",
        });
    };
    if ctx.body.len() as u64 > ctx.options.max_resource_size {
        return Err(DavError::condition(
            Condition::MaxResourceSize,
            format!(
                "the card is larger than the maximum of {} bytes",
                ctx.options.max_resource_size
            ),
        ));
    }
    check_media_type(ctx.header(header::CONTENT_TYPE), &ctx.body)?;
    let precondition = precondition(ctx);
    let outcome = ctx
        .store
        .put_card(ctx.user, book, name, ctx.body.clone(), precondition)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => DavError::Conflict(
                "the address book of this card does not exist (create it with MKCOL first)".into(),
            ),
            other => ctx.store_err(book)(other),
        })?;
    let mut r = response::empty(if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    });
    if let Some(etag) = &outcome.etag {
        response::set_header(&mut r, header::ETAG, etag);
    }
    Ok(r)
}

/// `If-Match` / `If-None-Match` of a write (RFC 9110 §13.1.1–2). An `If-None-Match`
/// naming specific ETags (not `*`) is not meaningful for a write here and is ignored.
pub fn precondition<S: AddressBookStore>(ctx: &Ctx<'_, S>) -> Precondition {
    Precondition {
        if_match: ctx.header(header::IF_MATCH).map(|v| v.trim().to_owned()),
        if_none_match_any: ctx
            .header(header::IF_NONE_MATCH)
            .is_some_and(|v| v.split(',').any(|t| t.trim() == "*")),
    }
}

/// The `supported-address-data` precondition (see the module doc).
pub fn check_media_type(content_type: Option<&str>, body: &[u8]) -> DavResult<()> {
    let media = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    let labelled = matches!(
        media.as_deref(),
        Some("text/vcard" | "text/x-vcard" | "text/directory")
    );
    if labelled || looks_like_vcard(body) {
        Ok(())
    } else {
        Err(DavError::condition(
            Condition::SupportedAddressData,
            format!(
                "only vCard 3.0 / 4.0 (text/vcard) can be stored, not {}",
                media.as_deref().unwrap_or("an unlabelled body")
            ),
        ))
    }
}

fn looks_like_vcard(body: &[u8]) -> bool {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    body[start..]
        .get(..11)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"BEGIN:VCARD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_is_lenient_for_real_cards() {
        let card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n";
        assert!(check_media_type(Some("text/vcard"), b"junk").is_ok());
        assert!(check_media_type(Some("text/x-vcard; charset=utf-8"), card).is_ok());
        assert!(check_media_type(Some("text/calendar"), card).is_ok());
        assert!(check_media_type(None, b"\xef\xbb\xbf\r\n begin:vcard\r\n").is_ok());
        let err = check_media_type(Some("application/json"), b"{}").unwrap_err();
        assert!(matches!(
            err,
            DavError::Condition {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                condition: Condition::SupportedAddressData,
                ..
            }
        ));
        assert!(check_media_type(None, b"BEGIN:VCAL").is_err());
    }
}
