//! REPORT (RFC 3253 §3.6) dispatch: `CARDDAV:addressbook-multiget` (RFC 6352 §8.7),
//! `CARDDAV:addressbook-query` (RFC 6352 §8.6) and `DAV:sync-collection` (RFC 6578 §3).
//! Any other report is 403 `DAV:supported-report`.
//!
//! `Depth` is ignored (multiget and sync-collection are defined on the collection
//! whatever the Depth, and Thunderbird sends `Depth: 1` with sync-collection where
//! RFC 6578 says 0; reference/clients.md §1.2). The vCard version served is the
//! `address-data` `version` attribute, else the `Accept` header, else 3.0.

mod multiget;
mod query;
mod sync;

use http::Response;

use super::Ctx;
use crate::dav::DavBody;
use crate::dav::error::{Condition, DavError, DavResult};
use crate::dav::props::Selection;
use crate::dav::store::{AddressBookStore, VCardVersion};
use crate::dav::xml::{NS_CARDDAV, NS_DAV, parse_body};

pub async fn handle<S: AddressBookStore>(ctx: &Ctx<'_, S>) -> DavResult<Response<DavBody>> {
    let root =
        parse_body(&ctx.body)?.ok_or_else(|| DavError::BadRequest("REPORT needs a body".into()))?;
    if root.is(NS_CARDDAV, "addressbook-multiget") {
        multiget::handle(ctx, &root).await
    } else if root.is(NS_CARDDAV, "addressbook-query") {
        query::handle(ctx, &root).await
    } else if root.is(NS_DAV, "sync-collection") {
        sync::handle(ctx, &root).await
    } else {
        Err(DavError::condition(
            Condition::SupportedReport,
            format!("report {} is not supported", root.name),
        ))
    }
}

/// The version to serve for a report's selection.
fn version_for<S: AddressBookStore>(ctx: &Ctx<'_, S>, selection: &Selection) -> VCardVersion {
    selection
        .address_data()
        .and_then(|a| a.version)
        .unwrap_or_else(|| ctx.accept_version())
}
