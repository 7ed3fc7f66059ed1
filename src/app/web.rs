//! Wiring of the onboarding page (`crate::web`) into a stack: what it is built from,
//! and the [`Backend`] that connects it to the delegated sign-ins and the bridge.

use super::accounts::DelegatedAccounts;
use crate::bridge::{AccountStatus, Bridge};
use crate::graph::oauth::{OAuthClient, TokenSet};
use crate::graph::token_store::TokenStore;
use crate::graph::transport::GraphClientOptions;
use crate::server::{DavService, UserStore};
use crate::web::{Backend, WebApp, WebFront, WebSettings};
use std::sync::Arc;

/// Everything the onboarding page needs besides the bridge and the users.
pub struct WebSetup {
    pub settings: WebSettings,
    /// The delegated OAuth client of `[graph]`.
    pub oauth: OAuthClient,
    pub graph: GraphClientOptions,
    /// Where sign-ins are stored (the one `DelegatedAccounts` reads).
    pub tokens: TokenStore,
    pub delegated: Arc<DelegatedAccounts>,
}

struct StackBackend {
    delegated: Arc<DelegatedAccounts>,
    bridge: Arc<Bridge>,
}

impl Backend for StackBackend {
    fn signed_in(&self, user: &str, tokens: &TokenSet) {
        self.delegated.signed_in(user, tokens);
        // Load the mailbox now, so the first client sync and the status are ready.
        let bridge = Arc::clone(&self.bridge);
        let user = user.to_owned();
        tokio::spawn(async move {
            if let Err(e) = bridge.warm_up(&user).await {
                tracing::warn!(user = %user, "first sync after web sign-in failed: {e}");
            }
        });
    }

    fn status(&self, user: &str) -> Option<AccountStatus> {
        self.bridge.account_status(user)
    }
}

impl WebSetup {
    /// The page mounted in front of `dav`.
    pub(crate) fn mount(
        self,
        dav: Arc<dyn DavService>,
        users: UserStore,
        bridge: Arc<Bridge>,
    ) -> Arc<dyn DavService> {
        let backend = Arc::new(StackBackend {
            delegated: self.delegated,
            bridge,
        });
        let app = WebApp::new(
            self.settings,
            self.oauth,
            self.graph,
            self.tokens,
            users,
            backend,
        );
        tracing::info!(redirect_uri = %app.redirect_uri(), "onboarding page enabled under /web/");
        Arc::new(WebFront::new(Arc::new(app), dav))
    }
}
