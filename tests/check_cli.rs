//! `cardbridge check` (issue 11 item 6) as an admin runs it, against the Graph emulator:
//! each state of a deployment gives the finding and the fix an admin needs, and the exit
//! status is non-zero exactly when something would stop clients from working.

mod app_support;

use app_support::{BIN, add_user, free_port};
use cardbridge::emulator::EmulatorHandle;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

/// Runs `check`; returns (success, stdout).
async fn check(config: &Path) -> (bool, String) {
    let config = config.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(["check", "--config"])
            .arg(config)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn config(dir: &Path, emu: &EmulatorHandle, server: &str) -> std::path::PathBuf {
    app_support::write_config_with(dir, free_port(), emu, server, "")
}

/// A self-signed certificate for localhost valid until `not_after` (year, month, day).
fn certificate(dir: &Path, not_after: (i32, u8, u8)) -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
    let cert = params.self_signed(&key).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    std::fs::set_permissions(&k, std::fs::Permissions::from_mode(0o600)).unwrap();
    (c.display().to_string(), k.display().to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_each_deployment_problem_with_its_fix() {
    let emu = app_support::emulator().await;
    emu.seed_sample(&emu.default_user(), 5, 2);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &emu, "");

    // Nothing set up yet: no state file.
    let (ok, out) = check(&cfg).await;
    assert!(!ok, "{out}");
    assert!(out.contains("PROBLEM  state:"), "{out}");
    assert!(out.contains("cardbridge login"), "{out}");
    assert!(
        out.contains("ok       listener: plain HTTP on loopback"),
        "{out}"
    );
    assert!(out.contains("ok       clock: local clock is"), "{out}");

    // Signed in, but no CardDAV user: works, with a warning.
    app_support::run_cli(&cfg, &["login"], &[]).await;
    let (ok, out) = check(&cfg).await;
    assert!(ok, "{out}");
    assert!(out.contains("warning  users: no CardDAV user"), "{out}");
    assert!(out.contains("fix: cardbridge user add NAME"), "{out}");
    assert!(out.contains("ok       sign-in default:"), "{out}");
    assert!(out.contains("Contacts.ReadWrite"), "{out}");
    let books = emu.folders(&emu.default_user()).len();
    assert!(
        out.contains(&format!(
            "Graph answers for the signed-in mailbox: {books} address book(s)"
        )),
        "{out}"
    );
    assert!(out.contains("check: ok (1 warning(s))"), "{out}");

    // A user; the state file widened to 644 by someone: reported, and reset.
    add_user(&cfg, "alice", "pw for alice");
    let state = dir.path().join("state.redb");
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, out) = check(&cfg).await;
    assert!(ok, "{out}");
    assert!(out.contains("had mode 644"), "{out}");
    assert!(out.contains("ok       users: 1 CardDAV user(s)"), "{out}");
    let mode = std::fs::metadata(&state).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    // An onboarding page open to every Microsoft account: a problem, as serve would refuse.
    let with_web = std::fs::read_to_string(&cfg).unwrap()
        + "\n[web]\nenabled = true\npublic_url = \"http://127.0.0.1:1\"\n";
    let web_cfg = dir.path().join("web.toml");
    std::fs::write(&web_cfg, &with_web).unwrap();
    let (ok, out) = check(&web_cfg).await;
    assert!(!ok, "{out}");
    assert!(out.contains("PROBLEM  web:"), "{out}");
    assert!(out.contains("allow_anyone"), "{out}");
    std::fs::write(
        &web_cfg,
        with_web + "allowed_users = [\"demo@cardbridge.test\"]\n",
    )
    .unwrap();
    let (ok, out) = check(&web_cfg).await;
    assert!(ok, "{out}");
    assert!(
        out.contains("register http://127.0.0.1:1/web/callback as a redirect URI"),
        "{out}"
    );

    // Consent revoked in Microsoft 365: a problem, with the sign-in command.
    emu.revoke(&emu.default_user());
    let (ok, out) = check(&cfg).await;
    assert!(!ok, "{out}");
    assert!(out.contains("PROBLEM  sign-in default:"), "{out}");
    assert!(out.contains("cardbridge login --account default"), "{out}");
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_inspects_tls_files_and_plain_http_exposure() {
    let emu = app_support::emulator().await;
    let dir = tempfile::tempdir().unwrap();

    // Plain HTTP on every interface: serve would refuse it.
    let cfg = config(dir.path(), &emu, "");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("listen = \"127.0.0.1:", "listen = \"0.0.0.0:");
    std::fs::write(&cfg, text).unwrap();
    let (ok, out) = check(&cfg).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("serve refuses plain HTTP on the non-loopback address 0.0.0.0"),
        "{out}"
    );

    // A certificate that expires in a few days: a warning naming its names and date.
    let soon = chrono::Utc::now() + chrono::Duration::days(5);
    let date = soon.date_naive();
    use chrono::Datelike;
    let (cert, key) = certificate(
        dir.path(),
        (date.year(), date.month() as u8, date.day() as u8),
    );
    let cfg = config(
        dir.path(),
        &emu,
        &format!("tls_cert = \"{cert}\"\ntls_key = \"{key}\""),
    );
    let (_, out) = check(&cfg).await;
    assert!(
        out.contains("warning  listener: TLS certificate for localhost"),
        "{out}"
    );
    assert!(out.contains(&date.format("%Y-%m-%d").to_string()), "{out}");

    // An expired one is a problem; so is a key readable by others.
    let (cert, key) = certificate(dir.path(), (2021, 1, 1));
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let cfg = config(
        dir.path(),
        &emu,
        &format!("tls_cert = \"{cert}\"\ntls_key = \"{key}\""),
    );
    let (ok, out) = check(&cfg).await;
    assert!(!ok, "{out}");
    assert!(out.contains("expired"), "{out}");
    assert!(out.contains(&format!("fix: chmod 600 {key}")), "{out}");

    // A key that belongs to another certificate.
    let other = rcgen::KeyPair::generate().unwrap();
    std::fs::write(&key, other.serialize_pem()).unwrap();
    let (ok, out) = check(&cfg).await;
    assert!(!ok, "{out}");
    assert!(
        out.contains("PROBLEM  listener: certificate and key do not fit together"),
        "{out}"
    );
    emu.shutdown().await;
}
