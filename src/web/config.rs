//! `[web]` section: the onboarding page (issue 11 item 2).
//!
//! ```toml
//! [web]
//! enabled = true
//! public_url = "https://contacts.example.org"   # what clients and browsers use
//! allowed_tenants = ["0c5b7c1e-…"]             # directory (tenant) ids
//! allowed_users = ["alice@example.org"]        # UPNs
//! ```
//!
//! `public_url` is the origin people reach cardbridge at (behind a proxy: the proxy's);
//! the sign-in's redirect URI is `{public_url}/web/callback` and must be registered on
//! the app registration as a "Mobile and desktop" or "Web" redirect URI. Plain `http`
//! is accepted for loopback hosts only: the page shows passwords and sets a session
//! cookie.

use super::allow::AllowList;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    /// Serve the onboarding page under `/web/`.
    #[serde(default)]
    pub enabled: bool,
    /// Origin clients and browsers use, e.g. `https://contacts.example.org`.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Tenant ids whose users may sign in (empty: any, unless `allowed_users` is set).
    #[serde(default)]
    pub allowed_tenants: Vec<String>,
    /// UPNs that may sign in whatever their tenant (empty: any, unless
    /// `allowed_tenants` is set).
    #[serde(default)]
    pub allowed_users: Vec<String>,
    /// How long a signed-in browser session lasts, in minutes.
    #[serde(default = "default_session_minutes")]
    pub session_minutes: u64,
    /// Let anyone the app registration accepts sign in, although both allow lists are
    /// empty and `[graph] tenant` is a multi-tenant authority (`common`,
    /// `organizations`, `consumers`): every Microsoft account could then create a user.
    #[serde(default)]
    pub allow_anyone: bool,
}

fn default_session_minutes() -> u64 {
    30
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            public_url: None,
            allowed_tenants: Vec::new(),
            allowed_users: Vec::new(),
            session_minutes: default_session_minutes(),
            allow_anyone: false,
        }
    }
}

/// Why the `[web]` section cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebConfigError {
    #[error("[web] public_url is required when the onboarding page is enabled")]
    MissingPublicUrl,
    #[error("[web] public_url {0:?} is not a URL: {1}")]
    BadUrl(String, String),
    #[error(
        "[web] public_url {0:?} must be an https:// origin (http:// only for loopback), without path, query or user name"
    )]
    NotAnOrigin(String),
    #[error("[web] session_minutes must be between 1 and 1440")]
    SessionLength,
    #[error(
        "[web] with [graph] tenant = {0:?} and no allowed_tenants / allowed_users, every Microsoft account could sign in and become a CardDAV user: set an allow list, a tenant id in [graph] tenant, or [web] allow_anyone = true"
    )]
    OpenToEveryone(String),
}

/// Authorities that let accounts of any directory (or any personal account) sign in.
fn multi_tenant(tenant: &str) -> bool {
    ["common", "organizations", "consumers"]
        .iter()
        .any(|t| tenant.trim().eq_ignore_ascii_case(t))
}

/// The validated origin people reach cardbridge at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    url: url::Url,
}

impl PublicUrl {
    pub fn parse(text: &str) -> Result<Self, WebConfigError> {
        let url = url::Url::parse(text)
            .map_err(|e| WebConfigError::BadUrl(text.into(), e.to_string()))?;
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
        let origin_only = url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none()
            && url.host().is_some();
        if !scheme_ok || !origin_only {
            return Err(WebConfigError::NotAnOrigin(text.into()));
        }
        Ok(Self { url })
    }

    /// `scheme://host[:port]`, no trailing slash.
    pub fn origin(&self) -> String {
        self.url.as_str().trim_end_matches('/').to_owned()
    }

    /// The origin followed by `path` (which starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// Host name or address as written in URLs (IPv6 in brackets).
    pub fn host(&self) -> String {
        self.url.host_str().unwrap_or_default().to_owned()
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.url.port_or_known_default().unwrap_or(443)
    }

    /// Whether clients reach cardbridge over TLS.
    pub fn tls(&self) -> bool {
        self.url.scheme() == "https"
    }
}

/// The `[web]` section, checked.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub public_url: PublicUrl,
    pub allow: AllowList,
    pub session_lifetime: Duration,
}

impl WebConfig {
    /// Check the section against the sign-in authority's `tenant`; `Ok(None)` when the
    /// page is off.
    pub fn settings(&self, tenant: &str) -> Result<Option<WebSettings>, WebConfigError> {
        if !self.enabled {
            return Ok(None);
        }
        let url = self
            .public_url
            .as_deref()
            .ok_or(WebConfigError::MissingPublicUrl)?;
        if !(1..=1440).contains(&self.session_minutes) {
            return Err(WebConfigError::SessionLength);
        }
        let allow = AllowList::new(&self.allowed_tenants, &self.allowed_users);
        if allow.is_open() && multi_tenant(tenant) && !self.allow_anyone {
            return Err(WebConfigError::OpenToEveryone(tenant.to_owned()));
        }
        Ok(Some(WebSettings {
            public_url: PublicUrl::parse(url)?,
            allow,
            session_lifetime: Duration::from_secs(self.session_minutes * 60),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_must_be_an_https_origin_or_loopback_http() {
        let u = PublicUrl::parse("https://contacts.example.org").unwrap();
        assert_eq!(u.origin(), "https://contacts.example.org");
        assert_eq!(
            u.join("/web/callback"),
            "https://contacts.example.org/web/callback"
        );
        assert_eq!(
            (u.host().as_str(), u.port(), u.tls()),
            ("contacts.example.org", 443, true)
        );
        let l = PublicUrl::parse("http://127.0.0.1:5232/").unwrap();
        assert_eq!(l.origin(), "http://127.0.0.1:5232");
        assert_eq!((l.port(), l.tls()), (5232, false));
        assert!(PublicUrl::parse("http://[::1]:8080").is_ok());
        assert!(PublicUrl::parse("http://localhost").is_ok());
        for bad in [
            "http://contacts.example.org",
            "https://contacts.example.org/sub/",
            "https://contacts.example.org/?x=1",
            "https://u@contacts.example.org",
            "ftp://contacts.example.org",
        ] {
            assert_eq!(
                PublicUrl::parse(bad),
                Err(WebConfigError::NotAnOrigin(bad.into())),
                "{bad}"
            );
        }
        assert!(matches!(
            PublicUrl::parse("no url"),
            Err(WebConfigError::BadUrl(..))
        ));
    }

    #[test]
    fn enabled_section_needs_a_public_url_and_sane_session_length() {
        let tenant = "contoso.onmicrosoft.com";
        assert!(WebConfig::default().settings(tenant).unwrap().is_none());
        let mut c = WebConfig {
            enabled: true,
            ..WebConfig::default()
        };
        assert_eq!(
            c.settings(tenant).unwrap_err(),
            WebConfigError::MissingPublicUrl
        );
        c.public_url = Some("https://x.example".into());
        let s = c.settings(tenant).unwrap().unwrap();
        assert_eq!(s.session_lifetime, Duration::from_secs(1800));
        c.session_minutes = 0;
        assert_eq!(
            c.settings(tenant).unwrap_err(),
            WebConfigError::SessionLength
        );
    }

    #[test]
    fn a_multi_tenant_authority_needs_an_allow_list_or_an_explicit_yes() {
        let mut c = WebConfig {
            enabled: true,
            public_url: Some("https://x.example".into()),
            ..WebConfig::default()
        };
        for open in ["common", "Organizations", "consumers"] {
            assert_eq!(
                c.settings(open).unwrap_err(),
                WebConfigError::OpenToEveryone(open.into())
            );
        }
        // One directory: Entra itself keeps everyone else out.
        assert!(c.settings("0c5b7c1e-0000-4000-8000-000000000001").is_ok());
        c.allowed_users = vec!["me@outlook.com".into()];
        assert!(c.settings("common").is_ok());
        c.allowed_users.clear();
        c.allow_anyone = true;
        assert!(c.settings("common").is_ok());
    }
}
