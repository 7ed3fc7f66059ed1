//! The stash: what Graph fields cannot hold, kept in one String extended property
//! (`STASH_PROPERTY_ID`, reference/graph.md §5.3) and merged back on read.
//!
//! It holds the client's card as unfolded content lines (every property, parameter,
//! group and their order; an inline photo's bytes are removed, the photo lives in Graph),
//! which of those lines feed which Graph field, and a fingerprint of every Graph field as
//! it was written. On render, a field whose current Graph value still has the written
//! fingerprint comes back exactly as the client wrote it; a field edited in Outlook
//! (fingerprint differs) wins and its lines are rewritten from Graph.
//!
//! Text format (line oriented, versioned, tolerant of unknown header keys):
//!
//! ```text
//! cardbridge-stash 1
//! version 3.0
//! fp emailAddresses 5f0c2a1e9b3d7a44
//! bind 3 email:0
//! lines
//! N:Doe;John;;;
//! item1.EMAIL;type=INTERNET:john@example.com
//! ```

use super::VCardVersion;
use super::line::ContentLine;
use super::mapping::{Binding, Field};
use std::fmt::Write as _;

const MAGIC: &str = "cardbridge-stash 1";

/// One client line, with the Graph field it feeds (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StashedLine {
    pub line: ContentLine,
    pub binding: Option<Binding>,
    /// The value was too large to keep twice: the stash holds the line without it and
    /// render always takes the value from Graph.
    pub elided: bool,
}

/// The decoded stash.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stash {
    /// vCard version the lines are written in.
    pub version: VCardVersion,
    /// Fingerprint of each Graph field as written (fields written empty are absent).
    pub fingerprints: Vec<(Field, u64)>,
    /// Body lines (no BEGIN, VERSION, END), in the client's order.
    pub lines: Vec<StashedLine>,
}

impl Stash {
    /// The written fingerprint of `field` (the empty-value fingerprint when absent).
    pub fn fingerprint(&self, field: Field) -> u64 {
        self.fingerprints
            .iter()
            .find(|(f, _)| *f == field)
            .map_or_else(|| fingerprint(""), |(_, fp)| *fp)
    }

    /// Serialise to the text stored in Graph.
    pub fn encode(&self) -> String {
        let mut out =
            String::with_capacity(64 + self.fingerprints.len() * 40 + self.lines.len() * 80);
        out.push_str(MAGIC);
        out.push('\n');
        out.push_str("version ");
        out.push_str(self.version.as_str());
        out.push('\n');
        // Writing into a String cannot fail.
        for (field, fp) in &self.fingerprints {
            let _ = writeln!(out, "fp {} {fp:016x}", field.name());
        }
        for (i, l) in self.lines.iter().enumerate() {
            if let Some(b) = &l.binding {
                let elided = if l.elided { " elided" } else { "" };
                let _ = writeln!(out, "bind {i} {b}{elided}");
            }
        }
        let _ = writeln!(out, "lines {}", self.lines.len());
        for l in &self.lines {
            let text = l.line.to_unfolded();
            if text.contains(['\r', '\n']) {
                out.push_str(&text.replace(['\r', '\n'], ""));
            } else {
                out.push_str(&text);
            }
            out.push('\n');
        }
        out
    }

    /// Parse stored text. `None` when it is not a stash this code can read (then the
    /// contact renders as if created in Outlook, which loses nothing Graph holds).
    pub fn decode(text: &str) -> Option<Stash> {
        let mut it = text.split('\n');
        if it.next()?.trim_end_matches('\r') != MAGIC {
            return None;
        }
        let mut stash = Stash::default();
        let mut bindings: Vec<(usize, Binding, bool)> = Vec::new();
        let mut expected_lines: Option<usize> = None;
        for header in it.by_ref() {
            let header = header.trim_end_matches('\r');
            if header == "lines" {
                break;
            }
            if let Some(count) = header.strip_prefix("lines ") {
                expected_lines = Some(count.trim().parse().ok()?);
                break;
            }
            let mut parts = header.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("version"), Some("4.0"), None) => stash.version = VCardVersion::V4,
                (Some("version"), Some(_), None) => stash.version = VCardVersion::V3,
                (Some("fp"), Some(name), Some(hex)) => {
                    if let (Some(f), Ok(fp)) =
                        (Field::from_name(name), u64::from_str_radix(hex, 16))
                    {
                        stash.fingerprints.push((f, fp));
                    }
                }
                (Some("bind"), Some(index), Some(rest)) => {
                    let mut words = rest.split(' ');
                    let token = words.next().unwrap_or("");
                    let elided = words.any(|w| w == "elided");
                    if let (Ok(i), Some(b)) = (index.parse(), Binding::from_token(token)) {
                        bindings.push((i, b, elided));
                    }
                }
                _ => {} // unknown header from a newer version: ignore
            }
        }
        let mut seen = 0;
        for raw in it {
            let raw = raw.trim_end_matches('\r');
            if raw.is_empty() {
                continue;
            }
            seen += 1;
            // A line that no longer parses is dropped rather than failing the render.
            if let Ok(line) = ContentLine::parse(raw) {
                stash.lines.push(StashedLine {
                    line,
                    binding: None,
                    elided: false,
                });
            }
        }
        // A stash cut short (a truncating read) is not trusted: rendering from Graph
        // fields alone loses less than silently dropping the tail of the card.
        if expected_lines.is_some_and(|n| n != seen || !text.ends_with('\n')) {
            tracing::warn!(
                expected = expected_lines,
                seen,
                "stash is truncated; ignoring it"
            );
            return None;
        }
        for (i, b, elided) in bindings {
            if let Some(l) = stash.lines.get_mut(i) {
                l.binding = Some(b);
                l.elided = elided;
            }
        }
        Some(stash)
    }
}

/// 64-bit FNV-1a of a canonical field value: stable across Rust releases and platforms
/// (unlike `DefaultHasher`), and fast enough to run over every field on every render.
pub fn fingerprint(canonical: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in canonical.as_bytes() {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Stash {
        Stash {
            version: VCardVersion::V4,
            fingerprints: vec![(Field::EmailAddresses, fingerprint("a@b.c"))],
            lines: vec![
                StashedLine {
                    line: ContentLine::parse("item1.EMAIL;type=INTERNET:a@b.c").unwrap(),
                    binding: Some(Binding::Email(0)),
                    elided: false,
                },
                StashedLine {
                    line: ContentLine::parse("X-FOO;X-P=\"1:2\":bar\\, baz").unwrap(),
                    binding: None,
                    elided: false,
                },
                StashedLine {
                    line: ContentLine::parse("NOTE:").unwrap(),
                    binding: Some(Binding::Text(Field::PersonalNotes)),
                    elided: true,
                },
            ],
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let s = sample();
        let text = s.encode();
        assert!(text.starts_with("cardbridge-stash 1\nversion 4.0\n"));
        assert_eq!(Stash::decode(&text), Some(s));
    }

    #[test]
    fn a_truncated_stash_is_rejected() {
        let text = sample().encode();
        for cut in [1, 10] {
            assert_eq!(Stash::decode(&text[..text.len() - cut]), None, "cut {cut}");
        }
    }

    #[test]
    fn unknown_or_foreign_text_is_not_a_stash() {
        assert_eq!(Stash::decode("BEGIN:VCARD"), None);
        assert_eq!(Stash::decode(""), None);
    }

    #[test]
    fn tolerates_unknown_headers_and_bad_bindings() {
        let text = "cardbridge-stash 1\nversion 3.0\nfuture thing\nbind 9 email:0\nbind 0 nonsense\nlines\nFN:x\nbroken line\n";
        let s = Stash::decode(text).unwrap();
        assert_eq!(s.lines.len(), 1);
        assert_eq!(s.lines[0].binding, None);
    }

    #[test]
    fn missing_fingerprint_means_written_empty() {
        let s = Stash::default();
        assert_eq!(s.fingerprint(Field::JobTitle), fingerprint(""));
        assert_ne!(fingerprint("a"), fingerprint("b"));
    }
}
