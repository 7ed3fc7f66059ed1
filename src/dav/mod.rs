//! CardDAV protocol layer (RFC 4918, 5397, 6352, 6578, 6764): URL layout, XML request
//! parsing, multistatus writing, live properties, filters, typed errors, one file per
//! method. Knows nothing of Graph: it talks to an [`store::AddressBookStore`].
//!
//! STUB entry point: the signatures below are agreed with `server`; the DAV work
//! replaces the bodies.
//!
//! URL layout (all collections end in `/`):
//! - `/.well-known/carddav` → 301 to `/dav/`
//! - `/dav/` context path
//! - `/dav/principals/{user}/` principal
//! - `/dav/addressbooks/{user}/` address-book home
//! - `/dav/addressbooks/{user}/{book}/` address book
//! - `/dav/addressbooks/{user}/{book}/{name}` card

pub mod store;

pub use store::AddressBookStore;

use bytes::Bytes;
use std::convert::Infallible;
use std::sync::Arc;

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
    #[allow(dead_code)]
    store: Arc<S>,
    #[allow(dead_code)]
    options: DavOptions,
}

impl<S: AddressBookStore> Dav<S> {
    pub fn new(store: Arc<S>, options: DavOptions) -> Self {
        Self { store, options }
    }

    /// Whether this request needs an authenticated user (`/.well-known/carddav` and
    /// OPTIONS do not).
    pub fn needs_auth(&self, _req: &http::request::Parts) -> bool {
        true
    }

    /// Answer one request. `user` is the authenticated CardDAV user, or `None` for a
    /// request that [`Dav::needs_auth`] let through without credentials.
    pub async fn handle(
        &self,
        _user: Option<&str>,
        _req: http::Request<Bytes>,
    ) -> http::Response<DavBody> {
        use http_body_util::BodyExt;
        let mut r = http::Response::new(
            http_body_util::Full::new(Bytes::from_static(b"not implemented"))
                .map_err(|never| match never {})
                .boxed(),
        );
        *r.status_mut() = http::StatusCode::NOT_IMPLEMENTED;
        r
    }
}
