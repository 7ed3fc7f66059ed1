//! Removing a contact photo, which Graph cannot do (reference/graph.md §4.6: "no delete
//! for contact photos"; its workarounds are "replace with another image, or recreate the
//! contact"; issue 7 item 6).
//!
//! Recreating the contact would give it a new Graph id (Outlook-side links, flags and
//! history lost, and one more unknown-outcome window), so the bridge replaces the photo
//! with [`NO_PHOTO_PNG`], a fully transparent 1×1 PNG, and treats exactly these bytes as
//! "no photo" whenever it reads a photo back: CardDAV clients see no `PHOTO`; Outlook
//! and other Graph clients see a blank picture in place of the old one.
//!
//! Photos over Graph's 4 MB request cap are refused when the card is parsed (`vcard`'s
//! photo limit → `valid-address-data` / `max-resource-size`), not resized: resizing
//! would need an image codec dependency.

/// A transparent 1×1 PNG (valid chunk CRCs) standing for "no photo".
pub const NO_PHOTO_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0x7a, 0x5e, 0xab, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

/// The photo that replaces a removed one.
pub fn placeholder() -> crate::graph::model::Photo {
    crate::graph::model::Photo {
        content_type: "image/png".into(),
        bytes: bytes::Bytes::from_static(NO_PHOTO_PNG),
    }
}

/// Whether a photo read from Graph is the "removed" placeholder.
pub fn is_placeholder(bytes: &[u8]) -> bool {
    bytes == NO_PHOTO_PNG
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_is_a_png_graph_accepts_and_is_recognised() {
        let p = placeholder();
        assert!(p.bytes.starts_with(b"\x89PNG\r\n\x1a\n") && p.content_type == "image/png");
        assert!(is_placeholder(&p.bytes));
        assert!(!is_placeholder(b"\x89PNG\r\n\x1a\nother"));
    }
}
