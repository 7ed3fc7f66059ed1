//! Per-mailbox throttling (reference/graph.md §0 point 8, §7).
//!
//! Outlook allows 4 concurrent requests and 10,000 requests per 10 minutes per app and
//! mailbox. Each Graph request takes a slot keyed by (client id, mailbox); over either
//! limit it gets 429 `ApplicationThrottled` with `Retry-After` (1 s for concurrency, the
//! rest of the window for the request budget). Switchable at run time.

use super::errors::GraphErr;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Tunables (admin `POST /_emulator/settings`).
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    pub enabled: bool,
    pub concurrency: u32,
    pub window_requests: u32,
    pub window_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            enabled: true,
            concurrency: 4,
            window_requests: 10_000,
            window_secs: 600,
        }
    }
}

#[derive(Debug)]
struct Slot {
    in_flight: u32,
    window_start: Instant,
    count: u32,
}

#[derive(Debug)]
struct Inner {
    limits: Limits,
    slots: HashMap<(String, String), Slot>,
}

/// The throttle for every mailbox.
#[derive(Debug)]
pub struct Throttle {
    inner: Mutex<Inner>,
}

/// Held while a request runs; frees the concurrency slot when dropped.
pub struct Guard<'a> {
    throttle: &'a Throttle,
    key: Option<(String, String)>,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if let Some(k) = self.key.take() {
            let mut inner = self.throttle.lock();
            if let Some(s) = inner.slots.get_mut(&k) {
                s.in_flight = s.in_flight.saturating_sub(1);
            }
        }
    }
}

impl Throttle {
    pub fn new(enabled: bool) -> Self {
        Self {
            inner: Mutex::new(Inner {
                limits: Limits {
                    enabled,
                    ..Limits::default()
                },
                slots: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn limits(&self) -> Limits {
        self.lock().limits
    }

    pub fn set_limits(&self, l: Limits) {
        let mut inner = self.lock();
        inner.limits = l;
        inner.slots.retain(|_, s| s.in_flight > 0);
        for s in inner.slots.values_mut() {
            s.count = 0;
        }
    }

    pub fn set_enabled(&self, on: bool) {
        let mut l = self.limits();
        l.enabled = on;
        self.set_limits(l);
    }

    /// Take a slot for (client, mailbox) or answer 429.
    pub fn acquire(&self, client: &str, mailbox: &str) -> Result<Guard<'_>, GraphErr> {
        let mut inner = self.lock();
        let limits = inner.limits;
        if !limits.enabled {
            return Ok(Guard {
                throttle: self,
                key: None,
            });
        }
        let key = (client.to_owned(), mailbox.to_owned());
        let now = Instant::now();
        let window = Duration::from_secs(limits.window_secs.max(1));
        let slot = inner.slots.entry(key.clone()).or_insert(Slot {
            in_flight: 0,
            window_start: now,
            count: 0,
        });
        if now.duration_since(slot.window_start) >= window {
            slot.window_start = now;
            slot.count = 0;
        }
        if slot.count >= limits.window_requests {
            let left = window.saturating_sub(now.duration_since(slot.window_start));
            return Err(GraphErr::throttled(
                "Application is over its MailboxRequestLimit limit.",
                left.as_secs().max(1),
            ));
        }
        if slot.in_flight >= limits.concurrency {
            return Err(GraphErr::throttled(
                "Application is over its MailboxConcurrency limit.",
                1,
            ));
        }
        slot.count += 1;
        slot.in_flight += 1;
        Ok(Guard {
            throttle: self,
            key: Some(key),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifth_concurrent_request_is_429_and_slot_frees_on_drop() {
        let t = Throttle::new(true);
        let held: Vec<_> = (0..4).map(|_| t.acquire("app", "mb").unwrap()).collect();
        let e = t.acquire("app", "mb").err().unwrap();
        assert_eq!(e.status, 429);
        assert_eq!(e.code, "ApplicationThrottled");
        assert_eq!(e.retry_after, Some(1));
        assert!(t.acquire("app", "other").is_ok());
        drop(held);
        assert!(t.acquire("app", "mb").is_ok());
    }

    #[test]
    fn request_window_limits_and_disable_switch() {
        let t = Throttle::new(true);
        t.set_limits(Limits {
            window_requests: 2,
            ..Limits::default()
        });
        drop(t.acquire("a", "m").unwrap());
        drop(t.acquire("a", "m").unwrap());
        let e = t.acquire("a", "m").err().unwrap();
        assert!(e.retry_after.unwrap() > 1);
        t.set_enabled(false);
        assert!(t.acquire("a", "m").is_ok());
    }
}
