//! Configuration: one TOML file (`--config`), each section owned by the module it
//! configures, with environment overrides for the values people set per deployment.
//!
//! ```toml
//! [server]   # listener, TLS, limits      (server::config)
//! [graph]    # Graph root, authority, app (graph::config)
//! [bridge]   # freshness, journal         (bridge::config)
//! [state]    # state store path           (this file)
//! [web]      # onboarding page            (web::config)
//! ```

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Where durable state lives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// Path of the redb state store.
    #[serde(default = "default_state_path")]
    pub path: PathBuf,
    /// Optional file holding a key that encrypts stored Graph tokens.
    #[serde(default)]
    pub encryption_key_file: Option<PathBuf>,
}

fn default_state_path() -> PathBuf {
    PathBuf::from("cardbridge-state.redb")
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            path: default_state_path(),
            encryption_key_file: None,
        }
    }
}

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: crate::server::config::ServerConfig,
    #[serde(default)]
    pub graph: crate::graph::config::GraphConfig,
    #[serde(default)]
    pub bridge: crate::bridge::config::BridgeConfig,
    #[serde(default)]
    pub state: StateConfig,
    #[serde(default)]
    pub web: crate::web::WebConfig,
}

impl Config {
    /// Read and parse a TOML file; a missing `path` gives the defaults.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        match path {
            None => Ok(Self::default()),
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", p.display()))?;
                Self::parse(&text).map_err(|e| anyhow::anyhow!("config {}: {e}", p.display()))
            }
        }
    }

    /// Parse TOML text.
    pub fn parse(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults_and_unknown_keys_are_rejected() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.state.path, PathBuf::from("cardbridge-state.redb"));
        assert!(Config::parse("[state]\nbogus = 1\n").is_err());
    }
}
