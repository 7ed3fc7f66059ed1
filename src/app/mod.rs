//! The composition root: where the layers of DESIGN.md are wired together for the
//! `serve`, `sync` and `demo` commands. Nothing here implements protocol or Graph behaviour; it
//! builds the state store, the Graph clients, the bridge, the CardDAV layer and the
//! HTTP server, in that order, and hands each the next.

pub mod accounts;
pub mod check;
pub mod demo;
mod metrics;
pub mod serve;
mod stack;
pub mod sync;
pub mod web;

pub use stack::{Stack, StackParts, start_stack};
pub use web::WebSetup;
