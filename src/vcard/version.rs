//! vCard 3.0 ⇄ 4.0 conversion of a whole card, through calcard (reference/crates.md §2).
//!
//! Used only when a card is served in another version than the client wrote it in; the
//! same-version path never touches calcard, so it stays byte-faithful. Two calcard
//! pitfalls are handled here: the photo never goes through calcard (the caller writes it,
//! `photo.rs`), and `data:…;base64\,` in any other 4.0 value gets its comma unescaped.

use super::VCardVersion;
use super::line::{unfold, write_folded};

fn calcard_version(v: VCardVersion) -> calcard::vcard::VCardVersion {
    match v {
        VCardVersion::V3 => calcard::vcard::VCardVersion::V3_0,
        VCardVersion::V4 => calcard::vcard::VCardVersion::V4_0,
    }
}

/// Convert unfolded body lines written in `from` into a complete card in `to`, with
/// `photo_line` (already in `to`'s form) placed before `END:VCARD`.
pub fn convert(
    body: &[String],
    from: VCardVersion,
    to: VCardVersion,
    photo_line: Option<&str>,
) -> String {
    let mut source = String::with_capacity(64 + body.iter().map(|l| l.len() + 4).sum::<usize>());
    source.push_str("BEGIN:VCARD\r\nVERSION:");
    source.push_str(from.as_str());
    source.push_str("\r\n");
    for line in body {
        write_folded(&mut source, line);
    }
    source.push_str("END:VCARD\r\n");

    let mut converted = String::with_capacity(source.len() + 64);
    let lines: Vec<String> = match calcard::vcard::VCard::parse(&source) {
        Ok(card) if card.write_to(&mut converted, calcard_version(to)).is_ok() => {
            unfold(&converted)
                .into_iter()
                // Never serve a line our own parser would refuse.
                .filter(|u| super::line::ContentLine::parse(&u.text).is_ok())
                .map(|u| {
                    if to == VCardVersion::V4 && u.text.contains("base64\\,") {
                        u.text.replace("base64\\,", "base64,")
                    } else {
                        u.text.into_owned()
                    }
                })
                .collect()
        }
        // calcard refused the card: serve the lines unconverted rather than nothing.
        _ => {
            tracing::debug!("calcard could not convert a card; serving it unconverted");
            let mut lines = vec!["BEGIN:VCARD".to_owned(), format!("VERSION:{}", to.as_str())];
            lines.extend(body.iter().cloned());
            lines.push("END:VCARD".to_owned());
            lines
        }
    };

    // calcard marks every non-ASCII 3.0 value `CHARSET=UTF-8`; drop what the client's
    // lines did not have, so a conversion adds no parameters of its own.
    let strip_charset = to == VCardVersion::V3
        && !body.iter().any(|l| {
            let params = &l[..l.find(':').unwrap_or(l.len())];
            params.to_ascii_uppercase().contains("CHARSET=")
        });
    let lines: Vec<String> = if strip_charset {
        lines
            .into_iter()
            .map(|l| {
                if l.contains(";CHARSET=UTF-8") {
                    strip_param_before_value(&l, ";CHARSET=UTF-8")
                } else {
                    l
                }
            })
            .collect()
    } else {
        lines
    };
    let mut out = String::with_capacity(converted.len() + photo_line.map_or(0, str::len) + 16);
    for line in &lines {
        if line.eq_ignore_ascii_case("END:VCARD")
            && let Some(p) = photo_line
        {
            write_folded(&mut out, p);
        }
        write_folded(&mut out, line);
    }
    out
}

/// Remove `param` from the parameter part of an unfolded line (never from its value).
fn strip_param_before_value(line: &str, param: &str) -> String {
    let value_start = line.find(':').unwrap_or(line.len());
    match line[..value_start].find(param) {
        Some(at) => format!("{}{}", &line[..at], &line[at + param.len()..]),
        None => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn converts_both_ways_and_places_the_photo() {
        let v4 = convert(
            &body(&[
                "FN:Jane",
                "N:Doe;Jane;;;",
                "BDAY;VALUE=date:1984-01-24",
                "item1.X-ABLabel:x",
            ]),
            VCardVersion::V3,
            VCardVersion::V4,
            Some("PHOTO:data:image/jpeg;base64,AAAA"),
        );
        assert!(v4.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\n"), "{v4}");
        assert!(v4.contains("FN:Jane\r\n"));
        assert!(v4.contains("PHOTO:data:image/jpeg;base64,AAAA\r\nEND:VCARD\r\n"));
        assert!(v4.to_ascii_uppercase().contains("ITEM1.X-ABLABEL:X"));
        let v3 = convert(
            &body(&["FN:Jane", "TEL;TYPE=work:+1"]),
            VCardVersion::V4,
            VCardVersion::V3,
            None,
        );
        assert!(v3.contains("VERSION:3.0\r\n"), "{v3}");
        assert!(v3.contains("+1"));
    }

    #[test]
    fn conversion_to_30_adds_no_charset() {
        let v3 = convert(
            &body(&["FN:Jürgen", "NOTE:Grüße; CHARSET=UTF-8 is text here"]),
            VCardVersion::V4,
            VCardVersion::V3,
            None,
        );
        assert!(v3.contains("FN:Jürgen\r\n"), "{v3}");
        assert!(!v3.contains(";CHARSET"), "{v3}");
        assert!(v3.contains("CHARSET=UTF-8 is text here"), "{v3}");
    }

    #[test]
    fn data_uri_comma_is_not_escaped_in_40() {
        let v4 = convert(
            &body(&["FN:Jane", "LOGO;ENCODING=b;TYPE=PNG:iVBORw0KGgo="]),
            VCardVersion::V3,
            VCardVersion::V4,
            None,
        );
        assert!(!v4.contains("base64\\,"), "{v4}");
    }
}
