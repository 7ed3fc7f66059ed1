//! JSON batching for bulk reads (reference/graph.md §6).
//!
//! At most 20 requests per `POST /$batch`. Each sub-request is throttled on its own:
//! sub-requests answered 429 / 503 / 504 are sent again in a new batch after the
//! largest `Retry-After` seen, within the client's retry budget; whatever is still
//! throttled then fails the call with [`GraphError::Throttled`]. Only GETs are batched
//! here, so the batch POST itself is safe to retry. Sub-requests do not inherit the
//! outer request's headers, so each carries its own `Prefer: IdType="ImmutableId"`.

use super::envelope;
use super::error::GraphError;
use super::model::Photo;
use super::transport::{Request, Retry, Transport};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::time::Duration;

/// Immutable ids in every sub-request (reference/graph.md §1.2, IMM).
const IMMUTABLE_IDS: &str = "IdType=\"ImmutableId\"";

/// Graph's limit on requests per batch.
pub const MAX_BATCH: usize = 20;

#[derive(Serialize)]
struct BatchBody<'a> {
    requests: Vec<BatchItem<'a>>,
}

#[derive(Serialize)]
struct BatchItem<'a> {
    id: String,
    method: &'static str,
    url: &'a str,
    headers: HashMap<&'static str, &'static str>,
}

#[derive(Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    responses: Vec<ItemAnswer>,
}

/// One sub-response.
#[derive(Deserialize, Debug, Clone)]
pub struct ItemAnswer {
    pub id: String,
    pub status: u16,
    #[serde(default)]
    pub headers: HashMap<String, String>,
    #[serde(default)]
    pub body: Option<serde_json::Value>,
}

impl ItemAnswer {
    fn retry_after(&self) -> Option<Duration> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, v)| envelope::retry_after_value(v.trim()))
    }

    /// A photo sub-response (`GET …/photo/$value`): the base64 body with its
    /// Content-Type, `None` for 404, the typed error otherwise.
    pub fn into_photo(self) -> Result<Option<Photo>, GraphError> {
        match self.status {
            404 => Ok(None),
            200..=299 => {
                let Some(serde_json::Value::String(text)) = &self.body else {
                    return Err(GraphError::Decode("$batch photo without a body".into()));
                };
                let bytes = STANDARD
                    .decode(text.as_bytes())
                    .map_err(|e| GraphError::Decode(format!("$batch photo: {e}")))?;
                let content_type = self
                    .headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
                    .map(|(_, v)| v.split(';').next().unwrap_or(v).trim().to_owned())
                    .filter(|v| !v.is_empty())
                    .unwrap_or_else(|| "image/jpeg".into());
                Ok(Some(Photo {
                    content_type,
                    bytes: bytes.into(),
                }))
            }
            _ => Err(self.error()),
        }
    }

    /// The typed error of a non-2xx sub-response.
    pub fn error(&self) -> GraphError {
        let body = self
            .body
            .as_ref()
            .map(|b| serde_json::to_vec(b).unwrap_or_default())
            .unwrap_or_default();
        envelope::classify(self.status, self.retry_after(), &body)
    }
}

/// Run up to [`MAX_BATCH`] GETs (URLs relative to the version root, with a leading
/// `/`) as one batch; answers come back in input order.
pub(crate) async fn get_batch(
    transport: &Transport,
    batch_url: &str,
    mailbox: &str,
    urls: &[String],
) -> Result<Vec<ItemAnswer>, GraphError> {
    let mut answers: Vec<Option<ItemAnswer>> = vec![None; urls.len()];
    let mut pending: Vec<usize> = (0..urls.len()).collect();
    let mut waited = Duration::ZERO;
    let mut last_hint = None;
    let mut round = 0u32;
    while !pending.is_empty() {
        round += 1;
        let body = BatchBody {
            requests: pending
                .iter()
                .map(|&i| BatchItem {
                    id: (i + 1).to_string(),
                    method: "GET",
                    url: &urls[i],
                    headers: HashMap::from([("Prefer", IMMUTABLE_IDS)]),
                })
                .collect(),
        };
        let mut req =
            Request::new(Method::POST, batch_url.to_owned(), mailbox.to_owned()).json(&body)?;
        req.retry = Retry::Idempotent;
        let resp = transport.send(&req).await?.success()?;
        let parsed: BatchAnswer = resp.json()?;
        let mut throttled = Vec::new();
        let mut wait = Duration::ZERO;
        for a in parsed.responses {
            let Some(i) = a.id.parse::<usize>().ok().and_then(|n| n.checked_sub(1)) else {
                continue;
            };
            if !pending.contains(&i) {
                continue;
            }
            if matches!(a.status, 429 | 503 | 504) {
                transport.counters.throttled();
                let hint = a.retry_after();
                last_hint = hint.or(last_hint);
                wait = wait.max(hint.unwrap_or_else(|| transport.backoff(round)));
                throttled.push(i);
                answers[i] = Some(a);
            } else {
                answers[i] = Some(a);
            }
        }
        if let Some(&missing) = pending.iter().find(|&&i| answers[i].is_none()) {
            return Err(GraphError::Decode(format!(
                "$batch answer lacks sub-response {}",
                missing + 1
            )));
        }
        pending = throttled;
        if pending.is_empty() {
            break;
        }
        if waited + wait > transport.opts.max_retry_wait {
            return Err(GraphError::Throttled {
                retry_after: last_hint,
            });
        }
        tracing::debug!(
            items = pending.len(),
            wait_ms = wait.as_millis() as u64,
            "retrying throttled $batch items"
        );
        tokio::time::sleep(wait).await;
        transport.counters.waited(wait);
        waited += wait;
    }
    answers
        .into_iter()
        .map(|a| a.ok_or_else(|| GraphError::Decode("$batch answer incomplete".into())))
        .collect()
}
