//! The HTTP(S) front of cardbridge: listener, TLS, authentication, limits, health and
//! metrics. It knows nothing of vCard or Graph: every request that is not its own
//! (`/healthz`, `/readyz`, `/metrics`) goes to a [`DavService`] with the authenticated
//! user.
//!
//! - HTTP semantics follow RFC 9110; HTTP/1.1 with keep-alive (some CardDAV clients
//!   misbehave with servers that close) and HTTP/2 (ALPN over TLS, prior knowledge on
//!   plain TCP) come from hyper 1 + hyper-util's auto builder (see [`start`]).
//! - Authentication is HTTP Basic (RFC 7617, UTF-8) with per-user app passwords
//!   ([`basic`], [`users`]), because no CardDAV client can do Microsoft OAuth against a
//!   custom host; 401 + `WWW-Authenticate` invites clients that never send credentials
//!   first (Thunderbird, Apple).
//! - Throttles answer 503 + `Retry-After`, which DAVx5 honours and 429 is not
//!   ([`limits`]).
//! - TLS is rustls with the ring provider, reloaded on SIGHUP and file change ([`tls`]);
//!   plain HTTP is refused on non-loopback addresses unless explicitly allowed.
//! - Multistatus answers are gzip-coded for clients that accept it (`compress`).
//!
//! The composition root (`serve`, `demo`) builds a [`UserStore`] over the state store,
//! a [`DavService`] (an `Arc<dav::Dav<S>>`), a [`Readiness`], and calls [`start`].

pub mod basic;
mod compress;
pub mod config;
mod connection;
mod handler;
pub mod health;
pub mod limits;
mod listener;
pub mod logging;
mod malloc;
pub mod metrics;
pub mod options;
pub mod service;
pub mod signal;
pub mod tls;
pub mod user_cli;
pub mod users;

pub use health::Readiness;
pub use listener::{ServerHandle, ShutdownTrigger, start};
pub use logging::{LogFormat, init_logging};
pub use metrics::{MetricKind, Metrics, MetricsError};
pub use options::{ServerOptions, TlsFiles};
pub use service::{ClientAddr, DavService};
pub use signal::shutdown_signal;
pub use users::{UserError, UserStore};
