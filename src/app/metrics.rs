//! The bridge's figures on `/metrics` (issue 11 item 3), read at scrape time: per account
//! (mirror size, sync age, sign-in required, sync errors) and for the process's Graph
//! traffic (answers by status, retries, throttling and its waits, errors, token failures;
//! every Graph client counted once).

use crate::bridge::{AccountStats, Bridge};
use crate::graph::ClientStats;
use crate::server::metrics::Sample;
use crate::server::{MetricKind, ServerOptions};
use std::sync::Arc;
use std::time::SystemTime;

/// Per-account figures of the bridge, read at scrape time: (name, help, kind, value).
type AccountFigure = (
    &'static str,
    &'static str,
    MetricKind,
    fn(&AccountStats, SystemTime) -> Option<f64>,
);

const ACCOUNT_FIGURES: &[AccountFigure] = &[
    (
        "cardbridge_mirror_contacts",
        "Contacts held in the mirror, per account.",
        MetricKind::Gauge,
        |a, _| Some(a.contacts as f64),
    ),
    (
        "cardbridge_mirror_books",
        "Address books (contact folders) in the mirror, per account.",
        MetricKind::Gauge,
        |a, _| Some(a.books as f64),
    ),
    (
        "cardbridge_sync_age_seconds",
        "Seconds since the account's last successful Graph sync.",
        MetricKind::Gauge,
        |a, now| {
            let last = a.last_sync?;
            Some(now.duration_since(last).unwrap_or_default().as_secs_f64())
        },
    ),
    (
        "cardbridge_account_sign_in_required",
        "1 when the account's Graph sign-in was refused and a person must sign in again.",
        MetricKind::Gauge,
        |a, _| Some(if a.sign_in_required { 1.0 } else { 0.0 }),
    ),
    (
        "cardbridge_account_sync_errors_total",
        "Failed Graph refreshes and writes of the account since start.",
        MetricKind::Counter,
        |a, _| Some(a.errors as f64),
    ),
];

/// Graph figures of the process (every client once), read at scrape time.
type GraphFigure = (&'static str, &'static str, fn(&ClientStats) -> f64);

const GRAPH_FIGURES: &[GraphFigure] = &[
    (
        "cardbridge_graph_retries_total",
        "Graph requests sent again (after 401, throttling, 5xx or a transport error).",
        |g| g.retries as f64,
    ),
    (
        "cardbridge_graph_throttled_total",
        "Graph answers 429, 503 or 504.",
        |g| g.throttled as f64,
    ),
    (
        "cardbridge_graph_throttle_wait_seconds_total",
        "Time spent waiting before Graph retries (Retry-After and backoff).",
        |g| g.throttled_wait_ms as f64 / 1000.0,
    ),
    (
        "cardbridge_graph_errors_total",
        "Graph calls that ended in an error after their retries.",
        |g| g.errors as f64,
    ),
    (
        "cardbridge_graph_token_failures_total",
        "Graph requests that found no usable access token (refresh or client-credentials grant refused or unreachable).",
        |g| g.token_failures as f64,
    ),
];

/// Register one family; a refused registration is logged, not fatal.
fn family(
    options: &ServerOptions,
    name: &str,
    help: &str,
    kind: MetricKind,
    collect: impl Fn() -> Vec<Sample> + Send + Sync + 'static,
) {
    if let Err(e) = options.metrics.register_family(name, help, kind, collect) {
        tracing::warn!("metric {name} not registered: {e}");
    }
}

/// Register the bridge's figures on the server's `/metrics`.
pub fn register(options: &ServerOptions, bridge: &Arc<Bridge>) {
    for &(name, help, kind, read) in ACCOUNT_FIGURES {
        let b = Arc::clone(bridge);
        family(options, name, help, kind, move || {
            let now = SystemTime::now();
            b.stats()
                .accounts
                .iter()
                .filter_map(|a| Some((vec![("account".into(), a.key.clone())], read(a, now)?)))
                .collect()
        });
    }
    for &(name, help, read) in GRAPH_FIGURES {
        let b = Arc::clone(bridge);
        family(options, name, help, MetricKind::Counter, move || {
            vec![(Vec::new(), read(&b.graph_stats()))]
        });
    }
    let b = Arc::clone(bridge);
    family(
        options,
        "cardbridge_graph_requests_total",
        "Graph answers by HTTP status (every attempt; a $batch counts once).",
        MetricKind::Counter,
        move || {
            b.graph_stats()
                .by_status
                .iter()
                .map(|(status, n)| (vec![("status".into(), status.to_string())], *n as f64))
                .collect()
        },
    );
}
