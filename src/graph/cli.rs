//! `cardbridge login` and `cardbridge check` (issue 3 item 5; reference/graph.md §11.1).
//!
//! `login` runs the device-code flow against the configured authority: it prints the
//! URL and code, polls until the person signs in, and stores the refresh token for the
//! account. `check` verifies, step by step, that the configuration is valid, that a
//! token is stored and refreshable (or client credentials work), and that Graph answers:
//! it prints each mailbox with its folder count, and exits non-zero on the first failure.

use super::client::{GraphClient, Mailbox};
use super::setup;
use super::token_store::StoredTokens;
use super::tokens::DelegatedTokens;
use crate::config::Config;
use crate::state::{RedbStore, SharedStore};
use anyhow::{Context, bail};
use clap::Args;
use std::path::PathBuf;
use std::sync::Arc;

/// `cardbridge login`
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Configuration file (TOML).
    #[arg(long, env = "CARDBRIDGE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Name under which the sign-in is stored.
    #[arg(long, default_value = "default")]
    pub account: String,
}

/// `cardbridge check`
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Configuration file (TOML).
    #[arg(long, env = "CARDBRIDGE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Account whose stored sign-in is checked (delegated access).
    #[arg(long, default_value = "default")]
    pub account: String,
}

fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<Config> {
    let mut cfg = Config::load(path)?;
    cfg.graph.apply_env();
    Ok(cfg)
}

fn open_store(cfg: &Config) -> anyhow::Result<SharedStore> {
    let store = RedbStore::open(&cfg.state.path)
        .with_context(|| format!("opening the state store {}", cfg.state.path.display()))?;
    Ok(Arc::new(store))
}

/// Run the device-code sign-in and store the tokens.
pub async fn login(args: LoginArgs) -> anyhow::Result<()> {
    let cfg = load_config(args.config.as_deref())?;
    if cfg.graph.client_id.trim().is_empty() {
        bail!("graph.client_id is not set (or CARDBRIDGE_CLIENT_ID)");
    }
    if cfg.graph.app_only() {
        println!(
            "graph.client_secret is configured: app-only access needs no sign-in. Run `cardbridge check`."
        );
        return Ok(());
    }
    let store = open_store(&cfg)?;
    let token_store = setup::open_token_store(&cfg, store)?;
    let oauth = setup::oauth_client(&cfg.graph)?;
    let dc = oauth.start_device_code().await?;
    match &dc.message {
        Some(m) => println!("{m}"),
        None => println!(
            "To sign in, open {} and enter the code {}",
            dc.verification_uri, dc.user_code
        ),
    }
    println!("Waiting for the sign-in to finish…");
    let tokens = oauth.poll_device_code(&dc).await?;
    let Some(refresh) = tokens.refresh_token.clone() else {
        bail!("the sign-in returned no refresh token; is offline_access among the scopes?");
    };
    let source = Arc::new(DelegatedTokens::new(oauth, &tokens, None)?);
    let client = GraphClient::new(setup::client_options(&cfg.graph), source)?;
    let user = match client.user_profile(&Mailbox::Me).await {
        Ok(p) => p.user_principal_name.or(p.mail).or(p.display_name),
        Err(e) => {
            eprintln!("warning: signed in, but reading the profile failed: {e}");
            None
        }
    };
    token_store.save(
        &args.account,
        &StoredTokens {
            refresh_token: refresh,
            scope: tokens.scope.clone(),
            user: user.clone(),
            saved_at: chrono::Utc::now(),
        },
    )?;
    println!(
        "Signed in as {}; stored for account {:?} in {} ({}).",
        user.as_deref().unwrap_or("(unknown user)"),
        args.account,
        cfg.state.path.display(),
        if token_store.encrypted() {
            "encrypted"
        } else {
            "owner-only file, not encrypted"
        }
    );
    Ok(())
}

/// Check configuration, token and Graph reachability; `Err` (non-zero exit) on failure.
pub async fn check(args: CheckArgs) -> anyhow::Result<()> {
    let cfg = load_config(args.config.as_deref())?;
    if let Err(problem) = cfg.graph.validate() {
        bail!("config: {problem}");
    }
    println!(
        "config: ok (Graph {}, authority {}/{})",
        cfg.graph.root, cfg.graph.authority, cfg.graph.tenant
    );
    let store = open_store(&cfg)?;
    if cfg.graph.app_only() {
        println!("auth: app-only (client credentials)");
    } else {
        let token_store = setup::open_token_store(&cfg, store.clone())?;
        match token_store.load(&args.account)? {
            Some(t) => println!(
                "auth: sign-in stored for account {:?} ({}, saved {})",
                args.account,
                t.user.as_deref().unwrap_or("unknown user"),
                t.saved_at.format("%Y-%m-%d %H:%M UTC")
            ),
            None => bail!(
                "auth: no sign-in stored for account {:?}; run `cardbridge login --account {}`",
                args.account,
                args.account
            ),
        }
    }
    let client = setup::client_from_config(&cfg, store, &args.account).await?;
    for mb in setup::mailboxes(&cfg.graph) {
        let name = match &mb {
            Mailbox::Me => match client.user_profile(&mb).await {
                Ok(p) => p
                    .user_principal_name
                    .or(p.display_name)
                    .unwrap_or_else(|| "me".into()),
                Err(e) => bail!("graph: reading the signed-in user failed: {e}"),
            },
            Mailbox::User(u) => u.clone(),
        };
        let default = client
            .default_folder(&mb)
            .await
            .with_context(|| format!("graph: mailbox {name}: default Contacts folder"))?;
        let folders = client
            .folder_tree(&mb)
            .await
            .with_context(|| format!("graph: mailbox {name}: folder tree"))?;
        println!(
            "graph: mailbox {name}: {} address book(s) (\"{}\" and {} more)",
            folders.len() + 1,
            default.display_name.as_deref().unwrap_or("Contacts"),
            folders.len()
        );
    }
    println!("check: ok");
    Ok(())
}
