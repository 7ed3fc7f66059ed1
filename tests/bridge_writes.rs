//! Write-through against the emulator (issue 7; DESIGN.md "Graph is the truth", "ETags").

mod bridge_support;

use bridge_support::*;
use cardbridge::bridge::hrefs::DEFAULT_BOOK;
use cardbridge::dav::store::{AddressBookStore, BookPatch, Precondition, StoreError, VCardVersion};
use serde_json::json;

const V3: VCardVersion = VCardVersion::V3;

fn if_match(etag: &str) -> Precondition {
    Precondition {
        if_match: Some(etag.to_owned()),
        if_none_match_any: false,
    }
}

fn create_only() -> Precondition {
    Precondition {
        if_match: None,
        if_none_match_any: true,
    }
}

#[tokio::test]
async fn put_creates_then_updates_keeping_the_clients_name_and_bytes() {
    let emu = emulator().await;
    let u = user(&emu);
    let b = bridge(&emu, 3600);
    let body = vcard("uid-ada", "Ada", "Lovelace");
    let out = b
        .put_card(USER, DEFAULT_BOOK, "ada.vcf", body.clone(), create_only())
        .await
        .unwrap();
    assert!(out.created);
    let etag = out
        .etag
        .clone()
        .expect("lossless card: the ETag is returned");
    assert_eq!(emu.contact_count(&u), 1);

    // Read-after-write without a Graph round trip, the same bytes and ETag.
    emu.reset_stats();
    let got = b
        .get_cards(USER, DEFAULT_BOOK, &["ada.vcf".to_string()], V3)
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(requests(&emu), 0);
    assert_eq!(got.meta.etag, etag);
    assert_eq!(got.body, body);

    // Update with the right ETag.
    let body2 = vcard("uid-ada", "Ada", "King");
    let out2 = b
        .put_card(
            USER,
            DEFAULT_BOOK,
            "ada.vcf",
            body2.clone(),
            if_match(&etag),
        )
        .await
        .unwrap();
    assert!(!out2.created);
    let etag2 = out2.etag.unwrap();
    assert_ne!(etag2, etag);
    assert_eq!(emu.contact_count(&u), 1);
    let names: Vec<_> = cards(&b, DEFAULT_BOOK).await;
    assert_eq!(names.len(), 1);
    assert_eq!(names[0].0, "ada.vcf");
    assert!(names[0].1.contains("King"));

    // If-None-Match: * on an existing name.
    assert_eq!(
        b.put_card(USER, DEFAULT_BOOK, "ada.vcf", body2.clone(), create_only())
            .await,
        Err(StoreError::PreconditionFailed)
    );
    // A stale If-Match: 412, and Graph is not written.
    emu.reset_stats();
    assert_eq!(
        b.put_card(USER, DEFAULT_BOOK, "ada.vcf", body, if_match(&etag))
            .await,
        Err(StoreError::PreconditionFailed)
    );
    assert_eq!(requests(&emu), 0, "a stale If-Match never reaches Graph");
    // The journal saw a create and an update of the same name.
    let ch = b
        .changes_since(USER, DEFAULT_BOOK, None, None, V3)
        .await
        .unwrap();
    assert_eq!(ch.changed.len(), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn uid_conflict_names_the_other_card() {
    let emu = emulator().await;
    let b = bridge(&emu, 3600);
    b.put_card(
        USER,
        DEFAULT_BOOK,
        "a.vcf",
        vcard("same", "A", "One"),
        create_only(),
    )
    .await
    .unwrap();
    assert_eq!(
        b.put_card(
            USER,
            DEFAULT_BOOK,
            "b.vcf",
            vcard("same", "B", "Two"),
            create_only()
        )
        .await,
        Err(StoreError::UidConflict {
            name: "a.vcf".into()
        })
    );
    assert_eq!(emu.contact_count(&user(&emu)), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn outlook_edit_between_get_and_put_gives_412() {
    let emu = emulator().await;
    let u = user(&emu);
    let folder = emu.default_folder_id(&u);
    let id = emu.outlook_create(
        &u,
        &folder,
        json!({"givenName": "Carl", "surname": "Client"}),
    );
    let b = bridge(&emu, 3600);
    let listed = b.list_cards(USER, DEFAULT_BOOK, V3).await.unwrap();
    assert_eq!(listed.len(), 1);
    let (name, etag) = (listed[0].name.clone(), listed[0].etag.clone());
    assert!(name.ends_with(".vcf"));
    emu.outlook_edit(&u, &id, json!({"jobTitle": "Edited in Outlook"}));
    // The mirror is still "fresh" (1 h window), so the bridge's own check passes and
    // Graph's If-Match catches the concurrent edit.
    assert_eq!(
        b.put_card(
            USER,
            DEFAULT_BOOK,
            &name,
            vcard("uid-c", "Carl", "Overwrite"),
            if_match(&etag)
        )
        .await,
        Err(StoreError::PreconditionFailed)
    );
    let c = emu.contact(&u, &id).unwrap();
    assert_eq!(c["jobTitle"], "Edited in Outlook");
    assert_eq!(c["surname"], "Client", "Outlook's edit was not overwritten");
    // The next read shows Outlook's version with a new ETag.
    let after = b.list_cards(USER, DEFAULT_BOOK, V3).await.unwrap();
    assert_ne!(after[0].etag, etag);
    assert!(
        cards(&b, DEFAULT_BOOK).await[0]
            .1
            .contains("Edited in Outlook")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn delete_honours_if_match_and_removes_from_graph() {
    let emu = emulator().await;
    let u = user(&emu);
    let b = bridge(&emu, 3600);
    let out = b
        .put_card(
            USER,
            DEFAULT_BOOK,
            "d.vcf",
            vcard("uid-d", "Dan", "Delete"),
            create_only(),
        )
        .await
        .unwrap();
    let token = b.book(USER, DEFAULT_BOOK).await.unwrap().sync_token;
    assert_eq!(
        b.delete_card(USER, DEFAULT_BOOK, "d.vcf", if_match("\"stale\""))
            .await,
        Err(StoreError::PreconditionFailed)
    );
    assert_eq!(emu.contact_count(&u), 1);
    b.delete_card(USER, DEFAULT_BOOK, "d.vcf", if_match(&out.etag.unwrap()))
        .await
        .unwrap();
    assert_eq!(emu.contact_count(&u), 0);
    assert_eq!(
        b.delete_card(USER, DEFAULT_BOOK, "d.vcf", Precondition::default())
            .await,
        Err(StoreError::NotFound)
    );
    let ch = b
        .changes_since(USER, DEFAULT_BOOK, Some(&token), None, V3)
        .await
        .unwrap();
    assert_eq!(ch.deleted, vec!["d.vcf".to_string()]);
    emu.shutdown().await;
}

#[tokio::test]
async fn books_are_created_renamed_and_deleted_and_a_move_leaves_one_contact() {
    let emu = emulator().await;
    let u = user(&emu);
    let b = bridge(&emu, 3600);
    let info = b
        .create_book(
            USER,
            "6f1b7c0e-friends",
            BookPatch {
                displayname: Some("Friends".into()),
                description: Some(Some("close ones".into())),
            },
        )
        .await
        .unwrap();
    assert_eq!(info.id, "6f1b7c0e-friends");
    assert!(
        emu.folders(&u)
            .iter()
            .any(|f| f.display_name.as_deref() == Some("Friends"))
    );
    assert_eq!(
        b.create_book(USER, "6f1b7c0e-friends", BookPatch::default())
            .await,
        Err(StoreError::AlreadyExists)
    );

    // Move: PUT into the new book, DELETE from the default one.
    b.put_card(
        USER,
        DEFAULT_BOOK,
        "m.vcf",
        vcard("uid-m", "Mo", "Ving"),
        create_only(),
    )
    .await
    .unwrap();
    b.put_card(
        USER,
        &info.id,
        "m.vcf",
        vcard("uid-m", "Mo", "Ving"),
        create_only(),
    )
    .await
    .unwrap();
    b.delete_card(USER, DEFAULT_BOOK, "m.vcf", Precondition::default())
        .await
        .unwrap();
    assert_eq!(emu.contact_count(&u), 1);
    assert_eq!(cards(&b, &info.id).await.len(), 1);
    assert!(cards(&b, DEFAULT_BOOK).await.is_empty());

    let renamed = b
        .update_book(
            USER,
            &info.id,
            BookPatch {
                displayname: Some("Best friends".into()),
                description: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(renamed.displayname, "Best friends");
    assert_eq!(renamed.description.as_deref(), Some("close ones"));
    assert!(
        emu.folders(&u)
            .iter()
            .any(|f| f.display_name.as_deref() == Some("Best friends"))
    );

    assert!(matches!(
        b.delete_book(USER, DEFAULT_BOOK).await,
        Err(StoreError::Forbidden(_))
    ));
    b.delete_book(USER, &info.id).await.unwrap();
    assert_eq!(emu.contact_count(&u), 0);
    assert_eq!(b.list_books(USER).await.unwrap().len(), 1);
    assert_eq!(b.book(USER, &info.id).await, Err(StoreError::NotFound));
    emu.shutdown().await;
}

#[tokio::test]
async fn invalid_cards_and_names_are_rejected_before_graph() {
    let emu = emulator().await;
    let b = bridge(&emu, 3600);
    b.warm_up(USER).await.unwrap();
    emu.reset_stats();
    assert!(matches!(
        b.put_card(
            USER,
            DEFAULT_BOOK,
            "x.vcf",
            bytes::Bytes::from_static(b"hello"),
            create_only()
        )
        .await,
        Err(StoreError::InvalidCard(_))
    ));
    assert!(matches!(
        b.put_card(
            USER,
            DEFAULT_BOOK,
            "..",
            vcard("u", "A", "B"),
            create_only()
        )
        .await,
        Err(StoreError::Forbidden(_))
    ));
    assert_eq!(requests(&emu), 0);
    emu.shutdown().await;
}

/// Card writes of one book overlap (RELIABILITY.md §6): while a create waits for Graph,
/// another create of the same book finishes and a read of the stale book answers from the
/// mirror (without the held card) instead of waiting for a refresh; a second create of the
/// held card's UID is refused with its name; the held create then completes. Nothing is
/// duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_of_a_book_do_not_wait_for_a_slow_graph_write() {
    let emu = emulator().await;
    let b = bridge(&emu, 0);
    cards(&b, DEFAULT_BOOK).await; // loaded
    // The next contact POST waits 8 s in the emulator before Graph handles it.
    emu.add_fault(cardbridge::emulator::Fault {
        method: Some("POST".into()),
        path_contains: Some("/contacts".into()),
        delay_ms: Some(8_000),
        count: Some(1),
        ..Default::default()
    });
    let held = {
        let b = b.clone();
        tokio::spawn(async move {
            b.put_card(
                USER,
                DEFAULT_BOOK,
                "held.vcf",
                vcard("uid-held", "Held", "Back"),
                create_only(),
            )
            .await
        })
    };
    // Wait until the held POST reached the emulator (its fault is used up).
    while !emu.faults().is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let quick = b
        .put_card(
            USER,
            DEFAULT_BOOK,
            "quick.vcf",
            vcard("uid-quick", "Quick", "One"),
            create_only(),
        )
        .await
        .expect("a second create does not wait for the first");
    assert!(quick.created);
    let names: Vec<String> = cards(&b, DEFAULT_BOOK)
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&"quick.vcf".to_owned()), "{names:?}");
    assert!(!names.contains(&"held.vcf".to_owned()), "{names:?}");
    assert_eq!(
        b.put_card(
            USER,
            DEFAULT_BOOK,
            "other.vcf",
            vcard("uid-held", "Same", "Uid"),
            create_only()
        )
        .await,
        Err(StoreError::UidConflict {
            name: "held.vcf".into()
        })
    );
    assert!(!held.is_finished(), "the held create ended early");
    let held = held.await.unwrap().expect("the held create completes");
    assert!(held.created);
    let names: Vec<String> = cards(&b, DEFAULT_BOOK)
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "held.vcf" || *n == "quick.vcf")
            .count(),
        2,
        "{names:?}"
    );
    assert_eq!(emu.contact_count(&user(&emu)), 2);
    emu.shutdown().await;
}
