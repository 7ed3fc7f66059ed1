//! Request and reply values passed between the HTTP layer and the Graph handlers.
//!
//! Handlers never see hyper types: a [`GraphRequest`] is what `$batch` builds for each
//! sub-request too (reference/graph.md §6), and a [`Reply`] is rendered either onto the
//! wire or into a batch response entry. `Prefer` parsing (§1.2: `IdType="ImmutableId"`,
//! `odata.maxpagesize=N`, comma-joined in one header) lives here.

use super::errors::GraphErr;
use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::Value;

/// One Graph request, from the wire or from a `$batch` entry.
#[derive(Debug, Clone)]
pub struct GraphRequest {
    pub method: Method,
    /// `http://host:port`, for links.
    pub origin: String,
    /// Raw path including the version segment, e.g. `/v1.0/me/contacts`.
    pub path: String,
    /// Raw query string (no `?`).
    pub query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl GraphRequest {
    /// `http://host:port/v1.0` (or `/beta`).
    pub fn version_base(&self) -> String {
        let version = self
            .path
            .split('/')
            .find(|s| !s.is_empty())
            .unwrap_or("v1.0");
        format!("{}/{}", self.origin, version)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// All `Prefer` preferences, split on commas, trimmed.
    pub fn preferences(&self) -> Vec<String> {
        self.headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// `Prefer: IdType="ImmutableId"`.
    pub fn wants_immutable_ids(&self) -> bool {
        self.preferences().iter().any(|p| {
            let mut kv = p.splitn(2, '=');
            let k = kv.next().unwrap_or("").trim();
            let v = kv.next().unwrap_or("").trim().trim_matches('"');
            k.eq_ignore_ascii_case("IdType") && v.eq_ignore_ascii_case("ImmutableId")
        })
    }

    /// `Prefer: odata.maxpagesize=N`.
    pub fn max_page_size(&self) -> Option<usize> {
        self.preferences().iter().find_map(|p| {
            let (k, v) = p.split_once('=')?;
            if k.trim().eq_ignore_ascii_case("odata.maxpagesize") {
                v.trim().trim_matches('"').parse().ok()
            } else {
                None
            }
        })
    }

    /// Body parsed as JSON (400 on malformed JSON, as Graph).
    pub fn json_body(&self) -> Result<Value, GraphErr> {
        if self.body.is_empty() {
            return Err(GraphErr::bad_json());
        }
        serde_json::from_slice(&self.body).map_err(|_| GraphErr::bad_json())
    }
}

/// What a handler answers.
#[derive(Debug, Clone)]
pub enum ReplyBody {
    Empty,
    Json(Value),
    /// Raw bytes (photos) with their media type.
    Bytes {
        content_type: String,
        bytes: Bytes,
    },
    /// HTML (the authorize page) or plain text.
    Text {
        content_type: String,
        text: String,
    },
    /// A Graph error, rendered with its envelope by the caller.
    Error(GraphErr),
}

/// A handler's answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: ReplyBody,
    /// Route template for statistics.
    pub route: &'static str,
}

impl Reply {
    pub fn json(status: u16, v: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: ReplyBody::Json(v),
            route: "",
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: ReplyBody::Empty,
            route: "",
        }
    }

    pub fn bytes(content_type: &str, bytes: Bytes) -> Self {
        Self {
            status: 200,
            headers: Vec::new(),
            body: ReplyBody::Bytes {
                content_type: content_type.to_owned(),
                bytes,
            },
            route: "",
        }
    }

    pub fn html(status: u16, text: String) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: ReplyBody::Text {
                content_type: "text/html; charset=utf-8".into(),
                text,
            },
            route: "",
        }
    }

    pub fn redirect(location: &str) -> Self {
        Self::empty(302).with_header("location", location)
    }

    pub fn error(e: GraphErr) -> Self {
        let mut r = Self {
            status: e.status,
            headers: Vec::new(),
            body: ReplyBody::Error(e.clone()),
            route: "",
        };
        if let Some(s) = e.retry_after {
            r.headers.push(("retry-after".into(), s.to_string()));
        }
        r
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn with_route(mut self, route: &'static str) -> Self {
        self.route = route;
        self
    }
}

impl From<GraphErr> for Reply {
    fn from(e: GraphErr) -> Self {
        Reply::error(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(prefer: &str) -> GraphRequest {
        let mut headers = HeaderMap::new();
        headers.insert("prefer", prefer.parse().unwrap());
        GraphRequest {
            method: Method::GET,
            origin: "http://h".into(),
            path: "/beta/me/contacts".into(),
            query: String::new(),
            headers,
            body: Bytes::new(),
        }
    }

    #[test]
    fn comma_joined_prefer_values_are_both_understood() {
        let r = req("odata.maxpagesize=500, IdType=\"ImmutableId\"");
        assert!(r.wants_immutable_ids());
        assert_eq!(r.max_page_size(), Some(500));
        assert_eq!(r.version_base(), "http://h/beta");
        assert!(!req("odata.maxpagesize=5").wants_immutable_ids());
    }
}
