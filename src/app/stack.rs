//! One running cardbridge: bridge → dav → server, plus bridge figures on `/metrics`
//! (`app::metrics`).
//! Shared by `serve` (from the configuration file) and `demo` (in front of the emulator);
//! the onboarding page, when enabled, is mounted in front of `dav`.

use crate::bridge::{AccountDirectory, Bridge, BridgeConfig};
use crate::dav::{Dav, DavOptions};
use crate::server::{DavService, Readiness, ServerHandle, ServerOptions, UserStore};
use crate::state::SharedStore;
use std::sync::Arc;
use std::time::Duration;

/// What a stack is built from.
pub struct StackParts {
    pub store: SharedStore,
    pub bridge: BridgeConfig,
    pub accounts: Arc<dyn AccountDirectory>,
    pub server: ServerOptions,
    pub users: UserStore,
    /// Largest card accepted on PUT.
    pub max_resource_size: u64,
    /// The onboarding page under `/web/`, when enabled.
    pub web: Option<super::WebSetup>,
}

/// A started stack.
pub struct Stack {
    pub server: ServerHandle,
    pub bridge: Arc<Bridge>,
    pub readiness: Readiness,
    polling: Option<tokio::task::JoinHandle<()>>,
}

impl Stack {
    /// Serve until Ctrl-C / SIGTERM, then stop polling and shut down gracefully.
    pub async fn run_until_signal(self) {
        self.server.run_until_signal().await;
        if let Some(p) = self.polling {
            p.abort();
        }
    }

    /// Stop now (tests).
    pub async fn shutdown(self) {
        if let Some(p) = self.polling {
            p.abort();
        }
        self.server.shutdown().await;
    }
}

/// Build and start the layers. The server answers `/readyz` with 503 until
/// [`Readiness::set_ready`] is called on `Stack::readiness`.
pub async fn start_stack(parts: StackParts) -> anyhow::Result<Stack> {
    let poll_secs = parts.bridge.poll_interval_secs;
    let bridge = Arc::new(Bridge::new(parts.store, parts.bridge, parts.accounts));
    super::metrics::register(&parts.server, &bridge);
    // DavOptions grows with the protocol layer; take its defaults for the rest.
    #[allow(clippy::needless_update)]
    let dav_options = DavOptions {
        max_resource_size: parts.max_resource_size,
        ..DavOptions::default()
    };
    let dav = Arc::new(Dav::new(Arc::clone(&bridge), dav_options));
    let mut service: Arc<dyn DavService> = Arc::new(dav);
    if let Some(web) = parts.web {
        service = web.mount(service, parts.users.clone(), Arc::clone(&bridge));
    }
    let readiness = Readiness::flag(false);
    let server =
        crate::server::start(parts.server, parts.users, service, readiness.clone()).await?;
    let polling = (poll_secs > 0).then(|| bridge.spawn_polling(Duration::from_secs(poll_secs)));
    Ok(Stack {
        server,
        bridge,
        readiness,
        polling,
    })
}
