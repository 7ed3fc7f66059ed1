//! JSON batching: `POST /v1.0/$batch` (reference/graph.md §6).
//!
//! Up to 20 requests with unique (case-insensitive) ids; relative urls; `dependsOn`
//! ordering with 424 `FailedDependency` for dependents of a failed request; each
//! sub-request authenticated with the outer token, throttled and fault-checked on its
//! own (so one can be 429 while others succeed); binary bodies travel as base64.

use super::errors::GraphErr;
use super::graph;
use super::request::{GraphRequest, Reply, ReplyBody};
use super::server::Shared;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

const MAX_REQUESTS: usize = 20;

struct Item {
    id: String,
    method: String,
    url: String,
    headers: Map<String, Value>,
    body: Option<Value>,
    depends_on: Vec<String>,
}

fn invalid(message: &str) -> GraphErr {
    GraphErr::new(400, "BadRequest", message)
}

fn bad(message: &str) -> Reply {
    Reply::error(GraphErr::new(400, "BadRequest", message))
}

fn parse(body: &Value) -> Result<Vec<Item>, GraphErr> {
    let Some(reqs) = body.get("requests").and_then(Value::as_array) else {
        return Err(invalid("Invalid batch payload format."));
    };
    if reqs.len() > MAX_REQUESTS {
        return Err(invalid(
            "The number of batch requests exceeds the limit of 20.",
        ));
    }
    let mut items = Vec::with_capacity(reqs.len());
    for r in reqs {
        let s = |k: &str| r.get(k).and_then(Value::as_str).map(str::to_owned);
        let (Some(id), Some(method), Some(url)) = (s("id"), s("method"), s("url")) else {
            return Err(invalid(
                "Each batch request needs 'id', 'method' and 'url'.",
            ));
        };
        let depends_on = match r.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Some(_) => return Err(invalid("'dependsOn' must be an array of request ids.")),
        };
        items.push(Item {
            id,
            method,
            url,
            headers: r
                .get("headers")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            body: r.get("body").cloned().filter(|b| !b.is_null()),
            depends_on,
        });
    }
    let mut seen = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        if seen.insert(it.id.to_ascii_lowercase(), i).is_some() {
            return Err(invalid("Batch request ids must be unique."));
        }
    }
    for it in &items {
        if it
            .depends_on
            .iter()
            .any(|d| !seen.contains_key(&d.to_ascii_lowercase()))
        {
            return Err(invalid(
                "'dependsOn' names a request that is not in the batch.",
            ));
        }
    }
    Ok(items)
}

/// Execution order respecting `dependsOn` (Kahn); `None` on a cycle.
fn order(items: &[Item]) -> Option<Vec<usize>> {
    let idx: HashMap<String, usize> = items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.id.to_ascii_lowercase(), i))
        .collect();
    let mut done = vec![false; items.len()];
    let mut out = Vec::with_capacity(items.len());
    while out.len() < items.len() {
        let next = (0..items.len()).find(|&i| {
            !done[i]
                && items[i]
                    .depends_on
                    .iter()
                    .all(|d| idx.get(&d.to_ascii_lowercase()).is_some_and(|&j| done[j]))
        })?;
        done[next] = true;
        out.push(next);
    }
    Some(out)
}

/// Handle `POST /$batch`.
pub async fn handle(shared: &Shared, outer: &GraphRequest) -> Reply {
    if outer.method != Method::POST {
        return Reply::error(GraphErr::method_not_allowed());
    }
    let body = match outer.json_body() {
        Ok(b) => b,
        Err(e) => return Reply::error(e),
    };
    let items = match parse(&body) {
        Ok(i) => i,
        Err(e) => return Reply::error(e),
    };
    let Some(order) = order(&items) else {
        return bad("'dependsOn' forms a cycle.");
    };
    let version = outer
        .path
        .split('/')
        .find(|s| !s.is_empty())
        .unwrap_or("v1.0")
        .to_owned();
    let parallel = items.iter().all(|it| it.depends_on.is_empty());
    let overflow_at = {
        let limits = shared.throttle.limits();
        let on = shared.world().settings.batch_overflow_throttled;
        (on && parallel && limits.enabled).then_some(limits.concurrency as usize)
    };
    let mut status_of: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::with_capacity(items.len());
    for (n, i) in order.into_iter().enumerate() {
        let it = &items[i];
        let failed_dep = it.depends_on.iter().any(|d| {
            status_of
                .get(&d.to_ascii_lowercase())
                .is_some_and(|s| *s >= 400)
        });
        let reply = if overflow_at.is_some_and(|max| n >= max) {
            let r = Reply::error(GraphErr::throttled(
                "Application is over its MailboxConcurrency limit.",
                1,
            ));
            shared
                .stats
                .record_sub(&it.method.to_ascii_uppercase(), "throttled", 429);
            r
        } else if failed_dep {
            Reply::error(GraphErr::new(
                424,
                "FailedDependency",
                "The request was not run because a request it depends on failed.",
            ))
        } else {
            run_one(shared, outer, &version, it).await
        };
        status_of.insert(it.id.to_ascii_lowercase(), reply.status);
        responses.push(entry(&it.id, reply));
    }
    Reply::json(200, json!({ "responses": responses }))
}

async fn run_one(shared: &Shared, outer: &GraphRequest, version: &str, it: &Item) -> Reply {
    let Ok(method) = Method::from_bytes(it.method.to_ascii_uppercase().as_bytes()) else {
        return bad("Invalid HTTP method in batch request.");
    };
    if it.url.contains("://") {
        return bad("Batch request urls must be relative.");
    }
    let rel = it.url.trim_start_matches('/');
    let (p, q) = rel.split_once('?').unwrap_or((rel, ""));
    if p.eq_ignore_ascii_case("$batch") {
        return bad("A batch cannot contain another batch.");
    }
    let mut headers = HeaderMap::new();
    for (k, v) in &it.headers {
        let (Ok(name), Some(Ok(value))) = (
            HeaderName::from_bytes(k.as_bytes()),
            v.as_str().map(HeaderValue::from_str),
        ) else {
            return bad("Invalid header in batch request.");
        };
        headers.append(name, value);
    }
    if let Some(auth) = outer.headers.get(http::header::AUTHORIZATION) {
        headers.insert(http::header::AUTHORIZATION, auth.clone());
    }
    let body = match &it.body {
        None => Bytes::new(),
        Some(b) => {
            let Some(ct) = headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
            else {
                return bad("A batch request with a body must have a Content-Type header.");
            };
            if ct.to_ascii_lowercase().contains("json") {
                Bytes::from(serde_json::to_vec(b).unwrap_or_default())
            } else if let Some(s) = b.as_str() {
                match STANDARD.decode(s) {
                    Ok(raw) => Bytes::from(raw),
                    Err(_) => return bad("Binary batch bodies must be base64."),
                }
            } else {
                Bytes::from(serde_json::to_vec(b).unwrap_or_default())
            }
        }
    };
    if !body.is_empty() && !headers.contains_key(http::header::CONTENT_LENGTH) {
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let path = format!("/{version}/{p}");
    let sub = GraphRequest {
        method: method.clone(),
        origin: outer.origin.clone(),
        path: path.clone(),
        query: q.to_owned(),
        headers,
        body,
    };
    let mut delay = None;
    if let Some(hit) = shared.faults.check(method.as_str(), &path) {
        if let Some(e) = hit.respond {
            shared.stats.record_sub(method.as_str(), "fault", e.status);
            return Reply::error(e);
        }
        delay = hit.delay;
    }
    let reply = Box::pin(graph::dispatch(shared, &sub, delay)).await;
    shared
        .stats
        .record_sub(method.as_str(), reply.route, reply.status);
    reply
}

fn entry(id: &str, reply: Reply) -> Value {
    let mut headers = Map::new();
    for (k, v) in &reply.headers {
        headers.insert(k.clone(), Value::String(v.clone()));
    }
    let body = match reply.body {
        ReplyBody::Empty => None,
        ReplyBody::Json(v) => {
            headers.insert("Content-Type".into(), json!("application/json"));
            Some(v)
        }
        ReplyBody::Error(e) => {
            headers.insert("Content-Type".into(), json!("application/json"));
            let rid = crate::guid::random();
            Some(e.envelope(&rid, &rid))
        }
        ReplyBody::Bytes {
            content_type,
            bytes,
        } => {
            headers.insert("Content-Type".into(), json!(content_type));
            Some(Value::String(STANDARD.encode(&bytes)))
        }
        ReplyBody::Text { content_type, text } => {
            headers.insert("Content-Type".into(), json!(content_type));
            Some(Value::String(text))
        }
    };
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("status".into(), json!(reply.status));
    m.insert("headers".into(), Value::Object(headers));
    if let Some(b) = body {
        m.insert("body".into(), b);
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_oversized_duplicate_and_dangling_batches() {
        let many: Vec<Value> = (0..21)
            .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/me"}))
            .collect();
        assert!(parse(&json!({"requests": many})).is_err());
        assert!(
            parse(&json!({"requests": [
            {"id":"a","method":"GET","url":"/me"},{"id":"A","method":"GET","url":"/me"}]}))
            .is_err()
        );
        assert!(
            parse(&json!({"requests": [
            {"id":"a","method":"GET","url":"/me","dependsOn":["z"]}]}))
            .is_err()
        );
    }

    #[test]
    fn order_follows_depends_on_and_detects_cycles() {
        let items = parse(&json!({"requests": [
            {"id":"1","method":"GET","url":"/me","dependsOn":["2"]},
            {"id":"2","method":"GET","url":"/me"}]}))
        .ok()
        .unwrap();
        assert_eq!(order(&items), Some(vec![1, 0]));
        let cyc = parse(&json!({"requests": [
            {"id":"1","method":"GET","url":"/me","dependsOn":["2"]},
            {"id":"2","method":"GET","url":"/me","dependsOn":["1"]}]}))
        .ok()
        .unwrap();
        assert_eq!(order(&cyc), None);
    }
}
