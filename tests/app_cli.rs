//! The two ways people start cardbridge, end to end with the real binary:
//! - the deployment path: `login` (device code against the identity endpoints), `user
//!   add`, then `serve` from a config file, all pointed at a Graph emulator;
//! - `demo`, which starts its own emulator.
//!
//! Each checks what a CardDAV client sees first (readiness, the 401 challenge, an
//! authenticated PROPFIND of the address-book home) and that the mirror holds the
//! mailbox's contacts (`/metrics`), then that SIGTERM stops the process cleanly.

mod app_support;
mod prometheus_support;

use app_support::{
    BIN, Running, free_port, http, login_and_add_user, run_cli, serve, sigterm_and_wait, wait_ready,
};
use cardbridge::emulator::EmulatorHandle;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// What a client sees: 401 + Basic challenge without credentials, then a 207 listing
/// the user's books; returns the PROPFIND body.
async fn client_view(base: &str, user: &str, password: &str) -> String {
    let c = http();
    let home = format!("{base}/dav/addressbooks/{user}/");
    let r = c
        .request(reqwest::Method::from_bytes(b"PROPFIND").unwrap(), &home)
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("Basic"), "{challenge}");
    let r = c
        .request(reqwest::Method::from_bytes(b"PROPFIND").unwrap(), &home)
        .basic_auth(user, Some(password))
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 207);
    r.text().await.unwrap()
}

/// `/metrics`, parsed by an independent Prometheus text-format parser (prometheus-parse).
async fn scrape(base: &str) -> prometheus_parse::Scrape {
    let text = http()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    prometheus_support::parse(&text)
}

async fn mirror_contacts(base: &str) -> f64 {
    prometheus_support::sum(&scrape(base).await, "cardbridge_mirror_contacts", None)
}

fn write_config(dir: &Path, port: u16, emu: &EmulatorHandle) -> std::path::PathBuf {
    write_config_with(dir, port, emu, "freshness_secs = 0")
}

/// The config file with `bridge` as the body of its `[bridge]` section.
fn write_config_with(
    dir: &Path,
    port: u16,
    emu: &EmulatorHandle,
    bridge: &str,
) -> std::path::PathBuf {
    app_support::write_config_with(dir, port, emu, "", bridge)
}

/// Run `cardbridge sync` with `args` after `--config F`; returns stdout.
async fn run_sync(config: &Path, args: &[&str]) -> String {
    let mut all = vec!["sync"];
    all.extend_from_slice(args);
    run_cli(config, &all, &[]).await.0
}

/// Issue 11 item 4: `sync` loads the mirror page by page into the state file, printing
/// progress as plain lines (stdout is a pipe) and the final counts; `serve` then answers
/// from the state file without one Graph request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_loads_the_mirror_and_serve_starts_without_graph_requests() {
    let emu = app_support::emulator().await;
    let mailbox = emu.default_user();
    emu.seed_sample(&mailbox, 240, 3);
    let books = emu.folders(&mailbox).len();
    assert!(books > 1);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Pages of 20 contacts (several per book); data stays fresh for an hour.
    let config = write_config_with(
        dir.path(),
        port,
        &emu,
        "freshness_secs = 3600\nfolder_tree_secs = 3600\ndelta_page_size = 20",
    );
    login_and_add_user(&config, "alice", "sync pw").await;

    emu.reset_stats();
    let out = run_sync(&config, &["--user", "alice"]).await;
    let stats = emu.stats();
    let delta_pages: u64 = stats
        .by_route
        .iter()
        .filter(|(r, _)| r.contains("delta"))
        .map(|(_, n)| n)
        .sum();
    assert!(
        delta_pages >= 240 / 20,
        "one delta request per page: {stats:?}"
    );
    // One progress line after the folder tree and one per book, then the summary.
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), books + 2, "{out}");
    assert!(
        lines[0].starts_with(&format!("alice: 0/{books} books, 0 contacts")),
        "{out}"
    );
    assert!(
        lines[books].starts_with(&format!("alice: {books}/{books} books, 240 contacts")),
        "{out}"
    );
    let summary = format!("alice: {books} books, 240 contacts in ");
    assert!(lines[books + 1].starts_with(&summary), "{out}");
    assert!(lines[books + 1].ends_with("contacts/s)"), "{out}");

    // An unknown user is refused, without touching Graph.
    let cfg = config.clone();
    let unknown = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["sync", "--config"])
            .arg(&cfg)
            .args(["--user", "nobody"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no CardDAV user \"nobody\""));

    // A second run (every user) is a catch-up: one delta round per book, same counts.
    emu.reset_stats();
    let again = run_sync(&config, &[]).await;
    assert!(
        again.lines().last().unwrap().starts_with(&summary),
        "{again}"
    );
    let routes = emu.stats().by_route;
    assert_eq!(
        routes.get("GET /{u}/contactFolders/{f}/contacts/delta"),
        Some(&(books as u64)),
        "{routes:?}"
    );
    assert_eq!(
        routes.get("GET /{u}/contactFolders/{f}/contacts"),
        None,
        "{routes:?}"
    );

    // serve answers from the state file: the books and every contact, no Graph request.
    emu.reset_stats();
    let base = format!("http://127.0.0.1:{port}");
    let serve = serve(&config, &base).await;
    let listing = client_view(&base, "alice", "sync pw").await;
    assert_eq!(
        listing.matches("<d:response>").count(),
        books + 1,
        "home + every book: {listing}"
    );
    assert_eq!(mirror_contacts(&base).await, 240.0);
    let book = http()
        .request(
            reqwest::Method::from_bytes(b"PROPFIND").unwrap(),
            format!("{base}/dav/addressbooks/alice/contacts/"),
        )
        .basic_auth("alice", Some("sync pw"))
        .header("Depth", "1")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let href = book
        .split(['<', '>'])
        .find(|s| s.ends_with(".vcf"))
        .expect("the default book lists cards")
        .to_owned();
    let card = http()
        .get(format!("{base}{href}"))
        .basic_auth("alice", Some("sync pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(card.status(), 200);
    assert!(card.text().await.unwrap().starts_with("BEGIN:VCARD"));
    assert_eq!(emu.stats().total, 0, "{:?}", emu.stats());
    sigterm_and_wait(serve);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_user_add_then_serve_from_a_config_file() {
    let emu = app_support::emulator().await;
    emu.seed_sample(&emu.default_user(), 25, 7);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), port, &emu);

    // login (device code, approved by the emulator; the sign-in lands in the state
    // file), then user add with a chosen password.
    login_and_add_user(&config, "alice", "correct horse battery").await;
    emu.reset_stats(); // count only what serve asks Graph

    let base = format!("http://127.0.0.1:{port}");
    let serve = serve(&config, &base).await;
    let listing = client_view(&base, "alice", "correct horse battery").await;
    assert!(
        listing.contains("/dav/addressbooks/alice/contacts/"),
        "{listing}"
    );
    assert_eq!(mirror_contacts(&base).await, 25.0);
    // Graph saw the bridge's requests under the signed-in user's token, and /metrics
    // counts them (issue 11 item 3): as many as the emulator served apart from the
    // sign-in endpoint (a `$batch` once), all answered 200, no throttling, no token
    // failure.
    let graph = emu.stats();
    assert!(graph.total > 0);
    let m = scrape(&base).await;
    let sign_in: u64 = graph
        .by_route
        .iter()
        .filter(|(r, _)| r.contains("/oauth2/"))
        .map(|(_, n)| n)
        .sum();
    let graph_requests = (graph.total - sign_in) as f64;
    assert!(graph_requests > 0.0);
    assert_eq!(
        prometheus_support::sum(&m, "cardbridge_graph_requests_total", None),
        graph_requests
    );
    assert_eq!(
        prometheus_support::sum(
            &m,
            "cardbridge_graph_requests_total",
            Some(("status", "200"))
        ),
        graph_requests
    );
    assert_eq!(
        prometheus_support::sum(&m, "cardbridge_graph_throttled_total", None),
        0.0
    );
    assert_eq!(
        prometheus_support::sum(&m, "cardbridge_graph_token_failures_total", None),
        0.0
    );
    assert_eq!(
        prometheus_support::sum(&m, "cardbridge_account_sign_in_required", None),
        0.0
    );
    assert!(prometheus_support::sum(&m, "cardbridge_http_requests_total", None) >= 2.0);
    assert!(
        m.samples
            .iter()
            .any(|s| s.metric == "cardbridge_http_request_duration_seconds"
                && matches!(s.value, prometheus_parse::Value::Histogram(_))),
        "the latency histogram is exposed"
    );
    sigterm_and_wait(serve);
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_prints_its_url_and_serves_the_sample_contacts() {
    let mut child = Running(
        Command::new(BIN)
            .args([
                "demo",
                "--listen",
                "127.0.0.1:0",
                "--contacts",
                "40",
                "--user",
                "demo",
                "--password",
                "demo-password",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    // Read the banner for the URL, and keep draining stdout afterwards.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.trim().strip_prefix("CardDAV server")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(rest.trim().trim_end_matches('/').to_owned());
            }
        }
    });
    let base = rx.await.expect("demo ended without printing its URL");
    wait_ready(&base).await;
    let listing = client_view(&base, "demo", "demo-password").await;
    assert!(
        listing.contains("/dav/addressbooks/demo/contacts/"),
        "{listing}"
    );
    assert_eq!(mirror_contacts(&base).await, 40.0);
    sigterm_and_wait(child);
}
