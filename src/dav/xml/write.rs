//! The multistatus writer (RFC 4918 §13, §14.16) and `<D:error>` bodies (RFC 4918 §16).
//!
//! Everything is written straight into one `Vec<u8>`: card bodies (pre-rendered by the
//! store) are escaped in one pass, without building a tree or re-rendering. The shape
//! follows reference/clients.md §7: `href` first, the 200 propstat before any other,
//! status lines exactly `HTTP/1.1 200 OK`, fixed prefixes `d:` / `card:` / `cs:`
//! declared once on the root, `\r` written as `&#13;` so CRLF in `address-data`
//! survives XML end-of-line normalisation.

use http::StatusCode;

use super::{NS_CARDDAV, NS_CS, NS_DAV, QName};

/// The XML declaration and the namespace declarations every body carries.
const NAMESPACES: &str = r#" xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav" xmlns:cs="http://calendarserver.org/ns/""#;

/// A `207 Multi-Status` body being written.
pub struct Multistatus {
    buf: Vec<u8>,
}

impl Default for Multistatus {
    fn default() -> Self {
        Self::new()
    }
}

impl Multistatus {
    /// Start a `<d:multistatus>` document.
    pub fn new() -> Self {
        Self::with_root("d:multistatus", 4096)
    }

    /// Start a document whose root is `root` (a `d:`/`card:`/`cs:` prefixed name), for
    /// RFC 5689 `mkcol-response`.
    pub fn with_root(root: &str, capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity);
        buf.extend_from_slice(b"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<");
        buf.extend_from_slice(root.as_bytes());
        buf.extend_from_slice(NAMESPACES.as_bytes());
        buf.push(b'>');
        Self { buf }
    }

    /// Reserve room for `more` bytes (a multiget knows its card sizes).
    pub fn reserve(&mut self, more: usize) {
        self.buf.reserve(more);
    }

    /// `<d:response><d:href>…</d:href>`; `href` is already percent-encoded.
    pub fn begin_response(&mut self, href: &str) {
        self.raw("<d:response><d:href>");
        self.text(href);
        self.raw("</d:href>");
    }

    pub fn end_response(&mut self) {
        self.raw("</d:response>");
    }

    /// A whole `<d:response>` with only a status (RFC 4918 §14.24: missing members,
    /// RFC 6578 §3.5.2 removed members, §3.6 / RFC 6352 §8.6.1 truncation).
    pub fn status_response(&mut self, href: &str, status: StatusCode) {
        self.begin_response(href);
        self.status(status);
        self.end_response();
    }

    /// `<d:propstat><d:prop>`.
    pub fn begin_propstat(&mut self) {
        self.raw("<d:propstat><d:prop>");
    }

    /// `</d:prop><d:status>…</d:status>[<d:error>…</d:error>]</d:propstat>`; `error` is
    /// the inner XML of the error element.
    pub fn end_propstat(&mut self, status: StatusCode, error: Option<&str>) {
        self.raw("</d:prop>");
        self.status(status);
        if let Some(error) = error {
            self.raw("<d:error>");
            self.raw(error);
            self.raw("</d:error>");
        }
        self.raw("</d:propstat>");
    }

    /// `<d:status>HTTP/1.1 200 OK</d:status>`.
    pub fn status(&mut self, status: StatusCode) {
        self.raw("<d:status>");
        match status {
            StatusCode::OK => self.raw("HTTP/1.1 200 OK"),
            StatusCode::NOT_FOUND => self.raw("HTTP/1.1 404 Not Found"),
            other => self.raw(&status_line(other)),
        }
        self.raw("</d:status>");
    }

    /// `<d:sync-token>` at the top level (RFC 6578 §6.2).
    pub fn sync_token(&mut self, token: &str) {
        self.raw("<d:sync-token>");
        self.text(token);
        self.raw("</d:sync-token>");
    }

    /// Markup written as is (must be well-formed and use the declared prefixes).
    pub fn raw(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
    }

    /// Character data, escaped.
    pub fn text(&mut self, s: &str) {
        escape_into(&mut self.buf, s.as_bytes());
    }

    /// Character data given as bytes (a card body, UTF-8 or not: invalid sequences
    /// are replaced so the document stays well-formed).
    pub fn text_bytes(&mut self, bytes: &[u8]) {
        match std::str::from_utf8(bytes) {
            Ok(_) => escape_into(&mut self.buf, bytes),
            Err(_) => escape_into(&mut self.buf, String::from_utf8_lossy(bytes).as_bytes()),
        }
    }

    /// `<prefix:local>` for a name in a known namespace, or a declaration inline.
    pub fn open(&mut self, name: &QName) {
        self.element(name, false);
    }

    /// `</prefix:local>` matching [`Multistatus::open`].
    pub fn close(&mut self, name: &QName) {
        self.raw("</");
        match prefix(&name.ns) {
            Some(p) => {
                self.raw(p);
                self.raw(":");
            }
            None if name.ns.is_empty() => {}
            None => self.raw("x:"),
        }
        self.raw(&name.local);
        self.raw(">");
    }

    /// `<prefix:local/>`, declaring an unknown namespace inline (404 propstats echo
    /// names of any namespace, RFC 4918 §9.1).
    pub fn empty(&mut self, name: &QName) {
        self.element(name, true);
    }

    fn element(&mut self, name: &QName, empty: bool) {
        self.raw("<");
        match prefix(&name.ns) {
            Some(p) => {
                self.raw(p);
                self.raw(":");
                self.raw(&name.local);
            }
            None if name.ns.is_empty() => {
                self.raw(&name.local);
                self.raw(" xmlns=\"\"");
            }
            None => {
                self.raw("x:");
                self.raw(&name.local);
                self.raw(" xmlns:x=\"");
                escape_attr_into(&mut self.buf, &name.ns);
                self.raw("\"");
            }
        }
        self.raw(if empty { "/>" } else { ">" });
    }

    /// Close the root and return the document.
    pub fn finish(self) -> Vec<u8> {
        self.finish_with("d:multistatus")
    }

    /// Close a document started with [`Multistatus::with_root`].
    pub fn finish_with(mut self, root: &str) -> Vec<u8> {
        self.raw("</");
        self.raw(root);
        self.raw(">\n");
        self.buf
    }
}

/// Prefix declared on the root for a namespace.
fn prefix(ns: &str) -> Option<&'static str> {
    match ns {
        NS_DAV => Some("d"),
        NS_CARDDAV => Some("card"),
        NS_CS => Some("cs"),
        _ => None,
    }
}

/// `HTTP/1.1 <code> <reason>` (clients compare these strings; reference/clients.md §7).
pub fn status_line(status: StatusCode) -> String {
    format!(
        "HTTP/1.1 {} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Unknown")
    )
}

/// A `<d:error>` body (RFC 4918 §16) whose content is `inner` (markup using the
/// `d:` / `card:` / `cs:` prefixes), with an optional human-readable description.
pub fn error_body(inner: &str, description: Option<&str>) -> Vec<u8> {
    let mut w = Multistatus::with_root("d:error", 256);
    w.raw(inner);
    if let Some(d) = description {
        // RFC 4918 §16 allows any other element in `error`; Radicale and sabre add a
        // description that humans read in client logs.
        w.raw("<d:responsedescription>");
        w.text(d);
        w.raw("</d:responsedescription>");
    }
    w.finish_with("d:error")
}

/// Escape XML character data into `out`: `&`, `<`, `>`, `\r` (as `&#13;`) and drop the
/// control characters XML 1.0 forbids (§2.2), so no card can break the document.
pub fn escape_into(out: &mut Vec<u8>, s: &[u8]) {
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#13;",
            b'\t' | b'\n' => continue,
            0..=0x1f | 0x7f => b"",
            _ => continue,
        };
        out.extend_from_slice(&s[start..i]);
        out.extend_from_slice(rep);
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
}

fn escape_attr_into(out: &mut Vec<u8>, s: &str) {
    for b in s.bytes() {
        match b {
            b'"' => out.extend_from_slice(b"&quot;"),
            b'&' => out.extend_from_slice(b"&amp;"),
            b'<' => out.extend_from_slice(b"&lt;"),
            0..=0x1f => {}
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_in_one_pass_and_keeps_crlf() {
        let mut out = Vec::new();
        escape_into(&mut out, b"A&B <c>\r\nNOTE:x\x01y\tz");
        assert_eq!(out, b"A&amp;B &lt;c&gt;&#13;\nNOTE:xy\tz");
    }

    #[test]
    fn status_lines_are_exact() {
        assert_eq!(status_line(StatusCode::OK), "HTTP/1.1 200 OK");
        assert_eq!(status_line(StatusCode::NOT_FOUND), "HTTP/1.1 404 Not Found");
        assert_eq!(
            status_line(StatusCode::INSUFFICIENT_STORAGE),
            "HTTP/1.1 507 Insufficient Storage"
        );
    }

    #[test]
    fn unknown_namespaces_are_declared_inline_and_parse_back() {
        let mut w = Multistatus::new();
        w.begin_response("/dav/");
        w.begin_propstat();
        w.empty(&QName::new("http://me.com/_namespace/", "bulk-requests"));
        w.empty(&QName::new("", "nons"));
        w.empty(&QName::new(NS_CS, "getctag"));
        w.end_propstat(StatusCode::NOT_FOUND, None);
        w.end_response();
        let doc = w.finish();
        let root = crate::dav::xml::parse_body(&doc).unwrap().unwrap();
        let prop = &root.children[0].children[1].children[0];
        assert!(prop.children[0].is("http://me.com/_namespace/", "bulk-requests"));
        assert!(prop.children[1].is("", "nons"));
        assert!(prop.children[2].is(NS_CS, "getctag"));
    }

    #[test]
    fn error_bodies_are_xml() {
        let body = error_body("<d:valid-sync-token/>", Some("a & b"));
        let root = crate::dav::xml::parse_body(&body).unwrap().unwrap();
        assert!(root.is(super::NS_DAV, "error"));
        assert!(root.children[0].is(super::NS_DAV, "valid-sync-token"));
        assert_eq!(root.children[1].text, "a & b");
    }
}
