//! A whole CardDAV request through `Dav<MemoryBooks>` (the protocol layer without
//! HTTP framing): input byte 0 picks the method, byte 1 the path, byte 2 the Depth
//! header, byte 3 the content type, the rest is the body. Any request must get an
//! answer below 500: malformed input is the client's fault (4xx), never a server error
//! or a panic.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::dav_request(data));
