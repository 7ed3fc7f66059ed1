//! Sync tokens and ctags (DESIGN.md "Sync tokens"; RFC 6578 §3.2: a token is a URI).
//!
//! `https://cardbridge.invalid/sync/{instance}/{rev}` names a revision of one address
//! book's journal; `…/{rev}/{cursor}` is a continuation token of a first (token-less)
//! sync that was cut by a `limit` after the member `cursor` (hex of the name) in name
//! order. The instance is random per book, persisted, so a token of another book, of
//! another user or of a deleted-and-recreated book is recognisably foreign. Graph delta
//! links never reach clients.

/// The token prefix: `.invalid` can never resolve (RFC 2606).
pub const PREFIX: &str = "https://cardbridge.invalid/sync/";

/// A parsed sync token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncToken {
    pub instance: String,
    pub rev: u64,
    /// For a continuation of a first sync: every member named up to this one was sent.
    pub cursor: Option<String>,
}

impl SyncToken {
    pub fn new(instance: &str, rev: u64) -> Self {
        Self {
            instance: instance.to_owned(),
            rev,
            cursor: None,
        }
    }

    /// The token as handed to clients.
    pub fn to_uri(&self) -> String {
        match &self.cursor {
            None => format!("{PREFIX}{}/{}", self.instance, self.rev),
            Some(c) => {
                let hex: String = c.bytes().map(|b| format!("{b:02x}")).collect();
                format!("{PREFIX}{}/{}/{hex}", self.instance, self.rev)
            }
        }
    }

    /// Parse a token; `None` for anything this bridge could not have issued.
    pub fn parse(token: &str) -> Option<SyncToken> {
        let rest = token.trim().strip_prefix(PREFIX)?;
        let mut parts = rest.split('/');
        let instance = parts.next().filter(|s| valid_instance(s))?;
        let rev_text = parts.next()?;
        if rev_text.is_empty() || !rev_text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let rev = rev_text.parse().ok()?;
        let cursor = match parts.next() {
            None => None,
            Some(hex) => Some(decode_hex(hex)?),
        };
        if parts.next().is_some() {
            return None;
        }
        Some(SyncToken {
            instance: instance.to_owned(),
            rev,
            cursor,
        })
    }
}

fn valid_instance(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn decode_hex(hex: &str) -> Option<String> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect();
    String::from_utf8(bytes?).ok()
}

/// A fresh random book instance id (16 hex digits).
pub fn new_instance() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The CalendarServer `getctag` of a book at `rev`: changes exactly when the token does.
pub fn ctag(instance: &str, rev: u64) -> String {
    format!("\"{instance}-{rev}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_and_without_cursor() {
        let t = SyncToken::new("00ab12cd34ef5678", 42);
        assert_eq!(
            t.to_uri(),
            "https://cardbridge.invalid/sync/00ab12cd34ef5678/42"
        );
        assert_eq!(SyncToken::parse(&t.to_uri()), Some(t.clone()));
        let c = SyncToken {
            cursor: Some("Ünïcode name.vcf".into()),
            ..t
        };
        let uri = c.to_uri();
        assert!(uri.is_ascii());
        assert_eq!(SyncToken::parse(&uri), Some(c));
    }

    #[test]
    fn foreign_and_malformed_tokens_are_rejected() {
        for bad in [
            "",
            "http://example.com/sync/abc/1",
            "https://cardbridge.invalid/sync/abc",
            "https://cardbridge.invalid/sync/abc/",
            "https://cardbridge.invalid/sync/abc/-1",
            "https://cardbridge.invalid/sync/abc/1x",
            "https://cardbridge.invalid/sync/a-c/1",
            "https://cardbridge.invalid/sync/abc/1/zz",
            "https://cardbridge.invalid/sync/abc/1/616/",
            "https://cardbridge.invalid/sync/abc/99999999999999999999999",
        ] {
            assert_eq!(SyncToken::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn instances_differ_and_ctag_follows_rev() {
        assert_ne!(new_instance(), new_instance());
        assert_ne!(ctag("a", 1), ctag("a", 2));
        assert!(ctag("a", 1).starts_with('"'));
    }
}
