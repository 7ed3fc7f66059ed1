//! GET and HEAD (RFC 9110 §9.3.1–2; RFC 6352 §6.3.2 address object resources).
//!
//! A card is served in the version the `Accept` header asks for (3.0 unless
//! `text/vcard; version=4.0`), with a strong `ETag`, `Last-Modified`, and
//! `Content-Type: text/vcard; charset=utf-8` (plus `version=4.0` for 4.0).
//! `If-None-Match` matching the ETag gives 304 (RFC 9110 §13.1.2); without it,
//! `If-Modified-Since` is honoured (§13.1.3). A collection answers a short plain-text
//! listing (useful in a browser; no client depends on it).

use http::{Response, StatusCode, header};

use super::{Ctx, etag_list_matches};
use crate::dav::DavBody;
use crate::dav::error::{DavError, DavResult};
use crate::dav::path::{self, DavPath};
use crate::dav::props::card_content_type;
use crate::dav::response;
use crate::dav::store::AddressBookStore;

pub async fn handle<S: AddressBookStore>(ctx: &Ctx<'_, S>) -> DavResult<Response<DavBody>> {
    match &ctx.path {
        DavPath::Card { book, name, .. } => get_card(ctx, book, name).await,
        DavPath::Book { book, .. } => {
            let info = ctx
                .store
                .book(ctx.user, book)
                .await
                .map_err(ctx.store_err(book))?;
            let cards = ctx
                .store
                .list_cards(ctx.user, book, ctx.accept_version())
                .await
                .map_err(ctx.store_err(book))?;
            let mut text = format!(
                "Address book {:?}: {} cards\n",
                info.displayname,
                cards.len()
            );
            for c in &cards {
                text.push_str(&path::card_href(ctx.user, book, &c.name));
                text.push('\n');
            }
            Ok(response::text(StatusCode::OK, text))
        }
        DavPath::Home { .. } => {
            let books = ctx
                .store
                .list_books(ctx.user)
                .await
                .map_err(ctx.store_err(""))?;
            let mut text = String::from("Address books:\n");
            for b in &books {
                text.push_str(&path::book_href(ctx.user, &b.id));
                text.push_str("  ");
                text.push_str(&b.displayname);
                text.push('\n');
            }
            Ok(response::text(StatusCode::OK, text))
        }
        _ => Ok(response::text(
            StatusCode::OK,
            format!(
                "cardbridge CardDAV server. Address books of {}: {}\n",
                ctx.user,
                path::home_href(ctx.user)
            ),
        )),
    }
}

async fn get_card<S: AddressBookStore>(
    ctx: &Ctx<'_, S>,
    book: &str,
    name: &str,
) -> DavResult<Response<DavBody>> {
    let version = ctx.accept_version();
    let mut cards = ctx
        .store
        .get_cards(ctx.user, book, &[name.to_owned()], version)
        .await
        .map_err(ctx.store_err(book))?;
    let card = cards.pop().flatten().ok_or(DavError::NotFound)?;
    let meta = &card.meta;
    let last_modified = httpdate::fmt_http_date(meta.last_modified);

    let not_modified = match ctx.header(header::IF_NONE_MATCH) {
        Some(inm) => etag_list_matches(inm, &meta.etag),
        None => ctx
            .header(header::IF_MODIFIED_SINCE)
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .is_some_and(|since| {
                // HTTP dates have one-second resolution.
                let lm = httpdate::parse_http_date(&last_modified).unwrap_or(meta.last_modified);
                lm <= since
            }),
    };
    let mut r = if not_modified {
        response::empty(StatusCode::NOT_MODIFIED)
    } else {
        let len = card.body.len();
        let mut r = response::full(
            StatusCode::OK,
            card_content_type(meta.version),
            card.body.clone(),
        );
        response::set_header(&mut r, header::CONTENT_LENGTH, &len.to_string());
        r
    };
    response::set_header(&mut r, header::ETAG, &meta.etag);
    response::set_header(&mut r, header::LAST_MODIFIED, &last_modified);
    response::set_header(&mut r, header::VARY, "Accept");
    Ok(r)
}
