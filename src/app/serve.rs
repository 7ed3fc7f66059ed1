//! `cardbridge serve`: run the bridge from the configuration file until Ctrl-C / SIGTERM.
//!
//! Delegated mode (no client secret): each CardDAV user reads the mailbox of a sign-in
//! made with `cardbridge login` (see [`super::accounts`]). App-only mode (`[graph]
//! client_secret`): each `[[bridge.mailboxes]]` entry maps a CardDAV user to a mailbox.
//! With `[web] enabled`, people sign in on the onboarding page instead (delegated only).

use super::accounts::DelegatedAccounts;
use super::stack::{StackParts, start_stack};
use super::web::WebSetup;
use crate::bridge::{AccountDirectory, OrganizationMailboxes};
use crate::config::Config;
use crate::server::{ServerOptions, UserStore, init_logging};
use crate::state::RedbStore;
use crate::state::SharedStore;
use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;

/// Arguments of `cardbridge serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); see examples/.
    #[arg(long, env = "CARDBRIDGE_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Load the configuration, open the state store and serve.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let mut cfg = Config::load(args.config.as_deref())?;
    cfg.graph.apply_env();
    init_logging(cfg.server.log_format, "info");
    let store: SharedStore = Arc::new(
        RedbStore::open(&cfg.state.path)
            .with_context(|| format!("opening the state store {}", cfg.state.path.display()))?,
    );
    let users = UserStore::new(store.clone());
    let accounts = accounts_from_config(&cfg, store.clone())?;
    let web = web_setup(&cfg, store.clone(), accounts.delegated.clone())?;
    log_setup(&cfg, &store, &users);
    let server = ServerOptions::from_config(&cfg.server)?;
    let stack = start_stack(StackParts {
        store,
        bridge: cfg.bridge.clone(),
        accounts: accounts.directory,
        server,
        users,
        max_resource_size: cfg.server.max_body_bytes as u64,
        web,
    })
    .await?;
    stack.readiness.set_ready(true);
    tracing::info!(url = %stack.server.base_url(), "cardbridge is serving");
    stack.run_until_signal().await;
    Ok(())
}

/// One line on what this instance will serve, and a warning for what will not work.
fn log_setup(cfg: &Config, store: &SharedStore, users: &UserStore) {
    let user_names = users.list().unwrap_or_default();
    if user_names.is_empty() {
        tracing::warn!("no CardDAV users yet: add one with `cardbridge user add NAME`");
    }
    if cfg.graph.app_only() {
        tracing::info!(
            users = user_names.len(),
            mailboxes = cfg.bridge.mailboxes.len(),
            graph = %cfg.graph.root,
            "app-only access"
        );
        return;
    }
    let signed_in = crate::graph::setup::open_token_store(cfg, store.clone())
        .and_then(|t| t.accounts())
        .unwrap_or_default();
    if signed_in.is_empty() && !cfg.web.enabled {
        tracing::warn!(
            "no Graph sign-in stored: run `cardbridge login` (CardDAV users see no books until then)"
        );
    }
    tracing::info!(
        users = user_names.len(),
        sign_ins = signed_in.len(),
        graph = %cfg.graph.root,
        "delegated access"
    );
}

/// Who reads which mailbox, as configured.
pub(crate) struct ConfiguredAccounts {
    pub directory: Arc<dyn AccountDirectory>,
    /// Delegated mode: the stored sign-ins (the onboarding page adds to them).
    pub delegated: Option<Arc<DelegatedAccounts>>,
}

pub(crate) fn accounts_from_config(
    cfg: &Config,
    store: SharedStore,
) -> anyhow::Result<ConfiguredAccounts> {
    if let Err(problem) = cfg.graph.validate() {
        anyhow::bail!("[graph] {problem}");
    }
    let oauth = crate::graph::setup::oauth_client(&cfg.graph)?;
    let options = crate::graph::setup::client_options(&cfg.graph);
    if cfg.graph.app_only() {
        let tokens = Arc::new(crate::graph::tokens::ClientCredentials::new(oauth));
        let client = crate::graph::GraphClient::new(options, tokens)?;
        if cfg.bridge.mailboxes.is_empty() {
            anyhow::bail!("app-only access needs [[bridge.mailboxes]] entries (user, mailbox)");
        }
        Ok(ConfiguredAccounts {
            directory: Arc::new(OrganizationMailboxes::new(client, &cfg.bridge.mailboxes)),
            delegated: None,
        })
    } else {
        let tokens = crate::graph::setup::open_token_store(cfg, store)?;
        let delegated = Arc::new(DelegatedAccounts::new(tokens, oauth, options));
        Ok(ConfiguredAccounts {
            directory: delegated.clone(),
            delegated: Some(delegated),
        })
    }
}

/// The onboarding page of `[web]`, when enabled (delegated access only: the page stores
/// each person's own sign-in).
fn web_setup(
    cfg: &Config,
    store: SharedStore,
    delegated: Option<Arc<DelegatedAccounts>>,
) -> anyhow::Result<Option<WebSetup>> {
    let Some(settings) = cfg.web.settings(&cfg.graph.tenant)? else {
        return Ok(None);
    };
    let Some(delegated) = delegated else {
        anyhow::bail!(
            "[web] the onboarding page needs delegated access: remove [graph] client_secret or set [web] enabled = false"
        );
    };
    Ok(Some(WebSetup {
        settings,
        oauth: crate::graph::setup::oauth_client(&cfg.graph)?,
        graph: crate::graph::setup::client_options(&cfg.graph),
        tokens: crate::graph::setup::open_token_store(cfg, store)?,
        delegated,
    }))
}
