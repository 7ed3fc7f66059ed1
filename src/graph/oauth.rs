//! Microsoft identity platform v2 flows, hand-rolled on reqwest (reference/graph.md §11;
//! crates.md §5 explains why not the `oauth2` crate: it pins reqwest 0.12).
//!
//! - device code (§11.1): [`OAuthClient::start_device_code`], then
//!   [`OAuthClient::poll_device_code`] (honours `interval`, `slow_down` (+5 s, RFC 8628
//!   §3.5, although Microsoft does not document it), `expires_in`);
//! - authorization code + PKCE (§11.2): [`OAuthClient::authorize_url`] builds the URL
//!   with an S256 challenge, a random `state` and an OpenID `nonce`,
//!   [`OAuthClient::exchange_code`] redeems it (the `id_token` claims land in
//!   [`TokenSet::identity`]);
//! - client credentials (§11.3): [`OAuthClient::client_credentials`], scope `{graph}/.default`;
//! - refresh (§11.4): [`OAuthClient::refresh`]; the answer carries a *new* refresh token
//!   that must replace the old one.
//!
//! Token endpoint errors are classified once, in [`token_error`]: `invalid_grant`,
//! `interaction_required`, `consent_required`, `login_required`, `expired_token`,
//! `authorization_declined` and `bad_verification_code` mean a person must sign in
//! ([`GraphError::SignInRequired`]); configuration mistakes (`invalid_client`,
//! `invalid_scope`…) are [`GraphError::BadRequest`]. Secrets (tokens, client secret,
//! device code, PKCE verifier) are [`SecretString`]s and never reach a log line.

use super::error::GraphError;
use base64::prelude::{BASE64_URL_SAFE_NO_PAD, Engine};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Scopes a delegated sign-in asks for (§11): a refresh token, the user's contacts and
/// profile. `Contacts.ReadWrite` carries the configured Graph host (national clouds).
pub fn default_scopes(graph_root: &str) -> Vec<String> {
    vec![
        "offline_access".to_owned(),
        format!("{}/Contacts.ReadWrite", graph_root.trim_end_matches('/')),
        "User.Read".to_owned(),
    ]
}

/// A token endpoint answer (§11.4).
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    /// Present for delegated flows with `offline_access`; rotated on every refresh.
    pub refresh_token: Option<SecretString>,
    /// Wall-clock expiry of the access token (from `expires_in`; never assume 1 h).
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// Scopes granted, as Microsoft reports them.
    pub scope: Option<String>,
    /// Who signed in, from the `id_token` (present when `openid` was granted).
    pub identity: Option<IdClaims>,
}

/// Claims of an `id_token` the token endpoint returned (OpenID Connect Core §2; the
/// Microsoft claims `tid` and `oid`). The token came straight from the token endpoint
/// over TLS, so its signature is not checked (OIDC Core §3.1.3.7 item 6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct IdClaims {
    /// Tenant (directory) id; `9188040d-6c67-4c5b-b112-36a304b66dad` for personal accounts.
    #[serde(default)]
    pub tid: Option<String>,
    /// The user's object id in the tenant.
    #[serde(default)]
    pub oid: Option<String>,
    /// The sign-in name (usually the UPN or e-mail address).
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// The `nonce` of the authorize request (OIDC Core §3.1.3.7 item 11).
    #[serde(default)]
    pub nonce: Option<String>,
}

impl IdClaims {
    /// Decode the payload of a compact JWS; `None` when it is not one.
    pub fn from_jwt(token: &str) -> Option<Self> {
        let payload = token.split('.').nth(1)?;
        let bytes = BASE64_URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: SecretString,
    #[serde(default)]
    refresh_token: Option<SecretString>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    id_token: Option<SecretString>,
}

#[derive(Deserialize)]
struct TokenErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// The answer to a device authorization request (§11.1).
#[derive(Debug, Clone)]
pub struct DeviceCode {
    /// What the person types at `verification_uri`.
    pub user_code: String,
    /// Secret handle the client polls with.
    pub device_code: SecretString,
    pub verification_uri: String,
    /// Microsoft's ready-made instruction ("To sign in, use a web browser…").
    pub message: Option<String>,
    /// How long the code stays valid.
    pub expires_in: Duration,
    /// Polling interval; tests may shorten it.
    pub interval: Duration,
}

#[derive(Deserialize)]
struct DeviceCodeResponse {
    user_code: String,
    device_code: SecretString,
    #[serde(default, alias = "verification_url")]
    verification_uri: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    interval: Option<serde_json::Value>,
}

/// One poll of the device-code token endpoint.
#[derive(Debug)]
pub enum DevicePoll {
    /// The person has not finished yet.
    Pending,
    /// Poll less often (+5 s).
    SlowDown,
    /// Signed in.
    Done(TokenSet),
}

/// What the browser is sent to for authorization code + PKCE, and what the redirect
/// handler needs to finish.
#[derive(Debug, Clone)]
pub struct PkceRequest {
    /// The full `authorize` URL.
    pub url: String,
    /// Compare with the `state` on the redirect (CSRF).
    pub state: String,
    /// Send with the code in [`OAuthClient::exchange_code`].
    pub verifier: SecretString,
    /// OpenID Connect `nonce`: the `id_token` of the redemption must carry it.
    pub nonce: String,
}

/// Client of one authority + tenant + app registration.
#[derive(Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    authority: String,
    tenant: String,
    client_id: String,
    client_secret: Option<SecretString>,
    scopes: Vec<String>,
    graph_root: String,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("authority", &self.authority)
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[REDACTED]"),
            )
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl OAuthClient {
    /// A public client (no secret) with the default delegated scopes for `graph_root`.
    pub fn new(
        authority: &str,
        tenant: &str,
        client_id: &str,
        graph_root: &str,
    ) -> Result<Self, GraphError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("cardbridge/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| GraphError::Transport(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            http,
            authority: authority.trim_end_matches('/').to_owned(),
            tenant: tenant.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: None,
            scopes: default_scopes(graph_root),
            graph_root: graph_root.trim_end_matches('/').to_owned(),
        })
    }

    /// Add a client secret (confidential client; required for client credentials).
    pub fn with_secret(mut self, secret: SecretString) -> Self {
        self.client_secret = Some(secret);
        self
    }

    /// Replace the delegated scopes.
    pub fn with_scopes(mut self, scopes: Vec<String>) -> Self {
        if !scopes.is_empty() {
            self.scopes = scopes;
        }
        self
    }

    /// The delegated scopes requested.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The application (client) id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    fn endpoint(&self, name: &str) -> String {
        format!(
            "{}/{}/oauth2/v2.0/{name}",
            self.authority,
            super::paths::segment(&self.tenant)
        )
    }

    fn scope_param(&self) -> String {
        self.scopes.join(" ")
    }

    /// Start a device-code sign-in (§11.1).
    pub async fn start_device_code(&self) -> Result<DeviceCode, GraphError> {
        let form = [
            ("client_id", self.client_id.as_str()),
            ("scope", &self.scope_param()),
        ];
        let resp = self
            .http
            .post(self.endpoint("devicecode"))
            .form(&form)
            .send()
            .await
            .map_err(|e| GraphError::Transport(format!("device code request: {e}")))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|e| GraphError::Transport(format!("device code response: {e}")))?;
        if !status.is_success() {
            return Err(token_error(status.as_u16(), &body));
        }
        let r: DeviceCodeResponse = serde_json::from_slice(&body)
            .map_err(|e| GraphError::Decode(format!("device code response: {e}")))?;
        Ok(DeviceCode {
            user_code: r.user_code,
            device_code: r.device_code,
            verification_uri: r.verification_uri,
            message: r.message,
            expires_in: Duration::from_secs(json_u64(r.expires_in.as_ref()).unwrap_or(900)),
            interval: Duration::from_secs(json_u64(r.interval.as_ref()).unwrap_or(5)),
        })
    }

    /// Poll once for a device code's token.
    pub async fn poll_device_code_once(&self, dc: &DeviceCode) -> Result<DevicePoll, GraphError> {
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("client_id", self.client_id.as_str()),
            ("device_code", dc.device_code.expose_secret()),
        ];
        match self.token_request(&form).await {
            Ok(t) => Ok(DevicePoll::Done(t)),
            Err(TokenFailure::Code(code, _)) if code == "authorization_pending" => {
                Ok(DevicePoll::Pending)
            }
            Err(TokenFailure::Code(code, _)) if code == "slow_down" => Ok(DevicePoll::SlowDown),
            Err(f) => Err(f.into_error()),
        }
    }

    /// Poll until the person approves, declines or the code expires. Sleeps `interval`
    /// before each poll; `slow_down` adds 5 s.
    pub async fn poll_device_code(&self, dc: &DeviceCode) -> Result<TokenSet, GraphError> {
        let deadline = tokio::time::Instant::now() + dc.expires_in;
        let mut interval = dc.interval;
        loop {
            tokio::time::sleep(interval).await;
            if tokio::time::Instant::now() >= deadline {
                return Err(GraphError::SignInRequired {
                    reason: "the device code expired before sign-in finished".into(),
                });
            }
            match self.poll_device_code_once(dc).await? {
                DevicePoll::Done(t) => return Ok(t),
                DevicePoll::Pending => {}
                DevicePoll::SlowDown => interval += Duration::from_secs(5),
            }
        }
    }

    /// Build the authorization-code + PKCE URL for a browser (§11.2).
    pub fn authorize_url(&self, redirect_uri: &str) -> PkceRequest {
        let verifier = BASE64_URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
        let challenge = BASE64_URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let state = BASE64_URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
        let nonce = BASE64_URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
        let q = super::paths::query_value;
        let url = format!(
            "{}?client_id={}&response_type=code&redirect_uri={}&response_mode=query&scope={}&state={}&nonce={}&code_challenge={}&code_challenge_method=S256",
            self.endpoint("authorize"),
            q(&self.client_id),
            q(redirect_uri),
            q(&self.scope_param()),
            q(&state),
            q(&nonce),
            q(&challenge),
        );
        PkceRequest {
            url,
            state,
            verifier: SecretString::from(verifier),
            nonce,
        }
    }

    /// Redeem an authorization code with its PKCE verifier.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        verifier: &SecretString,
    ) -> Result<TokenSet, GraphError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", self.client_id.as_str()),
            ("scope", &self.scope_param()),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.expose_secret()),
        ];
        self.token_request(&form)
            .await
            .map_err(TokenFailure::into_error)
    }

    /// Exchange a refresh token for new tokens (the refresh token rotates).
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, GraphError> {
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("scope", &self.scope_param()),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        self.token_request(&form)
            .await
            .map_err(TokenFailure::into_error)
    }

    /// App-only token with the client secret (§11.3).
    pub async fn client_credentials(&self) -> Result<TokenSet, GraphError> {
        if self.client_secret.is_none() {
            return Err(GraphError::BadRequest {
                code: "invalid_client".into(),
                message: "client credentials need graph.client_secret".into(),
            });
        }
        let scope = format!("{}/.default", self.graph_root);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.client_id.as_str()),
            ("scope", &scope),
        ];
        self.token_request(&form)
            .await
            .map_err(TokenFailure::into_error)
    }

    async fn token_request(&self, form: &[(&str, &str)]) -> Result<TokenSet, TokenFailure> {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        if let Some(secret) = &self.client_secret {
            fields.push(("client_secret", secret.expose_secret()));
        }
        let resp = self
            .http
            .post(self.endpoint("token"))
            .form(&fields)
            .send()
            .await
            .map_err(|e| {
                TokenFailure::Error(GraphError::Transport(format!("token request: {e}")))
            })?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(|e| {
            TokenFailure::Error(GraphError::Transport(format!("token response: {e}")))
        })?;
        if !(200..300).contains(&status) {
            if let Ok(e) = serde_json::from_slice::<TokenErrorBody>(&body)
                && !e.error.is_empty()
            {
                return Err(TokenFailure::Code(
                    e.error,
                    e.error_description.unwrap_or_default(),
                ));
            }
            return Err(TokenFailure::Error(token_error(status, &body)));
        }
        let r: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| TokenFailure::Error(GraphError::Decode(format!("token response: {e}"))))?;
        let secs = json_u64(r.expires_in.as_ref()).unwrap_or(3599);
        tracing::debug!(
            expires_in = secs,
            rotated = r.refresh_token.is_some(),
            "token issued"
        );
        Ok(TokenSet {
            access_token: r.access_token,
            refresh_token: r.refresh_token,
            expires_at: chrono::Utc::now()
                + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(3599)),
            scope: r.scope,
            identity: r
                .id_token
                .as_ref()
                .and_then(|t| IdClaims::from_jwt(t.expose_secret())),
        })
    }
}

/// A failed token request: an OAuth error code or a transport-level error.
enum TokenFailure {
    Code(String, String),
    Error(GraphError),
}

impl TokenFailure {
    fn into_error(self) -> GraphError {
        match self {
            TokenFailure::Error(e) => e,
            TokenFailure::Code(code, description) => oauth_error(&code, &description),
        }
    }
}

/// The first line of an AADSTS description (the rest is trace ids and timestamps).
fn short(description: &str) -> &str {
    description.lines().next().unwrap_or("").trim()
}

/// Classify an OAuth `error` code (§11.1, §11.4).
pub fn oauth_error(code: &str, description: &str) -> GraphError {
    match code {
        "invalid_grant"
        | "interaction_required"
        | "consent_required"
        | "login_required"
        | "expired_token"
        | "authorization_declined"
        | "access_denied"
        | "bad_verification_code" => GraphError::SignInRequired {
            reason: format!("{code}: {}", short(description)),
        },
        "temporarily_unavailable" => GraphError::Throttled { retry_after: None },
        _ => GraphError::BadRequest {
            code: code.to_owned(),
            message: short(description).to_owned(),
        },
    }
}

/// Classify a token endpoint response that is not an OAuth error body.
fn token_error(status: u16, body: &[u8]) -> GraphError {
    if let Ok(e) = serde_json::from_slice::<TokenErrorBody>(body)
        && !e.error.is_empty()
    {
        return oauth_error(&e.error, e.error_description.as_deref().unwrap_or(""));
    }
    match status {
        429 | 503 | 504 => GraphError::Throttled { retry_after: None },
        _ => GraphError::Other {
            status,
            code: String::new(),
            message: "unexpected answer from the identity platform".into(),
        },
    }
}

/// `expires_in` / `interval` arrive as numbers, and from older endpoints as strings.
fn json_u64(v: Option<&serde_json::Value>) -> Option<u64> {
    match v? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> OAuthClient {
        let _ = rustls::crypto::ring::default_provider().install_default();
        OAuthClient::new(
            "https://login.example/",
            "common",
            "app-1",
            "https://graph.example",
        )
        .unwrap()
    }

    #[test]
    fn id_token_claims_are_read_from_the_payload_and_garbage_gives_none() {
        let payload = BASE64_URL_SAFE_NO_PAD
            .encode(r#"{"tid":"t-1","oid":"o-1","preferred_username":"a@b.example","aud":"x"}"#);
        let claims = IdClaims::from_jwt(&format!("eyJhbGciOiJub25lIn0.{payload}.")).unwrap();
        assert_eq!(claims.tid.as_deref(), Some("t-1"));
        assert_eq!(claims.oid.as_deref(), Some("o-1"));
        assert_eq!(claims.preferred_username.as_deref(), Some("a@b.example"));
        assert_eq!(IdClaims::from_jwt("not a jwt"), None);
        assert_eq!(IdClaims::from_jwt("a.!!!.c"), None);
    }

    #[test]
    fn pkce_url_carries_s256_challenge_of_the_verifier_and_state() {
        let c = client();
        let p = c.authorize_url("http://localhost:8765/callback");
        assert!(
            p.url
                .starts_with("https://login.example/common/oauth2/v2.0/authorize?")
        );
        let url = url::Url::parse(&p.url).unwrap();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["state"], p.state);
        assert_eq!(q["redirect_uri"], "http://localhost:8765/callback");
        assert_eq!(
            q["scope"],
            "offline_access https://graph.example/Contacts.ReadWrite User.Read"
        );
        let expected =
            BASE64_URL_SAFE_NO_PAD.encode(Sha256::digest(p.verifier.expose_secret().as_bytes()));
        assert_eq!(q["code_challenge"], expected);
        assert_eq!(p.verifier.expose_secret().len(), 43);
        assert_ne!(c.authorize_url("x").state, p.state);
    }

    #[test]
    fn oauth_errors_are_classified() {
        assert!(matches!(
            oauth_error("invalid_grant", "AADSTS70008: expired or revoked.\r\nTrace ID: 1"),
            GraphError::SignInRequired { reason } if reason == "invalid_grant: AADSTS70008: expired or revoked."
        ));
        assert!(matches!(
            oauth_error("interaction_required", ""),
            GraphError::SignInRequired { .. }
        ));
        assert!(matches!(
            oauth_error("invalid_client", "bad secret"),
            GraphError::BadRequest { .. }
        ));
    }

    #[test]
    fn debug_redacts_the_secret() {
        let c = client().with_secret(SecretString::from("hunter2"));
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
