//! CardDAV protocol layer: RFC 4918 (WebDAV), RFC 5397 (current-user-principal),
//! RFC 3744 §4–5 (principal properties, privileges, read-only), RFC 6352 (CardDAV),
//! RFC 6578 (sync-collection), RFC 6764 (`/.well-known/carddav`), RFC 5689 (extended
//! MKCOL), RFC 7232 (conditional requests). Knows nothing of Graph: it talks to an
//! [`store::AddressBookStore`].
//!
//! URL layout (all collections end in `/`; hrefs are path-absolute and encoded with
//! one encode set, [`path::SEGMENT`]):
//! - `/.well-known/carddav` → 301 to `/dav/` (any method, no authentication)
//! - `/dav/` context path
//! - `/dav/principals/{user}/` principal
//! - `/dav/addressbooks/{user}/` address-book home
//! - `/dav/addressbooks/{user}/{book}/` address book
//! - `/dav/addressbooks/{user}/{book}/{name}` card
//!
//! A path of another user is 404. Files:
//! - [`path`]: layout and href encoding; [`xml`]: request parsing (limits) and the
//!   multistatus writer; [`props`]: the live-property registry; [`filter`]:
//!   addressbook-query filters; [`error`]: every error status and `<D:error>` body;
//!   [`methods`]: one file per method; [`testing`]: [`testing::MemoryBooks`].
//!
//! Deliberate choices (documented where they are made):
//! - `Depth: infinity` (and a PROPFIND without `Depth`, RFC 4918 §9.1) → 403
//!   `propfind-finite-depth`.
//! - REPORT ignores `Depth` for multiget and sync-collection (Thunderbird sends 1 where
//!   RFC 6578 says 0); addressbook-query on a book searches its members whatever the
//!   Depth (a query with `Depth: 0` on a book would otherwise match nothing).
//! - Plain MKCOL (no body) → 403 `valid-resourcetype`: only address books can exist.
//! - MOVE moves a card to another book (put in B, then delete in A); COPY → 501.
//! - GET on a collection answers a short plain-text listing.

pub mod error;
pub mod filter;
pub mod methods;
pub mod path;
pub mod props;
pub mod response;
pub mod store;
pub mod testing;
pub mod xml;

pub use store::AddressBookStore;

use bytes::Bytes;
use http::{Method, StatusCode, header};
use std::convert::Infallible;
use std::sync::Arc;

use error::{DavError, DavResult};
use methods::Ctx;
use path::DavPath;

/// Response body type of every DAV response (buffered or streamed).
pub type DavBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// Options of the DAV layer.
#[derive(Debug, Clone)]
pub struct DavOptions {
    /// Largest card accepted on PUT (`max-resource-size`).
    pub max_resource_size: u64,
}

impl Default for DavOptions {
    fn default() -> Self {
        Self {
            max_resource_size: 4 * 1024 * 1024,
        }
    }
}

/// The CardDAV request handler over a store.
pub struct Dav<S: AddressBookStore> {
    store: Arc<S>,
    options: DavOptions,
}

impl<S: AddressBookStore> Dav<S> {
    pub fn new(store: Arc<S>, options: DavOptions) -> Self {
        Self { store, options }
    }

    /// The store this handler serves.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// Whether this request needs an authenticated user (`/.well-known/carddav` and
    /// OPTIONS do not: DAVx5 and Apple probe them first; reference/clients.md §8).
    pub fn needs_auth(&self, req: &http::request::Parts) -> bool {
        if req.method == Method::OPTIONS {
            return false;
        }
        !matches!(DavPath::parse(req.uri.path()), Ok(DavPath::WellKnown))
    }

    /// Answer one request. `user` is the authenticated CardDAV user, or `None` for a
    /// request that [`Dav::needs_auth`] let through without credentials.
    pub async fn handle(
        &self,
        user: Option<&str>,
        req: http::Request<Bytes>,
    ) -> http::Response<DavBody> {
        let (parts, body) = req.into_parts();
        let method = parts.method.clone();
        let mut resp = match self.dispatch(user, &parts, body).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        if method == Method::HEAD {
            // RFC 9110 §9.3.2: same headers as GET, no body.
            let (p, _) = resp.into_parts();
            resp = http::Response::from_parts(p, response::empty(StatusCode::OK).into_body());
        }
        resp
    }

    async fn dispatch(
        &self,
        user: Option<&str>,
        parts: &http::request::Parts,
        body: Bytes,
    ) -> DavResult<http::Response<DavBody>> {
        let path = DavPath::parse(parts.uri.path())?;
        if path == DavPath::WellKnown {
            // RFC 6764 §5: redirect to the context path, whatever the method (libdav
            // uses GET, Apple and DAVx5 PROPFIND).
            let mut r = response::text(StatusCode::MOVED_PERMANENTLY, path::CONTEXT);
            response::set_header(&mut r, header::LOCATION, path::CONTEXT);
            return Ok(r);
        }
        if parts.method == Method::OPTIONS {
            return Ok(methods::options::handle(&path));
        }
        let Some(user) = user else {
            return Err(DavError::Unauthorized);
        };
        if path == DavPath::Unknown || path.user().is_some_and(|u| u != user) {
            return Err(DavError::NotFound);
        }
        let ctx = Ctx::new(self, user, path, &parts.headers, body);
        match parts.method.as_str() {
            "GET" | "HEAD" => methods::get::handle(&ctx).await,
            "PUT" => methods::put::handle(&ctx).await,
            "DELETE" => methods::delete::handle(&ctx).await,
            "PROPFIND" => methods::propfind::handle(&ctx).await,
            "PROPPATCH" => methods::proppatch::handle(&ctx).await,
            "REPORT" => methods::report::handle(&ctx).await,
            "MKCOL" => methods::mkcol::handle(&ctx).await,
            "MOVE" => methods::moves::handle(&ctx).await,
            "COPY" => Err(DavError::NotImplemented(
                "COPY is not supported; PUT the card to the other address book".into(),
            )),
            _ => Err(DavError::MethodNotAllowed {
                allow: methods::ALLOW,
            }),
        }
    }
}
