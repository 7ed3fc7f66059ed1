//! Which Graph sign-in serves which CardDAV user in `serve`'s delegated mode
//! (DESIGN.md "Upstream auth").
//!
//! `cardbridge login --account NAME` stores a refresh token under NAME. A CardDAV user
//! reads the mailbox of the sign-in stored under their own name, or else the one stored
//! under `default` (a personal installation: one sign-in, one or more app passwords).
//! Clients are built on first use and kept, so rotated refresh tokens stay in one place;
//! a new sign-in from the onboarding page ([`DelegatedAccounts::signed_in`]) is handed
//! to the kept client, which clears a "sign-in required" state at once.

use crate::bridge::{Account, AccountDirectory};
use crate::graph::oauth::{OAuthClient, TokenSet};
use crate::graph::token_store::TokenStore;
use crate::graph::tokens::DelegatedTokens;
use crate::graph::transport::GraphClientOptions;
use crate::graph::{GraphClient, Mailbox};
use dashmap::DashMap;
use std::sync::Arc;

/// The account name `cardbridge login` uses when none is given.
pub const DEFAULT_ACCOUNT: &str = "default";

/// Delegated sign-ins from the token store, one Graph client per stored account.
pub struct DelegatedAccounts {
    tokens: TokenStore,
    oauth: OAuthClient,
    options: GraphClientOptions,
    clients: DashMap<String, (Account, Arc<DelegatedTokens>)>,
}

impl DelegatedAccounts {
    pub fn new(tokens: TokenStore, oauth: OAuthClient, options: GraphClientOptions) -> Self {
        Self {
            tokens,
            oauth,
            options,
            clients: DashMap::new(),
        }
    }

    /// The stored account a CardDAV user reads, if any.
    fn account_name(&self, user: &str) -> Option<String> {
        [user, DEFAULT_ACCOUNT]
            .into_iter()
            .find(|name| matches!(self.tokens.load(name), Ok(Some(_))))
            .map(str::to_owned)
    }

    /// A new sign-in for account `name` was stored: the kept client (if any) uses it now.
    pub fn signed_in(&self, name: &str, tokens: &TokenSet) {
        if let Some(entry) = self.clients.get(name) {
            entry.1.replace(tokens);
        }
    }

    fn build(&self, name: &str) -> Option<(Account, Arc<DelegatedTokens>)> {
        let stored = match self.tokens.load(name) {
            Ok(Some(s)) => s,
            Ok(None) => return None,
            Err(e) => {
                tracing::error!(account = name, "cannot read the stored sign-in: {e:#}");
                return None;
            }
        };
        let tokens = Arc::new(
            DelegatedTokens::from_refresh_token(
                self.oauth.clone(),
                stored.refresh_token,
                Some(self.tokens.sink(name)),
            )
            .with_label(name),
        );
        match GraphClient::new(self.options.clone(), tokens.clone()) {
            Ok(client) => Some((
                Account {
                    key: format!("delegated/{name}"),
                    client,
                    mailbox: Mailbox::Me,
                    display_name: name.to_owned(),
                },
                tokens,
            )),
            Err(e) => {
                tracing::error!(account = name, "cannot build the Graph client: {e}");
                None
            }
        }
    }
}

impl AccountDirectory for DelegatedAccounts {
    fn account(&self, user: &str) -> Option<Account> {
        let name = self.account_name(user)?;
        if let Some(a) = self.clients.get(&name) {
            return Some(a.0.clone());
        }
        let built = self.build(&name)?;
        Some(self.clients.entry(name).or_insert(built).0.clone())
    }
}

/// Several directories asked in order; the first that knows the user serves them
/// (`demo`: its own user, then the sign-ins of the onboarding page).
pub struct FirstOf(pub Vec<Arc<dyn AccountDirectory>>);

impl AccountDirectory for FirstOf {
    fn account(&self, user: &str) -> Option<Account> {
        self.0.iter().find_map(|d| d.account(user))
    }
}
