//! Group vCards: a Graph category served as a group card (DESIGN.md "Groups";
//! clients.md §2.3 Apple, §3.4 DAVx5 `GROUP_VCARDS`, §9).
//!
//! - 4.0: `KIND:group` + `MEMBER:urn:uuid:<member UID>` (RFC 6350 §6.1.4, §6.6.5).
//! - 3.0: `X-ADDRESSBOOKSERVER-KIND:group` + `X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:…`
//!   (Apple; macOS reads 3.0 only).
//!
//! A group's name is its `FN` (else the first `N` component). Either dialect is read in
//! either version, since clients mix them. Member values without `urn:uuid:` are taken
//! as written (some clients put a bare UID).

use super::line::{ContentLine, unfold, write_folded};
use super::text::{components, escape, unescape};
use super::{VCardError, VCardVersion};

/// What a client's group card says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCard {
    /// The group's name (becomes the Graph category).
    pub name: String,
    pub uid: Option<String>,
    /// Member UIDs (`urn:uuid:` removed), in card order, without repeats.
    pub members: Vec<String>,
}

fn lines(body: &[u8]) -> Option<Vec<ContentLine>> {
    let text = std::str::from_utf8(body).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    Some(
        unfold(text)
            .iter()
            .filter_map(|l| ContentLine::parse(&l.text).ok())
            .collect(),
    )
}

fn is_kind_group(l: &ContentLine) -> bool {
    (l.is("KIND") || l.is("X-ADDRESSBOOKSERVER-KIND"))
        && l.value.trim().eq_ignore_ascii_case("group")
}

/// Whether the body is a group card (`KIND:group` or `X-ADDRESSBOOKSERVER-KIND:group`).
pub fn is_group_card(body: &[u8]) -> bool {
    lines(body).is_some_and(|ls| ls.iter().any(is_kind_group))
}

/// Read a group card. Errors when it has no usable name.
pub fn parse_group_card(body: &[u8]) -> Result<GroupCard, VCardError> {
    let ls = lines(body).ok_or_else(|| VCardError::Invalid("not UTF-8".to_owned()))?;
    if !ls.iter().any(is_kind_group) {
        return Err(VCardError::Invalid("not a group card".to_owned()));
    }
    let fn_name = ls
        .iter()
        .find(|l| l.is("FN"))
        .map(|l| unescape(l.value.trim()));
    let n_name = ls.iter().find(|l| l.is("N")).and_then(|l| {
        components(&l.value)
            .into_iter()
            .next()
            .map(|c| c.trim().to_owned())
    });
    let name = fn_name
        .filter(|n| !n.trim().is_empty())
        .or(n_name.filter(|n| !n.trim().is_empty()))
        .map(|n| n.trim().to_owned())
        .ok_or_else(|| VCardError::Invalid("group card has no name (FN)".to_owned()))?;
    if name.contains([',', ';']) {
        // Graph category names are free text, but CATEGORIES is a comma list.
        return Err(VCardError::Invalid(
            "group names cannot contain ',' or ';'".to_owned(),
        ));
    }
    let uid = ls
        .iter()
        .find(|l| l.is("UID"))
        .map(|l| l.value.trim().to_owned())
        .filter(|u| !u.is_empty());
    let mut members: Vec<String> = Vec::new();
    for l in ls
        .iter()
        .filter(|l| l.is("MEMBER") || l.is("X-ADDRESSBOOKSERVER-MEMBER"))
    {
        let v = l.value.trim();
        let uid = v
            .get(..9)
            .filter(|p| p.eq_ignore_ascii_case("urn:uuid:"))
            .map_or(v, |_| &v[9..])
            .trim();
        if !uid.is_empty() && !members.iter().any(|m| m == uid) {
            members.push(uid.to_owned());
        }
    }
    Ok(GroupCard { name, uid, members })
}

/// The group card served for a category, members in the order given.
pub fn render_group_card<'a>(
    name: &str,
    uid: &str,
    members: impl IntoIterator<Item = &'a str>,
    version: VCardVersion,
) -> String {
    let mut out = String::new();
    write_folded(&mut out, "BEGIN:VCARD");
    write_folded(&mut out, &format!("VERSION:{}", version.as_str()));
    write_folded(&mut out, &format!("UID:{uid}"));
    let (kind, member) = match version {
        VCardVersion::V4 => ("KIND", "MEMBER"),
        VCardVersion::V3 => ("X-ADDRESSBOOKSERVER-KIND", "X-ADDRESSBOOKSERVER-MEMBER"),
    };
    write_folded(&mut out, &format!("{kind}:group"));
    let text = escape(name);
    write_folded(&mut out, &format!("FN:{text}"));
    write_folded(&mut out, &format!("N:{text};;;;"));
    for m in members {
        write_folded(&mut out, &format!("{member}:urn:uuid:{m}"));
    }
    write_folded(&mut out, "END:VCARD");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apple_3_0_group_card_is_read() {
        let body = b"BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//macOS 14.0//EN\r\nN:Friends;;;;\r\nFN:Friends\r\nX-ADDRESSBOOKSERVER-KIND:group\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:A-1\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:B-2\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:A-1\r\nUID:G-1\r\nEND:VCARD\r\n";
        assert!(is_group_card(body));
        let g = parse_group_card(body).unwrap();
        assert_eq!(g.name, "Friends");
        assert_eq!(g.uid.as_deref(), Some("G-1"));
        assert_eq!(g.members, ["A-1", "B-2"]);
    }

    #[test]
    fn davx5_4_0_group_card_is_read_and_contacts_are_not_groups() {
        let body = b"BEGIN:VCARD\nVERSION:4.0\nUID:g2\nKIND:group\nFN:Team\\, core\nMEMBER:urn:uuid:x\nMEMBER:bare-uid\nEND:VCARD\n";
        assert!(is_group_card(body));
        let err = parse_group_card(body).unwrap_err();
        assert!(matches!(err, VCardError::Invalid(_)), "comma in a name");
        let body = b"BEGIN:VCARD\nVERSION:4.0\nUID:g2\nKIND:GROUP\nFN:Team\nMEMBER:urn:uuid:x\nMEMBER:bare-uid\nEND:VCARD\n";
        let g = parse_group_card(body).unwrap();
        assert_eq!((g.name.as_str(), g.members.len()), ("Team", 2));
        assert_eq!(g.members[1], "bare-uid");
        assert!(!is_group_card(
            b"BEGIN:VCARD\nVERSION:4.0\nKIND:individual\nFN:Ann\nEND:VCARD\n"
        ));
        assert!(parse_group_card(b"BEGIN:VCARD\nVERSION:4.0\nKIND:group\nEND:VCARD\n").is_err());
    }

    #[test]
    fn rendered_cards_parse_back_in_both_versions() {
        for v in [VCardVersion::V3, VCardVersion::V4] {
            let text = render_group_card("Golf club", "u-g", ["m1", "m2"], v);
            assert!(text.ends_with("END:VCARD\r\n"));
            let g = parse_group_card(text.as_bytes()).unwrap();
            assert_eq!(g.name, "Golf club");
            assert_eq!(g.uid.as_deref(), Some("u-g"));
            assert_eq!(g.members, ["m1", "m2"]);
            let kind = if v == VCardVersion::V4 {
                "\r\nKIND:group\r\n"
            } else {
                "\r\nX-ADDRESSBOOKSERVER-KIND:group\r\n"
            };
            assert!(text.contains(kind), "{text}");
        }
    }
}
