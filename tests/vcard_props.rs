//! Property tests for the vCard mapping: nothing panics on any input; a card with random
//! properties, parameters, escapes and odd UIDs comes back line for line (what
//! vdirsyncer's storage tests check); rendering is idempotent; Graph values survive
//! render → parse with their escapes.

use cardbridge::graph::model::{Contact, EmailAddress, PhysicalAddress};
use cardbridge::vcard::{Limits, VCardVersion, card_to_contact, contact_to_card};
use proptest::prelude::*;

fn body_lines(card: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for physical in card.split("\r\n") {
        if let Some(rest) = physical.strip_prefix(' ') {
            lines.last_mut().unwrap().push_str(rest);
        } else if !physical.is_empty() {
            lines.push(physical.to_owned());
        }
    }
    lines.retain(|l| l != "BEGIN:VCARD" && l != "END:VCARD" && !l.starts_with("VERSION:"));
    lines
}

/// Graph's JSON round trip (what the bridge reads back), birthday at 11:59 UTC.
fn through_graph(c: &Contact) -> Contact {
    let mut v = serde_json::to_value(c).unwrap();
    if let Some(b) = v["birthday"].as_str().map(str::to_owned) {
        v["birthday"] = b.replace("T00:00:00Z", "T11:59:00Z").into();
    }
    serde_json::from_value(v).unwrap()
}

fn text_value() -> impl Strategy<Value = String> {
    // Printable text with every character vCard escaping cares about.
    "[a-zA-Z0-9 ,;:\\\\\"'=.@üé漢😀\n-]{1,30}"
        .prop_map(|s| s.trim().to_owned())
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn escaped(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace('\n', "\\n")
}

fn param() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("TYPE=home".to_owned()),
        Just("TYPE=work".to_owned()),
        Just("type=CELL".to_owned()),
        Just("TYPE=pref".to_owned()),
        Just("TYPE=fax".to_owned()),
        Just("PREF=1".to_owned()),
        "[a-z]{1,8}".prop_map(|v| format!("X-P={v}")),
        "[a-z:;, ]{1,8}".prop_map(|v| format!("X-Q=\"{v}\"")),
    ]
}

/// One client line: a mapped or unknown property with random params and value.
fn client_line() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        Just("EMAIL"),
        Just("TEL"),
        Just("NOTE"),
        Just("TITLE"),
        Just("ROLE"),
        Just("NICKNAME"),
        Just("URL"),
        Just("IMPP"),
        Just("CATEGORIES"),
        Just("X-FOO"),
        Just("X-SOMETHING-ELSE"),
        Just("X-MS-MANAGER"),
        Just("item1.X-ABLabel"),
        Just("item2.EMAIL"),
    ];
    (name, proptest::collection::vec(param(), 0..3), text_value()).prop_map(
        |(name, params, value)| {
            let mut line = name.to_owned();
            for p in params {
                line.push(';');
                line.push_str(&p);
            }
            line.push(':');
            line.push_str(&escaped(&value));
            line
        },
    )
}

fn uid() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9-]{1,40}",
        "[!-~]{1,200}".prop_map(|s| escaped(&s)),
        "[a-z]{1,10}".prop_map(|s| format!("urn:uuid:{s}")),
    ]
}

fn client_card() -> impl Strategy<Value = (String, VCardVersion)> {
    (
        text_value(),
        proptest::collection::vec(client_line(), 0..12),
        uid(),
        prop_oneof![Just(VCardVersion::V3), Just(VCardVersion::V4)],
        proptest::option::of((1900i32..2030, 1u32..13, 1u32..29)),
    )
        .prop_map(|(fn_, lines, uid, version, bday)| {
            let mut card = format!(
                "BEGIN:VCARD\r\nVERSION:{}\r\nFN:{}\r\nN:{};;;;\r\n",
                version.as_str(),
                escaped(&fn_),
                escaped(&fn_)
            );
            for l in lines {
                card.push_str(&l);
                card.push_str("\r\n");
            }
            if let Some((y, m, d)) = bday {
                card.push_str(&format!("BDAY:{y:04}-{m:02}-{d:02}\r\n"));
            }
            card.push_str(&format!("UID:{uid}\r\nEND:VCARD\r\n"));
            (card, version)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = card_to_contact(&bytes, &Limits::default());
    }

    #[test]
    fn arbitrary_lines_in_a_card_never_panic(lines in proptest::collection::vec("[ -~\t\\\\é漢]{0,60}", 0..12)) {
        let card = format!("BEGIN:VCARD\r\nFN:x\r\n{}\r\nEND:VCARD\r\n", lines.join("\r\n"));
        if let Ok(parsed) = card_to_contact(card.as_bytes(), &Limits::default()) {
            for version in [VCardVersion::V3, VCardVersion::V4] {
                let out = contact_to_card(&through_graph(&parsed.contact), parsed.photo.as_ref(), version);
                prop_assert!(card_to_contact(out.as_bytes(), &Limits::default()).is_ok(), "{}", out);
            }
        }
    }

    #[test]
    fn client_card_comes_back_line_for_line((card, version) in client_card()) {
        let parsed = card_to_contact(card.as_bytes(), &Limits::default()).unwrap();
        let out = contact_to_card(&through_graph(&parsed.contact), parsed.photo.as_ref(), version);
        prop_assert_eq!(body_lines(&out), body_lines(&card));
    }

    #[test]
    fn render_is_idempotent_in_both_versions((card, _) in client_card(), v4 in any::<bool>()) {
        let version = if v4 { VCardVersion::V4 } else { VCardVersion::V3 };
        let first = card_to_contact(card.as_bytes(), &Limits::default()).unwrap();
        let out1 = contact_to_card(&through_graph(&first.contact), None, version);
        let second = card_to_contact(out1.as_bytes(), &Limits::default()).unwrap();
        let out2 = contact_to_card(&through_graph(&second.contact), None, version);
        prop_assert_eq!(&out1, &out2);
        prop_assert_eq!(first.uid, second.uid);
    }

    #[test]
    fn graph_values_survive_render_and_parse(
        given in text_value(),
        surname in text_value(),
        display in text_value(),
        title in proptest::option::of(text_value()),
        notes in proptest::option::of(text_value()),
        emails in proptest::collection::vec("[a-z0-9.]{1,10}@[a-z]{1,8}\\.org", 0..4),
        phones in proptest::collection::vec("\\+?[0-9 ()-]{3,15}", 0..3),
        categories in proptest::collection::btree_set(text_value(), 0..4),
        street in proptest::option::of(text_value()),
        v4 in any::<bool>(),
    ) {
        let version = if v4 { VCardVersion::V4 } else { VCardVersion::V3 };
        let phones: Vec<String> = phones.into_iter().map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect();
        let contact = Contact {
            id: Some("AAMk-prop".into()),
            given_name: Some(given),
            surname: Some(surname),
            display_name: Some(display),
            job_title: title,
            personal_notes: notes,
            email_addresses: emails.iter().map(|e| EmailAddress { name: Some(e.clone()), address: Some(e.clone()) }).collect(),
            business_phones: phones,
            categories: categories.into_iter().collect(),
            home_address: PhysicalAddress { street, city: Some("Town".into()), ..PhysicalAddress::default() },
            ..Contact::default()
        };
        let out = contact_to_card(&contact, None, version);
        let back = card_to_contact(out.as_bytes(), &Limits::default()).unwrap().contact;
        prop_assert_eq!(back.given_name, contact.given_name);
        prop_assert_eq!(back.surname, contact.surname);
        prop_assert_eq!(back.display_name, contact.display_name);
        prop_assert_eq!(back.job_title, contact.job_title);
        prop_assert_eq!(back.personal_notes, contact.personal_notes);
        prop_assert_eq!(back.email_addresses, contact.email_addresses);
        prop_assert_eq!(back.business_phones, contact.business_phones);
        prop_assert_eq!(back.categories, contact.categories);
        prop_assert_eq!(back.home_address, contact.home_address);
    }
}
