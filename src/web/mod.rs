//! The onboarding page (issue 11 item 2): server-rendered HTML under `/web/`, no
//! JavaScript.
//!
//! A person clicks "Sign in with Microsoft" and signs in at the configured authority
//! (authorization code + PKCE, RFC 7636, with an OpenID Connect nonce;
//! reference/graph.md §11.2). cardbridge then reads who signed in (`/me`, and the
//! tenant from the `id_token`), checks the admin's allow list, stores the refresh token
//! under the CardDAV user name derived from the UPN (so that user's CardDAV requests
//! read that mailbox, see `app::accounts`), creates the user if missing and a new app
//! password, shown once. The account page has the setup of Thunderbird, DAVx5 (steps and
//! a QR code of a `carddavs://` link) and Apple devices (a `.mobileconfig` download),
//! the list of app passwords with revoke buttons, and the sync status of the mailbox.
//!
//! Files, one job each: `config` (`[web]`), `allow` (allow list), `session` (sign-ins
//! under way, sessions, CSRF tokens), `html` (escaping, frame, style), `pages`,
//! `mobileconfig`, `qr`, `signin` (the OAuth round trip), `respond` (cookies and
//! security headers), `routes` (the requests), `mount` (the page in front of CardDAV).
//!
//! Security: the session is a random id in an `HttpOnly; SameSite=Lax; Path=/web`
//! cookie (`Secure` when the public URL is https), state lives on the server and expires;
//! every form carries the session's CSRF token and a cross-origin `Origin` is refused;
//! the OAuth `state` is single-use and bound to the browser that started the sign-in;
//! all output is escaped; responses carry a strict Content-Security-Policy (no script,
//! no inline style), `X-Frame-Options: DENY` and `Cache-Control: no-store`. Tokens,
//! codes and passwords never reach a log line (the access log has no query strings).

pub mod allow;
pub mod config;
pub mod html;
pub mod mobileconfig;
mod mount;
pub mod pages;
pub mod qr;
mod respond;
mod routes;
pub mod session;
mod signin;

pub use config::{PublicUrl, WebConfig, WebConfigError, WebSettings};
pub use mount::WebFront;

use crate::bridge::AccountStatus;
use crate::graph::oauth::{OAuthClient, TokenSet};
use crate::graph::token_store::TokenStore;
use crate::graph::transport::GraphClientOptions;
use crate::server::UserStore;
use session::Sessions;
use std::sync::Arc;

/// What the page needs from the running bridge (implemented by the composition root).
pub trait Backend: Send + Sync + 'static {
    /// A new Graph sign-in of CardDAV user `user` was stored: serve their mailbox with
    /// it from now on (and start loading it).
    fn signed_in(&self, user: &str, tokens: &TokenSet);
    /// Sync status of the mailbox `user` reads, once loaded.
    fn status(&self, user: &str) -> Option<AccountStatus>;
}

/// The onboarding page.
pub struct WebApp {
    settings: WebSettings,
    oauth: OAuthClient,
    graph: GraphClientOptions,
    tokens: TokenStore,
    users: UserStore,
    backend: Arc<dyn Backend>,
    sessions: Sessions,
}

impl WebApp {
    /// `oauth` is the delegated client of `[graph]`; the page adds the OpenID scopes
    /// (`openid`, `profile`) so the answer carries an `id_token` with the tenant id.
    pub fn new(
        settings: WebSettings,
        oauth: OAuthClient,
        graph: GraphClientOptions,
        tokens: TokenStore,
        users: UserStore,
        backend: Arc<dyn Backend>,
    ) -> Self {
        let mut scopes = oauth.scopes().to_vec();
        for s in ["openid", "profile"] {
            if !scopes.iter().any(|have| have == s) {
                scopes.push(s.to_owned());
            }
        }
        let sessions = Sessions::new(settings.session_lifetime);
        Self {
            oauth: oauth.with_scopes(scopes),
            settings,
            graph,
            tokens,
            users,
            backend,
            sessions,
        }
    }

    /// `{public_url}/web/callback`, the redirect URI to register on the app.
    pub fn redirect_uri(&self) -> String {
        self.settings.public_url.join("/web/callback")
    }

    /// What clients type as the server: `{public_url}/`.
    fn server_url(&self) -> String {
        self.settings.public_url.join("/")
    }

    fn principal_url(&self, user: &str) -> String {
        self.settings
            .public_url
            .join(&crate::dav::path::principal_href(user))
    }
}
