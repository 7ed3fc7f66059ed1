//! The whole bridge as a CardDAV client meets it: libdav 0.11 (pimsync's client
//! library) over real TCP and Basic auth against `server` → `dav` → `bridge` → the
//! Graph client → the Graph emulator, built by the same composition root as `serve`.
//!
//! Covers issue 6's "done when": discovery, book listing, Depth-1 PROPFIND, multiget,
//! sync-collection initial and after Outlook-side edit / create / delete; plus writes
//! reaching Graph, isolation between two users and 3.0/4.0 negotiation.

use cardbridge::app::{Stack, StackParts, start_stack};
use cardbridge::bridge::{Account, BridgeConfig, StaticAccounts};
use cardbridge::emulator::{EmulatorConfig, EmulatorHandle};
use cardbridge::graph::{GraphClient, GraphClientOptions, Mailbox, StaticToken};
use cardbridge::server::{ServerOptions, UserStore};
use cardbridge::state::MemoryStore;
use http::{Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use libdav::CardDavClient;
use libdav::carddav::{FindAddressBookHomeSet, FindAddressBooks, GetAddressBookResources};
use libdav::dav::{Delete, ListResources, PutResource, SyncCollection, WebDavClient};
use libdav::sd::DiscoverableService;
use secrecy::SecretString;
use std::sync::Arc;

type Http = tower_http::auth::AddAuthorization<
    hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, String>,
>;

fn http(user: &str, password: &str) -> Http {
    let client = Client::builder(TokioExecutor::new()).build_http::<String>();
    tower_http::auth::AddAuthorization::basic(client, user, password)
}

struct World {
    emu: EmulatorHandle,
    alice_mailbox: String,
    stack: Stack,
    port: u16,
}

fn graph_client(emu: &EmulatorHandle, token: String) -> GraphClient {
    let _ = rustls::crypto::ring::default_provider().install_default();
    GraphClient::new(
        GraphClientOptions {
            graph_root: emu.base_url(),
            ..GraphClientOptions::default()
        },
        Arc::new(StaticToken::new(token)),
    )
    .unwrap()
}

/// Alice reads the seeded mailbox, Bob an empty one of his own.
async fn world(contacts: usize) -> World {
    let emu = cardbridge::emulator::start(EmulatorConfig {
        throttle: false,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let alice_mailbox = emu.default_user();
    emu.seed_sample(&alice_mailbox, contacts, 11);
    let bob_mailbox = emu.add_user("bob@cardbridge.test");

    let store = Arc::new(MemoryStore::new());
    let users = UserStore::new(store.clone());
    users
        .add_user("alice", &SecretString::from("alice-pw"))
        .unwrap();
    users
        .add_user("bob", &SecretString::from("bob-pw"))
        .unwrap();
    let account = |key: &str, token: String| Account {
        key: key.into(),
        client: graph_client(&emu, token),
        mailbox: Mailbox::Me,
        display_name: key.into(),
    };
    let accounts = StaticAccounts::new()
        .with("alice", account("alice", emu.default_token()))
        .with("bob", account("bob", emu.mint_token(&bob_mailbox)));
    let stack = start_stack(StackParts {
        store,
        // Freshness 0: every read asks Graph for changes, so Outlook edits show at once.
        bridge: BridgeConfig {
            freshness_secs: 0,
            ..BridgeConfig::default()
        },
        accounts: Arc::new(accounts),
        server: ServerOptions::loopback(0),
        users,
        max_resource_size: 1 << 20,
        web: None,
    })
    .await
    .unwrap();
    stack.readiness.set_ready(true);
    let port = stack.server.local_addr().port();
    World {
        emu,
        alice_mailbox,
        stack,
        port,
    }
}

fn client(w: &World, user: &str, password: &str) -> CardDavClient<Http> {
    let base: Uri = format!("http://127.0.0.1:{}/", w.port).parse().unwrap();
    CardDavClient::new(WebDavClient::new(base, http(user, password)))
}

fn vcard(uid: &str, given: &str, family: &str) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{given} {family}\r\nN:{family};{given};;;\r\nEMAIL;TYPE=INTERNET,WORK:{given}@example.org\r\nX-CUSTOM-THING:kept as written\r\nEND:VCARD\r\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_listing_multiget_and_sync_see_the_outlook_mailbox() {
    let w = world(60).await;
    let alice = client(&w, "alice", "alice-pw");

    // RFC 6764 well-known → context path, then principal and home set.
    let ctx = alice
        .find_context_path(DiscoverableService::CardDav, "127.0.0.1", w.port)
        .await
        .unwrap()
        .expect("context path");
    let alice = CardDavClient::bootstrap_via_service_discovery(WebDavClient::new(
        ctx,
        http("alice", "alice-pw"),
    ))
    .await
    .unwrap();
    let principal = alice.find_current_user_principal().await.unwrap().unwrap();
    assert_eq!(principal.path(), "/dav/principals/alice/");
    let home = alice
        .request(FindAddressBookHomeSet::new(principal.path()))
        .await
        .unwrap()
        .home_sets
        .remove(0);
    let books = alice
        .request(FindAddressBooks::new(home.path()))
        .await
        .unwrap()
        .addressbooks;
    // Every Outlook folder is a book, the default Contacts folder first.
    let folders = w.emu.folders(&w.alice_mailbox);
    assert_eq!(books.len(), folders.len());
    assert_eq!(books[0].href, "/dav/addressbooks/alice/contacts/");
    assert!(books.iter().all(|b| b.supports_sync));

    // Depth-1 PROPFIND of every book lists every contact once, with an ETag.
    let mut total = 0;
    for b in &books {
        let listed = alice
            .request(ListResources::new(&b.href))
            .await
            .unwrap()
            .resources;
        assert!(listed.iter().all(|r| r.etag.is_some()));
        total += listed.len();
    }
    assert_eq!(total, w.emu.contact_count(&w.alice_mailbox));

    // Multiget of the whole default book returns vCards with the listed ETags.
    let book = "/dav/addressbooks/alice/contacts/";
    let listed = alice
        .request(ListResources::new(book))
        .await
        .unwrap()
        .resources;
    let hrefs: Vec<&str> = listed.iter().map(|r| r.href.as_str()).collect();
    let got = alice
        .request(GetAddressBookResources::new(book).with_hrefs(hrefs.iter().copied()))
        .await
        .unwrap()
        .resources;
    assert_eq!(got.len(), listed.len());
    for r in &got {
        let content = r.content.as_ref().expect("every listed card is served");
        assert!(content.data.starts_with("BEGIN:VCARD"));
        let etag = listed
            .iter()
            .find(|l| l.href == r.href)
            .unwrap()
            .etag
            .clone();
        assert_eq!(Some(content.etag.clone()), etag);
    }

    // Initial sync-collection = every member; then Outlook edits, creates, deletes.
    let s0 = alice.request(SyncCollection::new(book)).await.unwrap();
    assert_eq!(s0.changed.len(), listed.len());
    let default_folder = w.emu.default_folder_id(&w.alice_mailbox);
    // Two cards of the default book: one to edit in Outlook, one to delete there.
    let ids: Vec<String> = got.iter().take(2).map(|r| r.href.clone()).collect();
    // Their Graph ids, found by display name (the sample names are distinct).
    let (edited_href, deleted_href) = (&ids[0], &ids[1]);
    let graph_id_of = |href: &str| -> String {
        let data = &got
            .iter()
            .find(|r| r.href == href)
            .unwrap()
            .content
            .as_ref()
            .unwrap()
            .data;
        let fname = data
            .lines()
            .find_map(|l| l.strip_prefix("FN:"))
            .unwrap()
            .to_owned();
        find_by_display_name(&w, &default_folder, &fname)
    };
    let edited_id = graph_id_of(edited_href);
    let deleted_id = graph_id_of(deleted_href);
    w.emu.outlook_edit(
        &w.alice_mailbox,
        &edited_id,
        serde_json::json!({"jobTitle": "Edited in Outlook"}),
    );
    w.emu.outlook_delete(&w.alice_mailbox, &deleted_id);
    w.emu.outlook_create(
        &w.alice_mailbox,
        &default_folder,
        serde_json::json!({"givenName": "Nova", "surname": "Created", "displayName": "Nova Created"}),
    );
    let s1 = alice
        .request(SyncCollection::new(book).with_sync_token(&s0.new_sync_token))
        .await
        .unwrap();
    assert_eq!(s1.deleted, vec![deleted_href.clone()]);
    assert_eq!(s1.changed.len(), 2, "the edited and the created card");
    assert!(s1.changed.iter().any(|c| &c.href == edited_href));
    let edited = alice
        .request(GetAddressBookResources::new(book).with_hrefs([edited_href.as_str()]))
        .await
        .unwrap()
        .resources;
    let data = &edited[0].content.as_ref().unwrap().data;
    assert!(data.contains("TITLE:Edited in Outlook"), "{data}");
    w.stack.shutdown().await;
    w.emu.shutdown().await;
}

/// The emulator's id of the contact with this display name in a folder.
fn find_by_display_name(w: &World, folder: &str, name: &str) -> String {
    let url = format!(
        "{}/me/contactFolders/{folder}/contacts?$top=1000&$select=displayName",
        w.emu.graph_url()
    );
    let token = w.emu.default_token();
    let body: serde_json::Value = std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                reqwest::Client::new()
                    .get(&url)
                    .bearer_auth(&token)
                    .header("Prefer", "IdType=\"ImmutableId\"")
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap()
            })
        })
        .join()
        .unwrap()
    });
    body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["displayName"] == name)
        .and_then(|c| c["id"].as_str())
        .unwrap_or_else(|| panic!("no contact named {name}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_reach_graph_and_users_are_isolated() {
    let w = world(5).await;
    let alice = client(&w, "alice", "alice-pw");
    let book = "/dav/addressbooks/alice/contacts/";
    let href = "/dav/addressbooks/alice/contacts/client-chosen-name.vcf";
    let before = w.emu.contact_count(&w.alice_mailbox);

    // Create: Graph holds the contact before the client hears 201.
    let etag1 = alice
        .request(PutResource::new(href).create(vcard("uid-1", "Ada", "Lovelace"), "text/vcard"))
        .await
        .unwrap()
        .etag
        .expect("PUT returns the new ETag");
    assert_eq!(w.emu.contact_count(&w.alice_mailbox), before + 1);

    // What was PUT comes back, property for property (the X- property included).
    let got = alice
        .request(GetAddressBookResources::new(book).with_hrefs([href]))
        .await
        .unwrap()
        .resources;
    let content = got[0].content.as_ref().unwrap();
    assert_eq!(content.etag, etag1);
    assert!(content.data.contains("X-CUSTOM-THING:kept as written"));
    assert!(content.data.contains("UID:uid-1"));

    // Update with the ETag; a stale one is refused and Graph keeps the newer version.
    let etag2 = alice
        .request(PutResource::new(href).update(
            vcard("uid-1", "Ada", "King"),
            "text/vcard",
            etag1.clone(),
        ))
        .await
        .unwrap()
        .etag
        .unwrap();
    assert_ne!(etag1, etag2);
    assert!(
        alice
            .request(PutResource::new(href).update(
                vcard("uid-1", "Ada", "Stale"),
                "text/vcard",
                etag1
            ))
            .await
            .is_err()
    );

    // Isolation: Bob's credentials see none of Alice's paths (404), and his own home
    // lists only his mailbox's default book.
    let bob = client(&w, "bob", "bob-pw");
    for path in [
        href,
        book,
        "/dav/addressbooks/alice/",
        "/dav/principals/alice/",
    ] {
        let req = Request::builder()
            .method("PROPFIND")
            .uri(format!("http://127.0.0.1:{}{path}", w.port))
            .header("Depth", "0")
            .body(String::new())
            .unwrap();
        let (head, _) = bob.request_raw(req).await.unwrap();
        assert_eq!(head.status, StatusCode::NOT_FOUND, "{path}");
    }
    let bob_books = bob
        .request(FindAddressBooks::new("/dav/addressbooks/bob/"))
        .await
        .unwrap()
        .addressbooks;
    assert_eq!(bob_books.len(), 1);
    assert!(
        bob.request(ListResources::new(&bob_books[0].href))
            .await
            .unwrap()
            .resources
            .is_empty()
    );

    // vCard 3.0 by default, 4.0 when asked for.
    for (accept, version) in [
        (None, "VERSION:3.0"),
        (Some("text/vcard; version=4.0"), "VERSION:4.0"),
    ] {
        let mut req = Request::builder().uri(format!("http://127.0.0.1:{}{href}", w.port));
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        let (head, body) = alice
            .request_raw(req.body(String::new()).unwrap())
            .await
            .unwrap();
        assert_eq!(head.status, StatusCode::OK);
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains(version), "{accept:?}: {text}");
    }

    // Delete with the current ETag removes it from Graph.
    alice
        .request(Delete::new(href).with_etag(etag2))
        .await
        .unwrap();
    assert_eq!(w.emu.contact_count(&w.alice_mailbox), before);
    w.stack.shutdown().await;
    w.emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_and_cards_may_have_any_name_a_client_chooses() {
    // vdirsyncer's test_specialchars / test_newline_in_uid: names with spaces, `@`,
    // non-ASCII letters and a newline are percent-encoded in hrefs, not refused.
    let w = world(0).await;
    let alice = client(&w, "alice", "alice-pw");
    let book = "/dav/addressbooks/alice/test%20%40%20foo%20%C3%A4t%20bar/";
    alice
        .request(libdav::carddav::CreateAddressBook::new(book).with_display_name("Spécial"))
        .await
        .unwrap();
    let books = alice
        .request(FindAddressBooks::new("/dav/addressbooks/alice/"))
        .await
        .unwrap()
        .addressbooks;
    assert!(
        books
            .iter()
            .any(|b| b.href == "/dav/addressbooks/alice/test @ foo ät bar/"),
        "{:?}",
        books.iter().map(|b| &b.href).collect::<Vec<_>>()
    );
    let folders = w.emu.folders(&w.alice_mailbox);
    assert!(
        folders
            .iter()
            .any(|f| f.display_name.as_deref() == Some("Spécial"))
    );

    let href = "/dav/addressbooks/alice/test%20@%20foo%20%C3%A4t%20bar/uid-with%0Anewline.vcf";
    let etag = alice
        .request(
            PutResource::new(href)
                .create(vcard("uid-with\\nnewline", "Nina", "Newline"), "text/vcard"),
        )
        .await
        .unwrap()
        .etag
        .expect("an ETag");
    let listed = alice
        .request(ListResources::new(
            "/dav/addressbooks/alice/test%20@%20foo%20%C3%A4t%20bar/",
        ))
        .await
        .unwrap()
        .resources;
    // libdav decodes hrefs (and so keeps the collection itself in this listing).
    let cards: Vec<_> = listed
        .iter()
        .filter(|r| !r.resource_type.is_collection)
        .collect();
    assert_eq!(cards.len(), 1, "{listed:?}");
    assert_eq!(
        cards[0].href,
        "/dav/addressbooks/alice/test @ foo ät bar/uid-with\nnewline.vcf"
    );
    assert_eq!(cards[0].etag.as_deref(), Some(etag.as_str()));
    w.stack.shutdown().await;
    w.emu.shutdown().await;
}

/// A multistatus is gzip-coded for a client that accepts gzip (DAVx5, Apple and
/// Thunderbird do), and decodes to exactly the identity answer; a client that does not
/// ask gets identity. (libdav itself asks for no coding, so the tests above read identity.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multistatus_is_gzip_coded_for_clients_that_accept_it() {
    use std::io::Read;
    let w = world(300).await;
    let url = format!(
        "http://127.0.0.1:{}/dav/addressbooks/alice/contacts/",
        w.port
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let c = reqwest::Client::new();
    let propfind = |accept: Option<&'static str>| {
        let mut r = c
            .request(reqwest::Method::from_bytes(b"PROPFIND").unwrap(), &url)
            .basic_auth("alice", Some("alice-pw"))
            .header("Depth", "1");
        if let Some(a) = accept {
            r = r.header("Accept-Encoding", a);
        }
        r.send()
    };
    let plain = propfind(None).await.unwrap();
    assert_eq!(plain.status(), 207);
    assert!(plain.headers().get("content-encoding").is_none());
    let plain = plain.bytes().await.unwrap();
    let coded = propfind(Some("gzip, deflate, br")).await.unwrap();
    assert_eq!(coded.status(), 207);
    assert_eq!(coded.headers()["content-encoding"], "gzip");
    assert_eq!(coded.headers()["vary"], "Accept-Encoding");
    let coded = coded.bytes().await.unwrap();
    assert!(
        coded.len() * 3 < plain.len(),
        "{} of {} bytes",
        coded.len(),
        plain.len()
    );
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&coded[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, plain);
    let refused = propfind(Some("gzip;q=0")).await.unwrap();
    assert!(refused.headers().get("content-encoding").is_none());
    w.stack.shutdown().await;
    w.emu.shutdown().await;
}
