//! Contact photos written through the bridge (issue 7 item 6; graph.md §4.6): a PHOTO in
//! a PUT is stored in Graph; a PUT without PHOTO removes it (Graph has no photo delete:
//! the bridge stores its transparent placeholder and serves no PHOTO); a photo over
//! Graph's limit is refused with a clear error.

mod bridge_support;

use base64::Engine;
use bridge_support::*;
use cardbridge::bridge::hrefs::DEFAULT_BOOK;
use cardbridge::bridge::photos::NO_PHOTO_PNG;
use cardbridge::dav::store::{AddressBookStore, Precondition, StoreError, VCardVersion};

const V3: VCardVersion = VCardVersion::V3;

fn jpeg() -> Vec<u8> {
    let mut b = vec![0xff, 0xd8, 0xff, 0xe0];
    b.extend_from_slice(b"a client's picture");
    b
}

fn card(photo: Option<&[u8]>) -> bytes::Bytes {
    let mut s = String::from(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:uid-pic\r\nFN:Pia Picture\r\nN:Picture;Pia;;;\r\n",
    );
    if let Some(p) = photo {
        let b64 = base64::engine::general_purpose::STANDARD.encode(p);
        s.push_str(&format!("PHOTO;ENCODING=b;TYPE=JPEG:{b64}\r\n"));
    }
    s.push_str("END:VCARD\r\n");
    bytes::Bytes::from(s)
}

async fn served(b: &cardbridge::bridge::Bridge) -> (String, String) {
    let c = b
        .get_cards(USER, DEFAULT_BOOK, &["pic.vcf".into()], V3)
        .await
        .unwrap()
        .remove(0)
        .expect("served");
    (c.meta.etag, String::from_utf8(c.body.to_vec()).unwrap())
}

fn graph_id(emu: &cardbridge::emulator::EmulatorHandle) -> String {
    emu.all_contacts(&user(emu))[0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn photo_is_written_then_removed_with_the_placeholder() {
    let emu = emulator().await;
    let b = bridge(&emu, 3600);
    b.warm_up(USER).await.unwrap();
    let with = b
        .put_card(
            USER,
            DEFAULT_BOOK,
            "pic.vcf",
            card(Some(&jpeg())),
            Precondition::default(),
        )
        .await
        .unwrap();
    let id = graph_id(&emu);
    assert_eq!(
        emu.photo(&user(&emu), &id),
        Some(("image/jpeg".to_owned(), jpeg())),
        "Graph holds the client's photo"
    );
    let (etag, body) = served(&b).await;
    assert_eq!(with.etag.as_deref(), Some(etag.as_str()));
    assert!(body.contains("PHOTO;ENCODING=b;TYPE=JPEG:"), "{body}");

    // The client removes the photo.
    let without = b
        .put_card(
            USER,
            DEFAULT_BOOK,
            "pic.vcf",
            card(None),
            Precondition {
                if_match: Some(etag),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let (photo_type, bytes) = emu.photo(&user(&emu), &id).expect("Graph cannot delete it");
    assert_eq!(
        (photo_type.as_str(), bytes.as_slice()),
        ("image/png", NO_PHOTO_PNG)
    );
    let (etag, body) = served(&b).await;
    assert!(!body.contains("PHOTO"), "{body}");
    assert_eq!(
        without.etag.as_deref(),
        Some(etag.as_str()),
        "what was PUT is served"
    );

    // Read fresh from Graph (a new mirror, which names the card from its Graph id):
    // the placeholder is fetched and served as no photo.
    let fresh = bridge(&emu, 3600);
    let all = cards(&fresh, DEFAULT_BOOK).await;
    assert_eq!(all.len(), 1);
    assert!(all[0].1.contains("FN:Pia Picture"), "{}", all[0].1);
    assert!(!all[0].1.contains("PHOTO"), "{}", all[0].1);

    // And a new photo replaces the placeholder.
    let mut other = jpeg();
    other.extend_from_slice(b" v2");
    b.put_card(
        USER,
        DEFAULT_BOOK,
        "pic.vcf",
        card(Some(&other)),
        Precondition::default(),
    )
    .await
    .unwrap();
    assert_eq!(emu.photo(&user(&emu), &id).unwrap().1, other);
    assert_eq!(emu.contact_count(&user(&emu)), 1);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_photo_over_graphs_limit_is_refused_and_nothing_is_written() {
    let emu = emulator().await;
    let b = bridge(&emu, 3600);
    b.warm_up(USER).await.unwrap();
    let mut huge = jpeg();
    huge.resize(4 * 1024 * 1024 - 32 * 1024, 0x55);
    let out = b
        .put_card(
            USER,
            DEFAULT_BOOK,
            "pic.vcf",
            card(Some(&huge)),
            Precondition::default(),
        )
        .await;
    assert!(
        matches!(out, Err(StoreError::InvalidCard(_) | StoreError::TooLarge)),
        "{out:?}"
    );
    assert_eq!(emu.contact_count(&user(&emu)), 0);
    emu.shutdown().await;
}
