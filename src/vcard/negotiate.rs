//! Which vCard version to serve (RFC 6352 §10.4 `address-data` version, and the
//! `Accept` header of a GET, RFC 9110 §12.5.1). 3.0 unless 4.0 is asked for, because
//! macOS Contacts drops 4.0 cards (reference/clients.md §0.3, §2.4).

use super::VCardVersion;

/// Pick the version to serve; an explicit `address-data` version wins over `Accept`.
pub fn negotiate_version(accept: Option<&str>, address_data_version: Option<&str>) -> VCardVersion {
    if let Some(v) = address_data_version {
        match v.trim().trim_matches('"') {
            "4.0" => return VCardVersion::V4,
            "3.0" => return VCardVersion::V3,
            _ => {}
        }
    }
    let Some(accept) = accept else {
        return VCardVersion::V3;
    };
    // The highest-q text/vcard range that names a version decides; ties keep 3.0.
    let mut best: Option<(f32, VCardVersion)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("");
        if !media.eq_ignore_ascii_case("text/vcard") {
            continue;
        }
        let mut q = 1.0_f32;
        let mut version = None;
        for p in parts {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"');
            if k.trim().eq_ignore_ascii_case("q") {
                q = v.parse().unwrap_or(0.0);
            } else if k.trim().eq_ignore_ascii_case("version") {
                version = match v {
                    "4.0" => Some(VCardVersion::V4),
                    "3.0" => Some(VCardVersion::V3),
                    _ => None,
                };
            }
        }
        if let Some(v) = version
            && q > 0.0
            && best.is_none_or(|(bq, bv)| {
                q > bq || (q == bq && bv == VCardVersion::V4 && v == VCardVersion::V3)
            })
        {
            best = Some((q, v));
        }
    }
    best.map_or(VCardVersion::V3, |(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_30() {
        assert_eq!(negotiate_version(None, None), VCardVersion::V3);
        assert_eq!(negotiate_version(Some("*/*"), None), VCardVersion::V3);
        assert_eq!(
            negotiate_version(Some("text/vcard"), Some("2.1")),
            VCardVersion::V3
        );
    }

    #[test]
    fn honours_explicit_requests() {
        assert_eq!(negotiate_version(None, Some("4.0")), VCardVersion::V4);
        assert_eq!(
            negotiate_version(Some("text/vcard; version=4.0"), None),
            VCardVersion::V4
        );
        assert_eq!(
            negotiate_version(Some("text/vcard;version=\"4.0\""), None),
            VCardVersion::V4
        );
        assert_eq!(
            negotiate_version(Some("text/vcard;version=4.0"), Some("3.0")),
            VCardVersion::V3
        );
        assert_eq!(
            negotiate_version(
                Some("text/vcard;version=4.0;q=0.5, text/vcard;version=3.0"),
                None
            ),
            VCardVersion::V3
        );
        assert_eq!(
            negotiate_version(Some("text/vcard;version=4.0;q=0"), None),
            VCardVersion::V3
        );
    }
}
