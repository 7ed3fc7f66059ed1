//! A Microsoft Graph + identity-platform emulator for tests, benchmarks and `demo`.
//!
//! Why: cardbridge must be tested against Graph's real behaviour (paging, delta tokens,
//! throttling, change keys, slot limits, OAuth flows) without a tenant or the internet.
//! This module is a real HTTP server on loopback built to reference/graph.md §13.1.
//!
//! Reproduced (section of reference/graph.md in brackets):
//! - `/v1.0` and `/beta` (same behaviour), `/me` and `/users/{id|upn}`, case-insensitive
//!   segment names, case-sensitive percent-decoded ids, `/me` with app-only → 400 [§1.2, §0];
//! - mailboxes with an undeletable default Contacts folder and nested child folders;
//!   `/contactFolders` lists direct children of the default folder only; `childFolders`;
//!   folder create / rename / delete, 409 on duplicate names [§2.6, §4.7];
//! - contacts with every v1.0 property in Graph's key order, `{}`/`[]`/`null` for unset,
//!   changeKey (30 bytes, standard base64), `@odata.etag = W/"changeKey"`, timestamps,
//!   displayName composition, birthday → `T11:59:00Z`, slot limits → 400
//!   `ErrorInvalidProperty`, unknown properties → 400 [§2.1–§2.5, §4.3, §4.4];
//! - default vs immutable ids (`Prefer: IdType="ImmutableId"`); moves (admin) change the
//!   default id only [IMM];
//! - list paging (default 10, `$top` ≤ 1000, nextLink with `$skip`), `$select`, `$filter`
//!   (incl. `emailAddresses/any` and `singleValueExtendedProperties/any`), `$orderby`,
//!   `$count`, `$expand` of extended properties and open extensions [§4.1, §5];
//! - per-folder delta and folder delta: skip/delta tokens, `@removed` tombstones,
//!   `Prefer: odata.maxpagesize`, `$top` capping the round, three kept generations,
//!   410 `SyncStateNotFound`, 400 "Badly formed token", `$expand` refused [§4.8];
//! - `If-Match` on PATCH / DELETE → 412 `ErrorIrresolvableConflict` (switchable) [§4.9];
//! - photos: GET bytes / metadata (404 when none), PUT `image/*` (403 on personal
//!   accounts, 415 otherwise), no DELETE [§4.6]; open extensions [§5.2];
//! - `$batch`: ≤ 20, unique ids, `dependsOn`, 424, per-request throttling [§6];
//! - throttling per (app, mailbox): 4 concurrent and 10,000 / 600 s → 429 +
//!   `Retry-After` + `ApplicationThrottled` [§7]; error envelopes with `innerError` [§1.4, §10];
//! - OAuth under `{base}/{tenant}/oauth2/v2.0/`: device code (pending, `slow_down`,
//!   expiry, approval through the admin API or a small page), authorization code + PKCE,
//!   client credentials (app-only), refresh-token rotation, `invalid_grant` after
//!   revocation; bearer tokens are opaque and expire [§11];
//! - an admin API under `/_emulator/` (see [`admin`]) for seeding, Outlook-side edits,
//!   moves, delta expiry, device approval, revocation, faults and statistics.
//!
//! Not reproduced: webhooks / subscriptions (§9), contact groups and hidden items
//! inflating `@odata.count`, multi-value extended property storage (expand answers `[]`),
//! the named-property quota, Deleted Items (a deleted contact is gone: the second DELETE
//! is 404), the upload budget (150 MB / 5 min), `$search`, and JWT access tokens.

pub mod admin;
pub mod batch;
pub mod cli;
pub mod contacts;
pub mod delta;
pub mod errors;
pub mod faults;
pub mod folders;
pub mod graph;
mod handle;
pub mod ids;
pub mod oauth;
mod ops;
pub mod photos;
pub mod props;
pub mod query;
pub mod request;
pub mod routes;
pub mod seed;
pub mod server;
pub mod stats;
pub mod throttle;
pub mod world;

pub use faults::Fault;
pub use handle::{EmulatorHandle, start};
pub use stats::Stats;

use std::net::SocketAddr;
use std::time::Duration;

/// How to run the emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Listen address (default `127.0.0.1:0`, a free port).
    pub listen: SocketAddr,
    /// Per-mailbox throttling on (default true).
    pub throttle: bool,
    /// Device codes and `authorize` are approved at once for the default user.
    pub auto_approve: bool,
    /// outlook.com behaviour: contact photo PUT refused.
    pub personal: bool,
    /// Access-token lifetime (default 3600 s).
    pub access_token_lifetime: Duration,
    /// Device-code polling interval announced to clients, in seconds (default 1; Graph says 5).
    pub device_code_interval: u64,
    /// UPN of the pre-created user.
    pub default_upn: String,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            throttle: true,
            auto_approve: false,
            personal: false,
            access_token_lifetime: Duration::from_secs(3600),
            device_code_interval: 1,
            default_upn: "demo@cardbridge.test".into(),
        }
    }
}

/// The app id the OAuth endpoints advertise (any client id is accepted).
pub const CLIENT_ID: &str = "6f2c1a0e-5d3b-4c8e-9b1a-cardbridge01";

/// The tenant (directory) id every emulated user belongs to: the `tid` claim of the
/// `id_token`s the token endpoint issues.
pub const TENANT_ID: &str = "0c5b7c1e-2f4a-4d8e-9a6b-3e1f0cbd7e11";
