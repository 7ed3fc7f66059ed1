//! The seam between the HTTP server and the CardDAV layer.
//!
//! The server does transport, authentication and limits; everything a CardDAV client
//! means by its request is `dav`'s. [`DavService`] is the object-safe form of
//! `dav::Dav` the server holds (`Arc<dyn DavService>`), so the server is not generic
//! over the store and tests can plug in a tiny handler of their own.

use crate::dav::{AddressBookStore, Dav, DavBody};
use bytes::Bytes;
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use std::sync::Arc;

/// What the server calls for every request that is not its own (`/healthz`,
/// `/readyz`, `/metrics`).
/// The client's address as a per-client key (IPv6 cut to its /64), put into every
/// request's extensions by the server, for services that bound per-client work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientAddr(pub std::net::IpAddr);

pub trait DavService: Send + Sync + 'static {
    /// Whether the request needs an authenticated user. When false the server passes
    /// it on with `user = None` (OPTIONS, `/.well-known/carddav`); credentials that
    /// come along anyway are still checked and, if right, passed on.
    fn needs_auth(&self, parts: &http::request::Parts) -> bool;

    /// Answer one request with its body already collected (and capped). `user` is the
    /// canonical (lower-case) name of the authenticated user.
    fn handle(
        &self,
        user: Option<String>,
        req: http::Request<Bytes>,
    ) -> BoxFuture<'static, http::Response<DavBody>>;
}

/// The real CardDAV layer: `Arc<Dav<S>>` is a `DavService` for any store.
impl<S: AddressBookStore> DavService for Arc<Dav<S>> {
    fn needs_auth(&self, parts: &http::request::Parts) -> bool {
        Dav::needs_auth(self, parts)
    }

    fn handle(
        &self,
        user: Option<String>,
        req: http::Request<Bytes>,
    ) -> BoxFuture<'static, http::Response<DavBody>> {
        let dav = Arc::clone(self);
        async move { Dav::handle(&dav, user.as_deref(), req).await }.boxed()
    }
}
