//! The HTTP server over real TCP: authentication flow (RFC 7617), throttles, body
//! limits, keep-alive, HTTP/2, health and metrics endpoints, graceful shutdown, and the
//! user identity handed to the DAV layer. The DAV layer is a recording stand-in.

mod server_support;

use server_support::{ALICE, BOB, basic, exchange, start};
use std::io::Write as _;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Everything the `cardbridge` crate logs during this test binary (to check that no
/// secret is ever written).
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("cardbridge=trace"))
            .with_writer(move || Capture(sink.clone()))
            .with_ansi(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

#[tokio::test]
async fn unauthenticated_gets_401_challenge_then_200_with_the_right_password() {
    let s = start(|_| {}).await;
    let url = format!("{}/dav/", s.handle.base_url());
    let r = client()
        .request(reqwest::Method::from_bytes(b"PROPFIND").unwrap(), &url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["www-authenticate"],
        "Basic realm=\"cardbridge\", charset=\"UTF-8\""
    );
    let r = client()
        .request(reqwest::Method::from_bytes(b"PROPFIND").unwrap(), &url)
        .basic_auth(ALICE.0, Some(ALICE.1))
        .body("<propfind/>")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "user=alice;len=11");
    // The 401 never reached the DAV layer.
    assert_eq!(s.recorder.users_seen(), vec![Some("alice".to_owned())]);
    s.handle.shutdown().await;
}

#[tokio::test]
async fn wrong_password_unknown_user_and_garbage_headers_get_401() {
    let s = start(|_| {}).await;
    let url = format!("{}/dav/", s.handle.base_url());
    for (user, pw) in [
        (ALICE.0, "wrong"),
        ("nobody", ALICE.1),
        (ALICE.0, ""),
        (BOB.0, ALICE.1),
    ] {
        let r = client()
            .get(&url)
            .basic_auth(user, Some(pw))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{user}:{pw}");
        assert!(r.headers().contains_key("www-authenticate"));
    }
    for header in ["Bearer abc", "Basic !!!", "Basic YWxpY2U="] {
        let r = client()
            .get(&url)
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{header}");
    }
    assert!(s.recorder.users_seen().is_empty());
    s.handle.shutdown().await;
}

#[tokio::test]
async fn each_user_is_passed_to_dav_as_themselves_and_names_are_case_folded() {
    let s = start(|_| {}).await;
    let url = format!("{}/dav/addressbooks/alice/", s.handle.base_url());
    for (user, pw) in [BOB, ALICE, ("Alice", ALICE.1), BOB] {
        let r = client()
            .get(&url)
            .basic_auth(user, Some(pw))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    assert_eq!(
        s.recorder.users_seen(),
        vec![
            Some("bob".to_owned()),
            Some("alice".to_owned()),
            Some("alice".to_owned()),
            Some("bob".to_owned())
        ]
    );
    s.handle.shutdown().await;
}

#[tokio::test]
async fn options_and_well_known_pass_without_credentials_but_wrong_ones_are_refused() {
    let s = start(|_| {}).await;
    let base = s.handle.base_url();
    let r = client()
        .request(reqwest::Method::OPTIONS, format!("{base}/dav/"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = client()
        .get(format!("{base}/.well-known/carddav"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "user=-;len=0");
    // Right credentials on an open path are still passed on.
    let r = client()
        .request(reqwest::Method::OPTIONS, format!("{base}/dav/"))
        .basic_auth(BOB.0, Some(BOB.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "user=bob;len=0");
    let r = client()
        .request(reqwest::Method::OPTIONS, format!("{base}/dav/"))
        .basic_auth(BOB.0, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    s.handle.shutdown().await;
}

#[tokio::test]
async fn failed_logins_are_throttled_with_503_and_retry_after() {
    let s = start(|o| {
        o.max_failed_logins = 3;
        o.failed_login_window = Duration::from_secs(600);
    })
    .await;
    let url = format!("{}/dav/", s.handle.base_url());
    let send = |user: &'static str, pw: &'static str| {
        let url = url.clone();
        async move {
            client()
                .get(&url)
                .basic_auth(user, Some(pw))
                .send()
                .await
                .unwrap()
        }
    };
    for _ in 0..3 {
        assert_eq!(send(ALICE.0, "guess").await.status(), 401);
    }
    let r = send(ALICE.0, "guess").await;
    assert_eq!(r.status(), 503);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    // The whole address is blocked now, even with bob's right password...
    assert_eq!(send(BOB.0, BOB.1).await.status(), 503);
    assert!(s.recorder.users_seen().is_empty());
    let metrics = client()
        .get(format!("{}/metrics", s.handle.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("cardbridge_http_auth_failures_total 3\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("cardbridge_http_auth_throttled_total 2\n"),
        "{metrics}"
    );
    s.handle.shutdown().await;
}

#[tokio::test]
async fn a_verified_user_keeps_working_while_their_name_is_attacked_from_elsewhere() {
    // Linux routes all of 127.0.0.0/8 to loopback, so clients can come from distinct
    // addresses: 127.0.0.1 is alice's running client, 127.0.0.2 the attacker, 127.0.0.3
    // a new device of alice's.
    let from = |last: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .build()
            .unwrap()
    };
    let s = start(|o| o.max_failed_logins = 2).await;
    let (_, second) = s.users.add_app_password(ALICE.0, "new phone").unwrap();
    let second = secrecy::ExposeSecret::expose_secret(&second).to_owned();
    let url = format!("{}/dav/", s.handle.base_url());
    let status = |client: reqwest::Client, pw: String| {
        let url = url.clone();
        async move {
            client
                .get(&url)
                .basic_auth(ALICE.0, Some(pw))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(from(1), ALICE.1.into()).await, 200);
    assert_eq!(status(from(2), "guess".into()).await, 401);
    assert_eq!(status(from(2), "guess".into()).await, 401);
    // The attacker's address is blocked, whatever it sends.
    assert_eq!(status(from(2), "guess".into()).await, 503);
    assert_eq!(status(from(2), ALICE.1.into()).await, 503);
    // alice's verified credentials still work from her own address...
    assert_eq!(status(from(1), ALICE.1.into()).await, 200);
    // ...but a login that needs Argon2 for the attacked name waits.
    assert_eq!(status(from(3), second).await, 503);
    s.handle.shutdown().await;
}

#[tokio::test]
async fn per_user_request_rate_limit_answers_503_with_retry_after() {
    let s = start(|o| {
        o.user_requests_per_sec = 0.01;
        o.user_request_burst = 2;
    })
    .await;
    let url = format!("{}/dav/", s.handle.base_url());
    for _ in 0..2 {
        let r = client()
            .get(&url)
            .basic_auth(ALICE.0, Some(ALICE.1))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let r = client()
        .get(&url)
        .basic_auth(ALICE.0, Some(ALICE.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    // Bob has his own bucket.
    let r = client()
        .get(&url)
        .basic_auth(BOB.0, Some(BOB.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.handle.shutdown().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_declared_or_chunked() {
    let s = start(|o| o.max_body_bytes = 1000).await;
    let url = format!("{}/dav/book/card.vcf", s.handle.base_url());
    let r = client()
        .put(&url)
        .basic_auth(ALICE.0, Some(ALICE.1))
        .body(vec![b'x'; 1000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "user=alice;len=1000");
    let r = client()
        .put(&url)
        .basic_auth(ALICE.0, Some(ALICE.1))
        .body(vec![b'x'; 1001])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.text().await.unwrap(), "request body too large\n");
    // Chunked, no Content-Length: the cap applies while reading.
    let mut tcp = tokio::net::TcpStream::connect(s.handle.local_addr())
        .await
        .unwrap();
    let mut req = format!(
        "PUT /dav/book/card.vcf HTTP/1.1\r\nHost: t\r\nAuthorization: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
        basic(ALICE.0, ALICE.1)
    );
    for _ in 0..5 {
        req.push_str(&format!("190\r\n{}\r\n", "y".repeat(400)));
    }
    req.push_str("0\r\n\r\n");
    let r = exchange(&mut tcp, &req).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.header("connection").as_deref(), Some("close"));
    s.handle.shutdown().await;
}

#[tokio::test]
async fn http1_keep_alive_serves_several_requests_on_one_connection() {
    let s = start(|_| {}).await;
    let mut tcp = tokio::net::TcpStream::connect(s.handle.local_addr())
        .await
        .unwrap();
    let auth = basic(ALICE.0, ALICE.1);
    // 401 first (no credentials) must not close the connection either, even when the
    // refused request carried a body (macOS sends PUT without credentials first).
    let r = exchange(&mut tcp, "GET /dav/ HTTP/1.1\r\nHost: t\r\n\r\n").await;
    assert_eq!(r.status, 401);
    let r = exchange(
        &mut tcp,
        "PUT /dav/x HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nBEGIN:VCARD",
    )
    .await;
    assert_eq!(r.status, 401);
    for _ in 0..3 {
        let r = exchange(
            &mut tcp,
            &format!("GET /dav/ HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\n\r\n"),
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, b"user=alice;len=0");
    }
    let r = exchange(
        &mut tcp,
        &format!(
            "PUT /dav/x HTTP/1.1\r\nHost: t\r\nAuthorization: {auth}\r\nContent-Length: 5\r\n\r\nhello"
        ),
    )
    .await;
    assert_eq!(r.body, b"user=alice;len=5");
    s.handle.shutdown().await;
}

#[tokio::test]
async fn http2_prior_knowledge_works() {
    let s = start(|_| {}).await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = h2
        .get(format!("{}/dav/", s.handle.base_url()))
        .basic_auth(BOB.0, Some(BOB.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "user=bob;len=0");
    let r = h2
        .get(format!("{}/dav/", s.handle.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    s.handle.shutdown().await;
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let s = start(|_| {}).await;
    let base = s.handle.base_url();
    let get = |path: &str| client().get(format!("{base}{path}")).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    s.readiness.set_ready(false);
    assert_eq!(get("/readyz").await.unwrap().status(), 503);
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    s.readiness.set_ready(true);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);

    s.handle
        .metrics()
        .register_gauge("cardbridge_test_answer", "A gauge from elsewhere.", || 42.0)
        .unwrap();
    let r = client()
        .request(
            reqwest::Method::from_bytes(b"REPORT").unwrap(),
            format!("{base}/dav/"),
        )
        .basic_auth(ALICE.0, Some(ALICE.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let m = get("/metrics").await.unwrap();
    assert!(
        m.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = m.text().await.unwrap();
    assert!(
        text.contains("cardbridge_http_requests_total{method=\"REPORT\",status=\"200\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("cardbridge_http_requests_total{method=\"GET\",status=\"503\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("cardbridge_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
    // The scrape itself is in flight while rendering.
    assert!(
        text.contains("cardbridge_http_requests_in_flight 1\n"),
        "{text}"
    );
    assert!(text.contains("cardbridge_test_answer 42\n"));
    check_exposition(&text);
    s.handle.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_lets_an_in_flight_request_finish() {
    let s = start(|_| {}).await;
    let url = format!("{}/slow", s.handle.base_url());
    let addr = s.handle.local_addr();
    let in_flight = tokio::spawn(client().get(&url).basic_auth(ALICE.0, Some(ALICE.1)).send());
    s.recorder.entered.notified().await;
    let trigger = s.handle.trigger();
    let stopped = tokio::spawn(s.handle.wait());
    trigger.shutdown();
    // New connections are refused once the listener is closed.
    let mut refused = false;
    for _ in 0..500 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "listener still accepting after shutdown");
    assert!(!stopped.is_finished());
    s.recorder.gate.notify_one();
    let r = in_flight.await.unwrap().unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "user=alice;len=0");
    stopped.await.unwrap();
}

#[tokio::test]
async fn a_request_stuck_in_dav_times_out_with_503() {
    let s = start(|o| o.request_timeout = Duration::from_millis(300)).await;
    let r = client()
        .get(format!("{}/hang", s.handle.base_url()))
        .basic_auth(ALICE.0, Some(ALICE.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    s.handle.shutdown().await;
}

#[tokio::test]
async fn plain_http_on_a_public_address_is_refused_unless_allowed() {
    server_support::install_crypto();
    let mut o = cardbridge::server::ServerOptions::loopback(0);
    o.listen = "0.0.0.0:0".parse().unwrap();
    let dav: Arc<dyn cardbridge::server::DavService> =
        Arc::new(server_support::Recorder::default());
    let users = server_support::users();
    let err = cardbridge::server::start(
        o.clone(),
        users.clone(),
        dav.clone(),
        cardbridge::server::Readiness::always(),
    )
    .await
    .err()
    .expect("plain HTTP on 0.0.0.0 must be refused");
    assert!(err.to_string().contains("refusing plain HTTP"), "{err}");
    o.allow_insecure_non_loopback = true;
    let h = cardbridge::server::start(o, users, dav, cardbridge::server::Readiness::always())
        .await
        .unwrap();
    assert!(h.base_url().starts_with("http://127.0.0.1:"));
    h.shutdown().await;
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    let logs = captured_logs();
    let s = start(|_| {}).await;
    let url = format!("{}/dav/", s.handle.base_url());
    let secret = "Zq9-unmistakable-secret";
    for (user, pw) in [(ALICE.0, secret), (ALICE.0, ALICE.1), (secret, "x")] {
        let _ = client()
            .get(format!("{url}?token={secret}"))
            .basic_auth(user, Some(pw))
            .send()
            .await
            .unwrap();
    }
    s.handle.shutdown().await;
    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(text.contains("failed login"), "{text}");
    assert!(text.contains("cardbridge::access"), "{text}");
    for needle in [secret, ALICE.1, &basic(ALICE.0, ALICE.1)[6..]] {
        assert!(!text.contains(needle), "{needle} leaked into logs:\n{text}");
    }
    let _ = std::io::stderr().flush();
}

#[tokio::test]
async fn oversized_request_heads_are_refused_and_the_server_stays_up() {
    let s = start(|o| o.max_header_bytes = 16 * 1024).await;
    let mut tcp = tokio::net::TcpStream::connect(s.handle.local_addr())
        .await
        .unwrap();
    let big = "a".repeat(64 * 1024);
    let r = exchange(
        &mut tcp,
        &format!("GET /dav/ HTTP/1.1\r\nHost: t\r\nX-Big: {big}\r\n\r\n"),
    )
    .await;
    assert_eq!(r.status, 431);
    let r = client()
        .get(format!("{}/healthz", s.handle.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.handle.shutdown().await;
}

#[tokio::test]
async fn expect_100_continue_without_credentials_gets_401_before_any_body_is_sent() {
    let s = start(|_| {}).await;
    let mut tcp = tokio::net::TcpStream::connect(s.handle.local_addr())
        .await
        .unwrap();
    let r = exchange(
        &mut tcp,
        "PUT /dav/x HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n",
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.head);
    s.handle.shutdown().await;
}

/// Structural check of the Prometheus text format (0.0.4): every sample belongs to a
/// family announced by `# TYPE` before it, names are valid, values are numbers, and a
/// histogram's buckets are cumulative and end in `+Inf` equal to `_count`.
fn check_exposition(text: &str) {
    let valid_name = |n: &str| {
        !n.is_empty()
            && !n.starts_with(|c: char| c.is_ascii_digit())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    };
    let mut families: std::collections::HashMap<String, String> = Default::default();
    let mut buckets: Vec<f64> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(valid_name(name), "{line}");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(
                families.insert(name.into(), kind.into()).is_none(),
                "twice: {line}"
            );
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value of {line}")),
        };
        let name = series.split('{').next().unwrap();
        assert!(valid_name(name), "{line}");
        let family = families
            .keys()
            .find(|f| {
                name == f.as_str()
                    || ["_bucket", "_sum", "_count"]
                        .iter()
                        .any(|s| name == format!("{f}{s}"))
            })
            .unwrap_or_else(|| panic!("sample before its # TYPE: {line}"));
        if series.contains('{') {
            assert!(series.ends_with('}'), "{line}");
        }
        if families[family] == "histogram" {
            if name.ends_with("_bucket") {
                assert!(
                    buckets.last().is_none_or(|b| *b <= value),
                    "not cumulative: {line}"
                );
                buckets.push(value);
                if series.contains("le=\"+Inf\"") {
                    continue;
                }
            } else if name.ends_with("_count") {
                assert_eq!(buckets.last().copied(), Some(value), "+Inf bucket != count");
                buckets.clear();
            }
        }
    }
    assert!(families.len() >= 9, "{families:?}");
}

fn open_connections(s: &server_support::TestServer) -> f64 {
    let text = s.handle.metrics().render();
    text.lines()
        .find_map(|l| l.strip_prefix("cardbridge_http_connections_open "))
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn idle_http2_connections_are_closed_after_the_idle_timeout() {
    // HTTP/2 clients answer pings, so only the server's idle limit frees the slot.
    let s = start(|o| o.idle_timeout = Duration::from_millis(300)).await;
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let r = h2
        .get(format!("{}/dav/", s.handle.base_url()))
        .basic_auth(BOB.0, Some(BOB.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.version(), reqwest::Version::HTTP_2);
    assert_eq!(r.text().await.unwrap(), "user=bob;len=0");
    assert_eq!(open_connections(&s), 1.0);
    let mut closed = false;
    for _ in 0..200 {
        if open_connections(&s) == 0.0 {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(closed, "idle h2 connection still open");
    // The client notices the GOAWAY and simply reconnects.
    let r = h2
        .get(format!("{}/dav/", s.handle.base_url()))
        .basic_auth(BOB.0, Some(BOB.1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.handle.shutdown().await;
}
