//! OPTIONS (RFC 9110 §9.3.7, RFC 4918 §10.1 `DAV` header, RFC 6352 §6.1 `addressbook`,
//! RFC 5689 §3.1 `extended-mkcol`). Answered without authentication and never
//! redirected: DAVx5 drops a principal whose OPTIONS lacks `addressbook`
//! (reference/clients.md §3.1). No `calendar-access`: this is CardDAV only.
//! `sync-collection` support is announced in `supported-report-set` (RFC 6578 §3.1),
//! not in the `DAV` header.

use http::{Response, StatusCode, header};

use crate::dav::DavBody;
use crate::dav::path::DavPath;
use crate::dav::response;

/// The `DAV` compliance classes.
pub const DAV_HEADER: &str = "1, 3, addressbook, extended-mkcol";

/// Answer OPTIONS. Every path gets the same answer (also `OPTIONS *` and paths that do
/// not exist): the capabilities are those of the server, and a probe must not fail.
pub fn handle(_path: &DavPath) -> Response<DavBody> {
    let mut r = response::empty(StatusCode::OK);
    response::set_header(&mut r, header::HeaderName::from_static("dav"), DAV_HEADER);
    response::set_header(&mut r, header::ALLOW, super::ALLOW);
    response::set_header(&mut r, header::CONTENT_LENGTH, "0");
    r
}
