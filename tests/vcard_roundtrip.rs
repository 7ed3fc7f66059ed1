//! vCard → Graph (+ stash) → vCard on real-world card shapes (tests/fixtures/vcards):
//! what a client PUT comes back property for property; edits made in Outlook show up on
//! the next render while untouched properties stay; rendered output is snapshotted.

use std::path::PathBuf;

use cardbridge::graph::model::{Contact, EmailAddress};
use cardbridge::vcard::{
    Limits, ParsedCard, STASH_PROPERTY_ID, UID_PROPERTY_ID, VCardVersion, card_to_contact,
    contact_to_card, uid_for_graph_id,
};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vcards")
}

/// Every fixture: (file name, bytes).
fn fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "vcf"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(out.len() >= 10, "fixtures missing");
    out
}

fn version_of(name: &str) -> VCardVersion {
    if name.contains("4.0") {
        VCardVersion::V4
    } else {
        VCardVersion::V3
    }
}

/// Unfolded lines of a card without BEGIN, VERSION and END.
fn body_lines(card: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for physical in card.split('\n') {
        let physical = physical.strip_suffix('\r').unwrap_or(physical);
        if let Some(rest) = physical.strip_prefix([' ', '\t']) {
            lines.last_mut().unwrap().push_str(rest);
        } else if !physical.is_empty() {
            lines.push(physical.to_owned());
        }
    }
    lines
        .into_iter()
        .filter(|l| {
            let u = l.to_ascii_uppercase();
            u != "BEGIN:VCARD" && u != "END:VCARD" && !u.starts_with("VERSION:")
        })
        .collect()
}

fn parse(bytes: &[u8]) -> ParsedCard {
    card_to_contact(bytes, &Limits::default()).unwrap()
}

/// What Graph gives back after storing `contact`: JSON round trip, ids added, the
/// birthday moved to 11:59 UTC (graph.md §2.4), empty addresses as `{}`.
fn through_graph(contact: &Contact) -> Contact {
    let mut v = serde_json::to_value(contact).unwrap();
    let map = v.as_object_mut().unwrap();
    map.insert("id".into(), "AAMkTESTID=".into());
    map.insert("changeKey".into(), "EQAAABYAAAA".into());
    if let Some(b) = map
        .get("birthday")
        .and_then(|b| b.as_str())
        .map(str::to_owned)
    {
        map.insert(
            "birthday".into(),
            b.replace("T00:00:00Z", "T11:59:00Z").into(),
        );
    }
    for key in ["homeAddress", "businessAddress", "otherAddress"] {
        if map[key].as_object().unwrap().values().all(|v| v.is_null()) {
            map.insert(key.into(), serde_json::json!({}));
        }
    }
    serde_json::from_value(v).unwrap()
}

/// Mapped fields only (the stash and UID properties removed) for comparisons.
fn mapped(c: &Contact) -> Contact {
    let mut c = c.clone();
    c.single_value_extended_properties.clear();
    c.id = None;
    c.change_key = None;
    c
}

#[test]
fn same_version_round_trip_gives_back_every_line() {
    for (name, bytes) in fixtures() {
        if name.contains("2.1") {
            continue; // lifted to 3.0 on read; see the outlook test below
        }
        let parsed = parse(&bytes);
        let stored = through_graph(&parsed.contact);
        let out = contact_to_card(&stored, parsed.photo.as_ref(), version_of(&name));
        let original = body_lines(&String::from_utf8(bytes.clone()).unwrap());
        let mut got = body_lines(&out);
        if !original.iter().any(|l| l.starts_with("UID:")) {
            // A card without UID gets one, kept in the card from then on.
            assert_eq!(got.remove(0), format!("UID:{}", parsed.uid), "{name}");
        }
        assert_eq!(got, original, "{name}\n{out}");
    }
}

#[test]
fn a_rendered_card_put_again_renders_the_same() {
    for (name, bytes) in fixtures() {
        for version in [VCardVersion::V3, VCardVersion::V4] {
            let first = parse(&bytes);
            let out1 = contact_to_card(
                &through_graph(&first.contact),
                first.photo.as_ref(),
                version,
            );
            let second = parse(out1.as_bytes());
            let out2 = contact_to_card(
                &through_graph(&second.contact),
                second.photo.as_ref(),
                version,
            );
            assert_eq!(out1, out2, "{name} {version:?}");
            assert_eq!(first.uid, second.uid, "{name}");
        }
    }
}

#[test]
fn version_conversion_keeps_the_mapped_fields_and_the_photo() {
    for (name, bytes) in fixtures() {
        let parsed = parse(&bytes);
        for version in [VCardVersion::V3, VCardVersion::V4] {
            let out = contact_to_card(
                &through_graph(&parsed.contact),
                parsed.photo.as_ref(),
                version,
            );
            assert!(
                out.contains(&format!("VERSION:{}\r\n", version.as_str())),
                "{name}"
            );
            let again = parse(out.as_bytes());
            assert_eq!(
                mapped(&again.contact),
                mapped(&parsed.contact),
                "{name} {version:?}\n{out}"
            );
            assert_eq!(again.photo, parsed.photo, "{name} {version:?}");
            assert_eq!(again.uid, parsed.uid, "{name} {version:?}");
            if version == VCardVersion::V4 {
                assert!(
                    !out.contains("base64\\,"),
                    "{name}: escaped data: URI comma"
                );
            }
        }
    }
}

#[test]
fn outlook_21_export_is_read_and_served_as_30() {
    let bytes = std::fs::read(fixture_dir().join("outlook-export-2.1.vcf")).unwrap();
    let parsed = parse(&bytes);
    let c = &parsed.contact;
    assert_eq!(c.display_name.as_deref(), Some("Alex Wilber"));
    assert_eq!(c.business_phones, vec!["+1 425 555 0100"]);
    assert_eq!(c.home_phones, vec!["+1 425 555 0101"]);
    assert_eq!(c.mobile_phone.as_deref(), Some("+1 425 555 0102"));
    assert_eq!(c.manager.as_deref(), Some("Megan Bowen"));
    assert_eq!(c.assistant_name.as_deref(), Some("Lee Gu"));
    assert_eq!(c.spouse_name.as_deref(), Some("Sam Wilber"));
    assert_eq!(
        c.personal_notes.as_deref(),
        Some("Customer since 2010.\nSecond line.")
    );
    assert_eq!(c.birthday.as_deref(), Some("1980-03-17T00:00:00Z"));
    let out = contact_to_card(&through_graph(c), None, VCardVersion::V3);
    let lines = body_lines(&out);
    for expected in [
        "TEL;TYPE=WORK,VOICE:+1 425 555 0100",
        "TEL;TYPE=WORK,FAX:+1 425 555 0103",
        "LABEL;TYPE=WORK,PREF:1 Microsoft Way\\nRedmond, WA 98052",
        "NOTE:Customer since 2010.\\nSecond line.",
        "X-MS-OL-DEFAULT-POSTAL-ADDRESS:2",
        "N;LANGUAGE=en-us:Wilber;Alex",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "missing {expected}\n{out}"
        );
    }
}

#[test]
fn graph_gets_the_slots_and_the_stash_keeps_the_rest() {
    let bytes = std::fs::read(fixture_dir().join("six-emails-five-phones-3.0.vcf")).unwrap();
    let parsed = parse(&bytes);
    let c = &parsed.contact;
    let emails: Vec<_> = c
        .email_addresses
        .iter()
        .filter_map(|e| e.address.as_deref())
        .collect();
    assert_eq!(
        emails,
        [
            "person1@example.com",
            "person2@example.com",
            "person3@example.com"
        ]
    );
    assert_eq!(c.business_phones, ["+1 555 0001", "+1 555 0002"]);
    assert_eq!(c.home_phones, ["+1 555 0004"]);
    assert_eq!(c.mobile_phone, None);
    let stash = c.extended_property(STASH_PROPERTY_ID).unwrap();
    for kept in [
        "person6@example.com",
        "TEL;TYPE=WORK:+1 555 0003",
        "TEL;TYPE=PAGER:+1 555 0005",
    ] {
        assert!(stash.contains(kept), "stash lacks {kept}");
    }
    assert_eq!(c.extended_property(UID_PROPERTY_ID), Some("many-slots-1"));
    // No photo bytes in any stash.
    for (name, bytes) in fixtures() {
        let p = parse(&bytes);
        let stash = p.contact.extended_property(STASH_PROPERTY_ID).unwrap();
        assert!(
            !stash.contains("/9j/4AAQ") && !stash.contains("iVBORw0KGgo"),
            "{name}"
        );
    }
}

#[test]
fn apple_card_maps_labels_related_names_and_keeps_groups() {
    let bytes = std::fs::read(fixture_dir().join("apple-contacts-3.0.vcf")).unwrap();
    let p = parse(&bytes);
    let c = &p.contact;
    assert_eq!(c.spouse_name.as_deref(), Some("Jane Appleseed"));
    assert_eq!(c.manager.as_deref(), Some("Tim"));
    assert_eq!(c.mobile_phone.as_deref(), Some("+1 (408) 555-0101"));
    assert_eq!(c.yomi_given_name.as_deref(), Some("Jonnii"));
    assert_eq!(c.birthday.as_deref(), Some("1984-01-24T00:00:00Z"));
    assert_eq!(
        c.business_home_page.as_deref(),
        Some("https://www.apple.example/johnny")
    );
    assert_eq!(c.im_addresses, ["skype:johnny.appleseed"]);
    assert_eq!(c.categories, ["Work", "Friends"]);
    assert_eq!(
        c.business_address.street.as_deref(),
        Some("One Apple Park Way")
    );
    assert_eq!(
        p.photo.as_ref().map(|p| p.content_type.as_str()),
        Some("image/jpeg")
    );
    assert!(p.has_photo_property);
    assert_eq!(
        c.personal_notes.as_deref(),
        Some(
            "Met at WWDC, 2019.\nLikes apples; hates worms. This note is long enough that it has to be folded over several lines by the writer."
        )
    );
}

#[test]
fn outlook_edits_win_and_untouched_lines_stay() {
    const EDITED: [&str; 7] = ["N", "TITLE", "EMAIL", "TEL", "BDAY", "NOTE", "CATEGORIES"];
    for (name, bytes) in fixtures() {
        let version = if name.contains("2.1") {
            VCardVersion::V3
        } else {
            version_of(&name)
        };
        let parsed = parse(&bytes);
        let before = contact_to_card(
            &through_graph(&parsed.contact),
            parsed.photo.as_ref(),
            version,
        );
        let mut c = through_graph(&parsed.contact);
        c.given_name = Some("Edited, Given".into());
        c.job_title = Some("Chief Tester; QA".into());
        match c.email_addresses.first_mut() {
            Some(e) => e.address = Some("edited@example.net".into()),
            None => c.email_addresses.push(EmailAddress {
                name: None,
                address: Some("edited@example.net".into()),
            }),
        }
        c.business_phones = vec!["+1 999 0000".into()];
        c.birthday = Some("2000-02-29T11:59:00Z".into());
        c.personal_notes = Some("New note\r\nsecond line".into());
        c.categories.push("Edited".into());
        let out = contact_to_card(&c, parsed.photo.as_ref(), version);
        let lines = body_lines(&out);
        let has = |pred: &dyn Fn(&str) -> bool| lines.iter().any(|l| pred(l));
        assert!(
            has(&|l| l.contains("TITLE") && l.ends_with(":Chief Tester\\; QA")),
            "{name}\n{out}"
        );
        assert!(
            has(&|l| l.contains("EMAIL") && l.ends_with(":edited@example.net")),
            "{name}\n{out}"
        );
        assert!(
            has(&|l| l.contains("TEL") && l.contains("+1 999 0000")),
            "{name}\n{out}"
        );
        assert!(
            has(&|l| l.starts_with("N") && l.contains(";Edited\\, Given;")),
            "{name}\n{out}"
        );
        assert!(
            has(&|l| l.contains("BDAY") && (l.ends_with("2000-02-29") || l.ends_with("20000229"))),
            "{name}\n{out}"
        );
        assert!(
            has(&|l| l.starts_with("NOTE") && l.ends_with(":New note\\nsecond line")),
            "{name}\n{out}"
        );
        assert!(
            has(&|l| l.contains("CATEGORIES") && l.ends_with("Edited")),
            "{name}\n{out}"
        );
        // Every line of a property Outlook did not touch is still there, as it was.
        for line in body_lines(&before) {
            let prop = line.split([';', ':']).next().unwrap();
            let prop = prop.rsplit('.').next().unwrap().to_ascii_uppercase();
            if !EDITED.contains(&prop.as_str()) {
                assert!(lines.contains(&line), "{name}: lost {line}\n{out}");
            }
        }
    }
}

#[test]
fn outlook_edit_keeps_the_clients_group_and_parameters() {
    let bytes = std::fs::read(fixture_dir().join("apple-contacts-3.0.vcf")).unwrap();
    let parsed = parse(&bytes);
    let mut c = through_graph(&parsed.contact);
    c.email_addresses[0].address = Some("new@example.com".into());
    c.business_address.city = Some("Sunnyvale".into());
    c.mobile_phone = None;
    c.job_title = None;
    let out = contact_to_card(&c, parsed.photo.as_ref(), VCardVersion::V3);
    let lines = body_lines(&out);
    assert!(
        lines.contains(&"item1.EMAIL;type=INTERNET;type=HOME;type=pref:new@example.com".to_owned()),
        "{out}"
    );
    assert!(
        lines.contains(
            &"item5.ADR;type=WORK:;Building 3;One Apple Park Way;Sunnyvale;CA;95014;United States"
                .to_owned()
        ),
        "{out}"
    );
    // Cleared in Outlook: the line is gone; the second cell number (stash only) stays.
    assert!(!lines.iter().any(|l| l.starts_with("TITLE")), "{out}");
    assert!(
        !lines.iter().any(|l| l.ends_with(":+1 (408) 555-0101")),
        "{out}"
    );
    assert!(lines.contains(&"TEL;type=IPHONE;type=CELL;type=VOICE:+1 (408) 555-0102".to_owned()));
    // The photo keeps its place and form.
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("PHOTO;ENCODING=b;TYPE=JPEG:/9j/"))
    );
}

#[test]
fn contact_created_in_outlook_renders_a_clean_card_that_maps_back() {
    let json = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph/alex-wilber.json"),
    )
    .unwrap();
    let graph: Contact = serde_json::from_slice(&json).unwrap();
    for version in [VCardVersion::V3, VCardVersion::V4] {
        let out = contact_to_card(&graph, None, version);
        assert_eq!(out, contact_to_card(&graph, None, version), "deterministic");
        let uid = uid_for_graph_id(graph.id.as_deref().unwrap());
        assert!(out.contains(&format!("UID:{uid}\r\n")), "{out}");
        let back = parse(out.as_bytes());
        assert_eq!(back.uid, uid);
        let mut expected = mapped(&graph);
        expected.odata_etag = None;
        expected.created_date_time = None;
        expected.last_modified_date_time = None;
        expected.parent_folder_id = None;
        expected.birthday = Some("1815-12-10T00:00:00Z".into());
        expected.file_as = None; // "" in Graph
        expected.personal_notes = Some("Line one; with, punctuation\nLine two".into());
        for e in &mut expected.email_addresses {
            e.name = e.address.clone();
        }
        assert_eq!(mapped(&back.contact), expected, "{version:?}\n{out}");
    }
}

#[test]
fn snapshots_of_rendered_cards() {
    for (name, bytes) in fixtures() {
        let parsed = parse(&bytes);
        let stored = through_graph(&parsed.contact);
        for version in [VCardVersion::V3, VCardVersion::V4] {
            let out = contact_to_card(&stored, parsed.photo.as_ref(), version);
            let snap = format!("{}-as-{}", name.trim_end_matches(".vcf"), version.as_str());
            insta::assert_snapshot!(snap, out.replace("\r\n", "\n"));
        }
    }
    let json = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/graph/alex-wilber.json"),
    )
    .unwrap();
    let graph: Contact = serde_json::from_slice(&json).unwrap();
    for version in [VCardVersion::V3, VCardVersion::V4] {
        let out = contact_to_card(&graph, None, version);
        insta::assert_snapshot!(
            format!("graph-alex-wilber-as-{}", version.as_str()),
            out.replace("\r\n", "\n")
        );
    }
}

#[test]
fn a_large_note_is_taken_from_graph_not_kept_twice() {
    let note = "Long note, with; punctuation. ".repeat(300);
    let escaped = note.replace(',', "\\,").replace(';', "\\;");
    let card = format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:big-1\r\nFN:Big Note\r\nNOTE;LANGUAGE=en:{escaped}\r\nX-KEEP:me\r\nEND:VCARD\r\n"
    );
    let parsed = parse(card.as_bytes());
    assert_eq!(parsed.contact.personal_notes.as_deref(), Some(note.trim()));
    let stash = parsed.contact.extended_property(STASH_PROPERTY_ID).unwrap();
    assert!(
        stash.len() < 1024,
        "stash holds the note: {} bytes",
        stash.len()
    );
    // Unchanged in Graph: the same line comes back (parameters kept).
    let stored = through_graph(&parsed.contact);
    let out = contact_to_card(&stored, None, VCardVersion::V3);
    assert!(
        body_lines(&out).contains(&format!("NOTE;LANGUAGE=en:{}", escaped.trim())),
        "{out}"
    );
    // Edited in Outlook: Graph's text.
    let mut edited = stored.clone();
    edited.personal_notes = Some("short now".into());
    let out = contact_to_card(&edited, None, VCardVersion::V3);
    assert!(
        body_lines(&out).contains(&"NOTE;LANGUAGE=en:short now".to_owned()),
        "{out}"
    );
    assert!(body_lines(&out).contains(&"X-KEEP:me".to_owned()));
}

#[test]
fn a_file_as_outlook_derives_is_not_an_edit_but_a_typed_one_is() {
    let bytes = std::fs::read(fixture_dir().join("vdirsyncer-style-3.0.vcf")).unwrap();
    let parsed = parse(&bytes);
    let before = contact_to_card(&through_graph(&parsed.contact), None, VCardVersion::V3);
    let mut c = through_graph(&parsed.contact);
    c.file_as = Some("Daboo, Cyrus".into());
    assert_eq!(contact_to_card(&c, None, VCardVersion::V3), before);
    c.file_as = Some("The Cyrus".into());
    let out = contact_to_card(&c, None, VCardVersion::V3);
    assert!(
        body_lines(&out).contains(&"X-MS-FILE-AS:The Cyrus".to_owned()),
        "{out}"
    );
}
