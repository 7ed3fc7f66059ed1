//! `CARDDAV:addressbook-multiget` (RFC 6352 §8.7): the cards named by `DAV:href`, one
//! `response` per href in request order, `404` per href that is not a card of this
//! user (§8.7: not an error for the whole request). Cards are fetched with one store
//! call per address book, whatever the number of hrefs (Thunderbird and vdirsyncer
//! send every href at once; reference/clients.md §0.9). Each response echoes the href
//! as the client sent it, so clients that match by string find their card.

use std::collections::HashMap;

use http::{Response, StatusCode};

use super::Ctx;
use crate::dav::DavBody;
use crate::dav::error::{DavError, DavResult};
use crate::dav::path::DavPath;
use crate::dav::props::{PropCtx, Selection, Target, write_response};
use crate::dav::response;
use crate::dav::store::{AddressBookStore, Card, StoreError};
use crate::dav::xml::{Element, Multistatus, NS_DAV};

pub async fn handle<S: AddressBookStore>(
    ctx: &Ctx<'_, S>,
    root: &Element,
) -> DavResult<Response<DavBody>> {
    let selection = Selection::from_parent(root)?
        .ok_or_else(|| DavError::BadRequest("addressbook-multiget needs DAV:prop".into()))?;
    let version = super::version_for(ctx, &selection);
    // Old libdav wrote `<href>` without a namespace (reference/clients.md §5).
    let hrefs: Vec<&str> = root
        .children
        .iter()
        .filter(|c| c.is(NS_DAV, "href") || c.is("", "href"))
        .map(Element::trimmed_text)
        .collect();

    // Group the names per book, remembering where each href's card will be.
    let mut per_book: HashMap<String, Vec<String>> = HashMap::new();
    let mut slots: Vec<Option<(String, usize)>> = Vec::with_capacity(hrefs.len());
    for href in &hrefs {
        match DavPath::parse_href(href) {
            Ok(DavPath::Card { user, book, name }) if user == ctx.user => {
                let names = per_book.entry(book.clone()).or_default();
                slots.push(Some((book, names.len())));
                names.push(name);
            }
            _ => slots.push(None),
        }
    }
    let mut fetched: HashMap<String, Vec<Option<Card>>> = HashMap::new();
    for (book, names) in &per_book {
        let cards = match ctx.store.get_cards(ctx.user, book, names, version).await {
            Ok(cards) => cards,
            Err(StoreError::NotFound) => vec![None; names.len()],
            Err(e) => return Err(ctx.store_err(book)(e)),
        };
        fetched.insert(book.clone(), cards);
    }

    let pctx = PropCtx {
        user: ctx.user,
        principal_displayname: None,
        max_resource_size: ctx.options.max_resource_size,
    };
    let minimal = ctx.minimal();
    let wants_body = selection.wants_body();
    let mut w = Multistatus::new();
    w.reserve(
        fetched
            .values()
            .flatten()
            .flatten()
            .map(|c| c.body.len() + 300)
            .sum(),
    );
    for (href, slot) in hrefs.iter().zip(&slots) {
        let card = slot
            .as_ref()
            .and_then(|(book, i)| fetched.get(book).and_then(|v| v.get(*i)))
            .and_then(Option::as_ref);
        match card {
            Some(card) => {
                let target = Target::Card {
                    meta: &card.meta,
                    body: wants_body.then_some(&card.body[..]),
                };
                write_response(&mut w, href, &target, &pctx, &selection, minimal);
            }
            None => w.status_response(href, StatusCode::NOT_FOUND),
        }
    }
    Ok(response::multistatus(w.finish()))
}
