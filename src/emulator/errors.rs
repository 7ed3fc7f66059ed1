//! Graph error envelopes (reference/graph.md §1.4 and the §10 catalogue).
//!
//! Every failure the emulator answers on `/v1.0` and `/beta` is a [`GraphErr`]: a status,
//! the Outlook / Graph `code` and the real `message` text where one is known. The server
//! renders it as `{"error":{"code","message","innerError":{"date","request-id",
//! "client-request-id"}}}`, the exact shape clients branch on.

use serde_json::{Value, json};

/// One Graph error, before the per-request `innerError` is attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphErr {
    pub status: u16,
    pub code: String,
    pub message: String,
    /// Seconds for a `Retry-After` header (429 / 503).
    pub retry_after: Option<u64>,
}

impl GraphErr {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// §10 #1: contact, folder or photo not found.
    pub fn not_found() -> Self {
        Self::new(
            404,
            "ErrorItemNotFound",
            "The specified object was not found in the store.",
        )
    }

    /// §10 #3: a path segment the service does not know.
    pub fn parse_uri(segment: &str) -> Self {
        Self::new(
            400,
            "RequestBroker--ParseUri",
            format!("Resource not found for the segment '{segment}'."),
        )
    }

    /// §10 #4: too many values in a multi-value property.
    pub fn slot_limit(property: &str, count: usize, max: usize) -> Self {
        Self::new(
            400,
            "ErrorInvalidProperty",
            format!(
                "The multi value property {property} has {count} entries, that exceeds the max allowed value of {max}."
            ),
        )
    }

    /// §10 #5: unknown property in a body.
    pub fn unknown_property(property: &str, type_name: &str) -> Self {
        Self::new(
            400,
            "RequestBodyRead",
            format!(
                "The property '{property}' does not exist on type '{type_name}'. Make sure to only use property names that are defined by the type or mark the type as open type."
            ),
        )
    }

    /// A body value of the wrong JSON type.
    pub fn bad_value(property: &str, expected: &str) -> Self {
        Self::new(
            400,
            "RequestBodyRead",
            format!(
                "Cannot convert the value of property '{property}' to the expected type '{expected}'."
            ),
        )
    }

    /// Body that is not JSON at all.
    pub fn bad_json() -> Self {
        Self::new(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    }

    /// §10 #6: a `$filter` the emulator (or Graph) does not accept.
    pub fn bad_filter() -> Self {
        Self::new(
            400,
            "ErrorInvalidUrlQueryFilter",
            "The query filter contains one or more invalid nodes.",
        )
    }

    /// A query option with a bad value.
    pub fn bad_query(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// §10 #7: PATCH / DELETE on a collection URL.
    pub fn method_not_allowed_on_collection(method: &str) -> Self {
        let m = if method == "PATCH" {
            "PATCH/MERGE"
        } else {
            method
        };
        Self::new(
            400,
            "ErrorInvalidRequest",
            format!(
                "Method '{m}' not allowed for 'Microsoft.OData.UriParser.NavigationPropertySegment'"
            ),
        )
    }

    /// A method the route does not support at all.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "BadRequest",
            "Specified HTTP method is not allowed for the request target.",
        )
    }

    /// §10 #8: `/me` with an app-only token.
    pub fn me_needs_delegated() -> Self {
        Self::new(
            400,
            "BadRequest",
            "/me request is only valid with delegated authentication flow.",
        )
    }

    /// §10 #9: missing, unknown or expired bearer token.
    pub fn unauthenticated(message: &str) -> Self {
        Self::new(401, "InvalidAuthenticationToken", message)
    }

    /// §10 #10: the token may not touch this mailbox.
    pub fn access_denied() -> Self {
        Self::new(
            403,
            "ErrorAccessDenied",
            "Access is denied. Check credentials and try again.",
        )
    }

    /// §10 #12: unknown user in `/users/{x}`.
    pub fn invalid_user(user: &str) -> Self {
        Self::new(
            404,
            "ErrorInvalidUser",
            format!("The requested user '{user}' is invalid."),
        )
    }

    /// §10 #16: stale change key in `If-Match`.
    pub fn irresolvable_conflict() -> Self {
        Self::new(
            412,
            "ErrorIrresolvableConflict",
            "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
        )
    }

    /// §10 #17: a delta token whose generation is gone.
    pub fn sync_state_not_found(generation: u64, highest: u64) -> Self {
        let kept: Vec<String> = (0..3)
            .filter_map(|i| highest.checked_sub(i))
            .map(|g| format!("[{g}]"))
            .collect();
        Self::new(
            410,
            "SyncStateNotFound",
            format!(
                "The sync state generation is not found; generation={generation};[highest={highest}]{}.",
                kept.join("")
            ),
        )
    }

    /// §10 #18: a delta token that does not decode.
    pub fn badly_formed_token() -> Self {
        Self::new(400, "BadRequest", "Badly formed token")
    }

    /// §10 #21 / §7: throttled by the per-mailbox concurrency or request window.
    pub fn throttled(message: &str, retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(429, "ApplicationThrottled", message)
        }
    }

    /// Status-only failure as injected by a fault (§10 #21, #24 and friends).
    pub fn for_status(status: u16, retry_after: Option<u64>) -> Self {
        let (code, message) = match status {
            400 => ("BadRequest", "Bad request."),
            401 => (
                "InvalidAuthenticationToken",
                "Access token has expired or is not yet valid.",
            ),
            403 => (
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            ),
            404 => (
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            ),
            409 => (
                "ErrorFolderExists",
                "A folder with the specified name already exists.",
            ),
            410 => (
                "SyncStateNotFound",
                "The sync state generation is not found; generation=0;[highest=0][0].",
            ),
            412 => (
                "ErrorIrresolvableConflict",
                "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.",
            ),
            429 => (
                "ApplicationThrottled",
                "Application is over its MailboxConcurrency limit.",
            ),
            502 => ("BadGateway", "Bad gateway."),
            503 => ("ServiceUnavailable", "Service unavailable."),
            504 => ("GatewayTimeout", "Gateway timeout."),
            _ => ("UnknownError", ""),
        };
        Self {
            retry_after,
            ..Self::new(status, code, message)
        }
    }

    /// The JSON envelope with its `innerError`.
    pub fn envelope(&self, request_id: &str, client_request_id: &str) -> Value {
        let date = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string();
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": date,
                    "request-id": request_id,
                    "client-request-id": client_request_id,
                }
            }
        })
    }
}

/// Result of every Graph handler.
pub type GraphResult<T> = Result<T, GraphErr>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_code_message_and_inner_error() {
        let v = GraphErr::not_found().envelope("r1", "c1");
        assert_eq!(v["error"]["code"], "ErrorItemNotFound");
        assert_eq!(
            v["error"]["message"],
            "The specified object was not found in the store."
        );
        assert_eq!(v["error"]["innerError"]["request-id"], "r1");
        assert_eq!(v["error"]["innerError"]["client-request-id"], "c1");
        assert!(v["error"]["innerError"]["date"].as_str().is_some());
    }

    #[test]
    fn slot_limit_message_matches_graph_wording() {
        assert_eq!(
            GraphErr::slot_limit("BusinessPhones", 3, 2).message,
            "The multi value property BusinessPhones has 3 entries, that exceeds the max allowed value of 2."
        );
    }

    #[test]
    fn sync_state_message_lists_kept_generations() {
        let e = GraphErr::sync_state_not_found(149, 157);
        assert_eq!(e.status, 410);
        assert_eq!(
            e.message,
            "The sync state generation is not found; generation=149;[highest=157][157][156][155]."
        );
    }
}
