//! PROPFIND (RFC 4918 §9.1) with `prop`, `allprop` (+ `include`), `propname`; an empty
//! body is `allprop` (§9.1). Depth 0 and 1 only: `infinity`, and a missing `Depth`
//! (which §9.1 says means infinity), get 403 `DAV:propfind-finite-depth` (§9.1, §16).
//!
//! Depth 1 children: `/` → `/dav/`; `/dav/` → `/dav/principals/`, `/dav/addressbooks/`;
//! `/dav/principals/` → the user's principal; `/dav/addressbooks/` → the user's home;
//! the home → its books in the store's order (default first: macOS uses only the
//! first, reference/clients.md §0.6); a book → its cards (ETags in the version the
//! `Accept` header asks for, else 3.0).

use http::Response;

use super::{Ctx, Depth};
use crate::dav::DavBody;
use crate::dav::error::{Condition, DavError, DavResult};
use crate::dav::path::{self, DavPath};
use crate::dav::props::{PropCtx, Selection, Target, write_response};
use crate::dav::response;
use crate::dav::store::AddressBookStore;
use crate::dav::xml::{Multistatus, NS_DAV, parse_body};

pub async fn handle<S: AddressBookStore>(ctx: &Ctx<'_, S>) -> DavResult<Response<DavBody>> {
    let depth = match ctx.depth()? {
        Some(Depth::Zero) => Depth::Zero,
        Some(Depth::One) => Depth::One,
        Some(Depth::Infinity) | None => {
            return Err(DavError::condition(
                Condition::PropfindFiniteDepth,
                "PROPFIND needs Depth: 0 or 1",
            ));
        }
    };
    let selection = match parse_body(&ctx.body)? {
        None => Selection::All(Vec::new()),
        Some(root) => {
            if !root.is(NS_DAV, "propfind") {
                return Err(DavError::BadRequest(format!(
                    "expected a DAV:propfind body, got {}",
                    root.name
                )));
            }
            Selection::from_parent(&root)?.ok_or_else(|| {
                DavError::BadRequest("propfind needs prop, allprop or propname".into())
            })?
        }
    };
    let minimal = ctx.minimal();
    let one = depth == Depth::One;
    let user = ctx.user;
    let mut pctx = PropCtx {
        user,
        principal_displayname: None,
        max_resource_size: ctx.options.max_resource_size,
    };
    let mut w = Multistatus::new();
    let principal_name;
    match &ctx.path {
        DavPath::Root => {
            write_response(&mut w, "/", &Target::Root, &pctx, &selection, minimal);
            if one {
                write_response(
                    &mut w,
                    path::CONTEXT,
                    &Target::Context,
                    &pctx,
                    &selection,
                    minimal,
                );
            }
        }
        DavPath::Context => {
            write_response(
                &mut w,
                path::CONTEXT,
                &Target::Context,
                &pctx,
                &selection,
                minimal,
            );
            if one {
                write_response(
                    &mut w,
                    "/dav/principals/",
                    &Target::Principals,
                    &pctx,
                    &selection,
                    minimal,
                );
                write_response(
                    &mut w,
                    "/dav/addressbooks/",
                    &Target::Homes,
                    &pctx,
                    &selection,
                    minimal,
                );
            }
        }
        DavPath::Principals | DavPath::Principal { .. } => {
            principal_name = ctx
                .store
                .principal_displayname(user)
                .await
                .map_err(ctx.store_err(""))?;
            pctx.principal_displayname = Some(&principal_name);
            let href = path::principal_href(user);
            if ctx.path == DavPath::Principals {
                write_response(
                    &mut w,
                    "/dav/principals/",
                    &Target::Principals,
                    &pctx,
                    &selection,
                    minimal,
                );
                if one {
                    write_response(
                        &mut w,
                        &href,
                        &Target::Principal,
                        &pctx,
                        &selection,
                        minimal,
                    );
                }
            } else {
                write_response(
                    &mut w,
                    &href,
                    &Target::Principal,
                    &pctx,
                    &selection,
                    minimal,
                );
            }
        }
        DavPath::Homes => {
            write_response(
                &mut w,
                "/dav/addressbooks/",
                &Target::Homes,
                &pctx,
                &selection,
                minimal,
            );
            if one {
                write_response(
                    &mut w,
                    &path::home_href(user),
                    &Target::Home,
                    &pctx,
                    &selection,
                    minimal,
                );
            }
        }
        DavPath::Home { .. } => {
            write_response(
                &mut w,
                &path::home_href(user),
                &Target::Home,
                &pctx,
                &selection,
                minimal,
            );
            if one {
                let books = ctx
                    .store
                    .list_books(user)
                    .await
                    .map_err(ctx.store_err(""))?;
                for b in &books {
                    let href = path::book_href(user, &b.id);
                    write_response(&mut w, &href, &Target::Book(b), &pctx, &selection, minimal);
                }
            }
        }
        DavPath::Book { book, .. } => {
            let info = ctx
                .store
                .book(user, book)
                .await
                .map_err(ctx.store_err(book))?;
            write_response(
                &mut w,
                &path::book_href(user, book),
                &Target::Book(&info),
                &pctx,
                &selection,
                minimal,
            );
            if one {
                let cards = ctx
                    .store
                    .list_cards(user, book, ctx.accept_version())
                    .await
                    .map_err(ctx.store_err(book))?;
                w.reserve(cards.len() * 300);
                for meta in &cards {
                    let target = Target::Card { meta, body: None };
                    let href = path::card_href(user, book, &meta.name);
                    write_response(&mut w, &href, &target, &pctx, &selection, minimal);
                }
            }
        }
        DavPath::Card { book, name, .. } => {
            let mut cards = ctx
                .store
                .get_cards(user, book, std::slice::from_ref(name), ctx.accept_version())
                .await
                .map_err(ctx.store_err(book))?;
            let card = cards.pop().flatten().ok_or(DavError::NotFound)?;
            let target = Target::Card {
                meta: &card.meta,
                body: None,
            };
            write_response(
                &mut w,
                &path::card_href(user, book, name),
                &target,
                &pctx,
                &selection,
                minimal,
            );
        }
        DavPath::WellKnown | DavPath::Unknown => return Err(DavError::NotFound),
    }
    Ok(response::multistatus(w.finish()))
}
