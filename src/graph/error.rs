//! Typed Graph errors (reference/graph.md §1.4 envelope, §10 catalogue).

use std::time::Duration;

/// Everything a Graph call can fail with, classified the way the bridge must react.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// 404 `ErrorItemNotFound` and friends: the item or folder is gone.
    #[error("not found: {message}")]
    NotFound { code: String, message: String },
    /// 412 (`ErrorIrresolvableConflict`): the change key did not match.
    #[error("conflict: the item changed in Graph")]
    PreconditionFailed,
    /// 409 `ErrorFolderExists` and similar name clashes.
    #[error("conflict: {message}")]
    Conflict { code: String, message: String },
    /// 400 `ErrorInvalidProperty` (slot limits) and other rejected bodies or queries.
    #[error("bad request {code}: {message}")]
    BadRequest { code: String, message: String },
    /// 410 `SyncStateNotFound` / `resyncRequired` / `SyncStateInvalid`: restart the delta round.
    #[error("delta sync state expired")]
    SyncStateNotFound,
    /// 429 / 503 / 504 still failing after waiting as long as the request's deadline allows.
    #[error("throttled or unavailable upstream (retry after {retry_after:?})")]
    Throttled { retry_after: Option<Duration> },
    /// 403 `ErrorAccessDenied`: permissions or policy; retrying does not help.
    #[error("access denied: {message}")]
    AccessDenied { message: String },
    /// The refresh token was rejected (`invalid_grant`, `interaction_required`): a person
    /// must sign in again.
    #[error("sign-in required: {reason}")]
    SignInRequired { reason: String },
    /// Connection failed, timed out or was dropped; for a non-idempotent request the
    /// outcome is unknown.
    #[error("transport error: {0}")]
    Transport(String),
    /// A response that is not what Graph sends (bad JSON, missing fields).
    #[error("unexpected response: {0}")]
    Decode(String),
    /// Any other status.
    #[error("HTTP {status} {code}: {message}")]
    Other {
        status: u16,
        code: String,
        message: String,
    },
}
