//! Where the Graph client gets its bearer tokens (reference/graph.md §11.3, §11.4).
//!
//! [`TokenSource`] is the one thing the client asks: "a token, please" and, after a 401,
//! "this one was refused". Three sources:
//!
//! - [`StaticToken`]: a fixed token (tests, the emulator's `mint_token`).
//! - [`DelegatedTokens`]: an access + refresh token pair from a sign-in. It refreshes
//!   shortly before expiry (never assuming 1 h: access tokens live 60–90 min), with one
//!   refresh in flight however many requests wait (single-flight), stores every rotated
//!   refresh token through a [`TokenSink`], and, once the identity platform says
//!   `invalid_grant` / `interaction_required`, keeps answering
//!   [`GraphError::SignInRequired`] without hammering the token endpoint until new tokens
//!   are supplied with [`DelegatedTokens::replace`].
//! - [`ClientCredentials`]: app-only tokens from the client secret; no refresh token,
//!   a new token is requested when the old one nears expiry.

use super::error::GraphError;
use super::oauth::{OAuthClient, TokenSet};
use futures_util::future::BoxFuture;
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Supplies bearer tokens to the Graph client.
pub trait TokenSource: Send + Sync {
    /// A currently valid access token.
    fn token(&self) -> BoxFuture<'_, Result<SecretString, GraphError>>;
    /// Graph answered 401 to `token`: do not hand it out again.
    fn invalidate(&self, token: &SecretString);
}

/// Persists rotated tokens (the token store implements it per account).
pub trait TokenSink: Send + Sync {
    fn save(&self, tokens: &TokenSet) -> anyhow::Result<()>;
}

/// A fixed token. `invalidate` does nothing: a refused static token stays refused.
pub struct StaticToken(SecretString);

impl StaticToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }
}

impl TokenSource for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<SecretString, GraphError>> {
        let t = self.0.clone();
        Box::pin(async move { Ok(t) })
    }
    fn invalidate(&self, _token: &SecretString) {}
}

/// An access token and the moment to stop using it.
#[derive(Clone)]
struct Cached {
    token: SecretString,
    use_until: chrono::DateTime<chrono::Utc>,
}

impl Cached {
    /// Stop using a token a little before it expires: 5 minutes, or a fifth of its
    /// remaining life when that is shorter (short-lived tokens in tests).
    fn from_set(set: &TokenSet) -> Self {
        let remaining = (set.expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        let margin = (remaining / 5).min(Duration::from_secs(300));
        let margin = chrono::Duration::from_std(margin).unwrap_or_default();
        Self {
            token: set.access_token.clone(),
            use_until: set.expires_at - margin,
        }
    }
    fn valid(&self) -> bool {
        chrono::Utc::now() < self.use_until
    }
}

struct DelegatedState {
    access: Option<Cached>,
    refresh: SecretString,
    /// Set after the identity platform refused the refresh token.
    sign_in_required: Option<GraphError>,
}

/// Delegated tokens with refresh and rotation (see the module docs).
pub struct DelegatedTokens {
    /// Names the account in log lines (never a token).
    label: String,
    oauth: OAuthClient,
    state: Mutex<DelegatedState>,
    refresh_lock: tokio::sync::Mutex<()>,
    sink: Option<Arc<dyn TokenSink>>,
}

impl DelegatedTokens {
    /// From a full token set (after a sign-in). Fails without a refresh token.
    pub fn new(
        oauth: OAuthClient,
        tokens: &TokenSet,
        sink: Option<Arc<dyn TokenSink>>,
    ) -> Result<Self, GraphError> {
        let refresh = tokens
            .refresh_token
            .clone()
            .ok_or_else(|| GraphError::SignInRequired {
                reason: "the sign-in returned no refresh token (is offline_access granted?)".into(),
            })?;
        Ok(Self {
            label: String::new(),
            oauth,
            state: Mutex::new(DelegatedState {
                access: Some(Cached::from_set(tokens)),
                refresh,
                sign_in_required: None,
            }),
            refresh_lock: tokio::sync::Mutex::new(()),
            sink,
        })
    }

    /// From a stored refresh token only; the first call refreshes.
    pub fn from_refresh_token(
        oauth: OAuthClient,
        refresh: SecretString,
        sink: Option<Arc<dyn TokenSink>>,
    ) -> Self {
        Self {
            label: String::new(),
            oauth,
            state: Mutex::new(DelegatedState {
                access: None,
                refresh,
                sign_in_required: None,
            }),
            refresh_lock: tokio::sync::Mutex::new(()),
            sink,
        }
    }

    /// Name the account in log lines.
    pub fn with_label(mut self, account: &str) -> Self {
        self.label = account.to_owned();
        self
    }

    /// Install tokens from a new sign-in (clears a "sign-in required" state).
    pub fn replace(&self, tokens: &TokenSet) {
        if let Ok(mut s) = self.state.lock() {
            s.access = Some(Cached::from_set(tokens));
            if let Some(r) = &tokens.refresh_token {
                s.refresh = r.clone();
            }
            s.sign_in_required = None;
        }
    }

    /// True once the refresh token was refused.
    pub fn needs_sign_in(&self) -> bool {
        self.state
            .lock()
            .map(|s| s.sign_in_required.is_some())
            .unwrap_or(true)
    }

    /// A valid cached token, the sticky sign-in error, or `None` (refresh needed).
    fn current(&self) -> Result<Option<SecretString>, GraphError> {
        let s = self
            .state
            .lock()
            .map_err(|_| GraphError::Transport("token state poisoned".into()))?;
        if let Some(e) = &s.sign_in_required {
            return Err(e.clone());
        }
        Ok(s.access
            .as_ref()
            .filter(|c| c.valid())
            .map(|c| c.token.clone()))
    }

    async fn get(&self) -> Result<SecretString, GraphError> {
        if let Some(t) = self.current()? {
            return Ok(t);
        }
        let _flight = self.refresh_lock.lock().await;
        if let Some(t) = self.current()? {
            return Ok(t);
        }
        let refresh = self
            .state
            .lock()
            .map_err(|_| GraphError::Transport("token state poisoned".into()))?
            .refresh
            .clone();
        match self.oauth.refresh(&refresh).await {
            Ok(set) => {
                tracing::debug!(account = %self.label, "access token refreshed");
                let access = set.access_token.clone();
                if let Ok(mut s) = self.state.lock() {
                    s.access = Some(Cached::from_set(&set));
                    if let Some(r) = &set.refresh_token {
                        s.refresh = r.clone();
                    }
                }
                if let Some(sink) = &self.sink
                    && let Err(e) = sink.save(&set)
                {
                    tracing::error!(account = %self.label, error = %e, "could not persist the rotated refresh token");
                }
                Ok(access)
            }
            Err(e @ GraphError::SignInRequired { .. }) => {
                tracing::warn!(account = %self.label, error = %e, "refresh token refused; sign-in required");
                if let Ok(mut s) = self.state.lock() {
                    s.sign_in_required = Some(e.clone());
                    s.access = None;
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}

impl TokenSource for DelegatedTokens {
    fn token(&self) -> BoxFuture<'_, Result<SecretString, GraphError>> {
        Box::pin(self.get())
    }
    fn invalidate(&self, token: &SecretString) {
        if let Ok(mut s) = self.state.lock()
            && s.access
                .as_ref()
                .is_some_and(|c| c.token.expose_secret() == token.expose_secret())
        {
            s.access = None;
        }
    }
}

/// App-only tokens from a client secret (§11.3).
pub struct ClientCredentials {
    oauth: OAuthClient,
    access: Mutex<Option<Cached>>,
    flight: tokio::sync::Mutex<()>,
}

impl ClientCredentials {
    /// `oauth` must carry the client secret ([`OAuthClient::with_secret`]).
    pub fn new(oauth: OAuthClient) -> Self {
        Self {
            oauth,
            access: Mutex::new(None),
            flight: tokio::sync::Mutex::new(()),
        }
    }

    fn current(&self) -> Option<SecretString> {
        self.access
            .lock()
            .ok()?
            .as_ref()
            .filter(|c| c.valid())
            .map(|c| c.token.clone())
    }

    async fn get(&self) -> Result<SecretString, GraphError> {
        if let Some(t) = self.current() {
            return Ok(t);
        }
        let _flight = self.flight.lock().await;
        if let Some(t) = self.current() {
            return Ok(t);
        }
        let set = self.oauth.client_credentials().await?;
        if let Ok(mut a) = self.access.lock() {
            *a = Some(Cached::from_set(&set));
        }
        Ok(set.access_token)
    }
}

impl TokenSource for ClientCredentials {
    fn token(&self) -> BoxFuture<'_, Result<SecretString, GraphError>> {
        Box::pin(self.get())
    }
    fn invalidate(&self, token: &SecretString) {
        if let Ok(mut a) = self.access.lock()
            && a.as_ref()
                .is_some_and(|c| c.token.expose_secret() == token.expose_secret())
        {
            *a = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(secs: i64) -> TokenSet {
        TokenSet {
            access_token: SecretString::from("at"),
            refresh_token: Some(SecretString::from("rt")),
            expires_at: chrono::Utc::now() + chrono::Duration::seconds(secs),
            scope: None,
            identity: None,
        }
    }

    #[test]
    fn cached_token_is_dropped_before_expiry() {
        assert!(Cached::from_set(&set(3600)).valid());
        assert!(!Cached::from_set(&set(0)).valid());
        assert!(!Cached::from_set(&set(-10)).valid());
    }

    #[tokio::test]
    async fn static_token_is_returned_verbatim() {
        let s = StaticToken::new("abc");
        assert_eq!(s.token().await.unwrap().expose_secret(), "abc");
    }

    #[tokio::test]
    async fn delegated_serves_cached_token_and_invalidate_drops_it() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let oauth = OAuthClient::new("http://127.0.0.1:9", "common", "c", "http://g").unwrap();
        let d = DelegatedTokens::new(oauth, &set(3600), None).unwrap();
        assert_eq!(d.token().await.unwrap().expose_secret(), "at");
        d.invalidate(&SecretString::from("other"));
        assert_eq!(d.current().unwrap().unwrap().expose_secret(), "at");
        d.invalidate(&SecretString::from("at"));
        assert!(d.current().unwrap().is_none());
    }
}
