//! Microsoft Graph JSON models for contacts and contact folders (reference/graph.md §2).
//!
//! These types are the wire shape Graph uses in v1.0 (`microsoft.graph.contact`,
//! `microsoft.graph.contactFolder`, `emailAddress`, `physicalAddress`). Read-only
//! properties are skipped when absent so that a POST / PATCH body never carries them;
//! writable scalars serialize as `null` when absent, because the bridge always sends
//! the complete mapped field set and `null` is how Graph clears a field (§4.4).
//! Properties the model does not name survive a read-modify-write through `extra`.

use serde::{Deserialize, Serialize};

/// `emailAddress` complex type (§2.2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailAddress {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// `physicalAddress` complex type: exactly five strings (§2.2). Graph returns `{}` when
/// unset; the client always sends all five sub-fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalAddress {
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub country_or_region: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
}

impl PhysicalAddress {
    /// True when no sub-field holds a non-empty value.
    pub fn is_empty(&self) -> bool {
        [
            &self.street,
            &self.city,
            &self.state,
            &self.country_or_region,
            &self.postal_code,
        ]
        .iter()
        .all(|f| f.as_deref().is_none_or(str::is_empty))
    }
}

/// One `singleValueLegacyExtendedProperty` (§5.1): `{ "id": "String {guid} Name x", "value": "…" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SingleValueExtendedProperty {
    pub id: String,
    pub value: Option<String>,
}

/// The `@removed` marker on a delta tombstone (§4.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Removed {
    #[serde(default)]
    pub reason: Option<String>,
}

/// `microsoft.graph.contact` (§2.1, §2.3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    // ---- read-only, never sent on writes ----
    #[serde(
        rename = "@odata.etag",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub odata_etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified_date_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_folder_id: Option<String>,
    /// Delta tombstone marker; present only on `@removed` entries.
    #[serde(rename = "@removed", default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<Removed>,

    // ---- writable ----
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub birthday: Option<String>,
    #[serde(default)]
    pub file_as: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub initials: Option<String>,
    #[serde(default)]
    pub middle_name: Option<String>,
    #[serde(default)]
    pub nick_name: Option<String>,
    #[serde(default)]
    pub surname: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub yomi_given_name: Option<String>,
    #[serde(default)]
    pub yomi_surname: Option<String>,
    #[serde(default)]
    pub yomi_company_name: Option<String>,
    #[serde(default)]
    pub generation: Option<String>,
    #[serde(default)]
    pub im_addresses: Vec<String>,
    #[serde(default)]
    pub job_title: Option<String>,
    #[serde(default)]
    pub company_name: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub office_location: Option<String>,
    #[serde(default)]
    pub profession: Option<String>,
    #[serde(default)]
    pub business_home_page: Option<String>,
    #[serde(default)]
    pub assistant_name: Option<String>,
    #[serde(default)]
    pub manager: Option<String>,
    #[serde(default)]
    pub home_phones: Vec<String>,
    #[serde(default)]
    pub mobile_phone: Option<String>,
    #[serde(default)]
    pub business_phones: Vec<String>,
    #[serde(default)]
    pub spouse_name: Option<String>,
    #[serde(default)]
    pub personal_notes: Option<String>,
    #[serde(default)]
    pub children: Vec<String>,
    #[serde(default)]
    pub email_addresses: Vec<EmailAddress>,
    #[serde(default)]
    pub home_address: PhysicalAddress,
    #[serde(default)]
    pub business_address: PhysicalAddress,
    #[serde(default)]
    pub other_address: PhysicalAddress,

    /// Extended properties: written in the same POST / PATCH as the contact; read only
    /// through `$expand` (§5.1). Omitted from writes when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub single_value_extended_properties: Vec<SingleValueExtendedProperty>,

    /// Set by the emulator's seed or by the bridge to say "this contact has a photo";
    /// Graph itself does not expose this in v1.0. Never serialized.
    #[serde(skip)]
    pub has_photo_hint: bool,

    /// Properties not modelled above (for example the 2026 typed email slots), kept
    /// verbatim through a read-modify-write.
    #[serde(flatten, default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Contact {
    /// Value of the single-value extended property `id` (exact, case-sensitive match).
    pub fn extended_property(&self, id: &str) -> Option<&str> {
        self.single_value_extended_properties
            .iter()
            .find(|p| p.id == id)
            .and_then(|p| p.value.as_deref())
    }

    /// True for a delta tombstone (`@removed`).
    pub fn is_removed(&self) -> bool {
        self.removed.is_some()
    }
}

/// `microsoft.graph.contactFolder` (§2.6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContactFolder {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_folder_id: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(rename = "@removed", default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<Removed>,
}

/// A contact photo: bytes plus media type (§2.7, §4.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub content_type: String,
    pub bytes: bytes::Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_skip_read_only_fields_and_null_unset_scalars() {
        let c = Contact {
            given_name: Some("Pavel".into()),
            ..Default::default()
        };
        let v = serde_json::to_value(&c).unwrap();
        assert!(v.get("id").is_none());
        assert!(v.get("changeKey").is_none());
        assert_eq!(v["givenName"], "Pavel");
        assert!(v["surname"].is_null());
        assert_eq!(v["homeAddress"]["street"], serde_json::Value::Null);
        assert!(v.get("singleValueExtendedProperties").is_none());
    }

    #[test]
    fn reads_full_graph_contact_and_keeps_unknown_fields() {
        let json = r#"{"@odata.etag":"W/\"EQAAABYAAAA\"","id":"AAMk=","changeKey":"EQAAABYAAAA",
            "categories":[],"birthday":null,"displayName":"Alex Wilber","homeAddress":{},
            "emailAddresses":[{"name":"a@b.c","address":"a@b.c"}],
            "primaryEmailAddress":{"name":"a@b.c","address":"a@b.c"}}"#;
        let c: Contact = serde_json::from_str(json).unwrap();
        assert_eq!(c.id.as_deref(), Some("AAMk="));
        assert_eq!(c.display_name.as_deref(), Some("Alex Wilber"));
        assert!(c.home_address.is_empty());
        assert!(c.extra.contains_key("primaryEmailAddress"));
    }

    #[test]
    fn delta_tombstone_is_recognised() {
        let c: Contact =
            serde_json::from_str(r#"{"id":"x","@removed":{"reason":"deleted"}}"#).unwrap();
        assert!(c.is_removed());
    }
}
