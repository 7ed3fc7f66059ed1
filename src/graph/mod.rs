//! Microsoft Graph client: OAuth, contacts, folders, delta, photos, extended properties,
//! batching and throttling (reference/graph.md). Knows nothing of CardDAV.
//!
//! - [`client`]: [`GraphClient`], one method per Graph operation (§3, §4, §13.2);
//! - [`transport`]: headers, per-mailbox concurrency, retries, typed errors (§7, §10);
//! - [`tokens`] and [`oauth`]: where bearer tokens come from (§11);
//! - [`token_store`] and [`setup`]: persisted tokens and building a client from config;
//! - [`cli`]: `cardbridge login` and `cardbridge check`.

mod batch;
pub mod cli;
pub mod client;
pub mod config;
mod envelope;
pub mod error;
pub mod model;
pub mod oauth;
mod paths;
pub mod setup;
pub mod token_store;
pub mod tokens;
pub mod transport;

pub use client::{DeltaRound, GraphClient, Mailbox, UserProfile};
pub use error::GraphError;
pub use oauth::{DeviceCode, OAuthClient, PkceRequest, TokenSet};
pub use tokens::{ClientCredentials, DelegatedTokens, StaticToken, TokenSink, TokenSource};
pub use transport::{ClientStats, GraphClientOptions};
