//! MKCOL (RFC 4918 §9.3) in its extended form (RFC 5689 §3), creating an address book
//! (RFC 6352 §6.3.1) under the user's home, with `displayname` and
//! `CARDDAV:addressbook-description` (DAVx5's body, reference/clients.md §3.3).
//!
//! - The `resourcetype` set must contain `CARDDAV:addressbook`; anything else (and a
//!   plain MKCOL without a body, which would make an ordinary collection) is 403
//!   `DAV:valid-resourcetype`: only address books can exist here.
//! - A property that cannot be set fails the whole request: 403 with a
//!   `DAV:mkcol-response` giving 403 for it and 424 for the others (RFC 5689 §3.3, §5).
//! - An existing book is 405 (RFC 4918 §9.3.1); MKCOL elsewhere is 405 or 403.
//! - A body labelled with a non-XML media type is 415 (RFC 4918 §9.3: "MUST respond
//!   with a 415" for a request entity type the server does not understand).

use http::{Response, StatusCode};

use super::Ctx;
use crate::dav::DavBody;
use crate::dav::error::{Condition, DavError, DavResult};
use crate::dav::path::DavPath;
use crate::dav::response;
use crate::dav::store::{AddressBookStore, BookPatch, StoreError};
use crate::dav::xml::{Multistatus, NS_CARDDAV, NS_DAV, QName, parse_body};

/// `application/xml`, `text/xml` or any `+xml` type, parameters ignored.
fn is_xml_media_type(ct: &str) -> bool {
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media == "application/xml" || media == "text/xml" || media.ends_with("+xml")
}

pub async fn handle<S: AddressBookStore>(ctx: &Ctx<'_, S>) -> DavResult<Response<DavBody>> {
    let DavPath::Book { book, .. } = &ctx.path else {
        return match ctx.path {
            DavPath::Card { .. } => Err(DavError::Forbidden(
                "collections can only be created directly under the address-book home".into(),
            )),
            _ => Err(DavError::MethodNotAllowed {
                allow: super::ALLOW,
            }),
        };
    };
    if let Some(ct) = ctx.header(http::header::CONTENT_TYPE)
        && !ctx.body.is_empty()
        && !is_xml_media_type(ct)
    {
        return Err(DavError::UnsupportedMediaType(format!(
            "MKCOL takes an XML body (RFC 5689), not {ct}"
        )));
    }
    let Some(root) = parse_body(&ctx.body)? else {
        return Err(DavError::condition(
            Condition::ValidResourcetype,
            "only address books can be created: send an extended MKCOL (RFC 5689) \
             setting resourcetype to collection + CARDDAV:addressbook",
        ));
    };
    if !root.is(NS_DAV, "mkcol") {
        return Err(DavError::BadRequest(format!(
            "expected a DAV:mkcol body, got {}",
            root.name
        )));
    }
    let mut patch = BookPatch::default();
    let mut accepted: Vec<QName> = Vec::new();
    let mut refused: Vec<(QName, Option<&str>)> = Vec::new();
    let mut is_addressbook = false;
    for set in root.children_named(NS_DAV, "set") {
        for prop in set.children_named(NS_DAV, "prop") {
            for p in &prop.children {
                if p.is(NS_DAV, "resourcetype") {
                    if p.child(NS_CARDDAV, "addressbook").is_some() {
                        is_addressbook = true;
                        accepted.push(p.name.clone());
                    } else {
                        refused.push((p.name.clone(), Some("<d:valid-resourcetype/>")));
                    }
                } else if p.is(NS_DAV, "displayname") {
                    patch.displayname = Some(p.text.clone());
                    accepted.push(p.name.clone());
                } else if p.is(NS_CARDDAV, "addressbook-description") {
                    patch.description = Some(Some(p.text.clone()));
                    accepted.push(p.name.clone());
                } else {
                    refused.push((p.name.clone(), None));
                }
            }
        }
    }
    if refused.is_empty() && !is_addressbook {
        return Err(DavError::condition(
            Condition::ValidResourcetype,
            "the new collection's resourcetype must include CARDDAV:addressbook",
        ));
    }
    if !refused.is_empty() {
        let mut w = Multistatus::with_root("d:mkcol-response", 512);
        for (name, error) in &refused {
            w.begin_propstat();
            w.empty(name);
            w.end_propstat(StatusCode::FORBIDDEN, *error);
        }
        if !accepted.is_empty() {
            w.begin_propstat();
            for name in &accepted {
                w.empty(name);
            }
            w.end_propstat(StatusCode::FAILED_DEPENDENCY, None);
        }
        return Ok(response::full(
            StatusCode::FORBIDDEN,
            response::XML,
            w.finish_with("d:mkcol-response"),
        ));
    }
    ctx.store
        .create_book(ctx.user, book, patch)
        .await
        .map_err(|e| match e {
            StoreError::AlreadyExists => DavError::MethodNotAllowed {
                allow: "OPTIONS, GET, HEAD, DELETE, PROPFIND, PROPPATCH, REPORT",
            },
            other => ctx.store_err(book)(other),
        })?;
    Ok(response::empty(StatusCode::CREATED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_xml_bodies_are_understood() {
        // Regression (tests/hostile_input.rs): a text/plain MKCOL body was a 400.
        assert!(is_xml_media_type("application/xml; charset=utf-8"));
        assert!(is_xml_media_type("TEXT/XML"));
        assert!(is_xml_media_type("application/davmount+xml"));
        assert!(!is_xml_media_type("text/plain"));
        assert!(!is_xml_media_type("application/json"));
    }
}
