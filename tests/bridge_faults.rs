//! Upstream faults (issue 10 item 1; DESIGN.md "Graph is the truth"): throttling never
//! becomes a false success, a lost create never becomes a duplicate, a revoked consent
//! is a clear error, a failed refresh of a loaded book serves the mirror.

mod bridge_support;

use bridge_support::*;
use cardbridge::bridge::hrefs::DEFAULT_BOOK;
use cardbridge::dav::store::{AddressBookStore, Precondition, StoreError, VCardVersion};
use cardbridge::emulator::Fault;

const V3: VCardVersion = VCardVersion::V3;

#[tokio::test]
async fn throttling_storm_is_unavailable_with_retry_after_and_nothing_is_written() {
    let emu = emulator().await;
    let u = user(&emu);
    let b = bridge(&emu, 3600);
    b.warm_up(USER).await.unwrap();
    let token = b.book(USER, DEFAULT_BOOK).await.unwrap().sync_token;
    emu.add_fault(Fault {
        method: Some("POST".into()),
        status: Some(429),
        retry_after: Some(30),
        ..Default::default()
    });
    let out = b
        .put_card(
            USER,
            DEFAULT_BOOK,
            "t.vcf",
            vcard("uid-t", "Tim", "Throttle"),
            Precondition::default(),
        )
        .await;
    match out {
        Err(StoreError::Unavailable { retry_after_secs }) => {
            assert!(
                retry_after_secs.is_some_and(|s| s >= 1),
                "{retry_after_secs:?}"
            )
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert_eq!(emu.contact_count(&u), 0);
    assert!(
        cards(&b, DEFAULT_BOOK).await.is_empty(),
        "nothing half-written in the mirror"
    );
    assert_eq!(b.book(USER, DEFAULT_BOOK).await.unwrap().sync_token, token);
    emu.clear_faults();
    b.put_card(
        USER,
        DEFAULT_BOOK,
        "t.vcf",
        vcard("uid-t", "Tim", "Throttle"),
        Precondition::default(),
    )
    .await
    .unwrap();
    assert_eq!(emu.contact_count(&u), 1);
    assert_eq!(b.stats().accounts[0].errors, 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn dropped_create_is_resolved_without_duplicates() {
    let emu = emulator().await;
    let u = user(&emu);
    let b = bridge(&emu, 3600);
    b.warm_up(USER).await.unwrap();
    emu.add_fault(Fault {
        method: Some("POST".into()),
        path_contains: Some("/contacts".into()),
        drop_connection: true,
        count: Some(1),
        ..Default::default()
    });
    let body = vcard("uid-drop", "Dora", "Dropped");
    let mut acknowledged = false;
    for _ in 0..3 {
        match b
            .put_card(
                USER,
                DEFAULT_BOOK,
                "drop.vcf",
                body.clone(),
                Precondition::default(),
            )
            .await
        {
            Ok(_) => {
                acknowledged = true;
                break;
            }
            Err(StoreError::Unavailable { .. }) => continue,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert!(acknowledged);
    assert_eq!(emu.contact_count(&u), 1, "exactly one contact");
    let all = cards(&b, DEFAULT_BOOK).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, "drop.vcf");
    emu.shutdown().await;
}

#[tokio::test]
async fn failed_refresh_of_a_loaded_book_serves_the_mirror_and_counts_an_error() {
    let emu = emulator().await;
    let u = user(&emu);
    emu.seed_sample(&u, 20, 5);
    let b = bridge(&emu, 0);
    b.warm_up(USER).await.unwrap();
    let before = b.list_cards(USER, DEFAULT_BOOK, V3).await.unwrap();
    emu.add_fault(Fault {
        path_contains: Some("/delta".into()),
        status: Some(503),
        ..Default::default()
    });
    let during = b.list_cards(USER, DEFAULT_BOOK, V3).await.unwrap();
    assert_eq!(during, before);
    assert!(b.stats().accounts[0].errors >= 1);
    emu.clear_faults();
    assert_eq!(b.list_cards(USER, DEFAULT_BOOK, V3).await.unwrap(), before);
    emu.shutdown().await;
}

#[tokio::test]
async fn revoked_consent_is_sign_in_required() {
    let emu = emulator().await;
    let u = user(&emu);
    let b = bridge(&emu, 0);
    b.warm_up(USER).await.unwrap();
    emu.revoke(&u);
    assert_eq!(
        b.list_cards(USER, DEFAULT_BOOK, V3).await,
        Err(StoreError::SignInRequired)
    );
    assert!(b.stats().accounts[0].sign_in_required);
    emu.shutdown().await;
}
