//! Resource names and book path segments (DESIGN.md "hrefs and UIDs", "Address books =
//! contact folders"; clients.md §0.5, §9).
//!
//! A name a client chose in its PUT is kept verbatim (the href ⇄ immutable-id map is
//! persisted by the mirror). Contacts created in Outlook get a name derived from their
//! immutable Graph id: short, lower-case hex (safe on case-insensitive file systems
//! that vdirsyncer writes to), `.vcf`. Books: the default folder is `contacts`, child
//! folders get `f` + hex of a digest of the folder id, and an MKCOL keeps the client's
//! segment. Derivations are pure functions of the id, so a lost state store gives the
//! same names back.

use sha2::{Digest, Sha256};

/// Path segment of the default Contacts folder.
pub const DEFAULT_BOOK: &str = "contacts";

fn hex_digest(domain: &[u8], id: &str, bytes: usize) -> String {
    let d = Sha256::new()
        .chain_update(domain)
        .chain_update(id.as_bytes())
        .finalize();
    d[..bytes].iter().map(|b| format!("{b:02x}")).collect()
}

/// The server-side resource name of a contact created in Outlook (20 hex digits + `.vcf`).
/// `attempt` > 0 gives alternatives for the rare clash with a client-chosen name.
pub fn name_for_graph_id(id: &str, attempt: u32) -> String {
    let base = hex_digest(b"cardbridge href\0", id, 10);
    if attempt == 0 {
        format!("{base}.vcf")
    } else {
        format!("{base}-{attempt}.vcf")
    }
}

/// The path segment of a child folder's book. `attempt` > 0 for the rare clash.
pub fn segment_for_folder_id(id: &str, attempt: u32) -> String {
    let base = hex_digest(b"cardbridge folder\0", id, 6);
    if attempt == 0 {
        format!("f{base}")
    } else {
        format!("f{base}-{attempt}")
    }
}

/// Whether `name` is acceptable as a client-chosen resource name: anything `dav` can
/// carry in a path segment (it percent-encodes every href it writes), except what
/// would break the layout or the state keys: `/`, `\`, NUL (the key separator), `.`
/// and `..`. Control characters such as a newline are allowed: real UIDs carry them
/// and vdirsyncer names cards after their UIDs.
pub fn valid_name(name: &str) -> bool {
    valid_path_segment(name, 255)
}

/// Whether `segment` is acceptable as a client-chosen book segment (MKCOL); the same
/// rule as [`valid_name`] (hrefs are percent-encoded by `dav`), shorter.
pub fn valid_segment(segment: &str) -> bool {
    valid_path_segment(segment, 128)
}

fn valid_path_segment(s: &str, max_len: usize) -> bool {
    !s.is_empty()
        && s.len() <= max_len
        && s != "."
        && s != ".."
        && !s.chars().any(|c| matches!(c, '/' | '\\' | '\0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_names_are_stable_short_and_url_safe() {
        let id = "AAMkAGI2TG93AAA=/+x";
        let a = name_for_graph_id(id, 0);
        assert_eq!(a, name_for_graph_id(id, 0));
        assert_ne!(a, name_for_graph_id("AAMkAGI2TG93AAB=/+x", 0));
        assert_eq!(a.len(), 24);
        assert!(a.ends_with(".vcf"));
        assert!(
            a.trim_end_matches(".vcf")
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert!(valid_name(&a));
        assert_ne!(name_for_graph_id(id, 1), a);
        assert!(name_for_graph_id(id, 1).ends_with("-1.vcf"));
    }

    #[test]
    fn folder_segments_are_stable_and_never_the_default() {
        let s = segment_for_folder_id("AAMkFolder==", 0);
        assert_eq!(s, segment_for_folder_id("AAMkFolder==", 0));
        assert!(s.starts_with('f') && s.len() == 13);
        assert_ne!(s, DEFAULT_BOOK);
        assert!(valid_segment(&s));
    }

    #[test]
    fn name_and_segment_validation() {
        assert!(valid_name("3F2A-ü.vcf"));
        assert!(!valid_name("a/b.vcf"));
        assert!(!valid_name(".."));
        assert!(!valid_name(""));
        assert!(valid_name("a\nb.vcf"));
        assert!(!valid_name("a\0b"));
        assert!(valid_segment("6f1b7c0e-0b7a-4c39-9d52-ff11aa22bb33"));
        assert!(valid_segment("test @ foo ät bar"));
        assert!(!valid_segment("a/b"));
        assert!(!valid_segment("a\0b"));
        assert!(!valid_segment(".."));
    }
}
