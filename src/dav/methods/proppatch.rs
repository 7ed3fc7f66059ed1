//! PROPPATCH (RFC 4918 §9.2) on an address book: `DAV:displayname` (set) and
//! `CARDDAV:addressbook-description` (set, remove). The request is atomic (§9.2):
//! - a live property of the registry that is not writable → 403 with
//!   `DAV:cannot-modify-protected-property` (§16);
//! - any other property, and removing `displayname` → 403 (no dead properties are
//!   stored; Apple's `CS:me-card` on the home gets this, which it accepts;
//!   reference/clients.md §2.3);
//! - then every other property of the request → 424 Failed Dependency.
//!
//! On any other resource every property is refused the same way.

use http::{Response, StatusCode};

use super::Ctx;
use crate::dav::DavBody;
use crate::dav::error::{DavError, DavResult};
use crate::dav::path::{self, DavPath};
use crate::dav::props::lookup;
use crate::dav::response;
use crate::dav::store::{AddressBookStore, BookPatch};
use crate::dav::xml::{Multistatus, NS_CARDDAV, NS_DAV, QName, parse_body};

pub async fn handle<S: AddressBookStore>(ctx: &Ctx<'_, S>) -> DavResult<Response<DavBody>> {
    let root = parse_body(&ctx.body)?
        .ok_or_else(|| DavError::BadRequest("PROPPATCH needs a propertyupdate body".into()))?;
    if !root.is(NS_DAV, "propertyupdate") {
        return Err(DavError::BadRequest(format!(
            "expected a DAV:propertyupdate body, got {}",
            root.name
        )));
    }
    let book = match &ctx.path {
        DavPath::Book { book, .. } => {
            // 404 before anything for a book that does not exist.
            ctx.store
                .book(ctx.user, book)
                .await
                .map_err(ctx.store_err(book))?;
            Some(book.as_str())
        }
        _ => None,
    };

    let mut patch = BookPatch::default();
    let mut ok: Vec<QName> = Vec::new();
    let mut protected: Vec<QName> = Vec::new();
    let mut refused: Vec<QName> = Vec::new();
    for op in &root.children {
        let set = if op.is(NS_DAV, "set") {
            true
        } else if op.is(NS_DAV, "remove") {
            false
        } else {
            return Err(DavError::BadRequest(format!(
                "{} in propertyupdate (set or remove)",
                op.name
            )));
        };
        for prop in op.children_named(NS_DAV, "prop") {
            for p in &prop.children {
                let writable_here = book.is_some();
                if writable_here && p.is(NS_DAV, "displayname") && set {
                    patch.displayname = Some(p.text.clone());
                    ok.push(p.name.clone());
                } else if writable_here && p.is(NS_CARDDAV, "addressbook-description") {
                    patch.description = Some(set.then(|| p.text.clone()));
                    ok.push(p.name.clone());
                } else if lookup(&p.name).is_some_and(|d| !d.writable) {
                    protected.push(p.name.clone());
                } else {
                    refused.push(p.name.clone());
                }
            }
        }
    }

    let failed = !protected.is_empty() || !refused.is_empty();
    if !failed
        && let Some(book) = book
        && !ok.is_empty()
    {
        ctx.store
            .update_book(ctx.user, book, patch)
            .await
            .map_err(ctx.store_err(book))?;
    }

    let href = match &ctx.path {
        DavPath::Book { book, .. } => path::book_href(ctx.user, book),
        DavPath::Home { .. } => path::home_href(ctx.user),
        DavPath::Principal { .. } => path::principal_href(ctx.user),
        DavPath::Card { book, name, .. } => path::card_href(ctx.user, book, name),
        DavPath::Principals => "/dav/principals/".into(),
        DavPath::Homes => "/dav/addressbooks/".into(),
        DavPath::Context => path::CONTEXT.into(),
        _ => "/".into(),
    };
    let mut w = Multistatus::new();
    w.begin_response(&href);
    let group = |w: &mut Multistatus, names: &[QName], status, error| {
        if !names.is_empty() {
            w.begin_propstat();
            for n in names {
                w.empty(n);
            }
            w.end_propstat(status, error);
        }
    };
    if failed {
        group(
            &mut w,
            &protected,
            StatusCode::FORBIDDEN,
            Some("<d:cannot-modify-protected-property/>"),
        );
        group(&mut w, &refused, StatusCode::FORBIDDEN, None);
        group(&mut w, &ok, StatusCode::FAILED_DEPENDENCY, None);
    } else {
        group(&mut w, &ok, StatusCode::OK, None);
    }
    w.end_response();
    Ok(response::multistatus(w.finish()))
}
