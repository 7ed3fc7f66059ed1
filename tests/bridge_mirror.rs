//! The mirror against the emulator through the real Graph client (issue 5 "Done when"):
//! request counts per scenario, journal contents after Outlook-side changes, 410
//! resyncs, restarts from a redb file, child folders, single-flight refreshes.

mod bridge_support;

use bridge_support::*;
use cardbridge::bridge::hrefs::DEFAULT_BOOK;
use cardbridge::dav::store::{AddressBookStore, StoreError, VCardVersion};
use cardbridge::state::{RedbStore, SharedStore};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

const V3: VCardVersion = VCardVersion::V3;

/// Names of every member of every book.
async fn all_names(b: &cardbridge::bridge::Bridge) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for book in b.list_books(USER).await.unwrap() {
        for m in b.list_cards(USER, &book.id, V3).await.unwrap() {
            out.insert((book.id.clone(), m.name));
        }
    }
    out
}

#[tokio::test]
async fn initial_load_costs_pages_not_contacts_and_serves_every_contact() {
    let emu = emulator().await;
    let u = user(&emu);
    emu.seed_sample(&u, 300, 7);
    let total = emu.contact_count(&u);
    emu.reset_stats();
    let b = bridge(&emu, 3600);
    b.warm_up(USER).await.unwrap();
    let initial = requests(&emu);
    let names = all_names(&b).await;
    assert_eq!(
        names.len(),
        total,
        "every contact of every folder is served"
    );
    assert_eq!(requests(&emu), initial, "reads after the load are free");
    // Photos: read once per contact that has one (Graph flags them with the has-picture
    // property; graph.md §4.6, §5.1), 20 to a `$batch` (graph.md §6; sub-requests are
    // counted under their routes, the batch once in the total).
    let photo_gets: u64 = emu
        .stats()
        .by_route
        .iter()
        .filter(|(route, _)| route.starts_with("GET ") && route.contains("photo"))
        .map(|(_, n)| *n)
        .sum();
    let with_photo = emu.contacts_with_photo(&u) as u64;
    assert!(with_photo > 20, "the sample has photos");
    assert_eq!(photo_gets, with_photo, "each photo is read once");
    // 4 folders; per folder ceil(n/100) delta pages (+1 final page) and one list page
    // (or a couple of batches); plus the folder tree; plus the photo batches (at most
    // one partly filled per folder).
    let photo_batches = with_photo.div_ceil(20) + 3;
    assert!(
        initial <= 25 + photo_batches,
        "initial load of {total} contacts ({with_photo} photos) took {initial} Graph requests"
    );
    let books = b.list_books(USER).await.unwrap();
    assert!(books[0].is_default);
    assert_eq!(books[0].id, DEFAULT_BOOK);
    emu.shutdown().await;
}

#[tokio::test]
async fn within_the_window_reads_cost_zero_requests() {
    let emu = emulator().await;
    let u = user(&emu);
    emu.seed_sample(&u, 40, 1);
    let b = bridge(&emu, 3600);
    b.warm_up(USER).await.unwrap();
    emu.reset_stats();
    for _ in 0..3 {
        let books = b.list_books(USER).await.unwrap();
        for book in &books {
            let metas = b.list_cards(USER, &book.id, V3).await.unwrap();
            let names: Vec<String> = metas.iter().map(|m| m.name.clone()).collect();
            b.get_cards(USER, &book.id, &names, VCardVersion::V4)
                .await
                .unwrap();
            b.changes_since(USER, &book.id, Some(&book.sync_token), None, V3)
                .await
                .unwrap();
        }
    }
    assert_eq!(requests(&emu), 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn after_the_window_an_unchanged_folder_costs_one_request_however_many_readers() {
    let emu = emulator().await;
    let u = user(&emu);
    emu.seed_sample(&u, 40, 2);
    let b = bridge(&emu, 0);
    b.warm_up(USER).await.unwrap();
    emu.reset_stats();
    b.list_cards(USER, DEFAULT_BOOK, V3).await.unwrap();
    assert_eq!(requests(&emu), 1, "one delta round");

    emu.reset_stats();
    let readers = (0..16).map(|_| {
        let b = b.clone();
        async move { b.list_cards(USER, DEFAULT_BOOK, V3).await.map(|v| v.len()) }
    });
    let lens = futures_util::future::join_all(readers).await;
    let first = lens[0].clone().unwrap();
    assert!(lens.iter().all(|l| l.as_ref().ok() == Some(&first)));
    assert_eq!(
        requests(&emu),
        1,
        "16 concurrent readers share one delta round"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn outlook_edit_create_and_delete_are_journaled_exactly() {
    let emu = emulator().await;
    let u = user(&emu);
    let folder = emu.default_folder_id(&u);
    let keep = emu.outlook_create(&u, &folder, json!({"givenName": "Keep", "surname": "Me"}));
    let edit = emu.outlook_create(&u, &folder, json!({"givenName": "Edit", "surname": "Me"}));
    let gone = emu.outlook_create(&u, &folder, json!({"givenName": "Gone", "surname": "Soon"}));
    let b = bridge(&emu, 0);
    let first = b
        .changes_since(USER, DEFAULT_BOOK, None, None, V3)
        .await
        .unwrap();
    assert_eq!(first.changed.len(), 3);
    let name_of = |needle: &str, cards: &[(String, String)]| {
        cards
            .iter()
            .find(|(_, body)| body.contains(needle))
            .map(|(n, _)| n.clone())
            .unwrap()
    };
    let before = cards(&b, DEFAULT_BOOK).await;
    let edit_name = name_of("Edit", &before);
    let gone_name = name_of("Gone", &before);
    let keep_name = name_of("Keep", &before);
    let _ = keep;

    emu.outlook_edit(&u, &edit, json!({"givenName": "Edited"}));
    emu.outlook_delete(&u, &gone);
    emu.outlook_create(&u, &folder, json!({"givenName": "New", "surname": "Comer"}));

    let ch = b
        .changes_since(USER, DEFAULT_BOOK, Some(&first.new_token), None, V3)
        .await
        .unwrap();
    let after = cards(&b, DEFAULT_BOOK).await;
    let new_name = name_of("Comer", &after);
    let changed: BTreeSet<String> = ch.changed.iter().map(|m| m.name.clone()).collect();
    assert_eq!(changed, BTreeSet::from([edit_name.clone(), new_name]));
    assert_eq!(ch.deleted, vec![gone_name]);
    assert!(!changed.contains(&keep_name));
    assert!(
        after
            .iter()
            .any(|(n, body)| *n == edit_name && body.contains("Edited"))
    );
    assert_ne!(ch.new_token, first.new_token);

    // Nothing more happened: the new token yields nothing.
    let none = b
        .changes_since(USER, DEFAULT_BOOK, Some(&ch.new_token), None, V3)
        .await
        .unwrap();
    assert!(none.changed.is_empty() && none.deleted.is_empty());
    assert_eq!(none.new_token, ch.new_token);
    emu.shutdown().await;
}

#[tokio::test]
async fn expired_delta_chain_resyncs_and_journals_only_real_changes() {
    let emu = emulator().await;
    let u = user(&emu);
    emu.seed_sample(&u, 60, 3);
    let b = bridge(&emu, 0);
    let first = b
        .changes_since(USER, DEFAULT_BOOK, None, None, V3)
        .await
        .unwrap();
    let before = cards(&b, DEFAULT_BOOK).await;

    emu.expire_delta_chains(&u);
    let ch = b
        .changes_since(USER, DEFAULT_BOOK, Some(&first.new_token), None, V3)
        .await
        .unwrap();
    assert!(ch.changed.is_empty() && ch.deleted.is_empty(), "{ch:?}");
    assert_eq!(
        ch.new_token, first.new_token,
        "the token stays valid and current"
    );
    assert_eq!(
        cards(&b, DEFAULT_BOOK).await,
        before,
        "same names, same bytes"
    );

    // One real change across another expiry: exactly that is journaled.
    let folder = emu.default_folder_id(&u);
    emu.expire_delta_chains(&u);
    emu.outlook_create(
        &u,
        &folder,
        json!({"givenName": "After", "surname": "Expiry"}),
    );
    let ch = b
        .changes_since(USER, DEFAULT_BOOK, Some(&first.new_token), None, V3)
        .await
        .unwrap();
    assert_eq!(ch.changed.len(), 1);
    assert!(ch.deleted.is_empty());
    emu.shutdown().await;
}

#[tokio::test]
async fn restart_from_the_state_file_serves_with_zero_requests_and_keeps_tokens() {
    let emu = emulator().await;
    let u = user(&emu);
    emu.seed_sample(&u, 50, 4);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.redb");
    let (names, tokens) = {
        let store: SharedStore = Arc::new(RedbStore::open(&path).unwrap());
        let b = bridge_with(&emu, store, config(3600), 3);
        b.warm_up(USER).await.unwrap();
        let mut tokens = Vec::new();
        for book in b.list_books(USER).await.unwrap() {
            let ch = b
                .changes_since(USER, &book.id, None, None, V3)
                .await
                .unwrap();
            tokens.push((book.id.clone(), ch.new_token, book.ctag.clone()));
        }
        (all_names(&b).await, tokens)
    };
    emu.reset_stats();
    let store: SharedStore = Arc::new(RedbStore::open(&path).unwrap());
    let b = bridge_with(&emu, store, config(3600), 3);
    assert_eq!(all_names(&b).await, names);
    for (book, token, ctag) in &tokens {
        let ch = b
            .changes_since(USER, book, Some(token), None, V3)
            .await
            .unwrap();
        assert!(ch.changed.is_empty() && ch.deleted.is_empty());
        assert_eq!(&ch.new_token, token);
        assert_eq!(&b.book(USER, book).await.unwrap().ctag, ctag);
    }
    assert_eq!(
        requests(&emu),
        0,
        "a restart within the window calls Graph 0 times"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn child_folders_are_books_with_their_own_members() {
    let emu = emulator().await;
    let u = user(&emu);
    let root = emu.default_folder_id(&u);
    let work = emu.create_folder(&u, Some(&root), "Work");
    let deep = emu.create_folder(&u, Some(&work), "Clients");
    emu.outlook_create(&u, &work, json!({"givenName": "Walter", "surname": "Work"}));
    emu.outlook_create(
        &u,
        &deep,
        json!({"givenName": "Clara", "surname": "Client"}),
    );
    emu.outlook_create(
        &u,
        &root,
        json!({"givenName": "Dora", "surname": "Default"}),
    );
    let b = bridge(&emu, 3600);
    let books = b.list_books(USER).await.unwrap();
    assert_eq!(books.len(), 3);
    assert_eq!(books[0].id, DEFAULT_BOOK);
    let by_name = |n: &str| {
        books
            .iter()
            .find(|x| x.displayname == n)
            .unwrap()
            .id
            .clone()
    };
    let w = cards(&b, &by_name("Work")).await;
    let c = cards(&b, &by_name("Clients")).await;
    let d = cards(&b, DEFAULT_BOOK).await;
    assert!(w.len() == 1 && w[0].1.contains("Walter"));
    assert!(c.len() == 1 && c[0].1.contains("Clara"));
    assert!(d.len() == 1 && d[0].1.contains("Dora"));
    assert_ne!(books[1].sync_token, books[2].sync_token);
    // A token of one book is foreign to another.
    let err = b
        .changes_since(USER, &by_name("Work"), Some(&books[0].sync_token), None, V3)
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::InvalidSyncToken);
    emu.shutdown().await;
}

#[tokio::test]
async fn bad_tokens_and_unknown_users_are_typed_errors() {
    let emu = emulator().await;
    let b = bridge(&emu, 3600);
    for bad in [
        "http://example.com/x",
        "https://cardbridge.invalid/sync/abc/999",
    ] {
        assert_eq!(
            b.changes_since(USER, DEFAULT_BOOK, Some(bad), None, V3)
                .await,
            Err(StoreError::InvalidSyncToken)
        );
    }
    assert_eq!(b.list_books("mallory").await, Err(StoreError::NotFound));
    assert_eq!(
        b.list_cards(USER, "nope", V3).await,
        Err(StoreError::NotFound)
    );
    emu.shutdown().await;
}

/// Graph requests per scenario for BENCHMARKS.md:
/// `cargo test --test bridge_mirror graph_request_counts -- --ignored --nocapture`
#[tokio::test]
#[ignore]
async fn graph_request_counts() {
    println!("| contacts | initial load | no-change poll | one Outlook edit | multiget of all |");
    println!("|---:|---:|---:|---:|---:|");
    for n in [100usize, 1_000, 10_000] {
        let emu = emulator().await;
        let u = user(&emu);
        let folder = emu.default_folder_id(&u);
        let mut first = None;
        for i in 0..n {
            let id = emu.outlook_create(
                &u,
                &folder,
                json!({"givenName": format!("G{i}"), "surname": "Bench"}),
            );
            first.get_or_insert(id);
        }
        let mut cfg = config(0);
        cfg.delta_page_size = 500;
        let b = bridge_with(
            &emu,
            Arc::new(cardbridge::state::MemoryStore::new()),
            cfg,
            8,
        );
        emu.reset_stats();
        b.warm_up(USER).await.unwrap();
        let initial = requests(&emu);
        emu.reset_stats();
        b.list_cards(USER, DEFAULT_BOOK, V3).await.unwrap();
        let poll = requests(&emu);
        emu.outlook_edit(&u, first.as_ref().unwrap(), json!({"givenName": "Edited"}));
        emu.reset_stats();
        b.list_cards(USER, DEFAULT_BOOK, V3).await.unwrap();
        let edit = requests(&emu);
        let names: Vec<String> = b
            .list_cards(USER, DEFAULT_BOOK, V3)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.name)
            .collect();
        emu.reset_stats();
        b.get_cards(USER, DEFAULT_BOOK, &names, V3).await.unwrap();
        let multiget = requests(&emu);
        println!("| {n} | {initial} | {poll} | {edit} | {multiget} |");
        emu.shutdown().await;
    }
}

#[tokio::test]
async fn a_photo_added_in_outlook_is_fetched_and_served() {
    let emu = emulator().await;
    let u = user(&emu);
    let folder = emu.default_folder_id(&u);
    let id = emu.outlook_create(&u, &folder, json!({"givenName": "Pia", "surname": "Photo"}));
    let b = bridge(&emu, 0);
    b.warm_up(USER).await.unwrap();
    let before = cards(&b, DEFAULT_BOOK).await;
    assert_eq!(before.len(), 1);
    assert!(!before[0].1.contains("PHOTO"), "{}", before[0].1);
    let jpeg: Vec<u8> = [0xff, 0xd8, 0xff, 0xe0]
        .into_iter()
        .chain(b"outlook-picture".iter().copied())
        .collect();
    emu.outlook_set_photo(&u, &id, "image/jpeg", jpeg.clone());
    let after = cards(&b, DEFAULT_BOOK).await;
    let body = &after[0].1;
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&jpeg);
    assert!(body.contains("PHOTO;ENCODING=b;TYPE=JPEG:"), "{body}");
    assert!(body.replace("\r\n ", "").contains(&b64), "{body}");
    emu.shutdown().await;
}

/// A large first load is rebuilt from the state store once committed (memory: its
/// entries then sit together). The rebuilt mirror serves exactly what an uncompacted one
/// does (names, ETags, card bytes), its sync tokens work, and it is still fresh: no Graph
/// request.
#[tokio::test]
async fn a_compacted_first_load_serves_the_same_and_stays_fresh() {
    let emu = emulator().await;
    let u = user(&emu);
    emu.seed_sample(&u, 120, 5);
    let view = |b: Arc<cardbridge::bridge::Bridge>| async move {
        let mut out = Vec::new();
        for book in b.list_books(USER).await.unwrap() {
            let metas = b.list_cards(USER, &book.id, V3).await.unwrap();
            let names: Vec<String> = metas.iter().map(|m| m.name.clone()).collect();
            for c in b.get_cards(USER, &book.id, &names, V3).await.unwrap() {
                let c = c.unwrap();
                out.push((book.id.clone(), c.meta.name, c.meta.etag, c.body));
            }
        }
        out
    };
    let plain = bridge(&emu, 3600);
    plain.warm_up(USER).await.unwrap();
    let expected = view(plain).await;

    let mut cfg = config(3600);
    cfg.compact_first_load_above = 1;
    let compacted = bridge_with(
        &emu,
        Arc::new(cardbridge::state::MemoryStore::new()),
        cfg,
        3,
    );
    compacted.warm_up(USER).await.unwrap();
    emu.reset_stats();
    let got = view(compacted.clone()).await;
    assert_eq!(got.len(), expected.len());
    assert!(got.len() >= 120);
    for (g, e) in got.iter().zip(&expected) {
        assert!(
            g == e,
            "{:?} differs from {:?}",
            (&g.0, &g.1, &g.2),
            (&e.0, &e.1, &e.2)
        );
    }
    for book in compacted.list_books(USER).await.unwrap() {
        let first = compacted
            .changes_since(USER, &book.id, None, None, V3)
            .await
            .unwrap();
        let again = compacted
            .changes_since(USER, &book.id, Some(&first.new_token), None, V3)
            .await
            .unwrap();
        assert!(again.changed.is_empty() && again.deleted.is_empty());
    }
    assert_eq!(requests(&emu), 0, "the rebuilt books are still fresh");
    emu.shutdown().await;
}
