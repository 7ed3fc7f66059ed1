//! Hostile and malformed requests against `Dav<MemoryBooks>` (issue 10 item 3, the
//! DAV-layer part): every one gets a precise 4xx, never a 5xx or a panic; plus a
//! property test throwing random methods, paths, headers and bodies at the handler.

use std::sync::Arc;

use bytes::Bytes;
use cardbridge::dav::testing::MemoryBooks;
use cardbridge::dav::{Dav, DavOptions};
use http::StatusCode;
use http_body_util::BodyExt;
use proptest::prelude::*;

const BOOK: &str = "/dav/addressbooks/alice/contacts/";
const CARD: &str = "/dav/addressbooks/alice/contacts/a.vcf";

fn dav() -> Dav<MemoryBooks> {
    let store = Arc::new(MemoryBooks::with_user("alice"));
    store
        .insert_card(
            "alice",
            "contacts",
            "a.vcf",
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nFN:A\r\nEND:VCARD\r\n",
        )
        .unwrap();
    Dav::new(
        store,
        DavOptions {
            max_resource_size: 64 * 1024,
        },
    )
}

async fn status(
    dav: &Dav<MemoryBooks>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (StatusCode, Vec<u8>) {
    let mut b = http::Request::builder().method(method).uri(path);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = dav
        .handle(Some("alice"), b.body(Bytes::from(body)).unwrap())
        .await;
    let st = resp.status();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (st, body)
}

/// method, path, headers, body, expected status.
type Case = (
    &'static str,
    String,
    Vec<(&'static str, &'static str)>,
    Vec<u8>,
    StatusCode,
);

fn mg(inner: &str) -> String {
    format!(
        r#"<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/><C:address-data/></D:prop>{inner}</C:addressbook-multiget>"#
    )
}

fn q(filter: &str) -> String {
    format!(
        r#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter>{filter}</C:filter></C:addressbook-query>"#
    )
}

fn sc(token: &str, level: &str, extra: &str) -> String {
    format!(
        r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>{level}</D:sync-level>{extra}<D:prop><D:getetag/></D:prop></D:sync-collection>"#
    )
}

#[tokio::test]
async fn table_of_hostile_requests_gets_precise_4xx() {
    let d = dav();
    let deep = "<D:prop>".repeat(100) + &"</D:prop>".repeat(100);
    let deep_doc = format!(r#"<D:propfind xmlns:D="DAV:">{deep}</D:propfind>"#);
    let wide = format!(
        r#"<D:propfind xmlns:D="DAV:"><D:prop>{}</D:prop></D:propfind>"#,
        "<D:x/>".repeat(60_000)
    );
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><D:propfind xmlns:D="DAV:"><D:prop>&lol2;</D:prop></D:propfind>"#;
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><D:propfind xmlns:D="DAV:">&xxe;</D:propfind>"#;
    let huge_card = format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:h\r\nNOTE:{}\r\nEND:VCARD\r\n",
        "x".repeat(70_000)
    );
    let many_props = format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:m\r\n{}END:VCARD\r\n",
        "X-P:1\r\n".repeat(10_000)
    );
    let pf = |b: &str| b.as_bytes().to_vec();
    let d0: &[(&str, &str)] = &[("depth", "0")];
    let cases: Vec<Case> = vec![
        // Broken XML.
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<D:propfind"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<D:propfind xmlns:D=\"DAV:\">"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<a></b>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<a/><b/>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<!-- just a comment -->"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<?xml version=\"1.0\"?>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<D:propfind xmlns:D=\"DAV:\"><D:prop><X:y/></D:prop></D:propfind>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<D:propfind xmlns:D=\"DAV:\" a=\"1\" a=\"2\"/>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<D:propfind xmlns:D=\"DAV:\"><D:prop>&#0;</D:prop></D:propfind>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<D:propfind xmlns:D=\"DAV:\">&unknown;</D:propfind>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            vec![0xff, 0xfe, b'<', 0],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            b"<D:propfind xmlns:D=\"DAV:\">\xc3\x28</D:propfind>".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf(laughs),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf(xxe),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf(&deep_doc),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf(&wide),
            StatusCode::BAD_REQUEST,
        ),
        // Wrong namespaces / roots.
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<propfind><prop/></propfind>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<D:propfind xmlns:D=\"urn:not-dav\"><D:allprop/></D:propfind>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<D:propfind xmlns:D=\"DAV:\"/>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            d0.to_vec(),
            pf("<D:multistatus xmlns:D=\"DAV:\"/>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf("<C:addressbook-multiget xmlns:C=\"urn:ietf:params:xml:ns:caldav\"/>"),
            StatusCode::FORBIDDEN,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf("<D:expand-property xmlns:D=\"DAV:\"/>"),
            StatusCode::FORBIDDEN,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPPATCH",
            BOOK.into(),
            vec![],
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPPATCH",
            BOOK.into(),
            vec![],
            pf("<D:propfind xmlns:D=\"DAV:\"/>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPPATCH",
            BOOK.into(),
            vec![],
            pf("<D:propertyupdate xmlns:D=\"DAV:\"><D:frobnicate/></D:propertyupdate>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "MKCOL",
            "/dav/addressbooks/alice/n/".into(),
            vec![],
            pf("<D:propfind xmlns:D=\"DAV:\"/>"),
            StatusCode::BAD_REQUEST,
        ),
        (
            "MKCOL",
            "/dav/addressbooks/alice/n/".into(),
            vec![],
            pf("<D:mkcol xmlns:D=\"DAV:\"/>"),
            StatusCode::FORBIDDEN,
        ),
        ("MKCOL", BOOK.into(), vec![], vec![], StatusCode::FORBIDDEN),
        (
            "MKCOL",
            "/dav/addressbooks/alice/".into(),
            vec![],
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        ("MKCOL", CARD.into(), vec![], vec![], StatusCode::FORBIDDEN),
        // Bad Depth.
        (
            "PROPFIND",
            BOOK.into(),
            vec![("depth", "2")],
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            vec![("depth", "-1")],
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            vec![("depth", "one")],
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            vec![("depth", "")],
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            vec![("depth", "Infinity")],
            vec![],
            StatusCode::FORBIDDEN,
        ),
        (
            "PROPFIND",
            BOOK.into(),
            vec![],
            vec![],
            StatusCode::FORBIDDEN,
        ),
        // Paths.
        (
            "PROPFIND",
            "/dav/addressbooks/alice/../alice/contacts/".into(),
            d0.to_vec(),
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            "/dav/addressbooks/alice/%2e%2e/".into(),
            d0.to_vec(),
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            "/dav/addressbooks/alice/./".into(),
            d0.to_vec(),
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            "/dav/addressbooks/alice/con%2Ftacts/".into(),
            d0.to_vec(),
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            "/dav/addressbooks/alice/con%5Ctacts/".into(),
            d0.to_vec(),
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            "/dav/addressbooks/alice/%00/".into(),
            d0.to_vec(),
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            "/dav/addressbooks/alice/%c3%28/".into(),
            d0.to_vec(),
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "PROPFIND",
            "/dav/addressbooks/alice/%zz/".into(),
            d0.to_vec(),
            vec![],
            StatusCode::NOT_FOUND,
        ),
        (
            "PROPFIND",
            "/dav/addressbooks/bob/".into(),
            d0.to_vec(),
            vec![],
            StatusCode::NOT_FOUND,
        ),
        (
            "PROPFIND",
            "/dav/addressbooks/ALICE/".into(),
            d0.to_vec(),
            vec![],
            StatusCode::NOT_FOUND,
        ),
        (
            "PROPFIND",
            "/dav/addressbooks/alice%20/".into(),
            d0.to_vec(),
            vec![],
            StatusCode::NOT_FOUND,
        ),
        (
            "PROPFIND",
            "/dav/addressbooks/alice/contacts/a.vcf/x/y".into(),
            d0.to_vec(),
            vec![],
            StatusCode::NOT_FOUND,
        ),
        (
            "PROPFIND",
            "//dav//addressbooks//".into(),
            d0.to_vec(),
            vec![],
            StatusCode::NOT_FOUND,
        ),
        (
            "PROPFIND",
            "/etc/passwd".into(),
            d0.to_vec(),
            vec![],
            StatusCode::NOT_FOUND,
        ),
        (
            "GET",
            "/dav/addressbooks/alice/contacts/..%2F..%2Fbob%2Fcontacts%2Fx.vcf".into(),
            vec![],
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "GET",
            "/dav/addressbooks/alice/contacts/missing.vcf".into(),
            vec![],
            vec![],
            StatusCode::NOT_FOUND,
        ),
        (
            "DELETE",
            "/dav/addressbooks/alice/contacts/missing.vcf".into(),
            vec![],
            vec![],
            StatusCode::NOT_FOUND,
        ),
        (
            "DELETE",
            "/dav/addressbooks/alice/".into(),
            vec![],
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "DELETE",
            "/dav/".into(),
            vec![],
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        // Multiget hrefs: each bad one is a 404 inside a 207.
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&mg("<D:href>../../../etc/passwd</D:href>")),
            StatusCode::MULTI_STATUS,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&mg("<D:href>/dav/addressbooks/bob/contacts/a.vcf</D:href>")),
            StatusCode::MULTI_STATUS,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&mg(
                "<D:href>/dav/addressbooks/alice/contacts/%2F.vcf</D:href>",
            )),
            StatusCode::MULTI_STATUS,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&mg("<D:href></D:href>")),
            StatusCode::MULTI_STATUS,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&mg(
                "<D:href>http://evil.example/dav/addressbooks/alice/contacts/a.vcf</D:href>",
            )),
            StatusCode::MULTI_STATUS,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&mg(&"<D:href>/x</D:href>".repeat(5000))),
            StatusCode::MULTI_STATUS,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(r#"<C:addressbook-multiget xmlns:C="urn:ietf:params:xml:ns:carddav"/>"#),
            StatusCode::BAD_REQUEST,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&mg("").replace(
                "<C:address-data/>",
                r#"<C:address-data content-type="application/json"/>"#,
            )),
            StatusCode::FORBIDDEN,
        ),
        // Filters.
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&q(
                r#"<C:prop-filter name="FN"><C:text-match collation="i;x">a</C:text-match></C:prop-filter>"#,
            )),
            StatusCode::FORBIDDEN,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&q(
                r#"<C:prop-filter name="FN"><C:text-match match-type="regex">.*</C:text-match></C:prop-filter>"#,
            )),
            StatusCode::FORBIDDEN,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&q(
                r#"<C:prop-filter name="FN"><C:text-match negate-condition="maybe">a</C:text-match></C:prop-filter>"#,
            )),
            StatusCode::FORBIDDEN,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&q(r#"<C:prop-filter name="FN" test="someof"/>"#)),
            StatusCode::FORBIDDEN,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&q(r#"<C:comp-filter name="VEVENT"/>"#)),
            StatusCode::FORBIDDEN,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&q(r#"<C:prop-filter/>"#)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&q(
                r#"<C:prop-filter name="FN"><C:param-filter/></C:prop-filter>"#,
            )),
            StatusCode::BAD_REQUEST,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&q("").replace(
                "</C:filter>",
                "</C:filter><C:limit><C:nresults>-3</C:nresults></C:limit>",
            )),
            StatusCode::BAD_REQUEST,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&q("").replace("</C:filter>", "</C:filter><C:limit/>")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "REPORT",
            "/dav/addressbooks/alice/".into(),
            vec![],
            pf(&q("")),
            StatusCode::FORBIDDEN,
        ),
        // Sync tokens and levels.
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&sc("garbage", "1", "")),
            StatusCode::FORBIDDEN,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&sc("urn:cardbridge:memory:0:contacts:1", "1", "")),
            StatusCode::FORBIDDEN,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&sc(&"9".repeat(5000), "1", "")),
            StatusCode::FORBIDDEN,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&sc("", "2", "")),
            StatusCode::BAD_REQUEST,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&sc(
                "",
                "1",
                "<D:limit><D:nresults>99999999999999999999999</D:nresults></D:limit>",
            )),
            StatusCode::BAD_REQUEST,
        ),
        (
            "REPORT",
            BOOK.into(),
            vec![],
            pf(&sc(
                "",
                "1",
                "<D:limit><D:nresults>x</D:nresults></D:limit>",
            )),
            StatusCode::BAD_REQUEST,
        ),
        (
            "REPORT",
            "/dav/addressbooks/alice/".into(),
            vec![],
            pf(&sc("", "1", "")),
            StatusCode::FORBIDDEN,
        ),
        (
            "REPORT",
            CARD.into(),
            vec![],
            pf(&sc("", "1", "")),
            StatusCode::FORBIDDEN,
        ),
        // PUT bodies and types.
        (
            "PUT",
            CARD.replace("a.vcf", "big.vcf"),
            vec![],
            huge_card.into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "PUT",
            CARD.replace("a.vcf", "many.vcf"),
            vec![],
            many_props.into_bytes(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "PUT",
            CARD.replace("a.vcf", "j.vcf"),
            vec![("content-type", "application/json")],
            pf("{\"a\":1}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "PUT",
            CARD.replace("a.vcf", "e.vcf"),
            vec![],
            vec![],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "PUT",
            CARD.replace("a.vcf", "i.vcf"),
            vec![("content-type", "text/vcard")],
            pf("BEGIN:VCARD\r\nEND:VCARD\r\n"),
            StatusCode::FORBIDDEN,
        ),
        (
            "PUT",
            CARD.replace("a.vcf", "i.vcf"),
            vec![("content-type", "text/vcard")],
            vec![0xff, 0xfe, 0xfd],
            StatusCode::FORBIDDEN,
        ),
        (
            "PUT",
            CARD.replace("a.vcf", "i.vcf"),
            vec![("content-type", "text/vcard")],
            pf("BEGIN:VCARD\r\nVERSION:2.1\r\nEND:VCARD\r\n"),
            StatusCode::FORBIDDEN,
        ),
        (
            "PUT",
            CARD.replace("a.vcf", "i.vcf"),
            vec![("content-type", "text/vcard")],
            pf("BEGIN:VCARD\r\nVERSION:3.0\r\n"),
            StatusCode::FORBIDDEN,
        ),
        (
            "PUT",
            CARD.into(),
            vec![("if-none-match", "*")],
            pf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nEND:VCARD\r\n"),
            StatusCode::PRECONDITION_FAILED,
        ),
        (
            "PUT",
            CARD.into(),
            vec![("if-match", "\"\"")],
            pf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nEND:VCARD\r\n"),
            StatusCode::PRECONDITION_FAILED,
        ),
        (
            "PUT",
            CARD.replace("a.vcf", "dup.vcf"),
            vec![],
            pf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nEND:VCARD\r\n"),
            StatusCode::CONFLICT,
        ),
        (
            "PUT",
            "/dav/addressbooks/alice/ghost/x.vcf".into(),
            vec![],
            pf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:g\r\nEND:VCARD\r\n"),
            StatusCode::CONFLICT,
        ),
        (
            "PUT",
            BOOK.into(),
            vec![],
            pf("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:g\r\nEND:VCARD\r\n"),
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "PUT",
            "/dav/".into(),
            vec![],
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        // MOVE.
        ("MOVE", CARD.into(), vec![], vec![], StatusCode::BAD_REQUEST),
        (
            "MOVE",
            CARD.into(),
            vec![("destination", "/dav/addressbooks/alice/contacts/b.vcf")],
            vec![],
            StatusCode::FORBIDDEN,
        ),
        (
            "MOVE",
            CARD.into(),
            vec![("destination", "/dav/addressbooks/bob/contacts/b.vcf")],
            vec![],
            StatusCode::NOT_FOUND,
        ),
        (
            "MOVE",
            CARD.into(),
            vec![("destination", "/dav/addressbooks/alice/")],
            vec![],
            StatusCode::CONFLICT,
        ),
        (
            "MOVE",
            CARD.into(),
            vec![("destination", "/dav/addressbooks/alice/../x/")],
            vec![],
            StatusCode::BAD_REQUEST,
        ),
        (
            "MOVE",
            CARD.into(),
            vec![
                (
                    "destination",
                    "https://elsewhere.example/dav/addressbooks/alice/other/a.vcf",
                ),
                ("host", "localhost"),
            ],
            vec![],
            StatusCode::BAD_GATEWAY,
        ),
        (
            "MOVE",
            BOOK.into(),
            vec![("destination", "/dav/addressbooks/alice/x/")],
            vec![],
            StatusCode::FORBIDDEN,
        ),
        // Methods.
        (
            "POST",
            BOOK.into(),
            vec![],
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "PATCH",
            CARD.into(),
            vec![],
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "LOCK",
            CARD.into(),
            vec![],
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "TRACE",
            CARD.into(),
            vec![],
            vec![],
            StatusCode::METHOD_NOT_ALLOWED,
        ),
        (
            "COPY",
            CARD.into(),
            vec![],
            vec![],
            StatusCode::NOT_IMPLEMENTED,
        ),
    ];
    assert!(cases.len() >= 100, "{} cases", cases.len());
    for (method, path, headers, body, want) in cases {
        let (got, resp) = status(&d, method, &path, &headers, body).await;
        assert_eq!(
            got,
            want,
            "{method} {path} {headers:?}: {}",
            String::from_utf8_lossy(&resp)
                .chars()
                .take(300)
                .collect::<String>()
        );
    }
    // The server is still fine afterwards, and the card is untouched.
    let (st, body) = status(&d, "GET", CARD, &[], vec![]).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        body,
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:a\r\nFN:A\r\nEND:VCARD\r\n"
    );
}

fn method() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "GET",
        "HEAD",
        "PUT",
        "DELETE",
        "PROPFIND",
        "PROPPATCH",
        "REPORT",
        "MKCOL",
        "MOVE",
        "COPY",
        "OPTIONS",
        "POST",
    ])
}

fn path() -> impl Strategy<Value = String> {
    let seg = prop::sample::select(vec![
        "dav",
        "addressbooks",
        "principals",
        "alice",
        "bob",
        "contacts",
        "a.vcf",
        "..",
        ".",
        "%2F",
        "%00",
        "%ff",
        "",
        "%2e%2e",
        "x y",
        "ü",
        "%",
        "?q=1",
        "#f",
        ";",
        "@",
        "*",
    ]);
    (prop::collection::vec(seg, 0..7), any::<bool>()).prop_map(|(segs, slash)| {
        let mut p = String::from("/");
        p.push_str(&segs.join("/"));
        if slash {
            p.push('/');
        }
        p
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200),
        prop::sample::select(vec![
            "<D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>",
            "<C:addressbook-multiget xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:carddav\"><D:prop><C:address-data/></D:prop><D:href>/dav/addressbooks/alice/contacts/a.vcf</D:href></C:addressbook-multiget>",
            "<D:sync-collection xmlns:D=\"DAV:\"><D:sync-token/><D:prop><D:getetag/></D:prop></D:sync-collection>",
            "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:z\r\nFN:Z\r\nEND:VCARD\r\n",
            "<D:mkcol xmlns:D=\"DAV:\" xmlns:C=\"urn:ietf:params:xml:ns:carddav\"><D:set><D:prop><D:resourcetype><D:collection/><C:addressbook/></D:resourcetype></D:prop></D:set></D:mkcol>",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    /// No request, however odd, panics or makes the handler answer 5xx while the
    /// store is healthy.
    #[test]
    fn random_requests_never_panic_or_5xx(
        method in method(),
        path in path(),
        depth in prop::sample::select(vec!["", "0", "1", "infinity", "x"]),
        body in body(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let d = dav();
        let headers: Vec<(&str, &str)> = if depth.is_empty() { vec![] } else { vec![("depth", depth)] };
        let Ok(uri) = path.parse::<http::Uri>() else { return Ok(()) };
        let (st, _) = rt.block_on(status(&d, method, &uri.to_string(), &headers, body));
        // 501 is the deliberate answer to COPY.
        prop_assert!(!st.is_server_error() || st == StatusCode::NOT_IMPLEMENTED, "{method} {path} -> {st}");
    }
}
