//! MOVE (RFC 4918 §9.9) of a card to another address book of the same user: the card
//! is PUT into the destination book, then deleted from the source (a create + delete
//! on Graph, as DESIGN.md says). `Overwrite: F` (§10.6) makes the PUT conditional on
//! the destination not existing (412 otherwise); `If-Match` applies to the source.
//! Renaming inside one book is refused (403): the copy would collide with the
//! original's UID. A destination on another server is 502 (§9.9.4).

use http::{Response, StatusCode, header};

use super::{Ctx, etag_list_matches};
use crate::dav::DavBody;
use crate::dav::error::{DavError, DavResult};
use crate::dav::path::DavPath;
use crate::dav::response;
use crate::dav::store::{AddressBookStore, Precondition, StoreError, VCardVersion};

pub async fn handle<S: AddressBookStore>(ctx: &Ctx<'_, S>) -> DavResult<Response<DavBody>> {
    let DavPath::Card { book, name, .. } = &ctx.path else {
        return Err(DavError::Forbidden(
            "only cards can be moved (to another address book)".into(),
        ));
    };
    let dest = ctx
        .header(header::HeaderName::from_static("destination"))
        .ok_or_else(|| DavError::BadRequest("MOVE needs a Destination header".into()))?;
    if let Some(host) = ctx.header(header::HOST)
        && let Some(rest) = dest.split_once("://").map(|(_, r)| r)
        && !rest.starts_with(host)
    {
        return Err(DavError::BadGateway(format!(
            "Destination {dest:?} is not on this server"
        )));
    }
    let (dest_book, dest_name) = match DavPath::parse_href(dest)? {
        DavPath::Card { user, book, name } if user == ctx.user => (book, name),
        DavPath::Card { .. } => return Err(DavError::NotFound),
        _ => {
            return Err(DavError::Conflict(
                "the Destination must be a card in another address book".into(),
            ));
        }
    };
    if dest_book == *book {
        return Err(DavError::Forbidden(
            "renaming a card inside its address book is not supported".into(),
        ));
    }
    let overwrite = !ctx
        .header(header::HeaderName::from_static("overwrite"))
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("F"));

    let mut cards = ctx
        .store
        .get_cards(ctx.user, book, std::slice::from_ref(name), VCardVersion::V3)
        .await
        .map_err(ctx.store_err(book))?;
    let card = cards.pop().flatten().ok_or(DavError::NotFound)?;
    if let Some(im) = ctx.header(header::IF_MATCH)
        && !etag_list_matches(im, &card.meta.etag)
    {
        return Err(DavError::PreconditionFailed);
    }
    let outcome = ctx
        .store
        .put_card(
            ctx.user,
            &dest_book,
            &dest_name,
            card.body.clone(),
            Precondition {
                if_match: None,
                if_none_match_any: !overwrite,
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::NotFound => {
                DavError::Conflict("the destination address book does not exist".into())
            }
            other => ctx.store_err(&dest_book)(other),
        })?;
    ctx.store
        .delete_card(ctx.user, book, name, Precondition::default())
        .await
        .map_err(ctx.store_err(book))?;
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
