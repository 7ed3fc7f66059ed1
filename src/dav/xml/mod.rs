//! XML of the DAV layer: request parsing into a small namespace-resolved tree
//! ([`parse`]) and the multistatus / error writer ([`write`]).
//!
//! Requests are parsed with quick-xml's `NsReader` (namespace-aware, never by prefix:
//! Apple declares prefixes inline, DAVx5 uses `CARD:`, Thunderbird a default `DAV:`;
//! reference/clients.md §10.12). Names are compared as `{namespace}local` pairs
//! (RFC 4918 §17, XML Namespaces 1.0).

pub mod parse;
pub mod write;

pub use parse::{Element, XmlError, parse_body};
pub use write::Multistatus;

/// The `DAV:` namespace (RFC 4918 §21).
pub const NS_DAV: &str = "DAV:";
/// The CardDAV namespace (RFC 6352 §12).
pub const NS_CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
/// The CalendarServer namespace (`getctag`, `me-card`).
pub const NS_CS: &str = "http://calendarserver.org/ns/";

/// A namespace-qualified XML name (`{ns}local`); `ns` is empty for an element
/// without a namespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QName {
    pub ns: String,
    pub local: String,
}

impl QName {
    pub fn new(ns: &str, local: &str) -> Self {
        Self {
            ns: ns.to_owned(),
            local: local.to_owned(),
        }
    }

    /// Whether this name is `{ns}local`.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }
}

impl std::fmt::Display for QName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{{{}}}{}", self.ns, self.local)
    }
}
