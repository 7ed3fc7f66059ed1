//! Shared pieces of the server tests: a recording `DavService`, a started server with
//! two users, and a raw HTTP/1.1 exchange over one TCP connection.
#![allow(dead_code)]

use bytes::Bytes;
use cardbridge::dav::DavBody;
use cardbridge::server::{DavService, Readiness, ServerHandle, ServerOptions, UserStore};
use cardbridge::state::MemoryStore;
use futures_util::FutureExt as _;
use futures_util::future::BoxFuture;
use http_body_util::BodyExt as _;
use secrecy::SecretString;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

pub const ALICE: (&str, &str) = ("alice", "alice-password-1");
pub const BOB: (&str, &str) = ("bob", "bob-password-2");

/// A DAV stand-in: records the user of every request and answers
/// `user=<name or ->;len=<body bytes>`; `/slow` signals `entered` and waits for `gate`,
/// `/hang` never answers.
#[derive(Default)]
pub struct Recorder {
    pub seen: Arc<Mutex<Vec<Option<String>>>>,
    pub entered: Arc<Notify>,
    pub gate: Arc<Notify>,
}

impl Recorder {
    pub fn users_seen(&self) -> Vec<Option<String>> {
        self.seen.lock().unwrap().clone()
    }
}

impl DavService for Recorder {
    fn needs_auth(&self, parts: &http::request::Parts) -> bool {
        parts.method != http::Method::OPTIONS && !parts.uri.path().starts_with("/.well-known/")
    }

    fn handle(
        &self,
        user: Option<String>,
        req: http::Request<Bytes>,
    ) -> BoxFuture<'static, http::Response<DavBody>> {
        self.seen.lock().unwrap().push(user.clone());
        let body = format!(
            "user={};len={}",
            user.as_deref().unwrap_or("-"),
            req.body().len()
        );
        let path = req.uri().path().to_owned();
        let entered = self.entered.clone();
        let gate = self.gate.clone();
        async move {
            match path.as_str() {
                "/slow" => {
                    entered.notify_one();
                    gate.notified().await;
                }
                "/hang" => std::future::pending::<()>().await,
                _ => {}
            }
            http::Response::new(
                http_body_util::Full::new(Bytes::from(body))
                    .map_err(|n| match n {})
                    .boxed(),
            )
        }
        .boxed()
    }
}

pub struct TestServer {
    pub handle: ServerHandle,
    pub recorder: Arc<Recorder>,
    pub users: UserStore,
    pub readiness: Readiness,
}

pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Users alice and bob over an in-memory store.
pub fn users() -> UserStore {
    let users = UserStore::new(Arc::new(MemoryStore::new()));
    for (name, pw) in [ALICE, BOB] {
        users
            .add_user(name, &SecretString::from(pw.to_owned()))
            .unwrap();
    }
    users
}

/// Start a loopback server on a free port; `adjust` tweaks the options first.
pub async fn start(adjust: impl FnOnce(&mut ServerOptions)) -> TestServer {
    install_crypto();
    let mut options = ServerOptions::loopback(0);
    adjust(&mut options);
    let users = users();
    let recorder = Arc::new(Recorder::default());
    let readiness = Readiness::flag(true);
    let dav: Arc<dyn DavService> = recorder.clone();
    let handle = cardbridge::server::start(options, users.clone(), dav, readiness.clone())
        .await
        .unwrap();
    TestServer {
        handle,
        recorder,
        users,
        readiness,
    }
}

/// A parsed raw HTTP/1.1 response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

/// Send `request` on `stream` and read one response (Content-Length framed).
pub async fn exchange(stream: &mut tokio::net::TcpStream, request: &str) -> RawResponse {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed before a full response head");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut resp = RawResponse {
        status,
        head,
        body: Vec::new(),
    };
    let len: usize = resp
        .header("content-length")
        .map(|v| v.parse().unwrap())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < len {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.unwrap();
        assert!(n > 0, "connection closed inside a response body");
        body.extend_from_slice(&chunk[..n]);
    }
    resp.body = body;
    resp
}

/// `Authorization: Basic ...` value.
pub fn basic(user: &str, password: &str) -> String {
    use base64::prelude::{BASE64_STANDARD, Engine as _};
    format!(
        "Basic {}",
        BASE64_STANDARD.encode(format!("{user}:{password}"))
    )
}
