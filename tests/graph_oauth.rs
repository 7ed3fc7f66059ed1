//! OAuth flows and token sources against a scripted identity endpoint
//! (reference/graph.md §11): device code polling, PKCE exchange, refresh rotation with
//! persistence, single-flight refresh, sticky "sign-in required", client credentials.

mod scripted_http;

use cardbridge::graph::oauth::{DevicePoll, OAuthClient, TokenSet};
use cardbridge::graph::{ClientCredentials, DelegatedTokens, GraphError, TokenSink, TokenSource};
use scripted_http::{Action, Server, form, json};
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn oauth(s: &Server) -> OAuthClient {
    OAuthClient::new(&s.root(), "common", "app-1", "https://graph.example").unwrap()
}

fn token_answer(n: usize) -> Action {
    json(
        200,
        serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "scope": "Contacts.ReadWrite",
            "access_token": format!("at-{n}"), "refresh_token": format!("rt-{n}")}),
    )
}

fn oauth_error(code: &str) -> Action {
    json(
        400,
        serde_json::json!({"error": code, "error_description": format!("AADSTS0: {code}\r\nTrace ID: t"), "error_codes": [0]}),
    )
}

#[tokio::test]
async fn device_code_flow_polls_until_approved() {
    let s = Server::start(|n, r| {
        if r.uri.ends_with("/devicecode") {
            json(
                200,
                serde_json::json!({"user_code": "ABCD1234", "device_code": "dc-secret",
                    "verification_uri": "https://microsoft.com/devicelogin", "expires_in": 900, "interval": 5,
                    "message": "To sign in, open https://microsoft.com/devicelogin and enter ABCD1234."}),
            )
        } else if n < 3 {
            oauth_error("authorization_pending")
        } else {
            token_answer(1)
        }
    })
    .await;
    let c = oauth(&s);
    let mut dc = c.start_device_code().await.unwrap();
    assert_eq!(dc.user_code, "ABCD1234");
    assert_eq!(dc.interval, Duration::from_secs(5));
    assert!(!format!("{dc:?}").contains("dc-secret"));
    dc.interval = Duration::from_millis(5);
    let t = c.poll_device_code(&dc).await.unwrap();
    assert_eq!(t.access_token.expose_secret(), "at-1");
    assert_eq!(t.refresh_token.unwrap().expose_secret(), "rt-1");
    let seen = s.seen();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[0].uri, "/common/oauth2/v2.0/devicecode");
    let start = form(&seen[0]);
    assert_eq!(start["client_id"], "app-1");
    assert_eq!(
        start["scope"],
        "offline_access https://graph.example/Contacts.ReadWrite User.Read"
    );
    let poll = form(&seen[3]);
    assert_eq!(seen[3].uri, "/common/oauth2/v2.0/token");
    assert_eq!(
        poll["grant_type"],
        "urn:ietf:params:oauth:grant-type:device_code"
    );
    assert_eq!(poll["device_code"], "dc-secret");
}

#[tokio::test]
async fn device_code_slow_down_and_expiry_are_reported() {
    let s = Server::start(|n, _| match n {
        0 => oauth_error("slow_down"),
        _ => oauth_error("expired_token"),
    })
    .await;
    let c = oauth(&s);
    let dc = cardbridge::graph::DeviceCode {
        user_code: "X".into(),
        device_code: SecretString::from("d"),
        verification_uri: "u".into(),
        message: None,
        expires_in: Duration::from_secs(60),
        interval: Duration::from_millis(1),
    };
    assert!(matches!(
        c.poll_device_code_once(&dc).await.unwrap(),
        DevicePoll::SlowDown
    ));
    let err = c.poll_device_code(&dc).await.unwrap_err();
    assert!(
        matches!(&err, GraphError::SignInRequired { reason } if reason.starts_with("expired_token")),
        "{err:?}"
    );
}

#[tokio::test]
async fn device_code_past_its_lifetime_stops_polling() {
    let s = Server::start(|_, _| oauth_error("authorization_pending")).await;
    let dc = cardbridge::graph::DeviceCode {
        user_code: "X".into(),
        device_code: SecretString::from("d"),
        verification_uri: "u".into(),
        message: None,
        expires_in: Duration::from_millis(30),
        interval: Duration::from_millis(40),
    };
    let err = oauth(&s).poll_device_code(&dc).await.unwrap_err();
    assert!(matches!(err, GraphError::SignInRequired { .. }));
    assert!(
        s.seen().is_empty(),
        "the code expired before the first poll"
    );
}

#[tokio::test]
async fn pkce_code_exchange_sends_the_verifier() {
    let s = Server::start(|_, _| token_answer(7)).await;
    let c = oauth(&s);
    let p = c.authorize_url("http://localhost:8765/callback");
    assert!(
        p.url
            .starts_with(&format!("{}/common/oauth2/v2.0/authorize?", s.root()))
    );
    let t = c
        .exchange_code("the-code", "http://localhost:8765/callback", &p.verifier)
        .await
        .unwrap();
    assert_eq!(t.access_token.expose_secret(), "at-7");
    let f = form(&s.seen()[0]);
    assert_eq!(f["grant_type"], "authorization_code");
    assert_eq!(f["code"], "the-code");
    assert_eq!(f["code_verifier"], p.verifier.expose_secret());
    assert_eq!(f["redirect_uri"], "http://localhost:8765/callback");
    assert!(!f.contains_key("client_secret"));
}

#[derive(Default)]
struct MemorySink(Mutex<Vec<String>>);

impl TokenSink for MemorySink {
    fn save(&self, tokens: &TokenSet) -> anyhow::Result<()> {
        if let Some(r) = &tokens.refresh_token {
            self.0.lock().unwrap().push(r.expose_secret().to_owned());
        }
        Ok(())
    }
}

#[tokio::test]
async fn refresh_rotates_and_persists_and_is_single_flight() {
    let s = Server::start(|n, r| {
        assert!(r.uri.ends_with("/token"));
        token_answer(n + 1)
    })
    .await;
    let sink = Arc::new(MemorySink::default());
    let d = Arc::new(DelegatedTokens::from_refresh_token(
        oauth(&s),
        SecretString::from("rt-0"),
        Some(sink.clone()),
    ));
    let calls = (0..8).map(|_| {
        let d = d.clone();
        async move { d.token().await.unwrap().expose_secret().to_owned() }
    });
    let got = futures_util::future::join_all(calls).await;
    assert!(got.iter().all(|t| t == "at-1"), "{got:?}");
    assert_eq!(s.seen().len(), 1, "one refresh for eight callers");
    assert_eq!(form(&s.seen()[0])["refresh_token"], "rt-0");
    assert_eq!(*sink.0.lock().unwrap(), ["rt-1"]);

    d.invalidate(&SecretString::from("at-1"));
    assert_eq!(d.token().await.unwrap().expose_secret(), "at-2");
    assert_eq!(
        form(&s.seen()[1])["refresh_token"],
        "rt-1",
        "rotated token used"
    );
    assert_eq!(*sink.0.lock().unwrap(), ["rt-1", "rt-2"]);
}

#[tokio::test]
async fn refused_refresh_token_means_sign_in_and_is_not_retried() {
    let s = Server::start(|_, _| oauth_error("invalid_grant")).await;
    let d = DelegatedTokens::from_refresh_token(oauth(&s), SecretString::from("rt"), None);
    let e1 = d.token().await.unwrap_err();
    assert!(
        matches!(&e1, GraphError::SignInRequired { reason } if reason.starts_with("invalid_grant"))
    );
    assert!(d.needs_sign_in());
    let e2 = d.token().await.unwrap_err();
    assert_eq!(e1, e2);
    assert_eq!(s.seen().len(), 1, "the token endpoint is not hammered");
    d.replace(&TokenSet {
        access_token: SecretString::from("fresh"),
        refresh_token: Some(SecretString::from("rt2")),
        expires_at: chrono::Utc::now() + chrono::Duration::hours(1),
        scope: None,
        identity: None,
    });
    assert_eq!(d.token().await.unwrap().expose_secret(), "fresh");
}

#[tokio::test]
async fn client_credentials_send_the_secret_and_default_scope_and_cache() {
    let s = Server::start(|_, _| {
        json(200, serde_json::json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "app-at"}))
    })
    .await;
    let cc = ClientCredentials::new(oauth(&s).with_secret(SecretString::from("sh")));
    assert_eq!(cc.token().await.unwrap().expose_secret(), "app-at");
    assert_eq!(cc.token().await.unwrap().expose_secret(), "app-at");
    assert_eq!(s.seen().len(), 1);
    let f = form(&s.seen()[0]);
    assert_eq!(f["grant_type"], "client_credentials");
    assert_eq!(f["client_secret"], "sh");
    assert_eq!(f["scope"], "https://graph.example/.default");
    cc.invalidate(&SecretString::from("app-at"));
    cc.token().await.unwrap();
    assert_eq!(s.seen().len(), 2);

    let none = ClientCredentials::new(oauth(&s));
    assert!(matches!(
        none.token().await,
        Err(GraphError::BadRequest { .. })
    ));
}

#[tokio::test]
async fn identity_platform_outage_is_not_sign_in() {
    let s = Server::start(|_, _| Action::Reply(503, vec![], "busy".into())).await;
    let d = DelegatedTokens::from_refresh_token(oauth(&s), SecretString::from("rt"), None);
    assert!(matches!(d.token().await, Err(GraphError::Throttled { .. })));
    assert!(!d.needs_sign_in());
}
