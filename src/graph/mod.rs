//! Microsoft Graph client: OAuth, contacts, folders, delta, photos, extended properties,
//! batching and throttling (reference/graph.md). Knows nothing of CardDAV.

pub mod client;
pub mod config;
pub mod error;
pub mod model;

pub use client::{DeltaRound, GraphClient, Mailbox};
pub use error::GraphError;
