//! Strong ETags and `If-Match` matching (DESIGN.md "ETags"; clients.md §0.4).
//!
//! An ETag is a digest of the contact's Graph `changeKey`, the bridge's
//! [`RENDERING_VERSION`], the vCard version served and the bytes served: so a mapping
//! change, a different version or a photo fetched later all change it, and two equal
//! representations always share it. Always strong and quoted.

use crate::vcard::{RENDERING_VERSION, VCardVersion};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The quoted strong ETag of `body`, the rendering of a contact at `change_key` in `version`.
pub fn etag(change_key: &str, version: VCardVersion, body: &[u8]) -> String {
    let d = Sha256::new()
        .chain_update(change_key.as_bytes())
        .chain_update([0])
        .chain_update(RENDERING_VERSION.to_be_bytes())
        .chain_update(version.as_str().as_bytes())
        .chain_update([0])
        .chain_update(body)
        .finalize();
    let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d[..15]);
    format!("\"{tag}\"")
}

/// The `If-Match` header value: `*`, or a list of entity tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    Tags(Vec<String>),
}

impl IfMatch {
    /// Parse `If-Match` as sent. Tags are kept without `W/` and quotes: DAVx5 strips them
    /// and other clients send the ETag verbatim, both must match (clients.md §3.3).
    pub fn parse(header: &str) -> IfMatch {
        if header.trim() == "*" {
            return IfMatch::Any;
        }
        IfMatch::Tags(
            header
                .split(',')
                .map(bare)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Whether any of `current` (quoted ETags of the existing resource) matches.
    pub fn matches<'a>(&self, mut current: impl Iterator<Item = &'a str>) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Tags(tags) => current.any(|c| tags.iter().any(|t| t == bare(c))),
        }
    }
}

/// An entity tag without `W/` and surrounding quotes.
fn bare(tag: &str) -> &str {
    let t = tag.trim();
    let t = t.strip_prefix("W/").unwrap_or(t);
    t.trim_matches('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_is_strong_quoted_and_depends_on_every_input() {
        let a = etag("EQAAABYAAAD/+1", VCardVersion::V3, b"BEGIN:VCARD");
        assert!(a.starts_with('"') && a.ends_with('"') && !a.starts_with("W/"));
        assert_eq!(a, etag("EQAAABYAAAD/+1", VCardVersion::V3, b"BEGIN:VCARD"));
        assert_ne!(a, etag("EQAAABYAAAD/+2", VCardVersion::V3, b"BEGIN:VCARD"));
        assert_ne!(a, etag("EQAAABYAAAD/+1", VCardVersion::V4, b"BEGIN:VCARD"));
        assert_ne!(a, etag("EQAAABYAAAD/+1", VCardVersion::V3, b"BEGIN:VCARD "));
        assert!(!a[1..a.len() - 1].contains(['"', '/', '+']));
    }

    #[test]
    fn if_match_accepts_quoted_bare_weak_and_lists() {
        let e = etag("k", VCardVersion::V3, b"x");
        let inner = e.trim_matches('"').to_owned();
        for h in [
            e.clone(),
            inner.clone(),
            format!("W/{e}"),
            format!("\"nope\", {e}"),
        ] {
            assert!(IfMatch::parse(&h).matches([e.as_str()].into_iter()), "{h}");
        }
        assert!(!IfMatch::parse("\"other\"").matches([e.as_str()].into_iter()));
        assert!(IfMatch::parse(" * ").matches(std::iter::empty()));
        assert!(!IfMatch::parse("\"a\"").matches(std::iter::empty()));
    }
}
