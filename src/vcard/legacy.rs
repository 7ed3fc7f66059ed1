//! Older Microsoft contact JSON dialects (reference/graph.md §12), read and written
//! through the same Graph [`Contact`] model so exports from those APIs can be converted
//! (`cardbridge convert --from outlook-v2|live-v5`).
//!
//! - Outlook REST v2.0: Graph's model with PascalCase names, `MobilePhone1` for
//!   `mobilePhone` (§12.1).
//! - Live Connect v5.0: `first_name`/`last_name`/`name`, an `emails` object and
//!   `work[].employer.name`; birthdays without a year (§12.2, §12.3).

use serde::{Deserialize, Serialize};

use crate::graph::model::{Contact, EmailAddress, PhysicalAddress};

/// Outlook REST v2.0 `EmailAddress`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct V2EmailAddress {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

/// Outlook REST v2.0 `PhysicalAddress`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct V2PhysicalAddress {
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

/// Outlook REST v2.0 `Microsoft.OutlookServices.Contact`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutlookV2Contact {
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
    pub email_addresses: Vec<V2EmailAddress>,
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
    #[serde(default, rename = "MobilePhone1")]
    pub mobile_phone1: Option<String>,
    #[serde(default)]
    pub business_phones: Vec<String>,
    #[serde(default)]
    pub home_address: V2PhysicalAddress,
    #[serde(default)]
    pub business_address: V2PhysicalAddress,
    #[serde(default)]
    pub other_address: V2PhysicalAddress,
    #[serde(default)]
    pub spouse_name: Option<String>,
    #[serde(default)]
    pub personal_notes: Option<String>,
    #[serde(default)]
    pub children: Vec<String>,
}

fn address_from_v2(a: V2PhysicalAddress) -> PhysicalAddress {
    PhysicalAddress {
        street: a.street,
        city: a.city,
        state: a.state,
        country_or_region: a.country_or_region,
        postal_code: a.postal_code,
    }
}

fn address_to_v2(a: &PhysicalAddress) -> V2PhysicalAddress {
    V2PhysicalAddress {
        street: a.street.clone(),
        city: a.city.clone(),
        state: a.state.clone(),
        country_or_region: a.country_or_region.clone(),
        postal_code: a.postal_code.clone(),
    }
}

impl From<OutlookV2Contact> for Contact {
    fn from(v: OutlookV2Contact) -> Self {
        Contact {
            odata_etag: v.odata_etag,
            id: v.id,
            created_date_time: v.created_date_time,
            last_modified_date_time: v.last_modified_date_time,
            change_key: v.change_key,
            parent_folder_id: v.parent_folder_id,
            categories: v.categories,
            birthday: v.birthday,
            file_as: v.file_as,
            display_name: v.display_name,
            given_name: v.given_name,
            initials: v.initials,
            middle_name: v.middle_name,
            nick_name: v.nick_name,
            surname: v.surname,
            title: v.title,
            yomi_given_name: v.yomi_given_name,
            yomi_surname: v.yomi_surname,
            yomi_company_name: v.yomi_company_name,
            generation: v.generation,
            im_addresses: v.im_addresses,
            job_title: v.job_title,
            company_name: v.company_name,
            department: v.department,
            office_location: v.office_location,
            profession: v.profession,
            business_home_page: v.business_home_page,
            assistant_name: v.assistant_name,
            manager: v.manager,
            home_phones: v.home_phones,
            mobile_phone: v.mobile_phone1,
            business_phones: v.business_phones,
            spouse_name: v.spouse_name,
            personal_notes: v.personal_notes,
            children: v.children,
            email_addresses: v
                .email_addresses
                .into_iter()
                .map(|e| EmailAddress {
                    name: e.name,
                    address: e.address,
                })
                .collect(),
            home_address: address_from_v2(v.home_address),
            business_address: address_from_v2(v.business_address),
            other_address: address_from_v2(v.other_address),
            ..Contact::default()
        }
    }
}

impl From<&Contact> for OutlookV2Contact {
    fn from(c: &Contact) -> Self {
        OutlookV2Contact {
            odata_etag: c.odata_etag.clone(),
            id: c.id.clone(),
            created_date_time: c.created_date_time.clone(),
            last_modified_date_time: c.last_modified_date_time.clone(),
            change_key: c.change_key.clone(),
            parent_folder_id: c.parent_folder_id.clone(),
            categories: c.categories.clone(),
            birthday: c.birthday.clone(),
            file_as: c.file_as.clone(),
            display_name: c.display_name.clone(),
            given_name: c.given_name.clone(),
            initials: c.initials.clone(),
            middle_name: c.middle_name.clone(),
            nick_name: c.nick_name.clone(),
            surname: c.surname.clone(),
            title: c.title.clone(),
            yomi_given_name: c.yomi_given_name.clone(),
            yomi_surname: c.yomi_surname.clone(),
            yomi_company_name: c.yomi_company_name.clone(),
            generation: c.generation.clone(),
            email_addresses: c
                .email_addresses
                .iter()
                .map(|e| V2EmailAddress {
                    name: e.name.clone(),
                    address: e.address.clone(),
                })
                .collect(),
            im_addresses: c.im_addresses.clone(),
            job_title: c.job_title.clone(),
            company_name: c.company_name.clone(),
            department: c.department.clone(),
            office_location: c.office_location.clone(),
            profession: c.profession.clone(),
            business_home_page: c.business_home_page.clone(),
            assistant_name: c.assistant_name.clone(),
            manager: c.manager.clone(),
            home_phones: c.home_phones.clone(),
            mobile_phone1: c.mobile_phone.clone(),
            business_phones: c.business_phones.clone(),
            home_address: address_to_v2(&c.home_address),
            business_address: address_to_v2(&c.business_address),
            other_address: address_to_v2(&c.other_address),
            spouse_name: c.spouse_name.clone(),
            personal_notes: c.personal_notes.clone(),
            children: c.children.clone(),
        }
    }
}

/// Live Connect v5.0 `emails` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEmails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
}

/// Live Connect v5.0 `work[].employer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEmployer {
    #[serde(default)]
    pub name: Option<String>,
}

/// Live Connect v5.0 `work[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveWork {
    #[serde(default)]
    pub employer: LiveEmployer,
}

/// Live Connect v5.0 contact (read and create shapes merged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveV5Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_day: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub birth_month: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emails: Option<LiveEmails>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub work: Vec<LiveWork>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_friend: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_favorite: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_hashes: Vec<String>,
}

/// Live's year-less birthday has no Graph form (graph.md §2.4): it is dropped, and the
/// other fields map by name (§12.3). Emails: preferred first, then personal, business,
/// other, account; duplicates once; at most Graph's three.
impl From<LiveV5Contact> for Contact {
    fn from(v: LiveV5Contact) -> Self {
        let mut emails: Vec<String> = Vec::new();
        if let Some(e) = v.emails {
            for a in [e.preferred, e.personal, e.business, e.other, e.account]
                .into_iter()
                .flatten()
            {
                if !a.trim().is_empty() && !emails.contains(&a) {
                    emails.push(a);
                }
            }
        }
        Contact {
            id: v.id,
            last_modified_date_time: v.updated_time,
            given_name: v.first_name,
            surname: v.last_name,
            display_name: v.name,
            company_name: v.work.into_iter().find_map(|w| w.employer.name),
            email_addresses: emails
                .into_iter()
                .take(3)
                .map(|a| EmailAddress {
                    name: Some(a.clone()),
                    address: Some(a),
                })
                .collect(),
            ..Contact::default()
        }
    }
}

impl From<&Contact> for LiveV5Contact {
    fn from(c: &Contact) -> Self {
        let emails: Vec<&str> = super::mapping::graph_emails(c);
        let date = c
            .birthday
            .as_deref()
            .and_then(super::mapping::graph_birthday_to_date)
            .and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
        use chrono::Datelike as _;
        LiveV5Contact {
            id: c.id.clone(),
            first_name: c.given_name.clone(),
            last_name: c.surname.clone(),
            name: c.display_name.clone(),
            birth_day: date.map(|d| d.day()),
            birth_month: date.map(|d| d.month()),
            emails: (!emails.is_empty()).then(|| LiveEmails {
                preferred: emails.first().map(|s| (*s).to_owned()),
                personal: emails.first().map(|s| (*s).to_owned()),
                business: emails.get(1).map(|s| (*s).to_owned()),
                other: emails.get(2).map(|s| (*s).to_owned()),
                account: None,
            }),
            work: c
                .company_name
                .clone()
                .map(|name| LiveWork {
                    employer: LiveEmployer { name: Some(name) },
                })
                .into_iter()
                .collect(),
            updated_time: c.last_modified_date_time.clone(),
            ..LiveV5Contact::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outlook_v2_reads_pascal_case_and_mobile_phone1() {
        let json = r#"{"@odata.etag":"W/\"x\"","Id":"AAMk=","GivenName":"Pavel","Surname":"Bansky",
            "MobilePhone1":"+1 555","EmailAddresses":[{"Name":"p","Address":"p@x.org"}],
            "HomeAddress":{"City":"Seattle"},"BusinessPhones":["+1 2"]}"#;
        let v: OutlookV2Contact = serde_json::from_str(json).unwrap();
        let c = Contact::from(v.clone());
        assert_eq!(c.mobile_phone.as_deref(), Some("+1 555"));
        assert_eq!(c.given_name.as_deref(), Some("Pavel"));
        assert_eq!(c.home_address.city.as_deref(), Some("Seattle"));
        assert_eq!(c.email_addresses[0].address.as_deref(), Some("p@x.org"));
        let back = OutlookV2Contact::from(&c);
        assert_eq!(back, v);
        let out = serde_json::to_value(&back).unwrap();
        assert_eq!(out["MobilePhone1"], "+1 555");
        assert!(out.get("mobilePhone").is_none());
    }

    #[test]
    fn live_v5_maps_names_emails_and_employer() {
        let json = r#"{"id":"contact.1","first_name":"Roberto","last_name":"Tamburello",
            "name":"Roberto Tamburello","birth_day":9,"birth_month":5,
            "emails":{"preferred":"r@x.org","personal":"r@x.org","business":"rt@corp.com"},
            "work":[{"employer":{"name":"Contoso"}}]}"#;
        let v: LiveV5Contact = serde_json::from_str(json).unwrap();
        let c = Contact::from(v);
        assert_eq!(c.display_name.as_deref(), Some("Roberto Tamburello"));
        assert_eq!(c.company_name.as_deref(), Some("Contoso"));
        let emails: Vec<_> = c
            .email_addresses
            .iter()
            .filter_map(|e| e.address.clone())
            .collect();
        assert_eq!(emails, vec!["r@x.org", "rt@corp.com"]);
        assert_eq!(c.birthday, None);
        let back = LiveV5Contact::from(&c);
        assert_eq!(back.first_name.as_deref(), Some("Roberto"));
        assert_eq!(
            back.emails.unwrap().business.as_deref(),
            Some("rt@corp.com")
        );
    }
}
