//! CardDAV protocol layer (RFC 4918, 5397, 6352, 6578, 6764): URL layout, XML request
//! parsing, multistatus writing, live properties, filters, typed errors, one file per
//! method. Knows nothing of Graph: it talks to an [`store::AddressBookStore`].

pub mod store;

pub use store::AddressBookStore;
