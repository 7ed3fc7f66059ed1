//! The world of `tests/upstream_faults.rs`: the emulator (with sign-in), the whole
//! stack built by `app::start_stack` with a delegated (refreshable) token, and a small
//! CardDAV client over HTTP. Only this file knows how the pieces are wired.

#![allow(dead_code)]

use cardbridge::app::{Stack, StackParts, start_stack};
use cardbridge::bridge::{Account, BridgeConfig, StaticAccounts};
use cardbridge::emulator::{EmulatorConfig, EmulatorHandle};
use cardbridge::graph::{
    DelegatedTokens, GraphClient, GraphClientOptions, Mailbox, OAuthClient, TokenSet, TokenSink,
};
use cardbridge::server::{ServerOptions, UserStore};
use cardbridge::state::MemoryStore;
use secrecy::SecretString;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub const BOOK: &str = "/dav/addressbooks/alice/contacts/";
/// The Graph client's per-exchange deadline in the slow world, and the emulator's delay
/// past it.
pub const SLOW_TIMEOUT_MS: u64 = 500;
pub const SLOW_FAULT_MS: u64 = 1500;

pub enum Slow {
    Yes,
    No,
}

/// Counts saved (rotated) token sets: one per refresh.
#[derive(Default)]
struct Counter(AtomicUsize);
impl TokenSink for Counter {
    fn save(&self, _: &TokenSet) -> anyhow::Result<()> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

pub struct World {
    pub emu: EmulatorHandle,
    pub mailbox: String,
    pub folder: String,
    stack: Stack,
    base: String,
    http: reqwest::Client,
    oauth: OAuthClient,
    tokens: Arc<DelegatedTokens>,
    refreshed: Arc<Counter>,
}

pub struct Resp {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub etag: Option<String>,
    pub body: String,
}

pub fn is_unavailable(r: &Resp) -> bool {
    r.status == 503 && r.retry_after.is_some_and(|s| s >= 1)
}

/// 503 with a usable Retry-After: never a false success, never a bare 500.
pub fn assert_unavailable(r: &Resp) {
    assert!(
        is_unavailable(r),
        "expected 503 + Retry-After, got {} (Retry-After {:?}): {}",
        r.status,
        r.retry_after,
        r.body
    );
}

async fn sign_in(oauth: &OAuthClient) -> TokenSet {
    let mut dc = oauth.start_device_code().await.expect("device code");
    dc.interval = Duration::from_millis(10);
    oauth.poll_device_code(&dc).await.expect("signed in")
}

impl World {
    /// Alice signed in with the device-code flow; 8 seeded contacts; freshness 0 (every
    /// read asks Graph), few and quick retries so faults surface at once.
    pub async fn start(slow: Slow) -> World {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let emu = cardbridge::emulator::start(EmulatorConfig {
            throttle: false,
            auto_approve: true,
            ..EmulatorConfig::default()
        })
        .await
        .expect("emulator");
        let mailbox = emu.default_user();
        emu.seed_sample(&mailbox, 8, 3);
        let folder = emu.default_folder_id(&mailbox);
        let oauth = OAuthClient::new(&emu.base_url(), "common", &emu.client_id(), &emu.base_url())
            .expect("oauth client");
        let set = sign_in(&oauth).await;
        let refreshed = Arc::new(Counter::default());
        let tokens = Arc::new(
            DelegatedTokens::new(oauth.clone(), &set, Some(refreshed.clone())).expect("tokens"),
        );
        let mut options = GraphClientOptions {
            graph_root: emu.base_url(),
            max_attempts: 2,
            initial_backoff: Duration::from_millis(10),
            max_retry_wait: Duration::from_millis(200),
            ..GraphClientOptions::default()
        };
        if let Slow::Yes = slow {
            options.request_timeout = Duration::from_millis(SLOW_TIMEOUT_MS);
        }
        let client = GraphClient::new(options, tokens.clone()).expect("graph client");
        let store = Arc::new(MemoryStore::new());
        let users = UserStore::new(store.clone());
        users
            .add_user("alice", &SecretString::from("alice-pw"))
            .expect("alice");
        let accounts = StaticAccounts::new().with(
            "alice",
            Account {
                key: "alice".into(),
                client,
                mailbox: Mailbox::Me,
                display_name: "Alice".into(),
            },
        );
        let stack = start_stack(StackParts {
            store,
            bridge: BridgeConfig {
                freshness_secs: 0,
                ..BridgeConfig::default()
            },
            accounts: Arc::new(accounts),
            server: ServerOptions::loopback(0),
            users,
            max_resource_size: 1 << 20,
            web: None,
        })
        .await
        .expect("stack");
        stack.readiness.set_ready(true);
        let base = format!("http://{}", stack.server.local_addr());
        World {
            emu,
            mailbox,
            folder,
            stack,
            base,
            http: reqwest::Client::new(),
            oauth,
            tokens,
            refreshed,
        }
    }

    /// The sum of a counter's or gauge's samples on `/metrics`, as the independent
    /// prometheus-parse crate reads the exposition.
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        crate::prometheus_support::sum(&crate::prometheus_support::parse(&text), name, None)
    }

    pub fn graph_count(&self) -> usize {
        self.emu.contact_count(&self.mailbox)
    }

    /// Token refreshes since the start.
    pub fn refreshes(&self) -> usize {
        self.refreshed.0.load(Ordering::SeqCst)
    }

    /// `cardbridge login` again: a new device-code sign-in handed to the account.
    pub async fn sign_in_again(&self) {
        let set = sign_in(&self.oauth).await;
        self.tokens.replace(&set);
    }

    async fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: String) -> Resp {
        let mut r = self
            .http
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                format!("{}{path}", self.base),
            )
            .basic_auth("alice", Some("alice-pw"))
            .body(body);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let resp = r.send().await.expect("the bridge answers");
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("retry-after").and_then(|v| v.parse().ok());
        let etag = header("etag");
        let status = resp.status().as_u16();
        Resp {
            status,
            retry_after,
            etag,
            body: resp.text().await.unwrap_or_default(),
        }
    }

    pub async fn put(&self, name: &str, uid: &str, if_match: Option<&str>) -> Resp {
        self.put_named(name, uid, "Fault", if_match).await
    }

    pub async fn put_named(
        &self,
        name: &str,
        uid: &str,
        given: &str,
        if_match: Option<&str>,
    ) -> Resp {
        let card = format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{given} {uid}\r\nN:{uid};{given};;;\r\nEND:VCARD\r\n"
        );
        let mut headers = vec![("Content-Type", "text/vcard")];
        if let Some(e) = if_match {
            headers.push(("If-Match", e));
        }
        self.send("PUT", &format!("{BOOK}{name}"), &headers, card)
            .await
    }

    pub async fn get(&self, name: &str) -> Resp {
        let r = self
            .send("GET", &format!("{BOOK}{name}"), &[], String::new())
            .await;
        assert_eq!(r.status, 200, "GET {name}: {}", r.body);
        r
    }

    /// Cards listed by a Depth-1 PROPFIND (panics unless 207).
    pub async fn propfind_count(&self) -> usize {
        let r = self
            .send(
                "PROPFIND",
                BOOK,
                &[("Depth", "1"), ("Content-Type", "application/xml")],
                r#"<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>"#.into(),
            )
            .await;
        assert_eq!(r.status, 207, "{}", r.body);
        r.body.matches("<d:response>").count() - 1
    }

    /// The multistatus of a sync-collection from `token` (panics unless 207).
    pub async fn sync_changes(&self, token: &str) -> String {
        let body = format!(
            r#"<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token><D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"#
        );
        let r = self
            .send("REPORT", BOOK, &[("Content-Type", "application/xml")], body)
            .await;
        assert_eq!(r.status, 207, "sync from {token:?}: {}", r.body);
        r.body
    }

    /// The new token of a sync-collection from `token`.
    pub async fn sync_token(&self, token: &str) -> String {
        let body = self.sync_changes(token).await;
        let start = body.find("sync-token>").expect("a sync-token") + "sync-token>".len();
        let end = start + body[start..].find('<').expect("token end");
        body[start..end].to_string()
    }

    pub async fn stop(self) {
        self.stack.shutdown().await;
    }
}
