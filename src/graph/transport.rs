//! One Graph HTTP exchange, done the way Graph wants it (reference/graph.md §1.2, §7,
//! §10, §13.2 point 7).
//!
//! Every request: a bearer token from the [`TokenSource`], `Prefer: IdType="ImmutableId"`
//! (comma-joined with `odata.maxpagesize` when paging), a `client-request-id`, and a
//! permit from the mailbox's semaphore (4 in flight per mailbox; the permit is released
//! while waiting to retry).
//!
//! Retries:
//! - **401** once per call: the token is invalidated and a fresh one fetched (nothing
//!   was done, so this is safe for every method).
//! - **429** (the request was refused before it ran) for every request; **503 / 504 /
//!   500 / 502 and transport errors** (timeout, dropped connection) only for requests
//!   marked [`Retry::Idempotent`] (GET, PATCH, DELETE, PUT, read-only `$batch`). A
//!   create (`POST`) is never resent after its outcome became unknown: the caller gets
//!   [`GraphError::Transport`] and resolves it (the bridge looks the contact up by UID).
//! - The wait is `Retry-After` when given, otherwise exponential backoff from
//!   `initial_backoff`, plus a little jitter. Waits stop when their sum would pass
//!   `max_retry_wait` or after `max_attempts`; the last 429/503/504 then becomes
//!   [`GraphError::Throttled`] with the server's `Retry-After`.
//!
//! A retried request whose earlier attempt may have been applied is flagged
//! ([`Response::after_ambiguous`]), so that DELETE can read a 404 as "already done".
//! Log lines carry method, path, status, attempt and timing; never a token.

use super::envelope;
use super::error::GraphError;
use super::tokens::TokenSource;
use bytes::Bytes;
use dashmap::DashMap;
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

/// Client-wide settings.
#[derive(Debug, Clone)]
pub struct GraphClientOptions {
    /// Graph root without the version (`https://graph.microsoft.com`, or the emulator's
    /// `base_url()`); the client appends `/v1.0`.
    pub graph_root: String,
    /// Requests in flight per mailbox (Outlook allows 4, §7).
    pub max_concurrency_per_mailbox: usize,
    /// Deadline of one HTTP exchange (connect + response + body).
    pub request_timeout: Duration,
    /// Longest total time one call may spend waiting between retries.
    pub max_retry_wait: Duration,
    /// Sent as `User-Agent`.
    pub user_agent: String,
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// First backoff when the server gives no `Retry-After`; doubles per attempt.
    pub initial_backoff: Duration,
}

impl Default for GraphClientOptions {
    fn default() -> Self {
        Self {
            graph_root: "https://graph.microsoft.com".into(),
            max_concurrency_per_mailbox: 4,
            request_timeout: Duration::from_secs(30),
            max_retry_wait: Duration::from_secs(60),
            user_agent: concat!("cardbridge/", env!("CARGO_PKG_VERSION")).into(),
            max_attempts: 8,
            initial_backoff: Duration::from_millis(500),
        }
    }
}

/// Counters since the client was built (for `/metrics`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent to Graph (every attempt counts).
    pub requests: u64,
    /// Attempts that were repeats (after 401, throttling, 5xx, transport errors).
    pub retries: u64,
    /// 429 / 503 / 504 answers received (including per-item answers in `$batch`).
    pub throttled: u64,
    /// Total time spent waiting before retries, in milliseconds.
    pub throttled_wait_ms: u64,
    /// Calls that ended in an error.
    pub errors: u64,
    /// Answers received, by HTTP status (every attempt counts; `$batch` counts once).
    pub by_status: std::collections::BTreeMap<u16, u64>,
    /// Attempts that found no usable access token (the refresh or client-credentials
    /// grant failed: sign-in required, or the identity platform unreachable).
    pub token_failures: u64,
}

impl ClientStats {
    /// Add `other`'s counts (figures of several clients as one).
    pub fn add(&mut self, other: &ClientStats) {
        self.requests += other.requests;
        self.retries += other.retries;
        self.throttled += other.throttled;
        self.throttled_wait_ms += other.throttled_wait_ms;
        self.errors += other.errors;
        self.token_failures += other.token_failures;
        for (status, n) in &other.by_status {
            *self.by_status.entry(*status).or_default() += n;
        }
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
    throttled_wait_ms: AtomicU64,
    errors: AtomicU64,
    token_failures: AtomicU64,
    by_status: std::sync::Mutex<std::collections::BTreeMap<u16, u64>>,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> ClientStats {
        ClientStats {
            requests: self.requests.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            throttled_wait_ms: self.throttled_wait_ms.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            token_failures: self.token_failures.load(Ordering::Relaxed),
            by_status: self.by_status.lock().map(|m| m.clone()).unwrap_or_default(),
        }
    }
    pub(crate) fn answered(&self, status: u16) {
        if let Ok(mut m) = self.by_status.lock() {
            *m.entry(status).or_default() += 1;
        }
    }
    pub(crate) fn token_failure(&self) {
        self.token_failures.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }
    pub(crate) fn waited(&self, d: Duration) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        self.throttled_wait_ms.fetch_add(
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }
    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// May this request be sent again after its outcome became unknown?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    Idempotent,
    /// Creates: retried only after 401 / 429, where Graph did nothing.
    Once,
}

/// A request body.
pub(crate) struct Body {
    pub content_type: String,
    pub bytes: Bytes,
}

/// One logical call.
pub(crate) struct Request {
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// Semaphore key (`me`, `users/…`).
    pub mailbox: String,
    pub body: Option<Body>,
    pub if_match: Option<String>,
    pub max_page_size: Option<u32>,
    pub retry: Retry,
    /// `Accept` header (JSON unless reading photo bytes).
    pub accept: &'static str,
}

impl Request {
    pub fn new(method: Method, url: String, mailbox: String) -> Self {
        let retry = if method == Method::POST {
            Retry::Once
        } else {
            Retry::Idempotent
        };
        Self {
            method,
            url,
            mailbox,
            body: None,
            if_match: None,
            max_page_size: None,
            retry,
            accept: "application/json",
        }
    }
    pub fn json(mut self, value: &impl serde::Serialize) -> Result<Self, GraphError> {
        let bytes = serde_json::to_vec(value)
            .map_err(|e| GraphError::Decode(format!("encoding the request body: {e}")))?;
        self.body = Some(Body {
            content_type: "application/json".into(),
            bytes: bytes.into(),
        });
        Ok(self)
    }
}

/// The final answer of a call (any status).
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// An earlier attempt of this call may have been applied by Graph.
    pub after_ambiguous: bool,
}

impl Response {
    /// The typed error for a non-2xx answer.
    pub fn error(&self) -> GraphError {
        envelope::classify(
            self.status.as_u16(),
            envelope::retry_after(&self.headers),
            &self.body,
        )
    }
    /// `Ok(self)` for 2xx, the typed error otherwise.
    pub fn success(self) -> Result<Self, GraphError> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(self.error())
        }
    }
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, GraphError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            GraphError::Decode(format!(
                "HTTP {} body is not the expected JSON: {e}",
                self.status
            ))
        })
    }
}

pub(crate) struct Transport {
    http: reqwest::Client,
    tokens: Arc<dyn TokenSource>,
    semaphores: DashMap<String, Arc<Semaphore>>,
    pub(crate) opts: GraphClientOptions,
    pub(crate) counters: Counters,
}

enum Attempt {
    Answer(Response),
    Failed(reqwest::Error),
}

impl Transport {
    pub fn new(opts: GraphClientOptions, tokens: Arc<dyn TokenSource>) -> Result<Self, GraphError> {
        let http = reqwest::Client::builder()
            .timeout(opts.request_timeout)
            .connect_timeout(opts.request_timeout.min(Duration::from_secs(10)))
            .user_agent(opts.user_agent.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| GraphError::Transport(format!("building the HTTP client: {e}")))?;
        Ok(Self {
            http,
            tokens,
            semaphores: DashMap::new(),
            opts,
            counters: Counters::default(),
        })
    }

    fn semaphore(&self, key: &str) -> Arc<Semaphore> {
        if let Some(s) = self.semaphores.get(key) {
            return s.clone();
        }
        self.semaphores
            .entry(key.to_owned())
            .or_insert_with(|| {
                Arc::new(Semaphore::new(self.opts.max_concurrency_per_mailbox.max(1)))
            })
            .clone()
    }

    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(10);
        (self.opts.initial_backoff * factor).min(Duration::from_secs(60))
    }

    /// Send `req`, retrying as the module docs say. Non-2xx answers are returned, not
    /// turned into errors; transport failures that cannot be retried are errors.
    pub async fn send(&self, req: &Request) -> Result<Response, GraphError> {
        let result = self.send_inner(req).await;
        match &result {
            Ok(r) if r.status.is_success() => {}
            _ => self.counters.error(),
        }
        result
    }

    async fn send_inner(&self, req: &Request) -> Result<Response, GraphError> {
        let mut attempt = 0u32;
        let mut waited = Duration::ZERO;
        let mut refreshed = false;
        let mut ambiguous = false;
        loop {
            attempt += 1;
            let token = match self.tokens.token().await {
                Ok(t) => t,
                Err(e) => {
                    self.counters.token_failure();
                    return Err(e);
                }
            };
            let started = tokio::time::Instant::now();
            let outcome = {
                let _permit = self
                    .semaphore(&req.mailbox)
                    .acquire_owned()
                    .await
                    .map_err(|_| GraphError::Transport("mailbox limiter closed".into()))?;
                self.counters.requests.fetch_add(1, Ordering::Relaxed);
                self.exchange(req, &token).await
            };
            let elapsed_ms = started.elapsed().as_millis() as u64;
            let path = log_path(&req.url);
            let (wait, retriable) = match outcome {
                Attempt::Failed(e) => {
                    tracing::debug!(method = %req.method, path, attempt, elapsed_ms, error = %e, "graph request failed");
                    let desc = describe(&e);
                    if req.retry == Retry::Idempotent && attempt < self.opts.max_attempts {
                        ambiguous = true;
                        (self.backoff(attempt), Err(GraphError::Transport(desc)))
                    } else if req.retry == Retry::Once {
                        return Err(GraphError::Transport(format!(
                            "{desc}; the outcome of this {} is unknown",
                            req.method
                        )));
                    } else {
                        return Err(GraphError::Transport(desc));
                    }
                }
                Attempt::Answer(mut resp) => {
                    let status = resp.status.as_u16();
                    self.counters.answered(status);
                    tracing::debug!(method = %req.method, path, attempt, elapsed_ms, status, "graph request");
                    resp.after_ambiguous = ambiguous;
                    if status == 401 && !refreshed {
                        refreshed = true;
                        self.tokens.invalidate(&token);
                        self.counters.retries.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let throttle = matches!(status, 429 | 503 | 504);
                    if throttle {
                        self.counters.throttled();
                    }
                    let may_retry = status == 429
                        || (req.retry == Retry::Idempotent
                            && matches!(status, 500 | 502 | 503 | 504));
                    if !may_retry || attempt >= self.opts.max_attempts {
                        return self.finish(req, resp);
                    }
                    let hinted = envelope::retry_after(&resp.headers);
                    if status != 429 {
                        ambiguous = true;
                    }
                    (hinted.unwrap_or_else(|| self.backoff(attempt)), Ok(resp))
                }
            };
            if waited + wait > self.opts.max_retry_wait {
                return match retriable {
                    Ok(resp) => self.finish(req, resp),
                    Err(e) => Err(e),
                };
            }
            let jitter =
                Duration::from_millis(rand::random_range(0..=wait.as_millis().min(250) as u64));
            let pause = wait + jitter;
            tracing::debug!(method = %req.method, path = log_path(&req.url), wait_ms = pause.as_millis() as u64, "graph retry");
            tokio::time::sleep(pause).await;
            waited += wait;
            self.counters.waited(pause);
        }
    }

    /// A create whose last answer was 503/504 has an unknown outcome.
    fn finish(&self, req: &Request, resp: Response) -> Result<Response, GraphError> {
        if req.retry == Retry::Once && resp.status.as_u16() == 504 {
            return Err(GraphError::Transport(format!(
                "gateway timeout; the outcome of this {} is unknown",
                req.method
            )));
        }
        Ok(resp)
    }

    async fn exchange(&self, req: &Request, token: &SecretString) -> Attempt {
        let mut prefer = String::from("IdType=\"ImmutableId\"");
        if let Some(n) = req.max_page_size {
            prefer = format!("odata.maxpagesize={n}, {prefer}");
        }
        let mut b = self
            .http
            .request(req.method.clone(), &req.url)
            .header(http::header::ACCEPT, req.accept)
            .header("Prefer", prefer)
            .header("client-request-id", crate::guid::random());
        match HeaderValue::from_str(&format!("Bearer {}", token.expose_secret())) {
            Ok(mut v) => {
                v.set_sensitive(true);
                b = b.header(http::header::AUTHORIZATION, v);
            }
            Err(_) => tracing::warn!("access token is not a valid header value; sending none"),
        }
        if let Some(m) = &req.if_match {
            b = b.header(http::header::IF_MATCH, m.as_str());
        }
        match &req.body {
            Some(body) => {
                b = b
                    .header(http::header::CONTENT_TYPE, body.content_type.as_str())
                    .body(body.bytes.clone());
            }
            None if req.method == Method::POST => {
                b = b.header(http::header::CONTENT_LENGTH, "0");
            }
            None => {}
        }
        let resp = match b.send().await {
            Ok(r) => r,
            Err(e) => return Attempt::Failed(e),
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        match resp.bytes().await {
            Ok(body) => Attempt::Answer(Response {
                status,
                headers,
                body,
                after_ambiguous: false,
            }),
            Err(e) => Attempt::Failed(e),
        }
    }
}

/// A short description of a transport failure.
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "connection dropped while reading the answer"
    } else {
        "request failed"
    };
    let mut msg = format!("{kind}: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}

/// The URL path for logs (query strings may hold contact data such as UIDs).
fn log_path(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_are_not_idempotent_by_default() {
        let r = Request::new(Method::POST, "x".into(), "me".into());
        assert_eq!(r.retry, Retry::Once);
        let r = Request::new(Method::PATCH, "x".into(), "me".into());
        assert_eq!(r.retry, Retry::Idempotent);
    }

    #[test]
    fn log_path_drops_the_query() {
        assert_eq!(
            log_path("https://g/v1.0/me/contacts?$filter=x"),
            "https://g/v1.0/me/contacts"
        );
    }
}
