//! Typed options of the listener, built from the `[server]` config section.

use super::config::ServerConfig;
use super::metrics::Metrics;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// PEM files of the TLS certificate chain and its private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Everything [`super::start`] needs to know about the listener.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Address to bind (port 0 picks a free port; see `ServerHandle::local_addr`).
    pub listen: SocketAddr,
    /// Serve HTTPS with these files; `None` serves plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Allow plain HTTP on a non-loopback address (behind a TLS proxy). Without it,
    /// `start` refuses, because Basic credentials would cross the network in clear.
    pub allow_insecure_non_loopback: bool,
    /// Largest request body (413 above).
    pub max_body_bytes: usize,
    /// Longest time for one request: body upload (then 408) and answer (then 503).
    pub request_timeout: Duration,
    /// Idle keep-alive connections and slow request heads are closed after this long;
    /// also bounds the TLS handshake.
    pub idle_timeout: Duration,
    /// Realm named in `WWW-Authenticate`.
    pub realm: String,
    /// Failed logins per user name / client address within `failed_login_window`
    /// before attempts are refused (0 disables).
    pub max_failed_logins: u32,
    pub failed_login_window: Duration,
    /// Per-user request rate (token bucket; `<= 0` disables) and burst.
    pub user_requests_per_sec: f64,
    pub user_request_burst: u32,
    /// Concurrent connections served; more wait in the accept backlog.
    pub max_connections: usize,
    /// Largest request head (HTTP/1 buffer, HTTP/2 header list), in bytes.
    pub max_header_bytes: usize,
    /// How often the TLS files are checked for changes (SIGHUP reloads at once).
    pub tls_reload_interval: Duration,
    /// On shutdown, how long in-flight requests may still run before connections are cut.
    pub shutdown_grace: Duration,
    /// The metrics registry served at `/metrics`; add gauges before or after `start`.
    pub metrics: Metrics,
}

impl ServerOptions {
    /// Options from the config section (`listen` must be an `ip:port`).
    pub fn from_config(c: &ServerConfig) -> anyhow::Result<Self> {
        let listen: SocketAddr = c.listen.parse().map_err(|e| {
            anyhow::anyhow!("[server] listen = {:?} is not an ip:port: {e}", c.listen)
        })?;
        let tls = match (&c.tls_cert, &c.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (None, None) => None,
            _ => anyhow::bail!("[server] tls_cert and tls_key must be set together"),
        };
        if c.max_body_bytes == 0 {
            anyhow::bail!("[server] max_body_bytes must be positive");
        }
        Ok(Self {
            listen,
            tls,
            allow_insecure_non_loopback: c.allow_insecure,
            max_body_bytes: c.max_body_bytes,
            request_timeout: Duration::from_secs(c.request_timeout_secs.max(1)),
            idle_timeout: Duration::from_secs(c.idle_timeout_secs.max(1)),
            realm: c.realm.clone(),
            max_failed_logins: c.max_failed_logins,
            failed_login_window: Duration::from_secs(c.failed_login_window_secs.max(1)),
            user_requests_per_sec: c.user_requests_per_sec,
            user_request_burst: c.user_request_burst,
            max_connections: c.max_connections.max(1),
            max_header_bytes: 64 * 1024,
            tls_reload_interval: Duration::from_secs(c.tls_reload_interval_secs.max(1)),
            shutdown_grace: Duration::from_secs(30),
            metrics: Metrics::new(),
        })
    }

    /// Defaults on a loopback address (`127.0.0.1:0` picks a free port): for tests and
    /// embedding.
    pub fn loopback(port: u16) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], port)),
            ..Self::default()
        }
    }
}

impl Default for ServerOptions {
    fn default() -> Self {
        match Self::from_config(&ServerConfig::default()) {
            Ok(o) => o,
            // The default config is valid; keep a fallback rather than a panic.
            Err(_) => Self {
                listen: SocketAddr::from(([127, 0, 0, 1], 5232)),
                tls: None,
                allow_insecure_non_loopback: false,
                max_body_bytes: 8 * 1024 * 1024,
                request_timeout: Duration::from_secs(120),
                idle_timeout: Duration::from_secs(90),
                realm: "cardbridge".into(),
                max_failed_logins: 10,
                failed_login_window: Duration::from_secs(300),
                user_requests_per_sec: 100.0,
                user_request_burst: 1000,
                max_connections: 1024,
                max_header_bytes: 64 * 1024,
                tls_reload_interval: Duration::from_secs(30),
                shutdown_grace: Duration::from_secs(30),
                metrics: Metrics::new(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_config_checks_pairs_and_addresses() {
        let o = ServerOptions::from_config(&ServerConfig::default()).unwrap();
        assert_eq!(o.listen, "127.0.0.1:5232".parse().unwrap());
        assert!(o.tls.is_none());
        let c = ServerConfig {
            tls_cert: Some("c.pem".into()),
            ..ServerConfig::default()
        };
        assert!(ServerOptions::from_config(&c).is_err());
        let c = ServerConfig {
            listen: "localhost".into(),
            ..ServerConfig::default()
        };
        assert!(ServerOptions::from_config(&c).is_err());
        let c = ServerConfig {
            tls_cert: Some("c.pem".into()),
            tls_key: Some("k.pem".into()),
            ..ServerConfig::default()
        };
        assert_eq!(
            ServerOptions::from_config(&c).unwrap().tls,
            Some(TlsFiles {
                cert: "c.pem".into(),
                key: "k.pem".into()
            })
        );
    }
}
