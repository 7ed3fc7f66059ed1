//! The listener: accepts TCP connections, optionally wraps them in TLS, serves HTTP/1.1
//! (keep-alive) and HTTP/2 on each through hyper-util's auto builder, and shuts down
//! gracefully.
//!
//! Limits applied here, per connection: at most `max_connections` at once (the rest
//! wait in the kernel backlog), the TLS handshake and every HTTP/1 request head must
//! arrive within `idle_timeout` (which also closes idle keep-alive connections), request
//! heads are capped at `max_header_bytes`, HTTP/2 at 100 concurrent streams with
//! keep-alive pings. Graceful shutdown stops accepting, lets in-flight requests finish
//! (HTTP/1 connections close after their current response, HTTP/2 sends GOAWAY), and
//! cuts whatever still runs after `shutdown_grace`.

use super::connection::Connection;
use super::handler::App;
use super::health::Readiness;
use super::metrics::Metrics;
use super::options::ServerOptions;
use super::service::DavService;
use super::tls::{ReloadingCert, TlsError};
use super::users::UserStore;
use anyhow::Context as _;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

/// A running server. Dropping the handle (and every [`ShutdownTrigger`]) also begins a
/// graceful shutdown, so keep it alive for as long as the server should run.
pub struct ServerHandle {
    local_addr: SocketAddr,
    tls: bool,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    cert: Option<Arc<ReloadingCert>>,
    metrics: Metrics,
}

/// Stops a server from elsewhere (e.g. a signal task) while another task `wait`s.
#[derive(Clone)]
pub struct ShutdownTrigger(watch::Sender<bool>);

impl ShutdownTrigger {
    /// Begin a graceful shutdown.
    pub fn shutdown(&self) {
        let _ = self.0.send(true);
    }
}

impl ServerHandle {
    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://ip:port` or `https://ip:port`; an unspecified bind address is shown as
    /// loopback.
    pub fn base_url(&self) -> String {
        let mut addr = self.local_addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(match addr {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{addr}")
    }

    /// The metrics registry the server reports into.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// A handle that begins shutdown from another task.
    pub fn trigger(&self) -> ShutdownTrigger {
        ShutdownTrigger(self.stop.clone())
    }

    /// Reload the TLS certificate now (what SIGHUP does). `Ok(false)` without TLS.
    pub fn reload_tls(&self) -> Result<bool, TlsError> {
        match &self.cert {
            Some(c) => c.reload(true),
            None => Ok(false),
        }
    }

    /// Stop accepting, let in-flight requests finish (up to the grace period), return.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.wait().await;
    }

    /// Wait until the server has stopped (after a [`ShutdownTrigger`] fired).
    pub async fn wait(self) {
        if let Err(e) = self.task.await {
            tracing::error!("server task ended abnormally: {e}");
        }
    }

    /// Serve until Ctrl-C or SIGTERM, then shut down gracefully.
    pub async fn run_until_signal(self) {
        tokio::select! {
            _ = super::signal::shutdown_signal() => self.shutdown().await,
            _ = self.stop.closed() => {}
        }
    }
}

/// Bind and start serving in the background.
///
/// Fails when the address cannot be bound, the TLS files cannot be loaded, or plain
/// HTTP is asked for on a non-loopback address without `allow_insecure_non_loopback`.
pub async fn start(
    options: ServerOptions,
    users: UserStore,
    dav: Arc<dyn DavService>,
    readiness: Readiness,
) -> anyhow::Result<ServerHandle> {
    super::malloc::tune();
    if options.tls.is_none()
        && !options.listen.ip().is_loopback()
        && !options.allow_insecure_non_loopback
    {
        anyhow::bail!(
            "refusing plain HTTP on {}: passwords would cross the network unencrypted. \
             Set [server] tls_cert and tls_key, listen on 127.0.0.1 behind a TLS proxy, \
             or set allow_insecure = true if a proxy on another host terminates TLS",
            options.listen
        );
    }
    if options.tls.is_none() && !options.listen.ip().is_loopback() {
        tracing::warn!(
            addr = %options.listen,
            "serving plain HTTP on a non-loopback address (allow_insecure): \
             make sure a TLS proxy is in front"
        );
    }
    let cert = match &options.tls {
        Some(files) => Some(Arc::new(
            ReloadingCert::load(files.clone(), options.metrics.clone())
                .context("loading the TLS certificate")?,
        )),
        None => None,
    };
    let acceptor = match &cert {
        Some(c) => Some(tokio_rustls::TlsAcceptor::from(
            c.server_config()
                .context("building the TLS configuration")?,
        )),
        None => None,
    };
    let listener = TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("cannot listen on {}", options.listen))?;
    let local_addr = listener.local_addr()?;
    let (stop, stop_rx) = watch::channel(false);
    if let Some(c) = &cert {
        tokio::spawn(super::tls::watch(
            c.clone(),
            options.tls_reload_interval,
            super::tls::hangup(),
            stop_rx.clone(),
        ));
    }
    let app = Arc::new(App::new(&options, users, dav, readiness));
    let builder = http_builder(&options);
    let accept = Accept {
        listener,
        acceptor,
        builder,
        app,
        slots: Arc::new(Semaphore::new(options.max_connections)),
        idle_timeout: options.idle_timeout,
        grace: options.shutdown_grace,
        metrics: options.metrics.clone(),
    };
    let task = tokio::spawn(accept.run(stop_rx));
    tracing::info!(
        addr = %local_addr,
        tls = cert.is_some(),
        "CardDAV server listening"
    );
    Ok(ServerHandle {
        local_addr,
        tls: cert.is_some(),
        stop,
        task,
        cert,
        metrics: options.metrics,
    })
}

fn http_builder(options: &ServerOptions) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(options.idle_timeout)
        .max_buf_size(options.max_header_bytes.max(8192))
        .max_headers(128);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(options.max_header_bytes).unwrap_or(u32::MAX))
        .max_concurrent_streams(100)
        .keep_alive_interval(Some(options.idle_timeout))
        .keep_alive_timeout(Duration::from_secs(20));
    builder
}

struct Accept {
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    builder: auto::Builder<TokioExecutor>,
    app: Arc<App>,
    slots: Arc<Semaphore>,
    idle_timeout: Duration,
    grace: Duration,
    metrics: Metrics,
}

impl Accept {
    async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut connections = JoinSet::new();
        loop {
            let permit = tokio::select! {
                _ = stop.changed() => break,
                p = self.slots.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let accepted = tokio::select! {
                _ = stop.changed() => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                a = self.listener.accept() => a,
            };
            let (tcp, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let conn = Connection {
                builder: self.builder.clone(),
                app: self.app.clone(),
                acceptor: self.acceptor.clone(),
                idle_timeout: self.idle_timeout,
                stop: stop.clone(),
                open: self.metrics.connection_opened(),
            };
            connections.spawn(async move {
                conn.serve(tcp, peer).await;
                drop(permit);
            });
        }
        drop(self.listener);
        tracing::info!("shutting down: waiting for in-flight requests");
        // Every connection saw the stop signal and is draining (see `connection`).
        let drained = tokio::time::timeout(self.grace, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                "requests still running after {:?}; closing their connections",
                self.grace
            );
        }
        connections.shutdown().await;
        tracing::info!("server stopped");
    }
}
