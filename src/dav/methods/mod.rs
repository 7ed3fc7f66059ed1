//! One file per HTTP method (in the manner of Radicale's `app/`), sharing the request
//! context [`Ctx`] built by [`crate::dav::Dav::handle`].

pub mod delete;
pub mod get;
pub mod mkcol;
pub mod moves;
pub mod options;
pub mod propfind;
pub mod proppatch;
pub mod put;
pub mod report;

use bytes::Bytes;
use http::HeaderMap;

use super::error::{DavError, DavResult};
use super::path::DavPath;
use super::store::{AddressBookStore, VCardVersion};
use super::{Dav, DavOptions};

/// Methods answered (the `Allow` header, RFC 9110 §10.2.1). POST is not listed: RFC 5995
/// add-member is not offered (reference/clients.md §2.1).
pub const ALLOW: &str = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, REPORT, MKCOL, MOVE";

/// Everything a method handler needs about one authenticated request.
pub struct Ctx<'a, S: AddressBookStore> {
    pub store: &'a S,
    pub options: &'a DavOptions,
    pub user: &'a str,
    pub path: DavPath,
    pub headers: &'a HeaderMap,
    pub body: Bytes,
}

impl<'a, S: AddressBookStore> Ctx<'a, S> {
    pub fn new(
        dav: &'a Dav<S>,
        user: &'a str,
        path: DavPath,
        headers: &'a HeaderMap,
        body: Bytes,
    ) -> Self {
        Self {
            store: &dav.store,
            options: &dav.options,
            user,
            path,
            headers,
            body,
        }
    }

    /// A header as text (`None` if absent or not visible ASCII).
    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The version to serve when the body does not say (`Accept`, else 3.0).
    pub fn accept_version(&self) -> VCardVersion {
        crate::vcard::negotiate_version(self.header(http::header::ACCEPT), None)
    }

    /// `Prefer: return=minimal` (RFC 7240 §4.2) or the older `Brief: t`.
    pub fn minimal(&self) -> bool {
        self.headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| {
                v.split(',')
                    .any(|p| p.trim().eq_ignore_ascii_case("return=minimal"))
            })
            || self
                .header("brief")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("t"))
    }

    /// The `Depth` header (RFC 4918 §10.2); `None` when absent.
    pub fn depth(&self) -> DavResult<Option<Depth>> {
        match self.headers.get("depth") {
            None => Ok(None),
            Some(v) => match v.to_str().map(str::trim) {
                Ok("0") => Ok(Some(Depth::Zero)),
                Ok("1") => Ok(Some(Depth::One)),
                Ok(s) if s.eq_ignore_ascii_case("infinity") => Ok(Some(Depth::Infinity)),
                _ => Err(DavError::BadRequest(
                    "Depth must be 0, 1 or infinity".into(),
                )),
            },
        }
    }

    /// The client is Thunderbird (which recovers from an invalid sync token only on
    /// 400; reference/clients.md §0.7).
    pub fn is_thunderbird(&self) -> bool {
        self.header(http::header::USER_AGENT)
            .is_some_and(|ua| ua.contains("Thunderbird/"))
    }

    /// Map a store error, naming conflicting cards relative to `book`.
    pub fn store_err(&self, book: &str) -> impl FnOnce(super::store::StoreError) -> DavError + '_ {
        let user = self.user;
        let book = book.to_owned();
        move |e| DavError::from_store(e, |name| super::path::card_href(user, &book, name))
    }
}

/// The `Depth` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Zero,
    One,
    Infinity,
}

/// Whether an `If-None-Match` / `If-Match` list (RFC 9110 §13.1.1–2) names `etag`,
/// compared weakly (`W/` and quotes ignored; DAVx5 and vdirsyncer send ETags back in
/// slightly different forms, reference/clients.md §8).
pub fn etag_list_matches(list: &str, etag: &str) -> bool {
    let want = bare_etag(etag);
    list.split(',')
        .map(str::trim)
        .any(|t| t == "*" || bare_etag(t) == want)
}

fn bare_etag(t: &str) -> &str {
    let t = t.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.trim_matches('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_compare_leniently() {
        assert!(etag_list_matches("\"abc\"", "\"abc\""));
        assert!(etag_list_matches("W/\"abc\"", "\"abc\""));
        assert!(etag_list_matches("abc", "\"abc\""));
        assert!(etag_list_matches("\"x\", \"abc\"", "\"abc\""));
        assert!(etag_list_matches("*", "\"abc\""));
        assert!(!etag_list_matches("\"abd\"", "\"abc\""));
    }
}
