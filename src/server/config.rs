//! `[server]` section: listener, TLS, limits, authentication throttles and logging.
//!
//! Every key has a serde default so an empty `[server]` (or none at all) gives a
//! loopback listener that works out of the box; [`super::ServerOptions::from_config`]
//! turns this file-shaped struct into the typed options the listener runs with.
//!
//! ```toml
//! [server]
//! listen = "0.0.0.0:8443"
//! tls_cert = "/etc/cardbridge/fullchain.pem"
//! tls_key = "/etc/cardbridge/privkey.pem"
//! log_format = "json"
//! ```

use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address the CardDAV listener binds.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Largest request body accepted, in bytes (413 above).
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// PEM certificate chain; with `tls_key`, the listener speaks TLS only.
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) matching `tls_cert`.
    #[serde(default)]
    pub tls_key: Option<PathBuf>,
    /// Allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy).
    #[serde(default)]
    pub allow_insecure: bool,
    /// Longest time one request may take, body upload included (then 408 / 503).
    #[serde(default = "default_request_timeout")]
    pub request_timeout_secs: u64,
    /// Idle keep-alive connections and slow request heads are closed after this long.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_secs: u64,
    /// Log line format: `text` or `json`.
    #[serde(default)]
    pub log_format: crate::server::LogFormat,
    /// Realm named in `WWW-Authenticate`.
    #[serde(default = "default_realm")]
    pub realm: String,
    /// Failed logins (per user name and per client address) tolerated within
    /// `failed_login_window_secs` before further attempts get 503 + Retry-After.
    #[serde(default = "default_max_failed_logins")]
    pub max_failed_logins: u32,
    /// Window over which failed logins are counted, in seconds.
    #[serde(default = "default_failed_login_window")]
    pub failed_login_window_secs: u64,
    /// Sustained requests per second allowed per authenticated user (0: no limit).
    /// The burst covers a first sync: DAVx5 and vdirsyncer send hundreds of requests
    /// in a few seconds, and vdirsyncer does not retry a 503.
    #[serde(default = "default_user_rate")]
    pub user_requests_per_sec: f64,
    /// Burst of requests a user may make above the sustained rate.
    #[serde(default = "default_user_burst")]
    pub user_request_burst: u32,
    /// Concurrent connections accepted; further connections wait in the kernel backlog.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// How often the TLS files are checked for changes, in seconds (SIGHUP reloads at once).
    #[serde(default = "default_tls_reload")]
    pub tls_reload_interval_secs: u64,
}

fn default_listen() -> String {
    "127.0.0.1:5232".into()
}
fn default_max_body() -> usize {
    8 * 1024 * 1024
}
fn default_request_timeout() -> u64 {
    120
}
fn default_idle_timeout() -> u64 {
    90
}
fn default_realm() -> String {
    "cardbridge".into()
}
fn default_max_failed_logins() -> u32 {
    10
}
fn default_failed_login_window() -> u64 {
    300
}
fn default_user_rate() -> f64 {
    100.0
}
fn default_user_burst() -> u32 {
    1000
}
fn default_max_connections() -> usize {
    1024
}
fn default_tls_reload() -> u64 {
    30
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            max_body_bytes: default_max_body(),
            tls_cert: None,
            tls_key: None,
            allow_insecure: false,
            request_timeout_secs: default_request_timeout(),
            idle_timeout_secs: default_idle_timeout(),
            log_format: crate::server::LogFormat::default(),
            realm: default_realm(),
            max_failed_logins: default_max_failed_logins(),
            failed_login_window_secs: default_failed_login_window(),
            user_requests_per_sec: default_user_rate(),
            user_request_burst: default_user_burst(),
            max_connections: default_max_connections(),
            tls_reload_interval_secs: default_tls_reload(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_section_gives_defaults_and_keys_parse() {
        let c: ServerConfig = toml::from_str("").unwrap();
        assert_eq!(c.listen, "127.0.0.1:5232");
        assert_eq!(c.realm, "cardbridge");
        let c: ServerConfig = toml::from_str(
            "tls_cert = \"c.pem\"\ntls_key = \"k.pem\"\nlog_format = \"json\"\nmax_failed_logins = 3\n",
        )
        .unwrap();
        assert_eq!(c.tls_cert, Some(PathBuf::from("c.pem")));
        assert_eq!(c.log_format, crate::server::LogFormat::Json);
        assert_eq!(c.max_failed_logins, 3);
        assert!(toml::from_str::<ServerConfig>("bogus = 1").is_err());
        assert!(toml::from_str::<ServerConfig>("log_format = \"xml\"").is_err());
    }
}
