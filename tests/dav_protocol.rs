//! The CardDAV protocol layer driven directly (`Dav<MemoryBooks>::handle`) with raw
//! requests, one test per requirement; test names cite the RFC section.

use std::sync::Arc;

use bytes::Bytes;
use cardbridge::dav::store::StoreError;
use cardbridge::dav::testing::MemoryBooks;
use cardbridge::dav::xml::{Element, NS_CARDDAV, NS_DAV, parse_body};
use cardbridge::dav::{Dav, DavOptions};
use http::{HeaderMap, StatusCode};
use http_body_util::BodyExt;

const USER: &str = "alice";

struct Resp {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn xml(&self) -> Element {
        parse_body(self.body.as_bytes())
            .expect("response is well-formed XML")
            .expect("response has a root")
    }
    /// (href, status of first propstat or response status) for every response.
    fn responses(&self) -> Vec<Element> {
        self.xml()
            .children_named(NS_DAV, "response")
            .cloned()
            .collect()
    }
}

fn href(r: &Element) -> String {
    r.child(NS_DAV, "href").unwrap().text.clone()
}

/// The properties of the 200 propstat of a response.
fn ok_props(r: &Element) -> Option<Element> {
    r.children_named(NS_DAV, "propstat")
        .find(|ps| ps.child(NS_DAV, "status").unwrap().text == "HTTP/1.1 200 OK")
        .map(|ps| ps.child(NS_DAV, "prop").unwrap().clone())
}

struct Env {
    dav: Dav<MemoryBooks>,
    store: Arc<MemoryBooks>,
}

fn env() -> Env {
    let store = Arc::new(MemoryBooks::with_user(USER));
    store.add_book(USER, "family", "Family", false);
    store.add_user("bob", "Bob");
    store.add_book("bob", "contacts", "Bob's", true);
    let dav = Dav::new(
        store.clone(),
        DavOptions {
            max_resource_size: 10_000,
        },
    );
    Env { dav, store }
}

impl Env {
    async fn req_as(
        &self,
        user: Option<&str>,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Resp {
        let mut b = http::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let req = b.body(Bytes::from(body.to_owned())).unwrap();
        let resp = self.dav.handle(user, req).await;
        let (parts, body) = resp.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        Resp {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        }
    }

    async fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        self.req_as(Some(USER), method, path, headers, body).await
    }

    async fn put(&self, path: &str, body: &str) -> Resp {
        self.req("PUT", path, &[("content-type", "text/vcard")], body)
            .await
    }
}

fn card(uid: &str, fn_: &str) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{fn_}\r\nN:{fn_};;;;\r\nEMAIL;TYPE=WORK:{uid}@example.com\r\nEND:VCARD\r\n"
    )
}

const BOOK: &str = "/dav/addressbooks/alice/contacts/";

const PROPFIND_ALL: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav" xmlns:CS="http://calendarserver.org/ns/">
<prop><resourcetype/><displayname/><getetag/><CS:getctag/><sync-token/><C:addressbook-home-set/>
<current-user-principal/><supported-report-set/><C:supported-address-data/><unknown-prop/></prop></propfind>"#;

// ---------- discovery ----------

#[tokio::test]
async fn rfc6764_s5_well_known_redirects_get_and_propfind_without_auth() {
    let e = env();
    for method in ["GET", "PROPFIND"] {
        let req = http::Request::builder()
            .method(method)
            .uri("/.well-known/carddav")
            .body(Bytes::new())
            .unwrap();
        let (parts, _) = req.into_parts();
        assert!(!e.dav.needs_auth(&parts));
        let r = e
            .req_as(None, method, "/.well-known/carddav", &[], "")
            .await;
        assert_eq!(r.status, StatusCode::MOVED_PERMANENTLY);
        assert_eq!(r.header("location"), Some("/dav/"));
    }
}

#[tokio::test]
async fn rfc4918_s10_1_options_advertises_addressbook_without_auth() {
    let e = env();
    let req = http::Request::builder()
        .method("OPTIONS")
        .uri("/dav/principals/alice/")
        .body(Bytes::new())
        .unwrap();
    assert!(!e.dav.needs_auth(&req.into_parts().0));
    let r = e
        .req_as(None, "OPTIONS", "/dav/principals/alice/", &[], "")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let dav = r.header("dav").unwrap();
    assert!(
        dav.contains("addressbook") && dav.contains("extended-mkcol") && dav.starts_with("1, 3")
    );
    assert!(!dav.contains("calendar-access"));
    assert!(r.header("allow").unwrap().contains("REPORT"));
    assert!(!r.header("allow").unwrap().contains("POST"));
}

#[tokio::test]
async fn unauthenticated_requests_get_401_with_basic_challenge() {
    let e = env();
    let req = http::Request::builder()
        .method("PROPFIND")
        .uri("/dav/")
        .body(Bytes::new())
        .unwrap();
    assert!(e.dav.needs_auth(&req.into_parts().0));
    let r = e
        .req_as(None, "PROPFIND", "/dav/", &[("depth", "0")], "")
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .starts_with("Basic realm=")
    );
}

#[tokio::test]
async fn rfc5397_s3_current_user_principal_on_root_and_context() {
    let e = env();
    let body = r#"<propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>"#;
    for path in ["/", "/dav/", "/dav", BOOK] {
        let r = e.req("PROPFIND", path, &[("depth", "0")], body).await;
        assert_eq!(r.status, StatusCode::MULTI_STATUS, "{path}");
        assert_eq!(
            r.header("content-type"),
            Some("application/xml; charset=utf-8")
        );
        let resp = &r.responses()[0];
        let p = ok_props(resp).unwrap();
        let cup = p.child(NS_DAV, "current-user-principal").unwrap();
        assert_eq!(
            cup.child(NS_DAV, "href").unwrap().text,
            "/dav/principals/alice/"
        );
    }
}

#[tokio::test]
async fn rfc6352_s7_1_1_principal_has_home_set_and_apple_extras_are_404_after_200() {
    let e = env();
    // Apple's principal PROPFIND (reference/clients.md §2.1), inline prefixes.
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:"><A:prop>
<B:addressbook-home-set xmlns:B="urn:ietf:params:xml:ns:carddav"/>
<B:directory-gateway xmlns:B="urn:ietf:params:xml:ns:carddav"/>
<A:displayname/><C:email-address-set xmlns:C="http://calendarserver.org/ns/"/>
<A:principal-collection-set/><A:principal-URL/><A:resource-id/><A:supported-report-set/>
</A:prop></A:propfind>"#;
    let r = e
        .req(
            "PROPFIND",
            "/dav/principals/alice/",
            &[("depth", "0")],
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    let resp = &r.responses()[0];
    assert_eq!(href(resp), "/dav/principals/alice/");
    let statuses: Vec<String> = resp
        .children_named(NS_DAV, "propstat")
        .map(|p| p.child(NS_DAV, "status").unwrap().text.clone())
        .collect();
    assert_eq!(statuses, vec!["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"]);
    let ok = ok_props(resp).unwrap();
    let home = ok.child(NS_CARDDAV, "addressbook-home-set").unwrap();
    assert_eq!(
        home.child(NS_DAV, "href").unwrap().text,
        "/dav/addressbooks/alice/"
    );
    assert_eq!(ok.child(NS_DAV, "displayname").unwrap().text, "alice");
    assert!(ok.child(NS_DAV, "principal-URL").is_some());
    assert!(ok.child(NS_DAV, "supported-report-set").is_some());
    // Prefer: return=minimal leaves the 404 propstat out (RFC 7240 §4.2).
    let r = e
        .req(
            "PROPFIND",
            "/dav/principals/alice/",
            &[("depth", "0"), ("prefer", "return=minimal")],
            body,
        )
        .await;
    assert!(!r.body.contains("404"));
}

#[tokio::test]
async fn rfc6352_s6_2_home_depth1_lists_books_default_first_with_collection_hrefs() {
    let e = env();
    let r = e
        .req(
            "PROPFIND",
            "/dav/addressbooks/alice/",
            &[("depth", "1")],
            PROPFIND_ALL,
        )
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    let rs = r.responses();
    let hrefs: Vec<String> = rs.iter().map(href).collect();
    assert_eq!(
        hrefs,
        vec![
            "/dav/addressbooks/alice/",
            "/dav/addressbooks/alice/contacts/",
            "/dav/addressbooks/alice/family/"
        ]
    );
    let book = ok_props(&rs[1]).unwrap();
    let rt = book.child(NS_DAV, "resourcetype").unwrap();
    assert!(rt.child(NS_DAV, "collection").is_some());
    assert!(rt.child(NS_CARDDAV, "addressbook").is_some());
    assert_eq!(book.child(NS_DAV, "displayname").unwrap().text, "Contacts");
    assert!(!book.child(NS_DAV, "sync-token").unwrap().text.is_empty());
    assert!(
        book.child("http://calendarserver.org/ns/", "getctag")
            .is_some()
    );
    let reports = book.child(NS_DAV, "supported-report-set").unwrap();
    assert!(
        reports
            .children
            .iter()
            .any(|sr| sr.children[0].children[0].is(NS_DAV, "sync-collection"))
    );
    let sad = book.child(NS_CARDDAV, "supported-address-data").unwrap();
    let versions: Vec<&str> = sad
        .children
        .iter()
        .filter_map(|c| c.attr("version"))
        .collect();
    assert_eq!(versions, vec!["3.0", "4.0"]);
    // The first status of each response is 200 (Thunderbird reads only the first).
    for resp in &rs {
        let first = resp.child(NS_DAV, "propstat").unwrap();
        assert_eq!(
            first.child(NS_DAV, "status").unwrap().text,
            "HTTP/1.1 200 OK"
        );
    }
}

#[tokio::test]
async fn rfc4918_s9_1_depth_infinity_and_missing_depth_are_403_finite_depth() {
    let e = env();
    for headers in [&[("depth", "infinity")][..], &[][..]] {
        let r = e.req("PROPFIND", BOOK, headers, PROPFIND_ALL).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        assert_eq!(
            r.header("content-type"),
            Some("application/xml; charset=utf-8")
        );
        assert!(r.xml().child(NS_DAV, "propfind-finite-depth").is_some());
    }
    let r = e
        .req("PROPFIND", BOOK, &[("depth", "2")], PROPFIND_ALL)
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rfc4918_s9_1_empty_body_is_allprop_and_propname_lists_names() {
    let e = env();
    e.put(&format!("{BOOK}a.vcf"), &card("a", "A")).await;
    let r = e
        .req("PROPFIND", &format!("{BOOK}a.vcf"), &[("depth", "0")], "")
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    let p = ok_props(&r.responses()[0]).unwrap();
    for name in [
        "resourcetype",
        "getetag",
        "getcontenttype",
        "getcontentlength",
        "getlastmodified",
    ] {
        assert!(p.child(NS_DAV, name).is_some(), "{name}");
    }
    assert!(p.child(NS_DAV, "resourcetype").unwrap().children.is_empty());
    let r = e
        .req(
            "PROPFIND",
            BOOK,
            &[("depth", "0")],
            r#"<propfind xmlns="DAV:"><propname/></propfind>"#,
        )
        .await;
    let p = ok_props(&r.responses()[0]).unwrap();
    assert!(p.child(NS_DAV, "sync-token").unwrap().text.is_empty());
    assert!(p.child(NS_CARDDAV, "max-resource-size").is_some());
}

#[tokio::test]
async fn rfc6352_s6_book_depth1_lists_members_with_etag_and_empty_resourcetype() {
    let e = env();
    e.put(&format!("{BOOK}a.vcf"), &card("a", "A")).await;
    e.put(&format!("{BOOK}b%20c.vcf"), &card("b", "B")).await;
    let body = r#"<propfind xmlns="DAV:"><prop><resourcetype/><getetag/><getcontenttype/></prop></propfind>"#;
    let r = e.req("PROPFIND", BOOK, &[("depth", "1")], body).await;
    let rs = r.responses();
    assert_eq!(rs.len(), 3);
    assert_eq!(href(&rs[2]), "/dav/addressbooks/alice/contacts/b%20c.vcf");
    for m in &rs[1..] {
        let p = ok_props(m).unwrap();
        let etag = &p.child(NS_DAV, "getetag").unwrap().text;
        assert!(etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2);
        assert!(p.child(NS_DAV, "resourcetype").unwrap().children.is_empty());
        assert_eq!(
            p.child(NS_DAV, "getcontenttype").unwrap().text,
            "text/vcard; charset=utf-8"
        );
    }
}

#[tokio::test]
async fn another_users_paths_are_404_and_unknown_paths_too() {
    let e = env();
    for path in [
        "/dav/principals/bob/",
        "/dav/addressbooks/bob/",
        "/dav/addressbooks/bob/contacts/",
        "/dav/addressbooks/alice/nope/",
        "/elsewhere",
    ] {
        let r = e.req("PROPFIND", path, &[("depth", "0")], "").await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
    }
    let r = e
        .put("/dav/addressbooks/bob/contacts/x.vcf", &card("x", "X"))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(e.store.card_names("bob", "contacts").is_empty());
}

#[tokio::test]
async fn path_traversal_and_bad_encoding_are_400() {
    let e = env();
    for path in [
        "/dav/addressbooks/alice/../bob/contacts/",
        "/dav/addressbooks/alice/contacts%2F..%2F/",
        "/dav/addressbooks/alice/%ff/",
    ] {
        let r = e.req("PROPFIND", path, &[("depth", "0")], "").await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
    }
}

// ---------- GET / PUT / DELETE ----------

#[tokio::test]
async fn rfc6352_s6_3_2_put_create_get_and_conditional_get() {
    let e = env();
    let path = format!("{BOOK}new.vcf");
    let c = card("new", "New Person");
    let r = e.put(&path, &c).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let etag = r.header("etag").unwrap().to_owned();
    assert!(etag.starts_with('"'));
    let r = e.req("GET", &path, &[], "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, c);
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert_eq!(r.header("content-type"), Some("text/vcard; charset=utf-8"));
    assert!(r.header("last-modified").is_some());
    let r = e.req("GET", &path, &[("if-none-match", &etag)], "").await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    assert!(r.body.is_empty());
    let r = e.req("HEAD", &path, &[], "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("content-length"),
        Some(c.len().to_string().as_str())
    );
    let r = e.req("GET", &format!("{BOOK}missing.vcf"), &[], "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rfc9110_s13_put_preconditions_give_412() {
    let e = env();
    let path = format!("{BOOK}p.vcf");
    let r = e
        .req("PUT", &path, &[("if-none-match", "*")], &card("p", "P"))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let etag = r.header("etag").unwrap().to_owned();
    let r = e
        .req("PUT", &path, &[("if-none-match", "*")], &card("p", "P2"))
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = e
        .req("PUT", &path, &[("if-match", "\"stale\"")], &card("p", "P2"))
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    assert!(
        e.store
            .card_body(USER, "contacts", "p.vcf")
            .unwrap()
            .ends_with(b"END:VCARD\r\n")
    );
    assert!(
        String::from_utf8_lossy(&e.store.card_body(USER, "contacts", "p.vcf").unwrap())
            .contains("FN:P\r\n")
    );
    // DAVx5 strips W/ and quotes; both forms match.
    let r = e
        .req(
            "PUT",
            &path,
            &[("if-match", &format!("W/{etag}"))],
            &card("p", "P2"),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_ne!(r.header("etag").unwrap(), etag);
    // If-Match on a card that does not exist.
    let r = e
        .req(
            "PUT",
            &format!("{BOOK}q.vcf"),
            &[("if-match", "*")],
            &card("q", "Q"),
        )
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
}

#[tokio::test]
async fn rfc6352_s6_3_2_1_put_preconditions_have_error_bodies() {
    let e = env();
    e.put(&format!("{BOOK}one.vcf"), &card("same-uid", "One"))
        .await;
    // no-uid-conflict: 409 naming the other card.
    let r = e
        .put(&format!("{BOOK}two.vcf"), &card("same-uid", "Two"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let err = r.xml();
    assert!(err.is(NS_DAV, "error"));
    let c = err.child(NS_CARDDAV, "no-uid-conflict").unwrap();
    assert_eq!(
        c.child(NS_DAV, "href").unwrap().text,
        "/dav/addressbooks/alice/contacts/one.vcf"
    );
    // The same UID in another book is fine.
    let r = e
        .put(
            "/dav/addressbooks/alice/family/two.vcf",
            &card("same-uid", "Two"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    // valid-address-data.
    let r = e
        .put(
            &format!("{BOOK}bad.vcf"),
            "BEGIN:VCARD\r\nVERSION:9.9\r\nEND:VCARD\r\n",
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.xml().child(NS_CARDDAV, "valid-address-data").is_some());
    // supported-address-data: neither labelled nor shaped like a vCard.
    let r = e
        .req(
            "PUT",
            &format!("{BOOK}j.vcf"),
            &[("content-type", "application/json")],
            "{}",
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        r.xml()
            .child(NS_CARDDAV, "supported-address-data")
            .is_some()
    );
    // A mislabelled real card is accepted (pimsync's text/calendar).
    let r = e
        .req(
            "PUT",
            &format!("{BOOK}cal.vcf"),
            &[("content-type", "text/calendar")],
            &card("cal", "Cal"),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    // max-resource-size: 413.
    let big = card("big", &"x".repeat(20_000));
    let r = e.put(&format!("{BOOK}big.vcf"), &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(r.xml().child(NS_CARDDAV, "max-resource-size").is_some());
    // RFC 4918 §9.7.1: PUT into a missing collection is 409.
    let r = e
        .put("/dav/addressbooks/alice/nobook/x.vcf", &card("x", "X"))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // PUT on a collection: 405.
    let r = e.put(BOOK, &card("x", "X")).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn rfc4918_s9_6_delete_card_with_if_match() {
    let e = env();
    let path = format!("{BOOK}d.vcf");
    let etag = e
        .put(&path, &card("d", "D"))
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let r = e
        .req("DELETE", &path, &[("if-match", "\"nope\"")], "")
        .await;
    assert_eq!(r.status, StatusCode::PRECONDITION_FAILED);
    let r = e.req("DELETE", &path, &[("if-match", &etag)], "").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = e.req("DELETE", &path, &[], "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rfc9110_s12_version_negotiation_on_get() {
    let e = env();
    let path = format!("{BOOK}v.vcf");
    e.put(&path, &card("v", "V")).await;
    let r3 = e.req("GET", &path, &[], "").await;
    assert!(r3.body.contains("VERSION:3.0"));
    let r4 = e
        .req("GET", &path, &[("accept", "text/vcard; version=4.0")], "")
        .await;
    assert_eq!(r4.status, StatusCode::OK);
    assert!(r4.body.contains("VERSION:4.0"), "{}", r4.body);
    assert_eq!(
        r4.header("content-type"),
        Some("text/vcard; charset=utf-8; version=4.0")
    );
    assert_ne!(r3.header("etag"), r4.header("etag"));
}

// ---------- REPORT ----------

fn multiget(hrefs: &[&str], address_data: &str) -> String {
    let mut s = String::from(
        r#"<C:addressbook-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/>"#,
    );
    s.push_str(address_data);
    s.push_str("</D:prop>");
    for h in hrefs {
        s.push_str(&format!("<D:href>{h}</D:href>"));
    }
    s.push_str("</C:addressbook-multiget>");
    s
}

#[tokio::test]
async fn rfc6352_s8_7_multiget_returns_cards_and_404_per_missing_href() {
    let e = env();
    let a = format!("{BOOK}a.vcf");
    let c = card("a", "A & <B>");
    let etag = e.put(&a, &c).await.header("etag").unwrap().to_owned();
    let missing = format!("{BOOK}missing.vcf");
    let r = e
        .req(
            "REPORT",
            BOOK,
            &[("depth", "1")],
            &multiget(
                &[&a, &missing, "/dav/addressbooks/bob/contacts/x.vcf"],
                "<C:address-data/>",
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    // CR survives as &#13; and markup is escaped.
    assert!(r.body.contains("&#13;\n") && r.body.contains("A &amp; &lt;B&gt;"));
    let rs = r.responses();
    assert_eq!(rs.len(), 3);
    assert_eq!(href(&rs[0]), a);
    let p = ok_props(&rs[0]).unwrap();
    assert_eq!(p.child(NS_DAV, "getetag").unwrap().text, etag);
    assert_eq!(p.child(NS_CARDDAV, "address-data").unwrap().text, c);
    for m in &rs[1..] {
        assert_eq!(
            m.child(NS_DAV, "status").unwrap().text,
            "HTTP/1.1 404 Not Found"
        );
    }
}

#[tokio::test]
async fn rfc6352_s10_4_multiget_address_data_version_and_prop_selection() {
    let e = env();
    let a = format!("{BOOK}a.vcf");
    e.put(&a, &card("a", "Ann")).await;
    let r = e
        .req(
            "REPORT",
            BOOK,
            &[],
            &multiget(
                &[&a],
                r#"<C:address-data content-type="text/vcard" version="4.0"/>"#,
            ),
        )
        .await;
    let data = ok_props(&r.responses()[0])
        .unwrap()
        .child(NS_CARDDAV, "address-data")
        .unwrap()
        .text
        .clone();
    assert!(data.contains("VERSION:4.0"), "{data}");
    // vdirsyncer's Content-Type= spelling.
    let r = e
        .req(
            "REPORT",
            BOOK,
            &[],
            &multiget(
                &[&a],
                r#"<C:address-data Content-Type="text/vcard"><C:prop name="FN"/></C:address-data>"#,
            ),
        )
        .await;
    let data = ok_props(&r.responses()[0])
        .unwrap()
        .child(NS_CARDDAV, "address-data")
        .unwrap()
        .text
        .clone();
    assert_eq!(
        data,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEND:VCARD\r\n"
    );
    let r = e
        .req(
            "REPORT",
            BOOK,
            &[],
            &multiget(&[&a], r#"<C:address-data version="2.1"/>"#),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.xml()
            .child(NS_CARDDAV, "supported-address-data-conversion")
            .is_some()
    );
}

fn sync_body(token: &str, extra: &str) -> String {
    format!(
        r#"<sync-collection xmlns="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav"><sync-token>{token}</sync-token><sync-level>1</sync-level>{extra}<prop><getetag/><card:address-data/></prop></sync-collection>"#
    )
}

fn sync_token_of(r: &Resp) -> String {
    r.xml().child(NS_DAV, "sync-token").unwrap().text.clone()
}

#[tokio::test]
async fn rfc6578_s3_sync_collection_initial_delta_and_tombstones() {
    let e = env();
    e.put(&format!("{BOOK}a.vcf"), &card("a", "A")).await;
    e.put(&format!("{BOOK}b.vcf"), &card("b", "B")).await;
    let r = e
        .req("REPORT", BOOK, &[("depth", "1")], &sync_body("", ""))
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    assert_eq!(r.responses().len(), 2);
    let t1 = sync_token_of(&r);
    // The token is the book's current sync-token property.
    let pf = e
        .req(
            "PROPFIND",
            BOOK,
            &[("depth", "0")],
            r#"<propfind xmlns="DAV:"><prop><sync-token/></prop></propfind>"#,
        )
        .await;
    assert!(pf.body.contains(&t1));

    // Nothing changed: no responses, same token.
    let r = e
        .req("REPORT", BOOK, &[("depth", "0")], &sync_body(&t1, ""))
        .await;
    assert!(r.responses().is_empty());
    assert_eq!(sync_token_of(&r), t1);

    // An edit "in Outlook", a client delete.
    e.store
        .insert_card(USER, "contacts", "a.vcf", card("a", "A edited"))
        .unwrap();
    e.req("DELETE", &format!("{BOOK}b.vcf"), &[], "").await;
    let r = e.req("REPORT", BOOK, &[], &sync_body(&t1, "")).await;
    let rs = r.responses();
    assert_eq!(rs.len(), 2);
    assert_eq!(href(&rs[0]), format!("{BOOK}a.vcf"));
    let data = ok_props(&rs[0])
        .unwrap()
        .child(NS_CARDDAV, "address-data")
        .unwrap()
        .text
        .clone();
    assert!(data.contains("FN:A edited"));
    assert_eq!(href(&rs[1]), format!("{BOOK}b.vcf"));
    assert_eq!(
        rs[1].child(NS_DAV, "status").unwrap().text,
        "HTTP/1.1 404 Not Found"
    );
    assert_ne!(sync_token_of(&r), t1);
}

#[tokio::test]
async fn rfc6578_s3_7_limit_truncates_with_507_and_continuation_token() {
    let e = env();
    for i in 0..5 {
        e.put(&format!("{BOOK}{i}.vcf"), &card(&i.to_string(), "N"))
            .await;
    }
    let limit = "<limit><nresults>2</nresults></limit>";
    let mut token = String::new();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let r = e.req("REPORT", BOOK, &[], &sync_body(&token, limit)).await;
        let rs = r.responses();
        let truncated = rs.iter().any(|m| {
            m.child(NS_DAV, "status")
                .is_some_and(|s| s.text == "HTTP/1.1 507 Insufficient Storage")
                && href(m) == BOOK
        });
        seen.extend(rs.iter().map(href).filter(|h| h != BOOK));
        token = sync_token_of(&r);
        if !truncated {
            break;
        }
    }
    seen.sort();
    assert_eq!(seen.len(), 5, "{seen:?}");
    seen.dedup();
    assert_eq!(seen.len(), 5);
}

#[tokio::test]
async fn rfc6578_s3_2_invalid_token_is_403_xml_and_400_for_thunderbird() {
    let e = env();
    let r = e
        .req("REPORT", BOOK, &[], &sync_body("urn:bogus", ""))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        r.header("content-type"),
        Some("application/xml; charset=utf-8")
    );
    assert!(r.xml().child(NS_DAV, "valid-sync-token").is_some());
    let r = e
        .req(
            "REPORT",
            BOOK,
            &[(
                "user-agent",
                "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0",
            )],
            &sync_body("urn:bogus", ""),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.xml().child(NS_DAV, "valid-sync-token").is_some());
    // A token whose history was forgotten.
    let t = sync_token_of(&e.req("REPORT", BOOK, &[], &sync_body("", "")).await);
    e.put(&format!("{BOOK}x.vcf"), &card("x", "X")).await;
    e.store.forget_history(USER, "contacts");
    let r = e.req("REPORT", BOOK, &[], &sync_body(&t, "")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

fn query(filter: &str, limit: &str) -> String {
    format!(
        r#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop>{filter}{limit}</C:addressbook-query>"#
    )
}

#[tokio::test]
async fn rfc6352_s8_6_addressbook_query_filters_and_limits() {
    let e = env();
    e.put(&format!("{BOOK}1.vcf"), &card("1", "Jürgen Müller"))
        .await;
    e.put(&format!("{BOOK}2.vcf"), &card("2", "Anna Smith"))
        .await;
    e.put(&format!("{BOOK}3.vcf"), &card("3", "Anna Jones"))
        .await;
    let f = r#"<C:filter><C:prop-filter name="FN"><C:text-match collation="i;unicode-casemap" match-type="contains">MÜLLER</C:text-match></C:prop-filter></C:filter>"#;
    let r = e
        .req("REPORT", BOOK, &[("depth", "1")], &query(f, ""))
        .await;
    let hrefs: Vec<String> = r.responses().iter().map(href).collect();
    assert_eq!(hrefs, vec![format!("{BOOK}1.vcf")]);
    let f = r#"<C:filter test="anyof"><C:prop-filter name="FN"><C:text-match match-type="starts-with">anna</C:text-match></C:prop-filter></C:filter>"#;
    let r = e.req("REPORT", BOOK, &[], &query(f, "")).await;
    assert_eq!(r.responses().len(), 2);
    let r = e
        .req(
            "REPORT",
            BOOK,
            &[],
            &query(f, "<C:limit><C:nresults>1</C:nresults></C:limit>"),
        )
        .await;
    let rs = r.responses();
    assert_eq!(rs.len(), 2);
    assert_eq!(href(&rs[1]), BOOK);
    assert_eq!(
        rs[1].child(NS_DAV, "status").unwrap().text,
        "HTTP/1.1 507 Insufficient Storage"
    );
    // No filter: every card.
    let r = e.req("REPORT", BOOK, &[], &query("", "")).await;
    assert_eq!(r.responses().len(), 3);
    // Unsupported collation.
    let f = r#"<C:filter><C:prop-filter name="FN"><C:text-match collation="i;basic">x</C:text-match></C:prop-filter></C:filter>"#;
    let r = e.req("REPORT", BOOK, &[], &query(f, "")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.xml().child(NS_CARDDAV, "supported-collation").is_some());
}

#[tokio::test]
async fn rfc3253_s3_6_unknown_report_is_403_supported_report() {
    let e = env();
    let r = e
        .req(
            "REPORT",
            BOOK,
            &[],
            r#"<x:expand-property xmlns:x="DAV:"/>"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.xml().child(NS_DAV, "supported-report").is_some());
}

// ---------- collections ----------

#[tokio::test]
async fn rfc5689_s3_extended_mkcol_proppatch_and_delete_book() {
    let e = env();
    let body = r#"<?xml version='1.0' encoding='UTF-8' ?>
<mkcol xmlns="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><set><prop>
<resourcetype><collection/><CARD:addressbook/></resourcetype>
<displayname>Friends</displayname><CARD:addressbook-description>Close ones</CARD:addressbook-description>
</prop></set></mkcol>"#;
    let path = "/dav/addressbooks/alice/7c1e-uuid/";
    let r = e.req("MKCOL", path, &[], body).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let r = e.req("MKCOL", path, &[], body).await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    let r = e
        .req("PROPFIND", path, &[("depth", "0")], r#"<propfind xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><prop><displayname/><C:addressbook-description/></prop></propfind>"#)
        .await;
    let p = ok_props(&r.responses()[0]).unwrap();
    assert_eq!(p.child(NS_DAV, "displayname").unwrap().text, "Friends");
    assert_eq!(
        p.child(NS_CARDDAV, "addressbook-description").unwrap().text,
        "Close ones"
    );

    // PROPPATCH rename.
    let pp = r#"<propertyupdate xmlns="DAV:"><set><prop><displayname>Pals</displayname></prop></set></propertyupdate>"#;
    let r = e.req("PROPPATCH", path, &[], pp).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    assert!(r.body.contains("HTTP/1.1 200 OK"));
    let books = e.req("PROPFIND", path, &[("depth", "0")], "").await;
    assert!(books.body.contains("<d:displayname>Pals</d:displayname>"));

    // Protected property: 403 + cannot-modify-protected-property, the rest 424, nothing changed.
    let pp = r#"<propertyupdate xmlns="DAV:"><set><prop><displayname>Nope</displayname><getetag>"x"</getetag></prop></set></propertyupdate>"#;
    let r = e.req("PROPPATCH", path, &[], pp).await;
    let resp = &r.responses()[0];
    let propstats: Vec<&Element> = resp.children_named(NS_DAV, "propstat").collect();
    assert_eq!(
        propstats[0].child(NS_DAV, "status").unwrap().text,
        "HTTP/1.1 403 Forbidden"
    );
    assert!(
        propstats[0]
            .child(NS_DAV, "error")
            .unwrap()
            .child(NS_DAV, "cannot-modify-protected-property")
            .is_some()
    );
    assert_eq!(
        propstats[1].child(NS_DAV, "status").unwrap().text,
        "HTTP/1.1 424 Failed Dependency"
    );
    let books = e.req("PROPFIND", path, &[("depth", "0")], "").await;
    assert!(books.body.contains("<d:displayname>Pals</d:displayname>"));

    // DELETE the book; the default book cannot be deleted.
    let r = e.req("DELETE", path, &[], "").await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = e.req("PROPFIND", path, &[("depth", "0")], "").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = e.req("DELETE", BOOK, &[], "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rfc5689_s3_3_mkcol_without_addressbook_type_is_refused() {
    let e = env();
    let r = e
        .req("MKCOL", "/dav/addressbooks/alice/plain/", &[], "")
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.xml().child(NS_DAV, "valid-resourcetype").is_some());
    let body = r#"<mkcol xmlns="DAV:"><set><prop><resourcetype><collection/></resourcetype><displayname>X</displayname></prop></set></mkcol>"#;
    let r = e
        .req("MKCOL", "/dav/addressbooks/alice/plain/", &[], body)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let root = r.xml();
    assert!(root.is(NS_DAV, "mkcol-response"));
    assert!(r.body.contains("424 Failed Dependency"));
    assert!(
        e.req(
            "PROPFIND",
            "/dav/addressbooks/alice/plain/",
            &[("depth", "0")],
            ""
        )
        .await
        .status
            == StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn proppatch_me_card_on_home_is_a_403_propstat() {
    let e = env();
    let pp = r#"<A:propertyupdate xmlns:A="DAV:"><A:set><A:prop><C:me-card xmlns:C="http://calendarserver.org/ns/"><A:href>/x</A:href></C:me-card></A:prop></A:set></A:propertyupdate>"#;
    let r = e
        .req("PROPPATCH", "/dav/addressbooks/alice/", &[], pp)
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    assert!(r.body.contains("HTTP/1.1 403 Forbidden"));
}

#[tokio::test]
async fn rfc4918_s9_9_move_card_between_books() {
    let e = env();
    let src = format!("{BOOK}m.vcf");
    e.put(&src, &card("m", "Moved")).await;
    let r = e
        .req(
            "MOVE",
            &src,
            &[
                (
                    "destination",
                    "http://localhost/dav/addressbooks/alice/family/m.vcf",
                ),
                ("host", "localhost"),
            ],
            "",
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(e.store.card_names(USER, "contacts").is_empty());
    assert_eq!(e.store.card_names(USER, "family"), vec!["m.vcf"]);
    let r = e
        .req("COPY", "/dav/addressbooks/alice/family/m.vcf", &[], "")
        .await;
    assert_eq!(r.status, StatusCode::NOT_IMPLEMENTED);
}

// ---------- errors ----------

#[tokio::test]
async fn store_failures_map_to_503_and_500() {
    let e = env();
    e.store.fail_with(StoreError::Unavailable {
        retry_after_secs: Some(7),
    });
    let r = e.req("PROPFIND", BOOK, &[("depth", "1")], "").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.header("retry-after"), Some("7"));
    e.store.fail_with(StoreError::SignInRequired);
    let r = e.req("GET", &format!("{BOOK}x.vcf"), &[], "").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("sign in"));
    assert_eq!(r.header("retry-after"), Some("900"));
    e.store.fail_with(StoreError::Internal("boom".into()));
    let r = e
        .req("PUT", &format!("{BOOK}x.vcf"), &[], &card("x", "X"))
        .await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!r.body.contains("boom"));
    e.store.clear_failure();
    let r = e.req("PROPFIND", BOOK, &[("depth", "0")], "").await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
}

#[tokio::test]
async fn hostile_xml_is_a_precise_400() {
    let e = env();
    let deep = "<a>".repeat(40) + &"</a>".repeat(40);
    let cases = [
        "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><propfind xmlns=\"DAV:\"><allprop/></propfind>",
        "<propfind xmlns=\"DAV:\"><prop>",
        "<propfind xmlns=\"DAV:\"><prop></propfind>",
        "<x:propfind/>",
        deep.as_str(),
        "<propfind xmlns=\"DAV:\">&xxe;</propfind>",
        "not xml at all",
        "<other xmlns=\"DAV:\"/>",
    ];
    for body in cases {
        let r = e.req("PROPFIND", BOOK, &[("depth", "0")], body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(!r.body.is_empty());
        let r = e.req("REPORT", BOOK, &[], body).await;
        assert!(r.status.is_client_error(), "{body}");
    }
}

#[tokio::test]
async fn unknown_methods_are_405_with_allow() {
    let e = env();
    let r = e.req("POST", BOOK, &[], "").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.header("allow").is_some());
    let r = e.req("LOCK", BOOK, &[], "").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[test]
fn handle_future_is_send() {
    fn assert_send<T: Send>(_: T) {}
    let e = env();
    let req = http::Request::builder()
        .uri("/")
        .body(Bytes::new())
        .unwrap();
    assert_send(e.dav.handle(Some(USER), req));
}

// ---------- client replays (bodies from reference/clients.md) ----------

#[tokio::test]
async fn davx5_capabilities_sync_and_multiget_v4() {
    let e = env();
    e.put(&format!("{BOOK}d1.vcf"), &card("d1", "Dee")).await;
    // §3.2 capabilities.
    let caps = r#"<?xml version='1.0' encoding='UTF-8' ?><propfind xmlns="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav" xmlns:CAL="urn:ietf:params:xml:ns:caldav" xmlns:CS="http://calendarserver.org/ns/"><prop><supported-report-set/><sync-token/><CS:getctag/><CAL:max-resource-size/><CARD:max-resource-size/><CARD:supported-address-data/></prop></propfind>"#;
    let r = e.req("PROPFIND", BOOK, &[("depth", "0")], caps).await;
    let p = ok_props(&r.responses()[0]).unwrap();
    assert!(p.child(NS_CARDDAV, "max-resource-size").unwrap().text == "10000");
    assert!(
        r.body
            .contains(r#"<card:address-data-type content-type="text/vcard" version="4.0"/>"#)
    );
    assert!(r.body.contains("<d:sync-collection/>"));
    // The CalDAV one is 404, after the 200 propstat.
    assert!(r.body.find("404 Not Found").unwrap() > r.body.find("200 OK").unwrap());
    // §3.2 initial sync: Depth 0, empty token, getetag + resourcetype.
    let sync = r#"<?xml version='1.0' encoding='UTF-8' ?><sync-collection xmlns="DAV:"><sync-token/><sync-level>1</sync-level><prop><getetag/><resourcetype/></prop></sync-collection>"#;
    let r = e.req("REPORT", BOOK, &[("depth", "0")], sync).await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    let rs = r.responses();
    assert_eq!(rs.len(), 1);
    assert!(ok_props(&rs[0]).unwrap().child(NS_DAV, "getetag").is_some());
    assert!(r.xml().child(NS_DAV, "sync-token").is_some());
    // §3.2 multiget with version 4.0, Depth 0.
    let mg = format!(
        r#"<?xml version='1.0' encoding='UTF-8' ?><CARD:addressbook-multiget xmlns="DAV:" xmlns:CARD="urn:ietf:params:xml:ns:carddav"><prop><getcontenttype/><getetag/><CARD:address-data content-type="text/vcard" version="4.0"/></prop><href>{BOOK}d1.vcf</href></CARD:addressbook-multiget>"#
    );
    let r = e.req("REPORT", BOOK, &[("depth", "0")], &mg).await;
    let p = ok_props(&r.responses()[0]).unwrap();
    assert!(
        p.child(NS_CARDDAV, "address-data")
            .unwrap()
            .text
            .contains("VERSION:4.0")
    );
    assert_eq!(
        p.child(NS_DAV, "getcontenttype").unwrap().text,
        "text/vcard; charset=utf-8; version=4.0"
    );
    // The 4.0 ETag is the one GET with Accept 4.0 gives.
    let g = e
        .req(
            "GET",
            &format!("{BOOK}d1.vcf"),
            &[("accept", "text/vcard;version=4.0")],
            "",
        )
        .await;
    assert_eq!(
        g.header("etag").unwrap(),
        p.child(NS_DAV, "getetag").unwrap().text
    );
}

#[tokio::test]
async fn thunderbird_discovery_and_v2_sync() {
    let e = env();
    // §1.1 step 3: PROPFIND / for current-user-principal.
    let body = r#"<?xml version="1.0" encoding="utf-8"?>
<propfind xmlns="DAV:">
  <prop>
    <current-user-principal/>
  </prop>
</propfind>"#;
    let r = e
        .req(
            "PROPFIND",
            "/",
            &[("depth", "0"), ("content-type", "text/xml")],
            body,
        )
        .await;
    assert!(r.body.contains("<d:href>/dav/principals/alice/</d:href>"));
    // Step 5: home Depth 1 with current-user-privilege-set; books writable.
    let body = r#"<propfind xmlns="DAV:"><prop><resourcetype/><displayname/><current-user-privilege-set/></prop></propfind>"#;
    let r = e
        .req(
            "PROPFIND",
            "/dav/addressbooks/alice/",
            &[("depth", "1")],
            body,
        )
        .await;
    let book = &r.responses()[1];
    let privs = ok_props(book).unwrap();
    let set = privs.child(NS_DAV, "current-user-privilege-set").unwrap();
    let names: Vec<&str> = set
        .children
        .iter()
        .map(|p| p.children[0].name.local.as_str())
        .collect();
    assert!(names.contains(&"read") && names.contains(&"write-content"));
    // §1.2 V2 sync: Depth 1, asks for address-data.
    let t = sync_token_of(
        &e.req("REPORT", BOOK, &[("depth", "1")], &sync_body("", ""))
            .await,
    );
    e.put(
        &format!("{BOOK}t.vcf"),
        "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:t\r\nFN:Tee\r\nEND:VCARD\r\n",
    )
    .await;
    let tb = sync_body(&t, "").replace(
        "xmlns=\"DAV:\"",
        "xmlns=\"DAV:\" xmlns:cs=\"http://calendarserver.org/ns/\" xmlns:d=\"DAV:\"",
    );
    let r = e
        .req(
            "REPORT",
            BOOK,
            &[("depth", "1"), ("user-agent", "Thunderbird/128.0")],
            &tb,
        )
        .await;
    let rs = r.responses();
    assert_eq!(rs.len(), 1);
    let p = ok_props(&rs[0]).unwrap();
    // A 4.0 card is served as 3.0 unless asked.
    assert!(
        p.child(NS_CARDDAV, "address-data")
            .unwrap()
            .text
            .contains("VERSION:3.0")
    );
    // The first sync-token in the document is the new one.
    assert_ne!(sync_token_of(&r), t);
}

#[tokio::test]
async fn apple_home_set_propfind_with_unknown_properties() {
    let e = env();
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<A:propfind xmlns:A="DAV:">
  <A:prop>
    <A:add-member/>
    <E:bulk-requests xmlns:E="http://me.com/_namespace/"/>
    <A:current-user-privilege-set/>
    <A:displayname/>
    <D:max-image-size xmlns:D="urn:ietf:params:xml:ns:carddav"/>
    <D:max-resource-size xmlns:D="urn:ietf:params:xml:ns:carddav"/>
    <C:me-card xmlns:C="http://calendarserver.org/ns/"/>
    <A:owner/>
    <C:push-transports xmlns:C="http://calendarserver.org/ns/"/>
    <C:pushkey xmlns:C="http://calendarserver.org/ns/"/>
    <A:quota-available-bytes/>
    <A:quota-used-bytes/>
    <A:resource-id/>
    <A:resourcetype/>
    <A:supported-report-set/>
    <A:sync-token/>
  </A:prop>
</A:propfind>"#;
    let r = e
        .req(
            "PROPFIND",
            "/dav/addressbooks/alice/",
            &[("depth", "1"), ("brief", "t")],
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::MULTI_STATUS);
    // Brief: t leaves out the 404s; add-member is never advertised.
    assert!(!r.body.contains("404"));
    assert!(!r.body.contains("add-member"));
    assert_eq!(r.responses().len(), 3);
    let r = e
        .req(
            "PROPFIND",
            "/dav/addressbooks/alice/",
            &[("depth", "1")],
            body,
        )
        .await;
    assert!(
        r.body
            .contains(r#"<x:bulk-requests xmlns:x="http://me.com/_namespace/"/>"#)
    );
    assert!(r.body.contains("<d:add-member/>"));
}

#[tokio::test]
async fn address_data_with_control_characters_stays_well_formed_xml() {
    let e = env();
    let nasty =
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:n\r\nFN:a\u{1}b\u{1b}c ]]> <x> &amp;\r\nEND:VCARD\r\n";
    e.store
        .insert_card(USER, "contacts", "n.vcf", nasty.to_owned())
        .unwrap();
    let r = e
        .req(
            "REPORT",
            BOOK,
            &[],
            &multiget(&[&format!("{BOOK}n.vcf")], "<C:address-data/>"),
        )
        .await;
    let data = ok_props(&r.responses()[0])
        .unwrap()
        .child(NS_CARDDAV, "address-data")
        .unwrap()
        .text
        .clone();
    assert!(data.contains("FN:abc ]]> <x> &amp;"), "{data}");
}
