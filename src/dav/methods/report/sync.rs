//! `DAV:sync-collection` (RFC 6578 §3) on an address book.
//!
//! - An empty `sync-token` is the initial sync (§3.4): every member.
//! - Changed members come with the requested properties (§3.5.1), removed ones as a
//!   `404` response (§3.5.2); the new token is written at the top level (§3.2).
//! - `sync-level` `1` (§3.3); `infinite` is accepted as the same thing, since address
//!   books hold no collections. A missing `sync-level` is tolerated.
//! - `DAV:limit` / `nresults` (§3.7): when the store stops early, a `507` response for
//!   the collection itself and the continuation token (DAVx5 loops on it).
//! - A token the store does not honour: 403 `DAV:valid-sync-token`, or 400 with the
//!   same body for Thunderbird, which recovers only from 400 (reference/clients.md §0.7).

use http::{Response, StatusCode};

use super::Ctx;
use crate::dav::DavBody;
use crate::dav::error::{Condition, DavError, DavResult};
use crate::dav::path::{self, DavPath};
use crate::dav::props::{PropCtx, Requested, Selection, Target, lookup, write_response};
use crate::dav::response;
use crate::dav::store::{AddressBookStore, StoreError};
use crate::dav::xml::{Element, Multistatus, NS_DAV, QName};

pub async fn handle<S: AddressBookStore>(
    ctx: &Ctx<'_, S>,
    root: &Element,
) -> DavResult<Response<DavBody>> {
    let DavPath::Book { book, .. } = &ctx.path else {
        return Err(DavError::condition(
            Condition::SupportedReport,
            "sync-collection is supported on address books only",
        ));
    };
    let token = root
        .child(NS_DAV, "sync-token")
        .map(Element::trimmed_text)
        .filter(|t| !t.is_empty());
    if let Some(level) = root.child(NS_DAV, "sync-level") {
        let level = level.trimmed_text();
        if level != "1" && !level.eq_ignore_ascii_case("infinite") {
            return Err(DavError::BadRequest(format!(
                "sync-level must be 1 or infinite, not {level:?}"
            )));
        }
    }
    let limit = parse_limit(root)?;
    let selection = match Selection::from_parent(root)? {
        Some(s) => s,
        None => Selection::Props(vec![Requested {
            name: QName::new(NS_DAV, "getetag"),
            def: lookup(&QName::new(NS_DAV, "getetag")),
            address_data: None,
        }]),
    };
    let version = super::version_for(ctx, &selection);

    let changes = match ctx
        .store
        .changes_since(ctx.user, book, token, limit, version)
        .await
    {
        Ok(c) => c,
        Err(StoreError::InvalidSyncToken) => {
            let status = if ctx.is_thunderbird() {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::FORBIDDEN
            };
            return Err(DavError::Condition {
                status,
                condition: Condition::ValidSyncToken,
                message: "sync token unknown or expired; sync again from an empty token".into(),
            });
        }
        Err(e) => return Err(ctx.store_err(book)(e)),
    };

    let bodies = if selection.wants_body() && !changes.changed.is_empty() {
        let names: Vec<String> = changes.changed.iter().map(|m| m.name.clone()).collect();
        ctx.store
            .get_cards(ctx.user, book, &names, version)
            .await
            .map_err(ctx.store_err(book))?
    } else {
        Vec::new()
    };

    let pctx = PropCtx {
        user: ctx.user,
        principal_displayname: None,
        max_resource_size: ctx.options.max_resource_size,
    };
    let minimal = ctx.minimal();
    let mut w = Multistatus::new();
    for (i, meta) in changes.changed.iter().enumerate() {
        let href = path::card_href(ctx.user, book, &meta.name);
        match bodies.get(i) {
            // Removed between the two store calls: report it as removed.
            Some(None) => w.status_response(&href, StatusCode::NOT_FOUND),
            Some(Some(card)) => {
                let target = Target::Card {
                    meta: &card.meta,
                    body: Some(&card.body[..]),
                };
                write_response(&mut w, &href, &target, &pctx, &selection, minimal);
            }
            None => {
                let target = Target::Card { meta, body: None };
                write_response(&mut w, &href, &target, &pctx, &selection, minimal);
            }
        }
    }
    for name in &changes.deleted {
        w.status_response(
            &path::card_href(ctx.user, book, name),
            StatusCode::NOT_FOUND,
        );
    }
    if changes.truncated {
        w.status_response(
            &path::book_href(ctx.user, book),
            StatusCode::INSUFFICIENT_STORAGE,
        );
    }
    w.sync_token(&changes.new_token);
    Ok(response::multistatus(w.finish()))
}

/// `<d:limit><d:nresults>N</d:nresults></d:limit>` (RFC 5323 §5.17, RFC 6578 §3.7).
pub fn parse_limit(root: &Element) -> DavResult<Option<usize>> {
    parse_nresults(root.child(NS_DAV, "limit"), NS_DAV)
}

/// The `nresults` of a `limit` element in namespace `ns`.
pub fn parse_nresults(limit: Option<&Element>, ns: &str) -> DavResult<Option<usize>> {
    let Some(limit) = limit else {
        return Ok(None);
    };
    let n = limit
        .child(ns, "nresults")
        .ok_or_else(|| DavError::BadRequest("limit needs nresults".into()))?;
    n.trimmed_text()
        .parse::<usize>()
        .map(Some)
        .map_err(|_| DavError::BadRequest("nresults must be a non-negative integer".into()))
}
