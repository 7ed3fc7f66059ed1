//! Request statistics for benchmarks and tests (`GET /_emulator/stats`).
//!
//! Counts every request the emulator served outside `/_emulator/` since the last reset:
//! total, per method, per route template (`GET /{u}/contacts/{id}`), per status, the 429s,
//! and `$batch` sub-requests separately (they also appear under their route templates).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// A snapshot of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// HTTP requests served (a `$batch` counts once here).
    pub total: u64,
    pub by_method: BTreeMap<String, u64>,
    /// `METHOD /route/template` → count (batch sub-requests included).
    pub by_route: BTreeMap<String, u64>,
    /// Status code (as a string) → count.
    pub by_status: BTreeMap<String, u64>,
    /// 429 answers, including batch sub-responses.
    pub throttled: u64,
    pub batch_subrequests: u64,
    /// Requests answered or delayed by an injected fault.
    pub faults_injected: u64,
}

/// The live counters.
#[derive(Debug, Default)]
pub struct Recorder {
    inner: Mutex<Stats>,
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Stats> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One HTTP request.
    pub fn record(&self, method: &str, route: &str, status: u16, fault: bool) {
        let mut s = self.lock();
        s.total += 1;
        *s.by_method.entry(method.to_owned()).or_default() += 1;
        *s.by_route.entry(format!("{method} {route}")).or_default() += 1;
        *s.by_status.entry(status.to_string()).or_default() += 1;
        if status == 429 {
            s.throttled += 1;
        }
        if fault {
            s.faults_injected += 1;
        }
    }

    /// One `$batch` sub-request.
    pub fn record_sub(&self, method: &str, route: &str, status: u16) {
        let mut s = self.lock();
        s.batch_subrequests += 1;
        *s.by_route.entry(format!("{method} {route}")).or_default() += 1;
        if status == 429 {
            s.throttled += 1;
        }
    }

    pub fn snapshot(&self) -> Stats {
        self.lock().clone()
    }

    pub fn reset(&self) {
        *self.lock() = Stats::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_method_route_status_and_resets() {
        let r = Recorder::default();
        r.record("GET", "/{u}/contacts", 200, false);
        r.record("GET", "/{u}/contacts", 429, true);
        r.record_sub("PATCH", "/{u}/contacts/{id}", 429);
        let s = r.snapshot();
        assert_eq!(s.total, 2);
        assert_eq!(s.by_route["GET /{u}/contacts"], 2);
        assert_eq!(s.by_status["429"], 1);
        assert_eq!(
            (s.throttled, s.batch_subrequests, s.faults_injected),
            (2, 1, 1)
        );
        r.reset();
        assert_eq!(r.snapshot(), Stats::default());
    }
}
