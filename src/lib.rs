//! cardbridge: a CardDAV server that serves Outlook / Microsoft 365 contacts through
//! Microsoft Graph. See DESIGN.md for the layers:
//! `server` → `dav` → (`AddressBookStore`) → `bridge` → `graph`, with `vcard` for the
//! mapping, `state` for persistence and `emulator` standing in for Graph in tests;
//! `web` is the onboarding page, mounted in front of `dav`.

pub mod app;
pub mod bridge;
pub mod config;
pub mod dav;
pub mod emulator;
pub mod graph;
pub mod guid;
pub mod healthcheck;
pub mod server;
pub mod state;
pub mod vcard;
pub mod web;
