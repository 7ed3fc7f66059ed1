//! `[bridge]` section: mirror freshness and journal retention.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BridgeConfig {
    /// A read within this many seconds of the last refresh makes no Graph call.
    #[serde(default = "default_freshness")]
    pub freshness_secs: u64,
}

fn default_freshness() -> u64 {
    5
}

impl Default for BridgeConfig {
    fn default() -> Self {
        Self {
            freshness_secs: default_freshness(),
        }
    }
}
