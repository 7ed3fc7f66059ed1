//! Text value escaping (RFC 6350 §3.4, RFC 2426 §5.8.4) and structured values
//! (`N`, `ADR`, `ORG`: components split on `;`; list values split on `,`).

/// Decode an escaped TEXT value: `\n`/`\N` → newline, `\\`, `\,`, `\;` and (leniently)
/// `\:` → the character; any other `\x` is kept as written.
pub fn unescape(value: &str) -> String {
    if !value.contains('\\') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(e @ ('\\' | ',' | ';' | ':')) => out.push(e),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Encode a TEXT value: backslash, comma, semicolon and newlines (CRLF, CR or LF).
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// Encode a URI-ish value (URL, IMPP, TEL, EMAIL): only line breaks and control
/// characters are touched, so `mailto:`/`tel:` punctuation stays readable.
pub fn escape_uri(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
}

/// Split a raw value on `sep` where it is not escaped by a backslash.
pub fn split_unescaped(value: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&value[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&value[start..]);
    parts
}

/// Decoded components of a structured value (`N`, `ADR`, `ORG`).
pub fn components(value: &str) -> Vec<String> {
    split_unescaped(value, ';')
        .into_iter()
        .map(unescape)
        .collect()
}

/// Decoded items of a list value (`CATEGORIES`, `NICKNAME`).
pub fn list(value: &str) -> Vec<String> {
    split_unescaped(value, ',')
        .into_iter()
        .map(|v| unescape(v).trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Raw components of a structured value, each still escaped (to rebuild a line while
/// keeping the components the mapping does not own exactly as written).
pub fn raw_components(value: &str) -> Vec<String> {
    split_unescaped(value, ';')
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// Decode quoted-printable (vCard 2.1) into bytes.
pub fn decode_quoted_printable(value: &str) -> Vec<u8> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_specials_and_newlines() {
        assert_eq!(escape("a,b;c\\d\r\ne\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
        assert_eq!(unescape("a\\,b\\;c\\\\d\\ne\\Nf\\:g"), "a,b;c\\d\ne\nf:g");
    }

    #[test]
    fn splits_structured_values_on_unescaped_separators() {
        assert_eq!(
            components("Doe;John\\;Jr;;Dr.;"),
            vec!["Doe", "John;Jr", "", "Dr.", ""]
        );
        assert_eq!(list("a,b\\,c, ,d"), vec!["a", "b,c", "d"]);
    }

    #[test]
    fn decodes_quoted_printable() {
        assert_eq!(
            decode_quoted_printable("caf=C3=A9=0D=0Ax"),
            "café\r\nx".as_bytes()
        );
        assert_eq!(decode_quoted_printable("a=ZZ="), b"a=ZZ=");
    }

    proptest! {
        #[test]
        fn escape_then_unescape_gives_back_the_text(s in "[a-zA-Z0-9 ,;:\\\\\nüé漢😀]{0,40}") {
            prop_assert_eq!(unescape(&escape(&s)), s.clone());
            // An escaped value never contains a bare separator or newline.
            let e = escape(&s);
            prop_assert_eq!(split_unescaped(&e, ';').len(), 1);
            prop_assert_eq!(split_unescaped(&e, ',').len(), 1);
            prop_assert!(!e.contains('\n'));
        }

        #[test]
        fn components_round_trip(parts in proptest::collection::vec("[a-z;,\\\\ ]{0,8}", 1..6)) {
            let joined = parts.iter().map(|p| escape(p)).collect::<Vec<_>>().join(";");
            prop_assert_eq!(components(&joined), parts);
        }
    }
}
