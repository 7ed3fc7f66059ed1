//! Identity-platform endpoints and bearer tokens (reference/graph.md §11).
//!
//! Served under any `{base}/{tenant}/oauth2/v2.0/`: `devicecode`, `token` (grants
//! `device_code`, `authorization_code` with PKCE S256 / plain, `refresh_token` with
//! rotation, `client_credentials`) and `authorize` (auto-approving redirect, or a trivial
//! HTML form). Errors use the AADSTS shape `{error, error_description, error_codes,
//! timestamp, trace_id, correlation_id, error_uri}`. Access and refresh tokens are opaque
//! random strings held in memory; a delegated grant also returns an unsigned `id_token`
//! with the `oid`, `aud`, `tid` ([`super::TENANT_ID`]) and `nonce` (from `authorize`)
//! claims. Revoking a user drops
//! both tokens, so the next Graph call is 401 and the next refresh `invalid_grant`
//! (AADSTS70008).

use super::errors::GraphErr;
use super::graph::Principal;
use super::ids::random_token;
use super::request::Reply;
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(900);
const AUTH_CODE_LIFETIME: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
struct AccessToken {
    user: Option<String>,
    client_id: String,
    expires: Instant,
}

#[derive(Debug, Clone)]
struct RefreshToken {
    user: String,
    client_id: String,
    scope: String,
}

#[derive(Debug, Clone)]
struct DeviceCode {
    user_code: String,
    client_id: String,
    scope: String,
    expires: Instant,
    approved: Option<String>,
    declined: bool,
    last_poll: Option<Instant>,
}

#[derive(Debug, Clone)]
struct AuthCode {
    user: String,
    client_id: String,
    redirect_uri: String,
    challenge: Option<(String, String)>,
    scope: String,
    /// OpenID Connect `nonce` of the authorize request, echoed in the `id_token`.
    nonce: Option<String>,
    expires: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    access: HashMap<String, AccessToken>,
    refresh: HashMap<String, RefreshToken>,
    device: HashMap<String, DeviceCode>,
    codes: HashMap<String, AuthCode>,
}

/// Token store and OAuth settings.
#[derive(Debug)]
pub struct OAuth {
    inner: Mutex<Inner>,
    pub access_lifetime: Duration,
    pub device_interval: u64,
    pub device_lifetime: Mutex<Duration>,
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An OAuth error response (HTTP 400 unless said otherwise).
fn oauth_error(status: u16, error: &str, aadsts: u32, text: &str) -> Reply {
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    let trace = random_token("", 12);
    Reply::json(
        status,
        json!({
            "error": error,
            "error_description": format!("AADSTS{aadsts}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {trace}\r\nTimestamp: {now}"),
            "error_codes": [aadsts],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": trace,
            "error_uri": format!("https://login.microsoftonline.com/error?code={aadsts}"),
        }),
    )
}

/// What the OAuth handlers need from the rest of the emulator.
pub struct Env<'a> {
    pub origin: &'a str,
    pub auto_approve: bool,
    pub default_user: &'a str,
    /// Resolve a login hint (id or UPN) to a user id.
    pub resolve_user: &'a dyn Fn(&str) -> Option<String>,
}

impl OAuth {
    pub fn new(access_lifetime: Duration, device_interval: u64) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            access_lifetime,
            device_interval,
            device_lifetime: Mutex::new(DEVICE_CODE_LIFETIME),
        }
    }

    /// Mint an access token (`user = None` for app-only).
    pub fn mint_access(&self, user: Option<&str>, client_id: &str) -> String {
        let token = random_token("EwB", 48);
        lock(&self.inner).access.insert(
            token.clone(),
            AccessToken {
                user: user.map(str::to_owned),
                client_id: client_id.to_owned(),
                expires: Instant::now() + self.access_lifetime,
            },
        );
        token
    }

    fn mint_refresh(&self, user: &str, client_id: &str, scope: &str) -> String {
        let token = random_token("M.R3_", 64);
        lock(&self.inner).refresh.insert(
            token.clone(),
            RefreshToken {
                user: user.to_owned(),
                client_id: client_id.to_owned(),
                scope: scope.to_owned(),
            },
        );
        token
    }

    /// Check an `Authorization` header (§10 #9).
    pub fn authenticate(&self, header: Option<&str>) -> Result<Principal, GraphErr> {
        let token = header
            .and_then(|h| {
                let (scheme, rest) = h.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Err(GraphErr::unauthenticated("Access token is empty."));
        };
        let inner = lock(&self.inner);
        let Some(t) = inner.access.get(token) else {
            return Err(GraphErr::unauthenticated(
                "CompactToken parsing failed with error code: 80049217",
            ));
        };
        if Instant::now() >= t.expires {
            return Err(GraphErr::unauthenticated(
                "Access token has expired or is not yet valid.",
            ));
        }
        Ok(Principal {
            user: t.user.clone(),
            client_id: t.client_id.clone(),
        })
    }

    /// Drop every access and refresh token of `user` (consent revoked).
    pub fn revoke(&self, user: &str) {
        let mut inner = lock(&self.inner);
        inner.access.retain(|_, t| t.user.as_deref() != Some(user));
        inner.refresh.retain(|_, t| t.user != user);
    }

    /// Approve a pending device code for `user`; false when no such code is pending.
    pub fn approve_device(&self, user_code: &str, user: &str) -> bool {
        let mut inner = lock(&self.inner);
        let wanted = user_code.trim().to_ascii_uppercase().replace('-', "");
        match inner
            .device
            .values_mut()
            .find(|d| d.user_code == wanted && d.expires > Instant::now())
        {
            Some(d) => {
                d.approved = Some(user.to_owned());
                true
            }
            None => false,
        }
    }

    /// Decline a pending device code (`authorization_declined`).
    pub fn decline_device(&self, user_code: &str) -> bool {
        let mut inner = lock(&self.inner);
        let wanted = user_code.trim().to_ascii_uppercase();
        match inner.device.values_mut().find(|d| d.user_code == wanted) {
            Some(d) => {
                d.declined = true;
                true
            }
            None => false,
        }
    }

    /// Make every outstanding device code expire now (tests of `expired_token`).
    pub fn expire_device_codes(&self) {
        let mut inner = lock(&self.inner);
        let past = Instant::now();
        for d in inner.device.values_mut() {
            d.expires = past;
        }
    }

    fn token_response(
        &self,
        user: Option<&str>,
        client_id: &str,
        scope: &str,
        nonce: Option<&str>,
    ) -> Reply {
        let access = self.mint_access(user, client_id);
        let secs = self.access_lifetime.as_secs();
        let mut body = json!({
            "token_type": "Bearer",
            "scope": if scope.is_empty() { "Contacts.ReadWrite User.Read" } else { scope },
            "expires_in": secs,
            "ext_expires_in": secs,
            "access_token": access,
        });
        if let Some(u) = user {
            body["refresh_token"] = json!(self.mint_refresh(u, client_id, scope));
            let mut claims = json!({"oid": u, "aud": client_id, "tid": super::TENANT_ID});
            if let Some(n) = nonce {
                claims["nonce"] = json!(n);
            }
            let claims =
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
            body["id_token"] = json!(format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.{claims}."));
        }
        Reply::json(200, body)
    }

    /// Route `…/oauth2/v2.0/{op}`.
    pub fn handle(
        &self,
        env: &Env<'_>,
        method: &http::Method,
        op: &str,
        query: &str,
        path: &str,
        body: &[u8],
    ) -> Reply {
        let form: HashMap<String, String> =
            url::form_urlencoded::parse(body).into_owned().collect();
        match (method.as_str(), op.to_ascii_lowercase().as_str()) {
            ("POST", "devicecode") => self.devicecode(env, &form, path),
            ("POST", "token") => self.token(env, &form),
            ("GET", "authorize") => {
                let q: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
                    .into_owned()
                    .collect();
                self.authorize(env, &q, path, false)
            }
            ("POST", "authorize") => self.authorize(env, &form, path, true),
            _ => oauth_error(
                404,
                "invalid_request",
                900561,
                "The endpoint only accepts POST requests (or GET for authorize).",
            ),
        }
    }

    fn devicecode(&self, env: &Env<'_>, form: &HashMap<String, String>, path: &str) -> Reply {
        let Some(client_id) = form.get("client_id").filter(|c| !c.is_empty()) else {
            return oauth_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            );
        };
        let device_code = random_token("DAQABAAEAAAD--DLA3VO7", 48);
        let user_code: String = (0..8)
            .map(|_| char::from(b'A' + (rand::random::<u8>() % 26)))
            .collect();
        let lifetime = *self
            .device_lifetime
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let approved = env.auto_approve.then(|| env.default_user.to_owned());
        lock(&self.inner).device.insert(
            device_code.clone(),
            DeviceCode {
                user_code: user_code.clone(),
                client_id: client_id.clone(),
                scope: form.get("scope").cloned().unwrap_or_default(),
                expires: Instant::now() + lifetime,
                approved,
                declined: false,
                last_poll: None,
            },
        );
        let tenant_base = path
            .rsplit_once("/oauth2/")
            .map(|(t, _)| t)
            .unwrap_or("/common");
        let uri = format!("{}{tenant_base}/oauth2/v2.0/devicelogin", env.origin);
        Reply::json(
            200,
            json!({
                "user_code": user_code,
                "device_code": device_code,
                "verification_uri": uri,
                "expires_in": lifetime.as_secs(),
                "interval": self.device_interval,
                "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
            }),
        )
    }

    fn token(&self, env: &Env<'_>, form: &HashMap<String, String>) -> Reply {
        let client_id = form.get("client_id").cloned().unwrap_or_default();
        if client_id.is_empty() {
            return oauth_error(
                400,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            );
        }
        let scope = form.get("scope").cloned().unwrap_or_default();
        match form.get("grant_type").map(String::as_str) {
            Some("urn:ietf:params:oauth:grant-type:device_code") => {
                self.device_grant(form, &client_id)
            }
            Some("authorization_code") => self.code_grant(form, &client_id),
            Some("refresh_token") => {
                let rt = form.get("refresh_token").cloned().unwrap_or_default();
                let found = lock(&self.inner).refresh.get(&rt).cloned();
                match found {
                    Some(t) if t.client_id == client_id => {
                        let s = if scope.is_empty() { t.scope } else { scope };
                        self.token_response(Some(&t.user), &client_id, &s, None)
                    }
                    Some(_) => oauth_error(
                        400,
                        "invalid_grant",
                        700005,
                        "Provided Authorization Code is intended to use against other tenant or client.",
                    ),
                    None => oauth_error(
                        400,
                        "invalid_grant",
                        70008,
                        "The provided access grant is expired or revoked.",
                    ),
                }
            }
            Some("client_credentials") => {
                let has_secret = form.get("client_secret").is_some_and(|s| !s.is_empty())
                    || form.get("client_assertion").is_some_and(|s| !s.is_empty());
                if !has_secret {
                    return oauth_error(
                        401,
                        "invalid_client",
                        7000218,
                        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
                    );
                }
                if !scope.ends_with("/.default") {
                    return oauth_error(
                        400,
                        "invalid_scope",
                        1002012,
                        "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
                    );
                }
                let _ = env;
                self.token_response(None, &client_id, &scope, None)
            }
            _ => oauth_error(
                400,
                "unsupported_grant_type",
                70003,
                "The app requested an unsupported grant type.",
            ),
        }
    }

    fn device_grant(&self, form: &HashMap<String, String>, client_id: &str) -> Reply {
        let code = form.get("device_code").cloned().unwrap_or_default();
        let now = Instant::now();
        let interval = Duration::from_secs(self.device_interval);
        let outcome = {
            let mut inner = lock(&self.inner);
            match inner.device.get_mut(&code) {
                None => Err(oauth_error(
                    400,
                    "bad_verification_code",
                    70018,
                    "The provided value for the input parameter 'device_code' is not valid.",
                )),
                Some(d) if d.client_id != client_id => Err(oauth_error(
                    400,
                    "invalid_grant",
                    70000,
                    "The provided value for the 'device_code' was issued to another client.",
                )),
                Some(d) if now >= d.expires => {
                    inner.device.remove(&code);
                    Err(oauth_error(
                        400,
                        "expired_token",
                        70019,
                        "Verification code expired.",
                    ))
                }
                Some(d) if d.declined => {
                    inner.device.remove(&code);
                    Err(oauth_error(
                        400,
                        "authorization_declined",
                        70020,
                        "The user declined the authorization request.",
                    ))
                }
                Some(d) => match d.approved.clone() {
                    Some(user) => {
                        let scope = d.scope.clone();
                        inner.device.remove(&code);
                        Ok((user, scope))
                    }
                    None => {
                        let too_fast = d
                            .last_poll
                            .is_some_and(|t| now.duration_since(t) < interval / 2);
                        d.last_poll = Some(now);
                        if too_fast {
                            Err(oauth_error(
                                400,
                                "slow_down",
                                70016,
                                "The client is polling too quickly; increase the interval by 5 seconds.",
                            ))
                        } else {
                            Err(oauth_error(
                                400,
                                "authorization_pending",
                                70016,
                                "The provided request has not yet been authorized by the user. The user must input their code.",
                            ))
                        }
                    }
                },
            }
        };
        match outcome {
            Ok((user, scope)) => self.token_response(Some(&user), client_id, &scope, None),
            Err(r) => r,
        }
    }

    fn code_grant(&self, form: &HashMap<String, String>, client_id: &str) -> Reply {
        let code = form.get("code").cloned().unwrap_or_default();
        let Some(c) = lock(&self.inner).codes.remove(&code) else {
            return oauth_error(
                400,
                "invalid_grant",
                70008,
                "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
            );
        };
        if Instant::now() >= c.expires || c.client_id != client_id {
            return oauth_error(
                400,
                "invalid_grant",
                70008,
                "The provided authorization code is expired or was issued to another client.",
            );
        }
        if form.get("redirect_uri").map(String::as_str) != Some(c.redirect_uri.as_str()) {
            return oauth_error(
                400,
                "invalid_grant",
                50011,
                "The redirect URI specified in the request does not match the redirect URIs configured for the application.",
            );
        }
        if let Some((challenge, method)) = &c.challenge {
            let Some(verifier) = form.get("code_verifier") else {
                return oauth_error(
                    400,
                    "invalid_request",
                    50148,
                    "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
                );
            };
            let computed = if method.eq_ignore_ascii_case("S256") {
                use sha2::Digest;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(sha2::Sha256::digest(verifier.as_bytes()))
            } else {
                verifier.clone()
            };
            if &computed != challenge {
                return oauth_error(
                    400,
                    "invalid_grant",
                    501481,
                    "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
                );
            }
        }
        self.token_response(Some(&c.user), client_id, &c.scope, c.nonce.as_deref())
    }

    fn authorize(
        &self,
        env: &Env<'_>,
        p: &HashMap<String, String>,
        path: &str,
        submitted: bool,
    ) -> Reply {
        let redirect = p.get("redirect_uri").cloned().unwrap_or_default();
        let client_id = p.get("client_id").cloned().unwrap_or_default();
        if redirect.is_empty() || client_id.is_empty() {
            return Reply::html(
                400,
                "<p>AADSTS900144: The request must contain 'client_id' and 'redirect_uri'.</p>"
                    .into(),
            );
        }
        let state = p.get("state").cloned();
        let sep = if redirect.contains('?') { '&' } else { '?' };
        let with_state = |mut s: String| {
            if let Some(st) = &state {
                s.push_str("&state=");
                s.push_str(
                    &url::form_urlencoded::byte_serialize(st.as_bytes()).collect::<String>(),
                );
            }
            s
        };
        if p.get("response_type").map(String::as_str) != Some("code") {
            return Reply::redirect(&with_state(format!(
                "{redirect}{sep}error=unsupported_response_type&error_description=AADSTS70005"
            )));
        }
        if submitted && p.get("decision").map(String::as_str) == Some("deny") {
            return Reply::redirect(&with_state(format!(
                "{redirect}{sep}error=access_denied&error_description=AADSTS65004%3A+User+declined+to+consent"
            )));
        }
        if !submitted && !env.auto_approve {
            return Reply::html(200, authorize_form(path, p));
        }
        let hint = p
            .get("login")
            .or_else(|| p.get("login_hint"))
            .filter(|s| !s.is_empty());
        let user = match hint {
            Some(h) => match (env.resolve_user)(h) {
                Some(u) => u,
                None => {
                    return Reply::redirect(&with_state(format!(
                        "{redirect}{sep}error=access_denied&error_description=AADSTS50034%3A+unknown+user"
                    )));
                }
            },
            None => env.default_user.to_owned(),
        };
        let challenge = p.get("code_challenge").filter(|c| !c.is_empty()).map(|c| {
            (
                c.clone(),
                p.get("code_challenge_method")
                    .cloned()
                    .unwrap_or_else(|| "plain".into()),
            )
        });
        let code = random_token("M.C5_", 32);
        lock(&self.inner).codes.insert(
            code.clone(),
            AuthCode {
                user,
                client_id,
                redirect_uri: redirect.clone(),
                challenge,
                scope: p.get("scope").cloned().unwrap_or_default(),
                nonce: p.get("nonce").filter(|n| !n.is_empty()).cloned(),
                expires: Instant::now() + AUTH_CODE_LIFETIME,
            },
        );
        Reply::redirect(&with_state(format!("{redirect}{sep}code={code}")))
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn authorize_form(path: &str, p: &HashMap<String, String>) -> String {
    let hidden: String = p
        .iter()
        .filter(|(k, _)| *k != "login" && *k != "decision")
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                html_escape(k),
                html_escape(v)
            )
        })
        .collect();
    let hint = p
        .get("login_hint")
        .map(|h| html_escape(h))
        .unwrap_or_default();
    format!(
        "<!doctype html><title>Sign in (Graph emulator)</title><h1>Sign in</h1>\
         <form method=\"post\" action=\"{}\">{hidden}\
         <label>Account <input name=\"login\" value=\"{hint}\"></label> \
         <button name=\"decision\" value=\"approve\">Accept</button> \
         <button name=\"decision\" value=\"deny\">Cancel</button></form>",
        html_escape(path)
    )
}

/// Parse a device-login page submission: `(user_code, login)`.
pub fn device_login_form(body: &[u8]) -> (String, String) {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    (
        form.get("user_code").cloned().unwrap_or_default(),
        form.get("login").cloned().unwrap_or_default(),
    )
}

/// The trivial device-login page.
pub fn device_login_page(message: &str) -> String {
    format!(
        "<!doctype html><title>Device login (Graph emulator)</title><h1>Enter code</h1><p>{}</p>\
         <form method=\"post\"><label>Code <input name=\"user_code\"></label> \
         <label>Account <input name=\"login\"></label> <button>Continue</button></form>",
        html_escape(message)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn env() -> Env<'static> {
        Env {
            origin: "http://h",
            auto_approve: false,
            default_user: "U1",
            resolve_user: &|s: &str| (s == "U1" || s == "demo@x").then(|| "U1".to_string()),
        }
    }

    fn post(o: &OAuth, op: &str, body: &str) -> Reply {
        o.handle(
            &env(),
            &http::Method::POST,
            op,
            "",
            "/common/oauth2/v2.0/x",
            body.as_bytes(),
        )
    }

    fn json_of(r: &Reply) -> Value {
        match &r.body {
            super::super::request::ReplyBody::Json(v) => v.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn device_code_pending_then_approved_then_refresh_rotates() {
        let o = OAuth::new(Duration::from_secs(60), 0);
        let r = json_of(&post(
            &o,
            "devicecode",
            "client_id=app&scope=Contacts.ReadWrite",
        ));
        let dc = r["device_code"].as_str().unwrap().to_owned();
        let form = format!(
            "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=app&device_code={dc}"
        );
        let pending = json_of(&post(&o, "token", &form));
        assert_eq!(pending["error"], "authorization_pending");
        assert_eq!(pending["error_codes"][0], 70016);
        assert!(o.approve_device(r["user_code"].as_str().unwrap(), "U1"));
        let tok = json_of(&post(&o, "token", &form));
        let rt = tok["refresh_token"].as_str().unwrap().to_owned();
        assert!(
            o.authenticate(Some(&format!(
                "Bearer {}",
                tok["access_token"].as_str().unwrap()
            )))
            .is_ok()
        );
        let rot = json_of(&post(
            &o,
            "token",
            &format!("grant_type=refresh_token&client_id=app&refresh_token={rt}"),
        ));
        assert_ne!(rot["refresh_token"], tok["refresh_token"]);
        o.revoke("U1");
        let err = json_of(&post(
            &o,
            "token",
            &format!("grant_type=refresh_token&client_id=app&refresh_token={rt}"),
        ));
        assert_eq!(err["error"], "invalid_grant");
    }

    #[test]
    fn polling_faster_than_half_the_interval_is_slow_down() {
        let o = OAuth::new(Duration::from_secs(60), 30);
        let r = json_of(&post(&o, "devicecode", "client_id=app"));
        let dc = r["device_code"].as_str().unwrap().to_owned();
        let form = format!(
            "grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=app&device_code={dc}"
        );
        assert_eq!(
            json_of(&post(&o, "token", &form))["error"],
            "authorization_pending"
        );
        assert_eq!(json_of(&post(&o, "token", &form))["error"], "slow_down");
        assert!(o.decline_device(r["user_code"].as_str().unwrap()));
        assert_eq!(
            json_of(&post(&o, "token", &form))["error"],
            "authorization_declined"
        );
        let other = json_of(&post(&o, "token", "grant_type=password&client_id=app"));
        assert_eq!(other["error"], "unsupported_grant_type");
    }

    #[test]
    fn unknown_and_missing_tokens_are_401() {
        let o = OAuth::new(Duration::from_secs(60), 5);
        assert_eq!(
            o.authenticate(None).unwrap_err().message,
            "Access token is empty."
        );
        assert_eq!(o.authenticate(Some("Bearer nope")).unwrap_err().status, 401);
        let t = o.mint_access(Some("U1"), "app");
        assert_eq!(
            o.authenticate(Some(&format!("bearer {t}")))
                .unwrap()
                .user
                .as_deref(),
            Some("U1")
        );
    }

    #[test]
    fn expired_access_token_is_rejected() {
        let o = OAuth::new(Duration::from_secs(0), 5);
        let t = o.mint_access(Some("U1"), "app");
        assert_eq!(
            o.authenticate(Some(&format!("Bearer {t}")))
                .unwrap_err()
                .message,
            "Access token has expired or is not yet valid."
        );
    }
}
