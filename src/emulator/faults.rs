//! Fault injection (reference/graph.md §13.1 point 7).
//!
//! A [`Fault`] matches requests by method and path substring and then answers with a
//! status (429 / 503 / 504 / 410 … with Graph's error envelope and an optional
//! `Retry-After`), delays the request, or drops the connection without an answer —
//! either before handling (nothing happened) or, with `drop_after`, after handling (the
//! change is made, the answer is lost: an unknown outcome for the client). It fires for the next `count` matching requests, or with a probability, or forever.

use super::errors::GraphErr;
use serde::{Deserialize, Serialize};
use std::sync::Mutex;
use std::time::Duration;

/// One injected fault (JSON body of `POST /_emulator/faults`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Fault {
    /// HTTP method to match (any when absent).
    pub method: Option<String>,
    /// Substring of the request path to match (any when absent), e.g. `/contacts/delta`.
    pub path_contains: Option<String>,
    /// Status to answer (none = only delay / drop).
    pub status: Option<u16>,
    /// `Retry-After` seconds on the answer.
    pub retry_after: Option<u64>,
    /// Delay before answering (or before handling, without `status`).
    pub delay_ms: Option<u64>,
    /// Close the connection without an answer, before handling the request.
    pub drop_connection: bool,
    /// Handle the request (the change is made), then close the connection without the
    /// answer: the response is lost (issue 7 item 7).
    pub drop_after: bool,
    /// Fire for this many matching requests, then disappear (forever when absent).
    pub count: Option<u32>,
    /// Fire with this probability (0..1) per matching request.
    pub probability: Option<f64>,
    /// Override the error code / message of the answer.
    pub code: Option<String>,
    pub message: Option<String>,
}

/// What the server must do for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hit {
    pub delay: Option<Duration>,
    pub respond: Option<GraphErr>,
    pub drop_connection: bool,
    pub drop_after: bool,
}

/// The fault list.
#[derive(Debug, Default)]
pub struct Faults {
    list: Mutex<Vec<Fault>>,
}

impl Faults {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, f: Fault) {
        self.lock().push(f);
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    pub fn list(&self) -> Vec<Fault> {
        self.lock().clone()
    }

    /// First matching fault that fires for this request, if any.
    pub fn check(&self, method: &str, path: &str) -> Option<Hit> {
        let mut list = self.lock();
        let idx = list.iter().position(|f| {
            f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && f.path_contains
                    .as_deref()
                    .is_none_or(|p| path.to_ascii_lowercase().contains(&p.to_ascii_lowercase()))
                && f.probability
                    .is_none_or(|p| rand::random::<f64>() < p.clamp(0.0, 1.0))
        })?;
        let f = list[idx].clone();
        if let Some(n) = list[idx].count.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                list.remove(idx);
            }
        }
        let respond = f.status.map(|s| {
            let mut e = GraphErr::for_status(s, f.retry_after);
            if let Some(c) = f.code {
                e.code = c;
            }
            if let Some(m) = f.message {
                e.message = m;
            }
            e
        });
        Some(Hit {
            delay: f.delay_ms.map(Duration::from_millis),
            respond,
            drop_connection: f.drop_connection,
            drop_after: f.drop_after,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_fault_fires_n_times_on_matching_paths_only() {
        let f = Faults::default();
        f.add(Fault {
            method: Some("GET".into()),
            path_contains: Some("/contacts/delta".into()),
            status: Some(429),
            retry_after: Some(2),
            count: Some(2),
            ..Fault::default()
        });
        assert!(f.check("GET", "/v1.0/me/contacts").is_none());
        assert!(f.check("POST", "/v1.0/me/contacts/delta").is_none());
        let hit = f.check("GET", "/v1.0/me/Contacts/delta").unwrap();
        let e = hit.respond.unwrap();
        assert_eq!(
            (e.status, e.code.as_str(), e.retry_after),
            (429, "ApplicationThrottled", Some(2))
        );
        assert!(f.check("GET", "/v1.0/me/contacts/delta").is_some());
        assert!(f.check("GET", "/v1.0/me/contacts/delta").is_none());
    }

    #[test]
    fn drop_after_is_carried_to_the_hit() {
        let f = Faults::default();
        f.add(Fault {
            method: Some("POST".into()),
            drop_after: true,
            count: Some(1),
            ..Fault::default()
        });
        let hit = f.check("POST", "/v1.0/me/contacts").unwrap();
        assert!(hit.drop_after && !hit.drop_connection && hit.respond.is_none());
        assert!(f.check("POST", "/v1.0/me/contacts").is_none());
    }

    #[test]
    fn zero_probability_never_fires() {
        let f = Faults::default();
        f.add(Fault {
            status: Some(503),
            probability: Some(0.0),
            ..Fault::default()
        });
        assert!(f.check("GET", "/x").is_none());
    }
}
