//! `cardbridge user` run as a real process against a temporary config and state store.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Env {
    _dir: tempfile::TempDir,
    config: PathBuf,
    state: PathBuf,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("data").join("state.redb");
    let config = dir.path().join("cardbridge.toml");
    std::fs::write(
        &config,
        format!("[state]\npath = {:?}\n", state.display().to_string()),
    )
    .unwrap();
    Env {
        _dir: dir,
        config,
        state,
    }
}

fn run(config: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cardbridge"))
        .arg("user")
        .args(args)
        .arg("--config")
        .arg(config)
        .env_remove("CARDBRIDGE_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn users_of(state: &Path) -> cardbridge::server::UserStore {
    let store = cardbridge::state::RedbStore::open(state).unwrap();
    cardbridge::server::UserStore::new(std::sync::Arc::new(store))
}

#[tokio::test]
async fn add_list_password_remove_and_the_state_file_is_private() {
    let e = env();
    // Generated password: printed once, alone on stdout.
    let o = run(&e.config, &["add", "Alice"], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let generated = stdout(&o).trim().to_owned();
    assert_eq!(generated.len(), 27, "{generated:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("shown only now"));

    let o = run(
        &e.config,
        &["add", "bob", "--password-stdin"],
        Some("bobs secret\n"),
    );
    assert!(o.status.success());
    assert!(stdout(&o).is_empty(), "a given password is not echoed");

    let o = run(
        &e.config,
        &["add", "bob", "--password-stdin"],
        Some("again\n"),
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
    let o = run(&e.config, &["add", "bad:name"], None);
    assert!(!o.status.success());

    let o = run(&e.config, &["list"], None);
    assert_eq!(stdout(&o), "alice\nbob\n");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&e.state).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "state file mode {mode:o}");
    }

    {
        let users = users_of(&e.state);
        assert!(users.verify("alice", &generated).await);
        assert!(users.verify("bob", "bobs secret").await);
    }

    let o = run(&e.config, &["password", "bob"], None);
    assert!(o.status.success());
    let new_pw = stdout(&o).trim().to_owned();
    {
        let users = users_of(&e.state);
        assert!(!users.verify("bob", "bobs secret").await);
        assert!(users.verify("bob", &new_pw).await);
    }

    // A second app password, listed by id and label, then revoked.
    let o = run(
        &e.config,
        &["add-password", "bob", "--label", "iPhone"],
        None,
    );
    assert!(o.status.success());
    let phone_pw = stdout(&o).trim().to_owned();
    let o = run(&e.config, &["passwords", "bob"], None);
    let listing = stdout(&o);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 2, "{listing}");
    assert!(!listing.contains(&phone_pw) && !listing.contains(&new_pw));
    let phone_id = lines[1].split('\t').next().unwrap().to_owned();
    assert_eq!(lines[1].split('\t').nth(1), Some("iPhone"));
    assert!(users_of(&e.state).verify("bob", &phone_pw).await);
    let o = run(&e.config, &["revoke", "bob", &phone_id], None);
    assert!(o.status.success());
    {
        let users = users_of(&e.state);
        assert!(!users.verify("bob", &phone_pw).await);
        assert!(users.verify("bob", &new_pw).await);
    }

    let o = run(&e.config, &["remove", "alice"], None);
    assert!(o.status.success());
    let o = run(&e.config, &["remove", "alice"], None);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no user"));
    let o = run(&e.config, &["list"], None);
    assert_eq!(stdout(&o), "bob\n");
}

#[test]
fn a_store_held_open_by_another_process_gives_a_clear_error() {
    let e = env();
    let o = run(&e.config, &["add", "carol"], None);
    assert!(o.status.success());
    let _held = cardbridge::state::RedbStore::open(&e.state).unwrap();
    let o = run(&e.config, &["list"], None);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is `cardbridge serve` running"), "{err}");
}
