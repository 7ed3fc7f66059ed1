//! The field mapping between vCard properties and Graph contact fields
//! (reference/graph.md §2.1 and §8), in one place a reader can check at a glance.
//!
//! | vCard property (params)                         | Graph field(s)                                  | when Graph's slots are full / no slot |
//! |-------------------------------------------------|-------------------------------------------------|----------------------------------------|
//! | `FN`                                            | `displayName`                                   | first FN; no FN → composed from N      |
//! | `N` family;given;additional;prefix;suffix       | `surname`,`givenName`,`middleName`,`title`,`generation` | first N                          |
//! | `NICKNAME`                                      | `nickName`                                      | first; others stash                    |
//! | `ORG` company;unit;…                            | `companyName`,`department`                      | further units stay on the line         |
//! | `TITLE` / `ROLE`                                | `jobTitle` / `profession`                       | first; others stash                    |
//! | `EMAIL` (PREF / TYPE=pref first)                | `emailAddresses` (3)                            | 4th and later: stash only              |
//! | `TEL;TYPE=cell` (`mobile`, `iphone`)            | `mobilePhone` (1)                               | 2nd cell: stash only                   |
//! | `TEL;TYPE=work`                                 | `businessPhones` (2)                            | 3rd work: stash only                   |
//! | `TEL;TYPE=home`                                 | `homePhones` (2)                                | 3rd home: stash only                   |
//! | `TEL` untyped / `voice` / other                 | free `businessPhones`, then `homePhones` slot   | stash only                             |
//! | `TEL;TYPE=fax` / `pager`                        | none (no v1.0 field)                            | stash only                             |
//! | `IMPP`                                          | `imAddresses` (3)                               | 4th and later: stash only              |
//! | `ADR;TYPE=home` / `work` / other or untyped     | `homeAddress` / `businessAddress` / `otherAddress` (street, city, state, postalCode, countryOrRegion) | 2nd of a kind: stash; PO box and extended stay on the line |
//! | `URL`                                           | `businessHomePage`                              | first; others stash                    |
//! | `BDAY` full date                                | `birthday` (`YYYY-MM-DDT00:00:00Z`, read +12 h) | year-less (`--MMDD`, X-APPLE-OMIT-YEAR): stash only |
//! | `NOTE`                                          | `personalNotes`                                 | first; others stash                    |
//! | `CATEGORIES` (all lines)                        | `categories`                                    | —                                      |
//! | `X-MS-MANAGER`, `X-MANAGER`, Apple related name _Manager_ | `manager`                             | first                                  |
//! | `X-MS-ASSISTANT`, `X-ASSISTANT`, `X-EVOLUTION-ASSISTANT`, Apple _Assistant_ | `assistantName`     | first                                  |
//! | `X-MS-SPOUSE`, `X-SPOUSE`, `X-EVOLUTION-SPOUSE`, Apple _Spouse_ | `spouseName`                    | first                                  |
//! | `X-MS-CHILD`, `X-CHILD`, Apple _Child_ (repeated) | `children`                                    | —                                      |
//! | `X-MS-INITIALS`                                 | `initials`                                      | first                                  |
//! | `X-MS-FILE-AS`                                  | `fileAs`                                        | first                                  |
//! | `X-MS-OFFICE`                                   | `officeLocation`                                | first                                  |
//! | `X-PHONETIC-FIRST-NAME` / `-LAST-NAME` / `-ORG` | `yomiGivenName` / `yomiSurname` / `yomiCompanyName` | first                              |
//! | `PHOTO` inline (base64 / `data:`)               | contact photo (`PUT /photo/$value`)             | URL photos: stash only, never fetched  |
//! | `UID`                                           | `UID_PROPERTY_ID` extended property             | —                                      |
//! | everything else, every parameter, groups, order | `STASH_PROPERTY_ID` extended property           | —                                      |
//!
//! The `X-MS-*` names for Outlook-only fields follow Outlook's own vCard export
//! (`X-MS-MANAGER`, `X-MS-ASSISTANT`, `X-MS-SPOUSE`, `X-MS-CHILD`); initials, file-as and
//! office location have no common vCard spelling, so they get the same prefix.

use crate::graph::model::{Contact, PhysicalAddress};

/// A Graph contact field the mapping writes. Its name is the Graph JSON name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    DisplayName,
    GivenName,
    MiddleName,
    Surname,
    Title,
    Generation,
    NickName,
    Initials,
    FileAs,
    YomiGivenName,
    YomiSurname,
    YomiCompanyName,
    CompanyName,
    Department,
    JobTitle,
    Profession,
    OfficeLocation,
    Manager,
    AssistantName,
    SpouseName,
    PersonalNotes,
    BusinessHomePage,
    Birthday,
    Categories,
    Children,
    EmailAddresses,
    BusinessPhones,
    HomePhones,
    MobilePhone,
    ImAddresses,
    HomeAddress,
    BusinessAddress,
    OtherAddress,
}

impl Field {
    /// Every mapped field, in the order fingerprints are written.
    pub const ALL: [Field; 33] = [
        Field::DisplayName,
        Field::GivenName,
        Field::MiddleName,
        Field::Surname,
        Field::Title,
        Field::Generation,
        Field::NickName,
        Field::Initials,
        Field::FileAs,
        Field::YomiGivenName,
        Field::YomiSurname,
        Field::YomiCompanyName,
        Field::CompanyName,
        Field::Department,
        Field::JobTitle,
        Field::Profession,
        Field::OfficeLocation,
        Field::Manager,
        Field::AssistantName,
        Field::SpouseName,
        Field::PersonalNotes,
        Field::BusinessHomePage,
        Field::Birthday,
        Field::Categories,
        Field::Children,
        Field::EmailAddresses,
        Field::BusinessPhones,
        Field::HomePhones,
        Field::MobilePhone,
        Field::ImAddresses,
        Field::HomeAddress,
        Field::BusinessAddress,
        Field::OtherAddress,
    ];

    /// Graph JSON name (also the name used in the stash).
    pub fn name(self) -> &'static str {
        match self {
            Field::DisplayName => "displayName",
            Field::GivenName => "givenName",
            Field::MiddleName => "middleName",
            Field::Surname => "surname",
            Field::Title => "title",
            Field::Generation => "generation",
            Field::NickName => "nickName",
            Field::Initials => "initials",
            Field::FileAs => "fileAs",
            Field::YomiGivenName => "yomiGivenName",
            Field::YomiSurname => "yomiSurname",
            Field::YomiCompanyName => "yomiCompanyName",
            Field::CompanyName => "companyName",
            Field::Department => "department",
            Field::JobTitle => "jobTitle",
            Field::Profession => "profession",
            Field::OfficeLocation => "officeLocation",
            Field::Manager => "manager",
            Field::AssistantName => "assistantName",
            Field::SpouseName => "spouseName",
            Field::PersonalNotes => "personalNotes",
            Field::BusinessHomePage => "businessHomePage",
            Field::Birthday => "birthday",
            Field::Categories => "categories",
            Field::Children => "children",
            Field::EmailAddresses => "emailAddresses",
            Field::BusinessPhones => "businessPhones",
            Field::HomePhones => "homePhones",
            Field::MobilePhone => "mobilePhone",
            Field::ImAddresses => "imAddresses",
            Field::HomeAddress => "homeAddress",
            Field::BusinessAddress => "businessAddress",
            Field::OtherAddress => "otherAddress",
        }
    }

    /// Inverse of [`Field::name`].
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The `Option<String>` slot of a scalar text field (`None` for lists, addresses and
    /// the birthday, which have their own shapes).
    pub fn text_mut(self, c: &mut Contact) -> Option<&mut Option<String>> {
        Some(match self {
            Field::DisplayName => &mut c.display_name,
            Field::GivenName => &mut c.given_name,
            Field::MiddleName => &mut c.middle_name,
            Field::Surname => &mut c.surname,
            Field::Title => &mut c.title,
            Field::Generation => &mut c.generation,
            Field::NickName => &mut c.nick_name,
            Field::Initials => &mut c.initials,
            Field::FileAs => &mut c.file_as,
            Field::YomiGivenName => &mut c.yomi_given_name,
            Field::YomiSurname => &mut c.yomi_surname,
            Field::YomiCompanyName => &mut c.yomi_company_name,
            Field::CompanyName => &mut c.company_name,
            Field::Department => &mut c.department,
            Field::JobTitle => &mut c.job_title,
            Field::Profession => &mut c.profession,
            Field::OfficeLocation => &mut c.office_location,
            Field::Manager => &mut c.manager,
            Field::AssistantName => &mut c.assistant_name,
            Field::SpouseName => &mut c.spouse_name,
            Field::PersonalNotes => &mut c.personal_notes,
            Field::BusinessHomePage => &mut c.business_home_page,
            Field::MobilePhone => &mut c.mobile_phone,
            _ => return None,
        })
    }

    /// Read-only view of a scalar text field.
    pub fn text(self, c: &Contact) -> Option<&str> {
        let v = match self {
            Field::DisplayName => &c.display_name,
            Field::GivenName => &c.given_name,
            Field::MiddleName => &c.middle_name,
            Field::Surname => &c.surname,
            Field::Title => &c.title,
            Field::Generation => &c.generation,
            Field::NickName => &c.nick_name,
            Field::Initials => &c.initials,
            Field::FileAs => &c.file_as,
            Field::YomiGivenName => &c.yomi_given_name,
            Field::YomiSurname => &c.yomi_surname,
            Field::YomiCompanyName => &c.yomi_company_name,
            Field::CompanyName => &c.company_name,
            Field::Department => &c.department,
            Field::JobTitle => &c.job_title,
            Field::Profession => &c.profession,
            Field::OfficeLocation => &c.office_location,
            Field::Manager => &c.manager,
            Field::AssistantName => &c.assistant_name,
            Field::SpouseName => &c.spouse_name,
            Field::PersonalNotes => &c.personal_notes,
            Field::BusinessHomePage => &c.business_home_page,
            Field::MobilePhone => &c.mobile_phone,
            _ => return None,
        };
        v.as_deref().filter(|s| !s.trim().is_empty())
    }

    /// The value as Graph holds it, in the canonical text form fingerprints are taken of:
    /// line ends normalised, surrounding blanks trimmed, the birthday as its date, list
    /// items and address parts joined with separators that cannot occur in text.
    pub fn canonical(self, c: &Contact) -> String {
        match self {
            Field::Birthday => c
                .birthday
                .as_deref()
                .and_then(graph_birthday_to_date)
                .unwrap_or_default(),
            Field::Categories => join_list(c.categories.iter().map(String::as_str)),
            Field::Children => join_list(c.children.iter().map(String::as_str)),
            Field::EmailAddresses => join_list(graph_emails(c).into_iter()),
            Field::BusinessPhones => join_list(c.business_phones.iter().map(String::as_str)),
            Field::HomePhones => join_list(c.home_phones.iter().map(String::as_str)),
            Field::ImAddresses => join_list(c.im_addresses.iter().map(String::as_str)),
            Field::HomeAddress => canonical_address(&c.home_address),
            Field::BusinessAddress => canonical_address(&c.business_address),
            Field::OtherAddress => canonical_address(&c.other_address),
            f => canonical_text(f.text(c).unwrap_or("")),
        }
    }
}

/// Line ends normalised to LF, surrounding whitespace trimmed.
pub fn canonical_text(s: &str) -> String {
    let s = s.trim();
    if s.contains('\r') {
        s.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        s.to_owned()
    }
}

fn join_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for (i, item) in items.filter(|s| !s.trim().is_empty()).enumerate() {
        if i > 0 {
            out.push('\u{1e}');
        }
        out.push_str(&canonical_text(item));
    }
    out
}

fn canonical_address(a: &PhysicalAddress) -> String {
    if a.is_empty() {
        return String::new();
    }
    [
        &a.street,
        &a.city,
        &a.state,
        &a.postal_code,
        &a.country_or_region,
    ]
    .iter()
    .map(|f| canonical_text(f.as_deref().unwrap_or("")))
    .collect::<Vec<_>>()
    .join("\u{1f}")
}

/// Graph's email addresses: `emailAddresses`, or the 2026 typed slots
/// (`primaryEmailAddress`, …) when only those are present (graph.md §2.1).
pub fn graph_emails(c: &Contact) -> Vec<&str> {
    let listed: Vec<&str> = c
        .email_addresses
        .iter()
        .filter_map(|e| e.address.as_deref())
        .filter(|a| !a.trim().is_empty())
        .collect();
    if !listed.is_empty() {
        return listed;
    }
    [
        "primaryEmailAddress",
        "secondaryEmailAddress",
        "tertiaryEmailAddress",
    ]
    .iter()
    .filter_map(|k| c.extra.get(*k))
    .filter_map(|v| v.get("address").and_then(|a| a.as_str()))
    .filter(|a| !a.trim().is_empty())
    .collect()
}

/// Graph birthday (`1815-12-10T11:59:00Z`, or a bare date) → `1815-12-10`, by adding
/// 12 hours and taking the UTC date (graph.md §2.4).
pub fn graph_birthday_to_date(value: &str) -> Option<String> {
    let value = value.trim();
    if let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Some(d.format("%Y-%m-%d").to_string());
    }
    let instant = chrono::DateTime::parse_from_rfc3339(value).ok()?;
    let shifted = instant.with_timezone(&chrono::Utc) + chrono::Duration::hours(12);
    Some(shifted.date_naive().format("%Y-%m-%d").to_string())
}

/// A full date → the Graph form written on create / update (graph.md §2.4).
pub fn date_to_graph_birthday(date: &str) -> String {
    format!("{date}T00:00:00Z")
}

/// Which address slot an `ADR` line fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKind {
    Home,
    Business,
    Other,
}

impl AddressKind {
    pub fn field(self) -> Field {
        match self {
            AddressKind::Home => Field::HomeAddress,
            AddressKind::Business => Field::BusinessAddress,
            AddressKind::Other => Field::OtherAddress,
        }
    }

    pub fn get(self, c: &Contact) -> &PhysicalAddress {
        match self {
            AddressKind::Home => &c.home_address,
            AddressKind::Business => &c.business_address,
            AddressKind::Other => &c.other_address,
        }
    }

    pub fn get_mut(self, c: &mut Contact) -> &mut PhysicalAddress {
        match self {
            AddressKind::Home => &mut c.home_address,
            AddressKind::Business => &mut c.business_address,
            AddressKind::Other => &mut c.other_address,
        }
    }

    /// TYPE written on a line generated from Graph (`None` = untyped, read back as other).
    pub fn vcard_type(self) -> Option<&'static str> {
        match self {
            AddressKind::Home => Some("home"),
            AddressKind::Business => Some("work"),
            AddressKind::Other => None,
        }
    }

    fn token(self) -> &'static str {
        match self {
            AddressKind::Home => "home",
            AddressKind::Business => "business",
            AddressKind::Other => "other",
        }
    }
}

/// Which phone list a `TEL` line fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhoneKind {
    Business,
    Home,
    Mobile,
}

impl PhoneKind {
    pub fn field(self) -> Field {
        match self {
            PhoneKind::Business => Field::BusinessPhones,
            PhoneKind::Home => Field::HomePhones,
            PhoneKind::Mobile => Field::MobilePhone,
        }
    }

    /// Graph's capacity for this kind (graph.md §0.2).
    pub fn capacity(self) -> usize {
        match self {
            PhoneKind::Business | PhoneKind::Home => 2,
            PhoneKind::Mobile => 1,
        }
    }

    /// Graph's current numbers of this kind.
    pub fn values(self, c: &Contact) -> Vec<&str> {
        let all: Vec<&str> = match self {
            PhoneKind::Business => c.business_phones.iter().map(String::as_str).collect(),
            PhoneKind::Home => c.home_phones.iter().map(String::as_str).collect(),
            PhoneKind::Mobile => c.mobile_phone.as_deref().into_iter().collect(),
        };
        all.into_iter().filter(|v| !v.trim().is_empty()).collect()
    }

    /// TYPE values written on a line generated from Graph.
    pub fn vcard_types(self) -> &'static str {
        match self {
            PhoneKind::Business => "work,voice",
            PhoneKind::Home => "home,voice",
            PhoneKind::Mobile => "cell",
        }
    }

    fn token(self) -> &'static str {
        match self {
            PhoneKind::Business => "business",
            PhoneKind::Home => "home",
            PhoneKind::Mobile => "mobile",
        }
    }
}

/// Capacity of `emailAddresses` and `imAddresses` (graph.md §0.2).
pub const EMAIL_SLOTS: usize = 3;
pub const IM_SLOTS: usize = 3;

/// One single-value text property row: the vCard names read (first is the one written
/// for values that come from Graph), and the Graph field.
#[derive(Debug, Clone, Copy)]
pub struct TextRow {
    pub reads: &'static [&'static str],
    pub field: Field,
    /// Value is a URI (not TEXT-escaped).
    pub uri: bool,
}

impl TextRow {
    pub fn writes(&self) -> &'static str {
        self.reads[0]
    }
}

/// Single-value text properties: first matching line fills the field, later ones stay in
/// the stash.
pub const TEXT_ROWS: &[TextRow] = &[
    TextRow {
        reads: &["FN"],
        field: Field::DisplayName,
        uri: false,
    },
    TextRow {
        reads: &["NICKNAME"],
        field: Field::NickName,
        uri: false,
    },
    TextRow {
        reads: &["TITLE"],
        field: Field::JobTitle,
        uri: false,
    },
    TextRow {
        reads: &["ROLE"],
        field: Field::Profession,
        uri: false,
    },
    TextRow {
        reads: &["NOTE"],
        field: Field::PersonalNotes,
        uri: false,
    },
    TextRow {
        reads: &["URL"],
        field: Field::BusinessHomePage,
        uri: true,
    },
    TextRow {
        reads: &["X-MS-MANAGER", "X-MANAGER"],
        field: Field::Manager,
        uri: false,
    },
    TextRow {
        reads: &["X-MS-ASSISTANT", "X-ASSISTANT", "X-EVOLUTION-ASSISTANT"],
        field: Field::AssistantName,
        uri: false,
    },
    TextRow {
        reads: &["X-MS-SPOUSE", "X-SPOUSE", "X-EVOLUTION-SPOUSE"],
        field: Field::SpouseName,
        uri: false,
    },
    TextRow {
        reads: &["X-MS-INITIALS"],
        field: Field::Initials,
        uri: false,
    },
    TextRow {
        reads: &["X-MS-FILE-AS"],
        field: Field::FileAs,
        uri: false,
    },
    TextRow {
        reads: &["X-MS-OFFICE"],
        field: Field::OfficeLocation,
        uri: false,
    },
    TextRow {
        reads: &["X-PHONETIC-FIRST-NAME"],
        field: Field::YomiGivenName,
        uri: false,
    },
    TextRow {
        reads: &["X-PHONETIC-LAST-NAME"],
        field: Field::YomiSurname,
        uri: false,
    },
    TextRow {
        reads: &["X-PHONETIC-ORG"],
        field: Field::YomiCompanyName,
        uri: false,
    },
];

/// Names read as a child of the contact (`children`), one per line.
pub const CHILD_PROPERTIES: &[&str] = &["X-MS-CHILD", "X-CHILD"];

/// Apple's related-name labels (`itemN.X-ABRELATEDNAMES` + `itemN.X-ABLabel`).
pub const APPLE_RELATED_LABELS: &[(&str, Field)] = &[
    ("_$!<Spouse>!$_", Field::SpouseName),
    ("_$!<Manager>!$_", Field::Manager),
    ("_$!<Assistant>!$_", Field::AssistantName),
    ("_$!<Child>!$_", Field::Children),
];

/// The row for a text field.
pub fn text_row(field: Field) -> Option<&'static TextRow> {
    TEXT_ROWS.iter().find(|r| r.field == field)
}

/// What a line of the client's card feeds in Graph. Stored in the stash per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Binding {
    /// A single-value text property ([`TEXT_ROWS`] or an Apple related name).
    Text(Field),
    /// `N`: surname, givenName, middleName, title, generation.
    N,
    /// `ORG`: companyName, department.
    Org,
    Bday,
    Categories,
    Email(u8),
    Phone(PhoneKind, u8),
    Impp(u8),
    Adr(AddressKind),
    Child(u8),
    /// The inline photo (value removed from the stash).
    Photo,
}

/// `N` components in order, with the Graph field each one feeds.
pub const N_FIELDS: [Field; 5] = [
    Field::Surname,
    Field::GivenName,
    Field::MiddleName,
    Field::Title,
    Field::Generation,
];

/// `ORG` components fed to Graph.
pub const ORG_FIELDS: [Field; 2] = [Field::CompanyName, Field::Department];

impl Binding {
    /// Graph fields whose change means the line must be rewritten.
    pub fn fields(&self) -> &'static [Field] {
        match self {
            Binding::Text(f) => std::slice::from_ref(match f {
                Field::DisplayName => &Field::DisplayName,
                Field::NickName => &Field::NickName,
                Field::JobTitle => &Field::JobTitle,
                Field::Profession => &Field::Profession,
                Field::PersonalNotes => &Field::PersonalNotes,
                Field::BusinessHomePage => &Field::BusinessHomePage,
                Field::Manager => &Field::Manager,
                Field::AssistantName => &Field::AssistantName,
                Field::SpouseName => &Field::SpouseName,
                Field::Initials => &Field::Initials,
                Field::FileAs => &Field::FileAs,
                Field::OfficeLocation => &Field::OfficeLocation,
                Field::YomiGivenName => &Field::YomiGivenName,
                Field::YomiSurname => &Field::YomiSurname,
                Field::YomiCompanyName => &Field::YomiCompanyName,
                _ => return &[],
            }),
            Binding::N => &N_FIELDS,
            Binding::Org => &ORG_FIELDS,
            Binding::Bday => &[Field::Birthday],
            Binding::Categories => &[Field::Categories],
            Binding::Email(_) => &[Field::EmailAddresses],
            Binding::Phone(PhoneKind::Business, _) => &[Field::BusinessPhones],
            Binding::Phone(PhoneKind::Home, _) => &[Field::HomePhones],
            Binding::Phone(PhoneKind::Mobile, _) => &[Field::MobilePhone],
            Binding::Impp(_) => &[Field::ImAddresses],
            Binding::Adr(AddressKind::Home) => &[Field::HomeAddress],
            Binding::Adr(AddressKind::Business) => &[Field::BusinessAddress],
            Binding::Adr(AddressKind::Other) => &[Field::OtherAddress],
            Binding::Child(_) => &[Field::Children],
            Binding::Photo => &[],
        }
    }

    /// Inverse of the stash token, the `Display` form (`text:jobTitle`, `tel:business:1`,
    /// `adr:home`…).
    pub fn from_token(token: &str) -> Option<Binding> {
        let mut parts = token.split(':');
        let kind = parts.next()?;
        let a = parts.next();
        let b = parts.next();
        let index = |s: Option<&str>| s.and_then(|s| s.parse::<u8>().ok());
        Some(match kind {
            "text" => {
                let f = Field::from_name(a?)?;
                if Binding::Text(f).fields().is_empty() {
                    return None;
                }
                Binding::Text(f)
            }
            "n" => Binding::N,
            "org" => Binding::Org,
            "bday" => Binding::Bday,
            "categories" => Binding::Categories,
            "email" => Binding::Email(index(a)?),
            "tel" => {
                let k = match a? {
                    "business" => PhoneKind::Business,
                    "home" => PhoneKind::Home,
                    "mobile" => PhoneKind::Mobile,
                    _ => return None,
                };
                Binding::Phone(k, index(b)?)
            }
            "impp" => Binding::Impp(index(a)?),
            "adr" => Binding::Adr(match a? {
                "home" => AddressKind::Home,
                "business" => AddressKind::Business,
                "other" => AddressKind::Other,
                _ => return None,
            }),
            "child" => Binding::Child(index(a)?),
            "photo" => Binding::Photo,
            _ => return None,
        })
    }
}

/// The stash token, written straight into the stash text (no string per binding).
impl std::fmt::Display for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Binding::Text(field) => write!(f, "text:{}", field.name()),
            Binding::N => f.write_str("n"),
            Binding::Org => f.write_str("org"),
            Binding::Bday => f.write_str("bday"),
            Binding::Categories => f.write_str("categories"),
            Binding::Email(i) => write!(f, "email:{i}"),
            Binding::Phone(k, i) => write!(f, "tel:{}:{i}", k.token()),
            Binding::Impp(i) => write!(f, "impp:{i}"),
            Binding::Adr(k) => write!(f, "adr:{}", k.token()),
            Binding::Child(i) => write!(f, "child:{i}"),
            Binding::Photo => f.write_str("photo"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_name_round_trips() {
        for f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(f));
        }
    }

    #[test]
    fn every_text_row_binding_names_its_field() {
        for row in TEXT_ROWS {
            assert_eq!(Binding::Text(row.field).fields(), &[row.field]);
            assert!(row.field.text(&Contact::default()).is_none());
        }
    }

    #[test]
    fn binding_tokens_round_trip() {
        let all = [
            Binding::Text(Field::JobTitle),
            Binding::N,
            Binding::Org,
            Binding::Bday,
            Binding::Categories,
            Binding::Email(2),
            Binding::Phone(PhoneKind::Home, 1),
            Binding::Phone(PhoneKind::Mobile, 0),
            Binding::Impp(0),
            Binding::Adr(AddressKind::Other),
            Binding::Child(3),
            Binding::Photo,
        ];
        for b in all {
            assert_eq!(Binding::from_token(&b.to_string()), Some(b));
        }
        assert_eq!(Binding::from_token("text:birthday"), None);
        assert_eq!(Binding::from_token("tel:fax:0"), None);
    }

    #[test]
    fn birthday_reads_back_across_the_noon_shift() {
        assert_eq!(
            graph_birthday_to_date("1815-12-10T11:59:00Z").as_deref(),
            Some("1815-12-10")
        );
        assert_eq!(
            graph_birthday_to_date("1815-12-10T00:00:00Z").as_deref(),
            Some("1815-12-10")
        );
        assert_eq!(
            graph_birthday_to_date("1974-07-22").as_deref(),
            Some("1974-07-22")
        );
        assert_eq!(graph_birthday_to_date("garbage"), None);
        assert_eq!(date_to_graph_birthday("1984-01-24"), "1984-01-24T00:00:00Z");
    }

    #[test]
    fn typed_email_slots_are_read_when_the_list_is_empty() {
        let c: Contact = serde_json::from_str(
            r#"{"primaryEmailAddress":{"name":"a","address":"a@x.org"},"secondaryEmailAddress":null}"#,
        )
        .unwrap();
        assert_eq!(graph_emails(&c), vec!["a@x.org"]);
    }
}
