//! One client connection: optional TLS handshake, then HTTP/1.1 or HTTP/2 (hyper-util's
//! auto builder) until the client leaves, the connection has been idle for
//! `idle_timeout`, or the server shuts down.
//!
//! hyper closes idle HTTP/1 connections through its header-read timeout, but an HTTP/2
//! connection that answers pings stays open forever; without an idle limit a client
//! could hold every connection slot with idle connections. So each connection tracks
//! its requests in flight and the time of the last one, and is shut down gracefully
//! (GOAWAY for h2, close after the response for h1) once nothing happened for
//! `idle_timeout`. The same graceful path serves server shutdown: requests already
//! running finish.

use super::handler::App;
use super::metrics::OpenConnection;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::Instant;

/// Requests in flight on one connection and when the last one ended.
struct Activity {
    epoch: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds after `epoch` of the last request start or end.
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            in_flight: AtomicUsize::new(0),
            last_ms: AtomicU64::new(0),
        }
    }

    fn stamp(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    /// When the connection becomes idle-expired if nothing else happens.
    fn idle_deadline(&self, idle: Duration) -> Instant {
        self.epoch + Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + idle
    }

    fn idle_expired(&self, idle: Duration) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0 && Instant::now() >= self.idle_deadline(idle)
    }
}

/// Marks a request in flight until dropped (also when its future is cancelled).
struct Busy(Arc<Activity>);

impl Busy {
    fn new(activity: &Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::Relaxed);
        activity.stamp();
        Self(activity.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.stamp();
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(crate) struct Connection {
    pub builder: auto::Builder<TokioExecutor>,
    pub app: Arc<App>,
    pub acceptor: Option<tokio_rustls::TlsAcceptor>,
    pub idle_timeout: Duration,
    pub stop: watch::Receiver<bool>,
    pub open: OpenConnection,
}

impl Connection {
    pub async fn serve(self, tcp: TcpStream, peer: SocketAddr) {
        match self.acceptor.clone() {
            None => self.serve_io(tcp, peer).await,
            Some(acceptor) => {
                match tokio::time::timeout(self.idle_timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => self.serve_io(tls, peer).await,
                    Ok(Err(e)) => tracing::debug!(peer = %peer.ip(), "TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!(peer = %peer.ip(), "TLS handshake timed out"),
                }
            }
        }
    }

    async fn serve_io<I>(mut self, io: I, peer: SocketAddr)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let activity = Arc::new(Activity::new());
        let app = self.app.clone();
        let tracked = activity.clone();
        let service = service_fn(move |req| {
            let app = app.clone();
            let busy = Busy::new(&tracked);
            async move {
                let response = app.serve(peer, req).await;
                drop(busy);
                Ok::<_, Infallible>(response)
            }
        });
        let conn = self
            .builder
            .serve_connection(TokioIo::new(io), service)
            .into_owned();
        tokio::pin!(conn);
        let mut draining = false;
        if *self.stop.borrow() {
            conn.as_mut().graceful_shutdown();
            draining = true;
        }
        loop {
            let idle_deadline = activity.idle_deadline(self.idle_timeout);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(peer = %peer.ip(), "connection ended with an error: {e}");
                    }
                    break;
                }
                _ = self.stop.changed(), if !draining => {
                    conn.as_mut().graceful_shutdown();
                    draining = true;
                }
                _ = tokio::time::sleep_until(idle_deadline), if !draining => {
                    if activity.idle_expired(self.idle_timeout) {
                        tracing::debug!(peer = %peer.ip(), "closing idle connection");
                        conn.as_mut().graceful_shutdown();
                        draining = true;
                    }
                }
            }
        }
        drop(self.open);
    }
}
