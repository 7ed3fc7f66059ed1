//! A tiny scripted HTTP/1.1 server for client tests: each request is recorded and
//! answered by a closure (reply, drop the connection, or answer slowly).
#![allow(dead_code)]

use bytes::Bytes;
use cardbridge::graph::{GraphClient, GraphClientOptions, StaticToken, TokenSource};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

pub enum Action {
    Reply(u16, Vec<(&'static str, String)>, String),
    /// Close the connection without answering.
    Drop,
    /// Answer after a pause.
    Slow(Duration, u16, String),
}

pub fn json(status: u16, body: serde_json::Value) -> Action {
    Action::Reply(
        status,
        vec![("content-type", "application/json".into())],
        body.to_string(),
    )
}

pub fn throttled(retry_after: &str) -> Action {
    Action::Reply(
        429,
        vec![("retry-after", retry_after.into())],
        r#"{"error":{"code":"ApplicationThrottled","message":"Application is over its MailboxConcurrency limit."}}"#.into(),
    )
}

pub type Handler = dyn Fn(usize, &Seen) -> Action + Send + Sync;

pub struct Server {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub in_flight: Arc<AtomicUsize>,
    pub max_in_flight: Arc<AtomicUsize>,
}

impl Server {
    /// `handler(n, request)`: `n` counts requests from 0.
    pub async fn start(handler: impl Fn(usize, &Seen) -> Action + Send + Sync + 'static) -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let in_flight = Arc::new(AtomicUsize::new(0));
        let max_in_flight = Arc::new(AtomicUsize::new(0));
        let handler: Arc<Handler> = Arc::new(handler);
        let (s, f, m) = (seen.clone(), in_flight.clone(), max_in_flight.clone());
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (handler, seen, in_flight, max_in_flight) =
                    (handler.clone(), s.clone(), f.clone(), m.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let (handler, seen, in_flight, max_in_flight) = (
                            handler.clone(),
                            seen.clone(),
                            in_flight.clone(),
                            max_in_flight.clone(),
                        );
                        async move {
                            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                            max_in_flight.fetch_max(now, Ordering::SeqCst);
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let rec = Seen {
                                method: parts.method.to_string(),
                                uri: parts.uri.to_string(),
                                headers: parts.headers,
                                body,
                            };
                            let n = {
                                let mut v = seen.lock().unwrap();
                                v.push(rec.clone());
                                v.len() - 1
                            };
                            let action = handler(n, &rec);
                            let result = match action {
                                Action::Drop => Err("drop"),
                                Action::Reply(status, headers, body) => {
                                    let mut r = Response::builder().status(status);
                                    for (k, v) in headers {
                                        r = r.header(k, v);
                                    }
                                    Ok(r.body(Full::new(Bytes::from(body))).unwrap())
                                }
                                Action::Slow(pause, status, body) => {
                                    tokio::time::sleep(pause).await;
                                    Ok(Response::builder()
                                        .status(status)
                                        .body(Full::new(Bytes::from(body)))
                                        .unwrap())
                                }
                            };
                            in_flight.fetch_sub(1, Ordering::SeqCst);
                            result
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Server {
            addr,
            seen,
            in_flight,
            max_in_flight,
        }
    }

    pub fn root(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn client(&self, tweak: impl FnOnce(&mut GraphClientOptions)) -> GraphClient {
        self.client_with(Arc::new(StaticToken::new("tok")), tweak)
    }

    pub fn client_with(
        &self,
        tokens: Arc<dyn TokenSource>,
        tweak: impl FnOnce(&mut GraphClientOptions),
    ) -> GraphClient {
        let mut o = GraphClientOptions {
            graph_root: self.root(),
            initial_backoff: Duration::from_millis(10),
            max_retry_wait: Duration::from_secs(5),
            request_timeout: Duration::from_secs(5),
            ..Default::default()
        };
        tweak(&mut o);
        GraphClient::new(o, tokens).unwrap()
    }
}

/// Form fields of a recorded `application/x-www-form-urlencoded` body.
pub fn form(seen: &Seen) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(&seen.body)
        .into_owned()
        .collect()
}
