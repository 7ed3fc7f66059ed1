//! A client's card → Graph fields + stash (the PUT direction).
//!
//! Validation (bad input is a typed error naming the line, never a panic), vCard 2.1
//! lines lifted to 3.0, then every line is offered to the mapping (`mapping.rs`) in slot
//! order; what Graph holds is copied into the [`Contact`], and all lines go to the stash
//! with the Graph field they fed.

use super::line::{ContentLine, Param, unfold};
use super::mapping::{
    APPLE_RELATED_LABELS, AddressKind, Binding, CHILD_PROPERTIES, EMAIL_SLOTS, Field, IM_SLOTS,
    N_FIELDS, ORG_FIELDS, PhoneKind, TEXT_ROWS, date_to_graph_birthday,
};
use super::stash::{Stash, StashedLine, fingerprint};
use super::text::{components, decode_quoted_printable, escape, list, unescape};
use super::{
    Limits, MAX_STASH_BYTES, ParsedCard, STASH_PROPERTY_ID, UID_PROPERTY_ID, VCardError,
    VCardVersion, photo,
};
use crate::graph::model::{Contact, EmailAddress, SingleValueExtendedProperty};

/// Bound text values longer than this are left out of the stash (taken from Graph).
const ELIDE_VALUES_OVER: usize = 1024;

/// Version as declared by the card (2.1 is lifted to 3.0 on read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SourceVersion {
    V21,
    V3,
    V4,
}

/// The body of one card: its lines without BEGIN / VERSION / END.
struct RawCard {
    version: SourceVersion,
    lines: Vec<ContentLine>,
}

/// Parse a vCard 3.0 / 4.0 (or 2.1) and map it to Graph fields + stash.
pub fn card_to_contact(bytes: &[u8], limits: &Limits) -> Result<ParsedCard, VCardError> {
    if bytes.len() > limits.max_card_bytes {
        return Err(VCardError::TooLarge {
            max: limits.max_card_bytes,
        });
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| VCardError::Invalid(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let card = read_card(text)?;
    let (version, lines) = match card.version {
        SourceVersion::V21 => (
            VCardVersion::V3,
            card.lines.into_iter().map(lift_21_line).collect(),
        ),
        SourceVersion::V3 => (VCardVersion::V3, card.lines),
        SourceVersion::V4 => (VCardVersion::V4, card.lines),
    };
    if !lines.iter().any(|l| l.is("FN") || l.is("N")) {
        return Err(VCardError::Invalid("card has neither FN nor N".to_owned()));
    }
    map_lines(lines, version, bytes, limits)
}

/// Split a stream holding one or several cards into the text of each card.
pub fn split_cards(text: &str) -> Vec<&str> {
    let mut cards = Vec::new();
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for physical in text.split_inclusive('\n') {
        let trimmed = physical.trim();
        if start.is_none() && trimmed.eq_ignore_ascii_case("BEGIN:VCARD") {
            start = Some(offset);
        }
        offset += physical.len();
        if trimmed.eq_ignore_ascii_case("END:VCARD")
            && let Some(s) = start.take()
        {
            cards.push(&text[s..offset]);
        }
    }
    if let Some(s) = start {
        cards.push(&text[s..]); // truncated: let the parser say so
    }
    cards
}

fn read_card(text: &str) -> Result<RawCard, VCardError> {
    let unfolded = unfold(text);
    let mut iter = unfolded.iter();
    let first = iter
        .next()
        .ok_or_else(|| VCardError::Invalid("empty body".to_owned()))?;
    if !first.text.trim().eq_ignore_ascii_case("BEGIN:VCARD") {
        return Err(VCardError::Invalid(format!(
            "line {}: expected BEGIN:VCARD, found {:?}",
            first.line_no,
            preview(&first.text)
        )));
    }
    let mut version = None;
    let mut lines = Vec::new();
    let mut ended = false;
    for u in iter.by_ref() {
        let trimmed = u.text.trim();
        if trimmed.eq_ignore_ascii_case("END:VCARD") {
            ended = true;
            break;
        }
        if trimmed.eq_ignore_ascii_case("BEGIN:VCARD") {
            return Err(VCardError::Invalid(format!(
                "line {}: nested BEGIN:VCARD (or a missing END:VCARD)",
                u.line_no
            )));
        }
        let line = ContentLine::parse(&u.text).map_err(|e| {
            VCardError::Invalid(format!("line {}: {e}: {:?}", u.line_no, preview(&u.text)))
        })?;
        // A BEGIN or END that is not the card's own (`END:VCARDx`, `BEGIN:VGROUP`):
        // stashed and served again, it would end the card early for the reader.
        if line.is("BEGIN") || line.is("END") {
            return Err(VCardError::Invalid(format!(
                "line {}: nested or malformed {}: {:?}",
                u.line_no,
                line.name.to_ascii_uppercase(),
                preview(&u.text)
            )));
        }
        if line.is("VERSION") {
            version = Some(match line.value.trim() {
                "2.1" | "2.0" => SourceVersion::V21,
                "3.0" => SourceVersion::V3,
                "4.0" => SourceVersion::V4,
                other => {
                    return Err(VCardError::Invalid(format!(
                        "line {}: unsupported vCard version {:?}",
                        u.line_no,
                        preview(other)
                    )));
                }
            });
            continue;
        }
        lines.push(line);
    }
    if !ended {
        return Err(VCardError::Invalid("truncated: no END:VCARD".to_owned()));
    }
    if let Some(extra) = iter.find(|u| !u.text.trim().is_empty()) {
        return Err(VCardError::Invalid(format!(
            "line {}: content after END:VCARD (one vCard per resource)",
            extra.line_no
        )));
    }
    Ok(RawCard {
        // No VERSION: read as 3.0, the version most such cards are closest to.
        version: version.unwrap_or(SourceVersion::V3),
        lines,
    })
}

fn preview(s: &str) -> String {
    s.chars().take(40).collect()
}

/// vCard 2.1 → 3.0 for one line: quoted-printable decoded (UTF-8, or Latin-1 when the
/// CHARSET says so), bare parameters gathered into TYPE, `ENCODING=BASE64` → `b`.
fn lift_21_line(mut line: ContentLine) -> ContentLine {
    let qp = line
        .param_values("ENCODING")
        .any(|e| e.eq_ignore_ascii_case("QUOTED-PRINTABLE"));
    let latin1 = line.param_values("CHARSET").any(|c| {
        let c = c.to_ascii_lowercase();
        c == "iso-8859-1" || c == "windows-1252" || c == "latin1"
    });
    let mut types: Vec<String> = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    let mut base64 = false;
    for p in std::mem::take(&mut line.params) {
        if p.values.is_empty() {
            if p.name.eq_ignore_ascii_case("BASE64") {
                base64 = true;
            } else {
                types.push(p.name);
            }
        } else if p.name.eq_ignore_ascii_case("ENCODING") {
            if p.values
                .iter()
                .any(|v| v.eq_ignore_ascii_case("BASE64") || v.eq_ignore_ascii_case("b"))
            {
                base64 = true;
            }
        } else if p.name.eq_ignore_ascii_case("CHARSET") && qp {
            // The decoded value is UTF-8 now.
        } else if p.name.eq_ignore_ascii_case("TYPE") {
            types.extend(p.values);
        } else {
            params.push(p);
        }
    }
    if base64 {
        params.push(Param {
            name: "ENCODING".into(),
            values: vec!["b".into()],
        });
    }
    if !types.is_empty() {
        params.push(Param {
            name: "TYPE".into(),
            values: types,
        });
    }
    line.params = params;
    let value = if qp {
        let bytes = decode_quoted_printable(&line.value);
        let text = if latin1 {
            bytes.iter().map(|&b| char::from(b)).collect()
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        };
        text.replace("\r\n", "\\n").replace(['\n', '\r'], "\\n")
    } else {
        std::mem::take(&mut line.value)
    };
    line.set_value(value);
    line
}

/// Accumulates the contact and the stash while lines are assigned to slots.
struct Mapper {
    contact: Contact,
    lines: Vec<StashedLine>,
}

impl Mapper {
    fn bind(&mut self, i: usize, b: Binding) {
        self.lines[i].binding = Some(b);
    }

    fn free(&self, i: usize) -> bool {
        self.lines[i].binding.is_none()
    }

    fn line(&self, i: usize) -> &ContentLine {
        &self.lines[i].line
    }

    /// Indexes of unbound lines named `name` with a non-blank value, preferred first.
    fn candidates(&self, names: &[&str]) -> Vec<usize> {
        let mut found: Vec<usize> = (0..self.lines.len())
            .filter(|&i| {
                self.free(i)
                    && names.iter().any(|n| self.line(i).is(n))
                    && !self.line(i).value.trim().is_empty()
            })
            .collect();
        if found.len() > 1 {
            found.sort_by_cached_key(|&i| (self.line(i).pref_rank(), i));
        }
        found
    }

    /// Label of an Apple property group (`itemN.X-ABLabel`).
    fn group_label(&self, group: &str) -> Option<&str> {
        self.lines.iter().map(|l| &l.line).find_map(|l| {
            (l.is("X-ABLABEL") && l.group.as_deref() == Some(group)).then_some(l.value.as_str())
        })
    }
}

fn non_empty(s: String) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

fn map_lines(
    lines: Vec<ContentLine>,
    version: VCardVersion,
    original: &[u8],
    limits: &Limits,
) -> Result<ParsedCard, VCardError> {
    let mut m = Mapper {
        contact: Contact::default(),
        lines: lines
            .into_iter()
            .map(|line| StashedLine {
                line,
                binding: None,
                elided: false,
            })
            .collect(),
    };

    // PHOTO: the first inline photo goes to Graph; its bytes never enter the stash.
    let mut photo = None;
    let mut has_photo_property = false;
    for i in 0..m.lines.len() {
        if !m.line(i).is("PHOTO") {
            continue;
        }
        has_photo_property = true;
        if let Some(p) = photo::decode_inline(m.line(i), limits.max_photo_bytes)? {
            if photo.is_some() {
                return Err(VCardError::Photo("more than one inline PHOTO".to_owned()));
            }
            photo = Some(p);
            let template = photo::stash_template(m.line(i));
            m.lines[i].line.set_value(template);
            m.bind(i, Binding::Photo);
        }
    }

    // Single-value text properties.
    for row in TEXT_ROWS {
        if let Some(&i) = m.candidates(row.reads).first() {
            let value = non_empty(unescape(&m.line(i).value));
            if let (Some(v), Some(slot)) = (value, row.field.text_mut(&mut m.contact)) {
                *slot = Some(v);
                m.bind(i, Binding::Text(row.field));
            }
        }
    }

    // Apple related names (spouse, manager, assistant, children) by group label.
    let mut children: Vec<(usize, String)> = Vec::new();
    for i in m.candidates(&["X-ABRELATEDNAMES"]) {
        let Some(group) = m.line(i).group.clone() else {
            continue;
        };
        let Some(label) = m.group_label(&group) else {
            continue;
        };
        let Some(&(_, field)) = APPLE_RELATED_LABELS.iter().find(|(l, _)| *l == label) else {
            continue;
        };
        let value = unescape(&m.line(i).value).trim().to_owned();
        if field == Field::Children {
            children.push((i, value));
        } else if let Some(slot) = field.text_mut(&mut m.contact)
            && slot.is_none()
        {
            *slot = Some(value);
            m.bind(i, Binding::Text(field));
        }
    }
    for i in m.candidates(CHILD_PROPERTIES) {
        children.push((i, unescape(&m.line(i).value).trim().to_owned()));
    }
    children.sort_by_key(|(i, _)| *i);
    for (n, (i, value)) in children.into_iter().enumerate() {
        if let Ok(n) = u8::try_from(n) {
            m.contact.children.push(value);
            m.bind(i, Binding::Child(n));
        }
    }

    // N and ORG.
    if let Some(&i) = m.candidates(&["N"]).first() {
        let parts = components(&m.line(i).value);
        for (field, part) in N_FIELDS.iter().zip(parts) {
            if let Some(slot) = field.text_mut(&mut m.contact) {
                *slot = non_empty(part);
            }
        }
        m.bind(i, Binding::N);
    }
    if let Some(&i) = m.candidates(&["ORG"]).first() {
        let parts = components(&m.line(i).value);
        for (field, part) in ORG_FIELDS.iter().zip(parts) {
            if let Some(slot) = field.text_mut(&mut m.contact) {
                *slot = non_empty(part);
            }
        }
        m.bind(i, Binding::Org);
    }

    // BDAY: full dates only; year-less birthdays stay in the stash.
    if let Some(&i) = m.candidates(&["BDAY"]).first()
        && let Some(date) = full_date(m.line(i))
    {
        m.contact.birthday = Some(date_to_graph_birthday(&date));
        m.bind(i, Binding::Bday);
    }

    // CATEGORIES: every line, values in order, duplicates once.
    for i in m.candidates(&["CATEGORIES"]) {
        for c in list(&m.line(i).value) {
            if !m.contact.categories.contains(&c) {
                m.contact.categories.push(c);
            }
        }
        m.bind(i, Binding::Categories);
    }

    // EMAIL: preferred first, three slots.
    for (slot, i) in m
        .candidates(&["EMAIL"])
        .into_iter()
        .take(EMAIL_SLOTS)
        .enumerate()
    {
        let address = unescape(&m.line(i).value).trim().to_owned();
        m.contact.email_addresses.push(EmailAddress {
            name: Some(address.clone()),
            address: Some(address),
        });
        m.bind(i, Binding::Email(slot as u8));
    }

    // TEL by kind; untyped numbers fill what is left of business, then home.
    let mut untyped = Vec::new();
    for i in m.candidates(&["TEL"]) {
        let l = m.line(i);
        let kind = if l.has_type(&["fax", "pager"]) {
            continue;
        } else if l.has_type(&["cell", "mobile", "iphone"]) {
            PhoneKind::Mobile
        } else if l.has_type(&["work"]) {
            PhoneKind::Business
        } else if l.has_type(&["home"]) {
            PhoneKind::Home
        } else {
            untyped.push(i);
            continue;
        };
        place_phone(&mut m, i, kind);
    }
    for i in untyped {
        if !place_phone(&mut m, i, PhoneKind::Business) {
            place_phone(&mut m, i, PhoneKind::Home);
        }
    }

    // IMPP: three slots.
    for (slot, i) in m
        .candidates(&["IMPP"])
        .into_iter()
        .take(IM_SLOTS)
        .enumerate()
    {
        let value = unescape(&m.line(i).value).trim().to_owned();
        m.contact.im_addresses.push(value);
        m.bind(i, Binding::Impp(slot as u8));
    }

    // ADR: one per kind.
    for i in m.candidates(&["ADR"]) {
        let l = m.line(i);
        let kind = if l.has_type(&["home"]) {
            AddressKind::Home
        } else if l.has_type(&["work"]) {
            AddressKind::Business
        } else {
            AddressKind::Other
        };
        if !kind.get(&m.contact).is_empty() {
            continue;
        }
        let parts = components(&l.value);
        let part = |n: usize| parts.get(n).cloned().and_then(non_empty);
        let address = crate::graph::model::PhysicalAddress {
            street: part(2),
            city: part(3),
            state: part(4),
            postal_code: part(5),
            country_or_region: part(6),
        };
        if address.is_empty() {
            continue;
        }
        *kind.get_mut(&mut m.contact) = address;
        m.bind(i, Binding::Adr(kind));
    }

    // Graph composes displayName when it is missing and may overwrite it later
    // (graph.md §2.1), so always send one.
    if m.contact.display_name.is_none() {
        m.contact.display_name = compose_display_name(&m.contact);
    }

    // UID: the client's, or a stable one derived from the card, added to the card.
    let uid = match m
        .lines
        .iter()
        .find(|l| l.line.is("UID") && !l.line.value.trim().is_empty())
    {
        // Control characters are not vCard text (RFC 6350 §3.3 VALUE-CHAR) and the
        // renderer drops them: keep the UID the client will be served back.
        Some(l) => unescape(l.line.value.trim())
            .chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .collect(),
        None => {
            let uid = super::uid_from_bytes(original);
            m.lines.insert(
                0,
                StashedLine {
                    line: ContentLine::new(None, "UID", Vec::new(), escape(&uid)),
                    binding: None,
                    elided: false,
                },
            );
            uid
        }
    };

    // Large text values Graph holds in full are not kept twice (graph.md §5.1).
    for l in &mut m.lines {
        if matches!(l.binding, Some(Binding::Text(_) | Binding::Categories))
            && l.line.value.len() > ELIDE_VALUES_OVER
        {
            l.line.set_value(String::new());
            l.elided = true;
        }
    }

    let fingerprints = Field::ALL
        .iter()
        .filter_map(|&f| {
            let canon = f.canonical(&m.contact);
            (!canon.is_empty()).then(|| (f, fingerprint(&canon)))
        })
        .collect();
    let stash = Stash {
        version,
        fingerprints,
        lines: m.lines,
    }
    .encode();
    if stash.len() > MAX_STASH_BYTES {
        return Err(VCardError::StashTooLarge {
            max: MAX_STASH_BYTES,
        });
    }
    let mut contact = m.contact;
    contact.single_value_extended_properties = vec![
        SingleValueExtendedProperty {
            id: STASH_PROPERTY_ID.to_owned(),
            value: Some(stash),
        },
        SingleValueExtendedProperty {
            id: UID_PROPERTY_ID.to_owned(),
            value: Some(uid.clone()),
        },
    ];
    Ok(ParsedCard {
        uid,
        contact,
        photo,
        has_photo_property,
    })
}

/// Put TEL line `i` into the first free slot of `kind`; false when full.
fn place_phone(m: &mut Mapper, i: usize, kind: PhoneKind) -> bool {
    let used = m
        .lines
        .iter()
        .filter(|l| matches!(l.binding, Some(Binding::Phone(k, _)) if k == kind))
        .count();
    if used >= kind.capacity() {
        return false;
    }
    let raw = unescape(&m.line(i).value);
    let number = raw.trim();
    let number = number.strip_prefix("tel:").unwrap_or(number).to_owned();
    match kind {
        PhoneKind::Business => m.contact.business_phones.push(number),
        PhoneKind::Home => m.contact.home_phones.push(number),
        PhoneKind::Mobile => m.contact.mobile_phone = Some(number),
    }
    m.bind(i, Binding::Phone(kind, used as u8));
    true
}

/// A BDAY with year, month and day (`1984-01-24`, `19840124`, with or without a time),
/// as `YYYY-MM-DD`. Year-less and Apple omit-year birthdays give `None`.
pub fn full_date(line: &ContentLine) -> Option<String> {
    if line.has_param("X-APPLE-OMIT-YEAR") {
        return None;
    }
    let value = line.value.trim();
    if value.starts_with("--") {
        return None;
    }
    let date_part = value.split('T').next().unwrap_or(value);
    let digits: String = date_part.chars().filter(char::is_ascii_digit).collect();
    if digits.len() != 8 || date_part.len() > 10 {
        return None;
    }
    let date = chrono::NaiveDate::parse_from_str(&digits, "%Y%m%d").ok()?;
    Some(date.format("%Y-%m-%d").to_string())
}

/// displayName when the card has no FN: the name parts, else company, else first email.
fn compose_display_name(c: &Contact) -> Option<String> {
    let parts: Vec<&str> = [&c.given_name, &c.middle_name, &c.surname]
        .iter()
        .filter_map(|p| p.as_deref())
        .collect();
    if !parts.is_empty() {
        return Some(parts.join(" "));
    }
    c.company_name
        .clone()
        .or_else(|| c.email_addresses.first().and_then(|e| e.address.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(card: &str) -> Result<ParsedCard, VCardError> {
        card_to_contact(card.as_bytes(), &Limits::default())
    }

    #[test]
    fn maps_names_emails_phones_and_addresses() {
        let p = parse(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;John;Q;Dr.;Jr.\r\nFN:John Doe\r\n\
             EMAIL;TYPE=work:w@x.org\r\nEMAIL;TYPE=home;TYPE=pref:h@x.org\r\n\
             TEL;TYPE=CELL:+1 1\r\nTEL;TYPE=WORK:+1 2\r\nTEL:+1 3\r\nTEL;TYPE=FAX:+1 4\r\n\
             ADR;TYPE=HOME:;;1 Main St;Town;ST;12345;Land\r\nORG:ACME;Sales;Team\r\n\
             BDAY;VALUE=date:1984-01-24\r\nUID:abc\r\nEND:VCARD\r\n",
        )
        .unwrap();
        let c = &p.contact;
        assert_eq!(p.uid, "abc");
        assert_eq!(c.surname.as_deref(), Some("Doe"));
        assert_eq!(c.title.as_deref(), Some("Dr."));
        assert_eq!(c.generation.as_deref(), Some("Jr."));
        // The preferred email comes first.
        let emails: Vec<_> = c
            .email_addresses
            .iter()
            .map(|e| e.address.clone().unwrap())
            .collect();
        assert_eq!(emails, vec!["h@x.org", "w@x.org"]);
        assert_eq!(c.mobile_phone.as_deref(), Some("+1 1"));
        assert_eq!(c.business_phones, vec!["+1 2", "+1 3"]);
        assert!(c.home_phones.is_empty());
        assert_eq!(c.home_address.city.as_deref(), Some("Town"));
        assert_eq!(c.company_name.as_deref(), Some("ACME"));
        assert_eq!(c.department.as_deref(), Some("Sales"));
        assert_eq!(c.birthday.as_deref(), Some("1984-01-24T00:00:00Z"));
        assert_eq!(c.extended_property(UID_PROPERTY_ID), Some("abc"));
        let stash = c.extended_property(STASH_PROPERTY_ID).unwrap();
        assert!(stash.contains("TEL;TYPE=FAX:+1 4"));
    }

    #[test]
    fn overflow_goes_to_the_stash_only() {
        let mut card = String::from("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\n");
        for i in 0..6 {
            card.push_str(&format!("EMAIL:e{i}@x.org\r\n"));
        }
        card.push_str("END:VCARD\r\n");
        let p = parse(&card).unwrap();
        assert_eq!(p.contact.email_addresses.len(), 3);
        let stash = p.contact.extended_property(STASH_PROPERTY_ID).unwrap();
        assert!(stash.contains("EMAIL:e5@x.org"));
    }

    #[test]
    fn year_less_birthday_is_not_sent_to_graph() {
        let p =
            parse("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:X\r\nBDAY:--0415\r\nEND:VCARD\r\n").unwrap();
        assert_eq!(p.contact.birthday, None);
        let p = parse(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-08-20\r\nEND:VCARD\r\n",
        )
        .unwrap();
        assert_eq!(p.contact.birthday, None);
    }

    #[test]
    fn bad_input_is_rejected_with_a_reason() {
        let err = |s: &[u8]| {
            card_to_contact(s, &Limits::default())
                .unwrap_err()
                .to_string()
        };
        assert!(err(b"hello").contains("line 1"));
        assert!(err(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\n").contains("END:VCARD"));
        assert!(err(b"BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:x\r\nEND:VCARD\r\n").contains("FN"));
        assert!(err(b"BEGIN:VCARD\r\nFN:\xff\r\nEND:VCARD\r\n").contains("UTF-8"));
        assert!(err(b"BEGIN:VCARD\r\nFN:x\r\nbroken\r\nEND:VCARD\r\n").contains("line 3"));
        assert!(err(b"").contains("empty"));
        let small = Limits {
            max_card_bytes: 10,
            ..Limits::default()
        };
        assert_eq!(
            card_to_contact(b"BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n", &small).unwrap_err(),
            VCardError::TooLarge { max: 10 }
        );
    }

    #[test]
    fn uid_with_a_bare_cr_is_the_uid_served_back() {
        // Found by fuzz/vcard_parse: a lone CR inside the UID line was part of the UID
        // on PUT, but the rendered card drops it, so GET served a different UID.
        let p = parse("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nUID:ab\rcd\r\nEND:VCARD\r\n").unwrap();
        assert_eq!(p.uid, "abcd");
        assert_eq!(p.contact.extended_property(UID_PROPERTY_ID), Some("abcd"));
        for v in [VCardVersion::V3, VCardVersion::V4] {
            let card = crate::vcard::contact_to_card(&p.contact, None, v);
            assert_eq!(parse(&card).unwrap().uid, "abcd", "{card}");
        }
    }

    #[test]
    fn begin_or_end_lines_other_than_the_cards_own_are_refused() {
        // Found by fuzz/vcard_parse: a folded line unfolding to `END:VCARDand…` was
        // stashed and served; the 4.0 conversion (and clients) took it as the card's
        // end and lost every property after it, the UID included.
        for bad in ["END:VCARDand more", "END:VGROUP", "BEGIN:VAGENT"] {
            let card =
                format!("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\n{bad}\r\nUID:u\r\nEND:VCARD\r\n");
            let e = parse(&card).unwrap_err();
            assert!(
                matches!(&e, VCardError::Invalid(m) if m.contains("line 4")),
                "{e}"
            );
        }
        let folded = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n and more\r\nUID:u\r\nEND:VCARD\r\n";
        assert!(parse(folded).is_err());
    }

    #[test]
    fn missing_uid_is_generated_stably_and_kept_in_the_card() {
        let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\nEND:VCARD\r\n";
        let a = parse(card).unwrap();
        let b = parse(card).unwrap();
        assert_eq!(a.uid, b.uid);
        let stash = a.contact.extended_property(STASH_PROPERTY_ID).unwrap();
        assert!(stash.contains(&format!("UID:{}", a.uid)));
    }

    #[test]
    fn vcard_21_lines_are_lifted() {
        let p = parse(
            "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Doe;John\r\nTEL;WORK;VOICE:+1 5\r\n\
             NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=UTF-8:caf=C3=A9=0D=0Aline2\r\nEND:VCARD\r\n",
        )
        .unwrap();
        assert_eq!(p.contact.business_phones, vec!["+1 5"]);
        assert_eq!(p.contact.personal_notes.as_deref(), Some("café\nline2"));
        assert_eq!(p.contact.display_name.as_deref(), Some("John Doe"));
    }

    #[test]
    fn splits_several_cards() {
        let two = "BEGIN:VCARD\nFN:a\nEND:VCARD\nBEGIN:VCARD\nFN:b\nEND:VCARD\n";
        assert_eq!(split_cards(two).len(), 2);
    }
}
