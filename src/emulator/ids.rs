//! Identifier and change-key formats (reference/graph.md §2.5, §2.6).
//!
//! Graph identifiers are opaque, case-sensitive base64 strings. The emulator makes them
//! look like the real thing, deterministically, so that client code meets the same shapes:
//! default (REST) contact ids of ~150 characters that change when a contact moves,
//! immutable ids of ~70 characters that never change, folder ids, user GUIDs, and the
//! 30-byte change key `le32(0x11) ‖ le32(22) ‖ mailbox GUID ‖ be48(counter)` in standard
//! base64 (with `+` and `/`).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

/// SplitMix64: the emulator's only pseudo-random generator, so seeds are reproducible.
#[derive(Debug, Clone)]
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish value in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % (n.max(1) as u64)) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// A 16-byte mailbox GUID derived from a number.
pub fn mailbox_guid(n: u64) -> [u8; 16] {
    let mut rng = SplitMix(n ^ 0x00C0_FFEE_0000_0000);
    let mut g = [0u8; 16];
    rng.fill(&mut g);
    g
}

/// Default (REST) contact id: changes with `move_gen`.
pub fn contact_default_id(guid: &[u8; 16], key: u64, move_gen: u32) -> String {
    let mut b = Vec::with_capacity(110);
    b.extend_from_slice(&[0x00, 0x03, 0x24, 0x00]);
    b.extend_from_slice(guid);
    b.extend_from_slice(&[0x00, 0x46, 0x00, 0x00]);
    b.extend_from_slice(&key.to_be_bytes());
    b.extend_from_slice(&move_gen.to_be_bytes());
    let mut rng = SplitMix(key.wrapping_mul(31).wrapping_add(u64::from(move_gen)));
    let mut tail = [0u8; 74];
    rng.fill(&mut tail);
    b.extend_from_slice(&tail);
    URL_SAFE.encode(&b)
}

/// Immutable contact id: fixed for the item's lifetime.
pub fn contact_immutable_id(guid: &[u8; 16], key: u64) -> String {
    let mut b = Vec::with_capacity(50);
    b.extend_from_slice(&[0x00, 0x09, 0x00, 0x2e, 0x00, 0x00]);
    b.extend_from_slice(guid);
    b.extend_from_slice(&[0x01, 0x00]);
    b.extend_from_slice(&key.to_be_bytes());
    let mut rng = SplitMix(key ^ 0x1_0000);
    let mut tail = [0u8; 18];
    rng.fill(&mut tail);
    b.extend_from_slice(&tail);
    URL_SAFE.encode(&b)
}

/// Folder id (folders have no separate immutable form: theirs never change, §2.6).
pub fn folder_id(guid: &[u8; 16], key: u64, is_default: bool) -> String {
    let mut b = Vec::with_capacity(47);
    b.extend_from_slice(if is_default {
        &[0x01, 0x03, 0x24, 0x00]
    } else {
        &[0x00, 0x03, 0x24, 0x00]
    });
    b.extend_from_slice(guid);
    b.extend_from_slice(&[0x00, 0x2e, 0x00, 0x00]);
    b.extend_from_slice(&key.to_be_bytes());
    b.extend_from_slice(&[0x01, 0x00, 0x0e, 0x00, 0x00]);
    let mut rng = SplitMix(key ^ 0xF0_1DE2);
    let mut tail = [0u8; 10];
    rng.fill(&mut tail);
    b.extend_from_slice(&tail);
    URL_SAFE.encode(&b)
}

/// Change key (§2.5): contact kind, mailbox GUID, 48-bit counter, standard base64.
pub fn change_key(guid: &[u8; 16], counter: u64) -> String {
    let mut b = Vec::with_capacity(30);
    b.extend_from_slice(&0x11u32.to_le_bytes());
    b.extend_from_slice(&22u32.to_le_bytes());
    b.extend_from_slice(guid);
    b.extend_from_slice(&counter.to_be_bytes()[2..]);
    STANDARD.encode(&b)
}

/// Random opaque string for tokens and codes (not reproducible on purpose).
pub fn random_token(prefix: &str, bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    for chunk in b.chunks_mut(8) {
        let v = rand::random::<u64>().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&b)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn change_key_is_30_bytes_of_standard_base64_with_growing_counter() {
        let g = mailbox_guid(1);
        let a = change_key(&g, 0xeee3_45ee);
        let b = change_key(&g, 0xeee3_460f);
        let raw = STANDARD.decode(&a).unwrap();
        assert_eq!(raw.len(), 30);
        assert_eq!(&raw[0..4], &[0x11, 0, 0, 0]);
        assert_eq!(&raw[24..30], &[0, 0, 0xee, 0xe3, 0x45, 0xee]);
        assert!(a.starts_with("EQAAABYAAA"));
        assert_ne!(a, b);
    }

    #[test]
    fn ids_have_graph_shapes_and_move_changes_only_default_id() {
        let g = mailbox_guid(7);
        let d0 = contact_default_id(&g, 5, 0);
        let d1 = contact_default_id(&g, 5, 1);
        assert!(d0.starts_with("AAMkA"));
        assert!(d0.len() > 140 && d0.ends_with('='), "{d0}");
        assert_ne!(d0, d1);
        let i = contact_immutable_id(&g, 5);
        assert!(i.starts_with("AAkALgAA") && i.len() < 80, "{i}");
        assert_ne!(contact_immutable_id(&g, 6), i);
        assert_ne!(folder_id(&g, 1, true), folder_id(&g, 1, false));
    }
}
