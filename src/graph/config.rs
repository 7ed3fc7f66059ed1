//! `[graph]` section: Graph root, identity authority and app registration
//! (reference/graph.md §1.1: both must be configuration, never constants; §11 scopes).
//!
//! ```toml
//! [graph]
//! root = "https://graph.microsoft.com"          # national clouds: graph.microsoft.us …
//! authority = "https://login.microsoftonline.com"
//! tenant = "common"                             # or organizations, consumers, a tenant id
//! client_id = "00000000-0000-0000-0000-000000000000"
//! # app-only (organisation): a client secret and the mailboxes to serve
//! # client_secret = "…"                         # better: CARDBRIDGE_CLIENT_SECRET
//! # mailboxes = ["adele@contoso.com"]
//! # scopes = ["offline_access", "Contacts.ReadWrite", "User.Read"]  # delegated; default below
//! ```
//!
//! Environment overrides (applied by [`GraphConfig::apply_env`]): `CARDBRIDGE_GRAPH_ROOT`,
//! `CARDBRIDGE_AUTHORITY`, `CARDBRIDGE_TENANT`, `CARDBRIDGE_CLIENT_ID`,
//! `CARDBRIDGE_CLIENT_SECRET`.

use secrecy::SecretString;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphConfig {
    /// Graph root, without the version segment (`https://graph.microsoft.com`).
    #[serde(default = "default_root")]
    pub root: String,
    /// Identity authority (`https://login.microsoftonline.com`).
    #[serde(default = "default_authority")]
    pub authority: String,
    /// Tenant segment: `common`, `organizations`, `consumers` or a tenant id.
    #[serde(default = "default_tenant")]
    pub tenant: String,
    /// Application (client) id of the app registration.
    #[serde(default)]
    pub client_id: String,
    /// Client secret: present means app-only (client credentials) access.
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    /// Delegated scopes; empty means `offline_access {root}/Contacts.ReadWrite User.Read`.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// App-only: the mailboxes (UPNs or ids) to serve.
    #[serde(default)]
    pub mailboxes: Vec<String>,
}

fn default_root() -> String {
    "https://graph.microsoft.com".into()
}
fn default_authority() -> String {
    "https://login.microsoftonline.com".into()
}
fn default_tenant() -> String {
    "common".into()
}

impl Default for GraphConfig {
    fn default() -> Self {
        Self {
            root: default_root(),
            authority: default_authority(),
            tenant: default_tenant(),
            client_id: String::new(),
            client_secret: None,
            scopes: Vec::new(),
            mailboxes: Vec::new(),
        }
    }
}

impl GraphConfig {
    /// Apply the `CARDBRIDGE_*` environment overrides (empty values are ignored).
    pub fn apply_env(&mut self) {
        self.apply_from(|name| std::env::var(name).ok());
    }

    fn apply_from(&mut self, get: impl Fn(&str) -> Option<String>) {
        let get = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("CARDBRIDGE_GRAPH_ROOT") {
            self.root = v;
        }
        if let Some(v) = get("CARDBRIDGE_AUTHORITY") {
            self.authority = v;
        }
        if let Some(v) = get("CARDBRIDGE_TENANT") {
            self.tenant = v;
        }
        if let Some(v) = get("CARDBRIDGE_CLIENT_ID") {
            self.client_id = v;
        }
        if let Some(v) = get("CARDBRIDGE_CLIENT_SECRET") {
            self.client_secret = Some(SecretString::from(v));
        }
    }

    /// True when configured for app-only access (client credentials).
    pub fn app_only(&self) -> bool {
        self.client_secret.is_some()
    }

    /// Problems a person must fix before anything can sign in.
    pub fn validate(&self) -> Result<(), String> {
        if self.client_id.trim().is_empty() {
            return Err("graph.client_id is not set (or CARDBRIDGE_CLIENT_ID)".into());
        }
        for (name, v) in [
            ("graph.root", &self.root),
            ("graph.authority", &self.authority),
        ] {
            let u = url::Url::parse(v).map_err(|e| format!("{name} {v:?} is not a URL: {e}"))?;
            if !matches!(u.scheme(), "https" | "http") {
                return Err(format!("{name} must be an http(s) URL"));
            }
        }
        if self.app_only() && self.mailboxes.is_empty() {
            return Err(
                "app-only access (graph.client_secret) needs graph.mailboxes: app tokens cannot use /me"
                    .into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_parsed_and_never_printed() {
        let c: GraphConfig = toml::from_str(
            "client_id = \"app\"\nclient_secret = \"s3cr3t\"\nmailboxes = [\"a@b.c\"]\n",
        )
        .unwrap();
        assert!(c.app_only());
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn env_overrides_apply_and_validation_explains() {
        let mut c = GraphConfig::default();
        assert!(c.validate().unwrap_err().contains("client_id"));
        c.apply_from(|name| match name {
            "CARDBRIDGE_GRAPH_ROOT" => Some("http://127.0.0.1:9000".into()),
            "CARDBRIDGE_CLIENT_ID" => Some("app-1".into()),
            "CARDBRIDGE_TENANT" => Some("".into()),
            "CARDBRIDGE_CLIENT_SECRET" => Some("x".into()),
            _ => None,
        });
        assert_eq!(c.root, "http://127.0.0.1:9000");
        assert_eq!(c.tenant, "common");
        assert!(c.validate().unwrap_err().contains("mailboxes"));
        c.mailboxes.push("u@x".into());
        assert!(c.validate().is_ok());
    }
}

#[cfg(test)]
mod example_tests {
    #[test]
    fn shipped_examples_parse_and_validate() {
        for text in [
            include_str!("../../examples/personal.toml"),
            include_str!("../../examples/organisation.toml"),
        ] {
            let mut cfg = crate::config::Config::parse(text).unwrap();
            cfg.graph.client_secret = cfg
                .graph
                .client_secret
                .or_else(|| (!cfg.graph.mailboxes.is_empty()).then(|| "s".to_owned().into()));
            cfg.graph.validate().unwrap();
            cfg.web.settings(&cfg.graph.tenant).unwrap();
        }
    }
}
