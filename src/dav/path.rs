//! The URL layout (see the `dav` module doc) and href encoding.
//!
//! Request paths are percent-decoded segment by segment (RFC 3986 §2.1); hrefs are
//! written with one encode set ([`SEGMENT`]) so the same resource always has the same
//! href, byte for byte (reference/clients.md §0.5, §7). Collections end in `/`
//! (RFC 4918 §5.2); a collection requested without its trailing slash is served too.
//! `..`, `.`, encoded slashes and NULs in a segment are refused (400), never resolved.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Characters left as they are in a path segment: RFC 3986 unreserved plus `@` (user
/// names are often e-mail addresses). Everything else is percent-encoded, like
/// Python's `quote(safe="/@")` that vdirsyncer compares hrefs with.
pub const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// The context path (RFC 6764 §5) every redirect points to.
pub const CONTEXT: &str = "/dav/";

/// A request path, decoded and classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DavPath {
    /// `/.well-known/carddav` (RFC 6764 §5).
    WellKnown,
    /// `/`.
    Root,
    /// `/dav/`.
    Context,
    /// `/dav/principals/`: the principal collection (RFC 3744 §5.8).
    Principals,
    /// `/dav/principals/{user}/` (RFC 3744 §2).
    Principal { user: String },
    /// `/dav/addressbooks/`: parent of the homes.
    Homes,
    /// `/dav/addressbooks/{user}/` (RFC 6352 §7.1.1 address-book home).
    Home { user: String },
    /// `/dav/addressbooks/{user}/{book}/` (RFC 6352 §5.2).
    Book { user: String, book: String },
    /// `/dav/addressbooks/{user}/{book}/{name}` (RFC 6352 §5.1).
    Card {
        user: String,
        book: String,
        name: String,
    },
    /// Anything else under the server: 404.
    Unknown,
}

/// Why a path was refused (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("path segment is not valid percent-encoded UTF-8")]
    NotUtf8,
    #[error("dot segments, encoded slashes and NUL are not allowed in paths")]
    Forbidden,
}

impl DavPath {
    /// Classify a raw (still percent-encoded) request path.
    pub fn parse(raw: &str) -> Result<DavPath, PathError> {
        let raw = raw.split(['?', '#']).next().unwrap_or("");
        if raw == "/.well-known/carddav" || raw == "/.well-known/carddav/" {
            return Ok(DavPath::WellKnown);
        }
        let Some(rest) = raw.strip_prefix('/') else {
            return Ok(DavPath::Unknown);
        };
        if rest.is_empty() {
            return Ok(DavPath::Root);
        }
        let trailing = rest.ends_with('/');
        let mut segs = Vec::new();
        for s in rest.split('/') {
            segs.push(decode_segment(s)?);
        }
        if trailing {
            segs.pop();
        }
        if segs.iter().any(String::is_empty) {
            return Ok(DavPath::Unknown);
        }
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        Ok(match segs.as_slice() {
            [] => DavPath::Root,
            ["dav"] => DavPath::Context,
            ["dav", "principals"] => DavPath::Principals,
            ["dav", "principals", user] => DavPath::Principal {
                user: (*user).to_owned(),
            },
            ["dav", "addressbooks"] => DavPath::Homes,
            ["dav", "addressbooks", user] => DavPath::Home {
                user: (*user).to_owned(),
            },
            ["dav", "addressbooks", user, book] => DavPath::Book {
                user: (*user).to_owned(),
                book: (*book).to_owned(),
            },
            ["dav", "addressbooks", user, book, name] if !trailing => DavPath::Card {
                user: (*user).to_owned(),
                book: (*book).to_owned(),
                name: (*name).to_owned(),
            },
            _ => DavPath::Unknown,
        })
    }

    /// Parse an href from a request body: path-absolute, or an absolute URL whose
    /// path is taken (RFC 4918 §8.3).
    pub fn parse_href(href: &str) -> Result<DavPath, PathError> {
        let href = href.trim();
        let path = match href.find("://") {
            Some(i) if href[..i].chars().all(|c| c.is_ascii_alphanumeric()) => {
                let after = &href[i + 3..];
                match after.find('/') {
                    Some(j) => &after[j..],
                    None => "/",
                }
            }
            _ => href,
        };
        DavPath::parse(path)
    }

    /// The user this path belongs to, if any.
    pub fn user(&self) -> Option<&str> {
        match self {
            DavPath::Principal { user }
            | DavPath::Home { user }
            | DavPath::Book { user, .. }
            | DavPath::Card { user, .. } => Some(user),
            _ => None,
        }
    }
}

fn decode_segment(s: &str) -> Result<String, PathError> {
    let decoded = percent_decode_str(s)
        .decode_utf8()
        .map_err(|_| PathError::NotUtf8)?;
    if decoded == "." || decoded == ".." || decoded.contains(['/', '\0', '\\']) {
        return Err(PathError::Forbidden);
    }
    Ok(decoded.into_owned())
}

/// Append one percent-encoded segment.
pub fn push_segment(out: &mut String, segment: &str) {
    out.extend(utf8_percent_encode(segment, SEGMENT));
}

/// `/dav/principals/{user}/`.
pub fn principal_href(user: &str) -> String {
    let mut s = String::from("/dav/principals/");
    push_segment(&mut s, user);
    s.push('/');
    s
}

/// `/dav/addressbooks/{user}/`.
pub fn home_href(user: &str) -> String {
    let mut s = String::from("/dav/addressbooks/");
    push_segment(&mut s, user);
    s.push('/');
    s
}

/// `/dav/addressbooks/{user}/{book}/`.
pub fn book_href(user: &str, book: &str) -> String {
    let mut s = home_href(user);
    push_segment(&mut s, book);
    s.push('/');
    s
}

/// `/dav/addressbooks/{user}/{book}/{name}`.
pub fn card_href(user: &str, book: &str, name: &str) -> String {
    let mut s = book_href(user, book);
    push_segment(&mut s, name);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_layout() {
        assert_eq!(DavPath::parse("/").unwrap(), DavPath::Root);
        assert_eq!(DavPath::parse("/dav").unwrap(), DavPath::Context);
        assert_eq!(DavPath::parse("/dav/").unwrap(), DavPath::Context);
        assert_eq!(
            DavPath::parse("/.well-known/carddav").unwrap(),
            DavPath::WellKnown
        );
        assert_eq!(
            DavPath::parse("/dav/principals/alice%40example.com/").unwrap(),
            DavPath::Principal {
                user: "alice@example.com".into()
            }
        );
        assert_eq!(
            DavPath::parse("/dav/addressbooks/a/b").unwrap(),
            DavPath::Book {
                user: "a".into(),
                book: "b".into()
            }
        );
        assert_eq!(
            DavPath::parse("/dav/addressbooks/a/b/x%20y+z.vcf?q=1").unwrap(),
            DavPath::Card {
                user: "a".into(),
                book: "b".into(),
                name: "x y+z.vcf".into()
            }
        );
        assert_eq!(
            DavPath::parse("/dav/addressbooks/a/b/c.vcf/").unwrap(),
            DavPath::Unknown
        );
        assert_eq!(DavPath::parse("/dav//x/").unwrap(), DavPath::Unknown);
        assert_eq!(DavPath::parse("/other").unwrap(), DavPath::Unknown);
        assert_eq!(DavPath::parse("*").unwrap(), DavPath::Unknown);
    }

    #[test]
    fn refuses_traversal_and_bad_encoding() {
        assert_eq!(
            DavPath::parse("/dav/addressbooks/a/../b/"),
            Err(PathError::Forbidden)
        );
        assert_eq!(
            DavPath::parse("/dav/addressbooks/a/%2e%2E/"),
            Err(PathError::Forbidden)
        );
        assert_eq!(
            DavPath::parse("/dav/addressbooks/a/b%2Fc/"),
            Err(PathError::Forbidden)
        );
        assert_eq!(
            DavPath::parse("/dav/addressbooks/a/b%00/"),
            Err(PathError::Forbidden)
        );
        assert_eq!(
            DavPath::parse("/dav/addressbooks/a/%ff/"),
            Err(PathError::NotUtf8)
        );
    }

    #[test]
    fn hrefs_encode_with_one_set_and_round_trip() {
        let name = "Ünïcode name+x=y;@~.vcf";
        let href = card_href("alice@example.com", "contacts", name);
        assert_eq!(
            href,
            "/dav/addressbooks/alice@example.com/contacts/%C3%9Cn%C3%AFcode%20name%2Bx%3Dy%3B@~.vcf"
        );
        assert_eq!(
            DavPath::parse(&href).unwrap(),
            DavPath::Card {
                user: "alice@example.com".into(),
                book: "contacts".into(),
                name: name.into()
            }
        );
        assert_eq!(
            DavPath::parse_href("https://h:8443/dav/addressbooks/u/b/").unwrap(),
            DavPath::Book {
                user: "u".into(),
                book: "b".into()
            }
        );
    }
}
