//! Categories as group vCards (issue 7 item 5; DESIGN.md "Groups"; clients.md §2.3, §3.4,
//! §9) against the emulator through the real Graph client: served in both dialects with
//! stable names and ETags, journaled when members change, and group-card PUT / DELETE
//! turned into category edits in Graph.

mod bridge_support;

use bridge_support::*;
use cardbridge::bridge::groups::derived_name;
use cardbridge::bridge::hrefs::DEFAULT_BOOK;
use cardbridge::bridge::{Bridge, BridgeConfig};
use cardbridge::dav::store::{AddressBookStore, Precondition, StoreError, VCardVersion};
use cardbridge::emulator::EmulatorHandle;
use cardbridge::state::MemoryStore;
use serde_json::json;
use std::sync::Arc;

const V3: VCardVersion = VCardVersion::V3;
const V4: VCardVersion = VCardVersion::V4;

fn group_bridge(emu: &EmulatorHandle) -> Arc<Bridge> {
    let config = BridgeConfig {
        group_cards: true,
        ..config(0)
    };
    bridge_with(emu, Arc::new(MemoryStore::new()), config, 3)
}

/// Three Outlook contacts: Ann (Friends, Golf), Bob (Friends), Cy (none).
fn seed(emu: &EmulatorHandle) -> [String; 3] {
    let u = user(emu);
    let f = emu.default_folder_id(&u);
    let ann = emu.outlook_create(
        &u,
        &f,
        json!({"givenName":"Ann","surname":"A","categories":["Friends","Golf"]}),
    );
    let bob = emu.outlook_create(
        &u,
        &f,
        json!({"givenName":"Bob","surname":"B","categories":["Friends"]}),
    );
    let cy = emu.outlook_create(&u, &f, json!({"givenName":"Cy","surname":"C"}));
    [ann, bob, cy]
}

fn categories(emu: &EmulatorHandle, id: &str) -> Vec<String> {
    emu.contact(&user(emu), id).expect("contact exists")["categories"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The served card `name` in `version`.
async fn get(b: &Bridge, name: &str, version: VCardVersion) -> Option<(String, String)> {
    b.get_cards(USER, DEFAULT_BOOK, &[name.to_owned()], version)
        .await
        .unwrap()
        .remove(0)
        .map(|c| {
            (
                c.meta.etag,
                String::from_utf8(c.body.to_vec()).expect("utf-8"),
            )
        })
}

/// The UID line of a served card.
fn uid_of(card: &str) -> String {
    card.lines()
        .find_map(|l| l.strip_prefix("UID:"))
        .expect("UID")
        .trim()
        .to_owned()
}

async fn uid_of_contact(b: &Bridge, given: &str) -> String {
    let all = cards(b, DEFAULT_BOOK).await;
    let (_, body) = all
        .iter()
        .find(|(_, body)| body.contains(&format!("FN:{given} ")))
        .expect("contact served");
    uid_of(body)
}

async fn token(b: &Bridge) -> String {
    b.book(USER, DEFAULT_BOOK).await.unwrap().sync_token
}

async fn changed_since(b: &Bridge, token: &str) -> (Vec<String>, Vec<String>) {
    let c = b
        .changes_since(USER, DEFAULT_BOOK, Some(token), None, V3)
        .await
        .unwrap();
    let mut changed: Vec<String> = c.changed.into_iter().map(|m| m.name).collect();
    changed.sort();
    (changed, c.deleted)
}

#[tokio::test]
async fn categories_are_served_as_group_cards_in_both_dialects() {
    let emu = emulator().await;
    seed(&emu);
    let b = group_bridge(&emu);
    let ann = uid_of_contact(&b, "Ann").await;
    let bob = uid_of_contact(&b, "Bob").await;
    let names: Vec<String> = b
        .list_cards(USER, DEFAULT_BOOK, V3)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names.len(), 5, "3 contacts + Friends + Golf: {names:?}");
    let friends = derived_name("Friends");
    assert!(names.contains(&friends) && names.contains(&derived_name("Golf")));

    let (etag3, v3) = get(&b, &friends, V3).await.expect("group served");
    assert!(v3.contains("\r\nVERSION:3.0\r\n"), "{v3}");
    assert!(
        v3.contains("\r\nX-ADDRESSBOOKSERVER-KIND:group\r\n"),
        "{v3}"
    );
    assert!(v3.contains("\r\nFN:Friends\r\n"), "{v3}");
    for m in [&ann, &bob] {
        assert!(
            v3.contains(&format!("X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:{m}\r\n")),
            "{v3}"
        );
    }
    let (etag4, v4) = get(&b, &friends, V4).await.unwrap();
    assert!(v4.contains("\r\nKIND:group\r\n"), "{v4}");
    assert!(
        v4.contains(&format!("\r\nMEMBER:urn:uuid:{ann}\r\n")),
        "{v4}"
    );
    assert!(!v4.contains("X-ADDRESSBOOKSERVER"), "{v4}");
    assert_ne!(etag3, etag4);
    assert!(etag3.starts_with('"') && etag3.ends_with('"'));
    // Stable: the same name, UID and ETag from another bridge over the same mailbox.
    let again = group_bridge(&emu);
    let (etag_again, v3_again) = get(&again, &friends, V3).await.unwrap();
    assert_eq!((etag_again, uid_of(&v3_again)), (etag3, uid_of(&v3)));

    // Without the option nobody sees group cards.
    let plain = bridge(&emu, 0);
    assert_eq!(
        plain
            .list_cards(USER, DEFAULT_BOOK, V3)
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(
        plain
            .get_cards(USER, DEFAULT_BOOK, std::slice::from_ref(&friends), V3)
            .await
            .unwrap()[0]
            .is_none()
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn an_outlook_member_change_changes_the_group_etag_and_is_journaled() {
    let emu = emulator().await;
    let [_, _, cy] = seed(&emu);
    let b = group_bridge(&emu);
    let friends = derived_name("Friends");
    let (before, _) = get(&b, &friends, V3).await.unwrap();
    let t = token(&b).await;
    emu.outlook_edit(
        &user(&emu),
        &cy,
        json!({"categories": ["Friends", "Chess"]}),
    );
    let (after, body) = get(&b, &friends, V3).await.unwrap();
    assert_ne!(before, after, "a new member changes the ETag");
    let cy_uid = uid_of_contact(&b, "Cy").await;
    assert!(body.contains(&format!("urn:uuid:{cy_uid}")), "{body}");
    let (changed, deleted) = changed_since(&b, &t).await;
    assert!(deleted.is_empty(), "{deleted:?}");
    assert!(changed.contains(&friends), "{changed:?}");
    assert!(changed.contains(&derived_name("Chess")), "{changed:?}");
    assert!(
        !changed.contains(&derived_name("Golf")),
        "Golf did not change"
    );
    assert_eq!(changed.len(), 3, "Cy, Friends, Chess: {changed:?}");
    emu.shutdown().await;
}

fn apple_group(name: &str, uid: &str, members: &[&str]) -> bytes::Bytes {
    let mut s = format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//macOS 14.5//EN\r\nN:{name};;;;\r\nFN:{name}\r\nX-ADDRESSBOOKSERVER-KIND:group\r\n"
    );
    for m in members {
        s.push_str(&format!("X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:{m}\r\n"));
    }
    s.push_str(&format!("UID:{uid}\r\nEND:VCARD\r\n"));
    bytes::Bytes::from(s)
}

#[tokio::test]
async fn apple_creates_an_empty_group_then_adds_members_then_renames_it() {
    let emu = emulator().await;
    let [ann, bob, cy] = seed(&emu);
    let b = group_bridge(&emu);
    let cy_uid = uid_of_contact(&b, "Cy").await;
    let bob_uid = uid_of_contact(&b, "Bob").await;
    let t0 = token(&b).await;

    // 1. Empty group at Apple's own name and UID.
    let created = b
        .put_card(
            USER,
            DEFAULT_BOOK,
            "E1A2.vcf",
            apple_group("Chess", "E1A2", &[]),
            Precondition {
                if_none_match_any: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(created.created);
    let (etag1, body) = get(&b, "E1A2.vcf", V3).await.expect("empty group is kept");
    assert_eq!(uid_of(&body), "E1A2");
    assert!(!body.contains("MEMBER"), "{body}");
    let (changed, _) = changed_since(&b, &t0).await;
    assert_eq!(changed, ["E1A2.vcf"]);

    // 2. Members added (If-Match with the group's ETag).
    let t1 = token(&b).await;
    b.put_card(
        USER,
        DEFAULT_BOOK,
        "E1A2.vcf",
        apple_group("Chess", "E1A2", &[&cy_uid, &bob_uid]),
        Precondition {
            if_match: Some(etag1.clone()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(categories(&emu, &cy), ["Chess"]);
    assert_eq!(categories(&emu, &bob), ["Friends", "Chess"]);
    assert_eq!(categories(&emu, &ann), ["Friends", "Golf"], "untouched");
    let (etag2, body) = get(&b, "E1A2.vcf", V3).await.unwrap();
    assert_ne!(etag1, etag2);
    assert!(body.contains(&format!("urn:uuid:{cy_uid}")), "{body}");
    let (changed, _) = changed_since(&b, &t1).await;
    assert!(changed.contains(&"E1A2.vcf".to_string()), "{changed:?}");
    assert_eq!(
        changed.len(),
        3,
        "the group and its two new members: {changed:?}"
    );
    // The members' own cards carry the category.
    let cy_card = cards(&b, DEFAULT_BOOK)
        .await
        .into_iter()
        .find(|(_, c)| c.contains("FN:Cy "))
        .unwrap()
        .1;
    assert!(cy_card.contains("CATEGORIES:Chess"), "{cy_card}");

    // A stale If-Match is 412 and Graph is untouched.
    let stale = b
        .put_card(
            USER,
            DEFAULT_BOOK,
            "E1A2.vcf",
            apple_group("Chess", "E1A2", &[]),
            Precondition {
                if_match: Some(etag1),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(stale.unwrap_err(), StoreError::PreconditionFailed);
    assert_eq!(categories(&emu, &cy), ["Chess"]);

    // 3. Rename and drop Bob.
    b.put_card(
        USER,
        DEFAULT_BOOK,
        "E1A2.vcf",
        apple_group("Board games", "E1A2", &[&cy_uid]),
        Precondition {
            if_match: Some(etag2),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(categories(&emu, &cy), ["Board games"]);
    assert_eq!(categories(&emu, &bob), ["Friends"]);
    let (_, body) = get(&b, "E1A2.vcf", V3).await.unwrap();
    assert!(body.contains("FN:Board games\r\n"), "{body}");
    assert_eq!(uid_of(&body), "E1A2", "the client's UID stays");
    assert!(
        get(&b, &derived_name("Chess"), V3).await.is_none(),
        "no leftover group for the old name"
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn davx5_4_0_group_of_an_existing_category_takes_its_place() {
    let emu = emulator().await;
    let [ann, bob, _] = seed(&emu);
    let b = group_bridge(&emu);
    let ann_uid = uid_of_contact(&b, "Ann").await;
    let t = token(&b).await;
    // DAVx5 uploads "Friends" at its own name with only Ann.
    let body = format!(
        "BEGIN:VCARD\r\nVERSION:4.0\r\nUID:dx-1\r\nKIND:group\r\nFN:Friends\r\nMEMBER:urn:uuid:{ann_uid}\r\nEND:VCARD\r\n"
    );
    let out = b
        .put_card(
            USER,
            DEFAULT_BOOK,
            "dx-1.vcf",
            bytes::Bytes::from(body),
            Precondition::default(),
        )
        .await
        .unwrap();
    assert!(out.created);
    assert_eq!(categories(&emu, &ann), ["Friends", "Golf"]);
    assert!(categories(&emu, &bob).is_empty(), "Bob left Friends");
    let friends = derived_name("Friends");
    assert!(
        get(&b, &friends, V4).await.is_none(),
        "one group per category"
    );
    let (_, served) = get(&b, "dx-1.vcf", V4).await.unwrap();
    assert!(
        served.contains(&format!("MEMBER:urn:uuid:{ann_uid}")),
        "{served}"
    );
    let (changed, deleted) = changed_since(&b, &t).await;
    assert_eq!(deleted, [friends], "the derived name went away");
    assert!(changed.contains(&"dx-1.vcf".to_string()), "{changed:?}");
    emu.shutdown().await;
}

#[tokio::test]
async fn deleting_a_group_card_removes_the_category_from_its_members() {
    let emu = emulator().await;
    let [ann, bob, cy] = seed(&emu);
    let b = group_bridge(&emu);
    let friends = derived_name("Friends");
    let (etag, _) = get(&b, &friends, V3).await.unwrap();
    let t = token(&b).await;
    let stale = b
        .delete_card(
            USER,
            DEFAULT_BOOK,
            &friends,
            Precondition {
                if_match: Some("\"nope\"".into()),
                ..Default::default()
            },
        )
        .await;
    assert_eq!(stale.unwrap_err(), StoreError::PreconditionFailed);
    assert_eq!(categories(&emu, &bob), ["Friends"]);
    b.delete_card(
        USER,
        DEFAULT_BOOK,
        &friends,
        Precondition {
            if_match: Some(etag),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(categories(&emu, &ann), ["Golf"]);
    assert!(categories(&emu, &bob).is_empty());
    assert!(categories(&emu, &cy).is_empty());
    assert_eq!(emu.contact_count(&user(&emu)), 3, "the contacts stay");
    assert!(get(&b, &friends, V3).await.is_none());
    let (changed, deleted) = changed_since(&b, &t).await;
    assert_eq!(deleted, std::slice::from_ref(&friends));
    assert_eq!(changed.len(), 2, "Ann and Bob changed: {changed:?}");
    assert_eq!(
        b.delete_card(USER, DEFAULT_BOOK, &friends, Precondition::default())
            .await
            .unwrap_err(),
        StoreError::NotFound
    );
    emu.shutdown().await;
}
