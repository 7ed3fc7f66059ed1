//! The sign-in round trip (reference/graph.md §11.2): `/web/login` sends the browser to
//! the authority with a PKCE challenge, `state` and `nonce`; `/web/callback` redeems the
//! code, reads who signed in, applies the allow list, stores the refresh token under the
//! CardDAV user name, creates the user if missing and a new app password, and starts a
//! session. Nothing is stored for a refused sign-in.

use super::WebApp;
use super::pages;
use super::respond::{self, LOGIN_COOKIE, SESSION_COOKIE};
use super::session::{FreshPassword, Full, PENDING_LIFETIME, Pending, random_token};
use crate::dav::DavBody;
use crate::graph::error::GraphError;
use crate::graph::oauth::TokenSet;
use crate::graph::token_store::StoredTokens;
use crate::graph::{GraphClient, Mailbox, StaticToken};
use crate::server::users::{MAX_APP_PASSWORDS, UserError, UserStore, canonical_name};
use http::{Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// Why a sign-in did not end in a session.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("{0} is not on the allow list")]
    Refused(String),
    #[error("Microsoft did not complete the sign-in: {0}")]
    Microsoft(#[from] GraphError),
    #[error("the sign-in answer does not belong to this sign-in (nonce mismatch)")]
    Nonce,
    #[error("the sign-in returned no refresh token; is offline_access among the scopes?")]
    NoRefreshToken,
    #[error("Microsoft did not say who signed in")]
    Anonymous,
    #[error("{0:?} cannot be a CardDAV user name (1-64 of A-Z a-z 0-9 . _ @ + -)")]
    BadName(String),
    #[error("storing the user failed: {0}")]
    Users(#[from] UserError),
    #[error("storing the sign-in failed: {0}")]
    Tokens(String),
    #[error(transparent)]
    Busy(#[from] Full),
}

impl SignInError {
    fn response(&self) -> Response<DavBody> {
        let (status, title) = match self {
            SignInError::Refused(upn) => {
                return respond::html(StatusCode::FORBIDDEN, pages::refused(upn));
            }
            SignInError::BadName(_) => (StatusCode::FORBIDDEN, "This account cannot be used"),
            SignInError::Nonce => (StatusCode::BAD_REQUEST, "Sign-in failed"),
            SignInError::Busy(_) => (StatusCode::SERVICE_UNAVAILABLE, "Busy"),
            SignInError::Microsoft(_) | SignInError::NoRefreshToken | SignInError::Anonymous => {
                (StatusCode::BAD_GATEWAY, "Sign-in failed")
            }
            SignInError::Users(_) | SignInError::Tokens(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong")
            }
        };
        respond::html(status, pages::problem(title, &self.to_string()))
    }
}

/// The app password made for this sign-in, or why there is none.
type NewPassword = (Option<(String, SecretString)>, Option<String>);

impl WebApp {
    /// `GET /web/login`: to the authority, with a fresh login cookie.
    pub(super) fn start_sign_in(
        &self,
        client: Option<std::net::IpAddr>,
        now: Instant,
    ) -> Response<DavBody> {
        let login = random_token();
        let req = self.oauth.authorize_url(&self.redirect_uri());
        if let Err(e) =
            self.sessions
                .begin_sign_in(&req.state, &login, req.verifier, req.nonce, client, now)
        {
            return SignInError::Busy(e).response();
        }
        let mut r = respond::redirect(&req.url);
        respond::set_cookie(
            &mut r,
            LOGIN_COOKIE,
            &login,
            PENDING_LIFETIME.as_secs(),
            self.settings.public_url.tls(),
        );
        r
    }

    /// `GET /web/callback?code=…&state=…` (or `?error=…`).
    pub(super) async fn callback(
        &self,
        query: &str,
        login_cookie: Option<&str>,
        now: Instant,
    ) -> Response<DavBody> {
        let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let pending = q.get("state").and_then(|s| {
            self.sessions
                .finish_sign_in(s, login_cookie.unwrap_or(""), now)
        });
        let mut r = if let Some(error) = q.get("error") {
            let said = q
                .get("error_description")
                .and_then(|d| d.lines().next())
                .unwrap_or(error);
            respond::html(
                StatusCode::FORBIDDEN,
                pages::problem("Sign-in cancelled", &format!("Microsoft said: {said}")),
            )
        } else {
            match (q.get("code"), pending) {
                (Some(code), Some(p)) => match self.complete(code, p, now).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(error = %e, "web sign-in did not finish");
                        e.response()
                    }
                },
                _ => respond::html(
                    StatusCode::BAD_REQUEST,
                    pages::problem(
                        "Sign-in expired",
                        "This sign-in was started in another browser, took too long or was \
                         already used. Please start again.",
                    ),
                ),
            }
        };
        respond::set_cookie(&mut r, LOGIN_COOKIE, "", 0, self.settings.public_url.tls());
        r
    }

    async fn complete(
        &self,
        code: &str,
        pending: Pending,
        now: Instant,
    ) -> Result<Response<DavBody>, SignInError> {
        let tokens = self
            .oauth
            .exchange_code(code, &self.redirect_uri(), &pending.verifier)
            .await?;
        if let Some(id) = &tokens.identity
            && id.nonce.as_deref() != Some(pending.nonce.as_str())
        {
            return Err(SignInError::Nonce);
        }
        let refresh = tokens
            .refresh_token
            .clone()
            .ok_or(SignInError::NoRefreshToken)?;
        let upn = self.who(&tokens).await?;
        let tenant = tokens.identity.as_ref().and_then(|i| i.tid.as_deref());
        if !self.settings.allow.allows(tenant, &upn) {
            tracing::warn!(upn = %upn, tenant = tenant.unwrap_or("-"), "web sign-in refused by the allow list");
            return Err(SignInError::Refused(upn));
        }
        let user = canonical_name(&upn).ok_or_else(|| SignInError::BadName(upn.clone()))?;
        self.tokens
            .save(
                &user,
                &StoredTokens {
                    refresh_token: refresh,
                    scope: tokens.scope.clone(),
                    user: Some(upn.clone()),
                    saved_at: chrono::Utc::now(),
                },
            )
            .map_err(|e| SignInError::Tokens(format!("{e:#}")))?;
        self.backend.signed_in(&user, &tokens);
        let (fresh, notice) = new_app_password(self.users.clone(), user.clone()).await?;
        let fresh = fresh.map(|(id, pw)| FreshPassword::new(id, pw, now));
        let session = self.sessions.create(&user, &upn, fresh, notice, now)?;
        tracing::info!(user = %user, tenant = tenant.unwrap_or("-"), "web sign-in stored");
        let mut r = respond::redirect("/web/");
        respond::set_cookie(
            &mut r,
            SESSION_COOKIE,
            &session,
            self.settings.session_lifetime.as_secs(),
            self.settings.public_url.tls(),
        );
        Ok(r)
    }

    /// The signed-in user's UPN (`/me`), else their mail or sign-in name.
    async fn who(&self, tokens: &TokenSet) -> Result<String, SignInError> {
        let source = StaticToken::new(tokens.access_token.expose_secret().to_owned());
        let client = GraphClient::new(self.graph.clone(), Arc::new(source))?;
        let me = client.user_profile(&Mailbox::Me).await?;
        me.user_principal_name
            .or(me.mail)
            .or_else(|| tokens.identity.as_ref()?.preferred_username.clone())
            .filter(|n| !n.trim().is_empty())
            .ok_or(SignInError::Anonymous)
    }
}

/// Create the user with a first app password, or add one; at the limit, none and a
/// notice. Argon2 hashing blocks, so this runs on the blocking pool.
pub(super) async fn new_app_password(
    users: UserStore,
    user: String,
) -> Result<NewPassword, UserError> {
    let label = format!(
        "web sign-in {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M")
    );
    let work = move || -> Result<NewPassword, UserError> {
        if !users.exists(&user)? {
            let password = UserStore::generate_password();
            match users.add_user(&user, &password) {
                Ok(()) => {
                    let id = users
                        .app_passwords(&user)?
                        .into_iter()
                        .next()
                        .map(|p| p.id)
                        .unwrap_or_default();
                    return Ok((Some((id, password)), None));
                }
                // Created meanwhile by another sign-in: add a password below.
                Err(UserError::Exists(_)) => {}
                Err(e) => return Err(e),
            }
        }
        match users.add_app_password(&user, &label) {
            Ok((id, password)) => Ok((Some((id, password)), None)),
            Err(UserError::TooManyPasswords(_)) => Ok((
                None,
                Some(format!(
                    "You already have {MAX_APP_PASSWORDS} app passwords, so no new one was \
                     made. Revoke one you no longer use, then create a new one."
                )),
            )),
            Err(e) => Err(e),
        }
    };
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| UserError::Hash(format!("password task failed: {e}")))?
}
