//! Shared setup of the tests that run the real `cardbridge` binary (`login`, `user add`,
//! `serve`) against an in-process Graph emulator: a config file in a temp dir, the
//! device-code sign-in, a CardDAV user, and a serve child that is killed if a test fails.
#![allow(dead_code)]

use cardbridge::emulator::{EmulatorConfig, EmulatorHandle};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_cardbridge");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process, killed (SIGKILL) and reaped when dropped, so a failing test leaves
/// nothing running.
pub struct Running(pub Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The Graph emulator on loopback, unthrottled, approving device-code sign-ins itself.
pub async fn emulator() -> EmulatorHandle {
    emulator_with(EmulatorConfig::default()).await
}

/// [`emulator`] with other settings (`throttle` and `auto_approve` as above).
pub async fn emulator_with(config: EmulatorConfig) -> EmulatorHandle {
    cardbridge::emulator::start(EmulatorConfig {
        throttle: false,
        auto_approve: true,
        ..config
    })
    .await
    .unwrap()
}

/// SIGTERM, then wait (at most 30 s) for a clean exit.
pub fn sigterm_and_wait(mut child: Running) {
    let pid = child.0.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            return;
        }
        assert!(Instant::now() < deadline, "did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A number from the environment (a long run's size), else `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `ETag` of an answer, if it has one.
pub fn etag(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

pub fn method(m: &str) -> reqwest::Method {
    reqwest::Method::from_bytes(m.as_bytes()).unwrap()
}

/// Waits until `{base}/readyz` answers 200 (at most a minute).
pub async fn wait_ready(base: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http().get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        assert!(Instant::now() < deadline, "{base} never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `dir/cardbridge.toml` for a server on `port` against `emu`, with `server` and
/// `bridge` as extra lines of the `[server]` and `[bridge]` sections.
pub fn write_config_with(
    dir: &Path,
    port: u16,
    emu: &EmulatorHandle,
    server: &str,
    bridge: &str,
) -> PathBuf {
    let path = dir.join("cardbridge.toml");
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:{port}\"\n{server}\n\n[graph]\nroot = \"{base}\"\nauthority = \"{base}\"\nclient_id = \"{client}\"\n\n[bridge]\n{bridge}\n\n[state]\npath = \"{state}\"\n",
        base = emu.base_url(),
        client = emu.client_id(),
        state = dir.join("state.redb").display(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs `cardbridge ARGS --config F` to completion (off the async runtime); panics with
/// its stderr unless it succeeds. Returns (stdout, stderr).
pub async fn run_cli(config: &Path, args: &[&str], envs: &[(&str, &str)]) -> (String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args).arg("--config").arg(config);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "cardbridge {args:?} failed: {stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

/// `cardbridge user add NAME` with `password` on stdin.
pub fn add_user(config: &Path, name: &str, password: &str) {
    let mut add = Command::new(BIN)
        .args(["user", "--config"])
        .arg(config)
        .args(["add", name, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    assert!(add.wait().unwrap().success());
}

/// `cardbridge login` (device code, approved by the emulator) then `user add NAME`.
pub async fn login_and_add_user(config: &Path, name: &str, password: &str) {
    run_cli(config, &["login"], &[]).await;
    add_user(config, name, password);
}

/// Starts `cardbridge serve --config F` with its output discarded and waits until ready.
pub async fn serve(config: &Path, base: &str) -> Running {
    let child = Running(
        Command::new(BIN)
            .args(["serve", "--config"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(base).await;
    child
}

/// The card hrefs of `book` (a URL) as a Depth-1 PROPFIND lists them (panics unless 207).
pub async fn card_hrefs(book: &str, user: &str, password: &str) -> Vec<String> {
    let r = http()
        .request(method("PROPFIND"), book)
        .basic_auth(user, Some(password))
        .header("Depth", "1")
        .body(r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 207, "PROPFIND {book}");
    r.text()
        .await
        .unwrap()
        .split("<d:href>")
        .skip(1)
        .filter_map(|s| s.split("</d:href>").next())
        .filter(|h| h.ends_with(".vcf"))
        .map(str::to_owned)
        .collect()
}
