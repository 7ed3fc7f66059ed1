//! `[graph]` section: Graph root, identity authority and app registration
//! (reference/graph.md §1.1: both must be configuration, never constants).

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
        }
    }
}
