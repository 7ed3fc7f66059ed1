//! Turning a Graph error response into a [`GraphError`] (reference/graph.md §1.4
//! envelope, §10 catalogue and its "client classification" paragraph).
//!
//! The decision is made on the status first, then on the envelope's `code`
//! (case-insensitively: Outlook says `SyncStateNotFound`, the docs `syncStateNotFound`);
//! the human `message` is only carried along for logs.

use super::error::GraphError;
use http::HeaderMap;
use serde::Deserialize;
use std::time::{Duration, SystemTime};

#[derive(Deserialize)]
struct Envelope {
    error: Option<ErrorBody>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// `code` and `message` of an error envelope; empty strings when the body is not one.
pub fn parse(body: &[u8]) -> (String, String) {
    match serde_json::from_slice::<Envelope>(body) {
        Ok(Envelope {
            error: Some(ErrorBody { code, message }),
        }) => (code.unwrap_or_default(), message.unwrap_or_default()),
        _ => (String::new(), String::new()),
    }
}

/// True for the codes that mean "this delta chain is gone; resync" (§4.8, §10 #17).
pub fn is_sync_state_code(code: &str) -> bool {
    ["syncstatenotfound", "resyncrequired", "syncstateinvalid"]
        .iter()
        .any(|c| code.eq_ignore_ascii_case(c))
}

/// `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    retry_after_value(v)
}

/// Parse one `Retry-After` value.
pub fn retry_after_value(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// Classify a final (non-2xx) response.
pub fn classify(status: u16, retry_after: Option<Duration>, body: &[u8]) -> GraphError {
    let (code, message) = parse(body);
    if is_sync_state_code(&code) || status == 410 {
        return GraphError::SyncStateNotFound;
    }
    match status {
        400 => GraphError::BadRequest { code, message },
        401 => GraphError::SignInRequired {
            reason: format!("Graph rejected the access token ({code})"),
        },
        403 => GraphError::AccessDenied {
            message: if code.is_empty() {
                message
            } else {
                format!("{code}: {message}")
            },
        },
        404 => GraphError::NotFound { code, message },
        409 => GraphError::Conflict { code, message },
        412 => GraphError::PreconditionFailed,
        429 | 503 | 504 => GraphError::Throttled { retry_after },
        _ => GraphError::Other {
            status,
            code,
            message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(code: &str) -> Vec<u8> {
        format!(r#"{{"error":{{"code":"{code}","message":"m","innerError":{{"date":"x"}}}}}}"#)
            .into_bytes()
    }

    #[test]
    fn statuses_and_codes_map_to_variants() {
        assert!(matches!(
            classify(404, None, &env("ErrorItemNotFound")),
            GraphError::NotFound { code, .. } if code == "ErrorItemNotFound"
        ));
        assert_eq!(
            classify(412, None, &env("ErrorIrresolvableConflict")),
            GraphError::PreconditionFailed
        );
        assert_eq!(
            classify(410, None, &env("SyncStateNotFound")),
            GraphError::SyncStateNotFound
        );
        assert_eq!(
            classify(400, None, &env("resyncRequired")),
            GraphError::SyncStateNotFound
        );
        assert!(matches!(
            classify(400, None, &env("ErrorInvalidProperty")),
            GraphError::BadRequest { code, .. } if code == "ErrorInvalidProperty"
        ));
        assert!(matches!(
            classify(409, None, &env("ErrorFolderExists")),
            GraphError::Conflict { .. }
        ));
        assert!(matches!(
            classify(403, None, &env("ErrorAccessDenied")),
            GraphError::AccessDenied { .. }
        ));
        assert_eq!(
            classify(429, Some(Duration::from_secs(3)), b"not json"),
            GraphError::Throttled {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        assert!(matches!(
            classify(500, None, b""),
            GraphError::Other { status: 500, .. }
        ));
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        assert_eq!(retry_after_value("10"), Some(Duration::from_secs(10)));
        assert_eq!(
            retry_after_value("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after_value("soon"), None);
    }
}
