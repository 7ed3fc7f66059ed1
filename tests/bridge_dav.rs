//! `Dav<Bridge>` end to end with raw CardDAV requests against the emulator.

mod bridge_support;

use bridge_support::*;
use bytes::Bytes;
use cardbridge::dav::{Dav, DavOptions};
use http::{Request, StatusCode};
use http_body_util::BodyExt;

async fn send(
    dav: &Dav<cardbridge::bridge::Bridge>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (StatusCode, http::HeaderMap, String) {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Bytes::copy_from_slice(body)).unwrap();
    let resp = dav.handle(Some(USER), req).await;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

const SYNC_EMPTY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token/><D:sync-level>1</D:sync-level>
<D:prop><D:getetag/></D:prop></D:sync-collection>"#;

#[tokio::test]
async fn put_get_sync_and_delete_through_dav() {
    let emu = emulator().await;
    let b = bridge(&emu, 3600);
    let dav = Dav::new(b.clone(), DavOptions::default());
    let home = "/dav/addressbooks/alice/";
    let (st, _, body) = send(&dav, "PROPFIND", home, &[("Depth", "1")], b"").await;
    assert_eq!(st.as_u16(), 207);
    assert!(body.contains("/dav/addressbooks/alice/contacts/"), "{body}");

    let card = vcard("uid-dav", "Dave", "Dav");
    let href = "/dav/addressbooks/alice/contacts/dave.vcf";
    let (st, h, _) = send(
        &dav,
        "PUT",
        href,
        &[("Content-Type", "text/vcard"), ("If-None-Match", "*")],
        &card,
    )
    .await;
    assert_eq!(st, StatusCode::CREATED);
    let etag = h.get("etag").unwrap().to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'));

    let (st, h, body) = send(&dav, "GET", href, &[], b"").await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(h.get("etag").unwrap().to_str().unwrap(), etag);
    assert_eq!(body.as_bytes(), &card[..]);

    let (st, _, body) = send(
        &dav,
        "REPORT",
        "/dav/addressbooks/alice/contacts/",
        &[("Depth", "1"), ("Content-Type", "application/xml")],
        SYNC_EMPTY.as_bytes(),
    )
    .await;
    assert_eq!(st.as_u16(), 207);
    assert!(
        body.contains("dave.vcf") && body.contains("cardbridge.invalid/sync/"),
        "{body}"
    );

    let (st, _, _) = send(
        &dav,
        "PUT",
        href,
        &[("Content-Type", "text/vcard"), ("If-Match", "\"stale\"")],
        &card,
    )
    .await;
    assert_eq!(st, StatusCode::PRECONDITION_FAILED);

    let (st, _, _) = send(&dav, "DELETE", href, &[("If-Match", &etag)], b"").await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(emu.contact_count(&user(&emu)), 0);
    emu.shutdown().await;
}
