//! `cardbridge login` (issue 3 item 5; reference/graph.md §11.1).
//!
//! `login` runs the device-code flow against the configured authority: it prints the
//! URL and code, polls until the person signs in, and stores the refresh token for the
//! account. (`cardbridge check`, which verifies the result, is `app::check`.)

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
