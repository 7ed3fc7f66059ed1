//! The world `tests/hostile_input.rs` runs in (the whole stack over the emulator, two
//! users) and a raw HTTP/1.1 client that can send anything: broken framing, invalid
//! UTF-8, bodies far over the limit (written while the answer is read, so an early 413
//! is seen even when the server stops reading).

#![allow(dead_code)]

mod rows;

pub use rows::*;

use base64::prelude::{BASE64_STANDARD, Engine as _};
use cardbridge::app::{Stack, StackParts, start_stack};
use cardbridge::bridge::{Account, BridgeConfig, StaticAccounts};
use cardbridge::emulator::{EmulatorConfig, EmulatorHandle};
use cardbridge::graph::{GraphClient, GraphClientOptions, Mailbox, StaticToken};
use cardbridge::server::{ServerOptions, UserStore};
use cardbridge::state::MemoryStore;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const BOOK: &str = "/dav/addressbooks/alice/contacts/";
pub const CARD: &str = "/dav/addressbooks/alice/contacts/known.vcf";
pub const HOME: &str = "/dav/addressbooks/alice/";
pub const BOB_BOOK: &str = "/dav/addressbooks/bob/contacts/";
pub const CT_XML: (&str, &str) = ("Content-Type", "application/xml; charset=utf-8");
pub const CT_VCARD: (&str, &str) = ("Content-Type", "text/vcard; charset=utf-8");
pub const PROPFIND_ETAG: &str =
    r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>"#;
/// Largest request body the server takes (`ServerOptions::max_body_bytes`).
pub const MAX_BODY: usize = 8 * 1024 * 1024;
/// Largest card the DAV layer takes (`max-resource-size`).
pub const MAX_CARD: u64 = 4 * 1024 * 1024;

/// One hostile request and the statuses it may get (usually exactly one).
pub struct Row {
    pub name: String,
    pub request: Vec<u8>,
    pub expect: Vec<u16>,
}

pub fn row(name: impl Into<String>, request: Vec<u8>, expect: &[u16]) -> Row {
    Row {
        name: name.into(),
        request,
        expect: expect.to_vec(),
    }
}

pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        BASE64_STANDARD.encode(format!("{user}:{password}"))
    )
}

/// A well-framed request as Alice.
pub fn req(method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Vec<u8> {
    req_auth(
        Some(&basic("alice", "alice-pw")),
        method,
        path,
        headers,
        body,
    )
}

/// A well-framed request with the given `Authorization` value (or none).
pub fn req_auth(
    auth: Option<&str>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    if let Some(a) = auth {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut out = head.into_bytes();
    out.extend_from_slice(&body);
    out
}

/// A minimal valid vCard 3.0 with this UID.
pub fn card(uid: &str) -> Vec<u8> {
    format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:Hostile {uid}\r\nN:{uid};Hostile;;;\r\nEND:VCARD\r\n")
        .into_bytes()
}

/// VmRSS of this process (the server runs in it), in KiB.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

pub struct World {
    pub emu: EmulatorHandle,
    pub alice_mailbox: String,
    pub bob_mailbox: String,
    pub stack: Stack,
    pub addr: SocketAddr,
}

fn graph_client(emu: &EmulatorHandle, token: String) -> GraphClient {
    let _ = rustls::crypto::ring::default_provider().install_default();
    GraphClient::new(
        GraphClientOptions {
            graph_root: emu.base_url(),
            ..GraphClientOptions::default()
        },
        Arc::new(StaticToken::new(token)),
    )
    .expect("graph client")
}

impl World {
    /// Alice has 5 seeded contacts, Bob an empty mailbox; both can sign in.
    pub async fn start() -> World {
        let emu = cardbridge::emulator::start(EmulatorConfig {
            throttle: false,
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator");
        let alice_mailbox = emu.default_user();
        emu.seed_sample(&alice_mailbox, 5, 7);
        let bob_mailbox = emu.add_user("bob@cardbridge.test");
        let store = Arc::new(MemoryStore::new());
        let users = UserStore::new(store.clone());
        users
            .add_user("alice", &SecretString::from("alice-pw"))
            .expect("alice");
        users
            .add_user("bob", &SecretString::from("bob-pw"))
            .expect("bob");
        let account = |key: &str, token: String| Account {
            key: key.into(),
            client: graph_client(&emu, token),
            mailbox: Mailbox::Me,
            display_name: key.into(),
        };
        let accounts = StaticAccounts::new()
            .with("alice", account("alice", emu.default_token()))
            .with("bob", account("bob", emu.mint_token(&bob_mailbox)));
        let mut server = ServerOptions::loopback(0);
        // The table is one burst from one address: the per-user request rate would
        // turn later rows into 429s, which is another test's subject (server_http).
        server.user_requests_per_sec = 0.0;
        // Likewise the failed-login limit (server_http tests it): the table's bad
        // credentials must each reach the password check.
        server.max_failed_logins = 0;
        server.max_body_bytes = MAX_BODY;
        let stack = start_stack(StackParts {
            store,
            bridge: BridgeConfig::default(),
            accounts: Arc::new(accounts),
            server,
            users,
            max_resource_size: MAX_CARD,
            web: None,
        })
        .await
        .expect("stack");
        stack.readiness.set_ready(true);
        let addr = stack.server.local_addr();
        World {
            emu,
            alice_mailbox,
            bob_mailbox,
            stack,
            addr,
        }
    }

    pub fn graph_count(&self, who: &str) -> usize {
        let id = if who == "alice" {
            &self.alice_mailbox
        } else {
            &self.bob_mailbox
        };
        self.emu.contact_count(id)
    }

    /// Send raw bytes on a new connection; the status of the (final) answer.
    pub async fn send(&self, raw: Vec<u8>) -> Result<u16, String> {
        self.send_full(raw).await.map(|(s, _)| s)
    }

    /// Send raw bytes on a new connection; status and body of the (final) answer.
    pub async fn send_full(&self, raw: Vec<u8>) -> Result<(u16, Vec<u8>), String> {
        // A guard against a hang, not a timing assertion: every row is answered at
        // once or the connection is closed.
        tokio::time::timeout(Duration::from_secs(120), exchange(self.addr, raw))
            .await
            .map_err(|_| "no answer within 120 s".to_string())?
    }

    pub async fn stop(self) {
        self.stack.shutdown().await;
    }
}

async fn exchange(addr: SocketAddr, raw: Vec<u8>) -> Result<(u16, Vec<u8>), String> {
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut rd, mut wr) = tcp.into_split();
    // The server may answer (413, 431, 400) and close before taking the whole body:
    // write in the background and read meanwhile.
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&raw).await;
        let _ = wr.flush().await;
        wr
    });
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let (status, head_end) = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..i]).to_string();
                let status = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse::<u16>().ok())
                    .ok_or_else(|| format!("bad status line: {head:?}"))?;
                break (status, i + 4);
            }
            let n = rd
                .read(&mut chunk)
                .await
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                writer.abort();
                return Err("closed without an answer".into());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        if status == 100 {
            buf.drain(..head_end);
            continue;
        }
        // Connection: close (or the server closing after an error): body until EOF.
        let mut body = buf[head_end..].to_vec();
        loop {
            match rd.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(&chunk[..n]),
            }
        }
        writer.abort();
        return Ok((status, body));
    }
}
