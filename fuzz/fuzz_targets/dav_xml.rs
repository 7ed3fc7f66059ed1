//! The DAV request-body parser (`dav::xml::parse_body`): any bytes give a tree or an
//! `XmlError` (a 400), never a panic, and the tree respects the documented limits
//! (depth, element count). Any `filter` element found is also parsed as a filter.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::dav_xml(data));
