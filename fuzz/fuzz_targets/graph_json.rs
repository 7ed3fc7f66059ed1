//! Graph JSON decoding: a contact (`GET /contacts/{id}`) and a delta / list page (the
//! shape `graph::client` reads: `value` + `@odata.nextLink` / `@odata.deltaLink`, items
//! with `@removed`). Whatever Graph (or a hostile proxy) sends must decode or fail
//! cleanly, and a decoded contact must render as a vCard the bridge accepts back.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::graph_json(data));
