//! The `8-4-4-4-12` text form of 16 bytes (GUIDs, UUIDs), the one shape Graph ids,
//! request ids and vCard UIDs share. One function, so every layer that mints such an id
//! (the emulator, the Graph client's `client-request-id`, name-based UIDs in `vcard`,
//! payload ids of the onboarding page's configuration profile) writes it the same way,
//! lowercase hex.

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` of `bytes`, in order, lowercase.
pub fn hyphenated(bytes: &[u8; 16]) -> String {
    let h: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A name-based RFC 9562 version-8 UUID: the first 128 bits of SHA-256(`domain` ‖
/// `name`) with the version and variant bits set. The same inputs always give the same
/// UUID (vCard UIDs of cards Graph made, configuration-profile payload ids).
pub fn name_based(domain: &[u8], name: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(domain)
        .chain_update(name)
        .finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    hyphenated(&b)
}

/// A random GUID-shaped id (request ids; not an RFC 9562 version-4 UUID).
pub fn random() -> String {
    hyphenated(&rand::random())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_written_in_order_in_five_groups() {
        let b: [u8; 16] = core::array::from_fn(|i| i as u8 * 17);
        assert_eq!(hyphenated(&b), "00112233-4455-6677-8899-aabbccddeeff");
        let r = random();
        assert_eq!(r.len(), 36);
        assert_eq!(r.matches('-').count(), 4);
        assert_ne!(r, random());
    }
}
