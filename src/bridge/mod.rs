//! The bridge: implements `dav::AddressBookStore` over `graph` + `vcard` + `state` (in progress).

pub mod config;
