//! vCard ⇄ Graph mapping cost per card, both directions (target: < 25 µs each way).
//!
//! `cargo bench --bench vcard`. Each fixture of tests/fixtures/vcards is measured:
//! `to_graph` = `card_to_contact` (parse, map, build the stash); `to_vcard_same` =
//! `contact_to_card` in the card's own version (the common GET); `to_vcard_other` = the
//! same with 3.0 ⇄ 4.0 conversion (through calcard).

use cardbridge::graph::model::Contact;
use cardbridge::vcard::{Limits, ParsedCard, VCardVersion, card_to_contact, contact_to_card};

const FIXTURES: &[(&str, &str)] = &[
    (
        "apple-3.0",
        include_str!("../tests/fixtures/vcards/apple-contacts-3.0.vcf"),
    ),
    (
        "thunderbird-4.0",
        include_str!("../tests/fixtures/vcards/thunderbird-4.0.vcf"),
    ),
    (
        "davx5-3.0",
        include_str!("../tests/fixtures/vcards/davx5-3.0.vcf"),
    ),
    (
        "davx5-4.0",
        include_str!("../tests/fixtures/vcards/davx5-4.0.vcf"),
    ),
    (
        "google-3.0",
        include_str!("../tests/fixtures/vcards/google-export-3.0.vcf"),
    ),
    (
        "six-emails-3.0",
        include_str!("../tests/fixtures/vcards/six-emails-five-phones-3.0.vcf"),
    ),
    (
        "non-ascii-4.0",
        include_str!("../tests/fixtures/vcards/non-ascii-4.0.vcf"),
    ),
];

const NAMES: &[&str] = &[
    "apple-3.0",
    "thunderbird-4.0",
    "davx5-3.0",
    "davx5-4.0",
    "google-3.0",
    "six-emails-3.0",
    "non-ascii-4.0",
];

fn card(name: &str) -> &'static str {
    FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| *c)
        .unwrap_or("")
}

fn own_version(name: &str) -> VCardVersion {
    if name.ends_with("4.0") {
        VCardVersion::V4
    } else {
        VCardVersion::V3
    }
}

fn parsed(name: &str) -> ParsedCard {
    card_to_contact(card(name).as_bytes(), &Limits::default()).expect("fixture parses")
}

fn main() {
    divan::main();
}

#[divan::bench(args = NAMES)]
fn to_graph(bencher: divan::Bencher, name: &str) {
    let bytes = card(name).as_bytes();
    let limits = Limits::default();
    bencher.bench(|| card_to_contact(divan::black_box(bytes), &limits));
}

#[divan::bench(args = NAMES)]
fn to_vcard_same(bencher: divan::Bencher, name: &str) {
    let p = parsed(name);
    let contact: Contact = p.contact;
    let version = own_version(name);
    bencher.bench(|| contact_to_card(divan::black_box(&contact), p.photo.as_ref(), version));
}

#[divan::bench(args = NAMES)]
fn to_vcard_other(bencher: divan::Bencher, name: &str) {
    let p = parsed(name);
    let version = match own_version(name) {
        VCardVersion::V3 => VCardVersion::V4,
        VCardVersion::V4 => VCardVersion::V3,
    };
    bencher.bench(|| contact_to_card(divan::black_box(&p.contact), p.photo.as_ref(), version));
}

#[divan::bench]
fn to_vcard_outlook_created(bencher: divan::Bencher) {
    let json = include_str!("../tests/fixtures/graph/alex-wilber.json");
    let contact: Contact = serde_json::from_str(json).expect("fixture parses");
    bencher.bench(|| contact_to_card(divan::black_box(&contact), None, VCardVersion::V3));
}
