//! `CARDDAV:addressbook-query` (RFC 6352 §8.6) on an address book: the members that
//! match the `filter` ([`crate::dav::filter`]), with the requested properties.
//! `<C:limit><C:nresults>` (§8.6.1): when more cards match, the first `nresults` are
//! returned plus a `507` response for the request URI. An empty or absent filter
//! matches every card, and then card bodies are read only if `address-data` is asked.

use http::{Response, StatusCode};

use super::Ctx;
use super::sync::parse_nresults;
use crate::dav::DavBody;
use crate::dav::error::{Condition, DavError, DavResult};
use crate::dav::filter::Filter;
use crate::dav::path::{self, DavPath};
use crate::dav::props::{PropCtx, Selection, Target, write_response};
use crate::dav::response;
use crate::dav::store::AddressBookStore;
use crate::dav::xml::{Element, Multistatus, NS_CARDDAV};

pub async fn handle<S: AddressBookStore>(
    ctx: &Ctx<'_, S>,
    root: &Element,
) -> DavResult<Response<DavBody>> {
    let DavPath::Book { book, .. } = &ctx.path else {
        return Err(DavError::condition(
            Condition::SupportedReport,
            "addressbook-query is supported on address books only",
        ));
    };
    let selection = Selection::from_parent(root)?.unwrap_or_else(|| Selection::All(Vec::new()));
    let filter = match root.child(NS_CARDDAV, "filter") {
        Some(f) => Filter::parse(f)?,
        None => Filter::all(),
    };
    let limit = parse_nresults(root.child(NS_CARDDAV, "limit"), NS_CARDDAV)?;
    let version = super::version_for(ctx, &selection);

    let metas = ctx
        .store
        .list_cards(ctx.user, book, version)
        .await
        .map_err(ctx.store_err(book))?;
    let pctx = PropCtx {
        user: ctx.user,
        principal_displayname: None,
        max_resource_size: ctx.options.max_resource_size,
    };
    let minimal = ctx.minimal();
    let max = limit.unwrap_or(usize::MAX);
    let mut w = Multistatus::new();
    let mut written = 0usize;
    let mut truncated = false;

    if filter.is_all() && !selection.wants_body() {
        for meta in &metas {
            if written == max {
                truncated = true;
                break;
            }
            let href = path::card_href(ctx.user, book, &meta.name);
            write_response(
                &mut w,
                &href,
                &Target::Card { meta, body: None },
                &pctx,
                &selection,
                minimal,
            );
            written += 1;
        }
    } else {
        let names: Vec<String> = metas.iter().map(|m| m.name.clone()).collect();
        let cards = ctx
            .store
            .get_cards(ctx.user, book, &names, version)
            .await
            .map_err(ctx.store_err(book))?;
        let wants_body = selection.wants_body();
        for card in cards.iter().flatten() {
            if !filter.matches(&card.body) {
                continue;
            }
            if written == max {
                truncated = true;
                break;
            }
            let href = path::card_href(ctx.user, book, &card.meta.name);
            let target = Target::Card {
                meta: &card.meta,
                body: wants_body.then_some(&card.body[..]),
            };
            write_response(&mut w, &href, &target, &pctx, &selection, minimal);
            written += 1;
        }
    }
    if truncated {
        w.status_response(
            &path::book_href(ctx.user, book),
            StatusCode::INSUFFICIENT_STORAGE,
        );
    }
    Ok(response::multistatus(w.finish()))
}
