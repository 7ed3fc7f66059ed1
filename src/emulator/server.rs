//! The emulator's HTTP listener (hyper 1 + hyper-util, HTTP/1.1 and h2 on loopback).
//!
//! Routes each request to the admin API (`/_emulator/…`), the identity platform
//! (`/{tenant}/oauth2/v2.0/…`) or Graph (`/v1.0/…`, `/beta/…`); applies injected faults
//! first; renders replies with Graph's headers (`request-id`, `client-request-id`,
//! `OData-Version`, the OData JSON content type) and error envelopes (reference/graph.md
//! §1.3, §1.4); caps bodies at 4 MB (413); counts everything but the admin API.

use super::admin;
use super::errors::GraphErr;
use super::faults::Faults;
use super::graph;
use super::oauth::{self, OAuth};
use super::request::{GraphRequest, Reply, ReplyBody};
use super::stats::Recorder;
use super::throttle::Throttle;
use super::world::World;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Request body cap (§1.2: 4 MB per REST request).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

const GRAPH_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/// State shared by every connection and by the [`super::EmulatorHandle`].
#[derive(Debug)]
pub struct Shared {
    world: Mutex<World>,
    pub oauth: OAuth,
    pub throttle: Throttle,
    pub faults: Faults,
    pub stats: Recorder,
    pub auto_approve: bool,
    pub default_user: String,
    pub client_id: String,
    /// `http://127.0.0.1:PORT`, for links when a request has no `Host`.
    pub origin: String,
}

impl Shared {
    pub fn new(
        world: World,
        oauth: OAuth,
        throttle: Throttle,
        auto_approve: bool,
        default_user: String,
        client_id: String,
        origin: String,
    ) -> Self {
        Self {
            world: Mutex::new(world),
            oauth,
            throttle,
            faults: Faults::default(),
            stats: Recorder::default(),
            auto_approve,
            default_user,
            client_id,
            origin,
        }
    }

    /// Lock the store (a panicked holder does not poison it for everyone else).
    pub fn world(&self) -> MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A fault asked for the connection to be dropped.
#[derive(Debug)]
pub struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

/// Accept connections until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let shared = shared.clone();
                // Each request runs in its own task, as on a real server: a client that
                // hangs up (its timeout) does not cancel work Graph has already begun, so a
                // slow create still lands after the client gave up (graph.md §7).
                let svc = hyper::service::service_fn(move |req| {
                    let task = tokio::spawn(handle(shared.clone(), req));
                    async move { task.await.unwrap_or(Err(Dropped)) }
                });
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                let conn = builder.serve_connection(TokioIo::new(stream), svc).into_owned();
                let watched = graceful.watch(conn);
                tokio::spawn(async move {
                    let _ = watched.await;
                });
            }
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
            }
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), graceful.shutdown()).await;
}

fn origin_of(shared: &Shared, req: &Request<Incoming>) -> String {
    req.headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"))
        .or_else(|| {
            req.uri()
                .authority()
                .map(|a| format!("http://{}", a.as_str()))
        })
        .unwrap_or_else(|| shared.origin.clone())
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let origin = origin_of(&shared, &req);
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let method = parts.method.clone();
    let client_request_id = parts
        .headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(crate::guid::random);
    let request_id = crate::guid::random();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let e = GraphErr::new(
                413,
                "RequestEntityTooLarge",
                "The request body exceeds the maximum size of 4 MB.",
            );
            return Ok(render(
                Reply::error(e),
                &request_id,
                &client_request_id,
                true,
            ));
        }
    };
    if path.starts_with("/_emulator") {
        let reply = admin::handle(&shared, &method, &path, &query, &body, &origin);
        return Ok(render(reply, &request_id, &client_request_id, false));
    }
    let mut delay = None;
    let mut faulted = false;
    let mut drop_after = false;
    if let Some(hit) = shared.faults.check(method.as_str(), &path) {
        faulted = true;
        drop_after = hit.drop_after;
        if hit.drop_connection {
            if let Some(d) = hit.delay {
                tokio::time::sleep(d).await;
            }
            shared.stats.record(method.as_str(), "dropped", 0, true);
            return Err(Dropped);
        }
        if let Some(e) = hit.respond {
            if let Some(d) = hit.delay {
                tokio::time::sleep(d).await;
            }
            let graph_like = !path.to_ascii_lowercase().contains("/oauth2/");
            shared
                .stats
                .record(method.as_str(), "fault", e.status, true);
            return Ok(render(
                Reply::error(e),
                &request_id,
                &client_request_id,
                graph_like,
            ));
        }
        delay = hit.delay;
    }
    let lower = path.to_ascii_lowercase();
    let (reply, is_graph) = if let Some(idx) = lower.find("/oauth2/v2.0/") {
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        let op = &path[idx + "/oauth2/v2.0/".len()..];
        let reply = if op.eq_ignore_ascii_case("devicelogin") {
            device_login(&shared, &method, &body)
        } else {
            let world = &shared;
            let resolve = |h: &str| world.world().resolve_user(h);
            let env = oauth::Env {
                origin: &origin,
                auto_approve: shared.auto_approve,
                default_user: &shared.default_user,
                resolve_user: &resolve,
            };
            shared.oauth.handle(&env, &method, op, &query, &path, &body)
        };
        (reply.with_route("/oauth2/v2.0/{op}"), false)
    } else if lower.starts_with("/v1.0/") || lower.starts_with("/beta/") {
        let greq = GraphRequest {
            method: method.clone(),
            origin,
            path: path.clone(),
            query,
            headers: parts.headers,
            body,
        };
        (graph::dispatch(&shared, &greq, delay).await, true)
    } else {
        (
            Reply::error(GraphErr::parse_uri(path.trim_start_matches('/'))).with_route("unknown"),
            true,
        )
    };
    if drop_after {
        // The request was handled; its answer is lost.
        shared.stats.record(method.as_str(), "dropped", 0, true);
        return Err(Dropped);
    }
    shared
        .stats
        .record(method.as_str(), reply.route, reply.status, faulted);
    Ok(render(reply, &request_id, &client_request_id, is_graph))
}

fn device_login(shared: &Shared, method: &http::Method, body: &[u8]) -> Reply {
    if method == http::Method::GET {
        return Reply::html(200, oauth::device_login_page(""));
    }
    let (code, login) = oauth::device_login_form(body);
    let user = if login.is_empty() {
        Some(shared.default_user.clone())
    } else {
        shared.world().resolve_user(&login)
    };
    let ok = user.is_some_and(|u| shared.oauth.approve_device(&code, &u));
    let msg = if ok {
        "Signed in. You can close this window."
    } else {
        "Unknown code or account."
    };
    Reply::html(if ok { 200 } else { 400 }, oauth::device_login_page(msg))
}

/// Turn a reply into a hyper response.
fn render(
    reply: Reply,
    request_id: &str,
    client_request_id: &str,
    graph_like: bool,
) -> Response<Full<Bytes>> {
    let mut b = Response::builder().status(reply.status);
    let (ct, bytes): (Option<String>, Bytes) = match reply.body {
        ReplyBody::Empty => (None, Bytes::new()),
        ReplyBody::Json(v) => (
            Some(if graph_like {
                GRAPH_JSON.to_owned()
            } else {
                "application/json; charset=utf-8".to_owned()
            }),
            Bytes::from(serde_json::to_vec(&v).unwrap_or_default()),
        ),
        ReplyBody::Bytes {
            content_type,
            bytes,
        } => (Some(content_type), bytes),
        ReplyBody::Text { content_type, text } => (Some(content_type), Bytes::from(text)),
        ReplyBody::Error(e) => (
            Some(if graph_like {
                GRAPH_JSON.to_owned()
            } else {
                "application/json; charset=utf-8".to_owned()
            }),
            Bytes::from(
                serde_json::to_vec(&e.envelope(request_id, client_request_id)).unwrap_or_default(),
            ),
        ),
    };
    if let Some(ct) = ct {
        b = b.header(http::header::CONTENT_TYPE, ct);
    }
    if graph_like {
        b = b
            .header("request-id", request_id)
            .header("client-request-id", client_request_id)
            .header("odata-version", "4.0");
    }
    for (k, v) in &reply.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    b.body(Full::new(bytes)).unwrap_or_else(|_| {
        let mut r = Response::new(Full::new(Bytes::from_static(b"bad response header")));
        *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}
