//! Issue 10 item 5, "secrets never appear in logs", over the whole deployment path: the
//! real `login`, `user add` and `serve` binaries with every crate logging at debug and
//! cardbridge at trace, a client that authenticates, reads and writes, and Graph access
//! tokens short-lived enough that `serve` refreshes (and rotates) the refresh token while
//! the client works. The captured output of every process must not contain a Graph access
//! token, a refresh token, the app password or the client's `Authorization` value; the
//! state file must be readable by its owner only.

mod app_support;

use app_support::{BIN, Running, free_port, http, method, run_cli, wait_ready};
use base64::Engine;
use cardbridge::emulator::EmulatorConfig;
use secrecy::ExposeSecret;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const USER: &str = "alice";
const PASSWORD: &str = "Xq7-unmistakable-app-password";
const LOG_FILTER: &str = "debug,cardbridge=trace";

/// Every token-shaped string (`prefix` + at least 40 URL-safe base64 characters).
fn token_like<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.match_indices(prefix)
        .filter_map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            let n = rest
                .bytes()
                .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
                .count();
            (n >= 40).then(|| &text[i..i + prefix.len() + n])
        })
        .collect()
}

/// The refresh token stored for the `default` account (the process using the state
/// file must have stopped).
fn stored_refresh_token(state: &Path) -> String {
    let store = cardbridge::state::RedbStore::open(state).unwrap();
    let tokens = cardbridge::graph::token_store::TokenStore::new(std::sync::Arc::new(store), None);
    tokens
        .load("default")
        .unwrap()
        .expect("a stored sign-in")
        .refresh_token
        .expose_secret()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_or_password_reaches_any_log() {
    let emu = app_support::emulator_with(EmulatorConfig {
        access_token_lifetime: Duration::from_secs(2),
        ..EmulatorConfig::default()
    })
    .await;
    emu.seed_sample(&emu.default_user(), 10, 1);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let config = app_support::write_config_with(dir.path(), port, &emu, "", "freshness_secs = 0");

    let env = [("RUST_LOG", LOG_FILTER)];
    let (login_out, login_err) = run_cli(&config, &["login"], &env).await;
    app_support::add_user(&config, USER, PASSWORD);
    let first_refresh = stored_refresh_token(&dir.path().join("state.redb"));
    let mode = std::fs::metadata(dir.path().join("state.redb"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "state file mode {mode:o}");

    let log_path = dir.path().join("serve.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    let serve = Running(
        Command::new(BIN)
            .args(["serve", "--config"])
            .arg(&config)
            .env("RUST_LOG", LOG_FILTER)
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .unwrap(),
    );
    wait_ready(&base).await;

    // A client at work: a failed login, reads, a write, then more reads after the access
    // token expired (the bridge refreshes it and stores the rotated refresh token).
    let c = http();
    let book = format!("{base}/dav/addressbooks/{USER}/contacts/");
    let wrong = c
        .request(method("PROPFIND"), &book)
        .basic_auth(USER, Some("Xq7-wrong-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    for round in 0..3 {
        let r = c
            .request(method("PROPFIND"), &book)
            .basic_auth(USER, Some(PASSWORD))
            .header("Depth", "1")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 207);
        let r = c
            .put(format!("{book}secret-test-{round}.vcf"))
            .basic_auth(USER, Some(PASSWORD))
            .header("Content-Type", "text/vcard")
            .body(format!(
                "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:secret-test-{round}\r\nFN:Round {round}\r\nEND:VCARD\r\n"
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        tokio::time::sleep(Duration::from_millis(2500)).await;
    }
    drop(serve);
    // The bridge refreshed the access token and stored the rotated refresh token.
    let last_refresh = stored_refresh_token(&dir.path().join("state.redb"));
    assert_ne!(first_refresh, last_refresh, "no refresh happened");

    let serve_log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        serve_log.contains("failed login"),
        "the log captured nothing useful:\n{serve_log}"
    );
    assert!(serve_log.contains("TRACE") || serve_log.contains("DEBUG"));
    // A log file gets plain text: no terminal colour codes.
    assert!(!serve_log.contains('\u{1b}'), "ANSI escapes in a log file");
    println!(
        "secrets_in_logs: {} lines of serve log, {} of login output checked",
        serve_log.lines().count(),
        login_out.lines().count() + login_err.lines().count()
    );
    let authorization =
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    for (name, text) in [
        ("login stdout", &login_out),
        ("login stderr", &login_err),
        ("serve", &serve_log),
    ] {
        for prefix in ["EwB", "M.R3_"] {
            let found = token_like(text, prefix);
            assert!(found.is_empty(), "{name} logs Graph tokens: {found:?}");
        }
        for needle in [
            PASSWORD,
            "Xq7-wrong-password",
            &authorization,
            &first_refresh,
            &last_refresh,
        ] {
            assert!(!text.contains(needle), "{name} logs {needle}");
        }
    }
    emu.shutdown().await;
}
