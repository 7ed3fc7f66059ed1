//! The per-request pipeline (RFC 9110 semantics, RFC 7617 authentication):
//!
//! 1. the server's own endpoints: `/healthz`, `/readyz`, `/metrics`;
//! 2. authentication: Basic credentials checked against [`UserStore`] behind the
//!    failed-login throttle; 401 + `WWW-Authenticate` when missing or wrong, unless the
//!    DAV layer says the request needs none (OPTIONS, `/.well-known/carddav`);
//! 3. the per-user request rate;
//! 4. the body, collected up to `max_body_bytes` (413 beyond, 408 when too slow);
//! 5. `DavService::handle` with the authenticated user, bounded by the request timeout
//!    (503 + Retry-After when it runs out);
//! 6. HSTS on TLS, metrics, and one access-log line (method, path, status, duration,
//!    user, peer; never the `Authorization` header or the query string).

use super::basic::{challenge, parse_basic};
use super::health::Readiness;
use super::limits::{FailedLogins, RequestRate, retry_after_secs};
use super::metrics::Metrics;
use super::options::ServerOptions;
use super::service::DavService;
use super::users::{UserStore, canonical_name};
use crate::dav::DavBody;
use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `Retry-After` when a request ran out of time in the DAV layer.
const TIMEOUT_RETRY_AFTER: u64 = 5;

/// Everything a request needs, shared by all connections.
pub(crate) struct App {
    pub users: UserStore,
    pub dav: Arc<dyn DavService>,
    pub readiness: Readiness,
    pub metrics: Metrics,
    pub failed: FailedLogins,
    pub rate: RequestRate,
    pub challenge: HeaderValue,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub tls: bool,
}

impl App {
    pub fn new(
        options: &ServerOptions,
        users: UserStore,
        dav: Arc<dyn DavService>,
        readiness: Readiness,
    ) -> Self {
        Self {
            users,
            dav,
            readiness,
            metrics: options.metrics.clone(),
            failed: FailedLogins::new(options.max_failed_logins, options.failed_login_window),
            rate: RequestRate::new(options.user_requests_per_sec, options.user_request_burst),
            challenge: challenge(&options.realm),
            max_body_bytes: options.max_body_bytes,
            request_timeout: options.request_timeout,
            tls: options.tls.is_some(),
        }
    }
}

/// A boxed body holding `bytes`.
pub(crate) fn full(bytes: impl Into<Bytes>) -> DavBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

fn plain(status: StatusCode, text: &'static str) -> Response<DavBody> {
    let mut r = Response::new(full(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn unavailable(text: &'static str, retry_after: u64) -> Response<DavBody> {
    let mut r = plain(StatusCode::SERVICE_UNAVAILABLE, text);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    r
}

/// Why a request did not reach the DAV layer as an authenticated user.
enum AuthOutcome {
    /// Authenticated as this canonical user.
    User(String),
    /// No credentials, and none needed.
    Anonymous,
    /// Answer this instead.
    Reject(Response<DavBody>),
}

impl App {
    fn unauthorized(&self) -> Response<DavBody> {
        let mut r = plain(StatusCode::UNAUTHORIZED, "authentication required\n");
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, self.challenge.clone());
        r
    }

    fn throttled(&self, wait: Duration) -> Response<DavBody> {
        self.metrics.auth_throttled();
        unavailable(
            "too many failed logins; try again later\n",
            retry_after_secs(wait),
        )
    }

    async fn authenticate(&self, parts: &http::request::Parts, peer: SocketAddr) -> AuthOutcome {
        let header = parts.headers.get(header::AUTHORIZATION);
        let creds = header.and_then(parse_basic);
        let Some(creds) = creds else {
            // No (usable) credentials: the first request of Thunderbird and Apple.
            return if self.dav.needs_auth(parts) {
                AuthOutcome::Reject(self.unauthorized())
            } else {
                AuthOutcome::Anonymous
            };
        };
        let now = Instant::now();
        if let Some(wait) = self.failed.addr_blocked(peer.ip(), now) {
            return AuthOutcome::Reject(self.throttled(wait));
        }
        let password = creds.password.expose_secret();
        if let Some(user) = self.users.verify_cached(&creds.user, password) {
            return AuthOutcome::User(user);
        }
        // The throttle key of a name that cannot be a user is still bounded in size.
        let key = canonical_name(&creds.user).unwrap_or_else(|| {
            creds
                .user
                .chars()
                .take(64)
                .collect::<String>()
                .to_lowercase()
        });
        if let Some(wait) = self.failed.user_blocked(&key, now) {
            return AuthOutcome::Reject(self.throttled(wait));
        }
        match self.users.authenticate(&creds.user, password).await {
            Some(user) => AuthOutcome::User(user),
            None => {
                self.failed.record_failure(&key, peer.ip(), Instant::now());
                self.metrics.auth_failed();
                // Name the user only when it exists: a mistyped "user name" may well be
                // a password.
                match self.users.exists(&creds.user) {
                    Ok(true) => {
                        tracing::warn!(user = %key, peer = %peer.ip(), "failed login: wrong password")
                    }
                    _ => tracing::warn!(peer = %peer.ip(), "failed login: unknown user"),
                }
                AuthOutcome::Reject(self.unauthorized())
            }
        }
    }

    fn own_endpoint(&self, req: &Request<Incoming>) -> Option<Response<DavBody>> {
        let get = matches!(*req.method(), Method::GET | Method::HEAD);
        match req.uri().path() {
            "/healthz" if get => Some(plain(StatusCode::OK, "ok\n")),
            "/readyz" if get => Some(if self.readiness.is_ready() {
                plain(StatusCode::OK, "ready\n")
            } else {
                plain(StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
            }),
            "/metrics" if get => {
                let mut r = Response::new(full(self.metrics.render()));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                Some(r)
            }
            _ => None,
        }
    }

    /// Answer one request; never fails (errors are responses).
    pub async fn serve(&self, peer: SocketAddr, req: Request<Incoming>) -> Response<DavBody> {
        let started = Instant::now();
        let _in_flight = self.metrics.request_started();
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        let version = req.version();
        let (mut response, user) = match self.own_endpoint(&req) {
            Some(r) => (r, None),
            None => self.serve_dav(peer, req, started).await,
        };
        if self.tls {
            response.headers_mut().insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            );
        }
        let elapsed = started.elapsed();
        let status = response.status().as_u16();
        self.metrics.request_finished(&method, status, elapsed);
        tracing::info!(
            target: "cardbridge::access",
            method = %method,
            path = %path,
            status,
            // Milliseconds to the microsecond: `ms=16.085`, not `ms=16.084795999999997`.
            ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3,
            user = user.as_deref().unwrap_or("-"),
            peer = %peer.ip(),
            version = ?version,
        );
        response
    }

    async fn serve_dav(
        &self,
        peer: SocketAddr,
        req: Request<Incoming>,
        started: Instant,
    ) -> (Response<DavBody>, Option<String>) {
        let deadline = tokio::time::Instant::from_std(started + self.request_timeout);
        let (parts, body) = req.into_parts();
        // Waiting for an Argon2 slot counts against the request's time too.
        let outcome = tokio::time::timeout_at(deadline, self.authenticate(&parts, peer)).await;
        let user = match outcome {
            Ok(AuthOutcome::User(u)) => Some(u),
            Ok(AuthOutcome::Anonymous) => None,
            Ok(AuthOutcome::Reject(r)) => return (r, None),
            Err(_) => {
                let r = unavailable("server busy; try again\n", TIMEOUT_RETRY_AFTER);
                return (r, None);
            }
        };
        if let Some(u) = &user
            && let Err(wait) = self.rate.check(u, Instant::now())
        {
            self.metrics.rate_limited();
            let r = unavailable(
                "request rate limit reached; slow down\n",
                retry_after_secs(wait),
            );
            return (r, user);
        }
        let declared = parts
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body_bytes as u64) {
            return (too_large(parts.version), user);
        }
        let collected =
            tokio::time::timeout_at(deadline, Limited::new(body, self.max_body_bytes).collect())
                .await;
        let bytes = match collected {
            Err(_) => {
                let r = plain(StatusCode::REQUEST_TIMEOUT, "request body too slow\n");
                return (r, user);
            }
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
                return (too_large(parts.version), user);
            }
            Ok(Err(e)) => {
                tracing::debug!(peer = %peer.ip(), "request body failed: {e}");
                return (
                    plain(StatusCode::BAD_REQUEST, "unreadable request body\n"),
                    user,
                );
            }
            Ok(Ok(c)) => c.to_bytes(),
        };
        let gzip = super::compress::accepts_gzip(&parts.headers);
        let mut request = Request::from_parts(parts, bytes);
        request
            .extensions_mut()
            .insert(super::ClientAddr(super::limits::addr_key(peer.ip())));
        let answer = self.dav.handle(user.clone(), request);
        match tokio::time::timeout_at(deadline, answer).await {
            Ok(r) => (super::compress::maybe_gzip(gzip, r), user),
            Err(_) => {
                tracing::warn!(
                    user = user.as_deref().unwrap_or("-"),
                    "request timed out in the DAV layer"
                );
                let r = unavailable("request took too long; try again\n", TIMEOUT_RETRY_AFTER);
                (r, user)
            }
        }
    }
}

fn too_large(version: http::Version) -> Response<DavBody> {
    let mut r = plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n");
    // HTTP/1: the unread rest of the body would otherwise have to be drained.
    if version < http::Version::HTTP_2 {
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}
