//! Graph contact (+ stash) → vCard (the GET direction).
//!
//! Starts from the stashed lines (or, for a contact created in Outlook, from nothing but
//! a UID), rewrites the lines of every Graph field whose fingerprint changed since the
//! card was written (Outlook's edit wins), appends lines for values Graph has and the
//! card had no line for, then writes the card in the requested version. Output is a pure
//! function of its inputs: the bridge hashes it for ETags.

use super::line::{ContentLine, Param, write_folded};
use super::mapping::{
    AddressKind, Binding, Field, N_FIELDS, ORG_FIELDS, PhoneKind, canonical_text,
    graph_birthday_to_date, graph_emails, text_row,
};
use super::stash::{Stash, StashedLine, fingerprint};
use super::text::{escape, escape_uri, raw_components};
use super::{STASH_PROPERTY_ID, UID_PROPERTY_ID, VCardVersion, photo, uid_for_graph_id, version};
use crate::graph::model::{Contact, Photo};

/// Render a Graph contact (with its stash extended property if present) as a vCard.
pub fn contact_to_card(contact: &Contact, photo: Option<&Photo>, target: VCardVersion) -> String {
    let stash = contact
        .extended_property(STASH_PROPERTY_ID)
        .and_then(Stash::decode);
    let from_client = stash.is_some();
    let mut stash = stash.unwrap_or_else(|| clean_start(contact, target));
    let changed = changed_fields(contact, &stash);
    let lines = merge(contact, &mut stash, &changed);

    let mut body: Vec<String> = Vec::with_capacity(lines.len() + 4);
    let mut photo_at: Option<(usize, ContentLine)> = None;
    for l in lines {
        match l {
            Merged::Line(line) => body.push(line.into_unfolded()),
            Merged::Photo(template) => {
                if photo_at.is_none() {
                    photo_at = Some((body.len(), template));
                }
            }
        }
    }
    if !from_client {
        ensure_required(contact, &mut body, stash.version);
    }

    let photo_line = photo.map(|p| {
        let template = photo_at.as_ref().map(|(_, t)| t);
        if stash.version == target {
            photo::photo_line(p, target, template)
        } else {
            // Another version: only the group carries over.
            let group = template
                .map(|t| ContentLine::new(t.group.as_deref(), "PHOTO", Vec::new(), String::new()));
            photo::photo_line(p, target, group.as_ref())
        }
    });
    if stash.version != target {
        return version::convert(&body, stash.version, target, photo_line.as_deref());
    }
    if let Some(line) = photo_line {
        let at = photo_at.map_or(body.len(), |(at, _)| at.min(body.len()));
        body.insert(at, line);
    }
    let mut out = String::with_capacity(64 + body.iter().map(|l| l.len() + 4).sum::<usize>());
    out.push_str("BEGIN:VCARD\r\nVERSION:");
    out.push_str(target.as_str());
    out.push_str("\r\n");
    for line in &body {
        write_folded(&mut out, line);
    }
    out.push_str("END:VCARD\r\n");
    out
}

/// The starting point for a contact created in Outlook: a UID, nothing else.
fn clean_start(contact: &Contact, target: VCardVersion) -> Stash {
    let uid = contact
        .extended_property(UID_PROPERTY_ID)
        .map(str::to_owned)
        .or_else(|| contact.id.as_deref().map(uid_for_graph_id));
    Stash {
        version: target,
        fingerprints: Vec::new(),
        lines: uid
            .map(|uid| StashedLine {
                line: ContentLine::new(None, "UID", Vec::new(), escape(&uid)),
                binding: None,
                elided: false,
            })
            .into_iter()
            .collect(),
    }
}

/// Fields whose Graph value differs from what was written, indexed like `Field::ALL`.
fn changed_fields(contact: &Contact, stash: &Stash) -> [bool; Field::ALL.len()] {
    let mut changed = [false; Field::ALL.len()];
    for (slot, f) in changed.iter_mut().zip(Field::ALL) {
        *slot = fingerprint(&f.canonical(contact)) != stash.fingerprint(f)
            && !(f == Field::FileAs
                && stash.fingerprint(f) == fingerprint("")
                && is_automatic_file_as(contact));
    }
    changed
}

/// Outlook fills `fileAs` from the name by itself ("Doe, John", "John Doe", the company);
/// a value it derived is not an edit, or every client card would grow an X-MS-FILE-AS.
fn is_automatic_file_as(c: &Contact) -> bool {
    let Some(file_as) = Field::FileAs.text(c).map(canonical_text) else {
        return true;
    };
    let given = Field::GivenName.text(c).unwrap_or("").trim();
    let surname = Field::Surname.text(c).unwrap_or("").trim();
    let automatic = [
        format!("{surname}, {given}"),
        format!("{given} {surname}"),
        surname.to_owned(),
        given.to_owned(),
        Field::DisplayName
            .text(c)
            .map(canonical_text)
            .unwrap_or_default(),
        Field::CompanyName
            .text(c)
            .map(canonical_text)
            .unwrap_or_default(),
    ];
    automatic.iter().any(|a| a.trim() == file_as)
}

fn is_changed(changed: &[bool; Field::ALL.len()], f: Field) -> bool {
    Field::ALL
        .iter()
        .position(|x| *x == f)
        .is_some_and(|i| changed[i])
}

enum Merged {
    Line(ContentLine),
    /// Where the photo goes, with the client's stashed PHOTO line (no data).
    Photo(ContentLine),
}

fn merge(contact: &Contact, stash: &mut Stash, changed: &[bool; Field::ALL.len()]) -> Vec<Merged> {
    let version = stash.version;
    let mut out: Vec<Merged> = Vec::with_capacity(stash.lines.len() + 8);
    let mut bound: Vec<Binding> = Vec::new();
    for StashedLine {
        line,
        binding,
        elided,
    } in std::mem::take(&mut stash.lines)
    {
        match binding {
            None => out.push(Merged::Line(line)),
            Some(Binding::Photo) => out.push(Merged::Photo(line)),
            Some(b) => {
                bound.push(b);
                if elided {
                    // The value was never stashed: Graph's is the only one.
                    let all_changed = [true; Field::ALL.len()];
                    if let Some(l) = rewrite(line, b, contact, &all_changed, version) {
                        out.push(Merged::Line(l));
                    }
                } else if b.fields().iter().any(|&f| is_changed(changed, f)) {
                    if let Some(l) = rewrite(line, b, contact, changed, version) {
                        out.push(Merged::Line(l));
                    }
                } else {
                    out.push(Merged::Line(line));
                }
            }
        }
    }
    for new in additions(contact, &bound, changed, version) {
        if new.is("BDAY") && replace_year_less_birthday(&mut out, &new) {
            continue;
        }
        insert_after_same_name(&mut out, new);
    }
    out
}

/// A full birthday set in Outlook replaces the client's year-less BDAY (which Graph
/// could not hold) instead of making a second BDAY.
fn replace_year_less_birthday(out: &mut [Merged], new: &ContentLine) -> bool {
    let existing = out.iter_mut().find_map(|m| match m {
        Merged::Line(l) if l.is("BDAY") => Some(l),
        _ => None,
    });
    let Some(line) = existing else { return false };
    line.params
        .retain(|p| !p.name.eq_ignore_ascii_case("X-APPLE-OMIT-YEAR"));
    line.set_value(new.value.clone());
    true
}

/// Put a generated line after the last line with the same property name, else at the end.
fn insert_after_same_name(out: &mut Vec<Merged>, line: ContentLine) {
    let pos = out
        .iter()
        .rposition(|m| matches!(m, Merged::Line(l) if l.name.eq_ignore_ascii_case(&line.name)));
    match pos {
        Some(p) => out.insert(p + 1, Merged::Line(line)),
        None => out.push(Merged::Line(line)),
    }
}

/// The client's line `line`, with the values of changed fields replaced by Graph's;
/// `None` when Graph no longer has the value.
fn rewrite(
    mut line: ContentLine,
    b: Binding,
    c: &Contact,
    changed: &[bool; Field::ALL.len()],
    version: VCardVersion,
) -> Option<ContentLine> {
    match b {
        Binding::Text(f) => {
            let v = f.text(c)?;
            let uri = text_row(f).is_some_and(|r| r.uri);
            line.set_value(if uri { escape_uri(v) } else { escape(v) });
        }
        Binding::N | Binding::Org => {
            let fields: &[Field] = if b == Binding::N {
                &N_FIELDS
            } else {
                &ORG_FIELDS
            };
            let mut parts = raw_components(&line.value);
            if parts.len() < fields.len() {
                parts.resize(fields.len(), String::new());
            }
            for (part, &f) in parts.iter_mut().zip(fields) {
                if is_changed(changed, f) {
                    *part = escape(f.text(c).unwrap_or(""));
                }
            }
            if b == Binding::Org && parts.iter().all(String::is_empty) {
                return None;
            }
            line.set_value(parts.join(";"));
        }
        Binding::Bday => {
            let date = c.birthday.as_deref().and_then(graph_birthday_to_date)?;
            let dashed = line.value.contains('-') || version == VCardVersion::V3;
            line.set_value(if dashed { date } else { date.replace('-', "") });
        }
        Binding::Categories => {
            if c.categories.is_empty() {
                return None;
            }
            line.set_value(join_escaped(&c.categories));
        }
        Binding::Email(i) => {
            let v = *graph_emails(c).get(usize::from(i))?;
            line.set_value(escape(v));
        }
        Binding::Phone(kind, i) => {
            let v = *kind.values(c).get(usize::from(i))?;
            let tel = line.value.trim_start().starts_with("tel:");
            line.set_value(if tel {
                format!("tel:{}", escape_uri(v))
            } else {
                escape_uri(v)
            });
        }
        Binding::Impp(i) => {
            let v = c
                .im_addresses
                .iter()
                .filter(|v| !v.trim().is_empty())
                .nth(usize::from(i))?;
            line.set_value(escape_uri(v));
        }
        Binding::Child(i) => {
            let v = c
                .children
                .iter()
                .filter(|v| !v.trim().is_empty())
                .nth(usize::from(i))?;
            line.set_value(escape(v));
        }
        Binding::Adr(kind) => {
            let a = kind.get(c);
            if a.is_empty() {
                return None;
            }
            let mut parts = raw_components(&line.value);
            if parts.len() < 7 {
                parts.resize(7, String::new());
            }
            let graph = [
                &a.street,
                &a.city,
                &a.state,
                &a.postal_code,
                &a.country_or_region,
            ];
            for (part, v) in parts[2..7].iter_mut().zip(graph) {
                *part = escape(v.as_deref().unwrap_or(""));
            }
            line.set_value(parts.join(";"));
        }
        Binding::Photo => {}
    }
    Some(line)
}

fn join_escaped(items: &[String]) -> String {
    items
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| escape(s))
        .collect::<Vec<_>>()
        .join(",")
}

fn typed(name: &str, types: Option<&str>, value: String) -> ContentLine {
    let params = types
        .map(|t| {
            vec![Param {
                name: "TYPE".into(),
                values: t.split(',').map(str::to_owned).collect(),
            }]
        })
        .unwrap_or_default();
    ContentLine::new(None, name, params, value)
}

/// Lines for Graph values no client line carries, in a fixed, readable order.
fn additions(
    c: &Contact,
    bound: &[Binding],
    changed: &[bool; Field::ALL.len()],
    version: VCardVersion,
) -> Vec<ContentLine> {
    let mut out = Vec::new();
    let has = |pred: &dyn Fn(&Binding) -> bool| bound.iter().any(pred);
    let count = |pred: &dyn Fn(&Binding) -> bool| bound.iter().filter(|b| pred(b)).count();
    let text = |f: Field, out: &mut Vec<ContentLine>| {
        if is_changed(changed, f)
            && !has(&|b| *b == Binding::Text(f))
            && let (Some(v), Some(row)) = (f.text(c), text_row(f))
        {
            let value = if row.uri { escape_uri(v) } else { escape(v) };
            out.push(ContentLine::new(None, row.writes(), Vec::new(), value));
        }
    };

    text(Field::DisplayName, &mut out);
    if N_FIELDS
        .iter()
        .any(|&f| is_changed(changed, f) && f.text(c).is_some())
        && !has(&|b| *b == Binding::N)
    {
        let value = N_FIELDS
            .iter()
            .map(|f| escape(f.text(c).unwrap_or("")))
            .collect::<Vec<_>>()
            .join(";");
        out.push(ContentLine::new(None, "N", Vec::new(), value));
    }
    text(Field::NickName, &mut out);
    if ORG_FIELDS
        .iter()
        .any(|&f| is_changed(changed, f) && f.text(c).is_some())
        && !has(&|b| *b == Binding::Org)
    {
        let value = ORG_FIELDS
            .iter()
            .map(|f| escape(f.text(c).unwrap_or("")))
            .collect::<Vec<_>>()
            .join(";");
        out.push(ContentLine::new(None, "ORG", Vec::new(), value));
    }
    text(Field::JobTitle, &mut out);
    text(Field::Profession, &mut out);

    if is_changed(changed, Field::EmailAddresses) {
        let have = count(&|b| matches!(b, Binding::Email(_)));
        for v in graph_emails(c).into_iter().skip(have) {
            out.push(typed("EMAIL", Some("internet"), escape(v)));
        }
    }
    for kind in [PhoneKind::Business, PhoneKind::Home, PhoneKind::Mobile] {
        if is_changed(changed, kind.field()) {
            let have = count(&|b| matches!(b, Binding::Phone(k, _) if *k == kind));
            for v in kind.values(c).into_iter().skip(have) {
                out.push(typed("TEL", Some(kind.vcard_types()), escape_uri(v)));
            }
        }
    }
    if is_changed(changed, Field::ImAddresses) {
        let have = count(&|b| matches!(b, Binding::Impp(_)));
        for v in c
            .im_addresses
            .iter()
            .filter(|v| !v.trim().is_empty())
            .skip(have)
        {
            out.push(ContentLine::new(None, "IMPP", Vec::new(), escape_uri(v)));
        }
    }
    for kind in [AddressKind::Home, AddressKind::Business, AddressKind::Other] {
        let a = kind.get(c);
        if is_changed(changed, kind.field()) && !a.is_empty() && !has(&|b| *b == Binding::Adr(kind))
        {
            let value = [
                &a.street,
                &a.city,
                &a.state,
                &a.postal_code,
                &a.country_or_region,
            ]
            .iter()
            .map(|v| escape(v.as_deref().unwrap_or("")))
            .collect::<Vec<_>>()
            .join(";");
            out.push(typed("ADR", kind.vcard_type(), format!(";;{value}")));
        }
    }
    text(Field::BusinessHomePage, &mut out);
    if is_changed(changed, Field::Birthday)
        && !has(&|b| *b == Binding::Bday)
        && let Some(date) = c.birthday.as_deref().and_then(graph_birthday_to_date)
    {
        let value = match version {
            VCardVersion::V3 => date,
            VCardVersion::V4 => date.replace('-', ""),
        };
        out.push(ContentLine::new(None, "BDAY", Vec::new(), value));
    }
    text(Field::PersonalNotes, &mut out);
    if is_changed(changed, Field::Categories)
        && !c.categories.is_empty()
        && !has(&|b| *b == Binding::Categories)
    {
        out.push(ContentLine::new(
            None,
            "CATEGORIES",
            Vec::new(),
            join_escaped(&c.categories),
        ));
    }
    for f in [
        Field::Manager,
        Field::AssistantName,
        Field::SpouseName,
        Field::Initials,
        Field::FileAs,
        Field::OfficeLocation,
        Field::YomiGivenName,
        Field::YomiSurname,
        Field::YomiCompanyName,
    ] {
        text(f, &mut out);
    }
    if is_changed(changed, Field::Children) {
        let have = count(&|b| matches!(b, Binding::Child(_)));
        for v in c
            .children
            .iter()
            .filter(|v| !v.trim().is_empty())
            .skip(have)
        {
            out.push(ContentLine::new(None, "X-MS-CHILD", Vec::new(), escape(v)));
        }
    }
    out
}

/// A card built from Graph alone still needs FN (3.0 and 4.0) and N (3.0).
fn ensure_required(c: &Contact, body: &mut Vec<String>, version: VCardVersion) {
    let has = |body: &Vec<String>, name: &str| {
        body.iter().any(|l| {
            l.get(..name.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(name))
                && matches!(l.as_bytes().get(name.len()), Some(b':' | b';'))
        })
    };
    if !has(body, "FN") {
        let name = c
            .display_name
            .as_deref()
            .map(canonical_text)
            .filter(|s| !s.is_empty())
            .or_else(|| graph_emails(c).first().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        body.insert(
            usize::from(!body.is_empty()).min(body.len()),
            format!("FN:{}", escape(&name)),
        );
    }
    if version == VCardVersion::V3 && !has(body, "N") {
        let pos = body
            .iter()
            .position(|l| l.starts_with("FN"))
            .map_or(body.len(), |p| p + 1);
        body.insert(pos, "N:;;;;".to_owned());
    }
}
