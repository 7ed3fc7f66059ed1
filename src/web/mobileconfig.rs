//! The Apple configuration profile (`.mobileconfig`) that sets up a CardDAV account on
//! macOS and iOS in one step (reference/clients.md §2.1, "Configuration profiles").
//!
//! One `com.apple.carddav.account` payload (Apple's Configuration Profile Reference,
//! "CardDAV"): host, port, TLS flag, the principal URL (absolute, so the account does no
//! discovery) and the user name. The profile is unsigned XML; the device shows it as
//! "Unsigned" and asks before installing.
//!
//! The password goes in only when the person ticks the box right after creating an app
//! password: a profile file lying in a Downloads folder should not hold a secret by
//! default. Without it the device asks for the password while installing.
//! Identifiers and UUIDs are derived from host and user, so installing a newer profile
//! for the same account replaces the old one instead of adding a second account.

use super::config::PublicUrl;
use plist::{Dictionary, Value};

/// What goes into a profile.
pub struct ProfileSpec<'a> {
    pub public_url: &'a PublicUrl,
    /// Canonical CardDAV user name.
    pub user: &'a str,
    /// Absolute principal URL of the user.
    pub principal_url: &'a str,
    /// Included only when the person asked for it.
    pub password: Option<&'a str>,
}

/// `Content-Type` of a configuration profile.
pub const CONTENT_TYPE: &str = "application/x-apple-aspen-config";

fn dict(pairs: Vec<(&str, Value)>) -> Value {
    let mut d = Dictionary::new();
    for (k, v) in pairs {
        d.insert(k.to_owned(), v);
    }
    Value::Dictionary(d)
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

/// Reverse-DNS-ish identifier part: letters, digits, `.` and `-` only.
fn ident(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn uuid(kind: &str, host: &str, user: &str) -> String {
    crate::guid::name_based(
        b"cardbridge mobileconfig\0",
        format!("{kind}\0{host}\0{user}").as_bytes(),
    )
    .to_ascii_uppercase()
}

/// The profile as XML property-list bytes.
pub fn profile(spec: &ProfileSpec<'_>) -> Result<Vec<u8>, plist::Error> {
    let host = spec.public_url.host();
    let base_id = format!("cardbridge.{}.{}", ident(&host), ident(spec.user));
    let description = format!("Contacts ({host})");
    let mut account = vec![
        ("PayloadType", s("com.apple.carddav.account")),
        ("PayloadVersion", Value::Integer(1.into())),
        ("PayloadIdentifier", s(&format!("{base_id}.carddav"))),
        ("PayloadUUID", s(&uuid("carddav", &host, spec.user))),
        ("PayloadDisplayName", s("CardDAV (Outlook contacts)")),
        (
            "PayloadDescription",
            s("Outlook / Microsoft 365 contacts through cardbridge"),
        ),
        ("CardDAVAccountDescription", s(&description)),
        ("CardDAVHostName", s(&host)),
        ("CardDAVPort", Value::Integer(spec.public_url.port().into())),
        ("CardDAVUseSSL", Value::Boolean(spec.public_url.tls())),
        ("CardDAVPrincipalURL", s(spec.principal_url)),
        ("CardDAVUsername", s(spec.user)),
    ];
    if let Some(p) = spec.password {
        account.push(("CardDAVPassword", s(p)));
    }
    let root = dict(vec![
        ("PayloadType", s("Configuration")),
        ("PayloadVersion", Value::Integer(1.into())),
        ("PayloadIdentifier", s(&base_id)),
        ("PayloadUUID", s(&uuid("profile", &host, spec.user))),
        ("PayloadDisplayName", s(&description)),
        (
            "PayloadDescription",
            s(&format!(
                "Adds the CardDAV account {} on {host} to Contacts.",
                spec.user
            )),
        ),
        ("PayloadOrganization", s("cardbridge")),
        ("PayloadRemovalDisallowed", Value::Boolean(false)),
        ("PayloadContent", Value::Array(vec![dict(account)])),
    ]);
    let mut out = Vec::new();
    root.to_writer_xml(&mut out)?;
    Ok(out)
}

/// File name offered for the download.
pub fn file_name(public_url: &PublicUrl) -> String {
    format!("cardbridge-{}.mobileconfig", ident(&public_url.host()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Dictionary {
        Value::from_reader_xml(bytes)
            .unwrap()
            .into_dictionary()
            .unwrap()
    }

    fn account(root: &Dictionary) -> Dictionary {
        root["PayloadContent"].as_array().unwrap()[0]
            .as_dictionary()
            .unwrap()
            .clone()
    }

    #[test]
    fn carddav_payload_names_host_port_tls_principal_and_user() {
        let url = PublicUrl::parse("https://contacts.example.org").unwrap();
        let bytes = profile(&ProfileSpec {
            public_url: &url,
            user: "alice@example.org",
            principal_url: "https://contacts.example.org/dav/principals/alice@example.org/",
            password: None,
        })
        .unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("<?xml"), "{text}");
        let root = parse(&bytes);
        assert_eq!(root["PayloadType"].as_string(), Some("Configuration"));
        assert_eq!(root["PayloadVersion"].as_signed_integer(), Some(1));
        let a = account(&root);
        assert_eq!(
            a["PayloadType"].as_string(),
            Some("com.apple.carddav.account")
        );
        assert_eq!(
            a["CardDAVHostName"].as_string(),
            Some("contacts.example.org")
        );
        assert_eq!(a["CardDAVPort"].as_signed_integer(), Some(443));
        assert_eq!(a["CardDAVUseSSL"].as_boolean(), Some(true));
        assert_eq!(
            a["CardDAVPrincipalURL"].as_string(),
            Some("https://contacts.example.org/dav/principals/alice@example.org/")
        );
        assert_eq!(a["CardDAVUsername"].as_string(), Some("alice@example.org"));
        assert!(
            !a.contains_key("CardDAVPassword"),
            "no password unless asked"
        );
        let ids = [
            root["PayloadIdentifier"].as_string().unwrap(),
            a["PayloadIdentifier"].as_string().unwrap(),
        ];
        assert!(
            ids.iter().all(|i| i
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')),
            "{ids:?}"
        );
        assert_ne!(root["PayloadUUID"], a["PayloadUUID"]);
    }

    #[test]
    fn password_only_when_given_and_uuids_are_stable_per_account() {
        let url = PublicUrl::parse("http://127.0.0.1:5232").unwrap();
        let make = |user: &str, password| {
            parse(
                &profile(&ProfileSpec {
                    public_url: &url,
                    user,
                    principal_url: "http://127.0.0.1:5232/dav/principals/x/",
                    password,
                })
                .unwrap(),
            )
        };
        let with = make("bob", Some("abcd-efgh"));
        let a = account(&with);
        assert_eq!(a["CardDAVPassword"].as_string(), Some("abcd-efgh"));
        assert_eq!(a["CardDAVPort"].as_signed_integer(), Some(5232));
        assert_eq!(a["CardDAVUseSSL"].as_boolean(), Some(false));
        let again = make("bob", None);
        assert_eq!(
            with["PayloadUUID"], again["PayloadUUID"],
            "same account, same profile"
        );
        assert_ne!(with["PayloadUUID"], make("carol", None)["PayloadUUID"]);
        assert_eq!(file_name(&url), "cardbridge-127.0.0.1.mobileconfig");
    }
}
