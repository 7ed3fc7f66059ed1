//! Group cards through the whole stack over TCP (issue 7 item 5, "group cards both
//! ways"): the requests Apple Contacts (vCard 3.0 `X-ADDRESSBOOKSERVER-KIND:group` +
//! `X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:…`, clients.md §2.3) and DAVx5 in group-vCard mode
//! (4.0 `KIND:group` + `MEMBER`, clients.md §3.3–3.4) send, against `server` → `dav` →
//! `bridge` → Graph client → emulator, built by `start_stack` like `serve`.
//!
//! Every check of membership is made against the emulator's Graph `categories`, the
//! truth: the served group card lists exactly the contacts carrying the category, and
//! group-card writes end as category edits on exactly the named contacts.

use cardbridge::app::{Stack, StackParts, start_stack};
use cardbridge::bridge::groups::derived_name;
use cardbridge::bridge::{Account, BridgeConfig, StaticAccounts};
use cardbridge::emulator::{EmulatorConfig, EmulatorHandle};
use cardbridge::graph::{GraphClient, GraphClientOptions, Mailbox, StaticToken};
use cardbridge::server::{ServerOptions, UserStore};
use cardbridge::state::MemoryStore;
use http::{Request, StatusCode, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use libdav::CardDavClient;
use libdav::carddav::GetAddressBookResources;
use libdav::dav::{ListResources, SyncCollection, WebDavClient};
use secrecy::SecretString;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

type Http = tower_http::auth::AddAuthorization<
    hyper_util::client::legacy::Client<hyper_util::client::legacy::connect::HttpConnector, String>,
>;

const BOOK: &str = "/dav/addressbooks/alice/contacts/";

struct World {
    emu: EmulatorHandle,
    mailbox: String,
    stack: Stack,
    port: u16,
    /// Graph id of each seeded contact, by given name.
    ids: BTreeMap<&'static str, String>,
}

fn http(user: &str, password: &str) -> Http {
    let client = Client::builder(TokioExecutor::new()).build_http::<String>();
    tower_http::auth::AddAuthorization::basic(client, user, password)
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

/// Alice (group cards on, by `group_card_users`) reads a mailbox with Ann (Friends,
/// Golf), Bob (Friends), Cy and Dee (none); Bob's user (option off) reads one contact
/// carrying a category.
async fn world() -> World {
    let emu = cardbridge::emulator::start(EmulatorConfig {
        throttle: false,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let mailbox = emu.default_user();
    let folder = emu.default_folder_id(&mailbox);
    let mut ids = BTreeMap::new();
    for (given, cats) in [
        ("Ann", json!(["Friends", "Golf"])),
        ("Bob", json!(["Friends"])),
        ("Cy", json!([])),
        ("Dee", json!([])),
    ] {
        let id = emu.outlook_create(
            &mailbox,
            &folder,
            json!({"givenName": given, "surname": "Test", "displayName": format!("{given} Test"), "categories": cats}),
        );
        ids.insert(given, id);
    }
    let bob_mailbox = emu.add_user("bob@cardbridge.test");
    emu.outlook_create(
        &bob_mailbox,
        &emu.default_folder_id(&bob_mailbox),
        json!({"givenName": "Eve", "surname": "Other", "categories": ["Friends"]}),
    );

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
        bridge: BridgeConfig {
            freshness_secs: 0,
            group_card_users: vec!["alice".into()],
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
        mailbox,
        stack,
        port,
        ids,
    }
}

impl World {
    fn client(&self, user: &str, password: &str) -> CardDavClient<Http> {
        let base: Uri = format!("http://127.0.0.1:{}/", self.port).parse().unwrap();
        CardDavClient::new(WebDavClient::new(base, http(user, password)))
    }

    /// The Graph categories of a seeded contact.
    fn categories(&self, given: &str) -> BTreeSet<String> {
        let c = self
            .emu
            .contact(&self.mailbox, &self.ids[given])
            .unwrap_or_else(|| panic!("{given} still exists in Graph"));
        c["categories"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Given names of the seeded contacts whose Graph categories contain `category`.
    fn carrying(&self, category: &str) -> BTreeSet<&'static str> {
        self.ids
            .keys()
            .copied()
            .filter(|g| self.categories(g).contains(category))
            .collect()
    }

    async fn shutdown(self) {
        self.stack.shutdown().await;
        self.emu.shutdown().await;
    }
}

/// Every card of the book: href → body (3.0), by listing + multiget.
async fn all_cards(c: &CardDavClient<Http>) -> BTreeMap<String, String> {
    let listed = c.request(ListResources::new(BOOK)).await.unwrap().resources;
    let hrefs: Vec<&str> = listed.iter().map(|r| r.href.as_str()).collect();
    c.request(GetAddressBookResources::new(BOOK).with_hrefs(hrefs.iter().copied()))
        .await
        .unwrap()
        .resources
        .into_iter()
        .map(|r| {
            let data = r.content.expect("every listed card is served").data;
            (r.href, data)
        })
        .collect()
}

fn prop<'a>(card: &'a str, name: &str) -> Vec<&'a str> {
    card.lines()
        .filter_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(str::trim)
        .collect()
}

/// UID of each seeded contact as served, by given name (from `FN:<given> Test`).
fn uids(cards: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    cards
        .values()
        .filter_map(|c| {
            let given = prop(c, "FN").first()?.strip_suffix(" Test")?.to_owned();
            Some((given, prop(c, "UID")[0].to_owned()))
        })
        .collect()
}

/// Member UIDs of a group card in either dialect.
fn members(card: &str) -> BTreeSet<String> {
    prop(card, "X-ADDRESSBOOKSERVER-MEMBER")
        .into_iter()
        .chain(prop(card, "MEMBER"))
        .map(|m| m.strip_prefix("urn:uuid:").unwrap_or(m).to_owned())
        .collect()
}

/// Send one raw request; returns status, ETag header and body.
async fn send(
    c: &CardDavClient<Http>,
    port: u16,
    method: &str,
    href: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (StatusCode, Option<String>, String) {
    let mut req = Request::builder()
        .method(method)
        .uri(format!("http://127.0.0.1:{port}{href}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let (head, bytes) = c
        .request_raw(req.body(body.to_owned()).unwrap())
        .await
        .unwrap();
    let etag = head
        .headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        head.status,
        etag,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn apple_group(name: &str, uid: &str, member_uids: &[&str]) -> String {
    let mut s = format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//AddressBook 9.0//EN\r\nN:{name};;;;\r\nFN:{name}\r\nX-ADDRESSBOOKSERVER-KIND:group\r\n"
    );
    for m in member_uids {
        s.push_str(&format!("X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:{m}\r\n"));
    }
    s.push_str(&format!("UID:{uid}\r\nEND:VCARD\r\n"));
    s
}

fn davx5_group(name: &str, uid: &str, member_uids: &[&str]) -> String {
    let mut s = format!(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nPRODID:DAVx5/4.4\r\nUID:{uid}\r\nKIND:group\r\nFN:{name}\r\n"
    );
    for m in member_uids {
        s.push_str(&format!("MEMBER:urn:uuid:{m}\r\n"));
    }
    s.push_str("END:VCARD\r\n");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeded_categories_are_listed_and_served_with_their_graph_members() {
    let w = world().await;
    let alice = w.client("alice", "alice-pw");
    let cards = all_cards(&alice).await;
    let uid = uids(&cards);
    assert_eq!(uid.len(), 4, "the four contacts: {cards:?}");

    // The listing holds the four contacts and one group card per seeded category.
    let groups: BTreeMap<&String, &String> = cards
        .iter()
        .filter(|(_, c)| c.contains("\r\nX-ADDRESSBOOKSERVER-KIND:group\r\n"))
        .collect();
    assert_eq!(cards.len(), 6, "{:?}", cards.keys());
    let names: BTreeSet<&str> = groups.values().map(|c| prop(c, "FN")[0]).collect();
    assert_eq!(names, BTreeSet::from(["Friends", "Golf"]));

    // Each group card lists exactly the contacts whose Graph categories hold it.
    for category in ["Friends", "Golf"] {
        let href = format!("{BOOK}{}", derived_name(category));
        let card = &cards[&href];
        assert!(card.contains("\r\nVERSION:3.0\r\n"), "{card}");
        let want: BTreeSet<String> = w
            .carrying(category)
            .iter()
            .map(|g| uid[*g].clone())
            .collect();
        assert!(!want.is_empty());
        assert_eq!(members(card), want, "{category}: {card}");

        // A plain GET: 3.0 by default, 4.0 (`KIND` / `MEMBER`) when DAVx5 asks for it.
        let (status, etag3, v3) = send(&alice, w.port, "GET", &href, &[], "").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&v3, card);
        let (status, etag4, v4) = send(
            &alice,
            w.port,
            "GET",
            &href,
            &[("Accept", "text/vcard; version=4.0")],
            "",
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(v4.contains("\r\nKIND:group\r\n"), "{v4}");
        assert!(!v4.contains("X-ADDRESSBOOKSERVER"), "{v4}");
        assert_eq!(members(&v4), want);
        assert!(etag3.is_some() && etag4.is_some() && etag3 != etag4);
    }

    // Bob's user has no group cards: his one contact only, its category kept as CATEGORIES.
    let bob = w.client("bob", "bob-pw");
    let bob_cards = bob
        .request(ListResources::new("/dav/addressbooks/bob/contacts/"))
        .await
        .unwrap()
        .resources;
    assert_eq!(bob_cards.len(), 1);
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_card_writes_from_apple_and_davx5_edit_graph_categories() {
    let w = world().await;
    let alice = w.client("alice", "alice-pw");
    let uid = uids(&all_cards(&alice).await);
    let count = w.emu.contact_count(&w.mailbox);

    // Apple creates a group: a 3.0 card at a random uppercase `UUID.vcf` with its own UID.
    let apple_href = format!("{BOOK}6F1E0B5C-7D1A-4C8E-9D3B-2A7E4F0C1B9D.vcf");
    let body = apple_group("Climbing", "GROUP-UID-1", &[&uid["Cy"], &uid["Dee"]]);
    let (status, etag, _) = send(
        &alice,
        w.port,
        "PUT",
        &apple_href,
        &[
            ("Content-Type", "text/vcard; charset=utf-8"),
            ("If-None-Match", "*"),
        ],
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(w.carrying("Climbing"), BTreeSet::from(["Cy", "Dee"]));
    assert_eq!(
        w.categories("Ann"),
        BTreeSet::from(["Friends".into(), "Golf".into()])
    );
    assert_eq!(w.emu.contact_count(&w.mailbox), count, "no contact created");

    // Read back at the client's href, with the client's UID and the PUT's ETag.
    let (status, got_etag, got) = send(&alice, w.port, "GET", &apple_href, &[], "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(prop(&got, "UID"), ["GROUP-UID-1"]);
    assert_eq!(
        members(&got),
        BTreeSet::from([uid["Cy"].clone(), uid["Dee"].clone()])
    );
    // The served card is rendered from Graph (no PRODID, members sorted), so it is not
    // Apple's bytes and the PUT must not claim an ETag for them (RFC 6352 §6.3.2.3);
    // Apple re-reads after a PUT (clients.md §2.3) and uses the ETag it reads.
    assert_eq!(etag, None);
    let etag = got_etag.expect("GET answers an ETag");

    // Apple changes members with If-Match: Dee leaves, Ann joins.
    let body = apple_group("Climbing", "GROUP-UID-1", &[&uid["Cy"], &uid["Ann"]]);
    let (status, _, _) = send(
        &alice,
        w.port,
        "PUT",
        &apple_href,
        &[("Content-Type", "text/vcard"), ("If-Match", &etag)],
        &body,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(w.carrying("Climbing"), BTreeSet::from(["Ann", "Cy"]));
    // Ann's other categories are untouched.
    assert_eq!(
        w.categories("Ann"),
        BTreeSet::from(["Friends".into(), "Golf".into(), "Climbing".into()])
    );
    // The old ETag is stale now: 412, Graph untouched.
    let (status, _, _) = send(
        &alice,
        w.port,
        "PUT",
        &apple_href,
        &[("Content-Type", "text/vcard"), ("If-Match", &etag)],
        &apple_group("Climbing", "GROUP-UID-1", &[]),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(w.carrying("Climbing"), BTreeSet::from(["Ann", "Cy"]));

    // DAVx5 (group-vCard mode, 4.0) creates a group at `<UID>.vcf`, then edits the
    // members of a seeded one it read in 4.0.
    let davx5_href = format!("{BOOK}davx5-group-1.vcf");
    let (status, _, _) = send(
        &alice,
        w.port,
        "PUT",
        &davx5_href,
        &[
            ("Content-Type", "text/vcard; version=4.0"),
            ("If-None-Match", "*"),
        ],
        &davx5_group("Chess", "davx5-group-1", &[&uid["Bob"], &uid["Dee"]]),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(w.carrying("Chess"), BTreeSet::from(["Bob", "Dee"]));

    let friends = format!("{BOOK}{}", derived_name("Friends"));
    let (_, etag4, v4) = send(
        &alice,
        w.port,
        "GET",
        &friends,
        &[("Accept", "text/vcard; version=4.0")],
        "",
    )
    .await;
    let friends_uid = prop(&v4, "UID")[0].to_owned();
    let etag4 = etag4.unwrap();
    let (status, _, _) = send(
        &alice,
        w.port,
        "PUT",
        &friends,
        &[
            ("Content-Type", "text/vcard; version=4.0"),
            ("If-Match", &etag4),
        ],
        &davx5_group("Friends", &friends_uid, &[&uid["Bob"], &uid["Cy"]]),
    )
    .await;
    assert!(status.is_success(), "{status}");
    assert_eq!(w.carrying("Friends"), BTreeSet::from(["Bob", "Cy"]));
    assert!(!w.categories("Ann").contains("Friends"));

    // DELETE of a group: the category leaves its members, the contacts stay.
    let (status, _, _) = send(&alice, w.port, "DELETE", &apple_href, &[], "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(w.carrying("Climbing").is_empty());
    assert_eq!(w.emu.contact_count(&w.mailbox), count);
    assert_eq!(
        w.categories("Ann"),
        BTreeSet::from(["Golf".into()]),
        "Climbing gone, Friends left before, Golf kept"
    );
    let (status, _, _) = send(&alice, w.port, "GET", &apple_href, &[], "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The listing now shows the four contacts and Golf, Friends, Chess.
    let cards = all_cards(&alice).await;
    let names: BTreeSet<&str> = cards
        .values()
        .filter(|c| c.contains("X-ADDRESSBOOKSERVER-KIND:group"))
        .map(|c| prop(c, "FN")[0])
        .collect();
    assert_eq!(names, BTreeSet::from(["Chess", "Friends", "Golf"]));
    w.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_collection_reports_a_group_after_an_outlook_category_change() {
    let w = world().await;
    let alice = w.client("alice", "alice-pw");
    let s0 = alice.request(SyncCollection::new(BOOK)).await.unwrap();
    assert_eq!(s0.changed.len(), 6, "4 contacts + 2 groups");

    // In Outlook, Dee joins Golf.
    w.emu
        .outlook_edit(&w.mailbox, &w.ids["Dee"], json!({"categories": ["Golf"]}));
    let s1 = alice
        .request(SyncCollection::new(BOOK).with_sync_token(&s0.new_sync_token))
        .await
        .unwrap();
    let golf = format!("{BOOK}{}", derived_name("Golf"));
    let changed: BTreeSet<&str> = s1.changed.iter().map(|c| c.href.as_str()).collect();
    assert!(changed.contains(golf.as_str()), "{changed:?}");
    assert_eq!(
        changed.len(),
        2,
        "Dee's card and the Golf group: {changed:?}"
    );
    assert!(s1.deleted.is_empty());
    let got = alice
        .request(GetAddressBookResources::new(BOOK).with_hrefs([golf.as_str()]))
        .await
        .unwrap()
        .resources;
    let card = &got[0].content.as_ref().unwrap().data;
    assert_eq!(members(card).len(), 2, "Ann and Dee: {card}");

    // In Outlook, the last Friends leave: the group card is reported deleted.
    for g in ["Ann", "Bob"] {
        let keep: Vec<String> = w
            .categories(g)
            .into_iter()
            .filter(|c| c != "Friends")
            .collect();
        w.emu
            .outlook_edit(&w.mailbox, &w.ids[g], json!({ "categories": keep }));
    }
    let s2 = alice
        .request(SyncCollection::new(BOOK).with_sync_token(&s1.new_sync_token))
        .await
        .unwrap();
    let friends = format!("{BOOK}{}", derived_name("Friends"));
    assert_eq!(s2.deleted, vec![friends]);
    w.shutdown().await;
}
