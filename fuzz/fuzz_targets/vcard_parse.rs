//! vCard parse + mapping both ways: a client's bytes → Graph fields + stash
//! (`card_to_contact`, what a PUT does) → vCard 3.0 and 4.0 (`contact_to_card`, what a
//! GET serves). Beyond "no panic", the card the bridge renders must be one it accepts
//! back: a client re-PUTting what it was served must never get a 4xx.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::vcard_parse(data));
