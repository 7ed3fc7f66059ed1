//! Contact photos (reference/graph.md §2.7, §4.6).
//!
//! `GET …/photo/$value` returns the bytes or 404 `ErrorItemNotFound`; `GET …/photo` the
//! metadata; `PUT`/`PATCH …/photo/$value` stores an `image/*` body (415 otherwise, 403 on
//! a personal account) and, by default, bumps the contact's changeKey. There is no delete
//! (405), as in Graph. A stored photo sets the MAPI has-picture flag
//! ([`HAS_PICTURE_PROPERTY_ID`], `true`), readable with `$expand` like any extended
//! property, as Exchange does for a contact with a picture attachment.

use super::errors::{GraphErr, GraphResult};
use super::graph::Ctx;
use super::request::Reply;
use super::world::StoredPhoto;
use serde_json::json;

/// PidLidHasPicture in the address-book property set (graph.md §5.1).
pub const HAS_PICTURE_PROPERTY_ID: &str =
    "Boolean {00062004-0000-0000-C000-000000000046} Id 0x8015";

fn find(ctx: &Ctx<'_>, id: &str) -> GraphResult<u64> {
    ctx.mb.contact_key(id).ok_or_else(GraphErr::not_found)
}

/// Short hash used as `@odata.mediaEtag`.
fn media_etag(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    format!("\"{:02X}{:02X}{:02X}{:02X}\"", d[0], d[1], d[2], d[3])
}

pub fn metadata(ctx: &mut Ctx<'_>, id: &str) -> GraphResult<Reply> {
    let key = find(ctx, id)?;
    let Some(p) = &ctx.mb.contacts[&key].photo else {
        return Err(GraphErr::not_found());
    };
    Ok(Reply::json(
        200,
        json!({
            "@odata.context": ctx.context("contacts('…')/photo/$entity"),
            "@odata.mediaContentType": p.content_type,
            "@odata.mediaEtag": media_etag(&p.bytes),
            "id": "240x240",
            "width": 240,
            "height": 240,
        }),
    ))
}

pub fn get(ctx: &mut Ctx<'_>, id: &str) -> GraphResult<Reply> {
    let key = find(ctx, id)?;
    match &ctx.mb.contacts[&key].photo {
        Some(p) => Ok(Reply::bytes(&p.content_type, p.bytes.clone())),
        None => Err(GraphErr::not_found()),
    }
}

pub fn put(ctx: &mut Ctx<'_>, id: &str) -> GraphResult<Reply> {
    let key = find(ctx, id)?;
    if ctx.settings.personal {
        return Err(GraphErr::new(
            403,
            "ErrorAccessDenied",
            "Updating a contact photo is not supported for personal Microsoft accounts.",
        ));
    }
    let ct = ctx
        .req
        .header("content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !ct.starts_with("image/") {
        return Err(GraphErr::new(
            415,
            "ErrorInvalidRequest",
            "The photo must be sent with an image content type.",
        ));
    }
    if ctx.req.body.is_empty() {
        return Err(GraphErr::new(
            400,
            "ErrorInvalidRequest",
            "The photo is empty.",
        ));
    }
    let bump = ctx.settings.photo_bumps_change_key;
    ctx.mb.set_photo(
        key,
        StoredPhoto {
            content_type: ct,
            bytes: ctx.req.body.clone(),
        },
        bump,
    )?;
    Ok(Reply::empty(200))
}
