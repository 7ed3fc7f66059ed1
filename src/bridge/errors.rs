//! Graph and state errors → [`StoreError`], in one place (DESIGN.md "Graph is the
//! truth": upstream 429 / 503 / timeouts reach clients as 503 + Retry-After, never as a
//! success; graph.md §10).

use crate::dav::store::StoreError;
use crate::graph::GraphError;
use crate::state::StateError;

/// How a Graph failure is answered to the CardDAV client.
pub fn from_graph(e: GraphError) -> StoreError {
    match e {
        GraphError::NotFound { .. } => StoreError::NotFound,
        GraphError::PreconditionFailed => StoreError::PreconditionFailed,
        GraphError::Conflict { .. } => StoreError::AlreadyExists,
        GraphError::BadRequest { code, message } if code == "ErrorInvalidProperty" => {
            StoreError::InvalidCard(message)
        }
        GraphError::Throttled { retry_after } => StoreError::Unavailable {
            retry_after_secs: retry_after.map(|d| d.as_secs().max(1)),
        },
        GraphError::Transport(_) => StoreError::Unavailable {
            retry_after_secs: None,
        },
        GraphError::Other { status, .. } if status >= 500 => StoreError::Unavailable {
            retry_after_secs: None,
        },
        GraphError::SignInRequired { .. } => StoreError::SignInRequired,
        GraphError::AccessDenied { message } => StoreError::Forbidden(message),
        other => StoreError::Internal(other.to_string()),
    }
}

/// A state-store failure is an internal error (logged by `dav`).
pub fn from_state(e: StateError) -> StoreError {
    StoreError::Internal(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn upstream_trouble_is_unavailable_with_retry_after() {
        assert_eq!(
            from_graph(GraphError::Throttled {
                retry_after: Some(Duration::from_secs(7))
            }),
            StoreError::Unavailable {
                retry_after_secs: Some(7)
            }
        );
        assert_eq!(
            from_graph(GraphError::Transport("reset".into())),
            StoreError::Unavailable {
                retry_after_secs: None
            }
        );
        assert!(matches!(
            from_graph(GraphError::Other {
                status: 504,
                code: String::new(),
                message: String::new()
            }),
            StoreError::Unavailable { .. }
        ));
    }

    #[test]
    fn typed_graph_errors_keep_their_meaning() {
        assert_eq!(
            from_graph(GraphError::PreconditionFailed),
            StoreError::PreconditionFailed
        );
        assert_eq!(
            from_graph(GraphError::NotFound {
                code: "ErrorItemNotFound".into(),
                message: String::new()
            }),
            StoreError::NotFound
        );
        assert_eq!(
            from_graph(GraphError::SignInRequired {
                reason: "invalid_grant".into()
            }),
            StoreError::SignInRequired
        );
        assert!(matches!(
            from_graph(GraphError::BadRequest {
                code: "ErrorInvalidProperty".into(),
                message: "too many".into()
            }),
            StoreError::InvalidCard(_)
        ));
        assert!(matches!(
            from_graph(GraphError::BadRequest {
                code: "ErrorInvalidUrlQueryFilter".into(),
                message: String::new()
            }),
            StoreError::Internal(_)
        ));
    }
}
