//! The contact property table and write semantics (reference/graph.md §2.1–§2.4, §4.3–§4.4).
//!
//! A stored contact keeps only the writable properties that hold a value; this module
//! validates a POST / PATCH body against the v1.0 property set (unknown names → 400,
//! wrong JSON types → 400, slot limits → 400 `ErrorInvalidProperty`), applies it
//! (null clears, collections replace, addresses replace whole), normalises birthdays to
//! `YYYY-MM-DDT11:59:00Z`, fills `emailAddress.name` from the address, and composes
//! `displayName` from the name parts the way Exchange does.

use super::errors::{GraphErr, GraphResult};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// JSON shape of one writable property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    StrList,
    Emails,
    Address,
    Birthday,
}

/// Writable properties in the order Graph returns them (§2.3). `parentFolderId` sits
/// between `categories` and `birthday` when rendering.
pub const WRITABLE: &[(&str, Kind)] = &[
    ("categories", Kind::StrList),
    ("birthday", Kind::Birthday),
    ("fileAs", Kind::Str),
    ("displayName", Kind::Str),
    ("givenName", Kind::Str),
    ("initials", Kind::Str),
    ("middleName", Kind::Str),
    ("nickName", Kind::Str),
    ("surname", Kind::Str),
    ("title", Kind::Str),
    ("yomiGivenName", Kind::Str),
    ("yomiSurname", Kind::Str),
    ("yomiCompanyName", Kind::Str),
    ("generation", Kind::Str),
    ("imAddresses", Kind::StrList),
    ("jobTitle", Kind::Str),
    ("companyName", Kind::Str),
    ("department", Kind::Str),
    ("officeLocation", Kind::Str),
    ("profession", Kind::Str),
    ("businessHomePage", Kind::Str),
    ("assistantName", Kind::Str),
    ("manager", Kind::Str),
    ("homePhones", Kind::StrList),
    ("mobilePhone", Kind::Str),
    ("businessPhones", Kind::StrList),
    ("spouseName", Kind::Str),
    ("personalNotes", Kind::Str),
    ("children", Kind::StrList),
    ("emailAddresses", Kind::Emails),
    ("homeAddress", Kind::Address),
    ("businessAddress", Kind::Address),
    ("otherAddress", Kind::Address),
];

/// Read-only properties a body may carry back (a client echoing a GET); ignored.
const READ_ONLY: &[&str] = &["id", "changeKey", "createdDateTime", "lastModifiedDateTime"];

/// The 2026 typed email slots (§2.1), written into `emailAddresses[0..3]`.
const EMAIL_SLOTS: &[&str] = &[
    "primaryEmailAddress",
    "secondaryEmailAddress",
    "tertiaryEmailAddress",
];

/// Multi-value limits (§0 point 2): property, Graph's PascalCase name, maximum.
const LIMITS: &[(&str, &str, usize)] = &[
    ("emailAddresses", "EmailAddresses", 3),
    ("businessPhones", "BusinessPhones", 2),
    ("homePhones", "HomePhones", 2),
    ("imAddresses", "ImAddresses", 3),
];

const ADDRESS_KEYS: &[&str] = &["street", "city", "state", "countryOrRegion", "postalCode"];

/// Every property name `$select` / `$orderby` / `$filter` may use, canonical spelling.
pub fn selectable() -> impl Iterator<Item = &'static str> {
    [
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "changeKey",
        "parentFolderId",
    ]
    .into_iter()
    .chain(WRITABLE.iter().map(|(n, _)| *n))
    .chain(EMAIL_SLOTS.iter().copied())
}

/// Canonical spelling of a property name given in any case.
pub fn canonical(name: &str) -> Option<&'static str> {
    selectable().find(|n| n.eq_ignore_ascii_case(name))
}

fn kind_of(name: &str) -> Option<Kind> {
    WRITABLE.iter().find(|(n, _)| *n == name).map(|(_, k)| *k)
}

/// What a validated body changes besides the plain properties.
#[derive(Debug, Default)]
pub struct WriteEffect {
    /// Extended properties to set (`Some`) or remove (`None`), by exact id.
    pub extended: Vec<(String, Option<String>)>,
    /// True when the body named a property at all (an empty PATCH still bumps nothing).
    pub touched: bool,
}

/// Options of one write.
#[derive(Debug, Clone, Copy)]
pub struct WriteMode {
    pub create: bool,
    /// Outlook UI edits leave extended properties alone (§13.1 point 7).
    pub allow_extended: bool,
}

/// Validate `body` and apply it to `props`. Nothing changes when an error is returned.
pub fn apply_write(
    props: &mut Map<String, Value>,
    body: &Value,
    current_folder_id: &str,
    mode: WriteMode,
) -> GraphResult<WriteEffect> {
    let Some(obj) = body.as_object() else {
        return Err(GraphErr::bad_json());
    };
    let mut next = props.clone();
    let mut effect = WriteEffect::default();
    let mut name_parts_changed = false;
    let mut display_given = false;
    let mut slot_emails: Vec<(usize, Value)> = Vec::new();
    for (key, value) in obj {
        if key.starts_with("@odata.") || READ_ONLY.contains(&key.as_str()) {
            continue;
        }
        if key == "parentFolderId" {
            if value.as_str() == Some(current_folder_id) || value.is_null() {
                continue;
            }
            return Err(GraphErr::new(
                400,
                "ErrorInvalidProperty",
                "The property 'ParentFolderId' cannot be changed; contacts have no move in v1.0.",
            ));
        }
        if key == "singleValueExtendedProperties" {
            effect.extended = parse_extended(value)?;
            if !mode.allow_extended {
                effect.extended.clear();
            }
            effect.touched = true;
            continue;
        }
        if key == "multiValueExtendedProperties" {
            if !value.is_array() && !value.is_null() {
                return Err(GraphErr::bad_value(key, "Collection"));
            }
            continue;
        }
        if let Some(slot) = EMAIL_SLOTS.iter().position(|s| s == key) {
            slot_emails.push((slot, normalize_email(key, value)?));
            effect.touched = true;
            continue;
        }
        let Some(kind) = kind_of(key) else {
            return Err(GraphErr::unknown_property(key, "microsoft.graph.contact"));
        };
        effect.touched = true;
        if matches!(
            key.as_str(),
            "givenName" | "middleName" | "surname" | "generation"
        ) {
            name_parts_changed = true;
        }
        if key == "displayName" {
            display_given = true;
        }
        match normalize(key, kind, value)? {
            Some(v) => {
                next.insert(key.clone(), v);
            }
            None => {
                next.remove(key);
            }
        }
    }
    if !slot_emails.is_empty() {
        let mut emails: Vec<Value> = next
            .get("emailAddresses")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for (slot, v) in slot_emails {
            while emails.len() <= slot {
                emails.push(Value::Null);
            }
            emails[slot] = v;
        }
        while emails.last().is_some_and(Value::is_null) {
            emails.pop();
        }
        let emails: Vec<Value> = emails.into_iter().filter(|v| !v.is_null()).collect();
        if emails.is_empty() {
            next.remove("emailAddresses");
        } else {
            next.insert("emailAddresses".into(), Value::Array(emails));
        }
    }
    for (prop, pascal, max) in LIMITS {
        if let Some(n) = next.get(*prop).and_then(Value::as_array).map(Vec::len)
            && n > *max
        {
            return Err(GraphErr::slot_limit(pascal, n, *max));
        }
    }
    let missing_display = next
        .get("displayName")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty);
    if (mode.create && missing_display) || (!mode.create && name_parts_changed && !display_given) {
        match compose_display_name(&next) {
            Some(d) => {
                next.insert("displayName".into(), Value::String(d));
            }
            None if mode.create => {}
            None => {
                next.remove("displayName");
            }
        }
    }
    *props = next;
    Ok(effect)
}

fn parse_extended(value: &Value) -> GraphResult<Vec<(String, Option<String>)>> {
    let Some(items) = value.as_array() else {
        return Err(GraphErr::bad_value(
            "singleValueExtendedProperties",
            "Collection(microsoft.graph.singleValueLegacyExtendedProperty)",
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(o) = item.as_object() else {
            return Err(GraphErr::bad_value(
                "singleValueExtendedProperties",
                "microsoft.graph.singleValueLegacyExtendedProperty",
            ));
        };
        for k in o.keys() {
            if k != "id" && k != "value" && !k.starts_with("@odata.") {
                return Err(GraphErr::unknown_property(
                    k,
                    "microsoft.graph.singleValueLegacyExtendedProperty",
                ));
            }
        }
        let Some(id) = o.get("id").and_then(Value::as_str) else {
            return Err(GraphErr::new(
                400,
                "ErrorInvalidProperty",
                "The extended property id is missing.",
            ));
        };
        if !valid_extended_id(id) {
            return Err(GraphErr::new(
                400,
                "ErrorInvalidExtendedPropertyValue",
                format!("The extended property id '{id}' is not valid."),
            ));
        }
        let v = match o.get("value") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        out.push((id.to_owned(), v));
    }
    Ok(out)
}

/// `"{Type} {GUID} Name x"`, `"{Type} {GUID} Id 0x8xxx"` or `"{Type} 0xTAG"` (§5.1).
pub fn valid_extended_id(id: &str) -> bool {
    let parts: Vec<&str> = id.splitn(4, ' ').collect();
    let type_ok = parts
        .first()
        .is_some_and(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphabetic()));
    match parts.as_slice() {
        [_, tag] => type_ok && tag.starts_with("0x"),
        [_, guid, kind, name] => {
            type_ok
                && guid.starts_with('{')
                && guid.ends_with('}')
                && (*kind == "Name" || *kind == "Id")
                && !name.is_empty()
        }
        _ => false,
    }
}

fn normalize(key: &str, kind: Kind, value: &Value) -> GraphResult<Option<Value>> {
    if value.is_null() {
        return Ok(None);
    }
    match kind {
        Kind::Str => match value {
            Value::String(_) => Ok(Some(value.clone())),
            _ => Err(GraphErr::bad_value(key, "Edm.String")),
        },
        Kind::StrList => {
            let Some(items) = value.as_array() else {
                return Err(GraphErr::bad_value(key, "Collection(Edm.String)"));
            };
            if items.iter().any(|v| !v.is_string()) {
                return Err(GraphErr::bad_value(key, "Collection(Edm.String)"));
            }
            Ok((!items.is_empty()).then(|| value.clone()))
        }
        Kind::Emails => {
            let Some(items) = value.as_array() else {
                return Err(GraphErr::bad_value(
                    key,
                    "Collection(microsoft.graph.emailAddress)",
                ));
            };
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(normalize_email(key, item)?);
            }
            Ok((!out.is_empty()).then_some(Value::Array(out)))
        }
        Kind::Address => {
            let Some(o) = value.as_object() else {
                return Err(GraphErr::bad_value(key, "microsoft.graph.physicalAddress"));
            };
            let mut out = Map::new();
            for (k, v) in o {
                if k.starts_with("@odata.") {
                    continue;
                }
                if !ADDRESS_KEYS.contains(&k.as_str()) {
                    return Err(GraphErr::unknown_property(
                        k,
                        "microsoft.graph.physicalAddress",
                    ));
                }
                match v {
                    Value::Null => {}
                    Value::String(_) => {
                        out.insert(k.clone(), v.clone());
                    }
                    _ => return Err(GraphErr::bad_value(k, "Edm.String")),
                }
            }
            let mut ordered = Map::new();
            for k in ADDRESS_KEYS {
                if let Some(v) = out.remove(*k) {
                    ordered.insert((*k).to_owned(), v);
                }
            }
            Ok((!ordered.is_empty()).then_some(Value::Object(ordered)))
        }
        Kind::Birthday => {
            let Some(s) = value.as_str() else {
                return Err(GraphErr::bad_value(key, "Edm.DateTimeOffset"));
            };
            normalize_birthday(s).map(|d| Some(Value::String(d)))
        }
    }
}

fn normalize_email(key: &str, item: &Value) -> GraphResult<Value> {
    if item.is_null() {
        return Ok(Value::Null);
    }
    let Some(o) = item.as_object() else {
        return Err(GraphErr::bad_value(key, "microsoft.graph.emailAddress"));
    };
    for k in o.keys() {
        if k != "name" && k != "address" && !k.starts_with("@odata.") {
            return Err(GraphErr::unknown_property(
                k,
                "microsoft.graph.emailAddress",
            ));
        }
    }
    let address = o.get("address").cloned().unwrap_or(Value::Null);
    let name = match o.get("name") {
        Some(Value::String(s)) if !s.is_empty() => Value::String(s.clone()),
        _ => address.clone(),
    };
    if !(address.is_string() || address.is_null()) || !(name.is_string() || name.is_null()) {
        return Err(GraphErr::bad_value(key, "Edm.String"));
    }
    let mut m = Map::new();
    m.insert("name".into(), name);
    m.insert("address".into(), address);
    Ok(Value::Object(m))
}

/// §2.4: accept `YYYY-MM-DD` or any ISO-8601 instant; store the date at `T11:59:00Z`.
pub fn normalize_birthday(s: &str) -> GraphResult<String> {
    let date = if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        d
    } else if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        t.with_timezone(&chrono::Utc).date_naive()
    } else if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        t.date()
    } else {
        return Err(GraphErr::new(
            400,
            "BadRequest",
            format!("Cannot convert the literal '{s}' to the expected type 'Edm.DateTimeOffset'."),
        ));
    };
    Ok(format!("{}T11:59:00Z", date.format("%Y-%m-%d")))
}

/// displayName from the name parts (create `givenName: Pavel, surname: Bansky` →
/// `"Pavel Bansky"`), falling back to the company or the first email address.
pub fn compose_display_name(props: &Map<String, Value>) -> Option<String> {
    let part = |k: &str| props.get(k).and_then(Value::as_str).unwrap_or("").trim();
    let name: Vec<&str> = ["givenName", "middleName", "surname"]
        .iter()
        .map(|k| part(k))
        .filter(|s| !s.is_empty())
        .collect();
    if !name.is_empty() {
        let mut s = name.join(" ");
        let generation = part("generation");
        if !generation.is_empty() {
            s.push(' ');
            s.push_str(generation);
        }
        return Some(s);
    }
    let company = part("companyName");
    if !company.is_empty() {
        return Some(company.to_owned());
    }
    props
        .get("emailAddresses")
        .and_then(|e| e.get(0))
        .and_then(|e| e.get("address"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// Metadata of one stored contact needed to render it.
pub struct RenderMeta<'a> {
    pub id: &'a str,
    pub change_key: &'a str,
    pub created: &'a str,
    pub modified: &'a str,
    pub parent_folder_id: &'a str,
    /// Emit the 2026 typed email slots (§2.3 `schema_2026`).
    pub schema_2026: bool,
}

/// Full contact JSON in Graph's key order (§2.3), unset values as `null` / `[]` / `{}`.
pub fn render_full(props: &Map<String, Value>, meta: &RenderMeta<'_>) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert(
        "@odata.etag".into(),
        Value::String(format!("W/\"{}\"", meta.change_key)),
    );
    out.insert("id".into(), Value::String(meta.id.to_owned()));
    out.insert(
        "createdDateTime".into(),
        Value::String(meta.created.to_owned()),
    );
    out.insert(
        "lastModifiedDateTime".into(),
        Value::String(meta.modified.to_owned()),
    );
    out.insert(
        "changeKey".into(),
        Value::String(meta.change_key.to_owned()),
    );
    for (name, kind) in WRITABLE {
        let v = props.get(*name).cloned().unwrap_or_else(|| match kind {
            Kind::StrList | Kind::Emails => Value::Array(Vec::new()),
            Kind::Address => Value::Object(Map::new()),
            Kind::Str if *name == "fileAs" || *name == "personalNotes" => {
                Value::String(String::new())
            }
            _ => Value::Null,
        });
        out.insert((*name).to_owned(), v);
        if *name == "categories" {
            out.insert(
                "parentFolderId".into(),
                Value::String(meta.parent_folder_id.to_owned()),
            );
        }
    }
    if meta.schema_2026 {
        let emails = props.get("emailAddresses").and_then(Value::as_array);
        for (i, slot) in EMAIL_SLOTS.iter().enumerate() {
            let v = emails
                .and_then(|e| e.get(i))
                .cloned()
                .unwrap_or(Value::Null);
            out.insert((*slot).to_owned(), v);
        }
    }
    out
}

/// Extended properties rendered as `singleValueExtendedProperties` items.
pub fn render_extended<'a>(
    ext: &'a BTreeMap<String, String>,
    wanted: impl Fn(&str) -> bool + 'a,
) -> Vec<Value> {
    ext.iter()
        .filter(|(id, _)| wanted(id))
        .map(|(id, v)| serde_json::json!({ "id": id, "value": v }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CREATE: WriteMode = WriteMode {
        create: true,
        allow_extended: true,
    };
    const PATCH: WriteMode = WriteMode {
        create: false,
        allow_extended: true,
    };

    #[test]
    fn create_composes_display_name_and_fills_email_name() {
        let mut p = Map::new();
        apply_write(
            &mut p,
            &json!({"givenName":"Pavel","surname":"Bansky","emailAddresses":[{"address":"p@c.com"}]}),
            "F",
            CREATE,
        )
        .unwrap();
        assert_eq!(p["displayName"], "Pavel Bansky");
        assert_eq!(p["emailAddresses"][0]["name"], "p@c.com");
    }

    #[test]
    fn slot_limits_reject_without_changing_anything() {
        let mut p = Map::new();
        p.insert("jobTitle".into(), json!("CTO"));
        let err = apply_write(
            &mut p,
            &json!({"jobTitle":"CEO","businessPhones":["1","2","3"]}),
            "F",
            PATCH,
        )
        .unwrap_err();
        assert_eq!(err.code, "ErrorInvalidProperty");
        assert!(err.message.contains("BusinessPhones has 3 entries"));
        assert_eq!(p["jobTitle"], "CTO");
        let err = apply_write(
            &mut p,
            &json!({"emailAddresses":[{"address":"a"},{"address":"b"},{"address":"c"},{"address":"d"}]}),
            "F",
            PATCH,
        )
        .unwrap_err();
        assert!(err.message.contains("EmailAddresses has 4 entries"));
    }

    #[test]
    fn unknown_properties_and_wrong_types_are_400() {
        let mut p = Map::new();
        let e = apply_write(&mut p, &json!({"foo":1}), "F", PATCH).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(
            e.message
                .contains("'foo' does not exist on type 'microsoft.graph.contact'")
        );
        let e = apply_write(&mut p, &json!({"homeAddress":{"po":"1"}}), "F", PATCH).unwrap_err();
        assert!(e.message.contains("microsoft.graph.physicalAddress"));
        let e = apply_write(&mut p, &json!({"surname":5}), "F", PATCH).unwrap_err();
        assert_eq!(e.code, "RequestBodyRead");
    }

    #[test]
    fn birthday_reads_back_at_1159z() {
        assert_eq!(
            normalize_birthday("1815-12-10T00:00:00Z").unwrap(),
            "1815-12-10T11:59:00Z"
        );
        assert_eq!(
            normalize_birthday("1974-07-22").unwrap(),
            "1974-07-22T11:59:00Z"
        );
        assert!(normalize_birthday("July 22").is_err());
    }

    #[test]
    fn null_clears_and_empty_collection_clears() {
        let mut p = Map::new();
        apply_write(
            &mut p,
            &json!({"surname":"X","categories":["a"],"homeAddress":{"city":"Oslo"}}),
            "F",
            CREATE,
        )
        .unwrap();
        apply_write(
            &mut p,
            &json!({"surname":null,"categories":[],"homeAddress":{}, "displayName":"Keep"}),
            "F",
            PATCH,
        )
        .unwrap();
        assert!(!p.contains_key("surname"));
        assert!(!p.contains_key("categories"));
        assert!(!p.contains_key("homeAddress"));
        assert_eq!(p["displayName"], "Keep");
    }

    #[test]
    fn patch_of_name_parts_without_display_name_recomposes_it() {
        let mut p = Map::new();
        apply_write(
            &mut p,
            &json!({"givenName":"A","surname":"B","displayName":"Custom"}),
            "F",
            CREATE,
        )
        .unwrap();
        apply_write(&mut p, &json!({"surname":"C"}), "F", PATCH).unwrap();
        assert_eq!(p["displayName"], "A C");
    }

    #[test]
    fn extended_properties_are_parsed_and_validated() {
        let mut p = Map::new();
        let eff = apply_write(
            &mut p,
            &json!({"singleValueExtendedProperties":[{"id":"String {b5a2f8c0-3c1e-4b3e-9a64-2f1d8e7c6a10} Name vcard-uid","value":"u1"}]}),
            "F",
            PATCH,
        )
        .unwrap();
        assert_eq!(eff.extended.len(), 1);
        assert!(
            apply_write(
                &mut p,
                &json!({"singleValueExtendedProperties":[{"id":"bogus","value":"x"}]}),
                "F",
                PATCH,
            )
            .is_err()
        );
        assert!(valid_extended_id("String 0x3A42"));
    }

    #[test]
    fn full_render_has_graph_key_order_and_empty_shapes() {
        let mut p = Map::new();
        p.insert("givenName".into(), json!("Alex"));
        let m = RenderMeta {
            id: "I",
            change_key: "CK",
            created: "2020-01-01T00:00:00Z",
            modified: "2020-01-01T00:00:00Z",
            parent_folder_id: "F",
            schema_2026: false,
        };
        let out = render_full(&p, &m);
        let keys: Vec<&String> = out.keys().collect();
        assert_eq!(keys[0], "@odata.etag");
        assert_eq!(keys[6], "parentFolderId");
        assert_eq!(out["@odata.etag"], "W/\"CK\"");
        assert_eq!(out["homeAddress"], json!({}));
        assert_eq!(out["businessPhones"], json!([]));
        assert_eq!(out["mobilePhone"], Value::Null);
        assert_eq!(out["fileAs"], "");
        assert!(!out.contains_key("primaryEmailAddress"));
    }
}
