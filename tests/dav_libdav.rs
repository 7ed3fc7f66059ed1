//! libdav 0.11 (pimsync's CardDAV client) as a real client against `Dav<MemoryBooks>`
//! served by a minimal hyper server with a trivial Basic check: discovery (RFC 6764
//! well-known, RFC 5397 principal, RFC 6352 §7.1.1 home set, address books), PUT
//! (create, update with ETag), GET, multiget, listing, sync-collection, DELETE, MKCOL.

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use cardbridge::dav::testing::MemoryBooks;
use cardbridge::dav::{Dav, DavOptions};
use http::{Request, StatusCode, Uri};
use http_body_util::BodyExt;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use libdav::CardDavClient;
use libdav::carddav::{
    CreateAddressBook, FindAddressBookHomeSet, FindAddressBooks, GetAddressBookResources,
};
use libdav::dav::{Delete, ListResources, PutResource, SyncCollection, WebDavClient};
use libdav::sd::DiscoverableService;

const USER: &str = "alice";
const PASSWORD: &str = "secret";

/// Serve `dav` on a loopback port; Basic credentials alice:secret.
async fn serve(dav: Arc<Dav<MemoryBooks>>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let dav = dav.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                    let dav = dav.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        let user = authenticated(&parts);
                        if user.is_none() && dav.needs_auth(&parts) {
                            let mut r = http::Response::new(
                                http_body_util::Full::new(Bytes::new())
                                    .map_err(|never| match never {})
                                    .boxed(),
                            );
                            *r.status_mut() = StatusCode::UNAUTHORIZED;
                            r.headers_mut()
                                .insert("www-authenticate", "Basic realm=\"t\"".parse().unwrap());
                            return Ok::<_, std::convert::Infallible>(r);
                        }
                        let req = Request::from_parts(parts, body);
                        Ok(dav.handle(user.as_deref(), req).await)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

fn authenticated(parts: &http::request::Parts) -> Option<String> {
    let h = parts.headers.get("authorization")?.to_str().ok()?;
    let b64 = h.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let (u, p) = std::str::from_utf8(&raw).ok()?.split_once(':')?;
    (p == PASSWORD).then(|| u.to_owned())
}

type Http = tower_http::auth::AddAuthorization<
    hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, String>,
>;

fn http_client() -> Http {
    let client = Client::builder(TokioExecutor::new()).build_http::<String>();
    tower_http::auth::AddAuthorization::basic(client, USER, PASSWORD)
}

struct Env {
    store: Arc<MemoryBooks>,
    addr: SocketAddr,
    client: CardDavClient<Http>,
}

async fn env() -> Env {
    let store = Arc::new(MemoryBooks::with_user(USER));
    store.add_book(USER, "family", "Family", false);
    let dav = Arc::new(Dav::new(store.clone(), DavOptions::default()));
    let addr = serve(dav).await;
    let base: Uri = format!("http://{addr}/").parse().unwrap();
    let client = CardDavClient::new(WebDavClient::new(base, http_client()));
    Env {
        store,
        addr,
        client,
    }
}

fn vcard(uid: &str, name: &str) -> String {
    format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nN:{name};;;;\r\nEND:VCARD\r\n")
}

#[tokio::test]
async fn discovery_well_known_principal_home_set_and_books() {
    let e = env().await;
    // RFC 6764 §5: libdav GETs the well-known URI and follows the redirect.
    let ctx = e
        .client
        .find_context_path(DiscoverableService::CardDav, "127.0.0.1", e.addr.port())
        .await
        .unwrap()
        .expect("a context path");
    assert_eq!(ctx.path(), "/dav/");

    // Bootstrap checks OPTIONS for `addressbook` on the base URL.
    let web = WebDavClient::new(ctx.clone(), http_client());
    let client = CardDavClient::bootstrap_via_service_discovery(web)
        .await
        .unwrap();
    assert_eq!(client.base_url().path(), "/dav/");

    let principal = client.find_current_user_principal().await.unwrap().unwrap();
    assert_eq!(principal.path(), "/dav/principals/alice/");
    let homes = client
        .request(FindAddressBookHomeSet::new(principal.path()))
        .await
        .unwrap()
        .home_sets;
    assert_eq!(homes.len(), 1);
    assert_eq!(homes[0].path(), "/dav/addressbooks/alice/");
    let books = client
        .request(FindAddressBooks::new(homes[0].path()))
        .await
        .unwrap()
        .addressbooks;
    let hrefs: Vec<&str> = books.iter().map(|b| b.href.as_str()).collect();
    assert_eq!(
        hrefs,
        vec![
            "/dav/addressbooks/alice/contacts/",
            "/dav/addressbooks/alice/family/"
        ]
    );
    assert!(books.iter().all(|b| b.supports_sync));
}

#[tokio::test]
async fn put_get_update_multiget_list_sync_delete() {
    let e = env().await;
    let book = "/dav/addressbooks/alice/contacts/";
    let href = "/dav/addressbooks/alice/contacts/a1.vcf";

    // Initial sync of an empty book.
    let s0 = e.client.request(SyncCollection::new(book)).await.unwrap();
    assert!(s0.changed.is_empty() && s0.deleted.is_empty());

    // Create (If-None-Match: *) returns the ETag.
    let created = e
        .client
        .request(PutResource::new(href).create(vcard("a1", "Ann"), "text/vcard"))
        .await
        .unwrap();
    let etag1 = created.etag.expect("PUT returns an ETag");
    // Creating again must fail: the card exists.
    assert!(
        e.client
            .request(PutResource::new(href).create(vcard("a1", "Ann"), "text/vcard"))
            .await
            .is_err()
    );

    // Multiget gives back the same bytes and ETag.
    let got = e
        .client
        .request(
            GetAddressBookResources::new(book)
                .with_hrefs([href, "/dav/addressbooks/alice/contacts/none.vcf"]),
        )
        .await
        .unwrap()
        .resources;
    assert_eq!(got.len(), 2);
    let content = got
        .iter()
        .find(|r| r.href == href)
        .unwrap()
        .content
        .as_ref()
        .unwrap();
    assert_eq!(content.data, vcard("a1", "Ann"));
    assert_eq!(content.etag, etag1);
    let missing = got.iter().find(|r| r.href != href).unwrap();
    assert_eq!(missing.content, Err(StatusCode::NOT_FOUND));

    // Update with the ETag; a stale ETag is refused.
    let updated = e
        .client
        .request(PutResource::new(href).update(vcard("a1", "Ann B"), "text/vcard", etag1.clone()))
        .await
        .unwrap();
    let etag2 = updated.etag.unwrap();
    assert_ne!(etag1, etag2);
    assert!(
        e.client
            .request(PutResource::new(href).update(
                vcard("a1", "Ann C"),
                "text/vcard",
                etag1.clone()
            ))
            .await
            .is_err()
    );

    // Depth-1 listing has the member with its ETag.
    let listed = e
        .client
        .request(ListResources::new(book))
        .await
        .unwrap()
        .resources;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].href, href);
    assert_eq!(listed[0].etag.as_deref(), Some(etag2.as_str()));

    // Delta sync: one changed.
    let s1 = e
        .client
        .request(SyncCollection::new(book).with_sync_token(&s0.new_sync_token))
        .await
        .unwrap();
    assert_eq!(s1.changed.len(), 1);
    assert_eq!(s1.changed[0].href, href);
    assert_eq!(s1.changed[0].etag.as_deref(), Some(etag2.as_str()));

    // GET through the raw client.
    let req = Request::builder()
        .uri(format!("http://{}{href}", e.addr))
        .body(String::new())
        .unwrap();
    let (head, body) = e.client.request_raw(req).await.unwrap();
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(body, Bytes::from(vcard("a1", "Ann B")));

    // Delete with a stale ETag fails, with the current one succeeds.
    assert!(
        e.client
            .request(Delete::new(href).with_etag(etag1))
            .await
            .is_err()
    );
    e.client
        .request(Delete::new(href).with_etag(etag2))
        .await
        .unwrap();
    assert!(e.store.card_names(USER, "contacts").is_empty());

    // Delta sync: one deleted.
    let s2 = e
        .client
        .request(SyncCollection::new(book).with_sync_token(&s1.new_sync_token))
        .await
        .unwrap();
    assert!(s2.changed.is_empty());
    assert_eq!(s2.deleted, vec![href.to_owned()]);

    // An unknown token is reported as such.
    let bad = e
        .client
        .request(SyncCollection::new(book).with_sync_token("urn:not-ours"))
        .await;
    assert!(
        format!("{:?}", bad.unwrap_err())
            .to_lowercase()
            .contains("sync-token")
    );
}

#[tokio::test]
async fn sync_sees_edits_made_outside_the_client() {
    let e = env().await;
    let book = "/dav/addressbooks/alice/family/";
    e.store
        .insert_card(USER, "family", "x.vcf", vcard("x", "X"))
        .unwrap();
    let s0 = e.client.request(SyncCollection::new(book)).await.unwrap();
    assert_eq!(s0.changed.len(), 1);
    e.store
        .insert_card(USER, "family", "x.vcf", vcard("x", "X edited in Outlook"))
        .unwrap();
    e.store
        .insert_card(USER, "family", "y.vcf", vcard("y", "Y"))
        .unwrap();
    let s1 = e
        .client
        .request(SyncCollection::new(book).with_sync_token(&s0.new_sync_token))
        .await
        .unwrap();
    let mut hrefs: Vec<&str> = s1.changed.iter().map(|r| r.href.as_str()).collect();
    hrefs.sort();
    assert_eq!(
        hrefs,
        vec![
            "/dav/addressbooks/alice/family/x.vcf",
            "/dav/addressbooks/alice/family/y.vcf"
        ]
    );
}

#[tokio::test]
async fn mkcol_creates_an_address_book_that_is_then_listed() {
    let e = env().await;
    e.client
        .request(CreateAddressBook::new("/dav/addressbooks/alice/work/").with_display_name("Work"))
        .await
        .unwrap();
    let books = e
        .client
        .request(FindAddressBooks::new("/dav/addressbooks/alice/"))
        .await
        .unwrap()
        .addressbooks;
    assert_eq!(books.len(), 3);
    assert_eq!(books[2].href, "/dav/addressbooks/alice/work/");
    // And a card can be put there.
    e.client
        .request(
            PutResource::new("/dav/addressbooks/alice/work/w.vcf")
                .create(vcard("w", "W"), "text/vcard"),
        )
        .await
        .unwrap();
    assert_eq!(e.store.card_names(USER, "work"), vec!["w.vcf"]);
}
