//! Prometheus metrics in the text exposition format (version 0.0.4), served at
//! `/metrics`.
//!
//! A small registry of atomics instead of a metrics crate: the server counts requests by
//! method and status, a latency histogram, in-flight requests, open connections and
//! authentication failures; other modules add their own samples with
//! [`Metrics::register_gauge`], [`Metrics::register_counter`] or
//! [`Metrics::register_family`] (a closure read at scrape time, so nothing is pushed on
//! hot paths). Label cardinality is bounded: unknown methods count as `OTHER`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// Upper bounds of the latency histogram buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Methods counted under their own name; anything else is `OTHER`.
const KNOWN_METHODS: [&str; 15] = [
    "GET",
    "HEAD",
    "PUT",
    "POST",
    "DELETE",
    "OPTIONS",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "REPORT",
    "MKCOL",
    "MOVE",
    "COPY",
    "LOCK",
    "UNLOCK",
];

/// Kind of a registered metric family (the `# TYPE` line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    Gauge,
    Counter,
}

impl MetricKind {
    fn as_str(self) -> &'static str {
        match self {
            MetricKind::Gauge => "gauge",
            MetricKind::Counter => "counter",
        }
    }
}

/// One labelled sample of a registered family.
pub type Sample = (Vec<(String, String)>, f64);

type Collector = Box<dyn Fn() -> Vec<Sample> + Send + Sync>;

/// Why a metric could not be registered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetricsError {
    #[error("invalid metric name {0:?}")]
    InvalidName(String),
    #[error("metric {0:?} is already registered")]
    Duplicate(String),
}

struct Registered {
    name: String,
    help: String,
    kind: MetricKind,
    collect: Collector,
}

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

#[derive(Default)]
struct Inner {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Histogram,
    in_flight: AtomicI64,
    connections: AtomicI64,
    auth_failures: AtomicU64,
    auth_throttled: AtomicU64,
    rate_limited: AtomicU64,
    tls_reloads: AtomicU64,
    tls_reload_failures: AtomicU64,
    extra: RwLock<Vec<Registered>>,
}

/// The metrics registry; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// Decrements the in-flight gauge when dropped (also when a request future is cancelled).
pub(crate) struct InFlight(Metrics);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.inner.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Decrements the open-connections gauge when dropped.
pub(crate) struct OpenConnection(Metrics);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.inner.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

fn method_label(method: &http::Method) -> &'static str {
    KNOWN_METHODS
        .iter()
        .find(|m| **m == method.as_str())
        .copied()
        .unwrap_or("OTHER")
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn escape_help(value: &str) -> String {
    value.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Prometheus float formatting (`+Inf`, `NaN`).
fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn request_started(&self) -> InFlight {
        self.inner.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    pub(crate) fn connection_opened(&self) -> OpenConnection {
        self.inner.connections.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self.clone())
    }

    /// Count a finished request.
    pub(crate) fn request_finished(&self, method: &http::Method, status: u16, elapsed: Duration) {
        if let Ok(mut map) = self.inner.requests.lock() {
            *map.entry((method_label(method), status)).or_insert(0) += 1;
        }
        let secs = elapsed.as_secs_f64();
        let h = &self.inner.latency;
        if let Some(i) = LATENCY_BUCKETS.iter().position(|b| secs <= *b) {
            h.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        h.sum_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        h.count.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn auth_failed(&self) {
        self.inner.auth_failures.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn auth_throttled(&self) {
        self.inner.auth_throttled.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn rate_limited(&self) {
        self.inner.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn tls_reloaded(&self, ok: bool) {
        if ok {
            self.inner.tls_reloads.fetch_add(1, Ordering::Relaxed);
        } else {
            self.inner
                .tls_reload_failures
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Requests currently being answered.
    pub fn in_flight(&self) -> i64 {
        self.inner.in_flight.load(Ordering::Relaxed)
    }

    /// Register a gauge without labels, read at scrape time.
    pub fn register_gauge(
        &self,
        name: &str,
        help: &str,
        read: impl Fn() -> f64 + Send + Sync + 'static,
    ) -> Result<(), MetricsError> {
        self.register_family(name, help, MetricKind::Gauge, move || {
            vec![(Vec::new(), read())]
        })
    }

    /// Register a monotonically increasing counter without labels, read at scrape time.
    pub fn register_counter(
        &self,
        name: &str,
        help: &str,
        read: impl Fn() -> f64 + Send + Sync + 'static,
    ) -> Result<(), MetricsError> {
        self.register_family(name, help, MetricKind::Counter, move || {
            vec![(Vec::new(), read())]
        })
    }

    /// Register a family of labelled samples (e.g. sync age per account), read at
    /// scrape time. Keep label values bounded.
    pub fn register_family(
        &self,
        name: &str,
        help: &str,
        kind: MetricKind,
        collect: impl Fn() -> Vec<Sample> + Send + Sync + 'static,
    ) -> Result<(), MetricsError> {
        if !valid_name(name) {
            return Err(MetricsError::InvalidName(name.into()));
        }
        let mut extra = self
            .inner
            .extra
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if name.starts_with("cardbridge_http_") || extra.iter().any(|r| r.name == name) {
            return Err(MetricsError::Duplicate(name.into()));
        }
        extra.push(Registered {
            name: name.into(),
            help: help.into(),
            kind,
            collect: Box::new(collect),
        });
        Ok(())
    }

    /// The whole registry in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let i = &self.inner;

        header(
            &mut out,
            "cardbridge_http_requests_total",
            "HTTP requests answered, by method and status.",
            "counter",
        );
        if let Ok(map) = i.requests.lock() {
            for ((method, status), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "cardbridge_http_requests_total{{method=\"{method}\",status=\"{status}\"}} {n}"
                );
            }
        }

        header(
            &mut out,
            "cardbridge_http_request_duration_seconds",
            "Time to answer a request (until the response head).",
            "histogram",
        );
        let mut cumulative = 0u64;
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(i.latency.buckets.iter()) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "cardbridge_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let count = i.latency.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "cardbridge_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = i.latency.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "cardbridge_http_request_duration_seconds_sum {}",
            fmt_value(sum)
        );
        let _ = writeln!(
            out,
            "cardbridge_http_request_duration_seconds_count {count}"
        );

        let simple: [(&str, &str, &str, f64); 7] = [
            (
                "cardbridge_http_requests_in_flight",
                "Requests being answered now.",
                "gauge",
                i.in_flight.load(Ordering::Relaxed) as f64,
            ),
            (
                "cardbridge_http_connections_open",
                "Client connections open now.",
                "gauge",
                i.connections.load(Ordering::Relaxed) as f64,
            ),
            (
                "cardbridge_http_auth_failures_total",
                "Requests with wrong or unknown credentials.",
                "counter",
                i.auth_failures.load(Ordering::Relaxed) as f64,
            ),
            (
                "cardbridge_http_auth_throttled_total",
                "Login attempts refused because of too many failures.",
                "counter",
                i.auth_throttled.load(Ordering::Relaxed) as f64,
            ),
            (
                "cardbridge_http_rate_limited_total",
                "Requests refused by the per-user request rate limit.",
                "counter",
                i.rate_limited.load(Ordering::Relaxed) as f64,
            ),
            (
                "cardbridge_http_tls_reloads_total",
                "Successful TLS certificate reloads.",
                "counter",
                i.tls_reloads.load(Ordering::Relaxed) as f64,
            ),
            (
                "cardbridge_http_tls_reload_failures_total",
                "TLS certificate reloads that failed (old certificate kept).",
                "counter",
                i.tls_reload_failures.load(Ordering::Relaxed) as f64,
            ),
        ];
        for (name, help, kind, value) in simple {
            header(&mut out, name, help, kind);
            let _ = writeln!(out, "{name} {}", fmt_value(value));
        }

        let extra = i
            .extra
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for r in extra.iter() {
            header(&mut out, &r.name, &r.help, r.kind.as_str());
            for (labels, value) in (r.collect)() {
                out.push_str(&r.name);
                if !labels.is_empty() {
                    out.push('{');
                    for (n, (k, v)) in labels.iter().enumerate() {
                        if n > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{k}=\"{}\"", escape_label(v));
                    }
                    out.push('}');
                }
                let _ = writeln!(out, " {}", fmt_value(value));
            }
        }
        out
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_and_histogram_is_cumulative() {
        let m = Metrics::new();
        m.request_finished(&http::Method::GET, 200, Duration::from_micros(500));
        m.request_finished(&http::Method::GET, 200, Duration::from_millis(30));
        let propfind = http::Method::from_bytes(b"PROPFIND").unwrap();
        m.request_finished(&propfind, 207, Duration::from_secs(20));
        let odd = http::Method::from_bytes(b"BREW").unwrap();
        m.request_finished(&odd, 405, Duration::from_millis(1));
        let text = m.render();
        assert!(text.contains("cardbridge_http_requests_total{method=\"GET\",status=\"200\"} 2\n"));
        assert!(
            text.contains("cardbridge_http_requests_total{method=\"PROPFIND\",status=\"207\"} 1\n")
        );
        assert!(
            text.contains("cardbridge_http_requests_total{method=\"OTHER\",status=\"405\"} 1\n")
        );
        assert!(text.contains("cardbridge_http_request_duration_seconds_bucket{le=\"0.001\"} 2\n"));
        assert!(text.contains("cardbridge_http_request_duration_seconds_bucket{le=\"0.05\"} 3\n"));
        assert!(text.contains("cardbridge_http_request_duration_seconds_bucket{le=\"10\"} 3\n"));
        assert!(text.contains("cardbridge_http_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"));
        assert!(text.contains("cardbridge_http_request_duration_seconds_count 4\n"));
    }

    #[test]
    fn in_flight_guard_and_registered_families() {
        let m = Metrics::new();
        let g = m.request_started();
        assert_eq!(m.in_flight(), 1);
        drop(g);
        assert_eq!(m.in_flight(), 0);
        m.register_gauge(
            "cardbridge_mirror_contacts",
            "Contacts in the mirror.",
            || 42.0,
        )
        .unwrap();
        m.register_family(
            "cardbridge_sync_age_seconds",
            "Age of the last sync.",
            MetricKind::Gauge,
            || vec![(vec![("account".into(), "a\"b".into())], 1.5)],
        )
        .unwrap();
        assert_eq!(
            m.register_gauge("cardbridge_mirror_contacts", "dup", || 0.0),
            Err(MetricsError::Duplicate("cardbridge_mirror_contacts".into()))
        );
        assert!(matches!(
            m.register_gauge("bad name", "x", || 0.0),
            Err(MetricsError::InvalidName(_))
        ));
        let text = m.render();
        assert!(
            text.contains(
                "# TYPE cardbridge_mirror_contacts gauge\ncardbridge_mirror_contacts 42\n"
            )
        );
        assert!(text.contains("cardbridge_sync_age_seconds{account=\"a\\\"b\"} 1.5\n"));
    }
}
