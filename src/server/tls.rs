//! TLS for the listener (rustls, ring provider) with certificate reloading.
//!
//! Certificates are renewed every few weeks (ACME), so the server never needs a
//! restart for them: a [`ReloadingCert`] resolver hands rustls the current
//! `CertifiedKey` from a lock-protected `Arc` swapped on reload. A reload happens on
//! SIGHUP and whenever the content of the PEM files changes (checked every
//! `tls_reload_interval`). A reload that fails (half-written files, key not matching
//! the certificate) keeps the old certificate and is logged and counted; it is retried
//! when the files change again. New connections get the new certificate; existing ones
//! keep theirs.
//!
//! ALPN offers `h2` and `http/1.1`. Keys may be PKCS#8, PKCS#1 (RSA) or SEC1 (EC) PEM.

use super::metrics::Metrics;
use super::options::TlsFiles;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex, RwLock};

/// Why certificates could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: no PEM certificate found ({detail})")]
    NoCertificate { path: String, detail: String },
    #[error("{path}: no usable PEM private key ({detail})")]
    NoKey { path: String, detail: String },
    #[error("certificate and key do not fit together: {0}")]
    Mismatch(String),
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn fingerprint(cert: &[u8], key: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((cert.len() as u64).to_be_bytes());
    h.update(cert);
    h.update(key);
    h.finalize().into()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Parse PEM bytes into a checked certificate + key pair.
fn certified_key(
    files: &TlsFiles,
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<CertifiedKey, TlsError> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::NoCertificate {
            path: files.cert.display().to_string(),
            detail: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: files.cert.display().to_string(),
            detail: "the file holds no CERTIFICATE block".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::NoKey {
        path: files.key.display().to_string(),
        detail: e.to_string(),
    })?;
    CertifiedKey::from_der(certs, key, &provider()).map_err(|e| TlsError::Mismatch(e.to_string()))
}

/// What `cardbridge check` reports of the configured certificate.
#[derive(Debug, Clone)]
pub struct CertInfo {
    /// End of the leaf certificate's validity.
    pub not_after: chrono::DateTime<chrono::Utc>,
    /// DNS names and IP addresses of the leaf's subjectAltName extension.
    pub names: Vec<String>,
    /// Certificates in the chain file, the leaf included.
    pub chain_len: usize,
}

/// Load the files as the listener would (certificate and key must fit together) and
/// describe the leaf certificate.
pub fn inspect(files: &TlsFiles) -> Result<CertInfo, TlsError> {
    let cert_pem = read(&files.cert)?;
    let key = certified_key(files, &cert_pem, &read(&files.key)?)?;
    let bad = |detail: String| TlsError::NoCertificate {
        path: files.cert.display().to_string(),
        detail,
    };
    let leaf = key.cert.first().ok_or_else(|| bad("empty chain".into()))?;
    let (_, parsed) =
        x509_parser::parse_x509_certificate(leaf.as_ref()).map_err(|e| bad(e.to_string()))?;
    let not_after = chrono::DateTime::from_timestamp(parsed.validity().not_after.timestamp(), 0)
        .ok_or_else(|| bad("validity out of range".into()))?;
    let names = parsed
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    x509_parser::extensions::GeneralName::DNSName(d) => Some((*d).to_owned()),
                    x509_parser::extensions::GeneralName::IPAddress(ip) => match ip.len() {
                        4 => <[u8; 4]>::try_from(*ip)
                            .ok()
                            .map(|b| std::net::Ipv4Addr::from(b).to_string()),
                        16 => <[u8; 16]>::try_from(*ip)
                            .ok()
                            .map(|b| std::net::Ipv6Addr::from(b).to_string()),
                        _ => None,
                    },
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(CertInfo {
        not_after,
        names,
        chain_len: key.cert.len(),
    })
}

/// The certificate resolver that can be reloaded while serving.
#[derive(Debug)]
pub struct ReloadingCert {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
    /// Fingerprint of the file contents last tried (loaded or not).
    last_seen: Mutex<[u8; 32]>,
    metrics: Metrics,
}

impl ReloadingCert {
    /// Load the files once; an error here stops the server from starting.
    pub fn load(files: TlsFiles, metrics: Metrics) -> Result<Self, TlsError> {
        let cert = read(&files.cert)?;
        let key = read(&files.key)?;
        let ck = certified_key(&files, &cert, &key)?;
        Ok(Self {
            current: RwLock::new(Arc::new(ck)),
            last_seen: Mutex::new(fingerprint(&cert, &key)),
            files,
            metrics,
        })
    }

    /// Reload when the files changed since the last attempt (or always, with `force`).
    /// `Ok(true)` when a new certificate is now served.
    pub fn reload(&self, force: bool) -> Result<bool, TlsError> {
        let cert = read(&self.files.cert)?;
        let key = read(&self.files.key)?;
        let fp = fingerprint(&cert, &key);
        {
            let mut last = self.last_seen.lock().unwrap_or_else(|p| p.into_inner());
            if !force && *last == fp {
                return Ok(false);
            }
            *last = fp;
        }
        match certified_key(&self.files, &cert, &key) {
            Ok(ck) => {
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ck);
                self.metrics.tls_reloaded(true);
                tracing::info!(cert = %self.files.cert.display(), "TLS certificate reloaded");
                Ok(true)
            }
            Err(e) => {
                self.metrics.tls_reloaded(false);
                Err(e)
            }
        }
    }

    /// The rustls server configuration using this resolver.
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<rustls::ServerConfig>, rustls::Error> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        )
    }
}

/// The SIGHUP stream, registered before `start` returns so that a SIGHUP sent right
/// after start-up cannot hit the default action (terminating the process).
#[cfg(unix)]
pub type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
pub type Hangup = Option<()>;

/// Register for SIGHUP (`None` when that is impossible; reload on file change still works).
pub fn hangup() -> Hangup {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!("cannot listen for SIGHUP (reload on signal disabled): {e}");
                None
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

async fn next_hangup(hup: &mut Hangup) {
    #[cfg(unix)]
    if let Some(s) = hup.as_mut() {
        s.recv().await;
        return;
    }
    let _ = hup;
    std::future::pending::<()>().await
}

/// Reload on SIGHUP and on file changes until `stop` fires.
pub async fn watch(
    cert: Arc<ReloadingCert>,
    interval: std::time::Duration,
    mut hup: Hangup,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        let force = tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => false,
            _ = next_hangup(&mut hup) => {
                tracing::info!("SIGHUP received, reloading TLS certificate");
                true
            }
        };
        if let Err(e) = cert.reload(force) {
            tracing::error!("TLS certificate reload failed, keeping the previous one: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &std::path::Path, name: &str) -> (TlsFiles, Vec<u8>) {
        let ck = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        let files = TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.cert, ck.cert.pem()).unwrap();
        std::fs::write(&files.key, ck.signing_key.serialize_pem()).unwrap();
        (files, ck.cert.der().to_vec())
    }

    fn served(r: &ReloadingCert) -> Vec<u8> {
        r.current.read().unwrap().cert[0].to_vec()
    }

    #[test]
    fn loads_reloads_on_change_and_keeps_old_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let (files, der1) = write_pair(dir.path(), "one.test");
        let r = ReloadingCert::load(files.clone(), Metrics::new()).unwrap();
        assert_eq!(served(&r), der1);
        assert!(
            !r.reload(false).unwrap(),
            "unchanged files are not reloaded"
        );
        let (_, der2) = write_pair(dir.path(), "two.test");
        assert!(r.reload(false).unwrap());
        assert_eq!(served(&r), der2);
        // A key that does not match the certificate: old one kept.
        let other = rcgen::generate_simple_self_signed(vec!["x.test".into()]).unwrap();
        std::fs::write(&files.key, other.signing_key.serialize_pem()).unwrap();
        assert!(matches!(r.reload(false), Err(TlsError::Mismatch(_))));
        assert_eq!(served(&r), der2);
        std::fs::write(&files.cert, "not pem").unwrap();
        assert!(matches!(
            r.reload(false),
            Err(TlsError::NoCertificate { .. })
        ));
        assert_eq!(served(&r), der2);
    }

    #[test]
    fn missing_files_fail_to_load() {
        let files = TlsFiles {
            cert: "/nonexistent/cert.pem".into(),
            key: "/nonexistent/key.pem".into(),
        };
        assert!(matches!(
            ReloadingCert::load(files, Metrics::new()),
            Err(TlsError::Read { .. })
        ));
    }
}
