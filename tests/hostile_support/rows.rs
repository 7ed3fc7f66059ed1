//! The rows of the hostile-input table, one function per family. Each expected status
//! cites the rule it comes from.

use super::*;

const MS: &str = r#"xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav""#;

fn x(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn propfind0(body: Vec<u8>) -> Vec<u8> {
    req("PROPFIND", BOOK, &[("Depth", "0"), CT_XML], body)
}

pub fn report(path: &str, body: &str) -> Vec<u8> {
    req("REPORT", path, &[("Depth", "1"), CT_XML], x(body))
}

pub fn sync(token: &str) -> String {
    format!(
        r#"<D:sync-collection {MS}><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"#
    )
}

fn query(filter: &str) -> String {
    format!(
        r#"<C:addressbook-query {MS}><D:prop><D:getetag/></D:prop>{filter}</C:addressbook-query>"#
    )
}

/// HTTP/1.1 framing (RFC 9112) and the server's size limits.
pub fn framing_rows() -> Vec<Row> {
    let auth = basic("alice", "alice-pw");
    let big_header = "a".repeat(100 * 1024);
    let many_headers: String = (0..500).map(|i| format!("X-H{i}: v\r\n")).collect();
    let over = vec![b' '; MAX_BODY + 1];
    vec![
        row("not HTTP at all", x("HELLO THERE\r\n\r\n"), &[400]),
        row(
            "binary garbage",
            vec![0x16, 0x03, 0x01, 0, 0xff, b'\r', b'\n', b'\r', b'\n'],
            &[400],
        ),
        row(
            "header line without a colon (RFC 9112 §5)",
            x("GET /dav/ HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n"),
            &[400],
        ),
        row(
            "space before the header colon (RFC 9112 §5.1)",
            x("GET /dav/ HTTP/1.1\r\nHost : a\r\n\r\n"),
            &[400],
        ),
        row(
            "100 KB header value (431, RFC 6585 §5)",
            x(&format!(
                "GET /dav/ HTTP/1.1\r\nHost: a\r\nX-Big: {big_header}\r\n\r\n"
            )),
            &[431],
        ),
        row(
            "100 KB Authorization header",
            x(&format!(
                "GET /dav/ HTTP/1.1\r\nHost: a\r\nAuthorization: Basic {big_header}\r\n\r\n"
            )),
            &[431],
        ),
        row(
            "500 headers",
            x(&format!(
                "GET /dav/ HTTP/1.1\r\nHost: a\r\n{many_headers}\r\n"
            )),
            &[431],
        ),
        row(
            "100 KB request target",
            x(&format!(
                "GET /dav/{big_header} HTTP/1.1\r\nHost: a\r\n\r\n"
            )),
            &[414, 431],
        ),
        row(
            "non-numeric Content-Length (RFC 9112 §6.3)",
            x(&format!(
                "PUT {CARD} HTTP/1.1\r\nHost: a\r\nAuthorization: {auth}\r\nContent-Length: ten\r\n\r\n"
            )),
            &[400],
        ),
        row(
            "two different Content-Lengths (RFC 9112 §6.3)",
            x(&format!(
                "PUT {CARD} HTTP/1.1\r\nHost: a\r\nAuthorization: {auth}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
            )),
            &[400],
        ),
        row(
            "negative Content-Length",
            x(&format!(
                "PUT {CARD} HTTP/1.1\r\nHost: a\r\nAuthorization: {auth}\r\nContent-Length: -1\r\n\r\n"
            )),
            &[400],
        ),
        row(
            "bad chunk size",
            x(&format!(
                "PUT {CARD} HTTP/1.1\r\nHost: a\r\nAuthorization: {auth}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
            )),
            &[400],
        ),
        row(
            "unknown transfer coding (RFC 9112 §6.1: 501)",
            x(&format!(
                "PUT {CARD} HTTP/1.1\r\nHost: a\r\nAuthorization: {auth}\r\nTransfer-Encoding: rot13\r\n\r\n"
            )),
            &[400, 501],
        ),
        row(
            "body one byte over the limit, declared (413)",
            req("PUT", CARD, &[CT_VCARD], over.clone()),
            &[413],
        ),
        row(
            "body over the limit, chunked (413)",
            {
                let mut r = x(&format!(
                    "PUT {CARD} HTTP/1.1\r\nHost: a\r\nAuthorization: {auth}\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                ));
                for _ in 0..9 {
                    r.extend_from_slice(
                        format!("100000\r\n{}\r\n", " ".repeat(0x100000)).as_bytes(),
                    );
                }
                r.extend_from_slice(b"0\r\n\r\n");
                r
            },
            &[413],
        ),
        row(
            "XML body over the limit (413 before any parsing)",
            propfind0(over),
            &[413],
        ),
        row(
            "Expect with an unknown expectation (RFC 9110 §10.1.1: MAY answer 417)",
            req(
                "PROPFIND",
                BOOK,
                &[("Depth", "0"), ("Expect", "teapot")],
                Vec::new(),
            ),
            &[417, 207],
        ),
        row(
            "control character in the request target",
            x("GET /dav/\x01 HTTP/1.1\r\nHost: a\r\n\r\n"),
            &[400],
        ),
        row(
            "backslash path",
            x("GET \\..\\etc\\passwd HTTP/1.1\r\nHost: a\r\n\r\n"),
            &[400],
        ),
        row(
            "invalid method token",
            x("PRO(PFIND /dav/ HTTP/1.1\r\nHost: a\r\n\r\n"),
            &[400],
        ),
    ]
}

/// HTTP Basic auth (RFC 7617) and failed logins.
pub fn auth_rows() -> Vec<Row> {
    let pf = |auth: Option<&str>| req_auth(auth, "PROPFIND", BOOK, &[("Depth", "0")], Vec::new());
    vec![
        row("no credentials (401, RFC 9110 §11.6.1)", pf(None), &[401]),
        row("wrong password", pf(Some(&basic("alice", "nope"))), &[401]),
        row("unknown user", pf(Some(&basic("mallory", "x"))), &[401]),
        row("empty user name", pf(Some(&basic("", "alice-pw"))), &[401]),
        row(
            "no colon in the credentials",
            pf(Some("Basic YWxpY2U=")),
            &[401],
        ),
        row("not base64", pf(Some("Basic !!!!****")), &[401]),
        row("base64 of invalid UTF-8", pf(Some("Basic /w==")), &[401]),
        row("Bearer scheme", pf(Some("Bearer abc.def.ghi")), &[401]),
        row("scheme only", pf(Some("Basic")), &[401]),
        row(
            "Bob's password with Alice's name",
            pf(Some(&basic("alice", "bob-pw"))),
            &[401],
        ),
        row(
            "NUL inside the user name",
            pf(Some(&format!(
                "Basic {}",
                BASE64_STANDARD.encode("ali\0ce:alice-pw")
            ))),
            &[401],
        ),
    ]
}

/// Dot segments, encoded slashes, NUL and bad percent-encoding in every method's path
/// (dav::path: 400, never resolved). The server only forwards; nothing is normalised.
pub fn path_rows() -> Vec<Row> {
    let bad_paths = [
        "/dav/addressbooks/alice/contacts/../../bob/contacts/",
        "/dav/addressbooks/alice/contacts/%2e%2e/%2e%2e/bob/contacts/",
        "/dav/addressbooks/alice/contacts/..%2Fbob%2Fx.vcf",
        "/dav/addressbooks/alice/contacts/a%2Fb.vcf",
        "/dav/addressbooks/alice/contacts/a%00.vcf",
        "/dav/addressbooks/alice/contacts/%ff%fe.vcf",
        "/dav/addressbooks/alice/./contacts/known.vcf",
    ];
    let methods = [
        "PROPFIND",
        "GET",
        "PUT",
        "DELETE",
        "REPORT",
        "PROPPATCH",
        "MKCOL",
    ];
    let mut rows = Vec::new();
    for path in bad_paths {
        for m in methods {
            let body = match m {
                "PUT" => card("traversal"),
                "REPORT" => x(&sync("")),
                "PROPPATCH" => x(&format!(
                    r#"<D:propertyupdate {MS}><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set></D:propertyupdate>"#
                )),
                _ => Vec::new(),
            };
            let ct = if m == "PUT" { CT_VCARD } else { CT_XML };
            rows.push(row(
                format!("{m} {path}"),
                req(m, path, &[("Depth", "0"), ct], body),
                &[400],
            ));
        }
    }
    rows.push(row(
        "PROPFIND on a book that does not exist",
        req(
            "PROPFIND",
            "/dav/addressbooks/alice/nope/",
            &[("Depth", "0")],
            Vec::new(),
        ),
        &[404],
    ));
    rows.push(row(
        "GET /etc/passwd",
        req("GET", "/etc/passwd", &[], Vec::new()),
        &[404],
    ));
    rows.push(row(
        "10,000-character card name",
        req(
            "GET",
            &format!("{BOOK}{}.vcf", "n".repeat(10_000)),
            &[],
            Vec::new(),
        ),
        &[404, 414],
    ));
    rows
}

/// Another user's books by every method: 404, as if they did not exist (DESIGN.md).
pub fn isolation_rows() -> Vec<Row> {
    let bob_card = format!("{BOB_BOOK}x.vcf");
    vec![
        row(
            "PROPFIND Bob's home",
            req(
                "PROPFIND",
                "/dav/addressbooks/bob/",
                &[("Depth", "1")],
                Vec::new(),
            ),
            &[404],
        ),
        row(
            "PROPFIND Bob's book",
            req("PROPFIND", BOB_BOOK, &[("Depth", "1")], Vec::new()),
            &[404],
        ),
        row(
            "PROPFIND Bob's principal",
            req(
                "PROPFIND",
                "/dav/principals/bob/",
                &[("Depth", "0")],
                Vec::new(),
            ),
            &[404],
        ),
        row(
            "GET a card of Bob's",
            req("GET", &bob_card, &[], Vec::new()),
            &[404],
        ),
        row(
            "PUT into Bob's book",
            req("PUT", &bob_card, &[CT_VCARD], card("intruder")),
            &[404],
        ),
        row(
            "DELETE Bob's book",
            req("DELETE", BOB_BOOK, &[], Vec::new()),
            &[404],
        ),
        row(
            "MKCOL in Bob's home",
            req("MKCOL", "/dav/addressbooks/bob/new/", &[], Vec::new()),
            &[404],
        ),
        row(
            "PROPPATCH Bob's book",
            req(
                "PROPPATCH",
                BOB_BOOK,
                &[CT_XML],
                x(&format!(
                    r#"<D:propertyupdate {MS}><D:set><D:prop><D:displayname>pwned</D:displayname></D:prop></D:set></D:propertyupdate>"#
                )),
            ),
            &[404],
        ),
        row(
            "sync-collection on Bob's book",
            report(BOB_BOOK, &sync("")),
            &[404],
        ),
        row("query on Bob's book", report(BOB_BOOK, &query("")), &[404]),
        row(
            "MOVE Alice's card into Bob's book (RFC 4918 §9.9.4: 403)",
            req(
                "MOVE",
                CARD,
                &[(
                    "Destination",
                    &format!("http://127.0.0.1{BOB_BOOK}stolen.vcf"),
                )],
                Vec::new(),
            ),
            &[403, 404],
        ),
        row(
            "COPY Alice's card into Bob's book",
            req(
                "COPY",
                CARD,
                &[("Destination", &format!("{BOB_BOOK}stolen.vcf"))],
                Vec::new(),
            ),
            &[403, 404, 405, 501],
        ),
    ]
}

/// Depth (RFC 4918 §10.2).
pub fn depth_rows() -> Vec<Row> {
    let pf = |d: &str| req("PROPFIND", BOOK, &[("Depth", d)], Vec::new());
    vec![
        row("Depth: 2", pf("2"), &[400]),
        row("Depth: -1", pf("-1"), &[400]),
        row("Depth: empty", pf(""), &[400]),
        row("Depth: 1, 1", pf("1, 1"), &[400]),
        row("Depth: one", pf("one"), &[400]),
        row(
            "Depth: infinity (RFC 4918 §9.1: 403 propfind-finite-depth)",
            pf("infinity"),
            &[403],
        ),
    ]
}

/// Request bodies (dav::xml: no DOCTYPE, depth and element limits, UTF-8 only).
pub fn xml_rows() -> Vec<Row> {
    let laughs = format!(
        r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">{}]><D:propfind xmlns:D="DAV:"><D:prop>&lol9;</D:prop></D:propfind>"#,
        (1..10)
            .map(|i| format!(
                r#"<!ENTITY lol{i} "{}">"#,
                format!(
                    "&lol{};",
                    if i == 1 {
                        String::new()
                    } else {
                        (i - 1).to_string()
                    }
                )
                .repeat(10)
            ))
            .collect::<String>()
    );
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><D:propfind xmlns:D="DAV:"><D:prop>&xxe;</D:prop></D:propfind>"#;
    let deep = format!(
        r#"<D:propfind xmlns:D="DAV:">{}{}</D:propfind>"#,
        "<D:prop>".repeat(10_000),
        "</D:prop>".repeat(10_000)
    );
    let wide = format!(
        r#"<D:propfind xmlns:D="DAV:"><D:prop>{}</D:prop></D:propfind>"#,
        "<D:x/>".repeat(100_000)
    );
    let long_name = format!(
        r#"<D:propfind xmlns:D="DAV:"><D:prop><D:{}/></D:prop></D:propfind>"#,
        "n".repeat(1_000_000)
    );
    let utf16: Vec<u8> = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><D:propfind xmlns:D=\"DAV:\"><D:allprop/></D:propfind>"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let mut with_ff = x(r#"<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop>"#);
    with_ff.extend_from_slice(b"\xff\xfe</D:propfind>");
    vec![
        row(
            "unclosed root",
            propfind0(x("<D:propfind xmlns:D=\"DAV:\">")),
            &[400],
        ),
        row("mismatched end tag", propfind0(x("<a></b>")), &[400]),
        row("two roots", propfind0(x("<a/><b/>")), &[400]),
        row("text only", propfind0(x("just text")), &[400]),
        row(
            "billion laughs (DOCTYPE refused)",
            propfind0(x(&laughs)),
            &[400],
        ),
        row("external entity (XXE)", propfind0(x(xxe)), &[400]),
        row(
            "undefined entity",
            propfind0(x(r#"<D:propfind xmlns:D="DAV:">&lol;</D:propfind>"#)),
            &[400],
        ),
        row(
            "character reference to NUL",
            propfind0(x(r#"<D:propfind xmlns:D="DAV:">&#0;</D:propfind>"#)),
            &[400],
        ),
        row("10,000 levels of nesting", propfind0(x(&deep)), &[400]),
        row("100,000 elements", propfind0(x(&wide)), &[400]),
        row("1 MB element name", propfind0(x(&long_name)), &[400, 207]),
        row(
            "undeclared prefix",
            propfind0(x("<D:propfind><D:allprop/></D:propfind>")),
            &[400],
        ),
        row(
            "propfind in no namespace",
            propfind0(x("<propfind><allprop/></propfind>")),
            &[400],
        ),
        row(
            "propfind in a wrong namespace",
            propfind0(x(
                r#"<D:propfind xmlns:D="urn:not-dav"><D:allprop/></D:propfind>"#,
            )),
            &[400],
        ),
        row(
            "wrong root element",
            propfind0(x(r#"<D:multistatus xmlns:D="DAV:"/>"#)),
            &[400],
        ),
        row(
            "empty propfind",
            propfind0(x(r#"<D:propfind xmlns:D="DAV:"/>"#)),
            &[400],
        ),
        row(
            "UTF-16 body (RFC 4918 §8.2 lets servers refuse)",
            propfind0(utf16),
            &[400],
        ),
        row("invalid UTF-8 in the body", propfind0(with_ff), &[400]),
        row(
            "duplicate attribute",
            propfind0(x(
                r#"<D:propfind xmlns:D="DAV:" a="1" a="2"><D:allprop/></D:propfind>"#,
            )),
            &[400],
        ),
        row(
            "processing instruction and comment only",
            propfind0(x("<?xml version=\"1.0\"?><!-- nothing -->")),
            &[400],
        ),
        row(
            "PROPPATCH with an unknown instruction",
            req(
                "PROPPATCH",
                BOOK,
                &[CT_XML],
                x(r#"<D:propertyupdate xmlns:D="DAV:"><D:frobnicate/></D:propertyupdate>"#),
            ),
            &[400],
        ),
        row(
            "PROPPATCH with a DOCTYPE",
            req("PROPPATCH", BOOK, &[CT_XML], x(&laughs)),
            &[400],
        ),
        row(
            "MKCOL with a non-XML body (RFC 5689 §3: 415)",
            req(
                "MKCOL",
                "/dav/addressbooks/alice/newbook/",
                &[("Content-Type", "text/plain")],
                x("make it so"),
            ),
            &[415],
        ),
    ]
}

/// REPORTs (RFC 6352 §8, RFC 6578).
pub fn report_rows() -> Vec<Row> {
    let many = format!(
        r#"<C:addressbook-multiget {MS}><D:prop><D:getetag/></D:prop>{}</C:addressbook-multiget>"#,
        (0..10_000)
            .map(|i| format!("<D:href>{BOB_BOOK}{i}.vcf</D:href>"))
            .collect::<String>()
    );
    vec![
        row(
            "unknown report (RFC 3253 §3.6: 403 supported-report)",
            report(BOOK, r#"<D:expand-property xmlns:D="DAV:"/>"#),
            &[403],
        ),
        row(
            "CalDAV multiget on an address book",
            report(
                BOOK,
                r#"<C:calendar-multiget xmlns:C="urn:ietf:params:xml:ns:caldav"/>"#,
            ),
            &[403],
        ),
        row("empty REPORT body", report(BOOK, ""), &[400]),
        row(
            "sync-collection with a garbage token (RFC 6578 §3.2: 403 valid-sync-token)",
            report(BOOK, &sync("garbage")),
            &[403],
        ),
        row(
            "sync-collection with another book's token",
            report(
                BOOK,
                &sync("https://cardbridge.invalid/sync/00000000000000000000000000000000/1"),
            ),
            &[403],
        ),
        row(
            "sync-collection with a 100 KB token",
            report(BOOK, &sync(&"t".repeat(100_000))),
            &[403],
        ),
        row(
            "sync-collection with sync-level infinity on an address book",
            report(
                BOOK,
                &format!(
                    r#"<D:sync-collection {MS}><D:sync-token/><D:sync-level>infinity</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"#
                ),
            ),
            &[403, 400],
        ),
        row(
            "sync-collection without sync-level (tolerated by design: dav report/sync.rs)",
            report(
                BOOK,
                &format!(
                    r#"<D:sync-collection {MS}><D:sync-token/><D:prop><D:getetag/></D:prop></D:sync-collection>"#
                ),
            ),
            &[400, 207],
        ),
        row(
            "sync-collection on a card",
            report(CARD, &sync("")),
            &[403, 400],
        ),
        row(
            "query with an unsupported collation (RFC 6352 §10.5.4: supported-collation)",
            report(
                BOOK,
                &query(
                    r#"<C:filter><C:prop-filter name="FN"><C:text-match collation="i;klingon">x</C:text-match></C:prop-filter></C:filter>"#,
                ),
            ),
            &[403],
        ),
        row(
            "query with an unknown match-type (supported-filter)",
            report(
                BOOK,
                &query(
                    r#"<C:filter><C:prop-filter name="FN"><C:text-match match-type="regex">.*</C:text-match></C:prop-filter></C:filter>"#,
                ),
            ),
            &[403, 400],
        ),
        row(
            "query with an unknown filter element",
            report(
                BOOK,
                &query(r#"<C:filter><C:comp-filter name="VCARD"/></C:filter>"#),
            ),
            &[403, 400],
        ),
        row(
            "query with a prop-filter without a name",
            report(BOOK, &query(r#"<C:filter><C:prop-filter/></C:filter>"#)),
            &[400],
        ),
        row(
            "query with a negative nresults",
            report(
                BOOK,
                &query(r#"<C:limit><C:nresults>-5</C:nresults></C:limit>"#),
            ),
            &[400],
        ),
        row(
            "multiget of 10,000 of Bob's hrefs (each a 404 inside 207)",
            report(BOOK, &many),
            &[207],
        ),
        row(
            "multiget with a traversal href",
            report(
                BOOK,
                &format!(
                    r#"<C:addressbook-multiget {MS}><D:prop><D:getetag/></D:prop><D:href>{BOOK}../../bob/contacts/x.vcf</D:href></C:addressbook-multiget>"#
                ),
            ),
            &[207, 400],
        ),
    ]
}

/// PUT bodies and preconditions (RFC 6352 §6.3.2, RFC 9110 §13).
pub fn put_rows() -> Vec<Row> {
    let put = |name: &str, headers: &[(&str, &str)], body: Vec<u8>| {
        req("PUT", &format!("{BOOK}{name}"), headers, body)
    };
    let many_props = {
        let mut c = x("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:many\r\nFN:Many\r\n");
        for i in 0..10_000 {
            c.extend_from_slice(format!("X-P{i}:value {i}\r\n").as_bytes());
        }
        c.extend_from_slice(b"END:VCARD\r\n");
        c
    };
    let photo_card = |bytes: usize| {
        let mut c =
            x("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:photo\r\nFN:Photo\r\nPHOTO;ENCODING=b;TYPE=JPEG:");
        let raw = vec![0xffu8; bytes * 3 / 4];
        c.extend_from_slice(BASE64_STANDARD.encode(raw).as_bytes());
        c.extend_from_slice(b"\r\nEND:VCARD\r\n");
        c
    };
    let over_card = {
        let mut c = x("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:big\r\nFN:Big\r\nNOTE:");
        c.extend(std::iter::repeat_n(b'n', MAX_CARD as usize + 1));
        c.extend_from_slice(b"\r\nEND:VCARD\r\n");
        c
    };
    let mut invalid_utf8 = card("bad-utf8");
    invalid_utf8.splice(30..30, b"\xc3\x28".iter().copied());
    vec![
        row(
            "PUT as application/json (415)",
            put(
                "j.vcf",
                &[("Content-Type", "application/json")],
                x("{\"displayName\":\"x\"}"),
            ),
            &[415],
        ),
        row(
            "PUT a vCard labelled image/jpeg (accepted by design: clients mislabel, dav put.rs)",
            put("i.vcf", &[("Content-Type", "image/jpeg")], card("img")),
            &[201, 204, 415],
        ),
        row(
            "PUT without Content-Type",
            put("n.vcf", &[], card("noct")),
            &[201, 204, 415],
        ),
        row(
            "PUT text/vcard that is not a vCard (valid-address-data)",
            put("t.vcf", &[CT_VCARD], x("hello world")),
            &[400, 403],
        ),
        row(
            "PUT an empty body",
            put("e.vcf", &[CT_VCARD], Vec::new()),
            &[400, 403],
        ),
        row(
            "PUT a card without END",
            put(
                "u.vcf",
                &[CT_VCARD],
                x("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\n"),
            ),
            &[400, 403],
        ),
        row(
            "PUT two cards in one resource (RFC 6352 §5.1)",
            put("two.vcf", &[CT_VCARD], [card("one"), card("two")].concat()),
            &[400, 403],
        ),
        row(
            "PUT a card with invalid UTF-8",
            put("utf.vcf", &[CT_VCARD], invalid_utf8),
            &[400, 403],
        ),
        row(
            "PUT an iCalendar",
            put(
                "cal.vcf",
                &[CT_VCARD],
                x("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"),
            ),
            &[400, 403],
        ),
        row(
            "PUT vCard version 9.9",
            put(
                "v9.vcf",
                &[CT_VCARD],
                x("BEGIN:VCARD\r\nVERSION:9.9\r\nFN:x\r\nEND:VCARD\r\n"),
            ),
            &[400, 403],
        ),
        row(
            "PUT a card with 10,000 properties (stash too large)",
            put("many.vcf", &[CT_VCARD], many_props),
            &[400, 403, 413, 507],
        ),
        row(
            "PUT a card over max-resource-size (RFC 6352 §6.3.2.1)",
            put("big.vcf", &[CT_VCARD], over_card),
            &[403, 413],
        ),
        row(
            "PUT a card with a 50 MB photo (413)",
            put("p50.vcf", &[CT_VCARD], photo_card(50 * 1024 * 1024)),
            &[413],
        ),
        row(
            "PUT a card with a 3.5 MB photo that is not an image",
            put("p3.vcf", &[CT_VCARD], photo_card(3_500_000)),
            &[400, 403, 413],
        ),
        row(
            "PUT on the book itself (RFC 4918 §9.7.2: 405)",
            req("PUT", BOOK, &[CT_VCARD], card("onbook")),
            &[405],
        ),
        row(
            "PUT on the home",
            req("PUT", HOME, &[CT_VCARD], card("onhome")),
            &[405],
        ),
        row(
            "PUT on the principal",
            req(
                "PUT",
                "/dav/principals/alice/",
                &[CT_VCARD],
                card("onprincipal"),
            ),
            &[405, 403],
        ),
        row(
            "PUT If-Match on a new resource (RFC 9110 §13.1.1: 412)",
            put(
                "new-im.vcf",
                &[CT_VCARD, ("If-Match", "\"nope\"")],
                card("im"),
            ),
            &[412],
        ),
        row(
            "PUT If-None-Match: * on an existing card (412)",
            req(
                "PUT",
                CARD,
                &[CT_VCARD, ("If-None-Match", "*")],
                card("known"),
            ),
            &[412],
        ),
        row(
            "PUT with a stale If-Match (412)",
            req(
                "PUT",
                CARD,
                &[CT_VCARD, ("If-Match", "\"stale\"")],
                card("known"),
            ),
            &[412],
        ),
        row(
            "PUT a malformed If-Match",
            req(
                "PUT",
                CARD,
                &[CT_VCARD, ("If-Match", "not-quoted")],
                card("known"),
            ),
            &[412, 400],
        ),
        row(
            "PUT the known card's UID under another name (RFC 6352 §6.3.2.1: 409 no-uid-conflict)",
            put("dup.vcf", &[CT_VCARD], card("known")),
            &[409, 403],
        ),
        row(
            "DELETE with a stale If-Match (412)",
            req("DELETE", CARD, &[("If-Match", "\"stale\"")], Vec::new()),
            &[412],
        ),
        row(
            "DELETE a card that does not exist",
            req("DELETE", &format!("{BOOK}ghost.vcf"), &[], Vec::new()),
            &[404],
        ),
        row(
            "DELETE the default book (DESIGN.md: 403)",
            req("DELETE", BOOK, &[], Vec::new()),
            &[403],
        ),
        row(
            "MOVE without Destination (400)",
            req("MOVE", CARD, &[], Vec::new()),
            &[400],
        ),
        row(
            "MOVE to another server (RFC 4918 §9.9.4: 502)",
            req(
                "MOVE",
                CARD,
                &[(
                    "Destination",
                    "http://evil.example/dav/addressbooks/alice/contacts/x.vcf",
                )],
                Vec::new(),
            ),
            &[502, 403, 400],
        ),
        row(
            "MOVE to a traversal destination",
            req(
                "MOVE",
                CARD,
                &[(
                    "Destination",
                    "/dav/addressbooks/alice/contacts/../../bob/contacts/x.vcf",
                )],
                Vec::new(),
            ),
            &[400, 403],
        ),
        row(
            "MOVE inside the book with Overwrite: maybe (renames are 403 first)",
            req(
                "MOVE",
                CARD,
                &[
                    ("Destination", "/dav/addressbooks/alice/contacts/y.vcf"),
                    ("Overwrite", "maybe"),
                ],
                Vec::new(),
            ),
            &[400, 403],
        ),
    ]
}

/// Methods the server does not implement, on every kind of resource.
pub fn method_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for m in [
        "LOCK", "UNLOCK", "TRACE", "PATCH", "POST", "SEARCH", "ACL", "BIND",
    ] {
        rows.push(row(
            format!("{m} on a card (405 or 501)"),
            req(m, CARD, &[], Vec::new()),
            &[405, 501],
        ));
    }
    rows.push(row(
        "MKCOL on an existing book (RFC 4918 §9.3.1: 405)",
        req("MKCOL", BOOK, &[], Vec::new()),
        &[405, 403],
    ));
    rows.push(row(
        "MKCOL with intermediate collections missing (409)",
        req("MKCOL", "/dav/addressbooks/alice/a/b/", &[], Vec::new()),
        &[409, 404, 403],
    ));
    rows
}
