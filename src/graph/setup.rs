//! Building a [`GraphClient`] from the configuration file and the stored tokens
//! (DESIGN.md "Upstream auth"; reference/graph.md §11).
//!
//! - delegated (the default): the account's refresh token from the [`TokenStore`]
//!   (written by `cardbridge login`), refreshed and rotated by [`DelegatedTokens`], each
//!   rotated token written back;
//! - app-only, when `graph.client_secret` is configured: [`ClientCredentials`], and the
//!   mailboxes of `graph.mailboxes` addressed as `/users/{id}`.

use super::client::{GraphClient, Mailbox};
use super::config::GraphConfig;
use super::oauth::OAuthClient;
use super::token_store::{TokenKey, TokenStore};
use super::tokens::{ClientCredentials, DelegatedTokens, TokenSource};
use super::transport::GraphClientOptions;
use crate::config::Config;
use crate::state::SharedStore;
use anyhow::{Context, bail};
use std::sync::Arc;

/// The token store over the state store, sealed with `[state] encryption_key_file` when set.
pub fn open_token_store(cfg: &Config, store: SharedStore) -> anyhow::Result<TokenStore> {
    let key = match &cfg.state.encryption_key_file {
        Some(path) => Some(TokenKey::from_file(path)?),
        None => None,
    };
    Ok(TokenStore::new(store, key))
}

/// The OAuth client for the configured authority, tenant and app.
pub fn oauth_client(cfg: &GraphConfig) -> anyhow::Result<OAuthClient> {
    let mut c = OAuthClient::new(&cfg.authority, &cfg.tenant, &cfg.client_id, &cfg.root)
        .context("building the OAuth client")?
        .with_scopes(cfg.scopes.clone());
    if let Some(secret) = &cfg.client_secret {
        c = c.with_secret(secret.clone());
    }
    Ok(c)
}

/// Client options for the configured Graph root (other settings at their defaults).
pub fn client_options(cfg: &GraphConfig) -> GraphClientOptions {
    GraphClientOptions {
        graph_root: cfg.root.trim_end_matches('/').to_owned(),
        ..GraphClientOptions::default()
    }
}

/// The mailboxes this configuration serves: `/me` (delegated) or each of
/// `graph.mailboxes` (app-only).
pub fn mailboxes(cfg: &GraphConfig) -> Vec<Mailbox> {
    if cfg.app_only() {
        cfg.mailboxes
            .iter()
            .map(|m| Mailbox::User(m.clone()))
            .collect()
    } else {
        vec![Mailbox::Me]
    }
}

/// A Graph client for `account`: delegated from its stored refresh token, or app-only
/// when a client secret is configured. Does not call Graph; a refused refresh token
/// shows up as `GraphError::SignInRequired` on the first call.
pub async fn client_from_config(
    cfg: &Config,
    store: SharedStore,
    account: &str,
) -> anyhow::Result<GraphClient> {
    let g = &cfg.graph;
    if let Err(problem) = g.validate() {
        bail!("{problem}");
    }
    let oauth = oauth_client(g)?;
    let tokens: Arc<dyn TokenSource> = if g.app_only() {
        Arc::new(ClientCredentials::new(oauth))
    } else {
        let token_store = open_token_store(cfg, store)?;
        let Some(stored) = token_store.load(account)? else {
            bail!(
                "no Graph sign-in stored for account {account:?}: run `cardbridge login --account {account}`"
            );
        };
        Arc::new(
            DelegatedTokens::from_refresh_token(
                oauth,
                stored.refresh_token,
                Some(token_store.sink(account)),
            )
            .with_label(account),
        )
    };
    GraphClient::new(client_options(g), tokens).context("building the Graph client")
}
