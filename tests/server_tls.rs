//! The TLS listener: a client that verifies an rcgen certificate connects (h2 via ALPN),
//! HSTS is sent, and a new certificate is picked up on SIGHUP and on file change
//! without a restart.

mod server_support;

use server_support::{ALICE, start};
use std::path::Path;
use std::time::Duration;

struct Pair {
    cert_pem: String,
    key_pem: String,
}

fn generate() -> Pair {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    Pair {
        cert_pem: ck.cert.pem(),
        key_pem: ck.signing_key.serialize_pem(),
    }
}

fn write(dir: &Path, pair: &Pair) {
    // Write to temporary names and rename, as certificate tools do.
    std::fs::write(dir.join("cert.tmp"), &pair.cert_pem).unwrap();
    std::fs::write(dir.join("key.tmp"), &pair.key_pem).unwrap();
    std::fs::rename(dir.join("key.tmp"), dir.join("key.pem")).unwrap();
    std::fs::rename(dir.join("cert.tmp"), dir.join("cert.pem")).unwrap();
}

/// A client that trusts only `pair`'s certificate and opens a fresh connection.
fn client_trusting(pair: &Pair, addr: std::net::SocketAddr) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pair.cert_pem.as_bytes()).unwrap()])
        .resolve("localhost", addr)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

async fn accepted(pair: &Pair, addr: std::net::SocketAddr) -> bool {
    client_trusting(pair, addr)
        .get(format!("https://localhost:{}/healthz", addr.port()))
        .send()
        .await
        .is_ok()
}

/// Poll until the server presents `pair` (bounded; no assertion on how long it takes).
async fn wait_until_served(pair: &Pair, addr: std::net::SocketAddr) -> bool {
    for _ in 0..200 {
        if accepted(pair, addr).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn tls_server(dir: &Path, reload_every: Duration) -> server_support::TestServer {
    let files = cardbridge::server::TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    start(move |o| {
        o.tls = Some(files);
        o.tls_reload_interval = reload_every;
    })
    .await
}

#[tokio::test]
async fn verified_tls_with_h2_and_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let pair = generate();
    write(dir.path(), &pair);
    let s = tls_server(dir.path(), Duration::from_secs(3600)).await;
    let addr = s.handle.local_addr();
    assert!(s.handle.base_url().starts_with("https://"));
    let r = client_trusting(&pair, addr)
        .get(format!("https://localhost:{}/dav/", addr.port()))
        .basic_auth(ALICE.0, Some(ALICE.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.headers()["strict-transport-security"], "max-age=31536000");
    // A client that does not trust this certificate is refused.
    assert!(!accepted(&generate(), addr).await);
    // Plain HTTP to the TLS port gets nowhere.
    let plain = reqwest::Client::new()
        .get(format!("http://{addr}/healthz"))
        .send()
        .await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
    s.handle.shutdown().await;
}

#[tokio::test]
async fn certificate_reloads_on_sighup_and_on_file_change() {
    let dir = tempfile::tempdir().unwrap();
    let first = generate();
    write(dir.path(), &first);
    // Long interval: only SIGHUP can explain the first reload.
    let s = tls_server(dir.path(), Duration::from_secs(3600)).await;
    let addr = s.handle.local_addr();
    assert!(accepted(&first, addr).await);

    let second = generate();
    write(dir.path(), &second);
    assert!(
        !accepted(&second, addr).await,
        "reloaded before being told to"
    );
    let status = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        wait_until_served(&second, addr).await,
        "SIGHUP did not reload"
    );
    assert!(!accepted(&first, addr).await);

    // Broken files: the served certificate stays.
    std::fs::write(dir.path().join("cert.pem"), "garbage").unwrap();
    assert!(s.handle.reload_tls().is_err());
    assert!(accepted(&second, addr).await);
    s.handle.shutdown().await;

    // File change without a signal, with a short check interval.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &first);
    let s = tls_server(dir.path(), Duration::from_millis(100)).await;
    let addr = s.handle.local_addr();
    assert!(accepted(&first, addr).await);
    let third = generate();
    write(dir.path(), &third);
    assert!(
        wait_until_served(&third, addr).await,
        "file change not noticed"
    );
    let metrics = s.handle.metrics().render();
    assert!(
        metrics.contains("cardbridge_http_tls_reloads_total 1\n"),
        "{metrics}"
    );
    s.handle.shutdown().await;
}

#[tokio::test]
async fn missing_or_mismatched_files_stop_the_start() {
    server_support::install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let mut o = cardbridge::server::ServerOptions::loopback(0);
    o.tls = Some(cardbridge::server::TlsFiles {
        cert: dir.path().join("cert.pem"),
        key: dir.path().join("key.pem"),
    });
    let dav: std::sync::Arc<dyn cardbridge::server::DavService> =
        std::sync::Arc::new(server_support::Recorder::default());
    let users = server_support::users();
    let ready = cardbridge::server::Readiness::always();
    let err = cardbridge::server::start(o.clone(), users.clone(), dav.clone(), ready.clone())
        .await
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("cannot read"), "{err:#}");
    let a = generate();
    let b = generate();
    std::fs::write(dir.path().join("cert.pem"), &a.cert_pem).unwrap();
    std::fs::write(dir.path().join("key.pem"), &b.key_pem).unwrap();
    let err = cardbridge::server::start(o, users, dav, ready)
        .await
        .err()
        .unwrap();
    assert!(format!("{err:#}").contains("do not fit"), "{err:#}");
}
