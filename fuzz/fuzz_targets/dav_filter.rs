//! The addressbook-query filter evaluator (RFC 6352 §10.5): input = filter XML, a NUL
//! byte, then a card. Parsing the filter and matching any card must not panic; a filter
//! and its `negate-condition` twin must disagree on a single text-match.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::dav_filter(data));
