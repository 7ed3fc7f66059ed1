//! `cardbridge check` (issue 11 item 6): everything an admin would otherwise find out from
//! a client that cannot connect, in one pass, each finding with what to do about it.
//!
//! It reads the configuration and, without starting the server, checks the listener's TLS
//! files (loadable, key matching, names, expiry) or why plain HTTP is (not) allowed, the
//! onboarding page's section (public URL, allow list, redirect URI to register), the
//! state file (owner, mode, encryption key), the CardDAV users and whose sign-in each one
//! uses, every stored sign-in (granted scopes, refresh, Graph reachability, the mailbox's
//! address books) or the app-only mailboxes, and the clock against Graph's `Date` header
//! (tokens fail when it is off by more than five minutes; graph.md §11). Problems make
//! the exit status non-zero; warnings do not. It lives in `app` because it touches every
//! layer's configuration.

use crate::config::Config;
use crate::graph::{GraphClient, GraphError, Mailbox, setup};
use crate::server::{TlsFiles, UserStore, tls};
use crate::state::{RedbStore, SharedStore};
use anyhow::bail;
use clap::Args;
use std::net::SocketAddr;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// `cardbridge check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Configuration file (TOML).
    #[arg(long, env = "CARDBRIDGE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Check only this stored sign-in (default: every stored sign-in).
    #[arg(long)]
    pub account: Option<String>,
}

/// Certificates closer to expiry than this are a warning.
const EXPIRY_WARNING_DAYS: i64 = 14;
/// Entra ID rejects tokens beyond five minutes of skew; warn well before.
const SKEW_PROBLEM_SECS: i64 = 300;
const SKEW_WARNING_SECS: i64 = 30;

/// The findings printed so far.
#[derive(Default)]
struct Report {
    problems: usize,
    warnings: usize,
}

impl Report {
    fn ok(&mut self, area: &str, what: impl std::fmt::Display) {
        println!("ok       {area}: {what}");
    }
    fn warn(&mut self, area: &str, what: impl std::fmt::Display, fix: impl std::fmt::Display) {
        self.warnings += 1;
        println!("warning  {area}: {what}\n         fix: {fix}");
    }
    fn problem(&mut self, area: &str, what: impl std::fmt::Display, fix: impl std::fmt::Display) {
        self.problems += 1;
        println!("PROBLEM  {area}: {what}\n         fix: {fix}");
    }
}

/// Run every check; `Err` (non-zero exit) when any found a problem.
pub async fn run(args: CheckArgs) -> anyhow::Result<()> {
    let mut cfg = Config::load(args.config.as_deref())?;
    cfg.graph.apply_env();
    let mut r = Report::default();
    match cfg.graph.validate() {
        Ok(()) => r.ok(
            "config",
            format!(
                "Graph {}, authority {}/{}",
                cfg.graph.root, cfg.graph.authority, cfg.graph.tenant
            ),
        ),
        Err(problem) => r.problem(
            "config",
            problem,
            "set it in [graph] of the configuration file (see examples/)",
        ),
    }
    check_listener(&cfg, &mut r);
    check_web(&cfg, &mut r);
    let store = check_state(&cfg, &mut r);
    if let Some(store) = &store {
        check_users_and_sign_ins(&cfg, store, args.account.as_deref(), &mut r).await;
    }
    check_clock(&cfg, &mut r).await;
    if r.problems > 0 {
        bail!(
            "check: {} problem(s), {} warning(s)",
            r.problems,
            r.warnings
        );
    }
    println!("check: ok ({} warning(s))", r.warnings);
    Ok(())
}

fn check_listener(cfg: &Config, r: &mut Report) {
    let s = &cfg.server;
    let listen: Option<SocketAddr> = s.listen.parse().ok();
    if listen.is_none() {
        r.problem(
            "listener",
            format!("listen = {:?} is not an address:port", s.listen),
            "e.g. listen = \"127.0.0.1:8443\" or \"[::]:8443\"",
        );
    }
    match (&s.tls_cert, &s.tls_key) {
        (Some(cert), Some(key)) => {
            let files = TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            };
            match tls::inspect(&files) {
                Ok(info) => {
                    let days = (info.not_after - chrono::Utc::now()).num_days();
                    let what = format!(
                        "TLS certificate for {} ({} in chain), valid until {} ({days} days)",
                        if info.names.is_empty() {
                            "no subjectAltName".to_owned()
                        } else {
                            info.names.join(", ")
                        },
                        info.chain_len,
                        info.not_after.format("%Y-%m-%d")
                    );
                    if info.not_after <= chrono::Utc::now() {
                        r.problem(
                            "listener",
                            format!("{what}: expired"),
                            "renew the certificate; serve reloads it on SIGHUP or file change",
                        );
                    } else if days < EXPIRY_WARNING_DAYS {
                        r.warn(
                            "listener",
                            what,
                            "renew the certificate soon; serve reloads it on SIGHUP or file change",
                        );
                    } else {
                        r.ok("listener", what);
                    }
                    check_private_file(r, "listener", key, "the TLS key");
                }
                Err(e) => r.problem(
                    "listener",
                    e,
                    "point tls_cert at the PEM chain (leaf first) and tls_key at its private key",
                ),
            }
        }
        (Some(_), None) | (None, Some(_)) => r.problem(
            "listener",
            "only one of tls_cert and tls_key is set",
            "set both (PEM certificate chain and private key), or neither",
        ),
        (None, None) => match listen {
            Some(a) if a.ip().is_loopback() => r.ok(
                "listener",
                format!(
                    "plain HTTP on loopback {a}; clients on other machines need TLS (tls_cert / tls_key, or a reverse proxy)"
                ),
            ),
            Some(a) if s.allow_insecure => r.warn(
                "listener",
                format!("plain HTTP on {a}: passwords cross the network unencrypted"),
                "set tls_cert and tls_key, or listen on loopback behind a TLS reverse proxy",
            ),
            Some(a) => r.problem(
                "listener",
                format!("serve refuses plain HTTP on the non-loopback address {a}"),
                "set tls_cert and tls_key, listen on 127.0.0.1 behind a TLS proxy, or allow_insecure = true",
            ),
            None => {}
        },
    }
}

/// The onboarding page's section, as `serve` will judge it.
fn check_web(cfg: &Config, r: &mut Report) {
    match cfg.web.settings(&cfg.graph.tenant) {
        Ok(None) => {}
        Ok(Some(s)) if cfg.graph.app_only() => r.problem(
            "web",
            format!(
                "the onboarding page at {} needs delegated access",
                s.public_url.join("/web/")
            ),
            "remove [graph] client_secret, or set [web] enabled = false",
        ),
        Ok(Some(s)) => r.ok(
            "web",
            format!(
                "onboarding page at {}; register {} as a redirect URI of the app",
                s.public_url.join("/web/"),
                s.public_url.join("/web/callback")
            ),
        ),
        Err(e) => r.problem(
            "web",
            e,
            "fix the [web] section (see examples/personal.toml)",
        ),
    }
}

/// The uid of this process (from /proc, to avoid unsafe libc calls).
fn own_uid() -> Option<u32> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .nth(1)? // effective uid
        .parse()
        .ok()
}

/// Secrets' files: owned by this user, no access for group or others.
fn check_private_file(r: &mut Report, area: &str, path: &Path, what: &str) {
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        r.problem(
            area,
            format!("{what} {} has mode {mode:o}", path.display()),
            format!("chmod 600 {}", path.display()),
        );
    }
    if let Some(uid) = own_uid()
        && meta.uid() != uid
    {
        r.warn(
            area,
            format!(
                "{what} {} belongs to uid {}, not to this user ({uid})",
                path.display(),
                meta.uid()
            ),
            format!(
                "run cardbridge as the owner, or chown it to the service user: chown {uid} {}",
                path.display()
            ),
        );
    }
}

/// The state file's owner and mode, the encryption key; opens the store when it can.
fn check_state(cfg: &Config, r: &mut Report) -> Option<SharedStore> {
    let path = &cfg.state.path;
    if let Some(key) = &cfg.state.encryption_key_file {
        match crate::graph::token_store::TokenKey::from_file(key) {
            Ok(_) => {
                r.ok("state", format!("token encryption key {}", key.display()));
                check_private_file(r, "state", key, "the encryption key");
            }
            Err(e) => r.problem(
                "state",
                format!("encryption_key_file {}: {e}", key.display()),
                "head -c 32 /dev/urandom > KEYFILE && chmod 600 KEYFILE",
            ),
        }
    } else {
        r.ok(
            "state",
            "stored Graph tokens are protected by the file mode only (no encryption_key_file)",
        );
    }
    if !path.exists() {
        r.problem(
            "state",
            format!("{} does not exist yet", path.display()),
            "cardbridge login (delegated access) and cardbridge user add NAME create it",
        );
        return None;
    }
    let mode_before = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0o600);
    match RedbStore::open(path) {
        Ok(s) => {
            if mode_before & 0o077 != 0 {
                // Opening the store resets the mode (as serve does at start).
                r.warn(
                    "state",
                    format!(
                        "{} had mode {mode_before:o} (readable by others); opening it reset it to 600",
                        path.display()
                    ),
                    "find what widened it (a restored backup, a copy made with another umask) and rotate the stored sign-in: cardbridge login",
                );
            } else {
                r.ok("state", format!("{} (mode 600)", path.display()));
            }
            check_private_file(r, "state", path, "the state file");
            Some(Arc::new(s))
        }
        Err(e) => {
            r.warn(
                "state",
                format!(
                    "{} cannot be opened ({e}); a running `cardbridge serve` holds it, so users and sign-ins are not checked",
                    path.display()
                ),
                "stop serve for a full check, or watch its /readyz and /metrics",
            );
            None
        }
    }
}

/// Whether the granted scopes (as the token endpoint listed them) allow contact writes.
fn grants_contacts(scope: &str) -> bool {
    scope.split_whitespace().any(|s| {
        let name = s.rsplit('/').next().unwrap_or(s);
        name.eq_ignore_ascii_case("Contacts.ReadWrite")
            || name.eq_ignore_ascii_case("Contacts.ReadWrite.Shared")
    })
}

async fn check_users_and_sign_ins(
    cfg: &Config,
    store: &SharedStore,
    only: Option<&str>,
    r: &mut Report,
) {
    let users = match UserStore::new(store.clone()).list() {
        Ok(u) => u,
        Err(e) => {
            r.problem(
                "users",
                e,
                "the state file may be damaged: restore a backup",
            );
            return;
        }
    };
    if users.is_empty() {
        r.warn(
            "users",
            "no CardDAV user yet: clients cannot log in",
            "cardbridge user add NAME (prints an app password)",
        );
    } else {
        r.ok("users", format!("{} CardDAV user(s)", users.len()));
    }
    if cfg.graph.app_only() {
        let mailboxes = setup::mailboxes(&cfg.graph);
        if mailboxes.is_empty() {
            r.problem(
                "graph",
                "app-only access with no mailbox configured",
                "list the mailboxes in graph.mailboxes (or [[bridge.mailboxes]])",
            );
        }
        match setup::client_from_config(cfg, store.clone(), "default").await {
            Ok(client) => {
                for mb in mailboxes {
                    check_mailbox(r, &client, &mb, "app-only").await;
                }
            }
            Err(e) => r.problem("graph", e, "check graph.client_id and graph.client_secret"),
        }
        return;
    }
    let token_store = match setup::open_token_store(cfg, store.clone()) {
        Ok(t) => t,
        Err(e) => {
            r.problem("sign-in", e, "fix [state] encryption_key_file");
            return;
        }
    };
    let stored = token_store.accounts().unwrap_or_default();
    let accounts = match only {
        Some(a) => vec![a.to_owned()],
        None => stored.clone(),
    };
    if accounts.is_empty() {
        r.problem(
            "sign-in",
            "no Microsoft sign-in stored",
            "cardbridge login (or --account NAME for one CardDAV user's own mailbox)",
        );
    }
    // Each CardDAV user reads the sign-in stored under their name, else `default`.
    for u in &users {
        if !stored.contains(u) && !stored.iter().any(|a| a == "default") {
            r.warn(
                "sign-in",
                format!("CardDAV user {u} has no sign-in (neither {u:?} nor \"default\")"),
                format!("cardbridge login --account {u}"),
            );
        }
    }
    for account in accounts {
        let area = format!("sign-in {account}");
        let saved = match token_store.load(&account) {
            Ok(Some(t)) => t,
            Ok(None) => {
                r.problem(
                    &area,
                    "nothing stored under this name",
                    format!("cardbridge login --account {account}"),
                );
                continue;
            }
            Err(e) => {
                r.problem(
                    &area,
                    e,
                    "the key in encryption_key_file must be the one the sign-in was stored with",
                );
                continue;
            }
        };
        let who = saved.user.as_deref().unwrap_or("unknown user");
        match saved.scope.as_deref() {
            Some(scope) if grants_contacts(scope) => r.ok(
                &area,
                format!(
                    "{who}, stored {}, scopes: {scope}",
                    saved.saved_at.format("%Y-%m-%d %H:%M UTC")
                ),
            ),
            Some(scope) => r.problem(
                &area,
                format!("{who} granted only: {scope}"),
                format!(
                    "add the delegated permission Contacts.ReadWrite to the app registration, then cardbridge login --account {account}"
                ),
            ),
            None => r.ok(
                &area,
                format!("{who} (scopes not recorded at sign-in)"),
            ),
        }
        match setup::client_from_config(cfg, store.clone(), &account).await {
            Ok(client) => check_mailbox(r, &client, &Mailbox::Me, &area).await,
            Err(e) => r.problem(&area, e, format!("cardbridge login --account {account}")),
        }
    }
}

/// Refresh (through the first call), the profile, the default folder and the tree.
async fn check_mailbox(r: &mut Report, client: &GraphClient, mb: &Mailbox, area: &str) {
    let label = match mb {
        Mailbox::Me => "the signed-in mailbox".to_owned(),
        Mailbox::User(u) => format!("mailbox {u}"),
    };
    let result = async {
        let default = client.default_folder(mb).await?;
        let folders = client.folder_tree(mb).await?;
        Ok::<_, GraphError>((default, folders))
    }
    .await;
    match result {
        Ok((default, folders)) => r.ok(
            area,
            format!(
                "Graph answers for {label}: {} address book(s) (\"{}\" and {} more)",
                folders.len() + 1,
                default.display_name.as_deref().unwrap_or("Contacts"),
                folders.len()
            ),
        ),
        Err(e @ GraphError::SignInRequired { .. }) => r.problem(
            area,
            format!("{label}: {e}"),
            match mb {
                Mailbox::Me => format!(
                    "sign in again: cardbridge login --account {}",
                    area.trim_start_matches("sign-in ")
                ),
                Mailbox::User(_) => {
                    "check the client secret and the admin consent for Contacts.ReadWrite".into()
                }
            },
        ),
        Err(e @ GraphError::AccessDenied { .. }) => r.problem(
            area,
            format!("{label}: {e}"),
            "grant Contacts.ReadWrite (delegated, or application with admin consent)",
        ),
        Err(e) => r.problem(
            area,
            format!("{label}: {e}"),
            "check graph.root, the network path to Graph (proxy, firewall) and retry",
        ),
    }
}

/// Compare the local clock with the `Date` of a Graph response.
async fn check_clock(cfg: &Config, r: &mut Report) {
    let url = format!("{}/v1.0/", cfg.graph.root.trim_end_matches('/'));
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            r.warn("clock", e, "-");
            return;
        }
    };
    let before = chrono::Utc::now();
    let response = match client.get(&url).send().await {
        Ok(resp) => resp,
        Err(e) => {
            r.problem(
                "graph",
                format!("{url} is unreachable: {e}"),
                "check graph.root, DNS, proxy and firewall",
            );
            return;
        }
    };
    let after = chrono::Utc::now();
    let Some(date) = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
    else {
        r.warn(
            "clock",
            format!("{url} sent no Date header; skew not measured"),
            "make sure NTP runs (timedatectl)",
        );
        return;
    };
    let local = before + (after - before) / 2;
    let skew = (local - date.with_timezone(&chrono::Utc)).num_seconds();
    let what = format!("local clock is {skew:+} s against Graph");
    if skew.abs() > SKEW_PROBLEM_SECS {
        r.problem(
            "clock",
            format!("{what}: sign-ins and tokens fail beyond 5 minutes"),
            "enable time synchronisation: timedatectl set-ntp true",
        );
    } else if skew.abs() > SKEW_WARNING_SECS {
        r.warn(
            "clock",
            what,
            "enable time synchronisation: timedatectl set-ntp true",
        );
    } else {
        r.ok("clock", what);
    }
}

#[cfg(test)]
mod tests {
    use super::grants_contacts;

    #[test]
    fn contact_write_scopes_are_recognised_with_or_without_resource() {
        assert!(grants_contacts(
            "https://graph.microsoft.com/Contacts.ReadWrite https://graph.microsoft.com/User.Read"
        ));
        assert!(grants_contacts("openid Contacts.ReadWrite.Shared"));
        assert!(grants_contacts("contacts.readwrite"));
        assert!(!grants_contacts("Contacts.Read User.Read offline_access"));
        assert!(!grants_contacts(""));
    }
}
