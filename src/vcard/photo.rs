//! `PHOTO` ⇄ the contact photo (reference/graph.md §2.7, §4.6).
//!
//! Reads every inline form clients write: 3.0 `PHOTO;ENCODING=b;TYPE=JPEG:`, Apple's
//! `PHOTO;BASE64:`, 2.1 `ENCODING=BASE64`, and `data:` URIs (4.0, and 3.0 with
//! `VALUE=uri`), including the `data:…;base64\,` form with an escaped comma. Writes
//! 3.0 `PHOTO;ENCODING=b;TYPE=JPEG:` and 4.0 `PHOTO:data:image/jpeg;base64,` with an
//! unescaped comma (calcard escapes it, and clients then cannot read the photo).
//! Photo URLs (`http…`) are not inline photos: they stay in the stash and are never fetched.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD_INDIFFERENT};

use super::line::ContentLine;
use super::{VCardError, VCardVersion};
use crate::graph::model::Photo;

/// Media types Graph accepts for a contact photo, with their 3.0 `TYPE` names.
const SUPPORTED: &[(&str, &str)] = &[
    ("image/jpeg", "JPEG"),
    ("image/png", "PNG"),
    ("image/gif", "GIF"),
];

/// If `line` is a PHOTO carrying inline data, decode it (`Ok(None)` for URL photos).
pub fn decode_inline(line: &ContentLine, max_bytes: usize) -> Result<Option<Photo>, VCardError> {
    let value = line.value.trim();
    let (declared, payload) = if let Some(rest) = after_data_scheme(value) {
        let comma = rest.find(',').ok_or_else(|| {
            VCardError::Photo("data: URI without a ',' before the data".to_owned())
        })?;
        let (meta, data) = (rest[..comma].trim_end_matches('\\'), &rest[comma + 1..]);
        if !meta.to_ascii_lowercase().ends_with(";base64") {
            return Err(VCardError::Photo(
                "data: URI photo is not base64-encoded".to_owned(),
            ));
        }
        let media = meta.split(';').next().unwrap_or("").to_ascii_lowercase();
        (Some(media), data)
    } else if is_base64_encoded(line) {
        let declared = line
            .param_values("TYPE")
            .chain(line.param_values("MEDIATYPE"))
            .next()
            .map(|t| {
                let t = t.to_ascii_lowercase();
                if t.contains('/') {
                    t
                } else {
                    format!("image/{t}")
                }
            });
        (declared, value)
    } else {
        return Ok(None);
    };
    let cleaned: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    // Decoded size is about 3/4 of the text: refuse before decoding a huge value.
    if cleaned.len() / 4 * 3 > max_bytes + 3 {
        return Err(VCardError::Photo(format!(
            "photo larger than {max_bytes} bytes"
        )));
    }
    let bytes = STANDARD
        .decode(&cleaned)
        .or_else(|_| STANDARD_NO_PAD_INDIFFERENT.decode(&cleaned))
        .map_err(|e| VCardError::Photo(format!("photo is not valid base64: {e}")))?;
    if bytes.len() > max_bytes {
        return Err(VCardError::Photo(format!(
            "photo larger than {max_bytes} bytes"
        )));
    }
    let content_type = sniff(&bytes).ok_or_else(|| {
        VCardError::Photo(format!(
            "unsupported photo format ({}); JPEG, PNG or GIF expected",
            declared.as_deref().unwrap_or("unknown type")
        ))
    })?;
    Ok(Some(Photo {
        content_type: content_type.to_owned(),
        bytes: bytes.into(),
    }))
}

/// The part after a leading `data:` (any case), if the value is a data URI.
fn after_data_scheme(value: &str) -> Option<&str> {
    value
        .get(..5)
        .filter(|scheme| scheme.eq_ignore_ascii_case("data:"))
        .map(|_| &value[5..])
}

fn is_base64_encoded(line: &ContentLine) -> bool {
    line.param_values("ENCODING")
        .any(|e| e.eq_ignore_ascii_case("b") || e.eq_ignore_ascii_case("base64"))
        || line
            .params
            .iter()
            .any(|p| p.values.is_empty() && p.name.eq_ignore_ascii_case("base64"))
}

/// Media type from the first bytes (what Graph will see), `None` when not supported.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else {
        None
    }
}

/// What the stash keeps of an inline PHOTO line: its group and parameters, and for a
/// `data:` URI the part before the data (`data:image/jpeg;base64,`), so the photo can be
/// written back in the client's own form. Never the bytes.
pub fn stash_template(line: &ContentLine) -> String {
    let value = line.value.trim();
    match (after_data_scheme(value), value.find(',')) {
        (Some(_), Some(comma)) => value[..=comma].replace("\\,", ","),
        _ => String::new(),
    }
}

/// The media type a stashed template declares, lower-case (`None`: declares none).
fn template_media(template: &ContentLine) -> Option<String> {
    let value = template.value.trim();
    if let Some(rest) = after_data_scheme(value) {
        return rest.split([';', ',']).next().map(str::to_ascii_lowercase);
    }
    template
        .param_values("TYPE")
        .chain(template.param_values("MEDIATYPE"))
        .next()
        .map(|t| {
            let t = t.to_ascii_lowercase();
            if t.contains('/') {
                t
            } else {
                format!("image/{t}")
            }
        })
}

/// The unfolded PHOTO line for `photo` in `version`. With a `template` (the client's
/// stashed line, same version) whose declared type matches, the client's parameters and
/// value form are kept; otherwise a fresh line under the template's group.
pub fn photo_line(photo: &Photo, version: VCardVersion, template: Option<&ContentLine>) -> String {
    let media = photo.content_type.to_ascii_lowercase();
    let media = sniff(&photo.bytes).unwrap_or(media.as_str()).to_owned();
    let data = STANDARD.encode(&photo.bytes);
    if let Some(t) = template {
        let declared = template_media(t);
        let matches = declared
            .as_deref()
            .is_none_or(|d| d == media || (d == "image/jpg" && media == "image/jpeg"));
        let data_uri = t.value.starts_with("data:");
        let form_fits = data_uri || is_base64_encoded(t);
        if matches && form_fits {
            let mut line = t.clone();
            line.set_value(format!("{}{data}", t.value));
            return line.to_unfolded();
        }
    }
    let prefix = template
        .and_then(|t| t.group.as_deref())
        .map(|g| format!("{g}."))
        .unwrap_or_default();
    match version {
        VCardVersion::V3 => {
            let type_name = SUPPORTED
                .iter()
                .find(|(m, _)| *m == media)
                .map(|(_, t)| (*t).to_owned())
                .unwrap_or_else(|| media.trim_start_matches("image/").to_ascii_uppercase());
            format!("{prefix}PHOTO;ENCODING=b;TYPE={type_name}:{data}")
        }
        VCardVersion::V4 => format!("{prefix}PHOTO:data:{media};base64,{data}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = &[0xff, 0xd8, 0xff, 0xe0, 0, 0x10, b'J', b'F', b'I', b'F'];

    fn line(s: &str) -> ContentLine {
        ContentLine::parse(s).unwrap()
    }

    #[test]
    fn reads_every_inline_form() {
        let b64 = STANDARD.encode(JPEG);
        for text in [
            format!("PHOTO;ENCODING=b;TYPE=JPEG:{b64}"),
            format!("PHOTO;BASE64:{b64}"),
            format!("PHOTO;ENCODING=BASE64;JPEG:{b64}"),
            format!("PHOTO:data:image/jpeg;base64,{b64}"),
            format!("PHOTO;VALUE=uri:data:image/jpeg;base64\\,{b64}"),
        ] {
            let p = decode_inline(&line(&text), 1000).unwrap().unwrap();
            assert_eq!(&p.bytes[..], JPEG, "{text}");
            assert_eq!(p.content_type, "image/jpeg");
        }
    }

    #[test]
    fn multibyte_values_are_not_sliced_mid_character() {
        assert_eq!(decode_inline(&line("PHOTO:日本語の写真"), 1000), Ok(None));
        assert_eq!(stash_template(&line("PHOTO:dä")), "");
    }

    #[test]
    fn url_photo_is_not_inline() {
        assert_eq!(
            decode_inline(&line("PHOTO;VALUE=uri:https://example.com/a.jpg"), 1000),
            Ok(None)
        );
    }

    #[test]
    fn rejects_oversized_unsupported_and_broken_photos() {
        let b64 = STANDARD.encode(JPEG);
        assert!(matches!(
            decode_inline(&line(&format!("PHOTO;ENCODING=b:{b64}")), 4),
            Err(VCardError::Photo(_))
        ));
        let bmp = STANDARD.encode(b"BM\0\0\0\0");
        assert!(matches!(
            decode_inline(&line(&format!("PHOTO;ENCODING=b;TYPE=BMP:{bmp}")), 1000),
            Err(VCardError::Photo(m)) if m.contains("BMP") || m.contains("bmp")
        ));
        assert!(matches!(
            decode_inline(&line("PHOTO;ENCODING=b:!!!notbase64"), 1000),
            Err(VCardError::Photo(_))
        ));
    }

    #[test]
    fn writes_version_specific_lines_with_an_unescaped_comma() {
        let p = Photo {
            content_type: "image/jpeg".into(),
            bytes: JPEG.to_vec().into(),
        };
        let v3 = photo_line(&p, VCardVersion::V3, None);
        assert!(v3.starts_with("PHOTO;ENCODING=b;TYPE=JPEG:/9j/"));
        let group = ContentLine::new(Some("item9"), "PHOTO", Vec::new(), String::new());
        let v4 = photo_line(&p, VCardVersion::V4, Some(&group));
        assert!(v4.starts_with("item9.PHOTO:data:image/jpeg;base64,/9j/"));
        // The client's own form is kept when the type matches.
        let apple = line("PHOTO;BASE64:");
        let kept = photo_line(&p, VCardVersion::V3, Some(&apple));
        assert!(kept.starts_with("PHOTO;BASE64:/9j/"), "{kept}");
        let mut tb = line("PHOTO;VALUE=uri:data:image/jpeg;base64,AAAA");
        let template = stash_template(&tb);
        tb.set_value(template);
        let kept_uri = photo_line(&p, VCardVersion::V3, Some(&tb));
        assert!(
            kept_uri.starts_with("PHOTO;VALUE=uri:data:image/jpeg;base64,/9j/"),
            "{kept_uri}"
        );
        let png = line("PHOTO;ENCODING=b;TYPE=PNG:");
        assert!(
            photo_line(&p, VCardVersion::V3, Some(&png)).starts_with("PHOTO;ENCODING=b;TYPE=JPEG:")
        );
        // All read back to the same bytes.
        for l in [v3, v4, kept, kept_uri] {
            let back = decode_inline(&line(&l), 1000).unwrap().unwrap();
            assert_eq!(back, p);
        }
    }
}
